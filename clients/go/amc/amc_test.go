package amc

// Tests against a live `amc serve` (the binary named by AMC_BIN; scripts/test-clients sets it), each with a server
// of its own so it can restart it.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	amcv1 "github.com/amc-dev/amc/clients/go/amcv1"
)

type server struct {
	t    *testing.T
	root string
	addr string
	env  []string
	cmd  *exec.Cmd
}

func newServer(t *testing.T, env ...string) *server {
	bin := os.Getenv("AMC_BIN")
	if bin == "" {
		t.Skip("AMC_BIN is not set (scripts/test-clients sets it to the amc binary)")
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "data", "sessions"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, root: root, env: env}
	t.Cleanup(s.stop)
	return s
}

func (s *server) start(listen string) {
	s.t.Helper()
	addrFile := filepath.Join(s.root, "addr")
	os.Remove(addrFile)
	cmd := exec.Command(os.Getenv("AMC_BIN"), "serve", "--listen", listen, "--addr-file", addrFile)
	cmd.Env = append([]string{
		"HOME=" + s.root, "AMC_DATA_DIR=" + filepath.Join(s.root, "data"), "AMC_ZELLIJ_BIN=/nonexistent",
		"AMC_HEARTBEAT_MS=300", "PATH=" + os.Getenv("PATH"),
	}, s.env...)
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			s.addr = strings.TrimSpace(string(b))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatal("amc serve did not write its address")
}

func (s *server) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// write puts a session file in place atomically, as the hook does.
func (s *server) write(id, status string) {
	s.t.Helper()
	dir := filepath.Join(s.root, "data", "sessions")
	body := fmt.Sprintf(`{"session_id":%q,"status":%q,"agent":"claude","project_dir":"/p/%s"}`, id, status, id)
	tmp := filepath.Join(dir, "."+id+".tmp")
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		s.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, id+".json")); err != nil {
		s.t.Fatal(err)
	}
}

