# shellcheck shell=bash
# SC2154: out, err, status come from lib.sh's run; SC2016: jq programs and
# the containers' scripts are single-quoted on purpose.
# shellcheck disable=SC2154,SC2016
# Mounts, the rootfs and /dev (docs/mounts.md): each test runs a container
# that reports what it sees (its mountinfo, stat, writes that must fail)
# and checks it, then that nothing is left on the host.

# _mnt TEXT MOUNTPOINT: the last mountinfo line of TEXT at MOUNTPOINT.
_mnt() {
	local line found='' _a _b _c _d mp _rest
	while IFS= read -r line; do
		read -r _a _b _c _d mp _rest <<<"$line"
		[[ $mp == "$2" ]] && found=$line
	done <<<"$1"
	printf '%s' "$found"
}

# _opts LINE: the mount's per-mount options; _super LINE: fstype source super.
_opts() {
	local _a _b _c _d _e opts _rest
	read -r _a _b _c _d _e opts _rest <<<"$1"
	printf ',%s,' "$opts"
}
_super() { printf '%s' "${1#* - }"; }

# _has_mnt TEXT MOUNTPOINT [OPTION...] [type=FSTYPE]: fail unless it is there.
_has_mnt() {
	local text=$1 mp=$2 line o
	shift 2
	line=$(_mnt "$text" "$mp")
	[[ -n $line ]] || fail "no mount at $mp in: $text"
	for o in "$@"; do
		if [[ $o == type=* ]]; then
			[[ $(_super "$line") == "${o#type=} "* ]] || fail "$mp is not ${o#type=}: $line"
		else
			[[ $(_opts "$line") == *",$o,"* ]] || fail "$mp lacks $o: $line"
		fi
	done
}

# _bundle DIR SCRIPT: a bundle whose process runs SCRIPT with sh (from a
# file: mk_bundle's jq would take a "-c" argument for its own option).
_bundle() {
	mk_bundle "$1" sh /t.sh
	printf '%s\n' "$2" >"$1/rootfs/t.sh"
}

# _add_mount DIR JSON: append a mount to DIR/config.json.
_add_mount() { cfg_edit "$1" '.mounts += [$m]' --argjson m "$2"; }

test_mounts_default() {
	_bundle "$T/b" 'cat /proc/self/mountinfo; echo ===; ls /sys/kernel >/dev/null && echo sysfs-ok'
	expect_ok sk run -b "$T/b" c
	_has_mnt "$out" /
	_has_mnt "$out" /proc type=proc
	_has_mnt "$out" /dev type=tmpfs nosuid
	_has_mnt "$out" /dev/pts type=devpts nosuid noexec
	_has_mnt "$out" /dev/shm type=tmpfs nosuid nodev noexec
	_has_mnt "$out" /dev/mqueue type=mqueue nosuid nodev noexec
	_has_mnt "$out" /sys type=sysfs ro nosuid nodev noexec
	_has_mnt "$out" /sys/fs/cgroup ro nosuid nodev noexec
	_has_mnt "$out" /proc/sys ro
	assert_contains "$out" sysfs-ok
	[[ $(_super "$(_mnt "$out" /dev)") == *mode=755* ]] || fail "/dev: mode=755 not passed"
}

test_mounts_bind_ro() {
	_bundle "$T/b" 'cat /data/f /rel/g /etc/hostfile; touch /data/x 2>/dev/null || echo data-ro
		touch /rel/y && echo rel-rw; cat /proc/self/mountinfo'
	mkdir -p "$T/data" "$T/b/reldir"
	echo from-data >"$T/data/f"
	echo from-rel >"$T/b/reldir/g"
	echo a-file >"$T/hostfile"
	_add_mount "$T/b" '{"destination":"/data","type":"bind","source":"'"$T"'/data","options":["rbind","ro","nosuid"]}'
	_add_mount "$T/b" '{"destination":"/rel","source":"reldir","options":["bind"]}'
	_add_mount "$T/b" '{"destination":"/etc/hostfile","type":"bind","source":"../hostfile","options":["ro"]}'
	expect_ok sk run -b "$T/b" c
	assert_contains "$out" $'from-data\nfrom-rel\na-file\ndata-ro\nrel-rw'
	_has_mnt "$out" /data ro nosuid
	_has_mnt "$out" /rel rw
	_has_mnt "$out" /etc/hostfile ro
	[[ -e $T/b/reldir/y ]] || fail "the relative bind is not of the bundle's reldir"
	[[ ! -e $T/data/x ]] || fail "wrote through a read-only bind"
}

