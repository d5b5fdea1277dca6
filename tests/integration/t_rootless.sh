# shellcheck shell=bash
# $out, $err and $status come from lib.sh's run; single quotes hold jq and sh code.
# shellcheck disable=SC2154,SC2016
# skiff run by an unprivileged user (docs/rootless.md): the test user of
# lib.sh's rl_user, through setpriv, with its own XDG_RUNTIME_DIR.

# rl_sk ARGS...: skiff as the test user, default root.
rl_sk() { as_rl "$SKIFF" "$@"; }

test_rootless_state_root_in_xdg() {
	rl_user
	rl_bundle "$RL_HOME/b" true
	cd "$RL_HOME/b"
	expect_ok rl_sk run r1
	assert_eq "$(stat -c '%a %U' "$RL_XDG/skiff")" "700 $SK_RL_USER" "state root"
	assert_empty_dir "$RL_XDG/skiff"
	# --root is honoured, and created 0700.
	expect_ok rl_sk --root "$RL_HOME/state" run r2
	assert_eq "$(stat -c '%a %U' "$RL_HOME/state")" "700 $SK_RL_USER" "--root"
}

test_rootless_xdg_refused() {
	rl_user
	rl_bundle "$RL_HOME/b" true
	cd "$RL_HOME/b"
	run as_rl env -u XDG_RUNTIME_DIR "$SKIFF" run r1
	((status == 1)) || fail "no XDG_RUNTIME_DIR: status $status"
	assert_eq "$err" "skiff run: XDG_RUNTIME_DIR is not set: a rootless caller needs it (or --root)"
	ln -s "$RL_XDG" "$RL_HOME/link"
	run as_rl env XDG_RUNTIME_DIR="$RL_HOME/link" "$SKIFF" list
	assert_eq "$err" "skiff list: XDG_RUNTIME_DIR \"$RL_HOME/link\": a symlink"
	run as_rl env XDG_RUNTIME_DIR=/tmp "$SKIFF" list
	assert_eq "$err" "skiff list: XDG_RUNTIME_DIR \"/tmp\": owned by uid 0, not by the caller (uid $RL_UID)"
	run as_rl env XDG_RUNTIME_DIR=rel "$SKIFF" list
	assert_eq "$err" "skiff list: XDG_RUNTIME_DIR \"rel\": not an absolute path"
	run as_rl env XDG_RUNTIME_DIR="$RL_HOME/none" "$SKIFF" list
	assert_eq "$err" "skiff list: XDG_RUNTIME_DIR \"$RL_HOME/none\": ENOENT"
	# Nothing was made anywhere.
	[[ ! -e /tmp/skiff && ! -e $RL_HOME/none ]] || fail "a state root was made"
	# spec and validate need no state root.
	rm "$RL_HOME/b/config.json"
	expect_ok as_rl env -u XDG_RUNTIME_DIR "$SKIFF" spec --rootless -b "$RL_HOME/b"
	expect_ok as_rl env -u XDG_RUNTIME_DIR "$SKIFF" validate -b "$RL_HOME/b"
}

# Another user's state root, given with --root, is refused before any
# state is read: state.json names pids to signal and paths to remove.
test_rootless_foreign_root_refused() {
	rl_user
	mkdir -p "$T/foreign/x"
	chmod 777 "$T/foreign"
	run as_rl "$SKIFF" --root "$T/foreign" list
	assert_eq "$err" "skiff list: state root $T/foreign: owned by uid 0, not by the caller (uid $RL_UID)"
	run as_rl "$SKIFF" --root "$T/foreign" kill x KILL
	assert_eq "$err" "skiff kill: state root $T/foreign: owned by uid 0, not by the caller (uid $RL_UID)"
	# And the other way: root refuses a user's root.
	run "$SKIFF" --root "$RL_XDG" list
	assert_eq "$err" "skiff list: state root $RL_XDG: owned by uid $RL_UID, not by the caller (uid 0)"
}

MAPS_SCRIPT='id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups'

# The single mapping of the caller's own ids: written by skiff itself,
# with setgroups denied (the kernel's condition for an unprivileged gid map).
test_rootless_single_mapping() {
	rl_user
	rl_bundle "$RL_HOME/b" sh -c "$MAPS_SCRIPT"
	cd "$RL_HOME/b"
	expect_ok rl_sk run r1
	local want
	want=$(printf '0\n0\n%10d %10d %10d\n%10d %10d %10d\ndeny' 0 "$RL_UID" 1 0 "$RL_GID" 1)
	assert_eq "$out" "$want" "ids, maps and setgroups"
}

