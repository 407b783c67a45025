package engine

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func text(s string) Value { return Value{Text: s} }

var null = Value{Null: true}

var goldenResults = map[string]*Result{
	"basic": {
		Columns: []string{"name", "pid", "note"},
		Rows: [][]Value{
			{text("systemd"), text("1"), null},
			{text("sshd"), text("1234"), text("")},
			{text("日本語"), text("7"), text("wide")},
			{text("cafe\u0301"), text("8"), text("combining")},
			{text("🚀 go"), text("9"), text("emoji")},
		},
	},
	"escapes": {
		Columns: []string{"k\"ey", "value"},
		Rows: [][]Value{
			{text(`quote " and backslash \`), text("tab\tnewline\ncr\r")},
			{text("ctl \x01\x1f and <&> /"), text("bad utf8 \xff!")},
		},
	},
	"empty":      {Columns: []string{"a"}},
	"no_columns": {},
}

func TestWriteGolden(t *testing.T) {
	for name, r := range goldenResults {
		for _, f := range []struct {
			ext   string
			write func(*bytes.Buffer, *Result) error
		}{
			{"table", func(b *bytes.Buffer, r *Result) error { return WriteTable(b, r) }},
			{"json", func(b *bytes.Buffer, r *Result) error { return WriteJSON(b, r) }},
		} {
			t.Run(name+"."+f.ext, func(t *testing.T) {
				var b bytes.Buffer
				if err := f.write(&b, r); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", name+"."+f.ext+".golden")
				if *update {
					if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(b.Bytes(), want) {
					t.Errorf("output differs from %s:\n got:\n%s\nwant:\n%s", path, b.Bytes(), want)
				}
				if f.ext == "json" {
					var rows []map[string]string
					if err := json.Unmarshal(b.Bytes(), &rows); err != nil {
						t.Errorf("not valid JSON: %v", err)
					}
					if len(rows) != len(r.Rows) {
						t.Errorf("%d rows decoded, want %d", len(rows), len(r.Rows))
					}
				}
			})
		}
	}
}

func TestDisplayWidth(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"日本", 4},
		{"e\u0301", 1},
		{"🚀", 2},
		{"한글", 4},
		{"ｆｕｌｌ", 8},
		{"a\u200bb", 2},
		{"\xff", 1},
	}
	for _, tt := range tests {
		if got := displayWidth(tt.s); got != tt.want {
			t.Errorf("displayWidth(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}
