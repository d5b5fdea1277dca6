# skiff: build, test, bench, install.  See README.md.
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKGS := libseccomp libcap yajl mount

# Debian packages the build, the tests and the demo need (make deps).
DEB_BUILD := build-essential pkg-config libseccomp-dev libcap-dev libyajl-dev libmount-dev protobuf-c-compiler libprotobuf-c-dev libsystemd-dev
DEB_TEST := libcriterion-dev busybox-static util-linux iproute2 procps jq golang-github-containers-common runc criu uidmap
# systemd and dbus: the systemd VM boots the host's (tests/vm/run --systemd).
DEB_VM := qemu-system-x86 linux-image-amd64 cpio systemd dbus
# podman and conmon: tests/bench/shim compares skiff-shim with conmon.
DEB_BENCH := crun runc jq podman conmon
DEB_FUZZ := clang-14 libclang-rt-14-dev jq
# The real clients tests/clients drives; each is optional: one that cannot
# be installed has its tests skipped with the reason.  (t_shim's podman
# tests skip without podman too.)
DEB_CLIENTS := podman conmon catatonit containerd docker.io python3-grpcio python3-grpc-tools

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libmount is opened by dlopen() when create first needs it (runtime/plan/mount.c):
# not linked, so that the other commands do not load it and its libraries.
# libsystemd (sd-bus) likewise, by the systemd cgroup driver only
# (runtime/cgroup/sdbus.c); libsystemd-dev gives its header.
PKG_LIBS := $(shell pkg-config --libs $(filter-out mount,$(PKGS)) 2>/dev/null)
# The binaries take libseccomp, libcap and yajl from their static archives
# (in the same Debian -dev packages): every skiff command is an exec, and
# create/run/exec are two (runtime/container/exe_seal.c); three shared objects fewer
# to load save about 0.3 ms of `run` here (docs/performance.md).  A security
# update of one of them needs a rebuild of skiff (docs/design.md).
BIN_LIBS := -Wl,-Bstatic -lseccomp -lcap -lyajl_s -Wl,-Bdynamic

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
ALL_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS) $(CFLAGS)
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# One folder per layer (docs/design.md); libskiff.a is every layer but cli/.
LAYERS := container plan cgroup seccomp spec base
LIB_SRC := $(foreach l,$(LAYERS),$(wildcard runtime/$(l)/*.c))
CLI_SRC := $(wildcard runtime/cli/*.c)
SHIM_SRC := $(wildcard shim/*.c shim/core/*.c shim/conmon/*.c)
HDRS := $(wildcard include/skiff/*/*.h) runtime/cli/cli.h
# containerd-shim-skiff-v2 (shim/containerd/): our .proto files (containerd's
# package names and field numbers) compiled by protoc-c into build/gen/.
CTRD_PROTO := $(shell find shim/containerd/proto -name '*.proto' 2>/dev/null)
CTRD_GEN_C := $(CTRD_PROTO:shim/containerd/proto/%.proto=build/gen/%.pb-c.c)
CTRD_GEN_H := $(CTRD_GEN_C:.c=.h)
CTRD_SRC := $(wildcard shim/containerd/*.c)
# The shim's own headers: a change to a core struct rebuilds every shim object.
SHIM_HDRS := $(wildcard shim/core/*.h shim/conmon/*.h)
CTRD_HDRS := $(wildcard shim/containerd/*.h) $(SHIM_HDRS) $(CTRD_GEN_H)
CTRD_OBJ := $(CTRD_SRC:%.c=build/obj/%.o) $(CTRD_GEN_C:build/gen/%.c=build/obj/gen/%.o)
CTRD_CFLAGS := -Ibuild/gen
UNIT_SRC := $(wildcard tests/unit/*.c)

OBJ := $(LIB_SRC:%.c=build/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=build/obj/%.o)
SHIM_OBJ := $(SHIM_SRC:%.c=build/obj/%.o)
SAN_OBJ := $(LIB_SRC:%.c=build/san/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/unit/%)

# libFuzzer targets (tests/fuzz/, docs/security.md): the library built again
# with clang, the sanitizers and the fuzzer's coverage instrumentation.
FUZZ_CC := clang-14
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS) -g -O1 $(FUZZ_SAN)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_OBJ := $(LIB_SRC:%.c=build/fuzz/obj/%.o)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
# Seconds each target runs in `make test` / `make fuzz`; fuzz-long's default.
FUZZ_S ?= 5
FUZZ_LONG_S ?= 1800

BINS := runtime/skiff $(if $(SHIM_SRC),shim/skiff-shim) $(if $(wildcard shim/containerd/main.c),shim/containerd-shim-skiff-v2)

.SECONDARY:
.PHONY: check-layers all deps deps-build deps-test deps-vm deps-bench deps-fuzz deps-clients test unit fuzz fuzz-build fuzz-long integration vm clients clients-vm systemd-vm checkpoint-vm demo bench install clean
all: $(BINS)

build/libskiff.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $^

runtime/skiff: $(CLI_OBJ) build/libskiff.a
	$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) build/libskiff.a $(BIN_LIBS)

# Static (glibc, PIE): a dynamically linked process starts at ~1.3 MB RSS
# before doing anything, and there is one shim per container (docs/shim.md).
# It takes from libskiff.a only objects that need no library but libc.
shim/skiff-shim: $(SHIM_OBJ) build/libskiff.a
	$(CC) $(ALL_CFLAGS) -static-pie -o $@ $(SHIM_OBJ) build/libskiff.a

# The shim's files include the core's and their face's headers as
# "core/loop.h", "conmon/conmon.h" (docs/shim.md).
build/obj/shim/%.o: ALL_CFLAGS += -Ishim
build/obj/shim/%.o: $(wildcard shim/*/*.h)

# Static like skiff-shim, with libprotobuf-c's archive (libprotobuf-c-dev
# ships it): one per pod, so no shared objects to map (docs/shim.md).
# yajl: start reads config.json's annotations (the pod's group).
CORE_OBJ := $(filter build/obj/shim/core/%,$(SHIM_OBJ))
shim/containerd-shim-skiff-v2: $(CTRD_OBJ) $(CORE_OBJ) build/libskiff.a
	$(CC) $(ALL_CFLAGS) -static-pie -o $@ $(CTRD_OBJ) $(CORE_OBJ) build/libskiff.a -l:libprotobuf-c.a -lyajl_s

build/gen/%.pb-c.c build/gen/%.pb-c.h: shim/containerd/proto/%.proto $(CTRD_PROTO)
	@mkdir -p build/gen
	protoc-c -Ishim/containerd/proto --c_out=build/gen $<

build/obj/gen/%.o: build/gen/%.c $(CTRD_GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CTRD_CFLAGS) -c -o $@ $<

build/obj/shim/containerd/%.o: shim/containerd/%.c $(HDRS) $(CTRD_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CTRD_CFLAGS) -c -o $@ $<

build/obj/shim/%.o: shim/%.c $(HDRS) $(SHIM_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/san/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -c -o $@ $<

# The shim core's unit test links the core, built like the library for tests.
SHIM_CORE_SAN := $(patsubst %.c,build/san/%.o,$(wildcard shim/core/*.c))
build/san/shim/%.o: ALL_CFLAGS += -Ishim
build/san/shim/%.o: $(wildcard shim/*/*.h)
build/unit/test_shim_core: tests/unit/test_shim_core.c $(SHIM_CORE_SAN) $(SAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ishim $(SAN) -O1 -o $@ $< $(SHIM_CORE_SAN) $(SAN_OBJ) $(PKG_LIBS) -lcriterion

build/unit/%: tests/unit/%.c $(SAN_OBJ) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -DSK_SOURCE_DIR='"$(CURDIR)"' -o $@ $< $(SAN_OBJ) $(PKG_LIBS) -lcriterion

# The containerd face's unit tests take its sources and the generated code.
CTRD_UNIT := $(filter build/unit/test_ctrd_%,$(UNIT_BIN))
$(CTRD_UNIT): build/unit/%: tests/unit/%.c $(SAN_OBJ) $(CTRD_SRC) $(CTRD_HDRS) $(CTRD_GEN_C)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CTRD_CFLAGS) -I. -Ishim $(SAN) -O1 -DSK_SOURCE_DIR='"$(CURDIR)"' -o $@ $< \
		$(filter-out shim/containerd/main.c,$(CTRD_SRC)) $(CTRD_GEN_C) $(wildcard shim/core/*.c) $(SAN_OBJ) $(PKG_LIBS) -lprotobuf-c -lcriterion -lpthread

build/fuzz/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

build/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(PKG_LIBS) -ldl

# The seed corpus, made from spec-fixtures/ (tests/fuzz/seeds).
build/fuzz/seed/.done: tests/fuzz/seeds $(wildcard spec-fixtures/*/*)
	tests/fuzz/seeds build/fuzz/seed
	@touch $@

# Installs each missing Debian package; a no-op when all are present.
define apt_missing
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $$missing >/dev/null || exit 1; fi
endef

deps: deps-build deps-test deps-vm deps-fuzz
deps-build:
	$(call apt_missing,$(DEB_BUILD))
deps-test:
	$(call apt_missing,$(DEB_TEST))
deps-vm:
	$(call apt_missing,$(DEB_VM))
deps-bench:
	$(call apt_missing,$(DEB_BENCH))
deps-fuzz:
	$(call apt_missing,$(DEB_FUZZ))
# One package at a time, and no failure: a client that cannot be installed
# is skipped by tests/clients/run, which says so.  Their services are not
# started (policy-rc.d): the tests start private daemons of their own.
deps-clients:
	@missing=""; for p in $(DEB_CLIENTS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; export DEBIAN_FRONTEND=noninteractive; \
	  rc_policy=; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; rc_policy=1; fi; \
	  apt-get update -q >/dev/null; \
	  for p in $$missing; do apt-get install -y -q --no-install-recommends $$p >/dev/null 2>&1 || echo "could not install $$p: tests/clients will skip what needs it"; done; \
	  if [ -n "$$rc_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi; fi

unit: deps-build deps-test
	@$(MAKE) --no-print-directory $(UNIT_BIN)
	@tests/unit/run $(UNIT_BIN)

fuzz-build: deps-build deps-fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BIN) build/fuzz/seed/.done

# Every target for FUZZ_S seconds (make fuzz FUZZ_S=60); findings go to
# build/fuzz/crash/TARGET/, the growing corpus stays in build/fuzz/corpus/.
fuzz: fuzz-build
	@tests/fuzz/run -t $(FUZZ_S) $(FUZZ_BIN)

# The long runs of docs/security.md: FUZZ_LONG_S seconds per target (30
# minutes by default), two at a time, at the lowest priority, each from its
# seeds alone (build/fuzz/long/corpus is emptied first) with copies of the
# binaries, so that builds meanwhile change nothing.
fuzz-long: fuzz-build
	@rm -rf build/fuzz/long && mkdir -p build/fuzz/long/bin && cp $(FUZZ_BIN) build/fuzz/long/bin/
	@FUZZ_TOP=build/fuzz/long tests/fuzz/run -t $(FUZZ_LONG_S) -j 2 -n 19 $(FUZZ_BIN:build/fuzz/%=build/fuzz/long/bin/%)

integration: deps-build deps-test
	@$(MAKE) --no-print-directory all
	@tests/integration/run

vm: deps-build deps-test deps-vm
	@$(MAKE) --no-print-directory all
	@tests/vm/run tests/integration/run

# podman, containerd (ctr and CRI) and docker against skiff: every scenario
# on the host (those needing cgroup limits skip where skiff cannot apply
# them), and every one in the cgroup v2 VM (docs/orchestrators.md).
clients: deps-build deps-test deps-clients
	@$(MAKE) --no-print-directory all
	@tests/clients/run

clients-vm: deps-build deps-test deps-vm deps-clients
	@$(MAKE) --no-print-directory all
	@SKIFF_CLIENTS_FULL=1 tests/vm/run tests/clients/run

# Checkpoint/restore in full in the VM (Debian's CRIU cannot dump on a
# kernel from 6.13 on): every scenario, also with runc, and every client's
# (docs/checkpoint.md); make test runs the lean part.
checkpoint-vm: deps-build deps-test deps-vm deps-clients
	@$(MAKE) --no-print-directory all
	@SKIFF_CR_FULL=1 SKIFF_CLIENTS_FULL=1 SKIFF_CLIENT_TIMEOUT=900 SKIFF_VM_TIMEOUT=$${SKIFF_VM_TIMEOUT:-3600} tests/vm/run bash -c 'tests/integration/run t_checkpoint; s=$$?; tests/clients/run checkpoint || s=1; exit $$s'

# Everything: unit tests under sanitizers, each fuzz target for FUZZ_S
# seconds, integration and the real clients on the host, then in the cgroup
# v2 VM (the clients' lean subset there, one boot for both), then the
# systemd driver in the systemd VM (one boot).  Each runner
# ends with its summary line.
test: deps deps-clients
	@tests/check-layers
	@$(MAKE) --no-print-directory all $(UNIT_BIN) $(FUZZ_BIN) build/fuzz/seed/.done
	@tests/unit/run $(UNIT_BIN)
	@tests/fuzz/run -t $(FUZZ_S) $(FUZZ_BIN)
	@tests/integration/run
	@tests/clients/run
	@SKIFF_VM_TIMEOUT=$${SKIFF_VM_TIMEOUT:-3000} tests/vm/run bash -c 'tests/integration/run; s=$$?; tests/clients/run --lean || s=1; exit $$s'
	@tests/vm/run --systemd bash -c 'tests/integration/run t_systemd; s=$$?; tests/clients/run --lean sdcg sdrootless || s=1; exit $$s'

# The systemd cgroup driver where systemd is PID 1 (docs/cgroups.md): the
# integration tests and the clients with their systemd driver in the cgroup
# v2 VM (root's and the user manager's: rootless podman), then on hybrid
# the integration tests' subset and the clients' podman (conmon,
# skiff-shim), docker and CRI scenarios (two boots).
systemd-vm: deps-build deps-test deps-vm deps-clients
	@$(MAKE) --no-print-directory all
	@SKIFF_SD_FULL=1 SKIFF_CLIENTS_FULL=1 tests/vm/run --systemd bash -c 'tests/integration/run t_systemd; s=$$?; tests/clients/run sdcg sdrootless || s=1; exit $$s'
	@SKIFF_CLIENTS_FULL=1 tests/vm/run --systemd --hybrid bash -c 'tests/integration/run t_systemd; s=$$?; tests/clients/run test_sdcg_podman test_sdcg_docker_limits test_sdcg_cri_pod test_sdcg_runtime_calls || s=1; exit $$s'

# Every #include points down the layer table (docs/design.md).
check-layers:
	@tests/check-layers

demo: deps-build deps-test
	@$(MAKE) --no-print-directory all
	@tests/demo/run

# The host's sections, then the cgroup drivers where systemd is PID 1 (the
# systemd VM, booted once; BENCH_SD_ROUNDS rounds of BENCH_SD_N iterations:
# TCG is slow).
bench: deps-build deps-test deps-bench deps-clients deps-vm
	@$(MAKE) --no-print-directory all
	@tests/bench/run
	@tests/vm/run --systemd env BENCH_SD_N=$${BENCH_SD_N:-5} BENCH_SD_ROUNDS=$${BENCH_SD_ROUNDS:-3} BENCH_SD_MASKED_N=$${BENCH_SD_MASKED_N:-5} tests/bench/systemd

install: all
	install -D -m 0755 runtime/skiff $(DESTDIR)$(PREFIX)/bin/skiff
	$(if $(SHIM_SRC),install -D -m 0755 shim/skiff-shim $(DESTDIR)$(PREFIX)/bin/skiff-shim)
	$(if $(wildcard shim/containerd/main.c),install -D -m 0755 shim/containerd-shim-skiff-v2 $(DESTDIR)$(PREFIX)/bin/containerd-shim-skiff-v2)
	install -d $(DESTDIR)$(PREFIX)/share/doc/skiff
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/skiff/

clean:
	rm -rf build runtime/skiff shim/skiff-shim shim/containerd-shim-skiff-v2
