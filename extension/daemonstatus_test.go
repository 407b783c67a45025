package main

import (
	"encoding/json"
	"log/slog"
	"testing"
	"time"
)

func TestStatusLine(t *testing.T) {
	h := &statusHandler{host: "web-1"}
	h2 := h.WithAttrs([]slog.Attr{slog.String("query", "pack_p_q")}).(*statusHandler)
	r := slog.NewRecord(time.Unix(1793603109, 0), slog.LevelError, "scheduled query failed", 0)
	r.AddAttrs(slog.String("err", "no such table: x\x01 \"quoted\""))
	got := string(h2.line(r))
	want := `{"s":2,"f":"scheduler","i":0,"m":"scheduled query failed query=pack_p_q err=no such table: x\u0001 \"quoted\"","h":"web-1","c":"Mon Nov  2 07:05:09 2026 UTC","u":1793603109}`
	if got != want {
		t.Fatalf("status line\n got %s\nwant %s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Fatal("not JSON")
	}
	if h.Enabled(t.Context(), slog.LevelError) {
		t.Error("enabled without a logger plugin to ship to")
	}
}
