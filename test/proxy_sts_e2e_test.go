package test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/test/awsfake"
	"github.com/osquery-syslog/osquery-syslog/test/tinyproxytest"
)

// TestKinesisThroughProxyWithAssumedRole runs the whole binary with
// osquery's proxy and STS options: requests visibly pass tinyproxy, and the
// records arrive signed with the credentials the AssumeRole server issued,
// not with the base keys.
func TestKinesisThroughProxyWithAssumedRole(t *testing.T) {
	const stream = "osquery_results"
	k := awsfake.NewKinesis(t, stream)
	sts := awsfake.NewSTS(t)
	proxy := tinyproxytest.StartT(t, tinyproxytest.Options{})
	e := newEnv(t)
	p, _ := e.start(t, kinesisFakeFlags(e, k, stream,
		"--aws_enable_proxy",
		"--aws_proxy_scheme", "http",
		"--aws_proxy_host", proxy.Host(),
		"--aws_proxy_port", strconv.Itoa(proxy.Port()),
		"--aws_sts_arn_role", "arn:aws:iam::123456789012:role/osquery-logger",
		"--aws_sts_session_name", "osquery-syslog-test",
		"--aws_sts_region", "us-east-1",
		"--aws_sts_endpoint", sts.URL(),
	)...)
	defer p.terminate(30 * time.Second)

	const n = 50
	sendLines(t, e, p, "kinesis", 0, n)
	eventually(t, time.Minute, "records at the fake", func() error {
		// The aggregate carrying all n lines (one partition key) arrived.
		if got := len(k.Records(stream)); got < 1 {
			return fmt.Errorf("%d records", got)
		}
		return nil
	})
	var puts int
	for _, r := range k.Puts() {
		puts++
		if !strings.HasPrefix(r.AccessKey, "ASIAFAKE") {
			t.Errorf("PutRecords signed with %q, want the assumed role's key", r.AccessKey)
		}
	}
	if puts == 0 {
		t.Fatal("no PutRecords reached the fake")
	}
	roles := sts.AssumeRoles()
	if len(roles) == 0 || roles[0].Form["RoleArn"] != "arn:aws:iam::123456789012:role/osquery-logger" || roles[0].Form["RoleSessionName"] != "osquery-syslog-test" {
		t.Errorf("AssumeRole requests: %+v", roles)
	}
	reqs := proxy.WaitRequests(1, 30*time.Second)
	through := 0
	for _, r := range reqs {
		if strings.Contains(r.Target, strings.TrimPrefix(k.URL(), "http://")) {
			through++
		}
	}
	if through == 0 {
		t.Errorf("no request to the Kinesis endpoint passed the proxy; proxy saw %+v", reqs)
	}
	t.Logf("%d PutRecords through tinyproxy (%d proxied requests), signed with the AssumeRole key", puts, through)
}