# Subordinate ranges go through newuidmap/newgidmap; setgroups stays allowed.
test_rootless_subid_mapping() {
	rl_user
	rl_bundle "$RL_HOME/b" sh -c "$MAPS_SCRIPT; ls -ln /tmp/f"
	cfg_edit "$RL_HOME/b" '.linux.uidMappings += [{containerID: 1, hostID: $su, size: 65536}]
		| .linux.gidMappings += [{containerID: 1, hostID: $sg, size: 65536}]
		| .process.user = {uid: 1000, gid: 1000}' --argjson su "$RL_SUBUID" --argjson sg "$RL_SUBGID"
	# A file owned by container uid 1000 = host uid RL_SUBUID + 999.
	touch "$RL_HOME/b/rootfs/tmp/f"
	chown "$((RL_SUBUID + 999)):$((RL_SUBGID + 999))" "$RL_HOME/b/rootfs/tmp/f"
	chown "$RL_UID:$RL_GID" "$RL_HOME/b/config.json"
	cd "$RL_HOME/b"
	expect_ok rl_sk run r1
	local want
	want=$(printf '1000\n1000\n%10d %10d %10d\n%10d %10d %10d\n%10d %10d %10d\n%10d %10d %10d\nallow' \
		0 "$RL_UID" 1 1 "$RL_SUBUID" 65536 0 "$RL_GID" 1 1 "$RL_SUBGID" 65536)
	assert_eq "$(head -n 7 <<<"$out")" "$want" "ids, maps and setgroups"
	assert_match "$(tail -n 1 <<<"$out")" '^-rw-r--r-- +1 1000 +1000 ' "a subordinate id's file"
}

# A map the user may not have: one line naming the map and the helper's
# reason; nothing left.
test_rootless_mapping_refused() {
	rl_user
	rl_bundle "$RL_HOME/b" true
	cfg_edit "$RL_HOME/b" '.linux.uidMappings = [{containerID: 0, hostID: 0, size: 1}]'
	chown "$RL_UID:$RL_GID" "$RL_HOME/b/config.json"
	cd "$RL_HOME/b"
	expect_fail 1 rl_sk run r1
	assert_match "$err" '^skiff run: user namespace uid mappings "0 0 1": newuidmap: .*not allowed$'
	[[ $err != *$'\n'* ]] || fail "more than one line: $err"
	cfg_edit "$RL_HOME/b" '.linux.uidMappings = [{containerID: 0, hostID: $u, size: 1}]
		| .linux.gidMappings = [{containerID: 0, hostID: 0, size: 5}]' --argjson u "$RL_UID"
	chown "$RL_UID:$RL_GID" "$RL_HOME/b/config.json"
	expect_fail 1 rl_sk run r1
	assert_match "$err" '^skiff run: user namespace gid mappings "0 0 5": newgidmap: .*not allowed$'
	assert_empty_dir "$RL_XDG/skiff"
}

# No cgroupsPath and no limits: no cgroup, no error; the commands that
# need one say so in one line; exec joins the user namespace first.
test_rootless_no_cgroup_lifecycle() {
	rl_user
	rl_bundle "$RL_HOME/b" sleep 100
	cd "$RL_HOME/b"
	expect_ok rl_sk run -d r1
	run rl_sk state r1
	assert_eq "$(jq -r .status <<<"$out")" running "status"
	local pid
	pid=$(jq -r .pid <<<"$out")
	assert_eq "$(stat -c %u "/proc/$pid")" "$RL_UID" "the init's host uid"
	[[ $(jq -r '.cgroupPath // "none"' "$RL_XDG/skiff/r1/state.json") == none ]] || fail "a cgroup was recorded"
	expect_ok rl_sk exec r1 sh -c 'id -u; cat /proc/self/uid_map; echo $$'
	assert_eq "$out" "$(printf '0\n%10d %10d %10d\n2' 0 "$RL_UID" 1)" "exec: uid, map, pid"
	expect_fail 7 rl_sk exec r1 sh -c 'exit 7'
	expect_fail 1 rl_sk pause r1
	assert_eq "$err" 'skiff pause: cannot pause container "r1": it has no cgroup'
	expect_fail 1 rl_sk ps r1
	assert_eq "$err" 'skiff ps: container "r1" has no cgroup'
	expect_fail 1 rl_sk update --pids-limit 10 r1
	assert_eq "$err" 'skiff update: container "r1" has no cgroup'
	expect_fail 1 rl_sk events --stats r1
	assert_eq "$err" 'skiff events: container "r1" has no cgroup'
	expect_ok rl_sk kill r1 KILL
	gone "$pid" "the init"
	expect_ok rl_sk delete r1
	assert_empty_dir "$RL_XDG/skiff"
}

