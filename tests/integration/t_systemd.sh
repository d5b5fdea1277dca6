# shellcheck shell=bash
# The systemd cgroup driver (--systemd-cgroup, docs/cgroups.md): the unit,
# its properties in systemd and in cgroupfs, daemon-reload, update, the
# commands on its cgroup, delete.  Needs systemd as PID 1: run in
#   tests/vm/run --systemd [--hybrid] tests/integration/run t_systemd
# (skipped elsewhere).  cgroup v2 in full, a lean subset on hybrid.
# SC2154: out, err, status come from lib.sh's run.
# shellcheck disable=SC2154

require_systemd() {
	[[ -d /run/systemd/system ]] || skip "systemd is not PID 1 here (tests/vm/run --systemd runs these)"
	command -v systemctl >/dev/null || skip "no systemctl"
}

unified() { [[ -e /sys/fs/cgroup/cgroup.controllers ]]; }
require_unified() { unified || skip "cgroup v2 only (this host is hybrid)"; }

sds() { sk --systemd-cgroup "$@"; }

# sd_bundle DIR ID [CMD...]: mk_bundle's, its cgroup the scope skt-ID.scope
# in system.slice.
sd_bundle() {
	local dir=$1 id=$2
	shift 2
	mk_bundle "$dir" "$@"
	cfg_edit "$dir" '.linux.cgroupsPath = "system.slice:skt:" + $id' --arg id "$id"
}

prop() { systemctl show -p "$2" --value "$1"; }

# unit_dir UNIT [CTRL]: its cgroup directory (v1: in CTRL's hierarchy).
unit_dir() {
	local cg
	cg=$(prop "$1" ControlGroup)
	if unified || [[ -z ${2:-} ]]; then
		unified && printf '/sys/fs/cgroup%s' "$cg" || printf '/sys/fs/cgroup/unified%s' "$cg"
	else
		printf '/sys/fs/cgroup/%s%s' "$2" "$cg"
	fi
}

no_unit() {
	local n
	n=$(systemctl list-units --all --no-legend "$1" | wc -l)
	((n == 0)) || fail "unit $1 left: $(systemctl list-units --all --no-legend "$1")"
}

limits_cfg() {
	cfg_edit "$1" '.linux.resources.memory = {"limit": 67108864, "swap": 67108864}
		| .linux.resources.pids = {"limit": 50}
		| .linux.resources.cpu = {"shares": 512, "quota": 50000, "period": 100000}
		| .annotations["org.systemd.property.CollectMode"] = "'"'"'inactive-or-failed'"'"'"'
}

# v2: the values in cgroupfs.
check_files_v2() {
	local d=$1 mem=$2 pids=$3
	assert_eq "$(<"$d/memory.max")" "$mem" memory.max
	assert_eq "$(<"$d/memory.swap.max")" 0 memory.swap.max
	assert_eq "$(<"$d/pids.max")" "$pids" pids.max
	assert_eq "$(<"$d/cpu.max")" "50000 100000" cpu.max
}

# timeout: 3x
test_systemd_unit_limits_reload_update() {
	require_systemd
	require_unified
	sd_bundle "$T/b" l1 sleep 1000
	limits_cfg "$T/b"
	local u=skt-l1.scope d pid
	expect_ok sds create --bundle "$T/b" l1
	expect_ok sds start l1
	assert_eq "$(prop $u Slice)" system.slice
	assert_eq "$(prop $u ControlGroup)" /system.slice/$u
	assert_eq "$(prop $u Delegate)" yes
	assert_eq "$(prop $u DefaultDependencies)" no
	assert_eq "$(prop $u MemoryMax)" 67108864
	assert_eq "$(prop $u MemorySwapMax)" 0
	assert_eq "$(prop $u TasksMax)" 50
	assert_eq "$(prop $u CPUQuotaPerSecUSec)" 500ms
	assert_eq "$(prop $u CollectMode)" inactive-or-failed
	assert_eq "$(prop $u DevicePolicy)" strict
	assert_eq "$(prop $u ActiveState)" active
	d=$(unit_dir $u)
	check_files_v2 "$d" 67108864 50
	pid=$(sk state l1 | jq -r .pid)
	assert_eq "$(<"$d/cgroup.procs")" "$pid" "only the init is in the unit (the holder is gone)"
	# daemon-reload re-applies systemd's view: nothing is lost.
	systemctl daemon-reload
	check_files_v2 "$d" 67108864 50
	# update, without the flag (the state knows the driver): both places.
	expect_ok sk update --memory 134217728 --pids-limit 70 l1
	assert_eq "$(prop $u MemoryMax)" 134217728
	assert_eq "$(prop $u TasksMax)" 70
	systemctl daemon-reload
	assert_eq "$(<"$d/memory.max")" 134217728
	assert_eq "$(<"$d/pids.max")" 70
	expect_ok sk delete --force l1
	no_unit $u
	[[ ! -e $d ]] || fail "$d left"
}

