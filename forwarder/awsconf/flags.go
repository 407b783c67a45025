package awsconf

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// Service names accepted by Load and Flags.Validate.
const (
	Kinesis  = "kinesis"
	Firehose = "firehose"
)

// Flags holds every AWS flag of osquery's aws_kinesis / aws_firehose loggers
// under osquery's names and defaults, plus this project's extensions (marked
// "ours"). Register declares them on a flag.FlagSet; Defaults returns them
// without one.
type Flags struct {
	// Credentials (osquery §3.7).
	AccessKeyID     string // aws_access_key_id
	SecretAccessKey string // aws_secret_access_key
	SessionToken    string // aws_session_token: static STS triple with the two above
	ProfileName     string // aws_profile_name: named profile for credentials and region

	Region string // aws_region: default region of every service

	// STS AssumeRole.
	STSARNRole     string // aws_sts_arn_role: enables AssumeRole
	STSRegion      string // aws_sts_region
	STSSessionName string // aws_sts_session_name, default "default"
	STSTimeout     uint64 // aws_sts_timeout: DurationSeconds, default 3600
	STSEndpoint    string // aws_sts_endpoint (ours): STS endpoint override, e.g. for tests or VPC endpoints

	// Proxy (osquery §3.8).
	EnableProxy   bool   // aws_enable_proxy
	ProxyScheme   string // aws_proxy_scheme: "http" or "https" (anything else means https)
	ProxyHost     string // aws_proxy_host
	ProxyPort     uint   // aws_proxy_port: 0 = the scheme's default port
	ProxyUsername string // aws_proxy_username
	ProxyPassword string // aws_proxy_password

	Debug                   bool   // aws_debug: log SDK retries and request/response headers (never bodies)
	IMDSv2RequestAttempts   uint   // aws_imdsv2_request_attempts, default 3
	IMDSv2RequestInterval   uint   // aws_imdsv2_request_interval, default 3 (seconds, raised to the power of the attempt)
	DisableIMDSv1Fallback   bool   // aws_disable_imdsv1_fallback
	EnforceFIPS             bool   // aws_enforce_fips
	KinesisStream           string // aws_kinesis_stream: stream name or ARN
	KinesisPeriod           uint64 // aws_kinesis_period: longest wait of a line, seconds, default 10
	KinesisRandomPK         bool   // aws_kinesis_random_partition_key: same as aws_kinesis_partition_key=random
	KinesisEndpoint         string // aws_kinesis_endpoint: endpoint override (skips region validation)
	KinesisRegion           string // aws_kinesis_region: beats aws_region
	KinesisDisableLogStatus bool   // aws_kinesis_disable_log_status
	KinesisAggregate        bool   // aws_kinesis_aggregate (ours): KPL-aggregate records, default true
	KinesisCompression      string // aws_kinesis_compression (ours): "" or "gzip"
	KinesisPartitionKey     string // aws_kinesis_partition_key (ours): "", "random" or "field:<name>", see PartitionKey
	KinesisWire             string // aws_kinesis_wire (ours): PutRecords as "cbor" (default) or "json"

	FirehoseStream      string // aws_firehose_stream
	FirehosePeriod      uint64 // aws_firehose_period: longest wait of a line, seconds, default 10
	FirehoseEndpoint    string // aws_firehose_endpoint
	FirehoseRegion      string // aws_firehose_region
	FirehoseCompression string // aws_firehose_compression (ours): "" or "gzip"

	BufferedLogMax uint64 // buffered_log_max, default 1000000 (0 = unlimited)
}

// Defaults returns the flags with osquery's defaults (and ours).
func Defaults() Flags {
	var f Flags
	f.Register(flag.NewFlagSet("defaults", flag.ContinueOnError))
	return f
}

