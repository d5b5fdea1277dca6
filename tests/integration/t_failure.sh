# shellcheck shell=bash
# $out, $err and $status come from lib.sh's run; single quotes hold jq and sh code.
# shellcheck disable=SC2154,SC2016
# Failures of create at each of its steps (docs/lifecycle.md): one line
# naming the cause, and nothing left behind (state directory, cgroup,
# processes; mounts live in the container's own mount namespace).  A
# runtime killed in the middle leaves what `delete` cleans up.

# fails_cleanly DIR ID MESSAGE [skiff command]: `create` (or the command
# given) of bundle DIR fails with exactly MESSAGE on one line, and leaves
# no state and no cgroup.
fails_cleanly() {
	local dir=$1 id=$2 msg=$3 cmd=${4:-create}
	expect_fail 1 sk "$cmd" --bundle "$dir" "$id"
	assert_eq "$err" "skiff $cmd: $msg"
	assert_eq "$out" "" "stdout"
	no_state
	no_cgroup "$dir"
}

# no_state: no container left under --root (a cache such as .seccomp is
# not a container).
no_state() {
	local f
	for f in "$ROOT"/*; do
		[[ -e $f ]] && fail "state left under --root: ${f##*/}"
	done
	return 0
}

# no_cgroup DIR: the cgroup of bundle DIR (mk_bundle's cgroupsPath) is gone
# from every hierarchy.
no_cgroup() { cg_gone "${1##*/}"; }

# wait_file FILE: until FILE is not empty (20 s at most).
wait_file() {
	local end=$((SECONDS + 20))
	while ((SECONDS < end)); do
		[[ -s $1 ]] && return 0
		sleep 0.05
	done
	fail "$1 did not appear"
}

test_failure_bad_config() {
	mk_bundle "$T/b" true
	echo '{bad' >"$T/b/config.json"
	fails_cleanly "$T/b" bad 'config.json: line 1, column 2: lexical error: invalid char in json text'
	mk_bundle "$T/c" true
	cfg_edit "$T/c" '.root.path = "nosuch"'
	fails_cleanly "$T/c" bad "rootfs \"$T/c/nosuch\": ENOENT"
	rm "$T/c/config.json"
	expect_fail 1 sk create --bundle "$T/c" bad
	# The path quoted as every reader quotes it (sk_read_file_at, runtime/base/util.c).
	assert_match "$err" "^skiff create: open \"$T/c/config.json\": ENOENT\$"
	no_state
	fails_cleanly "$T/nosuch" bad "bundle \"$T/nosuch\": ENOENT"
}

test_failure_bad_mount() {
	# Fails in the init, after the cgroup, state and clone were made.
	mk_bundle "$T/b" true
	cfg_edit "$T/b" '.mounts += [{destination: "/x", type: "bind", source: "/nosuch", options: ["bind"]}]'
	local n
	n=$(cfg_get "$T/b" '.mounts | length - 1')
	fails_cleanly "$T/b" badmount "mounts[$n]: source \"/nosuch\": ENOENT"
	fails_cleanly "$T/b" badmount "mounts[$n]: source \"/nosuch\": ENOENT" run
	# The same with a user namespace (the source is cloned on the host side,
	# before the init: the same line).
	cfg_edit "$T/b" '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	fails_cleanly "$T/b" badmount "mounts[$n]: source \"/nosuch\": ENOENT"
}

test_failure_missing_binary() {
	mk_bundle "$T/b" nosuchbinary
	fails_cleanly "$T/b" nobin 'exec: "nosuchbinary": executable file not found in $PATH'
	fails_cleanly "$T/b" nobin 'exec: "nosuchbinary": executable file not found in $PATH' run
	# On the slow path too (the init forked a second time).
	cfg_edit "$T/b" '.linux.namespaces |= map(if .type == "uts" then .path = "/proc/self/ns/uts" else . end)
		| del(.hostname)'
	fails_cleanly "$T/b" nobin 'exec: "nosuchbinary": executable file not found in $PATH'
}