test_systemd_commands() {
	require_systemd
	require_unified
	sd_bundle "$T/c" c1 sleep 1000
	local u=skt-c1.scope d
	expect_ok sds run -d --bundle "$T/c" c1
	d=$(unit_dir $u)
	expect_ok sds pause c1
	assert_eq "$(status_of c1)" paused
	assert_eq "$(sed -n 's/^frozen //p' "$d/cgroup.events")" 1
	assert_eq "$(prop $u ActiveState)" active
	expect_ok sds resume c1
	assert_eq "$(status_of c1)" running
	expect_ok sds exec c1 cat /proc/self/cgroup
	assert_eq "$out" "0::/" "exec is in the unit's cgroup (the namespace's root)"
	expect_ok sds exec -d c1 sleep 999
	expect_ok sds ps --format json c1
	assert_eq "$(jq length <<<"$out")" 2
	for pid in $(jq -r '.[]' <<<"$out"); do
		assert_eq "$(sed -n 's/^0:://p' "/proc/$pid/cgroup")" /system.slice/$u
	done
	expect_ok sds events --stats c1
	[[ $(jq -r '.data.memory.usage.usage' <<<"$out") -gt 0 ]] || fail "no memory usage: $out"
	expect_ok sds kill --all c1 KILL
	wait_stopped() { [[ $(status_of c1) == stopped ]]; }
	local i
	for i in $(seq 50); do wait_stopped && break; sleep 0.1; done
	expect_ok sds delete c1
	no_unit $u
}

test_systemd_hybrid_limits() {
	require_systemd
	unified && skip "hybrid only (this host is cgroup v2)"
	sd_bundle "$T/h" h1 sleep 1000
	limits_cfg "$T/h"
	cfg_edit "$T/h" 'del(.linux.resources.memory.swap)'
	local u=skt-h1.scope d
	expect_ok sds run -d --bundle "$T/h" h1
	assert_eq "$(prop $u ControlGroup)" /system.slice/$u
	assert_eq "$(prop $u MemoryLimit)" 67108864
	d=$(unit_dir $u memory)
	assert_eq "$(<"$d/memory.limit_in_bytes")" 67108864
	assert_eq "$(<"$(unit_dir $u pids)/pids.max")" 50
	systemctl daemon-reload
	assert_eq "$(<"$d/memory.limit_in_bytes")" 67108864
	expect_ok sk update --memory 134217728 h1
	assert_eq "$(prop $u MemoryLimit)" 134217728
	assert_eq "$(<"$d/memory.limit_in_bytes")" 134217728
	expect_ok sk delete --force h1
	no_unit $u
}

test_systemd_bad_paths() {
	require_systemd
	mk_bundle "$T/x" true
	cfg_edit "$T/x" '.linux.cgroupsPath = "/foo/bar"'
	expect_fail 1 sds run --bundle "$T/x" x1
	assert_eq "$err" 'skiff run: linux.cgroupsPath "/foo/bar": expected "slice:prefix:name" for systemd cgroups'
	cfg_edit "$T/x" '.linux.cgroupsPath = "a--b.slice:skt:x1"'
	expect_fail 1 sds run --bundle "$T/x" x1
	assert_contains "$err" 'empty component'
	assert_empty_dir "$ROOT"
	no_unit skt-x1.scope
}

test_systemd_nested_slice() {
	require_systemd
	mk_bundle "$T/n" sleep 1000
	cfg_edit "$T/n" '.linux.cgroupsPath = "sktn-a-b.slice:skt:n1"'
	expect_ok sds run -d --bundle "$T/n" n1
	assert_eq "$(prop skt-n1.scope ControlGroup)" /sktn.slice/sktn-a.slice/sktn-a-b.slice/skt-n1.scope
	expect_ok sk delete --force n1
	no_unit skt-n1.scope
	systemctl stop sktn.slice
}

# timeout: 3x
test_systemd_killed_create_leaves_no_unit() {
	require_systemd
	# Hybrid: timed out (120 s) once under TCG with another VM running;
	# v2 only until that is understood.
	require_unified
	local at
	for at in state-written unit-started cgroup-made cloned ready; do
		sd_bundle "$T/k$at" "k-$at" sleep 1000
		SKIFF_TEST_KILL_AT=$at run sds create --bundle "$T/k$at" "k-$at"
		((status == 137)) || fail "create with the kill point $at exited $status: $err"
		expect_ok sk delete --force "k-$at"
		no_unit "skt-k-$at.scope"
	done
	assert_empty_dir "$ROOT"
}

