# shellcheck shell=bash
# SC2154/SC2153: out, err, status, T, ROOT come from lib.sh's run and the
# runner; SC2164: tests run under set -e, a failed cd fails the test.
# SC2016: jq expressions are single-quoted on purpose.
# shellcheck disable=SC2154,SC2153,SC2164,SC2016
# The command line itself: global flags, help, usage errors, and the
# commands that need no container (spec, validate, features, state, list).

# The commands `skiff --help` lists, but for help itself.
commands() {
	local line in_cmds=0
	while IFS= read -r line; do
		if [[ $line == Commands: ]]; then
			in_cmds=1
		elif ((in_cmds)) && [[ $line =~ ^\ \ ([a-z]+)\  ]]; then
			[[ ${BASH_REMATCH[1]} == help ]] || printf '%s\n' "${BASH_REMATCH[1]}"
		elif ((in_cmds)); then
			return 0
		fi
	done < <("$SKIFF" --help)
}

test_version() {
	local flag
	for flag in --version -v; do
		expect_ok "$SKIFF" "$flag"
		assert_match "$out" $'^skiff version [0-9]+\\.[0-9]+\\.[0-9]+\nspec: 1\\.3\\.0\nlibseccomp: [0-9]+\\.[0-9]+\\.[0-9]+$' "$flag"
		assert_eq "$err" "" "stderr of $flag"
	done
}

test_help() {
	local flag help
	for flag in --help -h; do
		expect_ok "$SKIFF" "$flag"
		assert_contains "$out" "Usage: skiff [global options] <command>"
		assert_contains "$out" "Commands:"
		assert_contains "$out" "--root DIR"
		assert_contains "$out" "--systemd-cgroup"
	done
	help=$out
	expect_ok "$SKIFF" help
	assert_eq "$out" "$help" "skiff help"
	for c in spec validate features state list; do
		assert_match "$help" $'\n  '"$c " "command list"
	done
	expect_ok "$SKIFF" help state
	local state_help=$out
	expect_ok "$SKIFF" state --help
	assert_eq "$state_help" "$out" "skiff help state"
	expect_ok "$SKIFF" help --help
	assert_eq "$out" "$help" "skiff help --help"
	expect_fail 2 "$SKIFF" help nosuch
	expect_fail 2 "$SKIFF" help state list
	expect_fail 2 "$SKIFF" help --nosuch-flag
	assert_eq "$err" "skiff help: unknown flag --nosuch-flag"
}

test_command_help() {
	local c n=0
	while read -r c; do
		n=$((n + 1))
		for flag in --help -h --help=true; do
			expect_ok "$SKIFF" "$c" "$flag"
			assert_match "$out" "^Usage: skiff $c \\[options\\]" "$c $flag"
			assert_contains "$out" "  -h, --help" "$c $flag"
			assert_eq "$err" "" "stderr of $c $flag"
		done
	done < <(commands)
	((n >= 5)) || fail "only $n commands in skiff --help"
}

test_unknown_command() {
	expect_fail 2 "$SKIFF" nosuch
	assert_eq "$err" 'skiff: unknown command "nosuch" (see skiff --help)'
	expect_fail 2 "$SKIFF"
	assert_eq "$err" "skiff: no command given (see skiff --help)"
}

test_unknown_flag() {
	local c
	while read -r c; do
		expect_fail 2 "$SKIFF" "$c" --nosuch-flag
		assert_eq "$err" "skiff $c: unknown flag --nosuch-flag"
		assert_eq "$out" "" "stdout of $c --nosuch-flag"
		expect_fail 2 "$SKIFF" "$c" -nosuch=1
		assert_eq "$err" "skiff $c: unknown flag -nosuch"
	done < <(commands)
	expect_fail 2 "$SKIFF" --bogus list
	assert_eq "$err" "skiff: unknown flag --bogus"
	expect_fail 2 "$SKIFF" --root
	assert_eq "$err" "skiff: flag needs an argument: --root"
	expect_fail 2 "$SKIFF" --log-format xml list
	assert_eq "$err" 'skiff: invalid --log-format "xml": must be text or json'
	expect_fail 2 "$SKIFF" --rootless maybe list
	expect_fail 2 sk list --format yaml
	assert_eq "$err" 'skiff list: invalid --format "yaml": must be table or json'
	expect_fail 2 sk state
	assert_eq "$err" "skiff state: expects exactly 1 argument (<container-id>), got 0"
	expect_fail 2 sk spec extra
}

