# shellcheck shell=bash disable=SC2154
# containerd 1.6, started here with its own root, state and sockets and the
# CRI plugin off, driven by ctr: `ctr run --runc-binary $CL/skiff --runc-root
# DIR`, which containerd's runc shim (io.containerd.runc.v2) runs.
# (run() in lib.sh sets $out, $err and $status.)

lean_tests=(test_ctr_run_rm_exit_codes test_ctr_skiff_shim_run_rm_exit_codes test_ctr_memory_limit test_ctr_checkpoint_restore)

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
	ct images import "$IMAGES/busybox.tar" && rc_config
}

teardown_ctr() {
	cl_containerd_teardown
}

# The same through containerd-shim-skiff-v2 (skiff behind it by default).
sk_run() {
	local cpu=()
	[[ $LIMITS == 1 ]] || cpu=(--cpu-shares 0)
	ct run --runtime io.containerd.skiff.v2 "${cpu[@]}" "$@"
}

# runc behind containerd-shim-skiff-v2.  ctr sends runc's options
# (--runc-binary) to io.containerd.runc.v2 only; to another runtime it sends
# runtimeoptions.v1 with --runtime-config-path, whose file names the binary
# (docs/shim.md): here runc through a wrapper that logs its calls.
rc_config() {
	local runc
	runc=$(command -v runc) || return 0
	cat >"$CL/runc-logged" <<WRAP
#!/bin/bash
printf -v line '%q ' "\$@"
printf '%s\n' "\$line" >>'$CL/runc-calls.log'
exec '$runc' "\$@"
WRAP
	chmod 755 "$CL/runc-logged"
	printf '# runc behind the shim\nBinaryName = "%s"\nRoot = "%s"\n' "$CL/runc-logged" "$CL/runc-behind" >"$CL/runc-behind.toml"
}
rc_opts=(--runtime io.containerd.skiff.v2 --runtime-config-path)
rc_run() {
	local cpu=()
	[[ $LIMITS == 1 ]] || cpu=(--cpu-shares 0)
	[[ -x $CL/runc-logged ]] || skip "runc is not installed (Debian package runc)"
	ct run "${rc_opts[@]}" "$CL/runc-behind.toml" "${cpu[@]}" "$@"
}
# runc, not skiff, ran VERB for container ID.
ran_runc() {
	grep -qE -- "(^| )$1 .*$2 \$" "$CL/runc-calls.log" || fail "runc behind the shim did not $1 $2"
}

# Each scenario runs through both shims: RUN is ct_run (runc's shim with
# skiff) or sk_run (containerd-shim-skiff-v2 with skiff).
run_rm_exit_codes() {
	local RUN=$1
	expect_ok "$RUN" --rm "$IMG" r1 echo hello
	assert_eq "$out" hello
	expect_status 3 "$RUN" --rm "$IMG" r2 sh -c 'exit 3'
	expect_ok ct containers ls -q
	assert_eq "$out" "" "containers left by --rm"
}
test_ctr_run_rm_exit_codes() { run_rm_exit_codes ct_run; }
test_ctr_skiff_shim_run_rm_exit_codes() { run_rm_exit_codes sk_run; }
test_ctr_runc_behind_skiff_shim_run_rm_exit_codes() {
	run_rm_exit_codes rc_run
	ran_runc create r1
}

detached_exec_kill_rm() {
	local RUN=$1
	expect_ok "$RUN" -d "$IMG" d1 sleep 1000
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
	# Stats: containerd's cgroup metrics of the task (v1: cpuacct.usage,
	# v2: cpu.usage_usec; the others depend on the controllers enabled).
	expect_ok ct tasks metrics d1
	assert_match "$out" 'cpu(acct)?\.usage'
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
	expect_ok "$RUN" -d "$IMG" d2 sh -c 'exit 4'
	wait_until 20 "d2 to exit" test "$(ct_status d2)" = STOPPED
	expect_ok ct tasks rm -f d2
	expect_ok ct containers rm d2
}
test_ctr_detached_exec_kill_rm() { detached_exec_kill_rm ct_run; }
test_ctr_skiff_shim_detached_exec_kill_rm() { detached_exec_kill_rm sk_run; }
test_ctr_runc_behind_skiff_shim_detached_exec_kill_rm() {
	detached_exec_kill_rm rc_run
	ran_runc exec d1
}

