// Command sandboxproc is the entrypoint of the sandbox's own small images: the pod sandbox
// ("pause") image and the containers that make an image "in use". It is built static
// (CGO_ENABLED=0) so it runs in an image that holds nothing else.
//
//	sandboxproc pause   sleep until SIGTERM or SIGINT, then exit 0
//	sandboxproc talk    print the known log lines to stdout, then sleep like pause
//	sandboxproc exit    print one line and exit 0 (a container that ran to completion)
//
// The talk lines hold a fake password and a fake bearer token on purpose: they let tests
// prove that "runtime logs" redacts what "logs" redacts.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// TalkLines are printed, in order, by "talk"; the sandbox's manifest repeats them.
var TalkLines = []string{
	"sandbox talk: starting",
	"sandbox talk: connecting to db with password=hunter2",
	"sandbox talk: Authorization: Bearer sandbox-fake-token-0123456789abcdef",
	"sandbox talk: ready",
}

func waitForSignal() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sandboxproc pause|talk|exit")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "pause":
	case "talk":
		for _, line := range TalkLines {
			fmt.Println(line)
		}
	case "exit":
		fmt.Println("sandbox exit: done")
		return
	default:
		fmt.Fprintf(os.Stderr, "sandboxproc: unknown mode %q (want pause, talk or exit)\n", os.Args[1])
		os.Exit(2)
	}
	waitForSignal()
}
