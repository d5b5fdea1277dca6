# shellcheck shell=bash
# $out, $err and $status come from lib.sh's run; single quotes hold sh code.
# shellcheck disable=SC2154,SC2016
# checkpoint and restore with CRIU (docs/checkpoint.md), each scenario with
# skiff and with runc.  They need a CRIU that can dump on this kernel:
# Debian's 3.17.1 cannot on kernels from 6.13 on (the VM's 6.1 is fine), and
# the tests skip then with CRIU's own reason.  The bad-input tests need
# only CRIU's binary.

# criu_usable: skip unless CRIU can dump here (tests/criu-gate).
criu_usable() {
	local why
	why=$("$REPO/tests/criu-gate" "$SK_CACHE/criu-gate")
	[[ -z $why ]] || skip "$why"
	# The VM's fix-up: CRIU opens /dev/fd/N.
	[[ -e /dev/fd ]] || ln -s /proc/self/fd /dev/fd
	return 0
}

# The runtimes under test: "sk" (skiff) and "rc" (runc with its own root).
rc() { runc --root "$T/runc-root" "$@"; }
# make test's VM time is short: the runc twins and the scenarios the
# clients' tests also cover run with make checkpoint-vm (SKIFF_CR_FULL=1).
require_full() {
	[[ -n ${SKIFF_CR_FULL:-} ]] || skip "$1: run by make checkpoint-vm (SKIFF_CR_FULL=1)"
}
require_runc() {
	require_full "runc twin"
	command -v runc >/dev/null || skip "runc is not installed"
}

# stdio on anonymous pipes (CRIU cannot dump a host file as stdio): the
# container writes to $out_w, a cat copies it into $T/out.
cr_pipes() {
	local p
	exec {p}<> <(:)
	exec {in_r}</proc/self/fd/$p {in_w}>/proc/self/fd/$p {p}>&-
	exec {p}<> <(:)
	exec {out_r}</proc/self/fd/$p {out_w}>/proc/self/fd/$p {p}>&-
	(cd / && exec cat <&"$out_r" >"$T/out") &
	cat_pid=$!
}
cr_pipes_close() {
	exec {in_r}<&- {in_w}>&- {out_r}<&- {out_w}>&-
	kill "$cat_pid" 2>/dev/null || true
	wait "$cat_pid" 2>/dev/null || true
}

counter='i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done'

