//! Properties, over random inputs (proptest): WatchState and `/api/stream?deltas=1` deltas applied in order give the
//! final snapshot (also a fleet hub's states, which share unchanged sessions, with the events of whole states); revisions strictly increase and never repeat across restarts (the clock going back included);
//! same-pane dedupe never removes every session of a pane and picks the documented winner; the hook's state machine
//! never loses a key it does not own.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{path::PathBuf, sync::Arc};

use amc::{
    config::Paths,
    hook::{handle_payload, HookEnv},
    model::SessionJson,
    proto as pb,
    publisher::revision::Revisions,
    rules::dedupe,
    wire::Snapshot,
};
use proptest::prelude::*;
use serde_json::{json, Value};

const STATUSES: [&str; 5] = ["starting", "active", "waiting", "done", "ended"];

/// One session of a generated state: an id from a small pool (so sessions come, change and go), a status and a
/// counter that changes its content.
fn session(id: u8, status: usize, n: u8) -> SessionJson {
    let value = json!({
        "session_id": format!("s{id:02}"),
        "status": STATUSES[status % STATUSES.len()],
        "project_dir": format!("/p/{n}"),
        "last_event_at": format!("2026-01-01T00:00:{:02}Z", n % 60),
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

/// A state: unique ids, sorted by session_id as every published state is.
fn state() -> impl Strategy<Value = Vec<SessionJson>> {
    proptest::collection::btree_map(0u8..12, (0usize..5, 0u8..4), 0..8)
        .prop_map(|m| m.into_iter().map(|(id, (status, n))| session(id, status, n)).collect())
}

fn apply_proto(client: &mut Vec<pb::Session>, delta: &pb::StateDelta) {
    client.retain(|s| !delta.removed_session_ids.contains(&s.session_id));
    for upserted in &delta.upserted_sessions {
        client.retain(|s| s.session_id != upserted.session_id);
        client.push(upserted.clone());
    }
    client.sort_by(|a, b| a.session_id.cmp(&b.session_id));
}

fn apply_json(client: &mut Vec<Value>, delta: &Value) {
    let id = |s: &Value| s["session_id"].as_str().unwrap_or_default().to_owned();
    let removed: Vec<&str> = delta["removed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    client.retain(|s| !removed.contains(&id(s).as_str()));
    for upserted in delta["upserted"].as_array().unwrap() {
        client.retain(|s| id(s) != id(upserted));
        client.push(upserted.clone());
    }
    client.sort_by_key(id);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn deltas_applied_in_order_give_the_final_snapshot(history in proptest::collection::vec(state(), 1..12)) {
        let mut states = history.into_iter();
        let first = Snapshot::new(100, Arc::from("instance"), states.next().unwrap());
        let mut proto_client: Vec<pb::Session> =
            <pb::State as prost::Message>::decode(first.encoded_state().clone()).unwrap().sessions;
        let mut json_client: Vec<Value> = first.sessions.iter().map(|s| Value::Object((**s).clone())).collect();
        let mut previous = first;
        for (i, sessions) in states.enumerate() {
            let next = Snapshot::next(&previous, 101 + i as u64, sessions);
            match &next.encoded_delta {
                Some(bytes) => {
                    let delta = <pb::StateDelta as prost::Message>::decode(bytes.clone()).unwrap();
                    prop_assert_eq!(delta.base_revision, previous.revision);
                    apply_proto(&mut proto_client, &delta);
                }
                None => {
                    proto_client = <pb::State as prost::Message>::decode(next.encoded_state().clone()).unwrap().sessions;
                }
            }
            match &next.api_delta {
                Some(bytes) => {
                    let delta: Value = serde_json::from_slice(bytes).unwrap();
                    prop_assert_eq!(delta["base_revision"].as_u64(), Some(previous.revision));
                    prop_assert_eq!(delta["revision"].as_u64(), Some(next.revision));
                    apply_json(&mut json_client, &delta);
                }
                None => json_client = next.sessions.iter().map(|s| Value::Object((**s).clone())).collect(),
            }
            let protos: Vec<pb::Session> = next.proto_sessions.iter().map(|s| (**s).clone()).collect();
            prop_assert_eq!(&proto_client, &protos);
            let expected: Vec<Value> = next.sessions.iter().map(|s| Value::Object((**s).clone())).collect();
            prop_assert_eq!(&json_client, &expected);
            previous = next;
        }
    }

    #[test]
    fn a_hubs_shared_states_give_the_deltas_and_events_of_whole_states(history in proptest::collection::vec(state(), 1..12)) {
        let mut states = history.into_iter();
        let mut previous_state = states.next().unwrap();
        let (handle, mut publisher) = amc::publisher::StateHandle::fixed(Vec::new());
        publisher.publish(previous_state.clone());
        let mut proto_client: Vec<pb::Session> =
            <pb::State as prost::Message>::decode(handle.current().encoded_state().clone()).unwrap().sessions;
        for sessions in states {
            let previous = handle.current();
            // As the hub publishes: an unchanged session is the previous state's very value.
            let (shared, protos): (Vec<Arc<SessionJson>>, Vec<Arc<pb::Session>>) = sessions
                .iter()
                .map(|s| {
                    let old = previous.sessions.iter().position(|o| **o == *s);
                    match old {
                        Some(i) => (previous.sessions[i].clone(), previous.proto_sessions[i].clone()),
                        None => (Arc::new(s.clone()), Arc::new(amc::wire::session_to_proto(s))),
                    }
                })
                .unzip();
            let newest = handle.events().newest_id();
            let revision = publisher.publish_shared(shared, protos, Vec::new());
            let next = handle.current();
            match &next.encoded_delta {
                Some(bytes) => apply_proto(&mut proto_client, &<pb::StateDelta as prost::Message>::decode(bytes.clone()).unwrap()),
                None => proto_client = <pb::State as prost::Message>::decode(next.encoded_state().clone()).unwrap().sessions,
            }
            let expected: Vec<pb::Session> = sessions.iter().map(amc::wire::session_to_proto).collect();
            prop_assert_eq!(&proto_client, &expected);
            let mut reference = Vec::new();
            amc::event::derive(&previous_state, &sessions, 0, revision, &mut reference);
            let kinds = |events: Vec<amc::event::Event>| -> Vec<(amc::event::EventKind, String)> {
                events.into_iter().map(|e| (e.kind, e.session_id)).collect()
            };
            let got: Vec<amc::event::Event> = handle.events().after(newest, 1000).iter().map(|e| (**e).clone()).collect();
            prop_assert_eq!(kinds(got), kinds(reference));
            previous_state = sessions;
        }
    }

    #[test]
    fn revisions_strictly_increase_across_restarts_and_clock_jumps(
        runs in proptest::collection::vec((0u64..20_000, 0usize..40), 1..12),
        lease in 1u64..16,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cache/revision");
        let mut seen: Vec<u64> = Vec::new();
        for (clock_ms, bumps) in runs {
            let mut revisions = Revisions::with_lease(Some(file.clone()), clock_ms, lease);
            seen.push(revisions.current());
            for _ in 0..bumps {
                seen.push(revisions.bump());
            }
        }
        for pair in seen.windows(2) {
            prop_assert!(pair[0] < pair[1], "{:?}", seen);
        }
    }

    #[test]
    fn dedupe_keeps_the_documented_winner_of_every_pane(
        members in proptest::collection::vec((0u8..3, any::<bool>(), proptest::option::of(0i64..4)), 1..10),
    ) {
        // Sorted by session_id (the index pads to two digits); every session on one of three panes of one Zellij
        // session; context_usage present or not, conversation_mtime_ns an integer or absent.
        let sessions: Vec<SessionJson> = members
            .iter()
            .enumerate()
            .map(|(i, (pane, context, mtime))| {
                let mut s = session(i as u8, 1, 0);
                s.insert("zellij_session".into(), json!("z"));
                s.insert("zellij_pane".into(), json!(pane.to_string()));
                if *context {
                    s.insert("context_usage".into(), json!({"used": 10, "window": 100}));
                }
                if let Some(m) = mtime {
                    s.insert("conversation_mtime_ns".into(), json!(m));
                }
                s
            })
            .collect();
        let files: Vec<PathBuf> = (0..sessions.len()).map(|i| PathBuf::from(format!("/s/{i}.json"))).collect();
        let file_refs: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
        let outcomes = dedupe::decide(&sessions, &file_refs, 0.0);
        for pane in 0u8..3 {
            let group: Vec<usize> = (0..members.len()).filter(|&i| members[i].0 == pane).collect();
            if group.len() < 2 {
                prop_assert!(outcomes.iter().all(|o| !group.contains(&o.index)), "a lone session has no outcome");
                continue;
            }
            // The documented winner: context_usage first, then the newest transcript, then the first by id.
            let rank = |i: usize| (members[i].1, members[i].2.unwrap_or(0));
            let winner = group
                .iter()
                .copied()
                .fold(group[0], |best, i| if rank(i) > rank(best) { i } else { best });
            let of_group: Vec<_> = outcomes.iter().filter(|o| group.contains(&o.index)).collect();
            prop_assert_eq!(of_group.len(), group.len());
            let kept: Vec<usize> = of_group.iter().filter(|o| o.removal.is_none()).map(|o| o.index).collect();
            prop_assert!(!kept.is_empty(), "every session of pane {} removed", pane);
            prop_assert_eq!(kept, vec![winner]);
            for o in of_group {
                let expected = if o.index == winner { "kept" } else { "lost" };
                prop_assert_eq!(o.decision.value.as_str(), Some(expected));
            }
        }
    }
}

const EVENTS: [&str; 9] = [
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "Notification",
    "Stop",
    "SubagentStop",
    "PreCompact",
    "SessionEnd",
];

/// A foreign key's value: any small JSON.
fn foreign_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-z ]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,4}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_hook_never_loses_a_key_it_does_not_own(
        foreign in proptest::collection::btree_map("x_[a-z]{1,8}", foreign_value(), 1..5),
        events in proptest::collection::vec((0usize..EVENTS.len(), "[a-z ]{0,10}"), 1..14),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let paths = Paths::from_lookup(|k| match k {
            "HOME" => Some(root.to_string_lossy().into_owned()),
            "AMC_DATA_DIR" => Some(root.join("data").to_string_lossy().into_owned()),
            _ => None,
        });
        std::fs::create_dir_all(paths.sessions_dir()).unwrap();
        let file = paths.sessions_dir().join("prop.json");
        let mut initial = serde_json::Map::new();
        initial.insert("session_id".into(), json!("prop"));
        initial.insert("status".into(), json!("active"));
        for (k, v) in &foreign {
            initial.insert(k.clone(), v.clone());
        }
        std::fs::write(&file, serde_json::to_vec(&Value::Object(initial)).unwrap()).unwrap();
        let env = HookEnv { zellij_session: Some("z".into()), zellij_pane: Some("1".into()), ..HookEnv::default() };
        let keeps_foreign = |text: &[u8]| -> bool {
            let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(text) else { return false };
            foreign.iter().all(|(k, v)| map.get(k) == Some(v))
        };
        for (event, text) in events {
            let event = EVENTS[event];
            let payload = json!({
                "session_id": "prop",
                "hook_event_name": event,
                "cwd": "/work/p",
                "prompt": text,
                "message": text,
                "tool_name": "Bash",
                "tool_input": {"command": text},
                "last_assistant_message": text,
            });
            handle_payload(&paths, payload.to_string().as_bytes(), &env).unwrap();
            match std::fs::read(&file) {
                Ok(bytes) => prop_assert!(keeps_foreign(&bytes), "{} lost a foreign key: {}", event, String::from_utf8_lossy(&bytes)),
                Err(_) => {
                    // SessionEnd moved the file to the trash: it goes there whole.
                    let trashed = amc::store::trash_entries(&paths).unwrap();
                    prop_assert_eq!(trashed.len(), 1);
                    let bytes = std::fs::read(&trashed[0].path).unwrap();
                    prop_assert!(keeps_foreign(&bytes), "the trashed file lost a foreign key");
                    break;
                }
            }
        }
    }
}
