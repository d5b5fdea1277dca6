# shellcheck shell=bash disable=SC2154
# The clients with their systemd cgroup driver against skiff's
# (--systemd-cgroup, docs/cgroups.md), where systemd is PID 1:
#   tests/vm/run --systemd [--hybrid] tests/clients/run sdcg
# - podman with its default cgroup manager (systemd: cgroupsPath
#   machine.slice:libpod:ID), under conmon and under skiff-shim;
# - containerd's runc shim with SystemdCgroup through `ctr run
#   --runc-systemd-cgroup --cgroup slice:prefix:name`;
# - dockerd with native.cgroupdriver=systemd (system.slice:docker:ID);
# - the CRI path: containerd's CRI plugin with SystemdCgroup = true and a
#   kubelet-style pod cgroup parent (kubepods-besteffort-pod<uid>.slice),
#   through the runc shim and through containerd-shim-skiff-v2.
# Each checks the unit (systemctl show), the cgroup files, update, and that
# no unit is left.  SKIFF=/usr/sbin/runc runs the same scenarios with runc
# (the baseline they were checked against).
# (run() in lib.sh sets $out, $err and $status.)

lean_tests=(test_sdcg_podman test_sdcg_cri_pod)

missing_sdcg() {
	[[ -d /run/systemd/system ]] || { echo "systemd is not PID 1 here (tests/vm/run --systemd runs these)"; return; }
	local b
	for b in podman conmon containerd ctr containerd-shim-runc-v2 systemctl; do
		command -v "$b" >/dev/null || { echo "$b is not installed (make deps-clients)"; return; }
	done
	[[ -x /usr/sbin/dockerd && -x /usr/bin/docker ]] || { echo "docker.io is not installed (make deps-clients)"; return; }
	/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null ||
		echo "the CRI client needs python3-grpcio and python3-grpc-tools (make deps-clients)"
}

sd_pm_argv=(podman --root "$CL/root" --runroot "$CL/runroot" --tmpdir "$CL/tmp" --runtime "$CL/skiff"
	--events-backend file --storage-driver overlay)
sd_pm() { "${sd_pm_argv[@]}" "$@"; }
sd_ct() { ctr --address "$CL/ctd/containerd.sock" "$@"; }
sd_dk() { /usr/bin/docker -H "unix://$CL/docker.sock" "$@"; }
# The systemd VM's kernel has AppArmor on (systemd mounts securityfs) and
# no apparmor_parser is installed: docker would load its default profile.
sd_dkrun() { sd_dk run --security-opt apparmor=unconfined --network none "$@"; }

