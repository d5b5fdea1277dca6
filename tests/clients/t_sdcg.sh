# shellcheck shell=bash disable=SC2154
# The clients with their systemd cgroup driver against skiff's
# (--systemd-cgroup, docs/cgroups.md), where systemd is PID 1:
#   tests/vm/run --systemd tests/clients/run sdcg
# podman with its default cgroup manager (systemd: cgroupsPath
# machine.slice:libpod:ID), and containerd's runc shim with SystemdCgroup
# through `ctr run --runc-systemd-cgroup --cgroup slice:prefix:name`.
# (run() in lib.sh sets $out, $err and $status.)

lean_tests=(test_sdcg_podman test_sdcg_ctr)

missing_sdcg() {
	[[ -d /run/systemd/system ]] || { echo "systemd is not PID 1 here (tests/vm/run --systemd runs these)"; return; }
	local b
	for b in podman conmon containerd ctr systemctl; do
		command -v "$b" >/dev/null || { echo "$b is not installed (make deps-clients)"; return; }
	done
}

sd_pm_argv=(podman --root "$CL/root" --runroot "$CL/runroot" --tmpdir "$CL/tmp" --runtime "$CL/skiff"
	--events-backend file --storage-driver overlay)
sd_pm() { "${sd_pm_argv[@]}" "$@"; }

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
	sd_pm load -i "$IMAGES/busybox.tar" || return 1
	cl_containerd "$CL/ctd" 'disabled_plugins = ["io.containerd.grpc.v1.cri"]' || return 1
	sd_ct images import "$IMAGES/busybox.tar"
}

teardown_sdcg() {
	sd_pm rm -af -t 0
	sd_pm rmi -af
	local c
	for c in $(sd_ct tasks ls -q 2>/dev/null); do
		sd_ct tasks kill -s KILL "$c"
	done
	for c in $(sd_ct containers ls -q 2>/dev/null); do
		sd_ct tasks rm -f "$c"
		sd_ct containers rm "$c"
	done
	cl_stop_daemon "$CL/ctd/containerd.pid" containerd
	unmount_under "$CL"
}

sd_ct() { ctr --address "$CL/ctd/containerd.sock" "$@"; }

sd_prop() { systemctl show -p "$2" --value "$1"; }

sd_no_unit() {
	local n
	n=$(systemctl list-units --all --no-legend "$1" | wc -l)
	((n == 0)) || fail "unit $1 left: $(systemctl list-units --all --no-legend "$1")"
}

test_sdcg_podman() {
	expect_ok sd_pm run -d --name s1 --network none --memory 64m --pids-limit 50 "$IMG" sleep 1000
	local id u
	id=$(sd_pm inspect -f '{{.Id}}' s1)
	u=libpod-$id.scope
	grep -q -- "--systemd-cgroup" "$CL/calls.log" || fail "podman did not pass --systemd-cgroup"
	assert_eq "$(sd_prop "$u" Slice)" machine.slice
	assert_eq "$(sd_prop "$u" MemoryMax)" 67108864
	assert_eq "$(sd_prop "$u" TasksMax)" 50
	expect_ok sd_pm inspect -f '{{.State.Pid}}' s1
	assert_eq "$(cg_limit "$out" memory)" 67108864
	assert_eq "$(sed -n 's/^0:://p' "/proc/$out/cgroup")" "/machine.slice/$u"
	expect_ok sd_pm exec s1 sh -c 'echo in-container'
	assert_eq "$out" in-container
	expect_ok sd_pm pause s1
	expect_ok sd_pm unpause s1
	expect_ok sd_pm top s1
	assert_contains "$out" "sleep 1000"
	expect_ok sd_pm stop -t 1 s1
	expect_ok sd_pm rm s1
	wait_until 10 sd_gone "$u"
}

sd_gone() { (($(systemctl list-units --all --no-legend "$1" | wc -l) == 0)); }

test_sdcg_ctr() {
	expect_ok sd_ct run -d --runc-binary "$CL/skiff" --runc-systemd-cgroup --cgroup system.slice:ctr:t10 \
		--memory-limit 67108864 "$IMG" t10 sleep 1000
	local u=ctr-t10.scope
	assert_eq "$(sd_prop $u MemoryMax)" 67108864
	assert_eq "$(sd_prop $u Delegate)" yes
	expect_ok sd_ct tasks exec --exec-id e1 t10 sh -c 'echo in-container'
	assert_eq "$out" in-container
	expect_ok sd_ct tasks pause t10
	expect_ok sd_ct tasks resume t10
	expect_ok sd_ct tasks kill -s KILL t10
	wait_until 20 sh -c "! ctr --address '$CL/ctd/containerd.sock' tasks ls | grep -q RUNNING"
	expect_ok sd_ct tasks rm t10
	expect_ok sd_ct containers rm t10
	wait_until 10 sd_gone "$u"
}
