# shellcheck shell=bash
# $out, $err and $status come from lib.sh's run; single quotes hold jq and sh code.
# shellcheck disable=SC2154,SC2016
# skiff-shim (docs/shim.md): conmon's protocol driven by the real podman
# 4.3 (with skiff and with runc as the runtime) and in CRI-O's form by
# hand, and skiff's own create/run --shim and wait.  The podman tests use a
# private podman (--root, --runroot, --tmpdir, containers.conf naming the
# shim as conmon_path, vfs storage, cgroupfs under this test's cgroup, no
# network) and an image imported from the busybox rootfs.  The VM runs a
# lean subset: the tests marked host_only skip there.

SHIM=$REPO/shim/skiff-shim
PODMAN=podman
RT_SKIFF=$SKIFF

# In the VM the checkout is a 9p share that keeps no page cache: every
# exec of the shim or of skiff would read it again.  Run copies in the
# run's scratch directory (tmpfs) instead.
vm_local_bins() {
	[[ ${SKIFF_IN_VM:-} == 1 ]] || return 0
	local b
	for b in "$REPO/shim/skiff-shim" "$SKIFF"; do
		[[ -x $SK_CACHE/bin/${b##*/} ]] && continue
		mkdir -p "$SK_CACHE/bin"
		cp "$b" "$SK_CACHE/bin/${b##*/}.$$" && mv "$SK_CACHE/bin/${b##*/}.$$" "$SK_CACHE/bin/${b##*/}"
	done
	SHIM=$SK_CACHE/bin/skiff-shim
	RT_SKIFF=$SK_CACHE/bin/skiff
}

host_only() {
	[[ ${SKIFF_IN_VM:-} != 1 ]] || skip "host only (the VM runs a lean subset): $*"
}

require_shim() {
	[[ -x $REPO/shim/skiff-shim ]] || fail "shim/skiff-shim is not built (make)"
	vm_local_bins
	export SKIFF_SHIM=$SHIM
}

# until_ok SECONDS CMD...: run CMD every 0.1 s until it succeeds.
until_ok() {
	local end=$((SECONDS + $1))
	shift
	while ((SECONDS < end)); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "\`$*\` did not succeed in time"
}

# The attach-socket client (helpers/attach.c).
_attach_client() { ATTACH=$(helper attach); }

# A runtime wrapper in $T/rt/NAME that runs RUNTIME with its own --root
# (podman's cleanup process cannot be given runtime flags).  NAME is the
# runtime's name: podman passes runc its JSON log options by that name.
mk_runtime() {
	local name=$1
	mkdir -p "$T/rt"
	case $name in
	skiff) printf '#!/bin/sh\nexec %q --root %q "$@"\n' "$RT_SKIFF" "$ROOT" >"$T/rt/skiff" ;;
	runc)
		command -v runc >/dev/null || skip "runc is not installed"
		printf '#!/bin/sh\nexec %q --root %q "$@"\n' "$(command -v runc)" "$T/runc-root" >"$T/rt/runc"
		;;
	esac
	chmod +x "$T/rt/$name"
	RT=$T/rt/$name
}

# ---------------------------------------------------------------- podman

# pm_setup skiff|runc: the private podman, under skiff-shim.
pm_setup() {
	command -v podman >/dev/null || skip "podman is not installed"
	require_shim
	mk_runtime "$1"
	PM=$T/pm
	PM_CG=$SKIFF_TEST_CGROUP/pm
	mkdir -p "$PM"/root "$PM"/tmp
	# podman refuses a runroot longer than 50 bytes: one beside the run's
	# scratch directory, removed by pm_cleanup.
	PM_RUN=$(mktemp -d "${SK_CACHE%/*/*}/skpm.XXXXXX")
	local pids=""
	# skiff applies limits through cgroup2 only so far: podman's default
	# pids limit would be refused on a host whose cgroup2 lacks pids.
	if [[ $1 == skiff ]]; then
		local cg2
		cg2=$(cg2_mount)
		[[ " $(<"$cg2/cgroup.controllers") " == *" pids "* ]] || pids="pids_limit = 0"
	fi
	# No CAP_SYS_RESOURCE here: podman's default rlimits (1048576) would
	# be refused.
	cat >"$PM/containers.conf" <<EOF
[containers]
netns = "none"
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
$pids
[engine]
conmon_path = ["$SHIM"]
EOF
	export CONTAINERS_CONF=$PM/containers.conf
	mkdir -p "$PM/bin"
	printf '#!/bin/sh\nexec %q --root %q --runroot %q --tmpdir %q --storage-driver vfs --cgroup-manager cgroupfs --events-backend file --runtime %q --conmon %q "$@"\n' \
		"$PODMAN" "$PM/root" "$PM_RUN" "$PM/tmp" "$RT" "$SHIM" >"$PM/bin/pm"
	chmod +x "$PM/bin/pm"
	PATH=$PM/bin:$PATH
	trap pm_cleanup EXIT
	_sk_rootfs_template
	local tar=$SK_CACHE/bb.tar
	if [[ ! -s $tar ]]; then
		tar -C "$SK_CACHE/rootfs" -cf "$tar.$$" . && mv "$tar.$$" "$tar"
	fi
	expect_ok pm import "$tar" localhost/bb
}

# podman run with this test's cgroup parent and no network.
pmr() { pm run --network none --cgroup-parent "$PM_CG" "$@"; }

# The container's bundle (podman's "userdata"), where attach, ctl, oom and
# exit.json are.
pm_bundle() {
	local cfg
	cfg=$(pm inspect --format '{{.OCIConfigPath}}' "$1")
	printf '%s' "${cfg%/config.json}"
}

pm_state() { pm inspect --format "{{.State.$2}}" "$1"; }

# pm_status_is NAME STATUS: whether podman says so now.
pm_status_is() { [[ $(pm_state "$1" Status 2>/dev/null) == "$2" ]]; }
pm_restarted_once() { [[ $(pm inspect --format "{{.RestartCount}}" "$1" 2>/dev/null) == 1 ]] && pm_status_is "$1" running; }

# Remove every container, wait for their shims, remove podman's cgroups
# (its shims' "conmon" cgroup is never removed by podman) in every
# hierarchy.
pm_cleanup() {
	set +eE
	trap - ERR
	[[ -n ${PM:-} && -d $PM ]] || return 0
	pm rm -af -t 0 >/dev/null 2>&1 || pm rm -af -t 0 >/dev/null 2>&1
	local end=$((SECONDS + 20))
	while pgrep -f -- "$PM/" >/dev/null && ((SECONDS < end)); do
		sleep 0.1
	done
	pkill -9 -f -- "^$SHIM .*$PM/" 2>/dev/null
	local _a _b _c _d mp _rest
	while read -r _a _b _c _d mp _rest; do
		[[ " $_rest " == *" - cgroup "* || " $_rest " == *" - cgroup2 "* ]] || continue
		[[ -d $mp$PM_CG ]] && find "$mp$PM_CG" -depth -type d -exec rmdir {} + 2>/dev/null
	done </proc/self/mountinfo
	[[ -z ${PM_RUN:-} ]] || rm -rf "$PM_RUN"
	return 0
}

# A shim of this test still running.
no_shim_left() {
	local end=$((SECONDS + 20))
	while ((SECONDS < end)); do
		pgrep -f -- "^$SHIM .*$1" >/dev/null || return 0
		sleep 0.1
	done
	fail "a skiff-shim for $1 is still running: $(pgrep -af -- "^$SHIM .*$1")"
}

sc_info() {
	expect_ok pm info --format '{{.Host.Conmon.Path}}'
	assert_eq "$out" "$SHIM" "podman's monitor"
	expect_ok pmr -d --name info bb sleep 100
	local pid
	pid=$(pm_state info ConmonPid)
	assert_eq "$(readlink "/proc/$pid/exe")" "$SHIM" "the monitor process"
	# One process, not a thread more.
	assert_eq "$(ls "/proc/$pid/task" | wc -l)" 1 "the shim's threads"
	expect_ok pm rm -f -t 0 info
}

sc_run_rm() {
	# podman info takes 90 s in the VM: the monitor is checked there by
	# the exit.json only the shim writes (sc_oom).
	if [[ ${SKIFF_IN_VM:-} != 1 ]]; then
		expect_ok pm info --format '{{.Host.Conmon.Path}}'
		assert_eq "$out" "$SHIM" "podman's monitor"
	fi
	expect_fail 3 pmr --rm bb sh -c 'echo out; echo err >&2; exit 3'
	assert_eq "$out" out
	assert_eq "$err" err
	expect_ok pm ps -aq
	assert_eq "$out" "" "containers left by run --rm"
}

sc_signal() {
	sc_info
	# A signal: 128+N, the status run exits with.
	pmr --rm --name sig bb sleep 100 >"$T/sig.out" 2>&1 &
	local p=$!
	until_ok 30 pm_status_is sig running
	expect_ok pm kill -s KILL sig
	local st=0
	wait "$p" || st=$?
	assert_eq "$st" 137 "run's status after SIGKILL"
	# --timeout: the shim kills the process; the status is -1 (conmon's).
	local t0=$SECONDS
	expect_fail 255 pmr --name to --timeout 2 bb sleep 100
	((SECONDS - t0 < 30)) || fail "--timeout 2 took $((SECONDS - t0)) s"
	assert_eq "$(pm_state to ExitCode)" -1 "ExitCode after --timeout"
	jq -e '.timedOut == true' "$(pm_bundle to)/exit.json" >/dev/null || fail "exit.json: $(<"$(pm_bundle to)/exit.json")"
	expect_ok pm rm to
	expect_ok pm ps -aq
	assert_eq "$out" "" "containers left by run --rm"
}

sc_detach_logs() {
	expect_ok pmr -d --name dl bb sh -c 'for i in 1 2 3; do echo line$i; sleep 0.3; done; echo err >&2; printf tail; exit 5'
	# logs -f follows until the container is gone.
	expect_ok timeout 60 pm logs -f dl
	assert_eq "$out" $'line1\nline2\nline3\ntail' "logs -f stdout"
	assert_eq "$err" "err" "logs -f stderr"
	expect_ok pm wait dl
	assert_eq "$out" 5 "wait"
	local b log
	b=$(pm_bundle dl)
	log=$(<"$b/ctr.log")
	# k8s-file: local time with nanoseconds and a numeric offset.
	local ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}[+-][0-9]{2}:[0-9]{2}'
	assert_match "$log" "^$ts stdout F line1"$'\n'
	assert_match "$log" $'\n'"$ts stderr F err"$'\n'
	assert_match "$log" $'\n'"$ts stdout P tail"'$'
	jq -e '.state == "exited" and .exitCode == 5 and .oomKilled == false' "$b/exit.json" >/dev/null ||
		fail "exit.json: $(<"$b/exit.json")"
	expect_ok pm logs dl
	assert_eq "$out" $'line1\nline2\nline3\ntail' "logs"
}

