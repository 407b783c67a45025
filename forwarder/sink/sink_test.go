package sink_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/osquery-syslog/osquery-syslog/forwarder/awsconf"
	"github.com/osquery-syslog/osquery-syslog/forwarder/sink"
	"github.com/osquery-syslog/osquery-syslog/test/awsfake"
	"github.com/osquery-syslog/osquery-syslog/test/kinesismock"
)

// cleanEnv keeps the machine's AWS settings out of the tests.
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION",
		"AWS_DEFAULT_REGION", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_KINESIS", "AWS_ENDPOINT_URL_FIREHOSE", "AWS_ENDPOINT_URL_STS", "AWS_CONFIG_FILE",
		"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy",
	} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/credentials")
}

// flags returns base flags with static keys.
func flags(t *testing.T) awsconf.Flags {
	cleanEnv(t)
	f := awsconf.Defaults()
	f.AccessKeyID, f.SecretAccessKey = "AKIDBASE", "base-secret"
	return f
}

func load(t *testing.T, f awsconf.Flags, service string) aws.Config {
	t.Helper()
	cfg, err := awsconf.Load(t.Context(), f, service, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newKinesis(t *testing.T, fake *awsfake.Kinesis, stream string, opts ...sink.Option) *sink.Kinesis {
	t.Helper()
	f := flags(t)
	f.KinesisEndpoint = fake.URL()
	k, err := sink.NewKinesis(load(t, f, awsconf.Kinesis), stream, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newFirehose(t *testing.T, fake *awsfake.Firehose, stream string) *sink.Firehose {
	t.Helper()
	f := flags(t)
	f.FirehoseEndpoint = fake.URL()
	s, err := sink.NewFirehose(load(t, f, awsconf.Firehose), stream)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func records(n int, pk string) []sink.Record {
	recs := make([]sink.Record, n)
	for i := range recs {
		recs[i] = sink.Record{Data: fmt.Appendf(nil, `{"n":%d}`, i), PartitionKey: pk}
	}
	return recs
}

func datas(es []awsfake.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, string(e.Data))
	}
	return out
}

func recDatas(rs []sink.Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, string(r.Data))
	}
	return out
}

func TestKinesisRoundTrip(t *testing.T) {
	fake := awsfake.NewKinesis(t, "s")
	k := newKinesis(t, fake, "s")
	if k.Name() != "kinesis" || k.Stream() != "s" {
		t.Fatalf("name %q stream %q", k.Name(), k.Stream())
	}
	recs := records(3, "host-a")
	recs[2].PartitionKey = "host-b"
	res, err := k.Put(t.Context(), recs)
	if err != nil || !res.OK() {
		t.Fatalf("Put: %+v, %v", res, err)
	}
	got := fake.Records("s")
	if !slices.Equal(datas(got), recDatas(recs)) || got[0].PartitionKey != "host-a" || got[2].PartitionKey != "host-b" {
		t.Fatalf("stored %+v", got)
	}
	puts := fake.Puts()
	if len(puts) != 1 || puts[0].AccessKey != "AKIDBASE" {
		t.Fatalf("puts %+v", puts)
	}
	if res, err := k.Put(t.Context(), nil); err != nil || !res.OK() || len(fake.Puts()) != 1 {
		t.Fatal("empty Put must not call the service")
	}

	// A stream ARN works as the stream flag.
	k2, err := sink.NewKinesis(load(t, func() awsconf.Flags { f := flags(t); f.KinesisEndpoint = fake.URL(); return f }(), awsconf.Kinesis), awsfake.StreamARN("s"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k2.Put(t.Context(), records(1, "pk")); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Records("s")); n != 4 {
		t.Fatalf("%d records after the ARN put", n)
	}
}

// Per-record failures come back in Result; resending only those delivers
// every record exactly once.
func TestKinesisPartialFailure(t *testing.T) {
	fake := awsfake.NewKinesis(t, "s")
	k := newKinesis(t, fake, "s")
	fake.FailRecords(awsfake.RecordFault{Fraction: 0.25, Requests: 1})
	recs := records(8, "pk")
	res, err := k.Put(t.Context(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Failed, []int{3, 7}) {
		t.Fatalf("failed %v, want [3 7]", res.Failed)
	}
	for _, c := range res.Codes {
		if c != "ProvisionedThroughputExceededException" || sink.ClassifyCode(c) != sink.Retryable {
			t.Fatalf("code %q", c)
		}
	}
	if !strings.Contains(res.Message, "Rate exceeded") {
		t.Fatalf("message %q", res.Message)
	}
	var again []sink.Record
	for _, i := range res.Failed {
		again = append(again, recs[i])
	}
	res, err = k.Put(t.Context(), again)
	if err != nil || !res.OK() {
		t.Fatalf("resend: %+v %v", res, err)
	}
	if sizes := fake.PutSizes(); !slices.Equal(sizes, []int{8, 2}) {
		t.Fatalf("records per attempt %v, want [8 2]", sizes)
	}
	got := datas(fake.Records("s"))
	slices.Sort(got)
	want := recDatas(recs)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("stored %v, want each of %v once", got, want)
	}

	// InternalFailure on chosen records.
	fake.FailRecords(awsfake.RecordFault{Match: func(d []byte) bool { return string(d) == `{"n":1}` }, Code: "InternalFailure", Requests: 1})
	res, err = k.Put(t.Context(), records(3, "pk"))
	if err != nil || !slices.Equal(res.Failed, []int{1}) || res.Codes[0] != "InternalFailure" {
		t.Fatalf("match fault: %+v %v", res, err)
	}
}

func TestFirehoseRoundTripAndPartialFailure(t *testing.T) {
	fake := awsfake.NewFirehose(t, "d")
	fh := newFirehose(t, fake, "d")
	if fh.Name() != "firehose" || fh.Limits() != sink.FirehoseLimits() {
		t.Fatalf("name %q limits %+v", fh.Name(), fh.Limits())
	}
	info, err := fh.Describe(t.Context())
	if err != nil || info.Status != "ACTIVE" || info.ARN != awsfake.DeliveryStreamARN("d") {
		t.Fatalf("Describe: %+v %v", info, err)
	}
	fake.FailRecords(awsfake.RecordFault{Fraction: 0.5})
	recs := records(4, "ignored")
	res, err := fh.Put(t.Context(), recs)
	if err != nil || !slices.Equal(res.Failed, []int{1, 3}) || res.Codes[0] != "ServiceUnavailableException" {
		t.Fatalf("Put: %+v %v", res, err)
	}
	fake.FailRecords(awsfake.RecordFault{})
	if res, err := fh.Put(t.Context(), []sink.Record{recs[1], recs[3]}); err != nil || !res.OK() {
		t.Fatalf("resend: %+v %v", res, err)
	}
	if got := datas(fake.Records("d")); !slices.Equal(got, []string{`{"n":0}`, `{"n":2}`, `{"n":1}`, `{"n":3}`}) {
		t.Fatalf("stored %v", got)
	}
	if sizes := fake.PutSizes(); !slices.Equal(sizes, []int{4, 2}) {
		t.Fatalf("records per attempt %v", sizes)
	}
	// An ARN names the delivery stream.
	f := flags(t)
	f.FirehoseEndpoint = fake.URL()
	fh2, err := sink.NewFirehose(load(t, f, awsconf.Firehose), awsfake.DeliveryStreamARN("d"))
	if err != nil || fh2.Stream() != "d" {
		t.Fatalf("ARN: %v %v", fh2, err)
	}
}

// fastRetries keeps the SDK's attempt count but shortens its backoff.
var fastRetries = sink.WithKinesisOptions(func(o *kinesis.Options) {
	o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, 10*time.Millisecond)
})

func TestWholeRequestErrors(t *testing.T) {
	fake := awsfake.NewKinesis(t, "s")
	k := newKinesis(t, fake, "s", fastRetries)
	tests := []struct {
		name     string
		fault    func()
		kind     sink.Kind
		code     string
		attempts int // requests the server sees: the SDK retries retryable errors
	}{
		{"missing stream", func() { fake.DeleteStream("s") }, sink.Terminal, "ResourceNotFoundException", 1},
		{"access denied", func() {
			fake.FailRequests(awsfake.RequestFault{Code: "AccessDeniedException", Requests: 1})
		}, sink.Terminal, "AccessDeniedException", 1},
		{"500 internal failure", func() {
			fake.FailRequests(awsfake.RequestFault{Status: 500, Code: "InternalFailure"})
		}, sink.Retryable, "InternalFailure", awsconf.SDKMaxAttempts},
		{"503 html", func() { fake.FailRequests(awsfake.RequestFault{Status: 503}) }, sink.Retryable, "HTTP503", awsconf.SDKMaxAttempts},
		{"throttled request", func() {
			fake.FailRequests(awsfake.RequestFault{Code: "ProvisionedThroughputExceededException"})
		}, sink.Retryable, "ProvisionedThroughputExceededException", awsconf.SDKMaxAttempts},
		{"KMS disabled", func() { fake.FailRequests(awsfake.RequestFault{Code: "KMSDisabledException"}) }, sink.Terminal, "KMSDisabledException", 1},
		{"down 503", func() { fake.Down(0, awsfake.DownUnavailable) }, sink.Retryable, "ServiceUnavailableException", awsconf.SDKMaxAttempts},
		{"down refused", func() { fake.Down(0, awsfake.DownRefuse) }, sink.Retryable, sink.CodeNetwork, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.ClearFaults()
			fake.AddStream("s", 1, 0)
			fake.ResetLog()
			tt.fault()
			res, err := k.Put(t.Context(), records(2, "pk"))
			if err == nil {
				t.Fatalf("no error, result %+v", res)
			}
			if c := sink.Classify(err); c.Kind != tt.kind || c.Code != tt.code {
				t.Fatalf("Classify(%v) = %+v, want %v %s", err, c, tt.kind, tt.code)
			}
			if n := len(fake.Requests()); n != tt.attempts {
				t.Fatalf("server saw %d attempts, want %d", n, tt.attempts)
			}
			if n := len(fake.Records("s")); n != 0 {
				t.Fatalf("%d records stored", n)
			}
		})
	}

	// A transient 503 is absorbed by the SDK's retries.
	fake.ClearFaults()
	fake.ResetLog()
	fake.FailRequests(awsfake.RequestFault{Status: 503, Code: "ServiceUnavailableException", Requests: 1})
	if res, err := k.Put(t.Context(), records(2, "pk")); err != nil || !res.OK() {
		t.Fatalf("after one 503: %+v %v", res, err)
	}
	if sizes := fake.PutSizes(); !slices.Equal(sizes, []int{2, 2}) {
		t.Fatalf("attempts %v", sizes)
	}

	// A short outage with refused connections ends by itself.
	fake.Down(300*time.Millisecond, awsfake.DownRefuse)
	if _, err := k.Put(t.Context(), records(1, "pk")); err == nil {
		t.Log("the SDK's retries outlasted the outage")
	}
	time.Sleep(400 * time.Millisecond)
	if res, err := k.Put(t.Context(), records(1, "pk")); err != nil || !res.OK() {
		t.Fatalf("after the outage: %+v %v", res, err)
	}
}

