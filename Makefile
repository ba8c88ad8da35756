# embext - SQLite extension for token-embedding matrices.
#
#   make                  build ./embext.so
#   make test             install missing deps, build, run unit + SQL tests for
#                         every kernel set, then the same under ASan + UBSan
#   make demo             build and run the walkthrough demo on shipped data
#   make bench            benchmarks (bench/run.sh; QUICK=1 or make bench-quick)
#   make fuzz             build and run each fuzz target (FUZZ_SECONDS, default 30)
#   make oom              the full allocation-failure sweep (ASan; tests/oom)
#   make harden           the long hardening runs: fuzz-long, hostile files,
#                         SIGKILL crash safety, concurrency (processes, TSan threads)
#   make figures          docs/pca-glove.svg (the README's PCA picture)
#   make static           libembext.a (link embext into a program; include/sqlite3_embext.h)
#   make cluster          build/cluster/embext-node: a dqlite node with embext
#                         linked in (installs libdqlite-dev; README "More than one machine")
#   make install          PREFIX=/usr/local DESTDIR= (embext.so, libembext.a, header, embext.pc)
#   make clean
#
# Sources are picked up by wildcard: src/<part>/*.c is the SQLite-free core
# (core, kernels, readers, search, lm; includes are written "part/name.h"),
# ext/*.c the SQLite glue, tests/unit/test_*.c one cmocka binary each.

CC      ?= cc
CFLAGS  ?= -O2 -g
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
BUILD   ?= build
FUZZ_SECONDS ?= 30
SQLITE3 ?= sqlite3

WARN    = -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wvla
VERSION := $(shell cat VERSION)
BASEFLAGS = -DEMB_VERSION='"$(VERSION)"' -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -MMD -MP $(WARN) -Isrc -Iext
LDLIBS_EXT = -lm -lpthread

