package aslfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// sampleMessages exercise every field kind: inline strings (0 to 7 bytes),
// string-record references shared between messages, NULL strings, extra
// pairs with NULL values, unset ids, read-access ids, a zero and a non-zero
// ref pid, non-UTF-8 bytes and the extremes of every integer.
func sampleMessages() []Message {
	long := "com.apple.securityd: a message long enough for a string record"
	return []Message{
		{
			ID: 1, Time: 1700000000, Nano: 123456789, Level: 5, PID: 42, UID: 501, GID: 20,
			ReadUID: Unset, ReadGID: Unset,
			Host: Str("mac"), Sender: Str("kernel"), Facility: Str("kern"), Text: Str(long),
		},
		{
			ID: 2, Time: 1700000001, Level: 3, Flags: FlagReadUID | FlagReadGID, PID: 0xFFFFFFFF,
			UID: 0xFFFFFFFE, GID: 0xFFFFFFFE, ReadUID: 501, ReadGID: 80, RefPID: 77,
			Host: Str("a-longer-hostname.example.com"), Sender: Str("securityd"), Facility: Str("authpriv"),
			Text: Str(long), RefProc: Str("launchd"), Session: Str("session-0123456789"),
			Pairs: []Pair{
				{Key: "Bang", Value: Str("bang_val")},
				{Key: "com.apple.message.domain", Value: Str("com.apple.powermanagement.sleep")},
				{Key: "NullValue", Value: NullString{}},
				{Key: "Empty", Value: Str("")},
				{Key: "Seven77", Value: Str("1234567")},
				{Key: "EightCh8", Value: Str("12345678")},
			},
		},
		{
			ID: 3, Time: 0, Level: 7, PID: 0, UID: Unset, GID: Unset, ReadUID: Unset, ReadGID: Unset,
			Text: Str(""), Sender: Str("x"),
		},
		{
			ID: ^uint64(0), Time: ^uint64(0), Nano: 999999999, Level: 0, PID: 1, UID: 0, GID: 0,
			ReadUID: Unset, ReadGID: Unset,
			Host: Str("\xff\xfebad"), Sender: Str("snd\xc3"), Text: Str("not utf-8: \xff\xfe\xfd and \"quotes\" / slashes"),
			Pairs: []Pair{{Key: "k\xff", Value: Str("v\x01\x1f")}},
		},
	}
}

func build(t testing.TB, v Variant, msgs []Message) (*Writer, []byte) {
	t.Helper()
	w := NewWriter(v, 1699999999)
	for i := range msgs {
		w.Add(&msgs[i])
	}
	return w, w.Bytes()
}

// readAll walks a file and decodes every record; bad records are collected.
func readAll(t testing.TB, b []byte) (msgs []Message, recordErrs []error, walkErr error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var rec Record
	for r.Next(&rec) {
		var m Message
		if err := r.Decode(&rec, &m); err != nil {
			recordErrs = append(recordErrs, err)
			continue
		}
		msgs = append(msgs, m)
	}
	return msgs, recordErrs, r.Err()
}

