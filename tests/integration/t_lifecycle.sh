# shellcheck shell=bash
# $out, $err and $status come from lib.sh's run; single quotes hold jq and sh code.
# shellcheck disable=SC2154,SC2016
# The lifecycle (docs/lifecycle.md, runtime-spec runtime.md): create leaves
# the process blocked until start; start, kill, delete and state in every
# status, with their refusals; run's exit status and signal forwarding;
# --pid-file, --preserve-fds, LISTEN_FDS, stdio and the terminal of `run`.

# wait_status ID STATUS: until `state` says STATUS (20 s at most: the VM
# is slow).
wait_status() {
	local end=$((SECONDS + 20)) s
	while ((SECONDS < end)); do
		s=$(status_of "$1")
		[[ $s == "$2" ]] && return 0
		sleep 0.05
	done
	fail "container $1 is $s, not $2"
}

# wait_file FILE [TEXT]: until FILE exists (and holds TEXT), 20 s at most.
wait_file() {
	local end=$((SECONDS + 20))
	while ((SECONDS < end)); do
		if [[ -e $1 ]]; then
			[[ -z ${2:-} || $(<"$1") == *"$2"* ]] && return 0
		fi
		sleep 0.05
	done
	fail "$1 did not appear${2:+ with [$2]}: [$(cat "$1" 2>/dev/null)]"
}

test_lifecycle_create_start_delete() {
	mk_bundle "$T/b" sh -c 'echo ran >/tmp/ran; exec sleep 1000'
	cfg_edit "$T/b" '.root.readonly = false | .annotations = {"org.example.a": "1", "b": "two words"}'
	# A relative --bundle and --pid-file, through a symlink: state has the real path.
	ln -s b "$T/link"
	expect_ok sk create -b link --pid-file pidfile lc
	assert_eq "$out$err" "" "create's output"
	local pid
	pid=$(<"$T/pidfile")
	assert_match "$pid" '^[0-9]+$' "--pid-file holds only the number"
	assert_eq "$(stat -c %s "$T/pidfile")" "${#pid}" "--pid-file size"

	expect_ok sk state lc
	assert_eq "$(jq -r 'keys_unsorted | join(",")' <<<"$out")" "ociVersion,id,pid,status,bundle,rootfs,created,owner,annotations"
	assert_eq "$(jq -c '[.ociVersion, .id, .pid, .status, .bundle, .rootfs, .owner, .annotations]' <<<"$out")" \
		"[\"1.2.0\",\"lc\",$pid,\"created\",\"$T/b\",\"$T/b/rootfs\",\"\",{\"org.example.a\":\"1\",\"b\":\"two words\"}]"
	assert_match "$(jq -r .created <<<"$out")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$' "created"
	# Blocked before the process: still skiff, and the process did not run.
	local cmd
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline")
	assert_contains "$cmd" "create -b link --pid-file pidfile lc" "the init's command line before start"
	[[ ! -e $T/b/rootfs/tmp/ran ]] || fail "process.args ran before start"

	expect_ok sk start lc
	wait_file "$T/b/rootfs/tmp/ran" ran
	assert_eq "$(status_of lc)" running
	expect_ok sk state lc
	assert_eq "$(jq -r .pid <<<"$out")" "$pid" "pid once running"
	assert_eq "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "sleep 1000 " "the process runs as the init"

	expect_ok sk kill lc KILL
	wait_status lc stopped
	expect_ok sk state lc
	assert_eq "$(jq -c '[.pid, .status, .bundle]' <<<"$out")" "[0,\"stopped\",\"$T/b\"]"
	expect_ok sk delete lc
	assert_empty_dir "$ROOT"
	gone "$pid" "the init after kill and delete"
	expect_fail 1 sk state lc
	assert_eq "$err" 'skiff state: container "lc" does not exist'
	expect_fail 1 sk delete lc
	assert_eq "$err" 'skiff delete: container "lc" does not exist'
}

