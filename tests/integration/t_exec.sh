# shellcheck shell=bash
# $out, $err and $status come from lib.sh's run; single quotes hold jq and sh code.
# shellcheck disable=SC2154,SC2016
# skiff exec (docs/exec.md): the process joins every namespace and the
# cgroup of the init; the container's process settings with the flags on
# top, or --process's object; exit status and signals; --detach and
# --pid-file; terminals; the states exec accepts; errors.

# running ID [JQ EXPR [JQ ARGS...]]: a running container ID whose process is
# `sleep 1000`, from the bundle $T/ID with its config edited.
running() {
	local id=$1
	shift
	mk_bundle "$T/$id" sleep 1000
	(($# == 0)) || cfg_edit "$T/$id" "$@"
	expect_ok sk run -d --bundle "$T/$id" "$id"
}

# wait_for FILE TEXT: until FILE holds TEXT (10 s at most).
wait_for() {
	local i
	for ((i = 0; i < 200; i++)); do
		[[ -e $1 && $(<"$1") == *"$2"* ]] && return 0
		sleep 0.05
	done
	fail "$1 did not get [$2]: [$(cat "$1" 2>/dev/null)]"
}

test_exec_joins_the_init() {
	running c '.hostname = "exechost" | .root.readonly = false'
	: >"$T/c/rootfs/marker"
	# Every namespace, the root, the mounts and the cgroup are the init's.
	expect_ok sk exec c sh -c 'for n in mnt pid net ipc uts cgroup user time; do
			[ "$(readlink /proc/self/ns/$n)" = "$(readlink /proc/1/ns/$n)" ] || echo "not the init'\''s: $n"
		done
		[ / -ef /proc/1/root ] && [ -e /marker ] && echo same-root
		cmp /proc/self/mountinfo /proc/1/mountinfo && echo same-mounts
		cmp /proc/self/cgroup /proc/1/cgroup && echo same-cgroup
		hostname; ps | sed -n 2p; ls /proc/$$/fd; true'
	assert_eq "$out" $'same-root\nsame-mounts\nsame-cgroup\nexechost\n    1 root     sleep 1000\n0\n1\n2' "what exec sees"
	assert_eq "$err" "" "exec's stderr"
	if [[ -n $(cg2_mount) ]]; then
		expect_ok sk exec -d --pid-file "$T/pid" c sleep 1000
		grep -qx "$(<"$T/pid")" "$(cg_dir c)/cgroup.procs" || fail "the exec process is not in the container's cgroup"
	fi
	expect_ok sk delete -f c
}

test_exec_process_settings_and_flags() {
	running c '.process.env = ["PATH=/bin", "A=config", "B=config"] | .process.cwd = "/tmp"
		| .process.oomScoreAdj = 123 | .process.user = {uid: 0, gid: 0, additionalGids: [3]}'
	# The container's process.* apply: env, cwd, user, HOME from its
	# /etc/passwd, oomScoreAdj, capabilities, noNewPrivileges.
	expect_ok sk exec c sh -c 'echo "$A $B $HOME"; pwd; id -u; id -g; id -G; cat /proc/self/oom_score_adj
		grep -E "^(CapBnd|NoNewPrivs)" /proc/self/status'
	assert_eq "$out" $'config config /root\n/tmp\n0\n0\n0 3\n123\nCapBnd:\t0000000020000420\nNoNewPrivs:\t1'
	# The flags on top.
	expect_ok sk exec --cwd / -e B=flag -e C=new -u 1000:1001 -g 5 --additional-gids=6 --cap CAP_SYS_ADMIN \
		--no-new-privs=false c sh -c 'echo "$A $B $C $HOME"; pwd; id -u; id -g; id -G
			grep -E "^(CapBnd|NoNewPrivs)" /proc/self/status'
	assert_eq "$out" $'config flag new /\n/\n1000\n1001\n1001 3 5 6\nCapBnd:\t0000000020200420\nNoNewPrivs:\t0'
	# -u UID keeps the config's gid.
	expect_ok sk exec -u 7 c sh -c 'id -u; id -g'
	assert_eq "$out" $'7\n0'
	# Neither exec's blocked signals nor those its caller ignores pass on.
	run bash -c 'trap "" INT QUIT; "$@"' bash "$SKIFF" --root "$ROOT" exec c grep -E '^Sig(Blk|Ign)' /proc/self/status
	assert_eq "$out" $'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000' "the process's signals"
	expect_ok sk delete -f c
	running d '.process.noNewPrivileges = false'
	expect_ok sk exec --no-new-privs d grep NoNewPrivs /proc/self/status
	assert_eq "$out" $'NoNewPrivs:\t1'
	expect_ok sk delete -f d
}

# -p from a pipe (`-p <(...)`), as runc reads it: to its end, bounded by
# config.json's size limit (8 MiB).
test_exec_process_from_a_pipe() {
	running c
	expect_ok sk exec -p <(printf '{"args": ["echo", "piped"], "cwd": "/", "env": ["PATH=/bin"]}') c
	assert_eq "$out" piped
	expect_fail 255 sk exec -p <(head -c 9000000 /dev/zero || true) c
	assert_contains "$err" "file is too large"
	expect_ok sk delete -f c
}

test_exec_process_file() {
	running c
	cat >"$T/p.json" <<-'EOF'
		{"args": ["sh", "-c", "echo $X; pwd; id -u; id -g; [ -t 0 ] && echo tty || echo no-tty"],
		 "cwd": "/tmp", "env": ["X=file", "PATH=/bin"], "user": {"uid": 7, "gid": 8}}
	EOF
	# The file replaces the process flags, as with runc: conmon passes
	# --tty along with --process.
	expect_ok sk exec -p "$T/p.json" --tty -e X=flag --cwd / c
	assert_eq "$out" $'file\n/tmp\n7\n8\nno-tty'
	printf '{"args": ["true"],\n "cwd": "/" x}' >"$T/bad.json"
	expect_fail 255 sk exec --process "$T/bad.json" c
	assert_eq "$err" "skiff exec: $T/bad.json: line 2, column 13: lexical error: invalid char in json text"
	printf '{"args": ["true"], "cwd": "/"}, {}' >"$T/two.json"
	expect_fail 255 sk exec --process "$T/two.json" c
	assert_eq "$err" "skiff exec: $T/two.json: line 1, column 31: parse error: trailing garbage"
	printf '{"args": ["true"], "cwd": "tmp"}' >"$T/rel.json"
	expect_fail 255 sk exec --process "$T/rel.json" c
	assert_eq "$err" "skiff exec: $T/rel.json: process.cwd: must be an absolute path"
	printf '{"cwd": "/", "env": ["NOEQUALS"], "args": ["true"]}' >"$T/env.json"
	expect_fail 255 sk exec --process "$T/env.json" c
	assert_eq "$err" "skiff exec: $T/env.json: process.env[0]: \"NOEQUALS\" is not NAME=VALUE"
	: >"$T/empty.json"
	expect_fail 255 sk exec --process "$T/empty.json" c
	assert_eq "$err" "skiff exec: $T/empty.json: file is empty"
	expect_ok sk delete -f c
}

test_exec_exit_status_and_signals() {
	running c
	expect_fail 3 sk exec c sh -c 'exit 3'
	expect_fail 137 sk exec c sh -c 'kill -KILL $$'
	# A signal to skiff exec goes on to the process.
	"$SKIFF" --root "$ROOT" exec c sh -c 'trap "echo got-usr1; exit 5" USR1; echo ready; while :; do sleep 0.1; done' >"$T/out" 2>&1 &
	local pid=$! st=0
	wait_for "$T/out" ready
	kill -USR1 "$pid"
	wait "$pid" || st=$?
	assert_eq "$st" 5 "exec's exit status"
	assert_eq "$(<"$T/out")" $'ready\ngot-usr1'
	expect_ok sk delete -f c
}

test_exec_detach_pid_file() {
	running c
	expect_ok sk exec -d --pid-file "$T/pid" c sh -c 'echo started >/dev/null; exec sleep 1000'
	assert_eq "$out$err" "" "exec -d's output"
	local pid nspid
	pid=$(<"$T/pid")
	assert_match "$pid" '^[0-9]+$' "--pid-file holds the number"
	assert_eq "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "sleep 1000 " "the detached process"
	# A member of the container's pid namespace, and not pid 1 there.
	nspid=$(sed -n 's/^NSpid:\t[0-9]*\t\([0-9]*\)$/\1/p' "/proc/$pid/status")
	assert_match "$nspid" '^[0-9]+$' "its pid in the container"
	((nspid > 1)) || fail "the exec process is pid $nspid in the container"
	assert_eq "$(status_of c)" running
	# delete --force takes it down with the container.
	expect_ok sk delete -f c
}

test_exec_tty_console_socket() {
	running c
	local mounts
	mounts=$(<"/proc/$(jq -r .pid <<<"$(sk state c)")/mountinfo")
	start_recvtty $'hello\n'
	expect_ok sk exec -d -t --console-socket "$T/tty.sock" -u 1000 c sh -c 'read l; echo "got $l"; tty
		echo reopened >/dev/stdout'
	wait "$recv_pid" || fail "recvtty failed: $(<"$T/recv.err")"
	assert_eq "$(<"$T/recv.out")" $'name=/dev/ptmx\nsize=0x0' "what recvtty received"
	local lines
	mapfile -t lines < <(tr -d '\r' <"$T/tty.out")
	assert_eq "${lines[*]}" "hello got hello /dev/pts/0 reopened" "terminal output"
	# The init's mounts are untouched (no /dev/console bind for an exec).
	assert_eq "$(<"/proc/$(jq -r .pid <<<"$(sk state c)")/mountinfo")" "$mounts" "the init's mounts"
	expect_ok sk delete -f c
}

test_exec_tty_on_the_callers_stdio() {
	running c
	expect_fail 7 sk exec -t c sh -c 'read l; echo "got $l"; tty; exit 7' <<<"hello"
	local lines
	mapfile -t lines < <(tr -d '\r' <<<"$out")
	assert_eq "${lines[*]}" "hello got hello /dev/pts/0" "exec's output"
	# runc's rules for the console socket.
	expect_fail 255 sk exec -d -t c true
	assert_eq "$err" "skiff exec: cannot allocate a tty when detaching without --console-socket"
	expect_fail 255 sk exec -t --console-socket "$T/none.sock" c true
	assert_eq "$err" "skiff exec: --console-socket needs --detach and a tty"
	expect_ok sk delete -f c
}

test_exec_stopped_container() {
	mk_bundle "$T/s" true
	expect_ok sk create --bundle "$T/s" s
	expect_ok sk start s
	local i
	for ((i = 0; i < 200; i++)); do
		[[ $(status_of s) == stopped ]] && break
		sleep 0.05
	done
	expect_fail 255 sk exec s true
	assert_eq "$err" "skiff exec: cannot exec in a stopped container"
	expect_ok sk delete s
	expect_fail 255 sk exec s true
	assert_eq "$err" "skiff exec: container \"s\" does not exist"
}

# runc accepts exec into a created container (its create.bats "runc create
# exec"): the container stays created.
test_exec_created_container() {
	mk_bundle "$T/c" sh -c 'echo started >/tmp/started; exec sleep 1000'
	cfg_edit "$T/c" '.root.readonly = false'
	expect_ok sk create --bundle "$T/c" c
	expect_ok sk exec c sh -c 'ps | sed -n 2p'
	assert_contains "$out" "    1 root     $SKIFF" "pid 1 before start"
	assert_eq "$(status_of c)" created
	[[ ! -e $T/c/rootfs/tmp/started ]] || fail "exec started the container"
	expect_ok sk start c
	wait_for "$T/c/rootfs/tmp/started" started
	expect_ok sk delete -f c
}

# The time namespace is entered at the init's execve: before start, exec
# must still get the container's (time_for_children), not the host's.
test_exec_time_namespace_before_start() {
	[[ -e /proc/self/ns/time ]] || skip "the kernel has no time namespaces"
	mk_bundle "$T/c" sleep 1000
	cfg_edit "$T/c" '.linux.namespaces += [{type: "time"}] | .linux.timeOffsets = {boottime: {secs: 864000}}'
	expect_ok sk create --bundle "$T/c" c
	local host up
	read -r host _ </proc/uptime
	expect_ok sk exec c cat /proc/uptime
	up=${out%%.*}
	((up >= ${host%%.*} + 864000)) || fail "uptime in the exec process: $up (host: $host)"
	expect_ok sk start c
	expect_ok sk exec c sh -c '[ "$(readlink /proc/self/ns/time)" = "$(readlink /proc/1/ns/time)" ] && echo same'
	assert_eq "$out" same
	expect_ok sk delete -f c
}

test_exec_paused_container() {
	require_cgroup2
	local d
	d=$(cg2_mount)$SKIFF_TEST_CGROUP
	mkdir -p "$d"
	[[ -e $d/cgroup.freeze ]] || skip "no cgroup.freeze in $d (cgroup v2 freezer: Linux 5.2)"
	skiff_has pause || skip "skiff has no pause command in this build"
	running c
	expect_ok sk pause c
	expect_fail 255 sk exec c true
	assert_eq "$err" "skiff exec: cannot exec in a paused container (use --ignore-paused to override)"
	# With --ignore-paused the process runs once the container resumes.
	"$SKIFF" --root "$ROOT" exec --ignore-paused c echo ran >"$T/out" 2>&1 &
	local pid=$! st=0
	sleep 0.5
	[[ ! -s $T/out ]] || fail "the exec process ran in a paused container: $(<"$T/out")"
	expect_ok sk resume c
	wait "$pid" || st=$?
	assert_eq "$st" 0 "exec's exit status"
	assert_eq "$(<"$T/out")" ran
	expect_ok sk delete -f c
}

test_exec_errors() {
	running c '.root.readonly = false'
	expect_fail 255 sk exec c nosuch
	assert_eq "$err" "skiff exec: exec: \"nosuch\": executable file not found in \$PATH"
	expect_fail 255 sk exec c /bin/nosuch
	assert_eq "$err" "skiff exec: exec: \"/bin/nosuch\": no such file or directory: ENOENT"
	expect_fail 255 sk exec c /etc/passwd
	assert_eq "$err" "skiff exec: exec: \"/etc/passwd\": permission denied: EACCES"
	expect_fail 255 sk exec --cwd /nonexistent c true
	assert_eq "$err" "skiff exec: chdir to cwd (\"/nonexistent\") set in config.json failed: ENOENT"
	# Nothing is left behind: the init is alone in its cgroup.
	if [[ -n $(cg2_mount) ]]; then
		assert_eq "$(<"$(cg_dir c)/cgroup.procs")" "$(jq -r .pid <<<"$(sk state c)")" "cgroup.procs"
	fi
	expect_ok sk delete -f c
}

test_exec_usage_errors() {
	running c
	expect_fail 2 sk exec c
	assert_eq "$err" "skiff exec: no command given (and no --process)"
	expect_fail 2 sk exec
	expect_fail 2 sk exec --user root c true
	assert_eq "$err" "skiff exec: --user \"root\": must be UID[:GID] (numbers)"
	expect_fail 2 sk exec -u 1:x c true
	expect_fail 2 sk exec -g -1 c true
	assert_eq "$err" "skiff exec: --additional-gids \"-1\": must be a gid (a number)"
	expect_fail 2 sk exec -e NOEQUALS c true
	assert_eq "$err" "skiff exec: --env \"NOEQUALS\": must be NAME=VALUE"
	expect_fail 2 sk exec --cwd tmp c true
	assert_eq "$err" "skiff exec: --cwd \"tmp\": must be an absolute path"
	expect_fail 2 sk exec --cap KILL c true
	assert_contains "$err" "skiff exec: --cap \"KILL\": unknown capability"
	expect_fail 2 sk exec --no-such-flag c true
	# Flags stop at the id; "--" before the command is dropped, as runc.
	expect_ok sk exec c -- echo -n -e x
	assert_eq "$out" x
	expect_ok sk delete -f c
}

test_exec_user_namespace() {
	[[ -e /proc/self/ns/user ]] || skip "no user namespaces"
	running c '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	expect_ok sk exec c sh -c 'id -u; tr -s " " </proc/self/uid_map
		[ "$(readlink /proc/self/ns/user)" = "$(readlink /proc/1/ns/user)" ] && echo same-userns'
	assert_eq "$out" $'0\n 0 100000 65536\nsame-userns'
	expect_ok sk exec -d --pid-file "$T/pid" -u 1000 c sleep 1000
	assert_eq "$(sed -n 's/^Uid:\t\([0-9]*\).*/\1/p' "/proc/$(<"$T/pid")/status")" 101000 "the exec process's host uid"
	expect_fail 255 sk exec -u 70000 c true
	assert_eq "$err" "skiff exec: process.user.uid: uid 70000 is not mapped in the container's user namespace: EINVAL"
	expect_ok sk delete -f c
}

test_exec_seccomp() {
	running c '.root.readonly = false | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO"}]}'
	expect_ok sk exec c sh -c 'mkdir /tmp/d 2>/dev/null || echo denied; grep Seccomp: /proc/self/status'
	assert_eq "$out" $'denied\nSeccomp:\t2'
	# Without no_new_privs the filter is loaded with CAP_SYS_ADMIN, then dropped.
	expect_ok sk exec --no-new-privs=false c sh -c 'mkdir /tmp/d 2>/dev/null || echo denied
		grep -E "^(CapEff|NoNewPrivs)" /proc/self/status'
	assert_eq "$out" $'denied\nCapEff:\t0000000020000420\nNoNewPrivs:\t0'
	expect_ok sk delete -f c
}

# start_agent NAME: a seccomp agent on $T/agent.sock answering getppid
# with 4242, writing what it receives to $T/NAME.json; its pid in NAME_agent.
start_agent() {
	"$AGENT" "$T/agent.sock" "$T/$1.json" getppid=4242 >"$T/$1.out" 2>"$T/$1.err" &
	printf -v "$1_agent" '%s' "$!"
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -S $T/agent.sock ]] && return 0
		sleep 0.05
	done
	fail "the agent did not listen: $(<"$T/$1.err")"
}

