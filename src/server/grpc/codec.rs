//! The StateService's hand-written gRPC framing.
//!
//! The two routes are dispatched by [`super::StateServer`] rather than by the generated `StateServiceServer`, for one
//! reason: the generated server encodes every response message with prost, so every GetState and every watcher's
//! update copied and re-encoded the whole state (≈ 100 µs of CPU per GetState at 100 sessions, ≈ 0.4 ms per watcher
//! and change at 500 sessions; see docs/performance.md). Here a response without a filter is the snapshot's state
//! encoded once, when it was published ([`Snapshot::encoded_state`], and [`Snapshot::encoded_delta`] for watchers that
//! asked for deltas); filtered responses and heartbeats are encoded per message. GetState, and WatchState for clients
//! that use compression, go through tonic's [`tonic::server::Grpc`] (request decoding, compression, limits,
//! statuses); other WatchState calls are written by `watch_unshared` as frames that share the snapshot's bytes, so no
//! watcher holds a copy of the state. Either way the bytes on the wire are what the generated server would send.

use std::{marker::PhantomData, pin::Pin, sync::Arc, task};

use bytes::{BufMut, Bytes, BytesMut};
use http_body::Frame;
use http_body_util::BodyExt as _;
use prost::{encoding, Message as _};
use tonic::{
    codec::{Codec, EncodeBuf, Encoder},
    Status,
};

use super::WatchStream;
use crate::{proto as pb, wire::Snapshot};

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
                length_delimited(1, snapshot.encoded_state(), buf);
            }
            Outgoing::WatchSnapshot(snapshot) => {
                // WatchStateResponse: `uint64 revision = 1; string instance_id = 2; oneof kind { State snapshot = 3; }`
                // in field order, defaults omitted, as prost does.
                watch_header(snapshot, buf);
                length_delimited(3, snapshot.encoded_state(), buf);
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
                encoding::encode_varint(snapshot.encoded_state().len() as u64, &mut head);
                (head, Some(snapshot.encoded_state().clone()))
            }
            Outgoing::WatchSnapshot(snapshot) => {
                let mut head = frame_header_space();
                watch_header(snapshot, &mut head);
                encoding::encode_key(3, encoding::WireType::LengthDelimited, &mut head);
                encoding::encode_varint(snapshot.encoded_state().len() as u64, &mut head);
                (head, Some(snapshot.encoded_state().clone()))
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
pub(super) struct StateCodec<Req>(PhantomData<fn() -> Req>);

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

/// The largest WatchState request accepted (tonic's default decoding limit).
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// Reads a unary gRPC request body (one uncompressed length-prefixed message) and decodes it.
pub(super) async fn decode_unary<M: prost::Message + Default, B>(body: B) -> Result<M, Status>
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
pub(super) struct WatchBody {
    stream: WatchStream,
    /// The shared second frame of the message whose first frame went out last.
    shared: Option<Bytes>,
    done: bool,
}

impl WatchBody {
    /// Returns the body that writes `stream`'s messages.
    pub(super) fn new(stream: WatchStream) -> Self {
        WatchBody {
            stream,
            shared: None,
            done: false,
        }
    }
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
    use super::super::{heartbeat_message, snapshot_message};
    use super::*;
    use crate::{model::test_util::object, publisher::StateHandle, wire::Filter};

    fn session(id: &str, agent: &str) -> crate::model::SessionJson {
        object(serde_json::json!({"session_id": id, "agent": agent, "status": "active", "custom": {"x": 1}}))
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
        assert_eq!(shared.as_ptr(), snapshot.encoded_state().as_ptr(), "shared, not copied");
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
}
