# shellcheck shell=bash disable=SC2154
# podman 4.3 (with Debian's conmon) running skiff: `--runtime` pointed at the
# logging wrapper, cgroupfs, events in a file, private root, runroot and
# tmpdir, a private containers.conf, and never a network.
# (run() in lib.sh sets $out, $err and $status.)

lean_tests=(test_podman_run_rm_exit_codes test_podman_memory_and_update test_podman_pids_limit
	test_podman_stats)

missing_podman() {
	local b
	for b in podman conmon; do
		command -v "$b" >/dev/null || { echo "$b is not installed (Debian package $b; make deps-clients)"; return; }
	done
	[[ -x /usr/libexec/podman/catatonit ]] || echo "catatonit is not installed (Debian package catatonit; make deps-clients)"
}

# No --runtime-flag root=...: podman's exit command (`podman container
# cleanup`, which deletes the container) does not pass it on, so skiff's
# state is in its default root, as runc's is for podman.
pm_argv=(podman --root "$CL/root" --runroot "$CL/runroot" --tmpdir "$CL/tmp" --runtime "$CL/skiff"
	--cgroup-manager cgroupfs --events-backend file --storage-driver overlay)
pm() { "${pm_argv[@]}" "$@"; }

setup_podman() {
	mkdir -p "$CL/root" "$CL/runroot" "$CL/tmp"
	# Without CAP_SYS_RESOURCE (this host's bounding set lacks it), no
	# runtime can raise rlimits over the caller's: podman's defaults
	# (1048576) would fail under runc too.
	local ulimits=
	if ! has_cap_sys_resource; then
		local nproc
		nproc=$(ulimit -Hu)
		[[ $nproc == unlimited ]] || ((nproc > 32768)) && nproc=32768
		ulimits="default_ulimits = [\"nofile=$(ulimit -Hn):$(ulimit -Hn)\", \"nproc=$nproc:$nproc\"]"
	fi
	# With no cgroup limits here, podman's default pids limit (2048)
	# would stop every container: then 0 (podman sends nothing).
	local pids=
	[[ $LIMITS == 1 ]] || pids="pids_limit = 0"
	cat >"$CL/containers.conf" <<EOF
[containers]
netns = "none"
$pids
$ulimits
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$CL/events.log"
EOF
	export CONTAINERS_CONF=$CL/containers.conf
	# Only the registries the tests name: none.
	printf 'unqualified-search-registries = []\n' >"$CL/registries.conf"
	export CONTAINERS_REGISTRIES_CONF=$CL/registries.conf
	pm load -i "$IMAGES/busybox.tar"
}

teardown_podman() {
	pm rm -af -t 0
	pm rmi -af
	# containers/storage keeps its overlay directory bind-mounted.
	unmount_under "$CL"
}

pm_logs_have() { pm logs "$1" 2>/dev/null | grep -q "$2"; }

# A detached container NAME running sleep, ready for exec.
pm_sleeper() {
	expect_ok pm run -d --name "$1" --network none "${@:2}" "$IMG" sleep 1000
}

test_podman_run_rm_exit_codes() {
	expect_ok pm run --rm --network none "$IMG" echo hello
	assert_eq "$out" hello
	expect_status 3 pm run --rm --network none "$IMG" sh -c 'exit 3'
	expect_status 127 pm run --rm --network none "$IMG" /nonexistent
	expect_ok pm ps -aq
	assert_eq "$out" "" "containers left by --rm"
}

test_podman_detached_exec() {
	pm_sleeper d
	expect_ok pm exec d sh -c 'echo in-container; cat /proc/1/cmdline | tr "\0" " "'
	assert_eq "$out" $'in-container\nsleep 1000 '
	expect_status 7 pm exec d sh -c 'exit 7'
	expect_status 127 pm exec d nosuchcommand
	# -t: a terminal for the process, whatever podman's own stdin is.
	expect_ok pm exec -t d tty
	assert_match "$out" '^/dev/pts/[0-9]+'
	expect_ok pm top d
	assert_contains "$out" "sleep 1000"
	expect_ok pm pause d
	expect_ok pm inspect -f '{{.State.Status}}' d
	assert_eq "$out" paused
	expect_ok pm unpause d
	expect_ok pm exec d true
	expect_ok pm stop -t 1 d
	expect_ok pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' d
	assert_eq "$out" "exited 137" "sleep ignores TERM as pid 1: stop had to KILL it"
	expect_ok pm rm d
}

