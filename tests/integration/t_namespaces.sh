# shellcheck shell=bash
# $out, $err and $status come from lib.sh's run; single quotes hold jq and sh code.
# shellcheck disable=SC2154,SC2016
# Namespaces (docs/lifecycle.md "How create works", include/skiff/plan/ns.h):
# each kind created, or joined by path with its type checked; the slow
# path (a namespace joined by path plus a new pid namespace: the init is
# forked again); user namespaces with the maps written by the parent; time
# namespace offsets.

# ns_of PID KIND: the namespace link of a process, "net:[4026531840]".
ns_of() { readlink "/proc/$1/ns/$2"; }

# ns_file PATH: the link text a process in the namespace at PATH shows.
ns_file() { printf '%s:[%s]' "$2" "$(stat -L -c %i "$1")"; }

# The link text of each kind inside the container, "kind link" per line.
NS_SCRIPT='for k in pid net mnt ipc uts user cgroup time; do [ -e /proc/self/ns/$k ] && echo "$k $(readlink /proc/self/ns/$k)"; done; echo "pid1 $$"'

# in_ns OUT KIND: the link the container printed for KIND.
in_ns() { sed -n "s/^$2 //p" <<<"$1"; }

require_userns() { [[ -e /proc/self/ns/user ]] || skip "no user namespaces"; }
require_timens() { [[ -e /proc/self/ns/time ]] || skip "the kernel has no time namespaces"; }

# netns_add: a named network namespace, removed when the test ends.
netns_add() {
	command -v ip >/dev/null || skip "ip (iproute2) is not installed"
	NETNS=skiff-it-$$
	ip netns add "$NETNS" || fail "ip netns add $NETNS"
	trap 'ip netns del "$NETNS" 2>/dev/null || true' EXIT
	NETNS_PATH=/run/netns/$NETNS
}

# A process holding new namespaces of the kinds given (unshare flags),
# killed when the test ends; its pid in $HOLDER.
holder() {
	unshare "$@" sleep 1000 &
	HOLDER=$!
	trap 'kill -9 "$HOLDER" 2>/dev/null || true' EXIT
	local end=$((SECONDS + 20))
	while ((SECONDS < end)); do
		[[ $(ns_of "$HOLDER" net) != "$(ns_of $$ net)" || $(ns_of "$HOLDER" uts) != "$(ns_of $$ uts)" ]] && return 0
		sleep 0.05
	done
	fail "unshare $* did not start"
}

