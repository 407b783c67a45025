package forwarder

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/osquery-syslog/osquery-syslog/forwarder/awsconf"
	"github.com/osquery-syslog/osquery-syslog/forwarder/pack"
	"github.com/osquery-syslog/osquery-syslog/forwarder/queue"
	"github.com/osquery-syslog/osquery-syslog/forwarder/sink"
	"github.com/osquery-syslog/osquery-syslog/stats"
)

// Open builds the forwarder of one logger plugin, service "kinesis" or
// "firehose", from osquery's AWS flags: validates them (a missing stream
// name fails here, with osquery's message), builds the SDK configuration,
// asks the stream for its record limit, and opens the plugin's queue in db.
// host is the host identifier, the default partition key; "" means the
// hostname (osquery's default --host_identifier).
func Open(ctx context.Context, service string, f awsconf.Flags, host string, db *queue.DB, src *stats.Source, log *slog.Logger) (*Forwarder, error) {
	if err := f.Validate(service); err != nil {
		return nil, err
	}
	cfg, err := awsconf.Load(ctx, f, service, log)
	if err != nil {
		return nil, fmt.Errorf("%s logger: %w", service, err)
	}
	if host == "" {
		host, _ = os.Hostname()
	}
	pc := pack.DefaultConfig(pack.Kinesis)
	var s sink.Sink
	var period uint64
	switch service {
	case awsconf.Firehose:
		pc = pack.DefaultConfig(pack.Firehose)
		fh, err := sink.NewFirehose(cfg, f.FirehoseStream)
		if err != nil {
			return nil, err
		}
		s, period = fh, f.FirehosePeriod
	default:
		k, err := sink.NewKinesis(cfg, f.KinesisStream, sink.WithKinesisWire(f.Wire()))
		if err != nil {
			return nil, err
		}
		// The stream's own record limit (large-record streams go up to
		// 10 MiB). Many policies allow PutRecords but not Describe: then
		// the classic 1 MiB applies.
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if _, err := k.Describe(dctx); err != nil {
			log.Warn("reading the stream's record size limit; assuming 1 MiB", "stream", f.KinesisStream, "err", err)
		}
		cancel()
		pk, err := f.PartitionKey()
		if err != nil {
			return nil, err
		}
		switch pk.Mode {
		case awsconf.PartitionKeyRandom:
			pc.PartitionKey = pack.Random
		case awsconf.PartitionKeyField:
			pc.PartitionKey, pc.PartitionKeyField = pack.Field, pk.Field
		}
		pc.Aggregate = f.KinesisAggregate
		s, period = k, f.KinesisPeriod
	}
	pc.MaxRecordBytes = s.Limits().MaxRecordBytes
	pc.Compression = f.Compression(service)
	pc.HostIdentifier = host
	packer, err := pack.New(pc)
	if err != nil {
		return nil, fmt.Errorf("%s logger: %w", service, err)
	}
	q, err := db.Queue(service, int64(f.BufferedLogMax))
	if err != nil {
		return nil, err
	}
	return New(Config{
		Period:        time.Duration(max(period, 1)) * time.Second,
		DisableStatus: service == awsconf.Kinesis && f.KinesisDisableLogStatus,
	}, q, packer, s, src, log), nil
}
