# skiff: build, test, bench, install.  See README.md.
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKGS := libseccomp libcap yajl mount

# Debian packages the build, the tests and the demo need (make deps).
DEB_BUILD := build-essential pkg-config libseccomp-dev libcap-dev libyajl-dev libmount-dev
DEB_TEST := libcriterion-dev busybox-static util-linux iproute2 procps jq golang-github-containers-common
DEB_VM := qemu-system-x86 linux-image-amd64 cpio
DEB_BENCH := crun runc jq

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libmount is opened by dlopen() when create first needs it (runtime/mount.c):
# not linked, so that the other commands do not load it and its libraries.
PKG_LIBS := $(shell pkg-config --libs $(filter-out mount,$(PKGS)) 2>/dev/null)
# The binaries take libseccomp, libcap and yajl from their static archives
# (in the same Debian -dev packages): every skiff command is an exec, and
# create/run/exec are two (runtime/exe_seal.c); three shared objects fewer
# to load save about 0.3 ms of `run` here (docs/performance.md).  A security
# update of one of them needs a rebuild of skiff (docs/design.md).
BIN_LIBS := -Wl,-Bstatic -lseccomp -lcap -lyajl_s -Wl,-Bdynamic

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
ALL_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS) $(CFLAGS)
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRC := $(filter-out runtime/main.c runtime/cmd_%.c runtime/cli_%.c,$(wildcard runtime/*.c))
CLI_SRC := runtime/main.c $(wildcard runtime/cli_*.c) $(wildcard runtime/cmd_*.c)
SHIM_SRC := $(wildcard shim/*.c)
UNIT_SRC := $(wildcard tests/unit/*.c)

OBJ := $(LIB_SRC:%.c=build/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=build/obj/%.o)
SHIM_OBJ := $(SHIM_SRC:%.c=build/obj/%.o)
SAN_OBJ := $(LIB_SRC:%.c=build/san/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/unit/%)

BINS := runtime/skiff $(if $(SHIM_SRC),shim/skiff-shim)

.SECONDARY:
.PHONY: all deps deps-build deps-test deps-vm deps-bench test unit integration vm demo bench install clean
all: $(BINS)

build/libskiff.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $^

runtime/skiff: $(CLI_OBJ) build/libskiff.a
	$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) build/libskiff.a $(BIN_LIBS)

shim/skiff-shim: $(SHIM_OBJ) build/libskiff.a
	$(CC) $(ALL_CFLAGS) -o $@ $(SHIM_OBJ) build/libskiff.a $(BIN_LIBS)

build/obj/%.o: %.c $(wildcard include/skiff/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/san/%.o: %.c $(wildcard include/skiff/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -c -o $@ $<

build/unit/%: tests/unit/%.c $(SAN_OBJ) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -DSK_SOURCE_DIR='"$(CURDIR)"' -o $@ $< $(SAN_OBJ) $(PKG_LIBS) -lcriterion

# Installs each missing Debian package; a no-op when all are present.
define apt_missing
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $$missing >/dev/null || exit 1; fi
endef

deps: deps-build deps-test deps-vm
deps-build:
	$(call apt_missing,$(DEB_BUILD))
deps-test:
	$(call apt_missing,$(DEB_TEST))
deps-vm:
	$(call apt_missing,$(DEB_VM))
deps-bench:
	$(call apt_missing,$(DEB_BENCH))

unit: deps-build deps-test
	@$(MAKE) --no-print-directory $(UNIT_BIN)
	@tests/unit/run $(UNIT_BIN)

integration: deps-build deps-test
	@$(MAKE) --no-print-directory all
	@tests/integration/run

vm: deps-build deps-test deps-vm
	@$(MAKE) --no-print-directory all
	@tests/vm/run tests/integration/run

# Everything: unit tests under sanitizers, integration on the host, then in
# the cgroup v2 VM.  Each runner ends with its summary line.
test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@tests/unit/run $(UNIT_BIN)
	@tests/integration/run
	@tests/vm/run tests/integration/run

demo: deps-build deps-test
	@$(MAKE) --no-print-directory all
	@tests/demo/run

bench: deps-build deps-test deps-bench
	@$(MAKE) --no-print-directory all
	@tests/bench/run

install: all
	install -D -m 0755 runtime/skiff $(DESTDIR)$(PREFIX)/bin/skiff
	$(if $(SHIM_SRC),install -D -m 0755 shim/skiff-shim $(DESTDIR)$(PREFIX)/bin/skiff-shim)
	install -d $(DESTDIR)$(PREFIX)/share/doc/skiff
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/skiff/

clean:
	rm -rf build runtime/skiff shim/skiff-shim