terminal_and_stdin() {
	local RUN=$1 cpu=() rt=(--runc-binary "$CL/skiff" --runc-root "$CL/runc")
	[[ $LIMITS == 1 ]] || cpu=(--cpu-shares 0)
	[[ $RUN == sk_run ]] && rt=(--runtime io.containerd.skiff.v2)
	[[ $RUN == rc_run ]] && rt=("${rc_opts[@]}" "$CL/runc-behind.toml")
	expect_ok in_tty ctr --address "$CL/containerd.sock" run "${rt[@]}" "${cpu[@]}" \
		--rm -t "$IMG" t1 tty
	assert_match "$out" '/dev/pts/[0-9]+'
	# ctr does not pass on the end of its stdin: read one line.
	run "$RUN" --rm "$IMG" t2 sh -c 'read -r l; echo "got $l"' <<<"through stdin"
	((status == 0)) || fail "run with stdin: $err"
	assert_eq "$out" "got through stdin"
}
test_ctr_terminal_and_stdin() { terminal_and_stdin ct_run; }
test_ctr_skiff_shim_terminal_and_stdin() { terminal_and_stdin sk_run; }
test_ctr_runc_behind_skiff_shim_terminal_and_stdin() {
	[[ -x $CL/runc-logged ]] || skip "runc is not installed (Debian package runc)"
	terminal_and_stdin rc_run
	ran_runc create t1
	ran_runc create t2
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

# containerd restarted while its tasks run: it finds their shims again,
# and a task that exited meanwhile reports its real exit status.
containerd_restart() {
	local RUN=$1
	expect_ok "$RUN" -d "$IMG" k1 sh -c 'sleep 4; exit 5'
	expect_ok "$RUN" -d "$IMG" k2 sleep 1000
	cl_stop_daemon "$CL/containerd.pid" containerd
	sleep 5
	cl_containerd "$CL" 'disabled_plugins = ["io.containerd.grpc.v1.cri"]' >/dev/null
	wait_until 20 "k1 to stop" test "$(ct_status k1)" = STOPPED
	assert_eq "$(ct_status k2)" RUNNING "k2 after the restart"
	run ct tasks rm k1
	assert_contains "$err" "exit code 5"
	expect_ok ct containers rm k1
	expect_ok ct tasks exec --exec-id r1 k2 sh -c 'echo alive'
	assert_eq "$out" alive
	expect_ok ct tasks kill -s KILL k2
	wait_until 20 "k2 to stop" test "$(ct_status k2)" = STOPPED
	expect_ok ct tasks rm k2
	expect_ok ct containers rm k2
}
test_ctr_containerd_restart() { containerd_restart ct_run; }
test_ctr_skiff_shim_containerd_restart() { containerd_restart sk_run; }
test_ctr_runc_behind_skiff_shim_containerd_restart() {
	containerd_restart rc_run
	ran_runc create k2
}

# A shim killed while its container runs: containerd runs the shim's
# `delete`, which leaves no container, process or mount behind.
test_ctr_skiff_shim_killed() {
	expect_ok sk_run -d "$IMG" x1 sleep 1000
	local shim pid sock
	pid=$(ct tasks ls | awk '$1 == "x1" { print $2 }')
	shim=$(pgrep -f "containerd-shim-skiff-v2 .*-id x1 .*-address $CL/containerd.sock")
	[[ -n $shim && -n $pid ]] || fail "no shim or task for x1"
	sock=$(<"$CL/state/io.containerd.runtime.v2.task/default/x1/address")
	kill -9 "$shim"
	wait_until 20 "x1 to stop" test "$(ct_status x1)" != RUNNING
	run ct tasks rm -f x1
	expect_ok ct containers rm x1
	wait_until 10 "the container's process to end" bash -c "! kill -0 $pid 2>/dev/null"
	run "$SKIFF" --root /run/containerd/skiff/default state x1
	((status != 0)) || fail "skiff still has x1"
	! grep -q "/default/x1/rootfs" /proc/self/mountinfo || fail "x1's rootfs is still mounted"
	[[ ! -S ${sock#unix://} ]] || fail "the dead shim's socket is left: $sock"
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
# ctr's checkpoint images of ID (`ctr tasks checkpoint` keeps them as
# containerd.io/checkpoint/ID:DATE when it sends no image path), counted,
# and removed with their content: containerd 1.6 refuses to store the
# container's spec again while an earlier checkpoint holds it ("content
# sha256:...: already exists"), whatever the runtime.
ct_checkpoints() { ct images ls -q | grep -c "^containerd.io/checkpoint/$1:"; }
ct_drop_checkpoints() {
	local i
	for i in $(ct images ls -q | grep "^containerd.io/checkpoint/$1:"); do
		expect_ok ct images rm --sync "$i"
	done
}

checkpoint_restore() {
	local RUN=$1
	need_criu
	expect_ok "$RUN" -d --null-io "$IMG" k1 sh -c "$ct_counter"
	wait_until 60 "k1 counting" ct_count_past k1 2
	expect_ok ct tasks checkpoint --image-path "$T/img" --work-path "$T/work" k1
	assert_eq "$(ct_status k1)" RUNNING "after ctr t checkpoint"
	if [[ $RUN == ct_run ]]; then
		[[ -e $T/img/inventory.img ]] || fail "no images in $T/img"
	else
		# ctr 1.6 passes --image-path and --work-path to runtimes named
		# io.containerd.runc.* only: for ours containerd checkpoints into
		# a directory of its own and keeps the images in its store.
		[[ ! -e $T/img ]] || fail "ctr gave io.containerd.skiff.v2 its --image-path"
		assert_eq "$(ct_checkpoints k1)" 1 "checkpoint images of k1"
		ct_drop_checkpoints k1
	fi
	expect_ok ct tasks pause k1
	expect_ok ct tasks checkpoint --image-path "$T/img2" --work-path "$T/work2" k1
	assert_eq "$(ct_status k1)" PAUSED "a paused task after ctr t checkpoint"
	if [[ $RUN != ct_run ]]; then
		assert_eq "$(ct_checkpoints k1)" 1 "checkpoint images of the paused k1"
		ct_drop_checkpoints k1
	fi
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
test_ctr_checkpoint_restore() { checkpoint_restore ct_run; }
test_ctr_skiff_shim_checkpoint_restore() { checkpoint_restore sk_run; }
test_ctr_runc_behind_skiff_shim_checkpoint_restore() {
	checkpoint_restore rc_run
	ran_runc checkpoint k1
	ran_runc restore k1
}

# A checkpoint that fails leaves the task running, and says why: a CRIU
# that does not exist (the runtime's --criu, from CriuPath in the settings
# file); where CRIU cannot dump (this host's kernel), its log kept as the
# runc shim keeps it, in <bundle>/criu-dump.log.
test_ctr_skiff_shim_checkpoint_fails() {
	printf 'CriuPath = "/nonexistent/criu"\n' >"$CL/bad-criu.toml"
	expect_ok ct run --runtime io.containerd.skiff.v2 --runtime-config-path "$CL/bad-criu.toml" --cpu-shares 0 \
		-d "$IMG" f1 sleep 1000
	run ct containers checkpoint --task f1 checkpoint/f1:1
	((status != 0)) || fail "a checkpoint with a missing CRIU succeeded"
	assert_contains "$err" "/nonexistent/criu"
	assert_eq "$(ct_status f1)" RUNNING "f1 after the failed checkpoint"
	run ct images ls -q
	[[ $out != *checkpoint/f1:1* ]] || fail "an image was left by the failed checkpoint"
	local why
	why=$("$REPO/tests/criu-gate" "$BASE/criu-gate")
	if [[ -n $why ]]; then
		expect_ok sk_run -d "$IMG" f2 sleep 1000
		run ct containers checkpoint --task f2 checkpoint/f2:1
		((status != 0)) || fail "a checkpoint succeeded where CRIU cannot run: $why"
		local log=$CL/state/io.containerd.runtime.v2.task/default/f2/criu-dump.log
		assert_contains "$err" "path= $log"
		[[ -s $log ]] || fail "no CRIU log in $log"
		assert_contains "$(<"$log")" "Error" "$log"
		assert_eq "$(ct_status f2)" RUNNING "f2 after the failed checkpoint"
		expect_ok ct tasks exec --exec-id e1 f2 true
	fi
	for c in f1 ${why:+f2}; do
		expect_ok ct tasks kill -s KILL "$c"
		wait_until 20 "$c to stop" test "$(ct_status "$c")" = STOPPED
		expect_ok ct tasks rm -f "$c"
		expect_ok ct containers rm "$c"
	done
}

test_ctr_runtime_calls() {
	check_calls ctr
}

# make bench's figures (SKIFF_CTRD_BENCH_PODS=N, else skipped): N
# single-container "pods" (ctr run -d, one shim each) through each shim, the
# shims' total and per-pod RSS and PSS (smaps_rollup), printed as a table.
shims_rss_pss() { # BINARY -> "count rss_kb pss_kb" over this containerd's shims
	local pid argv n=0 rss=0 pss=0 r p
	for pid in $(pgrep -f "^[^ ]*$1 .*-address $CL/containerd.sock"); do
		r=$(awk '/^Rss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null) || continue
		p=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null) || continue
		n=$((n + 1)) rss=$((rss + r)) pss=$((pss + p))
	done
	echo "$n $rss $pss"
}

test_ctr_shim_memory() {
	local pods=${SKIFF_CTRD_BENCH_PODS:-} RUN bin i n rss pss
	[[ -n $pods ]] || skip "a benchmark: make bench (SKIFF_CTRD_BENCH_PODS=N)"
	printf '%-26s %5s %12s %12s %10s %10s\n' shim pods "RSS total" "PSS total" "RSS/pod" "PSS/pod"
	for RUN in ct_run sk_run; do
		bin=containerd-shim-runc-v2
		[[ $RUN == sk_run ]] && bin=containerd-shim-skiff-v2
		for ((i = 0; i < pods; i++)); do
			"$RUN" -d "$IMG" "bench-$i" sleep 1000 >/dev/null || fail "pod $i did not start"
		done
		read -r n rss pss < <(shims_rss_pss "$bin")
		((n == pods)) || fail "$n shims for $pods pods"
		printf '%-26s %5d %9d kB %9d kB %7d kB %7d kB\n' "$bin" "$pods" "$rss" "$pss" $((rss / pods)) $((pss / pods))
		for ((i = 0; i < pods; i++)); do
			ct tasks kill -s KILL "bench-$i" >/dev/null
		done
		for ((i = 0; i < pods; i++)); do
			wait_until 20 "bench-$i to stop" test "$(ct_status "bench-$i")" = STOPPED
			ct tasks rm "bench-$i" >/dev/null 2>&1 || true
			ct containers rm "bench-$i" >/dev/null
		done
	done
}