# Limits, or a cgroupsPath, without a cgroup the caller may write: one line,
# nothing left; --rootless false makes any cgroup failure fatal.
test_rootless_cgroup_refused() {
	rl_user
	rl_bundle "$RL_HOME/b" true
	cfg_edit "$RL_HOME/b" '.linux.resources = {pids: {limit: 10}}'
	chown "$RL_UID:$RL_GID" "$RL_HOME/b/config.json"
	cd "$RL_HOME/b"
	expect_fail 1 rl_sk run r1
	assert_match "$err" '^skiff run: rootless: linux.resources needs a cgroup the caller may write \(delegated\): mkdir cgroup "[^"]*": EACCES$'
	cfg_edit "$RL_HOME/b" 'del(.linux.resources) | .linux.cgroupsPath = "/skiff-rl-denied"'
	chown "$RL_UID:$RL_GID" "$RL_HOME/b/config.json"
	expect_fail 1 rl_sk run r1
	assert_match "$err" '^skiff run: rootless: linux.cgroupsPath needs a cgroup the caller may write \(delegated\): mkdir cgroup "[^"]*/skiff-rl-denied": EACCES$'
	cfg_edit "$RL_HOME/b" 'del(.linux.cgroupsPath)'
	chown "$RL_UID:$RL_GID" "$RL_HOME/b/config.json"
	expect_fail 1 rl_sk --rootless false run r1
	assert_match "$err" '^skiff run: mkdir cgroup "[^"]*": EACCES$'
	assert_empty_dir "$RL_XDG/skiff"
}

# ------------------------------------------------------- rootless podman
# podman 4.3 as the test user: its own storage (vfs) and runroot under the
# user's directories, cgroupfs (no systemd here: no cgroup, no limits), no
# network.  The runtime runs as root of podman's user namespace, with no
# --root: skiff keeps its state in $XDG_RUNTIME_DIR/skiff.

# rl_pm_setup RUNTIME MONITOR: RUNTIME skiff or runc, MONITOR conmon or shim.
rl_pm_setup() {
	command -v podman >/dev/null || skip "podman is not installed"
	rl_user
	local rt mon
	case $1 in
	skiff) rt=$SKIFF ;;
	runc) rt=$(command -v runc) || skip "runc is not installed" ;;
	esac
	case $2 in
	conmon) mon=$(command -v conmon) || skip "conmon is not installed" ;;
	shim)
		mon=$REPO/shim/skiff-shim
		[[ -x $mon ]] || fail "shim/skiff-shim is not built (make)"
		;;
	esac
	# podman refuses a runroot over 50 bytes: a short XDG_RUNTIME_DIR
	# holds it, removed by rl_pm_cleanup.
	RL_XDG=$(mktemp -d /tmp/skrl.XXXXXX)
	chmod 700 "$RL_XDG"
	chown "$RL_UID:$RL_GID" "$RL_XDG"
	cat >"$RL_HOME/containers.conf" <<-EOC
		[containers]
		netns = "none"
		[engine]
		conmon_path = ["$mon"]
	EOC
	_sk_rootfs_template
	tar -C "$SK_CACHE/rootfs" -cf "$RL_HOME/bb.tar" .
	chown -R "$RL_UID:$RL_GID" "$RL_HOME"
	RL_PM=(env CONTAINERS_CONF="$RL_HOME/containers.conf" podman --root "$RL_HOME/storage"
		--runroot "$RL_XDG/c" --storage-driver vfs --cgroup-manager cgroupfs --events-backend file
		--runtime "$rt" --conmon "$mon")
	trap rl_pm_cleanup EXIT
	expect_ok rlpm import "$RL_HOME/bb.tar" localhost/bb
}

rlpm() { as_rl "${RL_PM[@]}" "$@"; }

