// Package awsconf turns osquery's AWS logger flags into an aws.Config for
// the kinesis and firehose logger plugins.
//
// # Flags
//
// Flags holds every flag of osquery's aws_kinesis / aws_firehose loggers with
// osquery's names and defaults (so the aws_* options of an osquery config
// apply unchanged), plus these extensions:
//
//   - aws_kinesis_aggregate (default true): KPL-aggregate records.
//   - aws_kinesis_compression, aws_firehose_compression: "" or "gzip".
//   - aws_kinesis_wire: PutRecords as "cbor" (default) or "json".
//   - aws_kinesis_partition_key: "" = the host identifier (osquery's
//     default), "random" = a random UUIDv4, "field:<name>" = the string value
//     of top-level field <name> of the JSON log line, the host identifier when
//     it is missing or empty. osquery's aws_kinesis_random_partition_key=true
//     means "random"; combining it with field:<name> is an error.
//   - aws_sts_endpoint: STS endpoint override (tests, VPC endpoints). Like the
//     service endpoint flags it beats AWS_ENDPOINT_URL_STS.
//
// # Region (Flags.ResolveRegion)
//
// osquery's order: the service's region flag, aws_region, then (ours) the
// AWS_REGION / AWS_DEFAULT_REGION environment, then the region of the
// profile (aws_profile_name, else default) in the shared config file, then
// us-east-1. Names are checked against the known regions unless the service
// has an endpoint override; STS is checked unless aws_sts_endpoint is set.
// The shared config file is AWS_CONFIG_FILE, else "config" beside the
// shared credentials file (osquery's rule; ~/.aws/config by default).
//
// # Credentials
//
// One ordered chain in osquery's order (see credentialChain): static STS
// triple (aws_session_token) or AssumeRole (aws_sts_arn_role), flags, named
// profile, environment, (ours) web identity, default profile, EC2 instance
// metadata. The whole chain sits in one aws.CredentialsCache that refreshes
// expiring credentials a minute early; the sink invalidates it when AWS says
// a token expired. Differences from osquery, on purpose:
//
//   - A failing AssumeRole is an error; osquery falls back to signing with
//     the base credentials, which hides the misconfiguration.
//   - AssumeRole credentials expire at the Expiration STS returns rather than
//     at now+aws_sts_timeout.
//   - Profiles may use role_arn/source_profile, credential_process, SSO or a
//     web identity token (the SDK resolves them); osquery reads static keys.
//   - The default-profile step honours AWS_PROFILE.
//
// # HTTP and proxy
//
// With aws_enable_proxy every request (STS included, instance metadata
// excluded) goes to aws_proxy_scheme://user:password@host:port via
// http.ProxyURL, which, unlike http.ProxyFromEnvironment, also proxies
// loopback destinations and ignores NO_PROXY. A scheme other than "http"
// means https, as in osquery; port 0 means the scheme's default. Without it
// HTTPS_PROXY / NO_PROXY apply. One attempt is bounded by RequestTimeout.
// Request bodies reach net/http without their io.WriterTo method: with it,
// an answer that arrives before net/http's last read of the body (a loaded
// host) made the connection close under the answer, and the SDK resent a
// request the service had already taken (see httpClient).
// Proxy settings also apply with aws_enforce_fips (osquery drops them).
//
// # Retries
//
// The SDK's standard retryer makes at most SDKMaxAttempts attempts with
// backoff capped at SDKMaxBackoff and without its client-side retry quota
// (ratelimit.None), which would otherwise silently stop all retries during
// a long outage. Everything beyond that is the sender's loop
// (sink.Backoff); per-record failures are never retried by the SDK.
package awsconf