sc_attach() {
	# passthrough: the container writes straight to podman's stdio.
	expect_ok pmr --rm --log-driver passthrough bb sh -c 'echo pass; echo perr >&2'
	assert_eq "$out" pass
	assert_eq "$err" perr
	expect_ok pmr -d -i --name at bb sh -c 'read x; echo got:$x; exit 6'
	run pm attach at <<<"hello"
	assert_contains "$out" "got:hello" "attach output"
	expect_ok pm wait at
	assert_eq "$out" 6 "wait"
	# Output from when attach connects (none is replayed): ticks until told
	# to stop.
	expect_ok pmr -d --name at2 bb sh -c 'while [ ! -e /tmp/stop ]; do echo tick; sleep 0.2; done; echo late-err >&2'
	pm attach at2 </dev/null >"$T/at2.out" 2>"$T/at2.err" &
	local a=$!
	until_ok 60 grep -q tick "$T/at2.out"
	expect_ok pm exec at2 touch /tmp/stop
	wait "$a" || fail "attach failed: $(<"$T/at2.err")"
	assert_contains "$(<"$T/at2.err")" "late-err" "attach stderr"
	# Our own client on the socket: the message framing.
	_attach_client
	expect_ok pmr -d -i --name at3 bb sh -c 'read x; echo "in:$x"; echo e >&2'
	expect_ok "$ATTACH" "$(pm_bundle at3)/attach" send $'abc\n'
	assert_eq "$out" "in:abc"
	assert_eq "$err" "e"
}