test_global_flags() {
	# Orchestrators pass runc's globals; all spellings are accepted.
	expect_ok "$SKIFF" --root "$ROOT" --debug --criu /usr/sbin/criu --rootless auto list -q
	expect_ok "$SKIFF" -root "$ROOT" --rootless=false -debug=false list
	expect_ok "$SKIFF" --root="$ROOT" --log "$T/log" --log-format=text list
	# --systemd-cgroup: a global flag every command takes...
	expect_ok "$SKIFF" --systemd-cgroup --root "$ROOT" list
	expect_ok "$SKIFF" --systemd-cgroup spec --bundle "$T"
	# ...and where systemd is not the init, create says so, making nothing.
	if skiff_has create && [[ ! -d /run/systemd/system ]]; then
		mk_bundle "$T/sd" true
		expect_fail 1 "$SKIFF" --systemd-cgroup --root "$ROOT" create --bundle "$T/sd" c1
		assert_eq "$err" "skiff create: systemd cgroup driver: systemd is not running on this host (no /run/systemd/system): use the cgroupfs driver (no --systemd-cgroup)"
	fi
	assert_empty_dir "$ROOT"
	# libsystemd is opened by the driver only: the binary does not need it.
	if command -v readelf >/dev/null; then
		! readelf -d "$SKIFF" | grep -q libsystemd || fail "skiff links libsystemd"
	fi
}

test_spec_validate() {
	mkdir "$T/b"
	expect_ok "$SKIFF" spec --bundle "$T/b"
	assert_eq "$out" "" "spec prints nothing"
	jq -e . "$T/b/config.json" >/dev/null
	assert_eq "$(cfg_get "$T/b" '.ociVersion + " " + .hostname + " " + (.process.terminal|tostring)')" "1.3.0 skiff true"
	local cgns=
	[[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]] && cgns=,cgroup
	assert_eq "$(cfg_get "$T/b" '[.linux.namespaces[].type] | join(",")')" "pid,network,ipc,uts,mount$cgns" \
		"namespaces (a cgroup one on a cgroup v2 host only)"
	mkdir "$T/b/rootfs"
	expect_ok "$SKIFF" validate --bundle "$T/b"
	assert_eq "$out" "ok"
	# -b, and the current directory by default.
	expect_ok "$SKIFF" validate -b "$T/b"
	cd "$T/b"
	expect_ok "$SKIFF" validate
	mkdir "$T/c"
	cd "$T/c"
	expect_ok "$SKIFF" spec
	[[ -f $T/c/config.json ]] || fail "spec without --bundle writes into the current directory"
}

test_spec_refuses_overwrite() {
	expect_ok "$SKIFF" spec -b "$T"
	echo '{"edited": true}' >"$T/config.json"
	expect_fail 1 "$SKIFF" spec -b "$T"
	assert_eq "$err" "skiff spec: File config.json exists. Remove it first"
	assert_eq "$(<"$T/config.json")" '{"edited": true}' "config.json after a refused spec"
	expect_fail 1 "$SKIFF" spec -b "$T/nosuch"
	assert_eq "$err" "skiff spec: open bundle \"$T/nosuch\": ENOENT"
}

test_spec_rootless() {
	expect_ok "$SKIFF" spec --rootless -b "$T"
	local uid gid
	uid=$(id -u)
	gid=$(id -g)
	local cgns=
	[[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]] && cgns=,cgroup
	assert_eq "$(cfg_get "$T" '[.linux.namespaces[].type] | join(",")')" "pid,ipc,uts,mount$cgns,user"
	assert_eq "$(cfg_get "$T" '.linux.uidMappings | tojson')" "[{\"containerID\":0,\"hostID\":$uid,\"size\":1}]"
	assert_eq "$(cfg_get "$T" '.linux.gidMappings | tojson')" "[{\"containerID\":0,\"hostID\":$gid,\"size\":1}]"
	assert_eq "$(cfg_get "$T" '.mounts[] | select(.destination == "/sys") | tojson')" \
		'{"destination":"/sys","type":"none","source":"/sys","options":["rbind","nosuid","noexec","nodev","ro"]}'
	assert_eq "$(cfg_get "$T" '.mounts[] | select(.destination == "/dev/pts") | .options | join(",")')" \
		"nosuid,noexec,newinstance,ptmxmode=0666,mode=0620"
	assert_eq "$(cfg_get "$T" '.linux | has("resources")')" "false"
	mkdir "$T/rootfs"
	expect_ok "$SKIFF" validate -b "$T"
}