func TestRoundTrip(t *testing.T) {
	for _, v := range []Variant{Modern, Legacy} {
		t.Run(v.String(), func(t *testing.T) {
			want := sampleMessages()
			w, b := build(t, v, want)
			r, err := NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			h := r.Header()
			offs := w.Offsets()
			if h.Variant != v || h.Last != uint64(offs[len(offs)-1]) || h.First != uint64(offs[0]) || h.DOB != 1699999999 || h.Version != 2 {
				t.Errorf("header %+v, want variant %v first %d last %d", h, v, offs[0], offs[len(offs)-1])
			}
			// The long message text is stored once and shared.
			if _, ok := w.StringOffset(want[0].Text.S); !ok {
				t.Error("long string not in a string record")
			}
			if n := bytes.Count(b, []byte(want[0].Text.S)); n != 1 {
				t.Errorf("long string stored %d times, want 1", n)
			}
			got, recErrs, walkErr := readAll(t, b)
			if walkErr != nil || len(recErrs) > 0 {
				t.Fatalf("walk error %v, record errors %v", walkErr, recErrs)
			}
			if len(got) != len(want) {
				t.Fatalf("read %d messages, want %d", len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(normalize(got[i]), normalize(want[i])) {
					t.Errorf("message %d:\n got %+v\nwant %+v", i, got[i], want[i])
				}
			}
		})
	}
}

func normalize(m Message) Message {
	if len(m.Pairs) == 0 {
		m.Pairs = nil
	}
	return m
}

func TestInlineReferences(t *testing.T) {
	tests := []struct {
		s   string
		ref Ref
	}{
		{"", 0x8000000000000000},
		{"a", 0x8161000000000000},
		{"kernel", 0x866b65726e656c00},
		{"1234567", 0x8731323334353637},
	}
	r := &Reader{strs: map[Ref]string{}}
	for _, tt := range tests {
		if got := EncodeInline(tt.s); got != tt.ref {
			t.Errorf("EncodeInline(%q) = %#x, want %#x", tt.s, uint64(got), uint64(tt.ref))
		}
		s, ok, err := r.String(tt.ref)
		if err != nil || !ok || s != tt.s {
			t.Errorf("String(%#x) = %q, %v, %v", uint64(tt.ref), s, ok, err)
		}
	}
	// Apple ignores the bits between the flag and the length nibble.
	if s, _, err := r.String(0xF26F6B0000000000); err != nil || s != "ok" {
		t.Errorf("inline with extra flag bits = %q, %v", s, err)
	}
	// A NUL inside the inline bytes ends the string (strdup).
	if s, _, err := r.String(0x8361006200000000); err != nil || s != "a" {
		t.Errorf("inline with NUL = %q, %v", s, err)
	}
	if _, _, err := r.String(0x8800000000000000); !errors.Is(err, ErrBadInline) {
		t.Errorf("inline length 8: err %v, want ErrBadInline", err)
	}
	if _, ok, err := r.String(0); ok || err != nil {
		t.Errorf("NULL reference: ok %v err %v", ok, err)
	}
}

func TestHeader(t *testing.T) {
	_, modern := build(t, Modern, sampleMessages())
	_, legacy := build(t, Legacy, sampleMessages())
	empty := NewWriter(Modern, 5).Bytes()
	tests := []struct {
		name    string
		b       []byte
		err     error
		variant Variant
	}{
		{"modern", modern, nil, Modern},
		{"legacy", legacy, nil, Legacy},
		{"empty", empty, nil, VariantUnknown},
		{"not asl", []byte("hello, this is a text file and no ASL store at all................................"), ErrNotASL, 0},
		{"short", []byte("ASL DB\x00\x00"), ErrTruncated, 0},
		{"version 1", withU32(modern, offVersion, 1), ErrLegacyDB, 0},
		{"version 3", withU32(modern, offVersion, 3), ErrVersion, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.b), int64(len(tt.b)))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err == nil && r.Header().Variant != tt.variant {
				t.Errorf("variant %v, want %v", r.Header().Variant, tt.variant)
			}
		})
	}
}

func withU32(b []byte, off int, v uint32) []byte {
	c := bytes.Clone(b)
	binary.BigEndian.PutUint32(c[off:], v)
	return c
}

func withU64(b []byte, off int64, v uint64) []byte {
	c := bytes.Clone(b)
	binary.BigEndian.PutUint64(c[off:], v)
	return c
}

// TestDamage checks the corrupt variants of the fixture recipe: no panic,
// the good records before the damage are returned, and the damage is
// reported.
func TestDamage(t *testing.T) {
	msgs := sampleMessages()
	w, good := build(t, Modern, msgs)
	offs := w.Offsets()
	longOff, _ := w.StringOffset(msgs[0].Text.S)
	hostOff, _ := w.StringOffset(msgs[1].Host.S)
	rec2 := offs[1]
	tests := []struct {
		name     string
		b        []byte
		wantIDs  []uint64 // messages read back
		walkErr  error    // error that ended the walk
		recErrs  int      // records skipped as damaged
		recErrIs error
	}{
		{"clean", good, []uint64{1, 2, 3, ^uint64(0)}, nil, 0, nil},
		{"truncated mid last record", good[:len(good)-10], []uint64{1, 2, 3}, ErrTruncated, 0, nil},
		{"truncated mid second record", good[:rec2+50], []uint64{1}, ErrTruncated, 0, nil},
		{"truncated in fixed part", good[:rec2+100], []uint64{1}, ErrTruncated, 0, nil},
		{"bogus last", withU64(good, offLastNew, 12345678), []uint64{1, 2, 3, ^uint64(0)}, nil, 0, nil},
		{"looping next", withU64(good, offs[2]+recordCommon, uint64(offs[0])), []uint64{1, 2, 3}, ErrBadPointer, 0, nil},
		{"self next", withU64(good, offs[1]+recordCommon, uint64(offs[1])), []uint64{1, 2}, ErrBadPointer, 0, nil},
		{"next into a string record", withU64(good, offs[0]+recordCommon, uint64(hostOff)), []uint64{1}, ErrBadRecord, 0, nil},
		{"first inside header", withU64(good, offFirst, 40), nil, ErrBadPointer, 0, nil},
		{"next past end", withU64(good, offs[0]+recordCommon, uint64(len(good))+1000), []uint64{1}, ErrTruncated, 0, nil},
		{"huge kvcount", withU32(good, int(offs[1])+62, 0x7FFFFFFF), []uint64{1}, ErrBadRecord, 0, nil},
		{"odd kvcount", withU32(good, int(offs[1])+62, 11), []uint64{1, 2, 3, ^uint64(0)}, nil, 0, nil},
		{"string ref past EOF", withU64(good, offs[1]+66, uint64(len(good))+5), []uint64{1, 3, ^uint64(0)}, nil, 1, ErrBadString},
		{"string ref into a message", withU64(good, offs[1]+66, uint64(offs[0])), []uint64{1, 3, ^uint64(0)}, nil, 1, ErrBadString},
		{"inline length 8", withU64(good, offs[2]+74, 0x8800000000000000), []uint64{1, 2, ^uint64(0)}, nil, 1, ErrBadInline},
		{"NULL key", withU64(good, offs[1]+114, 0), []uint64{1, 3, ^uint64(0)}, nil, 1, ErrBadString},
		{"string record cut", withU32(good, int(longOff)+2, 1<<30), []uint64{3, ^uint64(0)}, nil, 2, ErrBadString},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, recErrs, walkErr := readAll(t, tt.b)
			var ids []uint64
			for _, m := range got {
				ids = append(ids, m.ID)
			}
			if !reflect.DeepEqual(ids, tt.wantIDs) {
				t.Errorf("ids %v, want %v", ids, tt.wantIDs)
			}
			if !errors.Is(walkErr, tt.walkErr) || (tt.walkErr == nil) != (walkErr == nil) {
				t.Errorf("walk error %v, want %v", walkErr, tt.walkErr)
			}
			if len(recErrs) != tt.recErrs {
				t.Errorf("record errors %v, want %d", recErrs, tt.recErrs)
			}
			for _, err := range recErrs {
				if !errors.Is(err, tt.recErrIs) {
					t.Errorf("record error %v, want %v", err, tt.recErrIs)
				}
			}
			// Every good record read before the damage is intact.
			for _, m := range got {
				for _, w := range msgs {
					if w.ID == m.ID && tt.name != "odd kvcount" && !reflect.DeepEqual(normalize(m), normalize(w)) {
						t.Errorf("message %d changed:\n got %+v\nwant %+v", m.ID, m, w)
					}
				}
			}
		})
	}
}

