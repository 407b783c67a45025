package sink

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kntypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// capture is an HTTP client that keeps the last request and answers 200 {}.
type capture struct {
	header http.Header
	body   []byte
}

func (c *capture) Do(r *http.Request) (*http.Response, error) {
	c.header = r.Header.Clone()
	c.body, _ = io.ReadAll(r.Body)
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
		Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

func captureConfig(c *capture) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://127.0.0.1:1"),
		HTTPClient:   c,
		Credentials: aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
		})),
	}
}

// Headers that differ between any two calls (time, ids, signature over
// them).
var volatile = []string{"Authorization", "X-Amz-Date", "Amz-Sdk-Invocation-Id", "Amz-Sdk-Request"}

func comparable(h http.Header) http.Header {
	h = h.Clone()
	for _, k := range volatile {
		h.Del(k)
	}
	return h
}

func randomData(r *rand.Rand) []byte {
	switch r.IntN(6) {
	case 0:
		return []byte{}
	case 1:
		return bytes.Repeat([]byte{byte(r.IntN(256))}, r.IntN(5))
	}
	b := make([]byte, r.IntN(3000))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

var keys = []string{"web-01", "4C4C4544-0042-3010-8051-B4C04F4E3232", "a/b:c", `quo"te`, `back\slash`, "héllo", "<tag>&", "tab\there", "\x7f", ""}

// putBodies must write exactly the body the SDK writes, with the same
// headers (content length and payload hash included), for every input the
// sinks send, and leave inputs it does not handle to the SDK.
func TestPutBodiesMatchSDK(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 60 {
		n := 1 + r.IntN(20)
		recs := make([]Record, n)
		for i := range recs {
			recs[i] = Record{Data: randomData(r), PartitionKey: keys[r.IntN(len(keys))]}
		}
		stream := []string{"bench", "my.stream-1_x", "arn:aws:kinesis:us-east-1:123456789012:stream/s1", `we"ird`}[round%4]
		var fast, slow capture
		k1, err := NewKinesis(captureConfig(&fast), stream)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := NewKinesis(captureConfig(&slow), stream, WithKinesisOptions(func(o *kinesis.Options) {
			o.Protocol = o.Protocol.(putBodies).ClientProtocol
		}))
		if err != nil {
			t.Fatal(err)
		}
		k1.Put(t.Context(), recs)
		k2.Put(t.Context(), recs)
		if len(slow.body) == 0 || !bytes.Equal(fast.body, slow.body) {
			t.Fatalf("round %d kinesis: body\n%.300q\nwant\n%.300q", round, fast.body, slow.body)
		}
		if a, b := comparable(fast.header), comparable(slow.header); !equalHeader(a, b) {
			t.Fatalf("round %d kinesis: headers\n%v\nwant\n%v", round, a, b)
		}

		fstream := []string{"bench", "my.stream-1_x", `we"ird`}[round%3]
		f1, err := NewFirehose(captureConfig(&fast), fstream)
		if err != nil {
			t.Fatal(err)
		}
		f2, err := NewFirehose(captureConfig(&slow), fstream, WithFirehoseOptions(func(o *firehose.Options) {
			o.Protocol = o.Protocol.(putBodies).ClientProtocol
		}))
		if err != nil {
			t.Fatal(err)
		}
		f1.Put(t.Context(), recs)
		f2.Put(t.Context(), recs)
		if len(slow.body) == 0 || !bytes.Equal(fast.body, slow.body) {
			t.Fatalf("round %d firehose: body\n%.300q\nwant\n%.300q", round, fast.body, slow.body)
		}
		if a, b := comparable(fast.header), comparable(slow.header); !equalHeader(a, b) {
			t.Fatalf("round %d firehose: headers\n%v\nwant\n%v", round, a, b)
		}
	}
}

func equalHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\x00") != strings.Join(b[k], "\x00") {
			return false
		}
	}
	return true
}

// The fast path must really be taken for ordinary input (not silently
// falling back), and refuse what it does not write.
func TestPutBodiesFastPath(t *testing.T) {
	pk := "web-01"
	in := &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: nil}
	if putRecordsBody(in) != nil {
		t.Error("nil Records: want the SDK's serializer")
	}
	in.Records = append(in.Records, kntypes.PutRecordsRequestEntry{Data: []byte("hi"), PartitionKey: &pk})
	if got := string(putRecordsBody(in)); got != `{"Records":[{"Data":"aGk=","PartitionKey":"web-01"}],"StreamName":"s"}` {
		t.Errorf("body %s", got)
	}
	in.Records[0].ExplicitHashKey = aws.String("1")
	if putRecordsBody(in) != nil {
		t.Error("ExplicitHashKey: want the SDK's serializer")
	}
	fin := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("d")}
	fin.Records = append(fin.Records, fhtypes.Record{Data: []byte("hi")})
	if got := string(putRecordBatchBody(fin)); got != `{"DeliveryStreamName":"d","Records":[{"Data":"aGk="}]}` {
		t.Errorf("body %s", got)
	}
	fin.DeliveryStreamName = aws.String("é")
	if putRecordBatchBody(fin) != nil {
		t.Error("non-ASCII name: want the SDK's serializer")
	}
}
