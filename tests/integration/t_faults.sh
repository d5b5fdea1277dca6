# shellcheck shell=bash
# $out, $err and $status come from lib.sh's run; single quotes hold jq and sh code.
# shellcheck disable=SC2154,SC2016
# Faults a runtime must survive without a hang, an orphan or a lost status
# (issue 22): frozen cgroups, an unreadable state.json, an OOM kill during
# set-up, a pid file that cannot be written.  Every command runs under
# timeout(1): a hang is a failure, not a stuck suite.  The runner checks
# that nothing is left (state, cgroups in every hierarchy, mounts,
# processes).

# tsk ARGS...: skiff with this test's root, killed after 20 s.
tsk() { timeout -s KILL 20 "$SKIFF" --root "$ROOT" "$@"; }

no_state() {
	local f
	for f in "$ROOT"/*; do
		[[ -e $f ]] && fail "state left under --root: ${f##*/}"
	done
	return 0
}

# frozen_create WHERE: create on an existing cgroup frozen by WHERE's
# freezer (v1: freezer.state, v2: cgroup.freeze) is refused at once with
# one line naming it; nothing is left.
frozen_create() {
	local dir file val thaw
	if [[ $1 == v1 ]]; then
		dir=$(cg_v1_mount freezer) || skip "no v1 freezer hierarchy on this host"
		file=freezer.state val=FROZEN thaw=THAWED
	else
		dir=$(cg2_mount)
		[[ -n $dir ]] || skip "no cgroup2 mount on this host"
		file=cgroup.freeze val=1 thaw=0
	fi
	dir=$dir$SKIFF_TEST_CGROUP/fz
	mk_bundle "$T/fz" sleep 100
	mkdir -p "$dir"
	echo "$val" >"$dir/$file"
	run tsk create --bundle "$T/fz" fz
	echo "$thaw" >"$dir/$file"
	if ((status != 1)); then
		tsk delete --force fz || true
		rmdir "$dir" 2>/dev/null || true
		fail "create on a frozen cgroup exited $status (137: it hung); stderr: $err"
	fi
	rmdir "$dir"
	assert_eq "$err" "skiff create: cgroup \"$dir\" is frozen: the container's init would freeze as it joins it; thaw it first"
	no_state
	cg_gone fz
}

test_faults_frozen_cgroup_v1() { frozen_create v1; }
test_faults_frozen_cgroup_v2() { frozen_create v2; }

# A cgroup frozen while the init sets itself up (here by a createRuntime
# hook): create fails within a second or two, kills the init, and leaves
# nothing; no other command ever waits behind it.
test_faults_frozen_during_create() {
	local fz
	if fz=$(cg_v1_mount freezer); then
		fz="echo FROZEN >$fz$SKIFF_TEST_CGROUP/fzc/freezer.state"
	else
		fz="echo 1 >$(cg2_mount)$SKIFF_TEST_CGROUP/fzc/cgroup.freeze"
	fi
	mk_bundle "$T/fzc" sleep 100
	cfg_edit "$T/fzc" '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", $fz]}]' --arg fz "$fz"
	run tsk create --bundle "$T/fzc" fzc
	if ((status != 1)); then
		tsk delete --force fzc || true
		fail "create exited $status (137: it hung); stderr: $err"
	fi
	assert_match "$err" "^skiff create: cgroup \".*/fzc\" was frozen while the container's init was setting up\$"
	no_state
	cg_gone fzc
}

# A command on a container whose lock a frozen process holds (here the
# create itself, frozen with its hook) fails at once naming it, instead of
# waiting for ever; once thawed, everything goes on.
test_faults_lock_held_by_frozen_process() {
	local hold file val thaw
	if hold=$(cg_v1_mount freezer); then
		file=freezer.state val=FROZEN thaw=THAWED
	else
		hold=$(cg2_mount)
		file=cgroup.freeze val=1 thaw=0
	fi
	hold=$hold$SKIFF_TEST_CGROUP/holder
	mkdir -p "$hold"
	mk_bundle "$T/lk" sleep 100
	cfg_edit "$T/lk" '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "echo \($v) >\($f)"]}]' \
		--arg v "$val" --arg f "$hold/$file"
	sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$hold" \
		"$SKIFF" --root "$ROOT" create --bundle "$T/lk" lk >"$T/create.out" 2>&1 &
	local cpid=$! end=$((SECONDS + 20))
	until [[ $(<"$hold/$file") == *"$val"* ]] || ((SECONDS >= end)); do sleep 0.05; done
	sleep 0.2
	run tsk delete --force lk
	local st=$status e=$err
	echo "$thaw" >"$hold/$file"
	wait "$cpid" || fail "create: $(<"$T/create.out")"
	tsk delete --force lk
	rmdir "$hold"
	assert_eq "$st" 1 "delete --force behind a frozen lock holder (137: it hung)"
	assert_match "$e" "^skiff delete: container \"lk\" is locked by pid $cpid, which is frozen \(cgroup \"$hold\"\): EDEADLK\$"
	no_state
	cg_gone lk
}