# last_tick FILE: the number of the last "tick N" line.
last_tick() {
	local l n=0
	while read -r l; do
		l=${l%$'\r'}
		[[ $l == tick\ * ]] && n=${l#tick }
	done <"$1"
	echo "$n"
}

# ticks_past FILE N: wait (30 s at most) until FILE's last tick is past N.
ticks_past() {
	local i
	for ((i = 0; i < 300; i++)); do
		(($(last_tick "$1") > $2)) && return 0
		sleep 0.1
	done
	fail "no tick past $2 in $1 (last: $(last_tick "$1"))"
}

# state_gone RT ID: the checkpointed container is gone, as with runc.
state_gone() {
	run "$1" state "$2"
	[[ $status != 0 ]] || fail "$1: $2 still exists after the checkpoint: $out"
}

# The counter checkpointed, then restored twice from the same images:
# each restore goes on from the tick after the last one before the dump.
cr_counter_twice() {
	local RT=$1
	mk_bundle "$T/b" sh -c "$counter"
	cr_pipes
	"$RT" run -d --bundle "$T/b" c1 <&"$in_r" >&"$out_w" 2>&"$out_w" || fail "$RT run"
	ticks_past "$T/out" 3
	expect_ok "$RT" checkpoint --image-path "$T/img" --work-path "$T/work" c1
	state_gone "$RT" c1
	[[ -e $T/img/inventory.img && -e $T/work/dump.log ]] || fail "no images or no dump.log"
	sleep 0.3
	local n
	n=$(last_tick "$T/out")
	local round
	for round in 1 2; do
		# Not through run: its capture files would become the stdio.
		"$RT" restore -d --image-path "$T/img" --work-path "$T/work$round" --pid-file "$T/pid" \
			--bundle "$T/b" c1 <&"$in_r" >&"$out_w" 2>&"$out_w" || fail "$RT restore $round"
		assert_eq "$(status_of_rt "$RT" c1)" running "status after restore $round"
		assert_eq "$(<"$T/pid")" "$("$RT" state c1 | jq -r .pid)" "pid file"
		ticks_past "$T/out" $((n + round * 5))
		expect_ok "$RT" exec c1 sh -c 'echo $((1 + 1))'
		assert_eq "$out" 2 "exec after restore $round"
		expect_ok "$RT" kill c1 KILL
		gone "$(<"$T/pid")"
		expect_ok "$RT" delete c1
	done
	# Both restores printed the tick after the last one before the dump.
	assert_eq "$(grep -c "^tick $((n + 1))\$" "$T/out")" 2 "tick $((n + 1)), the first after the dump: once per restore"
	cr_pipes_close
}
status_of_rt() { "$1" state "$2" | jq -r .status; }

# timeout: 5x
test_checkpoint_counter_restored_twice() {
	criu_usable
	cr_counter_twice sk
}

# timeout: 5x
test_checkpoint_counter_restored_twice_runc() {
	criu_usable
	require_runc
	cr_counter_twice rc
}

# --leave-running, and a paused container that stays paused (containerd
# pauses before it checkpoints).
cr_leave_running() {
	local RT=$1
	mk_bundle "$T/b" sh -c "$counter"
	cr_pipes
	"$RT" run -d --bundle "$T/b" c2 <&"$in_r" >&"$out_w" 2>&"$out_w" || fail "$RT run"
	ticks_past "$T/out" 2
	expect_ok "$RT" checkpoint --image-path "$T/img" --leave-running --leave-running c2
	assert_eq "$(status_of_rt "$RT" c2)" running "after --leave-running"
	expect_ok "$RT" pause c2
	expect_ok "$RT" checkpoint --image-path "$T/img2" --leave-running c2
	assert_eq "$(status_of_rt "$RT" c2)" paused "a paused container after --leave-running"
	expect_ok "$RT" resume c2
	local n
	n=$(last_tick "$T/out")
	ticks_past "$T/out" $((n + 2))
	expect_ok "$RT" delete -f c2
	cr_pipes_close
}

# timeout: 5x
test_checkpoint_leave_running_and_paused() {
	criu_usable
	require_full "also covered by ctr's test"
	cr_leave_running sk
}

# timeout: 5x
test_checkpoint_leave_running_and_paused_runc() {
	criu_usable
	require_runc
	cr_leave_running rc
}

# --pre-dump, then the dump with --parent-path, restored from the chain.
cr_pre_dump() {
	local RT=$1
	mk_bundle "$T/b" sh -c "$counter"
	cr_pipes
	"$RT" run -d --bundle "$T/b" c3 <&"$in_r" >&"$out_w" 2>&"$out_w" || fail "$RT run"
	ticks_past "$T/out" 2
	expect_ok "$RT" checkpoint --pre-dump --image-path "$T/d/parent" c3
	assert_eq "$(status_of_rt "$RT" c3)" running "after --pre-dump"
	expect_ok "$RT" checkpoint --parent-path ../parent --image-path "$T/d/final" c3
	[[ -L $T/d/final/parent ]] || fail "final/parent is not a link to the parent images"
	state_gone "$RT" c3
	local n
	n=$(last_tick "$T/out")
	"$RT" restore -d --image-path "$T/d/final" --bundle "$T/b" c3 <&"$in_r" >&"$out_w" 2>&"$out_w" || fail "$RT restore"
	ticks_past "$T/out" $((n + 3))
	expect_ok "$RT" delete -f c3
	cr_pipes_close
}

# timeout: 5x
test_checkpoint_pre_dump_then_parent() {
	criu_usable
	require_full "pre-dump"
	cr_pre_dump sk
}

# timeout: 5x
test_checkpoint_pre_dump_then_parent_runc() {
	criu_usable
	require_runc
	cr_pre_dump rc
}

# A terminal container: restore sends CRIU's new pty master to
# --console-socket and the ticks go on there.
cr_terminal() {
	local RT=$1
	mk_bundle "$T/b"
	cfg_edit "$T/b" '.process.terminal = true | .process.args = ["sh", "-c", $s]' --arg s "$counter"
	start_recvtty ""
	"$RT" run -d --bundle "$T/b" --console-socket "$T/tty.sock" c4 </dev/null >/dev/null 2>&1 || fail "$RT run"
	ticks_past "$T/tty.out" 2
	expect_ok "$RT" checkpoint --image-path "$T/img" c4
	wait "$recv_pid" || true
	mv "$T/tty.out" "$T/tty1.out"
	rm -f "$T/tty.sock"
	local n
	n=$(last_tick "$T/tty1.out")
	start_recvtty ""
	expect_ok "$RT" restore -d --image-path "$T/img" --bundle "$T/b" --console-socket "$T/tty.sock" c4 </dev/null
	ticks_past "$T/tty.out" "$n"
	expect_ok "$RT" delete -f c4
	wait "$recv_pid" || true
}

# timeout: 5x
test_checkpoint_terminal_console_socket() {
	criu_usable
	cr_terminal sk
}

# timeout: 5x
test_checkpoint_terminal_console_socket_runc() {
	criu_usable
	require_runc
	cr_terminal rc
}

# Without -d, restore waits and exits with the container's status.
# timeout: 5x
test_checkpoint_restore_foreground_exit_status() {
	criu_usable
	mk_bundle "$T/b" sh -c 'i=0; while [ $i -lt 30 ]; do i=$((i+1)); echo tick $i; sleep 0.1; done; exit 9'
	cr_pipes
	sk run -d --bundle "$T/b" c5 <&"$in_r" >&"$out_w" 2>&"$out_w" || fail "run"
	ticks_past "$T/out" 2
	expect_ok sk checkpoint --image-path "$T/img" c5
	local rc=0
	sk restore --image-path "$T/img" --bundle "$T/b" c5 <&"$in_r" >&"$out_w" 2>&"$out_w" || rc=$?
	assert_eq "$rc" 9 "restore's exit status"
	grep -q '^tick 30$' "$T/out" || fail "the restored counter did not reach 30: $(last_tick "$T/out")"
	assert_empty_dir "$ROOT"
	cr_pipes_close
}

# --empty-ns network leaves the network namespace's contents out of the
# images, and restore gives the tree a new, empty one (loopback down even
# if it was up): runc always does so.  Without it skiff keeps them (crun's choice).  Either
# way the restored init is in a namespace of its own, not the host's.
cr_empty_ns() {
	local RT=$1 flag=${2:-}
	mk_bundle "$T/b" sh -c "$counter"
	cr_pipes
	"$RT" run -d --bundle "$T/b" c7 <&"$in_r" >&"$out_w" 2>&"$out_w" || fail "$RT run"
	ticks_past "$T/out" 2
	# Something of the namespace to keep or lose: its loopback, up since
	# create (skiff and runc bring it up in a namespace they make).
	expect_ok "$RT" exec c7 cat /sys/class/net/lo/flags
	assert_eq "$out" 0x9 "loopback before the checkpoint"
	# shellcheck disable=SC2086  # the flag is one word or none
	expect_ok "$RT" checkpoint $flag --image-path "$T/img" c7
	local n
	n=$(last_tick "$T/out")
	"$RT" restore -d --image-path "$T/img" --pid-file "$T/pid" --bundle "$T/b" c7 \
		<&"$in_r" >&"$out_w" 2>&"$out_w" || fail "$RT restore"
	ticks_past "$T/out" $((n + 2))
	[[ $(readlink "/proc/$(<"$T/pid")/ns/net") != "$(readlink /proc/self/ns/net)" ]] ||
		fail "the restored init is in the host's network namespace"
	expect_ok "$RT" exec c7 cat /sys/class/net/lo/flags
	if [[ -n $flag || $RT == rc ]]; then
		assert_eq "$out" 0x8 "loopback after a restore with the namespace emptied"
	else
		assert_eq "$out" 0x9 "loopback after a restore with the namespace dumped"
	fi
	expect_ok "$RT" delete -f c7
	cr_pipes_close
}

# timeout: 5x
test_checkpoint_empty_ns_network() {
	criu_usable
	cr_empty_ns sk "--empty-ns=network"
	[[ -e $T/img/skiff-empty-ns ]] || fail "no mark of the emptied namespace in the images"
}

# timeout: 5x
test_checkpoint_network_namespace_kept() {
	criu_usable
	require_full "the namespace dumped"
	cr_empty_ns sk
}

# timeout: 5x
test_checkpoint_empty_ns_network_runc() {
	criu_usable
	require_runc
	cr_empty_ns rc "--empty-ns=network"
}

# A network namespace given by path (runc's "external network namespace"
# test), with --empty-ns network: the restored init is back in that same
# namespace, its loopback as it was (CRIU neither dumps nor empties it).
cr_netns_path() {
	local RT=$1 ns=skiff-cr-$$
	ip netns add "$ns" || fail "ip netns add"
	ip netns exec "$ns" ip link set lo up
	local ino
	ino=$(stat -L -c %i "/run/netns/$ns")
	mk_bundle "$T/b" sh -c "$counter"
	cfg_edit "$T/b" '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' --arg p "/run/netns/$ns"
	cr_pipes
	"$RT" run -d --bundle "$T/b" c9 <&"$in_r" >&"$out_w" 2>&"$out_w" || fail "$RT run"
	ticks_past "$T/out" 2
	expect_ok "$RT" checkpoint --empty-ns network --image-path "$T/img" c9
	local n
	n=$(last_tick "$T/out")
	"$RT" restore -d --empty-ns network --image-path "$T/img" --pid-file "$T/pid" --bundle "$T/b" c9 \
		<&"$in_r" >&"$out_w" 2>&"$out_w" || fail "$RT restore"
	ticks_past "$T/out" $((n + 2))
	assert_eq "$(stat -L -c %i "/proc/$(<"$T/pid")/ns/net")" "$ino" "the restored init's network namespace"
	expect_ok "$RT" exec c9 cat /sys/class/net/lo/flags
	assert_eq "$out" 0x9 "the namespace's loopback, untouched"
	expect_ok "$RT" delete -f c9
	cr_pipes_close
	ip netns delete "$ns"
}

# timeout: 5x
test_checkpoint_netns_by_path() {
	criu_usable
	require_full "a namespace by path"
	command -v ip >/dev/null || skip "ip (iproute2) is not installed"
	cr_netns_path sk
}

# timeout: 5x
test_checkpoint_netns_by_path_runc() {
	criu_usable
	require_runc
	command -v ip >/dev/null || skip "ip (iproute2) is not installed"
	cr_netns_path rc
}

# restore runs prestart and createRuntime at CRIU's setup-namespaces, with
# the restored init's pid, as runc does; createContainer and startContainer
# (run inside the container create builds) are not run, as with runc.
cr_hooks() {
	local RT=$1
	mk_bundle "$T/b" sh -c "$counter"
	cr_pipes
	"$RT" run -d --bundle "$T/b" c6 <&"$in_r" >&"$out_w" 2>&"$out_w" || fail "$RT run"
	ticks_past "$T/out" 2
	expect_ok "$RT" checkpoint --image-path "$T/img" c6
	# shellcheck disable=SC2016  # jq's variables
	cfg_edit "$T/b" '.hooks = {
		prestart: [{path: "/bin/sh", args: ["sh", "-c", ("cat >" + $d + "/prestart")]}],
		createRuntime: [{path: "/bin/sh", args: ["sh", "-c", ("cat >" + $d + "/createRuntime")]}],
		createContainer: [{path: "/bin/sh", args: ["sh", "-c", "echo ran >/cc-ran"]}],
		startContainer: [{path: "/bin/sh", args: ["sh", "-c", "echo ran >/sc-ran"]}]}' --arg d "$T"
	local n
	n=$(last_tick "$T/out")
	"$RT" restore -d --image-path "$T/img" --pid-file "$T/pid" --bundle "$T/b" c6 \
		<&"$in_r" >&"$out_w" 2>&"$out_w" || fail "$RT restore"
	ticks_past "$T/out" $((n + 2))
	local k
	for k in prestart createRuntime; do
		[[ -s $T/$k ]] || fail "the $k hook did not run"
		assert_eq "$(jq -r .pid "$T/$k")" "$(<"$T/pid")" "the $k hook's pid"
		assert_eq "$(jq -r .id "$T/$k")" c6 "the $k hook's id"
	done
	[[ ! -e $T/b/rootfs/cc-ran && ! -e $T/b/rootfs/sc-ran ]] || fail "createContainer or startContainer ran"
	expect_ok "$RT" delete -f c6
	cr_pipes_close
}

