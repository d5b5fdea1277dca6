# shellcheck shell=bash
# Helpers for the real-client tests (sourced by tests/clients/run and by
# each test).  A client file t_CLIENT.sh has setup_CLIENT (start its daemon,
# export what the tests need), teardown_CLIENT and test_CLIENT_* functions;
# each test runs in its own bash with `set -eEuo pipefail`, cwd $T, stdin
# /dev/null and a timeout.  Variables every test has:
#   SKIFF      the skiff binary under test
#   REPO       the checkout
#   CL         this client's scratch directory (daemon roots, sockets, logs)
#   T          a fresh scratch directory of the test
#   IMG        the test image's name (busybox-static; CMD sh)
#   LIMITS     1 when skiff applies cgroup limits on this machine (probe)
# Everything runs with no network: containers get none, daemons are told
# not to touch the host's.

fail() {
	printf 'fail: %s\n' "$*" >&2
	exit 1
}

skip() {
	printf '%s\n' "$*" >"$SK_SKIP_FILE"
	exit 77
}

# run CMD...: run without failing; sets $status, $out and $err.
run() {
	status=0
	"$@" >"$T/.run.out" 2>"$T/.run.err" || status=$?
	out=$(<"$T/.run.out")
	err=$(<"$T/.run.err")
}

expect_ok() {
	run "$@"
	((status == 0)) || fail "\`$*\` exited $status; stdout: $out; stderr: $err"
}

expect_status() {
	local code=$1
	shift
	run "$@"
	((status == code)) || fail "\`$*\` exited $status, expected $code; stdout: $out; stderr: $err"
}

assert_eq() { [[ $1 == "$2" ]] || fail "${3:-value}: expected [$2], got [$1]"; }
assert_contains() { [[ $1 == *"$2"* ]] || fail "${3:-output} does not contain [$2]: [$1]"; }
assert_match() { [[ $1 =~ $2 ]] || fail "${3:-value} does not match /$2/: [$1]"; }

# wait_until SECONDS WHAT CMD...: until CMD succeeds.
wait_until() {
	local limit=$1 what=$2 end
	shift 2
	end=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		((SECONDS < end)) || fail "timed out after ${limit}s waiting for $what"
		sleep 0.2
	done
}

# in_tty CMD...: run CMD with a terminal as its stdio (script(1)), for the
# clients that insist on one; its output, terminal line ends and all.
in_tty() { script -qec "$(printf '%q ' "$@")" /dev/null; }

# need_limits: skip unless skiff applies cgroup limits here (the runner's
# probe: a container with memory, pids and cpu limits).
need_limits() {
	[[ ${LIMITS:-0} == 1 ]] || skip "skiff cannot apply cgroup limits on this machine: ${LIMITS_WHY:-probe failed}"
}

