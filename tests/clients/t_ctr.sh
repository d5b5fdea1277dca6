# shellcheck shell=bash disable=SC2154
# containerd 1.6, started here with its own root, state and sockets and the
# CRI plugin off, driven by ctr: `ctr run --runc-binary $CL/skiff --runc-root
# DIR`, which containerd's runc shim (io.containerd.runc.v2) runs.
# (run() in lib.sh sets $out, $err and $status.)

lean_tests=(test_ctr_run_rm_exit_codes test_ctr_memory_limit test_ctr_checkpoint_restore)

missing_ctr() {
	local b
	for b in containerd ctr containerd-shim-runc-v2; do
		command -v "$b" >/dev/null || { echo "$b is not installed (Debian package containerd; make deps-clients)"; return; }
	done
}

# ctr run's defaults: cpu shares 1024 (cgroup v2's default weight, still a
# cpu setting).  Where skiff applies no limits, leave shares out (0).
ct_run() {
	local cpu=()
	[[ $LIMITS == 1 ]] || cpu=(--cpu-shares 0)
	ct run --runc-binary "$CL/skiff" --runc-root "$CL/runc" "${cpu[@]}" "$@"
}

setup_ctr() {
	cl_containerd "$CL" 'disabled_plugins = ["io.containerd.grpc.v1.cri"]' || return 1
	ct images import "$IMAGES/busybox.tar"
}

teardown_ctr() {
	local c
	for c in $(ct tasks ls -q 2>/dev/null); do
		ct tasks kill -s KILL "$c"
	done
	for c in $(ct containers ls -q 2>/dev/null); do
		ct tasks rm -f "$c"
		ct containers rm "$c"
	done
	cl_stop_daemon "$CL/containerd.pid" containerd
	unmount_under "$CL"
}

ct_status() {
	ct tasks ls | awk -v id="$1" '$1 == id { print $3 }'
}

test_ctr_run_rm_exit_codes() {
	expect_ok ct_run --rm "$IMG" r1 echo hello
	assert_eq "$out" hello
	expect_status 3 ct_run --rm "$IMG" r2 sh -c 'exit 3'
	expect_ok ct containers ls -q
	assert_eq "$out" "" "containers left by --rm"
}

test_ctr_detached_exec_kill_rm() {
	expect_ok ct_run -d "$IMG" d1 sleep 1000
	expect_ok ct tasks exec --exec-id e1 d1 sh -c 'echo in-container'
	assert_eq "$out" in-container
	expect_status 7 ct tasks exec --exec-id e2 d1 sh -c 'exit 7'
	run ct tasks exec --exec-id e3 d1 nosuchcommand
	((status != 0)) || fail "exec of a missing command succeeded"
	assert_contains "$err" 'executable file not found in $PATH'
	# ctr -t wants a terminal of its own.
	expect_ok in_tty ctr --address "$CL/containerd.sock" tasks exec -t --exec-id e4 d1 tty
	assert_match "$out" '/dev/pts/[0-9]+'
	expect_ok ct tasks ps d1
	expect_ok ct tasks pause d1
	assert_eq "$(ct_status d1)" PAUSED
	expect_ok ct tasks resume d1
	assert_eq "$(ct_status d1)" RUNNING
	expect_ok ct tasks kill -s KILL d1
	wait_until 20 "d1 to stop" test "$(ct_status d1)" = STOPPED
	# The shim's `kill --all ID 9` on a stopped container: containerd
	# matches "container not running" (issue 12).
	expect_ok ct tasks rm -f d1
	expect_ok ct containers rm d1
	# A task that exited by itself, removed with -f as well.
	expect_ok ct_run -d "$IMG" d2 sh -c 'exit 4'
	wait_until 20 "d2 to exit" test "$(ct_status d2)" = STOPPED
	expect_ok ct tasks rm -f d2
	expect_ok ct containers rm d2
}

