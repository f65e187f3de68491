// Command attention prints the amc sessions that wait for the user, with what they wait for; with -watch it keeps
// printing the list each time it changes, reconnecting by itself when the server restarts (package amc).
//
//	go run ./examples/attention -addr 127.0.0.1:7400
//	go run ./examples/attention -addr 127.0.0.1:7400 -watch
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/amc-dev/amc/clients/go/amc"
	amcv1 "github.com/amc-dev/amc/clients/go/amcv1"
)

func describe(s *amcv1.Session) string {
	what := s.GetLastMessagePreview()
	if a := s.GetAttention(); a != nil {
		switch {
		case a.GetToolName() != "" && a.GetToolInputSummary() != "":
			what = a.GetToolName() + ": " + a.GetToolInputSummary()
		case a.GetMessage() != "":
			what = a.GetMessage()
		}
	}
	where := s.GetZellijSession()
	if s.GetZellijPane() != "" {
		where += ":" + s.GetZellijPane()
	}
	return fmt.Sprintf("%s\t%s\t%s\t%s", s.GetSessionId(), s.GetProjectDir(), where, strings.ReplaceAll(what, "\n", " "))
}

func print(state *amcv1.State) {
	waiting := amc.NeedsAttention(state)
	fmt.Printf("revision %d: %d of %d session(s) need attention\n", state.GetRevision(), len(waiting), len(state.GetSessions()))
	for _, s := range waiting {
		fmt.Println("  " + describe(s))
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:7400", "amc's address")
	watch := flag.Bool("watch", false, "keep printing the list after each change (Ctrl-C stops)")
	flag.Parse()
	client, err := amc.Dial(*addr, amc.WithToken(os.Getenv("AMC_TOKEN")))
	if err != nil {
		fmt.Fprintln(os.Stderr, "attention:", err)
		os.Exit(1)
	}
	defer client.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	state, err := client.GetState(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "attention: GetState on %s: %v\n", *addr, err)
		os.Exit(1)
	}
	print(state)
	if !*watch {
		return
	}
	err = client.Watch(ctx, amc.WatchOptions{
		Since:        state,
		OnDisconnect: func(err error) { fmt.Fprintln(os.Stderr, "attention: reconnecting:", err) },
	}, func(s *amcv1.State) error { print(s); return nil })
	if err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "attention:", err)
		os.Exit(1)
	}
}
