# shellcheck shell=bash
# $out, $err and $status come from lib.sh's run; single quotes hold jq and sh code.
# shellcheck disable=SC2154,SC2016
# Attacks from inside a container (docs/security.md).  CVE-2019-5736: a
# process of the container gets a handle on a process that runs skiff's
# binary (the init of a created container, the child of exec before its
# execve, or skiff itself run through "#!/proc/self/exe") and writes into
# the file once skiff has exited.  The victim is a copy of the binary under
# test; each attack must have caught a process, so that a pass means the
# write was refused, not that the race was lost.

# The attacker (helpers/overwrite.c), static, built once per run.
_overwrite() {
	OVERWRITE=$SK_CACHE/overwrite
	[[ -x $OVERWRITE ]] && return 0
	cc -O2 -static -o "$OVERWRITE.$$" "$REPO/tests/integration/helpers/overwrite.c" || fail "cannot build overwrite"
	mv "$OVERWRITE.$$" "$OVERWRITE"
}

# victim_bundle DIR: a bundle running `sleep 1000` with the attacker in it,
# and $V, the copy of skiff that the attacks aim at ($V_SUM: its checksum).
victim_bundle() {
	_overwrite
	mk_bundle "$1" sleep 1000
	cfg_edit "$1" '.root.readonly = false'
	cp "$OVERWRITE" "$1/rootfs/bin/overwrite"
	printf '#!/proc/self/exe\n' >"$1/rootfs/bin/evil"
	chmod 755 "$1/rootfs/bin/evil"
	# The image brings what skiff's binary needs to run in it: the dynamic
	# loader and the libraries (an attacker's image would).
	local lib
	for lib in $(ldd "$SKIFF" | grep -o '/[^ ]*'); do
		mkdir -p "$1/rootfs${lib%/*}"
		cp -L "$lib" "$1/rootfs$lib"
	done
	V=$T/skiff-victim
	if [[ ! -e $V ]]; then
		cp "$SKIFF" "$V"
		V_SUM=$(cksum <"$V")
	fi
}

vk() { "$V" --root "$ROOT" "$@"; }

