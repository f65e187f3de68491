//! `amc.v1.ActionService`: the gRPC (and gRPC-Web) face of [`super::actions`]. The auth middleware has checked the
//! `act` scope, the `Host` and the `Origin`, and left the [`Caller`] in the request's extensions.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{actions::Actions, auth::Caller};
use crate::{
    proto as pb,
    wire::{Action, ActionResult},
};

/// The service over the server's one [`Actions`].
#[derive(Debug, Clone)]
pub struct ActionServiceImpl {
    actions: Arc<Actions>,
}

impl ActionServiceImpl {
    /// The service over `actions`.
    pub fn new(actions: Arc<Actions>) -> Self {
        ActionServiceImpl { actions }
    }

    async fn perform<T, R>(
        &self,
        request: &Request<T>,
        parsed: Result<(String, Action), crate::error::Error>,
        name: &str,
        wrap: impl FnOnce(pb::ActionResult) -> R,
    ) -> Result<Response<R>, Status> {
        let caller = request.extensions().get::<Caller>().cloned().unwrap_or_default();
        let (session, action) = match parsed {
            Ok(parsed) => parsed,
            Err(error) => {
                self.actions
                    .audit
                    .append(&caller.audit_entry("", name, serde_json::Value::Null).refused(&error));
                return Err(error.into());
            }
        };
        let result: ActionResult = self.actions.act(&caller, &session, action).await?;
        Ok(Response::new(wrap(result.to_proto())))
    }
}

#[tonic::async_trait]
impl pb::action_service_server::ActionService for ActionServiceImpl {
    async fn decide(&self, request: Request<pb::DecideRequest>) -> Result<Response<pb::DecideResponse>, Status> {
        let parsed = Action::from_decide(request.get_ref().clone());
        self.perform(&request, parsed, "decide", |result| pb::DecideResponse {
            result: Some(result),
        })
        .await
    }

    async fn send_text(&self, request: Request<pb::SendTextRequest>) -> Result<Response<pb::SendTextResponse>, Status> {
        let parsed = Ok(Action::from_send_text(request.get_ref().clone()));
        self.perform(&request, parsed, "send_text", |result| pb::SendTextResponse {
            result: Some(result),
        })
        .await
    }

    async fn answer(&self, request: Request<pb::AnswerRequest>) -> Result<Response<pb::AnswerResponse>, Status> {
        let parsed = Ok(Action::from_answer(request.get_ref().clone()));
        self.perform(&request, parsed, "answer", |result| pb::AnswerResponse {
            result: Some(result),
        })
        .await
    }

    async fn set_remote_approval(
        &self,
        request: Request<pb::SetRemoteApprovalRequest>,
    ) -> Result<Response<pb::SetRemoteApprovalResponse>, Status> {
        let parsed = Ok(Action::from_set_remote_approval(request.get_ref().clone()));
        self.perform(&request, parsed, "remote_approval", |result| {
            pb::SetRemoteApprovalResponse { result: Some(result) }
        })
        .await
    }

    async fn dismiss(&self, request: Request<pb::DismissRequest>) -> Result<Response<pb::DismissResponse>, Status> {
        let parsed = Ok((request.get_ref().session_id.clone(), Action::Dismiss));
        self.perform(&request, parsed, "dismiss", |result| pb::DismissResponse {
            result: Some(result),
        })
        .await
    }

    async fn restore(&self, request: Request<pb::RestoreRequest>) -> Result<Response<pb::RestoreResponse>, Status> {
        let parsed = Ok((request.get_ref().session_id.clone(), Action::Restore));
        self.perform(&request, parsed, "restore", |result| pb::RestoreResponse {
            result: Some(result),
        })
        .await
    }

    async fn focus(&self, request: Request<pb::FocusRequest>) -> Result<Response<pb::FocusResponse>, Status> {
        let parsed = Ok((request.get_ref().session_id.clone(), Action::Focus));
        self.perform(&request, parsed, "focus", |result| pb::FocusResponse {
            result: Some(result),
        })
        .await
    }
}
