// Command getstate prints amc's sessions, then (with -watch N) the next N snapshots of WatchState.
//
//	go run ./examples/getstate -addr 127.0.0.1:7400 -watch 3
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
	timeout := flag.Duration("timeout", 5*time.Second, "deadline of GetState, and of the watch as a whole")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
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
	if *watch <= 0 {
		return
	}

	// Resume from GetState's revision: the stream starts with a heartbeat unless something changed since.
	stream, err := client.WatchState(ctx, &amcv1.WatchStateRequest{
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
		switch kind := msg.GetKind().(type) {
		case *amcv1.WatchStateResponse_Snapshot:
			printState(kind.Snapshot)
			n++
		case *amcv1.WatchStateResponse_Heartbeat:
			fmt.Printf("heartbeat: revision %d\n", msg.GetRevision())
		}
	}
}