# Same document as `runc spec`, but for the differences skiff means to have:
# its version and hostname and no ambient capabilities (runc dropped them
# from its example after 1.1).  A cgroup namespace only on a cgroup v2 host
# (/sys/fs/cgroup is cgroup2), as runc.
test_spec_matches_runc() {
	command -v runc >/dev/null || skip "runc is not installed"
	local flag norm='del(.ociVersion, .hostname, .process.capabilities.ambient)'
	for flag in "" --rootless; do
		rm -rf "$T/r" "$T/s"
		mkdir "$T/r" "$T/s"
		(cd "$T/r" && runc spec $flag)
		expect_ok "$SKIFF" spec $flag -b "$T/s"
		assert_eq "$(jq -S "$norm" "$T/s/config.json")" "$(jq -S "$norm" "$T/r/config.json")" "spec $flag vs runc"
		# Same layout too: runc's tab indentation and key order.
		assert_eq "$(jq . "$T/s/config.json" | tail -n +3)" \
			"$(jq 'del(.process.capabilities.ambient)' "$T/r/config.json" | tail -n +3 |
				sed 's/"hostname": "runc"/"hostname": "skiff"/')" "key order of spec $flag"
	done
}

test_features() {
	expect_ok "$SKIFF" features
	local f=$T/features.json
	printf '%s\n' "$out" >"$f"
	jq -e . "$f" >/dev/null || fail "features is not JSON: $out"
	jq -e '.ociVersionMin == "1.0.0" and .ociVersionMax == "1.3.0"' "$f" >/dev/null || fail "versions: $out"
	jq -e '(.hooks|type) == "array" and (.mountOptions|type) == "array"
		and (.linux.namespaces|type) == "array" and (.linux.capabilities|type) == "array"
		and ([.linux.cgroup[]] | all(type == "boolean"))
		and (.linux.seccomp.enabled|type) == "boolean"
		and (.linux.apparmor.enabled|type) == "boolean" and (.linux.selinux.enabled|type) == "boolean"
		and (.linux.intelRdt.enabled|type) == "boolean"
		and (.linux.mountExtensions.idmap.enabled|type) == "boolean"' "$f" >/dev/null ||
		fail "features shape: $out"
	# The libseccomp version is the one --version reports.
	local v
	v=$("$SKIFF" --version | sed -n 's/^libseccomp: //p')
	assert_eq "$(jq -r '.annotations["io.github.seccomp.libseccomp.version"]' "$f")" "$v" "libseccomp version"
	if [[ $(jq -r .linux.seccomp.enabled "$f") == true ]]; then
		local arch
		case $(uname -m) in
		x86_64) arch=SCMP_ARCH_X86_64 ;;
		aarch64) arch=SCMP_ARCH_AARCH64 ;;
		*) arch= ;;
		esac
		[[ -z $arch ]] || jq -e --arg a "$arch" '.linux.seccomp.archs | index($a)' "$f" >/dev/null ||
			fail "native arch $arch missing from seccomp.archs"
		jq -e '.linux.seccomp.supportedFlags - .linux.seccomp.knownFlags == []' "$f" >/dev/null ||
			fail "supportedFlags not a subset of knownFlags"
	fi

	# Truthful at least as far as the parser goes: what is advertised is
	# accepted in a config.
	mkdir -p "$T/b/rootfs"
	expect_ok "$SKIFF" spec -b "$T/b"
	cp "$T/b/config.json" "$T/orig.json"
	local ns cap hook opt
	for ns in $(jq -r '.linux.namespaces[]' "$f"); do
		jq --arg ns "$ns" 'del(.hostname) | .linux.namespaces = [{type: "mount"}, {type: $ns}] | .linux.namespaces |= unique
			| if $ns == "user" then .linux.uidMappings = [{containerID: 0, hostID: 0, size: 1}]
				| .linux.gidMappings = .linux.uidMappings else . end' \
			"$T/orig.json" >"$T/b/config.json"
		expect_ok "$SKIFF" validate -b "$T/b"
	done
	# Every capability and every hook in one config each (validate names
	# the entry it refuses; one run each keeps this quick under TCG).
	jq --slurpfile f "$f" '.process.capabilities.bounding = $f[0].linux.capabilities' \
		"$T/orig.json" >"$T/b/config.json"
	expect_ok "$SKIFF" validate -b "$T/b"
	jq --slurpfile f "$f" '.hooks = ($f[0].hooks | map({(.): [{path: "/bin/true"}]}) | add)' \
		"$T/orig.json" >"$T/b/config.json"
	expect_ok "$SKIFF" validate -b "$T/b"
	local mode flag
	for mode in $(jq -r '.linux.memoryPolicy.modes // [] | .[]' "$f"); do
		jq --arg m "$mode" '.linux.memoryPolicy = {mode: $m}
			+ (if $m == "MPOL_DEFAULT" or $m == "MPOL_LOCAL" then {} else {nodes: "0"} end)' \
			"$T/orig.json" >"$T/b/config.json"
		expect_ok "$SKIFF" validate -b "$T/b"
	done
	for flag in $(jq -r '.linux.memoryPolicy.flags // [] | .[]' "$f"); do
		jq --arg f "$flag" '.linux.memoryPolicy = {mode: "MPOL_BIND", nodes: "0", flags: [$f]}' \
			"$T/orig.json" >"$T/b/config.json"
		expect_ok "$SKIFF" validate -b "$T/b"
	done
	if [[ $(jq -r .linux.netDevices.enabled "$f") == true ]]; then
		jq '.linux.netDevices = {eth0: {name: "ctr0"}}' "$T/orig.json" >"$T/b/config.json"
		expect_ok "$SKIFF" validate -b "$T/b"
	fi
	if [[ $(jq -r .linux.intelRdt.enabled "$f") == true ]]; then
		jq --argjson r "$(jq '{closID: "c"} + (if .linux.intelRdt.schemata then {schemata: ["L3:0=f"]} else {} end)
			+ (if .linux.intelRdt.monitoring then {enableMonitoring: true} else {} end)' "$f")" \
			'.linux.intelRdt = $r' "$T/orig.json" >"$T/b/config.json"
		expect_ok "$SKIFF" validate -b "$T/b"
	fi
	# Every mount option, each on a mount of its own, in one config:
	# idmapped mounts are binds with mappings; the rest fit a tmpfs.
	jq --slurpfile f "$f" '.mounts += [$f[0].mountOptions | to_entries[] | .key as $i | .value as $o
		| if ($o | test("idmap$")) then
			{destination: "/mnt/\($i)", type: "bind", source: "/tmp", options: ["rbind", $o],
			 uidMappings: [{containerID: 0, hostID: 100000, size: 1}],
			 gidMappings: [{containerID: 0, hostID: 100000, size: 1}]}
		else {destination: "/mnt/\($i)", type: "tmpfs", source: "tmpfs", options: [$o]} end]' \
		"$T/orig.json" >"$T/b/config.json"
	expect_ok "$SKIFF" validate -b "$T/b"
}

