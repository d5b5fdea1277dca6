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