# Whether CAP_SYS_RESOURCE is in our bounding set (this host's is not):
# without it no runtime raises an rlimit over the caller's.
has_cap_sys_resource() {
	local bnd
	bnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
	(((16#$bnd >> 24) & 1))
}

# cg_limit PID memory|pids: the memory or pids limit of process PID's
# cgroup, read on the host side ("max" for none), from cgroup v2 or, where
# the controller is a v1 hierarchy's, from v1: the tests hold whichever
# backend skiff uses.
cg_limit() {
	local pid=$1 what=$2 line ctrls path v2= v1= v1mp file
	while IFS= read -r line; do
		ctrls=${line#*:}
		path=${ctrls#*:}
		ctrls=${ctrls%%:*}
		if [[ -z $ctrls ]]; then
			v2=$path
		elif [[ ,$ctrls, == *",$what,"* ]]; then
			v1=$path
		fi
	done <"/proc/$pid/cgroup"
	file=$what.max
	if [[ -n $v2 && -e $(cg2_mount)$v2/$file ]]; then
		cat "$(cg2_mount)$v2/$file"
		return
	fi
	[[ -n $v1 ]] || fail "process $pid has no $what cgroup"
	v1mp=$(awk -v c="$what" '$0 ~ / - cgroup / { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $5; exit } }' /proc/self/mountinfo)
	[[ $what == memory ]] && file=memory.limit_in_bytes
	local v
	v=$(<"$v1mp$v1/$file")
	# v1's "no memory limit" is the largest page-aligned int64.
	[[ $what == memory && $v == 9223372036854771712 ]] && v=max
	printf '%s\n' "$v"
}

cg2_mount() {
	local _a _b _c _d mp _rest
	while read -r _a _b _c _d mp _rest; do
		if [[ " $_rest " == *" - cgroup2 "* ]]; then
			printf '%s' "$mp"
			return 0
		fi
	done </proc/self/mountinfo
}

# ---------------------------------------------------------------------------
# The test images, built offline from busybox-static.  Each tar is at once a
# docker-archive (manifest.json: what docker 20.10 loads) and an OCI image
# layout (index.json: what podman and containerd read first), sharing blobs.

# _cl_rootfs DIR: busybox-static with a link per applet and a minimal /etc.
_cl_rootfs() {
	local d=$1
	[[ -x /bin/busybox ]] || fail "/bin/busybox missing: apt-get install busybox-static"
	[[ $(LC_ALL=C ldd /bin/busybox 2>&1 || true) == *'not a dynamic'* ]] ||
		fail "/bin/busybox is not static: apt-get install busybox-static"
	mkdir -p "$d"/{bin,dev,proc,sys,etc,tmp,root,run,var/tmp,home/user}
	cp /bin/busybox "$d/bin/busybox"
	/bin/busybox --list | perl -ne 'chomp; symlink("busybox", "'"$d"'/bin/$_") unless $_ eq "busybox" or -e "'"$d"'/bin/$_"'
	printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$d/etc/passwd"
	printf 'root:x:0:\ntty:x:5:\nuser:x:1000:\nnogroup:x:65534:\n' >"$d/etc/group"
	: >"$d/etc/hosts"
	: >"$d/etc/resolv.conf"
	printf 'skiff-test\n' >"$d/etc/hostname"
	chown 1000:1000 "$d/home/user"
	chmod 1777 "$d/tmp" "$d/var/tmp"
}

_cl_blob() {
	local f=$1 dir=$2 sum
	sum=$(sha256sum "$f")
	sum=${sum%% *}
	mv "$f" "$dir/blobs/sha256/$sum"
	printf '%s' "$sum"
}

# cl_layer ROOTFS OUT: the image layer (an uncompressed tar of ROOTFS,
# owners as created here) in OUT/blobs/sha256; prints its digest.
# Deterministic: same inputs, same digests.
cl_layer() {
	local rootfs=$1 out=$2
	mkdir -p "$out/blobs/sha256"
	tar -C "$rootfs" --sort=name --mtime=@0 --numeric-owner --format=posix \
		--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
		-cf "$out/layer.tar" . || fail "tar of the image layer failed"
	_cl_blob "$out/layer.tar" "$out"
}

# cl_image OUT.tar NAME CMD-JSON LAYERDIR DIGEST: an image NAME (repo:tag)
# of the one layer DIGEST (cl_layer's, in LAYERDIR) whose config runs
# CMD-JSON, e.g. '["sh"]'.
cl_image() {
	local out=$1 name=$2 cmd=$3 ldir=$4 lsum=$5 w csum msum lsize csize msize
	w=$(mktemp -d "${out%/*}/.image.XXXXXX")
	mkdir -p "$w/img/blobs/sha256"
	cp "$ldir/blobs/sha256/$lsum" "$w/img/blobs/sha256/"
	lsize=$(stat -c %s "$ldir/blobs/sha256/$lsum")
	jq -cn --arg diff "sha256:$lsum" --argjson cmd "$cmd" '{
		architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
		config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
			  Cmd: $cmd, WorkingDir: "/" },
		rootfs: { type: "layers", diff_ids: [$diff] },
		history: [ { created: "1970-01-01T00:00:00Z", created_by: "tests/clients: busybox-static" } ] }' >"$w/config.json"
	csize=$(stat -c %s "$w/config.json")
	csum=$(_cl_blob "$w/config.json" "$w/img")
	jq -cn --arg c "sha256:$csum" --argjson cs "$csize" --arg l "sha256:$lsum" --argjson ls "$lsize" '{
		schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs },
		layers: [ { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls } ] }' >"$w/manifest.json"
	msize=$(stat -c %s "$w/manifest.json")
	msum=$(_cl_blob "$w/manifest.json" "$w/img")
	jq -cn --arg m "sha256:$msum" --argjson ms "$msize" --arg name "$name" '{
		schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
		manifests: [ { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
			       annotations: { "io.containerd.image.name": $name,
					      "org.opencontainers.image.ref.name": $name } } ] }' >"$w/img/index.json"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$w/img/oci-layout"
	jq -cn --arg c "blobs/sha256/$csum" --arg l "blobs/sha256/$lsum" --arg name "$name" \
		'[ { Config: $c, RepoTags: [$name], Layers: [$l] } ]' >"$w/img/manifest.json"
	tar -C "$w/img" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$out.tmp" . ||
		fail "tar of the image failed"
	mv "$out.tmp" "$out"
	rm -rf "$w"
}