test_validate_invalid_fixtures() {
	local dir=$REPO/spec-fixtures/invalid f name n=0
	mkdir -p "$T/b/rootfs"
	for f in "$dir"/*.json; do
		[[ -e $f ]] || continue
		name=${f##*/}
		name=${name%.json}
		[[ -f $dir/$name.err ]] || fail "fixture $name has no $name.err"
		cp "$f" "$T/b/config.json"
		run sk validate -b "$T/b"
		((status == 1)) || fail "validate $name exited $status, expected 1 (stderr: $err)"
		assert_eq "$err" "skiff validate: $(<"$dir/$name.err")" "error of $name"
		assert_eq "$out" "" "stdout of validate $name"
		n=$((n + 1))
	done
	((n > 0)) || skip "no fixtures in spec-fixtures/invalid yet"
	assert_empty_dir "$ROOT"
}

test_create_invalid_fixtures() {
	# create reports the same line as validate and makes nothing under --root.
	local dir=$REPO/spec-fixtures/invalid f name
	skiff_has create || skip "no create command in this build"
	mkdir -p "$T/b/rootfs"
	for f in "$dir"/*.json; do
		name=${f##*/}
		name=${name%.json}
		cp "$f" "$T/b/config.json"
		run sk create -b "$T/b" "c-$name"
		((status == 1)) || fail "create $name exited $status, expected 1 (stderr: $err)"
		assert_eq "$err" "skiff create: $(<"$dir/$name.err")" "error of $name"
		assert_empty_dir "$ROOT"
	done
}