sc_exec() {
	expect_ok pmr -d --name ex bb sleep 1000
	expect_fail 7 pm exec ex sh -c 'echo out; echo err >&2; exit 7'
	assert_eq "$out" out
	assert_eq "$err" err
	run pm exec -i ex sh -c 'cat; echo done' <<<"stdin-line"
	assert_eq "$status" 0 "exec -i status"
	assert_eq "$out" $'stdin-line\ndone' "exec -i output"
	expect_fail 4 pm exec -t ex sh -c 'tty; exit 4'
	assert_eq "$(tr -d '\r' <<<"$out")" /dev/pts/0 "exec -t output"
	expect_ok pm exec -d ex sh -c 'echo detached >/tmp/d'
	until_ok 30 pm exec ex test -s /tmp/d
	expect_ok pm exec ex cat /tmp/d
	assert_eq "$out" detached
	run pm exec ex /no/such/binary
	((status != 0)) || fail "exec of a missing binary succeeded"
	# Every exec session's shim is gone.
	no_shim_left "--exec-process-spec"
}

sc_stop_restart() {
	expect_ok pmr -d --name lc bb sh -c 'trap "exit 9" TERM; echo up; while :; do sleep 0.1; done'
	until_ok 60 pm logs lc
	local s=$SECONDS
	expect_ok pm stop -t 60 lc
	((SECONDS - s < 50)) || fail "stop took $((SECONDS - s)) s"
	assert_eq "$(pm_state lc ExitCode)" 9 "stop's exit code (trapped TERM)"
	local shim1 shim2
	expect_ok pm restart -t 0 lc
	assert_eq "$(pm_state lc Status)" running "after restart"
	shim1=$(pm_state lc ConmonPid)
	expect_ok pm stop -t 0 lc
	expect_ok pm start lc
	shim2=$(pm_state lc ConmonPid)
	[[ $shim1 != "$shim2" ]] || fail "start reused the shim pid $shim1"
	assert_eq "$(readlink "/proc/$shim2/exe")" "$SHIM" "the restarted container's monitor"
	expect_ok pm rm -f -t 0 lc
	no_shim_left "-n lc "
}

# A restart by the restart policy is made by podman's cleanup process, the
# shim's exit command, which never saw --conmon: it must find the shim in
# the containers.conf named by CONTAINERS_CONF, which the shim passes on.
sc_restart_policy() {
	expect_ok pmr -d --restart on-failure:1 --name rp bb sh -c '[ -e /once ] && exec sleep 1000; touch /once; exit 1'
	until_ok 60 pm_restarted_once rp
	local shim
	shim=$(pm_state rp ConmonPid)
	assert_eq "$(readlink "/proc/$shim/exe")" "$SHIM" "the monitor of the restarted container"
	expect_ok pm rm -f -t 0 rp
}

sc_kill_wait() {
	expect_ok pmr -d --name kw bb sleep 1000
	expect_ok pm kill kw
	expect_ok pm wait kw
	assert_eq "$out" 137 "wait after kill"
	expect_ok pmr -d --name w bb sh -c 'sleep 1; exit 12'
	expect_ok pm wait w
	assert_eq "$out" 12 "wait"
	expect_ok pm rm kw w
	no_shim_left "-n w "
}

sc_oom() {
	run pmr --name oom -m 32m bb sh -c 'x=a; while :; do x=$x$x; done'
	assert_eq "$status" 137 "run's status"
	assert_eq "$(pm_state oom OOMKilled)" true "OOMKilled"
	local b
	b=$(pm_bundle oom)
	jq -e '.oomKilled == true and .signal == 9' "$b/exit.json" >/dev/null || fail "exit.json: $(<"$b/exit.json")"
	# The VM is slow: one container there.
	[[ ${SKIFF_IN_VM:-} == 1 ]] && return 0
	expect_fail 1 pmr --name nooom -m 32m bb sh -c 'exit 1'
	assert_eq "$(pm_state nooom OOMKilled)" false "OOMKilled without an OOM kill"
}