# Containers removed, then podman's pause process (it holds the user
# namespace) killed.
rl_pm_cleanup() {
	set +eE
	trap - ERR
	rlpm rm -af -t 0 >/dev/null 2>&1
	local p
	p=$(cat "$RL_XDG/libpod/tmp/pause.pid" 2>/dev/null) && [[ $p =~ ^[0-9]+$ ]] && kill -9 "$p" 2>/dev/null
	# podman's last processes may still be writing there.
	local i
	for i in 1 2 3 4 5; do
		[[ $RL_XDG == /tmp/skrl.* ]] && rm -rf "$RL_XDG" 2>/dev/null && break
		sleep 0.5
	done
	return 0
}

# skiff's state root (podman passes no --root) holds no container: only
# the seccomp cache (.seccomp) may stay.
rl_no_container_state() {
	[[ -d $RL_XDG/skiff ]] || fail "skiff's state root $RL_XDG/skiff was not used"
	local f
	for f in "$RL_XDG"/skiff/*; do
		[[ -e $f ]] && fail "state left: $f"
	done
	return 0
}

# The scenarios, the same for every runtime and monitor.
rl_pm_scenarios() {
	expect_ok rlpm run --rm --network none localhost/bb sh -c 'id -u; cat /proc/self/uid_map'
	assert_eq "$out" "$(printf '0\n%10d %10d %10d\n%10d %10d %10d' 0 "$RL_UID" 1 1 "$RL_SUBUID" 65536)" "run --rm"
	expect_fail 3 rlpm run --rm --network none localhost/bb sh -c 'exit 3'
	expect_fail 137 rlpm run --rm --network none localhost/bb sh -c 'sleep 100 & kill -9 $!; wait $!'
	# --network none: loopback only.
	expect_ok rlpm run --rm --network none localhost/bb sh -c 'ls /sys/class/net'
	assert_eq "$out" "lo" "interfaces"
	# keep-id: the user's own uid inside, mapped to itself.
	expect_ok rlpm run --rm --network none --userns=keep-id localhost/bb id -u
	assert_eq "$out" "$RL_UID" "--userns=keep-id"
	expect_ok rlpm run -d --name d1 --network none localhost/bb sh -c 'echo hello; trap "exit 0" TERM; while :; do sleep 0.1; done'
	expect_ok rlpm exec d1 sh -c 'echo in; id -u'
	assert_eq "$out" $'in\n0' "exec"
	expect_fail 4 rlpm exec d1 sh -c 'exit 4'
	local end=$((SECONDS + 10))
	until rlpm logs d1 2>/dev/null | grep -q hello; do
		((SECONDS < end)) || fail "logs: no hello"
		sleep 0.2
	done
	expect_ok rlpm stop -t 5 d1
	assert_eq "$(rlpm inspect --format '{{.State.Status}} {{.State.ExitCode}}' d1)" "exited 0" "after stop"
	expect_ok rlpm rm d1
	expect_ok rlpm ps -a --format '{{.Names}}'
	assert_eq "$out" "" "containers left"
}

# timeout: 4x
test_rootless_podman_skiff_conmon() {
	rl_pm_setup skiff conmon
	rl_pm_scenarios
	rl_no_container_state
}

# timeout: 4x
test_rootless_podman_skiff_shim() {
	rl_pm_setup skiff shim
	rl_pm_scenarios
	rl_no_container_state
}

# The same scenarios with runc: what skiff must match.
# timeout: 4x
test_rootless_podman_runc_conmon() {
	rl_pm_setup runc conmon
	rl_pm_scenarios
}

# timeout: 4x
test_rootless_podman_runc_shim() {
	rl_pm_setup runc shim
	rl_pm_scenarios
}

# ------------------------------------------- inside the user namespace
# rl_run_cfg JQ [JQ ARGS...]: a rootless bundle edited by JQ, run by the
# test user; $status, $out, $err as run sets them.
rl_run_cfg() {
	local expr=$1
	shift
	rl_user
	rm -rf "$RL_HOME/b"
	rl_bundle "$RL_HOME/b"
	cfg_edit "$RL_HOME/b" "$expr" "$@"
	chown "$RL_UID:$RL_GID" "$RL_HOME/b/config.json"
	cd "$RL_HOME/b"
	run rl_sk run r1
}

# Device nodes cannot be made: the host's are bound onto empty files.
test_rootless_devices_bound() {
	rl_run_cfg '.process.args = ["sh", "-c", "ls -ln /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; grep -c \" /dev/null \" /proc/self/mountinfo; echo x >/dev/null; head -c 4 /dev/zero | wc -c"]'
	((status == 0)) || fail "run: $err"
	assert_match "$(head -n 6 <<<"$out")" '^(crw-rw-rw- +1 65534 +65534 [^'$'\n'']*'$'\n''?){6}$' "the nodes"
	assert_eq "$(tail -n 2 <<<"$out")" $'1\n4' "/dev/null is a mount, /dev/zero reads"
}

# sysfs belongs to the network namespace: without one of the container's
# own, the host's /sys is bound, read-only as configured.
test_rootless_sysfs_fallback() {
	rl_run_cfg '(.mounts[] | select(.destination == "/sys")) |= {destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]}
		| .process.args = ["sh", "-c", "awk \"\\$5 == \\\"/sys\\\"\" /proc/self/mountinfo; touch /sys/x 2>&1 || true; ls /sys/class/net | grep -c ."]'
	((status == 0)) || fail "run: $err"
	assert_match "$(sed -n 1p <<<"$out")" ' / /sys ro,nosuid,nodev,noexec,[^ ]* - sysfs ' "the /sys mount"
	assert_contains "$(sed -n 2p <<<"$out")" "Read-only file system" "writing /sys"
	# The host's interfaces show: it is the host's network namespace's sysfs.
	assert_eq "$(sed -n 3p <<<"$out")" "$(ls /sys/class/net | grep -c .)" "interfaces"
}

# A bind of a host mount with locked flags (nosuid, nodev of /dev/shm),
# remounted read-only: the kernel refuses to clear a locked flag, so
# skiff keeps them.
test_rootless_locked_flags_kept() {
	mkdir -p "$T/locked"
	mount -t tmpfs -o nosuid,nodev,noexec tmpfs "$T/locked"
	trap 'umount "$T/locked"' EXIT
	rl_run_cfg '.mounts += [{destination: "/mnt", type: "none", source: $src, options: ["rbind", "ro"]}]
		| .process.args = ["sh", "-c", "awk \"\\$5 == \\\"/mnt\\\" { print \\$6 }\" /proc/self/mountinfo"]' \
		--arg src "$T/locked"
	((status == 0)) || fail "run: $err"
	assert_match "$out" '^ro,nosuid,nodev,noexec' "the /mnt mount"
}

# Namespaced sysctls of namespaces the user namespace owns are set; the
# others are refused before anything is made.
test_rootless_sysctls() {
	rl_run_cfg '.linux.sysctl = {"kernel.shm_rmid_forced": "1", "fs.mqueue.msg_max": "20"}
		| .process.args = ["sh", "-c", "cat /proc/sys/kernel/shm_rmid_forced /proc/sys/fs/mqueue/msg_max"]'
	((status == 0)) || fail "run: $err"
	assert_eq "$out" $'1\n20' "the sysctls"
	rl_run_cfg '.linux.sysctl = {"kernel.domainname": "rl.test"}'
	((status == 1)) || fail "a uts sysctl: status $status"
	assert_eq "$err" 'skiff run: config.json: linux.sysctl: "kernel.domainname" can be set by the host'"'"'s root only, which a rootless caller is not'
	rl_run_cfg '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	((status == 1)) || fail "host network sysctl: status $status"
	assert_eq "$err" 'skiff run: config.json: linux.sysctl: "net.ipv4.ip_forward" needs the container to have its own network namespace, refusing to set it on the host'
	assert_empty_dir "$RL_XDG/skiff"
}

# oomScoreAdj: not below the caller's own; above it, inherited at clone.
test_rootless_oom_score_adj() {
	local own
	own=$(<"/proc/self/oom_score_adj")
	rl_run_cfg '.process.oomScoreAdj = ($o + 100) | .process.args = ["cat", "/proc/self/oom_score_adj"]' --argjson o "$own"
	((status == 0)) || fail "run: $err"
	assert_eq "$out" "$((own + 100))" "oom_score_adj"
	rl_run_cfg '.process.oomScoreAdj = ($o - 1)' --argjson o "$own"
	((status == 1)) || fail "a lower score: status $status"
	assert_eq "$err" "skiff run: process.oomScoreAdj $((own - 1)): below the caller's own ($own), which needs privileges a rootless caller has not"
	assert_empty_dir "$RL_XDG/skiff"
}

# rlimits: not above the caller's hard limit.
test_rootless_rlimits() {
	local hard
	rl_user
	hard=$(as_rl sh -c 'ulimit -H -n')
	rl_run_cfg '.process.rlimits = [{type: "RLIMIT_NOFILE", hard: ($h), soft: 64}] | .process.args = ["sh", "-c", "ulimit -n; ulimit -H -n"]' --argjson h "$hard"
	((status == 0)) || fail "run: $err"
	assert_eq "$out" $'64\n'"$hard" "the limits"
	rl_run_cfg '.process.rlimits = [{type: "RLIMIT_NOFILE", hard: ($h + 1), soft: 64}]' --argjson h "$hard"
	((status == 1)) || fail "a higher limit: status $status"
	assert_eq "$err" "skiff run: process.rlimits: RLIMIT_NOFILE hard $((hard + 1)) is above the caller's hard limit $hard, which needs privileges a rootless caller has not"
	assert_empty_dir "$RL_XDG/skiff"
}

# ---------------------------------------------------------------- security
# Through skiff a user gets nothing they could not do without it
# (docs/security.md, "Rootless").

# No setuid or setgid binary: skiff runs with the caller's credentials.
test_rootless_no_setuid_binary() {
	local b
	for b in "$SKIFF" "$REPO/shim/skiff-shim"; do
		[[ -e $b ]] || continue
		[[ ! -u $b && ! -g $b ]] || fail "$b is setuid or setgid"
		[[ -z $(getcap "$b" 2>/dev/null | sed -n 's/.*= *//p') ]] || fail "$b has file capabilities"
	done
}