test_lifecycle_default_bundle_is_cwd() {
	mk_bundle "$T/b" true
	cd "$T/b"
	expect_ok sk create cwd
	expect_ok sk state cwd
	assert_eq "$(jq -r .bundle <<<"$out")" "$T/b"
	expect_ok sk start cwd
	wait_status cwd stopped
	expect_ok sk delete cwd
}

test_lifecycle_start_only_created() {
	mk_bundle "$T/b" sleep 1000
	expect_fail 1 sk start nosuch
	assert_eq "$err" 'skiff start: container "nosuch" does not exist'
	expect_ok sk create --bundle "$T/b" s1
	expect_ok sk start s1
	expect_fail 1 sk start s1
	assert_eq "$err" 'skiff start: cannot start container "s1": it is running, not created'
	expect_ok sk kill s1 KILL
	wait_status s1 stopped
	expect_fail 1 sk start s1
	assert_eq "$err" 'skiff start: cannot start container "s1": it is stopped, not created'
	expect_ok sk delete s1
	# An init killed before start: stopped, and start says so.
	expect_ok sk create --bundle "$T/b" --pid-file "$T/pid" s2
	kill -9 "$(<"$T/pid")"
	wait_status s2 stopped
	expect_fail 1 sk start s2
	assert_eq "$err" 'skiff start: cannot start container "s2": it is stopped, not created'
	expect_ok sk delete s2
}

test_lifecycle_delete_refuses_live() {
	mk_bundle "$T/b" sleep 1000
	expect_ok sk create --bundle "$T/b" --pid-file "$T/pid" d1
	local pid
	pid=$(<"$T/pid")
	expect_fail 1 sk delete d1
	assert_eq "$err" 'skiff delete: cannot delete container "d1" that is not stopped: created'
	# Nothing changed: still created, same pid, start still works.
	expect_ok sk state d1
	assert_eq "$(jq -c '[.status, .pid]' <<<"$out")" "[\"created\",$pid]"
	expect_ok sk start d1
	expect_fail 1 sk delete d1
	assert_eq "$err" 'skiff delete: cannot delete container "d1" that is not stopped: running'
	assert_eq "$(status_of d1)" running
	expect_ok sk delete --force d1
	assert_empty_dir "$ROOT"
	gone "$pid" "delete --force of a running container"
	# -f on a created one.
	expect_ok sk create --bundle "$T/b" --pid-file "$T/pid" d2
	pid=$(<"$T/pid")
	expect_ok sk delete -f d2
	assert_empty_dir "$ROOT"
	gone "$pid" "delete -f of a created container"
}

test_lifecycle_create_refuses_existing_id() {
	mk_bundle "$T/b" sleep 1000
	expect_ok sk create --bundle "$T/b" --pid-file "$T/pid" same
	expect_fail 1 sk create --bundle "$T/b" same
	assert_eq "$err" 'skiff create: container "same" already exists'
	expect_ok sk state same
	assert_eq "$(jq -c '[.status, .pid]' <<<"$out")" "[\"created\",$(<"$T/pid")]" "the existing container"
	expect_fail 1 sk create --bundle "$T/b" 'bad/id'
	assert_contains "$err" 'skiff create: invalid container id "bad/id"'
	expect_ok sk delete -f same
}