# data FILE MB: MB megabytes of numbered lines of every length from 0 to
# 20000 bytes (so some cross the 8 KiB read size), the last without its
# newline.
mk_burst_data() {
	perl -e 'my ($f, $mb) = @ARGV; open my $o, ">", $f or die; srand(7); my $n = 0; my $i = 0;
		while ($n < $mb * 1000000) { my $l = sprintf("%08d ", $i++) . ("abcdefghij" x int(rand(2000))) . ("x" x int(rand(10)));
			$l = substr($l, 0, 9) if $i % 97 == 0; print $o $l, "\n"; $n += length($l) + 1 }
		print $o "no-newline-at-the-end"; close $o' "$1" "$2"
}

sc_burst() {
	mk_burst_data "$T/data" 50
	expect_ok pmr -d --name burst -v "$T/data:/data:ro" bb cat /data
	expect_ok timeout 300 pm wait burst
	assert_eq "$out" 0 "wait"
	pm logs burst >"$T/logs.out" 2>"$T/logs.err" || fail "podman logs failed: $(<"$T/logs.err")"
	cmp "$T/data" "$T/logs.out" || fail "the log differs from what the container wrote"
	# Attached, too: every byte through the attach socket.
	pmr --rm -v "$T/data:/data:ro" bb cat /data >"$T/run.out" || fail "run failed"
	cmp "$T/data" "$T/run.out" || fail "run's output differs from what the container wrote"
}

sc_stuck_client() {
	_attach_client
	mk_burst_data "$T/data" 30
	expect_ok pmr -d --name stuck -v "$T/data:/data:ro" bb sh -c 'sleep 2; cat /data'
	"$ATTACH" "$(pm_bundle stuck)/attach" stuck 120 >"$T/client.out" &
	local client=$!
	until_ok 10 test -s "$T/client.out"
	local s=$SECONDS
	expect_ok timeout 120 pm wait stuck
	((SECONDS - s < 60)) || fail "the container took $((SECONDS - s)) s with a stuck client"
	assert_eq "$(<"$T/client.out")" $'connected\nclosed' "the stuck client"
	kill "$client" 2>/dev/null || true
	wait "$client" 2>/dev/null || true
	pm logs stuck >"$T/logs.out" 2>&1 || fail "podman logs failed"
	cmp "$T/data" "$T/logs.out" || fail "the log lost output while a client was stuck"
}

sc_kill_podman() {
	pmr --name kp bb sh -c 'sleep 4; exit 42' >/dev/null 2>&1 &
	local p=$!
	until_ok 30 pm_status_is kp running
	kill -9 "$p"
	wait "$p" 2>/dev/null || true
	# A new podman learns the status from the shim's exit file.
	expect_ok timeout 60 pm wait kp
	assert_eq "$out" 42 "wait from a new podman"
	assert_eq "$(pm_state kp ExitCode)" 42 "inspect"
	assert_eq "$(pm_state kp Status)" exited "inspect"
}

sc_kill_shim() {
	expect_ok pmr -d --name ks bb sleep 1000
	local shim ctr b
	shim=$(pm_state ks ConmonPid)
	ctr=$(pm_state ks Pid)
	b=$(pm_bundle ks)
	kill -9 "$shim"
	gone "$shim" "the shim"
	sleep 0.5
	kill -0 "$ctr" || fail "the container died with its shim"
	jq -e '.state == "running"' "$b/exit.json" >/dev/null || fail "exit.json: $(<"$b/exit.json")"
	kill -9 "$ctr"
	gone "$ctr" "the container"
	# Nobody wrote a status: none is made up.
	jq -e '.state == "running" and (has("status") | not)' "$b/exit.json" >/dev/null ||
		fail "exit.json: $(<"$b/exit.json")"
	[[ ! -e $PM/tmp/exits/$(pm inspect --format '{{.ID}}' ks) ]] || fail "an exit file appeared"
	# podman 4.3 without its monitor: the first rm -f finds the container
	# "stopping" and fails to kill it, the second removes it from podman
	# but never deletes it from the runtime (podman #19629).
	local id
	id=$(pm inspect --format '{{.ID}}' ks)
	pm rm -f -t 0 ks >/dev/null 2>&1 || expect_ok pm rm -f -t 0 ks
	"$RT" delete --force "$id" 2>/dev/null || true
}

sc_log_size() {
	expect_ok pmr --name ls --log-opt max-size=2000 bb sh -c 'i=0; while [ $i -lt 200 ]; do echo line$i; i=$((i+1)); done'
	local b
	b=$(pm_bundle ls)
	local size
	size=$(stat -c %s "$b/ctr.log")
	((size <= 2000)) || fail "ctr.log has $size bytes, more than max-size"
	[[ -s $b/ctr.log.1 ]] || fail "no ctr.log.1: the previous part was not kept"
	expect_ok pm logs ls
	assert_contains "$out" "line199" "the last line"
}