// Register declares every flag on fs with osquery's names and defaults, and
// stores the defaults into f.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.AccessKeyID, "aws_access_key_id", "", "AWS access key ID (needs --aws_secret_access_key too)")
	fs.StringVar(&f.SecretAccessKey, "aws_secret_access_key", "", "AWS secret access key (needs --aws_access_key_id too)")
	fs.StringVar(&f.SessionToken, "aws_session_token", "", "AWS session token: use the access key, secret and this token as static STS credentials, no AssumeRole call")
	fs.StringVar(&f.ProfileName, "aws_profile_name", "", "AWS profile for credentials and region (instead of default)")
	fs.StringVar(&f.Region, "aws_region", "", "AWS region of every service unless a service-specific region is set (else profile region, else us-east-1)")

	fs.StringVar(&f.STSARNRole, "aws_sts_arn_role", "", "IAM role ARN to assume through STS; the other credentials sign the AssumeRole call")
	fs.StringVar(&f.STSRegion, "aws_sts_region", "", "Region of the STS endpoint used for AssumeRole")
	fs.StringVar(&f.STSSessionName, "aws_sts_session_name", "default", "Role session name for AssumeRole")
	fs.Uint64Var(&f.STSTimeout, "aws_sts_timeout", 3600, "AssumeRole DurationSeconds (900 or more); credentials are refreshed before they expire")
	fs.StringVar(&f.STSEndpoint, "aws_sts_endpoint", "", "STS endpoint URL override, e.g. a VPC endpoint (not an osquery flag)")

	fs.BoolVar(&f.EnableProxy, "aws_enable_proxy", false, "Send AWS requests through the --aws_proxy_* proxy")
	fs.StringVar(&f.ProxyScheme, "aws_proxy_scheme", "https", "Proxy scheme: http or https (anything else means https)")
	fs.StringVar(&f.ProxyHost, "aws_proxy_host", "", "Proxy host name or IP")
	fs.UintVar(&f.ProxyPort, "aws_proxy_port", 0, "Proxy port (0 = 80 for http, 443 for https)")
	fs.StringVar(&f.ProxyUsername, "aws_proxy_username", "", "Proxy user name (basic authentication)")
	fs.StringVar(&f.ProxyPassword, "aws_proxy_password", "", "Proxy password (basic authentication)")

	fs.BoolVar(&f.Debug, "aws_debug", false, "Log AWS SDK retries and request/response headers")
	fs.UintVar(&f.IMDSv2RequestAttempts, "aws_imdsv2_request_attempts", 3, "Attempts of each EC2 instance metadata request (at least 1)")
	fs.UintVar(&f.IMDSv2RequestInterval, "aws_imdsv2_request_interval", 3, "Seconds between instance metadata attempts, raised to the power of the attempt number (3, 9, 27 s)")
	fs.BoolVar(&f.DisableIMDSv1Fallback, "aws_disable_imdsv1_fallback", false, "Do not fall back to IMDSv1 when no IMDSv2 token can be had")
	fs.BoolVar(&f.EnforceFIPS, "aws_enforce_fips", false, "Use FIPS endpoints only (no endpoint overrides; US regions only)")

	fs.StringVar(&f.KinesisStream, "aws_kinesis_stream", "", "Kinesis Data Stream name or ARN (required by the kinesis logger)")
	fs.Uint64Var(&f.KinesisPeriod, "aws_kinesis_period", 10, "Longest a log line waits before it is sent to Kinesis, in seconds: lines wait to fill aggregates, a full record or request is sent at once")
	fs.BoolVar(&f.KinesisRandomPK, "aws_kinesis_random_partition_key", false, "Random partition key per record (same as --aws_kinesis_partition_key=random)")
	fs.StringVar(&f.KinesisEndpoint, "aws_kinesis_endpoint", "", "Kinesis endpoint URL override (skips region validation)")
	fs.StringVar(&f.KinesisRegion, "aws_kinesis_region", "", "Kinesis region (beats --aws_region)")
	fs.BoolVar(&f.KinesisDisableLogStatus, "aws_kinesis_disable_log_status", false, "Do not forward osquery status logs to Kinesis")
	fs.BoolVar(&f.KinesisAggregate, "aws_kinesis_aggregate", true, "Pack records into KPL aggregated records (consumers de-aggregate with the KCL or the kinesis-aggregation libraries)")
	fs.StringVar(&f.KinesisCompression, "aws_kinesis_compression", "", `Compress each Kinesis record: "" (none) or "gzip"`)
	fs.StringVar(&f.KinesisPartitionKey, "aws_kinesis_partition_key", "", `Partition key: "" = host identifier (osquery's default), "random" = random UUID, "field:<name>" = the value of top-level JSON field <name> of the log line, host identifier when it is missing`)

	fs.StringVar(&f.KinesisWire, "aws_kinesis_wire", WireCBOR, `PutRecords wire format: "cbor" (record data as raw bytes, as the AWS Java SDK sends it) or "json" (base64 in JSON, as the Go SDK sends it)`)

	fs.StringVar(&f.FirehoseStream, "aws_firehose_stream", "", "Firehose delivery stream name (required by the firehose logger)")
	fs.Uint64Var(&f.FirehosePeriod, "aws_firehose_period", 10, "Longest a log line waits before it is sent to Firehose, in seconds: lines wait to fill joined records, a full record or request is sent at once")
	fs.StringVar(&f.FirehoseEndpoint, "aws_firehose_endpoint", "", "Firehose endpoint URL override (skips region validation)")
	fs.StringVar(&f.FirehoseRegion, "aws_firehose_region", "", "Firehose region (beats --aws_region)")
	fs.StringVar(&f.FirehoseCompression, "aws_firehose_compression", "", `Compress each Firehose record: "" (none) or "gzip"`)

	fs.Uint64Var(&f.BufferedLogMax, "buffered_log_max", 1000000, "Most log lines kept in the forwarder queue; the oldest are dropped beyond it (0 = unlimited)")
}

// PartitionKeyMode says how Kinesis partition keys are chosen.
type PartitionKeyMode int

