package sink

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Kind is what a sender should do after a failure.
type Kind uint8

const (
	// Retryable: transient (throttling, 5xx, network, timeouts, internal
	// failures, expired credentials that the next attempt refreshes). Back
	// off with jitter and resend the same records.
	Retryable Kind = iota
	// Terminal: the destination refuses us and will until someone changes
	// something (stream missing, access denied, KMS key unusable, unknown
	// or badly signed credentials). Resending soon is pointless: keep the
	// records queued, back off long, raise an alarm (counter by Code).
	// Terminal never means "drop".
	Terminal
	// Rejected: the request itself is invalid (validation, oversize record
	// or request). Resending the same request fails forever: split it,
	// and set aside (dead-letter, count) a single record that is still
	// rejected on its own.
	Rejected
)

func (k Kind) String() string {
	switch k {
	case Retryable:
		return "retryable"
	case Terminal:
		return "terminal"
	case Rejected:
		return "rejected"
	}
	return "kind" + strconv.Itoa(int(k))
}

// Class is the classification of an error: what to do, and a short code
// for counters (the AWS error code when there is one).
type Class struct {
	Kind Kind
	Code string
}

// Codes for failures without an AWS error code.
const (
	CodeCanceled           = "Canceled"
	CodeTimeout            = "Timeout"
	CodeNetwork            = "NetworkError"
	CodeMalformedResponse  = "MalformedResponse"
	CodeRetryQuotaExceeded = "RetryQuotaExceeded"
	CodeUnknown            = "Unknown"
)

// codes maps AWS error codes (whole-request and per-record) to a Kind.
// Sources: the Kinesis and Firehose API references, the SDK's retryable and
// throttle code lists, and the STS/IAM codes a signed request can meet.
var codes = map[string]Kind{
	// Throttling and capacity.
	"ProvisionedThroughputExceededException": Retryable,
	"ThrottlingException":                    Retryable,
	"Throttling":                             Retryable,
	"ThrottledException":                     Retryable,
	"RequestThrottledException":              Retryable,
	"RequestThrottled":                       Retryable,
	"TooManyRequestsException":               Retryable,
	"LimitExceededException":                 Retryable,
	"SlowDown":                               Retryable,
	"BandwidthLimitExceeded":                 Retryable,
	"KMSThrottlingException":                 Retryable,
	"EC2ThrottledException":                  Retryable,
	"PriorRequestNotComplete":                Retryable,
	// Service side.
	"ServiceUnavailableException":    Retryable,
	"ServiceUnavailable":             Retryable,
	"InternalFailure":                Retryable,
	"InternalFailureException":       Retryable,
	"InternalServerError":            Retryable,
	"InternalError":                  Retryable,
	"InternalException":              Retryable,
	"RequestTimeout":                 Retryable,
	"RequestTimeoutException":        Retryable,
	"IDPCommunicationError":          Retryable,
	"TransactionInProgressException": Retryable,
	// Credentials that expired: the sink invalidates its credentials cache,
	// so the next attempt signs with fresh ones (clock skew is the usual
	// cause when the cache thought they were still valid).
	"ExpiredTokenException": Retryable,
	"ExpiredToken":          Retryable,
	"RequestExpired":        Retryable,
	"RequestTimeTooSkewed":  Retryable,

	// Destination or permissions.
	"ResourceNotFoundException":           Terminal,
	"ResourceInUseException":              Retryable, // stream updating: transient
	"AccessDeniedException":               Terminal,
	"AccessDenied":                        Terminal,
	"NotAuthorized":                       Terminal,
	"UnauthorizedOperation":               Terminal,
	"UnrecognizedClientException":         Terminal,
	"InvalidClientTokenId":                Terminal,
	"InvalidSignatureException":           Terminal,
	"SignatureDoesNotMatch":               Terminal,
	"IncompleteSignature":                 Terminal,
	"IncompleteSignatureException":        Terminal,
	"MissingAuthenticationToken":          Terminal,
	"MissingAuthenticationTokenException": Terminal,
	"InvalidAccessKeyId":                  Terminal,
	"OptInRequired":                       Terminal,
	"KMSAccessDeniedException":            Terminal,
	"KMSDisabledException":                Terminal,
	"KMSInvalidStateException":            Terminal,
	"KMSNotFoundException":                Terminal,
	"KMSOptInRequired":                    Terminal,
	"InvalidKMSResourceException":         Terminal,
	"InvalidSourceException":              Terminal,
	"RegionDisabledException":             Terminal,

	// The request is invalid.
	"InvalidArgumentException":  Rejected,
	"ValidationException":       Rejected,
	"SerializationException":    Rejected,
	"InvalidParameterValue":     Rejected,
	"InvalidParameterException": Rejected,
	"MissingParameter":          Rejected,
	"RequestEntityTooLarge":     Rejected,
}

// ClassifyCode classifies an AWS error code, whole-request or per-record.
// An unknown code is Retryable: keeping records and retrying with backoff
// is the safe default.
func ClassifyCode(code string) Kind {
	if k, ok := codes[code]; ok {
		return k
	}
	return Retryable
}

// Classify classifies a non-nil error returned by Put (or any SDK call).
// The order matters: an AWS error code wins over the HTTP status, which wins
// over transport details.
func Classify(err error) Class {
	if err == nil {
		return Class{Kind: Retryable, Code: ""}
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() != "" && apiErr.ErrorCode() != "UnknownError" {
		code := apiErr.ErrorCode()
		if k, ok := codes[code]; ok {
			return Class{Kind: k, Code: code}
		}
		if status := httpStatus(err); status != 0 {
			return Class{Kind: statusKind(status), Code: code}
		}
		if apiErr.ErrorFault() == smithy.FaultClient {
			return Class{Kind: Terminal, Code: code}
		}
		return Class{Kind: Retryable, Code: code}
	}
	if status := httpStatus(err); status != 0 {
		return Class{Kind: statusKind(status), Code: "HTTP" + strconv.Itoa(status)}
	}
	var mal *MalformedResponseError
	if errors.As(err, &mal) {
		return Class{Kind: Retryable, Code: CodeMalformedResponse}
	}
	var quota ratelimit.QuotaExceededError
	if errors.As(err, &quota) {
		return Class{Kind: Retryable, Code: CodeRetryQuotaExceeded}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT) {
		return Class{Kind: Retryable, Code: CodeTimeout}
	}
	var canceled *aws.RequestCanceledError
	if errors.Is(err, context.Canceled) || errors.As(err, &canceled) {
		return Class{Kind: Retryable, Code: CodeCanceled}
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return Class{Kind: Retryable, Code: CodeTimeout}
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &opErr) || errors.As(err, &dnsErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return Class{Kind: Retryable, Code: CodeNetwork}
	}
	return Class{Kind: Retryable, Code: CodeUnknown}
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func statusKind(status int) Kind {
	switch {
	case status == 429 || status == 408 || status >= 500:
		return Retryable
	case status == 413:
		return Rejected
	case status >= 400:
		// Unknown client errors hold the records (Terminal) rather than
		// risk setting them aside.
		return Terminal
	}
	return Retryable
}

// expiredCodes are the codes after which cached credentials are dropped.
var expiredCodes = map[string]bool{"ExpiredTokenException": true, "ExpiredToken": true, "RequestExpired": true}

func invalidateIfExpired(c *aws.CredentialsCache, err error) {
	if c == nil {
		return
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && expiredCodes[apiErr.ErrorCode()] {
		c.Invalidate()
	}
}
