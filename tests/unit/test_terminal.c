#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "skiff/plan/terminal.h"
#include "skiff/base/fdpass.h"

static char tmp[64];

static void setup(void)
{
	strcpy(tmp, "/tmp/skiff-term-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(terminal, .init = setup, .fini = teardown);

/* Read from fd until want is seen (or 5 s pass); returns what was read. */
static const char *read_until(int fd, const char *want)
{
	static char buf[4096];
	size_t len = 0;
	buf[0] = '\0';
	while (!strstr(buf, want) && len < sizeof(buf) - 1) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, 5000) <= 0)
			break;
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
	}
	return buf;
}

Test(terminal, fd_send_and_recv)
{
	int sp[2], p[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	cr_assert_eq(pipe(p), 0);
	struct sk_err err = { 0 };
	cr_assert_eq(sk_fd_send(sp[0], p[1], "/dev/ptmx", &err), 0, "%s", err.msg);
	close(p[1]);
	int got = -1;
	cr_assert_eq(sk_fd_recv(sp[1], &got, &err), 0, "%s", err.msg);
	cr_assert_geq(got, 0);
	cr_assert(fcntl(got, F_GETFD) & FD_CLOEXEC);
	cr_assert_eq(write(got, "hi", 2), 2);
	close(got);
	char b[4] = { 0 };
	cr_assert_eq(read(p[0], b, sizeof(b)), 2);
	cr_assert_str_eq(b, "hi");
	close(p[0]);

	/* A message without an fd, then a closed peer. */
	cr_assert_eq(write(sp[0], "x", 1), 1);
	cr_assert_eq(sk_fd_recv(sp[1], &got, &err), -1);
	cr_assert_eq(got, -1);
	cr_assert_str_eq(err.msg, "receive fd: the message holds no single fd: EPROTO");
	close(sp[0]);
	cr_assert_eq(sk_fd_recv(sp[1], &got, &err), -1);
	cr_assert_str_eq(err.msg, "receive fd: the peer closed the socket");
	close(sp[1]);
}

/* Sends one message of 1 byte with the fds in fds (SCM_RIGHTS). */
static void send_fds(int sock, const int *fds, size_t n)
{
	union { char buf[CMSG_SPACE(4 * sizeof(int))]; struct cmsghdr align; } u;
	memset(&u, 0, sizeof(u));
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = CMSG_SPACE(n * sizeof(int)) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	cr_assert_eq(sendmsg(sock, &mh, 0), 1, "sendmsg: %s", strerror(errno));
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* A message with two or more fds is refused, and none of them stays open
 * in the receiver (fuzz_sockmsg found two left open: two fit in the space
 * kept for one). */
Test(terminal, fd_recv_closes_extra_fds)
{
	int sp[2], fds[3];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	for (int n = 2; n <= 3; n++) {
		for (int i = 0; i < n; i++)
			cr_assert_geq(fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC), 0);
		send_fds(sp[0], fds, (size_t)n);
		/* The lowest free numbers are where the received fds would go. */
		for (int i = 0; i < n; i++)
			close(fds[i]);
		struct sk_err err = { 0 };
		int got = 1234;
		cr_assert_eq(sk_fd_recv(sp[1], &got, &err), -1, "%d fds taken for one", n);
		cr_assert_eq(got, -1);
		cr_assert_str_eq(err.msg, "receive fd: the message holds no single fd: EPROTO");
		for (int i = 0; i < n; i++)
			cr_assert_not(fd_open(fds[i]), "fd %d of the %d received is still open", fds[i], n);
	}
	close(sp[0]);
	close(sp[1]);
}

Test(terminal, fd_send_without_a_name)
{
	int sp[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	struct sk_err err = { 0 };
	cr_assert_eq(sk_fd_send(sp[0], 0, NULL, &err), 0, "%s", err.msg);
	int got = -1;
	cr_assert_eq(sk_fd_recv(sp[1], &got, &err), 0, "%s", err.msg);
	close(got);
	close(sp[0]);
	close(sp[1]);
}

Test(terminal, console_socket_open)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/console.sock", tmp);
	struct sk_err err = { 0 };
	cr_assert_eq(sk_console_socket_open(path, &err), -1);
	cr_assert_eq(err.errnum, ENOENT);

	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, path);
	cr_assert_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(l, 1), 0);
	int fd = sk_console_socket_open(path, &err);
	cr_assert_geq(fd, 0, "%s", err.msg);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	int c = accept(l, NULL, NULL);
	cr_assert_geq(c, 0);
	close(c);
	close(fd);
	close(l);

	char long_path[200];
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	cr_assert_eq(sk_console_socket_open(long_path, &err), -1);
	cr_assert_eq(err.errnum, ENAMETOOLONG);
}

/* Child: a private mount namespace and root holding only a devpts
 * instance, like a container after pivot_root; then sk_terminal_setup.
 * Exit codes tell which check failed. */