test_failure_failing_hooks() {
	mk_bundle "$T/b" true
	cfg_edit "$T/b" '.hooks = {prestart: [{path: "/bin/false"}]}'
	fails_cleanly "$T/b" hk 'prestart hook "/bin/false": exited with status 1'
	cfg_edit "$T/b" '.hooks = {createRuntime: [{path: "/nosuch"}]}'
	fails_cleanly "$T/b" hk 'createRuntime hook "/nosuch": ENOENT' run
	# createContainer runs in the init, which reports the failure.
	cfg_edit "$T/b" '.hooks = {createContainer: [{path: "/bin/sh", args: ["sh", "-c", "exit 4"]}]}'
	fails_cleanly "$T/b" hk 'createContainer hook "/bin/sh": exited with status 4'
	cfg_edit "$T/b" '.hooks = {createRuntime: [{path: "/bin/sleep", args: ["sleep", "10"], timeout: 1}]}'
	fails_cleanly "$T/b" hk 'createRuntime hook "/bin/sleep" timed out after 1s'
}

test_failure_after_the_init_is_ready() {
	# The last step of create: the pid file.  The init is set up and waits
	# on exec.fifo; it must go with the rest.
	mk_bundle "$T/b" sleep 1000
	local cg2
	cg2=$(cg2_mount)
	expect_fail 1 sk create --bundle "$T/b" --pid-file "$T/nosuch/pid" late
	assert_eq "$err" "skiff create: --pid-file \"$T/nosuch/pid\": open its directory: ENOENT"
	no_state
	no_cgroup "$T/b"
}

test_failure_init_killed_during_create() {
	require_cgroup2
	# The init dies (killed from outside) while a createContainer hook of
	# its runs: create reports it and removes the rest.
	mk_bundle "$T/b" true
	cfg_edit "$T/b" '.hooks.createContainer = [{path: "/bin/sh", args: ["sh", "-c", "echo x >\($f); exec /bin/sleep 1000"]}]' \
		--arg f "$T/hook-started"
	"$SKIFF" --root "$ROOT" create --bundle "$T/b" ik >"$T/out" 2>"$T/err" &
	local create=$!
	wait_file "$T/hook-started"
	echo 1 >"$(cg2_mount)$SKIFF_TEST_CGROUP/b/cgroup.kill"
	local st=0
	wait "$create" || st=$?
	assert_eq "$st" 1 "create's status"
	assert_eq "$(<"$T/err")" 'skiff create: container init killed by SIGKILL before completing set-up'
	no_state
	no_cgroup "$T/b"
}

