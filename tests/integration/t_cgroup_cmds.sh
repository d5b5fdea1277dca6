# shellcheck shell=bash
# pause, resume, update, ps, events and kill --all
# (docs/cgroup-commands.md), against whichever backend serves each
# controller: cgroup v1 on the hybrid development host, cgroup2 in
# tests/vm/run; and a v1-only ("legacy") host, made on a hybrid one by
# hiding its cgroup2 mount in a mount namespace.
# SC2154: out, err, status come from lib.sh's run; SC2016: jq expressions
# are single-quoted on purpose.
# shellcheck disable=SC2154,SC2016

# require_freezer: skip unless a freezer serves: the v1 one, or
# cgroup.freeze (Linux 5.2).
require_freezer() {
	local d
	[[ -n $(cg_v1_mount freezer) ]] && return 0
	require_cgroup2
	d=$(cg2_mount)$SKIFF_TEST_CGROUP
	mkdir -p "$d"
	[[ -e $d/cgroup.freeze ]] || skip "no cgroup.freeze in $d (cgroup v2 freezer: Linux 5.2)"
}

# frozen ID: FROZEN/THAWED (v1 freezer.state) or 1/0 (cgroup.events).
frozen() {
	if [[ -n $(cg_v1_mount freezer) ]]; then
		cg_file "$1" freezer.state
	else
		sed -n 's/^frozen //p' "$(cg_dir "$1")/cgroup.events"
	fi
}

# wait_until SECONDS CMD...: run CMD every 0.1 s until it succeeds.
wait_until() {
	local limit=$1 end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || fail "timed out after ${limit}s waiting for: $*"
		sleep 0.1
	done
}

