//! Same-pane dedupe: Claude's `--resume` (in versions that gave the resumed session a new id) left an orphan session
//! file on the pane of the real one; two sessions claiming one Zellij pane are resolved to one.

use std::{
    borrow::{Borrow, Cow},
    cmp::Ordering,
    path::Path,
};

use serde_json::Value;

use super::Removal;
use crate::model::{field, key, sort_key, string_form_ref, truthy, Decision, SessionJson};

/// Returns the pane a session claims, `(zellij_session, zellij_pane)`, when both are set.
///
/// "Set" is Python truthiness, as in the original (`""`, `null`, `0` are unset). Both parts are compared by their
/// string form, so a pane written as `3` and one written as `"3"` are the same pane (the original kept them apart).
pub fn pane_key(session: &SessionJson) -> Option<(String, String)> {
    pane_key_ref(session).map(|(s, p)| (s.into_owned(), p.into_owned()))
}

/// A pane, `(zellij_session, zellij_pane)`, borrowed from the session when both parts are strings.
type PaneRef<'a> = (Cow<'a, str>, Cow<'a, str>);

/// [`pane_key`], borrowed from the session when both parts are strings.
fn pane_key_ref(session: &SessionJson) -> Option<PaneRef<'_>> {
    let zellij_session = session.get("zellij_session").filter(|v| truthy(Some(v)))?;
    let zellij_pane = session.get("zellij_pane").filter(|v| truthy(Some(v)))?;
    Some((string_form_ref(zellij_session), string_form_ref(zellij_pane)))
}

/// A `conversation_mtime_ns` as the original ranks it: integers exactly, floats as floats.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mtime {
    Int(i128),
    Float(f64),
}

impl PartialOrd for Mtime {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (Mtime::Int(a), Mtime::Int(b)) => a.partial_cmp(b),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }
}

impl Mtime {
    fn as_f64(self) -> f64 {
        match self {
            Mtime::Int(i) => i as f64,
            Mtime::Float(f) => f,
        }
    }

    /// `s.get("conversation_mtime_ns") or 0`, then 0 unless it is an int or a float (a Python bool is an int).
    fn of(value: Option<&Value>) -> Mtime {
        match value {
            Some(Value::Bool(true)) => Mtime::Int(1),
            Some(Value::Number(n)) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => Mtime::Int(i128::from(i)),
                (None, Some(u), _) => Mtime::Int(i128::from(u)),
                (None, None, Some(f)) => Mtime::Float(f),
                _ => Mtime::Int(0),
            },
            _ => Mtime::Int(0),
        }
    }
}

/// Returns whether `a` ranks strictly above `b`: context usage first, then the newer transcript.
fn outranks(a: &SessionJson, b: &SessionJson) -> bool {
    let key = |s: &SessionJson| {
        (
            truthy(s.get("context_usage")),
            Mtime::of(s.get("conversation_mtime_ns")),
        )
    };
    let (a_context, a_mtime) = key(a);
    let (b_context, b_mtime) = key(b);
    match a_context.cmp(&b_context) {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => a_mtime.partial_cmp(&b_mtime) == Some(Ordering::Greater),
    }
}

