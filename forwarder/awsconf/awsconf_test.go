package awsconf

import (
	"bytes"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/logging"
)

// cleanEnv removes every AWS variable that could leak from the machine into
// a test, and points the shared files at dir (testdata/aws by default).
func cleanEnv(t *testing.T, dir string) {
	t.Helper()
	for _, k := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS", "AWS_ENDPOINT_URL_FIREHOSE", "AWS_ENDPOINT_URL_STS",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy",
	} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
}

func TestRegisterDefaults(t *testing.T) {
	var f Flags
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	f.Register(fs)
	want := map[string]string{
		"aws_access_key_id": "", "aws_secret_access_key": "", "aws_session_token": "", "aws_profile_name": "",
		"aws_region": "", "aws_sts_arn_role": "", "aws_sts_region": "", "aws_sts_session_name": "default",
		"aws_sts_timeout": "3600", "aws_enable_proxy": "false", "aws_proxy_scheme": "https", "aws_proxy_host": "",
		"aws_proxy_port": "0", "aws_proxy_username": "", "aws_proxy_password": "", "aws_kinesis_stream": "",
		"aws_kinesis_period": "10", "aws_kinesis_random_partition_key": "false", "aws_kinesis_endpoint": "",
		"aws_kinesis_region": "", "aws_kinesis_disable_log_status": "false", "aws_firehose_stream": "",
		"aws_firehose_period": "10", "aws_firehose_endpoint": "", "aws_firehose_region": "",
		"buffered_log_max": "1000000", "aws_debug": "false", "aws_imdsv2_request_attempts": "3",
		"aws_imdsv2_request_interval": "3", "aws_disable_imdsv1_fallback": "false", "aws_enforce_fips": "false",
		// ours
		"aws_kinesis_aggregate": "true", "aws_kinesis_compression": "", "aws_firehose_compression": "",
		"aws_kinesis_partition_key": "", "aws_sts_endpoint": "", "aws_kinesis_wire": "cbor",
	}
	n := 0
	fs.VisitAll(func(fl *flag.Flag) {
		n++
		def, ok := want[fl.Name]
		if !ok {
			t.Errorf("unexpected flag %s", fl.Name)
			return
		}
		if fl.DefValue != def {
			t.Errorf("%s default = %q, want %q", fl.Name, fl.DefValue, def)
		}
		if fl.Usage == "" {
			t.Errorf("%s has no usage text", fl.Name)
		}
	})
	if n != len(want) {
		t.Errorf("%d flags registered, want %d", n, len(want))
	}
	if d := Defaults(); d.STSTimeout != 3600 || d.STSSessionName != "default" || !d.KinesisAggregate || d.BufferedLogMax != 1000000 {
		t.Errorf("Defaults() = %+v", d)
	}
	if err := fs.Parse([]string{"--aws_kinesis_stream=s", "--aws_proxy_port=3128"}); err != nil {
		t.Fatal(err)
	}
	if f.KinesisStream != "s" || f.ProxyPort != 3128 {
		t.Errorf("parsed flags not stored: %+v", f)
	}
}

