# shellcheck shell=bash disable=SC2154
# Rootless podman 4.3 with its default cgroup manager, systemd: the user's
# manager (user@UID.service) on the user bus, where systemd is PID 1 and
# cgroups are v2 only:
#   tests/vm/run --systemd tests/clients/run sdrootless
# podman runs as the test user skiffrl (made here, with /etc/subuid and
# /etc/subgid ranges), with --runtime skiff (through the calls wrapper) or
# runc, under conmon or skiff-shim (podman's conmon_path): --memory and
# --pids-limit land in the container's unit (systemctl --user show) and in
# cgroupfs, the same with skiff as with runc (docs/rootless.md).
# (run() in lib.sh sets $out, $err and $status.)

lean_tests=(test_sdrootless_skiff_conmon)

SDR_USER=skiffrl

missing_sdrootless() {
	[[ -d /run/systemd/system ]] || { echo "systemd is not PID 1 here (tests/vm/run --systemd runs these)"; return; }
	[[ -e /sys/fs/cgroup/cgroup.controllers ]] ||
		{ echo "cgroup v2 only: a user manager is delegated controllers there"; return; }
	local b
	for b in podman conmon runc newuidmap setpriv systemctl; do
		command -v "$b" >/dev/null || { echo "$b is not installed (make deps-clients, deps-test)"; return; }
	done
}

# The test user (as tests/integration/lib.sh rl_user makes it), its
# manager started, its directories; exported for the tests.
setup_sdrootless() {
	if ! id -u "$SDR_USER" >/dev/null 2>&1; then
		useradd -m -s /bin/sh "$SDR_USER" 2>/dev/null || id -u "$SDR_USER" >/dev/null || return 1
	fi
	local f
	for f in /etc/subuid /etc/subgid; do
		grep -q "^$SDR_USER:" "$f" 2>/dev/null || echo "$SDR_USER:300000:65536" >>"$f"
	done
	SDR_UID=$(id -u "$SDR_USER")
	SDR_GID=$(id -g "$SDR_USER")
	SDR_SUBUID=$(awk -F: -v u="$SDR_USER" '$1 == u && $3 >= 65536 { print $2; exit }' /etc/subuid)
	systemctl start "user@$SDR_UID.service" || return 1
	SDR_XDG=/run/user/$SDR_UID
	for _ in $(seq 100); do
		[[ -S $SDR_XDG/bus ]] && break
		sleep 0.1
	done
	[[ -S $SDR_XDG/bus ]] || { echo "no user bus at $SDR_XDG/bus"; return 1; }
	SDR_MGR=/user.slice/user-$SDR_UID.slice/user@$SDR_UID.service
	SDR_HOME=$CL/home
	mkdir -p "$SDR_HOME"
	# podman refuses a runroot over 50 bytes.
	SDR_RUNROOT=$SDR_XDG/skiff-c
	# The runtime runs as root of podman's user namespace: the wrapper's
	# log must be writable by the user.
	chmod 666 "$CL/calls.log"
	local mon
	for mon in conmon shim; do
		{
			printf '[containers]\nnetns = "none"\n[engine]\n'
			if [[ $mon == shim ]]; then
				printf 'conmon_path = ["%s"]\n' "$REPO/shim/skiff-shim"
			else
				printf 'conmon_path = ["%s"]\n' "$(command -v conmon)"
			fi
		} >"$SDR_HOME/$mon.conf"
	done
	chown -R "$SDR_UID:$SDR_GID" "$SDR_HOME"
	export SDR_UID SDR_GID SDR_SUBUID SDR_XDG SDR_MGR SDR_HOME SDR_RUNROOT
	SDR_MON=conmon SDR_RT=runc sdr_pm load -i "$IMAGES/busybox.tar" || return 1
	[[ $(SDR_MON=conmon SDR_RT=runc sdr_pm info --format '{{.Host.CgroupManager}}') == systemd ]] ||
		{ echo "podman's cgroup manager is not systemd"; return 1; }
}

teardown_sdrootless() {
	local rt
	for rt in skiff runc; do
		SDR_MON=conmon SDR_RT=$rt sdr_pm rm -af -t 0
	done
	SDR_MON=conmon SDR_RT=runc sdr_pm rmi -af
	# The manager's end takes podman's pause process (in a scope of its)
	# and the conmon scopes with it.
	systemctl stop "user@$SDR_UID.service"
	rm -rf "$SDR_RUNROOT"
}