test_validate_valid_fixtures() {
	local f root n=0
	for f in "$REPO"/spec-fixtures/valid/*.json; do
		[[ -e $f ]] || continue
		rm -rf "$T/b"
		mkdir -p "$T/b"
		cp "$f" "$T/b/config.json"
		root=$(cfg_get "$T/b" '.root.path // "rootfs"')
		[[ $root == /* ]] || mkdir -p "$T/b/$root"
		[[ $root != /* || -d $root ]] || continue
		run sk validate -b "$T/b"
		# A config without a process parses, but create cannot use it.
		if [[ $(cfg_get "$T/b" 'has("process")') == false ]]; then
			assert_eq "$err" "skiff validate: config.json: process: required to create a container"
			continue
		fi
		((status == 0)) || fail "validate ${f##*/} exited $status: $err"
		n=$((n + 1))
	done
	((n > 0)) || skip "no fixtures in spec-fixtures/valid yet"
	assert_empty_dir "$ROOT"
}

test_validate_rootfs() {
	expect_ok "$SKIFF" spec -b "$T"
	expect_fail 1 "$SKIFF" validate -b "$T"
	assert_eq "$err" "skiff validate: rootfs \"$T/rootfs\": ENOENT"
	touch "$T/rootfs"
	expect_fail 1 "$SKIFF" validate -b "$T"
	assert_eq "$err" "skiff validate: rootfs \"$T/rootfs\": ENOTDIR"
	rm "$T/rootfs"
	mkdir "$T/elsewhere"
	cfg_edit "$T" '.root.path = $p' --arg p "$T/elsewhere"
	expect_ok "$SKIFF" validate -b "$T"
	rm "$T/config.json"
	expect_fail 1 "$SKIFF" validate -b "$T"
	assert_match "$err" "^skiff validate: .*config.json.*ENOENT" "missing config.json"
}

test_state_missing() {
	expect_fail 1 sk state nosuch
	assert_eq "$err" 'skiff state: container "nosuch" does not exist'
	assert_eq "$out" ""
	expect_fail 1 sk state a/b
	assert_contains "$err" 'skiff state: invalid container id "a/b"'
	expect_fail 1 sk state ..
	expect_fail 1 sk state -- -x
}

test_list_empty() {
	expect_ok sk list
	assert_eq "$out" "ID          PID         STATUS      BUNDLE      CREATED     OWNER"
	expect_ok sk list --format json
	assert_eq "$out" "null"
	expect_ok sk list -f json
	assert_eq "$out" "null"
	expect_ok sk list -q
	assert_eq "$out" ""
	# A root that does not exist is an empty one, and list does not make it.
	expect_ok "$SKIFF" --root "$T/nosuch" list
	assert_eq "$out" "ID          PID         STATUS      BUNDLE      CREATED     OWNER"
	[[ ! -e $T/nosuch ]] || fail "list created its --root"
}

# write_state ID PID START: a state directory as create leaves it.
write_state() {
	mkdir -p "$ROOT/$1"
	jq -n --arg id "$1" --argjson pid "$2" --argjson st "$3" --arg b "$T/bundle-$1" \
		'{id: $id, pid: $pid, startTime: $st, bundle: $b, rootfs: ($b + "/rootfs"),
		  created: "2024-05-06T07:08:09.123456789Z", owner: 0, shim: false}
		| if $id == "c-ann" then .annotations = {"org.example": "v"} else . end' >"$ROOT/$1/state.json"
}

