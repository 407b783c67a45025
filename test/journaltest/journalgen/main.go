// Command journalgen writes a journal file of generated entries
// (journaltest.Generate) with systemd-journal-remote, for benchmarks and
// manual checks outside go test:
//
//	go run ./test/journaltest/journalgen -n 100000 -seed 1 -o DIR/system.journal
//
// The file is appended to when it exists.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/osquery-syslog/osquery-syslog/test/journaltest"
)

func main() {
	n := flag.Int("n", 10000, "number of entries")
	seed := flag.Int64("seed", 1, "generator seed")
	out := flag.String("o", "", "journal file to write (must end in .journal)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: journalgen [-n N] [-seed S] -o FILE.journal")
		os.Exit(2)
	}
	if err := journaltest.WriteJournal(*out, journaltest.Generate(*n, *seed)); err != nil {
		fmt.Fprintln(os.Stderr, "journalgen:", err)
		os.Exit(1)
	}
}