test_lifecycle_kill_signals() {
	# The init records each signal it gets; as pid 1 it only gets those it traps.
	mk_bundle "$T/b" sh -c 'for s in HUP USR1 USR2 TERM 34 36 62; do trap "echo $s >>/tmp/sigs" $s; done
		echo ready >/tmp/ready; while :; do sleep 0.05; done'
	cfg_edit "$T/b" '.root.readonly = false'
	local log=$T/b/rootfs/tmp/sigs sig
	expect_ok sk create --bundle "$T/b" k
	expect_ok sk start k
	wait_file "$T/b/rootfs/tmp/ready"
	local -a sent=(HUP SIGUSR1 usr2 sigusr1 10 RTMIN SIGRTMIN+2 RTMAX-2)
	local -a got=(HUP USR1 USR2 USR1 USR1 34 36 62)
	for i in "${!sent[@]}"; do
		expect_ok sk kill k "${sent[$i]}"
		wait_file "$log"
		wait_file "$log" "${got[$i]}"
		rm "$log"
	done
	# The default is TERM.
	expect_ok sk kill k
	wait_file "$log" TERM
	for sig in FOO SIGFOO 0 65 -1 RTMIN+31 RTMAX+1 ''; do
		expect_fail 2 sk kill k "$sig"
		assert_eq "$err" "skiff kill: unknown signal \"$sig\""
	done
	expect_fail 1 sk kill nosuch
	assert_eq "$err" 'skiff kill: container "nosuch" does not exist'
	expect_ok sk kill k 9
	wait_status k stopped
	# runc's status and words, which containerd, CRI-O and podman match.
	expect_fail 1 sk kill k
	assert_eq "$err" 'skiff kill: kill "k": container not running'
	expect_ok sk kill --all k KILL
	# Its cgroup gone too: still nothing to say.
	if [[ -n $(cg2_mount) && -d $(cg_dir k) ]]; then
		rmdir "$(cg_dir k)"
		expect_ok sk kill --all k TERM
	fi
	expect_ok sk delete k
}

test_lifecycle_kill_all() {
	# The init and a child each record a USR1; without --all only the init gets it.
	mk_bundle "$T/b" sh -c 'sh -c "trap \"echo child >>/tmp/usr1\" USR1; echo >/tmp/child; while :; do sleep 0.05; done" &
		trap "echo init >>/tmp/usr1" USR1; while :; do sleep 0.05; done'
	cfg_edit "$T/b" '.root.readonly = false'
	local log=$T/b/rootfs/tmp/usr1
	expect_ok sk run -d --bundle "$T/b" ka
	wait_file "$T/b/rootfs/tmp/child"
	expect_ok sk kill ka USR1
	wait_file "$log" init
	sleep 0.3
	assert_eq "$(<"$log")" init "USR1 without --all"
	rm "$log"
	expect_ok sk kill --all ka USR1
	wait_file "$log" init
	wait_file "$log" child
	# -a KILL takes every process (cgroup.kill, or v1's freezer).
	local cg
	cg=$(cg_dir b)
	[[ $(wc -l <"$cg/cgroup.procs") -ge 2 ]] || fail "expected two processes in $cg: $(<"$cg/cgroup.procs")"
	expect_ok sk kill -a ka KILL
	wait_status ka stopped
	assert_eq "$(<"$cg/cgroup.procs")" "" "processes left after kill -a KILL"
	expect_ok sk delete ka
}

test_lifecycle_state_every_status() {
	mk_bundle "$T/b" sleep 1000
	cfg_edit "$T/b" '.annotations = {"k": "v"}'
	expect_ok sk create --bundle "$T/b" --pid-file "$T/pid" st
	local pid
	pid=$(<"$T/pid")
	# check STATUS PID: the state's fields in that status.
	check() {
		expect_ok sk state st
		assert_eq "$(jq -c '[.id, .pid, .status, .bundle, .annotations]' <<<"$out")" \
			"[\"st\",$2,\"$1\",\"$T/b\",{\"k\":\"v\"}]" "state when $1"
	}
	check created "$pid"
	expect_ok sk start st
	check running "$pid"
	# paused: a frozen cgroup (written directly; pause is not under test here).
	cg_freeze b 1
	check paused "$pid"
	expect_fail 1 sk delete st
	assert_eq "$err" 'skiff delete: cannot delete container "st" that is not stopped: paused'
	cg_freeze b 0
	check running "$pid"
	expect_ok sk kill st KILL
	wait_status st stopped
	check stopped 0
	# creating: a directory without state, as left by a create killed early.
	expect_ok sk delete st
	mkdir "$ROOT/cr"
	expect_ok sk state cr
	assert_eq "$(jq -c '[.id, .status]' <<<"$out")" '["cr","creating"]'
	expect_ok sk delete cr
	assert_empty_dir "$ROOT"
}

