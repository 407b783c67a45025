// Package sink sends one request of records to Kinesis Data Streams
// (PutRecords) or Amazon Data Firehose (PutRecordBatch) behind one small
// interface, and classifies what went wrong.
//
// A Put has two kinds of failure:
//
//   - per-record failures: the service answers HTTP 200 with an ErrorCode on
//     some entries (throttling, internal failure). The SDK never retries
//     them; Put returns their indices and codes in Result and a nil error,
//     and the caller resends only those records.
//   - whole-request failures: an error, returned after the SDK's few retries
//     (see awsconf.SDKMaxAttempts); Classify tells the caller whether to
//     back off and resend, pause, or split/drop the request.
//
// Put never drops, truncates or reorders records; batching, size checks and
// retry loops are the caller's.
package sink

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"

	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// Record is one record to send. PartitionKey is ignored by Firehose.
type Record struct {
	Data         []byte
	PartitionKey string
}

// Limits are the request limits of a destination, in raw bytes (before the
// SDK's base64).
type Limits struct {
	MaxRecords     int // records per request
	MaxBatchBytes  int // sum of record sizes per request
	MaxRecordBytes int // one record's size
	// CountPartitionKey: a record's size is len(Data)+len(PartitionKey)
	// (Kinesis); otherwise len(Data) (Firehose).
	CountPartitionKey bool
	// BillingUnit is the service's billing step per record, in bytes:
	// Kinesis bills PUT payload units of 25 KiB (a record costs one per
	// started 25 KiB), Firehose rounds every record up to 5 KiB. 0 counts
	// one unit per record.
	BillingUnit int
}

// Kinesis and Firehose billing steps (see Limits.BillingUnit).
const (
	KinesisBillingUnit  = 25 << 10
	FirehoseBillingUnit = 5 << 10
)

// Units is what a record of n data bytes is billed as.
func (l Limits) Units(n int) int64 {
	if l.BillingUnit <= 0 {
		return 1
	}
	return int64(max(1, (n+l.BillingUnit-1)/l.BillingUnit))
}

// Size is the size of r counted against l.
func (l Limits) Size(r Record) int {
	if l.CountPartitionKey {
		return len(r.Data) + len(r.PartitionKey)
	}
	return len(r.Data)
}

// Result reports the per-record failures of a request that the service
// accepted. Failed holds the indices (into the records passed to Put, in
// increasing order) whose entry carried an ErrorCode; Codes the code of each.
// Both are empty when every record was accepted.
type Result struct {
	Failed []int
	Codes  []string
	// Message is the ErrorMessage of the first failed entry, for logs.
	Message string
	// SDKRetried lists the errors of earlier attempts of this same request
	// that the SDK retried before the answer came. A retry after an error
	// the service may have acted on (a timeout or reset after the request
	// was written) can deliver the request's records twice; the caller logs
	// and counts it.
	SDKRetried []string
}

// OK reports whether every record was accepted.
func (r Result) OK() bool { return len(r.Failed) == 0 }

// Sink is one destination stream.
type Sink interface {
	// Name is "kinesis" or "firehose".
	Name() string
	// Limits are the current request limits (Kinesis: may change after
	// Describe).
	Limits() Limits
	// Put sends recs in one request. recs must respect Limits. It returns
	// the per-record failures, or an error for a whole-request failure (then
	// no record may be assumed delivered).
	Put(ctx context.Context, recs []Record) (Result, error)
}

// isARN reports whether a stream flag holds an ARN rather than a name.
func isARN(s string) bool { return strings.HasPrefix(s, "arn:") }

// Option configures NewKinesis and NewFirehose.
type Option func(*options)

type options struct {
	limits   *Limits
	wire     string
	kinesis  []func(*kinesis.Options)
	firehose []func(*firehose.Options)
}

// WithLimits replaces the service's limits (e.g. fewer records per
// request). Kinesis' Describe then leaves them alone.
func WithLimits(l Limits) Option { return func(o *options) { o.limits = &l } }

// WithKinesisWire selects the wire format of PutRecords: WireJSON (the
// default) or WireCBOR.
func WithKinesisWire(wire string) Option { return func(o *options) { o.wire = wire } }

// WithKinesisOptions adds SDK client options (NewKinesis only).
func WithKinesisOptions(fns ...func(*kinesis.Options)) Option {
	return func(o *options) { o.kinesis = append(o.kinesis, fns...) }
}

// WithFirehoseOptions adds SDK client options (NewFirehose only).
func WithFirehoseOptions(fns ...func(*firehose.Options)) Option {
	return func(o *options) { o.firehose = append(o.firehose, fns...) }
}

func apply(opts []Option) options {
	var o options
	for _, fn := range opts {
		fn(&o)
	}
	return o
}

// sdkRetries returns the errors of the attempts the SDK retried before the
// one that answered.
func sdkRetries(md middleware.Metadata) []string {
	ar, ok := retry.GetAttemptResults(md)
	if !ok {
		return nil
	}
	var errs []string
	for _, a := range ar.Results {
		if a.Retried && a.Err != nil {
			errs = append(errs, a.Err.Error())
		}
	}
	return errs
}