# Root of the user namespace is the user on the host: a root-owned host
# directory bound read-write stays unwritable; a root-only device node
# given in linux.devices stays unreadable; mknod is refused.
test_rootless_no_write_outside() {
	mkdir -p "$T/hostdir"
	echo orig >"$T/hostdir/f"
	chmod 755 "$T/hostdir"
	rl_run_cfg '.mounts += [{destination: "/mnt", type: "none", source: $src, options: ["rbind", "rw"]}]
		| .linux.devices = [{path: "/dev/kmsg", type: "c", major: 1, minor: 11}]
		| .process.args = ["sh", "-c", "echo x >/mnt/f || echo nowrite; touch /mnt/new || echo nocreate; head -c 1 /dev/kmsg >/dev/null || echo noread; mknod /tmp/n c 1 1 || echo nomknod"]' \
		--arg src "$T/hostdir"
	((status == 0)) || fail "run: $err"
	assert_eq "$(grep -c '^no' <<<"$out")" 4 "refusals in: $out"
	assert_eq "$(<"$T/hostdir/f")" orig "the host file"
	[[ ! -e $T/hostdir/new ]] || fail "a file was made in the host's directory"
}

# Another user's state: the user cannot make skiff read or write root's
# state root, nor list or delete a container the user does not own.
test_rootless_other_users_state() {
	rl_user
	mk_bundle "$T/rb" sleep 100
	expect_ok sk run -d --bundle "$T/rb" rootc
	chmod 755 "$ROOT"
	run as_rl "$SKIFF" --root "$ROOT" list
	assert_eq "$err" "skiff list: state root $ROOT: owned by uid 0, not by the caller (uid $RL_UID)"
	run as_rl "$SKIFF" --root "$ROOT" delete -f rootc
	((status == 1)) || fail "delete of root's container: status $status"
	run as_rl "$SKIFF" --root "$ROOT" kill rootc KILL
	((status == 1)) || fail "kill of root's container: status $status"
	assert_eq "$(status_of rootc)" running "root's container"
	expect_ok sk delete -f rootc
}