# The VM runs two with skiff, podman's basics and cgroup v2's OOM; the
# rest only on the host: each podman command takes 10 to 20 s under TCG.
test_shim_podman_run_rm_skiff() { pm_setup skiff; sc_run_rm; }
test_shim_podman_oom_skiff() {
	require_controller memory
	pm_setup skiff
	sc_oom
}
test_shim_podman_detach_logs_skiff() { host_only "logs"; pm_setup skiff; sc_detach_logs; }
test_shim_podman_exec_skiff() { host_only "exec"; pm_setup skiff; sc_exec; }
test_shim_podman_signal_skiff() { host_only "signals"; pm_setup skiff; sc_signal; }
test_shim_podman_attach_skiff() { host_only "attach"; pm_setup skiff; sc_attach; }
test_shim_podman_stop_restart_skiff() { host_only "stop, restart"; pm_setup skiff; sc_stop_restart; }
test_shim_podman_restart_policy_skiff() { host_only "restart policy"; pm_setup skiff; sc_restart_policy; }
test_shim_podman_kill_wait_skiff() { host_only "kill, wait"; pm_setup skiff; sc_kill_wait; }
test_shim_podman_burst_skiff() { host_only "50 MB through podman logs"; pm_setup skiff; sc_burst; }
test_shim_podman_stuck_client_skiff() { host_only "30 MB"; pm_setup skiff; sc_stuck_client; }
test_shim_podman_kill_podman_skiff() { host_only "podman killed"; pm_setup skiff; sc_kill_podman; }
test_shim_podman_kill_shim_skiff() { host_only "shim killed"; pm_setup skiff; sc_kill_shim; }
test_shim_podman_log_size_skiff() { host_only "log rotation"; pm_setup skiff; sc_log_size; }

test_shim_podman_run_rm_runc() { host_only "runc"; pm_setup runc; sc_run_rm; }
test_shim_podman_detach_logs_runc() { host_only "runc"; pm_setup runc; sc_detach_logs; }
test_shim_podman_exec_runc() { host_only "runc"; pm_setup runc; sc_exec; }
test_shim_podman_oom_runc() { host_only "runc"; pm_setup runc; sc_oom; }
test_shim_podman_signal_runc() { host_only "runc"; pm_setup runc; sc_signal; }
test_shim_podman_attach_runc() { host_only "runc"; pm_setup runc; sc_attach; }
test_shim_podman_stop_restart_runc() { host_only "runc"; pm_setup runc; sc_stop_restart; }
test_shim_podman_kill_wait_runc() { host_only "runc"; pm_setup runc; sc_kill_wait; }
test_shim_podman_burst_runc() { host_only "runc"; pm_setup runc; sc_burst; }
test_shim_podman_stuck_client_runc() { host_only "runc"; pm_setup runc; sc_stuck_client; }
test_shim_podman_kill_podman_runc() { host_only "runc"; pm_setup runc; sc_kill_podman; }
test_shim_podman_kill_shim_runc() { host_only "runc"; pm_setup runc; sc_kill_shim; }

# ---------------------------------------------------------------- the shim by hand

# shim_by_hand OUT ARGS...: start the shim as its callers do, the sync pipe
# going into the file OUT, one byte in the start pipe; returns once the
# first message is in OUT.
shim_by_hand() {
	local o=$1 sync start
	shift
	exec {sync}> >(cat >"$o")
	exec {start}< <(printf '\0')
	_OCI_SYNCPIPE=$sync _OCI_STARTPIPE=$start expect_ok "$SHIM" "$@"
	exec {sync}>&- {start}<&-
	until_ok 30 test -s "$o"
}

test_shim_options() {
	host_only "options"
	require_shim
	expect_ok "$SHIM" --version
	assert_match "$out" '^conmon version 2\.[0-9]+\.[0-9]+'$'\n''commit: skiff-shim ' "--version"
	expect_ok "$SHIM" --help
	assert_contains "$out" "--log-global-size-max" "--help (CRI-O looks for it)"
	expect_fail 1 "$SHIM" --no-such-option
	assert_contains "$err" "Unknown option --no-such-option"
	expect_fail 1 "$SHIM" -r /bin/true -u x
	assert_contains "$err" "Container ID not provided"
	expect_fail 1 "$SHIM" -c x -u x -r /no/such/runtime -l none
	assert_contains "$err" "Runtime path /no/such/runtime is not valid"
	expect_fail 1 "$SHIM" -c x -u x -r /bin/true
	assert_contains "$err" "Log driver not provided"
	expect_fail 1 "$SHIM" -c x -u x -r /bin/true -l bogus:x
	assert_contains "$err" "no such log driver"
	expect_fail 1 "$SHIM" -c x -u x -r /bin/true -l none --timeout nope
	assert_contains "$err" "Cannot parse integer value"
	expect_fail 1 "$SHIM" -c x -u x -r /bin/true -l none --exec-attach
	assert_contains "$err" "Attach can only be specified with exec"
}