# ---------------------------------------------------------------------------
# Runner helpers.

IMG=localhost/skiff-test/busybox:latest
PAUSE_IMG=localhost/skiff-test/pause:latest
export IMG PAUSE_IMG

# cl_probe_limits ROOTFS: set LIMITS (1 or 0) and LIMITS_WHY: can skiff
# run a container (read-only ROOTFS) with memory, pids and cpu limits here?
cl_probe_limits() {
	local b=$BASE/probe out
	mkdir -p "$b"
	"$SKIFF" spec --bundle "$b"
	jq --arg root "$1" '.process.terminal = false | .process.args = ["true"] | .root.path = $root
		| .linux.resources += {memory: {limit: 67108864}, pids: {limit: 100}, cpu: {shares: 512}}' \
		"$b/config.json" >"$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
	if out=$("$SKIFF" --root "$b/state" run --bundle "$b" "skiff-clients-probe-$$" 2>&1); then
		LIMITS=1 LIMITS_WHY=
	else
		LIMITS=0 LIMITS_WHY=${out:-skiff run exited non-zero}
	fi
	"$SKIFF" --root "$b/state" delete --force "skiff-clients-probe-$$" >/dev/null 2>&1
	rm -rf "$b"
	export LIMITS LIMITS_WHY
}

# need_criu: skip unless CRIU can checkpoint on this kernel (tests/criu-gate);
# the VM's fix-up for CRIU (/dev/fd).
need_criu() {
	local why
	why=$("$REPO/tests/criu-gate" "$BASE/criu-gate")
	[[ -z $why ]] || skip "$why"
	[[ -e /dev/fd ]] || ln -s /proc/self/fd /dev/fd
	return 0
}

# A counter for the checkpoint tests, and its last tick in a text.
cr_counter='i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done'
last_tick() { local t; t=$(grep -o 'tick [0-9]*' <<<"$1" | tail -n1); echo "${t#tick }"; }

# cl_wrapper DIR: DIR/skiff, which appends its arguments (one line,
# shell-quoted) to DIR/calls.log and execs skiff.  Clients are pointed at it.
cl_wrapper() {
	local dir=$1
	cat >"$dir/skiff" <<WRAP
#!/bin/bash
printf -v line '%q ' "\$@"
printf '%s\n' "\$line" >>'$dir/calls.log'
exec '$SKIFF' "\$@"
WRAP
	chmod 755 "$dir/skiff"
	: >"$dir/calls.log"
}