test_mounts_tmpfs_options() {
	_bundle "$T/b" 'stat -c %a /scratch; cat /etc/passwd | head -1; echo new >/etc/added
		cat /etc/added; cat /proc/self/mountinfo'
	_add_mount "$T/b" '{"destination":"/scratch","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","noexec","mode=700","size=1m"]}'
	_add_mount "$T/b" '{"destination":"/etc","type":"tmpfs","source":"tmpfs","options":["tmpcopyup","nosuid"]}'
	expect_ok sk run -b "$T/b" c
	assert_contains "$out" $'700\nroot:x:0:0:root:/root:/bin/sh\nnew'
	_has_mnt "$out" /scratch type=tmpfs nosuid nodev noexec
	assert_contains "$(_super "$(_mnt "$out" /scratch)")" "size=1024k"
	_has_mnt "$out" /etc type=tmpfs nosuid
	[[ ! -e $T/b/rootfs/etc/added ]] || fail "tmpcopyup wrote to the rootfs"
}

test_mounts_overlay_relative() {
	_bundle "$T/b" 'cat /ovl/f; echo up >/ovl/g; cat /proc/self/mountinfo'
	mkdir -p "$T/b/lower" "$T/b/upper" "$T/b/work"
	echo from-lower >"$T/b/lower/f"
	_add_mount "$T/b" '{"destination":"/ovl","type":"overlay","source":"overlay","options":["lowerdir=lower","upperdir=upper","workdir=work"]}'
	expect_ok sk run -b "$T/b" c
	assert_contains "$out" from-lower
	_has_mnt "$out" /ovl type=overlay
	assert_eq "$(<"$T/b/upper/g")" up "upper/g"
}

# An untrusted image holds a symlink where the config names a layer: the
# relative directories are opened beneath the bundle, never followed out.
test_mounts_overlay_relative_cannot_leave_the_bundle() {
	_bundle "$T/b" 'cat /ovl/f; echo written >/ovl/g'
	mkdir -p "$T/b/rootfs/lower" "$T/host" "$T/hostwork"
	echo from-lower >"$T/b/rootfs/lower/f"
	ln -s "$T/host" "$T/b/rootfs/up"
	ln -s "$T/hostwork" "$T/b/rootfs/work"
	_add_mount "$T/b" '{"destination":"/ovl","type":"overlay","source":"overlay","options":["lowerdir=rootfs/lower","upperdir=rootfs/up","workdir=rootfs/work"]}'
	local i
	i=$(cfg_get "$T/b" '.mounts | length - 1')
	expect_fail 1 sk run -b "$T/b" c
	assert_eq "$err" "skiff run: mounts[$i].options: overlay upperdir \"rootfs/up\" leads out of the bundle: EXDEV"
	[[ ! -e $T/host/g ]] || fail "the container wrote into the host's directory"
	# A link that stays inside the bundle is followed.
	rm "$T/b/rootfs/up" "$T/b/rootfs/work"
	mkdir "$T/b/rootfs/up.real" "$T/b/rootfs/work"
	ln -s up.real "$T/b/rootfs/up"
	expect_ok sk run -b "$T/b" c
	assert_eq "$out" from-lower
	assert_eq "$(<"$T/b/rootfs/up.real/g")" written
}