test_podman_terminal_and_stdin() {
	# The process outlives its output a little: podman 4.3's attach can
	# miss the output of a -t process that exits at once (runc or skiff).
	expect_ok pm run --rm -t --network none "$IMG" sh -c 'tty; sleep 1'
	assert_match "$out" '^/dev/pts/[0-9]+'
	run pm run --rm -i --network none "$IMG" cat <<<"through stdin"
	((status == 0)) || fail "run -i: $err"
	assert_eq "$out" "through stdin"
	# -it wants a terminal on podman's side too: script(1) gives it one.
	expect_ok script -qec "$(printf '%q ' "${pm_argv[@]}") run --rm -it --network none $IMG sh -c 'tty; echo done'" /dev/null
	assert_match "$out" '/dev/pts/[0-9]+'
	assert_contains "$out" done
}

test_podman_read_only_user_caps_init() {
	expect_ok pm run --rm --network none --read-only "$IMG" sh -c 'touch /x 2>&1; echo rc=$?'
	assert_contains "$out" "Read-only file system"
	expect_ok pm run --rm --network none --user 1000:1000 "$IMG" id
	assert_contains "$out" "uid=1000(user) gid=1000(user)"
	expect_ok pm run --rm --network none --cap-drop all "$IMG" sh -c 'grep ^CapEff /proc/self/status'
	assert_eq "$out" $'CapEff:\t0000000000000000'
	expect_ok pm run --rm --network none --init "$IMG" sh -c 'cat /proc/1/cmdline | tr "\0" " "'
	assert_contains "$out" "/run/podman-init -- sh -c" "podman's init (catatonit) as pid 1"
}

test_podman_no_pivot() {
	sed 's/^\[engine\]$/[engine]\nno_pivot_root = true/' "$CONTAINERS_CONF" >"$T/containers.conf"
	CONTAINERS_CONF=$T/containers.conf expect_ok pm run --rm --network none "$IMG" sh -c 'echo no-pivot; ls /'
	assert_contains "$out" no-pivot
	grep -q -- '--no-pivot' "$CL/calls.log" || fail "podman did not pass --no-pivot: $(tail -n 3 "$CL/calls.log")"
}

# The limit of container NAME's cgroup, read from the host side.
pm_limit() {
	expect_ok pm inspect -f '{{.State.Pid}}' "$1"
	cg_limit "$out" "$2"
}

test_podman_memory_and_update() {
	need_limits
	pm_sleeper m --memory 64m
	assert_eq "$(pm_limit m memory)" 67108864 "memory limit"
	expect_ok pm update --memory 96m m
	assert_eq "$(pm_limit m memory)" 100663296 "memory limit after update"
	expect_ok pm rm -f -t 0 m
}

test_podman_pids_limit() {
	need_limits
	pm_sleeper p --pids-limit 5
	assert_eq "$(pm_limit p pids)" 5 "pids limit"
	expect_ok pm rm -f -t 0 p
	# podman 4.3 sends a limit of 0 for -1: "no limit", as runc 1.1 reads it.
	pm_sleeper u --pids-limit -1
	assert_eq "$(pm_limit u pids)" max "pids limit of --pids-limit -1"
	expect_ok pm exec u sh -c 'sleep 0 & wait; echo forked'
	assert_eq "$out" forked
	expect_ok pm rm -f -t 0 u
}

test_podman_stats() {
	need_limits
	pm_sleeper s --memory 64m
	expect_ok pm stats --no-stream --format '{{.Name}} {{.MemUsage}}' s
	assert_match "$out" '^s [0-9.]+[kMG]?B / 67.11MB'
	expect_ok pm rm -f -t 0 s
}

test_podman_logs_attach_wait_restart() {
	expect_ok pm run -d --name l --network none "$IMG" sh -c 'echo first; sleep 8; echo second; exit 5'
	wait_until 30 "the first line in podman logs" pm_logs_have l first
	# attach follows the output until the process exits (8 s leave room
	# for a slow machine to get here first).
	run pm attach --no-stdin l
	assert_contains "$out" second "podman attach's output"
	expect_ok pm wait l
	assert_eq "$out" 5 "podman wait's exit code"
	expect_ok pm logs l
	assert_eq "$out" $'first\nsecond'
	expect_ok pm restart -t 1 l
	expect_ok pm wait l
	assert_eq "$out" 5 "podman wait's exit code after restart"
	expect_ok pm logs l
	assert_eq "$out" $'first\nsecond\nfirst\nsecond'
	expect_ok pm rm l
}