# The exec process gets its own listener, sent to the agent at listenerPath
# with its own pid and the container's state (runc's).
test_exec_seccomp_notify() {
	AGENT=$SK_CACHE/seccomp-agent
	if [[ ! -x $AGENT ]]; then
		cc -O2 -Wall -Wextra -Werror -o "$AGENT.$$" "$REPO/tests/integration/helpers/seccomp-agent.c" -lseccomp ||
			fail "cannot build the seccomp agent"
		mv "$AGENT.$$" "$AGENT"
	fi
	mk_bundle "$T/c" sleep 1000
	cfg_edit "$T/c" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock,
		syscalls: [{names: ["getppid"], action: "SCMP_ACT_NOTIFY"}]}' --arg sock "$T/agent.sock"
	# One agent per listener: the init's, then the exec process's.
	start_agent init
	expect_ok sk run -d --bundle "$T/c" c
	wait_for "$T/init.json" seccompFd
	rm "$T/agent.sock"
	start_agent exec
	expect_ok sk exec c sh -c 'echo "ppid=$PPID"'
	assert_eq "$out" "ppid=4242"
	wait "$exec_agent" || fail "the exec process's agent failed: $(<"$T/exec.err")"
	assert_eq "$(<"$T/exec.out")" "getppid=1"
	local init
	init=$(jq -r .pid <<<"$(sk state c)")
	run jq -c '[.pid == .state.pid, .state.pid, .state.status, .state.id]' "$T/exec.json"
	assert_eq "$out" "[false,$init,\"running\",\"c\"]" "the state sent with the exec process's listener"
	expect_ok sk delete -f c
	wait "$init_agent" || fail "the init's agent failed: $(<"$T/init.err")"
}

