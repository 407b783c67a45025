// Package kinesismock runs kinesis-mock (npm package kinesis-local, the
// Kinesis emulator LocalStack uses; a Scala.js build that runs on plain
// node) for integration tests, and reads streams back.
//
// The package is pinned in package.json / package-lock.json beside this
// file; Start runs `npm ci` there when node_modules is missing (`make deps`
// does the same ahead of time). kinesis-mock namespaces streams by region
// and account: clients must use Region (us-east-1) and an access key that is
// not a 12-digit number (such keys select an account).
package kinesismock

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Region is the region kinesis-mock creates its streams in.
const Region = "us-east-1"

// StartTimeout bounds npm ci plus the emulator's start and stream creation.
// The emulator itself is usually up in about 2 s.
var StartTimeout = 3 * time.Minute

// Mock is a running kinesis-mock.
type Mock struct {
	endpoint string
	cmd      *exec.Cmd
	out      *syncBuffer
	done     chan struct{}
	waitErr  error
	client   *kinesis.Client
	stopOnce sync.Once
}

// Record is a record read back from a stream.
type Record struct {
	PartitionKey   string
	Data           []byte
	SequenceNumber string
	ShardID        string
}

// Dir returns the folder holding package.json (KINESIS_MOCK_DIR overrides).
func Dir() string {
	if d := os.Getenv("KINESIS_MOCK_DIR"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Install runs `npm ci` in Dir when node_modules/kinesis-local is missing.
// A file lock keeps concurrent test binaries from installing at once.
func Install(ctx context.Context) error {
	dir := Dir()
	pkg := filepath.Join(dir, "node_modules", "kinesis-local", "main.js")
	if _, err := os.Stat(pkg); err == nil {
		return nil
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".npm-ci.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(pkg); err == nil {
		return nil // another process installed it meanwhile
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("kinesis-mock is not installed and npm is missing (run `make deps`): %w", err)
	}
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("npm ci in %s: %w\n%s", dir, err, out)
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Start installs kinesis-mock if needed, starts it on a free loopback port
// with the given streams ("name" = one shard, or "name:shards") and waits
// until every stream is ACTIVE. Stop it with Stop.
func Start(ctx context.Context, streams ...string) (*Mock, error) {
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	if err := Install(ctx); err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node is missing: %w", err)
	}
	var init, names []string
	for _, s := range streams {
		name, shards, ok := strings.Cut(s, ":")
		if !ok || shards == "" {
			shards = "1"
		}
		init = append(init, name+":"+shards)
		names = append(names, name)
	}
	var lastErr error
	for range 3 { // a port taken between freePort and the bind: try again
		m, err := start(ctx, node, init, names)
		if err == nil {
			return m, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func start(ctx context.Context, node string, init, names []string) (*Mock, error) {
	plain, err := freePort()
	if err != nil {
		return nil, err
	}
	tls, err := freePort()
	if err != nil {
		return nil, err
	}
	m := &Mock{endpoint: "http://127.0.0.1:" + strconv.Itoa(plain), out: &syncBuffer{}, done: make(chan struct{})}
	m.cmd = exec.Command(node, "main.js")
	m.cmd.Dir = filepath.Join(Dir(), "node_modules", "kinesis-local") // it reads server.json from there
	m.cmd.Env = append(os.Environ(),
		"KINESIS_MOCK_PLAIN_PORT="+strconv.Itoa(plain),
		"KINESIS_MOCK_TLS_PORT="+strconv.Itoa(tls),
		"INITIALIZE_STREAMS="+strings.Join(init, ","),
		"AWS_REGION="+Region,
		"SHOULD_PERSIST_DATA=false",
		"LOAD_DATA_IF_EXISTS=false",
		"CREATE_STREAM_DURATION=100ms",
		"LOG_LEVEL=WARN",
	)
	m.cmd.Stdout, m.cmd.Stderr = m.out, m.out
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting kinesis-mock: %w", err)
	}
	go func() { m.waitErr = m.cmd.Wait(); close(m.done) }()

	m.client = kinesis.NewFromConfig(m.Config())
	for _, name := range names {
		if err := m.waitActive(ctx, name); err != nil {
			m.Stop()
			return nil, err
		}
	}
	return m, nil
}

func (m *Mock) waitActive(ctx context.Context, stream string) error {
	for {
		out, err := m.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		if err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return nil
		}
		select {
		case <-m.done:
			return fmt.Errorf("kinesis-mock exited: %v\n%s", m.waitErr, m.out.String())
		case <-ctx.Done():
			return fmt.Errorf("kinesis-mock: stream %s not ACTIVE: last error %v: %w\n%s", stream, err, ctx.Err(), m.out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// StartT starts a mock for a test and stops it when the test ends. It skips
// the test when node or npm is missing and KINESIS_MOCK_REQUIRED is not set
// (CI sets it), and fails it on any other error.
func StartT(tb testing.TB, streams ...string) *Mock {
	tb.Helper()
	if os.Getenv("KINESIS_MOCK_REQUIRED") == "" {
		if _, err := exec.LookPath("node"); err != nil {
			tb.Skip("kinesis-mock needs node: ", err)
		}
	}
	m, err := Start(context.Background(), streams...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(m.Stop)
	return m
}

// Endpoint is the plain-HTTP endpoint URL (for aws_kinesis_endpoint).
func (m *Mock) Endpoint() string { return m.endpoint }

// Config returns an aws.Config for the mock: Region, static credentials,
// BaseEndpoint.
func (m *Mock) Config() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDKINESISMOCK", "secret", ""),
		BaseEndpoint: aws.String(m.endpoint),
	}
}

// Client returns a Kinesis client for the mock.
func (m *Mock) Client() *kinesis.Client { return m.client }

// Output returns what the emulator printed so far.
func (m *Mock) Output() string { return m.out.String() }

// ReadAll reads every record of stream from the start (TRIM_HORIZON) over
// all its shards, shard by shard in ListShards order.
func (m *Mock) ReadAll(ctx context.Context, stream string) ([]Record, error) {
	var shards []types.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(stream)}
	for {
		out, err := m.client.ListShards(ctx, in)
		if err != nil {
			return nil, err
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
	var recs []Record
	for _, sh := range shards {
		it, err := m.client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(stream), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			return nil, err
		}
		iter := it.ShardIterator
		for iter != nil {
			out, err := m.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				return nil, err
			}
			for _, r := range out.Records {
				recs = append(recs, Record{
					PartitionKey: aws.ToString(r.PartitionKey), Data: r.Data,
					SequenceNumber: aws.ToString(r.SequenceNumber), ShardID: aws.ToString(sh.ShardId),
				})
			}
			if len(out.Records) == 0 || aws.ToInt64(out.MillisBehindLatest) == 0 && len(out.Records) < 10000 {
				break
			}
			iter = out.NextShardIterator
		}
	}
	return recs, nil
}

// Stop ends the emulator (SIGTERM, SIGKILL after 1 s: it keeps no data, and
// it takes seconds to honour SIGTERM) and waits for it.
func (m *Mock) Stop() {
	m.stopOnce.Do(func() {
		if m.cmd.Process == nil {
			return
		}
		pgid := -m.cmd.Process.Pid
		syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-m.done:
		case <-time.After(time.Second):
			syscall.Kill(pgid, syscall.SIGKILL)
			<-m.done
		}
	})
}

// syncBuffer is a goroutine-safe output buffer, capped at 1 MiB.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() < 1<<20 {
		s.b.Write(p)
	}
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