# checkpoint and restore (docs/checkpoint.md), under conmon or, with
# PM_SHIM=1, under skiff-shim, with skiff or (PM_RUNC=1) runc as the
# runtime: the counter goes on from where it was.  Each step is timed into
# build/checkpoint-podman-steps.txt, for the figures of docs/checkpoint.md.
pm_step() {
	local t0=$SECONDS
	expect_ok "$@"
	# pm_ (pm_cr's) prefixes the command: the words after it name the step.
	local mon=conmon
	[[ -n ${PM_SHIM:-} ]] && mon=skiff-shim
	printf '%s %s: %s s\n' "$mon${PM_RUNC:+ runc}" "${*:${#pm_[@]}+1:3}" \
		"$((SECONDS - t0))" |
		tee -a "$REPO/build/checkpoint-podman-steps.txt"
}
pm_cr() {
	local pm_=(pm) cr=cr cr2=cr2
	[[ -n ${PM_SHIM:-} ]] && pm_+=(--conmon "$REPO/shim/skiff-shim") cr=crs cr2=crs2
	[[ -n ${PM_RUNC:-} ]] && pm_+=(--runtime "$(command -v runc)") cr=${cr}r cr2=${cr2}r
	pm_step "${pm_[@]}" run -d --name "$cr" --network none "$IMG" sh -c "$cr_counter"
	wait_until 60 "tick 3" pm_logs_have "$cr" "tick 3"
	pm_step "${pm_[@]}" container checkpoint "$cr"
	expect_ok "${pm_[@]}" inspect -f '{{.State.Status}}' "$cr"
	assert_eq "$out" exited "after checkpoint"
	local n
	n=$(last_tick "$(pm logs "$cr" 2>/dev/null)")
	pm_step "${pm_[@]}" container restore "$cr"
	wait_until 60 "tick $((n + 3))" pm_logs_have "$cr" "tick $((n + 3))"
	expect_ok "${pm_[@]}" exec "$cr" echo in-restored
	assert_eq "$out" in-restored
	# -R (twice, as podman sends it) with --tcp-established.
	pm_step "${pm_[@]}" container checkpoint -R --tcp-established "$cr"
	expect_ok "${pm_[@]}" inspect -f '{{.State.Status}}' "$cr"
	assert_eq "$out" running "after checkpoint -R"
	# A paused container: podman 4.3 refuses it before any runtime is
	# called (containerd pauses and checkpoints, t_ctr.sh); it stays
	# paused and counts on once unpaused.
	expect_ok "${pm_[@]}" pause "$cr"
	expect_status 125 "${pm_[@]}" container checkpoint -R "$cr"
	assert_contains "$err" '"paused" is not running, cannot checkpoint'
	expect_ok "${pm_[@]}" inspect -f '{{.State.Status}}' "$cr"
	assert_eq "$out" paused "a paused container after podman's refusal"
	expect_ok "${pm_[@]}" unpause "$cr"
	n=$(last_tick "$(pm logs "$cr" 2>/dev/null)")
	wait_until 60 "tick $((n + 2)) after unpause" pm_logs_have "$cr" "tick $((n + 2))"
	# --export, then --import beside the original.
	pm_step "${pm_[@]}" container checkpoint -R --export "$T/cr.tar.gz" "$cr"
	pm_step "${pm_[@]}" container restore --import "$T/cr.tar.gz" --name "$cr2"
	n=$(last_tick "$(pm logs "$cr2" 2>/dev/null)")
	wait_until 60 "cr2 counting" pm_logs_have "$cr2" "tick $((n + 3))"
	expect_ok pm rm -f -t 0 "$cr" "$cr2"
}

test_podman_checkpoint_restore() {
	need_criu
	pm_cr
}

test_podman_checkpoint_restore_skiff_shim() {
	need_criu
	[[ -x $REPO/shim/skiff-shim ]] || skip "skiff-shim is not built"
	PM_SHIM=1 pm_cr
}

# The same scenarios with runc as podman's runtime: the bar skiff meets.
test_podman_checkpoint_restore_runc() {
	need_criu
	[[ -n ${SKIFF_CLIENTS_FULL:-} ]] || skip "runc twin: run by make checkpoint-vm (SKIFF_CLIENTS_FULL=1)"
	command -v runc >/dev/null || skip "runc is not installed"
	PM_RUNC=1 pm_cr
}

test_podman_runtime_calls() {
	check_calls podman
}