# A delegated cgroup (chowned to the user in every hierarchy, as runc's
# tests do) is used, limits included, when skiff starts from inside it.
test_rootless_delegated_cgroup() {
	rl_user
	require_controller pids
	local mp d f sub
	while read -r mp; do
		# Each level made, a new v1 cpuset given its parent's cpus and mems.
		d=$mp
		for sub in ${SKIFF_TEST_CGROUP//\// } deleg shell; do
			d=$d/$sub
			mkdir -p "$d"
			[[ -e $d/cpuset.cpus && ! -e $d/cgroup.controllers ]] || continue
			for f in cpuset.cpus cpuset.mems; do
				[[ -n $(<"$d/$f") ]] || cat "${d%/*}/$f" >"$d/$f"
			done
		done
		# cgroup2: what a delegating admin does first, each ancestor hands
		# pids down to deleg (whose own subtree_control is the user's).
		if [[ -e $mp/cgroup.subtree_control ]] && grep -qw pids "$mp/cgroup.controllers"; then
			d=$mp
			for sub in ${SKIFF_TEST_CGROUP//\// } deleg; do
				echo +pids >"$d/cgroup.subtree_control" || fail "enable pids in $d"
				d=$d/$sub
			done
		fi
		chown -R "$RL_UID:$RL_GID" "$mp$SKIFF_TEST_CGROUP/deleg"
	done < <(cg_all_mounts)
	trap 'while read -r mp; do rmdir "$mp$SKIFF_TEST_CGROUP/deleg/shell" "$mp$SKIFF_TEST_CGROUP/deleg" 2>/dev/null; done < <(cg_all_mounts)' EXIT
	local pm
	if [[ $(cg_backend pids) == v1 ]]; then pm=$(cg_v1_mount pids); else pm=$(cg2_mount); fi
	# The rootless config binds the host's /sys: the same paths inside.
	rl_bundle "$RL_HOME/b" sh -c "cat /proc/self/cgroup $pm$SKIFF_TEST_CGROUP/deleg/c1/pids.max"
	cfg_edit "$RL_HOME/b" '.linux.cgroupsPath = $cg | .linux.resources = {pids: {limit: 10}}
		| del(.linux.namespaces[] | select(.type == "cgroup"))
		| del(.mounts[] | select(.destination == "/sys/fs/cgroup"))' --arg cg "$SKIFF_TEST_CGROUP/deleg/c1"
	chown "$RL_UID:$RL_GID" "$RL_HOME/b/config.json"
	cd "$RL_HOME/b"
	# The shell that runs skiff moves into the subtree first (as root: a
	# move needs write access to the common ancestor of both cgroups).
	local mps
	mps=$(cg_all_mounts)
	expect_ok bash -c 'for mp in $2; do echo $$ >"$mp$1/deleg/shell/cgroup.procs"; done
		exec setpriv --reuid "$3" --regid "$4" --init-groups env XDG_RUNTIME_DIR="$5" "$6" run d1' \
		sh "$SKIFF_TEST_CGROUP" "$mps" "$RL_UID" "$RL_GID" "$RL_XDG" "$SKIFF"
	assert_contains "$out" "$SKIFF_TEST_CGROUP/deleg/c1" "the container's cgroups"
	assert_eq "$(tail -n 1 <<<"$out")" 10 "pids.max"
	cg_gone deleg/c1
}


# --systemd-cgroup as the user with no user manager to ask: one line,
# nothing made.  The address is checked first (a tcp: one would take the
# calls off the machine), then the host: the user driver is cgroup v2's,
# and there a bus with no manager behind it is named.  With a user manager
# (the systemd VM) t_systemd.sh's test_systemd_rootless_* run.
test_rootless_systemd_cgroup_refused() {
	rl_user
	rl_bundle "$RL_HOME/b" true
	cd "$RL_HOME/b"
	run as_rl env DBUS_SESSION_BUS_ADDRESS="tcp:host=127.0.0.1,port=1" "$SKIFF" --systemd-cgroup run r1
	((status == 1)) || fail "tcp: address: status $status"
	assert_eq "$err" 'skiff run: systemd cgroup driver: DBUS_SESSION_BUS_ADDRESS "tcp:host=127.0.0.1,port=1": not a unix: address'
	run as_rl env DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent;tcp:host=127.0.0.1,port=1" "$SKIFF" --systemd-cgroup run r1
	assert_eq "$err" 'skiff run: systemd cgroup driver: DBUS_SESSION_BUS_ADDRESS "unix:path=/nonexistent;tcp:host=127.0.0.1,port=1": not a unix: address'
	run as_rl "$SKIFF" --systemd-cgroup run r1
	((status == 1)) || fail "no user manager: status $status"
	if [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then
		assert_eq "$err" "skiff run: systemd cgroup driver: connect to the user bus unix:path=$RL_XDG/bus (is the user's systemd, user@UID.service, running?): ENOENT"
	else
		assert_match "$err" "^skiff run: systemd cgroup driver: the user's manager \(rootless\) needs cgroup v2 only, and this host's cgroups are (hybrid|legacy)\$"
	fi
	assert_empty_dir "$RL_XDG/skiff"
}
