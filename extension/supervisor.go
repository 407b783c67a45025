package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	osquery "github.com/osquery/osquery-go"
)

// extensionName is how the extension registers with osqueryd; use it with
// --extensions_require.
const extensionName = "osquery-syslog"

// supervisor keeps the extension registered with osqueryd. osquery-go's own
// Run only pings the manager and exits on the first failed ping; it never
// notices that osqueryd dropped the registration (its tables then vanish
// while the process looks healthy). The supervisor instead checks, every
// interval, that osqueryd answers a ping AND still lists this extension; after
// strikes consecutive failures it re-registers in-process, so an osqueryd
// worker restart or a silent deregistration heals without a process restart.
type supervisor struct {
	socket   string
	timeout  time.Duration // wait for the socket to appear
	interval time.Duration // health-check period
	version  string
	plugins  []osquery.OsqueryPlugin
	log      *slog.Logger

	// strikes is how many consecutive failed checks trigger re-registration.
	strikes int
	// reconnectFor bounds how long osqueryd may stay unreachable before the
	// extension gives up and exits (osqueryd's watcher starts a new copy).
	reconnectFor time.Duration
	// parentGone reports that the osqueryd that launched us has exited.
	parentGone func() bool
}

// errShutdown is returned when osqueryd asked the extension to shut down.
var errShutdown = errors.New("osqueryd requested shutdown")

// run registers and supervises until ctx ends (nil), osqueryd asks for a
// shutdown (errShutdown) or osqueryd stays away too long (an error).
func (s *supervisor) run(ctx context.Context) error {
	wait := s.timeout
	for {
		client, err := s.connect(ctx, wait)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		err = s.serve(ctx, client)
		client.Close()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errShutdown):
			return err
		case s.parentGone != nil && s.parentGone():
			return errors.New("osqueryd, which launched this extension, has exited")
		}
		s.log.Warn("re-registering with osqueryd", "reason", err)
		wait = s.reconnectFor
	}
}

// connect waits up to wait for osqueryd's socket to exist and answer a ping.
// Registering before osqueryd answers gives i/o timeouts (osquery-go#80).
func (s *supervisor) connect(ctx context.Context, wait time.Duration) (*osquery.ExtensionManagerClient, error) {
	deadline := time.Now().Add(wait)
	var last error
	for {
		if _, err := os.Stat(s.socket); err == nil {
			c, err := osquery.NewClient(s.socket, s.callTimeout())
			if err == nil {
				pctx, cancel := context.WithTimeout(ctx, s.callTimeout())
				st, perr := c.PingContext(pctx)
				cancel()
				if perr == nil && st.Code == 0 {
					return c, nil
				}
				if perr == nil {
					perr = fmt.Errorf("ping status %d: %s", st.Code, st.Message)
				}
				c.Close()
				err = perr
			}
			last = err
		} else {
			last = err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("--socket %s: osqueryd not reachable after %s: %v", s.socket, wait, last)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *supervisor) callTimeout() time.Duration {
	// Generous: registration has been seen to take seconds on loaded hosts
	// (fleet#3878), and the client is poisoned after a timeout.
	return 30 * time.Second
}

// serve registers on client and returns when the registration must be
// renewed (an error saying why), osqueryd asks for a shutdown, or ctx ends.
func (s *supervisor) serve(ctx context.Context, client *osquery.ExtensionManagerClient) error {
	srv, err := osquery.NewExtensionManagerServer(extensionName, s.socket,
		osquery.WithClient(client),
		osquery.ExtensionVersion(s.version),
		osquery.ServerTimeout(s.callTimeout()),
	)
	if err != nil {
		return fmt.Errorf("creating extension server: %w", err)
	}
	srv.RegisterPlugin(s.plugins...)

	served := make(chan error, 1)
	go func() { served <- srv.Start() }()

	// A second connection for health checks, so a check never waits on the
	// lock of the connection the server uses and a timed-out (poisoned)
	// connection is simply replaced.
	var mon *osquery.ExtensionManagerClient
	defer func() {
		if mon != nil {
			mon.Close()
		}
	}()
	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			s.stop(srv)
			return nil
		case err := <-served:
			if err != nil {
				// Registration refused (a name clash, a duplicate) or the
				// socket could not be served.
				return fmt.Errorf("registering extension: %w", err)
			}
			// Serve returned without us stopping it: osqueryd called shutdown().
			return errShutdown
		case <-ticker.C:
			if s.parentGone != nil && s.parentGone() {
				s.stop(srv)
				return errors.New("parent osqueryd exited")
			}
			err := s.check(ctx, &mon)
			if err == nil {
				failures = 0
				continue
			}
			failures++
			s.log.Warn("osqueryd health check failed", "err", err, "failures", failures)
			if failures >= s.strikes {
				s.stop(srv)
				return err
			}
		}
	}
}

// check pings osqueryd and verifies this extension is still registered.
func (s *supervisor) check(ctx context.Context, mon **osquery.ExtensionManagerClient) error {
	if *mon == nil {
		c, err := osquery.NewClient(s.socket, s.interval)
		if err != nil {
			return fmt.Errorf("connecting: %w", err)
		}
		*mon = c
	}
	fail := func(err error) error {
		(*mon).Close()
		*mon = nil
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, max(s.interval, 2*time.Second))
	defer cancel()
	st, err := (*mon).PingContext(cctx)
	if err != nil {
		return fail(fmt.Errorf("ping: %w", err))
	}
	if st.Code != 0 {
		return fmt.Errorf("ping: status %d: %s", st.Code, st.Message)
	}
	exts, err := (*mon).ExtensionsContext(cctx)
	if err != nil {
		return fail(fmt.Errorf("listing extensions: %w", err))
	}
	for _, e := range exts {
		if e.Name == extensionName {
			return nil
		}
	}
	return errors.New("osqueryd no longer lists this extension")
}

// stop deregisters (best effort: osqueryd may be gone) and stops serving.
func (s *supervisor) stop(srv *osquery.ExtensionManagerServer) {
	done := make(chan struct{})
	go func() {
		if err := srv.Shutdown(context.Background()); err != nil {
			s.log.Debug("deregistering", "err", err)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.log.Warn("deregistering timed out")
	}
}
