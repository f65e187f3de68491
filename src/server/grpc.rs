//! `amc.v1.StateService`: GetState and WatchState, both reading the publisher's watch channel.
//!
//! The two routes are dispatched by [`StateServer`] here rather than by the generated `StateServiceServer`, for one
//! reason: the generated server encodes every response message with prost, so every GetState and every watcher's
//! update copied and re-encoded the whole state (≈ 100 µs of CPU per GetState at 100 sessions, ≈ 0.4 ms per watcher
//! and change at 500 sessions; see docs/performance.md). Here a response without a filter is the snapshot's state
//! encoded once, when it was published ([`Snapshot::encoded_state`], and [`Snapshot::encoded_delta`] for watchers that
//! asked for deltas); filtered responses and heartbeats are encoded per message. GetState, and WatchState for clients
//! that use compression, go through tonic's [`tonic::server::Grpc`] (request decoding, compression, limits,
//! statuses); other WatchState calls are written by `watch_unshared` as frames that share the snapshot's bytes, so no
//! watcher holds a copy of the state. Either way the bytes on the wire are what the generated server would send.

use std::{convert::Infallible, marker::PhantomData, pin::Pin, sync::Arc, task, time::Duration};

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::Stream;
use http_body::Frame;
use http_body_util::BodyExt as _;
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
    /// `WatchStateResponse { revision, instance_id, delta }` with the snapshot's shared (unfiltered) delta from the
    /// previous published snapshot; only built when [`Snapshot::encoded_delta`] is set.
    WatchDelta(Arc<Snapshot>),
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
                watch_header(snapshot, buf);
                length_delimited(3, &snapshot.encoded_state, buf);
            }
            Outgoing::WatchDelta(snapshot) => {
                // `StateDelta delta = 5;` in the same oneof.
                watch_header(snapshot, buf);
                length_delimited(5, snapshot.encoded_delta.as_deref().unwrap_or_default(), buf);
            }
            // `encode_raw` is what `encode` runs after its capacity check; tonic's buffers grow, so nothing can fail.
            Outgoing::Get(message) => message.encode_raw(buf),
            Outgoing::Watch(message) => message.encode_raw(buf),
        }
    }
}

impl Outgoing {
    /// Returns the message as a gRPC length-prefixed frame in two pieces: the 5-byte frame header with every byte of
    /// the message before the snapshot's shared encoding, and that shared encoding (a reference count, not a copy).
    /// Messages without a shared part come whole in the first piece.
    fn frames(&self) -> (Bytes, Option<Bytes>) {
        let (mut head, shared) = match self {
            Outgoing::State(snapshot) => {
                let mut head = frame_header_space();
                encoding::encode_key(1, encoding::WireType::LengthDelimited, &mut head);
                encoding::encode_varint(snapshot.encoded_state.len() as u64, &mut head);
                (head, Some(snapshot.encoded_state.clone()))
            }
            Outgoing::WatchSnapshot(snapshot) => {
                let mut head = frame_header_space();
                watch_header(snapshot, &mut head);
                encoding::encode_key(3, encoding::WireType::LengthDelimited, &mut head);
                encoding::encode_varint(snapshot.encoded_state.len() as u64, &mut head);
                (head, Some(snapshot.encoded_state.clone()))
            }
            Outgoing::WatchDelta(snapshot) => {
                let delta = snapshot.encoded_delta.clone().unwrap_or_default();
                let mut head = frame_header_space();
                watch_header(snapshot, &mut head);
                encoding::encode_key(5, encoding::WireType::LengthDelimited, &mut head);
                encoding::encode_varint(delta.len() as u64, &mut head);
                (head, Some(delta))
            }
            Outgoing::Get(_) | Outgoing::Watch(_) => {
                let mut head = frame_header_space();
                self.encode(&mut head);
                (head, None)
            }
        };
        let len = head.len() - FRAME_HEADER_BYTES + shared.as_ref().map_or(0, Bytes::len);
        // A message over 4 GiB cannot be framed; states are far smaller (and tonic caps decoding at 4 MiB anyway).
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        head[1..FRAME_HEADER_BYTES].copy_from_slice(&len.to_be_bytes());
        (head.freeze(), shared)
    }
}

/// The gRPC frame header: a compression flag byte and the message length (big-endian u32).
const FRAME_HEADER_BYTES: usize = 5;

fn frame_header_space() -> BytesMut {
    let mut head = BytesMut::with_capacity(64);
    head.put_bytes(0, FRAME_HEADER_BYTES);
    head
}

