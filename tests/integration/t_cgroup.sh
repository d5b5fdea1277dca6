# shellcheck shell=bash
# The container's cgroups (docs/cgroups.md): placement in every hierarchy,
# resources written as files before the process enters, limits enforced,
# device rules, refusals, nothing left behind.  Each test checks the
# backend that serves the controller on this host (cg_backend): cgroup v1
# on the hybrid development host, cgroup2 in tests/vm/run.  A test skips
# only when neither serves the controller.
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

# own_cgroups: skiff's own cgroup in each hierarchy, into the array own
# (key: the controllers field of /proc/self/cgroup, "v2" for cgroup2).
own_cgroups() {
	local hid ctrls path
	declare -gA own=()
	while IFS=: read -r hid ctrls path; do
		own[${ctrls:-v2}]=$path
	done </proc/self/cgroup
}

test_cgroup_placement() {
	local line n=0
	# Without a cgroup namespace the container sees where it is, in every
	# hierarchy (hybrid: v1 ones and cgroup2 at the same path).
	mk_bundle "$T/p" cat /proc/self/cgroup
	cfg_edit "$T/p" 'del(.linux.namespaces[] | select(.type == "cgroup"))'
	expect_ok sk run --bundle "$T/p" p
	while IFS= read -r line; do
		[[ $line == *:"$SKIFF_TEST_CGROUP/p" ]] || fail "not in its cgroup: $line (all: $out)"
		n=$((n + 1))
	done <<<"$out"
	assert_eq "$n" "$(cg_all_mounts | wc -l)" "hierarchies the process is in"
	# With one (the default config), its cgroup is its root everywhere.
	mk_bundle "$T/q" cat /proc/self/cgroup
	expect_ok sk run --bundle "$T/q" q
	while IFS= read -r line; do
		[[ $line == *:/ ]] || fail "not at the root of its cgroup namespace: $line"
	done <<<"$out"
	cg_gone p
	cg_gone q
}

