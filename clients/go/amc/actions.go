package amc

import (
	"context"

	amcv1 "github.com/amc-dev/amc/clients/go/amcv1"
)

// The actions of amc.v1.ActionService. Each needs a token of scope `act` (WithToken) and is written to the server's
// audit log; each returns what happened (ActionResult.Outcome: "delivered", "already_answered", "dismissed", ...).
// Errors are gRPC statuses: PermissionDenied/Unauthenticated without a good token, NotFound for an unknown session,
// FailedPrecondition when the session cannot take the action, ResourceExhausted when rate-limited.

// Decide allows (allow = true) or denies the permission request requestID (the session's Attention.RequestId) that a
// held PermissionRequest hook waits on. message is shown to Claude with a denial (empty: none).
func (c *Client) Decide(ctx context.Context, sessionID, requestID string, allow bool, message string) (*amcv1.ActionResult, error) {
	ctx, cancel := unary(ctx)
	defer cancel()
	req := &amcv1.DecideRequest{SessionId: sessionID, RequestId: requestID, Behavior: amcv1.Behavior_BEHAVIOR_DENY}
	if allow {
		req.Behavior = amcv1.Behavior_BEHAVIOR_ALLOW
	}
	if message != "" {
		req.Message = &message
	}
	resp, err := c.Actions.Decide(ctx, req)
	return resp.GetResult(), err
}

// Answer answers the session's pending question with 1-based option numbers, or with free text when options is
// empty.
func (c *Client) Answer(ctx context.Context, sessionID string, options []uint32, text string) (*amcv1.ActionResult, error) {
	ctx, cancel := unary(ctx)
	defer cancel()
	resp, err := c.Actions.Answer(ctx, &amcv1.AnswerRequest{SessionId: sessionID, Options: options, Text: text})
	return resp.GetResult(), err
}

// SendText types text into the session's own Zellij pane, then Enter.
func (c *Client) SendText(ctx context.Context, sessionID, text string) (*amcv1.ActionResult, error) {
	ctx, cancel := unary(ctx)
	defer cancel()
	resp, err := c.Actions.SendText(ctx, &amcv1.SendTextRequest{SessionId: sessionID, Text: text})
	return resp.GetResult(), err
}

// Dismiss moves a dead, done or ended session's file to the trash: it leaves the list.
func (c *Client) Dismiss(ctx context.Context, sessionID string) (*amcv1.ActionResult, error) {
	ctx, cancel := unary(ctx)
	defer cancel()
	resp, err := c.Actions.Dismiss(ctx, &amcv1.DismissRequest{SessionId: sessionID})
	return resp.GetResult(), err
}

// Restore brings a dismissed session's file back from the trash.
func (c *Client) Restore(ctx context.Context, sessionID string) (*amcv1.ActionResult, error) {
	ctx, cancel := unary(ctx)
	defer cancel()
	resp, err := c.Actions.Restore(ctx, &amcv1.RestoreRequest{SessionId: sessionID})
	return resp.GetResult(), err
}

// SetRemoteApproval turns remote approval on or off for one session.
func (c *Client) SetRemoteApproval(ctx context.Context, sessionID string, enabled bool) (*amcv1.ActionResult, error) {
	ctx, cancel := unary(ctx)
	defer cancel()
	resp, err := c.Actions.SetRemoteApproval(ctx, &amcv1.SetRemoteApprovalRequest{SessionId: sessionID, Enabled: enabled})
	return resp.GetResult(), err
}

// Focus gives the session's own Zellij pane the focus (outcome "focused", or "pane_gone"); FailedPrecondition when
// the Zellij there cannot focus a pane by id.
func (c *Client) Focus(ctx context.Context, sessionID string) (*amcv1.ActionResult, error) {
	ctx, cancel := unary(ctx)
	defer cancel()
	resp, err := c.Actions.Focus(ctx, &amcv1.FocusRequest{SessionId: sessionID})
	return resp.GetResult(), err
}

// Ack acknowledges the session's attention: no notification of it until its next attention. The result says
// whether the notifier took it (false when notifications are off: nothing to silence).
func (c *Client) Ack(ctx context.Context, sessionID string) (*amcv1.AckResponse, error) {
	ctx, cancel := unary(ctx)
	defer cancel()
	return c.State.Ack(ctx, &amcv1.AckRequest{SessionId: sessionID})
}