/// Returns the dedupe outcome of every session in a pane group of two or more, by index (ascending): one winner per
/// group keeps the pane, every other member with a `session_id` loses and its file (`files[i]`, the file session `i`
/// was read from) is removed.
///
/// `sessions` must already be sorted by `session_id`. Per pane with more than one session, the winner is the one with
/// `context_usage` (a real conversation happened), then the higher `conversation_mtime_ns` (a non-numeric value counts
/// as 0); on a tie the first in `session_id` order wins (the original's stable `sorted(..., reverse=True)`). A loser
/// without a `session_id` is kept, as in the original. Sessions without pane info, or alone on their pane, are never
/// dropped.
///
/// Difference: the original dropped every session whose `session_id` equalled a loser's; this drops exactly the
/// losers, so a winner that shares a loser's id (two files, one id) stays.
pub fn decide<S: Borrow<SessionJson>>(sessions: &[S], files: &[&Path], at: f64) -> Vec<Outcome> {
    // Every session's pane (borrowed: a pass copies no pane name), by pane and then position: each group of two or
    // more is a run.
    let mut panes: Vec<(PaneRef<'_>, usize)> = sessions
        .iter()
        .enumerate()
        .filter_map(|(i, s)| pane_key_ref(s.borrow()).map(|key| (key, i)))
        .collect();
    panes.sort_unstable();
    let mut out = Vec::new();
    for run in panes.chunk_by(|a, b| a.0 == b.0).filter(|run| run.len() > 1) {
        let ((zellij_session, zellij_pane), _) = &run[0];
        let group: Vec<usize> = run.iter().map(|(_, i)| *i).collect();
        out.extend(decide_group(
            sessions,
            files,
            &group,
            &format!("{zellij_session}:{zellij_pane}"),
            at,
        ));
    }
    out.sort_by_key(|o| o.index);
    out
}

/// The rule name of [`decide`]'s decisions.
pub const RULE: &str = "rules::dedupe::decide";

/// The reason a dedupe loser's file is removed (the log line).
pub const LOSER_REASON: &str = "another session on the same zellij pane wins";

/// One session's dedupe outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The session's index in the list given to [`decide`].
    pub index: usize,
    /// The `dedupe` decision: `"kept"` or `"lost"`, with the pane, the group and why.
    pub decision: Decision,
    /// For a loser, the removal of its file.
    pub removal: Option<Removal>,
}

/// Returns the outcomes of one pane group (`group`: indices in `session_id` order, two or more).
pub fn decide_group<S: Borrow<SessionJson>>(
    sessions: &[S],
    files: &[&Path],
    group: &[usize],
    pane: &str,
    at: f64,
) -> Vec<Outcome> {
    let nth = |i: usize| sessions[i].borrow();
    let Some((&first, rest)) = group.split_first() else {
        return Vec::new();
    };
    let mut best = first;
    for &i in rest {
        if outranks(nth(i), nth(best)) {
            best = i;
        }
    }
    let members: Vec<Value> = group.iter().map(|&i| sort_key(nth(i)).into()).collect();
    let winner = sort_key(nth(best));
    group
        .iter()
        .map(|&i| {
            let session = nth(i);
            let file = files.get(i).map(|f| f.to_string_lossy().into_owned());
            let base = |value: &str| {
                Decision::new(field::DEDUPE, RULE, value, at)
                    .with("pane", pane)
                    .with("members", members.clone())
                    .with("winner", winner.clone())
                    .with("file", file.clone())
                    .with(key::CONTEXT_USAGE, truthy(session.get(key::CONTEXT_USAGE)))
                    .with(
                        key::CONVERSATION_MTIME_NS,
                        session.get(key::CONVERSATION_MTIME_NS).cloned().unwrap_or(Value::Null),
                    )
            };
            if i == best {
                return Outcome {
                    index: i,
                    decision: base("kept").with("why", "it outranks every other session on the pane"),
                    removal: None,
                };
            }
            if !truthy(session.get(key::SESSION_ID)) {
                return Outcome {
                    index: i,
                    decision: base("kept").with("why", "no session_id: kept, as in the original"),
                    removal: None,
                };
            }
            let why = loss_reason(nth(best), session);
            let decision = base("lost").with("why", why);
            let removal = files.get(i).map(|path| Removal {
                path: path.to_path_buf(),
                decision: Decision {
                    field: field::REMOVAL,
                    value: LOSER_REASON.into(),
                    ..decision.clone()
                },
            });
            Outcome {
                index: i,
                decision,
                removal,
            }
        })
        .collect()
}