# The kubelet-style pod slice of the CRI tests (kubelet escapes a pod
# uid's dashes to underscores: a dash is a level).
SD_POD_SLICE=kubepods-besteffort-pod${BASE##*.}_1.slice
SD_POD_CG=/kubepods.slice/kubepods-besteffort.slice/$SD_POD_SLICE

sd_wants() { [[ $CL_TESTS == *" test_sdcg_$1"* ]]; }

setup_sdcg() {
	mkdir -p "$CL/root" "$CL/runroot" "$CL/tmp"
	# podman's default cgroup manager under systemd is systemd: left as is.
	cat >"$CL/containers.conf" <<EOF
[containers]
netns = "none"
[engine]
events_logger = "file"
events_logfile_path = "$CL/events.log"
EOF
	export CONTAINERS_CONF=$CL/containers.conf
	printf 'unqualified-search-registries = []\n' >"$CL/registries.conf"
	export CONTAINERS_REGISTRIES_CONF=$CL/registries.conf
	if sd_wants podman; then
		sd_pm load -i "$IMAGES/busybox.tar" || return 1
	fi
	if sd_wants ctr || sd_wants cri; then
		# One containerd for ctr (namespace default) and the CRI (k8s.io),
		# SystemdCgroup on both CRI handlers: runc's shim (runc's options)
		# and containerd-shim-skiff-v2, whose options containerd 1.6 can
		# only give as a file (ConfigPath: other runtime types than runc's
		# get runtimeoptions.v1.Options).
		local cri='plugins."io.containerd.grpc.v1.cri"'
		printf 'BinaryName = "%s"\nRoot = "%s"\nSystemdCgroup = true\n' "$CL/skiff" "$CL/skiff-shim-root" \
			>"$CL/skiff-shim.toml"
		local conf="
[$cri]
  sandbox_image = \"$PAUSE_IMG\"
  disable_apparmor = true
  enable_selinux = false
  stream_server_address = \"127.0.0.1\"
  stream_server_port = \"0\"
[$cri.containerd]
  snapshotter = \"overlayfs\"
  default_runtime_name = \"skiff\"
[$cri.containerd.runtimes.skiff]
  runtime_type = \"io.containerd.runc.v2\"
[$cri.containerd.runtimes.skiff.options]
  BinaryName = \"$CL/skiff\"
  Root = \"$CL/skiff-root\"
  SystemdCgroup = true
[$cri.containerd.runtimes.skiff-shim]
  runtime_type = \"io.containerd.skiff.v2\"
[$cri.containerd.runtimes.skiff-shim.options]
  ConfigPath = \"$CL/skiff-shim.toml\"
[$cri.cni]
  bin_dir = \"$CL/cni/bin\"
  conf_dir = \"$CL/cni/conf\""
		mkdir -p "$CL/cni/bin" "$CL/cni/conf"
		cl_containerd "$CL/ctd" "$conf" || return 1
		sd_ct images import "$IMAGES/busybox.tar" || return 1
		if sd_wants cri; then
			sd_ct -n k8s.io images import "$IMAGES/busybox.tar" &&
				sd_ct -n k8s.io images import "$IMAGES/pause.tar" || return 1
		fi
	fi
	if sd_wants docker; then
		mkdir -p "$CL/dkdata" "$CL/dkexec" "$CL/dktmp"
		echo '{}' >"$CL/daemon.json"
		TMPDIR=$CL/dktmp dockerd --config-file "$CL/daemon.json" --data-root "$CL/dkdata" --exec-root "$CL/dkexec" \
			-H "unix://$CL/docker.sock" --pidfile "$CL/docker.pid" \
			--add-runtime "skiff=$CL/skiff" --default-runtime skiff \
			--exec-opt native.cgroupdriver=systemd \
			--bridge none --iptables=false --ip6tables=false --ip-masq=false --ip-forward=false \
			--userland-proxy=false --storage-driver overlay2 --log-level warn \
			</dev/null >"$CL/dockerd.log" 2>&1 &
		local end=$((SECONDS + 180))
		until sd_dk version >/dev/null 2>&1; do
			if ((SECONDS > end)) || ! kill -0 $! 2>/dev/null; then
				tail -n 20 "$CL/dockerd.log"
				echo "dockerd did not come up"
				return 1
			fi
			sleep 0.3
		done
		sd_dk load -i "$IMAGES/busybox.tar" || return 1
	fi
}

teardown_sdcg() {
	if sd_wants podman; then
		sd_pm rm -af -t 0
		sd_pm rmi -af
	fi
	if [[ -S $CL/docker.sock ]]; then
		local ids
		ids=$(sd_dk ps -aq 2>/dev/null)
		# shellcheck disable=SC2086  # one id per word
		[[ -z $ids ]] || sd_dk rm -f $ids
		cl_stop_daemon "$CL/docker.pid" dockerd
	fi
	local c ns
	for ns in default k8s.io; do
		for c in $(sd_ct -n $ns tasks ls -q 2>/dev/null); do
			sd_ct -n $ns tasks kill -s KILL "$c"
		done
		for c in $(sd_ct -n $ns containers ls -q 2>/dev/null); do
			sd_ct -n $ns tasks rm -f "$c"
			sd_ct -n $ns containers rm "$c"
		done
	done
	cl_stop_daemon "$CL/ctd/containerd.pid" containerd
	unmount_under "$CL"
	# kubelet would remove the pod's slice; systemd made its parents.
	systemctl stop kubepods.slice 2>/dev/null
	return 0
}

sd_ct_stopped() { [[ $(sd_ct tasks ls | awk -v id="$1" '$1 == id { print $3 }') == STOPPED ]]; }

sd_prop() { systemctl show -p "$2" --value "$1"; }

# The unit property of a memory limit: systemd's cgroup v2 name, or its
# legacy one on a hybrid host (what skiff, like runc, sends there).
sd_memprop() {
	if awk '$0 ~ / - cgroup / && $NF ~ /(^|,)memory(,|$)/ { found = 1 } END { exit !found }' /proc/self/mountinfo; then
		echo MemoryLimit
	else
		echo MemoryMax
	fi
}

sd_gone() { (($(systemctl list-units --all --no-legend "$1" | wc -l) == 0)); }

# sd_unit UNIT SLICE: UNIT is active in SLICE, its processes in its cgroup.
sd_unit() {
	local u=$1 slice=$2 cg pid
	assert_eq "$(sd_prop "$u" ActiveState)" active "$u ActiveState"
	assert_eq "$(sd_prop "$u" Slice)" "$slice" "$u Slice"
	assert_eq "$(sd_prop "$u" Delegate)" yes "$u Delegate"
	cg=$(sd_prop "$u" ControlGroup)
	[[ $cg == */"$u" ]] || fail "$u ControlGroup: $cg"
	pid=$(head -n1 "$(cg2_mount)$cg/cgroup.procs")
	[[ -n $pid ]] || fail "no process in $u ($cg)"
	assert_eq "$(sed -n 's/^0:://p' "/proc/$pid/cgroup")" "$cg" "cgroup of $u's process $pid"
}

# sd_limits UNIT MEMORY PIDS: the limits in the unit and in the cgroup
# files (either layout); PIDS empty: not checked.
sd_limits() {
	local u=$1 mem=$2 pids=$3 pid
	assert_eq "$(sd_prop "$u" "$(sd_memprop)")" "$mem" "$u $(sd_memprop)"
	pid=$(head -n1 "$(cg2_mount)$(sd_prop "$u" ControlGroup)/cgroup.procs")
	assert_eq "$(cg_limit "$pid" memory)" "$mem" "memory limit of $u's cgroup"
	if [[ -n $pids ]]; then
		assert_eq "$(sd_prop "$u" TasksMax)" "$pids" "$u TasksMax"
		assert_eq "$(cg_limit "$pid" pids)" "$pids" "pids limit of $u's cgroup"
	fi
}

# ---------------------------------------------------------------------------
# podman

# podman (conmon, or skiff-shim with SD_SHIM=1): -d with limits, exec,
# pause, top, update, daemon-reload, stop, rm.
sd_podman() {
	local pm_=(sd_pm) name=s1
	[[ -n ${SD_SHIM:-} ]] && pm_=(sd_pm --conmon "$REPO/shim/skiff-shim") name=s2
	expect_ok "${pm_[@]}" run -d --name $name --network none --memory 64m --pids-limit 50 "$IMG" sleep 1000
	local id u
	id=$("${pm_[@]}" inspect -f '{{.Id}}' $name)
	u=libpod-$id.scope
	grep -q -- "--systemd-cgroup.* create .*$id" "$CL/calls.log" || fail "no create --systemd-cgroup of $id"
	if [[ -n ${SD_SHIM:-} ]]; then
		expect_ok "${pm_[@]}" inspect -f '{{.ConmonPidFile}}' $name
		local shim
		shim=$(<"$out")
		[[ $(cat "/proc/$shim/comm") == skiff-shim ]] || fail "the monitor is not skiff-shim"
		# podman puts the monitor in a scope of its own.
		assert_eq "$(sed -n 's/^0:://p' "/proc/$shim/cgroup")" "/machine.slice/libpod-conmon-$id.scope" \
			"skiff-shim's cgroup"
	fi
	sd_unit "$u" machine.slice
	sd_limits "$u" 67108864 50
	expect_ok "${pm_[@]}" exec $name sh -c 'echo in-container'
	assert_eq "$out" in-container
	expect_ok "${pm_[@]}" pause $name
	expect_ok "${pm_[@]}" unpause $name
	expect_ok "${pm_[@]}" top $name
	assert_contains "$out" "sleep 1000"
	# podman's update passes no --systemd-cgroup: the unit is in skiff's state.
	expect_ok "${pm_[@]}" update --memory 96m $name
	sd_limits "$u" 100663296 ""
	expect_ok systemctl daemon-reload
	sd_limits "$u" 100663296 50
	expect_ok "${pm_[@]}" stop -t 1 $name
	expect_ok "${pm_[@]}" rm $name
	wait_until 20 "unit $u to go" sd_gone "$u"
	expect_ok "${pm_[@]}" run --rm --network none "$IMG" echo hello
	assert_eq "$out" hello
	expect_status 3 "${pm_[@]}" run --rm --network none "$IMG" sh -c 'exit 3'
	expect_ok systemctl list-units --all --no-legend 'libpod-*'
	[[ $out != *libpod-[0-9a-f]*.scope* ]] || fail "units left: $out"
}
test_sdcg_podman() { sd_podman; }
test_sdcg_podman_skiff_shim() {
	[[ -x $REPO/shim/skiff-shim ]] || skip "skiff-shim is not built"
	SD_SHIM=1 sd_podman
}

# ---------------------------------------------------------------------------
# ctr

test_sdcg_ctr() {
	expect_ok sd_ct run -d --runc-binary "$CL/skiff" --runc-systemd-cgroup --cgroup system.slice:ctr:t10 \
		--memory-limit 67108864 "$IMG" t10 sleep 1000
	local u=ctr-t10.scope
	sd_unit $u system.slice
	sd_limits $u 67108864 ""
	expect_ok sd_ct tasks exec --exec-id e1 t10 sh -c 'echo in-container'
	assert_eq "$out" in-container
	expect_ok sd_ct tasks pause t10
	expect_ok sd_ct tasks resume t10
	expect_ok sd_ct tasks kill -s KILL t10
	wait_until 20 "t10 to stop" sd_ct_stopped t10
	expect_ok sd_ct tasks rm t10
	expect_ok sd_ct containers rm t10
	wait_until 20 "unit $u to go" sd_gone "$u"
}

# ---------------------------------------------------------------------------
# docker

test_sdcg_docker_run_rm() {
	expect_ok sd_dkrun --rm "$IMG" echo hello
	assert_eq "$out" hello
	expect_status 3 sd_dkrun --rm "$IMG" sh -c 'exit 3'
	expect_status 127 sd_dkrun --rm "$IMG" /nonexistent
	expect_status 126 sd_dkrun --rm "$IMG" /etc/passwd
	expect_ok sd_dk ps -aq
	assert_eq "$out" "" "containers left by --rm"
	grep -q -- "--systemd-cgroup.* create " "$CL/calls.log" || fail "docker did not pass --systemd-cgroup"
	expect_ok systemctl list-units --all --no-legend 'docker-*'
	[[ $out != *docker-[0-9a-f]*.scope* ]] || fail "units left: $out"
}

test_sdcg_docker_limits() {
	expect_ok sd_dkrun -d --name dl --memory 64m --pids-limit 50 "$IMG" sleep 1000
	local id u
	id=$(sd_dk inspect -f '{{.Id}}' dl)
	u=docker-$id.scope
	sd_unit "$u" system.slice
	sd_limits "$u" 67108864 50
	expect_ok sd_dk exec dl sh -c 'echo in-container; cat /proc/1/cmdline | tr "\0" " "'
	assert_eq "$out" $'in-container\nsleep 1000 '
	expect_status 7 sd_dk exec dl sh -c 'exit 7'
	expect_ok sd_dk pause dl
	expect_ok sd_dk unpause dl
	# docker sends its whole resources block (0 for "unset").
	expect_ok sd_dk update --memory 96m --memory-swap 128m --pids-limit 70 dl
	sd_limits "$u" 100663296 70
	expect_ok systemctl daemon-reload
	sd_limits "$u" 100663296 70
	expect_ok sd_dk stop -t 1 dl
	expect_ok sd_dk inspect -f '{{.State.Status}} {{.State.ExitCode}}' dl
	assert_eq "$out" "exited 137" "sleep ignores TERM as pid 1: stop had to KILL it"
	wait_until 20 "unit $u to go" sd_gone "$u"
	expect_ok sd_dk rm dl
	sd_gone "$u" || fail "unit $u left after rm"
}

# ---------------------------------------------------------------------------
# The CRI path

# Called by cri_pod.py's hook while the pod runs: STAGE POD APP SIDE.
sd_cri_hook() {
	local stage=$1 id mem=67108864
	shift
	for id in "$@"; do
		sd_unit "cri-containerd-$id.scope" "$SD_POD_SLICE"
		assert_eq "$(sd_prop "cri-containerd-$id.scope" ControlGroup)" "$SD_POD_CG/cri-containerd-$id.scope"
	done
	[[ $stage == updated ]] && mem=100663296
	sd_limits "cri-containerd-$2.scope" $mem ""
}

# A kubelet pod (sandbox, two long-running containers, one that exits)
# through HANDLER: stats, a memory limit and its update, stop, removal.
sd_cri_pod() {
	local handler=$1
	cat >"$T/hook" <<EOF
#!/bin/bash
set -eEuo pipefail
. '$REPO/tests/clients/lib.sh'
. '$REPO/tests/clients/t_sdcg.sh'
sd_cri_hook "\$@"
EOF
	chmod 755 "$T/hook"
	local before
	before=$(wc -l <"$CL/calls.log")
	expect_ok /usr/bin/python3 "$REPO/tests/clients/cri/cri_pod.py" --socket "$CL/ctd/containerd.sock" \
		--handler "$handler" --image "$IMG" --log-dir "$T/logs" --cgroup-parent "$SD_POD_CG" --one-shim \
		--memory-limit 67108864 --update-memory 100663296 --hook "$T/hook"
	printf '%s\n' "$out"
	assert_contains "$out" "hook updated: ok"
	assert_contains "$out" "RemovePodSandbox"
	# The handler's shim and options made the calls: its Root; runc's
	# shim alone passes --log.
	local creates
	creates=$(tail -n +"$((before + 1))" "$CL/calls.log" | grep -- " create --bundle ")
	grep -- "--root $CL/$handler-root/k8s.io " <<<"$creates" | grep -q -- "--systemd-cgroup.* create " ||
		fail "no create --systemd-cgroup through $handler: $creates"
	if [[ $handler == skiff-shim ]]; then
		[[ $creates != *" --log "* ]] || fail "runc's shim served handler $handler: $creates"
	fi
	expect_ok sd_ct -n k8s.io containers ls -q
	assert_eq "$out" "" "containers left"
	expect_ok systemctl list-units --all --no-legend 'cri-containerd-*'
	assert_eq "$out" "" "units left"
	[[ ! -d $(cg2_mount)$SD_POD_CG ]] || systemctl stop "$SD_POD_SLICE"
}
test_sdcg_cri_pod() { sd_cri_pod skiff; }
test_sdcg_cri_skiff_shim_pod() {
	[[ -x $CTRD_SHIM ]] || skip "containerd-shim-skiff-v2 is not built"
	sd_cri_pod skiff-shim
}

test_sdcg_runtime_calls() {
	check_calls sdcg
}