# killed_create DIR ID: start `skiff create` of bundle DIR, whose
# createRuntime hook writes its pid to $T/hookpid then sleeps; SIGKILL the
# runtime once the hook runs.  Sets INIT_PIDS to the container's processes
# (from its cgroup) and HOOK_PID.
killed_create() {
	local dir=$1 id=$2
	cfg_edit "$dir" '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "echo $$ >\($f); exec /bin/sleep 1000"]}]' \
		--arg f "$T/hookpid"
	rm -f "$T/hookpid"
	"$SKIFF" --root "$ROOT" create --bundle "$dir" "$id" >"$T/out" 2>"$T/err" &
	local create=$!
	wait_file "$T/hookpid"
	HOOK_PID=$(<"$T/hookpid")
	INIT_PIDS=$(<"$(cg_dir "${dir##*/}")/cgroup.procs")
	[[ -n $INIT_PIDS ]] || fail "no process in the container's cgroup"
	kill -KILL "$create"
	# (bash reports the killed job on stderr: not ours to show)
	{ wait "$create"; } 2>/dev/null || true
}

# after_kill ID DIR: state says stopped, delete (no --force) cleans all.
after_kill() {
	local id=$1 dir=$2 pid
	# The init sees its runtime gone and exits: stopped.
	for pid in $INIT_PIDS; do
		gone "$pid" "the container's process"
	done
	expect_ok sk state "$id"
	assert_eq "$(jq -c '[.id, .status, .pid, .bundle]' <<<"$out")" "[\"$id\",\"stopped\",0,\"$dir\"]"
	expect_ok sk delete "$id"
	no_state
	no_cgroup "$dir"
}

test_failure_killed_runtime() {
	mk_bundle "$T/b" sleep 1000
	killed_create "$T/b" kr
	after_kill kr "$T/b"
	# The hook outlives its runtime: see test_failure_killed_runtime_takes_its_hooks.
	kill -9 "$HOOK_PID" 2>/dev/null || true

	# The slow path with a user namespace: the init was forked twice.
	mk_bundle "$T/c" sleep 1000
	cfg_edit "$T/c" '.linux.namespaces |= map(if .type == "uts" then .path = "/proc/self/ns/uts" else . end)
		| del(.hostname)
		| .linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	killed_create "$T/c" kr2
	after_kill kr2 "$T/c"
	kill -9 "$HOOK_PID" 2>/dev/null || true
}

test_failure_killed_runtime_takes_its_hooks() {
	# A hook is the runtime's child: it must not outlive a killed runtime,
	# which cannot wait for it any more and nobody else knows of.
	mk_bundle "$T/b" sleep 1000
	killed_create "$T/b" kh
	gone "$HOOK_PID" "the createRuntime hook of a killed create"
	expect_ok sk delete kh
}

test_failure_init_killed_by_its_seccomp_profile() {
	# A profile that kills the init for a call it makes after loading the
	# filter: create says so rather than "exited".
	mk_bundle "$T/b" true
	cfg_edit "$T/b" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		syscalls: [{names: ["sendmsg"], action: "SCMP_ACT_KILL_PROCESS"}]}'
	fails_cleanly "$T/b" sys 'container init killed by SIGSYS before completing set-up: the seccomp profile refuses a system call the runtime makes after loading it'
}

test_failure_without_a_mount_namespace() {
	require_cgroup2
	# The container's mounts are in the runtime's namespace: a failed create
	# and a killed one leave none behind (the runner's leak check).
	mk_bundle "$T/b" true
	cfg_edit "$T/b" '.linux.namespaces = [] | del(.hostname, .linux.maskedPaths, .linux.readonlyPaths)
		| .mounts += [{destination: "/bad", type: "nosuchfs", source: "none"}]'
	local i
	i=$(cfg_get "$T/b" '.mounts | length - 1')
	fails_cleanly "$T/b" nm "mounts[$i]: mount \"nosuchfs\" on \"/bad\": ENODEV"
	assert_eq "$(_sk_mounts_under "$T/b")" "" "mounts left by a failed create"
	mk_bundle "$T/c" sleep 1000
	cfg_edit "$T/c" '.linux.namespaces = [] | del(.hostname, .linux.maskedPaths, .linux.readonlyPaths)'
	killed_create "$T/c" nmk
	[[ -n $(_sk_mounts_under "$T/c") ]] || fail "no mount under the rootfs while create ran"
	kill -9 "$HOOK_PID" 2>/dev/null || true
	after_kill nmk "$T/c"
	assert_eq "$(_sk_mounts_under "$T/c")" "" "mounts left by a killed create after delete"
}

# SIGKILL at every named step of create (SKIFF_TEST_KILL_AT, runtime/base/fault.c),
# with and without a mount namespace of its own: `delete --force` then
# leaves nothing (state, cgroup, mounts, processes; the runner checks them
# all again).
test_failure_killed_at_every_step() {
	require_cgroup2
	local kind point
	for kind in own-mntns no-mntns; do
		mk_bundle "$T/$kind" sleep 1000
		[[ $kind == own-mntns ]] ||
			cfg_edit "$T/$kind" '.linux.namespaces = [] | del(.hostname, .linux.maskedPaths, .linux.readonlyPaths)'
		for point in locked planned state-written cgroup-made rootfs-bound cloned ready pid-recorded; do
			[[ $point != rootfs-bound || $kind == no-mntns ]] || continue
			run env SKIFF_TEST_KILL_AT=$point "$SKIFF" --root "$ROOT" create --bundle "$T/$kind" "$kind"
			((status == 137)) || fail "$kind, $point: create exited $status, not killed: $err"
			expect_ok sk delete --force "$kind"
			no_state
			no_cgroup "$T/$kind"
			assert_eq "$(_sk_mounts_under "$T/$kind")" "" "$kind, $point: mounts left"
			assert_eq "$(find /proc/[0-9]*/root -maxdepth 0 -lname "$T/$kind/*" 2>/dev/null || true)" "" \
				"$kind, $point: processes left"
		done
	done
	# Without the variable the points change nothing.
	cfg_edit "$T/own-mntns" '.process.args = ["true"]'
	expect_ok sk run --bundle "$T/own-mntns" c
}