# nprocs ID N: the cgroup of ID holds N processes.
nprocs() {
	local -a p
	mapfile -t p <"$(cg_dir "$1")/cgroup.procs"
	((${#p[@]} == $2))
}

# started ID SCRIPT ['JQ EXPR' [JQ ARGS...]]: a running container ID whose
# process is `sh -c SCRIPT`, with a writable rootfs ($T/ID/rootfs) and its
# config edited by the expression.
started() {
	local id=$1 script=$2
	shift 2
	mk_bundle "$T/$id" sh -c "$script"
	cfg_edit "$T/$id" '.root.readonly = false'
	(($# == 0)) || cfg_edit "$T/$id" "$@"
	expect_ok sk create --bundle "$T/$id" "$id"
	expect_ok sk start "$id"
}

status_of() { sk state "$1" | jq -r .status; }
is_status() { [[ $(status_of "$1") == "$2" ]]; }

# lines_at_least FILE N: FILE has N non-empty lines or more.
lines_at_least() { (($(grep -c . "$1") >= $2)); }

# A counter that writes its next value to /tmp/n ten times a second.
counter='i=0; while :; do i=$((i+1)); echo $i >/tmp/n; sleep 0.1; done'

# counter_past ID N: the counter of ID is above N.
counter_past() {
	local v f=$T/$1/rootfs/tmp/n
	# A failed $(<f) ends the test's shell, whatever the context.
	[[ -e $f ]] || return 1
	v=$(<"$f")
	[[ -n $v ]] && ((v > $2))
}

test_pause_resume() {
	require_freezer
	local a b
	started p "$counter"
	wait_until 20 counter_past p 0
	expect_ok sk pause p
	assert_eq "$(status_of p)" paused "status after pause"
	assert_match "$(frozen p)" '^(1|FROZEN)$' "the freezer"
	a=$(<"$T/p/rootfs/tmp/n")
	sleep 0.5
	b=$(<"$T/p/rootfs/tmp/n")
	assert_eq "$b" "$a" "the counter while paused"
	expect_fail 1 sk pause p
	assert_contains "$err" 'cannot pause container "p": it is paused, not running'
	expect_ok sk resume p
	assert_eq "$(status_of p)" running "status after resume"
	assert_match "$(frozen p)" '^(0|THAWED)$' "the freezer"
	wait_until 20 counter_past p "${a:-0}"
	expect_fail 1 sk resume p
	assert_contains "$err" 'cannot resume container "p": it is running, not paused'
	expect_ok sk delete --force p
}

# runc pauses a created container too; start works once it is resumed.
test_pause_created() {
	require_freezer
	mk_bundle "$T/c" sh -c 'echo started >/tmp/s; sleep 1000'
	cfg_edit "$T/c" '.root.readonly = false'
	expect_ok sk create --bundle "$T/c" c
	expect_ok sk pause c
	assert_match "$(frozen c)" '^(1|FROZEN)$' "the freezer"
	expect_ok sk resume c
	assert_match "$(frozen c)" '^(0|THAWED)$' "the freezer"
	expect_ok sk start c
	wait_until 20 test -s "$T/c/rootfs/tmp/s"
	expect_ok sk delete --force c
}

# A paused container can still be killed and deleted.
test_pause_then_delete_force() {
	require_freezer
	started d 'sleep 1000'
	expect_ok sk pause d
	expect_ok sk delete --force d
	cg_gone d
}

test_cgroup_cmds_stopped_and_unknown() {
	local cmd
	for cmd in pause resume ps events update; do
		expect_fail 1 sk "$cmd" nosuch
		assert_contains "$err" 'container "nosuch" does not exist' "$cmd nosuch"
		expect_fail 2 sk "$cmd"
		assert_contains "$err" "skiff $cmd: expects"
	done
	expect_fail 2 sk pause a b
	expect_fail 2 sk update a b
	mk_bundle "$T/s" true
	expect_ok sk create --bundle "$T/s" s
	expect_ok sk start s
	wait_until 20 is_status s stopped
	expect_fail 1 sk pause s
	assert_contains "$err" 'cannot pause container "s": it is stopped, not running'
	expect_fail 1 sk resume s
	assert_contains "$err" 'cannot resume container "s": it is stopped, not paused'
	expect_fail 1 sk update --cpu-share 512 s
	assert_contains "$err" 'container "s" is not running'
	expect_fail 1 sk events --stats s
	assert_contains "$err" 'container "s" is not running'
	expect_fail 1 sk events s
	assert_contains "$err" 'container "s" is not running'
	# runc lists the (empty) cgroup of a stopped container.
	expect_ok sk ps -f json s
	assert_eq "$out" "[]"
	expect_ok sk delete s
}

test_ps() {
	local -a pids rows
	local row json pid
	started ps 'sleep 1000 & sleep 1000 & wait'
	wait_until 20 nprocs ps 3
	mapfile -t pids < <(sort -n "$(cg_dir ps)/cgroup.procs")
	expect_ok sk ps -f json ps
	json=$out
	assert_eq "$(jq -c 'sort' <<<"$json")" "[$(IFS=,; echo "${pids[*]}")]" "ps --format json"
	expect_ok sk ps --format=json ps
	assert_eq "$out" "$json" "ps --format=json"
	# table: ps -ef's header, then the rows of exactly these pids.
	expect_ok sk ps ps
	mapfile -t rows <<<"$out"
	assert_match "${rows[0]}" '^UID +PID +PPID' "the header"
	assert_eq "${#rows[@]}" 4 "rows of ps -ef (header + 3)"
	for row in "${rows[@]:1}"; do
		read -r _ pid _ <<<"$row"
		[[ " ${pids[*]} " == *" $pid "* ]] || fail "ps listed pid $pid, not in the container: $row"
	done
	# Arguments after the id go to ps.
	expect_ok sk ps ps -o pid,comm
	mapfile -t rows <<<"$out"
	assert_match "${rows[0]}" '^ *PID +COMMAND$' "the header of ps -o pid,comm"
	assert_eq "$(printf '%s\n' "${rows[@]:1}" | awk '{print $2}' | sort | tr '\n' ' ')" "sh sleep sleep " "commands"
	expect_fail 1 sk ps ps --no-such-ps-flag
	assert_contains "$err" "ps exited with status"
	expect_fail 2 sk ps --format xml ps
	assert_contains "$err" 'invalid --format "xml": must be table or json'
	expect_ok sk delete --force ps
}

test_events_stats() {
	started e 'sleep 1000 & wait'
	wait_until 20 nprocs e 2
	expect_ok sk events --stats e
	[[ $out != *$'\n'* ]] || fail "events --stats printed more than one line: $out"
	jq -e '.type == "stats" and .id == "e"
		and .data.pids.current == 2
		and (.data.cpu.usage | has("kernel") and has("user"))
		and (.data.memory.usage | has("limit") and has("failcnt"))
		and (.data.blkio | type == "object") and (.data.hugetlb | type == "object")' <<<"$out" >/dev/null ||
		fail "unexpected stats: $out"
	expect_ok sk delete --force e
}

# Without --stats: statistics at each interval until the container has no
# process left, then events exits by itself.
test_events_stream() {
	local pid st=0 line n=0
	started s 'while [ ! -e /tmp/stop ]; do sleep 0.1; done'
	sk events --interval 200ms s >"$T/ev" 2>&1 &
	pid=$!
	wait_until 30 lines_at_least "$T/ev" 2
	: >"$T/s/rootfs/tmp/stop"
	wait_until 30 test ! -d "/proc/$pid"
	wait "$pid" || st=$?
	assert_eq "$st" 0 "events' exit status after the container stopped"
	while read -r line; do
		[[ $line == '{"type":"stats","id":"s","data":{'* ]] || fail "not a stats event: $line"
		n=$((n + 1))
	done <"$T/ev"
	((n >= 2)) || fail "expected 2 stats events or more, got $n"
	expect_ok sk delete s
}

test_events_bad_interval() {
	expect_fail 2 sk events --interval 0 x
	assert_contains "$err" 'invalid --interval "0": must be greater than 0'
	expect_fail 2 sk events --interval -1s x
	expect_fail 2 sk events --interval 5x x
	assert_contains "$err" 'invalid --interval: "5x" is not a duration'
	expect_fail 2 sk events --interval 10 x
}

test_update_bad_values() {
	started u 'sleep 1000'
	expect_fail 2 sk update --memory abc u
	assert_contains "$err" 'invalid value for --memory: "abc" is not a size'
	expect_fail 2 sk update --memory-swap 1x u
	expect_fail 2 sk update --pids-limit x u
	assert_contains "$err" 'invalid value "x" for --pids-limit'
	expect_fail 2 sk update --pids-limit -2 u
	expect_fail 2 sk update --blkio-weight 5 u
	assert_contains "$err" 'invalid value "5" for --blkio-weight: must be between 10 and 1000'
	expect_fail 2 sk update --cpu-period -5 u
	expect_fail 2 sk update --cpu-quota 1.5 u
	expect_fail 2 sk update --cpuset-cpus abc u
	expect_fail 2 sk update --cpu-idle 2 u
	expect_fail 2 sk update --no-such-flag 1 u
	expect_fail 2 sk update -r "$T/r.json" --memory 1m u
	assert_contains "$err" "--resources cannot be combined with --memory"
	# The file's content is checked as linux.resources of a config.
	printf '[1]' >"$T/r.json"
	expect_fail 1 sk update -r "$T/r.json" u
	assert_contains "$err" "$T/r.json: must be a JSON object (LinuxResources)"
	printf '{"memory": {"limit": "x"}}' >"$T/r.json"
	expect_fail 1 sk update -r "$T/r.json" u
	assert_contains "$err" "linux.resources.memory.limit: must be an integer"
	printf '{"pids": {"limit": 5}}\n{}' >"$T/r.json"
	expect_fail 1 sk update -r - u <"$T/r.json"
	assert_contains "$err" "stdin: line 2, column 1: parse error: trailing garbage"
	expect_fail 1 sk update -r "$T/none.json" u
	assert_contains "$err" "$T/none.json"
	expect_fail 1 sk update --cpu-rt-runtime 5 u
	if [[ $(cg_backend cpu) == v1 ]]; then
		# Written, and refused by the kernel without a budget above.
		assert_contains "$err" "linux.resources.cpu.realtime"
	else
		assert_contains "$err" "linux.resources.cpu.realtimeRuntime: not supported on cgroup v2"
	fi
	# Nothing asked: nothing changes.
	expect_ok sk update u
	printf '{"devices": [{"allow": false, "access": "rwm"}], "memory": {"kernel": 0, "kernelTCP": 0}}' >"$T/r.json"
	expect_ok sk update -r "$T/r.json" u
	if [[ $(cg_backend memory) == none ]]; then
		expect_fail 1 sk update --memory 64m u
		assert_contains "$err" "controller \"memory\" is not available"
	fi
	expect_ok sk delete --force u
}

test_update_memory() {
	require_controller memory
	local swap
	started m 'sleep 1000' '.linux.resources.memory = {limit: 67108864}'
	if [[ $(cg_backend memory) == v1 ]]; then
		update_memory_v1
	else
		update_memory_v2
	fi
	expect_ok sk delete --force m
}

update_memory_v2() {
	swap=$(cg_dir m memory)/memory.swap.max
	expect_ok sk update --memory 128m m
	assert_eq "$(cg_file m memory.max)" 134217728 memory.max
	expect_ok sk update --memory-reservation 32M m
	assert_eq "$(cg_file m memory.low)" 33554432 memory.low
	assert_eq "$(cg_file m memory.max)" 134217728 "memory.max after --memory-reservation"
	if [[ -e $swap ]]; then
		# memory+swap alone: the limit in place counts.
		expect_ok sk update --memory-swap 256m m
		assert_eq "$(<"$swap")" 134217728 memory.swap.max
	fi
	expect_ok sk update --memory 1.5g m
	assert_eq "$(cg_file m memory.max)" 1610612736 "memory.max of 1.5g"
	expect_ok sk update --memory -1 m
	assert_eq "$(cg_file m memory.max)" max "memory.max of -1"
	[[ ! -e $swap ]] || assert_eq "$(<"$swap")" max "memory.swap.max with memory -1"
}

# v1 keeps limit <= memory+swap at every write: runc's order.
update_memory_v1() {
	local unlimited=9223372036854771712 memsw
	memsw=$(cg_dir m memory)/memory.memsw.limit_in_bytes
	expect_ok sk update --memory 128m m
	assert_eq "$(cg_file m memory.limit_in_bytes)" 134217728 memory.limit_in_bytes
	expect_ok sk update --memory-reservation 32M m
	assert_eq "$(cg_file m memory.soft_limit_in_bytes)" 33554432 memory.soft_limit_in_bytes
	assert_eq "$(cg_file m memory.limit_in_bytes)" 134217728 "the limit after --memory-reservation"
	[[ -e $memsw ]] || return 0
	# memory+swap alone: checked against the limit in place.
	expect_ok sk update --memory-swap 256m m
	assert_eq "$(<"$memsw")" 268435456 memory.memsw.limit_in_bytes
	expect_fail 1 sk update --memory-swap 64m m
	assert_contains "$err" "linux.resources.memory.swap"
	# A limit above memory+swap is refused by the kernel, naming it ...
	expect_fail 1 sk update --memory 1.5g m
	assert_contains "$err" "linux.resources.memory.limit"
	# ... raising both, memory+swap goes first; lowering, the limit.
	expect_ok sk update --memory 1.5g --memory-swap 2g m
	assert_eq "$(cg_file m memory.limit_in_bytes) $(<"$memsw")" "1610612736 2147483648" "raised"
	expect_ok sk update --memory 64m --memory-swap 96m m
	assert_eq "$(cg_file m memory.limit_in_bytes) $(<"$memsw")" "67108864 100663296" "lowered"
	# -1 lifts memory+swap too (runc's rule).
	expect_ok sk update --memory -1 m
	assert_eq "$(cg_file m memory.limit_in_bytes) $(<"$memsw")" "$unlimited $unlimited" "unlimited"
}

test_update_check_before_update() {
	require_controller memory
	local usage low limit=memory.max
	started c 'sleep 1000' '.linux.resources.memory = {limit: 67108864}'
	if [[ $(cg_backend memory) == v1 ]]; then
		usage=$(cg_file c memory.usage_in_bytes)
		limit=memory.limit_in_bytes
	else
		usage=$(cg_file c memory.current)
	fi
	low=$((usage / 2 > 4096 ? usage / 2 : 4096))
	((low < usage)) || skip "memory usage ($usage) too small to test against"
	printf '{"memory": {"limit": %d, "checkBeforeUpdate": true}}' "$low" >"$T/r.json"
	expect_fail 1 sk update -r "$T/r.json" c
	assert_contains "$err" "is not above the current usage"
	assert_contains "$err" "(checkBeforeUpdate)"
	assert_eq "$(cg_file c "$limit")" 67108864 "$limit after a refused update"
	printf '{"memory": {"limit": 104857600, "checkBeforeUpdate": true}}' >"$T/r.json"
	expect_ok sk update -r "$T/r.json" c
	assert_eq "$(cg_file c "$limit")" 104857600 "$limit"
	expect_ok sk delete --force c
}

test_update_pids_limit() {
	require_controller pids
	started p 'sleep 1000'
	expect_ok sk update --pids-limit 10 p
	assert_eq "$(cg_file p pids.max)" 10 pids.max
	expect_ok sk update --pids-limit 0 p
	assert_eq "$(cg_file p pids.max)" 10 "pids.max after --pids-limit 0 (unchanged)"
	expect_ok sk update --pids-limit -1 p
	assert_eq "$(cg_file p pids.max)" max "pids.max after -1"
	expect_ok sk delete --force p
}

test_update_cpu() {
	require_controller cpu
	started c 'sleep 1000'
	if [[ $(cg_backend cpu) == v1 ]]; then
		# Two files: one alone leaves the other.
		expect_ok sk update --cpu-quota 50000 c
		assert_eq "$(cg_file c cpu.cfs_quota_us) $(cg_file c cpu.cfs_period_us)" "50000 100000" "quota, period"
		expect_ok sk update --cpu-period 200000 c
		assert_eq "$(cg_file c cpu.cfs_quota_us) $(cg_file c cpu.cfs_period_us)" "50000 200000" "after --cpu-period"
		expect_ok sk update --cpu-quota -1 c
		assert_eq "$(cg_file c cpu.cfs_quota_us)" -1 "after --cpu-quota -1"
		expect_ok sk update --cpu-share 1024 c
		assert_eq "$(cg_file c cpu.shares)" 1024 "cpu.shares"
		expect_fail 1 sk update --cpu-share 1 c
		assert_contains "$err" "linux.resources.cpu.shares: 1 is outside the kernel's range"
	else
		expect_ok sk update --cpu-quota 50000 c
		assert_eq "$(cg_file c cpu.max)" "50000 100000" cpu.max
		# One half alone keeps the other.
		expect_ok sk update --cpu-period 200000 c
		assert_eq "$(cg_file c cpu.max)" "50000 200000" "cpu.max after --cpu-period"
		expect_ok sk update --cpu-quota -1 c
		assert_eq "$(cg_file c cpu.max)" "max 200000" "cpu.max after --cpu-quota -1"
		expect_ok sk update --cpu-share 1024 c
		assert_eq "$(cg_file c cpu.weight)" 100 "cpu.weight of 1024 shares"
		expect_ok sk update --cpu-shares 2 c
		assert_eq "$(cg_file c cpu.weight)" 1 "cpu.weight of 2 shares"
	fi
	expect_ok sk delete --force c
}

test_update_cpuset() {
	require_controller cpuset
	started c 'sleep 1000'
	expect_ok sk update --cpuset-cpus 0 --cpuset-mems 0 c
	assert_eq "$(cg_file c cpuset.cpus)" 0 cpuset.cpus
	assert_eq "$(cg_file c cpuset.mems)" 0 cpuset.mems
	expect_ok sk delete --force c
}

test_update_resources_file() {
	require_controller memory pids cpu
	local mem=memory.max
	started r 'sleep 1000'
	if [[ $(cg_backend memory) == v1 ]]; then
		mem=memory.limit_in_bytes
		printf '%s' '{"memory": {"limit": 100663296}, "cpu": {"quota": 50000, "period": 200000},
			"pids": {"limit": 20}}' >"$T/r.json"
	else
		printf '%s' '{"memory": {"limit": 100663296}, "cpu": {"quota": 50000, "period": 200000},
			"pids": {"limit": 20}, "unified": {"memory.high": "90000000"}}' >"$T/r.json"
	fi
	expect_ok sk update -r "$T/r.json" r
	assert_eq "$(cg_file r "$mem")" 100663296 "$mem"
	if [[ $(cg_backend cpu) == v1 ]]; then
		assert_eq "$(cg_file r cpu.cfs_quota_us) $(cg_file r cpu.cfs_period_us)" "50000 200000" "quota, period"
	else
		assert_eq "$(cg_file r cpu.max)" "50000 200000" cpu.max
	fi
	assert_eq "$(cg_file r pids.max)" 20 pids.max
	[[ $mem == memory.limit_in_bytes ]] || assert_eq "$(cg_file r memory.high)" 89997312 "memory.high (page-aligned)"
	printf '{"pids": {"limit": 30}}' >"$T/s.json"
	expect_ok sk update -r - r <"$T/s.json"
	assert_eq "$(cg_file r pids.max)" 30 "pids.max from stdin"
	assert_eq "$(cg_file r "$mem")" 100663296 "$mem after a pids-only update"
	expect_ok sk delete --force r
}

test_update_paused() {
	require_freezer
	require_controller pids
	started p 'sleep 1000'
	expect_ok sk pause p
	expect_ok sk update --pids-limit 7 p
	assert_eq "$(cg_file p pids.max)" 7 pids.max
	assert_eq "$(status_of p)" paused "status after an update"
	expect_ok sk delete --force p
}

test_events_stats_memory_pids() {
	require_controller memory pids
	started m 'sleep 1000 & wait' '.linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 50}'
	wait_until 20 nprocs m 2
	expect_ok sk events --stats m
	jq -e '.data.memory.usage.limit == 67108864 and .data.memory.usage.usage > 0
		and (.data.memory.raw | (has("anon") and has("file")) or (has("rss") and has("cache")))
		and .data.pids.current == 2 and .data.pids.limit == 50' <<<"$out" >/dev/null ||
		fail "unexpected stats: $out"
	expect_ok sk delete --force m
}

test_events_oom() {
	require_controller memory
	local pid st=0
	# Waits for /tmp/go, then holds 20 MB in a shell variable under a
	# 10 MB limit (and no swap).
	started o 'while [ ! -e /tmp/go ]; do sleep 0.1; done; x=$(head -c 20000000 /dev/zero | tr "\0" a); sleep 1000' \
		'.linux.resources.memory = {limit: 10485760, swap: 10485760}'
	sk events --interval 200ms o >"$T/ev" 2>&1 &
	pid=$!
	# A first statistics line: the watch is in place.
	wait_until 30 grep -q . "$T/ev"
	: >"$T/o/rootfs/tmp/go"
	# The kernel's side first, so that a failure says which side it was
	# (under a loaded emulated CPU the OOM kill itself can take a while).
	if [[ $(cg_backend memory) == v1 ]]; then
		wait_until 120 grep -qx 'oom_kill [1-9][0-9]*' "$(cg_dir o memory)/memory.oom_control"
	else
		wait_until 120 grep -qx 'oom_kill [1-9][0-9]*' "$(cg_dir o memory)/memory.events"
	fi
	wait_until 30 grep -q '"type":"oom"' "$T/ev"
	grep -qxF '{"type":"oom","id":"o"}' "$T/ev" || fail "no oom event line as runc's: $(<"$T/ev")"
	expect_ok sk delete --force o
	wait_until 30 test ! -d "/proc/$pid"
	wait "$pid" || st=$?
	assert_eq "$st" 0 "events' exit status"
}

# kill --all: every process of the container.  A signal other than KILL
# leaves a paused container paused (it is taken on resume); KILL takes a
# paused one at once.
test_kill_all_paused() {
	require_freezer
	started k 'trap "exit 3" TERM; sleep 1000 & sleep 1000 & wait'
	wait_until 20 nprocs k 3
	expect_ok sk pause k
	expect_ok sk kill --all k TERM
	# Still paused: the shell's trap runs once it is resumed.  (cgroup2's
	# freezer lets a signal whose default action kills take the sleeps at
	# once; v1's holds them too.)
	assert_eq "$(status_of k)" paused "status after kill --all TERM"
	expect_ok sk resume k
	wait_until 20 is_status k stopped
	expect_ok sk delete k
	started k2 'sleep 1000 & sleep 1000 & wait'
	wait_until 20 nprocs k2 3
	expect_ok sk pause k2
	expect_ok sk kill --all k2 KILL
	wait_until 20 is_status k2 stopped
	wait_until 20 nprocs k2 0
	expect_ok sk delete k2
	cg_gone k2
}

# A cgroup v1 only ("legacy") host: the hybrid host with its cgroup2 mount
# hidden in a mount namespace.  Every command, each in its v1 form: the
# freezer for pause, kill --all and delete; pids polled for the end of an
# events stream.
test_legacy_host() {
	local cg2
	cg2=$(cg2_mount)
	[[ -n $cg2 && -n $(cg_v1_mount freezer) ]] || skip "not a hybrid host: no legacy one to make of it"
	mk_bundle "$T/l" sh -c 'sleep 1000 & while [ ! -e /tmp/stop ]; do sleep 0.1; done'
	# The container's own view of cgroups (mounts[] type cgroup) is
	# cgroup2 only so far (docs/cgroups.md): without it here.
	cfg_edit "$T/l" '.root.readonly = false | .linux.resources.pids = {limit: 20}
		| .linux.resources.memory = {limit: 67108864} | del(.mounts[] | select(.type == "cgroup"))'
	# shellcheck disable=SC2016  # expanded by the inner bash
	run unshare -m bash -c '
		set -e
		umount "$1"
		sk() { "$SKIFF" --root "$ROOT" "$@"; }
		sk features | jq -r ".annotations[\"org.skiff.cgroup.backend\"]"
		sk create --bundle "$2" l
		sk start l
		for i in $(seq 300); do [ "$(sk ps -f json l | jq length)" = 3 ] && break; sleep 0.1; done
		sk ps -f json l | jq length
		sk pause l
		sk state l | jq -r .status
		sk resume l
		sk update --pids-limit 30 l
		cat "$3/pids.max"
		sk events --stats l | jq -c "[.data.pids.current, .data.pids.limit, .data.memory.usage.limit]"
		sk events --interval 100ms l >"$2/ev" &
		ev=$!
		for i in $(seq 300); do [ -s "$2/ev" ] && break; sleep 0.1; done
		: >"$2/rootfs/tmp/stop"
		sk kill --all l KILL
		wait $ev
		grep -c "\"type\":\"stats\"" "$2/ev" >/dev/null && echo stream-ended
		sk state l | jq -r .status
		sk delete l
		echo deleted' bash "$cg2" "$T/l" "$(cg_dir l pids)"
	((status == 0)) || fail "legacy host: exit $status: $out / $err"
	assert_eq "$out" $'legacy\n3\npaused\n30\n[3,30,67108864]\nstream-ended\nstopped\ndeleted'
	cg_gone l
}
