//go:build linux && cgo

#include "sdjournal_linux.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// sd_id128_t is a 16-byte union passed by value; this has the same layout.
typedef union {
	uint8_t bytes[16];
	uint64_t qwords[2];
} jr_id128;

enum { JR_DATA_UNLIMITED = 0, JR_OS_ROOT_NONE = 0 };

static struct {
	int (*open)(sd_journal **, int);
	int (*open_directory)(sd_journal **, const char *, int);
	int (*open_files)(sd_journal **, const char **, int);
	void (*close)(sd_journal *);
	int (*set_data_threshold)(sd_journal *, size_t);
	int (*add_match)(sd_journal *, const void *, size_t);
	int (*add_disjunction)(sd_journal *);
	int (*seek_head)(sd_journal *);
	int (*seek_tail)(sd_journal *);
	int (*seek_realtime_usec)(sd_journal *, uint64_t);
	int (*seek_monotonic_usec)(sd_journal *, jr_id128, uint64_t);
	int (*seek_cursor)(sd_journal *, const char *);
	int (*test_cursor)(sd_journal *, const char *);
	int (*next)(sd_journal *);
	int (*previous)(sd_journal *);
	int (*wait)(sd_journal *, uint64_t);
	int (*get_realtime_usec)(sd_journal *, uint64_t *);
	int (*get_monotonic_usec)(sd_journal *, uint64_t *, jr_id128 *);
	int (*get_cursor)(sd_journal *, char **);
	void (*restart_data)(sd_journal *);
	int (*enumerate_data)(sd_journal *, const void **, size_t *);
} api;

int jr_load(const char *lib, char *err, size_t errlen) {
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		snprintf(err, errlen, "%s", dlerror());
		return -1;
	}
	struct {
		void **fn;
		const char *name;
	} syms[] = {
		{(void **)&api.open, "sd_journal_open"},
		{(void **)&api.open_directory, "sd_journal_open_directory"},
		{(void **)&api.open_files, "sd_journal_open_files"},
		{(void **)&api.close, "sd_journal_close"},
		{(void **)&api.set_data_threshold, "sd_journal_set_data_threshold"},
		{(void **)&api.add_match, "sd_journal_add_match"},
		{(void **)&api.add_disjunction, "sd_journal_add_disjunction"},
		{(void **)&api.seek_head, "sd_journal_seek_head"},
		{(void **)&api.seek_tail, "sd_journal_seek_tail"},
		{(void **)&api.seek_realtime_usec, "sd_journal_seek_realtime_usec"},
		{(void **)&api.seek_monotonic_usec, "sd_journal_seek_monotonic_usec"},
		{(void **)&api.seek_cursor, "sd_journal_seek_cursor"},
		{(void **)&api.test_cursor, "sd_journal_test_cursor"},
		{(void **)&api.next, "sd_journal_next"},
		{(void **)&api.previous, "sd_journal_previous"},
		{(void **)&api.wait, "sd_journal_wait"},
		{(void **)&api.get_realtime_usec, "sd_journal_get_realtime_usec"},
		{(void **)&api.get_monotonic_usec, "sd_journal_get_monotonic_usec"},
		{(void **)&api.get_cursor, "sd_journal_get_cursor"},
		{(void **)&api.restart_data, "sd_journal_restart_data"},
		{(void **)&api.enumerate_data, "sd_journal_enumerate_data"},
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].fn = dlsym(h, syms[i].name);
		if (*syms[i].fn == NULL) {
			snprintf(err, errlen, "%s lacks %s", lib, syms[i].name);
			dlclose(h);
			return -1;
		}
	}
	return 0;
}

int jr_open(sd_journal **j, const char *path, int dir) {
	int r;
	if (path == NULL) {
		r = api.open(j, 0);
	} else if (dir) {
		r = api.open_directory(j, path, JR_OS_ROOT_NONE);
	} else {
		const char *paths[2] = {path, NULL};
		r = api.open_files(j, paths, 0);
	}
	if (r < 0) {
		return r;
	}
	// Fields are returned whole, however large (the default cuts at 64 KiB).
	r = api.set_data_threshold(*j, JR_DATA_UNLIMITED);
	if (r < 0) {
		api.close(*j);
		*j = NULL;
	}
	return r;
}