// The fake enforces the service limits; an oversize request is Rejected.
func TestOversizeRejected(t *testing.T) {
	fake := awsfake.NewKinesis(t, "s")
	k := newKinesis(t, fake, "s")
	big := sink.Record{Data: make([]byte, sink.KinesisMaxRecordBytes), PartitionKey: "pk"} // data+key > 1 MiB
	_, err := k.Put(t.Context(), []sink.Record{big})
	if c := sink.Classify(err); c.Kind != sink.Rejected || c.Code != "ValidationException" {
		t.Fatalf("Classify(%v) = %+v", err, c)
	}
	fit := sink.Record{Data: make([]byte, sink.KinesisMaxRecordBytes-2), PartitionKey: "pk"}
	if l := k.Limits(); l.Size(fit) != l.MaxRecordBytes {
		t.Fatalf("size %d, limit %d", l.Size(fit), l.MaxRecordBytes)
	}
	if res, err := k.Put(t.Context(), []sink.Record{fit}); err != nil || !res.OK() {
		t.Fatalf("maximal record: %+v %v", res, err)
	}
	six := make([]sink.Record, 6)
	for i := range six {
		six[i] = sink.Record{Data: make([]byte, 1000*1024), PartitionKey: "pk"}
	}
	_, err = k.Put(t.Context(), six)
	if c := sink.Classify(err); c.Kind != sink.Rejected || c.Code != "InvalidArgumentException" {
		t.Fatalf("6 MB request: Classify(%v) = %+v", err, c)
	}
}

