# shellcheck shell=bash
# $out, $err and $status come from lib.sh's run; single quotes hold jq and sh code.
# shellcheck disable=SC2154,SC2016
# process.terminal: runc's console-socket protocol, the pty inside the
# container, and `run` on its caller's stdio (docs/terminal.md).

# tty_bundle DIR SCRIPT [JQ EXPR]: a bundle running sh -c SCRIPT on a terminal.
tty_bundle() {
	mk_bundle "$1"
	cfg_edit "$1" '.process.terminal = true | .process.args = ["sh", "-c", $s] | '"${3:-.}" --arg s "$2"
}

test_terminal_console_socket() {
	# A non-root user, who must still be able to reopen the terminal.
	tty_bundle "$T/b" 'read l; echo "got $l"; tty; stty size
		[ /dev/console -ef /proc/self/fd/0 ] && echo console-is-the-tty
		echo reopened >/dev/stdout' \
		'.process.consoleSize = {height: 30, width: 100} | .process.user = {uid: 1000, gid: 1000}'
	start_recvtty $'hello\n'
	expect_ok sk run --bundle "$T/b" --console-socket "$T/tty.sock" term
	wait "$recv_pid" || fail "recvtty failed: $(<"$T/recv.err")"
	assert_eq "$(<"$T/recv.out")" $'name=/dev/ptmx\nsize=30x100' "what recvtty received"
	local lines
	mapfile -t lines < <(tr -d '\r' <"$T/tty.out")
	# The pty echoes the input first.
	assert_eq "${lines[*]}" "hello got hello /dev/pts/0 30 100 console-is-the-tty reopened" "terminal output"
}

test_terminal_create_then_start() {
	tty_bundle "$T/b" 'echo started; exit 3'
	start_recvtty ""
	expect_ok sk create --bundle "$T/b" --console-socket "$T/tty.sock" cs
	# The receiver has the master as soon as create returns.
	assert_eq "$(<"$T/recv.out")" $'name=/dev/ptmx\nsize=0x0' "what recvtty received"
	expect_ok sk start cs
	wait "$recv_pid" || fail "recvtty failed: $(<"$T/recv.err")"
	assert_eq "$(tr -d '\r' <"$T/tty.out")" "started"
	expect_ok sk delete cs
}

test_terminal_create_needs_a_console_socket() {
	tty_bundle "$T/b" true
	expect_fail 1 sk create --bundle "$T/b" nosock
	assert_contains "$err" "--console-socket is required"
	assert_empty_dir "$ROOT"
	expect_fail 1 sk create --bundle "$T/b" --console-socket "$T/nosuch.sock" nosock
	assert_contains "$err" "connect to console socket \"$T/nosuch.sock\": ENOENT"
	assert_empty_dir "$ROOT"
}

test_terminal_run_on_the_callers_stdio() {
	tty_bundle "$T/b" 'read l; echo "got $l"; tty; exit 7'
	expect_fail 7 sk run --bundle "$T/b" fg <<<"hello"
	local lines
	mapfile -t lines < <(tr -d '\r' <<<"$out")
	assert_eq "${lines[*]}" "hello got hello /dev/pts/0" "run's output"
}

# A "ro" /dev with a terminal: /dev/console is made before /dev goes
# read-only, and the pty is bound there (t_mounts: the rest).
test_terminal_readonly_dev() {
	tty_bundle "$T/t" '[ /dev/console -ef /proc/self/fd/0 ] && echo console-is-the-tty; touch /dev/new 2>/dev/null || echo read-only'
	cfg_edit "$T/t" '(.mounts[] | select(.destination == "/dev") | .options) += ["ro"]'
	start_recvtty ''
	expect_ok sk run --bundle "$T/t" --console-socket "$T/tty.sock" rodevt
	wait "$recv_pid" || fail "recvtty failed: $(<"$T/recv.err")"
	assert_eq "$(tr -d '\r' <"$T/tty.out")" $'console-is-the-tty\nread-only'
	assert_empty_dir "$ROOT"
}
