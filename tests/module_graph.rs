//! The house rules of `src/`: the import graph of the crate's modules has no cycle, and no module imports from a
//! higher floor (the declared order below, bottom to top: model and the ground → store → transcript → sources →
//! rules and hook → collect and wire → publisher → server → cli).
//!
//! The graph is read from the source text: every `crate::…` path (including `use crate::{a::{b, c}, d}` groups) and
//! every `super::…`/`self::…` path, outside comments and string literals, resolved to the longest module path it
//! names. A child module using its ancestors' items (`super::X`) is the ordinary parent/child pattern and is not an
//! edge of the cycle check.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::Path,
};

/// The floors, bottom first (`bounded`, the file-read primitives, below everything, so that even the config file is
/// read through it). A module may import only from a strictly lower floor (siblings on one floor are
/// independent); a top-level module missing from this list fails the test, so a new one must be placed.
const FLOORS: &[&[&str]] = &[
    &["bounded"],
    &["model", "config", "error", "shutdown", "proto", "metrics"],
    &["store", "event"],
    &["transcript"],
    &["sources"],
    &["rules", "hook"],
    &["collect", "wire"],
    &["publisher"],
    &["fleet", "notify"],
    &["server"],
    &["top"],
    &["cli"],
];

type ModPath = Vec<String>;