func TestKinesisDescribeLimits(t *testing.T) {
	fake := awsfake.NewKinesis(t, "small")
	fake.AddStream("large", 2, 10240)
	k := newKinesis(t, fake, "small")
	if l := k.Limits(); l != sink.KinesisLimits(0) || l.MaxRecordBytes != 1<<20 || l.MaxBatchBytes != 5<<20 || l.MaxRecords != 500 || !l.CountPartitionKey {
		t.Fatalf("default limits %+v", l)
	}
	info, err := k.Describe(t.Context())
	if err != nil || info.MaxRecordKiB != 0 || info.Status != "ACTIVE" || k.Limits().MaxRecordBytes != 1<<20 {
		t.Fatalf("small: %+v %v %+v", info, err, k.Limits())
	}
	k = newKinesis(t, fake, "large")
	info, err = k.Describe(t.Context())
	if err != nil || info.MaxRecordKiB != 10240 || info.OpenShards != 2 {
		t.Fatalf("large: %+v %v", info, err)
	}
	if l := k.Limits(); l.MaxRecordBytes != 10<<20 || l.MaxBatchBytes != 10<<20 {
		t.Fatalf("large limits %+v", l)
	}
	big := sink.Record{Data: make([]byte, 3<<20), PartitionKey: "pk"}
	if res, err := k.Put(t.Context(), []sink.Record{big}); err != nil || !res.OK() {
		t.Fatalf("3 MiB record on a large-record stream: %+v %v", res, err)
	}

	// Fixed limits are not overwritten; a failing Describe keeps them.
	f := flags(t)
	f.KinesisEndpoint = fake.URL()
	fixed := sink.Limits{MaxRecords: 100, MaxBatchBytes: 1 << 20, MaxRecordBytes: 1 << 19, CountPartitionKey: true}
	k, _ = sink.NewKinesis(load(t, f, awsconf.Kinesis), "large", sink.WithLimits(fixed))
	if _, err := k.Describe(t.Context()); err != nil || k.Limits() != fixed {
		t.Fatalf("fixed limits: %+v %v", k.Limits(), err)
	}
	k = newKinesis(t, fake, "missing")
	if _, err := k.Describe(t.Context()); sink.Classify(err).Code != "ResourceNotFoundException" || k.Limits() != sink.KinesisLimits(0) {
		t.Fatalf("missing stream: %v %+v", err, k.Limits())
	}
}

