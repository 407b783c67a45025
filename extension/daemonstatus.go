package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/osquery-syslog/osquery-syslog/forwarder"
	"github.com/osquery-syslog/osquery-syslog/forwarder/pack"
	"github.com/osquery-syslog/osquery-syslog/internal/jsonstr"
	"github.com/osquery-syslog/osquery-syslog/schedule"
)

// statusHandler ships the scheduler's warnings and errors (a query failing
// at run time, a decorator failing) to the logger plugins as osquery status
// logs, the element osqueryd relays to extension loggers:
// {"s":severity,"f":file,"i":line,"m":message,"h":host,"c":calendarTime,"u":unixTime}.
// Only the scheduler's logger carries it: the forwarders' own warnings
// never become status lines, so a failing sink cannot feed itself.
type statusHandler struct {
	host  string
	fwd   []*forwarder.Forwarder
	attrs []slog.Attr
}

func (h *statusHandler) Enabled(_ context.Context, lv slog.Level) bool {
	return lv >= slog.LevelWarn && len(h.fwd) > 0
}

func (h *statusHandler) Handle(_ context.Context, r slog.Record) error {
	b := h.line(r)
	for _, f := range h.fwd {
		_ = f.Log(pack.Status, b)
	}
	return nil
}

// line is the status element of r.
func (h *statusHandler) line(r slog.Record) []byte {
	sev := 1 // WARNING
	if r.Level >= slog.LevelError {
		sev = 2 // ERROR
	}
	var msg strings.Builder
	msg.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&msg, " %s=%s", a.Key, a.Value.String())
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b := []byte(`{"s":`)
	b = strconv.AppendInt(b, int64(sev), 10)
	b = append(b, `,"f":"scheduler","i":0,"m":`...)
	b = jsonstr.Append(b, msg.String(), jsonstr.Std)
	b = append(b, `,"h":`...)
	b = jsonstr.Append(b, h.host, jsonstr.Std)
	b = append(b, `,"c":`...)
	b = jsonstr.Append(b, schedule.CalendarTime(r.Time), jsonstr.Std)
	b = append(b, `,"u":`...)
	b = strconv.AppendInt(b, r.Time.Unix(), 10)
	return append(b, '}')
}

func (h *statusHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *statusHandler) WithGroup(string) slog.Handler { return h }
