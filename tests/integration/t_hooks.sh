# shellcheck shell=bash
# $out, $err and $status come from lib.sh's run; single quotes hold jq and sh code.
# shellcheck disable=SC2154,SC2016
# OCI hooks: each kind at its step of the lifecycle, in its namespaces, with
# the state on stdin; failure semantics per kind; timeouts (docs/hooks.md).

# A hook script for host and container: logs "KIND STATUS ID PID MNTNS"
# from the state on its stdin to the file LOG.
_hook_script() {
	cat >"$1" <<'EOF'
#!/bin/sh
state=$(cat)
field() { printf '%s' "$state" | sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\).*/\1/p"; }
printf '%s %s %s %s %s\n' "$1" "$(field status)" "$(field id)" "$(field pid)" "$(readlink /proc/self/ns/mnt)" >>"$2"
EOF
}

# wait_stopped ID: until the container's process has exited (5 s at most).
wait_stopped() {
	local i
	for ((i = 0; i < 100; i++)); do
		run sk state "$1"
		[[ $(jq -r .status <<<"$out") == stopped ]] && return 0
		sleep 0.05
	done
	fail "container $1 did not stop"
}

test_hooks_every_kind_at_its_step() {
	# The process appends to the log after startContainer.
	mk_bundle "$T/b"
	cfg_edit "$T/b" '.process.args = ["sh", "-c", "echo process >>/hooklog"]'
	_hook_script "$T/hook.sh"
	_hook_script "$T/b/rootfs/hook.sh"
	# createContainer's path resolves in the runtime's namespaces,
	# startContainer's in the container.
	cfg_edit "$T/b" '.root.readonly = false | def h(k; script; log): {path: "/bin/sh", args: ["sh", script, k, log], env: ["PATH=/usr/bin:/bin"]};
		.hooks = {
			prestart: [h("prestart"; $hook; $log)],
			createRuntime: [h("createRuntime"; $hook; $log)],
			createContainer: [h("createContainer"; $hook; $log)],
			startContainer: [h("startContainer"; "/hook.sh"; "/hooklog")],
			poststart: [h("poststart"; $hook; $log)],
			poststop: [h("poststop"; $hook; $log)]
		}' --arg hook "$T/hook.sh" --arg log "$T/log"
	local host_ns lines
	host_ns=$(readlink /proc/self/ns/mnt)

	expect_ok sk create --bundle "$T/b" hk
	expect_ok sk state hk
	local pid
	pid=$(jq -r .pid <<<"$out")
	mapfile -t lines <"$T/log"
	assert_eq "${#lines[@]}" 3 "hooks run by create"
	assert_eq "${lines[0]}" "prestart created hk $pid $host_ns"
	assert_eq "${lines[1]}" "createRuntime creating hk $pid $host_ns"
	assert_match "${lines[2]}" "^createContainer creating hk $pid mnt:" "createContainer"
	local ctr_ns=${lines[2]##* }
	[[ $ctr_ns != "$host_ns" ]] || fail "createContainer ran in the host's mount namespace"
	[[ ! -e $T/b/rootfs/hooklog ]] || fail "startContainer ran at create"

	expect_ok sk start hk
	wait_stopped hk
	mapfile -t lines <"$T/b/rootfs/hooklog"
	assert_eq "${lines[*]}" "startContainer created hk $pid $ctr_ns process" "startContainer, then the process"
	mapfile -t lines <"$T/log"
	assert_eq "${#lines[@]}" 4 "hooks run by start"
	assert_eq "${lines[3]}" "poststart running hk $pid $host_ns"

	expect_ok sk delete hk
	mapfile -t lines <"$T/log"
	assert_eq "${#lines[@]}" 5 "hooks run by delete"
	local f
	read -ra f <<<"${lines[4]}"
	assert_eq "${f[0]} ${f[1]} ${f[2]} ${f[4]}" "poststop stopped hk $host_ns" "poststop (its pid may be 0)"
}

test_hooks_args_and_env_exactly() {
	mk_bundle "$T/b" true
	cfg_edit "$T/b" '.hooks.createRuntime = [{path: "/bin/sh",
		args: ["sh", "-c", "printf \"%s|\" \"$0\" \"$1\" \"$FOO\" \"${HOME-unset}\" >\($out)", "zero", "a b"],
		env: ["FOO=bar baz"]}]' --arg out "$T/out"
	expect_ok sk run --bundle "$T/b" args
	assert_eq "$(<"$T/out")" "zero|a b|bar baz|unset|"
}