# timeout: 5x
test_checkpoint_restore_hooks() {
	criu_usable
	cr_hooks sk
	# A failing createRuntime hook fails the restore and leaves nothing.
	cfg_edit "$T/b" '.hooks = {createRuntime: [{path: "/bin/sh", args: ["sh", "-c", "exit 3"]}]}'
	expect_fail 1 sk restore -d --image-path "$T/img" --bundle "$T/b" c6
	assert_contains "$err" 'createRuntime hook "/bin/sh": exited with status 3'
	assert_empty_dir "$ROOT"
}

# timeout: 5x
test_checkpoint_restore_hooks_runc() {
	criu_usable
	require_runc
	cr_hooks rc
}

# --lazy-pages (runc's test): the checkpoint's CRIU serves the memory on a
# page server, --status-fd says when it is ready, `criu lazy-pages` feeds
# the restore under a new name and cgroup, the counter goes on.  Where CRIU
# cannot (userfaultfd), skiff refuses in one line and the container runs on.
cr_lazy() {
	local RT=$1 port=$2
	mk_bundle "$T/b" sh -c "$counter"
	cp -a "$T/b" "$T/b2"
	cfg_edit "$T/b2" '.linux.cgroupsPath += "-restored"'
	cr_pipes
	"$RT" run -d --bundle "$T/b" c8 <&"$in_r" >&"$out_w" 2>&"$out_w" || fail "$RT run"
	ticks_past "$T/out" 2
	if ! criu check --feature uffd-noncoop >/dev/null 2>&1; then
		expect_fail 1 "$RT" checkpoint --lazy-pages --page-server "127.0.0.1:$port" --image-path "$T/img" c8
		[[ $RT == rc ]] ||
			assert_eq "$err" "skiff checkpoint: --lazy-pages: CRIU cannot restore memory lazily on this kernel (lazy_pages: userfaultfd with its non-cooperative events)"
		assert_eq "$(status_of_rt "$RT" c8)" running "after the refused --lazy-pages"
		expect_ok "$RT" delete -f c8
		cr_pipes_close
		return 0
	fi
	local p lazy_r lazy_w
	exec {p}<> <(:)
	exec {lazy_r}</proc/self/fd/$p {lazy_w}>/proc/self/fd/$p {p}>&-
	# No --manage-cgroups-mode=ignore (runc's test since 1.3): runc 1.1.5
	# refuses it.  The restore goes into its own cgroup all the same.
	"$RT" checkpoint --lazy-pages --page-server "127.0.0.1:$port" --status-fd "$lazy_w" \
		--work-path "$T/work" --image-path "$T/img" c8 &
	local cpt=$!
	exec {lazy_w}>&-
	local ready
	ready=$(timeout 120 dd if="/proc/self/fd/$lazy_r" bs=1 count=1 2>/dev/null | od -An -tx1)
	exec {lazy_r}<&-
	assert_eq "${ready// /}" 00 "--status-fd: the page server is ready"
	[[ -e $T/img/inventory.img ]] || fail "no images"
	criu lazy-pages --page-server --address 127.0.0.1 --port "$port" -D "$T/img" &
	local lp=$!
	local n
	n=$(last_tick "$T/out")
	"$RT" restore -d --lazy-pages --work-path "$T/img" --image-path "$T/img" \
		--bundle "$T/b2" c8r <&"$in_r" >&"$out_w" 2>&"$out_w" || fail "$RT restore --lazy-pages"
	wait "$cpt" || fail "$RT checkpoint --lazy-pages"
	wait "$lp" || fail "criu lazy-pages"
	ticks_past "$T/out" $((n + 3))
	state_gone "$RT" c8
	assert_eq "$(status_of_rt "$RT" c8r)" running "the restored container"
	local pid
	pid=$("$RT" state c8r | jq -r .pid)
	if [[ $RT == sk ]]; then
		grep -q -- "/b-restored\$" "/proc/$pid/cgroup" || fail "not in the new container's cgroup: $(<"/proc/$pid/cgroup")"
	fi
	expect_ok "$RT" delete -f c8r
	# runc 1.1.5 on cgroup v2 gives CRIU no cgroup root: the restored tree
	# went back into the checkpointed container's cgroup, which runc's
	# checkpoint could then not remove (its test passes ignore since 1.3).
	[[ $RT == sk ]] || rmdir "$(cg_dir b)" 2>/dev/null || true
	cr_pipes_close
}