test_ctr_terminal_and_stdin() {
	local cpu=()
	[[ $LIMITS == 1 ]] || cpu=(--cpu-shares 0)
	expect_ok in_tty ctr --address "$CL/containerd.sock" run --runc-binary "$CL/skiff" --runc-root "$CL/runc" "${cpu[@]}" \
		--rm -t "$IMG" t1 tty
	assert_match "$out" '/dev/pts/[0-9]+'
	# ctr does not pass on the end of its stdin: read one line.
	run ct_run --rm "$IMG" t2 sh -c 'read -r l; echo "got $l"' <<<"through stdin"
	((status == 0)) || fail "run with stdin: $err"
	assert_eq "$out" "got through stdin"
}

test_ctr_read_only_caps_no_pivot() {
	expect_ok ct_run --rm --read-only "$IMG" ro sh -c 'touch /x 2>&1; echo rc=$?'
	assert_contains "$out" "Read-only file system"
	expect_ok ct_run --rm --cap-drop CAP_KILL "$IMG" cd sh -c 'grep ^CapEff /proc/self/status'
	assert_eq "$out" $'CapEff:\t00000000a80425db' "containerd's default set without CAP_KILL"
	# --no-pivot leaves the default binary ("runc": skiff, see cl_containerd)
	# and root (containerd's /run/containerd/runc).
	expect_ok ct_run --rm --no-pivot "$IMG" "skiff-np-$$" sh -c 'echo no-pivot'
	assert_eq "$out" no-pivot
	grep -q -- "--no-pivot skiff-np-$$" "$CL/calls.log" || fail "the shim did not pass --no-pivot to skiff"
}

test_ctr_memory_limit() {
	need_limits
	expect_ok ct_run -d --memory-limit 67108864 "$IMG" m1 sleep 1000
	# ctr's containers have no cgroup namespace: read from outside.
	local pid
	pid=$(ct tasks ls | awk '$1 == "m1" { print $2 }')
	assert_eq "$(cg_limit "$pid" memory)" 67108864 "memory limit of m1"
	expect_ok ct tasks kill -s KILL m1
	wait_until 20 "m1 to stop" test "$(ct_status m1)" = STOPPED
	expect_ok ct tasks rm -f m1
	expect_ok ct containers rm m1
}

# checkpoint and restore (docs/checkpoint.md): containerd pauses the task
# around every checkpoint, and a paused task stays paused.
ct_counter='i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.2; done'
ct_count() { ct tasks exec --exec-id "c$RANDOM" "$1" cat /tmp/count; }
ct_count_past() { local n; n=$(ct_count "$1") && ((n > $2)); }

test_ctr_checkpoint_restore() {
	need_criu
	expect_ok ct_run -d --null-io "$IMG" k1 sh -c "$ct_counter"
	wait_until 60 "k1 counting" ct_count_past k1 2
	expect_ok ct tasks checkpoint --image-path "$T/img" --work-path "$T/work" k1
	assert_eq "$(ct_status k1)" RUNNING "after ctr t checkpoint"
	[[ -e $T/img/inventory.img ]] || fail "no images in $T/img"
	expect_ok ct tasks pause k1
	expect_ok ct tasks checkpoint --image-path "$T/img2" --work-path "$T/work2" k1
	assert_eq "$(ct_status k1)" PAUSED "a paused task after ctr t checkpoint"
	expect_ok ct tasks resume k1
	expect_ok ct containers checkpoint --task --rw k1 checkpoint/k1:1
	local n
	n=$(ct_count k1)
	expect_ok ct tasks kill -s KILL k1
	wait_until 20 "k1 to stop" test "$(ct_status k1)" = STOPPED
	expect_ok ct tasks rm -f k1
	expect_ok ct containers rm k1
	expect_ok ct containers restore --live --rw k1 checkpoint/k1:1
	wait_until 60 "k1 restored" test "$(ct_status k1)" = RUNNING
	wait_until 60 "k1 counting on" ct_count_past k1 "$n"
	expect_ok ct tasks kill -s KILL k1
	wait_until 20 "k1 to stop" test "$(ct_status k1)" = STOPPED
	expect_ok ct tasks rm -f k1
	expect_ok ct containers rm k1
	expect_ok ct images rm checkpoint/k1:1
}

test_ctr_runtime_calls() {
	check_calls ctr
}
