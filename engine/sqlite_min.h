/*
 * Declarations of the part of SQLite's public C API the engine uses.
 *
 * The engine does not ship or compile SQLite: it links against the SQLite
 * that github.com/mattn/go-sqlite3 compiles into every binary importing it.
 * That package does not export its header, so the few types and functions
 * used here are declared by hand, following the stable C ABI documented at
 * https://sqlite.org/c3ref/intro.html (struct layouts only ever grow at the
 * end, guarded by version fields).
 */
#ifndef ENGINE_SQLITE_MIN_H
#define ENGINE_SQLITE_MIN_H

#include <stddef.h>
#include <stdint.h>

typedef long long sqlite3_int64;
typedef unsigned long long sqlite3_uint64;

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
typedef struct sqlite3_value sqlite3_value;
typedef struct sqlite3_context sqlite3_context;
typedef struct sqlite3_module sqlite3_module;
typedef struct sqlite3_vtab sqlite3_vtab;
typedef struct sqlite3_vtab_cursor sqlite3_vtab_cursor;
typedef struct sqlite3_index_info sqlite3_index_info;

struct sqlite3_vtab {
	const sqlite3_module *pModule;
	int nRef;
	char *zErrMsg;
};

struct sqlite3_vtab_cursor {
	sqlite3_vtab *pVtab;
};

struct sqlite3_index_constraint {
	int iColumn;
	unsigned char op;
	unsigned char usable;
	int iTermOffset;
};

struct sqlite3_index_orderby {
	int iColumn;
	unsigned char desc;
};

struct sqlite3_index_constraint_usage {
	int argvIndex;
	unsigned char omit;
};

struct sqlite3_index_info {
	int nConstraint;
	struct sqlite3_index_constraint *aConstraint;
	int nOrderBy;
	struct sqlite3_index_orderby *aOrderBy;
	struct sqlite3_index_constraint_usage *aConstraintUsage;
	int idxNum;
	char *idxStr;
	int needToFreeIdxStr;
	int orderByConsumed;
	double estimatedCost;
	sqlite3_int64 estimatedRows; /* 3.8.2 */
	int idxFlags;                /* 3.9.0 */
	sqlite3_uint64 colUsed;      /* 3.10.0 */
};

struct sqlite3_module {
	int iVersion;
	int (*xCreate)(sqlite3 *, void *, int, const char *const *, sqlite3_vtab **, char **);
	int (*xConnect)(sqlite3 *, void *, int, const char *const *, sqlite3_vtab **, char **);
	int (*xBestIndex)(sqlite3_vtab *, sqlite3_index_info *);
	int (*xDisconnect)(sqlite3_vtab *);
	int (*xDestroy)(sqlite3_vtab *);
	int (*xOpen)(sqlite3_vtab *, sqlite3_vtab_cursor **);
	int (*xClose)(sqlite3_vtab_cursor *);
	int (*xFilter)(sqlite3_vtab_cursor *, int, const char *, int, sqlite3_value **);
	int (*xNext)(sqlite3_vtab_cursor *);
	int (*xEof)(sqlite3_vtab_cursor *);
	int (*xColumn)(sqlite3_vtab_cursor *, sqlite3_context *, int);
	int (*xRowid)(sqlite3_vtab_cursor *, sqlite3_int64 *);
	int (*xUpdate)(sqlite3_vtab *, int, sqlite3_value **, sqlite3_int64 *);
	int (*xBegin)(sqlite3_vtab *);
	int (*xSync)(sqlite3_vtab *);
	int (*xCommit)(sqlite3_vtab *);
	int (*xRollback)(sqlite3_vtab *);
	int (*xFindFunction)(sqlite3_vtab *, int, const char *, void (**)(sqlite3_context *, int, sqlite3_value **), void **);
	int (*xRename)(sqlite3_vtab *, const char *);
	int (*xSavepoint)(sqlite3_vtab *, int);   /* iVersion >= 2 */
	int (*xRelease)(sqlite3_vtab *, int);     /* iVersion >= 2 */
	int (*xRollbackTo)(sqlite3_vtab *, int);  /* iVersion >= 2 */
	int (*xShadowName)(const char *);         /* iVersion >= 3 */
	int (*xIntegrity)(sqlite3_vtab *, const char *, const char *, int, char **); /* iVersion >= 4 */
};

