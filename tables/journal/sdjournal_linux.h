//go:build linux && cgo

// The few sd-journal entry points this package uses, resolved with dlsym
// from libsystemd.so.0 at run time: no systemd headers or library are needed
// to build, and a host without libsystemd runs with the table empty.

#include <stddef.h>
#include <stdint.h>

typedef struct sd_journal sd_journal;

// jr_load opens lib (libsystemd.so.0) and resolves the functions; 0 on
// success, else -1 with the reason in err.
int jr_load(const char *lib, char *err, size_t errlen);

// jr_open opens the system journal (path NULL), a directory (dir != 0) or a
// single file. It returns 0 or a negative errno.
int jr_open(sd_journal **j, const char *path, int dir);
void jr_close(sd_journal *j);

int jr_add_match(sd_journal *j, const void *data, size_t len);
int jr_add_disjunction(sd_journal *j);
int jr_seek_head(sd_journal *j);
int jr_seek_tail(sd_journal *j);
int jr_seek_realtime(sd_journal *j, uint64_t usec);
int jr_seek_boot(sd_journal *j, const uint8_t boot_id[16]);
int jr_entry_boot(sd_journal *j, uint8_t boot_id[16]);
int jr_seek_cursor(sd_journal *j, const char *cursor);
int jr_test_cursor(sd_journal *j, const char *cursor);
int jr_next(sd_journal *j);
int jr_previous(sd_journal *j);
int jr_wait(sd_journal *j, uint64_t usec);

// Result of jr_read.
typedef struct {
	int entries;   // entries written to buf
	size_t used;   // bytes of buf used
	int pending;   // 1 if the journal is positioned on an entry not yet written
	size_t need;   // with pending and entries == 0: bytes that entry needs
	int at_end;    // 1 if sd_journal_next found no further entry
	int skipped;   // entries skipped because their data could not be read
	int err;       // negative errno of a failed sd_journal_next, else 0
} jr_result;

// jr_read writes up to max entries into buf (see reader_linux.go for the
// layout). With pending set, the entry the journal is positioned on is
// written first, without moving.
void jr_read(sd_journal *j, uint8_t *buf, size_t cap, int max, int pending, jr_result *res);
