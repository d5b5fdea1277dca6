# shellcheck shell=bash
# Helpers for the integration tests (sourced by tests/integration/run and by
# each test).  A test is a function test_NAME in a file t_*.sh; it runs in
# its own bash with `set -eEuo pipefail`, cwd $T, and these variables:
#   SKIFF               the skiff binary under test
#   T                   a fresh scratch directory (bundles go here)
#   ROOT                a fresh, empty --root for skiff (use `sk`)
#   SKIFF_TEST_CGROUP   cgroupsPath prefix this test owns (mk_bundle uses it)
#   REPO                the checkout
# After the test the runner fails it if anything is left: state under $ROOT,
# mounts under $T or $ROOT, processes in $SKIFF_TEST_CGROUP or with their
# root or cwd under $T or $ROOT, or cgroups under $SKIFF_TEST_CGROUP.
# Every exec counts under the VM's emulated CPU: prefer bash builtins.

# skiff with this test's --root.
sk() { "$SKIFF" --root "$ROOT" "$@"; }

fail() {
	printf 'fail: %s\n' "$*" >&2
	exit 1
}

# skip REASON: end the test as skipped; the runner prints the reason.
skip() {
	printf '%s\n' "$*" >"$SK_SKIP_FILE"
	exit 77
}

# run CMD...: run without failing; sets $status, $out (stdout) and $err
# (stderr), each without its trailing newlines.
run() {
	status=0
	"$@" >"$SK_TEST_DIR/run.out" 2>"$SK_TEST_DIR/run.err" || status=$?
	out=$(<"$SK_TEST_DIR/run.out")
	err=$(<"$SK_TEST_DIR/run.err")
}

# expect_ok CMD...: run; fail unless it exits 0.
expect_ok() {
	run "$@"
	((status == 0)) || fail "\`$*\` exited $status; stderr: $err"
}

# expect_fail CODE CMD...: run; fail unless it exits with CODE.
expect_fail() {
	local code=$1
	shift
	run "$@"
	((status == code)) || fail "\`$*\` exited $status, expected $code; stdout: $out; stderr: $err"
}

# assert_eq ACTUAL EXPECTED [WHAT]
assert_eq() {
	[[ $1 == "$2" ]] || fail "${3:-value}: expected [$2], got [$1]"
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
	[[ $1 == *"$2"* ]] || fail "${3:-output} does not contain [$2]: [$1]"
}

assert_not_contains() {
	[[ $1 != *"$2"* ]] || fail "${3:-output} contains [$2]: [$1]"
}

# assert_match STRING REGEX [WHAT]
assert_match() {
	[[ $1 =~ $2 ]] || fail "${3:-value} does not match /$2/: [$1]"
}

# assert_empty_dir DIR
assert_empty_dir() {
	local f
	for f in "$1"/* "$1"/.[!.]*; do
		[[ -e $f || -L $f ]] && fail "$1 is not empty: ${f##*/}"
	done
	return 0
}

# skiff_has COMMAND: whether this build of skiff has COMMAND.
skiff_has() { "$SKIFF" "$1" --help >/dev/null 2>&1; }

# require_skiff COMMAND: skip unless this build of skiff has COMMAND.
require_skiff() { skiff_has "$1" || skip "skiff has no \`$1\` command in this build"; }

# cg2_mount: the cgroup2 mount point, or nothing.
cg2_mount() {
	local _a _b _c _d mp _rest
	while read -r _a _b _c _d mp _rest; do
		if [[ " $_rest " == *" - cgroup2 "* ]]; then
			printf '%s' "$mp"
			return 0
		fi
	done </proc/self/mountinfo
}

require_cgroup2() { [[ -n $(cg2_mount) ]] || skip "no cgroup2 mount on this host"; }

# require_controller NAME...: skip unless the cgroup2 root offers each NAME.
require_controller() {
	local cg2 want c ok
	require_cgroup2
	cg2=$(cg2_mount)
	for want in "$@"; do
		ok=
		for c in $(<"$cg2/cgroup.controllers"); do
			[[ $c == "$want" ]] && ok=1
		done
		[[ -n $ok ]] || skip "controller \"$want\" is not available in $cg2"
	done
}