test_state_and_list() {
	sleep 1000 &
	local pid=$! start
	start=$(proc_start_time "$pid")
	write_state c-run "$pid" "$start"
	write_state c-created "$pid" "$start"
	mkfifo "$ROOT/c-created/exec.fifo"
	write_state c-stopped 0 0
	write_state c-recycled "$pid" $((start + 1))
	write_state c-ann 0 0
	mkdir "$ROOT/c-creating"

	expect_ok sk state c-run
	assert_eq "$(jq -r '[.ociVersion, .id, .pid, .status, .bundle, .rootfs, .created, .owner] | join(" ")' <<<"$out")" \
		"1.3.0 c-run $pid running $T/bundle-c-run $T/bundle-c-run/rootfs 2024-05-06T07:08:09.123456789Z "
	assert_eq "$(jq -r 'keys_unsorted | join(",")' <<<"$out")" "ociVersion,id,pid,status,bundle,rootfs,created,owner"
	assert_match "$out" $'^\\{\n  "ociVersion": "1.3.0",\n  "id": "c-run",' "2-space indentation"
	expect_ok sk state c-created
	assert_eq "$(jq -r .status <<<"$out")" created
	expect_ok sk state c-stopped
	assert_eq "$(jq -r '.status + " " + (.pid|tostring)' <<<"$out")" "stopped 0"
	expect_ok sk state c-recycled
	assert_eq "$(jq -r '.status + " " + (.pid|tostring)' <<<"$out")" "stopped 0" "a recycled pid"
	expect_ok sk state c-ann
	assert_eq "$(jq -c .annotations <<<"$out")" '{"org.example":"v"}'
	expect_ok sk state c-creating
	assert_eq "$(jq -r .status <<<"$out")" creating

	expect_ok sk list -q
	assert_eq "$out" $'c-ann\nc-created\nc-creating\nc-recycled\nc-run\nc-stopped'
	expect_ok sk list
	# Columns as wide as their widest cell plus 3, at least 12 (tabwriter).
	local w=$((${#T} + 18 + 3)) header row
	printf -v header '%-13s%-12s%-12s%-*s%-33s%s' ID PID STATUS "$w" BUNDLE CREATED OWNER
	assert_eq "$(head -n1 <<<"$out")" "$header" "table header"
	printf -v row '%-13s%-12s%-12s%-*s%-33s%s' c-run "$pid" running "$w" "$T/bundle-c-run" \
		2024-05-06T07:08:09.123456789Z root
	assert_eq "$(grep '^c-run ' <<<"$out")" "$row" "table row"
	expect_ok sk list --format json
	assert_eq "$(jq -r 'map(.id + ":" + .status + ":" + .owner) | join(" ")' <<<"$out")" \
		"c-ann:stopped:root c-created:created:root c-creating:creating:root c-recycled:stopped:root c-run:running:root c-stopped:stopped:root"
	assert_eq "$(jq -r '.[0] | keys_unsorted | join(",")' <<<"$out")" \
		"ociVersion,id,pid,status,bundle,rootfs,created,owner,annotations"

	kill "$pid"
	wait "$pid" || true
	expect_ok sk state c-run
	assert_eq "$(jq -r .status <<<"$out")" stopped
	rm -rf "${ROOT:?}"/*
}

test_log_json() {
	expect_fail 1 "$SKIFF" --root "$ROOT" --log "$T/log.json" --log-format json state nosuch
	assert_eq "$err" 'skiff state: container "nosuch" does not exist' "stderr still has the error"
	jq -e . "$T/log.json" >/dev/null || fail "log is not JSON lines: $(<"$T/log.json")"
	assert_eq "$(jq -r 'select(.level == "error") | .msg' "$T/log.json")" 'container "nosuch" does not exist'
	jq -e '.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' "$T/log.json" >/dev/null || fail "no time"
	# Usage errors are logged too.
	expect_fail 2 "$SKIFF" --log "$T/log.json" --log-format json list --bogus
	assert_eq "$(jq -r 'select(.level == "error") | .msg' "$T/log.json" | tail -n1)" "unknown flag --bogus"
}

test_log_text() {
	expect_fail 1 "$SKIFF" --root "$ROOT" --log "$T/log" state nosuch
	assert_match "$(<"$T/log")" '^time="[^"]+" level=error msg="container \\"nosuch\\" does not exist"$'
	expect_fail 1 "$SKIFF" --log "$T/nosuch/log" list
	assert_eq "$err" "skiff: open log file \"$T/nosuch/log\": ENOENT"
}

# The harness itself: mk_bundle's bundles validate and keep args verbatim.
test_mk_bundle() {
	mk_bundle "$T/b" sh -c 'echo -n "$0"' --x
	assert_eq "$(cfg_get "$T/b" '.process.args | tojson')" '["sh","-c","echo -n \"$0\"","--x"]'
	assert_eq "$(cfg_get "$T/b" '.process.terminal')" false
	assert_eq "$(cfg_get "$T/b" '.linux.cgroupsPath')" "$SKIFF_TEST_CGROUP/b"
	[[ -x $T/b/rootfs/bin/busybox && -L $T/b/rootfs/bin/sh ]] || fail "no busybox in the rootfs"
	expect_ok "$SKIFF" validate -b "$T/b"
	mk_bundle "$T/c"
	assert_eq "$(cfg_get "$T/c" '.process.args | tojson')" '["sh"]'
}

# validate runs create's compile step (plan.h), so the two agree on every
# fixture: validate says ok exactly when create gets past compiling (a kill
# point there stops it before anything is made), and both refuse a config
# with the same line.
test_cli_validate_agrees_with_create() {
	# Config logic, the same on any kernel: the host's run is enough (600
	# runs of skiff cost minutes under the VM's emulated CPU).
	[[ -z ${SKIFF_IN_VM:-} ]] || skip "compile logic only: run on the host"
	local f b n=0 vr vo ve
	b=$T/b
	mkdir -p "$b/rootfs"
	for f in "$REPO"/spec-fixtures/valid/*.json "$REPO"/spec-fixtures/invalid/*.json; do
		cp "$f" "$b/config.json"
		run "$SKIFF" validate --bundle "$b"
		vr=$status vo=$out ve=${err#skiff validate: }
		run env SKIFF_TEST_KILL_AT=compiled "$SKIFF" --root "$ROOT" create --bundle "$b" agree
		if ((vr == 0)); then
			[[ $vo == ok ]] || fail "${f##*/}: validate printed [$vo]"
			((status == 137)) || fail "${f##*/}: validate says ok, create refuses: $err"
		else
			((status == 1)) || fail "${f##*/}: validate refuses ($ve), create exited $status: $err"
			assert_eq "${err#skiff create: }" "$ve" "${f##*/}: create's error"
		fi
		n=$((n + 1))
	done
	((n > 150)) || fail "only $n fixtures"
	assert_empty_dir "$ROOT"
}

# Flags after the container id, as runc's urfave/cli reorders them (runc
# 1.4, Debian's 1.1): the command's own flags move to the front with their
# values; an unknown one stays an operand; exec and ps do not reorder.
test_cli_flags_after_the_id() {
	require_controller pids
	mk_bundle "$T/c1" sleep 1000
	expect_ok sk run -d --bundle "$T/c1" c1
	expect_ok sk update c1 --pids-limit 30
	assert_eq "$(cg_file c1 pids.max)" 30 pids.max
	expect_ok sk update c1 --pids-limit=31 --memory -1
	assert_eq "$(cg_file c1 pids.max)" 31 pids.max
	expect_fail 2 sk state c1 --bogus
	assert_eq "$err" "skiff state: expects exactly 1 argument (<container-id>), got 2"
	expect_ok sk state -- c1
	# ps passes what follows the id to ps(1).
	expect_ok sk ps c1 -o pid
	assert_match "$out" '^ *PID'
	expect_ok sk kill c1 KILL --all
	expect_ok sk delete c1 --force
	expect_ok sk delete c1 -f
	assert_empty_dir "$ROOT"
}
