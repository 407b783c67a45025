package logfile

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
	"github.com/osquery-syslog/osquery-syslog/stats"
	"github.com/osquery-syslog/osquery-syslog/tables/eventsrc"
)

// Run follows cfg.Paths into st until ctx is done, resuming from the
// positions saved in store.
func Run(ctx context.Context, cfg Config, st *eventstore.Stream, store *eventstore.Store, src *stats.Source, log *slog.Logger) error {
	t, err := New(cfg, st, store, src, log)
	if err != nil {
		return err
	}
	defer t.Close()
	return t.Run(ctx)
}

// Run steps the tailer until ctx is done. With inotify (Linux, unless
// Config.NoInotify), it wakes for changes in the directories of the patterns
// and scans everything every RescanInterval as a safety net (lost events,
// patterns with wildcards in directory names, directories created later);
// without it, it scans every PollInterval. Store errors are retried at the
// next wake-up: positions only advance with stored rows.
func (t *Tailer) Run(ctx context.Context) error {
	var w *watcher
	if !t.cfg.NoInotify {
		var err error
		w, err = newWatcher(t.cfg.Paths)
		if err != nil {
			t.log.Warn("inotify unavailable; polling log files", "err", err, "poll_interval", t.cfg.PollInterval.String())
			w = nil
		}
	}
	var events <-chan struct{}
	if w != nil {
		defer w.close()
		events = w.ready
	}
	t.log.Info("following log files", "patterns", t.cfg.Paths, "inotify", w != nil)
	t.logStep(t.Step())
	lastFull := t.now()
	timer := time.NewTimer(t.cfg.PollInterval)
	defer timer.Stop()
	for {
		wait := t.cfg.PollInterval
		if w != nil && len(t.old) == 0 && !w.partial() {
			wait = t.cfg.RescanInterval - t.now().Sub(lastFull)
		}
		timer.Reset(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case <-events:
			paths, overflow := w.take()
			if overflow {
				t.logStep(t.Step())
				lastFull = t.now()
			} else {
				t.logStep(t.stepPaths(paths))
			}
		case <-timer.C:
			if w == nil || w.partial() || t.now().Sub(lastFull) >= t.cfg.RescanInterval {
				if w != nil {
					w.addMissing()
				}
				t.logStep(t.Step())
				lastFull = t.now()
			} else {
				t.logStep(t.stepPaths(nil)) // drain rotated files
			}
		}
		if t.now().Sub(t.lastExpire) >= t.cfg.ExpireInterval {
			t.lastExpire = t.now()
			t.prune()
			if err := eventsrc.Expire(t.sink, t.src, t.lastExpire); err != nil && !errors.Is(err, eventstore.ErrClosed) {
				t.fail("expire", "", err)
			}
		}
	}
}

func (t *Tailer) logStep(err error) {
	if err != nil && !errors.Is(err, eventstore.ErrClosed) {
		t.log.Warn("log file step failed; retrying", "err", err)
	}
}
