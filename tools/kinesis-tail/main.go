// Command kinesis-tail prints the records of a Kinesis data stream as they
// arrive, one line each, de-aggregating KPL records and gunzipping gzip
// ones. make run uses it to show what the daemon shipped to the local
// emulator; it works against real AWS too (credentials and region from the
// usual AWS environment / shared config).
//
//	go run ./tools/kinesis-tail --stream NAME [--endpoint URL] [--region R]
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/awslabs/kinesis-aggregation/go/v2/deaggregator"
)

func main() {
	stream := flag.String("stream", "", "stream name (required)")
	endpoint := flag.String("endpoint", "", "endpoint URL, e.g. http://127.0.0.1:4567 for kinesis-mock (default: AWS)")
	region := flag.String("region", "", "region (default: from the AWS environment)")
	from := flag.String("from", "trim_horizon", "where to start: trim_horizon (everything kept) or latest (new records only)")
	poll := flag.Duration("poll", time.Second, "pause between reads of a shard with nothing new")
	prefix := flag.String("prefix", "", "text printed before each record")
	wait := flag.Duration("wait", 0, "keep retrying while the stream does not exist yet, up to this long")
	flag.Parse()
	if *stream == "" {
		fmt.Fprintln(os.Stderr, "kinesis-tail: --stream is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := tail(ctx, *stream, *endpoint, *region, *from, *prefix, *poll, *wait, os.Stdout); err != nil && ctx.Err() == nil {
		fmt.Fprintf(os.Stderr, "kinesis-tail: %v\n", err)
		os.Exit(1)
	}
}

func tail(ctx context.Context, stream, endpoint, region, from, prefix string, poll, wait time.Duration, w io.Writer) error {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("loading AWS config: %w", err)
	}
	client := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
	start := types.ShardIteratorTypeTrimHorizon
	if from == "latest" {
		start = types.ShardIteratorTypeLatest
	}
	deadline := time.Now().Add(wait)
	shards, err := client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	for err != nil && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(500 * time.Millisecond)
		shards, err = client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	}
	if err != nil {
		return fmt.Errorf("listing shards of %s: %w", stream, err)
	}
	iters := map[string]*string{}
	for _, sh := range shards.Shards {
		it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(stream), ShardId: sh.ShardId, ShardIteratorType: start,
		})
		if err != nil {
			return fmt.Errorf("getting shard iterator: %w", err)
		}
		iters[aws.ToString(sh.ShardId)] = it.ShardIterator
	}
	for ctx.Err() == nil {
		idle := true
		for shard, it := range iters {
			if it == nil {
				continue
			}
			out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it})
			if err != nil {
				return fmt.Errorf("reading shard %s: %w", shard, err)
			}
			iters[shard] = out.NextShardIterator
			if len(out.Records) > 0 {
				idle = false
			}
			recs, err := deaggregator.DeaggregateRecords(out.Records)
			if err != nil {
				return fmt.Errorf("de-aggregating: %w", err)
			}
			for _, r := range recs {
				data := r.Data
				if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
					if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
						if b, err := io.ReadAll(zr); err == nil {
							data = b
						}
					}
				}
				data = bytes.TrimRight(data, "\n")
				fmt.Fprintf(w, "%s%s\n", prefix, data)
			}
		}
		if idle {
			select {
			case <-ctx.Done():
			case <-time.After(poll):
			}
		}
	}
	return nil
}