# timeout: 5x
test_checkpoint_lazy_pages() {
	criu_usable
	require_full "lazy pages"
	cr_lazy sk 27277
}

# timeout: 5x
test_checkpoint_lazy_pages_runc() {
	criu_usable
	require_runc
	cr_lazy rc 27278
}

# Timing (docs/checkpoint.md): the same counter checkpointed and restored
# 3 times by skiff (namespace dumped), skiff --empty-ns network and runc
# (which always empties it); the figures (ms) go to build/checkpoint-timing.txt.
ms_now() { echo $(($(date +%s%N) / 1000000)); }
cr_time() {
	local label=$1 RT=$2 flag=${3:-} i t0 t1 t2 line=
	mk_bundle "$T/t-$label" sh -c "$counter"
	cr_pipes
	"$RT" run -d --bundle "$T/t-$label" ct <&"$in_r" >&"$out_w" 2>&"$out_w" || fail "$RT run"
	ticks_past "$T/out" 2
	for i in 1 2 3; do
		t0=$(ms_now)
		# shellcheck disable=SC2086
		expect_ok "$RT" checkpoint $flag --image-path "$T/ti-$label-$i" ct
		t1=$(ms_now)
		"$RT" restore -d --image-path "$T/ti-$label-$i" --bundle "$T/t-$label" ct \
			<&"$in_r" >&"$out_w" 2>&"$out_w" || fail "$RT restore"
		t2=$(ms_now)
		line+=" checkpoint $((t1 - t0)) restore $((t2 - t1));"
	done
	expect_ok "$RT" delete -f ct
	cr_pipes_close
	printf '%-24s%s\n' "$label" "$line" >>"$REPO/build/checkpoint-timing.txt"
}

