# osquery-syslog: build, test, run. `make help` lists the targets.
#
# Every Go command is built with the sqlite_vtable tag: the standalone SQL
# engine (engine/) is compiled only with it; without it `query` says so.
# cgo is required (go-sqlite3).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

# Go from PATH, else from its standard install location (tests that run go
# themselves need it on PATH too).
ifeq ($(shell command -v go 2>/dev/null),)
export PATH := $(PATH):/usr/local/go/bin
endif
GO ?= go
TAGS := sqlite_vtable
GOTAGS := -tags $(TAGS)

BIN := build/osquery-syslog.ext
# Stamped into the binary (--version; the version the extension registers
# with osqueryd) and the packages' version. Evaluated once per make run.
VERSION ?= $(shell scripts/version.sh)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell date -u $${SOURCE_DATE_EPOCH:+-d @$$SOURCE_DATE_EPOCH} +%Y-%m-%dT%H:%M:%SZ)
VERSION := $(VERSION)
COMMIT := $(COMMIT)
BUILD_DATE := $(BUILD_DATE)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(BUILD_DATE)

# make package: architectures (cgo needs a C cross compiler for each one but
# the host's; make deps installs gcc-aarch64-linux-gnu) and output folder.
PKG_ARCHES ?= amd64 arm64
PKG_DIR ?= build/packages

# go test -timeout for the whole suite (real rsyslog, SQLite, race detector).
TEST_TIMEOUT ?= 20m

# Fuzz targets as package:FuzzTarget pairs. Add yours here; `make test` runs
# each for FUZZTIME_SHORT, `make fuzz` for FUZZTIME.
FUZZ_TARGETS := \
	./tables/syslog:FuzzParseLine \
	./tables/logfile:FuzzSplit \
	./tables/eventsrc:FuzzTruncate \
	./tables/journal:FuzzRow \
	./internal/jsonstr:FuzzAppend \
	./forwarder/pack:FuzzSplit \
	./forwarder/pack:FuzzKPL \
	./forwarder/pack:FuzzValid \
	./engine:FuzzParseCInt \
	./engine:FuzzParseCDouble \
	./tables/asl/aslfile:FuzzReadFile \
	./tables/asl/aslfile:FuzzParseRecord \
	./schedule:FuzzParseConfig
FUZZTIME_SHORT ?= 10s
FUZZTIME ?= 60s
# FUZZ_SAVE=1 (make fuzz) copies the inputs the fuzzer found interesting from
# Go's fuzz cache into the package's testdata/fuzz/<Target>/, next to the
# seeds, so the corpus is kept (and replayed by every go test). Crashers are
# written there by go test itself. fuzz-short (make test) leaves the tree alone.
FUZZ_SAVE ?= 1

# The macOS build is vetted two ways (no macOS C toolchain here):
#  1. every package, both tag sets, GOOS=darwin with cgo on: cgo gets
#     scripts/darwin-cc.sh as its C compiler (the host gcc without clang's
#     darwin flags). This type-checks and vets all Go code for darwin,
#     darwin-only files included; the C parts (go-sqlite3, the engine's
#     vtab.c) are compiled against Linux headers and nothing is linked, so a
#     C-level macOS break still needs a real Mac.
#  2. the pure-Go packages with CGO_ENABLED=0 for darwin/amd64 and
#     darwin/arm64: the counters, the forwarder's AWS config, packing and
#     senders, and the ASL reader and table (tables/asl/..., which must build
#     without cgo; its one cgo test file is excluded there).
DARWIN_CC ?= $(CURDIR)/scripts/darwin-cc.sh
DARWIN_PKGS ?= ./stats/... ./forwarder/awsconf/... ./forwarder/pack/... ./forwarder/sink/... ./tables/asl/...

# Go files to gofmt: everything but build output, run state, dependencies and
# test data.
GOFILES = $(shell find . \( -path ./build -o -path ./var -o -path ./.git -o -name node_modules -o -name testdata \) -prune -o -name '*.go' -print)

.PHONY: build deps test vet fmt-check unit-test fuzz-short fuzz bench faults run clean help package package-macos

build: ## Build build/osquery-syslog.ext (cgo, -tags sqlite_vtable; GOOS=darwin needs a macOS C toolchain)
	@if [[ "$$($(GO) env GOOS)" == darwin && "$$($(GO) env GOHOSTOS)" != darwin && -z "$${CC:-}" ]]; then \
		echo "build: GOOS=darwin needs cgo with a macOS C toolchain (go-sqlite3 and the engine are C): clang"; \
		echo "       with the macOS SDK (headers and libSystem stubs from Xcode or its Command Line Tools)."; \
		echo "       Run make build on a Mac, or give CC a cross clang with that SDK (e.g. osxcross's"; \
		echo "       o64-clang / oa64-clang). Debian has clang but not the SDK; make vet checks darwin."; \
		exit 1; \
	fi
	@mkdir -p build
	CGO_ENABLED=1 $(GO) build $(GOTAGS) -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./extension

