// Package amc is the hand-written Go client of amc (Agent Mission Control), on top of the generated package amcv1:
// GetState, a Watch that reconnects by itself (resuming with since_revision and instance_id, applying deltas, and
// handing the caller whole states), and the actions of amc.v1.ActionService. Every call carries the token given to
// Dial.
//
//	client, err := amc.Dial("127.0.0.1:7400", amc.WithToken(os.Getenv("AMC_TOKEN")))
//	state, err := client.GetState(ctx)
//	err = client.Watch(ctx, amc.WatchOptions{Since: state}, func(s *amcv1.State) error { ...; return nil })
package amc

import (
	"context"
	"time"

	"google.golang.org/grpc"

	amcv1 "github.com/amc-dev/amc/clients/go/amcv1"
)

// CallTimeout is the deadline Client puts on each unary call whose context has none. A watch has no such deadline:
// its context only cancels it.
var CallTimeout = 10 * time.Second

// Client talks to one amc server.
type Client struct {
	conn    *grpc.ClientConn
	token   string
	State   amcv1.StateServiceClient
	Actions amcv1.ActionServiceClient
}

// Option configures Dial.
type Option func(*options)

type options struct {
	token       string
	dialOptions []grpc.DialOption
}

// WithToken sends token as `authorization: Bearer <token>` with every call (an empty token sends nothing). Reading
// needs a token only when the server is configured so; actions need one of scope `act`.
func WithToken(token string) Option {
	return func(o *options) { o.token = token }
}

// WithDialOptions adds gRPC dial options (e.g. transport credentials for a TLS proxy in front of amc).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOptions = append(o.dialOptions, opts...) }
}

// Dial connects to the amc server at addr ("127.0.0.1:7400"). It does not wait for the server: a server that is not
// there fails the first call with codes.Unavailable (and Watch keeps trying).
func Dial(addr string, opts ...Option) (*Client, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dial := []grpc.DialOption{grpc.WithInsecure()}
	if o.token != "" {
		dial = append(dial, grpc.WithPerRPCCredentials(bearer(o.token)))
	}
	dial = append(dial, o.dialOptions...)
	conn, err := grpc.Dial(addr, dial...)
	if err != nil {
		return nil, err
	}
	return &Client{
		conn:    conn,
		token:   o.token,
		State:   amcv1.NewStateServiceClient(conn),
		Actions: amcv1.NewActionServiceClient(conn),
	}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// bearer sends a token on plain connections too (amc listens on loopback without TLS by default).
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

// unary gives ctx the CallTimeout deadline when it has none.
func unary(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, CallTimeout)
}

// GetState returns the latest published state (all sessions; see GetStateFiltered).
func (c *Client) GetState(ctx context.Context) (*amcv1.State, error) {
	return c.GetStateFiltered(ctx, nil)
}

// GetStateFiltered returns the latest published state narrowed by filter (nil: every session).
func (c *Client) GetStateFiltered(ctx context.Context, filter *amcv1.SessionFilter) (*amcv1.State, error) {
	ctx, cancel := unary(ctx)
	defer cancel()
	resp, err := c.State.GetState(ctx, &amcv1.GetStateRequest{Filter: filter})
	if err != nil {
		return nil, err
	}
	return resp.GetState(), nil
}

// NeedsAttention returns the sessions of state that wait for the user (alive, status NEEDS_ATTENTION).
func NeedsAttention(state *amcv1.State) []*amcv1.Session {
	var out []*amcv1.Session
	for _, s := range state.GetSessions() {
		if !s.GetIsDead() && s.GetStatus() == amcv1.SessionStatus_SESSION_STATUS_NEEDS_ATTENTION {
			out = append(out, s)
		}
	}
	return out
}