test_ns_created() {
	# The default config: new pid, network, ipc, uts and mount namespaces,
	# and a cgroup one on a cgroup v2 host (runc's spec); the user and time
	# ones are the host's.
	mk_bundle "$T/b" sh -c "$NS_SCRIPT"
	expect_ok sk run --bundle "$T/b" nsnew
	local k
	for k in pid net mnt ipc uts; do
		[[ $(in_ns "$out" $k) != "$(ns_of $$ $k)" ]] || fail "$k namespace is the host's"
	done
	if [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then
		[[ $(in_ns "$out" cgroup) != "$(ns_of $$ cgroup)" ]] || fail "cgroup namespace is the host's"
	else
		assert_eq "$(in_ns "$out" cgroup)" "$(ns_of $$ cgroup)" "cgroup namespace on a v1 or hybrid host"
	fi
	assert_eq "$(in_ns "$out" user)" "$(ns_of $$ user)" "user namespace"
	[[ ! -e /proc/self/ns/time ]] || assert_eq "$(in_ns "$out" time)" "$(ns_of $$ time)" "time namespace"
	assert_eq "$(in_ns "$out" pid1)" 1 "pid of the process"
	# Without a pid namespace: the host's, and not pid 1.
	cfg_edit "$T/b" 'del(.linux.namespaces[] | select(.type == "pid"))'
	expect_ok sk run --bundle "$T/b" nsnopid
	assert_eq "$(in_ns "$out" pid)" "$(ns_of $$ pid)" "pid namespace"
	[[ $(in_ns "$out" pid1) != 1 ]] || fail "pid 1 without a pid namespace"
}

# A network namespace skiff makes has its loopback up (runc's and crun's
# behaviour: a container with no network still serves 127.0.0.1); one
# joined by path is left as it is.
test_ns_new_netns_loopback_up() {
	mk_bundle "$T/b" sh -c 'cat /sys/class/net/lo/flags; ip -o addr show lo | grep -c "inet 127.0.0.1"'
	expect_ok sk run --bundle "$T/b" lo1
	assert_eq "$out" $'0x9\n1' "the new namespace's loopback"
	netns_add
	cfg_edit "$T/b" '(.linux.namespaces[] | select(.type == "network")) |= {type: "network", path: $p}' --arg p "$NETNS_PATH"
	cfg_edit "$T/b" '.process.args = ["cat", "/sys/class/net/lo/flags"]'
	expect_ok sk run --bundle "$T/b" lo2
	assert_eq "$out" 0x8 "a joined namespace's loopback, untouched"
}

test_ns_join_netns_by_path_slow_path() {
	netns_add
	# A joined network namespace and a new pid namespace: the init is
	# forked a second time, and is still what run waits for.
	mk_bundle "$T/b" sh -c "$NS_SCRIPT; ip -o link show | cut -d: -f2; exit 3"
	cfg_edit "$T/b" '(.linux.namespaces[] | select(.type == "network")) |= {type: "network", path: $p}' --arg p "$NETNS_PATH"
	expect_fail 3 sk run --bundle "$T/b" slow
	assert_eq "$(in_ns "$out" net)" "$(ns_file "$NETNS_PATH" net)" "network namespace"
	assert_eq "$(in_ns "$out" pid1)" 1 "pid in the new pid namespace"
	[[ $(in_ns "$out" pid) != "$(ns_of $$ pid)" ]] || fail "pid namespace is the host's"
	assert_contains "$out" " lo" "the joined namespace's links"

	# The same through create/start: the state's pid is the real init.
	cfg_edit "$T/b" '.process.args = ["sleep", "1000"]'
	expect_ok sk create --bundle "$T/b" --pid-file "$T/pid" slow2
	local pid
	pid=$(<"$T/pid")
	expect_ok sk state slow2
	assert_eq "$(jq -c '[.status, .pid]' <<<"$out")" "[\"created\",$pid]"
	assert_eq "$(ns_of "$pid" net)" "$(ns_file "$NETNS_PATH" net)" "the init's network namespace"
	assert_eq "$(sed -n 's/^NSpid:\t//p' "/proc/$pid/status")" "$pid	1" "the init's pids"
	expect_ok sk start slow2
	assert_eq "$(status_of_ns slow2)" running
	expect_ok sk kill slow2 KILL
	local end=$((SECONDS + 20))
	while ((SECONDS < end)); do
		[[ $(status_of_ns slow2) == stopped ]] && break
		sleep 0.05
	done
	assert_eq "$(status_of_ns slow2)" stopped
	expect_ok sk delete slow2
	assert_empty_dir "$ROOT"
}

# status_of_ns ID: the container's status.
status_of_ns() { "$SKIFF" --root "$ROOT" state "$1" | jq -r .status; }

test_ns_join_by_proc_path() {
	# The namespaces of another process, by /proc/PID/ns/KIND.
	holder --net --ipc --uts
	mk_bundle "$T/b" sh -c "$NS_SCRIPT"
	cfg_edit "$T/b" '.linux.namespaces |= map(if .type == "network" then .path = "/proc/\($p)/ns/net"
		elif .type == "ipc" then .path = "/proc/\($p)/ns/ipc"
		elif .type == "uts" then .path = "/proc/\($p)/ns/uts" else . end)' --arg p "$HOLDER"
	expect_ok sk run --bundle "$T/b" joinproc
	local k
	for k in net ipc uts; do
		assert_eq "$(in_ns "$out" $k)" "$(ns_of "$HOLDER" $k)" "$k namespace"
	done
	assert_eq "$(in_ns "$out" pid1)" 1 "pid in the new pid namespace"
	# Without a new pid namespace: no second fork; run still gets the status.
	cfg_edit "$T/b" 'del(.linux.namespaces[] | select(.type == "pid")) | .process.args = ["sh", "-c", "exit 4"]'
	expect_fail 4 sk run --bundle "$T/b" joinproc2
}