# timeout: 10x
test_checkpoint_timing_vs_runc() {
	criu_usable
	require_runc
	mkdir -p "$REPO/build"
	printf '# %s, kernel %s, criu %s\n' "$(date -u +%FT%TZ)" "$(uname -r)" "$(criu --version | sed -n 's/^Version: //p')" \
		>>"$REPO/build/checkpoint-timing.txt"
	cr_time skiff sk
	cr_time "skiff --empty-ns network" sk --empty-ns=network
	cr_time runc rc
}

# ---- the callers' syntax and bad input (CRIU's binary only) ---------------

test_checkpoint_cli_syntax() {
	expect_ok sk checkpoint --help
	expect_ok sk checkpoint -h
	expect_ok sk restore -no-subreaper --help
	expect_fail 2 sk restore --lsm-mount-context
	assert_contains "$err" "flag needs an argument"
	expect_fail 1 sk checkpoint --manage-cgroups-mode=bogus x
	expect_fail 1 sk checkpoint --manage-cgroups-mode=ignore --empty-ns network --empty-ns net x
	assert_contains "$err" 'invalid --empty-ns "net"'
	expect_ok sk delete --force nosuch
}

test_checkpoint_refuses_created_and_stopped() {
	command -v criu >/dev/null || skip "criu is not installed"
	mk_bundle "$T/b" true
	expect_ok sk create --bundle "$T/b" cc
	expect_fail 1 sk checkpoint --image-path "$T/img" cc
	assert_eq "$err" 'skiff checkpoint: container "cc" cannot be checkpointed in created state'
	expect_ok sk start cc
	gone "$(jq -r .pid <<<"$(sk state cc)")" 2>/dev/null || true
	for _ in 1 2 3 4 5 6 7 8 9 10; do [[ $(status_of cc) == stopped ]] && break; sleep 0.1; done
	expect_fail 1 sk checkpoint --image-path "$T/img" cc
	assert_eq "$err" 'skiff checkpoint: container "cc" cannot be checkpointed in stopped state'
	[[ ! -e $T/img ]] || fail "an image directory was made"
	expect_ok sk delete cc
}