// osquery's test_get_region vectors (§3.6), plus ours.
func TestRegion(t *testing.T) {
	fixture, _ := filepath.Abs("testdata/aws")
	missing := t.TempDir()
	tests := []struct {
		name    string
		dir     string
		set     func(*Flags)
		env     map[string]string
		service string
		want    string
		wantErr string
	}{
		{name: "aws_region", dir: fixture, set: func(f *Flags) { f.Region = "us-west-1" }, want: "us-west-1"},
		{name: "fips non-compliant", dir: fixture, set: func(f *Flags) { f.Region = "eu-south-1"; f.EnforceFIPS = true }, wantErr: "Region eu-south-1 is not FIPS compliant"},
		{name: "fips compliant", dir: fixture, set: func(f *Flags) { f.Region = "us-east-1"; f.EnforceFIPS = true }, want: "us-east-1"},
		{name: "invalid", dir: fixture, set: func(f *Flags) { f.Region = "foo" }, wantErr: "Invalid region foo"},
		{name: "invalid but endpoint override", dir: fixture, set: func(f *Flags) { f.Region = "foo"; f.KinesisEndpoint = "http://127.0.0.1:1" }, want: "foo"},
		{name: "missing files, no profile", dir: missing, set: func(*Flags) {}, want: "us-east-1"},
		{name: "missing files, profile test", dir: missing, set: func(f *Flags) { f.ProfileName = "test" }, wantErr: "Error reading profile file"},
		{name: "profile test", dir: fixture, set: func(f *Flags) { f.ProfileName = "test" }, want: "eu-central-1"},
		{name: "profile default", dir: fixture, set: func(f *Flags) { f.ProfileName = "default" }, want: "us-west-2"},
		{name: "profile empty", dir: fixture, set: func(*Flags) {}, want: "us-west-2"},
		// ours
		{name: "profile not found", dir: fixture, set: func(f *Flags) { f.ProfileName = "nope" }, wantErr: "AWS profile not found: nope"},
		{name: "profile without region", dir: fixture, set: func(f *Flags) { f.ProfileName = "noregion" }, wantErr: "AWS region not found for profile: noregion"},
		{name: "profile with invalid region", dir: fixture, set: func(f *Flags) { f.ProfileName = "badregion" }, wantErr: "Invalid aws_region in profile: mars-north-1"},
		{name: "service flag beats aws_region", dir: fixture, set: func(f *Flags) { f.Region = "us-west-1"; f.KinesisRegion = "eu-west-1" }, want: "eu-west-1"},
		{name: "firehose flag", dir: fixture, service: Firehose, set: func(f *Flags) { f.Region = "us-west-1"; f.KinesisRegion = "eu-west-1"; f.FirehoseRegion = "ap-south-1" }, want: "ap-south-1"},
		{name: "sts flag always validated", dir: fixture, service: "sts", set: func(f *Flags) { f.STSRegion = "bar"; f.KinesisEndpoint = "http://x" }, wantErr: "Invalid region bar"},
		{name: "env AWS_REGION beats profile", dir: fixture, env: map[string]string{"AWS_REGION": "ca-central-1"}, set: func(*Flags) {}, want: "ca-central-1"},
		{name: "aws_region beats env", dir: fixture, env: map[string]string{"AWS_REGION": "ca-central-1"}, set: func(f *Flags) { f.Region = "us-west-1" }, want: "us-west-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t, tt.dir)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			f := Defaults()
			tt.set(&f)
			svc := tt.service
			if svc == "" {
				svc = Kinesis
			}
			got, err := f.ResolveRegion(svc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got (%q, %v), want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got (%q, %v), want %q", got, err, tt.want)
			}
		})
	}
}

func TestRegionConfigFileEnv(t *testing.T) {
	// AWS_CONFIG_FILE wins over osquery's "config next to the credentials".
	cleanEnv(t, t.TempDir())
	t.Setenv("AWS_CONFIG_FILE", filepath.Join("testdata", "aws", "config"))
	f := Defaults()
	f.ProfileName = "test"
	if got, err := f.ResolveRegion(Kinesis); err != nil || got != "eu-central-1" {
		t.Fatalf("got (%q, %v)", got, err)
	}
}