# wait_lines FILE N: until FILE has N lines (20 s at most).
wait_lines() {
	local i n
	for ((i = 0; i < 400; i++)); do
		if [[ -e $1 ]]; then
			mapfile -t lines <"$1"
			n=${#lines[@]}
			((n >= $2)) && return 0
		fi
		sleep 0.05
	done
	fail "$1 has not $2 lines: [$(cat "$1" 2>/dev/null)]"
}

victim_intact() {
	[[ $(cksum <"$V") == "$V_SUM" ]] || fail "the host's binary was rewritten from the container ($1): $(head -c 40 "$V" | tr -d '\0')"
}

test_security_created_init_exe_is_read_only() {
	victim_bundle "$T/c"
	expect_ok vk create --bundle "$T/c" c
	# With CAP_SYS_PTRACE the attacker may open the init's exe although it is
	# not dumpable: what stops it then is that the file is sealed.
	expect_ok vk exec -d --cap CAP_SYS_PTRACE c /bin/overwrite hold 1 /ptrace.out
	# With the default capabilities it may not even open it.
	expect_ok vk exec -d c /bin/overwrite hold 1 /default.out
	wait_lines "$T/c/rootfs/default.out" 1
	assert_eq "$(<"$T/c/rootfs/default.out")" "open: EACCES" "default capabilities"
	wait_lines "$T/c/rootfs/ptrace.out" 1
	expect_ok vk start c
	wait_lines "$T/c/rootfs/ptrace.out" 2
	assert_eq "$(<"$T/c/rootfs/ptrace.out")" $'caught /proc/1/exe\nwrite: EROFS' "CAP_SYS_PTRACE"
	victim_intact "created container's init"
	expect_ok vk delete -f c
}

# scan_attack NAME CMD [EXEC FLAGS...]: the attacker scans /proc while
# `exec c CMD` runs again and again; it must catch one.
scan_attack() {
	local name=$1 cmd=$2 i
	shift 2
	expect_ok vk exec -d "$@" c /bin/overwrite scan "$(stat -c %i "$V")" "/$name.out"
	for ((i = 0; i < 40; i++)); do
		run vk exec c "$cmd"
		[[ -s $T/c/rootfs/$name.out ]] && break
	done
	wait_lines "$T/c/rootfs/$name.out" 2
	assert_match "$(<"$T/c/rootfs/$name.out")" $'^caught /proc/[0-9]+/exe -> .*\nwrite: EROFS$' "$name"
	victim_intact "$name"
}

test_security_exec_exe_is_read_only() {
	victim_bundle "$T/c"
	expect_ok vk run -d --bundle "$T/c" c
	# The child of exec, caught before its execve (it is not dumpable:
	# only CAP_SYS_PTRACE opens its exe).
	scan_attack exec /bin/true --cap CAP_SYS_PTRACE
	# The original attack: the container's binary is "#!/proc/self/exe", so
	# that exec runs skiff's binary in the container, dumpable, with the
	# container's own credentials.
	scan_attack evil /bin/evil
	expect_ok vk delete -f c
}

test_security_sealed_copy_kinds() {
	# Run as root: a detached read-only bind mount of the binary, no copy.
	expect_fail 255 sk --debug exec nope true
	assert_contains "$err" 'msg="running from a detached read-only bind mount"'
	# Without the right to mount (a user namespace of its own): a sealed
	# memfd copy.
	command -v unshare >/dev/null || skip "no unshare(1)"
	run unshare -U -r "$SKIFF" --root "$ROOT" --debug exec nope true
	assert_contains "$err" 'msg="running from a write-sealed memfd"'
	assert_contains "$err" 'container "nope" does not exist'
	# Commands that never clone into a container run the file as it is.
	expect_fail 1 sk --debug state nope
	assert_not_contains "$err" "running from"
}

# Files the caller names (config.json, --process, --resources) may be
# anything; a FIFO must be refused at once, not read until a writer comes.
test_security_fifo_instead_of_a_file() {
	mk_bundle "$T/c" sleep 1000
	mv "$T/c/config.json" "$T/config.json"
	mkfifo "$T/c/config.json"
	expect_fail 1 timeout 10 "$SKIFF" --root "$ROOT" create --bundle "$T/c" c
	assert_eq "$err" "skiff create: config.json: not a regular file"
	expect_fail 1 timeout 10 "$SKIFF" --root "$ROOT" run --bundle "$T/c" c
	assert_eq "$err" "skiff run: config.json: not a regular file"
	expect_fail 1 timeout 10 "$SKIFF" validate --bundle "$T/c"
	rm "$T/c/config.json"
	mv "$T/config.json" "$T/c/config.json"
	expect_ok sk run -d --bundle "$T/c" c
	mkfifo "$T/p.json"
	# exec -p takes a pipe, as runc (`-p <(...)`): a FIFO nobody writes is
	# read at once as empty (non-blocking open), never waited on.
	expect_fail 255 timeout 10 "$SKIFF" --root "$ROOT" exec --process "$T/p.json" c
	assert_eq "$err" "skiff exec: $T/p.json: file is empty"
	expect_fail 1 timeout 10 "$SKIFF" --root "$ROOT" update --resources "$T/p.json" c
	assert_eq "$err" "skiff update: $T/p.json: not a regular file"
	expect_ok sk delete -f c
}

# CVE-2024-21626: a cwd through /proc/self/fd/N reaches a host directory when
# the runtime leaks one into the init or the exec child.  skiff closes them
# and checks the cwd is inside the root: never started, whatever N.
test_security_cwd_through_leaked_fds() {
	local n
	mk_bundle "$T/c" sh -c 'echo started'
	for n in 3 4 5 6 7 8 9 10 11 12; do
		cfg_edit "$T/c" '.process.cwd = $d' --arg d "/proc/self/fd/$n"
		run sk run --bundle "$T/c" "c$n"
		((status == 1)) || fail "cwd /proc/self/fd/$n: run exited $status: $out $err"
		assert_not_contains "$out" started
	done
	cfg_edit "$T/c" '.process.cwd = "/" | .process.args = ["sleep", "1000"]'
	expect_ok sk run -d --bundle "$T/c" c
	for n in 3 4 5 6 7 8 9 10 11 12; do
		run sk exec --cwd "/proc/self/fd/$n" c sh -c 'echo started'
		((status != 0)) || fail "exec --cwd /proc/self/fd/$n ran: $out"
	done
	expect_ok sk delete -f c
	assert_empty_dir "$ROOT"
}

# CVE-2022-29162: exec --cap must not fill the inheritable set (nor the
# ambient one without an inheritable set in the config).
test_security_exec_caps_not_inheritable() {
	mk_bundle "$T/c" sleep 1000
	expect_ok sk run -d --bundle "$T/c" c
	expect_ok sk exec --cap CAP_NET_RAW --cap CAP_SYS_ADMIN c grep -E '^Cap(Inh|Amb|Eff)' /proc/self/status
	assert_eq "$out" $'CapInh:\t0000000000000000\nCapEff:\t0000000020202420\nCapAmb:\t0000000000000000'
	expect_ok sk delete -f c
}

# The 2025 maskedPaths advisory (CVE-2025-31133): the image's /dev/null is a
# link to a procfs file, so that "masking" binds that file writable over the
# masked path.  skiff masks files only with the real null device.
test_security_masked_path_with_a_fake_dev_null() {
	local f
	for f in link file; do
		mk_bundle "$T/$f" true
		mkdir -p "$T/$f/devdir"
		echo s3cret >"$T/$f/rootfs/etc/secret"
		if [[ $f == link ]]; then
			ln -s /proc/sys/kernel/core_pattern "$T/$f/devdir/null"
		else
			: >"$T/$f/devdir/null"
		fi
		cfg_edit "$T/$f" '.mounts |= map(select(.destination != "/dev"))
			| .mounts += [{destination: "/dev", type: "bind", source: "devdir", options: ["rbind"]}]
			| .linux.maskedPaths = ["/etc/secret"]'
		expect_fail 1 sk run --bundle "$T/$f" "$f"
		assert_eq "$err" 'skiff run: masked path "/etc/secret": /dev/null is not the null device'
	done
	assert_empty_dir "$ROOT"
}

# CVE-2019-16884 / CVE-2023-27561: the init writes /proc/sys and
# /proc/self/attr; a /proc that is not procfs must not take those writes.
test_security_fake_proc_refused() {
	mk_bundle "$T/c" true
	cfg_edit "$T/c" '.mounts |= map(if .destination == "/proc" then {destination: "/proc", type: "tmpfs", source: "tmpfs"} else . end)
		| .linux.sysctl = {"kernel.shmmax": "1000000"}'
	expect_fail 1 sk run --bundle "$T/c" c
	assert_contains "$err" '"/proc" is not a procfs mount'
	assert_empty_dir "$ROOT"
}

# --no-pivot leaves the host's mounts under the rootfs in the container's
# mount namespace.  The kernel lets a nested user namespace mount a fresh
# procfs (or sysfs) when the namespace holds a full one with nothing over
# it: the host's /proc would do, and the new mount would have none of the
# masked paths.  The container's user (not root: mapping root needs
# CAP_SETFCAP) makes a user, mount, pid and network namespace and tries.
test_security_no_pivot_fresh_procfs_refused() {
	mk_bundle "$T/c" sh -c 'unshare -rmpnf sh -c "
		echo inside \$(id -u)
		mount -t proc proc /tmp 2>/dev/null && echo proc mounted || echo proc refused
		mount -t sysfs sysfs /mnt 2>/dev/null && echo sysfs mounted || echo sysfs refused"'
	mkdir -p "$T/c/rootfs/mnt"
	cfg_edit "$T/c" '.process.user = {uid: 1000, gid: 1000}'
	local how
	for how in --no-pivot ""; do
		expect_ok sk run $how --bundle "$T/c" c
		# The nested namespaces were made: a refusal is the kernel's.
		assert_contains "$out" "inside 0" "run $how"
		assert_contains "$out" "proc refused" "run $how"
		assert_contains "$out" "sysfs refused" "run $how"
	done
	assert_empty_dir "$ROOT"
}
