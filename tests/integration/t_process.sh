# shellcheck shell=bash disable=SC2016,SC2154
# (single quotes hold sh scripts for the container; run() in lib.sh sets $out and $err)
# The container's process: env, cwd, user, umask, rlimits, capabilities,
# noNewPrivileges, oomScoreAdj, personality, sysctl, and the create-time
# failures of a missing binary or cwd (docs/process.md).

# prun ID 'SCRIPT' [JQ EXPR [JQ ARGS...]]: a bundle $T/ID running sh -c
# SCRIPT, its config edited by the jq expression, run; $out is the output.
prun() {
	local id=$1 script=$2
	shift 2
	mk_bundle "$T/$id" sh -c "$script"
	(($# == 0)) || cfg_edit "$T/$id" "$@"
	expect_ok sk run --bundle "$T/$id" "$id"
}

# The "Name:" line of the process's /proc/self/status, printed by the
# container: `status_of NAME` is the sh snippet.
status_of() { printf 'grep "^%s:" /proc/self/status | tr -d "\\t"; ' "$@"; }

test_process_env() {
	prun env 'printf "%s|%s|%s" "$FOO" "$HOME" "$PATH"' \
		'.process.env = ["FOO=1", "PATH=/usr/bin:/bin", "HOME=", "FOO=2"]'
	assert_eq "$out" "2|/root|/usr/bin:/bin" "FOO, HOME (from /etc/passwd), PATH"
	prun env2 'printf "%s" "$HOME"' '.process.env = ["PATH=/bin", "HOME=/here"]'
	assert_eq "$out" "/here" "HOME given"
	prun env3 'printf "%s" "$HOME"' '.process.env = ["PATH=/bin"] | .process.user = {uid: 4242, gid: 4242}'
	assert_eq "$out" "/" "HOME of a uid not in /etc/passwd"
}

test_process_cwd() {
	prun cwd 'pwd' '.process.cwd = "/tmp"'
	assert_eq "$out" "/tmp"
}

test_process_user() {
	prun user 'id -u; id -g; id -G; umask' \
		'.process.user = {uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 63}'
	local lines
	mapfile -t lines <<<"$out"
	assert_eq "${lines[0]}" 1000 "uid"
	assert_eq "${lines[1]}" 1000 "gid"
	assert_eq "${lines[2]}" "1000 10 20" "groups"
	assert_eq "${lines[3]}" "0077" "umask"
	prun umask 'umask' 'del(.process.user.umask)'
	assert_eq "$out" "0022" "default umask"
}

test_process_user_can_reopen_stdout() {
	# The stdio pipe is handed to the user (runc's fixStdioPermissions).
	mk_bundle "$T/b" sh -c 'echo via-dev-stdout >/dev/stdout'
	cfg_edit "$T/b" '.process.user = {uid: 1000, gid: 1000}'
	sk run --bundle "$T/b" reopen | cat >"$T/out"
	assert_eq "$(<"$T/out")" "via-dev-stdout"
}

test_process_rlimits() {
	prun rl 'grep -E "^Max (open files|core file size)" /proc/self/limits | tr -s " "' \
		'.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 123, hard: 456}, {type: "RLIMIT_CORE", soft: 0, hard: 0}]'
	assert_contains "$out" "Max core file size 0 0 bytes"
	assert_contains "$out" "Max open files 123 456 files"
}

test_process_capabilities_root() {
	local caps='.process.capabilities = {
		bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
		effective: ["CAP_CHOWN", "CAP_KILL"], permitted: ["CAP_CHOWN", "CAP_KILL"],
		inheritable: ["CAP_KILL"], ambient: ["CAP_KILL"]}'
	# With no_new_privs the sets are exactly the configured ones.
	prun caps "$(status_of CapInh CapPrm CapEff CapBnd CapAmb)" "$caps | .process.noNewPrivileges = true"
	assert_eq "$out" $'CapInh:0000000000000020\nCapPrm:0000000000000021\nCapEff:0000000000000021\nCapBnd:0000000000000421\nCapAmb:0000000000000020'
	# Without it, uid 0 gets its bounding set back at execve (capabilities(7)).
	prun caps_nnp0 "$(status_of CapInh CapPrm CapEff CapBnd CapAmb)" "$caps | .process.noNewPrivileges = false"
	assert_eq "$out" $'CapInh:0000000000000020\nCapPrm:0000000000000421\nCapEff:0000000000000421\nCapBnd:0000000000000421\nCapAmb:0000000000000020'
	# Another uid keeps its ambient set only.
	prun caps_user "$(status_of CapInh CapPrm CapEff CapBnd CapAmb)" "$caps | .process.user = {uid: 1000, gid: 1000}"
	assert_eq "$out" $'CapInh:0000000000000020\nCapPrm:0000000000000020\nCapEff:0000000000000020\nCapBnd:0000000000000421\nCapAmb:0000000000000020'
}

# `runc spec`'s sets (1.1): ambient capabilities without inheritable ones.
# The kernel cannot keep them ambient, as runc's own config asks: nothing
# is wrong, so stderr stays the process's own (issue 23); --debug says why,
# and does not blame the runtime (issue 12).
test_process_capabilities_ambient_without_inheritable() {
	prun amb "$(status_of CapAmb CapEff)" '.process.capabilities = {
		bounding: ["CAP_KILL", "CAP_AUDIT_WRITE"], effective: ["CAP_KILL", "CAP_AUDIT_WRITE"],
		permitted: ["CAP_KILL", "CAP_AUDIT_WRITE"], ambient: ["CAP_KILL", "CAP_AUDIT_WRITE"]}'
	assert_eq "$out" $'CapAmb:0000000000000000\nCapEff:0000000020000020'
	assert_eq "$err" "" "stderr"
	expect_ok sk --debug run --bundle "$T/amb" amb
	assert_contains "$err" "process.capabilities.ambient: CAP_KILL CAP_AUDIT_WRITE not raised: an ambient capability must also be in the inheritable and permitted sets"
	assert_not_contains "$err" "not held by the runtime"
}

