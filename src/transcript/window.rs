//! Where a Claude session's context window comes from: what states it first, the transcript's history last.
//!
//! The transcript's `message.model` never carries Claude Code's `[1m]` choice (formats.md §3.2), so the window is
//! taken, in this order, from:
//! 1. `AMC_CONTEXT_WINDOW` ([`WindowSource::Override`]);
//! 2. the model the session runs as Claude Code selects it, when that id carries `[1m]`
//!    ([`WindowSource::ModelSetting`]) or is a native-1M model ([`WindowSource::NativeModel`]). The selected model
//!    is the first of: the session file's `model` (the hook records SessionStart's `model` verbatim), `ANTHROPIC_MODEL`,
//!    the project's `.claude/settings.local.json` then `.claude/settings.json` `model`, the user's
//!    `<claude config dir>/settings.json` `model` (Claude Code's own precedence);
//! 3. the usage line's model in the native-1M table ([`WindowSource::NativeModel`]);
//! 4. a usable context above 200 000 seen in the transcript ([`WindowSource::ObservedOver200k`]);
//! 5. 200 000 ([`WindowSource::Default`]).
//!
//! A selected model without `[1m]` that is not native 1M states nothing: `/model` can switch to a `[1m]` variant in
//! the middle of a session without a hook, so the history rule still decides. Codex rollouts state their window
//! ([`WindowSource::AgentReported`]), else it is [`WindowSource::Default`].

use std::{
    collections::HashMap,
    fs,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use serde::Deserialize;

/// How long a settings file's `model` is trusted before the file is looked at again.
const SETTINGS_TTL: Duration = Duration::from_secs(2);

/// The largest settings file read; a larger one is ignored.
const MAX_SETTINGS_BYTES: u64 = 1024 * 1024;

/// Where a `window_tokens` figure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WindowSource {
    /// `AMC_CONTEXT_WINDOW`.
    Override,
    /// The `[1m]` suffix of the model the session runs (session file, `ANTHROPIC_MODEL`, Claude settings).
    ModelSetting,
    /// A model that runs natively at 1M (the selected model or the usage line's).
    NativeModel,
    /// A usable context above 200 000 was seen in the transcript: inferred.
    ObservedOver200k,
    /// The agent wrote its window into the transcript (Codex `model_context_window`).
    AgentReported,
    /// Nothing stated a window: the default (Claude 200 000, Codex 258 400). Inferred.
    Default,
    /// Claude Code's statusLine input stated it (`amc statusline`): exact, wins over every other source.
    Statusline,
}

impl WindowSource {
    /// Returns the name used in the JSON (`window_source`).
    pub fn as_str(self) -> &'static str {
        match self {
            WindowSource::Override => "override",
            WindowSource::ModelSetting => "model_setting",
            WindowSource::NativeModel => "native_model",
            WindowSource::ObservedOver200k => "observed_over_200k",
            WindowSource::AgentReported => "agent_reported",
            WindowSource::Default => "default",
            WindowSource::Statusline => "statusline",
        }
    }

    /// Returns the source named `name` (the inverse of [`WindowSource::as_str`]).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            WindowSource::Override,
            WindowSource::ModelSetting,
            WindowSource::NativeModel,
            WindowSource::ObservedOver200k,
            WindowSource::AgentReported,
            WindowSource::Default,
            WindowSource::Statusline,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// Returns whether the window is a guess from the history or a default rather than stated by a source.
    pub fn is_inferred(self) -> bool {
        matches!(self, WindowSource::ObservedOver200k | WindowSource::Default)
    }
}

/// What a session's own configuration says about its window, before the transcript is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stated {
    /// `AMC_CONTEXT_WINDOW`.
    Override(u64),
    /// 1M, from the selected model.
    OneMillion(WindowSource),
    /// Nothing: the transcript decides.
    Nothing,
}

