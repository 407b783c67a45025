package awsconf

import (
	"bufio"
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/osquery-syslog/osquery-syslog/test/awsfake"
)

// heldConn holds the write that completes a request (the last byte of its
// Content-Length body) until the test releases it: the writeLoop is
// descheduled right after the service got the whole request, the moment a
// loaded host produced "use of closed network connection" on HTTP 200s.
type heldConn struct {
	net.Conn
	release chan struct{} // one receive per request
	hdr     []byte        // header bytes of the request being written
	left    int           // body bytes still to come; -1 while in headers
}

func (c *heldConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if c.completes(p[:n]) {
		select {
		case <-c.release:
		case <-time.After(10 * time.Second): // never hang the test
		}
	}
	return n, err
}

// completes accounts for written bytes and reports whether they end a
// request.
func (c *heldConn) completes(p []byte) bool {
	for len(p) > 0 {
		if c.left < 0 {
			c.hdr = append(c.hdr, p...)
			i := bytes.Index(c.hdr, []byte("\r\n\r\n"))
			if i < 0 {
				return false
			}
			req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(c.hdr[:i+4])))
			if err != nil {
				return false
			}
			p = c.hdr[i+4:]
			c.hdr, c.left = nil, int(req.ContentLength)
			continue
		}
		n := min(len(p), c.left)
		c.left -= n
		p = p[n:]
		if c.left == 0 {
			c.left = -1
			return len(p) == 0
		}
	}
	return false
}

// TestAnswerBeforeBodyDrainKeepsConnection is the regression test of the
// duplicates seen under per-record throttling: the service answers a
// PutRecords (HTTP 200, some entries throttled) while net/http's writeLoop
// has not yet made its final read of the request body, and the SDK closes
// that body as soon as the answer's headers arrive. Through the SDK's own
// client the late read failed with io.EOF, the writeLoop closed the
// connection under the answer being read, and the SDK resent the whole
// request. The client Load installs must finish every request write
// cleanly, need one attempt per request and deliver every record once.
func TestAnswerBeforeBodyDrainKeepsConnection(t *testing.T) {
	cleanEnv(t, t.TempDir())
	fake := awsfake.NewKinesis(t, "s")
	fake.FailRecords(awsfake.RecordFault{Fraction: 0.3})
	f := Defaults()
	f.AccessKeyID, f.SecretAccessKey = "AKID", "secret"
	f.KinesisEndpoint = fake.URL()
	cfg, err := Load(t.Context(), f, Kinesis, nil)
	if err != nil {
		t.Fatal(err)
	}
	hc, ok := cfg.HTTPClient.(*httpClient)
	if !ok {
		t.Fatalf("HTTPClient is %T", cfg.HTTPClient)
	}

	release := make(chan struct{})
	var mu sync.Mutex
	dials := 0
	hc.BuildableClient = hc.BuildableClient.WithTransportOptions(func(tr *http.Transport) {
		dial := tr.DialContext
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			mu.Lock()
			dials++
			mu.Unlock()
			return &heldConn{Conn: c, release: release, left: -1}, nil
		}
	})

	// Between the SDK and hc: once the answer is back, close the request
	// body as the SDK does, then let the held write go on and wait for the
	// request write's outcome.
	var writeErrs []error
	cfg.HTTPClient = smithyhttp.ClientDoFunc(func(req *http.Request) (*http.Response, error) {
		wrote := make(chan error, 1)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			WroteRequest: func(i httptrace.WroteRequestInfo) { wrote <- i.Err },
		}))
		resp, err := hc.Do(req)
		if req.Body != nil {
			req.Body.Close()
		}
		select {
		case release <- struct{}{}:
		case <-time.After(10 * time.Second):
			t.Error("no request write was held")
		}
		select {
		case err := <-wrote:
			if err != nil {
				writeErrs = append(writeErrs, err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the request write never finished")
		}
		return resp, err
	})
	client := kinesis.NewFromConfig(cfg)

	// Bodies well above net/http's 4 KiB write buffer, answers too.
	const puts, perPut = 8, 60
	sent := map[string]bool{}
	for p := range puts {
		entries := make([]types.PutRecordsRequestEntry, perPut)
		for i := range entries {
			d := fmt.Sprintf("put %d record %d %0400d", p, i, i)
			sent[d] = true
			entries[i] = types.PutRecordsRequestEntry{Data: []byte(d), PartitionKey: aws.String(strconv.Itoa(i))}
		}
		out, err := client.PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: entries})
		if err != nil {
			t.Fatalf("put %d: %v", p, err)
		}
		if ar, ok := retry.GetAttemptResults(out.ResultMetadata); ok && len(ar.Results) != 1 {
			for _, a := range ar.Results {
				t.Errorf("put %d: SDK attempt: retried=%v err=%v", p, a.Retried, a.Err)
			}
		}
		if aws.ToInt32(out.FailedRecordCount) == 0 {
			t.Errorf("put %d: no entry throttled; the fault is not applied", p)
		}
	}
	for _, err := range writeErrs {
		t.Errorf("request write failed after the answer came (closes the connection under the answer): %v", err)
	}
	counts := map[string]int{}
	for _, r := range fake.Records("s") {
		counts[string(r.Data)]++
	}
	for d, n := range counts {
		if n != 1 || !sent[d] {
			t.Errorf("record stored %d times (sent: %v): %.30q", n, sent[d], d)
		}
	}
	if got := len(fake.Puts()); got != puts {
		t.Errorf("fake received %d PutRecords, want %d", got, puts)
	}
	mu.Lock()
	defer mu.Unlock()
	if dials != 1 {
		t.Errorf("%d connections dialed for %d sequential requests, want 1 reused", dials, puts)
	}
}

// TestProfileWithCABundle: a profile that needs the SDK's own loader (here
// credential_process) still resolves with AWS_CA_BUNDLE set; the loader
// adds the bundle only to the SDK's BuildableClient type.
func TestProfileWithCABundle(t *testing.T) {
	dir := t.TempDir()
	cleanEnv(t, dir)
	tls := httptest.NewTLSServer(http.NotFoundHandler())
	defer tls.Close()
	bundle := filepath.Join(dir, "ca.pem")
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tls.Certificate().Raw})
	proc := filepath.Join(dir, "creds.sh")
	files := map[string]string{
		bundle:                            string(pemCert),
		proc:                              "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"PROC_ID\", \"SecretAccessKey\": \"proc_secret\"}'\n",
		filepath.Join(dir, "credentials"): "",
		filepath.Join(dir, "config"):      "[profile proc]\ncredential_process = " + proc + "\n",
	}
	for name, body := range files {
		if err := os.WriteFile(name, []byte(body), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("AWS_CA_BUNDLE", bundle)
	f := Defaults()
	f.ProfileName, f.Region = "proc", "us-east-1"
	cfg, err := Load(t.Context(), f, Kinesis, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessKeyID != "PROC_ID" || got.Source != SourceProfile {
		t.Fatalf("got %s from %q, want PROC_ID from %q", got.AccessKeyID, got.Source, SourceProfile)
	}
}
