//! `amc.v1.StateService`: GetState and WatchState, both reading the publisher's watch channel.
//!
//! The two routes are dispatched by [`StateServer`] here rather than by the generated `StateServiceServer`, for one
//! reason: the generated server encodes every response message with prost, so every GetState and every watcher's
//! update copied and re-encoded the whole state (≈ 100 µs of CPU per GetState at 100 sessions, ≈ 0.4 ms per watcher
//! and change at 500 sessions; see docs/performance.md). Here a response without a filter is the snapshot's state
//! encoded once, when it was published ([`Snapshot::encoded_state`]); filtered responses and heartbeats are encoded per
//! message as before. Request decoding, compression, message limits and statuses are still tonic's
//! ([`tonic::server::Grpc`]), and the bytes on the wire are exactly what the generated server sent.

use std::{convert::Infallible, marker::PhantomData, pin::Pin, sync::Arc, task, time::Duration};

use bytes::BufMut;
use futures_util::Stream;
use prost::{encoding, Message as _};
use tokio_util::sync::CancellationToken;
use tonic::{
    codec::{Codec, CompressionEncoding, EnabledCompressionEncodings, EncodeBuf, Encoder},
    server::{Grpc, NamedService},
    Request, Response, Status,
};

use crate::{
    error::Error,
    proto as pb,
    publisher::{Snapshot, StateHandle},
    wire::{self, Filter},
};

/// The StateService implementation.
#[derive(Debug, Clone)]
pub struct StateServiceImpl {
    state: StateHandle,
    shutdown: CancellationToken,
    heartbeat: Duration,
}

/// A StateService response message, either to encode or already encoded in a snapshot.
#[derive(Debug)]
pub enum Outgoing {
    /// `GetStateResponse { state }` with the snapshot's whole (unfiltered) state.
    State(Arc<Snapshot>),
    /// `WatchStateResponse { revision, instance_id, snapshot }` with the snapshot's whole (unfiltered) state.
    WatchSnapshot(Arc<Snapshot>),
    /// Any other GetState response (a filtered one).
    Get(pb::GetStateResponse),
    /// Any other WatchState message (a filtered snapshot, a heartbeat).
    Watch(pb::WatchStateResponse),
}

impl Outgoing {
    /// Writes the message's protobuf encoding, the same bytes prost writes for the equivalent message.
    pub fn encode(&self, buf: &mut impl BufMut) {
        match self {
            Outgoing::State(snapshot) => {
                // GetStateResponse: `State state = 1;`
                length_delimited(1, &snapshot.encoded_state, buf);
            }
            Outgoing::WatchSnapshot(snapshot) => {
                // WatchStateResponse: `uint64 revision = 1; string instance_id = 2; oneof kind { State snapshot = 3; }`
                // in field order, defaults omitted, as prost does.
                if snapshot.revision != 0 {
                    encoding::uint64::encode(1, &snapshot.revision, buf);
                }
                if !snapshot.instance_id.is_empty() {
                    length_delimited(2, snapshot.instance_id.as_bytes(), buf);
                }
                length_delimited(3, &snapshot.encoded_state, buf);
            }
            // `encode_raw` is what `encode` runs after its capacity check; tonic's buffers grow, so nothing can fail.
            Outgoing::Get(message) => message.encode_raw(buf),
            Outgoing::Watch(message) => message.encode_raw(buf),
        }
    }
}

fn length_delimited(tag: u32, bytes: &[u8], buf: &mut impl BufMut) {
    encoding::encode_key(tag, encoding::WireType::LengthDelimited, buf);
    encoding::encode_varint(bytes.len() as u64, buf);
    buf.put_slice(bytes);
}

/// Encodes [`Outgoing`] messages for tonic.
#[derive(Debug, Default, Clone, Copy)]
pub struct OutgoingEncoder;

impl Encoder for OutgoingEncoder {
    type Item = Outgoing;
    type Error = Status;

    fn encode(&mut self, item: Outgoing, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(buf);
        Ok(())
    }
}

/// Requests decoded by prost, responses written by [`OutgoingEncoder`].
struct StateCodec<Req>(PhantomData<fn() -> Req>);

impl<Req> Default for StateCodec<Req> {
    fn default() -> Self {
        StateCodec(PhantomData)
    }
}

impl<Req: prost::Message + Default + Send + 'static> Codec for StateCodec<Req> {
    type Encode = Outgoing;
    type Decode = Req;
    type Encoder = OutgoingEncoder;
    type Decoder = tonic_prost::ProstDecoder<Req>;

    fn encoder(&mut self) -> OutgoingEncoder {
        OutgoingEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        tonic_prost::ProstDecoder::default()
    }
}

impl StateServiceImpl {
    /// Creates the service over `state`; WatchState streams end when `shutdown` fires.
    pub fn new(state: StateHandle, shutdown: CancellationToken, heartbeat: Duration) -> Self {
        StateServiceImpl {
            state,
            shutdown,
            heartbeat,
        }
    }