# cg_dir ID, cg_file ID FILE: the cgroup of container ID (mk_bundle's
# cgroupsPath) and a file of it.
cg_dir() { printf '%s' "$(cg2_mount)$SKIFF_TEST_CGROUP/$1"; }
cg_file() { printf '%s' "$(<"$(cg_dir "$1")/$2")"; }

# The rootfs every bundle copies: busybox-static with a link per applet and
# a minimal /etc.  Built once per run under $SK_CACHE.
_sk_rootfs_template() {
	local t=$SK_CACHE/rootfs
	[[ -x $t/bin/busybox ]] && return 0
	[[ -x /bin/busybox ]] || fail "/bin/busybox missing: apt-get install busybox-static (make deps-test does)"
	[[ $(LC_ALL=C ldd /bin/busybox 2>&1 || true) == *'not a dynamic'* ]] ||
		fail "/bin/busybox is not static: apt-get install busybox-static"
	local tmp=$t.tmp.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"/{bin,dev,proc,sys,etc,tmp,root,run}
	cp /bin/busybox "$tmp/bin/busybox"
	# One perl (Essential on Debian) for the few hundred links, not one ln each.
	"$tmp/bin/busybox" --list | perl -ne 'chomp; symlink("busybox", "'"$tmp"'/bin/$_") unless $_ eq "busybox" or -e "'"$tmp"'/bin/$_"'
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$tmp/etc/passwd"
	printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$tmp/etc/group"
	chmod 1777 "$tmp/tmp"
	mv "$tmp" "$t"
}

# mk_bundle DIR [CMD...]: a bundle with a busybox rootfs and the config of
# `skiff spec`, with terminal false, args CMD (default: sh) and cgroupsPath
# under this test's cgroup.
mk_bundle() {
	local dir=$1
	shift
	_sk_rootfs_template
	mkdir -p "$dir"
	cp -a "$SK_CACHE/rootfs" "$dir/rootfs"
	"$SKIFF" spec --bundle "$dir"
	# shellcheck disable=SC2016  # jq's variables, not the shell's
	cfg_edit "$dir" '.process.terminal = false
		| .process.args = (if $ARGS.positional == [] then .process.args else $ARGS.positional end)
		| .linux.cgroupsPath = $cg' --arg cg "$SKIFF_TEST_CGROUP/${dir##*/}" --args -- "$@"
}

# cfg_edit DIR 'JQ EXPR' [JQ ARGS...]: edit DIR/config.json in place.
cfg_edit() {
	local dir=$1 expr=$2
	shift 2
	jq "$expr" "$@" <"$dir/config.json" >"$dir/config.json.new" || fail "cfg_edit: jq failed on: $expr"
	mv "$dir/config.json.new" "$dir/config.json"
}

# cfg_get DIR 'JQ EXPR': print a value of DIR/config.json.
cfg_get() { jq -r "$2" "$1/config.json"; }

# The start time of a pid (field 22 of /proc/PID/stat), as skiff records it.
proc_start_time() {
	local line rest
	read -r line <"/proc/$1/stat"
	rest=${line##*) }
	# shellcheck disable=SC2086  # split the fields on purpose
	set -- $rest
	printf '%s' "${20}"
}

# status_of ID: the container's status, as `state` prints it.
status_of() {
	run sk state "$1"
	((status == 0)) || fail "state $1: $err"
	jq -r .status <<<"$out"
}

# gone PID [WHAT]: until PID has exited (a zombie counts: its new parent
# reaps it in its own time), 20 s at most.
gone() {
	local end=$((SECONDS + 20)) line
	while ((SECONDS < end)); do
		read -r line 2>/dev/null <"/proc/$1/stat" || return 0
		line=${line##*) }
		[[ $line == Z* ]] && return 0
		sleep 0.05
	done
	fail "${2:-process} (pid $1) is still there"
}

# helper NAME: tests/integration/helpers/NAME.c, built once per run; prints
# the binary's path.
helper() {
	local bin=$SK_CACHE/$1
	if [[ ! -x $bin ]]; then
		cc -O2 -o "$bin.$$" "$REPO/tests/integration/helpers/$1.c" || fail "cannot build $1"
		mv "$bin.$$" "$bin"
	fi
	printf '%s' "$bin"
}

# The console-socket receiver (helpers/recvtty.c).
_recvtty() { RECVTTY=$(helper recvtty); }

# Start recvtty on $T/tty.sock with INPUT; wait until it listens.  Its pid
# is $recv_pid, for the tests that wait for it.
# shellcheck disable=SC2034
start_recvtty() {
	_recvtty
	"$RECVTTY" "$T/tty.sock" "$T/tty.out" "$1" >"$T/recv.out" 2>"$T/recv.err" &
	recv_pid=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -S $T/tty.sock ]] && return 0
		sleep 0.05
	done
	fail "recvtty did not listen: $(<"$T/recv.err")"
}