test_lifecycle_delete_force_paused() {
	mk_bundle "$T/b" sleep 1000
	expect_ok sk run -d --bundle "$T/b" --pid-file "$T/pid" fp
	cg_freeze b 1
	assert_eq "$(status_of fp)" paused
	expect_ok sk delete --force fp
	assert_empty_dir "$ROOT"
	gone "$(<"$T/pid")" "delete --force of a paused container"
}

test_lifecycle_recycled_pid_is_stopped() {
	# The init lives on, but state.json's start time is not its: to skiff
	# that pid is someone else's now.
	mk_bundle "$T/b" sleep 1000
	expect_ok sk create --bundle "$T/b" --pid-file "$T/pid" rp
	local pid st
	pid=$(<"$T/pid")
	st=$(jq .startTime "$ROOT/rp/state.json")
	assert_eq "$st" "$(proc_start_time "$pid")" "recorded start time"
	jq -c --argjson t $((st + 1)) '.startTime = $t' "$ROOT/rp/state.json" >"$T/state.json"
	cp "$T/state.json" "$ROOT/rp/state.json"
	expect_ok sk state rp
	assert_eq "$(jq -c '[.status, .pid]' <<<"$out")" '["stopped",0]'
	expect_fail 1 sk start rp
	assert_eq "$err" 'skiff start: cannot start container "rp": it is stopped, not created'
	expect_fail 1 sk kill rp KILL
	assert_eq "$err" 'skiff kill: kill "rp": container not running'
	[[ -e /proc/$pid ]] || fail "kill signalled a pid it does not own"
	# delete needs no --force; what is left in the container's cgroup goes.
	expect_ok sk delete rp
	assert_empty_dir "$ROOT"
	gone "$pid" "delete of a container whose init is not its own"
}

test_lifecycle_run_exit_status() {
	mk_bundle "$T/b" sh -c 'echo out; echo err >&2; exit 3'
	expect_fail 3 sk run --bundle "$T/b" ex
	assert_eq "$out|$err" "out|err" "run's stdio is the process's"
	cfg_edit "$T/b" '.process.args = ["sh", "-c", "exit 255"]'
	expect_fail 255 sk run --bundle "$T/b" ex
	cfg_edit "$T/b" '.process.args = ["true"]'
	expect_ok sk run --bundle "$T/b" ex
	assert_empty_dir "$ROOT"
	# Killed by a signal: 128 + N.
	cfg_edit "$T/b" '.process.args = ["sh", "-c", "echo ready; exec sleep 1000"]'
	"$SKIFF" --root "$ROOT" run --bundle "$T/b" --pid-file "$T/pid" sig >"$T/out" 2>&1 &
	local run_pid=$! st=0
	wait_file "$T/out" ready
	kill -KILL "$(<"$T/pid")"
	wait "$run_pid" || st=$?
	assert_eq "$st" 137 "run's status when the process is killed"
	assert_empty_dir "$ROOT"
}

test_lifecycle_run_forwards_signals() {
	# The process as pid 1 traps TERM and INT.  run is a background job
	# here, which bash starts with SIGINT ignored: it must still forward it,
	# and the process must still be able to trap it.
	mk_bundle "$T/b" sh -c 'trap "echo got-TERM; exit 7" TERM; trap "echo got-INT; exit 8" INT
		echo ready; while :; do sleep 0.05; done'
	local sig code run_pid st
	for sig in TERM INT; do
		code=7
		[[ $sig == INT ]] && code=8
		rm -f "$T/out"
		"$SKIFF" --root "$ROOT" run --bundle "$T/b" fw >"$T/out" 2>&1 &
		run_pid=$!
		wait_file "$T/out" ready
		kill -"$sig" "$run_pid"
		st=0
		wait "$run_pid" || st=$?
		assert_eq "$st" "$code" "run's status after SIG$sig"
		assert_eq "$(<"$T/out")" $'ready\ngot-'"$sig" "the process's output"
	done
	# Without a pid namespace the process is not protected as an init: the
	# forwarded TERM kills it and run reports 128 + 15.
	cfg_edit "$T/b" '.process.args = ["sh", "-c", "echo ready; exec sleep 1000"]
		| del(.linux.namespaces[] | select(.type == "pid"))'
	"$SKIFF" --root "$ROOT" run --bundle "$T/b" fw2 >"$T/out" 2>&1 &
	run_pid=$!
	wait_file "$T/out" ready
	kill -TERM "$run_pid"
	st=0
	wait "$run_pid" || st=$?
	assert_eq "$st" 143 "run's status when a forwarded TERM kills the process"
	assert_empty_dir "$ROOT"
}

