# shellcheck shell=bash
# $out, $err and $status come from lib.sh's run; single quotes hold jq and sh code.
# shellcheck disable=SC2154,SC2016
# linux.seccomp (docs/seccomp.md): podman's default profile (Docker's format,
# converted by helpers/docker2oci.jq) under ordinary programs and the calls
# it refuses; hand-written profiles (default errno, allow list, kill, args,
# log, flags, unknown names); bad input; SCMP_ACT_NOTIFY with an agent
# (helpers/seccomp-agent.c); the cache of compiled filters.  Precise checks
# use helpers/seccomp-probe.c, a static program that makes the syscalls it
# is given and prints their results.  x86_64 only (the probe's syscall table
# and the profile's architecture).

PODMAN_PROFILE=/usr/share/containers/seccomp.json
# containers.conf's default_capabilities.
PODMAN_CAPS='["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
	"CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"]'

_require_x86_64() { [[ $(uname -m) == x86_64 ]] || skip "x86_64 only (probe syscall table, profile architecture)"; }

# The probe, built static once per run: the rootfs has no libc.
_probe() {
	_require_x86_64
	PROBE=$SK_CACHE/seccomp-probe
	[[ -x $PROBE ]] && return 0
	command -v cc >/dev/null || skip "no C compiler (cc) to build the seccomp probe"
	[[ $(cc -print-file-name=libc.a) == /* ]] || skip "no static libc (libc6-dev's libc.a) for the seccomp probe"
	cc -static -O2 -Wall -Wextra -Werror -o "$PROBE.$$" "$REPO/tests/integration/helpers/seccomp-probe.c" ||
		fail "cannot build the seccomp probe"
	mv "$PROBE.$$" "$PROBE"
}

_agent() {
	AGENT=$SK_CACHE/seccomp-agent
	[[ -x $AGENT ]] && return 0
	cc -O2 -Wall -Wextra -Werror -o "$AGENT.$$" "$REPO/tests/integration/helpers/seccomp-agent.c" -lseccomp ||
		fail "cannot build the seccomp agent"
	mv "$AGENT.$$" "$AGENT"
}

# sc_bundle DIR [CMD...]: mk_bundle with the probe as /bin/probe.
sc_bundle() {
	_probe
	mk_bundle "$@"
	cp "$PROBE" "$1/rootfs/bin/probe"
}

# set_seccomp DIR JSON [JQ ARGS...]: linux.seccomp of DIR is JSON (jq syntax).
set_seccomp() { cfg_edit "$1" ".linux.seccomp = ($2)" "${@:3}"; }

# podman_profile [CAPS]: podman's default profile as linux.seccomp for
# amd64 and CAPS (default: podman's), in $T/podman-seccomp.json.
podman_profile() {
	_require_x86_64
	[[ -r $PODMAN_PROFILE ]] ||
		skip "$PODMAN_PROFILE missing (golang-github-containers-common; make deps-test installs it)"
	jq -f "$REPO/tests/integration/helpers/docker2oci.jq" --argjson caps "${1:-$PODMAN_CAPS}" \
		--arg kernel "$(uname -r)" "$PODMAN_PROFILE" >"$T/podman-seccomp.json" || fail "docker2oci.jq failed"
}

# podman_config DIR [CAPS]: DIR's container as podman makes it: CAPS (default
# podman's), no_new_privileges off, podman's profile for CAPS.
podman_config() {
	local caps=${2:-$PODMAN_CAPS}
	podman_profile "$caps"
	cfg_edit "$1" '.process.capabilities = {bounding: $c, effective: $c, permitted: $c}
		| .process.noNewPrivileges = false | .linux.seccomp = $p[0]' \
		--argjson c "$caps" --slurpfile p "$T/podman-seccomp.json"
}

# probe_results: the probe's output in $out as R[CALL]=RESULT, a return
# value (a number) shown as "ok".
probe_results() {
	local line
	declare -gA R=()
	while IFS= read -r line; do
		[[ $line == *=* ]] || continue
		R[${line%=*}]=${line##*=}
		[[ ${R[${line%=*}]} =~ ^-?[0-9]+$ ]] && R[${line%=*}]=ok
	done <<<"$out"
	return 0
}

# expect_result CALL RESULT: what the probe printed for CALL.
expect_result() { assert_eq "${R[$1]-(not printed)}" "$2" "$1"; }

test_seccomp_podman_profile_ordinary_programs() {
	# What a shell script does goes through; sethostname is refused for
	# want of CAP_SYS_ADMIN, with the profile's EPERM.
	mk_bundle "$T/b" sh -c 'echo hello; ls /bin/busybox; cat /etc/passwd; sleep 0.1; echo a b c | wc -w
		ps -o pid,comm | grep -E "^ *1 " | tr -s " "; date +%Y | grep -cE "^[0-9]{4}$"; mkdir -p /dev/shm/d && echo dir-made
		grep "^Seccomp:" /proc/self/status | tr -d "\t"; hostname x; echo "hostname=$?"'
	podman_config "$T/b"
	expect_ok sk run --bundle "$T/b" ord
	assert_eq "$out" $'hello\n/bin/busybox\nroot:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n3\n 1 sh\n1\ndir-made\nSeccomp:2\nhostname=1'
	assert_eq "$err" "hostname: sethostname: Operation not permitted"
}

test_seccomp_podman_profile_denials() {
	# The same calls without a filter and under podman's profile, with
	# podman's capabilities: the profile's rules show where it changes
	# the kernel's answer.
	local calls=(vmsplice:-1:0:0:0 personality:0xffffffff personality:8 personality:6 add_key socket:16:3:9 socket:16:3:0
		userfaultfd:0 kexec_load:0:0:0:0xdead0000 bpf:0:0:0 sethostname:x:1 acct:0 swapon:/nonexistent:0
		open_by_handle_at:-1:0:0 chroot:/nonexistent 1000
		keyctl:0:0xfffffffd mount:none:/tmp:tmpfs:0:0 setns:-1:0 clone:0x10000011 unshare:0x10000000)
	sc_bundle "$T/b" probe "${calls[@]}"
	cfg_edit "$T/b" '.process.capabilities = {bounding: $c, effective: $c, permitted: $c} | .process.noNewPrivileges = false' \
		--argjson c "$PODMAN_CAPS"
	expect_ok sk run --bundle "$T/b" nofilter
	probe_results
	declare -A plain=()
	local k
	for k in "${!R[@]}"; do plain[$k]=${R[$k]}; done

	podman_config "$T/b"
	expect_ok sk run --bundle "$T/b" podman
	probe_results
	# Explicitly refused with EPERM (the kernel alone says EBADF).
	assert_eq "${plain[vmsplice:-1:0:0:0]}" EBADF "vmsplice without a filter"
	expect_result vmsplice:-1:0:0:0 EPERM
	expect_result userfaultfd:0 EPERM
	expect_result kexec_load:0:0:0:0xdead0000 EPERM
	expect_result swapon:/nonexistent:0 EPERM
	# personality: the allowed values only; others get the default
	# action, ERRNO(ENOSYS).
	expect_result personality:0xffffffff ok
	expect_result personality:8 ok
	assert_eq "${plain[personality:6]}" ok "personality(PER_BSD) without a filter"
	expect_result personality:6 ENOSYS
	# Not in the profile at all: the default.
	assert_not_contains "${plain[add_key]}" ENOSYS "add_key without a filter"
	expect_result add_key ENOSYS
	expect_result 1000 ENOSYS
	# socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT) without CAP_AUDIT_WRITE:
	# EINVAL (two args ANDed); other netlink sockets go through.
	[[ ${plain[socket:16:3:9]} != EINVAL ]] || fail "NETLINK_AUDIT socket without a filter: EINVAL"
	expect_result socket:16:3:9 EINVAL
	expect_result socket:16:3:0 ok
	# Refused for want of a capability podman does not grant: EPERM.
	expect_result bpf:0:0:0 EPERM
	expect_result sethostname:x:1 EPERM
	expect_result acct:0 EPERM
	expect_result open_by_handle_at:-1:0:0 EPERM
	# Granted with CAP_SYS_CHROOT: the kernel answers.
	expect_result chroot:/nonexistent ENOENT
	# This profile leaves keys, mounts, setns and user namespaces to the
	# capabilities: the kernel's answer, filter or not.
	for k in keyctl:0:0xfffffffd mount:none:/tmp:tmpfs:0:0 setns:-1:0 clone:0x10000011 unshare:0x10000000; do
		expect_result "$k" "${plain[$k]}"
		assert_not_contains "${R[$k]}" ENOSYS "$k"
	done
	expect_result setns:-1:0 EBADF
	expect_result mount:none:/tmp:tmpfs:0:0 EPERM
}

test_seccomp_podman_profile_with_cap_sys_admin() {
	# The profile as podman converts it for a container with
	# CAP_SYS_ADMIN: sethostname is allowed (includes.caps).
	mk_bundle "$T/b" sh -c 'hostname x && hostname'
	podman_config "$T/b" "$(jq -c '. + ["CAP_SYS_ADMIN"]' <<<"$PODMAN_CAPS")"
	expect_ok sk run --bundle "$T/b" admin
	assert_eq "$out" x
}

test_seccomp_podman_profile_non_root_user() {
	# A user without capabilities and no_new_privileges off: the init
	# keeps CAP_SYS_ADMIN until the filter is in, then drops it.
	sc_bundle "$T/b" sh -c 'id -u; grep -E "^(CapEff|Seccomp):" /proc/self/status | tr -d "\t"; probe vmsplice:-1:0:0:0 bpf:0:0:0'
	podman_config "$T/b"
	cfg_edit "$T/b" '.process.user = {uid: 1000, gid: 1000}'
	expect_ok sk run --bundle "$T/b" user
	assert_eq "$out" $'1000\nCapEff:0000000000000000\nSeccomp:2\nvmsplice:-1:0:0:0=EPERM\nbpf:0:0:0=EPERM'
}

# The syscalls the init makes after loading the filter (docs/seccomp.md;
# sendto for its error reports), and those of the probe's static glibc
# start-up and output.
INIT_CALLS='"close_range", "sendmsg", "sendto", "recvmsg", "close", "poll", "read", "execve"'
PROBE_CALLS='"brk", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64", "readlink",
	"getrandom", "mprotect", "newfstatat", "lseek", "write", "exit_group"'

test_seccomp_errno_default_with_allow_list() {
	sc_bundle "$T/b" probe getpid getppid getpgid:0 1000 441
	set_seccomp "$T/b" '{defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 13,
		syscalls: [{names: ['"$INIT_CALLS, $PROBE_CALLS"', "getpid"], action: "SCMP_ACT_ALLOW"}]}'
	expect_ok sk run --bundle "$T/b" allow
	probe_results
	expect_result getpid ok
	expect_result getppid EACCES
	expect_result getpgid:0 EACCES
	# Numbered above every syscall the profile names (close_range, 436):
	# ENOSYS, so that a program can tell a syscall the profile does not
	# know from one it forbids.
	expect_result 1000 ENOSYS
	expect_result 441 ENOSYS
	# Without defaultErrnoRet: EPERM.
	cfg_edit "$T/b" 'del(.linux.seccomp.defaultErrnoRet)'
	expect_ok sk run --bundle "$T/b" allow2
	probe_results
	expect_result getpid ok
	expect_result getppid EPERM
	expect_result 1000 ENOSYS
}

test_seccomp_kill_actions() {
	# KILL_PROCESS, KILL (a thread: the whole single-threaded process)
	# and TRAP all end the caller with SIGSYS: run exits 128+31.
	sc_bundle "$T/b" probe getpid getpgid:0 getpid
	set_seccomp "$T/b" '{defaultAction: "SCMP_ACT_ALLOW", syscalls: [
		{names: ["getpgid"], action: "SCMP_ACT_KILL_PROCESS"},
		{names: ["getsid"], action: "SCMP_ACT_KILL"},
		{names: ["getpriority"], action: "SCMP_ACT_TRAP"}]}'
	expect_fail 159 sk run --bundle "$T/b" killp
	assert_eq "$out" "getpid=1" "output before the kill"
	cfg_edit "$T/b" '.process.args = ["probe", "getsid:0"]'
	expect_fail 159 sk run --bundle "$T/b" killt
	# Only the offender dies: its shell goes on.
	cfg_edit "$T/b" '.process.args = ["sh", "-c", "for c in getpgid:0 getsid:0 getpriority:0:0; do probe $c; echo $c=$?; done"]'
	expect_ok sk run --bundle "$T/b" shell
	assert_eq "$out" $'getpgid:0=159\ngetsid:0=159\ngetpriority:0:0=159'
}

test_seccomp_args() {
	sc_bundle "$T/b" probe getpgid:0x100000004242 getpgid:0x4242 getsid:1111 getsid:2222 getsid:0 \
		getpriority:0:200 getpriority:1:200 getpriority:0:0 umask:0777 umask:0022
	set_seccomp "$T/b" '{defaultAction: "SCMP_ACT_ALLOW", syscalls: [
		{names: ["getpgid"], action: "SCMP_ACT_ERRNO", errnoRet: 25,
		 args: [{index: 0, value: 17592186061378, op: "SCMP_CMP_EQ"}]},
		{names: ["getsid"], action: "SCMP_ACT_ERRNO", errnoRet: 26,
		 args: [{index: 0, value: 1111, op: "SCMP_CMP_EQ"}, {index: 0, value: 2222, op: "SCMP_CMP_EQ"}]},
		{names: ["getpriority"], action: "SCMP_ACT_ERRNO", errnoRet: 18,
		 args: [{index: 0, value: 0, op: "SCMP_CMP_EQ"}, {index: 1, value: 100, op: "SCMP_CMP_GT"}]},
		{names: ["umask"], action: "SCMP_ACT_ERRNO", errnoRet: 27,
		 args: [{index: 0, value: 448, valueTwo: 448, op: "SCMP_CMP_MASKED_EQ"}]}]}'
	expect_ok sk run --bundle "$T/b" args
	probe_results
	# 64-bit values: the upper half counts.
	expect_result getpgid:0x100000004242 ENOTTY
	expect_result getpgid:0x4242 ESRCH
	# Two args on one index: either matches.
	expect_result getsid:1111 ETXTBSY
	expect_result getsid:2222 ETXTBSY
	expect_result getsid:0 ok
	# Two indexes: both must match.
	expect_result getpriority:0:200 EXDEV
	expect_result getpriority:1:200 ESRCH
	expect_result getpriority:0:0 ok
	expect_result umask:0777 EFBIG
	expect_result umask:0022 ok
}

# audit_records EXE: the kernel's seccomp audit lines (type=1326) of EXE.
audit_records() { dmesg 2>/dev/null | grep 'type=1326' | grep -F "exe=\"$1\"" || true; }

test_seccomp_log() {
	# SCMP_ACT_LOG lets the call through and logs it; the LOG flag logs
	# every action but ALLOW (here ERRNO).  Each run has its own
	# executable name, to find its audit records.
	local exe1=/bin/log1-$$-$RANDOM exe2=/bin/log2-$$-$RANDOM
	sc_bundle "$T/b" "$exe1" getpgid:0 getsid:0
	cp "$PROBE" "$T/b/rootfs$exe1"
	cp "$PROBE" "$T/b/rootfs$exe2"
	set_seccomp "$T/b" '{defaultAction: "SCMP_ACT_ALLOW", syscalls: [
		{names: ["getpgid"], action: "SCMP_ACT_LOG"},
		{names: ["getsid"], action: "SCMP_ACT_ERRNO", errnoRet: 5}]}'
	expect_ok sk run --bundle "$T/b" log
	assert_match "$out" $'^getpgid:0=[0-9]+\ngetsid:0=EIO$'
	cfg_edit "$T/b" '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_LOG"] | .process.args[0] = $e' --arg e "$exe2"
	expect_ok sk run --bundle "$T/b" logflag
	assert_match "$out" $'^getpgid:0=[0-9]+\ngetsid:0=EIO$'
	local r1 r2
	r1=$(audit_records "$exe1")
	r2=$(audit_records "$exe2")
	[[ -n $r1 ]] || skip "the calls were right, but the kernel log has no seccomp audit record to check (audit off, or rate-limited)"
	# getpgid is 121, getsid 124 on x86_64; LOG is code 0x7ffc0000.
	assert_contains "$r1" "syscall=121 compat=0"
	assert_contains "$r1" "code=0x7ffc0000"
	assert_not_contains "$r1" "syscall=124" "records without the LOG flag"
	assert_contains "$r2" "syscall=121 compat=0"
	assert_contains "$r2" "syscall=124 compat=0" "records with the LOG flag"
}

test_seccomp_flags() {
	sc_bundle "$T/b" probe getsid:0
	set_seccomp "$T/b" '{defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["getsid"], action: "SCMP_ACT_ERRNO"}]}'
	local flags
	# TSYNC is accepted (the init is single-threaded); WAIT_KILLABLE_RECV
	# is ignored without a NOTIFY rule.
	for flags in '[]' '["SECCOMP_FILTER_FLAG_SPEC_ALLOW"]' '["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG"]' \
		'["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]'; do
		cfg_edit "$T/b" '.linux.seccomp.flags = $f' --argjson f "$flags"
		expect_ok sk run --bundle "$T/b" flags
		assert_eq "$out" "getsid:0=EPERM" "with flags $flags"
	done
}

test_seccomp_unknown_syscall_name_skipped() {
	sc_bundle "$T/b" probe getpgid:0 getsid:0
	set_seccomp "$T/b" '{defaultAction: "SCMP_ACT_ALLOW",
		syscalls: [{names: ["skiff_no_such_syscall", "getpgid"], action: "SCMP_ACT_ERRNO", errnoRet: 33}]}'
	expect_ok sk --debug run --bundle "$T/b" unknown
	assert_match "$out" $'^getpgid:0=EDOM\ngetsid:0=[0-9]+$'
	assert_match "$err" 'linux\.seccomp\.syscalls\[0\]\.names\[0\]: unknown syscall \\?"skiff_no_such_syscall\\?" ignored'
}

test_seccomp_bad_input() {
	mk_bundle "$T/b" true
	local -a cases=(
		'{defaultAction: "SCMP_ACT_NOPE"}'
		'linux.seccomp.defaultAction: unknown seccomp action "SCMP_ACT_NOPE"'
		'{defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["getpid"], action: "SCMP_ACT_FOO"}]}'
		'linux.seccomp.syscalls[0].action: unknown seccomp action "SCMP_ACT_FOO"'
		'{defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"]}'
		'linux.seccomp.architectures[1]: unknown seccomp architecture "SCMP_ARCH_VAX"'
		'{defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["getpid"], action: "SCMP_ACT_ERRNO", args: [{index: 0, value: 1, op: "SCMP_CMP_XX"}]}]}'
		'linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator "SCMP_CMP_XX"'
		'{defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["getpid"], action: "SCMP_ACT_ERRNO", args: [{index: 6, value: 1, op: "SCMP_CMP_EQ"}]}]}'
		'linux.seccomp.syscalls[0].args[0].index: must be an integer in range 0..5'
		'{defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["getpid"], action: "SCMP_ACT_ALLOW", errnoRet: 3}]}'
		'linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE'
		'{defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 70000}'
		'linux.seccomp.defaultErrnoRet: 70000 does not fit in 16 bits'
		'{defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_BOGUS"]}'
		'linux.seccomp.flags[0]: unknown seccomp flag "SECCOMP_FILTER_FLAG_BOGUS"'
		'{defaultAction: "SCMP_ACT_NOTIFY", listenerPath: "/nonexistent.sock"}'
		'linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action'
		'{defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["getpid"], action: "SCMP_ACT_NOTIFY"}]}'
		'linux.seccomp.listenerPath: is required when SCMP_ACT_NOTIFY is used (syscalls[0])'
		'{defaultAction: "SCMP_ACT_ALLOW", listenerPath: "/nonexistent.sock", syscalls: [{names: ["sendmsg"], action: "SCMP_ACT_NOTIFY"}]}'
		'linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY cannot apply to "sendmsg": the init hands the listener over with it'
		'{defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["getpid"], action: "SCMP_ACT_ERRNO", args: [{index: 0, value: 1, op: "SCMP_CMP_EQ"}]},
		  {names: ["getpid"], action: "SCMP_ACT_KILL", args: [{index: 0, value: 1, op: "SCMP_CMP_EQ"}]}]}'
		'linux.seccomp.syscalls[1].names[0]: add rule for "getpid": EEXIST'
	)
	local i
	for ((i = 0; i < ${#cases[@]}; i += 2)); do
		set_seccomp "$T/b" "${cases[i]}"
		expect_fail 1 sk create --bundle "$T/b" bad
		assert_eq "$err" "skiff create: config.json: ${cases[i + 1]}"
		assert_empty_dir "$ROOT"
	done
}

test_seccomp_notify() {
	# The agent answers mkdir (and mkdirat) with 0 without making the
	# directory, and getppid with 4242; it gets the listener and the
	# container process state from create.
	_agent
	sc_bundle "$T/b" sh -c 'echo "ppid=$PPID"; mkdir /tmp/made && echo mkdir-ok; [ -d /tmp/made ] && echo made || echo absent; probe getppid'
	local flags='[]'
	# WAIT_KILLABLE_RECV: Linux 5.19.
	[[ $(printf '%s\n' 5.19 "$(uname -r)" | sort -V | head -n 1) == 5.19 ]] && flags='["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]'
	set_seccomp "$T/b" '{defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: "meta data",
		flags: '"$flags"', syscalls: [{names: ["mkdir", "mkdirat", "getppid"], action: "SCMP_ACT_NOTIFY"}]}' \
		--arg sock "$T/agent.sock"
	"$AGENT" "$T/agent.sock" "$T/state.json" mkdir=0 mkdirat=0 getppid=4242 >"$T/agent.out" 2>"$T/agent.err" &
	local agent=$! i
	for ((i = 0; i < 100; i++)); do
		[[ -S $T/agent.sock ]] && break
		sleep 0.05
	done
	[[ -S $T/agent.sock ]] || fail "the agent did not listen: $(<"$T/agent.err")"
	sk create --bundle "$T/b" notify >"$T/out" 2>"$T/err" || fail "create failed: $(<"$T/err")"
	run sk state notify
	local pid
	pid=$(jq .pid <<<"$out")
	run jq -c '[.ociVersion, .fds, .pid, .metadata, .state.ociVersion, .state.id, .state.status, .state.pid, .state.bundle]' "$T/state.json"
	assert_eq "$out" '["1.3.0",["seccompFd"],'"$pid"',"meta data","1.3.0","notify","creating",'"$pid"',"'"$T/b"'"]' "process state"
	expect_ok sk start notify
	for ((i = 0; i < 100; i++)); do
		run sk state notify
		[[ $(jq -r .status <<<"$out") == stopped ]] && break
		sleep 0.05
	done
	expect_ok sk delete notify
	wait "$agent" || fail "the agent failed: $(<"$T/agent.err")"
	assert_eq "$(<"$T/out")" $'ppid=4242\nmkdir-ok\nabsent\ngetppid=4242'
	[[ ! -e $T/b/rootfs/tmp/made ]] || fail "the agent's mkdir was made"
	local answered
	answered=$(<"$T/agent.out")
	assert_contains "$answered" "getppid=2"
	assert_match "$answered" $'mkdir=1\nmkdirat=0|mkdir=0\nmkdirat=1' "mkdir calls answered"
}

test_seccomp_notify_without_agent() {
	mk_bundle "$T/b" true
	set_seccomp "$T/b" '{defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock,
		syscalls: [{names: ["mkdir"], action: "SCMP_ACT_NOTIFY"}]}' --arg sock "$T/none.sock"
	expect_fail 1 sk create --bundle "$T/b" noagent
	assert_eq "$err" "skiff create: connect to the seccomp agent at \"$T/none.sock\": ENOENT"
	[[ ! -e $ROOT/noagent ]] || fail "state left for noagent"
}

test_seccomp_cache() {
	sc_bundle "$T/b" probe getsid:0
	set_seccomp "$T/b" '{defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["getsid"], action: "SCMP_ACT_ERRNO", errnoRet: 42}]}'
	expect_ok sk --debug run --bundle "$T/b" c1
	assert_eq "$out" "getsid:0=ENOMSG"
	assert_not_contains "$err" "from the cache"
	local entries=("$ROOT"/.seccomp/*)
	assert_eq "${#entries[@]}" 1 "cache entries"
	assert_eq "$(stat -c %a "$ROOT/.seccomp") $(stat -c %a "${entries[0]}")" "700 600" "cache modes"
	expect_ok sk --debug run --bundle "$T/b" c2
	assert_eq "$out" "getsid:0=ENOMSG"
	assert_contains "$err" "seccomp: filter .seccomp/${entries[0]##*/} from the cache"
	# A damaged entry is a miss, and is written again.
	local size
	size=$(stat -c %s "${entries[0]}")
	printf 'garbage' >"${entries[0]}"
	expect_ok sk --debug run --bundle "$T/b" c3
	assert_eq "$out" "getsid:0=ENOMSG"
	assert_not_contains "$err" "from the cache"
	assert_eq "$(stat -c %s "${entries[0]}")" "$size" "rewritten entry size"
	# Another errno is another filter.
	cfg_edit "$T/b" '.linux.seccomp.syscalls[0].errnoRet = 43'
	expect_ok sk run --bundle "$T/b" c4
	assert_eq "$out" "getsid:0=EIDRM"
	entries=("$ROOT"/.seccomp/*)
	assert_eq "${#entries[@]}" 2 "cache entries"
}

test_seccomp_profile_denies_exec() {
	# A profile that refuses what the process needs: run fails, and
	# leaves nothing behind.
	mk_bundle "$T/b" true
	set_seccomp "$T/b" '{defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["execve"], action: "SCMP_ACT_ERRNO"}]}'
	run sk run --bundle "$T/b" noexec
	((status != 0)) || fail "run succeeded without execve"
	assert_match "$err" 'exec: .*true.*: EPERM'
	[[ ! -e $ROOT/noexec ]] || fail "state left for noexec"
}
