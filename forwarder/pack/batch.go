package pack

// Batches splits records, in order, into request batches of at most
// maxRecords records and maxBytes bytes, where a record counts len(Data),
// plus len(PartitionKey) when countPK is set (Kinesis PutRecords counts
// partition keys against its 5 MiB; Firehose PutRecordBatch counts data
// only against 4 MiB). Batches are filled greedily: a batch of exactly
// maxRecords records or exactly maxBytes bytes is allowed. A record that
// alone exceeds maxBytes (impossible for Packer output within the AWS
// limits) gets a batch of its own rather than being lost. The batches are
// sub-slices of records (capacity-capped, so appending to one never
// overwrites the next). maxRecords or maxBytes <= 0 means no limit.
func Batches(records []Record, maxRecords, maxBytes int, countPK bool) [][]Record {
	if len(records) == 0 {
		return nil
	}
	out := make([][]Record, 0, 1+len(records)/max(maxRecords, 1))
	start, size := 0, 0
	for i := range records {
		n := len(records[i].Data)
		if countPK {
			n += len(records[i].PartitionKey)
		}
		if i > start && ((maxRecords > 0 && i-start >= maxRecords) || (maxBytes > 0 && size+n > maxBytes)) {
			out = append(out, records[start:i:i])
			start, size = i, 0
		}
		size += n
	}
	return append(out, records[start:len(records):len(records)])
}