test_lifecycle_run_holds_signals_during_create() {
	# A signal that comes while create is under way (here from a
	# createRuntime hook, a child of run) is delivered once the process
	# runs, not lost and not fatal to run.
	mk_bundle "$T/b" sh -c 'exec sleep 1000'
	cfg_edit "$T/b" '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "kill -TERM $PPID"]}]
		| del(.linux.namespaces[] | select(.type == "pid"))'
	expect_fail 143 sk run --bundle "$T/b" hold
	assert_empty_dir "$ROOT"
}

test_lifecycle_run_detach() {
	mk_bundle "$T/b" sh -c 'read l; echo "got $l"; exec sleep 1000'
	echo line >"$T/in"
	sk run -d --bundle "$T/b" --pid-file "$T/pid" det <"$T/in" >"$T/out"
	assert_eq "$(status_of det)" running
	wait_file "$T/out" "got line"
	assert_eq "$(tr '\0' ' ' <"/proc/$(<"$T/pid")/cmdline")" "sleep 1000 "
	expect_ok sk delete --force det
	assert_empty_dir "$ROOT"
}

test_lifecycle_stdio_inherited_from_create() {
	# Without a terminal, the process has create's stdio (not start's).
	mk_bundle "$T/b" sh -c 'read l; echo "out $l"; echo "err $l" >&2'
	echo input >"$T/in"
	sk create --bundle "$T/b" io <"$T/in" >"$T/out" 2>"$T/err"
	expect_ok sk start io </dev/null
	wait_status io stopped
	assert_eq "$(<"$T/out")" "out input"
	assert_eq "$(<"$T/err")" "err input"
	expect_ok sk delete io
}

test_lifecycle_closed_stdio() {
	# A caller with closed stdio: the process gets /dev/null there, never
	# one of the runtime's own fds.
	mk_bundle "$T/b" sh -c 'readlink /proc/$$/fd/0 >/dev/shm/in; readlink /proc/$$/fd/2 >>/dev/shm/in; cat /dev/shm/in'
	"$SKIFF" --root "$ROOT" run -b "$T/b" closed 0<&- 2>&- >"$T/out" || fail "run with closed stdio exited $?"
	assert_eq "$(<"$T/out")" $'/dev/null\n/dev/null'
}

test_lifecycle_pid_file() {
	mk_bundle "$T/b" sleep 1000
	mkdir "$T/sub"
	expect_ok sk create --bundle "$T/b" --pid-file "$T/sub/p" pf
	assert_match "$(<"$T/sub/p")" '^[0-9]+$'
	assert_eq "$(ls -A "$T/sub")" p "only the pid file (no temporary left)"
	expect_ok sk delete -f pf
	expect_fail 1 sk create --bundle "$T/b" --pid-file "$T/nosuch/p" pf2
	assert_eq "$err" "skiff create: --pid-file \"$T/nosuch/p\": open its directory: ENOENT"
	assert_empty_dir "$ROOT"
}

# fd_bundle: a bundle whose process lists its fds and the LISTEN_
# variables.  ls, a child of the shell with its stdout, lists the shell's
# fds: a pipe or a redirection there would add the shell's own.
fd_bundle() {
	mk_bundle "$T/b" sh -c 'ls -l /proc/$$/fd; echo "env ${LISTEN_FDS-} ${LISTEN_PID-}"'
}