/// Writes `WatchStateResponse`'s `revision` (1) and `instance_id` (2) of `snapshot`, defaults omitted as prost does.
fn watch_header(snapshot: &Snapshot, buf: &mut impl BufMut) {
    if snapshot.revision != 0 {
        encoding::uint64::encode(1, &snapshot.revision, buf);
    }
    if !snapshot.instance_id.is_empty() {
        length_delimited(2, snapshot.instance_id.as_bytes(), buf);
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
        let deltas = request.deltas;
        let stream = async_stream::stream! {
            let first: Arc<Snapshot> = rx.borrow_and_update().clone();
            let resumed = request.since_revision != 0
                && request.since_revision == first.revision
                && request.instance_id == *first.instance_id;
            // What the client has seen (or an equal view of it), so a change outside its filter sends nothing. The
            // snapshot is shared, not copied: a copy of the sessions per watcher cost ~0.8 MB each at 500 sessions.
            let mut last_sent: Arc<Snapshot> = first.clone();
            // The revision the client's state is as of: that of the stream's last message (or the one it resumed at).
            let mut state_revision = first.revision;
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
                        let message = if !filtered_changed(&filter, &last_sent, &snapshot) {
                            None
                        } else if deltas {
                            Some(delta_message(&last_sent, state_revision, snapshot.clone(), &filter))
                        } else {
                            Some(snapshot_message(snapshot.clone(), &filter))
                        };
                        // Equal views are interchangeable: keep the newest, so no old snapshot stays alive.
                        last_sent = snapshot;
                        if let Some(message) = message {
                            state_revision = last_sent.revision;
                            quiet.as_mut().reset(tokio::time::Instant::now() + heartbeat);
                            yield Ok(message);
                        }
                    }
                    () = &mut quiet => {
                        // The newest state this watcher has compared (a newer one, if any, is handled next): nothing
                        // the client asked for changed up to its revision, so the client's state is as of it.
                        state_revision = last_sent.revision;
                        quiet.as_mut().reset(tokio::time::Instant::now() + heartbeat);
                        yield Ok(heartbeat_message(&last_sent));
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

/// The change from `before` (a snapshot whose filtered view the client holds, as of `state_revision`) to `after` as
/// a delta. Unfiltered and directly following the client's state: the publisher's shared delta, or the snapshot when
/// the publisher found no delta worth sending (decided once per change, not again by every watcher). Otherwise (a
/// filter, or a watcher that skipped revisions) a delta computed for this watcher, or a snapshot when none fits.
fn delta_message(before: &Snapshot, state_revision: u64, after: Arc<Snapshot>, filter: &Filter) -> Outgoing {
    let follows = state_revision == before.revision && before.revision + 1 == after.revision;
    if filter.is_empty() && follows {
        return if after.encoded_delta.is_some() {
            Outgoing::WatchDelta(after)
        } else {
            snapshot_message(after, filter)
        };
    }
    match crate::publisher::state_delta(before, &after, filter) {
        Some(mut delta) => {
            delta.base_revision = state_revision;
            Outgoing::Watch(pb::WatchStateResponse {
                revision: after.revision,
                instance_id: after.instance_id.to_string(),
                kind: Some(pb::watch_state_response::Kind::Delta(delta)),
            })
        }
        None => snapshot_message(after, filter),
    }
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
    B::Data: Send,
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
            WATCH_STATE if !wants_compression(&request) => {
                Box::pin(async move { Ok(watch_unshared(service, request).await) })
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

/// Whether the client compressed its request or accepts compressed responses: those WatchState calls go through
/// tonic's own streaming (which compresses); all others are written by [`watch_unshared`].
fn wants_compression<B>(request: &http::Request<B>) -> bool {
    let names = |name: &str| {
        request
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|e| !matches!(e.trim(), "" | "identity"))
    };
    names("grpc-encoding") || names("grpc-accept-encoding")
}

/// The largest WatchState request accepted (tonic's default decoding limit).
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// Serves one WatchState call without tonic's response encoder, so that no watcher holds a copy of the state.
///
/// tonic encodes every streamed message into a per-stream buffer, and that buffer keeps its largest size for the
/// life of the stream: each watcher held a copy of the whole state (≈ 300 KiB per watcher at 500 sessions, so 300 MB
/// for a thousand watchers). Here each message goes out as two DATA frames: a few bytes of header and fields, then
/// the snapshot's encoding shared by every watcher (see [`Outgoing::frames`]). The request is decoded by prost, the
/// statuses are tonic's, and the bytes on the wire are the same as tonic's. (gRPC-Web works unchanged: the tonic-web
/// layer outside turns the trailers into its trailer frame.)
async fn watch_unshared<B>(
    service: Arc<StateServiceImpl>,
    request: http::Request<B>,
) -> http::Response<tonic::body::Body>
where
    B: tonic::codegen::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<tonic::codegen::StdError> + Send + 'static,
{
    let message = match decode_unary::<pb::WatchStateRequest, B>(request.into_body()).await {
        Ok(message) => message,
        Err(status) => return status.into_http(),
    };
    let stream = match service.watch_state(Request::new(message)) {
        Ok(response) => response.into_inner(),
        Err(status) => return status.into_http(),
    };
    let mut response = http::Response::new(tonic::body::Body::new(WatchBody {
        stream,
        shared: None,
        done: false,
    }));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/grpc"),
    );
    response
}

/// Reads a unary gRPC request body (one uncompressed length-prefixed message) and decodes it.
async fn decode_unary<M: prost::Message + Default, B>(body: B) -> Result<M, Status>
where
    B: tonic::codegen::Body,
    B::Error: Into<tonic::codegen::StdError>,
{
    let limited = http_body_util::Limited::new(body, MAX_REQUEST_BYTES + FRAME_HEADER_BYTES);
    let bytes = limited
        .collect()
        .await
        .map_err(|error| Status::invalid_argument(format!("cannot read the request: {error}")))?
        .to_bytes();
    let Some(header) = bytes.get(..FRAME_HEADER_BYTES) else {
        return Err(Status::internal("Missing request message."));
    };
    if header[0] != 0 {
        return Err(Status::unimplemented(
            "compressed request without a grpc-encoding header",
        ));
    }
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    let Some(payload) = bytes.get(FRAME_HEADER_BYTES..FRAME_HEADER_BYTES + len) else {
        return Err(Status::internal(
            "the request message is shorter than its frame header says",
        ));
    };
    M::decode(payload).map_err(|error| Status::internal(format!("cannot decode the request: {error}")))
}

/// The response body of [`watch_unshared`]: each message as its frames, then the trailers with the status.
struct WatchBody {
    stream: WatchStream,
    /// The shared second frame of the message whose first frame went out last.
    shared: Option<Bytes>,
    done: bool,
}

impl http_body::Body for WatchBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut task::Context<'_>,
    ) -> task::Poll<Option<Result<Frame<Bytes>, Status>>> {
        if let Some(shared) = self.shared.take() {
            return task::Poll::Ready(Some(Ok(Frame::data(shared))));
        }
        if self.done {
            return task::Poll::Ready(None);
        }
        let status = match futures_util::ready!(self.stream.as_mut().poll_next(cx)) {
            Some(Ok(message)) => {
                let (head, shared) = message.frames();
                self.shared = shared;
                return task::Poll::Ready(Some(Ok(Frame::data(head))));
            }
            Some(Err(status)) => status,
            None => Status::new(tonic::Code::Ok, ""),
        };
        self.done = true;
        let mut trailers = http::HeaderMap::new();
        if let Err(error) = status.add_header(&mut trailers) {
            // Only a message that cannot be a header value fails; the code alone still goes out.
            tracing::debug!(%error, "WatchState status message not sendable as a trailer");
            trailers.insert("grpc-status", http::HeaderValue::from(status.code() as i32));
        }
        task::Poll::Ready(Some(Ok(Frame::trailers(trailers))))
    }

    fn is_end_stream(&self) -> bool {
        self.done && self.shared.is_none()
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

    /// Returns a message's two frames joined, as the client receives them.
    fn framed(message: &Outgoing) -> Vec<u8> {
        let (head, shared) = message.frames();
        let mut out = head.to_vec();
        out.extend_from_slice(shared.as_deref().unwrap_or_default());
        out
    }

    #[test]
    fn frames_are_the_grpc_frame_of_the_prost_encoding_and_share_the_state() {
        let (handle, _publisher) = StateHandle::fixed(vec![session("a", "claude"), session("b", "codex")]);
        let snapshot = handle.current();
        let heartbeat = heartbeat_message(&snapshot);
        for message in [
            Outgoing::State(snapshot.clone()),
            Outgoing::WatchSnapshot(snapshot.clone()),
            snapshot_message(snapshot.clone(), &Filter::default()),
            heartbeat,
        ] {
            let body = encoded(&message);
            let mut expected = vec![0u8];
            expected.extend_from_slice(&(body.len() as u32).to_be_bytes());
            expected.extend_from_slice(&body);
            assert_eq!(framed(&message), expected, "{message:?}");
        }
        let (_, shared) = Outgoing::WatchSnapshot(snapshot.clone()).frames();
        let shared = shared.expect("a snapshot shares the state's encoding");
        assert_eq!(shared.as_ptr(), snapshot.encoded_state.as_ptr(), "shared, not copied");
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
