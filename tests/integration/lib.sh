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
# root or cwd under $T or $ROOT, or cgroups under $SKIFF_TEST_CGROUP in any
# hierarchy (cgroup2 and every v1 one).
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

# The host's cgroup hierarchies, one "FSTYPE MOUNTPOINT SUPEROPTS" line
# each (cgroup2 ones with SUPEROPTS of cgroup2, v1 ones with their
# controllers: "rw,cpu,cpuacct"), read from mountinfo once per test.
_SK_CG_MOUNTS=
_cg_mounts() {
	if [[ -z $_SK_CG_MOUNTS ]]; then
		local line pre post fstype src opts mp _a _b _c _d _rest
		while IFS= read -r line; do
			pre=${line%% - *} post=${line#* - }
			read -r fstype src opts <<<"$post"
			[[ $fstype == cgroup || $fstype == cgroup2 ]] || continue
			read -r _a _b _c _d mp _rest <<<"$pre"
			printf -v mp '%b' "$mp"
			_SK_CG_MOUNTS+="$fstype $mp $opts"$'\n'
		done </proc/self/mountinfo
		_SK_CG_MOUNTS+=.
	fi
	printf '%s' "${_SK_CG_MOUNTS%.}"
}

# cg2_mount: the cgroup2 mount point, or nothing.
cg2_mount() {
	local fstype mp opts
	while read -r fstype mp opts; do
		[[ $fstype == cgroup2 ]] && { printf '%s' "$mp"; return 0; }
	done < <(_cg_mounts)
	return 0
}

# cg_all_mounts: every cgroup mount point (cgroup2 and v1), one a line.
cg_all_mounts() {
	local fstype mp opts
	while read -r fstype mp opts; do
		printf '%s\n' "$mp"
	done < <(_cg_mounts)
}

# cg_v1_mount CTRL: the mount point of the v1 hierarchy with controller
# CTRL (v1 names: blkio, not io), or nothing (status 1).
cg_v1_mount() {
	local fstype mp opts
	while read -r fstype mp opts; do
		[[ $fstype == cgroup && ,$opts, == *,"$1",* ]] && { printf '%s' "$mp"; return 0; }
	done < <(_cg_mounts)
	return 1
}

# cg_backend CTRL: where skiff puts controller CTRL (cgroup2 names: io) on
# this host: v1 (its hierarchy is mounted), v2 (the cgroup2 root offers
# it), or none.  docs/cgroups.md "How skiff picks".
cg_backend() {
	local v1=$1 cg2 c
	[[ $1 == io ]] && v1=blkio
	if cg_v1_mount "$v1" >/dev/null; then
		echo v1
		return 0
	fi
	cg2=$(cg2_mount)
	if [[ -n $cg2 ]]; then
		for c in $(<"$cg2/cgroup.controllers"); do
			[[ $c == "$1" ]] && { echo v2; return 0; }
		done
	fi
	echo none
}

require_cgroup2() { [[ -n $(cg2_mount) ]] || skip "no cgroup2 mount on this host"; }

# require_controller NAME...: skip unless each controller (cgroup2 names)
# is served, by its v1 hierarchy or by the cgroup2 root.
require_controller() {
	local want
	for want in "$@"; do
		[[ $(cg_backend "$want") != none ]] ||
			skip "controller \"$want\" is available neither as a cgroup v1 hierarchy nor in $(cg2_mount)"
	done
}

# cg_dir ID [CTRL], cg_file ID FILE: the cgroup of container ID
# (mk_bundle's cgroupsPath) in the hierarchy serving CTRL (the cgroup2 one
# by default, or a v1 one without cgroup2), and a file of it, found in the
# hierarchy its prefix names (memory.*, blkio.*, cgroup.*...).
cg_dir() {
	local base
	case ${2:-cgroup} in
	cgroup) base=$(cg2_mount) ;;
	blkio | cpuacct | devices | freezer | net_cls | net_prio) base=$(cg_v1_mount "$2") ;;
	*) [[ $(cg_backend "$2") == v1 ]] && base=$(cg_v1_mount "${2/#io/blkio}") || base=$(cg2_mount) ;;
	esac
	[[ -n $base ]] || base=$(cg_v1_mount freezer)
	printf '%s' "$base$SKIFF_TEST_CGROUP/$1"
}
cg_file() { printf '%s' "$(<"$(cg_dir "$1" "${2%%.*}")/$2")"; }

# cg_freeze ID 1|0: freeze or thaw container ID behind skiff's back, with
# the freezer skiff uses (v1's when mounted, else cgroup.freeze).
cg_freeze() {
	if [[ -n $(cg_v1_mount freezer) ]]; then
		local s=THAWED
		(($2)) && s=FROZEN
		echo "$s" >"$(cg_dir "$1" freezer)/freezer.state"
	else
		echo "$2" >"$(cg_dir "$1")/cgroup.freeze"
	fi
}

# cg_mkdir_all ID SUB: SUB below container ID's cgroup in every hierarchy
# (a new v1 cpuset gets its parent's cpus and mems, or takes no process).
cg_mkdir_all() {
	local mp d f
	while read -r mp; do
		d=$mp$SKIFF_TEST_CGROUP/$1
		mkdir -p "$d/$2"
		[[ -e $d/cpuset.cpus && ! -e $d/cgroup.controllers ]] || continue
		for f in cpuset.cpus cpuset.mems; do
			local p=$d
			while IFS= read -r sub; do
				p=$p/$sub
				[[ -n $(<"$p/$f") ]] || cat "${p%/*}/$f" >"$p/$f"
			done < <(tr / '\n' <<<"$2")
		done
	done < <(cg_all_mounts)
}