test_mounts_rro() {
	_bundle "$T/b" 'touch /r/x 2>/dev/null || echo top-ro; touch /r/sub/x 2>/dev/null || echo sub-ro
		touch /o/sub/x && echo plain-ro-is-not-recursive; cat /proc/self/mountinfo'
	mkdir -p "$T/src/sub"
	mount -t tmpfs tmpfs "$T/src/sub"
	_add_mount "$T/b" '{"destination":"/r","type":"bind","source":"'"$T"'/src","options":["rbind","rro"]}'
	_add_mount "$T/b" '{"destination":"/o","type":"bind","source":"'"$T"'/src","options":["rbind","ro"]}'
	run sk run -b "$T/b" c
	umount "$T/src/sub"
	((status == 0)) || fail "run exited $status: $err"
	assert_contains "$out" $'top-ro\nsub-ro\nplain-ro-is-not-recursive'
	_has_mnt "$out" /r ro
	_has_mnt "$out" /r/sub ro
	_has_mnt "$out" /o ro
	_has_mnt "$out" /o/sub rw
}

test_mounts_masked_readonly() {
	_bundle "$T/b" 'cat /etc/secret; echo "[$(ls /secretdir)]"; touch /etc/rodir/x 2>/dev/null || echo rodir-ro
		cat /proc/self/mountinfo'
	mkdir -p "$T/b/rootfs/secretdir" "$T/b/rootfs/etc/rodir"
	echo s3cret >"$T/b/rootfs/etc/secret"
	echo x >"$T/b/rootfs/secretdir/f"
	cfg_edit "$T/b" '.linux.maskedPaths += ["/etc/secret", "/secretdir", "/no/such/path"]
		| .linux.readonlyPaths += ["/etc/rodir", "/no/such/dir"]'
	expect_ok sk run -b "$T/b" c
	assert_not_contains "$out" s3cret
	assert_contains "$out" $'[]\nrodir-ro'
	_has_mnt "$out" /secretdir type=tmpfs ro
	_has_mnt "$out" /etc/rodir ro
	_has_mnt "$out" /etc/secret
	# The defaults of `skiff spec` that exist on this kernel.
	_has_mnt "$out" /proc/sys ro
	_has_mnt "$out" /sys/firmware type=tmpfs ro
}

test_mounts_masked_dirs_share_one_tmpfs() {
	# 500 masked directories (as a thermal_throttle per CPU on a large
	# node) are one read-only tmpfs superblock, bound onto each.
	_bundle "$T/b" 'cat /proc/self/mountinfo; touch /m/d7/x 2>/dev/null || echo d7-ro'
	local i
	for ((i = 0; i < 500; i++)); do mkdir -p "$T/b/rootfs/m/d$i"; done
	echo x >"$T/b/rootfs/m/d7/f"
	cfg_edit "$T/b" '.linux.maskedPaths += [range(500) | "/m/d\(.)"]'
	expect_ok sk run -b "$T/b" c
	assert_contains "$out" d7-ro
	_has_mnt "$out" /m/d0 type=tmpfs ro
	_has_mnt "$out" /m/d499 type=tmpfs ro
	local n sbs
	n=$(awk '$5 ~ "^/m/d[0-9]+$"' <<<"$out" | wc -l)
	sbs=$(awk '$5 ~ "^/m/d[0-9]+$" {print $3}' <<<"$out" | sort -u | wc -l)
	((n == 500)) || fail "$n masked dirs mounted, want 500"
	((sbs == 1)) || fail "$sbs superblocks for the masked dirs, want 1"
}

test_mounts_root_readonly() {
	_bundle "$T/b" 'touch /x 2>/dev/null || echo root-ro; echo ok >/dev/shm/w && echo shm-rw
		cat /proc/self/mountinfo'
	cfg_edit "$T/b" '.root.readonly = true'
	expect_ok sk run -b "$T/b" c
	assert_contains "$out" $'root-ro\nshm-rw'
	_has_mnt "$out" / ro
	[[ ! -e $T/b/rootfs/x ]] || fail "wrote to a read-only root"
}