test_exec_preserve_fds() {
	running c
	echo "from fd 3" >"$T/file"
	expect_ok sk exec --preserve-fds 1 c sh -c 'cat <&3; ls /proc/$$/fd; true' 3<"$T/file"
	assert_eq "$out" $'from fd 3\n0\n1\n2\n3'
	expect_fail 255 sk exec --preserve-fds 2 c true 3<"$T/file"
	assert_eq "$err" "skiff exec: --preserve-fds 2: fd 4: EBADF"
	expect_ok sk delete -f c
}

test_exec_no_pivot() {
	mk_bundle "$T/c" sleep 1000
	: >"$T/c/rootfs/marker"
	expect_ok sk run -d --no-pivot --bundle "$T/c" c
	expect_ok sk exec c sh -c '[ / -ef /proc/1/root ] && [ -e /marker ] && echo same-root'
	assert_eq "$out" same-root
	expect_ok sk delete -f c
}

# A container whose cgroup hands a controller down to its own children
# takes no process (cgroup v2): exec joins the init's cgroup instead, as runc.
test_exec_cgroup_fallback() {
	require_cgroup2
	local d pid c
	# Any controller cgroup2 offers (pids in the VM, hugetlb on the
	# hybrid host).
	read -r c _ <"$(cg2_mount)/cgroup.controllers" || true
	[[ -n $c ]] || skip "no controller in $(cg2_mount) to hand down"
	running c '.linux.namespaces |= map(select(.type != "cgroup")) + [{type: "cgroup"}]'
	d=$(cg_dir c)
	pid=$(jq -r .pid <<<"$(sk state c)")
	# Handed down to the container's cgroup first, as a limit would.
	local a=$(cg2_mount) comp
	for comp in ${SKIFF_TEST_CGROUP//\// }; do
		echo "+$c" >"$a/cgroup.subtree_control"
		a=$a/$comp
	done
	echo "+$c" >"$a/cgroup.subtree_control"
	mkdir "$d/sub"
	echo "$pid" >"$d/sub/cgroup.procs"
	echo "+$c" >"$d/cgroup.subtree_control"
	expect_ok sk exec c cat /proc/self/cgroup
	assert_contains "$out" "0::/sub" "the exec process's cgroup"
	expect_ok sk delete -f c
}

test_exec_into_a_sub_cgroup() {
	# runc's --cgroup: an existing sub-cgroup of the container's (in every
	# hierarchy), resolved beneath it; no fallback when it cannot be used.
	running c '.linux.namespaces |= map(select(.type != "cgroup")) + [{type: "cgroup"}]'
	local d
	d=$(cg_dir c)
	cg_mkdir_all c sub/deeper
	expect_ok sk exec --cgroup sub/deeper c sh -c 'grep ^0:: /proc/self/cgroup'
	assert_eq "$out" "0::/sub/deeper" "the exec process's cgroup"
	expect_ok sk exec --cgroup /sub c sh -c 'grep ^0:: /proc/self/cgroup'
	assert_eq "$out" "0::/sub" "a leading / is the container's cgroup"
	expect_fail 255 sk exec --cgroup ../.. c true
	assert_eq "$err" "skiff exec: --cgroup \"../..\": open \"$d/../..\": EXDEV"
	expect_fail 255 sk exec --cgroup nosuch c true
	assert_eq "$err" "skiff exec: --cgroup \"nosuch\": open \"$d/nosuch\": ENOENT"
	if [[ -n $(cg_v1_mount pids) ]]; then
		# v1 (runc's form): only the hierarchies of the controllers named.
		expect_ok sk exec --cgroup pids:sub c cat /proc/self/cgroup
		assert_match "$out" $'(^|\n)[0-9]+:pids:/sub(\n|$)' "the pids line"
		assert_match "$out" $'(^|\n)0::/(\n|$)' "the cgroup2 line"
		expect_fail 255 sk exec --cgroup nosuch:sub c true
		assert_contains "$err" '"nosuch" names no cgroup v1 controller'
		# Repeated, one per controller (runc's StringSlice): each applies.
		expect_ok sk exec --cgroup pids:sub --cgroup memory:sub/deeper c cat /proc/self/cgroup
		assert_match "$out" $'(^|\n)[0-9]+:pids:/sub(\n|$)' "the pids line"
		assert_match "$out" $'(^|\n)[0-9]+:memory:/sub/deeper(\n|$)' "the memory line"
		expect_fail 255 sk exec --cgroup pids:sub --cgroup pids:sub/deeper c true
		assert_contains "$err" "a controller named by another --cgroup too"
		expect_fail 255 sk exec --cgroup sub --cgroup pids:sub c true
		assert_contains "$err" "must be the only --cgroup"
	else
		expect_fail 255 sk exec --cgroup pids:sub c true
		assert_eq "$err" "skiff exec: --cgroup \"pids:sub\": cgroup v2 takes a sub-cgroup path, without a controller prefix: EINVAL"
	fi
	expect_ok sk delete -f c
}

test_exec_pidfd_socket() {
	# runc 1.2's --pidfd-socket on exec: the exec'd process's pidfd.
	mk_bundle "$T/b" sleep 100
	expect_ok sk run -d -b "$T/b" pe
	"$(helper recvpidfd)" "$T/e.sock" >"$T/e.out" 2>&1 &
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -S $T/e.sock ]] && break
		sleep 0.05
	done
	expect_ok sk exec -d --pid-file "$T/e.pid" --pidfd-socket "$T/e.sock" pe sleep 0.3
	wait
	assert_eq "$(<"$T/e.out")" $'name=pidfd\npid='"$(<"$T/e.pid")"$'\nexited'
	expect_ok sk delete -f pe
}
