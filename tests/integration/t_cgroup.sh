# shellcheck shell=bash
# The container's cgroup (docs/cgroups.md): placement, resources written as
# files before the process enters, the device program, refusals.  Tests
# that need a controller the hierarchy does not offer skip with the reason
# (the host is hybrid; tests/vm/run offers them all).
# SC2154: out, err, status come from lib.sh's run; SC2016: jq expressions
# are single-quoted on purpose.
# shellcheck disable=SC2154,SC2016

# created ID 'JQ EXPR' [JQ ARGS...]: a created (not started) container ID
# running sleep, its config edited by the expression.
created() {
	local id=$1
	shift
	mk_bundle "$T/$id" sleep 1000
	(($# == 0)) || cfg_edit "$T/$id" "$@"
	expect_ok sk create --bundle "$T/$id" "$id"
}

test_cgroup_placement() {
	require_cgroup2
	# Without a cgroup namespace the container sees where it is.
	mk_bundle "$T/p" cat /proc/self/cgroup
	cfg_edit "$T/p" 'del(.linux.namespaces[] | select(.type == "cgroup"))'
	expect_ok sk run --bundle "$T/p" p
	assert_contains "$out" "0::$SKIFF_TEST_CGROUP/p"
	# With one (the default config), its cgroup is its root.
	mk_bundle "$T/q" cat /proc/self/cgroup
	expect_ok sk run --bundle "$T/q" q
	assert_contains "$out" "0::/"
	[[ ! -d $(cg2_mount)$SKIFF_TEST_CGROUP/p ]] || fail "run left its cgroup"
}

test_cgroup_default_path_beside_own() {
	require_cgroup2
	local own parent id=skiff-it-default-$$
	own=$(sed -n 's/^0:://p' /proc/self/cgroup)
	parent=${own%/*}
	mk_bundle "$T/d" cat /proc/self/cgroup
	cfg_edit "$T/d" 'del(.linux.cgroupsPath) | del(.linux.namespaces[] | select(.type == "cgroup"))'
	expect_ok sk run --bundle "$T/d" "$id"
	assert_contains "$out" "0::$parent/$id"
	[[ ! -d $(cg2_mount)$parent/$id ]] || fail "run left $parent/$id"
}

test_cgroup_systemd_path_refused() {
	mk_bundle "$T/s" true
	cfg_edit "$T/s" '.linux.cgroupsPath = "system.slice:skiff:s"'
	expect_fail 1 sk run --bundle "$T/s" s
	assert_contains "$err" 'linux.cgroupsPath "system.slice:skiff:s": needs --systemd-cgroup, not supported yet'
}

test_cgroup_dotdot_refused() {
	mk_bundle "$T/dd" true
	cfg_edit "$T/dd" '.linux.cgroupsPath = ($p + "/../../escape")' --arg p "$SKIFF_TEST_CGROUP"
	expect_fail 1 sk run --bundle "$T/dd" dd
	assert_contains "$err" '".." components are not allowed'
}

test_cgroup_unified_owned_key_refused() {
	mk_bundle "$T/u" true
	cfg_edit "$T/u" '.linux.resources.unified = {"cgroup.procs": "1"}'
	expect_fail 1 sk run --bundle "$T/u" u
	assert_contains "$err" 'key "cgroup.procs" is managed by skiff and cannot be set'
}

test_cgroup_v1_only_field_refused() {
	mk_bundle "$T/k" true
	cfg_edit "$T/k" '.linux.resources.memory = {swappiness: 10}'
	expect_fail 1 sk run --bundle "$T/k" k
	assert_contains "$err" "linux.resources.memory.swappiness: not supported on cgroup v2"
}

test_cgroup_missing_controller_named() {
	require_cgroup2
	local cg2
	cg2=$(cg2_mount)
	[[ " $(<"$cg2/cgroup.controllers") " != *" memory "* ]] || skip "memory is available in $cg2: nothing missing to report"
	mk_bundle "$T/m" true
	cfg_edit "$T/m" '.linux.resources.memory = {limit: 67108864}'
	expect_fail 1 sk run --bundle "$T/m" m
	assert_contains "$err" "cgroup: controller \"memory\" is not available in $cg2 (needed by linux.resources.memory)"
	[[ ! -d $cg2$SKIFF_TEST_CGROUP/m ]] || fail "a refused create left its cgroup"
}

test_cgroup_busy_cgroup_refused() {
	require_cgroup2
	local cg2 dir pid
	cg2=$(cg2_mount)
	dir=$cg2$SKIFF_TEST_CGROUP/busy
	mkdir -p "$dir"
	sleep 1000 &
	pid=$!
	echo "$pid" >"$dir/cgroup.procs"
	mk_bundle "$T/busy" true
	run sk run --bundle "$T/busy" busy
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	((status == 1)) || fail "run in a busy cgroup exited $status: $out $err"
	assert_contains "$err" "cgroup \"$dir\" already exists and has processes in it"
	[[ -d $dir ]] || fail "the refused run removed a cgroup it did not make"
	rmdir "$dir"
}

test_cgroup_devices() {
	# /dev/kmsg is made in the container; only an allow rule lets it open
	# (write-only: reading also needs CAP_SYSLOG).
	local script='echo x >/dev/null && echo null-ok; if (exec 3>/dev/kmsg) 2>/dev/null; then echo kmsg-open; else echo kmsg-denied; fi'
	mk_bundle "$T/dev"
	cfg_edit "$T/dev" '.process.args = ["sh", "-c", $s]
		| .linux.devices = [{path: "/dev/kmsg", type: "c", major: 1, minor: 11}]' --arg s "$script"
	expect_ok sk run --bundle "$T/dev" dev
	assert_eq "$out" $'null-ok\nkmsg-denied'
	cfg_edit "$T/dev" '.linux.resources.devices += [{allow: true, type: "c", major: 1, minor: 11, access: "w"}]'
	expect_ok sk run --bundle "$T/dev" dev
	assert_eq "$out" $'null-ok\nkmsg-open'
}

test_cgroup_hugetlb() {
	require_controller hugetlb
	[[ -d /sys/kernel/mm/hugepages/hugepages-2048kB ]] || skip "no 2MB huge pages on this kernel"
	created h '.linux.resources.hugepageLimits = [{pageSize: "2MB", limit: 8388608}]'
	assert_eq "$(cg_file h hugetlb.2MB.max)" 8388608
	expect_ok sk delete --force h
}

test_cgroup_memory() {
	require_controller memory
	created m '.linux.resources.memory = {limit: 67108864, reservation: 33554432, swap: 100663296}'
	assert_eq "$(cg_file m memory.max)" 67108864
	assert_eq "$(cg_file m memory.low)" 33554432
	[[ ! -e $(cg2_mount)$SKIFF_TEST_CGROUP/m/memory.swap.max ]] || assert_eq "$(cg_file m memory.swap.max)" 33554432
	expect_ok sk delete --force m
}

test_cgroup_cpu() {
	require_controller cpu
	created c '.linux.resources.cpu = {shares: 1024, quota: 50000, period: 100000}'
	assert_eq "$(cg_file c cpu.weight)" 100
	assert_eq "$(cg_file c cpu.max)" "50000 100000"
	expect_ok sk delete --force c
}

test_cgroup_cpuset() {
	require_controller cpuset
	created cs '.linux.resources.cpu = {cpus: "0", mems: "0"}'
	assert_eq "$(cg_file cs cpuset.cpus)" 0
	assert_eq "$(cg_file cs cpuset.mems)" 0
	expect_ok sk delete --force cs
}

test_cgroup_pids_limit() {
	require_controller pids
	# The shell and one child fit; the third process does not.
	mk_bundle "$T/pl"
	cfg_edit "$T/pl" '.process.args = ["sh", "-c", "sleep 1 & sleep 1 & wait"] | .linux.resources.pids = {limit: 2}'
	run sk run --bundle "$T/pl" pl
	assert_contains "$err$out" "can't fork"
}

# What docker 20.10 sends in every config (0 and 2^64-1 for "unset"):
# nothing asked, so no controller is needed (issue 12).
test_cgroup_client_sentinels_ask_nothing() {
	mk_bundle "$T/ds" true
	cfg_edit "$T/ds" '.linux.resources += {
		memory: {limit: 0, reservation: 0, kernel: 0, kernelTCP: 0, swappiness: "U64MAX", disableOOMKiller: false},
		cpu: {shares: 0, quota: 0, period: 0, realtimeRuntime: 0, realtimePeriod: 0},
		blockIO: {weight: 0, leafWeight: 0}}'
	# jq's numbers are doubles: 2^64-1 goes in as text.
	sed -i 's/"U64MAX"/18446744073709551615/' "$T/ds/config.json"
	expect_ok sk run --bundle "$T/ds" ds
	sed -i 's/"weight": 0,/"weight": 5,/' "$T/ds/config.json"
	expect_fail 1 sk run --bundle "$T/ds" ds
	assert_contains "$err" "linux.resources.blockIO.weight: must be 0 (unset) or an integer in range 10..1000"
}

# A pids limit of 0 is "no limit" up to runtime-spec 1.2 (podman 4's
# --pids-limit -1), a limit from 1.3 on (as runc 1.4 reads it: 1).
test_cgroup_pids_zero_follows_oci_version() {
	require_controller pids
	created p12 '.ociVersion = "1.0.2-dev" | .linux.resources.pids = {limit: 0}'
	assert_eq "$(cg_file p12 pids.max)" max "pids.max of a 1.0.2 config with limit 0"
	expect_ok sk delete --force p12
	created p13 '.ociVersion = "1.3.0" | .linux.resources.pids = {limit: 0}'
	assert_eq "$(cg_file p13 pids.max)" 1 "pids.max of a 1.3.0 config with limit 0"
	expect_ok sk delete --force p13
}

test_cgroup_io_weight() {
	require_controller io
	created io '.linux.resources.blockIO = {weight: 500}'
	if [[ -e $(cg2_mount)$SKIFF_TEST_CGROUP/io/io.bfq.weight ]]; then
		assert_eq "$(cg_file io io.bfq.weight)" "default 500"
	else
		assert_eq "$(cg_file io io.weight)" "default 4950"
	fi
	expect_ok sk delete --force io
}

test_cgroup_no_leak_over_200_cycles() {
	require_cgroup2
	local cg2 i
	cg2=$(cg2_mount)
	mk_bundle "$T/l" true
	# Where the hierarchy offers it, a limit makes every cycle enable and
	# use a controller too.
	if grep -qw memory "$cg2/cgroup.controllers"; then
		cfg_edit "$T/l" '.linux.resources.memory.limit = 67108864'
	fi
	for i in $(seq 200); do
		expect_ok sk create --bundle "$T/l" "l$i"
		expect_ok sk start "l$i"
		expect_ok sk delete --force "l$i"
	done
	[[ ! -e $cg2$SKIFF_TEST_CGROUP/l ]] || fail "a cgroup is left after 200 cycles"
	assert_eq "$(find "$cg2$SKIFF_TEST_CGROUP" -mindepth 1 -type d | wc -l)" 0 "cgroups left"
	assert_empty_dir "$ROOT"
}

test_cgroup_delegated_to_a_user_namespace() {
	require_cgroup2
	[[ -e /proc/self/ns/user ]] || skip "no user namespaces"
	# runc's rule: new user and cgroup namespaces and a writable cgroup
	# mount hand the cgroup to the container's user, who can then build
	# the tree below (what systemd in a container does).
	mk_bundle "$T/d" sh -c 'stat -c "%u %U" /sys/fs/cgroup /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/cgroup.subtree_control
		mkdir /sys/fs/cgroup/sub && echo $$ >/sys/fs/cgroup/sub/cgroup.procs && grep ^0:: /proc/self/cgroup'
	cfg_edit "$T/d" '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| (.mounts[] | select(.destination == "/sys/fs/cgroup") | .options) |= map(if . == "ro" then "rw" else . end)'
	expect_ok sk run --bundle "$T/d" deleg
	assert_eq "$out" $'0 root\n0 root\n0 root\n0::/sub' "the cgroup's owner inside, and a sub-cgroup made and joined"
	# Read-only (the default config's): nothing is handed over.
	mk_bundle "$T/r" sh -c 'stat -c %U /sys/fs/cgroup; mkdir /sys/fs/cgroup/sub 2>&1 || true'
	cfg_edit "$T/r" '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	expect_ok sk run --bundle "$T/r" deleg-ro
	assert_contains "$out" "nobody" "the owner of a read-only cgroup mount"
	assert_contains "$out" "Read-only file system"
}