test_cgroup_default_path_beside_own() {
	local id=skiff-it-default-$$ hid ctrls path want mp
	own_cgroups
	mk_bundle "$T/d" cat /proc/self/cgroup
	cfg_edit "$T/d" 'del(.linux.cgroupsPath) | del(.linux.namespaces[] | select(.type == "cgroup"))'
	expect_ok sk run --bundle "$T/d" "$id"
	# cgroup2: beside skiff's own cgroup (which holds processes); v1:
	# below it, as runc.
	while IFS=: read -r hid ctrls path; do
		if [[ -z $ctrls ]]; then
			want=${own[v2]%/*}/$id
		else
			want=${own[$ctrls]%/}/$id
		fi
		assert_eq "$path" "$want" "cgroup in hierarchy $hid ($ctrls)"
	done <<<"$out"
	while read -r mp; do
		[[ -z $(find "$mp" -maxdepth 4 -type d -name "$id" 2>/dev/null) ]] || fail "run left $id in $mp"
	done < <(cg_all_mounts)
}

test_cgroup_systemd_path_refused() {
	mk_bundle "$T/s" true
	cfg_edit "$T/s" '.linux.cgroupsPath = "system.slice:skiff:s"'
	expect_fail 1 sk run --bundle "$T/s" s
	assert_contains "$err" 'linux.cgroupsPath "system.slice:skiff:s": "slice:prefix:name" is systemd'"'"'s form and needs --systemd-cgroup'
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

# unified keys go to cgroup2 only: for a controller v1 serves, an error
# naming the key; cgroup2's own files are written.
test_cgroup_unified_key_of_a_v1_controller() {
	require_controller memory
	mk_bundle "$T/u" true
	cfg_edit "$T/u" '.linux.resources.unified = {"memory.high": "90000000"}'
	if [[ $(cg_backend memory) == v1 ]]; then
		expect_fail 1 sk run --bundle "$T/u" u
		assert_contains "$err" 'linux.resources.unified["memory.high"]: the memory controller is a cgroup v1 one on this host'
	else
		expect_ok sk run --bundle "$T/u" u
	fi
	cg_gone u
	[[ -n $(cg2_mount) ]] || return 0
	created m '.linux.resources.unified = {"cgroup.max.descendants": "5"}'
	assert_eq "$(cg_file m cgroup.max.descendants)" 5
	expect_ok sk delete --force m
}

# Fields only cgroup v1 has files for: written where v1 serves the
# controller, refused (naming the field) where cgroup2 does.
test_cgroup_v1_only_fields() {
	require_controller memory
	if [[ $(cg_backend memory) == v2 ]]; then
		mk_bundle "$T/k" true
		cfg_edit "$T/k" '.linux.resources.memory = {swappiness: 10}'
		expect_fail 1 sk run --bundle "$T/k" k
		assert_contains "$err" "linux.resources.memory.swappiness: not supported on cgroup v2"
		return 0
	fi
	created k '.linux.resources.memory = {limit: 67108864, swappiness: 10, disableOOMKiller: true, kernelTCP: 16777216}'
	assert_eq "$(cg_file k memory.swappiness)" 10
	assert_contains "$(cg_file k memory.oom_control)" "oom_kill_disable 1"
	assert_eq "$(cg_file k memory.kmem.tcp.limit_in_bytes)" 16777216
	expect_ok sk delete --force k
	# A kernel memory limit is written where the kernel still enforces it;
	# one that takes it and ignores it (kmem since Linux 5.16) gets a
	# warning, not a silent no-op (runc 1.1 ignores it everywhere).
	created km '.linux.resources.memory = {kernel: 67108864}'
	if [[ $(cg_file km memory.kmem.limit_in_bytes) != 67108864 ]]; then
		assert_contains "$err" "linux.resources.memory.kernel is ignored: this kernel no longer enforces it"
	fi
	expect_ok sk delete --force km
}

test_cgroup_network() {
	local cls=none prio=none
	cg_v1_mount net_cls >/dev/null && cls=v1
	cg_v1_mount net_prio >/dev/null && prio=v1
	mk_bundle "$T/nc" sleep 1000
	cfg_edit "$T/nc" '.linux.resources.network = {classID: 1048577, priorities: [{name: "lo", priority: 5}]}'
	if [[ $cls == v1 && $prio == v1 ]]; then
		expect_ok sk create --bundle "$T/nc" nc
		assert_eq "$(cg_file nc net_cls.classid)" 1048577
		assert_contains "$(cg_file nc net_prio.ifpriomap)" "lo 5"
		expect_ok sk delete --force nc
	else
		expect_fail 1 sk create --bundle "$T/nc" nc
		assert_match "$err" 'linux.resources.network.(classID|priorities): (no net_(cls|prio) hierarchy is mounted|not supported)'
	fi
	cg_gone nc
}

test_cgroup_missing_controller_named() {
	local c cfg='' backend
	# The first controller nothing on this host serves.
	for c in memory pids cpu rdma; do
		backend=$(cg_backend "$c")
		[[ $backend == none ]] || continue
		case $c in
		memory) cfg='.linux.resources.memory = {limit: 67108864}' ;;
		pids) cfg='.linux.resources.pids = {limit: 10}' ;;
		cpu) cfg='.linux.resources.cpu = {shares: 512}' ;;
		rdma) cfg='.linux.resources.rdma = {"mlx4_0": {hcaHandles: 2}}' ;;
		esac
		break
	done
	[[ -n $cfg ]] || skip "every controller tried is available here: nothing missing to report"
	mk_bundle "$T/m" true
	cfg_edit "$T/m" "$cfg"
	expect_fail 1 sk run --bundle "$T/m" m
	assert_contains "$err" "cgroup: controller \"$c\" is not available"
	cg_gone m
}

test_cgroup_busy_cgroup_refused() {
	local dir pid mp name
	# In a hierarchy created late, so that the failed create must also
	# remove what it made in the others.
	mp=$(cg2_mount)
	name=cgroup
	if [[ -n $(cg_v1_mount pids) ]]; then
		mp=$(cg_v1_mount pids)
		name=pids
	fi
	dir=$mp$SKIFF_TEST_CGROUP/busy
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
	[[ -d $dir ]] || fail "the refused run removed a cgroup it did not make ($name)"
	rmdir "$dir"
	cg_gone busy
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
	# A later deny wins over an earlier allow.
	cfg_edit "$T/dev" '.linux.resources.devices += [{allow: false, type: "c", major: 1, minor: 11, access: "rwm"}]'
	expect_ok sk run --bundle "$T/dev" dev
	assert_eq "$out" $'null-ok\nkmsg-denied'
}

test_cgroup_devices_v1_list() {
	[[ $(cg_backend devices) == v1 || -n $(cg_v1_mount devices) ]] || skip "no v1 devices hierarchy (cgroup2: a device program)"
	# devices.list holds the allowed rules in config order, then the
	# always-allowed ones (the conformance suite checks the order).
	created l '.linux.resources.devices = [{allow: false, access: "rwm"},
		{allow: true, type: "c", major: 10, minor: 229, access: "rwm"},
		{allow: true, type: "b", major: 8, minor: 20, access: "rw"},
		{allow: true, access: "m"}]'
	local -a list
	mapfile -t list <"$(cg_dir l devices)/devices.list"
	assert_eq "${list[*]:0:4}" "c 10:229 rwm b 8:20 rw c *:* m b *:* m" "devices.list"
	expect_ok sk delete --force l
	# A deny inside an earlier wildcard allow cannot be expressed in v1
	# (the kernel would keep the wildcard): refused, as runc does.
	mk_bundle "$T/h" true
	cfg_edit "$T/h" '.linux.resources.devices = [{allow: false, access: "rwm"},
		{allow: true, type: "c", major: 1, access: "rwm"}, {allow: false, type: "c", major: 1, minor: 3, access: "w"}]'
	expect_fail 1 sk run --bundle "$T/h" h
	assert_contains "$err" 'linux.resources.devices[2]: deny c 1:3 w cannot be expressed in cgroup v1'
	cg_gone h
}

test_cgroup_hugetlb() {
	require_controller hugetlb
	[[ -d /sys/kernel/mm/hugepages/hugepages-2048kB ]] || skip "no 2MB huge pages on this kernel"
	created h '.linux.resources.hugepageLimits = [{pageSize: "2MB", limit: 8388608}]'
	if [[ $(cg_backend hugetlb) == v1 ]]; then
		assert_eq "$(cg_file h hugetlb.2MB.limit_in_bytes)" 8388608
	else
		assert_eq "$(cg_file h hugetlb.2MB.max)" 8388608
	fi
	expect_ok sk delete --force h
}

test_cgroup_memory() {
	require_controller memory
	created m '.linux.resources.memory = {limit: 67108864, reservation: 33554432, swap: 100663296}'
	if [[ $(cg_backend memory) == v1 ]]; then
		assert_eq "$(cg_file m memory.limit_in_bytes)" 67108864
		assert_eq "$(cg_file m memory.soft_limit_in_bytes)" 33554432
		[[ ! -e $(cg_dir m memory)/memory.memsw.limit_in_bytes ]] ||
			assert_eq "$(cg_file m memory.memsw.limit_in_bytes)" 100663296 "memory+swap"
	else
		assert_eq "$(cg_file m memory.max)" 67108864
		assert_eq "$(cg_file m memory.low)" 33554432
		[[ ! -e $(cg_dir m memory)/memory.swap.max ]] || assert_eq "$(cg_file m memory.swap.max)" 33554432
	fi
	expect_ok sk delete --force m
}

# Enforced: past its limit, the process is OOM-killed.
test_cgroup_memory_oom_kill() {
	require_controller memory
	mk_bundle "$T/o" sh -c 'x=$(head -c 40000000 /dev/zero | tr "\0" a); echo survived'
	cfg_edit "$T/o" '.linux.resources.memory = {limit: 16777216, swap: 16777216}'
	run sk run --bundle "$T/o" o
	assert_not_contains "$out" survived
	((status == 137 || status == 1)) || fail "status $status after the OOM kill (out: $out, err: $err)"
	cg_gone o
}

test_cgroup_cpu() {
	require_controller cpu
	created c '.linux.resources.cpu = {shares: 1024, quota: 50000, period: 100000}'
	if [[ $(cg_backend cpu) == v1 ]]; then
		assert_eq "$(cg_file c cpu.shares)" 1024
		assert_eq "$(cg_file c cpu.cfs_quota_us)" 50000
		assert_eq "$(cg_file c cpu.cfs_period_us)" 100000
	else
		assert_eq "$(cg_file c cpu.weight)" 100
		assert_eq "$(cg_file c cpu.max)" "50000 100000"
	fi
	expect_ok sk delete --force c
}

# Enforced: a busy loop under a 10% quota gets throttled.
test_cgroup_cpu_quota_throttles() {
	require_controller cpu
	local n
	mk_bundle "$T/q" sh -c 'end=$(($(date +%s) + 2)); while [ "$(date +%s)" -lt $end ]; do :; done'
	cfg_edit "$T/q" '.linux.resources.cpu = {quota: 10000, period: 100000}'
	expect_ok sk create --bundle "$T/q" q
	expect_ok sk start q
	sleep 1
	n=$(sed -n 's/^nr_throttled //p' "$(cg_dir q cpu)/cpu.stat")
	((n > 0)) || fail "no throttled period under a 10% quota: $(<"$(cg_dir q cpu)/cpu.stat")"
	expect_ok sk delete --force q
}

test_cgroup_cpu_realtime() {
	[[ $(cg_backend cpu) == v1 ]] || skip "cpu is not a v1 controller here (cgroup2 has no realtime files)"
	[[ -e $(cg_v1_mount cpu)/cpu.rt_runtime_us ]] || skip "no real-time group scheduling in this kernel"
	# Without a budget in the parents, the kernel refuses: named.
	mk_bundle "$T/rt" true
	cfg_edit "$T/rt" '.linux.resources.cpu = {realtimeRuntime: 5000, realtimePeriod: 100000}'
	run sk run --bundle "$T/rt" rt
	if ((status == 0)); then
		fail "a realtime runtime without a budget in the parents was accepted"
	fi
	assert_contains "$err" "linux.resources.cpu.realtime"
	cg_gone rt
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
	local f mp
	# A v1 blkio without CFQ or BFQ in the kernel has no weight file: the
	# weight is then refused with its name, and nothing is left.
	if [[ $(cg_backend io) == v1 ]]; then
		mp=$(cg_v1_mount blkio)
		if [[ ! -e $mp/blkio.weight && ! -e $mp/blkio.bfq.weight ]]; then
			mk_bundle "$T/io" true
			cfg_edit "$T/io" '.linux.resources.blockIO = {weight: 500}'
			expect_fail 1 sk create --bundle "$T/io" io
			assert_match "$err" 'linux\.resources\.blockIO\.weight'
			assert_empty_dir "$ROOT"
			return 0
		fi
	fi
	created io '.linux.resources.blockIO = {weight: 500}'
	if [[ $(cg_backend io) == v1 ]]; then
		f=blkio.weight
		[[ -e $(cg_dir io blkio)/$f ]] || f=blkio.bfq.weight
		assert_match "$(cg_file io "$f")" '(^| )500$' "$f"
	elif [[ -e $(cg_dir io io)/io.bfq.weight ]]; then
		assert_eq "$(cg_file io io.bfq.weight)" "default 500"
	else
		assert_eq "$(cg_file io io.weight)" "default 4950"
	fi
	expect_ok sk delete --force io
}

# 600 skiff commands: under the VM's emulated CPU, more than the default.
# timeout: 5x
test_cgroup_no_leak_over_200_cycles() {
	local i mp
	mk_bundle "$T/l" true
	# Where the host serves it, a limit makes every cycle use a controller
	# too.
	if [[ $(cg_backend memory) != none ]]; then
		cfg_edit "$T/l" '.linux.resources.memory.limit = 67108864'
	fi
	for i in $(seq 200); do
		expect_ok sk create --bundle "$T/l" "l$i"
		expect_ok sk start "l$i"
		expect_ok sk delete --force "l$i"
	done
	while read -r mp; do
		[[ ! -d $mp$SKIFF_TEST_CGROUP ]] ||
			assert_eq "$(find "$mp$SKIFF_TEST_CGROUP" -mindepth 1 -type d | wc -l)" 0 "cgroups left in $mp"
	done < <(cg_all_mounts)
	assert_empty_dir "$ROOT"
}

# A create killed in the middle leaves what delete --force removes, from
# every hierarchy.
test_cgroup_killed_create_then_delete_force() {
	local create pid
	mk_bundle "$T/k" sleep 1000
	cfg_edit "$T/k" '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "echo $$ >\($f); exec /bin/sleep 1000"]}]
		| .linux.resources.pids = {limit: 100}' --arg f "$T/hookpid"
	"$SKIFF" --root "$ROOT" create --bundle "$T/k" k >"$T/out" 2>"$T/err" &
	create=$!
	local end=$((SECONDS + 20))
	until [[ -s $T/hookpid ]]; do
		((SECONDS < end)) || fail "the createRuntime hook did not run: $(<"$T/err")"
		sleep 0.05
	done
	kill -KILL "$create"
	{ wait "$create"; } 2>/dev/null || true
	kill -9 "$(<"$T/hookpid")" 2>/dev/null || true
	expect_ok sk delete --force k
	cg_gone k
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