test_process_capabilities_empty_and_absent() {
	prun none "$(status_of CapPrm CapEff CapBnd CapAmb)" '.process.capabilities = {}'
	assert_eq "$out" $'CapPrm:0000000000000000\nCapEff:0000000000000000\nCapBnd:0000000000000000\nCapAmb:0000000000000000'
	# No capabilities object: left alone, as runc (the runtime's own sets).
	local bnd
	bnd=$(grep '^CapBnd:' /proc/self/status | tr -d '\t')
	prun absent "$(status_of CapBnd)" 'del(.process.capabilities)'
	assert_eq "$out" "$bnd"
}

test_process_no_new_privileges() {
	prun nnp "$(status_of NoNewPrivs)" '.process.noNewPrivileges = true'
	assert_eq "$out" "NoNewPrivs:1"
	prun nnp0 "$(status_of NoNewPrivs)" '.process.noNewPrivileges = false'
	assert_eq "$out" "NoNewPrivs:0"
}

test_process_oom_score_adj() {
	prun oom 'cat /proc/self/oom_score_adj' '.process.oomScoreAdj = 500'
	assert_eq "$out" "500"
}

test_process_personality() {
	prun per 'uname -m' '.linux.personality = {domain: "LINUX32"}'
	assert_match "$out" '^i[3-6]86$' "uname -m under LINUX32"
	mk_bundle "$T/flags" true
	cfg_edit "$T/flags" '.linux.personality = {domain: "LINUX", flags: ["X"]}'
	expect_fail 1 sk create --bundle "$T/flags" flags
	assert_contains "$err" 'linux.personality.flags: "X" is not supported'
}

test_process_sysctl() {
	prun sysctl 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni' \
		'.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"}'
	assert_eq "$out" $'1\n1234'
}

test_process_sysctl_host_refused() {
	local before
	before=$(</proc/sys/vm/swappiness)
	mk_bundle "$T/b" true
	cfg_edit "$T/b" '.linux.sysctl = {"vm.swappiness": "1"}'
	expect_fail 1 sk create --bundle "$T/b" host
	assert_eq "$err" 'skiff create: config.json: linux.sysctl: "vm.swappiness" is not namespaced, refusing to set it'
	assert_eq "$(</proc/sys/vm/swappiness)" "$before" "host swappiness"
	assert_empty_dir "$ROOT"
	# A namespaced key without its namespace is the host's too.
	cfg_edit "$T/b" '.linux.sysctl = {"net.ipv4.ip_forward": "1"} | del(.linux.namespaces[] | select(.type == "network"))'
	expect_fail 1 sk create --bundle "$T/b" hostnet
	assert_contains "$err" '"net.ipv4.ip_forward" needs the container to have its own network namespace'
	assert_empty_dir "$ROOT"
}

