package main

import (
	"fmt"
	"io"
	goruntime "runtime"
)

// Build information, set at build time by the Makefile:
//
//	go build -ldflags "-X main.version=V -X main.commit=C -X main.date=D"
//
// version is also what the extension registers with osqueryd (osquery_extensions.version).
var (
	version = "0.1.0-dev"
	commit  = "unknown"
	date    = "unknown"
)

// versionRequested reports whether the command line asks for --version
// (or -version), anywhere before a "--".
func versionRequested(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "--version", "-version":
			return true
		}
	}
	return false
}

// printVersion writes the --version line: version, commit, build date, and
// the Go toolchain and platform the binary was built with.
func printVersion(w io.Writer) {
	fmt.Fprintf(w, "osquery-syslog.ext %s (commit %s, built %s, %s %s/%s)\n",
		version, commit, date, goruntime.Version(), goruntime.GOOS, goruntime.GOARCH)
}