test_ns_join_cgroup_time_and_mount_by_path() {
	require_timens
	# The holder: new cgroup, time (boottime +1000 s) and mount namespaces.
	unshare --cgroup --mount --propagation private --time --boottime 1000 --fork sleep 1000 &
	UNSHARE=$!
	trap 'pkill -9 -P "$UNSHARE" 2>/dev/null; kill -9 "$UNSHARE" 2>/dev/null || true' EXIT
	local end=$((SECONDS + 20))
	while ((SECONDS < end)); do
		HOLDER=$(pgrep -P "$UNSHARE" sleep) && break
		sleep 0.05
	done
	[[ -n ${HOLDER:-} ]] || fail "unshare did not start"
	mk_bundle "$T/b" sh -c "$NS_SCRIPT; cut -d. -f1 /proc/uptime"
	cfg_edit "$T/b" '.linux.namespaces |= (map(select(.type != "cgroup")) + [{type: "cgroup"}]
		| map(if .type == "cgroup" then .path = "/proc/\($p)/ns/cgroup"
		elif .type == "mount" then .path = "/proc/\($p)/ns/mnt" else . end))
		| .linux.namespaces += [{type: "time", path: "/proc/\($p)/ns/time"}]' --arg p "$HOLDER"
	local before after up
	before=$(uptime_s)
	expect_ok sk run --bundle "$T/b" joinctm
	after=$(uptime_s)
	local k
	for k in cgroup mnt time; do
		assert_eq "$(in_ns "$out" $k)" "$(ns_of "$HOLDER" $k)" "$k namespace"
	done
	up=$(tail -n1 <<<"$out")
	((up >= before + 1000 && up <= after + 1000)) || fail "uptime in the container $up, host's $before..$after, expected +1000"
}

test_ns_join_pid_namespace_of_a_container() {
	mk_bundle "$T/a" sleep 1000
	expect_ok sk create --bundle "$T/a" --pid-file "$T/apid" a
	local apid
	apid=$(<"$T/apid")
	mk_bundle "$T/b" sh -c 'echo "$$"; cat /proc/1/cmdline | tr "\0" " "; echo'
	cfg_edit "$T/b" '(.linux.namespaces[] | select(.type == "pid")) |= {type: "pid", path: $p}' \
		--arg p "/proc/$apid/ns/pid"
	expect_ok sk run --bundle "$T/b" b
	local lines
	mapfile -t lines <<<"$out"
	[[ ${lines[0]} != 1 ]] || fail "the second container's process is pid 1 of the first's namespace"
	assert_contains "${lines[1]}" "create --bundle $T/a" "pid 1 of the joined namespace"
	expect_ok sk delete -f a
}

test_ns_join_checks_the_type() {
	netns_add
	mk_bundle "$T/b" true
	local i
	i=$(cfg_get "$T/b" '.linux.namespaces | map(.type) | index("ipc")')
	cfg_edit "$T/b" '(.linux.namespaces[] | select(.type == "ipc")) |= {type: "ipc", path: $p}' --arg p "$NETNS_PATH"
	expect_fail 1 sk create --bundle "$T/b" badtype
	assert_eq "$err" "skiff create: config.json: linux.namespaces[$i].path: \"$NETNS_PATH\" is a network namespace, not ipc"
	cfg_edit "$T/b" '(.linux.namespaces[] | select(.type == "ipc")) |= {type: "ipc", path: $p}' --arg p "$T/b/config.json"
	expect_fail 1 sk create --bundle "$T/b" badtype
	assert_eq "$err" "skiff create: config.json: linux.namespaces[$i].path: \"$T/b/config.json\" is not a namespace"
	cfg_edit "$T/b" '(.linux.namespaces[] | select(.type == "ipc")) |= {type: "ipc", path: "/nosuch/ns"}'
	expect_fail 1 sk create --bundle "$T/b" badtype
	assert_eq "$err" "skiff create: config.json: linux.namespaces[$i].path: open \"/nosuch/ns\": ENOENT"
	# A pid namespace path is checked too (the parent enters it itself).
	cfg_edit "$T/b" '(.linux.namespaces[] | select(.type == "ipc")) |= {type: "ipc"}
		| (.linux.namespaces[] | select(.type == "pid")) |= {type: "pid", path: "/proc/self/ns/net"}'
	i=$(cfg_get "$T/b" '.linux.namespaces | map(.type) | index("pid")')
	expect_fail 1 sk create --bundle "$T/b" badtype
	assert_eq "$err" "skiff create: config.json: linux.namespaces[$i].path: \"/proc/self/ns/net\" is a network namespace, not pid"
	assert_empty_dir "$ROOT"
}

# user_bundle DIR CMD...: a bundle with a new user namespace mapping 0..65535
# to 100000..165535.
user_bundle() {
	local dir=$1
	shift
	mk_bundle "$dir" "$@"
	cfg_edit "$dir" '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
}