_cl_mounts_under() {
	local _a _b _c _d mp _rest
	while read -r _a _b _c _d mp _rest; do
		printf -v mp '%b' "$mp"
		[[ $mp == "$1"/* || $mp == "$1" ]] && printf '%s\n' "$mp"
	done </proc/self/mountinfo
	return 0
}

# cl_leaks DIR: report (and clean up) processes whose root or cwd is under
# DIR and mounts under it.  Returns 1 when something was left.
cl_leaks() {
	local dir=$1 l pid mp left=0
	while read -r l; do
		pid=${l#/proc/}
		pid=${pid%%/*}
		[[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
		echo "leak: process $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) has ${l##*/} $(readlink "$l")"
		kill -9 "$pid" 2>/dev/null
		left=1
	done < <(find /proc/[0-9]*/root /proc/[0-9]*/cwd -maxdepth 0 \
		\( -lname "$dir/*" -o -lname "$dir" \) 2>/dev/null | sort -u -t/ -k3,3n)
	while read -r mp; do
		[[ -n $mp ]] || continue
		echo "leak: mount left: $mp"
		umount -l "$mp" 2>/dev/null
		left=1
	done < <(_cl_mounts_under "$dir" | sort -r)
	return $left
}

# cl_stop_daemon PIDFILE NAME: TERM the daemon, KILL it after 20 s.
cl_stop_daemon() {
	local pid
	[[ -s $1 ]] || return 0
	pid=$(<"$1")
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "$2 (pid $pid) did not stop after TERM: killed"
	kill -9 "$pid" 2>/dev/null
	return 1
}

# unmount_under DIR: lazily unmount what a daemon left under DIR (its own
# storage binds), deepest first.
unmount_under() {
	local mp
	while read -r mp; do
		[[ -n $mp ]] && umount -l "$mp"
	done < <(_cl_mounts_under "$1" | sort -r)
	return 0
}

# cl_containerd DIR [CONFIG LINES]: start containerd with root, state and
# sockets under DIR; CONFIG LINES are added to its config.toml.
cl_containerd() {
	local dir=$1 extra=${2:-}
	mkdir -p "$dir"
	cat >"$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
$extra
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
	# "runc" in its PATH is skiff too: ctr's --no-pivot replaces the task's
	# runtime options, --runc-binary and --runc-root with them.
	mkdir -p "$dir/bin"
	ln -sf "$dir/skiff" "$dir/bin/runc"
	# io.containerd.skiff.v2: containerd finds containerd-shim-skiff-v2 in
	# its PATH, and that shim runs "skiff" from the same PATH.
	ln -sf "$dir/skiff" "$dir/bin/skiff"
	ln -sf "$CTRD_SHIM" "$dir/bin/containerd-shim-skiff-v2"
	PATH=$dir/bin:$PATH containerd --config "$dir/config.toml" --log-level warn </dev/null >"$dir/containerd.log" 2>&1 &
	echo $! >"$dir/containerd.pid"
	local end=$((SECONDS + 120))
	until ctr --address "$dir/containerd.sock" version >/dev/null 2>&1; do
		if ((SECONDS > end)) || ! kill -0 "$(<"$dir/containerd.pid")" 2>/dev/null; then
			tail -n 20 "$dir/containerd.log"
			echo "containerd did not come up"
			return 1
		fi
		sleep 0.2
	done
}

ct() { ctr --address "$CL/containerd.sock" "$@"; }

# A task's status as `ctr tasks ls` shows it (RUNNING, PAUSED, STOPPED).
ct_status() {
	ct tasks ls | awk -v id="$1" '$1 == id { print $3 }'
}

# Teardown of a containerd run by cl_containerd in $CL: every task killed
# and removed with its container, then containerd stopped and $CL's mounts
# gone.
cl_containerd_teardown() {
	local c
	for c in $(ct tasks ls -q 2>/dev/null); do
		ct tasks kill -s KILL "$c"
	done
	for c in $(ct containers ls -q 2>/dev/null); do
		ct tasks rm -f "$c"
		ct containers rm "$c"
	done
	cl_stop_daemon "$CL/containerd.pid" containerd
	unmount_under "$CL"
}

# ---------------------------------------------------------------------------
# The recorded runtime calls and the contract.

# Flags that take a value (runc's), globally and per command: the value is
# not part of a call's shape.
_cl_valued_global=" --root --log --log-format --criu --rootless "
_cl_valued_cmd=" --bundle -b --console-socket --pid-file --preserve-fds --process -p --cwd --env -e --user -u
	--additional-gids -g --cap -c --apparmor --process-label --cgroup --resources -r --format -f --interval
	--memory --memory-reservation --memory-swap --kernel-memory --kernel-memory-tcp --cpu-share --cpu-period
	--cpu-quota --cpu-rt-period --cpu-rt-runtime --cpuset-cpus --cpuset-mems --pids-limit --blkio-weight
	--l3-cache-schema --mem-bw-schema --image-path --work-path --parent-path --lsm-profile --lsm-mount-context
	--manage-cgroups-mode --empty-ns --page-server --status-fd "

# call_shape ARGS...: "GLOBAL FLAGS | COMMAND FLAGS", flag names sorted,
# values and operands left out.
call_shape() {
	local g=() c=() cmd= a name skip=
	for a in "$@"; do
		if [[ -n $skip ]]; then
			skip=
			continue
		fi
		if [[ -z $cmd ]]; then
			if [[ $a == -* ]]; then
				name=${a%%=*}
				g+=("$name")
				[[ $a != *=* && $_cl_valued_global == *" $name "* ]] && skip=1
			else
				cmd=$a
			fi
			continue
		fi
		[[ $a == -- ]] && break
		if [[ $a == -* ]]; then
			name=${a%%=*}
			c+=("$name")
			[[ $a != *=* && $_cl_valued_cmd == *[[:space:]]"$name"[[:space:]]* ]] && skip=1
		fi
	done
	((${#g[@]})) && mapfile -t g < <(printf '%s\n' "${g[@]}" | sort -u)
	((${#c[@]})) && mapfile -t c < <(printf '%s\n' "${c[@]}" | sort -u)
	local IFS=' '
	printf '%s | %s\n' "${g[*]}" "${cmd}${c[*]:+ ${c[*]}}"
}

# check_calls CLIENT: every call recorded in $CL/calls.log has a shape
# listed in tests/clients/contract/CLIENT.txt; prints the shapes seen and
# fails on new ones.
check_calls() {
	local client=$1 contract=$REPO/tests/clients/contract/$1.txt line shape new=() n=0
	local -A known=() seen=() example=()
	# Every scenario skipped (a client whose tests all need limits): nothing to check.
	[[ -s $CL/calls.log ]] || skip "no runtime call was made (the scenarios that would make them were skipped)"
	while IFS= read -r line; do
		[[ -z $line || $line == \#* ]] && continue
		known[$line]=1
	done <"$contract"
	while IFS= read -r line; do
		local -a args=()
		eval "args=($line)"
		shape=$(call_shape "${args[@]}")
		n=$((n + 1))
		[[ -n ${seen[$shape]:-} ]] && continue
		seen[$shape]=1
		example[$shape]=$line
	done <"$CL/calls.log"
	echo "$n runtime calls, ${#seen[@]} shapes:"
	for shape in "${!seen[@]}"; do
		echo "  $shape"
		[[ -n ${known[$shape]:-} ]] || new+=("$shape  (e.g. ${example[$shape]})")
	done
	for shape in "${!known[@]}"; do
		[[ -n ${seen[$shape]:-} ]] || echo "  (not seen this run: $shape)"
	done
	((${#new[@]} == 0)) || fail "$client made runtime calls of a shape not in tests/clients/contract/$client.txt (check that skiff handles them, then add them):$(printf '\n  %s' "${new[@]}")"
}