void jr_close(sd_journal *j) { api.close(j); }
int jr_add_match(sd_journal *j, const void *data, size_t len) { return api.add_match(j, data, len); }
int jr_add_disjunction(sd_journal *j) { return api.add_disjunction(j); }
int jr_seek_head(sd_journal *j) { return api.seek_head(j); }
int jr_seek_tail(sd_journal *j) { return api.seek_tail(j); }
int jr_seek_realtime(sd_journal *j, uint64_t usec) { return api.seek_realtime_usec(j, usec); }
int jr_seek_cursor(sd_journal *j, const char *cursor) { return api.seek_cursor(j, cursor); }
int jr_test_cursor(sd_journal *j, const char *cursor) { return api.test_cursor(j, cursor); }
int jr_next(sd_journal *j) { return api.next(j); }
int jr_previous(sd_journal *j) { return api.previous(j); }
int jr_wait(sd_journal *j, uint64_t usec) { return api.wait(j, usec); }

int jr_seek_boot(sd_journal *j, const uint8_t boot_id[16]) {
	jr_id128 id;
	memcpy(id.bytes, boot_id, 16);
	return api.seek_monotonic_usec(j, id, 0);
}

int jr_entry_boot(sd_journal *j, uint8_t boot_id[16]) {
	jr_id128 id;
	uint64_t usec;
	int r = api.get_monotonic_usec(j, &usec, &id);
	if (r >= 0) {
		memcpy(boot_id, id.bytes, 16);
	}
	return r;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

// write_entry appends the current entry at buf[*off]. It returns 1 if it
// fit, 0 if it did not (*need then holds its size), or a negative errno when
// the entry cannot be read.
static int write_entry(sd_journal *j, uint8_t *buf, size_t cap, size_t *off, size_t *need) {
	uint64_t rt, mono;
	jr_id128 boot;
	char *cursor = NULL;
	int r = api.get_realtime_usec(j, &rt);
	if (r < 0) {
		return r;
	}
	r = api.get_monotonic_usec(j, &mono, &boot);
	if (r < 0) {
		return r;
	}
	r = api.get_cursor(j, &cursor);
	if (r < 0) {
		return r;
	}
	size_t clen = strlen(cursor);
	size_t start = *off;
	size_t pos = start + 4 + 8 + 8 + 4 + clen;
	int fits = pos <= cap;
	if (fits) {
		put64(buf + start + 4, rt);
		put64(buf + start + 12, mono);
		put32(buf + start + 20, (uint32_t)clen);
		memcpy(buf + start + 24, cursor, clen);
	}
	free(cursor);
	const void *data;
	size_t len;
	api.restart_data(j);
	while ((r = api.enumerate_data(j, &data, &len)) > 0) {
		if (fits && pos + 4 + len <= cap) {
			put32(buf + pos, (uint32_t)len);
			memcpy(buf + pos + 4, data, len);
		} else {
			fits = 0;
		}
		pos += 4 + len;
	}
	if (r < 0) {
		return r;
	}
	if (!fits) {
		*need = pos - start;
		return 0;
	}
	put32(buf + start, (uint32_t)(pos - start - 4));
	*off = pos;
	return 1;
}

void jr_read(sd_journal *j, uint8_t *buf, size_t cap, int max, int pending, jr_result *res) {
	memset(res, 0, sizeof(*res));
	while (res->entries < max) {
		if (!pending) {
			int r = api.next(j);
			if (r < 0) {
				res->err = r;
				return;
			}
			if (r == 0) {
				res->at_end = 1;
				return;
			}
		}
		pending = 0;
		size_t need = 0;
		int r = write_entry(j, buf, cap, &res->used, &need);
		if (r < 0) {
			// journalctl skips an entry whose data it cannot read, too.
			res->skipped++;
			continue;
		}
		if (r == 0) {
			res->pending = 1;
			res->need = need;
			return;
		}
		res->entries++;
	}
}