test_ns_user_mappings() {
	require_userns
	# The rootfs is owned by host root but world-readable: enough to run.
	user_bundle "$T/b" sh -c 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map | tr -s " "; cat /etc/passwd | head -n1'
	expect_ok sk run --bundle "$T/b" user
	assert_eq "$out" $'0\n0\n 0 100000 65536\n 0 100000 65536\nroot:x:0:0:root:/root:/bin/sh'
	# Seen from the host, the init is uid 100000; the maps were written
	# before create returned.
	cfg_edit "$T/b" '.process.args = ["sleep", "1000"]'
	expect_ok sk create --bundle "$T/b" --pid-file "$T/pid" user2
	local pid
	pid=$(<"$T/pid")
	assert_eq "$(sed -n 's/^Uid:\t\([0-9]*\).*/\1/p' "/proc/$pid/status")" 100000 "the init's host uid"
	assert_eq "$(tr -s ' ' <"/proc/$pid/uid_map")" " 0 100000 65536" "uid_map"
	expect_ok sk start user2
	assert_eq "$(sed -n 's/^Uid:\t\([0-9]*\).*/\1/p' "/proc/$pid/status")" 100000 "the process's host uid"
	expect_ok sk delete -f user2
	# A uid the process runs as, inside.
	cfg_edit "$T/b" '.process.args = ["id", "-u"] | .process.user = {uid: 1000, gid: 1000}'
	expect_ok sk run --bundle "$T/b" user3
	assert_eq "$out" 1000
}

test_ns_user_bad_mappings() {
	require_userns
	user_bundle "$T/b" true
	# Overlapping ranges: the kernel refuses the map the parent writes.
	cfg_edit "$T/b" '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 10}, {containerID: 5, hostID: 200000, size: 10}]'
	expect_fail 1 sk create --bundle "$T/b" badmap
	assert_match "$err" '^skiff create: user namespace uid mappings "0 100000 10, 5 200000 10": write "/proc/[0-9]+/uid_map": EINVAL$'
	# No root inside: the init cannot become root of its namespace.
	cfg_edit "$T/b" '.linux.uidMappings = [{containerID: 1, hostID: 100000, size: 10}]'
	expect_fail 1 sk create --bundle "$T/b" noroot
	assert_eq "$err" 'skiff create: become root in the user namespace (is id 0 mapped?): EINVAL'
	assert_empty_dir "$ROOT"
}

test_ns_user_with_joined_netns_slow_path() {
	require_userns
	netns_add
	# A new user namespace, a network namespace of the host joined before
	# it (sysfs cannot be mounted for it then: /sys is the host's, bound),
	# and a new pid namespace: the slow path with its second fork.
	user_bundle "$T/b" sh -c "$NS_SCRIPT; cat /proc/self/uid_map | tr -s ' '; ls /sys/class/net | head -n1"
	cfg_edit "$T/b" '(.linux.namespaces[] | select(.type == "network")) |= {type: "network", path: $p}' --arg p "$NETNS_PATH"
	expect_ok sk run --bundle "$T/b" usernet
	assert_eq "$(in_ns "$out" net)" "$(ns_file "$NETNS_PATH" net)" "network namespace"
	assert_eq "$(in_ns "$out" pid1)" 1 "pid in the new pid namespace"
	[[ $(in_ns "$out" user) != "$(ns_of $$ user)" ]] || fail "user namespace is the host's"
	assert_contains "$out" " 0 100000 65536" "uid_map"
}

test_ns_join_user_namespace_of_a_container() {
	require_userns
	# Container a makes a user and a network namespace; b joins both by
	# path, with a pid namespace of its own.
	user_bundle "$T/a" sleep 1000
	expect_ok sk create --bundle "$T/a" --pid-file "$T/apid" a
	local apid
	apid=$(<"$T/apid")
	mk_bundle "$T/b" sh -c "$NS_SCRIPT; cat /proc/self/uid_map | tr -s ' '; id -u"
	cfg_edit "$T/b" '.linux.namespaces |= map(if .type == "network" then .path = "/proc/\($p)/ns/net" else . end)
		| .linux.namespaces += [{type: "user", path: "/proc/\($p)/ns/user"}]' --arg p "$apid"
	expect_ok sk run --bundle "$T/b" b
	assert_eq "$(in_ns "$out" user)" "$(ns_of "$apid" user)" "user namespace"
	assert_eq "$(in_ns "$out" net)" "$(ns_of "$apid" net)" "network namespace"
	assert_eq "$(in_ns "$out" pid1)" 1 "pid in the new pid namespace"
	assert_contains "$out" $' 0 100000 65536\n0' "uid_map and uid"
	expect_ok sk delete -f a
}