static _Noreturn void setup_child(int sock, int report, const char *root, bool console_symlink)
{
	if (unshare(CLONE_NEWNS) < 0)
		_exit(errno == EPERM ? 77 : 10);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || mount("tmpfs", root, "tmpfs", 0, NULL) < 0 ||
	    chdir(root) < 0 || mkdir("dev", 0755) < 0 || mkdir("dev/pts", 0755) < 0)
		_exit(11);
	if (mount("devpts", "dev/pts", "devpts", 0, "newinstance,ptmxmode=0666,mode=0620") < 0)
		_exit(errno == EPERM || errno == ENODEV ? 77 : 12);
	if (symlink("pts/ptmx", "dev/ptmx") < 0 || (console_symlink && symlink("/elsewhere", "dev/console") < 0) ||
	    chroot(".") < 0 || chdir("/") < 0)
		_exit(13);
	struct sk_process p = { .terminal = true, .has_console_size = true, .console_height = 25, .console_width = 91,
				.user = { .uid = 1234 } };
	struct sk_err err = { 0 };
	if (sk_terminal_setup(sock, &p, true, &err) < 0) {
		dprintf(report, "%s", err.msg);
		_exit(20);
	}
	close(report);
	/* fds 0-2 are the slave, our controlling terminal, bound on /dev/console. */
	struct stat s0, s2, con;
	if (fstat(0, &s0) < 0 || fstat(2, &s2) < 0 || stat("/dev/console", &con) < 0)
		_exit(21);
	if (!S_ISCHR(s0.st_mode) || s0.st_rdev != s2.st_rdev || con.st_rdev != s0.st_rdev)
		_exit(22);
	if (s0.st_uid != 1234)
		_exit(23);
	if (tcgetsid(0) != getpid() || getsid(0) != getpid())
		_exit(24);
	if (fcntl(sock, F_GETFD) >= 0)
		_exit(25);
	char line[16] = { 0 };
	if (read(0, line, sizeof(line) - 1) <= 0 || strcmp(line, "ping\n") != 0)
		_exit(26);
	if (write(1, "pong\n", 5) != 5)
		_exit(27);
	_exit(0);
}