test_hooks_failing_create_runtime_leaves_nothing() {
	mk_bundle "$T/b" sleep 100
	cfg_edit "$T/b" '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "exit 3"]},
		{path: "/bin/sh", args: ["sh", "-c", "touch \($m)"]}]' --arg m "$T/second"
	expect_fail 1 sk create --bundle "$T/b" bad
	assert_contains "$err" 'createRuntime hook "/bin/sh": exited with status 3'
	[[ ! -e $T/second ]] || fail "the hook after the failing one ran"
	expect_ok sk list -q
	assert_eq "$out" "" "containers left"
	assert_empty_dir "$ROOT"
}

test_hooks_missing_prestart_fails_create() {
	mk_bundle "$T/b" true
	cfg_edit "$T/b" '.hooks.prestart = [{path: "/nonexistent/hook"}]'
	expect_fail 1 sk create --bundle "$T/b" missing
	assert_contains "$err" 'prestart hook "/nonexistent/hook": ENOENT'
	assert_empty_dir "$ROOT"
}

test_hooks_timeout() {
	mk_bundle "$T/b" true
	cfg_edit "$T/b" '.hooks.createRuntime = [{path: "/bin/sleep", args: ["sleep", "30"], timeout: 1}]'
	local t0=$EPOCHREALTIME
	expect_fail 1 sk create --bundle "$T/b" slow
	local took=$((${EPOCHREALTIME/./} - ${t0/./}))
	assert_contains "$err" 'createRuntime hook "/bin/sleep" timed out after 1s'
	((took >= 900000 && took < 5000000)) || fail "create took ${took}us"
	assert_empty_dir "$ROOT"
	# The runner's leak check finds a surviving hook (its cwd is $T).
}

test_hooks_poststop_failures_only_warn() {
	mk_bundle "$T/b" true
	cfg_edit "$T/b" '.hooks.poststop = [{path: "/bin/false"}, {path: "/bin/sh", args: ["sh", "-c", "echo poststop >>\($log)"]}]' \
		--arg log "$T/log"
	# The log quotes messages, so their own quotes come escaped.
	expect_ok sk run --bundle "$T/b" warn
	assert_contains "$err" 'poststop hook \"/bin/false\": exited with status 1'
	assert_eq "$(<"$T/log")" poststop "the hook after the failing one"
}

test_hooks_failing_poststart_fails_start_and_destroys_the_container() {
	# runtime-spec 1.3, runc 1.5, crun 1.27: start fails, the container is
	# killed and deleted (its poststop hooks run); later poststart hooks
	# do not.
	mk_bundle "$T/b" sleep 100
	cfg_edit "$T/b" '.hooks.poststart = [{path: "/bin/false"}, {path: "/bin/sh", args: ["sh", "-c", "echo poststart >>\($log)"]}]
		| .hooks.poststop = [{path: "/bin/sh", args: ["sh", "-c", "echo poststop >>\($log)"]}]' \
		--arg log "$T/log"
	expect_ok sk create --bundle "$T/b" ps1
	local pid
	pid=$(jq -r .pid <<<"$(sk state ps1)")
	expect_fail 1 sk start ps1
	assert_contains "$err" 'poststart hook "/bin/false": exited with status 1'
	assert_eq "$(<"$T/log")" poststop "only poststop ran"
	# Gone, or a zombie its new parent has yet to reap.
	local st
	st=$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
	[[ -z $st || $st == Z ]] || fail "the init $pid lives on ($st)"
	expect_fail 1 sk state ps1
	assert_empty_dir "$ROOT"
	# run: the same, and its own exit is an error.
	: >"$T/log"
	expect_fail 1 sk run --bundle "$T/b" ps2
	assert_contains "$err" 'poststart hook "/bin/false": exited with status 1'
	assert_eq "$(<"$T/log")" poststop "only poststop ran"
	assert_empty_dir "$ROOT"
}

