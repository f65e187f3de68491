//! Typing into a session's own Zellij pane: `zellij --session S action write-chars --pane-id P TEXT` and
//! `send-keys --pane-id P Enter`, each bounded by a timeout. `--pane-id` on these actions needs Zellij 0.44 or newer;
//! an older (or missing) Zellij is refused with `FAILED_PRECONDITION`, so nothing ever goes to whatever pane has
//! the focus. Focusing a pane is `zellij --session S action focus-pane-id P` (Zellij 0.44.1 or newer; asked of the
//! binary itself with `action focus-pane-id --help`, refused with `FAILED_PRECONDITION` when it has none).

use std::{path::PathBuf, process::Stdio, time::Duration};

use tokio::process::Command;

use crate::error::Error;

/// The oldest Zellij whose `write-chars`/`send-keys` take `--pane-id`.
pub const MIN_VERSION: (u32, u32) = (0, 44);

/// How long one zellij command may take before it is killed.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(3);

/// The pause between the text and its Enter (the original's two-step Enter: a TUI that sees text and Enter in one
/// read may take the Enter as part of a paste).
pub const ENTER_PAUSE: Duration = Duration::from_millis(150);

/// A pane to type into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pane {
    /// The Zellij session's name.
    pub session: String,
    /// The pane id (`3` is `terminal_3`).
    pub pane: String,
}

/// What typing came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typed {
    /// Zellij took every piece.
    Delivered,
    /// Zellij said the session or pane is not there.
    PaneGone,
}

/// The zellij binary and its version, checked once per call.
#[derive(Debug, Clone)]
pub struct Zellij {
    bin: Option<PathBuf>,
    timeout: Duration,
}

impl Zellij {
    /// Zellij at `bin` (`None`: not installed).
    pub fn new(bin: Option<PathBuf>) -> Self {
        Zellij {
            bin,
            timeout: COMMAND_TIMEOUT,
        }
    }

    async fn run(&self, args: &[&str]) -> Result<std::process::Output, Error> {
        let bin = self
            .bin
            .as_ref()
            .ok_or_else(|| Error::FailedPrecondition("zellij is not installed".into()))?;
        let child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::FailedPrecondition(format!("cannot run {}: {e}", bin.display())))?;
        match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(e)) => Err(Error::Internal(format!("waiting for zellij: {e}"))),
            Err(_) => Err(Error::Internal(format!(
                "zellij did not answer within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }

    /// Checks that this Zellij takes `--pane-id` on its write actions.
    pub async fn check_version(&self) -> Result<(), Error> {
        let output = self.run(&["--version"]).await?;
        let text = String::from_utf8_lossy(&output.stdout);
        match parse_version(&text) {
            Some(version) if version >= MIN_VERSION => Ok(()),
            Some((major, minor)) => Err(Error::FailedPrecondition(format!(
                "zellij {major}.{minor} cannot type into a given pane (--pane-id needs 0.44 or newer); amc will not \
                 type into the focused pane instead"
            ))),
            None => Err(Error::FailedPrecondition(format!(
                "cannot tell the zellij version from {:?}",
                text.trim()
            ))),
        }
    }

    /// Types `pieces` into `pane` one after the other, with [`ENTER_PAUSE`] before each `Key` piece.
    pub async fn type_into(&self, pane: &Pane, pieces: &[Piece<'_>]) -> Result<Typed, Error> {
        self.check_version().await?;
        for piece in pieces {
            let (action, arg) = match piece {
                Piece::Text(text) => ("write-chars", *text),
                Piece::Key(key) => {
                    tokio::time::sleep(ENTER_PAUSE).await;
                    ("send-keys", *key)
                }
            };
            let output = self
                .run(&[
                    "--session",
                    &pane.session,
                    "action",
                    action,
                    "--pane-id",
                    &pane.pane,
                    arg,
                ])
                .await?;
            if !output.status.success() {
                let stderr = String::from_utf8_lossy(&output.stderr);
                tracing::info!(session = %pane.session, pane = %pane.pane, %stderr, "zellij refused to type");
                return Ok(Typed::PaneGone);
            }
        }
        Ok(Typed::Delivered)
    }
}

impl Zellij {
    /// Checks that this Zellij has `action focus-pane-id` (0.44.1 or newer): its `--help` exits 0 only when the
    /// subcommand exists, without needing a running session.
    pub async fn check_focus(&self) -> Result<(), Error> {
        let output = self.run(&["action", "focus-pane-id", "--help"]).await?;
        if output.status.success() {
            return Ok(());
        }
        let version = match self.run(&["--version"]).await {
            Ok(v) => String::from_utf8_lossy(&v.stdout).trim().to_owned(),
            Err(_) => "this zellij".to_owned(),
        };
        Err(Error::FailedPrecondition(format!(
            "{version} has no `action focus-pane-id` (Zellij 0.44.1 or newer); amc cannot focus a pane with it"
        )))
    }

    /// Focuses `pane` for the most recently active client of its Zellij session (switching to its tab).
    pub async fn focus(&self, pane: &Pane) -> Result<Typed, Error> {
        self.check_focus().await?;
        let output = self
            .run(&["--session", &pane.session, "action", "focus-pane-id", &pane.pane])
            .await?;
        if output.status.success() {
            return Ok(Typed::Delivered);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        tracing::info!(session = %pane.session, pane = %pane.pane, %stderr, "zellij refused to focus");
        Ok(Typed::PaneGone)
    }
}

/// One thing to type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Characters, as they are.
    Text(&'a str),
    /// A key by Zellij's name (`Enter`, `1`), after a short pause.
    Key(&'a str),
}

/// `zellij 0.45.1` → `(0, 45)`.
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let version = text
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let mut parts = version.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Refuses text amc must not type: empty, longer than `max` bytes, or with control characters (escape sequences
/// start with one; a newline would submit early).
pub fn check_text(text: &str, max: usize) -> Result<(), Error> {
    if text.trim().is_empty() {
        return Err(Error::InvalidArgument("the text is empty".into()));
    }
    if text.len() > max {
        return Err(Error::InvalidArgument(format!(
            "the text has {} bytes; at most {max} are typed",
            text.len()
        )));
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(Error::InvalidArgument(format!(
            "the text holds the control character U+{:04X}; control characters and escape sequences are never typed",
            u32::from(c)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("zellij 0.45.1\n"), Some((0, 45)));
        assert_eq!(parse_version("zellij 0.43.0"), Some((0, 43)));
        assert_eq!(parse_version("zellij 1.0.0-rc"), Some((1, 0)));
        assert_eq!(parse_version("nope"), None);
    }

    #[test]
    fn only_printable_bounded_text_is_typed() {
        assert!(check_text("run the tests, please — ünïcode ok", 100).is_ok());
        for bad in [
            "",
            "   ",
            "a\nb",
            "\u{1b}[31mred",
            "tab\there",
            "bell\u{7}",
            "c1\u{9b}x",
        ] {
            assert!(
                matches!(check_text(bad, 100), Err(Error::InvalidArgument(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            check_text(&"x".repeat(101), 100),
            Err(Error::InvalidArgument(_))
        ));
    }
}
