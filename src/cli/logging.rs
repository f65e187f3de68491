//! Logging on stderr: `--log-format text|json` (else `AMC_LOG_FORMAT`, else `log_format` in the config file, else
//! text). Text has colour only when stderr is a terminal and `NO_COLOR` is unset or empty; JSON is one object per
//! line with the event's fields, its span's fields (a request's method, path, session id, status and latency; a
//! pass's trigger) and the list of enclosing spans. The level filter is `RUST_LOG` (default `info`).

use std::{io::IsTerminal as _, sync::OnceLock};

use crate::config::Layers;

/// The log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (coloured on a terminal).
    Text,
    /// One JSON object per line.
    Json,
}

/// Resolves the format: the flag, else the layers (`AMC_LOG_FORMAT`, the file); an unknown word is an error.
pub fn resolve(flag: Option<LogFormat>, layers: Option<&Layers>) -> Result<LogFormat, String> {
    if let Some(format) = flag {
        return Ok(format);
    }
    let value = match layers {
        Some(layers) => layers.get("log_format"),
        None => std::env::var("AMC_LOG_FORMAT").ok().filter(|v| !v.is_empty()),
    };
    match value.as_deref().map(str::trim) {
        None | Some("text") => Ok(LogFormat::Text),
        Some("json") => Ok(LogFormat::Json),
        Some(other) => Err(format!(
            "log_format (AMC_LOG_FORMAT): expected text or json, not {other:?}"
        )),
    }
}

/// Whether text logs get colour: stderr is a terminal and `NO_COLOR` is unset or empty (<https://no-color.org>).
pub fn colour(stderr_is_terminal: bool, no_color: Option<&str>) -> bool {
    stderr_is_terminal && no_color.is_none_or(str::is_empty)
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Whether [`init`] chose JSON (then nothing else may write free text on stderr).
pub fn is_json() -> bool {
    FORMAT.get() == Some(&LogFormat::Json)
}

/// Installs the global subscriber.
pub fn init(format: LogFormat) {
    let _ = FORMAT.set(format);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => {
            let ansi = colour(
                std::io::stderr().is_terminal(),
                std::env::var("NO_COLOR").ok().as_deref(),
            );
            builder.with_ansi(ansi).init();
        }
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some("")));
        assert!(!colour(true, Some("1")));
        assert!(!colour(false, None));
    }

    #[test]
    fn the_flag_wins_and_garbage_is_an_error() {
        assert_eq!(resolve(Some(LogFormat::Json), None), Ok(LogFormat::Json));
        let env = |value: &'static str| -> crate::config::settings::Lookup {
            std::sync::Arc::new(move |key: &str| (key == "AMC_LOG_FORMAT").then(|| value.to_owned()))
        };
        let layers = Layers::load(env("json"), None, []).expect("layers");
        assert_eq!(resolve(None, Some(&layers)), Ok(LogFormat::Json));
        assert_eq!(resolve(Some(LogFormat::Text), Some(&layers)), Ok(LogFormat::Text));
        let layers = Layers::load(env("yaml"), None, []).expect("layers");
        let error = resolve(None, Some(&layers)).expect_err("garbage");
        assert!(error.contains("AMC_LOG_FORMAT") && error.contains("yaml"), "{error}");
    }
}
