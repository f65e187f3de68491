//! `amc hooks install|uninstall|status` (placeholder: filled in by the hook work).

use std::path::PathBuf;

/// Options shared by the `amc hooks` commands.
#[derive(Debug, Clone)]
pub struct HooksOptions {
    /// The Claude Code settings file to edit (default `<claude config dir>/settings.json`).
    pub settings: PathBuf,
    /// Print what would change without writing.
    pub dry_run: bool,
}

/// Merges amc's hook entries into the settings file.
pub fn install(_opts: &HooksOptions) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}

/// Removes exactly amc's hook entries from the settings file.
pub fn uninstall(_opts: &HooksOptions) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}

/// Prints what is installed and whether the command path still exists.
pub fn status(_opts: &HooksOptions) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
