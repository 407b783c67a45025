package sink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/fxamacker/cbor/v2"
)

// cborEndpoint is an HTTP client standing in for Kinesis: it keeps the
// last request and answers PutRecords in CBOR, failing the entries whose
// index is in fail, or the whole request with errCode.
type cborEndpoint struct {
	mu      sync.Mutex
	req     *http.Request
	body    []byte
	fail    map[int]bool
	errCode string
}

func (c *cborEndpoint) Do(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.req, c.body = r.Clone(context.Background()), body
	var in cborPut
	var out []byte
	status := 200
	if err := cbor.Unmarshal(body, &in); err != nil {
		status, out = 400, mustCBOR(map[string]string{"__type": "SerializationException", "message": err.Error()})
	} else if c.errCode != "" {
		status, out = 400, mustCBOR(map[string]string{"__type": c.errCode, "message": "Stream x under account 1 not found."})
	} else {
		a := cborAnswer{FailedRecordCount: new(int32), EncryptionType: "NONE"}
		for i := range in.Records {
			if c.fail[i] {
				*a.FailedRecordCount++
				a.Records = append(a.Records, cborResult{ErrorCode: aws.String("ProvisionedThroughputExceededException"), ErrorMessage: aws.String("Rate exceeded")})
				continue
			}
			a.Records = append(a.Records, cborResult{SequenceNumber: aws.String("4963" + strings.Repeat("1", 52)), ShardId: aws.String("shardId-000000000000")})
		}
		out = mustCBOR(a)
	}
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {cborContentType}},
		Body: io.NopCloser(bytes.NewReader(out)), Request: r}, nil
}

func mustCBOR(v any) []byte {
	b, err := cbor.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestCBORPutRecordsSignedAndExact: with the CBOR wire, PutRecords goes out
// as application/x-amz-cbor-1.1 with the PutRecords target, SigV4-signed
// over that content type and the CBOR body (the signature recomputed from
// the received request matches), carrying every record byte for byte; the
// CBOR answer's per-record failures and a CBOR error answer come back as
// with JSON.
func TestCBORPutRecordsSignedAndExact(t *testing.T) {
	ep := &cborEndpoint{}
	cfg := aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://127.0.0.1:1"),
		HTTPClient:   ep,
		Credentials: aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDCBOR", SecretAccessKey: "secret"}, nil
		})),
	}
	k, err := NewKinesis(cfg, "osquery", WithKinesisWire(WireCBOR))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 10))
	for round := range 20 {
		recs := make([]Record, 1+r.IntN(30))
		for i := range recs {
			recs[i] = Record{Data: randomData(r), PartitionKey: keys[r.IntN(len(keys)-1)]} // keys but ""
		}
		ep.fail = map[int]bool{}
		var wantFailed []int
		for i := range recs {
			if r.IntN(5) == 0 {
				ep.fail[i] = true
				wantFailed = append(wantFailed, i)
			}
		}
		res, err := k.Put(t.Context(), recs)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if len(res.Failed) != len(wantFailed) || (len(wantFailed) > 0 && (res.Failed[0] != wantFailed[0] || res.Codes[0] != "ProvisionedThroughputExceededException")) {
			t.Fatalf("round %d: failed %v %v, want %v", round, res.Failed, res.Codes, wantFailed)
		}
		h := ep.req.Header
		if ct := h.Get("Content-Type"); ct != "application/x-amz-cbor-1.1" {
			t.Fatalf("Content-Type %q", ct)
		}
		if tg := h.Get("X-Amz-Target"); tg != "Kinesis_20131202.PutRecords" {
			t.Fatalf("X-Amz-Target %q", tg)
		}
		auth := h.Get("Authorization")
		date := h.Get("X-Amz-Date")
		if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDCBOR/"+date[:8]+"/us-east-1/kinesis/aws4_request, SignedHeaders=") {
			t.Fatalf("Authorization %q", auth)
		}
		signed := strings.Split(strings.TrimPrefix(auth[strings.Index(auth, "SignedHeaders="):], "SignedHeaders="), ",")[0]
		for _, want := range []string{"content-type", "host", "x-amz-date", "x-amz-target"} {
			if !strings.Contains(";"+signed+";", ";"+want+";") {
				t.Errorf("header %s not signed: %s", want, signed)
			}
		}
		// Sign the received request again: the same signature means it
		// covers this body and these headers.
		at, err := time.Parse("20060102T150405Z", date)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := http.NewRequest(ep.req.Method, ep.req.URL.String(), bytes.NewReader(ep.body))
		again.Header = h.Clone()
		again.Header.Del("Authorization")
		again.ContentLength = int64(len(ep.body))
		sum := sha256.Sum256(ep.body)
		if err := v4.NewSigner().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: "AKIDCBOR", SecretAccessKey: "secret"},
			again, hex.EncodeToString(sum[:]), "kinesis", "us-east-1", at); err != nil {
			t.Fatal(err)
		}
		if got := again.Header.Get("Authorization"); got != auth {
			t.Fatalf("signature does not cover the CBOR request:\n sent %s\n again %s", auth, got)
		}
		var sent cborPut
		if err := cbor.Unmarshal(ep.body, &sent); err != nil {
			t.Fatal(err)
		}
		if aws.ToString(sent.StreamName) != "osquery" || len(sent.Records) != len(recs) {
			t.Fatalf("stream %q, %d records", aws.ToString(sent.StreamName), len(sent.Records))
		}
		for i, e := range sent.Records {
			if !bytes.Equal(e.Data, recs[i].Data) || aws.ToString(e.PartitionKey) != recs[i].PartitionKey {
				t.Fatalf("record %d: sent %q/%q, want %q/%q", i, e.Data, aws.ToString(e.PartitionKey), recs[i].Data, recs[i].PartitionKey)
			}
		}
		// Raw bytes: a record's data costs its length plus a few bytes of
		// CBOR header, not a third more as base64.
		var raw int
		for _, rec := range recs {
			raw += len(rec.Data) + len(rec.PartitionKey)
		}
		if len(ep.body) > raw+64+40*len(recs) {
			t.Errorf("CBOR body %d bytes for %d bytes of records", len(ep.body), raw)
		}
	}

	ep.errCode = "ResourceNotFoundException"
	_, err = k.Put(t.Context(), []Record{{Data: []byte("x"), PartitionKey: "k"}})
	var nf *types.ResourceNotFoundException
	if c := Classify(err); !errors.As(err, &nf) || c.Kind != Terminal || c.Code != "ResourceNotFoundException" {
		t.Fatalf("CBOR error answer: %v (%T), classified %v %s", err, err, c.Kind, c.Code)
	}
}
