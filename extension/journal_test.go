package main

import (
	"bytes"
	"strings"
	"testing"
)

// journal_messages' flags come from osqueryd's config as custom_*, a bad
// one fails naming the flag, and the query subcommand reads a copied
// journal from its oldest entry unless told otherwise.
func TestJournalFlags(t *testing.T) {
	cfg := &config{}
	fs := newFlagSet("x", cfg)
	if _, err := parseArgs(fs, []string{"--journal_path", "/evidence/journal"}); err != nil {
		t.Fatal(err)
	}
	if _, err := applyOptions(fs, explicitFlags(fs), map[string]option{
		"custom_journal_units": {"ssh,cron", ""},
		"custom_journal_match": {"_TRANSPORT=syslog + _TRANSPORT=journal", ""},
	}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	jc, err := cfg.Journal.Config()
	if err != nil || len(jc.Units) != 2 || jc.Units[0] != "ssh.service" || len(jc.Match) != 2 {
		t.Fatalf("journal config %+v, %v", jc, err)
	}
	queryJournalSince(cfg, explicitFlags(fs))
	if cfg.Journal.Since != "all" {
		t.Errorf("query --journal_path: since %q, want all", cfg.Journal.Since)
	}
	cfg.Journal.Since = "now"
	queryJournalSince(cfg, map[string]bool{"journal_since": true})
	if cfg.Journal.Since != "now" {
		t.Errorf("an explicit --journal_since was replaced by %q", cfg.Journal.Since)
	}

	var stderr bytes.Buffer
	if code := run([]string{"query", "--journal_since", "last week", "SELECT 1"}, &bytes.Buffer{}, &stderr); code != 2 || !strings.Contains(stderr.String(), "--journal_since") {
		t.Errorf("exit %d, stderr %q: want 2 naming --journal_since", code, stderr.String())
	}
}
