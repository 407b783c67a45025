package awsfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// Kinesis also speaks AWS JSON 1.1 in CBOR (application/x-amz-cbor-1.1,
// what the AWS Java SDK sends): the same members, with blobs as CBOR byte
// strings. The fakes handle such a request by turning its body into the
// JSON equivalent (byte strings become base64 strings, as JSON carries
// blobs) and the JSON answer back into CBOR.

func isCBOR(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-cbor")
}

// cborToJSON converts a CBOR request body into its JSON equivalent.
func cborToJSON(body []byte) ([]byte, error) {
	var v any
	if err := cbor.Unmarshal(body, &v); err != nil {
		return nil, err
	}
	v, err := jsonable(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// jsonable replaces CBOR maps (map[any]any) by map[string]any.
func jsonable(v any) (any, error) {
	switch t := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("a map key of type %T", k)
			}
			var err error
			if m[ks], err = jsonable(e); err != nil {
				return nil, err
			}
		}
		return m, nil
	case []any:
		for i := range t {
			var err error
			if t[i], err = jsonable(t[i]); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// serveCBOR runs handle on the JSON equivalent of a CBOR request and
// answers its JSON answer as CBOR (integers stay integers); any other
// answer (a proxy's HTML page) goes out unchanged.
func serveCBOR(w http.ResponseWriter, r *http.Request, body []byte, handle func(http.ResponseWriter, *http.Request, []byte)) {
	js, err := cborToJSON(body)
	if err != nil {
		writeJSONError(w, 400, "SerializationException", "decoding the CBOR body: "+err.Error())
		return
	}
	rec := httptest.NewRecorder()
	handle(rec, r, js)
	out := rec.Result()
	for k, v := range out.Header {
		w.Header()[k] = v
	}
	if !strings.HasPrefix(out.Header.Get("Content-Type"), "application/x-amz-json") {
		w.WriteHeader(out.StatusCode)
		w.Write(rec.Body.Bytes())
		return
	}
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		w.WriteHeader(500)
		return
	}
	b, err := cbor.Marshal(numbers(v))
	if err != nil {
		w.WriteHeader(500)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-cbor-1.1")
	w.Header().Del("Content-Length")
	w.WriteHeader(out.StatusCode)
	w.Write(b)
}

// numbers turns json.Number into int64 or float64.
func numbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, e := range t {
			t[k] = numbers(e)
		}
	case []any:
		for i := range t {
			t[i] = numbers(t[i])
		}
	}
	return v
}