test_mounts_rootfs_propagation() {
	local p want
	for p in rshared runbindable rprivate; do
		mk_bundle "$T/$p" cat /proc/self/mountinfo
		# A cgroup namespace: an unbindable host leaves no cgroup to bind
		# (runc fails there already on the rootfs).
		cfg_edit "$T/$p" '.linux.rootfsPropagation = $p
			| .linux.namespaces |= map(select(.type != "cgroup")) + [{type: "cgroup"}]' --arg p "$p"
		expect_ok sk run -b "$T/$p" "c-$p"
		case $p in
		rshared) want=shared: ;;
		runbindable) want=unbindable ;;
		*) want='' ;;
		esac
		local line
		line=$(_mnt "$out" /)
		[[ -n $line ]] || fail "no / in: $out"
		if [[ -n $want ]]; then
			assert_contains "$line" "$want" "/ with $p"
		else
			assert_not_contains "$line" shared: "/ with $p"
		fi
	done
	cfg_edit "$T/rprivate" '.linux.rootfsPropagation = "sideways"'
	expect_fail 1 sk create -b "$T/rprivate" bad
	assert_contains "$err" 'linux.rootfsPropagation'
	assert_contains "$err" sideways
	assert_empty_dir "$ROOT"
}

test_mounts_symlink_escape() {
	_bundle "$T/b" 'cat /proc/self/mountinfo; ls -d /etc/x /etc/y /target/z'
	ln -s /etc "$T/b/rootfs/evil"
	ln -s ../../../../../../../../etc "$T/b/rootfs/rel"
	ln -s /target "$T/b/rootfs/dangle"
	_add_mount "$T/b" '{"destination":"/evil/x","type":"tmpfs","source":"tmpfs"}'
	_add_mount "$T/b" '{"destination":"/rel/y","type":"tmpfs","source":"tmpfs"}'
	_add_mount "$T/b" '{"destination":"/dangle/z","type":"tmpfs","source":"tmpfs"}'
	expect_ok sk run -b "$T/b" c
	_has_mnt "$out" /etc/x type=tmpfs
	_has_mnt "$out" /etc/y type=tmpfs
	_has_mnt "$out" /target/z type=tmpfs
	[[ ! -e /etc/x && ! -e /etc/y && ! -e /target ]] || fail "a mount escaped the rootfs"
	[[ -d $T/b/rootfs/etc/x && -d $T/b/rootfs/target/z ]] || fail "targets not made inside the rootfs"

	# Into procfs through a link: refused, and nothing is left.
	mk_bundle "$T/p" true
	ln -s /proc/sys "$T/p/rootfs/pp"
	_add_mount "$T/p" '{"destination":"/pp/kernel","type":"tmpfs","source":"tmpfs"}'
	expect_fail 1 sk create -b "$T/p" p
	assert_contains "$err" '"/pp/kernel"'
	assert_contains "$err" 'in procfs: refused'
	assert_empty_dir "$ROOT"
}

test_mounts_dev() {
	_bundle "$T/b" 'for d in null zero full random urandom tty fuse; do
			stat -c "%n %F %t:%T %a %u:%g" /dev/$d; done
		stat -c "%n %F" /dev/fifo0
		for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done
		[ -d /dev/pts ] && [ -d /dev/shm ] && echo dirs-ok; echo hi >/dev/null && echo null-ok'
	cfg_edit "$T/b" '.linux.devices = [
		{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 384, "uid": 1000, "gid": 1001},
		{"path": "/dev/fifo0", "type": "p"}]
		| .linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]'
	expect_ok sk run -b "$T/b" c
	assert_contains "$out" "/dev/null character special file 1:3 666 0:0"
	assert_contains "$out" "/dev/zero character special file 1:5 666 0:0"
	assert_contains "$out" "/dev/full character special file 1:7 666 0:0"
	assert_contains "$out" "/dev/random character special file 1:8 666 0:0"
	assert_contains "$out" "/dev/urandom character special file 1:9 666 0:0"
	assert_contains "$out" "/dev/tty character special file 5:0 666 0:0"
	assert_contains "$out" "/dev/fuse character special file a:e5 600 1000:1001"
	assert_contains "$out" "/dev/fifo0 fifo"
	assert_contains "$out" $'/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2\npts/ptmx\ndirs-ok\nnull-ok'
}

