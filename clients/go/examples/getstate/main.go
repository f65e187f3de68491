// Command getstate prints amc's sessions, then (with -watch N) the next N snapshots of WatchState, or (with
// -events N) N events of WatchEvents, replayed from -since (default 1: every event the server keeps).
//
//	go run ./examples/getstate -addr 127.0.0.1:7400 -watch 3
//	go run ./examples/getstate -addr 127.0.0.1:7400 -events 5
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"google.golang.org/grpc"

	amcv1 "github.com/amc-dev/amc/clients/go/amcv1"
)

func printState(s *amcv1.State) {
	fmt.Printf("revision %d (instance %s): %d session(s)\n", s.GetRevision(), s.GetInstanceId(), len(s.GetSessions()))
	for _, sess := range s.GetSessions() {
		fmt.Printf("  %s %s %s %s\n", sess.GetSessionId(), sess.GetStatus(), sess.GetAgent(), sess.GetProjectDir())
		for _, q := range sess.GetPendingQuestions() {
			fmt.Printf("    question: %s\n", q.GetQuestion())
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:7400", "amc's gRPC address")
	watch := flag.Int("watch", 0, "after GetState, print this many WatchState snapshots")
	events := flag.Int("events", 0, "after GetState, print this many WatchEvents events")
	since := flag.Uint64("since", 1, "with -events: replay the kept events after this id (0: only new ones)")
	timeout := flag.Duration("timeout", 5*time.Second, "deadline of GetState, and the longest wait for each watch message (not for the whole watch)")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	// The watches are not bound by a deadline: each message must come within -timeout (the server heartbeats every
	// 15 s when idle), however long the watch runs.
	streamCtx, stopStream := context.WithCancel(context.Background())
	defer stopStream()
	idle := time.AfterFunc(*timeout, stopStream)
	defer idle.Stop()
	// No grpc.WithBlock: a dead server fails the first call with Unavailable instead of hanging.
	conn, err := grpc.Dial(*addr, grpc.WithInsecure())
	if err != nil {
		fmt.Fprintf(os.Stderr, "getstate: %v\n", err)
		os.Exit(1)
	}
	defer conn.Close()
	client := amcv1.NewStateServiceClient(conn)

	resp, err := client.GetState(ctx, &amcv1.GetStateRequest{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "getstate: GetState on %s: %v\n", *addr, err)
		os.Exit(1)
	}
	printState(resp.GetState())
	if *events > 0 {
		idle.Reset(*timeout)
		watchEvents(streamCtx, idle, *timeout, client, *since, *events)
		return
	}
	if *watch <= 0 {
		return
	}

	// Resume from GetState's revision: the stream starts with a heartbeat unless something changed since.
	idle.Reset(*timeout)
	stream, err := client.WatchState(streamCtx, &amcv1.WatchStateRequest{
		SinceRevision: resp.GetState().GetRevision(),
		InstanceId:    resp.GetState().GetInstanceId(),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "getstate: WatchState: %v\n", err)
		os.Exit(1)
	}
	for n := 0; n < *watch; {
		msg, err := stream.Recv()
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "getstate: WatchState: %v\n", err)
			os.Exit(1)
		}
		idle.Reset(*timeout)
		switch kind := msg.GetKind().(type) {
		case *amcv1.WatchStateResponse_Snapshot:
			printState(kind.Snapshot)
			n++
		case *amcv1.WatchStateResponse_Heartbeat:
			fmt.Printf("heartbeat: revision %d\n", msg.GetRevision())
		}
	}
}

// watchEvents prints n events of WatchEvents, resuming after the event id since; idle ends it when a message takes
// longer than timeout.
func watchEvents(ctx context.Context, idle *time.Timer, timeout time.Duration, client amcv1.StateServiceClient, since uint64, n int) {
	stream, err := client.WatchEvents(ctx, &amcv1.WatchEventsRequest{SinceEventId: since})
	if err != nil {
		fmt.Fprintf(os.Stderr, "getstate: WatchEvents: %v\n", err)
		os.Exit(1)
	}
	for n > 0 {
		msg, err := stream.Recv()
		if err != nil {
			fmt.Fprintf(os.Stderr, "getstate: WatchEvents: %v\n", err)
			os.Exit(1)
		}
		idle.Reset(timeout)
		if ev := msg.GetEvent(); ev != nil {
			fmt.Printf("event %d %s %s %s\n", ev.GetId(), ev.GetRawKind(), ev.GetSessionId(), ev.GetAttentionKind())
			n--
		}
	}
}