// With aws_sts_arn_role and aws_sts_endpoint, AssumeRole is signed with the
// base key and the stream sees requests signed with the role's key.
func TestAssumeRole(t *testing.T) {
	sts := awsfake.NewSTS(t)
	sts.Lifetime = time.Minute + 2*time.Second // refreshed a minute early: ~2 s of use
	fake := awsfake.NewKinesis(t, "s")
	f := flags(t)
	f.STSARNRole = "arn:aws:iam::123456789012:role/osquery-logger"
	f.STSSessionName = "osquery-host-1"
	f.STSTimeout = 900
	f.STSEndpoint = sts.URL()
	f.KinesisEndpoint = fake.URL()
	k, err := sink.NewKinesis(load(t, f, awsconf.Kinesis), "s")
	if err != nil {
		t.Fatal(err)
	}
	if sts.Issued() != 0 {
		t.Fatal("Load must not call STS")
	}
	for range 2 {
		if _, err := k.Put(t.Context(), records(1, "pk")); err != nil {
			t.Fatal(err)
		}
	}
	ars := sts.AssumeRoles()
	if len(ars) != 1 {
		t.Fatalf("%d AssumeRole calls, want 1 (cached)", len(ars))
	}
	ar := ars[0]
	if ar.AccessKey != "AKIDBASE" || ar.Form["RoleArn"] != f.STSARNRole || ar.Form["RoleSessionName"] != "osquery-host-1" || ar.Form["DurationSeconds"] != "900" {
		t.Fatalf("AssumeRole request %+v", ar)
	}
	for _, p := range fake.Puts() {
		if p.AccessKey != awsfake.IssuedKey(1) || p.SessionToken != "fake-token-1" {
			t.Fatalf("put signed by %q token %q, want the role's key %q", p.AccessKey, p.SessionToken, awsfake.IssuedKey(1))
		}
	}

	// After expiry the role is assumed again.
	time.Sleep(2500 * time.Millisecond)
	if _, err := k.Put(t.Context(), records(1, "pk")); err != nil {
		t.Fatal(err)
	}
	puts := fake.Puts()
	if last := puts[len(puts)-1]; last.AccessKey != awsfake.IssuedKey(2) || sts.Issued() != 2 {
		t.Fatalf("after expiry: signed by %q, %d issued", last.AccessKey, sts.Issued())
	}

	// The server saying the token expired drops the cached credentials.
	fake.FailRequests(awsfake.RequestFault{Code: "ExpiredTokenException", Message: "The security token included in the request is expired"})
	_, err = k.Put(t.Context(), records(1, "pk"))
	if c := sink.Classify(err); c.Kind != sink.Retryable || c.Code != "ExpiredTokenException" {
		t.Fatalf("Classify(%v) = %+v", err, c)
	}
	fake.ClearFaults()
	if _, err := k.Put(t.Context(), records(1, "pk")); err != nil {
		t.Fatal(err)
	}
	puts = fake.Puts()
	if last := puts[len(puts)-1]; last.AccessKey == awsfake.IssuedKey(2) {
		t.Fatalf("still signing with %q after ExpiredTokenException", last.AccessKey)
	}

	// AssumeRole refused: the sink fails closed, never signing with the
	// base key.
	sts.FailRequests(awsfake.RequestFault{Status: 403, Code: "AccessDenied", Message: "not authorized to perform sts:AssumeRole"})
	cfg := load(t, f, awsconf.Kinesis)
	k, _ = sink.NewKinesis(cfg, "s")
	fake.ResetLog()
	_, err = k.Put(t.Context(), records(1, "pk"))
	if c := sink.Classify(err); c.Kind != sink.Terminal || c.Code != "AccessDenied" {
		t.Fatalf("Classify(%v) = %+v", err, c)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("%d requests reached the stream without role credentials", n)
	}
}

