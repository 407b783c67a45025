package awsconf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
)

// SDK retry policy. The SDK retries a failed request (throttling, 5xx,
// connection errors, timeouts) at most SDKMaxAttempts times in all, with its
// own jittered exponential backoff capped at SDKMaxBackoff, then returns the
// error to the sender, whose own loop (sink.Backoff, unbounded while the
// queue holds the records) takes over. Keeping the SDK's part short keeps a
// Put call's duration bounded and predictable.
//
// The SDK's client-side retry quota (a 500-token bucket) is disabled with
// ratelimit.None: during a long outage the bucket drains and the SDK would
// silently stop retrying at all (QuotaExceededError), which only our loop
// should decide.
//
// Per-record failures (ErrorCode in an HTTP 200) are never retried by the
// SDK; the sink reports them to the caller.
const (
	SDKMaxAttempts = 3
	SDKMaxBackoff  = 2 * time.Second
	// RequestTimeout bounds one HTTP attempt (connect to last body byte).
	RequestTimeout = 30 * time.Second
	// MaxIdleConnsPerHost keeps enough pooled connections for concurrent
	// senders (the SDK default of 10 would churn connections).
	MaxIdleConnsPerHost = 64
)

var noRateLimit = ratelimit.None

// NewRetryer returns the retryer Load installs (see SDKMaxAttempts).
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = SDKMaxAttempts
		o.MaxBackoff = SDKMaxBackoff
		o.RateLimiter = noRateLimit
	})
}

// ProxyURL returns the proxy URL of the aws_proxy_* flags, nil when
// aws_enable_proxy is off. As in osquery, the scheme is http when
// aws_proxy_scheme is "http" and https otherwise (an https proxy is reached
// over TLS); user name and password go into the URL (basic authentication);
// port 0 means the scheme's default port.
func (f Flags) ProxyURL() *url.URL {
	if !f.EnableProxy || f.ProxyHost == "" {
		return nil
	}
	u := &url.URL{Scheme: "https", Host: f.ProxyHost}
	if f.ProxyScheme == "http" {
		u.Scheme = "http"
	}
	if f.ProxyPort != 0 {
		u.Host = net.JoinHostPort(f.ProxyHost, strconv.FormatUint(uint64(f.ProxyPort), 10))
	}
	switch {
	case f.ProxyUsername != "" && f.ProxyPassword != "":
		u.User = url.UserPassword(f.ProxyUsername, f.ProxyPassword)
	case f.ProxyUsername != "":
		u.User = url.User(f.ProxyUsername)
	}
	return u
}

// newHTTPClient builds the SDK's buildable client, wrapped in httpClient.
// With a proxy, every request goes to it (http.ProxyURL, unlike
// ProxyFromEnvironment, also proxies loopback destinations and ignores
// NO_PROXY); without, the environment's HTTPS_PROXY/NO_PROXY apply as in the
// SDK's default.
func newHTTPClient(f Flags) *httpClient {
	proxy := http.ProxyFromEnvironment
	if u := f.ProxyURL(); u != nil {
		proxy = http.ProxyURL(u)
	}
	return &httpClient{awshttp.NewBuildableClient().
		WithTimeout(RequestTimeout).
		WithTransportOptions(func(t *http.Transport) {
			t.Proxy = proxy
			t.MaxIdleConnsPerHost = MaxIdleConnsPerHost
		})}
}

// httpClient is the SDK's BuildableClient with one change in Do: net/http
// gets the request body without its io.WriterTo method.
//
// Why. The SDK (smithy-go ClientHandler) closes the request body as soon as
// client.Do returns, i.e. once the response headers arrived; its body
// wrapper (safeWriteToReadCloser) then answers WriteTo with (0, io.EOF).
// net/http's writeLoop, after copying Content-Length bytes, reads the body
// once more to check for extra bytes (transferWriter.writeBody), through
// WriteTo when the body has it. When the body is larger than the 4 KiB write
// buffer its last bytes go straight to the socket before that extra read, so
// the service can answer first. If the writeLoop goroutine is descheduled
// just then (a loaded host), the extra read comes after the SDK's Close, gets
// io.EOF as an error, the request write "fails" and the writeLoop closes the
// connection (persistConn.close) while the SDK is still reading the answer:
// "deserialization failed, read tcp ...: use of closed network connection"
// on an HTTP 200 the service acted on. The SDK retries that as a connection
// error and resends the whole PutRecords, whose records then arrive twice.
//
// Without WriterTo, the extra read goes through Read, which answers a closed
// body with (0, io.EOF) as well, and there io.EOF is a clean end: the write
// succeeds and the connection stays usable. The first copy reads through an
// io.LimitReader anyway, so nothing is lost.
//
// The SDK's service clients no longer recognise the client as buildable, so
// they skip their per-service defaults (the dial timeout of a DefaultsMode,
// which we leave unset, and the opt-in AWS_ENABLE_DEFAULT_SOCKET_TIMEOUT_2026
// read timeout, longer than RequestTimeout for Kinesis and Firehose).
type httpClient struct {
	*awshttp.BuildableClient
}

