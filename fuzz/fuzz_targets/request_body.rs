//! Request bodies (any bytes): the JSON body of `POST /api/sessions/{id}/{action}` for every action name, and the
//! protobuf messages of the gRPC and gRPC-Web routes (every request type, through the wire conversions and the
//! filter validation the handlers run).
#![no_main]

use amc::{proto as pb, wire};
use libfuzzer_sys::fuzz_target;
use prost::Message as _;

const ACTIONS: [&str; 8] = [
    "decide",
    "send_text",
    "answer",
    "dismiss",
    "restore",
    "remote_approval",
    "ack",
    "nope",
];

fuzz_target!(|data: &[u8]| {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) {
        for name in ACTIONS {
            let _ = wire::action::Action::from_json(name, &json);
        }
    }
    if let Ok(r) = pb::DecideRequest::decode(data) {
        let _ = wire::action::Action::from_decide(r);
    }
    if let Ok(r) = pb::SendTextRequest::decode(data) {
        let _ = wire::action::Action::from_send_text(r);
    }
    if let Ok(r) = pb::AnswerRequest::decode(data) {
        let _ = wire::action::Action::from_answer(r);
    }
    if let Ok(r) = pb::SetRemoteApprovalRequest::decode(data) {
        let _ = wire::action::Action::from_set_remote_approval(r);
    }
    if let Ok(r) = pb::GetStateRequest::decode(data) {
        let _ = wire::Filter::from_proto(r.filter);
    }
    if let Ok(r) = pb::WatchStateRequest::decode(data) {
        let _ = wire::Filter::from_proto(r.filter);
    }
    let _ = pb::WatchEventsRequest::decode(data);
    let _ = pb::ExplainSessionRequest::decode(data).map(|r| amc::store::is_safe_session_id(&r.session_id));
    let _ = pb::AckRequest::decode(data);
    let _ = pb::DismissRequest::decode(data);
    let _ = pb::RestoreRequest::decode(data);
});