const (
	// PartitionKeyHost uses the host identifier, as osquery does: one host's
	// records stay in order on one shard.
	PartitionKeyHost PartitionKeyMode = iota
	// PartitionKeyRandom uses a random UUIDv4 per record (per aggregated
	// record when aggregating), spreading load over all shards.
	PartitionKeyRandom
	// PartitionKeyField uses the string value of a top-level field of the
	// JSON log line (e.g. "name" for the query name), falling back to the
	// host identifier when the field is missing or empty.
	PartitionKeyField
)

// PartitionKey is the parsed aws_kinesis_partition_key.
type PartitionKey struct {
	Mode  PartitionKeyMode
	Field string // PartitionKeyField only
}

// PartitionKey parses aws_kinesis_partition_key, honouring osquery's
// aws_kinesis_random_partition_key: "" = host identifier, "random",
// "field:<name>". aws_kinesis_random_partition_key=true means random and
// conflicts with any other explicit value.
func (f Flags) PartitionKey() (PartitionKey, error) {
	v := strings.TrimSpace(f.KinesisPartitionKey)
	var pk PartitionKey
	switch {
	case v == "" || v == "host" || v == "host_identifier":
		pk.Mode = PartitionKeyHost
		if f.KinesisRandomPK {
			pk.Mode = PartitionKeyRandom
		}
		return pk, nil
	case v == "random":
		pk.Mode = PartitionKeyRandom
		return pk, nil
	case strings.HasPrefix(v, "field:"):
		pk.Mode, pk.Field = PartitionKeyField, strings.TrimSpace(strings.TrimPrefix(v, "field:"))
		if pk.Field == "" {
			return pk, errors.New(`--aws_kinesis_partition_key: "field:" needs a field name, e.g. field:name`)
		}
		if f.KinesisRandomPK {
			return pk, fmt.Errorf("--aws_kinesis_partition_key=%s conflicts with --aws_kinesis_random_partition_key=true", v)
		}
		return pk, nil
	}
	return pk, fmt.Errorf(`--aws_kinesis_partition_key: want "", "random" or "field:<name>", got %q`, v)
}

// Stream returns the stream flag of service ("kinesis" or "firehose").
func (f Flags) Stream(service string) string {
	if service == Firehose {
		return f.FirehoseStream
	}
	return f.KinesisStream
}

// Endpoint returns the endpoint override of service ("kinesis", "firehose"
// or "sts"), "" when there is none.
func (f Flags) Endpoint(service string) string {
	switch service {
	case Kinesis:
		return f.KinesisEndpoint
	case Firehose:
		return f.FirehoseEndpoint
	case "sts":
		return f.STSEndpoint
	}
	return ""
}

// Kinesis wire formats of PutRecords (aws_kinesis_wire).
const (
	WireCBOR = "cbor"
	WireJSON = "json"
)

// Wire returns the Kinesis wire format, "cbor" or "json" once Validate
// passed ("" is the default, cbor).
func (f Flags) Wire() string {
	if f.KinesisWire == "" {
		return WireCBOR
	}
	return f.KinesisWire
}

// Compression returns the compression flag of service, "" or "gzip" once
// Validate passed ("none" is accepted as "").
func (f Flags) Compression(service string) string {
	c := f.KinesisCompression
	if service == Firehose {
		c = f.FirehoseCompression
	}
	if c == "none" {
		return ""
	}
	return c
}

// Validate checks what a logger of service needs before it starts: the
// stream name (with osquery's exact message), compression, partition key,
// Kinesis wire format,
// STS duration and proxy settings.
func (f Flags) Validate(service string) error {
	if service != Kinesis && service != Firehose {
		return fmt.Errorf("unknown AWS logger service %q (want kinesis or firehose)", service)
	}
	var errs []error
	if f.Stream(service) == "" {
		errs = append(errs, fmt.Errorf("Stream name must be specified with --aws_%s_stream", service))
	}
	switch c := f.Compression(service); c {
	case "", "gzip":
	default:
		errs = append(errs, fmt.Errorf(`--aws_%s_compression: want "" or "gzip", got %q`, service, c))
	}
	if service == Kinesis {
		if _, err := f.PartitionKey(); err != nil {
			errs = append(errs, err)
		}
		if w := f.Wire(); w != WireCBOR && w != WireJSON {
			errs = append(errs, fmt.Errorf(`--aws_kinesis_wire: want "cbor" or "json", got %q`, f.KinesisWire))
		}
	}
	if f.STSARNRole != "" && f.SessionToken == "" && (f.STSTimeout < 900 || f.STSTimeout > 43200) {
		errs = append(errs, fmt.Errorf("--aws_sts_timeout: AssumeRole accepts 900 to 43200 seconds, got %d", f.STSTimeout))
	}
	if f.EnableProxy && f.ProxyHost == "" {
		errs = append(errs, errors.New("--aws_enable_proxy: --aws_proxy_host must be set"))
	}
	if f.ProxyPort > 65535 {
		errs = append(errs, fmt.Errorf("--aws_proxy_port: must be at most 65535, got %d", f.ProxyPort))
	}
	if f.IMDSv2RequestAttempts == 0 {
		errs = append(errs, errors.New("--aws_imdsv2_request_attempts: must be at least 1"))
	}
	return errors.Join(errs...)
}
