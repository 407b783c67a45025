package tinyproxytest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/osquery-syslog/osquery-syslog/forwarder/awsconf"
	"github.com/osquery-syslog/osquery-syslog/forwarder/sink"
	"github.com/osquery-syslog/osquery-syslog/test/awsfake"
	"github.com/osquery-syslog/osquery-syslog/test/tinyproxytest"
)

func cleanEnv(t *testing.T) {
	for _, k := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION",
		"AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS", "AWS_ENDPOINT_URL_STS", "AWS_CONFIG_FILE",
		"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy",
	} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/credentials")
}

func kinesisThroughProxy(t *testing.T, p *tinyproxytest.Proxy, fake *awsfake.Kinesis, user, pass string) (*sink.Kinesis, awsconf.Flags) {
	t.Helper()
	f := awsconf.Defaults()
	f.AccessKeyID, f.SecretAccessKey = "AKIDPROXY", "secret"
	f.KinesisEndpoint = fake.URL()
	f.EnableProxy, f.ProxyScheme, f.ProxyHost, f.ProxyPort = true, "http", p.Host(), uint(p.Port())
	f.ProxyUsername, f.ProxyPassword = user, pass
	cfg, err := awsconf.Load(t.Context(), f, awsconf.Kinesis, nil)
	if err != nil {
		t.Fatal(err)
	}
	k, err := sink.NewKinesis(cfg, "s", sink.WithKinesisOptions(func(o *kinesis.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, 10*time.Millisecond)
	}))
	if err != nil {
		t.Fatal(err)
	}
	return k, f
}

// The real SDK client built by awsconf.Load with the aws_proxy_* flags
// reaches the fake Kinesis server through tinyproxy, although the
// destination is a loopback address.
func TestKinesisThroughProxy(t *testing.T) {
	cleanEnv(t)
	p := tinyproxytest.StartT(t, tinyproxytest.Options{})
	fake := awsfake.NewKinesis(t, "s")
	k, _ := kinesisThroughProxy(t, p, fake, "", "")

	res, err := k.Put(t.Context(), []sink.Record{{Data: []byte(`{"via":"proxy"}`), PartitionKey: "h"}})
	if err != nil || !res.OK() {
		t.Fatalf("Put: %+v %v\nproxy log:\n%s", res, err, p.Log())
	}
	if got := fake.Records("s"); len(got) != 1 || string(got[0].Data) != `{"via":"proxy"}` {
		t.Fatalf("fake stored %+v", got)
	}
	reqs := p.WaitRequests(1, 5*time.Second)
	want := "POST " + fake.URL() + "/"
	var seen []string
	for _, r := range reqs {
		seen = append(seen, r.Method+" "+r.Target)
	}
	if len(reqs) != 1 || seen[0] != want {
		t.Fatalf("proxy saw %q, want [%q]\n%s", seen, want, p.Log())
	}

	// Without aws_enable_proxy nothing goes through the proxy.
	f := awsconf.Defaults()
	f.AccessKeyID, f.SecretAccessKey = "AKIDPROXY", "secret"
	f.KinesisEndpoint = fake.URL()
	f.ProxyHost, f.ProxyPort = p.Host(), uint(p.Port())
	cfg, err := awsconf.Load(t.Context(), f, awsconf.Kinesis, nil)
	if err != nil {
		t.Fatal(err)
	}
	direct, _ := sink.NewKinesis(cfg, "s")
	if _, err := direct.Put(t.Context(), []sink.Record{{Data: []byte("x"), PartitionKey: "h"}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if reqs, _ := p.Requests(); len(reqs) != 1 {
		t.Fatalf("proxy saw %d requests, want still 1", len(reqs))
	}
}

// aws_proxy_username / aws_proxy_password authenticate to the proxy.
func TestProxyBasicAuth(t *testing.T) {
	cleanEnv(t)
	p := tinyproxytest.StartT(t, tinyproxytest.Options{User: "osq", Password: "s3cret"})
	fake := awsfake.NewKinesis(t, "s")

	k, _ := kinesisThroughProxy(t, p, fake, "osq", "s3cret")
	if res, err := k.Put(t.Context(), []sink.Record{{Data: []byte("a"), PartitionKey: "h"}}); err != nil || !res.OK() {
		t.Fatalf("with credentials: %+v %v\n%s", res, err, p.Log())
	}
	k, _ = kinesisThroughProxy(t, p, fake, "osq", "wrong")
	_, err := k.Put(t.Context(), []sink.Record{{Data: []byte("b"), PartitionKey: "h"}})
	// tinyproxy 1.11 answers a bad proxy password with 401, not 407.
	if c := sink.Classify(err); c.Kind != sink.Terminal || (c.Code != "HTTP401" && c.Code != "HTTP407") {
		t.Fatalf("wrong password: Classify(%v) = %+v", err, c)
	}
	if n := len(fake.Records("s")); n != 1 {
		t.Fatalf("fake stored %d records, want 1", n)
	}
}

// A plain net/http check of the harness itself: CONNECT lines are parsed.
func TestConnectLogged(t *testing.T) {
	p := tinyproxytest.StartT(t, tinyproxytest.Options{})
	fake := awsfake.NewFirehose(t, "d")
	pu, _ := url.Parse(p.URL())
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
	// An https:// URL makes the client tunnel with CONNECT; the TLS
	// handshake then fails against the plain-HTTP fake, which is fine here.
	target := strings.Replace(fake.URL(), "http://", "https://", 1)
	if resp, err := c.Get(target); err == nil {
		resp.Body.Close()
	}
	reqs := p.WaitRequests(1, 5*time.Second)
	if len(reqs) == 0 || reqs[0].Method != "CONNECT" || reqs[0].Target != strings.TrimPrefix(fake.URL(), "http://") {
		t.Fatalf("requests %+v\n%s", reqs, p.Log())
	}
}