test_process_missing_binary() {
	mk_bundle "$T/b" nosuchbinary
	expect_fail 1 sk create --bundle "$T/b" missing
	assert_eq "$err" 'skiff create: exec: "nosuchbinary": executable file not found in $PATH'
	assert_empty_dir "$ROOT"
	mk_bundle "$T/c" /bin/nosuchbinary
	expect_fail 1 sk create --bundle "$T/c" missing2
	assert_eq "$err" 'skiff create: exec: "/bin/nosuchbinary": no such file or directory: ENOENT'
	# PATH comes from process.env, not from the runtime.
	mk_bundle "$T/d" sh -c true
	cfg_edit "$T/d" '.process.env = ["TERM=xterm"]'
	expect_fail 1 sk create --bundle "$T/d" nopath
	assert_eq "$err" 'skiff create: exec: "sh": executable file not found in $PATH'
	assert_empty_dir "$ROOT"
}

test_process_bad_cwd() {
	mk_bundle "$T/b" true
	cfg_edit "$T/b" '.process.cwd = "/nope"'
	expect_fail 1 sk create --bundle "$T/b" badcwd
	assert_eq "$err" 'skiff create: chdir to cwd ("/nope") set in config.json failed: ENOENT'
	assert_empty_dir "$ROOT"
}

test_process_user_namespace() {
	[[ -e /proc/self/ns/user ]] || skip "no user namespaces"
	prun userns "id -u; id -G; $(status_of CapEff CapBnd) cat /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj" \
		'.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .process.user = {uid: 1000, gid: 1000, additionalGids: [10, 20]}
		| .process.capabilities = {bounding: ["CAP_KILL"], ambient: ["CAP_KILL"],
			permitted: ["CAP_KILL"], inheritable: ["CAP_KILL"], effective: ["CAP_KILL"]}
		| .linux.sysctl = {"net.ipv4.ip_forward": "1"}
		| .process.oomScoreAdj = 200'
	assert_eq "$out" $'1000\n1000 10 20\nCapEff:0000000000000020\nCapBnd:0000000000000020\n1\n200'
}

test_process_memory_policy() {
	# Each mode and flag on node 0 (every host has it), as numa_maps
	# shows the process's policy for mappings without one of their own;
	# exec's process gets it too.  MPOL_WEIGHTED_INTERLEAVE needs 6.9.
	local mode nodes flags want
	while read -r mode nodes flags want; do
		[[ $nodes == - ]] && nodes=
		[[ $flags == - ]] && flags=
		rm -rf "$T/b"
		mk_bundle "$T/b" sed -n '1{s/^[0-9a-f]* //;s/ file=.*//;p}' /proc/self/numa_maps
		cfg_edit "$T/b" '.linux.memoryPolicy = {mode: $m} + (if $n == "" then {} else {nodes: $n} end)
			+ (if $f == "" then {} else {flags: ($f | split(","))} end)' --arg m "$mode" --arg n "$nodes" --arg f "$flags"
		if [[ $mode == MPOL_WEIGHTED_INTERLEAVE && ! -d /sys/kernel/mm/mempolicy/weighted_interleave ]]; then
			expect_fail 1 sk run -b "$T/b" mp
			assert_contains "$err" 'linux.memoryPolicy: set_mempolicy(MPOL_WEIGHTED_INTERLEAVE'
			continue
		fi
		expect_ok sk run -b "$T/b" mp
		assert_eq "$out" "$want" "$mode $nodes $flags"
	done <<'MODES'
MPOL_DEFAULT - - default
MPOL_LOCAL - - local
MPOL_PREFERRED 0 - prefer:0
MPOL_BIND 0 - bind:0
MPOL_BIND 0 MPOL_F_STATIC_NODES bind=static:0
MPOL_BIND 0 MPOL_F_RELATIVE_NODES bind=relative:0
MPOL_BIND 0 MPOL_F_NUMA_BALANCING bind=balancing:0
MPOL_INTERLEAVE 0 - interleave:0
MPOL_PREFERRED_MANY 0 - prefer (many):0
MPOL_WEIGHTED_INTERLEAVE 0 - weighted interleave:0
MODES
	# exec's process.
	rm -rf "$T/b"
	mk_bundle "$T/b" sleep 100
	cfg_edit "$T/b" '.linux.memoryPolicy = {mode: "MPOL_INTERLEAVE", nodes: "0"}'
	expect_ok sk run -d -b "$T/b" mpx
	expect_ok sk exec mpx sed -n '1{s/^[0-9a-f]* //;s/ file=.*//;p}' /proc/self/numa_maps
	assert_eq "$out" interleave:0 "exec"
	expect_ok sk delete -f mpx
	# A node the host does not have: the kernel's refusal, naming the field.
	cfg_edit "$T/b" '.linux.memoryPolicy = {mode: "MPOL_BIND", nodes: "1000"}'
	expect_fail 1 sk run -b "$T/b" mpbad
	assert_contains "$err" 'linux.memoryPolicy: set_mempolicy(MPOL_BIND'
	assert_empty_dir "$ROOT"
}