# cg_gone NAME: no hierarchy has $SKIFF_TEST_CGROUP/NAME any more.
cg_gone() {
	local mp
	while read -r mp; do
		[[ ! -e $mp$SKIFF_TEST_CGROUP/$1 ]] || fail "cgroup left: $mp$SKIFF_TEST_CGROUP/$1"
	done < <(cg_all_mounts)
}

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

# Every hierarchy: the cgroups skiff leaves anywhere are leaks.
_sk_leak_cgroups() {
	local mp base d procs pid comm left=
	while read -r mp; do
		base=$mp$SKIFF_TEST_CGROUP
		[[ -d $base ]] || continue
		while read -r d; do
			[[ $d == "$base" ]] || echo "leak: cgroup left: $d"
			[[ -r $d/cgroup.procs ]] || continue
			procs=$(<"$d/cgroup.procs")
			for pid in $procs; do
				comm=$(<"/proc/$pid/comm") 2>/dev/null || comm='?'
				echo "leak: process $pid ($comm) left in $d"
			done
			if [[ -n $procs ]]; then
				if [[ -e $d/cgroup.kill ]]; then
					echo 1 >"$d/cgroup.kill"
				else
					[[ -e $d/freezer.state ]] && echo THAWED >"$d/freezer.state"
					# shellcheck disable=SC2086
					kill -9 $procs 2>/dev/null
				fi
			fi
		done < <(find "$base" -type d)
		left+=" $base"
	done < <(cg_all_mounts)
	# Killed processes take a moment to leave their cgroups.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		for base in $left; do
			[[ -d $base ]] && find "$base" -depth -type d -exec rmdir {} + 2>/dev/null
		done
		for base in $left; do
			[[ -d $base ]] && continue 2
		done
		return 0
	done
	for base in $left; do
		[[ -d $base ]] && echo "leak: cannot remove cgroup $base"
	done
	return 0
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

# ---- rootless (t_rootless.sh, t_security.sh, tests/clients) -------------
# The test user, made once per machine: useradd plus a subordinate range
# in /etc/subuid and /etc/subgid for newuidmap/newgidmap (useradd may have
# added one already): RL_SUBUID and RL_SUBGID, 65536 ids each.
SK_RL_USER=skiffrl
rl_user() {
	command -v newuidmap >/dev/null || skip "newuidmap missing: apt-get install uidmap (make deps-test does)"
	command -v setpriv >/dev/null || skip "setpriv missing (util-linux)"
	if ! id -u "$SK_RL_USER" >/dev/null 2>&1; then
		useradd -m -s /bin/sh "$SK_RL_USER" 2>/dev/null || id -u "$SK_RL_USER" >/dev/null ||
			fail "useradd $SK_RL_USER failed"
	fi
	local f
	for f in /etc/subuid /etc/subgid; do
		grep -q "^$SK_RL_USER:" "$f" 2>/dev/null || echo "$SK_RL_USER:300000:65536" >>"$f"
	done
	RL_SUBUID=$(awk -F: -v u="$SK_RL_USER" '$1 == u && $3 >= 65536 { print $2; exit }' /etc/subuid)
	RL_SUBGID=$(awk -F: -v u="$SK_RL_USER" '$1 == u && $3 >= 65536 { print $2; exit }' /etc/subgid)
	[[ -n $RL_SUBUID && -n $RL_SUBGID ]] || fail "no range of 65536 ids for $SK_RL_USER in /etc/subuid or /etc/subgid"
	RL_UID=$(id -u "$SK_RL_USER")
	RL_GID=$(id -g "$SK_RL_USER")
	# The user's own directories: its XDG_RUNTIME_DIR (0700) and a
	# scratch dir; $T's parents are 0755, so the user reaches them.
	RL_HOME=$T/rl
	RL_XDG=$RL_HOME/xdg
	mkdir -p "$RL_XDG"
	chmod 700 "$RL_XDG"
	chown -R "$RL_UID:$RL_GID" "$RL_HOME"
}

# as_rl CMD...: CMD as the test user, with its XDG_RUNTIME_DIR and HOME
# (setpriv: no PAM, no session).
as_rl() {
	setpriv --reuid "$RL_UID" --regid "$RL_GID" --init-groups --reset-env \
		env XDG_RUNTIME_DIR="$RL_XDG" HOME="$RL_HOME" PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

# rl_bundle DIR [CMD...]: a `skiff spec --rootless` bundle owned by the
# test user (no cgroupsPath: a rootless caller has no cgroup).
rl_bundle() {
	local dir=$1
	shift
	_sk_rootfs_template
	mkdir -p "$dir"
	cp -a "$SK_CACHE/rootfs" "$dir/rootfs"
	"$SKIFF" spec --rootless --bundle "$dir"
	cfg_edit "$dir" '.process.terminal = false
		| .process.args = (if $ARGS.positional == [] then .process.args else $ARGS.positional end)
		| .linux.uidMappings[0].hostID = $u | .linux.gidMappings[0].hostID = $g' \
		--argjson u "$RL_UID" --argjson g "$RL_GID" --args -- "$@"
	chown -R "$RL_UID:$RL_GID" "$dir"
}