# as_sdr CMD...: CMD as the test user, in its session's environment.
as_sdr() {
	setpriv --reuid "$SDR_UID" --regid "$SDR_GID" --init-groups --reset-env \
		env HOME="$SDR_HOME" XDG_RUNTIME_DIR="$SDR_XDG" DBUS_SESSION_BUS_ADDRESS="unix:path=$SDR_XDG/bus" \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

# sdr_pm ARGS...: rootless podman with $SDR_RT (skiff or runc) under
# $SDR_MON (conmon or shim); no --cgroup-manager: its default.
sdr_pm() {
	local rt mon
	case $SDR_RT in
	skiff) rt=$CL/skiff ;;
	runc) rt=$(command -v runc) ;;
	esac
	case $SDR_MON in
	conmon) mon=$(command -v conmon) ;;
	shim) mon=$REPO/shim/skiff-shim ;;
	esac
	as_sdr env CONTAINERS_CONF="$SDR_HOME/$SDR_MON.conf" podman --root "$SDR_HOME/storage" \
		--runroot "$SDR_RUNROOT" --storage-driver vfs --events-backend file --runtime "$rt" --conmon "$mon" "$@"
}

sdr_prop() { as_sdr systemctl --user show -p "$2" --value "$1"; }
sdr_unit_gone() { (($(as_sdr systemctl --user list-units --all --no-legend "$1" | wc -l) == 0)); }

# The scenario, the same for every runtime and monitor.
sdr_scenario() {
	expect_ok sdr_pm run --rm --network none "$IMG" sh -c 'id -u; cat /proc/self/uid_map'
	assert_eq "$out" "$(printf '0\n%10d %10d %10d\n%10d %10d %10d' 0 "$SDR_UID" 1 1 "$SDR_SUBUID" 65536)" "run --rm"
	expect_ok sdr_pm run -d --name m1 --network none --memory 64m --pids-limit 50 "$IMG" sleep 1000
	local id pid u
	id=$(sdr_pm inspect -f '{{.Id}}' m1)
	pid=$(sdr_pm inspect -f '{{.State.Pid}}' m1)
	u=libpod-$id.scope
	assert_eq "$(sed -n 's/^0:://p' "/proc/$pid/cgroup")" "$SDR_MGR/user.slice/$u" "the container's cgroup"
	assert_eq "$(sdr_prop "$u" Slice)" user.slice
	assert_eq "$(sdr_prop "$u" MemoryMax)" 67108864
	assert_eq "$(sdr_prop "$u" TasksMax)" 50
	assert_eq "$(cg_limit "$pid" memory)" 67108864 "memory.max"
	assert_eq "$(cg_limit "$pid" pids)" 50 "pids.max"
	expect_ok sdr_pm exec m1 sh -c 'echo in-container'
	assert_eq "$out" in-container
	expect_ok sdr_pm stop -t 1 m1
	expect_ok sdr_pm rm m1
	wait_until 20 "unit $u to go" sdr_unit_gone "$u"
	expect_ok sdr_pm ps -a --format '{{.Names}}'
	assert_eq "$out" "" "containers left"
}

# skiff: podman passed --systemd-cgroup, and skiff's state (in
# $XDG_RUNTIME_DIR/skiff: podman gives no --root) holds no container.
sdr_skiff_checks() {
	grep -q -- "--systemd-cgroup" "$CL/calls.log" || fail "podman did not pass --systemd-cgroup"
	local f
	for f in "$SDR_XDG"/skiff/*; do
		[[ -e $f ]] && fail "state left: $f"
	done
	return 0
}

test_sdrootless_skiff_conmon() {
	export SDR_RT=skiff SDR_MON=conmon
	sdr_scenario
	sdr_skiff_checks
}

test_sdrootless_skiff_shim() {
	export SDR_RT=skiff SDR_MON=shim
	sdr_scenario
	sdr_skiff_checks
}

# runc, for the same results.
test_sdrootless_runc_conmon() {
	export SDR_RT=runc SDR_MON=conmon
	sdr_scenario
}

test_sdrootless_runc_shim() {
	export SDR_RT=runc SDR_MON=shim
	sdr_scenario
}