# An unreadable state.json: delete --force finds the unit from the saved
# config (systemd's "slice:prefix:name", or the default unit without a
# cgroupsPath), kills what it holds and stops it.
test_systemd_delete_unreadable_state() {
	require_systemd
	local id pid u
	for id in us1 us2; do
		sd_bundle "$T/$id" "$id" sleep 1000
		u=skt-$id.scope
		if [[ $id == us2 ]]; then
			cfg_edit "$T/$id" 'del(.linux.cgroupsPath)'
			u=skiff-$id.scope
		fi
		expect_ok sds run -d --bundle "$T/$id" "$id"
		pid=$(sk state "$id" | jq -r .pid)
		assert_eq "$(prop "$u" ActiveState)" active "$u"
		printf '{"id": "x", "pid": [' >"$ROOT/$id/state.json"
		expect_fail 1 sk delete "$id"
		expect_ok sk delete --force "$id"
		gone "$pid" "the init of $id"
		no_unit "$u"
	done
	assert_empty_dir "$ROOT"
}

# ------------------------------------------ rootless: the user's manager
# The test user (lib.sh rl_user) with its systemd user manager
# (user@UID.service, Debian's Delegate=pids memory cpu), skiff run as the
# user with --systemd-cgroup: units in the user manager's tree.

# rl_sd_user: rl_user, its manager started (once per boot), RL_XDG its
# /run/user/UID, RL_BUS the user bus; as_rl passes both.
rl_sd_user() {
	require_systemd
	require_unified
	rl_user
	systemctl start "user@$RL_UID.service" || fail "systemctl start user@$RL_UID.service"
	RL_XDG=/run/user/$RL_UID
	RL_BUS=unix:path=$RL_XDG/bus
	for _ in $(seq 100); do
		[[ -S $RL_XDG/bus ]] && break
		sleep 0.1
	done
	[[ -S $RL_XDG/bus ]] || fail "no user bus at $RL_XDG/bus"
	RL_MGR=/user.slice/user-$RL_UID.slice/user@$RL_UID.service
}

rl_sds() { as_rl env DBUS_SESSION_BUS_ADDRESS="$RL_BUS" "$SKIFF" --systemd-cgroup "$@"; }
rl_sdk() { as_rl env DBUS_SESSION_BUS_ADDRESS="$RL_BUS" "$SKIFF" "$@"; }
uprop() { as_rl env DBUS_SESSION_BUS_ADDRESS="$RL_BUS" systemctl --user show -p "$2" --value "$1"; }
no_user_unit() {
	local n
	n=$(as_rl env DBUS_SESSION_BUS_ADDRESS="$RL_BUS" systemctl --user list-units --all --no-legend "$1" | wc -l)
	((n == 0)) || fail "user unit $1 left"
}

# rl_sd_lifecycle ID: the bundle in $RL_HOME/ID (limits memory 64 MiB,
# pids 50) run -d, its unit and cgroup checked, updated, paused, deleted.
rl_sd_lifecycle() {
	local id=$1 u=skiff-$1.scope pid d
	cd "$RL_HOME/$id"
	expect_ok rl_sds run -d "$id"
	pid=$(rl_sdk state "$id" | jq -r .pid)
	assert_eq "$(uprop $u ControlGroup)" "$RL_MGR/user.slice/$u" "the unit's cgroup"
	assert_eq "$(sed -n 's/^0:://p' "/proc/$pid/cgroup")" "$RL_MGR/user.slice/$u" "the init's cgroup"
	assert_eq "$(uprop $u Slice)" user.slice
	assert_eq "$(uprop $u MemoryMax)" 67108864
	assert_eq "$(uprop $u TasksMax)" 50
	d=/sys/fs/cgroup$RL_MGR/user.slice/$u
	assert_eq "$(<"$d/memory.max")" 67108864 memory.max
	assert_eq "$(<"$d/pids.max")" 50 pids.max
	assert_eq "$(<"$d/cgroup.procs")" "$pid" "only the init is in the unit"
	# exec: born outside the manager's tree, moved in by the manager.
	expect_ok rl_sdk exec "$id" sh -c 'echo in; cat /proc/self/cgroup'
	assert_eq "$(sed -n 1p <<<"$out")" in exec
	assert_match "$(sed -n 2p <<<"$out")" "^0::(/|$RL_MGR/user.slice/$u)\$" "exec's cgroup"
	# update without the flag: the state knows the driver and the manager.
	expect_ok rl_sdk update --memory 134217728 --pids-limit 70 "$id"
	assert_eq "$(uprop $u MemoryMax)" 134217728
	assert_eq "$(uprop $u TasksMax)" 70
	assert_eq "$(<"$d/memory.max")" 134217728 "memory.max after update"
	assert_eq "$(<"$d/pids.max")" 70 "pids.max after update"
	expect_ok rl_sdk pause "$id"
	assert_eq "$(sed -n 's/^frozen //p' "$d/cgroup.events")" 1 frozen
	expect_ok rl_sdk resume "$id"
	expect_ok rl_sdk delete --force "$id"
	gone "$pid" "the init"
	no_user_unit "$u"
	[[ ! -e $d ]] || fail "$d left"
	assert_empty_dir "$RL_XDG/skiff"
}

