package sink

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// Firehose limits (PutRecordBatch API reference; "cannot be changed"): 500
// records, 4 MiB per request, 1,000 KiB per record before base64.
const (
	FirehoseMaxRecords     = 500
	FirehoseMaxBatchBytes  = 4 << 20
	FirehoseMaxRecordBytes = 1000 << 10
)

// FirehoseLimits returns Firehose's limits.
func FirehoseLimits() Limits {
	return Limits{MaxRecords: FirehoseMaxRecords, MaxBatchBytes: FirehoseMaxBatchBytes, MaxRecordBytes: FirehoseMaxRecordBytes,
		BillingUnit: FirehoseBillingUnit}
}

// Firehose puts records into one delivery stream with PutRecordBatch. It is
// safe for concurrent use.
type Firehose struct {
	client *firehose.Client
	name   string
	limits Limits
	creds  *aws.CredentialsCache
}

var _ Sink = (*Firehose)(nil)

// NewFirehose returns a sink for the delivery stream (a name, or an ARN
// whose name is used) with the client built from cfg; cfg.BaseEndpoint,
// when set, beats the AWS_ENDPOINT_URL_* environment. No network call.
func NewFirehose(cfg aws.Config, stream string, opts ...Option) (*Firehose, error) {
	if stream == "" {
		return nil, errors.New("Stream name must be specified with --aws_firehose_stream")
	}
	if isARN(stream) {
		// arn:aws:firehose:region:account:deliverystream/NAME
		if i := strings.LastIndex(stream, "deliverystream/"); i >= 0 {
			stream = stream[i+len("deliverystream/"):]
		}
	}
	o := apply(opts)
	endpoint := cfg.BaseEndpoint
	fns := append([]func(*firehose.Options){func(fo *firehose.Options) {
		if endpoint != nil {
			fo.BaseEndpoint = endpoint
		}
		fo.Protocol = putBodies{fo.Protocol}
	}}, o.firehose...)
	f := &Firehose{client: firehose.NewFromConfig(cfg, fns...), name: stream, limits: FirehoseLimits()}
	if o.limits != nil {
		f.limits = *o.limits
	}
	f.creds, _ = cfg.Credentials.(*aws.CredentialsCache)
	return f, nil
}

// Name returns "firehose".
func (f *Firehose) Name() string { return "firehose" }

// Stream returns the delivery stream name.
func (f *Firehose) Stream() string { return f.name }

// Limits returns the limits.
func (f *Firehose) Limits() Limits { return f.limits }

// Client returns the SDK client (for tests and tools).
func (f *Firehose) Client() *firehose.Client { return f.client }

// Describe calls DescribeDeliveryStream, as a start-up health check.
func (f *Firehose) Describe(ctx context.Context) (StreamInfo, error) {
	out, err := f.client.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: &f.name})
	if err != nil {
		return StreamInfo{}, err
	}
	d := out.DeliveryStreamDescription
	if d == nil {
		return StreamInfo{}, errors.New("DescribeDeliveryStream: empty answer")
	}
	info := StreamInfo{
		Name:   aws.ToString(d.DeliveryStreamName),
		ARN:    aws.ToString(d.DeliveryStreamARN),
		Status: string(d.DeliveryStreamStatus),
	}
	if e := d.DeliveryStreamEncryptionConfiguration; e != nil {
		info.Encryption = string(e.KeyType)
	}
	return info, nil
}

// Put sends recs with one PutRecordBatch call. See Sink.
func (f *Firehose) Put(ctx context.Context, recs []Record) (Result, error) {
	if len(recs) == 0 {
		return Result{}, nil
	}
	entries := make([]types.Record, len(recs))
	for i := range recs {
		entries[i].Data = recs[i].Data
	}
	out, err := f.client.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: &f.name, Records: entries})
	if err != nil {
		invalidateIfExpired(f.creds, err)
		return Result{}, err
	}
	if len(out.RequestResponses) != len(recs) {
		return Result{}, &MalformedResponseError{Op: "PutRecordBatch", Sent: len(recs), Got: len(out.RequestResponses)}
	}
	res := Result{SDKRetried: sdkRetries(out.ResultMetadata)}
	for i := range out.RequestResponses {
		if c := aws.ToString(out.RequestResponses[i].ErrorCode); c != "" {
			res.add(i, c, aws.ToString(out.RequestResponses[i].ErrorMessage))
		}
	}
	if res.OK() && aws.ToInt32(out.FailedPutCount) > 0 {
		// Failures announced but none identified: resend everything rather
		// than lose records.
		return Result{}, &MalformedResponseError{Op: "PutRecordBatch", Sent: len(recs), Got: len(recs), Failed: int(aws.ToInt32(out.FailedPutCount))}
	}
	return res, nil
}
