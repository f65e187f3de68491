//! `amc.v1.StateService`: GetState and WatchState, both reading the publisher's watch channel.

use std::{pin::Pin, sync::Arc, time::Duration};

use futures_util::Stream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::{
    error::Error,
    proto::{self as pb, state_service_server::StateService},
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

impl StateServiceImpl {
    /// Creates the service over `state`; WatchState streams end when `shutdown` fires.
    pub fn new(state: StateHandle, shutdown: CancellationToken, heartbeat: Duration) -> Self {
        StateServiceImpl { state, shutdown, heartbeat }
    }
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::WatchStateResponse, Status>> + Send>>;

fn snapshot_message(snapshot: &Snapshot, filter: &Filter) -> pb::WatchStateResponse {
    pb::WatchStateResponse {
        revision: snapshot.revision,
        instance_id: snapshot.instance_id.to_string(),
        kind: Some(pb::watch_state_response::Kind::Snapshot(snapshot.to_proto(filter))),
    }
}

fn heartbeat_message(snapshot: &Snapshot) -> pb::WatchStateResponse {
    pb::WatchStateResponse {
        revision: snapshot.revision,
        instance_id: snapshot.instance_id.to_string(),
        kind: Some(pb::watch_state_response::Kind::Heartbeat(pb::Heartbeat {
            server_time: Some(wire::system_time(std::time::SystemTime::now())),
        })),
    }
}

#[tonic::async_trait]
impl StateService for StateServiceImpl {
    async fn get_state(&self, request: Request<pb::GetStateRequest>) -> Result<Response<pb::GetStateResponse>, Status> {
        if self.shutdown.is_cancelled() {
            return Err(Error::ShuttingDown.into());
        }
        let filter = Filter::from_proto(request.into_inner().filter)?;
        let snapshot = self.state.current();
        Ok(Response::new(pb::GetStateResponse { state: Some(snapshot.to_proto(&filter)) }))
    }

    type WatchStateStream = WatchStream;

    async fn watch_state(&self, request: Request<pb::WatchStateRequest>) -> Result<Response<WatchStream>, Status> {
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
            // What the client has seen, so a change outside its filter sends nothing.
            let mut last_sent = filter.apply(&first.proto_sessions);
            if resumed {
                yield Ok(heartbeat_message(&first));
            } else {
                yield Ok(snapshot_message(&first, &filter));
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
                        let sessions = filter.apply(&snapshot.proto_sessions);
                        if sessions != last_sent {
                            let message = pb::WatchStateResponse {
                                revision: snapshot.revision,
                                instance_id: snapshot.instance_id.to_string(),
                                kind: Some(pb::watch_state_response::Kind::Snapshot(pb::State {
                                    revision: snapshot.revision,
                                    sessions: sessions.clone(),
                                    snapshot_time: Some(wire::system_time(snapshot.time)),
                                    instance_id: snapshot.instance_id.to_string(),
                                })),
                            };
                            last_sent = sessions;
                            quiet.as_mut().reset(tokio::time::Instant::now() + heartbeat);
                            yield Ok(message);
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