test_mounts_idmap() {
	_bundle "$T/b" 'stat -c "%u:%g" /idm/f; cat /proc/self/mountinfo'
	mkdir -p "$T/idsrc"
	echo x >"$T/idsrc/f"
	_add_mount "$T/b" '{"destination":"/idm","type":"bind","source":"'"$T"'/idsrc","options":["ro"],
		"uidMappings":[{"containerID":0,"hostID":1000,"size":1}],
		"gidMappings":[{"containerID":0,"hostID":2000,"size":1}]}'
	run sk run -b "$T/b" c
	if ((status != 0)) && [[ $err == *"idmap"* && ( $err == *EINVAL* || $err == *ENOSYS* ) ]]; then
		skip "no idmapped mounts here: $err"
	fi
	((status == 0)) || fail "run exited $status: $err"
	assert_contains "$out" "1000:2000" "owner through the idmapped mount"
	_has_mnt "$out" /idm ro idmapped
	assert_eq "$(stat -c %u:%g "$T/idsrc/f")" 0:0 "the source's owner"
}

test_mounts_userns() {
	_bundle "$T/b" 'echo hi >/dev/null && echo null-ok; ls /sys/kernel >/dev/null && echo sys-ok
		touch /data/x 2>/dev/null || echo data-ro; id -u; cat /proc/self/mountinfo'
	mkdir -p "$T/data"
	chown -R 100000:100000 "$T/b/rootfs"
	_add_mount "$T/b" '{"destination":"/data","type":"bind","source":"'"$T"'/data","options":["bind","ro"]}'
	# No network namespace: sysfs then comes from the host's /sys.
	cfg_edit "$T/b" '.linux.namespaces = [.linux.namespaces[] | select(.type != "network")] + [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	expect_ok sk run -b "$T/b" c
	assert_contains "$out" $'null-ok\nsys-ok\ndata-ro\n0'
	_has_mnt "$out" /sys ro
	_has_mnt "$out" /dev/null
	_has_mnt "$out" /data ro
}

# The cgroup mount where the host has v1 hierarchies (hybrid or legacy):
# runc's layout, a read-only tmpfs with one directory per hierarchy named as
# on the host, each the container's own cgroup: its limits can be read
# there.  With a cgroup namespace each hierarchy is mounted again; without,
# the init's cgroup is bound.  A unified host (the VM) keeps cgroup2.
test_mounts_cgroup_v1_layout() {
	local mp want='' name line cgns
	while read -r mp; do
		[[ $mp == "$(cg2_mount)" ]] || want+="${mp##*/} "
	done < <(cg_all_mounts)
	if [[ -z $want ]]; then
		_bundle "$T/u" 'cat /proc/self/mountinfo'
		expect_ok sk run -b "$T/u" u
		_has_mnt "$out" /sys/fs/cgroup type=cgroup2 ro
		return 0
	fi
	for cgns in with without; do
		_bundle "$T/$cgns" 'ls /sys/fs/cgroup | tr "\n" " "; echo
			cat /sys/fs/cgroup/pids/pids.max; cat /proc/self/mountinfo
			mkdir /sys/fs/cgroup/x 2>/dev/null || echo tmpfs-ro
			mkdir /sys/fs/cgroup/pids/x 2>/dev/null || echo pids-ro'
		cfg_edit "$T/$cgns" '.linux.resources.pids = {limit: 42}'
		cfg_edit "$T/$cgns" '.linux.namespaces |= map(select(.type != "cgroup"))'
		[[ $cgns == without ]] || cfg_edit "$T/$cgns" '.linux.namespaces += [{type: "cgroup"}]'
		expect_ok sk run -b "$T/$cgns" "$cgns"
		mapfile -t lines <<<"$out"
		name=${lines[0]}
		for mp in $want; do
			[[ " $name " == *" $mp "* ]] || fail "$cgns cgroupns: no $mp in /sys/fs/cgroup: [$name]"
		done
		assert_eq "${lines[1]}" 42 "pids.max in the container ($cgns cgroupns)"
		_has_mnt "$out" /sys/fs/cgroup type=tmpfs ro nosuid nodev noexec
		_has_mnt "$out" /sys/fs/cgroup/pids type=cgroup ro nosuid nodev noexec
		line=$(_mnt "$out" /sys/fs/cgroup/pids)
		read -r _ _ _ root _ <<<"$line"
		if [[ $cgns == with ]]; then
			assert_eq "$root" / "root of the pids mount in a cgroup namespace"
		else
			assert_eq "$root" "$SKIFF_TEST_CGROUP/$cgns" "root of the pids bind"
		fi
		assert_contains "$out" $'tmpfs-ro\npids-ro'
	done
}

