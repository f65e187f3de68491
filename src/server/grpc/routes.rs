//! The `amc.v1.StateService` routes: what the generated `StateServiceServer` would be, with the hand-written codec
//! for GetState and WatchState (ExplainSession uses prost's).

use std::{convert::Infallible, pin::Pin, sync::Arc, task};

use tonic::{
    codec::{CompressionEncoding, EnabledCompressionEncodings},
    server::{Grpc, NamedService},
    Request, Status,
};

use super::{
    codec::{decode_unary, StateCodec, WatchBody},
    StateServiceImpl,
};
use crate::proto as pb;

const GET_STATE: &str = "/amc.v1.StateService/GetState";
const WATCH_STATE: &str = "/amc.v1.StateService/WatchState";
const EXPLAIN_SESSION: &str = "/amc.v1.StateService/ExplainSession";
const WATCH_EVENTS: &str = "/amc.v1.StateService/WatchEvents";
const ACK: &str = "/amc.v1.StateService/Ack";
const GET_USAGE: &str = "/amc.v1.StateService/GetUsage";

/// The `amc.v1.StateService` routes (what the generated `StateServiceServer` would be, with [`super::OutgoingEncoder`]).
#[derive(Debug, Clone)]
pub struct StateServer {
    service: Arc<StateServiceImpl>,
    accept_compression: EnabledCompressionEncodings,
    send_compression: EnabledCompressionEncodings,
    max_decode: Option<usize>,
}

impl StateServer {
    /// Serves `service`.
    pub fn new(service: StateServiceImpl) -> Self {
        StateServer {
            service: Arc::new(service),
            accept_compression: EnabledCompressionEncodings::default(),
            send_compression: EnabledCompressionEncodings::default(),
            max_decode: None,
        }
    }

    /// Refuses request messages longer than `limit` bytes (tonic's default is 4 MiB).
    #[must_use]
    pub fn max_decoding_message_size(mut self, limit: usize) -> Self {
        self.max_decode = Some(limit);
        self
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
        Grpc::new(StateCodec::default())
            .apply_compression_config(self.accept_compression, self.send_compression)
            .max_decoding_message_size(self.max_decode.unwrap_or(4 << 20))
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
            EXPLAIN_SESSION => {
                // A small message: prost's own codec, no shared encoding.
                let mut grpc = Grpc::new(tonic_prost::ProstCodec::<
                    pb::ExplainSessionResponse,
                    pb::ExplainSessionRequest,
                >::default())
                .apply_compression_config(self.accept_compression, self.send_compression)
                .max_decoding_message_size(self.max_decode.unwrap_or(4 << 20));
                let method = tower::service_fn(move |r| std::future::ready(service.explain_session(r)));
                Box::pin(async move { Ok(grpc.unary(method, request).await) })
            }
            WATCH_EVENTS => {
                let mut grpc =
                    Grpc::new(tonic_prost::ProstCodec::<pb::WatchEventsResponse, pb::WatchEventsRequest>::default())
                        .apply_compression_config(self.accept_compression, self.send_compression)
                        .max_decoding_message_size(self.max_decode.unwrap_or(4 << 20));
                let method = tower::service_fn(move |r| std::future::ready(service.watch_events(r)));
                Box::pin(async move { Ok(grpc.server_streaming(method, request).await) })
            }
            ACK => {
                let mut grpc = Grpc::new(tonic_prost::ProstCodec::<pb::AckResponse, pb::AckRequest>::default())
                    .apply_compression_config(self.accept_compression, self.send_compression)
                    .max_decoding_message_size(self.max_decode.unwrap_or(4 << 20));
                let method = tower::service_fn(move |r| std::future::ready(service.ack(r)));
                Box::pin(async move { Ok(grpc.unary(method, request).await) })
            }
            GET_USAGE => {
                let mut grpc =
                    Grpc::new(tonic_prost::ProstCodec::<pb::GetUsageResponse, pb::GetUsageRequest>::default())
                        .apply_compression_config(self.accept_compression, self.send_compression);
                let method = tower::service_fn(move |r| std::future::ready(service.get_usage(r)));
                Box::pin(async move { Ok(grpc.unary(method, request).await) })
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
    // The peer address travels on (the per-client stream cap needs it).
    let connect_info = request
        .extensions()
        .get::<tonic::transport::server::TcpConnectInfo>()
        .cloned();
    let message = match decode_unary::<pb::WatchStateRequest, B>(request.into_body()).await {
        Ok(message) => message,
        Err(status) => return status.into_http(),
    };
    let mut request = Request::new(message);
    if let Some(info) = connect_info {
        request.extensions_mut().insert(info);
    }
    let stream = match service.watch_state(request) {
        Ok(response) => response.into_inner(),
        Err(status) => return status.into_http(),
    };
    let mut response = http::Response::new(tonic::body::Body::new(WatchBody::new(stream)));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/grpc"),
    );
    response
}
