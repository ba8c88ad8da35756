# embext - SQLite extension for token-embedding matrices.
#
#   make                  build ./embext.so
#   make test             install missing deps, build, run unit + SQL tests for
#                         every kernel set, then the same under ASan + UBSan
#   make demo             build and run the walkthrough demo on shipped data
#   make bench            benchmarks (bench/run.sh; QUICK=1 or make bench-quick)
#   make fuzz             build and run each fuzz target (FUZZ_SECONDS, default 30)
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

STATIC_OBJ = $(CORE_OBJ) $(EXT_SRC:%.c=$(BUILD)/static/%.o)

.PHONY: cluster static uninstall all test test-only check-unit check-sql asan deps demo bench bench-quick fuzz install clean

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
	sh tests/fuzz/run.sh $(FUZZ_SECONDS) || st2=1; \
	cat build/summary build/asan/summary 2>/dev/null | \
	  awk '{p+=$$1; f+=$$2} END {printf "%d passed, %d failed\n", p, f}'; \
	[ $$st1 = 0 ] && [ $$st2 = 0 ]

test-only: $(BUILD)/embext.so $(BUILD)/sqlrun $(UNIT_BIN) $(BUILD)/static/example
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

fuzz: deps
	sh tests/fuzz/run.sh $(FUZZ_SECONDS)

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
