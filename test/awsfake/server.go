// Package awsfake holds in-process fakes of AWS endpoints for tests: Kinesis
// Data Streams and Firehose (AWS JSON 1.1 wire protocol, and its CBOR form
// that Kinesis also accepts) and STS AssumeRole
// (query protocol), with fault injection. The real SDK clients talk to them
// through BaseEndpoint (awsconf's aws_kinesis_endpoint, aws_firehose_endpoint,
// aws_sts_endpoint).
//
// Every server logs each request it receives (operation, signing access key,
// entries and the per-entry outcome) so a test can assert exactly what was
// sent on every attempt, e.g. that only failed entries were resent.
package awsfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Entry is one record of a put request as the fake received it.
type Entry struct {
	Data            []byte
	PartitionKey    string // Kinesis only
	ExplicitHashKey string // Kinesis only
	// ErrorCode is the per-record error the fake answered, "" when it
	// accepted the record.
	ErrorCode string
	// SequenceNumber (Kinesis) or RecordId (Firehose) of an accepted record.
	SequenceNumber string
	ShardID        string // Kinesis only
}

// Request is one request the fake received.
type Request struct {
	Op           string // e.g. "PutRecords", "PutRecordBatch", "DescribeStreamSummary", "AssumeRole"
	Stream       string
	AccessKey    string // from the SigV4 Authorization header
	SessionToken string // X-Amz-Security-Token
	UserAgent    string
	// Status is the HTTP status answered; ErrorCode the whole-request error
	// code when there was one.
	Status    int
	ErrorCode string
	// Entries of a put request, in request order, with their outcome.
	Entries []Entry
	// Form holds the parameters of a query-protocol (STS) request.
	Form map[string]string
}

// Failed returns the number of entries answered with an ErrorCode.
func (r Request) Failed() int {
	n := 0
	for _, e := range r.Entries {
		if e.ErrorCode != "" {
			n++
		}
	}
	return n
}

// RecordFault makes entries of put requests fail with a per-record
// ErrorCode inside an HTTP 200, as the services do under throttling.
type RecordFault struct {
	// Fraction of each request's entries that fail, spread evenly over the
	// request (0.25 fails entries 3, 7, 11, ...; 1 fails all).
	Fraction float64
	// Match, when set, picks the failing entries instead of Fraction.
	Match func(data []byte) bool
	// Code and Message of the per-record error; Code defaults to
	// ProvisionedThroughputExceededException (Kinesis) or
	// ServiceUnavailableException (Firehose).
	Code, Message string
	// Requests is how many put requests are affected; 0 = until cleared.
	Requests int
}

// RequestFault makes whole requests fail.
type RequestFault struct {
	Status  int    // HTTP status, default 400 when Code is set, else 500
	Code    string // AWS error code ("" sends a non-JSON body, like a proxy or load balancer)
	Message string
	// Op limits the fault to one operation; "" = the put operation
	// (PutRecords / PutRecordBatch / AssumeRole), "*" = every operation.
	Op string
	// Requests is how many requests are affected; 0 = until cleared.
	Requests int
}

// DownMode is how a server is down.
type DownMode int

const (
	// DownRefuse closes the listener and every open connection: clients
	// get connection refused / reset.
	DownRefuse DownMode = iota
	// DownUnavailable answers every request with HTTP 503
	// ServiceUnavailableException.
	DownUnavailable
)

// server is the machinery shared by the fakes: a loopback listener that can
// go down and come back on the same address, connection tracking, the
// request log and the faults.
type server struct {
	addr    string
	srv     *http.Server
	handler func(w http.ResponseWriter, r *http.Request, body []byte) // the service
	putOp   string

	mu          sync.Mutex
	ln          net.Listener
	conns       map[net.Conn]struct{}
	downUntil   time.Time
	downMode    DownMode
	restart     *time.Timer
	closed      bool
	log         []Request
	recordFault *RecordFault
	reqFaults   []*RequestFault
	seq         atomic.Uint64
}

func (s *server) start(tb testing.TB) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("awsfake: listen: %v", err)
	}
	s.addr = ln.Addr().String()
	s.conns = map[net.Conn]struct{}{}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(c net.Conn, st http.ConnState) {
			s.mu.Lock()
			defer s.mu.Unlock()
			switch st {
			case http.StateNew:
				s.conns[c] = struct{}{}
			case http.StateClosed, http.StateHijacked:
				delete(s.conns, c)
			}
		},
	}
	s.ln = ln
	go s.srv.Serve(ln)
	tb.Cleanup(s.close)
}

// URL is the endpoint to give the SDK (BaseEndpoint).
func (s *server) URL() string { return "http://" + s.addr }

// Addr is the host:port the server listens on.
func (s *server) Addr() string { return s.addr }

func (s *server) close() {
	s.mu.Lock()
	s.closed = true
	if s.restart != nil {
		s.restart.Stop()
	}
	s.mu.Unlock()
	s.srv.Close()
}

// Down takes the server down for d (0 = until Up), in mode.
func (s *server) Down(d time.Duration, mode DownMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		d = time.Duration(math.MaxInt64)
	}
	s.downUntil = time.Now().Add(d)
	s.downMode = mode
	if s.restart != nil {
		s.restart.Stop()
		s.restart = nil
	}
	if mode != DownRefuse {
		return
	}
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	for c := range s.conns {
		c.Close()
	}
	if d < time.Duration(math.MaxInt64)/2 {
		s.restart = time.AfterFunc(d, s.Up)
	}
}