# fds_seen: from $out, "FD TARGET" of each fd above 2, then the env line.
fds_seen() { sed -n -e 's/.* \([3-9]\|[1-9][0-9]\+\) -> \(.*\)/\1 \2/p' -e '/^env/p' <<<"$out"; }

test_lifecycle_preserve_fds() {
	fd_bundle
	echo three >"$T/f3"
	echo four >"$T/f4"
	echo five >"$T/f5"
	expect_ok sk run --bundle "$T/b" --preserve-fds 2 pfd 3<"$T/f3" 4<"$T/f4" 5<"$T/f5" </dev/null
	assert_eq "$(fds_seen)" "3 $T/f3
4 $T/f4
env  " "fds after stdio"
	# Without the flag, none.
	expect_ok sk run --bundle "$T/b" pfd 3<"$T/f3" 4<"$T/f4" </dev/null
	assert_eq "$(fds_seen)" "env  "
	expect_fail 2 sk run --bundle "$T/b" --preserve-fds -1 pfd
	assert_empty_dir "$ROOT"
}

test_lifecycle_listen_fds() {
	fd_bundle
	echo three >"$T/f3"
	echo four >"$T/f4"
	# For us (LISTEN_PID is skiff's pid): passed on, for the process as pid 1.
	run bash -c 'export LISTEN_FDS=2 LISTEN_PID=$BASHPID; exec "$SKIFF" --root "$ROOT" run --bundle "$T/b" lf' \
		3<"$T/f3" 4<"$T/f4" </dev/null
	((status == 0)) || fail "run: $err"
	assert_eq "$(fds_seen)" "3 $T/f3
4 $T/f4
env 2 1"
	# With --preserve-fds, after the LISTEN_FDS ones.
	run bash -c 'export LISTEN_FDS=1 LISTEN_PID=$BASHPID; exec "$SKIFF" --root "$ROOT" run --preserve-fds 1 --bundle "$T/b" lf' \
		3<"$T/f3" 4<"$T/f4" </dev/null
	((status == 0)) || fail "run: $err"
	assert_eq "$(fds_seen)" "3 $T/f3
4 $T/f4
env 1 1"
	# For another process: not ours to pass.
	run bash -c 'LISTEN_FDS=2 LISTEN_PID=1 exec "$SKIFF" --root "$ROOT" run --bundle "$T/b" lf' 3<"$T/f3" 4<"$T/f4" </dev/null
	((status == 0)) || fail "run: $err"
	assert_eq "$(fds_seen)" "env  "
	assert_empty_dir "$ROOT"
}

test_lifecycle_run_terminal_proxy() {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	# run with process.terminal and no --console-socket, on a real terminal
	# (script's pty): input and output go through, the window size is the
	# caller's, the caller's terminal modes come back, the status is the
	# process's.
	mk_bundle "$T/b" sh -c 'read l; echo "got $l"; tty; stty size; exit 5'
	cfg_edit "$T/b" '.process.terminal = true'
	printf 'hello\n' | script -qec "stty rows 21 cols 77; stty -g >'$T/before'
		'$SKIFF' --root '$ROOT' run --bundle '$T/b' tp; echo status=\$?; stty -g >'$T/after'" /dev/null >"$T/out"
	local lines
	mapfile -t lines < <(tr -d '\r' <"$T/out")
	assert_contains "${lines[*]}" "got hello /dev/pts/0 21 77 status=5" "through the terminal"
	assert_eq "$(<"$T/after")" "$(<"$T/before")" "the caller's terminal modes"
	assert_empty_dir "$ROOT"
}

test_lifecycle_no_pivot_and_no_new_keyring() {
	# runc's flags for a rootfs on a ramdisk and for keeping the caller's
	# session keyring: accepted, and the container runs.
	mk_bundle "$T/b" sh -c 'ls /bin/busybox; echo ok'
	expect_ok sk run --no-pivot --no-new-keyring --bundle "$T/b" np
	assert_eq "$out" $'/bin/busybox\nok'
	expect_ok sk create --no-pivot --no-new-keyring --bundle "$T/b" np2
	expect_ok sk delete -f np2
}