# CRI-O's create: no --api-version (the legacy "pid" key), the attach
# socket through <socket-dir>/<cuuid>, --persist-dir.
test_shim_crio_create() {
	host_only "CRI-O's create"
	require_shim
	_attach_client
	mk_runtime skiff
	mk_bundle "$T/b" sh -c 'read x; echo "got $x"; exit 5'
	mkdir -p "$T/exits" "$T/persist" "$T/sock"
	shim_by_hand "$T/sync.out" -b "$T/b" -c crio1 -u crio1 \
		--exit-dir "$T/exits" -l "$T/ctr.log" --log-level debug -n crio1 -P "$T/conmon.pid" \
		-p "$T/b/pidfile" --persist-dir "$T/persist" -r "$RT" --socket-dir-path "$T/sock" -i
	assert_match "$(<"$T/sync.out")" '^\{"pid": [0-9]+\}$' "the sync message"
	local shim
	shim=$(<"$T/conmon.pid")
	[[ $shim =~ ^[0-9]+$ ]] || fail "conmon pid file: [$shim]"
	assert_eq "$(readlink "/proc/$shim/exe")" "$SHIM" "the conmon pid file's process"
	[[ -S $T/sock/crio1/attach ]] || fail "no attach socket through the socket dir"
	expect_ok sk start crio1
	expect_ok "$ATTACH" "$T/sock/crio1/attach" send $'hi\n'
	assert_eq "$out" "got hi" "attach output"
	until_ok 30 test -e "$T/exits/crio1"
	assert_eq "$(od -An -c "$T/exits/crio1" | tr -d ' ')" 5 "the exit file (no newline)"
	assert_eq "$(<"$T/persist/exit")" 5 "persist-dir/exit"
	jq -e '.exitCode == 5' "$T/persist/exit.json" >/dev/null || fail "exit.json: $(<"$T/persist/exit.json")"
	gone "$shim" "the shim"
	[[ ! -e $T/sock/crio1 ]] || fail "the socket-dir symlink was left"
	assert_contains "$(<"$T/ctr.log")" "stdout F got hi"
	expect_ok sk delete crio1
}

# CRI-O's ExecSync: --sync (no fork), -e without -u or -b, the status on
# the sync pipe as "exit_code", output in the log; -T kills the process.
test_shim_crio_exec_sync() {
	require_shim
	mk_runtime skiff
	mk_bundle "$T/b" sleep 1000
	expect_ok sk create -b "$T/b" es </dev/null
	expect_ok sk start es
	jq '.process | .terminal = false | .args = ["sh", "-c", "echo hi; echo e >&2; exit 3"]' "$T/b/config.json" >"$T/p1.json"
	jq '.process | .terminal = false | .args = ["sleep", "30"]' "$T/b/config.json" >"$T/p2.json"
	local sync
	exec {sync}> >(cat >"$T/esync.out")
	_OCI_SYNCPIPE=$sync expect_fail 3 "$SHIM" -c es -n es -r "$RT" -p "$T/epid" -e -l "$T/exec.log" \
		--socket-dir-path "$T/sock" --sync --exec-process-spec "$T/p1.json"
	exec {sync}>&-
	until_ok 10 test -s "$T/esync.out"
	assert_eq "$(<"$T/esync.out")" '{"exit_code": 3}' "ExecSync's status"
	assert_contains "$(<"$T/exec.log")" "stdout F hi"
	assert_contains "$(<"$T/exec.log")" "stderr F e"
	exec {sync}> >(cat >"$T/esync2.out")
	local s=$SECONDS
	_OCI_SYNCPIPE=$sync run "$SHIM" -c es -n es -r "$RT" -p "$T/epid2" -e -l "$T/exec2.log" --sync -T 1 \
		--exec-process-spec "$T/p2.json"
	exec {sync}>&-
	((SECONDS - s < 15)) || fail "-T 1 took $((SECONDS - s)) s"
	until_ok 10 test -s "$T/esync2.out"
	assert_eq "$(<"$T/esync2.out")" '{"exit_code": -1, "message": "command timed out"}' "a timed-out ExecSync"
	expect_ok sk delete --force es
}

# --sdnotify-socket: READY=1 from the container reaches the host's socket,
# stripped of the rest; other messages do not.
test_shim_sdnotify() {
	host_only "sd-notify"
	require_shim
	mk_runtime skiff
	mk_bundle "$T/b" sh -c '/sdnotify /run/notify/notify.sock "$(printf "STATUS=x\nREADY=1")"; /sdnotify /run/notify/notify.sock FOO=1'
	cc -O2 -static -o "$T/b/rootfs/sdnotify" "$REPO/tests/integration/helpers/sdnotify.c" || fail "cannot build sdnotify"
	mkdir -p "$T/b/notify"
	cfg_edit "$T/b" '.mounts += [{destination: "/run/notify", type: "bind", source: $s, options: ["bind"]}]' \
		--arg s "$T/b/notify"
	local sink
	sink=$(helper journal_sink)
	"$sink" "$T/host.sock" "$T/notify.out" &
	local sp=$!
	until_ok 10 test -S "$T/host.sock"
	shim_by_hand "$T/sync.out" --api-version -b "$T/b" -c nt -u nt -l "$T/nt.log" -r "$RT" --full-attach \
		--sdnotify-socket "$T/host.sock" --exit-dir "$T"
	[[ -S $T/b/notify/notify.sock ]] || fail "no notify socket in the bundle"
	expect_ok sk start nt
	until_ok 30 test -e "$T/nt"
	sleep 0.2
	kill "$sp"
	wait "$sp" 2>/dev/null || true
	assert_eq "$(<"$T/notify.out")" "READY=1|" "what reached the host's socket"
	expect_ok sk delete nt
}

