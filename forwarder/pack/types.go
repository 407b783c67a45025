package pack

import (
	"fmt"

	"github.com/osquery-syslog/osquery-syslog/internal/uuid"
)

// Kind is the kind of osquery logger call an Entry came from.
type Kind uint8

const (
	// Result is a scheduled-query result line (event or batch format).
	Result Kind = iota
	// Snapshot is a snapshot-query line; osquery ships it as a result.
	Snapshot
	// Status is one status-log element {"s":..,"f":..,"i":..,"m":..,"h":..,"c":..,"u":..}.
	Status
)

func (k Kind) String() string {
	switch k {
	case Result:
		return "result"
	case Snapshot:
		return "snapshot"
	case Status:
		return "status"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Entry is one logger call's payload, as stored in the durable queue.
// Unknown kinds are handled like Result.
type Entry struct {
	ID   int64
	Kind Kind
	Line []byte
}

// Ref says which queue entry, and which of its split parts, a record
// carries. Parts is 1 unless the line was split by rows. An entry is done
// when every Part in [0, Parts) has shipped (entries that appear only in
// Dropped are done at once).
type Ref struct {
	ID          int64
	Part, Parts int
}

// Record is one record for PutRecords (Data + PartitionKey) or
// PutRecordBatch (Data; PartitionKey is empty for Firehose).
type Record struct {
	Data         []byte
	PartitionKey string
	Refs         []Ref
}

// Service selects the destination's limits and framing.
type Service int

const (
	Kinesis Service = iota
	Firehose
)

func (s Service) String() string {
	switch s {
	case Kinesis:
		return "kinesis"
	case Firehose:
		return "firehose"
	}
	return fmt.Sprintf("Service(%d)", int(s))
}

// PartitionKeyMode selects the Kinesis partition key.
type PartitionKeyMode int

const (
	// HostIdentifier uses Config.HostIdentifier for every record (osquery's
	// default; keeps a host's records in order on one shard).
	HostIdentifier PartitionKeyMode = iota
	// Random uses a fresh UUIDv4 from crypto/rand per shipped record (per
	// aggregate when aggregating or joining).
	Random
	// Field uses the value of Config.PartitionKeyField in the JSON line,
	// falling back to Config.HostIdentifier when it is absent, null, empty,
	// an object or an array.
	Field
)

// AWS limits (see the size-accounting comment above recordBudget).
const (
	KinesisMaxRecordBytes      = 1 << 20   // default per-stream MaxRecordSizeInKiB (1024)
	KinesisMaxRecordBytesLarge = 10 << 20  // largest MaxRecordSizeInKiB a stream can be raised to
	FirehoseMaxRecordBytes     = 1_024_000 // 1,000 KiB before base64, fixed
	MaxBatchRecords            = 500       // both PutRecords and PutRecordBatch
	KinesisMaxBatchBytes       = 5 << 20   // classic PutRecords limit, data + partition keys
	FirehoseMaxBatchBytes      = 4 << 20   // PutRecordBatch limit, data only
	MaxPartitionKeyChars       = 256       // Kinesis partition keys are 1–256 Unicode characters
	minRecordBytes             = 1024
	randomKeyLen               = uuid.Len // UUIDv4 text
)

// Config configures a Packer. The zero value is not usable: Kinesis needs a
// HostIdentifier unless PartitionKey is Random. DefaultConfig returns the
// recommended settings.
type Config struct {
	Service Service
	// MaxRecordBytes is the per-record limit; 0 means the service default.
	// Kinesis counts data + partition key bytes against it (1 MiB default,
	// or the stream's MaxRecordSizeInKiB×1024, at most 10 MiB); Firehose
	// counts data only (at most 1,024,000).
	MaxRecordBytes int
	// Aggregate packs Kinesis records into KPL aggregated records, one
	// aggregate per partition key. Kinesis only; excludes Join.
	Aggregate bool
	// Join concatenates newline-terminated lines into records up to the
	// limit (Firehose bills each record rounded up to 5 KB). Requires
	// Newline. With Kinesis it joins per partition key.
	Join bool
	// Newline appends "\n" to every line.
	Newline bool
	// Compression is "" or "gzip": each shipped record (aggregate, joined
	// record or single line, after framing) is gzip-compressed and still
	// fits the limit.
	Compression string
	// GzipLevel is the compress/gzip level 1–9; 0 means gzip.BestSpeed.
	GzipLevel int
	// PartitionKey selects the Kinesis partition key (ignored for Firehose).
	PartitionKey PartitionKeyMode
	// PartitionKeyField names the JSON member used in Field mode. A dotted
	// path ("decorations.host_uuid") descends into nested objects; keys are
	// matched in their raw JSON spelling. Number and bool values are used
	// as their source text. Keys are cut to 256 characters.
	PartitionKeyField string
	// HostIdentifier is the partition key in HostIdentifier mode, the
	// fallback in Field mode, and the hostIdentifier of status logs whose
	// element lacks "h".
	HostIdentifier string
	// Version is osquery's version string, written as "version" into status
	// logs like osquery does; omitted when empty.
	Version string
	// AddLogType appends "log_type":"result" (results, snapshots) or
	// "log_type":"status" as the last member, replacing an existing
	// top-level log_type value in place, like osquery's aws loggers.
	AddLogType bool
}

// DefaultConfig returns the recommended settings for s: Kinesis with 1 MiB
// records, no newline, no aggregation; Firehose with 1,024,000-byte
// newline-joined records. Both add log_type and partition by host
// identifier; set HostIdentifier before calling New.
func DefaultConfig(s Service) Config {
	c := Config{Service: s, AddLogType: true, PartitionKey: HostIdentifier}
	switch s {
	case Kinesis:
		c.MaxRecordBytes = KinesisMaxRecordBytes
	case Firehose:
		c.MaxRecordBytes = FirehoseMaxRecordBytes
		c.Join = true
		c.Newline = true
	}
	return c
}

// Reason says why a line (or some rows of it) can never ship.
type Reason uint8

const (
	// NotJSON: the line is not exactly one JSON object.
	NotJSON Reason = iota + 1
	// TooLarge: the line exceeds the record limit and cannot be split by
	// rows (an event-format row, a status line, or an envelope that alone
	// is too large).
	TooLarge
	// RowTooLarge: single rows of a batch/snapshot line exceed the limit
	// even with only the envelope around them; the line's other rows ship.
	RowTooLarge
	// Incompressible: a record that fits uncompressed grew past the limit
	// under gzip. Not expected in practice (lines are sized with a margin
	// above gzip's worst-case expansion); kept so it can never be silent.
	Incompressible
)

func (r Reason) String() string {
	switch r {
	case NotJSON:
		return "not a JSON object"
	case TooLarge:
		return "larger than the record limit and not splittable"
	case RowTooLarge:
		return "single row larger than the record limit"
	case Incompressible:
		return "larger than the record limit after compression"
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// Dropped reports data that can never ship. An entry may appear both here
// (RowTooLarge) and in records' Refs (its other rows).
type Dropped struct {
	ID     int64
	Reason Reason
	Rows   int    // rows (or whole lines) lost
	Bytes  int    // bytes lost
	Sample []byte // at most 64 bytes from the start of the offending line or row, for logging
}

const sampleLen = 64

// Stats are cumulative counters since New. Aggregation ratio is
// Lines/Records, compression ratio FramedBytes/ShippedBytes.
type Stats struct {
	Entries      int64 // entries passed to Pack
	Lines        int64 // user records shipped (lines and split parts)
	Records      int64 // records returned
	Split        int64 // entries split into more than one part
	Dropped      int64 // Dropped reports returned
	InputBytes   int64 // bytes of Entry.Line passed to Pack
	RawBytes     int64 // bytes of shipped user records after framing (log_type, newline)
	FramedBytes  int64 // bytes of records before compression (incl. KPL framing)
	ShippedBytes int64 // bytes of Record.Data returned (partition keys not included)
}