CORE_SRC = $(sort $(wildcard src/*/*.c))
EXT_SRC  = $(sort $(wildcard ext/*.c))
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))

CORE_OBJ = $(CORE_SRC:%.c=$(BUILD)/%.o)
EXT_OBJ  = $(EXT_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HARDEN_BIN = $(BUILD)/harden/crash $(BUILD)/harden/concurrent $(BUILD)/harden/hostile

STATIC_OBJ = $(CORE_OBJ) $(EXT_SRC:%.c=$(BUILD)/static/%.o)

.PHONY: oom tsan cluster static uninstall all test test-only check-unit check-sql asan deps demo bench bench-quick fuzz install clean

all: embext.so

embext.so: $(BUILD)/embext.so
	cp $< $@

$(BUILD)/embext.so: $(CORE_OBJ) $(EXT_OBJ)
	$(CC) $(CFLAGS) $(BASEFLAGS) -shared -o $@ $^ $(LDFLAGS) $(LDLIBS_EXT)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BASEFLAGS) -c -o $@ $<

# The static library: the core objects as they are (they do not use SQLite)
# and the glue again with -DSQLITE_CORE (direct SQLite calls instead of the
# loadable-extension routine table).
$(BUILD)/static/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BASEFLAGS) -DSQLITE_CORE -c -o $@ $<

$(BUILD)/static/libembext.a: $(STATIC_OBJ)
	rm -f $@ && ar rcs $@ $^

static: $(BUILD)/static/libembext.a
	cp $< libembext.a

$(BUILD)/static/example: examples/static/main.c $(BUILD)/static/libembext.a
	$(CC) $(CFLAGS) -Iinclude -o $@ $< $(BUILD)/static/libembext.a -lsqlite3 $(LDFLAGS) $(LDLIBS_EXT)

# The dqlite node program (cluster/): embext linked in statically, libdqlite
# (Debian libdqlite-dev, installed by scripts/deps.sh cluster) dynamically.
CLUSTER_SRC = cluster/node.c cluster/wire.c
cluster:
	@sh scripts/deps.sh cluster
	$(MAKE) $(BUILD)/cluster/embext-node

$(BUILD)/cluster/embext-node: $(CLUSTER_SRC) cluster/wire.h $(BUILD)/static/libembext.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude -o $@ $(CLUSTER_SRC) \
	    $(BUILD)/static/libembext.a -ldqlite -lsqlite3 $(LDFLAGS) $(LDLIBS_EXT)

# emb_version() (ext/fn_vec.c) is compiled from VERSION
$(BUILD)/ext/fn_vec.o $(BUILD)/static/ext/fn_vec.o: VERSION

$(BUILD)/libembcore.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libembcore.a $(BUILD)/embext.so
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BASEFLAGS) -o $@ $< $(BUILD)/libembcore.a -lcmocka -lsqlite3 $(LDFLAGS) $(LDLIBS_EXT)

# the allocation-failure sweep (tests/oom): embext linked in statically, so
# that it can fail the core's allocator as well as SQLite's
$(BUILD)/oom_sweep: tests/oom/oom_sweep.c $(STATIC_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BASEFLAGS) -Iinclude -o $@ $< $(STATIC_OBJ) -lsqlite3 $(LDFLAGS) $(LDLIBS_EXT)

$(BUILD)/sqlrun: tests/sqlrun.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BASEFLAGS) -o $@ $< -lsqlite3 $(LDFLAGS)

# --- tests -----------------------------------------------------------------
# `make test` = dependencies + normal build + sanitizer build of the suite.
# The last line is the total over both builds: "N passed, N failed".
ASAN_CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
test: deps
	@rm -f build/summary build/asan/summary
	$(MAKE) test-only; st1=$$?; \
	$(MAKE) BUILD=build/asan CFLAGS="$(ASAN_CFLAGS)" LDFLAGS="-fsanitize=address,undefined" test-only; st2=$$?; \
	sh tests/cross-aarch64.sh || st2=1; \
	$(MAKE) tsan || st2=1; \
	sh tests/fuzz/run.sh $(FUZZ_SECONDS) || st2=1; \
	$(MAKE) harden-tsan TSAN_TXN=300 || st2=1; \
	cat build/summary build/asan/summary 2>/dev/null | \
	  awk '{p+=$$1; f+=$$2} END {printf "%d passed, %d failed\n", p, f}'; \
	[ $$st1 = 0 ] && [ $$st2 = 0 ]

# ThreadSanitizer: the one-copy-per-process registry (ext/vtab_shared.c)
# under threads (tests/unit/test_shared.c: a writer and readers on their
# own connections) and the two-thread sketch pass (test_sketch's
# test_two_threads); also run by `make test`.
TSAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=thread
tsan:
	$(MAKE) BUILD=build/tsan CFLAGS="$(TSAN_FLAGS)" LDFLAGS="-fsanitize=thread" \
	    build/tsan/embext.so build/tsan/tests/test_shared build/tsan/tests/test_sketch
	EMB_EXT=build/tsan/embext.so TSAN_OPTIONS="halt_on_error=1 exitcode=66" \
	    build/tsan/tests/test_shared
	EMB_TEST_FILTER=test_two_threads TSAN_OPTIONS="halt_on_error=1 exitcode=66" \
	    build/tsan/tests/test_sketch

test-only: $(BUILD)/embext.so $(BUILD)/sqlrun $(UNIT_BIN) $(BUILD)/static/example $(BUILD)/oom_sweep $(HARDEN_BIN)
	@mkdir -p $(BUILD)
	BUILD=$(BUILD) sh tests/run.sh

deps:
	@sh scripts/deps.sh test

demo:
	@sh scripts/deps.sh demo
	$(MAKE) embext.so
	$(SQLITE3) :memory: -cmd '.load ./embext' < sql/demo.sql

bench: deps embext.so
	sh bench/run.sh $(if $(QUICK),--quick)

bench-quick:
	$(MAKE) bench QUICK=1

# every k of every statement, both allocators, sticky and single failures,
# under ASan + LeakSanitizer (tests/oom/oom_sweep.c; the fast sweep is in make test)
oom:
	$(MAKE) BUILD=build/asan CFLAGS="$(ASAN_CFLAGS)" LDFLAGS="-fsanitize=address,undefined" build/asan/oom_sweep
	EMB_TMP=$$(mktemp -d) build/asan/oom_sweep --full --once tests/oom/statements.sql tests/data tests/fixtures

fuzz: deps
	sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# --- hardening (tests/harden, tests/fuzz; docs/SECURITY-tests.md) ----------
# Short forms run in tests/run.sh for both builds (and the TSan one in
# `make test`); the targets below are the long forms.
FUZZ_LONG_SECONDS ?= 600
HARDEN_FILES ?= 20000
HARDEN_KILLS ?= 200
HARDEN_TXN ?= 3000
TSAN_TXN ?= 3000
TSAN_CC ?= clang
.PHONY: harden fuzz-long harden-dbfile harden-crash harden-concurrent harden-tsan

$(BUILD)/harden/%: tests/harden/%.c tests/harden/harden.h $(BUILD)/static/libembext.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BASEFLAGS) -o $@ $< $(BUILD)/static/libembext.a -lsqlite3 $(LDFLAGS) $(LDLIBS_EXT)

# the hostile-database generator: fuzz_dbfile's body driven by tests/harden/standalone.c
$(BUILD)/harden/hostile: tests/fuzz/fuzz_dbfile.c tests/fuzz/fuzz_db.h tests/harden/standalone.c $(BUILD)/static/libembext.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -std=c11 -D_GNU_SOURCE -Isrc -o $@ tests/fuzz/fuzz_dbfile.c tests/harden/standalone.c \
	    $(BUILD)/static/libembext.a -lsqlite3 $(LDFLAGS) $(LDLIBS_EXT)

harden: fuzz-long harden-dbfile harden-crash harden-concurrent harden-tsan

fuzz-long: deps
	FUZZ_ONLY="sql dbfile" sh tests/fuzz/run.sh $(FUZZ_LONG_SECONDS)

# thousands of hostile database files under ASan + UBSan
harden-dbfile:
	$(MAKE) BUILD=build/asan CFLAGS="$(ASAN_CFLAGS)" LDFLAGS="-fsanitize=address,undefined" build/asan/harden/hostile
	ASAN_OPTIONS=detect_leaks=1 build/asan/harden/hostile -n $(HARDEN_FILES) -seed $$(date +%s)

harden-crash: $(BUILD)/harden/crash
	$(BUILD)/harden/crash $(HARDEN_KILLS)

harden-concurrent: $(BUILD)/harden/concurrent
	$(BUILD)/harden/concurrent procs $(HARDEN_TXN) 2
	$(BUILD)/harden/concurrent threads $(HARDEN_TXN) 4

# threads under ThreadSanitizer: embext built with -fsanitize=thread,
# Debian's libsqlite3 is not instrumented (its mutexes are pthread ones,
# which TSan intercepts)
harden-tsan:
	@mkdir -p build/tsan
	$(TSAN_CC) -O1 -g -fsanitize=thread -std=c11 -D_GNU_SOURCE -DSQLITE_CORE -Isrc -Iext \
	    -o build/tsan/concurrent tests/harden/concurrent.c $(CORE_SRC) $(EXT_SRC) -lsqlite3 $(LDLIBS_EXT)
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" build/tsan/concurrent threads $(TSAN_TXN) 4

# docs/pca-glove.svg (README picture): emb_pca over tests/data GloVe
.PHONY: figures
figures: embext.so
	/usr/bin/python3 scripts/figure_pca.py docs/pca-glove.svg

INCLUDEDIR ?= $(PREFIX)/include
PCDIR ?= $(LIBDIR)/pkgconfig
install: embext.so static
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PCDIR)
	install -m 0755 embext.so $(DESTDIR)$(LIBDIR)/embext.so
	install -m 0644 libembext.a $(DESTDIR)$(LIBDIR)/libembext.a
	install -m 0644 include/sqlite3_embext.h $(DESTDIR)$(INCLUDEDIR)/sqlite3_embext.h
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' \
	    embext.pc.in > $(DESTDIR)$(PCDIR)/embext.pc

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/embext.so $(DESTDIR)$(LIBDIR)/libembext.a \
	    $(DESTDIR)$(INCLUDEDIR)/sqlite3_embext.h $(DESTDIR)$(PCDIR)/embext.pc

clean:
	rm -rf build embext.so libembext.a

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