func TestEmptyFile(t *testing.T) {
	b := NewWriter(Legacy, 1).Bytes()
	got, recErrs, walkErr := readAll(t, b)
	if len(got) != 0 || recErrs != nil || walkErr != nil {
		t.Errorf("empty file: %v %v %v", got, recErrs, walkErr)
	}
}

// TestGrowingFile reads a file that grows while it is read: the chain
// points past the size seen at open, and the reader re-stats the file.
func TestGrowingFile(t *testing.T) {
	msgs := sampleMessages()
	w, _ := build(t, Modern, msgs[:2])
	path := filepath.Join(t.TempDir(), "live.asl")
	if err := os.WriteFile(path, w.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f, int64(w.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	if !r.Next(&rec) {
		t.Fatal("no first record")
	}
	w.Add(&msgs[2])
	if err := os.WriteFile(path, w.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	n := 1
	for r.Next(&rec) {
		n++
	}
	if n != 3 || r.Err() != nil {
		t.Errorf("read %d records (err %v), want 3", n, r.Err())
	}
}

func TestKeys(t *testing.T) {
	m := Message{
		ID: 9, Time: 100, Nano: 5, Level: 1, PID: 0xFFFFFFFF, UID: Unset, GID: 20, ReadUID: Unset, ReadGID: 80, RefPID: 0,
		Sender: Str("foo"), Text: Str("bar"), Session: Str(""),
		Pairs: []Pair{{Key: "Bang", Value: Str("bang_val")}, {Key: "Sender", Value: Str("override")}, {Key: "Bang", Value: NullString{}}},
	}
	got := m.Keys(nil)
	want := []Pair{
		{KeyMsgID, Str("9")}, {KeyTime, Str("100")}, {KeyTimeNsec, Str("5")}, {KeyLevel, Str("1")}, {KeyPID, Str("4294967295")},
		{KeyGID, Str("20")}, {KeyReadGID, Str("80")},
		{KeySender, Str("override")}, {KeyMessage, Str("bar")}, {KeySession, Str("")},
		{"Bang", NullString{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Keys:\n got %v\nwant %v", got, want)
	}
}

func TestParseRecord(t *testing.T) {
	w, b := build(t, Legacy, sampleMessages())
	off := w.Offsets()[1]
	n := binary.BigEndian.Uint32(b[off+2:])
	var rec Record
	if err := ParseRecord(b[off:off+recordCommon+int64(n)], off, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.ID != 2 || rec.RefPID != 77 || len(rec.KV) != 12 || rec.Prev != uint64(w.Offsets()[0]) || rec.Next != uint64(w.Offsets()[2]) {
		t.Errorf("record %+v", rec)
	}
	if err := ParseRecord(b[off:off+100], off, &rec); !errors.Is(err, ErrTruncated) {
		t.Errorf("short record: %v", err)
	}
	if err := ParseRecord(b[off:off+recordCommon+int64(n)-8], off, &rec); !errors.Is(err, ErrBadRecord) {
		t.Errorf("length mismatch: %v", err)
	}
}
