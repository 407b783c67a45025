//go:build sqlite_vtable

/*
 * The C half of the engine's virtual table module. Row iteration (xNext,
 * xEof, xRowid) stays in C; planning, filtering and column values call into
 * Go (see sqlite.go).
 *
 * Unlike go-sqlite3's own Module API, which sets aConstraintUsage[].omit for
 * every constraint it passes, this module never sets omit, so SQLite re-checks
 * every WHERE term against the rows a table returns, exactly as under
 * osqueryd.
 */
#include <stdlib.h>
#include <string.h>
#include "sqlite_min.h"
#include "_cgo_export.h"

/* Declared here because these are variadic or only used in C. */
char *sqlite3_mprintf(const char *, ...);
int sqlite3_vtab_in_first(sqlite3_value *, sqlite3_value **);
int sqlite3_vtab_in_next(sqlite3_value *, sqlite3_value **);
int sqlite3_value_type(sqlite3_value *);
const unsigned char *sqlite3_value_text(sqlite3_value *);
int sqlite3_value_bytes(sqlite3_value *);
void sqlite3_result_text(sqlite3_context *, const char *, int, void (*)(void *));
void sqlite3_result_int64(sqlite3_context *, sqlite3_int64);
void sqlite3_result_double(sqlite3_context *, double);
void sqlite3_result_null(sqlite3_context *);
int sqlite3_column_type(sqlite3_stmt *, int);
const unsigned char *sqlite3_column_text(sqlite3_stmt *, int);
int sqlite3_column_bytes(sqlite3_stmt *, int);

#define ENG_TRANSIENT ((void (*)(void *)) - 1)

typedef struct eng_aux {
	uintptr_t h;  /* Go handle of the table as registered on this connection */
	char *schema; /* CREATE TABLE statement for sqlite3_declare_vtab */
} eng_aux;

typedef struct eng_vtab {
	sqlite3_vtab base;
	uintptr_t h;
} eng_vtab;

static int eng_connect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                       sqlite3_vtab **ppVtab, char **pzErr) {
	eng_aux *aux = (eng_aux *)pAux;
	eng_vtab *vt;
	int rc;
	(void)argc;
	(void)argv;
	rc = sqlite3_declare_vtab(db, aux->schema);
	if (rc != SQLITE_OK) {
		*pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
		return rc;
	}
	vt = (eng_vtab *)sqlite3_malloc(sizeof(*vt));
	if (!vt) return SQLITE_NOMEM;
	memset(vt, 0, sizeof(*vt));
	vt->h = aux->h;
	*ppVtab = &vt->base;
	return SQLITE_OK;
}

static int eng_disconnect(sqlite3_vtab *pVtab) {
	sqlite3_free(pVtab->zErrMsg);
	sqlite3_free(pVtab);
	return SQLITE_OK;
}

static int eng_best_index(sqlite3_vtab *pVtab, sqlite3_index_info *info) {
	return engineBestIndex(((eng_vtab *)pVtab)->h, pVtab, info);
}

static int eng_open(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor) {
	eng_cursor *c = (eng_cursor *)sqlite3_malloc(sizeof(*c));
	(void)pVtab;
	if (!c) return SQLITE_NOMEM;
	memset(c, 0, sizeof(*c));
	*ppCursor = &c->base;
	return SQLITE_OK;
}

static void eng_cursor_clear(eng_cursor *c) {
	free(c->cells);
	free(c->text);
	free(c->rowids);
	c->cells = 0;
	c->text = 0;
	c->rowids = 0;
	c->row = 0;
	c->nrow = 0;
}

static int eng_close(sqlite3_vtab_cursor *cur) {
	eng_cursor *c = (eng_cursor *)cur;
	eng_cursor_clear(c);
	if (c->h) engineCursorClose(c->h);
	sqlite3_free(c);
	return SQLITE_OK;
}

static int eng_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                      sqlite3_value **argv) {
	eng_cursor *c = (eng_cursor *)cur;
	eng_cursor_clear(c);
	return engineFilter(c, idxNum, (char *)idxStr, argc, argv);
}

static int eng_next(sqlite3_vtab_cursor *cur) {
	((eng_cursor *)cur)->row++;
	return SQLITE_OK;
}

static int eng_eof(sqlite3_vtab_cursor *cur) {
	eng_cursor *c = (eng_cursor *)cur;
	return c->row >= c->nrow;
}

/* Materialized cells are answered here, without a call into Go. */
static int eng_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i) {
	eng_cursor *c = (eng_cursor *)cur;
	const eng_cell *cell;
	if (!c->cells || i < 0 || i >= c->ncols || c->row >= c->nrow) {
		return engineColumn(c, ctx, i);
	}
	cell = &c->cells[c->row * c->ncols + i];
	switch (cell->kind) {
	case SQLITE_INTEGER:
		sqlite3_result_int64(ctx, cell->i);
		return SQLITE_OK;
	case SQLITE_FLOAT:
		sqlite3_result_double(ctx, cell->f);
		return SQLITE_OK;
	case SQLITE_TEXT:
		/* Copied: SQLite may keep the value longer than the arena lives. */
		sqlite3_result_text(ctx, cell->n > 0 ? c->text + cell->i : "", cell->n, ENG_TRANSIENT);
		return SQLITE_OK;
	case SQLITE_NULL:
		sqlite3_result_null(ctx);
		return SQLITE_OK;
	}
	return engineColumn(c, ctx, i);
}

