// Package eventsrc is the write side every evented source shares (syslog,
// logfile, journal): how a source's rows get into its eventstore.Stream,
// as tablekit.StreamGenerate is the read side.
//
// A source reads its input, makes rows (values in its schema's column
// order) and hands them here with its optional state (a file position, a
// journal cursor), which is stored in the same transaction as the rows
// (eventstore AppendState): on restart the source resumes exactly after
// the rows it stored. In return it gets:
//
//   - batching: Writer, for a source with a reading goroutine (syslog,
//     journal), stores rows from a goroutine of its own, group-committing
//     what arrives while a transaction runs, retrying a refused batch
//     (RetryFor) and holding back the reader when two batches wait; Batch,
//     for a source that commits synchronously and re-reads after a failed
//     commit (logfile);
//   - one truncation rule: Truncate cuts a line at the limit but never
//     inside a UTF-8 character; ValidateMaxLine and the MaxLine constants
//     bound every --<source>_max_line flag;
//   - expiry: the sink's age and count limits, applied with every write
//     and by Expire (the Writer calls it every ExpireInterval), and
//     Retention, which declares --<source>_events_expiry and
//     --<source>_events_max and turns them into eventstore.Limits;
//   - stats: RowsExpired and RowsBuffered of the source's stats.Source
//     follow every write and expiry;
//   - the pre-allocated value slab (Row), and the hidden eid column
//     (EIDColumn) every evented table ends with.
//
// A new source, say a journal reader storing its cursor with its rows:
//
//	w := eventsrc.NewWriter(eventsrc.WriterConfig{Name: "journal", Columns: numColumns}, stream, src, log)
//	for entry := range entries {
//		v := w.Row()
//		msg, truncated := eventsrc.Truncate(entry.Message, maxLine)
//		v[colMessage], v[colTruncated] = msg, boolInt(truncated)
//		// ... the other columns
//		if err := w.AddState(entry.Time.Unix(), v, "journal/cursor", entry.Cursor); err != nil {
//			return err // the store is closed
//		}
//	}
//	return w.Close() // stores everything added
//
// Its tests check the truncation rule through its real ingestion path with
// eventsrctest.TestTruncation.
package eventsrc