# On a hybrid host, a container frozen through cgroup2's own freezer (not
# the v1 one skiff uses) is paused too; delete --force thaws and removes.
# (A container paused by skiff: t_cgroup_cmds test_pause_then_delete_force.)
test_faults_delete_force_frozen_cgroup2() {
	local cg2
	cg2=$(cg2_mount)
	[[ -n $cg2 ]] || skip "no cgroup2 mount on this host"
	mk_bundle "$T/f2" sleep 100
	expect_ok tsk run -d --bundle "$T/f2" f2
	local pid
	pid=$(jq -r .pid <<<"$(tsk state f2)")
	echo 1 >"$cg2$SKIFF_TEST_CGROUP/f2/cgroup.freeze"
	assert_eq "$(status_of f2)" paused
	expect_ok tsk delete --force f2
	gone "$pid" "the frozen container's init"
	no_state
	cg_gone f2
}

# list and state agree while a create is under way (held in a hook).
test_faults_list_during_create() {
	mk_bundle "$T/lc" sleep 100
	cfg_edit "$T/lc" '.hooks.createRuntime = [{path: "/bin/sh",
		args: ["sh", "-c", ": >\($d)/in; while [ ! -e \($d)/go ]; do sleep 0.05; done"]}]' --arg d "$T"
	tsk create --bundle "$T/lc" lc >"$T/create.out" 2>&1 &
	local cpid=$! end=$((SECONDS + 20))
	while [[ ! -e $T/in ]] && ((SECONDS < end)); do sleep 0.05; done
	[[ -e $T/in ]] || { : >"$T/go"; fail "the hook did not run"; }
	local st ls
	st=$(status_of lc)
	ls=$(tsk list -f json | jq -r '.[] | select(.id == "lc") | .status')
	: >"$T/go"
	wait "$cpid" || fail "create: $(<"$T/create.out")"
	tsk delete --force lc
	assert_eq "$st" creating "state during create"
	assert_eq "$ls" creating "list during create"
	no_state
	cg_gone lc
}

# corrupt ID HOW: a running container whose state.json is then damaged
# (truncated, or garbage).
corrupt() {
	local pid
	mk_bundle "$T/$1" sleep 100
	expect_ok tsk run -d --bundle "$T/$1" "$1"
	pid=$(jq -r .pid <<<"$(tsk state "$1")")
	case $2 in
	truncate) : >"$ROOT/$1/state.json" ;;
	garbage) printf '{"id": "x", "pid": [' >"$ROOT/$1/state.json" ;;
	esac
	printf '%s' "$pid"
}

# An unreadable state.json is never taken for a stopped container: delete
# refuses and keeps it, list shows it as unknown, delete --force kills
# what its cgroup holds and removes everything.
unreadable_state() {
	local pid
	pid=$(corrupt cs "$1")
	expect_fail 1 tsk delete cs
	assert_contains "$err" 'skiff delete: cannot delete container "cs" (delete --force kills what remains of it): state.json: '
	[[ -e $ROOT/cs ]] || fail "delete removed the state of a container it could not read"
	kill -0 "$pid" || fail "delete killed the container without --force"
	run tsk list -f json
	assert_eq "$(jq -r '.[] | select(.id == "cs") | .status' <<<"$out")" unknown "list status"
	expect_fail 1 tsk state cs
	expect_ok tsk delete --force cs
	gone "$pid" "the container's init"
	no_state
	cg_gone cs
}

test_faults_state_truncated() { unreadable_state truncate; }
test_faults_state_garbage() { unreadable_state garbage; }

# An init OOM-killed during set-up: the message names the limit.
test_faults_oom_during_setup() {
	require_controller memory
	mk_bundle "$T/oom" true
	cfg_edit "$T/oom" '.linux.resources.memory = {limit: 1}'
	run tsk create --bundle "$T/oom" oom
	if ((status == 0)); then
		tsk delete --force oom
		skip "a 1-byte memory limit did not stop the init on this kernel"
	fi
	assert_eq "$status" 1 "exit status"
	assert_eq "$err" 'skiff create: container init killed by linux.resources.memory.limit (1 bytes) before completing set-up: its cgroup ran out of memory'
	no_state
	cg_gone oom
}

# A pid file that cannot be written is named as the user gave it.
test_faults_pid_file_readonly() {
	mkdir -p "$T/ro"
	mount -t tmpfs -o ro,size=64k tmpfs "$T/ro"
	mk_bundle "$T/pf" sleep 100
	run tsk create --pid-file "$T/ro/pid" --bundle "$T/pf" pf
	umount "$T/ro"
	assert_eq "$status" 1 "exit status"
	assert_match "$err" "^skiff create: --pid-file \"$T/ro/pid\": .*EROFS\$"
	no_state
	cg_gone pf
}

# ---------------------------------------------------------------- full disk

SHIM=${SKIFF_SHIM:-$REPO/shim/skiff-shim}