# --log-size-max rotates (the previous part kept, as PATH.1);
# --log-global-size-max stops.
test_shim_log_limits() {
	host_only "log limits"
	require_shim
	mk_runtime skiff
	mk_bundle "$T/b" sh -c 'i=0; while [ $i -lt 100 ]; do echo line$i; i=$((i+1)); done'
	shim_by_hand "$T/s1" --api-version -b "$T/b" -c l1 -u l1 -l "k8s-file:$T/a.log" --log-size-max 1000 \
		-r "$RT" --full-attach --exit-dir "$T"
	expect_ok sk start l1
	until_ok 30 test -e "$T/l1"
	local n
	n=$(stat -c %s "$T/a.log")
	((n <= 1000)) || fail "a.log has $n bytes"
	n=$(stat -c %s "$T/a.log.1")
	((n > 900 && n <= 1000)) || fail "a.log.1 has $n bytes"
	assert_contains "$(tail -n1 "$T/a.log")" "stdout F line99"
	expect_ok sk delete l1
	shim_by_hand "$T/s2" --api-version -b "$T/b" -c l2 -u l2 -l "k8s-file:$T/g.log" --log-global-size-max 1000 \
		-r "$RT" --full-attach --exit-dir "$T"
	expect_ok sk start l2
	until_ok 30 test -e "$T/l2"
	n=$(stat -c %s "$T/g.log")
	((n > 900 && n <= 1100)) || fail "g.log has $n bytes"
	assert_contains "$(head -n1 "$T/g.log")" "stdout F line0"
	expect_ok sk delete l2
}

# A runtime that fails: its stderr comes back on the sync pipe (conmon
# 2.1.6 said nothing when it was empty).
test_shim_runtime_failure() {
	host_only "runtime failures"
	require_shim
	mk_runtime skiff
	mk_bundle "$T/b" true
	cfg_edit "$T/b" '.process.args = []'
	shim_by_hand "$T/sync.out" --api-version -b "$T/b" -c bad -u bad -l "k8s-file:$T/ctr.log" -r "$RT" --full-attach
	jq -e '.data == -1 and (.message | contains("process.args"))' "$T/sync.out" >/dev/null ||
		fail "sync message: $(<"$T/sync.out")"
	printf '#!/bin/sh\nexit 1\n' >"$T/rt/mute"
	chmod +x "$T/rt/mute"
	shim_by_hand "$T/sync2.out" --api-version -b "$T/b" -c mute -u mute -l none -r "$T/rt/mute"
	jq -e '.data == -1 and (.message | contains("exit status 1"))' "$T/sync2.out" >/dev/null ||
		fail "sync message: $(<"$T/sync2.out")"
}

# ---------------------------------------------------------------- skiff's own

# The shim of container ID, from its exit.json.
own_shim() { jq -r .shimPid "$ROOT/$1/exit.json"; }

test_shim_skiff_run_detach_wait() {
	require_shim
	mk_bundle "$T/b" sh -c 'echo hi; echo err >&2; while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 7'
	expect_ok sk run -d --shim -b "$T/b" own
	assert_eq "$out$err" "" "run's output"
	assert_eq "$(status_of own)" running
	local shim
	shim=$(own_shim own)
	assert_eq "$(readlink "/proc/$shim/exe")" "$SHIM" "the container's keeper"
	local ppid
	ppid=$(awk '{print $4}' "/proc/$(jq -r .pid "$ROOT/own/exit.json")/stat")
	assert_eq "$ppid" "$shim" "the init's parent"
	# Two waiters, one with --json.
	sk wait own >"$T/w1.out" 2>&1 &
	local w1=$!
	(sleep 0.5 && touch "$T/b/rootfs/tmp/go") &
	expect_fail 7 sk wait --json own
	jq -e '.state == "exited" and .exitCode == 7 and .status == 7' <<<"$out" >/dev/null || fail "wait --json: $out"
	local st=0
	wait "$w1" || st=$?
	assert_eq "$st" 7 "the other waiter"
	assert_match "$(<"$ROOT/own/ctr.log")" 'stdout F hi'$'\n''.* stderr F err' "ctr.log"
	local init
	init=$(jq -r .pid "$ROOT/own/exit.json")
	gone "$shim" "the shim"
	# Reaped by the shim, not left a zombie.
	[[ ! -e /proc/$init ]] || fail "the container's init $init is still in /proc: $(cat "/proc/$init/stat")"
	# After the shim: from exit.json alone.
	expect_fail 7 sk wait own
	expect_ok sk delete own
	[[ ! -e $ROOT/own ]] || fail "state left after delete"
	expect_fail 1 sk wait own
	assert_contains "$err" "does not exist"
}

test_shim_skiff_create_start_terminal() {
	host_only "terminal"
	require_shim
	mk_bundle "$T/b" sh -c 'sleep 1; stty size; tty; exit 3'
	cfg_edit "$T/b" '.process.terminal = true'
	expect_ok sk create --shim --shim-log "$T/out.log" -b "$T/b" --pid-file "$T/pid" ct
	assert_eq "$(status_of ct)" created
	assert_eq "$(<"$T/pid")" "$(jq -r .pid "$ROOT/ct/exit.json")" "--pid-file"
	# A resize through the ctl FIFO, before the process asks.
	echo "1 30 100" >"$ROOT/ct/ctl"
	expect_ok sk start ct
	expect_fail 3 sk wait ct
	assert_eq "$(cut -d' ' -f3- "$T/out.log" | tr -d '\r')" $'F 30 100\nF /dev/pts/0' "the log of a terminal"
	expect_ok sk delete ct
}