// osquery's test_get_credentials vectors (§3.7), plus ours.
func TestCredentials(t *testing.T) {
	fixture, _ := filepath.Abs("testdata/aws")
	tests := []struct {
		name       string
		dir        string
		set        func(*Flags)
		env        map[string]string
		wantID     string
		wantSecret string
		wantToken  string
		wantSource string
		wantErr    string
	}{
		{name: "flags", set: func(f *Flags) { f.AccessKeyID, f.SecretAccessKey = "FLAG_ACCESS_KEY_ID", "flag_secret_key" },
			wantID: "FLAG_ACCESS_KEY_ID", wantSecret: "flag_secret_key", wantSource: SourceFlags},
		{name: "secret only falls through", set: func(f *Flags) { f.SecretAccessKey = "flag_secret_key" },
			wantID: "DEFAULT_ACCESS_KEY_ID", wantSecret: "default_secret_key", wantSource: SourceDefaultProfile},
		{name: "id only falls through", set: func(f *Flags) { f.AccessKeyID = "FLAG_ACCESS_KEY_ID" },
			wantID: "DEFAULT_ACCESS_KEY_ID", wantSecret: "default_secret_key", wantSource: SourceDefaultProfile},
		{name: "env", env: map[string]string{"AWS_ACCESS_KEY_ID": "ENV_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY": "env_secret_key"},
			wantID: "ENV_ACCESS_KEY_ID", wantSecret: "env_secret_key", wantSource: SourceEnv},
		{name: "named profile beats env", set: func(f *Flags) { f.ProfileName = "test" },
			env:    map[string]string{"AWS_ACCESS_KEY_ID": "ENV_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY": "env_secret_key"},
			wantID: "TEST_ACCESS_KEY_ID", wantSecret: "test_secret_key", wantSource: SourceProfile},
		// ours
		{name: "flags beat profile", set: func(f *Flags) {
			f.ProfileName = "test"
			f.AccessKeyID, f.SecretAccessKey = "FLAG_ACCESS_KEY_ID", "flag_secret_key"
		}, wantID: "FLAG_ACCESS_KEY_ID", wantSecret: "flag_secret_key", wantSource: SourceFlags},
		{name: "session token triple", set: func(f *Flags) {
			f.AccessKeyID, f.SecretAccessKey, f.SessionToken = "ASIA_ID", "sts_secret", "tok"
			f.STSARNRole = "arn:aws:iam::123456789012:role/r" // no AssumeRole with a session token
		}, wantID: "ASIA_ID", wantSecret: "sts_secret", wantToken: "tok", wantSource: SourceSTSSessionToken},
		{name: "env session token", env: map[string]string{"AWS_ACCESS_KEY_ID": "ENV_ID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"},
			wantID: "ENV_ID", wantSecret: "s", wantToken: "t", wantSource: SourceEnv},
		{name: "missing named profile falls through to env", set: func(f *Flags) { f.ProfileName = "nope"; f.Region = "us-east-1" },
			env:    map[string]string{"AWS_ACCESS_KEY_ID": "ENV_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY": "env_secret_key"},
			wantID: "ENV_ACCESS_KEY_ID", wantSecret: "env_secret_key", wantSource: SourceEnv},
		{name: "AWS_PROFILE selects the default-profile step", env: map[string]string{"AWS_PROFILE": "test"},
			wantID: "TEST_ACCESS_KEY_ID", wantSecret: "test_secret_key", wantSource: SourceDefaultProfile},
		{name: "nothing", dir: t.TempDir(), wantErr: "no AWS credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir
			if dir == "" {
				dir = fixture
			}
			cleanEnv(t, dir)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			f := Defaults()
			if tt.set != nil {
				tt.set(&f)
			}
			cfg, err := Load(t.Context(), f, Kinesis, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := cfg.Credentials.Retrieve(t.Context())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got (%+v, %v), want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.AccessKeyID != tt.wantID || got.SecretAccessKey != tt.wantSecret || got.SessionToken != tt.wantToken || got.Source != tt.wantSource {
				t.Fatalf("got %s/%s/%s from %q, want %s/%s/%s from %q", got.AccessKeyID, got.SecretAccessKey, got.SessionToken, got.Source,
					tt.wantID, tt.wantSecret, tt.wantToken, tt.wantSource)
			}
		})
	}
}

// osquery's proxy vectors (§3.8), and the transport Load installs.
func TestProxy(t *testing.T) {
	tests := []struct {
		scheme, host string
		port         uint
		user, pass   string
		want         string
	}{
		{"http", "foo.bar.baz", 3000, "foo_username", "bar_password", "http://foo_username:bar_password@foo.bar.baz:3000"},
		{"htpt", "foo.bar.baz", 3000, "foo_username", "bar_password", "https://foo_username:bar_password@foo.bar.baz:3000"},
		{"https", "proxy", 0, "", "", "https://proxy"},
		{"", "10.0.0.1", 8080, "u", "", "https://u@10.0.0.1:8080"},
		{"http", "::1", 3128, "", "", "http://[::1]:3128"},
	}
	for _, tt := range tests {
		f := Defaults()
		f.EnableProxy, f.ProxyScheme, f.ProxyHost, f.ProxyPort, f.ProxyUsername, f.ProxyPassword = true, tt.scheme, tt.host, tt.port, tt.user, tt.pass
		if got := f.ProxyURL(); got == nil || got.String() != tt.want {
			t.Errorf("%+v: ProxyURL() = %v, want %s", tt, got, tt.want)
		}
	}
	f := Defaults()
	f.ProxyHost = "foo"
	if u := f.ProxyURL(); u != nil {
		t.Errorf("proxy disabled but ProxyURL() = %v", u)
	}

	// The client Load builds sends even loopback destinations to the proxy
	// (http.ProxyURL has no loopback exception, ProxyFromEnvironment has).
	cleanEnv(t, t.TempDir())
	f = Defaults()
	f.AccessKeyID, f.SecretAccessKey = "AKID", "secret"
	f.EnableProxy, f.ProxyScheme, f.ProxyHost, f.ProxyPort = true, "http", "127.0.0.1", 3128
	cfg, err := Load(t.Context(), f, Kinesis, nil)
	if err != nil {
		t.Fatal(err)
	}
	bc, ok := cfg.HTTPClient.(*httpClient)
	if !ok {
		t.Fatalf("HTTPClient is %T", cfg.HTTPClient)
	}
	req, _ := http.NewRequest("POST", "http://127.0.0.1:4567/", nil)
	u, err := bc.GetTransport().Proxy(req)
	if err != nil || u == nil || u.String() != "http://127.0.0.1:3128" {
		t.Fatalf("proxy for a loopback destination = %v, %v", u, err)
	}
}