    /// GetState: the latest published state, filtered.
    pub fn get_state(&self, request: Request<pb::GetStateRequest>) -> Result<Response<Outgoing>, Status> {
        if self.shutdown.is_cancelled() {
            return Err(Error::ShuttingDown.into());
        }
        let filter = Filter::from_proto(request.into_inner().filter)?;
        let snapshot = self.state.current();
        Ok(Response::new(if filter.is_empty() {
            Outgoing::State(snapshot)
        } else {
            Outgoing::Get(pb::GetStateResponse {
                state: Some(snapshot.to_proto(&filter)),
            })
        }))
    }

    /// WatchState: a first snapshot (or a heartbeat when the client is current), then one snapshot per change that
    /// its filter lets through, and a heartbeat after each quiet interval.
    pub fn watch_state(&self, request: Request<pb::WatchStateRequest>) -> Result<Response<WatchStream>, Status> {
        if self.shutdown.is_cancelled() {
            return Err(Error::ShuttingDown.into());
        }
        let request = request.into_inner();
        let filter = Filter::from_proto(request.filter)?;
        let mut rx = self.state.subscribe();
        let shutdown = self.shutdown.clone();
        let heartbeat = self.heartbeat;
        let stream = async_stream::stream! {
            let first: Arc<Snapshot> = rx.borrow_and_update().clone();
            let resumed = request.since_revision != 0
                && request.since_revision == first.revision
                && request.instance_id == *first.instance_id;
            // What the client has seen (or an equal view of it), so a change outside its filter sends nothing. The
            // snapshot is shared, not copied: a copy of the sessions per watcher cost ~0.8 MB each at 500 sessions.
            let mut last_sent: Arc<Snapshot> = first.clone();
            if resumed {
                yield Ok(heartbeat_message(&first));
            } else {
                yield Ok(snapshot_message(first, &filter));
            }
            let mut quiet = Box::pin(tokio::time::sleep(heartbeat));
            loop {
                tokio::select! {
                    biased;
                    () = shutdown.cancelled() => {
                        yield Err(Status::unavailable("server shutting down; reconnect with since_revision"));
                        break;
                    }
                    changed = rx.changed() => {
                        if changed.is_err() {
                            yield Err(Status::unavailable("state publisher stopped"));
                            break;
                        }
                        let snapshot = rx.borrow_and_update().clone();
                        let send = filtered_changed(&filter, &last_sent, &snapshot);
                        // Equal views are interchangeable: keep the newest, so no old snapshot stays alive.
                        last_sent = snapshot.clone();
                        if send {
                            quiet.as_mut().reset(tokio::time::Instant::now() + heartbeat);
                            yield Ok(snapshot_message(snapshot, &filter));
                        }
                    }
                    () = &mut quiet => {
                        let snapshot = rx.borrow().clone();
                        quiet.as_mut().reset(tokio::time::Instant::now() + heartbeat);
                        yield Ok(heartbeat_message(&snapshot));
                    }
                }
            }
        };
        Ok(Response::new(Box::pin(stream)))
    }
}

/// The message stream of one WatchState call.
pub type WatchStream = Pin<Box<dyn Stream<Item = Result<Outgoing, Status>> + Send>>;

fn snapshot_message(snapshot: Arc<Snapshot>, filter: &Filter) -> Outgoing {
    if filter.is_empty() {
        return Outgoing::WatchSnapshot(snapshot);
    }
    Outgoing::Watch(pb::WatchStateResponse {
        revision: snapshot.revision,
        instance_id: snapshot.instance_id.to_string(),
        kind: Some(pb::watch_state_response::Kind::Snapshot(snapshot.to_proto(filter))),
    })
}

/// Returns whether `filter`'s view of the sessions differs between two snapshots. Without a filter every published
/// snapshot is a change (the publisher only publishes changes), so nothing is compared.
fn filtered_changed(filter: &Filter, before: &Snapshot, after: &Snapshot) -> bool {
    if filter.is_empty() {
        return before.revision != after.revision;
    }
    let before = before.proto_sessions.iter().filter(|s| filter.matches(s));
    before.ne(after.proto_sessions.iter().filter(|s| filter.matches(s)))
}

fn heartbeat_message(snapshot: &Snapshot) -> Outgoing {
    Outgoing::Watch(pb::WatchStateResponse {
        revision: snapshot.revision,
        instance_id: snapshot.instance_id.to_string(),
        kind: Some(pb::watch_state_response::Kind::Heartbeat(pb::Heartbeat {
            server_time: Some(wire::system_time(std::time::SystemTime::now())),
        })),
    })
}

const GET_STATE: &str = "/amc.v1.StateService/GetState";
const WATCH_STATE: &str = "/amc.v1.StateService/WatchState";

/// The `amc.v1.StateService` routes (what the generated `StateServiceServer` would be, with [`OutgoingEncoder`]).
#[derive(Debug, Clone)]
pub struct StateServer {
    service: Arc<StateServiceImpl>,
    accept_compression: EnabledCompressionEncodings,
    send_compression: EnabledCompressionEncodings,
}