# time_bundle DIR CMD...: a bundle with a time namespace, monotonic +1 day
# and boottime +2 days (and 5 ns).
time_bundle() {
	local dir=$1
	shift
	mk_bundle "$dir" "$@"
	cfg_edit "$dir" '.linux.namespaces += [{type: "time"}]
		| .linux.timeOffsets = {monotonic: {secs: 86400, nanosecs: 0}, boottime: {secs: 172800, nanosecs: 5}}'
}

# uptime_s: whole seconds of the host's /proc/uptime.
uptime_s() {
	local u _
	read -r u _ </proc/uptime
	printf '%s' "${u%.*}"
}

test_ns_time_offsets() {
	require_timens
	time_bundle "$T/b" sh -c 'cat /proc/self/timens_offsets | tr -s " "; cut -d. -f1 /proc/uptime'
	local before after lines
	before=$(uptime_s)
	expect_ok sk run --bundle "$T/b" time
	after=$(uptime_s)
	mapfile -t lines <<<"$out"
	assert_eq "${lines[0]}" "monotonic 86400 0"
	assert_eq "${lines[1]}" "boottime 172800 5"
	# /proc/uptime is boottime: the host's plus 2 days.
	((lines[2] >= before + 172800 && lines[2] <= after + 172800)) ||
		fail "uptime in the container ${lines[2]}, host's $before..$after, expected +172800"
	# With a user namespace, through the slow path.
	netns_add
	time_bundle "$T/c" sh -c 'cut -d. -f1 /proc/uptime; echo $$'
	cfg_edit "$T/c" '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| (.linux.namespaces[] | select(.type == "network")) |= {type: "network", path: $p}' --arg p "$NETNS_PATH"
	before=$(uptime_s)
	expect_ok sk run --bundle "$T/c" time2
	after=$(uptime_s)
	mapfile -t lines <<<"$out"
	((lines[0] >= before + 172800 && lines[0] <= after + 172800)) ||
		fail "uptime in the container ${lines[0]}, host's $before..$after, expected +172800"
	assert_eq "${lines[1]}" 1 "pid in the new pid namespace"
	# With a user namespace, on the fast path (nothing joined).
	cfg_edit "$T/c" '(.linux.namespaces[] | select(.type == "network")) |= {type: "network"}'
	before=$(uptime_s)
	expect_ok sk run --bundle "$T/c" time3
	after=$(uptime_s)
	mapfile -t lines <<<"$out"
	((lines[0] >= before + 172800 && lines[0] <= after + 172800)) ||
		fail "uptime in the container ${lines[0]}, host's $before..$after, expected +172800"
}

test_ns_time_namespace_without_offsets() {
	require_timens
	mk_bundle "$T/b" sh -c 'readlink /proc/self/ns/time; cat /proc/self/timens_offsets | tr -s " "'
	cfg_edit "$T/b" '.linux.namespaces += [{type: "time"}]'
	expect_ok sk run --bundle "$T/b" time0
	local lines
	mapfile -t lines <<<"$out"
	[[ ${lines[0]} != "$(ns_of $$ time)" ]] || fail "time namespace is the host's"
	assert_eq "${lines[1]} ${lines[2]}" "monotonic 0 0 boottime 0 0"
}

# no_mntns DIR: no namespace of any kind (the runtime's are inherited), and
# nothing that needs one: hostname, masked and read-only paths.
no_mntns() {
	cfg_edit "$1" '.linux.namespaces = [] | del(.hostname, .linux.maskedPaths, .linux.readonlyPaths)'
}

