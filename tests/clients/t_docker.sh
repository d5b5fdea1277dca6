# shellcheck shell=bash disable=SC2154
# docker 20.10 (dockerd with its own containerd) running skiff as its
# default runtime, through the logging wrapper: `--add-runtime skiff=...
# --default-runtime skiff` (the name "runc" is docker's own), private
# data-root, exec-root and socket, and no networking of any kind.
# (run() in lib.sh sets $out, $err and $status.)

lean_tests=(test_docker_run_rm_exit_codes test_docker_memory_and_update test_docker_pids_limit)

# Debian's client: /usr/local/bin may hold another docker CLI.
DOCKER=/usr/bin/docker

missing_docker() {
	[[ -x /usr/sbin/dockerd && -x $DOCKER ]] || echo "docker.io is not installed (make deps-clients)"
}

dk() { "$DOCKER" -H "unix://$CL/docker.sock" "$@"; }

setup_docker() {
	mkdir -p "$CL/data" "$CL/exec"
	echo '{}' >"$CL/daemon.json"
	# TMPDIR: docker writes exec process specs there; keep them private.
	mkdir -p "$CL/tmp"
	TMPDIR=$CL/tmp dockerd --config-file "$CL/daemon.json" --data-root "$CL/data" --exec-root "$CL/exec" \
		-H "unix://$CL/docker.sock" --pidfile "$CL/docker.pid" \
		--add-runtime "skiff=$CL/skiff" --default-runtime skiff \
		--bridge none --iptables=false --ip6tables=false --ip-masq=false --ip-forward=false \
		--userland-proxy=false --storage-driver overlay2 --log-level warn \
		</dev/null >"$CL/dockerd.log" 2>&1 &
	local end=$((SECONDS + 120))
	until dk version >/dev/null 2>&1; do
		if ((SECONDS > end)) || ! kill -0 $! 2>/dev/null; then
			tail -n 20 "$CL/dockerd.log"
			echo "dockerd did not come up"
			return 1
		fi
		sleep 0.3
	done
	dk load -i "$IMAGES/busybox.tar"
}

teardown_docker() {
	local ids
	ids=$(dk ps -aq 2>/dev/null)
	# shellcheck disable=SC2086  # one id per word
	[[ -z $ids ]] || dk rm -f $ids
	cl_stop_daemon "$CL/docker.pid" dockerd
	unmount_under "$CL"
}

dk_sleeper() {
	expect_ok dk run -d --name "$1" --network none "${@:2}" "$IMG" sleep 1000
}

test_docker_run_rm_exit_codes() {
	expect_ok dk run --rm --network none "$IMG" echo hello
	assert_eq "$out" hello
	expect_status 3 dk run --rm --network none "$IMG" sh -c 'exit 3'
	expect_status 127 dk run --rm --network none "$IMG" /nonexistent
	expect_status 126 dk run --rm --network none "$IMG" /etc/passwd
	expect_ok dk ps -aq
	assert_eq "$out" "" "containers left by --rm"
}

test_docker_detached_exec() {
	dk_sleeper dt
	expect_ok dk exec dt sh -c 'echo in-container; cat /proc/1/cmdline | tr "\0" " "'
	assert_eq "$out" $'in-container\nsleep 1000 '
	expect_status 7 dk exec dt sh -c 'exit 7'
	expect_status 126 dk exec dt nosuchcommand
	expect_ok dk exec -t dt tty
	assert_match "$out" '^/dev/pts/[0-9]+'
	expect_ok dk top dt
	assert_contains "$out" "sleep 1000"
	expect_ok dk pause dt
	expect_ok dk inspect -f '{{.State.Status}}' dt
	assert_eq "$out" paused
	expect_ok dk unpause dt
	expect_ok dk exec dt true
	expect_ok dk stop -t 1 dt
	expect_ok dk inspect -f '{{.State.Status}} {{.State.ExitCode}}' dt
	assert_eq "$out" "exited 137" "sleep ignores TERM as pid 1: stop had to KILL it"
	expect_ok dk rm dt
}