// Up ends a Down at once.
func (s *server) Up() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.downUntil = time.Time{}
	if s.restart != nil {
		s.restart.Stop()
		s.restart = nil
	}
	if s.ln != nil || s.closed {
		return
	}
	// Re-listen on the same address; retry briefly in case the kernel
	// still holds it.
	for i := 0; i < 50; i++ {
		ln, err := net.Listen("tcp", s.addr)
		if err == nil {
			s.ln = ln
			go s.srv.Serve(ln)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	panic("awsfake: cannot listen again on " + s.addr)
}

// FailRecords installs a per-record fault (nil-like zero value clears it).
func (s *server) FailRecords(f RecordFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Fraction <= 0 && f.Match == nil {
		s.recordFault = nil
		return
	}
	s.recordFault = &f
}

// FailRequests queues a whole-request fault; faults apply in the order
// they were added.
func (s *server) FailRequests(f RequestFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Status == 0 {
		f.Status = 500
		if f.Code != "" {
			f.Status = 400
		}
	}
	s.reqFaults = append(s.reqFaults, &f)
}

// ClearFaults removes every fault and ends a Down.
func (s *server) ClearFaults() {
	s.mu.Lock()
	s.recordFault = nil
	s.reqFaults = nil
	s.mu.Unlock()
	s.Up()
}

// Requests returns a copy of the request log.
func (s *server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Puts returns the logged put requests (PutRecords / PutRecordBatch /
// PutRecord) only.
func (s *server) Puts() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.log {
		if r.Op == s.putOp || r.Op == "PutRecord" {
			out = append(out, r)
		}
	}
	return out
}

// PutSizes returns the number of entries of each put request, in order:
// the records sent per attempt.
func (s *server) PutSizes() []int {
	var out []int
	for _, r := range s.Puts() {
		out = append(out, len(r.Entries))
	}
	return out
}

// ResetLog empties the request log.
func (s *server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

var credRE = regexp.MustCompile(`Credential=([^/,\s]+)/`)

// AccessKey returns the access key id that signed r (SigV4 Authorization
// header, or X-Amz-Credential in a presigned query).
func AccessKey(r *http.Request) string {
	if m := credRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	if c := r.URL.Query().Get("X-Amz-Credential"); c != "" {
		if i := strings.IndexByte(c, '/'); i > 0 {
			return c[:i]
		}
	}
	return ""
}

func (s *server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	s.mu.Lock()
	down := time.Now().Before(s.downUntil)
	s.mu.Unlock()
	if down {
		op := opOf(r)
		s.appendLog(Request{Op: op, AccessKey: AccessKey(r), Status: 503, ErrorCode: "ServiceUnavailableException"})
		s.writeFault(w, r, &RequestFault{Status: 503, Code: "ServiceUnavailableException", Message: "down for a test"})
		return
	}
	if isCBOR(r) {
		serveCBOR(w, r, body, s.handler)
		return
	}
	s.handler(w, r, body)
}

// opOf returns the operation of a JSON (X-Amz-Target) or query request.
func opOf(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if i := strings.LastIndexByte(t, '.'); i >= 0 {
			return t[i+1:]
		}
		return t
	}
	return ""
}

// takeRequestFault returns the fault for op, consuming one use of it.
func (s *server) takeRequestFault(op string) *RequestFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.reqFaults {
		if !(f.Op == "*" || f.Op == op || (f.Op == "" && (op == s.putOp || op == "PutRecord"))) {
			continue
		}
		g := *f
		if f.Requests > 0 {
			f.Requests--
			if f.Requests == 0 {
				s.reqFaults = append(s.reqFaults[:i:i], s.reqFaults[i+1:]...)
			}
		}
		return &g
	}
	return nil
}

// recordFailures decides which of n entries fail; nil when none.
func (s *server) recordFailures(datas [][]byte, defCode, defMsg string) []string {
	s.mu.Lock()
	f := s.recordFault
	if f != nil && f.Requests > 0 {
		f.Requests--
		if f.Requests == 0 {
			s.recordFault = nil
		}
	}
	s.mu.Unlock()
	if f == nil {
		return nil
	}
	code, msg := f.Code, f.Message
	if code == "" {
		code = defCode
	}
	if msg == "" {
		msg = defMsg
	}
	out := make([]string, len(datas))
	for i, d := range datas {
		var fail bool
		if f.Match != nil {
			fail = f.Match(d)
		} else {
			// Entry i fails when the running count floor((i+1)·fraction)
			// steps up: evenly spread, exact total.
			fail = math.Floor(float64(i+1)*f.Fraction) > math.Floor(float64(i)*f.Fraction)
		}
		if fail {
			out[i] = code + "\x00" + msg
		}
	}
	return out
}

func (s *server) appendLog(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, r)
}

// writeFault answers with a whole-request error in the AWS JSON 1.1 form.
func (s *server) writeFault(w http.ResponseWriter, r *http.Request, f *RequestFault) {
	if f.Code == "" {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, "<html><body>%d %s</body></html>", f.Status, http.StatusText(f.Status))
		return
	}
	writeJSONError(w, f.Status, f.Code, f.Message)
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code+":")
	w.Header().Set("X-Amzn-RequestId", strconv.FormatInt(time.Now().UnixNano(), 36))
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeJSONError(w, 500, "InternalFailure", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", strconv.FormatInt(time.Now().UnixNano(), 36))
	w.Write(b)
}

// badRequest is a validation failure to answer as a JSON error.
type badRequest struct {
	status  int
	code    string
	message string
}

func (e *badRequest) Error() string { return e.code + ": " + e.message }

func asBadRequest(err error) *badRequest {
	var b *badRequest
	if errors.As(err, &b) {
		return b
	}
	return &badRequest{400, "SerializationException", err.Error()}
}