test_mounts_bad_mount_fails() {
	mk_bundle "$T/b" true
	_add_mount "$T/b" '{"destination":"/x","type":"nosuchfs","source":"none"}'
	local n
	n=$(cfg_get "$T/b" '.mounts | length - 1')
	expect_fail 1 sk create -b "$T/b" c
	assert_contains "$err" "mounts[$n]: mount \"nosuchfs\" on \"/x\": ENODEV"
	[[ $err != *$'\n'* ]] || fail "not one line: $err"
	assert_empty_dir "$ROOT"

	# Refused while compiling the plan: nothing started at all.
	mk_bundle "$T/c" true
	_add_mount "$T/c" '{"destination":"/x","type":"tmpfs","options":["ro=yes"]}'
	expect_fail 1 sk create -b "$T/c" c
	assert_contains "$err" "mounts[$n].options[0]: \"ro=yes\": \"ro\" takes no value"
	[[ $err != *$'\n'* ]] || fail "not one line: $err"
	assert_empty_dir "$ROOT"
}

# runc's rule: proc and sysfs go on an ordinary directory.  A rootfs whose
# /proc or /sys is a symlink (to a directory the mount would then cover
# instead) is refused, naming the mount, and nothing is left.
test_mounts_proc_sys_symlink_refused() {
	local d i
	for d in proc sys; do
		mk_bundle "$T/$d" true
		rmdir "$T/$d/rootfs/$d"
		ln -s tmp "$T/$d/rootfs/$d"
		i=$(cfg_get "$T/$d" '.mounts | map(.destination) | index("/'$d'")')
		expect_fail 1 sk run --bundle "$T/$d" "$d"
		assert_contains "$err" "mounts[$i]: filesystem \"$(cfg_get "$T/$d" ".mounts[$i].type")\" must be mounted on ordinary directory"
	done
	assert_empty_dir "$ROOT"
}

# A /dev mounted "ro" (runc's order): mounted read-write for its devices and
# submounts (/dev/pts, /dev/shm, /dev/mqueue), then made read-only
# (t_terminal: with a terminal).
test_mounts_readonly_dev() {
	mk_bundle "$T/b" sh -c 'if touch /dev/new 2>/dev/null; then echo writable; else echo read-only; fi
		grep " /dev " /proc/self/mountinfo | grep -q " ro[ ,]" && echo dev-ro
		echo x >/dev/null && [ -c /dev/zero ] && [ -d /dev/pts ] && grep -q " /dev/pts " /proc/self/mountinfo && echo devices-ok'
	cfg_edit "$T/b" '(.mounts[] | select(.destination == "/dev") | .options) += ["ro"]'
	expect_ok sk run --bundle "$T/b" rodev
	assert_eq "$out" $'read-only\ndev-ro\ndevices-ok'
	assert_empty_dir "$ROOT"
}