# full_fs: a 1 MiB tmpfs at $T/full (unmounted by the test), --root on it.
full_fs() {
	[[ -x $SHIM ]] || fail "$SHIM is not built (make)"
	export SKIFF_SHIM=$SHIM
	mkdir -p "$T/full"
	mount -t tmpfs -o size=1m,mode=0700 tmpfs "$T/full"
	trap 'umount -l "$T/full" 2>/dev/null || true' EXIT
	FROOT=$T/full/root
}
fsk() { timeout -s KILL 20 "$SKIFF" --root "$FROOT" "$@"; }
# fill: no byte left on $T/full.
fill() { dd if=/dev/zero of="$T/full/fill" bs=4k 2>/dev/null || true; }
unfill() {
	rm -f "$T/full/fill"
	fsk delete --force "$1" || true
	umount "$T/full"
}

# The shim's final record lands on a file system that filled up while
# the container ran: the space reserved at its start holds it.
test_faults_full_disk_exit_json() {
	full_fs
	mk_bundle "$T/dk" sh -c 'while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 7'
	expect_ok fsk run -d --shim -b "$T/dk" dk
	fill
	: >"$T/dk/rootfs/tmp/go"
	run fsk wait dk
	local st=$status e=$err
	unfill dk
	assert_eq "$st" 7 "wait's status on a full disk (stderr: $e)"
}

# A status the shim could not record (it left why, as when no space was
# reserved and none is left) is named as such by wait, not blamed on the
# shim.  The marker is made by hand here: the shim's own failure path is in
# tests/unit/test_exitrec.c.
test_faults_unrecorded_status() {
	full_fs
	mk_bundle "$T/du" sleep 100
	expect_ok fsk run -d --shim -b "$T/du" du
	local rec=$FROOT/du/exit.json shim pid
	shim=$(jq -r .shimPid "$rec")
	pid=$(jq -r .pid "$rec")
	kill -9 "$shim"
	gone "$shim" "the shim"
	: >"$FROOT/du/.exit.json.failed-ENOSPC"
	kill -9 "$pid"
	gone "$pid" "the container"
	run fsk wait du
	local st=$status e=$err
	unfill du
	assert_eq "$st" 1 "wait's status"
	assert_eq "$e" 'skiff wait: container "du" ended, but the exit status could not be recorded: ENOSPC'
}

# A shim killed between writing its final record and renaming it (a kill
# point there): wait takes the record from the reserved file, whole.
test_faults_killed_shim_final_record() {
	full_fs
	mk_bundle "$T/ks" sh -c 'while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 7'
	SKIFF_TEST_KILL_AT=reserved-written expect_ok fsk run -d --shim -b "$T/ks" ks
	local shim
	shim=$(jq -r .shimPid "$FROOT/ks/exit.json")
	: >"$T/ks/rootfs/tmp/go"
	gone "$shim" "the shim"
	local rec
	rec=$(jq -r .state "$FROOT/ks/exit.json")
	run fsk wait ks
	local st=$status e=$err
	unfill ks
	assert_eq "$rec" running "exit.json (the shim was killed before its rename)"
	assert_eq "$st" 7 "wait on the record left whole (stderr: $e)"
}

# Under conmon's convention (podman, CRI-O) the exit-dir file and the
# persist-dir exit file survive a full disk too.
test_faults_full_disk_conmon_files() {
	full_fs
	mkdir -p "$T/full/exits" "$T/full/persist" "$T/rt" "$T/sock"
	printf '#!/bin/sh\nexec %q --root %q "$@"\n' "$SKIFF" "$ROOT" >"$T/rt/skiff"
	chmod +x "$T/rt/skiff"
	mk_bundle "$T/cf" sh -c 'while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 7'
	local sync start
	exec {sync}> >(cat >"$T/sync.out")
	exec {start}< <(printf '\0')
	_OCI_SYNCPIPE=$sync _OCI_STARTPIPE=$start expect_ok timeout 20 "$SHIM" -b "$T/cf" -c cf -u cf \
		--exit-dir "$T/full/exits" -l "$T/ctr.log" -n cf -P "$T/conmon.pid" -p "$T/cf/pidfile" \
		--persist-dir "$T/full/persist" -r "$T/rt/skiff" --api-version 1 --socket-dir-path "$T/sock"
	exec {sync}>&- {start}<&-
	local end=$((SECONDS + 20))
	while [[ ! -s $T/sync.out ]] && ((SECONDS < end)); do sleep 0.05; done
	run tsk start cf
	((status == 0)) || fail "start: $err; sync: $(<"$T/sync.out"); log: $(cat "$T/ctr.log"); state: $(tsk state cf)"
	fill
	: >"$T/cf/rootfs/tmp/go"
	local shim
	end=$((SECONDS + 20))
	shim=$(<"$T/conmon.pid")
	while [[ ! -e $T/full/exits/cf ]] && ((SECONDS < end)); do sleep 0.05; done
	gone "$shim" "the shim"
	local ex="" px=""
	[[ -e $T/full/exits/cf ]] && ex=$(<"$T/full/exits/cf")
	[[ -e $T/full/persist/exit ]] && px=$(<"$T/full/persist/exit")
	rm -f "$T/full/fill"
	tsk delete --force cf || true
	umount "$T/full"
	assert_eq "$ex" 7 "the exit-dir file"
	assert_eq "$px" 7 "the persist-dir exit file"
}