test_hooks_failing_start_container_stops_the_process() {
	mk_bundle "$T/b"
	cfg_edit "$T/b" '.root.readonly = false | .process.args = ["sh", "-c", "echo ran >/ran"]
		| .hooks.startContainer = [{path: "/bin/false"}]'
	run sk run --bundle "$T/b" sc
	((status != 0)) || fail "run succeeded though startContainer failed"
	assert_contains "$out$err" 'startContainer hook \"/bin/false\": exited with status 1'
	[[ ! -e $T/b/rootfs/ran ]] || fail "the process ran"
	# Without the hook, the same bundle does run it.
	cfg_edit "$T/b" 'del(.hooks)'
	expect_ok sk run --bundle "$T/b" sc
	[[ -e $T/b/rootfs/ran ]] || fail "the process did not run without the hook"
}

test_hooks_can_ask_for_the_state() {
	# state takes no lock: a createRuntime hook may ask while create runs.
	mk_bundle "$T/b" true
	cfg_edit "$T/b" '.hooks.createRuntime = [{path: $skiff, args: ["skiff", "--root", $root, "state", "hs"], timeout: 10}]' \
		--arg skiff "$SKIFF" --arg root "$ROOT"
	expect_ok sk run --bundle "$T/b" hs
	assert_contains "$out" '"status": "creating"'
	assert_contains "$out" '"id": "hs"'
}

test_hooks_poststart_after_the_process_started() {
	# start returns, and runs poststart, only once the process has been
	# exec'd: after the startContainer hooks, however long they take.
	mk_bundle "$T/b" sh -c 'echo process >>/order; sleep 1000'
	cfg_edit "$T/b" '.root.readonly = false
		| .hooks.startContainer = [{path: "/bin/sh", args: ["sh", "-c", "sleep 1; echo startContainer >>/order"]}]
		| .hooks.poststart = [{path: "/bin/sh", args: ["sh", "-c", "echo poststart >>\($o)"]}]' \
		--arg o "$T/b/rootfs/order"
	expect_ok sk create --bundle "$T/b" order
	local t0=$SECONDS
	expect_ok sk start order
	((SECONDS - t0 >= 1)) || fail "start returned before the startContainer hook was done"
	local i
	for ((i = 0; i < 100; i++)); do
		[[ $(wc -l <"$T/b/rootfs/order") -ge 3 ]] && break
		sleep 0.05
	done
	assert_eq "$(head -n1 "$T/b/rootfs/order")" startContainer "the first line"
	assert_contains "$(tail -n2 "$T/b/rootfs/order")" poststart
	expect_ok sk delete -f order
}

# The working directory of hooks, runc's: the runtime's hooks run in the
# bundle, createContainer in the rootfs (before pivot_root), so hooks that
# name files relative to it work; the caller's own directory never counts.
test_hooks_working_directory() {
	mk_bundle "$T/b" true
	cfg_edit "$T/b" 'def h(k): {path: "/bin/sh", args: ["sh", "-c", "echo " + k + " $(pwd) >>" + $log]};
		.hooks = {prestart: [h("prestart")], createRuntime: [h("createRuntime")],
			createContainer: [h("createContainer")], poststart: [h("poststart")], poststop: [h("poststop")]}' \
		--arg log "$T/log"
	mkdir "$T/elsewhere"
	(cd "$T/elsewhere" && expect_ok sk run --bundle "$T/b" c)
	assert_eq "$(<"$T/log")" "prestart $T/b
createRuntime $T/b
createContainer $T/b/rootfs
poststart $T/b
poststop $T/b"
}
