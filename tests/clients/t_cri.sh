# shellcheck shell=bash disable=SC2154
# The Kubernetes path: containerd 1.6's CRI plugin with skiff as a runtime
# handler (io.containerd.runc.v2, BinaryName the logging wrapper), driven
# by cri/cri_pod.py making kubelet's calls for one pod: a host-network
# sandbox (no CNI), containers, ExecSync, the CRI log file, ContainerStats
# and ListContainerStats, stop, removal; and containerd restarted mid-pod.
# The sandbox ("pause") image is busybox-static too.
# (run() in lib.sh sets $out, $err and $status.)

lean_tests=(test_cri_pod_lifecycle)

# The pod's cgroup parent (kubelet would name one under kubepods).
CRI_CG=/skiff-cri-${BASE##*.}

missing_cri() {
	local b
	for b in containerd ctr containerd-shim-runc-v2; do
		command -v "$b" >/dev/null || { echo "$b is not installed (Debian package containerd; make deps-clients)"; return; }
	done
	/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null ||
		echo "the CRI client needs python3-grpcio and python3-grpc-tools (make deps-clients)"
}

# containerd's config, the same at setup and at a restart.
cri_config() {
	local cri='plugins."io.containerd.grpc.v1.cri"' bnd restrict=false
	# Without CAP_SYS_RESOURCE (this development host's bounding set lacks
	# it) no runtime may lower an oom_score_adj below containerd's own, as
	# the sandbox's -998 would: containerd's setting for that case (a
	# rootless containerd's), instead of a refused sandbox.
	bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
	(((16#$bnd >> 24) & 1)) || restrict=true
	printf '%s\n' "
[$cri]
  sandbox_image = \"$PAUSE_IMG\"
  restrict_oom_score_adj = $restrict
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
  Root = \"$CL/runc\"
[$cri.containerd.runtimes.skiff-shim]
  runtime_type = \"io.containerd.skiff.v2\"
[$cri.cni]
  bin_dir = \"$CL/cni/bin\"
  conf_dir = \"$CL/cni/conf\"
"
}

setup_cri() {
	mkdir -p "$CL/cni/bin" "$CL/cni/conf" "$CL/pods"
	cl_containerd "$CL" "$(cri_config)" || return 1
	ct -n k8s.io images import "$IMAGES/busybox.tar" &&
		ct -n k8s.io images import "$IMAGES/pause.tar"
}

teardown_cri() {
	local c
	for c in $(ct -n k8s.io tasks ls -q 2>/dev/null); do
		ct -n k8s.io tasks kill -s KILL "$c"
	done
	for c in $(ct -n k8s.io containers ls -q 2>/dev/null); do
		ct -n k8s.io tasks rm -f "$c"
		ct -n k8s.io containers rm "$c"
	done
	cl_stop_daemon "$CL/containerd.pid" containerd
	unmount_under "$CL"
	[[ -d $(cg2_mount)$CRI_CG ]] && rmdir "$(cg2_mount)$CRI_CG" 2>/dev/null
	return 0
}

# The pod through runc's shim (handler skiff) or containerd-shim-skiff-v2
# (handler skiff-shim), skiff behind both; a third container checks that
# the pod has one shim.
pod_lifecycle() {
	local handler=$1
	# containerd gives every sandbox cpu.shares 2 (kubelet's BestEffort):
	# a cpu setting skiff can only apply with the cpu controller.
	[[ -n ${CRI_NO_LIMITS:-} ]] || need_limits
	# kubelet names a pod's cgroup parent; this one is the test's own.
	expect_ok /usr/bin/python3 "$REPO/tests/clients/cri/cri_pod.py" --socket "$CL/containerd.sock" \
		--handler "$handler" --image "$IMG" --log-dir "$T/logs" --cgroup-parent "$CRI_CG" --one-shim
	printf '%s\n' "$out"
	assert_contains "$out" "RemovePodSandbox"
	# Every container went through skiff.
	grep -q ' create --bundle ' "$CL/calls.log" || fail "no create through skiff"
	expect_ok ct -n k8s.io containers ls -q
	assert_eq "$out" "" "containers left"
	[[ ! -d $(cg2_mount)$CRI_CG ]] || rmdir "$(cg2_mount)$CRI_CG"
}
test_cri_pod_lifecycle() { pod_lifecycle skiff; }
test_cri_skiff_shim_pod_lifecycle() { pod_lifecycle skiff-shim; }

# containerd restarted mid-pod (two containers and the sandbox in one
# shim, a third that exits meanwhile): the CRI client reconnects, and
# ListContainers, ContainerStatus (the exit code of the one that ended
# while containerd was down), ExecSync, ContainerStats, stop and removal
# all work.
restart_asked() { [[ -e $T/restart.ready ]] || grep -q '^FAIL' "$T/pod.out"; }
pod_restart() {
	local handler=$1
	[[ -n ${CRI_NO_LIMITS:-} ]] || need_limits
	/usr/bin/python3 -u "$REPO/tests/clients/cri/cri_pod.py" --socket "$CL/containerd.sock" \
		--handler "$handler" --image "$IMG" --log-dir "$T/logs" --cgroup-parent "$CRI_CG" --one-shim \
		--restart-hook "$T/restart" >"$T/pod.out" 2>&1 &
	local py=$!
	wait_until 180 "the pod before the restart" restart_asked
	[[ -e $T/restart.ready ]] || { cat "$T/pod.out"; fail "cri_pod.py failed before the restart"; }
	cl_stop_daemon "$CL/containerd.pid" containerd
	# The container that ends meanwhile (sleep 2) has ended.
	sleep 4
	cl_containerd "$CL" "$(cri_config)" >/dev/null
	touch "$T/restart.go"
	local st=0
	wait "$py" || st=$?
	cat "$T/pod.out"
	((st == 0)) || fail "cri_pod.py failed ($st)"
	assert_contains "$(<"$T/pod.out")" "ContainerStatus after the restart: exited meanwhile with 5"
	assert_contains "$(<"$T/pod.out")" "RemovePodSandbox"
	expect_ok ct -n k8s.io containers ls -q
	assert_eq "$out" "" "containers left"
	[[ ! -d $(cg2_mount)$CRI_CG ]] || rmdir "$(cg2_mount)$CRI_CG"
}
test_cri_pod_restart() { pod_restart skiff; }
test_cri_skiff_shim_pod_restart() { pod_restart skiff-shim; }

test_cri_runtime_calls() {
	check_calls cri
}