test_shim_skiff_shim_killed() {
	require_shim
	mk_bundle "$T/b" sleep 1000
	expect_ok sk run -d --shim -b "$T/b" sk1
	local shim pid
	shim=$(own_shim sk1)
	pid=$(jq -r .pid "$ROOT/sk1/exit.json")
	kill -9 "$shim"
	gone "$shim" "the shim"
	sleep 0.3
	assert_eq "$(status_of sk1)" running "the container after its shim was killed"
	sk wait sk1 >"$T/w.out" 2>&1 &
	local w=$!
	sleep 0.3
	expect_ok sk kill sk1 KILL
	local st=0
	wait "$w" || st=$?
	assert_eq "$st" 1 "wait's status"
	assert_contains "$(<"$T/w.out")" "exit status is unknown" "wait"
	expect_ok sk delete sk1
	gone "$pid" "the container"
}

test_shim_skiff_errors() {
	host_only "errors"
	require_shim
	mk_bundle "$T/b" true
	expect_fail 2 sk run --shim -b "$T/b" e1
	assert_contains "$err" "--shim needs --detach"
	expect_fail 2 sk run -d --shim --console-socket "$T/x" -b "$T/b" e1
	assert_contains "$err" "--console-socket cannot go with --shim"
	# A failure after the create: nothing is left either.
	expect_fail 1 sk run -d --shim --shim-log "$T/no/such/dir/log" -b "$T/b" e1
	assert_contains "$err" "open log file \"$T/no/such/dir/log\": ENOENT"
	assert_empty_dir "$ROOT"
	cfg_edit "$T/b" '.process.args = []'
	expect_fail 1 sk run -d --shim -b "$T/b" e1
	assert_contains "$err" "process.args"
	assert_empty_dir "$ROOT"
	# A container without a shim has no record to wait on.
	mk_bundle "$T/b2" sleep 100
	expect_ok sk create -b "$T/b2" e2 </dev/null
	expect_fail 1 sk wait e2
	assert_contains "$err" "has no exit record"
	expect_ok sk delete --force e2
	expect_fail 1 sk wait nosuch
	assert_contains "$err" "does not exist"
	SKIFF_SHIM=/no/such/shim expect_fail 1 sk create --shim -b "$T/b2" e3
	assert_contains "$err" "SKIFF_SHIM"
	assert_empty_dir "$ROOT"
}

# -l journald: the native protocol with conmon's fields, whole lines.
# Only where /run may be written freely and has no journald (the VM).
test_shim_journald() {
	require_shim
	[[ ${SKIFF_IN_VM:-} == 1 ]] || skip "needs a throwaway /run for a stand-in journald socket (the VM)"
	[[ ! -e /run/systemd/journal/socket ]] || skip "a journald is running"
	local sink
	sink=$(helper journal_sink)
	mkdir -p /run/systemd/journal
	"$sink" /run/systemd/journal/socket "$T/journal" &
	local sp=$!
	until_ok 10 test -S /run/systemd/journal/socket
	mk_bundle "$T/b" sh -c 'echo one; printf "two\nthr"; sleep 0.2; echo ee; echo oops >&2; printf tail'
	local id=0123456789abcdef
	mk_runtime skiff
	shim_by_hand "$T/sync.out" --api-version -b "$T/b" -c "$id" -u "$id" -n jname --log-tag jtag -l journald \
		-r "$RT" --full-attach
	expect_ok sk start "$id"
	until_ok 30 grep -q 'MESSAGE=tail' "$T/journal"
	kill "$sp"
	wait "$sp" 2>/dev/null || true
	rm -f /run/systemd/journal/socket
	local common="CONTAINER_ID_FULL=$id|CONTAINER_ID=0123456789ab"
	mapfile -t lines <"$T/journal"
	assert_eq "${#lines[@]}" 5 "journal entries: $(<"$T/journal")"
	assert_eq "${lines[0]}" "$common|PRIORITY=6|CONTAINER_TAG=jtag|CONTAINER_NAME=jname|SYSLOG_IDENTIFIER=jtag|MESSAGE=one|"
	assert_eq "${lines[1]}" "$common|PRIORITY=6|CONTAINER_TAG=jtag|CONTAINER_NAME=jname|SYSLOG_IDENTIFIER=jtag|MESSAGE=two|"
	assert_eq "${lines[2]}" "$common|PRIORITY=6|CONTAINER_TAG=jtag|CONTAINER_NAME=jname|SYSLOG_IDENTIFIER=jtag|MESSAGE=three|" \
		"a line written in two pieces"
	assert_contains "$(<"$T/journal")" "PRIORITY=3|CONTAINER_TAG=jtag|CONTAINER_NAME=jname|SYSLOG_IDENTIFIER=jtag|MESSAGE=oops|"
	assert_contains "$(<"$T/journal")" "SYSLOG_IDENTIFIER=jtag|CONTAINER_PARTIAL_MESSAGE=true|MESSAGE=tail|"
	expect_ok sk delete --force "$id"
}

# SIGTERM, SIGINT and SIGQUIT to the shim go on to the container.
test_shim_skiff_signal_forwarding() {
	host_only "signals"
	require_shim
	mk_bundle "$T/b" sh -c 'trap "exit 9" TERM; trap "exit 8" INT; touch /tmp/ready; while :; do sleep 0.1; done'
	cfg_edit "$T/b" '.root.readonly = false'
	expect_ok sk run -d --shim -b "$T/b" sf
	until_ok 20 test -e "$T/b/rootfs/tmp/ready"
	kill -TERM "$(own_shim sf)"
	expect_fail 9 sk wait sf
	expect_ok sk delete sf
}
