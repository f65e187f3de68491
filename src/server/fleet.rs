//! The server's side of the fleet: the responder that runs actions a hub sends on this host's subject
//! (`amc.fleet.act.<host>`) through the ordinary action layer, and a hub's `GET /api/hosts`.

use std::{sync::Arc, time::SystemTime};

use axum::{extract::State, routing::get, Json, Router};
use futures_util::StreamExt as _;
use tokio_util::sync::CancellationToken;

use super::{actions::Actions, auth::Caller};
use crate::{
    error::Error,
    fleet::{
        self,
        act::{ActReply, ActRequest},
        hub::HubView,
    },
    wire::{fleet::fleet_host_json, Action},
};

/// What the server needs of the fleet.
#[derive(Debug, Clone)]
pub struct FleetLink {
    /// The NATS connection.
    pub client: async_nats::Client,
    /// This server's host name.
    pub host: String,
    /// On a hub: the hosts and who owns which session.
    pub hub: Option<HubView>,
}

/// Answers action requests on this host's subject until `shutdown`; each runs in its own task. The subscription is
/// renewed by the client across reconnects.
pub fn spawn_responder(link: &FleetLink, actions: Arc<Actions>, shutdown: CancellationToken) {
    let client = link.client.clone();
    let subject = fleet::act_subject(&link.host);
    tokio::spawn(async move {
        let mut subscriber = loop {
            match client.subscribe(subject.clone()).await {
                Ok(subscriber) => break subscriber,
                Err(error) => {
                    tracing::warn!(%error, %subject, "fleet: cannot subscribe to action requests; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
                    }
                }
            }
        };
        tracing::info!(%subject, "fleet: answering action requests");
        loop {
            let message = tokio::select! {
                () = shutdown.cancelled() => return,
                message = subscriber.next() => message,
            };
            let Some(message) = message else { return };
            let Some(reply_to) = message.reply.clone() else {
                continue;
            };
            let (client, actions) = (client.clone(), actions.clone());
            tokio::spawn(async move {
                let result = answer(&actions, &message.payload).await;
                let reply = serde_json::to_vec(&ActReply::from_result(&result)).unwrap_or_default();
                if let Err(error) = client.publish(reply_to, reply.into()).await {
                    tracing::warn!(%error, "fleet: cannot send an action's reply");
                }
            });
        }
    });
}

/// Runs one request from a hub: audited here as the hub's token (`fleet:<hub>/<token>`) from the hub's caller.
async fn answer(actions: &Actions, payload: &[u8]) -> Result<crate::wire::ActionResult, Error> {
    let request: ActRequest =
        serde_json::from_slice(payload).map_err(|e| Error::InvalidArgument(format!("not an action request: {e}")))?;
    let caller = Caller {
        token: Some(format!(
            "fleet:{}/{}",
            request.hub,
            request.token.as_deref().unwrap_or("-")
        )),
        scope: Some(crate::config::Scope::Act),
        remote: request.client.as_deref().and_then(|c| c.parse().ok()),
    };
    let action = match Action::from_json(&request.action, &request.body) {
        Ok(action) => action,
        Err(error) => {
            actions.audit.append(
                &caller
                    .audit_entry(&request.session_id, &request.action, serde_json::Value::Null)
                    .refused(&error),
            );
            return Err(error);
        }
    };
    let done = actions.perform(&caller, &request.session_id, action.clone()).await?;
    Ok(done.result(&request.session_id, &action))
}

/// A hub's `GET /api/hosts`: `{"hosts": [...]}` with each host's freshness as of the last second.
pub fn router(view: HubView) -> Router {
    Router::new().route("/api/hosts", get(api_hosts)).with_state(view)
}

async fn api_hosts(State(view): State<HubView>) -> Json<serde_json::Value> {
    let hosts: Vec<serde_json::Value> = view.hosts().iter().map(fleet_host_json).collect();
    Json(serde_json::json!({
        "hosts": hosts,
        "server_time": chrono::DateTime::<chrono::Utc>::from(SystemTime::now()).to_rfc3339(),
    }))
}
