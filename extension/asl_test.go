package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestASLStorePathFlag(t *testing.T) {
	cfg := &config{}
	fs := newFlagSet("test", cfg)
	if _, err := parseArgs(fs, nil); err != nil {
		t.Fatal(err)
	}
	if cfg.ASLStorePath != "/var/log/asl" {
		t.Errorf("default asl_store_path %q", cfg.ASLStorePath)
	}
	// custom_asl_store_path from the osquery config applies.
	if _, err := applyOptions(fs, explicitFlags(fs), map[string]option{"custom_asl_store_path": {"/evidence/asl", ""}}); err != nil {
		t.Fatal(err)
	}
	if cfg.ASLStorePath != "/evidence/asl" {
		t.Errorf("asl_store_path %q after custom_asl_store_path", cfg.ASLStorePath)
	}
	// An empty path fails start-up, naming the flag.
	var stderr bytes.Buffer
	if code := run([]string{"query", "--asl_store_path", "", "SELECT 1"}, &bytes.Buffer{}, &stderr); code != 2 || !strings.Contains(stderr.String(), "--asl_store_path") {
		t.Errorf("exit %d, stderr %q: want 2 naming --asl_store_path", code, stderr.String())
	}
}