test_checkpoint_bad_input() {
	command -v criu >/dev/null || skip "criu is not installed"
	mk_bundle "$T/b" sleep 100
	expect_ok sk run -d --bundle "$T/b" bi </dev/null >/dev/null 2>&1
	expect_fail 1 sk checkpoint --parent-path /abs --image-path "$T/img" bi
	assert_contains "$err" "--parent-path"
	expect_fail 1 sk checkpoint --parent-path ../nosuch --image-path "$T/img" bi
	assert_contains "$err" '--parent-path "../nosuch"'
	expect_fail 1 sk --criu "$T/nosuch-criu" checkpoint --image-path "$T/img" bi
	assert_contains "$err" "--criu \"$T/nosuch-criu\""
	assert_eq "$(status_of bi)" running "after the refusals"
	expect_ok sk delete -f bi
	# restore: no images, corrupt images, an id that exists.
	expect_fail 1 sk restore -d --image-path "$T/nosuch" --bundle "$T/b" r1
	assert_contains "$err" "--image-path"
	assert_empty_dir "$ROOT"
	mkdir -p "$T/bad"
	echo garbage >"$T/bad/inventory.img"
	echo '["/dev/null","/dev/null","/dev/null"]' >"$T/bad/descriptors.json"
	expect_fail 1 sk restore -d --image-path "$T/bad" --work-path "$T/w" --bundle "$T/b" r1
	assert_match "$err" "^skiff restore: criu restore failed.*; log: $T/w/restore.log\$"
	assert_empty_dir "$ROOT"
	echo '{' >"$T/bad/descriptors.json"
	expect_fail 1 sk restore -d --image-path "$T/bad" --bundle "$T/b" r1
	assert_contains "$err" "descriptors.json"
	assert_empty_dir "$ROOT"
	echo '["/dev/null","/dev/null","/dev/null"]' >"$T/bad/descriptors.json"
	expect_ok sk run -d --bundle "$T/b" r1 </dev/null >/dev/null 2>&1
	expect_fail 1 sk restore -d --image-path "$T/bad" --bundle "$T/b" r1
	assert_eq "$err" 'skiff restore: container "r1" already exists'
	expect_ok sk delete -f r1
}

# A dump CRIU refuses (stdout on a host file; or, on a kernel this CRIU
# cannot handle, any dump): one line pointing at dump.log, and the
# container runs on.
test_checkpoint_criu_failure_points_at_the_log() {
	command -v criu >/dev/null || skip "criu is not installed"
	[[ -e /dev/fd ]] || ln -s /proc/self/fd /dev/fd
	mk_bundle "$T/b" sleep 100
	expect_ok sk run -d --bundle "$T/b" cf </dev/null >"$T/file.out" 2>&1
	expect_fail 1 sk checkpoint --image-path "$T/img" --work-path "$T/w" cf
	assert_match "$err" "^skiff checkpoint: criu dump failed.*; log: $T/w/dump.log\$"
	[[ -s $T/w/dump.log ]] || fail "no dump.log"
	assert_eq "$(status_of cf)" running "after the failed dump"
	expect_ok sk delete -f cf
}
