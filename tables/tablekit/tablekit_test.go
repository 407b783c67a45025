package tablekit

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
)

func TestWrapRecoversPanic(t *testing.T) {
	w := Wrap(Table{Name: "t", Generate: func(context.Context, table.QueryContext) ([]map[string]string, error) {
		panic("boom")
	}}, Options{})
	_, err := w.Generate(t.Context(), table.QueryContext{})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v, want the panic as an error", err)
	}
}

func TestWrapTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	w := Wrap(Table{Name: "slow", Generate: func(ctx context.Context, _ table.QueryContext) ([]map[string]string, error) {
		<-release // ignores ctx on purpose
		return nil, nil
	}}, Options{Timeout: 50 * time.Millisecond})
	_, err := w.Generate(t.Context(), table.QueryContext{})
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err = %v, want a timeout", err)
	}
}

func TestWrapConcurrencyCap(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	w := Wrap(Table{Name: "t", Generate: func(ctx context.Context, _ table.QueryContext) ([]map[string]string, error) {
		started <- struct{}{}
		<-release
		return []map[string]string{{"a": "1"}}, nil
	}}, Options{MaxConcurrent: 2})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := w.Generate(context.Background(), table.QueryContext{}); err != nil {
				t.Error(err)
			}
		}()
	}
	<-started
	<-started
	if _, err := w.Generate(t.Context(), table.QueryContext{}); !errors.Is(err, ErrBusy) {
		t.Errorf("third call err = %v, want ErrBusy", err)
	}
	close(release)
	wg.Wait()
	rows, err := w.Generate(t.Context(), table.QueryContext{})
	if err != nil || len(rows) != 1 {
		t.Errorf("after release: rows=%v err=%v", rows, err)
	}
}

func TestConds(t *testing.T) {
	cols := []table.ColumnDefinition{
		table.BigIntColumn("time"),
		table.TextColumn("host"),
		table.IntegerColumn("severity"),
		table.TextColumn("message"),
	}
	push := map[string]Pushdown{"time": Range, "host": EqualOnly, "severity": EqualOnly}
	qc := table.QueryContext{Constraints: map[string]table.ConstraintList{
		"time": {Affinity: table.ColumnTypeBigInt, Constraints: []table.Constraint{
			{Operator: table.OperatorGreaterThanOrEquals, Expression: "100"},
			{Operator: table.OperatorLessThan, Expression: "200"},
			{Operator: table.OperatorGreaterThan, Expression: "1.5"}, // not an integer: left to SQLite
		}},
		"host": {Affinity: table.ColumnTypeText, Constraints: []table.Constraint{
			{Operator: table.OperatorEquals, Expression: "web1"},
			{Operator: table.OperatorLike, Expression: "web%"}, // not pushed
		}},
		"severity": {Affinity: table.ColumnTypeInteger, Constraints: []table.Constraint{
			{Operator: table.OperatorGreaterThan, Expression: "3"}, // EqualOnly: not pushed
			{Operator: table.OperatorEquals, Expression: "3"},
		}},
		"message": {Affinity: table.ColumnTypeText, Constraints: []table.Constraint{
			{Operator: table.OperatorEquals, Expression: "x"}, // no pushdown declared
		}},
	}}
	got := Conds(qc, cols, push)
	want := []eventstore.Cond{
		{Column: "time", Op: eventstore.Ge, Value: int64(100)},
		{Column: "time", Op: eventstore.Lt, Value: int64(200)},
		{Column: "host", Op: eventstore.Eq, Value: "web1"},
		{Column: "severity", Op: eventstore.Eq, Value: int64(3)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("cond %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