func (s *server) remove(id string) {
	if err := os.Remove(filepath.Join(s.root, "data", "sessions", id+".json")); err != nil {
		s.t.Fatal(err)
	}
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func ids(state *amcv1.State) string {
	var out []string
	for _, s := range state.GetSessions() {
		out = append(out, s.GetSessionId()+"="+strings.TrimPrefix(s.GetStatus().String(), "SESSION_STATUS_"))
	}
	return strings.Join(out, ",")
}

// watcher runs Watch in the background and hands over each state.
func watcher(t *testing.T, c *Client, opts WatchOptions) (<-chan *amcv1.State, <-chan error, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	states := make(chan *amcv1.State, 100)
	done := make(chan error, 1)
	go func() {
		done <- c.Watch(ctx, opts, func(s *amcv1.State) error { states <- s; return nil })
	}()
	t.Cleanup(cancel)
	return states, done, cancel
}

// await waits for a state for which ok holds.
func await(t *testing.T, states <-chan *amcv1.State, what string, ok func(*amcv1.State) bool) *amcv1.State {
	t.Helper()
	deadline := time.After(15 * time.Second)
	var last *amcv1.State
	for {
		select {
		case s := <-states:
			last = s
			if ok(s) {
				return s
			}
		case <-deadline:
			t.Fatalf("waited for %s; last state: %s", what, ids(last))
		}
	}
}

func TestGetStateThenWatchKeepsDeltas(t *testing.T) {
	srv := newServer(t)
	srv.write("b", "active")
	srv.write("a", "needs_attention")
	srv.start("127.0.0.1:0")
	c, err := Dial(srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	state, err := c.GetState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(state); got != "a=NEEDS_ATTENTION,b=ACTIVE" {
		t.Fatalf("GetState: %s", got)
	}
	// NeedsAttention leaves out the dead (these sessions have no Zellij pane, so amc calls them dead).
	state.Sessions[0].IsDead = false
	if n := NeedsAttention(state); len(n) != 1 || n[0].GetSessionId() != "a" {
		t.Fatalf("NeedsAttention: %v", n)
	}
	state.Sessions[0].IsDead = true
	if n := NeedsAttention(state); len(n) != 0 {
		t.Fatalf("NeedsAttention of a dead session: %v", n)
	}
	states, _, _ := watcher(t, c, WatchOptions{Since: state})
	// Resumed from GetState: the first state handed over is the first change, applied as a delta.
	srv.write("c", "starting")
	got := await(t, states, "c added", func(s *amcv1.State) bool { return strings.Contains(ids(s), "c=") })
	if ids(got) != "a=NEEDS_ATTENTION,b=ACTIVE,c=STARTING" || got.GetRevision() <= state.GetRevision() {
		t.Fatalf("after the add: %s at %d (was %d)", ids(got), got.GetRevision(), state.GetRevision())
	}
	srv.write("a", "done")
	srv.remove("b")
	await(t, states, "a done and b gone", func(s *amcv1.State) bool { return ids(s) == "a=DONE,c=STARTING" })
}

func TestWatchResumesAfterAServerRestart(t *testing.T) {
	srv := newServer(t)
	srv.write("a", "active")
	listen := freePort(t)
	srv.start(listen)
	c, err := Dial(listen)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	disconnects := make(chan error, 100)
	states, _, _ := watcher(t, c, WatchOptions{FirstBackoff: 50 * time.Millisecond, MaxBackoff: 300 * time.Millisecond,
		OnDisconnect: func(err error) { disconnects <- err }})
	first := await(t, states, "the first snapshot", func(s *amcv1.State) bool { return ids(s) == "a=ACTIVE" })
	srv.stop()
	select {
	case err := <-disconnects:
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("disconnect: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no disconnect reported")
	}
	srv.write("b", "done")
	srv.start(listen)
	got := await(t, states, "the restarted server's state", func(s *amcv1.State) bool { return ids(s) == "a=ACTIVE,b=DONE" })
	if got.GetInstanceId() == first.GetInstanceId() {
		t.Fatal("the instance id did not change across the restart")
	}
}

func TestWatchOutlivesTheCallTimeoutAndStops(t *testing.T) {
	srv := newServer(t)
	srv.write("a", "active")
	srv.start("127.0.0.1:0")
	c, err := Dial(srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	old := CallTimeout
	CallTimeout = 200 * time.Millisecond
	defer func() { CallTimeout = old }()
	n := 0
	start := time.Now()
	err = c.Watch(context.Background(), WatchOptions{}, func(s *amcv1.State) error {
		n++
		if time.Since(start) < time.Second {
			srv.write("a", []string{"active", "done"}[n%2])
			return nil
		}
		return ErrStop
	})
	if err != nil || time.Since(start) < time.Second {
		t.Fatalf("Watch: %v after %s", err, time.Since(start))
	}
	// A deadline on ctx ends the whole watch.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = c.Watch(ctx, WatchOptions{}, func(*amcv1.State) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Watch with a deadline: %v", err)
	}
}

func TestTokenAndActions(t *testing.T) {
	srv := newServer(t, "AMC_TOKEN=go-test-secret-0123456789")
	srv.write("a", "done")
	srv.start("127.0.0.1:0")
	anonymous, err := Dial(srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer anonymous.Close()
	if _, err := anonymous.Dismiss(context.Background(), "a"); status.Code(err) != codes.Unauthenticated && status.Code(err) != codes.PermissionDenied {
		t.Fatalf("Dismiss without a token: %v", err)
	}
	c, err := Dial(srv.addr, WithToken("go-test-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	result, err := c.Dismiss(context.Background(), "a")
	if err != nil || result.GetOutcome() != "dismissed" {
		t.Fatalf("Dismiss: %v %v", result, err)
	}
	result, err = c.Restore(context.Background(), "a")
	if err != nil || result.GetOutcome() != "restored" {
		t.Fatalf("Restore: %v %v", result, err)
	}
	if _, err := c.Decide(context.Background(), "a", "no-such-request", true, ""); err == nil {
		t.Fatal("Decide on a request nobody holds succeeded")
	}
	if _, err := c.Dismiss(context.Background(), "nope"); status.Code(err) != codes.NotFound {
		t.Fatalf("Dismiss of an unknown session: %v", err)
	}
	if _, err := c.Focus(context.Background(), "nope"); status.Code(err) != codes.NotFound {
		t.Fatalf("Focus of an unknown session: %v", err)
	}
	if _, err := anonymous.Ack(context.Background(), "a"); status.Code(err) != codes.Unauthenticated && status.Code(err) != codes.PermissionDenied {
		t.Fatalf("Ack without a token: %v", err)
	}
	ack, err := c.Ack(context.Background(), "a")
	if err != nil || ack.GetSessionId() != "a" {
		t.Fatalf("Ack: %v %v", ack, err)
	}
	if _, err := c.Ack(context.Background(), "nope"); status.Code(err) != codes.NotFound {
		t.Fatalf("Ack of an unknown session: %v", err)
	}
}

func TestApplyRefusesADeltaOnAnotherBase(t *testing.T) {
	snap := &amcv1.WatchStateResponse{Revision: 5, InstanceId: "i", Kind: &amcv1.WatchStateResponse_Snapshot{
		Snapshot: &amcv1.State{Sessions: []*amcv1.Session{{SessionId: "b"}, {SessionId: "a"}}}}}
	state, changed, err := Apply(nil, snap)
	if err != nil || !changed || ids(state) != "a=UNSPECIFIED,b=UNSPECIFIED" || state.GetRevision() != 5 {
		t.Fatalf("snapshot: %s %v %v", ids(state), changed, err)
	}
	delta := func(base uint64) *amcv1.WatchStateResponse {
		return &amcv1.WatchStateResponse{Revision: 6, InstanceId: "i", Kind: &amcv1.WatchStateResponse_Delta{
			Delta: &amcv1.StateDelta{BaseRevision: base, RemovedSessionIds: []string{"a"},
				UpsertedSessions: []*amcv1.Session{{SessionId: "c"}}}}}
	}
	if _, _, err := Apply(state, delta(4)); err == nil {
		t.Fatal("a delta on revision 4 applied to revision 5")
	}
	next, _, err := Apply(state, delta(5))
	if err != nil || ids(next) != "b=UNSPECIFIED,c=UNSPECIFIED" || ids(state) != "a=UNSPECIFIED,b=UNSPECIFIED" {
		t.Fatalf("delta: %s (the old state: %s) %v", ids(next), ids(state), err)
	}
}
