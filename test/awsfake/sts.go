package awsfake

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// STS is a fake STS endpoint speaking the query protocol (form POST,
// Action=AssumeRole, XML answer). Each AssumeRole issues new credentials:
// access key "ASIAFAKE<n>", secret "fake-secret-<n>", token "fake-token-<n>",
// expiring after the requested DurationSeconds (or Lifetime when set).
type STS struct {
	server
	issued atomic.Int64
	// Lifetime overrides the Expiration of issued credentials (e.g. a few
	// seconds to exercise refresh). Set before use.
	Lifetime time.Duration
}

// NewSTS starts a fake STS; it stops when the test ends.
func NewSTS(tb testing.TB) *STS {
	s := &STS{}
	s.putOp = "AssumeRole"
	s.handler = s.handle
	s.start(tb)
	return s
}

// Issued returns how many credentials were issued.
func (s *STS) Issued() int { return int(s.issued.Load()) }

// IssuedKey returns the access key id of the n-th issued credentials
// (1-based).
func IssuedKey(n int) string { return "ASIAFAKE" + strconv.Itoa(n) }

// AssumeRoles returns the logged AssumeRole requests (Form holds RoleArn,
// RoleSessionName, DurationSeconds, ...; AccessKey the key that signed it).
func (s *STS) AssumeRoles() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Op == "AssumeRole" {
			out = append(out, r)
		}
	}
	return out
}

type stsCredentials struct {
	AccessKeyId     string
	SecretAccessKey string
	SessionToken    string
	Expiration      string
}

type assumeRoleResponse struct {
	XMLName xml.Name `xml:"AssumeRoleResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Credentials     stsCredentials
		AssumedRoleUser struct {
			Arn           string
			AssumedRoleId string
		}
		PackedPolicySize int
	} `xml:"AssumeRoleResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type stsErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}

func (s *STS) handle(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeSTSError(w, 400, "MalformedInput", err.Error())
		return
	}
	flat := map[string]string{}
	for k, v := range form {
		flat[k] = v[0]
	}
	op := form.Get("Action")
	req := Request{Op: op, AccessKey: AccessKey(r), SessionToken: r.Header.Get("X-Amz-Security-Token"), UserAgent: r.UserAgent(), Status: 200, Form: flat}
	if f := s.takeRequestFault(op); f != nil {
		req.Status, req.ErrorCode = f.Status, f.Code
		s.appendLog(req)
		if f.Code == "" {
			s.writeFault(w, r, f)
			return
		}
		writeSTSError(w, f.Status, f.Code, f.Message)
		return
	}
	if op != "AssumeRole" {
		req.Status, req.ErrorCode = 400, "InvalidAction"
		s.appendLog(req)
		writeSTSError(w, 400, "InvalidAction", "the fake does not implement "+op)
		return
	}
	role, session := form.Get("RoleArn"), form.Get("RoleSessionName")
	if role == "" || session == "" {
		req.Status, req.ErrorCode = 400, "ValidationError"
		s.appendLog(req)
		writeSTSError(w, 400, "ValidationError", "RoleArn and RoleSessionName are required")
		return
	}
	dur := 3600 * time.Second
	if d := form.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 43200 {
			req.Status, req.ErrorCode = 400, "ValidationError"
			s.appendLog(req)
			writeSTSError(w, 400, "ValidationError", "1 validation error detected: Value '"+d+"' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")
			return
		}
		dur = time.Duration(n) * time.Second
	}
	if s.Lifetime > 0 {
		dur = s.Lifetime
	}
	s.appendLog(req)
	n := int(s.issued.Add(1))
	var resp assumeRoleResponse
	resp.Xmlns = "https://sts.amazonaws.com/doc/2011-06-15/"
	resp.Result.Credentials = stsCredentials{
		AccessKeyId:     IssuedKey(n),
		SecretAccessKey: "fake-secret-" + strconv.Itoa(n),
		SessionToken:    "fake-token-" + strconv.Itoa(n),
		Expiration:      time.Now().Add(dur).UTC().Format(time.RFC3339),
	}
	resp.Result.AssumedRoleUser.Arn = fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", Account, roleName(role), session)
	resp.Result.AssumedRoleUser.AssumedRoleId = "AROAFAKE:" + session
	resp.RequestID = strconv.FormatInt(time.Now().UnixNano(), 36)
	w.Header().Set("Content-Type", "text/xml")
	w.Write([]byte(xml.Header))
	xml.NewEncoder(w).Encode(resp)
}

func roleName(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' {
			return arn[i+1:]
		}
	}
	return arn
}

func writeSTSError(w http.ResponseWriter, status int, code, msg string) {
	var e stsErrorResponse
	e.Xmlns = "https://sts.amazonaws.com/doc/2011-06-15/"
	e.Error.Type, e.Error.Code, e.Error.Message = "Sender", code, msg
	if status >= 500 {
		e.Error.Type = "Receiver"
	}
	e.RequestID = strconv.FormatInt(time.Now().UnixNano(), 36)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	xml.NewEncoder(w).Encode(e)
}