# Every docker container has a prestart hook (libnetwork-setkey, run as
# dockerd's own binary), even with --network none: it hands the
# container's network namespace to dockerd, which binds it at SandboxKey.
test_docker_prestart_hook() {
	dk_sleeper hk
	local pid key
	expect_ok dk inspect -f '{{.State.Pid}} {{.NetworkSettings.SandboxKey}}' hk
	read -r pid key <<<"$out"
	[[ -n $key && -e $key ]] || fail "no sandbox key: [$out]"
	assert_eq "$(stat -L -c %i "$key")" "$(stat -L -c %i "/proc/$pid/ns/net")" \
		"the netns dockerd holds (set by the hook) vs the container's"
	expect_ok dk rm -f hk
}

test_docker_terminal_and_stdin() {
	expect_ok dk run --rm -t --network none "$IMG" tty
	assert_match "$out" '^/dev/pts/[0-9]+'
	run dk run --rm -i --network none "$IMG" cat <<<"through stdin"
	((status == 0)) || fail "run -i: $err"
	assert_eq "$out" "through stdin"
	expect_ok script -qec "$(printf '%q ' "$DOCKER" -H "unix://$CL/docker.sock") run --rm -it --network none $IMG sh -c 'tty; echo done'" /dev/null
	assert_match "$out" '/dev/pts/[0-9]+'
	assert_contains "$out" done
}

test_docker_read_only_user_caps_init() {
	expect_ok dk run --rm --network none --read-only "$IMG" sh -c 'touch /x 2>&1; echo rc=$?'
	assert_contains "$out" "Read-only file system"
	expect_ok dk run --rm --network none --user 1000:1000 "$IMG" id
	assert_contains "$out" "uid=1000(user) gid=1000(user)"
	expect_ok dk run --rm --network none --cap-drop all "$IMG" sh -c 'grep ^CapEff /proc/self/status'
	assert_eq "$out" $'CapEff:\t0000000000000000'
	expect_ok dk run --rm --network none --init "$IMG" sh -c 'cat /proc/1/cmdline | tr "\0" " "'
	assert_contains "$out" "/sbin/docker-init -- sh -c" "docker's init (tini) as pid 1"
}

test_docker_logs_wait_restart() {
	expect_ok dk run -d --name lw --network none "$IMG" sh -c 'echo out; exit 5'
	expect_ok dk wait lw
	assert_eq "$out" 5
	expect_ok dk logs lw
	assert_eq "$out" out
	expect_ok dk restart -t 1 lw
	expect_ok dk wait lw
	assert_eq "$out" 5
	expect_ok dk logs lw
	assert_eq "$out" $'out\nout'
	expect_ok dk rm lw
}

# The limit of container NAME's cgroup, read from the host side.
dk_limit() {
	expect_ok dk inspect -f '{{.State.Pid}}' "$1"
	cg_limit "$out" "$2"
}

test_docker_memory_and_update() {
	need_limits
	dk_sleeper mem --memory 64m
	assert_eq "$(dk_limit mem memory)" 67108864 "memory limit"
	# docker sends its whole resources block, with 0 for "unset".
	expect_ok dk update --memory 96m --memory-swap 128m mem
	assert_eq "$(dk_limit mem memory)" 100663296 "memory limit after update"
	expect_ok dk rm -f mem
}

test_docker_pids_limit() {
	need_limits
	dk_sleeper pl --pids-limit 5
	assert_eq "$(dk_limit pl pids)" 5 "pids limit"
	expect_ok dk rm -f pl
	dk_sleeper un --pids-limit -1
	assert_eq "$(dk_limit un pids)" max "pids limit of --pids-limit -1"
	expect_ok dk exec un sh -c 'sleep 0 & wait; echo forked'
	assert_eq "$out" forked
	expect_ok dk rm -f un
}

test_docker_runtime_calls() {
	check_calls docker
}
