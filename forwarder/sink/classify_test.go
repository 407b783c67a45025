package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// sdkErr wraps err the way the SDK returns it from an operation.
func sdkErr(status int, err error) error {
	return &smithy.OperationError{ServiceID: "Kinesis", OperationName: "PutRecords", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err},
		RequestID:     "req",
	}}
}

func api(code string) error { return &smithy.GenericAPIError{Code: code, Message: "m"} }

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"throttled", sdkErr(400, api("ProvisionedThroughputExceededException")), Class{Retryable, "ProvisionedThroughputExceededException"}},
		{"firehose slow down", sdkErr(503, api("ServiceUnavailableException")), Class{Retryable, "ServiceUnavailableException"}},
		{"internal failure", sdkErr(500, api("InternalFailure")), Class{Retryable, "InternalFailure"}},
		{"kms throttling", sdkErr(400, api("KMSThrottlingException")), Class{Retryable, "KMSThrottlingException"}},
		{"expired token", sdkErr(400, api("ExpiredTokenException")), Class{Retryable, "ExpiredTokenException"}},
		{"not found", sdkErr(400, api("ResourceNotFoundException")), Class{Terminal, "ResourceNotFoundException"}},
		{"access denied", sdkErr(400, api("AccessDeniedException")), Class{Terminal, "AccessDeniedException"}},
		{"unrecognized client", sdkErr(400, api("UnrecognizedClientException")), Class{Terminal, "UnrecognizedClientException"}},
		{"bad signature", sdkErr(403, api("InvalidSignatureException")), Class{Terminal, "InvalidSignatureException"}},
		{"kms access", sdkErr(400, api("KMSAccessDeniedException")), Class{Terminal, "KMSAccessDeniedException"}},
		{"kms disabled", sdkErr(400, api("KMSDisabledException")), Class{Terminal, "KMSDisabledException"}},
		{"kms not found", sdkErr(400, api("KMSNotFoundException")), Class{Terminal, "KMSNotFoundException"}},
		{"firehose kms", sdkErr(400, api("InvalidKMSResourceException")), Class{Terminal, "InvalidKMSResourceException"}},
		{"invalid argument", sdkErr(400, api("InvalidArgumentException")), Class{Rejected, "InvalidArgumentException"}},
		{"validation", sdkErr(400, api("ValidationException")), Class{Rejected, "ValidationException"}},
		{"unknown 4xx code", sdkErr(400, api("SomethingNewException")), Class{Terminal, "SomethingNewException"}},
		{"unknown 5xx code", sdkErr(502, api("SomethingNewException")), Class{Retryable, "SomethingNewException"}},
		{"unknown code, 429", sdkErr(429, api("Whatever")), Class{Retryable, "Whatever"}},
		{"html 503", sdkErr(503, &smithy.DeserializationError{Err: errors.New("bad json")}), Class{Retryable, "HTTP503"}},
		{"html 502", sdkErr(502, errors.New("x")), Class{Retryable, "HTTP502"}},
		{"html 413", sdkErr(413, errors.New("x")), Class{Rejected, "HTTP413"}},
		{"html 403", sdkErr(403, errors.New("x")), Class{Terminal, "HTTP403"}},
		{"UnknownError code uses status", sdkErr(504, api("UnknownError")), Class{Retryable, "HTTP504"}},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, Class{Retryable, CodeNetwork}},
		{"reset", fmt.Errorf("send: %w", syscall.ECONNRESET), Class{Retryable, CodeNetwork}},
		{"eof", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), Class{Retryable, CodeNetwork}},
		{"dns", &net.DNSError{Err: "no such host", Name: "x"}, Class{Retryable, CodeNetwork}},
		{"deadline", &aws.RequestCanceledError{Err: context.DeadlineExceeded}, Class{Retryable, CodeTimeout}},
		{"canceled", &aws.RequestCanceledError{Err: context.Canceled}, Class{Retryable, CodeCanceled}},
		{"malformed", &MalformedResponseError{Op: "PutRecords", Sent: 2, Got: 1}, Class{Retryable, CodeMalformedResponse}},
		{"other", errors.New("?"), Class{Retryable, CodeUnknown}},
	}
	for _, tt := range tests {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("%s: Classify(%v) = %+v, want %+v", tt.name, tt.err, got, tt.want)
		}
	}
	for code, want := range map[string]Kind{
		"ProvisionedThroughputExceededException": Retryable, "InternalFailure": Retryable,
		"ServiceUnavailableException": Retryable, "": Retryable, "NeverSeenBefore": Retryable,
		"ResourceNotFoundException": Terminal, "ValidationException": Rejected,
	} {
		if got := ClassifyCode(code); got != want {
			t.Errorf("ClassifyCode(%q) = %v, want %v", code, got, want)
		}
	}
	if Retryable.String() != "retryable" || Terminal.String() != "terminal" || Rejected.String() != "rejected" {
		t.Error("Kind names")
	}
}
