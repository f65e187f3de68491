//! The price table: US dollars per million tokens per model, for costs the agent does not report itself.
//!
//! The built-in table is `data/prices.toml` (compiled in; each row names its source and date). A user file of the same
//! shape (`prices` / `AMC_PRICES`) replaces rows of the same id and adds new ones. A user file that cannot be read or
//! parsed is an error the caller logs at start; the built-in table is used then.

use std::{collections::BTreeMap, path::Path};

use serde::Deserialize;

/// The built-in table.
pub const BUILTIN: &str = include_str!("../../data/prices.toml");

/// One model's prices in US dollars per million tokens.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// The model id the row is for.
    pub id: String,
    /// Uncached input tokens.
    pub input: f64,
    /// Input tokens read from the prompt cache.
    pub cached_input: f64,
    /// Input tokens written to the prompt cache (0 where the provider does not charge them apart).
    #[serde(default)]
    pub cache_write: f64,
    /// Output tokens.
    pub output: f64,
    /// Where the figures come from.
    pub source: String,
    /// When they were taken from there.
    pub date: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    model: Vec<Price>,
}

/// Model id → prices.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable {
    rows: BTreeMap<String, Price>,
}

impl Default for PriceTable {
    fn default() -> Self {
        Self::builtin()
    }
}

impl PriceTable {
    /// Returns the built-in table.
    pub fn builtin() -> Self {
        // The built-in file is tested to parse (`builtin_table_parses`); an empty table would only mean "unknown".
        Self::parse(BUILTIN).unwrap_or(PriceTable { rows: BTreeMap::new() })
    }

    /// Parses a table file's text; every price must be a finite number ≥ 0.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut rows = BTreeMap::new();
        for row in file.model {
            let figures = [row.input, row.cached_input, row.cache_write, row.output];
            if row.id.trim().is_empty() || figures.iter().any(|f| !f.is_finite() || *f < 0.0) {
                return Err(format!("model {:?}: prices must be finite numbers >= 0", row.id));
            }
            rows.insert(normalize(&row.id), row);
        }
        Ok(PriceTable { rows })
    }

    /// Returns the built-in table with the rows of the user file at `path` over it; an error names the file.
    pub fn with_file(path: &Path) -> Result<Self, String> {
        let text = crate::bounded::read_to_string(path, 1 << 20)
            .map_err(|e| format!("price table {}: {e}", path.display()))?;
        let user = Self::parse(&text).map_err(|e| format!("price table {}: {e}", path.display()))?;
        let mut table = Self::builtin();
        table.rows.extend(user.rows);
        Ok(table)
    }

    /// Returns the prices of `model`, matched after [`normalize`] (also with `-0` appended: `claude-sonnet-4` is
    /// `claude-sonnet-4-0`); `None` for a model the table does not know.
    pub fn price(&self, model: &str) -> Option<&Price> {
        let key = normalize(model);
        if key.is_empty() {
            return None;
        }
        self.rows.get(&key).or_else(|| self.rows.get(&format!("{key}-0")))
    }

    /// Returns how many models the table prices.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Returns whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Returns a model id in the table's form: lower case, without a `[1m]` suffix, a provider prefix
/// (`us.anthropic.`, `anthropic/`, `openai/`), a `-v1:0` or `@…` tail, or a `-YYYYMMDD` date.
pub fn normalize(model: &str) -> String {
    let mut m = model.trim().to_ascii_lowercase();
    if let Some(i) = m.find('[') {
        m.truncate(i);
    }
    if let Some(i) = m.find('@') {
        m.truncate(i);
    }
    if let Some(i) = m.rfind('/') {
        m = m[i + 1..].to_owned();
    }
    if let Some(i) = m.find("anthropic.") {
        m = m[i + "anthropic.".len()..].to_owned();
    }
    if let Some(i) = m.find("-v1:") {
        m.truncate(i);
    }
    if let Some((head, tail)) = m.rsplit_once('-') {
        if tail.len() == 8 && tail.bytes().all(|b| b.is_ascii_digit()) {
            m = head.to_owned();
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_parses_and_every_row_names_its_source() {
        let table = PriceTable::parse(BUILTIN).expect("built-in table");
        assert!(table.len() > 20);
        for row in table.rows.values() {
            assert!(!row.source.is_empty() && row.date.len() == 10, "{row:?}");
        }
    }

    #[test]
    fn models_match_after_normalising() {
        let table = PriceTable::builtin();
        let input = |m: &str| table.price(m).map(|p| p.input);
        assert_eq!(input("claude-opus-4-6"), Some(5.0));
        assert_eq!(input("claude-opus-4-6[1m]"), Some(5.0));
        assert_eq!(input("claude-sonnet-4-20250514"), Some(3.0));
        assert_eq!(input("us.anthropic.claude-opus-4-1-20250805-v1:0"), Some(15.0));
        assert_eq!(input("claude-haiku-4-5-20251001"), Some(1.0));
        assert_eq!(input("gpt-5-codex"), Some(1.25));
        assert_eq!(input("claude-opus-9-9"), None);
        assert_eq!(input("<synthetic>"), None);
        assert_eq!(input(""), None);
    }

    #[test]
    fn user_rows_replace_and_extend_and_bad_files_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("prices.toml");
        std::fs::write(
            &path,
            "[[model]]\nid = \"gpt-5.5\"\ninput = 2.0\ncached_input = 0.2\noutput = 16.0\nsource = \"my contract\"\ndate = \"2026-12-01\"\n\n[[model]]\nid = \"claude-opus-4-6\"\ninput = 1.0\ncached_input = 0.1\ncache_write = 1.0\noutput = 2.0\nsource = \"discount\"\ndate = \"2026-12-01\"\n",
        )
        .expect("write");
        let table = PriceTable::with_file(&path).expect("table");
        assert_eq!(table.price("gpt-5.5").map(|p| p.output), Some(16.0));
        assert_eq!(table.price("claude-opus-4-6").map(|p| p.input), Some(1.0));
        assert_eq!(table.price("claude-opus-4-5").map(|p| p.input), Some(5.0));
        std::fs::write(
            &path,
            "[[model]]\nid = \"x\"\ninput = -1.0\ncached_input = 0.0\noutput = 1.0\nsource = \"s\"\ndate = \"d\"\n",
        )
        .expect("write");
        assert!(PriceTable::with_file(&path).unwrap_err().contains("finite numbers"));
        std::fs::write(&path, "not toml [").expect("write");
        assert!(PriceTable::with_file(&path).unwrap_err().contains("prices.toml"));
        assert!(PriceTable::with_file(&dir.path().join("missing.toml")).is_err());
    }
}
