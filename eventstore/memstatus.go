package eventstore

/*
#include <stdarg.h>

// sqlite3_config is variadic, which cgo cannot call directly. The symbol
// comes from the SQLite that go-sqlite3 links into the binary.
extern int sqlite3_config(int, ...);

static int eventstore_disable_memstatus(void) {
	return sqlite3_config(9, 0); // SQLITE_CONFIG_MEMSTATUS, off
}
*/
import "C"

// memstatusRC is what sqlite3_config answered at start-up (0 = SQLITE_OK;
// 21 = SQLITE_MISUSE when SQLite was already initialized, which leaves
// memory statistics on and costs nothing else).
var memstatusRC = int(C.eventstore_disable_memstatus())

// Turning SQLite's memory statistics off (before any connection opens,
// hence a package variable initialised at start-up) removes a global mutex
// taken around every allocation SQLite makes: about a tenth of the CPU of
// an append. Nothing in this program reads those statistics or sets a heap
// limit, which are the only features that need them.
