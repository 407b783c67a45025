package main

import (
	"strings"
	"testing"
	"time"
)

func TestLogfileFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string // "" = valid
	}{
		{"defaults", nil, ""},
		{"globs", []string{"--logfile_paths", "/var/log/*.log, /srv/app/app.log"}, ""},
		{"bad glob", []string{"--logfile_paths", "/var/log/[x"}, "--logfile_paths"},
		{"max line too small", []string{"--logfile_max_line", "10"}, "--logfile_max_line"},
		{"poll interval too short", []string{"--logfile_poll_interval", "1ms"}, "--logfile_poll_interval"},
		{"max open zero", []string{"--logfile_max_open", "0"}, "--logfile_max_open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &config{}
			fs := newFlagSet("x", cfg)
			if _, err := parseArgs(fs, tt.args); err != nil {
				t.Fatal(err)
			}
			err := cfg.validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("validate = %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}

func TestLogfileFlagsFromOsqueryConfig(t *testing.T) {
	cfg := &config{}
	fs := newFlagSet("x", cfg)
	if _, err := parseArgs(fs, nil); err != nil {
		t.Fatal(err)
	}
	_, err := applyOptions(fs, explicitFlags(fs), map[string]option{
		"custom_logfile_paths":         {"/var/log/app/*.log", ""},
		"custom_logfile_poll_interval": {"250ms", ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LogfilePaths != "/var/log/app/*.log" || cfg.LogfilePollInterval != 250*time.Millisecond || cfg.LogfileMaxOpen != 256 {
		t.Fatalf("config %+v", cfg.logfileConfig)
	}
}