# ---------------------------------------------------------------------------
# Leak checks, run by the runner after each test with the test's variables.
# Each prints one line per leak found, then cleans it up.

# Mount points under the test's directory (deepest last), octal escapes
# decoded.
_sk_mounts_under() {
	local _a _b _c _d mp _rest
	while read -r _a _b _c _d mp _rest; do
		printf -v mp '%b' "$mp"
		[[ $mp == "$1"/* || $mp == "$1" ]] && printf '%s\n' "$mp"
	done </proc/self/mountinfo
	return 0
}

_sk_leak_state() {
	local c id
	for c in "$ROOT"/*; do
		[[ -e $c ]] || continue
		id=${c##*/}
		echo "leak: container state left: $id"
		skiff_has delete && "$SKIFF" --root "$ROOT" delete --force "$id" >/dev/null 2>&1
	done
	rm -rf "${ROOT:?}"/* 2>/dev/null
	return 0
}

_sk_leak_cgroups() {
	local cg2 base d procs pid comm
	cg2=$(cg2_mount)
	[[ -n $cg2 ]] || return 0
	base=$cg2$SKIFF_TEST_CGROUP
	[[ -d $base ]] || return 0
	while read -r d; do
		[[ $d == "$base" ]] || echo "leak: cgroup left: ${d#"$cg2"}"
		[[ -r $d/cgroup.procs ]] || continue
		procs=$(<"$d/cgroup.procs")
		for pid in $procs; do
			comm=$(<"/proc/$pid/comm") 2>/dev/null || comm='?'
			echo "leak: process $pid ($comm) left in ${d#"$cg2"}"
		done
		if [[ -n $procs ]]; then
			if [[ -e $d/cgroup.kill ]]; then
				echo 1 >"$d/cgroup.kill"
			else
				# shellcheck disable=SC2086
				kill -9 $procs 2>/dev/null
			fi
		fi
	done < <(find "$base" -type d)
	# Killed processes take a moment to leave their cgroups.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		find "$base" -depth -type d -exec rmdir {} + 2>/dev/null
		[[ -d $base ]] || return 0
		sleep 0.2
	done
	echo "leak: cannot remove cgroup ${base#"$cg2"}"
}

_sk_leak_procs() {
	local l pid
	# One find for every process: its root or cwd inside the test's files.
	while read -r l; do
		pid=${l#/proc/}
		pid=${pid%%/*}
		[[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
		echo "leak: process $pid ($(<"/proc/$pid/comm")) has ${l##*/} $(readlink "$l")"
		kill -9 "$pid" 2>/dev/null
	done < <(find /proc/[0-9]*/root /proc/[0-9]*/cwd -maxdepth 0 \
		\( -lname "$SK_TEST_DIR/*" -o -lname "$SK_TEST_DIR" \) 2>/dev/null | sort -u -t/ -k3,3n)
	return 0
}

_sk_leak_mounts() {
	local mp
	while read -r mp; do
		[[ -n $mp ]] || continue
		echo "leak: mount left: $mp"
		umount -l "$mp" 2>/dev/null
	done < <(_sk_mounts_under "$SK_TEST_DIR" | sort -r)
	return 0
}

_sk_leak_check() {
	_sk_leak_procs
	_sk_leak_state
	_sk_leak_cgroups
	_sk_leak_mounts
}
