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

SRV_TEST_DEPS_test_config := config util log
SRV_TEST_DEPS_test_util := util

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
# Top-level targets.
.PHONY: all server sdk unit-tests run test test-run test-unit test-redis test-semantics check-layers \
	check-headers format lint deps clean distclean help

all: $(SERVER_BIN) $(SDK_ALL) $(UNIT_TESTS) $(REDIS_TEST_PROGS)
server: $(SERVER_BIN)
sdk: $(SDK_ALL)
unit-tests: $(UNIT_TESTS)

CONFIG ?= conf/repram.yaml
run:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory $(SERVER_BIN)
	exec $(SERVER_BIN) --config $(CONFIG) $(ARGS)

# Every suite writes TAP-style lines (ok / not ok / # SKIP) to $(RESULTS)/<suite>.tap and echoes
# them; redis-tests/harness/tally prints the per-suite counts and the final "N passed, N failed".
SUITES ?= unit redis semantics sdk
HARNESS := redis-tests/harness
export BUILD SANITIZE CACHE

test:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory test-run

test-run: all
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
	curl ca-certificates
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
	rm -rf build/release build/san-*

distclean:
	rm -rf build

help:
	@sed -n '3,12p' Makefile | sed 's/^# \{0,1\}//'
	@echo "Other targets: server sdk unit-tests test-unit test-redis check-layers check-headers"
	@echo "               format lint deps clean distclean.  V=1 shows full commands."

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
