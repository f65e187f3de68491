package amc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	amcv1 "github.com/amc-dev/amc/clients/go/amcv1"
)

// WatchOptions configures Watch. The zero value watches every session from a full snapshot.
type WatchOptions struct {
	// Since is a state the caller already has (from GetState or an earlier watch): the watch resumes from its
	// revision and instance id, so a list-then-watch misses nothing and, when nothing changed, costs a heartbeat.
	// The first state handed to the callback is then the first change after it.
	Since *amcv1.State
	// Filter narrows the sessions (nil: all). Since must have been read with the same filter.
	Filter *amcv1.SessionFilter
	// FirstBackoff is the wait before the first reconnect (default 250 ms); it doubles up to MaxBackoff (default
	// 10 s) and starts over after a message arrives.
	FirstBackoff, MaxBackoff time.Duration
	// Silence is how long a stream may say nothing before it counts as dead and is reopened (default 45 s: the
	// server sends a heartbeat every 15 s).
	Silence time.Duration
	// OnDisconnect, when set, is told why each connection ended before the watch reconnects.
	OnDisconnect func(err error)
}

// ErrStop, returned by a Watch callback, ends the watch with a nil error.
var ErrStop = errors.New("amc: stop watching")

// Watch streams the state until ctx is done or fn returns an error (ErrStop: a clean stop), calling fn with the whole
// state after every change. It asks for deltas and applies them; it reconnects with backoff whenever the stream
// ends (a server restart or shutdown, a network drop, a silent stream), resuming with the last revision and instance
// id: a restarted server sends a full snapshot. Only ctx bounds it: give ctx a deadline to end the whole watch, never
// a per-call deadline. The state passed to fn is the caller's to keep: Watch never changes it afterwards.
//
// It returns ctx.Err() when ctx ends, fn's error, or an error that retrying cannot fix (Unauthenticated,
// PermissionDenied, InvalidArgument, Unimplemented).
func (c *Client) Watch(ctx context.Context, opts WatchOptions, fn func(*amcv1.State) error) error {
	first, max, silence := opts.FirstBackoff, opts.MaxBackoff, opts.Silence
	if first <= 0 {
		first = 250 * time.Millisecond
	}
	if max <= 0 {
		max = 10 * time.Second
	}
	if silence <= 0 {
		silence = 45 * time.Second
	}
	var held *amcv1.State
	if opts.Since != nil {
		held = proto.Clone(opts.Since).(*amcv1.State)
	}
	backoff := first
	for {
		gotMessage, err := c.watchOnce(ctx, opts.Filter, silence, &held, fn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var stop callbackError
		if errors.As(err, &stop) {
			if errors.Is(stop.err, ErrStop) {
				return nil
			}
			return stop.err
		}
		switch status.Code(err) {
		case codes.Unauthenticated, codes.PermissionDenied, codes.InvalidArgument, codes.Unimplemented:
			return err
		}
		if opts.OnDisconnect != nil {
			opts.OnDisconnect(err)
		}
		if gotMessage {
			backoff = first
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		if backoff *= 2; backoff > max {
			backoff = max
		}
	}
}

type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

// watchOnce runs one stream; it says whether any message arrived, and why the stream ended.
func (c *Client) watchOnce(ctx context.Context, filter *amcv1.SessionFilter, silence time.Duration, held **amcv1.State, fn func(*amcv1.State) error) (bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req := &amcv1.WatchStateRequest{Filter: filter, Deltas: true}
	if *held != nil {
		req.SinceRevision = (*held).GetRevision()
		req.InstanceId = (*held).GetInstanceId()
	}
	stream, err := c.State.WatchState(ctx, req)
	if err != nil {
		return false, err
	}
	// A stream that says nothing for `silence` is cancelled (the server heartbeats well within it).
	alive := make(chan struct{}, 1)
	go func() {
		timer := time.NewTimer(silence)
		defer timer.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-alive:
				if !timer.Stop() {
					<-timer.C
				}
				timer.Reset(silence)
			case <-timer.C:
				cancel()
				return
			}
		}
	}()
	got := false
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			return got, status.Error(codes.Unavailable, "the server ended the stream")
		}
		if err != nil {
			if ctx.Err() != nil && status.Code(err) == codes.Canceled {
				return got, status.Errorf(codes.Unavailable, "no message for %s", silence)
			}
			return got, err
		}
		got = true
		select {
		case alive <- struct{}{}:
		default:
		}
		next, changed, err := Apply(*held, msg)
		if err != nil {
			// Start over with a full snapshot.
			*held = nil
			return got, status.Error(codes.Unavailable, err.Error())
		}
		*held = next
		if changed {
			if err := fn(proto.Clone(next).(*amcv1.State)); err != nil {
				return got, callbackError{err}
			}
		}
	}
}

// Apply applies one WatchState message to state (nil: none yet) and returns the new state, whether the sessions
// changed, or an error when a delta does not apply to state (then watch again without since_revision). It never
// modifies state.
func Apply(state *amcv1.State, msg *amcv1.WatchStateResponse) (*amcv1.State, bool, error) {
	switch kind := msg.GetKind().(type) {
	case *amcv1.WatchStateResponse_Snapshot:
		next := proto.Clone(kind.Snapshot).(*amcv1.State)
		next.Revision, next.InstanceId = msg.GetRevision(), msg.GetInstanceId()
		sortSessions(next.Sessions)
		return next, true, nil
	case *amcv1.WatchStateResponse_Delta:
		delta := kind.Delta
		if state == nil || delta.GetBaseRevision() != state.GetRevision() || msg.GetInstanceId() != state.GetInstanceId() {
			return state, false, fmt.Errorf("a delta from revision %d of %q does not apply to revision %d of %q",
				delta.GetBaseRevision(), msg.GetInstanceId(), state.GetRevision(), state.GetInstanceId())
		}
		removed := make(map[string]bool, len(delta.GetRemovedSessionIds()))
		for _, id := range delta.GetRemovedSessionIds() {
			removed[id] = true
		}
		upserted := make(map[string]*amcv1.Session, len(delta.GetUpsertedSessions()))
		for _, s := range delta.GetUpsertedSessions() {
			upserted[s.GetSessionId()] = s
		}
		sessions := make([]*amcv1.Session, 0, len(state.GetSessions())+len(upserted))
		for _, s := range state.GetSessions() {
			if removed[s.GetSessionId()] {
				continue
			}
			if u, ok := upserted[s.GetSessionId()]; ok {
				sessions = append(sessions, u)
				delete(upserted, s.GetSessionId())
				continue
			}
			sessions = append(sessions, s)
		}
		for _, u := range upserted {
			sessions = append(sessions, u)
		}
		sortSessions(sessions)
		return &amcv1.State{
			Revision:     msg.GetRevision(),
			InstanceId:   msg.GetInstanceId(),
			Sessions:     sessions,
			SnapshotTime: delta.GetSnapshotTime(),
		}, true, nil
	default:
		// A heartbeat (or a kind this client does not know): the client is current up to msg.Revision.
		if state == nil {
			return nil, false, nil
		}
		next := &amcv1.State{
			Revision:     msg.GetRevision(),
			InstanceId:   msg.GetInstanceId(),
			Sessions:     state.GetSessions(),
			SnapshotTime: state.GetSnapshotTime(),
		}
		return next, false, nil
	}
}

func sortSessions(sessions []*amcv1.Session) {
	sort.Slice(sessions, func(i, j int) bool { return sessions[i].GetSessionId() < sessions[j].GetSessionId() })
}