test_ns_none_inherits_the_runtimes() {
	# runtime-spec config-linux.md: a kind not listed is the runtime's.
	# Without a mount namespace the mounts are made in ours, under the
	# rootfs, and the process is chrooted there; delete takes them away
	# (the runner's leak check looks for any left under the test dir).
	mk_bundle "$T/b" sh -c "$NS_SCRIPT; ls /; grep -c ' / /proc ' /proc/self/mountinfo"
	no_mntns "$T/b"
	expect_ok sk run --bundle "$T/b" nons
	local k
	for k in pid net mnt ipc uts user cgroup time; do
		[[ $k != time || -e /proc/self/ns/time ]] || continue
		assert_eq "$(in_ns "$out" $k)" "$(ns_of $$ $k)" "$k namespace"
	done
	assert_contains "$out" $'bin\ndev\netc' "the rootfs as /"
	assert_eq "$(tail -n1 <<<"$out")" 1 "proc mounted in the rootfs"
	assert_eq "$(_sk_mounts_under "$T/b")" "" "mounts under the bundle after run"
	# skiff's own mount namespace joined by path is the same case: no
	# pivot_root there (it would move the root of every process in it).
	local prop root
	prop=$(awk '$5 == "/" { print $7 }' /proc/self/mountinfo)
	root=$(stat -c %d:%i /)
	cfg_edit "$T/b" '.linux.namespaces = [{type: "mount", path: "/proc/self/ns/mnt"}]'
	expect_ok sk run --bundle "$T/b" nonspath
	assert_eq "$(in_ns "$out" mnt)" "$(ns_of $$ mnt)" "mount namespace joined"
	assert_contains "$out" $'bin\ndev\netc' "the rootfs as /"
	assert_eq "$(awk '$5 == "/" { print $7 }' /proc/self/mountinfo)" "$prop" "propagation of the host's /"
	assert_eq "$(stat -c %d:%i /)" "$root" "the runtime's root"
	# A new user namespace cannot mount in the runtime's mount namespace.
	cfg_edit "$T/b" '.linux.namespaces = [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	expect_fail 1 sk create --bundle "$T/b" nons2
	assert_eq "$err" "skiff create: config.json: linux.namespaces: a user namespace needs a mount namespace of its own"
	# Nor can masked paths be hidden from the runtime's namespace (runc too).
	mk_bundle "$T/c" true
	cfg_edit "$T/c" '.linux.namespaces = [] | del(.hostname, .linux.readonlyPaths)'
	expect_fail 1 sk create --bundle "$T/c" nons3
	assert_eq "$err" "skiff create: config.json: linux.maskedPaths: requires a mount namespace in linux.namespaces"
	assert_empty_dir "$ROOT"
}

test_ns_none_on_a_shared_mount() {
	# The bundle on a shared mount with a peer: skiff's bind of the rootfs
	# is private, so the container's mounts do not reach the peer; only
	# the bind itself does, and delete takes it back there too.
	mkdir -p "$T/shared" "$T/peer"
	mount -t tmpfs tmpfs "$T/shared" || fail "mount tmpfs"
	trap 'umount -l "$T/peer" "$T/shared" 2>/dev/null || true' EXIT
	mount --make-shared "$T/shared" && mount --bind "$T/shared" "$T/peer" || fail "shared mount and its peer"
	mk_bundle "$T/shared/b" sleep 1000
	no_mntns "$T/shared/b"
	touch "$T/shared/b/rootfs/in-the-rootfs"
	expect_ok sk create --bundle "$T/shared/b" nonsh
	assert_eq "$(_sk_mounts_under "$T/peer/b")" "$T/peer/b/rootfs" "what the peer sees"
	assert_contains "$(_sk_mounts_under "$T/shared/b")" "$T/shared/b/rootfs/proc" "the container's mounts"
	# exec enters the container's root, though there is no namespace to join.
	expect_ok sk exec nonsh sh -c 'ls /in-the-rootfs; readlink /proc/self/root'
	assert_eq "$out" $'/in-the-rootfs\n/' "exec's root"
	expect_ok sk start nonsh
	# What the process stacks on its own "/" goes too (it has no mount
	# namespace: this tmpfs is mounted where it would put it).
	mount -t tmpfs stacked "$T/shared/b/rootfs" || fail "mount on the rootfs"
	expect_ok sk delete -f nonsh
	assert_eq "$(_sk_mounts_under "$T/shared")$(_sk_mounts_under "$T/peer")" "$T/shared$T/peer" "mounts left"
	umount "$T/peer" "$T/shared" || fail "umount the test's tmpfs"
}

# _virt_dev NAME: a virtual device that can change namespace: a dummy, or
# where the kernel has no dummy driver an ifb or one end of a veth pair.
_virt_dev() {
	ip link add "$1" type dummy 2>/dev/null || ip link add "$1" type ifb 2>/dev/null ||
		ip link add "$1" type veth peer name "${1}p" || fail "cannot make a virtual device $1"
}