// Do sends req with its body wrapped (see httpClient); req is not modified.
func (c *httpClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		r := req.WithContext(req.Context()) // a shallow copy
		r.Body = readCloserOnly{req.Body}
		req = r
	}
	return c.BuildableClient.Do(req)
}

// readCloserOnly hides every method of a body but Read and Close.
type readCloserOnly struct{ io.ReadCloser }

// Load builds the aws.Config of the kinesis or firehose logger from the
// flags: region (Flags.ResolveRegion), credentials (osquery's chain, see
// credentialChain, in one aws.CredentialsCache), the proxy, the service's
// endpoint override as BaseEndpoint, FIPS endpoints, and the SDK retry
// policy above. It makes no network call. Validate is separate.
//
// The config is built directly rather than by config.LoadDefaultConfig, so
// an AWS_PROFILE naming a missing profile does not stop a logger whose
// credentials come from flags (osquery ignores it too). The environment's
// AWS_ENDPOINT_URL_* still apply when the endpoint flag is empty.
//
// The returned config is for that one service: its BaseEndpoint is the
// service's endpoint flag. log receives the SDK's messages and the
// credential chain's warnings (SDK messages at debug level, its warnings at
// warning level with aws_debug); nil means slog.Default().
func Load(ctx context.Context, f Flags, service string, log *slog.Logger) (aws.Config, error) {
	if service != Kinesis && service != Firehose {
		return aws.Config{}, fmt.Errorf("unknown AWS logger service %q (want kinesis or firehose)", service)
	}
	if f.EnforceFIPS && (f.Endpoint(service) != "" || f.STSEndpoint != "") {
		return aws.Config{}, errors.New("Cannot override the endpoint when FIPS is enforced")
	}
	region, err := f.ResolveRegion(service)
	if err != nil {
		return aws.Config{}, err
	}
	if log == nil {
		log = slog.Default()
	}
	s := settings{hc: newHTTPClient(f), fips: f.EnforceFIPS, debug: f.Debug, log: log}
	s.credFile, s.configFile = sharedFiles()
	creds, err := credentialChain(ctx, f, s)
	if err != nil {
		return aws.Config{}, err
	}
	// Refresh expiring credentials a minute early so no request is signed
	// with credentials about to lapse (AssumeRole lasts 15 min at least).
	cache := aws.NewCredentialsCache(creds, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = time.Minute })
	return s.config(region, cache, f.Endpoint(service)), nil
}

// settings are what every client config built by Load shares.
type settings struct {
	hc                   *httpClient
	fips, debug          bool
	log                  *slog.Logger
	credFile, configFile string
}

func (s settings) config(region string, creds aws.CredentialsProvider, endpoint string) aws.Config {
	env, _ := config.NewEnvConfig()
	if s.fips {
		env.UseFIPSEndpoint = aws.FIPSEndpointStateEnabled
	}
	cfg := aws.Config{
		Region:        region,
		Credentials:   creds,
		HTTPClient:    s.hc,
		Retryer:       NewRetryer,
		Logger:        slogLogger{s.log, s.debug},
		ConfigSources: []any{env},
	}
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	if s.debug {
		// Not LogRequest: request headers carry the session token.
		cfg.ClientLogMode = aws.LogRetries | aws.LogResponse | aws.LogDeprecatedUsage
	}
	return cfg
}

// loadOptions are the same settings for config.LoadDefaultConfig (used to
// resolve profiles that need the SDK's full machinery). It gets the bare
// BuildableClient: the loader adds AWS_CA_BUNDLE / ca_bundle only to that
// type (and fails on any other), and the credential requests it makes (STS,
// SSO) carry bodies far below the size at which httpClient's fix matters,
// and resending one is harmless.
func (s settings) loadOptions() []func(*config.LoadOptions) error {
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(s.hc.BuildableClient),
		config.WithRetryer(NewRetryer),
		config.WithLogger(slogLogger{s.log, s.debug}),
		config.WithSharedConfigFiles([]string{s.configFile}),
		config.WithSharedCredentialsFiles([]string{s.credFile}),
	}
	if s.fips {
		opts = append(opts, config.WithUseFIPSEndpoint(aws.FIPSEndpointStateEnabled))
	}
	return opts
}

// slogLogger adapts slog to the SDK's logger. SDK warnings (e.g. an
// undrained response body) are debug noise unless aws_debug is set.
type slogLogger struct {
	l     *slog.Logger
	debug bool
}

func (s slogLogger) Logf(c logging.Classification, format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if c == logging.Warn && s.debug {
		s.l.Warn("aws sdk", "detail", msg)
		return
	}
	s.l.Debug("aws sdk", "detail", msg)
}
