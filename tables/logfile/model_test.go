package logfile

import (
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The model test drives a simulated writer (the application plus logrotate)
// through random sequences of append, partial append, rename rotation,
// copytruncate, delete, recreate, tailer steps, store failures and restarts
// of the binary,
// on real files, and checks the store against what the writer wrote: every
// complete line of every file generation exactly once, in order, numbered
// from 1 within its generation.
//
// What no tailer can see is kept out of the sequences, not out of the
// check: a generation must have been looked at once before it is rotated
// away (a file created and renamed between two looks is never seen), the
// tailer looks right before a copytruncate (lines written after the last
// look exist only in the copy: the documented copytruncate window), and a
// deleted file is looked at before a restart (its open handle is the only
// way to it).

// genModel is one file generation as the writer knows it.
type genModel struct {
	id       int
	path     string
	want     []string // lines the store must hold, in order
	trunc    []bool   // whether each is stored truncated
	partial  string   // unfinished last line written so far
	lineNo   int
	looked   bool // the tailer has stepped since the generation began
	rotated  bool
	finished bool // no more writes
}

type pathModel struct {
	name string
	cur  *genModel // nil while no file is at the path
	k    int       // rotation suffix counter
}

type model struct {
	t       *testing.T
	h       *harness
	rng     *rand.Rand
	paths   []*pathModel
	gens    []*genModel
	nextGen int
	// deletedUnseen: a file was deleted and the tailer has not looked since.
	deletedUnseen bool
	ops           map[string]int
	fail          *failSink
	maxLine       int
}

// add records a line the store must hold, as it is stored: cut at maxLine
// and flagged.
func (m *model) add(g *genModel, text string) {
	trunc := len(text) > m.maxLine
	if trunc {
		text = text[:m.maxLine]
	}
	g.want = append(g.want, text)
	g.trunc = append(g.trunc, trunc)
}

func (m *model) newGen(p *pathModel) *genModel {
	m.nextGen++
	g := &genModel{id: m.nextGen, path: m.h.path(p.name)}
	m.gens = append(m.gens, g)
	p.cur = g
	return g
}

func (m *model) lineText(g *genModel) string {
	g.lineNo++
	pad := strings.Repeat(string(rune('a'+m.rng.IntN(26))), m.rng.IntN(120))
	return "g" + strconv.Itoa(g.id) + " l" + strconv.Itoa(g.lineNo) + " " + pad
}

func (m *model) write(g *genModel, s string) {
	appendFile(m.t, g.path, s)
}

func (m *model) appendLines(p *pathModel, partialEnd bool) {
	g := p.cur
	if g == nil {
		g = m.newGen(p)
	}
	var b strings.Builder
	if g.partial != "" {
		rest := " rest"
		b.WriteString(rest)
		b.WriteString("\n")
		m.add(g, g.partial+rest)
		g.partial = ""
	}
	for range m.rng.IntN(4) + 1 {
		text := m.lineText(g)
		m.add(g, text)
		b.WriteString(text)
		if m.rng.IntN(5) == 0 {
			b.WriteString("\r\n")
		} else {
			b.WriteString("\n")
		}
	}
	if partialEnd {
		text := m.lineText(g)
		sp := strings.IndexByte(text, ' ') // keep the generation id whole
		cut := sp + 1 + m.rng.IntN(len(text)-sp-1)
		g.partial = text[:cut]
		b.WriteString(g.partial)
	}
	m.write(g, b.String())
}

func (m *model) step() {
	m.h.step()
	for _, p := range m.paths {
		if p.cur != nil {
			p.cur.looked = true
		}
	}
	m.deletedUnseen = false
}

// end closes a generation whose file no writer will touch again: its
// unfinished last line becomes a line of its own when the tailer finishes
// the file (RotateWait is off in the model).
func (m *model) end(g *genModel, keepPartial bool) {
	switch {
	case g.partial == "":
	case keepPartial:
		m.add(g, g.partial)
	case len(g.partial) > m.maxLine+1:
		// Already stored, truncated, when it grew past the limit.
		m.add(g, g.partial)
	}
	g.partial = ""
	g.finished = true
}

func (m *model) op() {
	p := m.paths[m.rng.IntN(len(m.paths))]
	path := m.h.path(p.name)
	switch r := m.rng.IntN(100); {
	case r < 35:
		m.ops["append"]++
		m.appendLines(p, false)
	case r < 50:
		m.ops["partial"]++
		m.appendLines(p, true)
	case r < 60:
		if p.cur == nil {
			return
		}
		m.ops["rename"]++
		if !p.cur.looked {
			m.step()
		}
		p.k++
		if err := os.Rename(path, path+"."+strconv.Itoa(p.k)); err != nil {
			m.t.Fatal(err)
		}
		p.cur.rotated = true
		m.end(p.cur, true)
		p.cur = nil
	case r < 66:
		if p.cur == nil {
			return
		}
		m.ops["copytruncate"]++
		m.step() // the window: lines after the last look are only in the copy
		p.k++
		copyFile(m.t, path, path+"."+strconv.Itoa(p.k))
		if err := os.Truncate(path, 0); err != nil {
			m.t.Fatal(err)
		}
		m.end(p.cur, false)
		m.newGen(p)
	case r < 72:
		if p.cur == nil {
			return
		}
		m.ops["delete"]++
		if !p.cur.looked || m.h.tl.cur[path] == nil || m.h.tl.cur[path].f == nil {
			m.step()
		}
		if err := os.Remove(path); err != nil {
			m.t.Fatal(err)
		}
		m.end(p.cur, true)
		p.cur = nil
		m.deletedUnseen = true
	case r < 77:
		if p.cur != nil {
			return
		}
		m.ops["recreate"]++
		appendFile(m.t, path, "")
		m.newGen(p)
	case r < 80:
		// The store refuses the next transaction (disk full, locked): the
		// positions must not move past rows that were not stored.
		m.ops["store_failure"]++
		m.fail.fail = 1
		_ = m.h.tl.Step()
		m.fail.fail = 0
	case r < 86:
		m.ops["restart"]++
		if m.deletedUnseen {
			m.step()
		}
		m.h.restart()
	default:
		m.ops["step"]++
		m.step()
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()
}

// check compares the store with the model.
func (m *model) check() {
	m.t.Helper()
	got := map[int][]row{}
	for _, r := range m.h.rows() {
		id, err := strconv.Atoi(strings.TrimPrefix(strings.Fields(r.Message)[0], "g"))
		if err != nil {
			m.t.Fatalf("row %+v: no generation id", r)
		}
		got[id] = append(got[id], r)
	}
	for _, g := range m.gens {
		rows := got[g.id]
		delete(got, g.id)
		var msgs []string
		for i, r := range rows {
			msgs = append(msgs, r.Message)
			if r.Line != int64(i+1) {
				m.t.Errorf("generation %d row %d has line %d, want %d", g.id, i, r.Line, i+1)
			}
			if i < len(g.trunc) && (r.Truncated == 1) != g.trunc[i] {
				m.t.Errorf("generation %d row %d truncated = %d, want %v", g.id, i, r.Truncated, g.trunc[i])
			}
		}
		if strings.Join(msgs, "\n") != strings.Join(g.want, "\n") {
			m.t.Fatalf("generation %d (%s, rotated %v): got %d lines, want %d\n got  %q\n want %q",
				g.id, g.path, g.rotated, len(msgs), len(g.want), msgs, g.want)
		}
	}
	if len(got) != 0 {
		m.t.Fatalf("rows of unknown generations: %v", got)
	}
}

func TestModel(t *testing.T) {
	seeds := 10
	ops := 500
	if raceEnabled {
		seeds, ops = 6, 300
	}
	// LOGFILE_MODEL_SEEDS=n runs n seeds, for a longer hunt.
	if n, err := strconv.Atoi(os.Getenv("LOGFILE_MODEL_SEEDS")); err == nil && n > 0 {
		seeds = n
	}
	for seed := range seeds {
		t.Run("seed"+strconv.Itoa(seed), func(t *testing.T) {
			cfg := Config{RotateWait: -1, BatchSize: 1 + seed*7, MaxLine: DefaultMaxLine}
			if seed%3 == 2 {
				cfg.MaxLine = 40 // many lines (up to ~130 bytes) are truncated
			}
			if seed%2 == 1 {
				cfg.MaxOpen = 1
			}
			fail := &failSink{}
			h := newHarnessSink(t, cfg, fail)
			m := &model{t: t, h: h, fail: fail, maxLine: cfg.MaxLine, rng: rand.New(rand.NewPCG(uint64(seed), 42)), ops: map[string]int{}}
			m.paths = []*pathModel{{name: "app.log"}, {name: "other.log"}}
			for range ops {
				m.op()
			}
			// The writer finishes its unfinished lines, then the tailer
			// catches up.
			for _, p := range m.paths {
				if p.cur != nil && p.cur.partial != "" {
					m.appendLines(p, false)
				}
			}
			m.step()
			m.step()
			m.check()
			t.Logf("ops %v, generations %d, rows %d", m.ops, len(m.gens), len(m.h.rows()))
		})
	}
}