impl StateServer {
    /// Serves `service`.
    pub fn new(service: StateServiceImpl) -> Self {
        StateServer {
            service: Arc::new(service),
            accept_compression: EnabledCompressionEncodings::default(),
            send_compression: EnabledCompressionEncodings::default(),
        }
    }

    /// Accepts requests compressed with `encoding`.
    #[must_use]
    pub fn accept_compressed(mut self, encoding: CompressionEncoding) -> Self {
        self.accept_compression.enable(encoding);
        self
    }

    /// Compresses responses with `encoding` when the client accepts it.
    #[must_use]
    pub fn send_compressed(mut self, encoding: CompressionEncoding) -> Self {
        self.send_compression.enable(encoding);
        self
    }

    fn grpc<Req: prost::Message + Default + Send + 'static>(&self) -> Grpc<StateCodec<Req>> {
        Grpc::new(StateCodec::default()).apply_compression_config(self.accept_compression, self.send_compression)
    }
}

impl NamedService for StateServer {
    const NAME: &'static str = pb::state_service_server::SERVICE_NAME;
}

impl<B> tower::Service<http::Request<B>> for StateServer
where
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<tonic::codegen::StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut task::Context<'_>) -> task::Poll<Result<(), Infallible>> {
        task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let service = self.service.clone();
        match request.uri().path() {
            GET_STATE => {
                let mut grpc = self.grpc::<pb::GetStateRequest>();
                let method = tower::service_fn(move |r| std::future::ready(service.get_state(r)));
                Box::pin(async move { Ok(grpc.unary(method, request).await) })
            }
            WATCH_STATE => {
                let mut grpc = self.grpc::<pb::WatchStateRequest>();
                let method = tower::service_fn(move |r| std::future::ready(service.watch_state(r)));
                Box::pin(async move { Ok(grpc.server_streaming(method, request).await) })
            }
            _ => Box::pin(async move { Ok(Status::unimplemented("unknown method").into_http()) }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publisher::StateHandle;

    fn session(id: &str, agent: &str) -> crate::collect::SessionJson {
        match serde_json::json!({"session_id": id, "agent": agent, "status": "active", "custom": {"x": 1}}) {
            serde_json::Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    fn encoded(message: &Outgoing) -> Vec<u8> {
        let mut buf = Vec::new();
        message.encode(&mut buf);
        buf
    }

    #[test]
    fn pre_encoded_messages_are_the_bytes_prost_writes() {
        let (handle, _publisher) = StateHandle::fixed(vec![session("a", "claude"), session("b", "codex")]);
        let snapshot = handle.current();
        let all = Filter::default();

        let expected = pb::GetStateResponse {
            state: Some(snapshot.to_proto(&all)),
        }
        .encode_to_vec();
        assert_eq!(encoded(&Outgoing::State(snapshot.clone())), expected);

        let expected = pb::WatchStateResponse {
            revision: snapshot.revision,
            instance_id: snapshot.instance_id.to_string(),
            kind: Some(pb::watch_state_response::Kind::Snapshot(snapshot.to_proto(&all))),
        }
        .encode_to_vec();
        assert_eq!(encoded(&snapshot_message(snapshot.clone(), &all)), expected);
        let decoded = pb::WatchStateResponse::decode(expected.as_slice()).expect("decodes");
        assert!(matches!(decoded.kind, Some(pb::watch_state_response::Kind::Snapshot(ref s)) if s.sessions.len() == 2));
    }

    #[test]
    fn an_empty_state_still_carries_its_snapshot_field() {
        let (handle, _publisher) = StateHandle::fixed(Vec::new());
        let snapshot = handle.current();
        let expected = pb::WatchStateResponse {
            revision: snapshot.revision,
            instance_id: snapshot.instance_id.to_string(),
            kind: Some(pb::watch_state_response::Kind::Snapshot(
                snapshot.to_proto(&Filter::default()),
            )),
        }
        .encode_to_vec();
        assert_eq!(encoded(&Outgoing::WatchSnapshot(snapshot)), expected);
    }

    #[test]
    fn a_filtered_view_changes_only_when_its_sessions_do() {
        let (handle, mut publisher) = StateHandle::fixed(vec![session("a", "claude"), session("b", "codex")]);
        let before = handle.current();
        let mut changed_b = session("b", "codex");
        changed_b.insert("status".into(), "done".into());
        publisher.publish(vec![session("a", "claude"), changed_b]);
        let after = handle.current();
        let only_a = Filter::from_proto(Some(pb::SessionFilter {
            session_ids: vec!["a".into()],
            ..Default::default()
        }))
        .expect("valid filter");
        let only_b = Filter::from_proto(Some(pb::SessionFilter {
            session_ids: vec!["b".into()],
            ..Default::default()
        }))
        .expect("valid filter");
        assert!(!filtered_changed(&only_a, &before, &after));
        assert!(filtered_changed(&only_b, &before, &after));
        assert!(filtered_changed(&Filter::default(), &before, &after));
    }
}