/* SQLite asks for rowids only for "SELECT rowid" and to merge the scans of a
 * multi-index OR plan, so Go computes them (see rowid.go) on the first
 * xRowid after a filter, for every row of the scan in one call. */
static int eng_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid) {
	eng_cursor *c = (eng_cursor *)cur;
	int rc;
	if (c->row >= c->nrow) return SQLITE_ERROR;
	if (!c->rowids) {
		rc = engineRowids(c);
		if (rc != SQLITE_OK) return rc;
	}
	*pRowid = c->rowids[c->row];
	return SQLITE_OK;
}

/* Eponymous-only (xCreate == 0): every table exists on every connection the
 * module is registered on, without CREATE VIRTUAL TABLE. Read-only: no
 * xUpdate. */
static const sqlite3_module eng_module = {
	.iVersion = 0,
	.xCreate = 0,
	.xConnect = eng_connect,
	.xBestIndex = eng_best_index,
	.xDisconnect = eng_disconnect,
	.xDestroy = eng_disconnect,
	.xOpen = eng_open,
	.xClose = eng_close,
	.xFilter = eng_filter,
	.xNext = eng_next,
	.xEof = eng_eof,
	.xColumn = eng_column,
	.xRowid = eng_rowid,
};

static void eng_aux_free(void *p) {
	eng_aux *aux = (eng_aux *)p;
	if (!aux) return;
	sqlite3_free(aux->schema);
	sqlite3_free(aux);
}

int eng_register(sqlite3 *db, const char *name, uintptr_t h, const char *schema) {
	eng_aux *aux = (eng_aux *)sqlite3_malloc(sizeof(*aux));
	if (!aux) return SQLITE_NOMEM;
	aux->h = h;
	aux->schema = sqlite3_mprintf("%s", schema);
	if (!aux->schema) {
		sqlite3_free(aux);
		return SQLITE_NOMEM;
	}
	/* On failure SQLite calls eng_aux_free itself. */
	return sqlite3_create_module_v2(db, name, &eng_module, aux, eng_aux_free);
}

void eng_vtab_error(sqlite3_vtab *vt, const char *msg, int n) {
	sqlite3_free(vt->zErrMsg);
	vt->zErrMsg = sqlite3_mprintf("%.*s", n, msg ? msg : "");
}

uintptr_t eng_cursor_table(eng_cursor *c) { return ((eng_vtab *)c->base.pVtab)->h; }

/* The value's text as SQLite renders it; NULL (and *n == -1) for SQL NULL. */
const char *eng_value_text(sqlite3_value *v, int *n) {
	const unsigned char *z;
	if (sqlite3_value_type(v) == SQLITE_NULL) {
		*n = -1;
		return 0;
	}
	z = sqlite3_value_text(v);
	*n = z ? sqlite3_value_bytes(v) : -1;
	return (const char *)z;
}

int eng_in_first(sqlite3_value *list, sqlite3_value **out) { return sqlite3_vtab_in_first(list, out); }
int eng_in_next(sqlite3_value *list, sqlite3_value **out) { return sqlite3_vtab_in_next(list, out); }

void eng_result_text(sqlite3_context *ctx, const char *z, int n) {
	/* A NULL pointer would make the result SQL NULL; "" must stay ''. */
	sqlite3_result_text(ctx, (z && n > 0) ? z : "", n > 0 ? n : 0, ENG_TRANSIENT);
}
void eng_result_int64(sqlite3_context *ctx, sqlite3_int64 v) { sqlite3_result_int64(ctx, v); }
void eng_result_double(sqlite3_context *ctx, double v) { sqlite3_result_double(ctx, v); }
void eng_result_null(sqlite3_context *ctx) { sqlite3_result_null(ctx); }

char *eng_strdup(const char *z, int n) { return sqlite3_mprintf("%.*s", n, z); }

void *eng_malloc(size_t n) { return malloc(n); }

#define ENG_SQLITE_PRAGMA 19

int sqlite3_set_authorizer(sqlite3 *, int (*)(void *, int, const char *, const char *, const char *, const char *), void *);

/* Sets *flag when a statement being prepared runs a PRAGMA: pragmas can
 * change a connection's settings while sqlite3_stmt_readonly says true. */
static int eng_authorize(void *flag, int action, const char *a, const char *b, const char *c, const char *d) {
	(void)a;
	(void)b;
	(void)c;
	(void)d;
	if (action == ENG_SQLITE_PRAGMA) *(int *)flag = 1;
	return SQLITE_OK;
}

int eng_watch_pragmas(sqlite3 *db, int *flag) { return sqlite3_set_authorizer(db, eng_authorize, flag); }

/* One result row: for each column its text and length, -1 for NULL. */
void eng_row(sqlite3_stmt *stmt, int n, const unsigned char **z, int *len) {
	int i;
	for (i = 0; i < n; i++) {
		if (sqlite3_column_type(stmt, i) == SQLITE_NULL) {
			z[i] = 0;
			len[i] = -1;
			continue;
		}
		z[i] = sqlite3_column_text(stmt, i);
		len[i] = z[i] ? sqlite3_column_bytes(stmt, i) : -1;
	}
}