package: ## .deb and .rpm for PKG_ARCHES (amd64 arm64) into build/packages (nfpm, pinned in go.mod)
	@GO=$(GO) TAGS=$(TAGS) VERSION='$(VERSION)' LDFLAGS='$(LDFLAGS)' PKG_ARCHES='$(PKG_ARCHES)' PKG_DIR='$(PKG_DIR)' scripts/package.sh

package-macos: ## macOS .pkg into build/packages (on a Mac only: pkgbuild; see packaging/README.md)
	@GO=$(GO) TAGS=$(TAGS) VERSION='$(VERSION)' LDFLAGS='$(LDFLAGS)' PKG_DIR='$(PKG_DIR)' packaging/macos/build-pkg.sh

deps: ## Install what the tests and make package need, if missing (rsyslog, tinyproxy, gcc, rpm, systemd, systemd-journal-remote, arm64 cross gcc, syslog-ng unpacked, Go modules)
	@scripts/deps.sh

test: deps ## gofmt, go vet (linux, sqlite_vtable, darwin subset), go test -race, a short fuzz pass
	@$(MAKE) --no-print-directory fmt-check vet unit-test fuzz-short

fmt-check:
	@unformatted=$$(gofmt -l $(GOFILES)); \
	if [[ -n $$unformatted ]]; then \
		echo "gofmt: these files need formatting (run gofmt -w):"; echo "$$unformatted"; exit 1; \
	fi

vet:
	$(GO) vet ./...
	$(GO) vet $(GOTAGS) ./...
	GOOS=darwin CGO_ENABLED=1 CC=$(DARWIN_CC) $(GO) vet ./...
	GOOS=darwin CGO_ENABLED=1 CC=$(DARWIN_CC) $(GO) vet $(GOTAGS) ./...
	GOOS=darwin GOARCH=amd64 CGO_ENABLED=0 $(GO) vet $(DARWIN_PKGS)
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) vet $(DARWIN_PKGS)

unit-test:
	CGO_ENABLED=1 $(GO) test -race $(GOTAGS) -count=1 -timeout $(TEST_TIMEOUT) ./...

fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_SHORT) FUZZ_SAVE=0

fuzz: ## Run every fuzz target in FUZZ_TARGETS for FUZZTIME (default 60s) each
	@for pair in $(FUZZ_TARGETS); do \
		pkg=$${pair%%:*}; target=$${pair##*:}; \
		listed=$$($(GO) test $(GOTAGS) -list "^$$target\$$" "$$pkg/"); \
		if ! grep -qx "$$target" <<<"$$listed"; then \
			echo "fuzz: $$target not found in $$pkg (FUZZ_TARGETS in the Makefile)"; exit 1; \
		fi; \
		echo "fuzz: $$pkg $$target for $(FUZZTIME)"; \
		out=$$(mktemp); \
		if ! $(GO) test $(GOTAGS) -run XXX -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 3s "$$pkg/" 2>&1 | tee "$$out"; then \
			if grep -q "Failing input written to" "$$out" || ! grep -q "context deadline exceeded" "$$out"; then rm -f "$$out"; exit 1; fi; \
			echo "fuzz: $$target: the fuzzing engine hit its own deadline as -fuzztime ran out, with no failing input; not a failure"; \
		fi; \
		rm -f "$$out"; \
		if [[ "$(FUZZ_SAVE)" == 1 ]]; then \
			cache="$$($(GO) env GOCACHE)/fuzz/$$($(GO) list "$$pkg")/$$target"; \
			mkdir -p "$$pkg/testdata/fuzz/$$target"; \
			new=0; for f in "$$cache"/*; do \
				[[ -f $$f && ! -e $$pkg/testdata/fuzz/$$target/$${f##*/} ]] || continue; \
				cp "$$f" "$$pkg/testdata/fuzz/$$target/"; new=$$((new + 1)); \
			done; \
			echo "fuzz: $$new new corpus entries kept in $$pkg/testdata/fuzz/$$target"; \
		fi; \
	done

bench: ## Run the benchmark scenarios (5-10 min) and write docs/BENCHMARKS.md
	@GO=$(GO) TAGS=$(TAGS) scripts/bench.sh docs/BENCHMARKS.md

faults: ## Fault drills (kill -9, outage, throttling, malformed flood, disk full, osqueryd restart) -> docs/FAULTS.md
	@GO=$(GO) TAGS=$(TAGS) scripts/faults.sh docs/FAULTS.md

run: deps ## Build and run the whole pipeline locally in ./var (daemon + private rsyslog + samples)
	@scripts/run.sh

clean: ## Remove build/ (binary, unpacked syslog-ng) and var/ (make run's state)
	rm -rf build var

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'