# A `spec --rootless` bundle: the caller's own ids only.
# timeout: 2x
test_systemd_rootless_user_manager() {
	rl_sd_user
	rl_bundle "$RL_HOME/ru1" sh -c 'id -u; sleep 1000'
	cfg_edit "$RL_HOME/ru1" '.linux.resources = {memory: {limit: 67108864}, pids: {limit: 50}}'
	chown -R "$RL_UID:$RL_GID" "$RL_HOME/ru1"
	rl_sd_lifecycle ru1
}

# Subordinate ranges (newuidmap/newgidmap), a non-root process user.
# timeout: 2x
test_systemd_rootless_user_manager_subid() {
	[[ -n ${SKIFF_SD_FULL:-} ]] || skip "run by make systemd-vm (SKIFF_SD_FULL=1)"
	rl_sd_user
	rl_bundle "$RL_HOME/ru2" sleep 1000
	cfg_edit "$RL_HOME/ru2" '.linux.uidMappings += [{containerID: 1, hostID: $su, size: 65536}]
		| .linux.gidMappings += [{containerID: 1, hostID: $sg, size: 65536}]
		| .process.user = {uid: 1000, gid: 1000}
		| .linux.resources = {memory: {limit: 67108864}, pids: {limit: 50}}' \
		--argjson su "$RL_SUBUID" --argjson sg "$RL_SUBGID"
	chown -R "$RL_UID:$RL_GID" "$RL_HOME/ru2"
	rl_sd_lifecycle ru2
}

# Refusals, one line each, nothing made: no user manager on the bus,
# an address that is not unix:, a controller the manager was not given.
test_systemd_rootless_refusals() {
	rl_sd_user
	rl_bundle "$RL_HOME/rf" true
	cd "$RL_HOME/rf"
	# No manager: XDG_RUNTIME_DIR a directory of the user's, without a bus.
	mkdir -p "$RL_HOME/xdg2"
	chmod 700 "$RL_HOME/xdg2"
	chown "$RL_UID:$RL_GID" "$RL_HOME/xdg2"
	run as_rl env XDG_RUNTIME_DIR="$RL_HOME/xdg2" "$SKIFF" --systemd-cgroup run rf1
	((status == 1)) || fail "no user manager: status $status: $err"
	assert_eq "$err" "skiff run: systemd cgroup driver: connect to the user bus unix:path=$RL_HOME/xdg2/bus (is the user's systemd, user@UID.service, running?): ENOENT"
	assert_empty_dir "$RL_HOME/xdg2/skiff"
	# Without DBUS_SESSION_BUS_ADDRESS, $XDG_RUNTIME_DIR/bus is the bus.
	run as_rl "$SKIFF" --systemd-cgroup run rf1
	((status == 0)) || fail "\$XDG_RUNTIME_DIR/bus: $err"
	run as_rl env DBUS_SESSION_BUS_ADDRESS="tcp:host=127.0.0.1,port=1" "$SKIFF" --systemd-cgroup run rf2
	assert_eq "$err" 'skiff run: systemd cgroup driver: DBUS_SESSION_BUS_ADDRESS "tcp:host=127.0.0.1,port=1": not a unix: address'
	run as_rl env DBUS_SESSION_BUS_ADDRESS="$RL_BUS;tcp:host=127.0.0.1,port=1" "$SKIFF" --systemd-cgroup run rf2
	assert_contains "$err" 'not a unix: address'
	# The user manager has pids, memory and cpu: not io, not cpuset.
	cfg_edit "$RL_HOME/rf" '.linux.resources = {blockIO: {weight: 500}}'
	chown "$RL_UID:$RL_GID" "$RL_HOME/rf/config.json"
	run rl_sds run rf3
	((status == 1)) || fail "io: status $status: $err"
	assert_match "$err" '^skiff run: systemd cgroup driver: controller "io" is not delegated to the user'"'"'s manager \(/sys/fs/cgroup'"$RL_MGR"'/cgroup.controllers: "[a-z ]*"\), needed by linux.resources.blockIO[.a-zA-Z]*$'
	no_user_unit skiff-rf3.scope
	assert_empty_dir "$RL_XDG/skiff"
}