func TestKinesisMockRoundTrip(t *testing.T) {
	m := kinesismock.StartT(t, "events:2")
	f := flags(t)
	f.KinesisEndpoint = m.Endpoint()
	f.Region = kinesismock.Region
	k, err := sink.NewKinesis(load(t, f, awsconf.Kinesis), "events")
	if err != nil {
		t.Fatal(err)
	}
	info, err := k.Describe(t.Context())
	if err != nil || info.Status != "ACTIVE" || info.OpenShards != 2 {
		t.Fatalf("Describe: %+v %v", info, err)
	}
	if k.Limits().MaxRecordBytes != 1<<20 {
		t.Fatalf("limits %+v", k.Limits())
	}
	recs := records(50, "")
	for i := range recs {
		recs[i].PartitionKey = fmt.Sprintf("host-%d", i%7)
	}
	res, err := k.Put(t.Context(), recs)
	if err != nil || !res.OK() {
		t.Fatalf("Put: %+v %v", res, err)
	}
	got, err := m.ReadAll(t.Context(), "events")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, r := range recs {
		want[string(r.Data)] = r.PartitionKey
	}
	if len(got) != len(recs) {
		t.Fatalf("read %d records, want %d", len(got), len(recs))
	}
	for _, r := range got {
		if want[string(r.Data)] != r.PartitionKey {
			t.Fatalf("record %q key %q", r.Data, r.PartitionKey)
		}
	}
	k, _ = sink.NewKinesis(load(t, f, awsconf.Kinesis), "nope")
	_, err = k.Put(t.Context(), recs[:1])
	if c := sink.Classify(err); c.Kind != sink.Terminal || c.Code != "ResourceNotFoundException" {
		t.Fatalf("missing stream on kinesis-mock: Classify(%v) = %+v", err, c)
	}
}

// AWS_ENDPOINT_URL_KINESIS applies without the endpoint flag; the flag
// beats it.
func TestEndpointEnv(t *testing.T) {
	fake := awsfake.NewKinesis(t, "s")
	f := flags(t)
	t.Setenv("AWS_ENDPOINT_URL_KINESIS", fake.URL())
	k, _ := sink.NewKinesis(load(t, f, awsconf.Kinesis), "s")
	if _, err := k.Put(t.Context(), records(1, "pk")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL_KINESIS", "http://127.0.0.1:1")
	f.KinesisEndpoint = fake.URL()
	k, _ = sink.NewKinesis(load(t, f, awsconf.Kinesis), "s")
	if _, err := k.Put(t.Context(), records(1, "pk")); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Records("s")); n != 2 {
		t.Fatalf("%d records", n)
	}
}

// BenchmarkKinesisPut measures one PutRecords of 500 × 1 KiB records
// through the real SDK client to the in-process fake (SDK JSON/base64
// encoding, signing, HTTP on loopback, fake decoding).
func BenchmarkKinesisPut(b *testing.B) {
	fake := awsfake.NewKinesis(b, "s")
	f := awsconf.Defaults()
	f.AccessKeyID, f.SecretAccessKey, f.Region = "AKIDBENCH", "secret", "us-east-1"
	f.KinesisEndpoint = fake.URL()
	cfg, err := awsconf.Load(b.Context(), f, awsconf.Kinesis, nil)
	if err != nil {
		b.Fatal(err)
	}
	k, _ := sink.NewKinesis(cfg, "s")
	recs := make([]sink.Record, 500)
	for i := range recs {
		recs[i] = sink.Record{Data: make([]byte, 1024), PartitionKey: "host-1"}
	}
	b.SetBytes(500 * 1024)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Put(b.Context(), recs); err != nil {
			b.Fatal(err)
		}
		fake.AddStream("s", 1, 0) // drop what the fake kept
		fake.ResetLog()
	}
}