test_ns_net_devices() {
	# linux.netDevices: host interfaces moved (and renamed) into the
	# container's network namespace, up, with their permanent global
	# addresses; a dummy (virtual) device is destroyed with the namespace.
	command -v ip >/dev/null || skip "ip (iproute2) is not installed"
	# Globals: the trap runs after the function returned.
	a=sk13a$$ b=sk13b$$
	trap 'ip link del "$a" 2>/dev/null || true; ip link del "$b" 2>/dev/null || true' EXIT
	_virt_dev "$a"
	_virt_dev "$b"
	ip addr add 10.213.0.1/24 dev "$a"
	ip addr add fd13::1/64 dev "$a" nodad
	mk_bundle "$T/b" sh -c 'ip -o addr show dev ctr0; ip -o link show | cut -d: -f2 | tr -d " " | sort | tr "\n" " "'
	cfg_edit "$T/b" '.linux.netDevices = {($a): {name: "ctr0"}, ($b): {name: "net%d"}}' --arg a "$a" --arg b "$b"
	expect_ok sk run -b "$T/b" nd
	assert_contains "$out" "inet 10.213.0.1/24"
	assert_contains "$out" "inet6 fd13::1/64"
	assert_contains "$out" "ctr0 lo net0 "
	assert_contains "$(ip -o link show | grep -c "$a" || true)" 0
	# Virtual devices die with the namespace: gone from the host too.
	[[ ! -e /sys/class/net/$a && ! -e /sys/class/net/$b ]] || fail "the dummy devices came back to the host"

	# While the container lives, the device is inside, up.
	_virt_dev "$a"
	cfg_edit "$T/b" '.linux.netDevices = {($a): {}} | .process.args = ["sleep", "100"]' --arg a "$a"
	expect_ok sk run -d -b "$T/b" nd2
	[[ ! -e /sys/class/net/$a ]] || fail "$a still on the host"
	expect_ok sk exec nd2 cat "/sys/class/net/$a/operstate" "/sys/class/net/$a/flags"
	(($(tail -n1 <<<"$out") & 1)) || fail "not up inside (IFF_UP): $out"
	expect_ok sk delete -f nd2

	# Refused: a device the host does not have, and a joined namespace
	# that is the runtime's.  Nothing is left.
	cfg_edit "$T/b" '.linux.netDevices = {"nosuch13": {}} | .process.args = ["true"]'
	expect_fail 1 sk run -b "$T/b" nd3
	assert_contains "$err" 'linux.netDevices["nosuch13"]: no such host interface'
	_virt_dev "$a"
	cfg_edit "$T/b" '.linux.netDevices = {($a): {}} | (.linux.namespaces[] | select(.type == "network")) |= {type: "network", path: "/proc/self/ns/net"}' --arg a "$a"
	expect_fail 1 sk run -b "$T/b" nd4
	assert_contains "$err" "linux.netDevices: the container's network namespace is the runtime's"
	[[ -e /sys/class/net/$a ]] || fail "$a left the host"
	# Without a network namespace: refused by the parser.
	cfg_edit "$T/b" 'del(.linux.namespaces[] | select(.type == "network"))'
	expect_fail 1 sk run -b "$T/b" nd5
	assert_contains "$err" 'linux.netDevices: requires a network namespace in linux.namespaces'
	assert_empty_dir "$ROOT"
}

# A bind source only the host's root may reach (below a 0700 directory),
# for a container in a new user namespace: skiff opens it on the host side,
# before the init enters the namespace, as runc does.
test_ns_user_bind_source_only_root_reaches() {
	mkdir -p "$T/secret/inner"
	echo hidden >"$T/secret/inner/f"
	chmod 0700 "$T/secret"
	mk_bundle "$T/u" sh -c 'grep -q " /mnt/inner " /proc/self/mountinfo && echo mounted; cat /mnt/inner/f'
	# The mount point is there: the rootfs is the host root's, unmapped.
	mkdir -p "$T/u/rootfs/mnt/inner"
	cfg_edit "$T/u" '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .mounts += [{destination: "/mnt/inner", type: "bind", source: $src, options: ["rbind", "ro"]}]' \
		--arg src "$T/secret/inner"
	expect_ok sk run --bundle "$T/u" ubind
	assert_eq "$out" $'mounted\nhidden'
	assert_empty_dir "$ROOT"
}