/// Returns why `winner` beat `loser`, in words.
fn loss_reason(winner: &SessionJson, loser: &SessionJson) -> &'static str {
    let context = |s: &SessionJson| truthy(s.get(key::CONTEXT_USAGE));
    if context(winner) && !context(loser) {
        return "the winner has context_usage";
    }
    let mtime = |s: &SessionJson| Mtime::of(s.get(key::CONVERSATION_MTIME_NS));
    if mtime(winner).partial_cmp(&mtime(loser)) == Some(Ordering::Greater) {
        return "the winner's transcript is newer (conversation_mtime_ns)";
    }
    "a tie: the first in session_id order wins"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    fn s(v: Value) -> SessionJson {
        v.as_object().cloned().unwrap_or_default()
    }

    fn losers(sessions: &[SessionJson]) -> Vec<usize> {
        let files: Vec<PathBuf> = (0..sessions.len())
            .map(|i| PathBuf::from(format!("/s/{i}.json")))
            .collect();
        let files: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        decide(sessions, &files, 0.0)
            .into_iter()
            .filter(|o| o.removal.is_some())
            .map(|o| o.index)
            .collect()
    }

    fn kept(sessions: &[SessionJson]) -> Vec<String> {
        let drop = losers(sessions);
        sessions
            .iter()
            .enumerate()
            .filter(|(i, _)| !drop.contains(i))
            .map(|(_, s)| crate::model::sort_key(s))
            .collect()
    }

    fn pane(id: &str, extra: Value) -> SessionJson {
        let mut m = s(json!({"session_id": id, "zellij_session": "main", "zellij_pane": "3"}));
        m.extend(s(extra));
        m
    }

    #[test]
    fn keeps_session_with_context_usage_over_one_without() {
        let sessions = [
            pane("a", json!({"conversation_mtime_ns": 999})),
            pane(
                "b",
                json!({"context_usage": {"current_tokens": 1}, "conversation_mtime_ns": 1}),
            ),
        ];
        assert_eq!(kept(&sessions), ["b"]);
    }

    #[test]
    fn keeps_higher_mtime_when_both_have_context_usage() {
        let sessions = [
            pane("a", json!({"context_usage": {"x": 1}, "conversation_mtime_ns": 200})),
            pane("b", json!({"context_usage": {"x": 1}, "conversation_mtime_ns": 100})),
        ];
        assert_eq!(kept(&sessions), ["a"]);
    }

    #[test]
    fn keeps_higher_mtime_when_neither_has_context_usage() {
        let sessions = [
            pane("a", json!({"conversation_mtime_ns": 100})),
            pane("b", json!({"conversation_mtime_ns": 200})),
        ];
        assert_eq!(kept(&sessions), ["b"]);
    }

    #[test]
    fn sessions_on_different_panes_are_untouched() {
        let sessions = [
            pane("a", json!({})),
            pane("b", json!({"zellij_pane": "4"})),
            pane("c", json!({"zellij_session": "other"})),
        ];
        assert_eq!(kept(&sessions), ["a", "b", "c"]);
    }

    #[test]
    fn a_single_session_per_pane_is_untouched() {
        assert_eq!(kept(&[pane("a", json!({}))]), ["a"]);
    }

    #[test]
    fn sessions_without_pane_info_are_untouched() {
        let sessions = [
            s(json!({"session_id": "a"})),
            s(json!({"session_id": "b"})),
            s(json!({"session_id": "c", "zellij_session": "main", "zellij_pane": ""})),
            s(json!({"session_id": "d", "zellij_session": "main", "zellij_pane": ""})),
            s(json!({"session_id": "e", "zellij_session": "", "zellij_pane": "3"})),
            s(json!({"session_id": "f", "zellij_session": "", "zellij_pane": "3"})),
            s(json!({"session_id": "g", "zellij_session": "main", "zellij_pane": null})),
            s(json!({"session_id": "h", "zellij_session": "main", "zellij_pane": null})),
        ];
        assert_eq!(kept(&sessions), ["a", "b", "c", "d", "e", "f", "g", "h"]);
    }

    #[test]
    fn non_numeric_mtime_counts_as_zero() {
        let sessions = [
            pane("a", json!({"conversation_mtime_ns": "999999"})),
            pane("b", json!({"conversation_mtime_ns": 1})),
        ];
        assert_eq!(kept(&sessions), ["b"]);
        let sessions = [
            pane("a", json!({"conversation_mtime_ns": [5]})),
            pane("b", json!({"conversation_mtime_ns": null})),
        ];
        assert_eq!(
            kept(&sessions),
            ["a"],
            "both count as 0: the first in session_id order stays"
        );
        let sessions = [
            pane("a", json!({"conversation_mtime_ns": 0.5})),
            pane("b", json!({"conversation_mtime_ns": true})),
        ];
        assert_eq!(kept(&sessions), ["b"], "a Python bool is an int: True = 1 > 0.5");
    }

    #[test]
    fn ties_keep_the_first_in_session_id_order() {
        let sessions = [pane("a", json!({})), pane("b", json!({})), pane("c", json!({}))];
        assert_eq!(kept(&sessions), ["a"]);
    }

    #[test]
    fn large_integer_mtimes_compare_exactly() {
        let sessions = [
            pane("a", json!({"conversation_mtime_ns": 1_700_000_000_000_000_001_u64})),
            pane("b", json!({"conversation_mtime_ns": 1_700_000_000_000_000_002_u64})),
        ];
        assert_eq!(kept(&sessions), ["b"]);
    }

    #[test]
    fn a_loser_without_session_id_is_kept() {
        let sessions = [
            pane("a", json!({"session_id": ""})),
            pane("b", json!({"context_usage": {"x": 1}})),
        ];
        assert_eq!(losers(&sessions), Vec::<usize>::new());
    }

    #[test]
    fn pane_ids_compare_by_string_form() {
        let sessions = [
            pane("a", json!({"zellij_pane": 3})),
            pane("b", json!({"conversation_mtime_ns": 5})),
        ];
        assert_eq!(kept(&sessions), ["b"]);
        assert_eq!(
            pane_key(&pane("x", json!({"zellij_pane": 0}))),
            None,
            "0 is falsy in the original"
        );
    }

    #[test]
    fn each_member_gets_a_decision_and_the_loser_a_removal_of_its_own_file() {
        let sessions = [
            pane("a", json!({"conversation_mtime_ns": 999})),
            pane("b", json!({"context_usage": {"current_tokens": 1}})),
            pane("c", json!({"session_id": ""})),
        ];
        let files = [Path::new("/s/a.json"), Path::new("/s/b.json"), Path::new("/s/odd.json")];
        let outcomes = decide(&sessions, &files, 7.0);
        let values: Vec<(usize, &Value)> = outcomes.iter().map(|o| (o.index, &o.decision.value)).collect();
        assert_eq!(values, [(0, &json!("lost")), (1, &json!("kept")), (2, &json!("kept"))]);
        let lost = &outcomes[0];
        assert_eq!(lost.decision.rule, RULE);
        assert_eq!(lost.decision.evidence.get("pane"), Some(&json!("main:3")));
        assert_eq!(lost.decision.evidence.get("winner"), Some(&json!("b")));
        assert_eq!(
            lost.decision.evidence.get("why"),
            Some(&json!("the winner has context_usage"))
        );
        assert_eq!(lost.decision.evidence.get("members"), Some(&json!(["a", "b", ""])));
        let removal = lost.removal.as_ref().expect("the loser's file goes");
        assert_eq!(removal.path, Path::new("/s/a.json"));
        assert_eq!(removal.reason(), LOSER_REASON);
        assert_eq!(removal.decision.field, "removal");
        assert!(outcomes[1].removal.is_none() && outcomes[2].removal.is_none());
        assert_eq!(
            outcomes[2].decision.evidence.get("why"),
            Some(&json!("no session_id: kept, as in the original"))
        );
    }
}