/// Returns the source with comments, string literals and char literals blanked out (so `"crate::x"` in a message or
/// a doc link is not an import).
fn code_only(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !prev_is_ident(&b, i) {
            // A raw string r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            while j < b.len() {
                if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                i += if b[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && (next == Some('\\') || b.get(i + 2) == Some(&'\'')) {
            // A char literal ('x', '\n', '\''); a lifetime ('a) is left alone.
            i += 2;
            while i < b.len() && b[i] != '\'' {
                i += if b[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_')
}

/// Parses the path (or `{…}` group of paths) starting at `s[i..]`, after a `crate::`, `super::` or `self::` prefix;
/// returns every full path it names.
fn parse_tree(s: &[char], mut i: usize) -> Vec<ModPath> {
    let skip_ws = |i: &mut usize| {
        while *i < s.len() && s[*i].is_whitespace() {
            *i += 1;
        }
    };
    let mut prefix = ModPath::new();
    loop {
        skip_ws(&mut i);
        if s.get(i) == Some(&'{') {
            let mut out = Vec::new();
            let mut depth = 0;
            let mut start = i + 1;
            let mut j = i;
            while j < s.len() {
                match s[j] {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            out.extend(group_item(s, start, j, &prefix));
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        out.extend(group_item(s, start, j, &prefix));
                        start = j + 1;
                    }
                    _ => {}
                }
                j += 1;
            }
            return out;
        }
        let start = i;
        while i < s.len() && (s[i].is_alphanumeric() || s[i] == '_') {
            i += 1;
        }
        if i == start {
            return vec![prefix];
        }
        prefix.push(s[start..i].iter().collect());
        skip_ws(&mut i);
        if s.get(i) == Some(&':') && s.get(i + 1) == Some(&':') {
            i += 2;
        } else {
            return vec![prefix];
        }
    }
}

fn group_item(s: &[char], start: usize, end: usize, prefix: &ModPath) -> Vec<ModPath> {
    let item: Vec<char> = s[start..end].to_vec();
    parse_tree(&item, 0)
        .into_iter()
        .map(|tail| {
            let mut p = prefix.clone();
            p.extend(tail.into_iter().filter(|seg| seg != "self"));
            p
        })
        .collect()
}

/// Returns the module path of a file under `src/` (`rules/liveness/mod.rs` → `rules::liveness`).
fn module_of(rel: &Path) -> ModPath {
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_owned());
    }
    parts
}

/// Returns the modules each module imports (resolved to the longest known module path), from `files` (module path →
/// source text).
fn imports(files: &BTreeMap<ModPath, String>) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let known: BTreeSet<&ModPath> = files.keys().collect();
    let resolve = |path: ModPath| -> Option<ModPath> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|p| known.contains(p))
    };
    let mut graph = BTreeMap::new();
    for (module, src) in files {
        let code: Vec<char> = code_only(src).chars().collect();
        let mut targets = BTreeSet::new();
        let ident = |c: char| c.is_alphanumeric() || c == '_';
        for pos in 0..code.len().saturating_sub(1) {
            if code[pos] != ':' || code[pos + 1] != ':' {
                continue;
            }
            // The word this `::` follows, and whether that word continues a longer path.
            let word_start = (0..pos).rev().take_while(|&k| ident(code[k])).last().unwrap_or(pos);
            let word: String = code[word_start..pos].iter().collect();
            if word_start >= 2 && code[word_start - 1] == ':' && code[word_start - 2] == ':' {
                continue;
            }
            let base: Option<ModPath> = match word.as_str() {
                "crate" => Some(Vec::new()),
                "self" => Some(module.clone()),
                "super" => {
                    // `super::super::…`: count the chain.
                    let rest: String = code[pos + 2..(pos + 200).min(code.len())].iter().collect();
                    let mut up = 1;
                    let mut rest = rest.as_str();
                    while let Some(r) = rest.trim_start().strip_prefix("super::") {
                        up += 1;
                        rest = r;
                    }
                    (module.len() >= up).then(|| module[..module.len() - up].to_vec())
                }
                _ => None,
            };
            let Some(base) = base else { continue };
            for tail in parse_tree(&code, pos + 2) {
                let tail: ModPath = tail.into_iter().filter(|s| s != "super").collect();
                let mut full = base.clone();
                full.extend(tail);
                if let Some(target) = resolve(full) {
                    if &target != module && !target.is_empty() {
                        targets.insert(target);
                    }
                }
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

/// Returns every import that goes to the same or a higher floor, or to an unplaced top-level module.
fn floor_violations(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<String> {
    let floor = |unit: &str| FLOORS.iter().position(|f| f.contains(&unit));
    let mut out = Vec::new();
    for (from, targets) in graph {
        let Some(from_unit) = from.first() else { continue };
        let Some(from_floor) = floor(from_unit) else {
            out.push(format!("{} is on no floor: add it to FLOORS", from.join("::")));
            continue;
        };
        for to in targets {
            let Some(to_unit) = to.first() else { continue };
            if to_unit == from_unit {
                continue;
            }
            match floor(to_unit) {
                Some(to_floor) if to_floor < from_floor => {}
                _ => out.push(format!(
                    "{} imports {} (not a lower floor)",
                    from.join("::"),
                    to.join("::")
                )),
            }
        }
    }
    out
}

/// Returns a cycle of the graph as a list of modules, ignoring a module's imports of its own ancestors.
fn find_cycle(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Option<Vec<String>> {
    fn visit(
        node: &ModPath,
        graph: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        state: &mut BTreeMap<ModPath, u8>,
        stack: &mut Vec<ModPath>,
    ) -> Option<Vec<String>> {
        state.insert(node.clone(), 1);
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if node.starts_with(next) {
                continue; // a child using its ancestor's items
            }
            match state.get(next).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|m| m == next).unwrap_or(0);
                    let mut cycle: Vec<String> = stack[start..].iter().map(|m| m.join("::")).collect();
                    cycle.push(next.join("::"));
                    return Some(cycle);
                }
                0 => {
                    if let Some(cycle) = visit(next, graph, state, stack) {
                        return Some(cycle);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node).copied().unwrap_or(0) == 0 {
            if let Some(cycle) = visit(node, graph, &mut state, &mut Vec::new()) {
                return Some(cycle);
            }
        }
    }
    None
}

fn read_src() -> BTreeMap<ModPath, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("read src dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&root).expect("under src");
                // The binary is its own crate: its `crate::` is not the library's.
                if rel == Path::new("main.rs") {
                    continue;
                }
                files.insert(module_of(rel), fs::read_to_string(&path).expect("read source"));
            }
        }
    }
    files
}

#[test]
fn src_has_no_cycle_and_no_upward_import() {
    let files = read_src();
    assert!(files.len() > 40, "read the crate's modules ({} found)", files.len());
    let graph = imports(&files);
    let collect = graph.get(&vec!["collect".to_owned()]).expect("collect is a module");
    assert!(
        collect.contains(&vec!["rules".to_owned(), "liveness".to_owned()]),
        "the parser sees collect's imports: {collect:?}"
    );
    let violations = floor_violations(&graph);
    assert!(
        violations.is_empty(),
        "imports against the floors:\n{}",
        violations.join("\n")
    );
    assert_eq!(find_cycle(&graph), None, "the module graph has a cycle");
}

/// The checker itself: an upward import, a cycle between siblings, and the forms of paths it must read.
#[test]
fn the_checker_finds_an_upward_import_and_a_cycle() {
    let m = |p: &str| -> ModPath { p.split("::").map(str::to_owned).collect() };
    let files: BTreeMap<ModPath, String> = [
        ("collect", "use crate::{model::SessionJson, rules::{self, dedupe}};"),
        ("rules", "pub mod dedupe; pub mod status;"),
        (
            "rules::dedupe",
            "use crate::collect::Pass; // crate::server in a comment\nlet s = \"crate::cli\";",
        ),
        (
            "rules::status",
            "use super::super::rules::dedupe; fn f() { super::dedupe::g(); }",
        ),
        ("model", ""),
        ("server", ""),
        ("cli", ""),
    ]
    .into_iter()
    .map(|(k, v)| (m(k), v.to_owned()))
    .collect();
    let graph = imports(&files);
    assert_eq!(
        graph[&m("collect")],
        BTreeSet::from([m("model"), m("rules"), m("rules::dedupe")])
    );
    assert_eq!(
        graph[&m("rules::dedupe")],
        BTreeSet::from([m("collect")]),
        "comments and strings are no imports"
    );
    assert_eq!(graph[&m("rules::status")], BTreeSet::from([m("rules::dedupe")]));
    assert_eq!(
        floor_violations(&graph),
        ["rules::dedupe imports collect (not a lower floor)"]
    );
    let cycle = find_cycle(&graph).expect("collect → rules::dedupe → collect");
    assert!(
        cycle.contains(&"collect".to_owned()) && cycle.contains(&"rules::dedupe".to_owned()),
        "{cycle:?}"
    );

    let mut acyclic = graph.clone();
    acyclic.insert(m("rules::dedupe"), BTreeSet::new());
    assert_eq!(find_cycle(&acyclic), None);
    assert!(floor_violations(&acyclic).is_empty());
}
