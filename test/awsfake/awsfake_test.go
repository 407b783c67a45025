package awsfake

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

func cfg(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "tok"),
		BaseEndpoint: aws.String(endpoint),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestAccessKey(t *testing.T) {
	r, _ := http.NewRequest("POST", "http://x/", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=ASIAXYZ/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	if got := AccessKey(r); got != "ASIAXYZ" {
		t.Fatalf("AccessKey = %q", got)
	}
	r, _ = http.NewRequest("GET", "http://x/?X-Amz-Credential=AKIDQ%2F20240101%2Fus-east-1%2Fsts%2Faws4_request", nil)
	if got := AccessKey(r); got != "AKIDQ" {
		t.Fatalf("presigned AccessKey = %q", got)
	}
}

func TestKinesisFake(t *testing.T) {
	k := NewKinesis(t, "s")
	c := kinesis.NewFromConfig(cfg(k.URL()))
	entries := func(n int) []types.PutRecordsRequestEntry {
		out := make([]types.PutRecordsRequestEntry, n)
		for i := range out {
			out[i] = types.PutRecordsRequestEntry{Data: []byte{byte(i)}, PartitionKey: aws.String("pk")}
		}
		return out
	}
	out, err := c.PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: entries(4)})
	if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 || aws.ToString(out.Records[0].ShardId) != "shardId-000000000000" {
		t.Fatalf("%+v %v", out, err)
	}
	reqs := k.Requests()
	if len(reqs) != 1 || reqs[0].AccessKey != "AKIDTEST" || reqs[0].SessionToken != "tok" || reqs[0].Op != "PutRecords" {
		t.Fatalf("log %+v", reqs)
	}
	if _, err := c.PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: entries(501)}); code(err) != "ValidationException" {
		t.Fatalf("501 records: %v", err)
	}
	if _, err := c.PutRecord(t.Context(), &kinesis.PutRecordInput{StreamName: aws.String("s"), Data: []byte("one"), PartitionKey: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	if n := len(k.Records("s")); n != 5 {
		t.Fatalf("%d records", n)
	}

	// Request faults are consumed in order, then the service is back.
	k.FailRequests(RequestFault{Code: "ProvisionedThroughputExceededException", Requests: 1})
	k.FailRequests(RequestFault{Status: 500, Code: "InternalFailure", Requests: 1})
	put := func() error {
		_, err := c.PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: entries(1)})
		return err
	}
	if code(put()) != "ProvisionedThroughputExceededException" || code(put()) != "InternalFailure" || put() != nil {
		t.Fatal("request faults")
	}
	// Describe is not hit by put faults unless Op says so.
	k.FailRequests(RequestFault{Code: "LimitExceededException", Op: "DescribeStreamSummary", Requests: 1})
	if _, err := c.DescribeStreamSummary(t.Context(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("s")}); code(err) != "LimitExceededException" {
		t.Fatal(err)
	}
	if put() != nil {
		t.Fatal("put hit by a Describe fault")
	}

	// Down with refused connections, back by itself on the same address.
	k.Down(200*time.Millisecond, DownRefuse)
	if put() == nil {
		t.Fatal("put while down")
	}
	time.Sleep(300 * time.Millisecond)
	if err := put(); err != nil {
		t.Fatalf("after Down: %v", err)
	}
	k.Down(0, DownUnavailable)
	if code(put()) != "ServiceUnavailableException" {
		t.Fatal("503 while down")
	}
	k.Up()
	if put() != nil {
		t.Fatal("after Up")
	}
}

func TestFirehoseFake(t *testing.T) {
	f := NewFirehose(t, "d")
	c := firehose.NewFromConfig(cfg(f.URL()))
	recs := make([]fhtypes.Record, 10)
	for i := range recs {
		recs[i].Data = []byte{'a' + byte(i)}
	}
	f.FailRecords(RecordFault{Fraction: 0.3})
	out, err := c.PutRecordBatch(t.Context(), &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("d"), Records: recs})
	if err != nil || aws.ToInt32(out.FailedPutCount) != 3 {
		t.Fatalf("%+v %v", out, err)
	}
	var failed []int
	for i, r := range out.RequestResponses {
		if r.ErrorCode != nil {
			failed = append(failed, i)
			if *r.ErrorCode != "ServiceUnavailableException" {
				t.Fatal(*r.ErrorCode)
			}
		}
	}
	if len(failed) != 3 || failed[0] != 3 || failed[1] != 6 || failed[2] != 9 {
		t.Fatalf("failed %v", failed)
	}
	if n := len(f.Records("d")); n != 7 || f.Puts()[0].Failed() != 3 {
		t.Fatalf("%d records stored", n)
	}
	big := []fhtypes.Record{{Data: make([]byte, 1024001)}}
	if _, err := c.PutRecordBatch(t.Context(), &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("d"), Records: big}); code(err) != "ValidationException" {
		t.Fatalf("oversize: %v", err)
	}
	if _, err := c.PutRecordBatch(t.Context(), &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("nope"), Records: recs}); code(err) != "ResourceNotFoundException" {
		t.Fatalf("missing: %v", err)
	}
}

func TestSTSFake(t *testing.T) {
	s := NewSTS(t)
	c := sts.NewFromConfig(cfg(s.URL()))
	out, err := c.AssumeRole(t.Context(), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::1:role/r"), RoleSessionName: aws.String("sess"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	cr := out.Credentials
	if aws.ToString(cr.AccessKeyId) != IssuedKey(1) || aws.ToString(cr.SessionToken) != "fake-token-1" || time.Until(aws.ToTime(cr.Expiration)) > 901*time.Second {
		t.Fatalf("credentials %+v", cr)
	}
	if ar := s.AssumeRoles(); len(ar) != 1 || ar[0].AccessKey != "AKIDTEST" || ar[0].Form["DurationSeconds"] != "900" {
		t.Fatalf("log %+v", ar)
	}
	if _, err := c.AssumeRole(t.Context(), &sts.AssumeRoleInput{RoleArn: aws.String("r"), RoleSessionName: aws.String("s"), DurationSeconds: aws.Int32(60)}); code(err) != "ValidationError" {
		t.Fatalf("short duration: %v", err)
	}
	s.FailRequests(RequestFault{Status: 403, Code: "AccessDenied", Requests: 1})
	if _, err := c.AssumeRole(t.Context(), &sts.AssumeRoleInput{RoleArn: aws.String("r"), RoleSessionName: aws.String("s")}); code(err) != "AccessDenied" {
		t.Fatalf("fault: %v", err)
	}
}