#define SQLITE_OK 0
#define SQLITE_ERROR 1
#define SQLITE_INTERRUPT 9
#define SQLITE_NOMEM 7
#define SQLITE_CONSTRAINT 19
#define SQLITE_ROW 100
#define SQLITE_DONE 101

#define SQLITE_INTEGER 1
#define SQLITE_FLOAT 2
#define SQLITE_TEXT 3
#define SQLITE_BLOB 4
#define SQLITE_NULL 5

#define SQLITE_OPEN_READWRITE 0x00000002
#define SQLITE_OPEN_CREATE 0x00000004
#define SQLITE_OPEN_PRIVATECACHE 0x00040000

#define SQLITE_LIMIT_ATTACHED 7

int sqlite3_open_v2(const char *, sqlite3 **, int, const char *);
int sqlite3_close(sqlite3 *);
const char *sqlite3_errmsg(sqlite3 *);
void sqlite3_interrupt(sqlite3 *);
int sqlite3_limit(sqlite3 *, int, int);
const char *sqlite3_libversion(void);

int sqlite3_prepare_v2(sqlite3 *, const char *, int, sqlite3_stmt **, const char **);
int sqlite3_step(sqlite3_stmt *);
int sqlite3_finalize(sqlite3_stmt *);
int sqlite3_column_count(sqlite3_stmt *);
int sqlite3_stmt_readonly(sqlite3_stmt *);
int sqlite3_get_autocommit(sqlite3 *);
const char *sqlite3_column_name(sqlite3_stmt *, int);

int sqlite3_create_module_v2(sqlite3 *, const char *, const sqlite3_module *, void *, void (*)(void *));
int sqlite3_declare_vtab(sqlite3 *, const char *);
int sqlite3_vtab_in(sqlite3_index_info *, int, int);

void *sqlite3_malloc(int);
void sqlite3_free(void *);

/* Helpers defined in vtab.c. */
/* One materialized cell of a cursor's rows. */
typedef struct eng_cell {
	sqlite3_int64 i; /* SQLITE_INTEGER value; SQLITE_TEXT: offset into the text arena */
	double f;        /* SQLITE_FLOAT value */
	int n;           /* SQLITE_TEXT: length */
	int kind;        /* SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_NULL or ENG_LAZY */
} eng_cell;

/* A cell not materialized: xColumn asks Go. */
#define ENG_LAZY 0

typedef struct eng_cursor {
	sqlite3_vtab_cursor base;
	uintptr_t h;        /* Go cursor handle; 0 until the first xFilter */
	sqlite3_int64 row;  /* current row */
	sqlite3_int64 nrow; /* rows produced by the last xFilter */
	int ncols;
	eng_cell *cells;    /* nrow * ncols cells, row-major, malloc'ed; may be 0 */
	char *text;         /* text arena the cells point into, malloc'ed; may be 0 */
	sqlite3_int64 *rowids; /* nrow rowids, malloc'ed on the first xRowid; may be 0 */
} eng_cursor;

int eng_register(sqlite3 *db, const char *name, uintptr_t h, const char *schema);
void eng_vtab_error(sqlite3_vtab *vt, const char *msg, int n);
uintptr_t eng_cursor_table(eng_cursor *c);
const char *eng_value_text(sqlite3_value *v, int *n);
int eng_in_first(sqlite3_value *list, sqlite3_value **out);
int eng_in_next(sqlite3_value *list, sqlite3_value **out);
void eng_result_text(sqlite3_context *ctx, const char *z, int n);
void eng_result_int64(sqlite3_context *ctx, sqlite3_int64 v);
void eng_result_double(sqlite3_context *ctx, double v);
void eng_result_null(sqlite3_context *ctx);
char *eng_strdup(const char *z, int n);
void *eng_malloc(size_t n);
int eng_watch_pragmas(sqlite3 *db, int *flag);
void eng_row(sqlite3_stmt *stmt, int n, const unsigned char **z, int *len);

#endif
