package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestVersionFlag(t *testing.T) {
	defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
	version, commit, date = "1.2.3~git4.abcdef0", "abcdef0123456789", "2026-12-04T17:00:00Z"
	tests := []struct {
		name string
		args []string
		want bool
	}{
		{"long", []string{"--version"}, true},
		{"single dash", []string{"-version"}, true},
		{"after a subcommand", []string{"daemon", "--version"}, true},
		{"among flags", []string{"--verbose", "--version"}, true},
		{"after --", []string{"query", "--", "--version"}, false},
		{"SQL mentioning it", []string{"query", "SELECT '--version'"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionRequested(tt.args); got != tt.want {
				t.Fatalf("versionRequested(%q) = %v, want %v", tt.args, got, tt.want)
			}
			if !tt.want {
				return
			}
			var out, errb bytes.Buffer
			if code := run(tt.args, &out, &errb); code != 0 || errb.Len() != 0 {
				t.Fatalf("run(%q) = %d, stderr %q", tt.args, code, errb.String())
			}
			line := out.String()
			for _, want := range []string{"osquery-syslog.ext 1.2.3~git4.abcdef0 ", "commit abcdef0123456789", "built 2026-12-04T17:00:00Z"} {
				if !strings.Contains(line, want) {
					t.Errorf("--version printed %q, want it to contain %q", line, want)
				}
			}
		})
	}
}