impl Stated {
    /// Returns what `window_override` and the selected model `selected` state.
    pub(crate) fn of(window_override: Option<u64>, selected: Option<&str>) -> Self {
        if let Some(window) = window_override {
            return Stated::Override(window);
        }
        match selected {
            Some(model) if model.to_ascii_lowercase().contains("[1m]") => {
                Stated::OneMillion(WindowSource::ModelSetting)
            }
            Some(model) if is_native_1m(model) => Stated::OneMillion(WindowSource::NativeModel),
            _ => Stated::Nothing,
        }
    }

    /// Returns whether the window is settled without the transcript's history.
    pub(crate) fn settles(self) -> bool {
        self != Stated::Nothing
    }
}

/// Returns a Claude window and its source: what is stated first, then the usage line's model, then the history.
pub(crate) fn claude_window(stated: Stated, usage_model: Option<&str>, max_context: u64) -> (u64, WindowSource) {
    match stated {
        Stated::Override(window) => (window, WindowSource::Override),
        Stated::OneMillion(source) => (EXTENDED_WINDOW_TOKENS, source),
        Stated::Nothing if usage_model.is_some_and(is_native_1m) => (EXTENDED_WINDOW_TOKENS, WindowSource::NativeModel),
        Stated::Nothing if max_context > DEFAULT_WINDOW_TOKENS => {
            (EXTENDED_WINDOW_TOKENS, WindowSource::ObservedOver200k)
        }
        Stated::Nothing => (DEFAULT_WINDOW_TOKENS, WindowSource::Default),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SettingsFile {
    model: Option<serde_json::Value>,
}

/// One settings file as last read.
#[derive(Debug)]
struct Cached {
    checked: Instant,
    model: Option<String>,
}

/// Finds the model a Claude session runs as Claude Code selects it, reading settings files at most every
/// [`SETTINGS_TTL`].
#[derive(Debug, Default)]
pub(crate) struct ModelSettings {
    /// Claude's config dirs (`CLAUDE_CONFIG_DIR`, `~/.claude`): `settings.json` in each.
    config_dirs: Vec<PathBuf>,
    /// `ANTHROPIC_MODEL`.
    env_model: Option<String>,
    files: HashMap<PathBuf, Cached>,
}

impl ModelSettings {
    /// Creates a finder for the user settings in `config_dirs` and `ANTHROPIC_MODEL` = `env_model`.
    pub(crate) fn new(config_dirs: Vec<PathBuf>, env_model: Option<String>) -> Self {
        ModelSettings {
            config_dirs,
            env_model: env_model.filter(|m| !m.trim().is_empty()),
            files: HashMap::new(),
        }
    }

    /// Returns the selected model of a session whose file says `session_model` and whose project is `project_dir`.
    pub(crate) fn selected(&mut self, session_model: Option<&str>, project_dir: Option<&str>) -> Option<String> {
        if let Some(model) = session_model.filter(|m| !m.trim().is_empty()) {
            return Some(model.to_owned());
        }
        if let Some(model) = &self.env_model {
            return Some(model.clone());
        }
        let project = project_dir
            .filter(|d| !d.is_empty())
            .map(|d| Path::new(d).join(".claude"));
        let candidates = project
            .iter()
            .flat_map(|p| [p.join("settings.local.json"), p.join("settings.json")])
            .chain(self.config_dirs.iter().map(|d| d.join("settings.json")))
            .collect::<Vec<_>>();
        candidates.into_iter().find_map(|file| self.model_in(file))
    }

    fn model_in(&mut self, file: PathBuf) -> Option<String> {
        let now = Instant::now();
        if let Some(cached) = self.files.get(&file) {
            if now.duration_since(cached.checked) < SETTINGS_TTL {
                return cached.model.clone();
            }
        }
        let model = read_model(&file);
        self.files.insert(
            file,
            Cached {
                checked: now,
                model: model.clone(),
            },
        );
        model
    }
}

/// Returns the string `model` of a settings file; a missing, unreadable, oversized or invalid file has none.
fn read_model(file: &Path) -> Option<String> {
    let meta = fs::metadata(file).ok()?;
    if !meta.is_file() || meta.len() > MAX_SETTINGS_BYTES {
        return None;
    }
    let (bytes, _) = crate::bounded::read(file, MAX_SETTINGS_BYTES).ok()?;
    match serde_json::from_slice::<SettingsFile>(&bytes) {
        Ok(settings) => settings
            .model
            .and_then(|m| m.as_str().map(str::to_owned))
            .filter(|m| !m.trim().is_empty()),
        Err(error) => {
            tracing::debug!(file = %file.display(), %error, "Claude settings file is not valid JSON");
            None
        }
    }
}

/// The window Claude Code uses unless the model runs at 1M.
pub const DEFAULT_WINDOW_TOKENS: u64 = 200_000;

/// The extended window.
pub const EXTENDED_WINDOW_TOKENS: u64 = 1_000_000;

/// Model families that always run at a 1M window, from the given `(major, minor)` version on. This is the only list
/// of native-1M models in amc.
///
/// Sources (shared/docs/formats.md):
/// - §3.2, [doc] model-config.md and the changelog: "Opus 4.7+, Sonnet 5 and Fable 5 always run at 1M on the
///   Anthropic API"; Claude Code 2.1.117 fixed Opus 4.7 `/context` being computed against a 200K window. The id of
///   Fable 5 is assumed to follow the others (`claude-fable-5…`).
/// - §8.1: `claude-opus-5-5`, the default model of Claude Code 2.1.331, runs at 1M (covered by `opus` ≥ 4.7).
///
/// Not listed: Sonnet 4/4.5/4.6 and Opus 4.6 reach 1M only when the user picks a `[1m]` variant, which the
/// transcript does not record; for them the ">200K seen" rule below, or `AMC_CONTEXT_WINDOW`, decides.
const NATIVE_1M_MODELS: &[(&str, u32, u32)] = &[("opus", 4, 7), ("sonnet", 5, 0), ("fable", 5, 0)];

/// Returns whether `model` (a transcript `message.model` such as `claude-opus-4-7`) runs natively at a 1M window.
pub fn is_native_1m(model: &str) -> bool {
    let model = model.to_ascii_lowercase();
    if model.contains("[1m]") {
        return true;
    }
    let Some((family, major, minor)) = model_version(&model) else {
        return false;
    };
    NATIVE_1M_MODELS
        .iter()
        .any(|&(f, fmaj, fmin)| f == family && (major, minor) >= (fmaj, fmin))
}

/// Splits a Claude model id into family and version: `claude-opus-4-7` → `("opus", 4, 7)`,
/// `claude-sonnet-4-5-20250929` → `("sonnet", 4, 5)`, `claude-3-7-sonnet-20250219` → `("sonnet", 3, 7)`, and the
/// dotted spelling of gateways (`anthropic/claude-opus-4.7`) → `("opus", 4, 7)`.
pub(super) fn model_version(model: &str) -> Option<(&str, u32, u32)> {
    let rest = &model[model.find("claude-")? + "claude-".len()..];
    let rest = rest.split(['@', '[', ':']).next().unwrap_or(rest);
    let mut family = None;
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for token in rest.split(['-', '.', '_']) {
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            // A date suffix (20250929) ends the version.
            if token.len() >= 6 {
                break;
            }
            let n: u32 = token.parse().ok()?;
            if family.is_none() {
                before.push(n);
            } else {
                after.push(n);
            }
        } else if family.is_none() && !token.is_empty() && token.bytes().all(|b| b.is_ascii_alphabetic()) {
            family = Some(token);
        } else {
            break;
        }
    }
    let version = if after.is_empty() { before } else { after };
    Some((family?, *version.first()?, version.get(1).copied().unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stated_windows() {
        assert_eq!(Stated::of(Some(500_000), Some("sonnet[1m]")), Stated::Override(500_000));
        assert_eq!(
            Stated::of(None, Some("sonnet[1m]")),
            Stated::OneMillion(WindowSource::ModelSetting)
        );
        assert_eq!(
            Stated::of(None, Some("claude-sonnet-4-5-20250929[1M]")),
            Stated::OneMillion(WindowSource::ModelSetting)
        );
        assert_eq!(
            Stated::of(None, Some("claude-opus-5-5")),
            Stated::OneMillion(WindowSource::NativeModel)
        );
        assert_eq!(Stated::of(None, Some("claude-opus-4-6")), Stated::Nothing);
        assert_eq!(Stated::of(None, Some("opus")), Stated::Nothing);
        assert_eq!(Stated::of(None, None), Stated::Nothing);
    }

    #[test]
    fn claude_window_order() {
        let none = Stated::Nothing;
        assert_eq!(
            claude_window(none, Some("claude-opus-4-6"), 10),
            (200_000, WindowSource::Default)
        );
        assert_eq!(
            claude_window(none, Some("claude-opus-4-6"), 200_001),
            (1_000_000, WindowSource::ObservedOver200k)
        );
        assert_eq!(
            claude_window(none, Some("claude-opus-4-7"), 200_001),
            (1_000_000, WindowSource::NativeModel)
        );
        assert_eq!(
            claude_window(Stated::Override(200_000), Some("claude-opus-4-7"), 300_000),
            (200_000, WindowSource::Override)
        );
        assert_eq!(
            claude_window(
                Stated::OneMillion(WindowSource::ModelSetting),
                Some("claude-opus-4-6"),
                5
            ),
            (1_000_000, WindowSource::ModelSetting)
        );
    }

    #[test]
    fn names_round_trip() {
        for name in [
            "override",
            "model_setting",
            "native_model",
            "observed_over_200k",
            "agent_reported",
            "default",
        ] {
            assert_eq!(WindowSource::from_name(name).map(WindowSource::as_str), Some(name));
        }
        assert_eq!(WindowSource::from_name("other"), None);
    }

    #[test]
    fn selected_model_precedence() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let user = tmp.path().join("claude");
        let project = tmp.path().join("proj");
        fs::create_dir_all(&user).expect("mkdir");
        fs::create_dir_all(project.join(".claude")).expect("mkdir");
        let project_dir = project.to_str();
        let write = |path: PathBuf, body: &str| fs::write(path, body).expect("write");

        let mut settings = ModelSettings::new(vec![user.clone()], None);
        assert_eq!(settings.selected(None, project_dir), None);

        write(user.join("settings.json"), r#"{"model":"opus[1m]","hooks":{}}"#);
        let mut settings = ModelSettings::new(vec![user.clone()], None);
        assert_eq!(settings.selected(None, project_dir).as_deref(), Some("opus[1m]"));

        write(project.join(".claude/settings.json"), r#"{"model":"sonnet"}"#);
        let mut settings = ModelSettings::new(vec![user.clone()], None);
        assert_eq!(settings.selected(None, project_dir).as_deref(), Some("sonnet"));

        write(project.join(".claude/settings.local.json"), r#"{"model":"sonnet[1m]"}"#);
        let mut settings = ModelSettings::new(vec![user.clone()], None);
        assert_eq!(settings.selected(None, project_dir).as_deref(), Some("sonnet[1m]"));

        let mut settings = ModelSettings::new(vec![user.clone()], Some("claude-opus-4-6".into()));
        assert_eq!(settings.selected(None, project_dir).as_deref(), Some("claude-opus-4-6"));
        assert_eq!(
            settings.selected(Some("claude-opus-4-6[1m]"), project_dir).as_deref(),
            Some("claude-opus-4-6[1m]")
        );

        // A broken or non-string setting states nothing; the next file down is used.
        write(project.join(".claude/settings.local.json"), "{not json");
        write(project.join(".claude/settings.json"), r#"{"model":7}"#);
        let mut settings = ModelSettings::new(vec![user], None);
        assert_eq!(settings.selected(None, project_dir).as_deref(), Some("opus[1m]"));
    }
}