static int run_setup_child(bool console_symlink, int *master, char *msg, size_t msg_len)
{
	int sp[2], rp[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	cr_assert_eq(pipe(rp), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(sp[0]);
		close(rp[0]);
		setup_child(sp[1], rp[1], tmp, console_symlink);
	}
	close(sp[1]);
	close(rp[1]);
	struct sk_err err = { 0 };
	*master = -1;
	if (sk_fd_recv(sp[0], master, &err) < 0)
		*master = -1;
	ssize_t n = read(rp[0], msg, msg_len - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(rp[0]);
	close(sp[0]);
	return pid;
}

static int exit_code(pid_t pid)
{
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

Test(terminal, setup_in_a_container_like_root)
{
	int master;
	char msg[512];
	pid_t pid = run_setup_child(false, &master, msg, sizeof(msg));
	if (master < 0) {
		int code = exit_code(pid);
		if (code == 77)
			cr_skip_test("needs mount namespaces and devpts (root)");
		cr_assert_fail("child exited %d before sending the master: %s", code, msg);
	}
	struct winsize ws;
	cr_assert_eq(ioctl(master, TIOCGWINSZ, &ws), 0);
	cr_assert_eq(ws.ws_row, 25);
	cr_assert_eq(ws.ws_col, 91);
	cr_assert_eq(write(master, "ping\n", 5), 5);
	cr_assert_not_null(strstr(read_until(master, "pong"), "pong\r\n"));
	cr_assert_eq(exit_code(pid), 0);
	close(master);
}

Test(terminal, setup_refuses_a_console_symlink)
{
	int master;
	char msg[512];
	pid_t pid = run_setup_child(true, &master, msg, sizeof(msg));
	cr_assert_eq(master, -1);
	int code = exit_code(pid);
	if (code == 77)
		cr_skip_test("needs mount namespaces and devpts (root)");
	cr_assert_eq(code, 20);
	cr_assert_str_eq(msg, "mount the pty on \"/dev/console\": not a file or device: EINVAL");
}

/* A container-side pty whose slave runs fn in a new session. */
struct ctr { int master, slave; pid_t pid; };

static struct ctr start_ctr(void (*fn)(void))
{
	struct ctr c;
	cr_assert_eq(openpty(&c.master, &c.slave, NULL, NULL, NULL), 0);
	struct termios t;
	cr_assert_eq(tcgetattr(c.slave, &t), 0);
	cfmakeraw(&t);
	cr_assert_eq(tcsetattr(c.slave, TCSANOW, &t), 0);
	c.pid = fork();
	cr_assert_geq(c.pid, 0);
	if (c.pid == 0) {
		setsid();
		ioctl(c.slave, TIOCSCTTY, 0);
		dup2(c.slave, 0);
		dup2(c.slave, 1);
		close(c.master);
		fn();
		_exit(0);
	}
	return c;
}

/* Proxy in a child with fds 0 and 1 given; returns its pid. */
static pid_t start_proxy(int in, int out, int master, int pidfd, int *close_in_child, int n_close)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		for (int i = 0; i < n_close; i++)
			close(close_in_child[i]);
		dup2(in, 0);
		dup2(out, 1);
		struct sk_err err = { 0 };
		int r = sk_console_proxy(master, pidfd, NULL, &err);
		if (r < 0)
			dprintf(2, "proxy: %s\n", err.msg);
		_exit(r < 0 ? 1 : 0);
	}
	return pid;
}

static void echo_line(void)
{
	char line[64];
	size_t n = 0;
	while (n < sizeof(line) - 1 && read(0, line + n, 1) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
	dprintf(1, "got %s\n", line);
}

Test(terminal, proxy_copies_both_ways)
{
	struct ctr c = start_ctr(echo_line);
	close(c.slave);
	int in[2], out[2];
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	int child_close[] = { in[1], out[0] };
	pid_t proxy = start_proxy(in[0], out[1], c.master, -1, child_close, 2);
	close(in[0]);
	close(out[1]);
	close(c.master);
	cr_assert_eq(write(in[1], "hello\n", 6), 6);
	close(in[1]);
	/* The proxy ends when the pty hangs up, closing its stdout. */
	char buf[128];
	size_t len = 0;
	ssize_t n;
	while ((n = read(out[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	cr_assert_str_eq(buf, "got hello\n");
	close(out[0]);
	cr_assert_eq(exit_code(proxy), 0);
	cr_assert_eq(exit_code(c.pid), 0);
}

static void say_bye(void)
{
	dprintf(1, "bye\n");
}

Test(terminal, proxy_ends_with_the_process_though_the_slave_stays_open)
{
	struct ctr c = start_ctr(say_bye);
	int pidfd = pidfd_open(c.pid, 0);
	cr_assert_geq(pidfd, 0);
	int in[2], out[2];
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	int child_close[] = { in[1], out[0], c.slave };
	pid_t proxy = start_proxy(in[0], out[1], c.master, pidfd, child_close, 3);
	close(in[0]);
	close(out[1]);
	/* We keep c.slave open: no hang-up comes, the pidfd ends the proxy. */
	const char *got = read_until(out[0], "\n");
	cr_assert_str_eq(got, "bye\n");
	cr_assert_eq(exit_code(proxy), 0);
	cr_assert_eq(exit_code(c.pid), 0);
	close(pidfd);
	close(in[1]);
	close(out[0]);
	close(c.slave);
	close(c.master);
}

/* Wait up to 5 s for our terminal to get the given size; say so. */
static void wait_size(unsigned short rows, unsigned short cols, const char *say)
{
	for (int i = 0; i < 500; i++) {
		struct winsize ws;
		if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row == rows && ws.ws_col == cols) {
			dprintf(1, "%s\n", say);
			return;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	dprintf(1, "timeout\n");
	_exit(1);
}

static void watch_sizes(void)
{
	wait_size(33, 111, "sized");
	wait_size(44, 122, "resized");
}

Test(terminal, proxy_raw_mode_and_window_size)
{
	/* The caller's terminal: cm is what the user would see. */
	int cm, cs;
	cr_assert_eq(openpty(&cm, &cs, NULL, NULL, &(struct winsize){ .ws_row = 33, .ws_col = 111 }), 0);
	struct termios before;
	cr_assert_eq(tcgetattr(cs, &before), 0);
	cr_assert(before.c_lflag & ICANON);

	struct ctr c = start_ctr(watch_sizes);
	close(c.slave);
	int child_close[] = { cm };
	pid_t proxy = start_proxy(cs, cs, c.master, -1, child_close, 1);
	close(c.master);

	cr_assert_str_eq(read_until(cm, "\n"), "sized\n");
	struct termios during;
	cr_assert_eq(tcgetattr(cs, &during), 0);
	cr_assert_eq(during.c_lflag & (ICANON | ECHO), 0);
	cr_assert_eq(ioctl(cs, TIOCSWINSZ, &(struct winsize){ .ws_row = 44, .ws_col = 122 }), 0);
	cr_assert_eq(kill(proxy, SIGWINCH), 0);
	cr_assert_str_eq(read_until(cm, "\n"), "resized\n");

	cr_assert_eq(exit_code(proxy), 0);
	cr_assert_eq(exit_code(c.pid), 0);
	struct termios after;
	cr_assert_eq(tcgetattr(cs, &after), 0);
	cr_assert_eq(after.c_lflag, before.c_lflag);
	cr_assert_eq(after.c_oflag, before.c_oflag);
	close(cs);
	close(cm);
}