func TestLoad(t *testing.T) {
	cleanEnv(t, t.TempDir())
	f := Defaults()
	f.AccessKeyID, f.SecretAccessKey = "AKID", "secret"
	f.Region = "eu-west-1"
	f.KinesisEndpoint = "http://127.0.0.1:4567"
	cfg, err := Load(t.Context(), f, Kinesis, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || aws.ToString(cfg.BaseEndpoint) != "http://127.0.0.1:4567" {
		t.Fatalf("region %q endpoint %v", cfg.Region, aws.ToString(cfg.BaseEndpoint))
	}
	if cfg.Retryer == nil || cfg.Retryer().MaxAttempts() != SDKMaxAttempts {
		t.Fatal("retryer not installed")
	}
	if _, ok := cfg.Credentials.(*aws.CredentialsCache); !ok {
		t.Fatalf("credentials are %T, want a cache", cfg.Credentials)
	}
	// The firehose config does not carry the Kinesis endpoint.
	cfg, err = Load(t.Context(), f, Firehose, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseEndpoint != nil {
		t.Fatalf("firehose endpoint %q", *cfg.BaseEndpoint)
	}
	if _, err := Load(t.Context(), f, "s3", nil); err == nil {
		t.Fatal("unknown service accepted")
	}
	f.EnforceFIPS = true
	f.Region = "us-east-1"
	if _, err := Load(t.Context(), f, Kinesis, nil); err == nil || !strings.Contains(err.Error(), "Cannot override the endpoint when FIPS is enforced") {
		t.Fatalf("FIPS with endpoint: %v", err)
	}
}

func TestValidate(t *testing.T) {
	f := Defaults()
	if err := f.Validate(Kinesis); err == nil || err.Error() != "Stream name must be specified with --aws_kinesis_stream" {
		t.Fatalf("kinesis: %v", err)
	}
	if err := f.Validate(Firehose); err == nil || err.Error() != "Stream name must be specified with --aws_firehose_stream" {
		t.Fatalf("firehose: %v", err)
	}
	f.KinesisStream, f.FirehoseStream = "k", "f"
	if err := f.Validate(Kinesis); err != nil {
		t.Fatal(err)
	}
	bad := []func(*Flags){
		func(f *Flags) { f.KinesisCompression = "zstd" },
		func(f *Flags) { f.KinesisPartitionKey = "bogus" },
		func(f *Flags) { f.KinesisPartitionKey = "field:" },
		func(f *Flags) { f.KinesisPartitionKey = "field:name"; f.KinesisRandomPK = true },
		func(f *Flags) { f.STSARNRole = "arn:aws:iam::1:role/r"; f.STSTimeout = 60 },
		func(f *Flags) { f.EnableProxy = true },
		func(f *Flags) { f.IMDSv2RequestAttempts = 0 },
		func(f *Flags) { f.KinesisWire = "xml" },
	}
	for i, set := range bad {
		g := f
		set(&g)
		if err := g.Validate(Kinesis); err == nil {
			t.Errorf("case %d: %+v accepted", i, g)
		}
	}
	g := f
	g.KinesisCompression = "none"
	if err := g.Validate(Kinesis); err != nil || g.Compression(Kinesis) != "" {
		t.Fatalf("none: %v %q", err, g.Compression(Kinesis))
	}
	g = f
	g.KinesisWire = "CBOR"
	if err := g.Validate(Kinesis); err == nil || !strings.Contains(err.Error(), "--aws_kinesis_wire") {
		t.Errorf("wire CBOR: %v, want an error naming --aws_kinesis_wire", err)
	}
	for _, w := range []string{"", "cbor", "json"} {
		g = f
		g.KinesisWire = w
		if err := g.Validate(Kinesis); err != nil || (g.Wire() != "cbor" && g.Wire() != w) {
			t.Errorf("wire %q: %v, Wire() = %q", w, err, g.Wire())
		}
	}
	if Defaults().Wire() != WireCBOR {
		t.Errorf("default wire %q, want cbor", Defaults().Wire())
	}
	g = f
	g.FirehoseCompression = "gzip"
	g.KinesisCompression = "zstd" // not checked for firehose
	if err := g.Validate(Firehose); err != nil {
		t.Fatal(err)
	}
}

func TestPartitionKey(t *testing.T) {
	tests := []struct {
		flag   string
		random bool
		want   PartitionKey
	}{
		{"", false, PartitionKey{Mode: PartitionKeyHost}},
		{"", true, PartitionKey{Mode: PartitionKeyRandom}},
		{"random", false, PartitionKey{Mode: PartitionKeyRandom}},
		{"random", true, PartitionKey{Mode: PartitionKeyRandom}},
		{"field:name", false, PartitionKey{Mode: PartitionKeyField, Field: "name"}},
		{" field: hostIdentifier ", false, PartitionKey{Mode: PartitionKeyField, Field: "hostIdentifier"}},
	}
	for _, tt := range tests {
		f := Defaults()
		f.KinesisPartitionKey, f.KinesisRandomPK = tt.flag, tt.random
		got, err := f.PartitionKey()
		if err != nil || got != tt.want {
			t.Errorf("%q random=%v: got %+v, %v; want %+v", tt.flag, tt.random, got, err, tt.want)
		}
	}
}

// An AWS_PROFILE naming a missing profile does not stop a logger whose
// credentials come from flags.
func TestMissingAWSProfileEnv(t *testing.T) {
	fixture, _ := filepath.Abs("testdata/aws")
	cleanEnv(t, fixture)
	t.Setenv("AWS_PROFILE", "nope")
	f := Defaults()
	f.AccessKeyID, f.SecretAccessKey = "FLAG_ACCESS_KEY_ID", "flag_secret_key"
	cfg, err := Load(t.Context(), f, Kinesis, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil || c.AccessKeyID != "FLAG_ACCESS_KEY_ID" {
		t.Fatalf("got %+v, %v", c, err)
	}
	if cfg.Region != "us-west-2" { // AWS_PROFILE does not pick the region; osquery reads [default]
		t.Fatalf("region %q", cfg.Region)
	}
}

// The last step of the chain: EC2 instance metadata (IMDSv2), served by a
// fake at AWS_EC2_METADATA_SERVICE_ENDPOINT.
func TestIMDSCredentials(t *testing.T) {
	var tokens, gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "PUT" && r.URL.Path == "/latest/api/token":
			if r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") == "" {
				http.Error(w, "no ttl", 400)
				return
			}
			tokens.Add(1)
			w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds"))
			w.Write([]byte("tok"))
		case r.Header.Get("X-Aws-Ec2-Metadata-Token") != "tok":
			http.Error(w, "unauthorized", 401)
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/":
			gets.Add(1)
			w.Write([]byte("osquery-role"))
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/osquery-role":
			gets.Add(1)
			fmt.Fprintf(w, `{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAIMDS","SecretAccessKey":"imds-secret","Token":"imds-token","Expiration":%q}`,
				time.Now().Add(6*time.Hour).UTC().Format(time.RFC3339))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	cleanEnv(t, t.TempDir())
	t.Setenv("AWS_EC2_METADATA_DISABLED", "")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
	f := Defaults()
	f.EnableProxy, f.ProxyScheme, f.ProxyHost, f.ProxyPort = true, "http", "127.0.0.1", 1 // would fail if IMDS used it
	cfg, err := Load(t.Context(), f, Kinesis, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != "ASIAIMDS" || c.SessionToken != "imds-token" || c.Source != SourceIMDS || !c.CanExpire {
		t.Fatalf("got %+v", c)
	}
	if tokens.Load() == 0 || gets.Load() < 2 {
		t.Fatalf("IMDSv2 not used: %d tokens, %d gets", tokens.Load(), gets.Load())
	}
}

// The SDK's messages go to the logger Load is given, warnings at warning
// level with aws_debug and at debug level without.
func TestLoadLogger(t *testing.T) {
	cleanEnv(t, t.TempDir())
	for _, debug := range []bool{true, false} {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		f := Defaults()
		f.AccessKeyID, f.SecretAccessKey, f.Region, f.Debug = "AKID", "secret", "eu-west-1", debug
		cfg, err := Load(t.Context(), f, Kinesis, log.With("component", "kinesis"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Logger.Logf(logging.Warn, "response body not drained")
		want := `level=DEBUG msg="aws sdk" component=kinesis detail="response body not drained"`
		if debug {
			want = `level=WARN msg="aws sdk" component=kinesis detail="response body not drained"`
		}
		if !strings.Contains(buf.String(), want) {
			t.Errorf("aws_debug=%v: log %q lacks %q", debug, buf.String(), want)
		}
	}
}
