/* terminal: the container's pty (runc's console-socket protocol) and
 * `run`'s proxy between it and the caller's terminal.  See terminal.h. */
#include "skiff/plan/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "skiff/base/fdpass.h"
#include "skiff/base/pidfd.h"

/* After its process exits, a pty may still have output in flight (the
 * kernel moves it to the master asynchronously) when another process keeps
 * the slave open: wait this long for it. */
#define PROXY_TAIL_MS 100

int sk_console_socket_open(const char *path, struct sk_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof(sa.sun_path))
		return sk_error(err, ENAMETOOLONG, "console socket \"%s\"", path);
	memcpy(sa.sun_path, path, len);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sk_error(err, errno, "console socket \"%s\": socket", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return sk_error(err, e, "connect to console socket \"%s\"", path);
	}
	return fd;
}

static int openat2_(int dirfd, const char *path, uint64_t flags, struct sk_err *err)
{
	/* After pivot_root every ordinary symlink stays in the container; a
	 * /proc magic link could lead to the runtime's own fds. */
	struct open_how how = { .flags = flags, .resolve = RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd < 0)
		return sk_error(err, errno, "open \"/dev/%s\"", path);
	return fd;
}

/* Bind the pty slave over /dev/console, through fds: no /proc needed. */
static int mount_console(int dev, int slave, struct sk_err *err)
{
	if (mknodat(dev, "console", S_IFREG | 0666, 0) < 0 && errno != EEXIST)
		return sk_error(err, errno, "create \"/dev/console\"");
	int target = openat2_(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC, err);
	if (target < 0)
		return -1;
	int r = -1;
	struct stat st;
	if (fstat(target, &st) < 0) {
		sk_error(err, errno, "stat \"/dev/console\"");
		goto out;
	}
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
		sk_error(err, EINVAL, "mount the pty on \"/dev/console\": not a file or device");
		goto out;
	}
	int tree = open_tree(slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0) {
		sk_error(err, errno, "mount the pty on \"/dev/console\": open_tree");
		goto out;
	}
	if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		sk_error(err, errno, "mount the pty on \"/dev/console\"");
	else
		r = 0;
	close(tree);
out:
	close(target);
	return r;
}

int sk_terminal_setup(int socket_fd, const struct sk_process *p, bool console, struct sk_err *err)
{
	int r = -1, master = -1, slave = -1;
	int dev = openat2_(AT_FDCWD, "/dev", O_PATH | O_DIRECTORY | O_CLOEXEC, err);
	if (dev < 0)
		goto out;
	master = openat2_(dev, "ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC, err);
	if (master < 0)
		goto out;
	unsigned int ptn;
	int unlock = 0;
	if (ioctl(master, TIOCGPTN, &ptn) < 0) {
		sk_error(err, errno, "\"/dev/ptmx\" is not a pty multiplexer");
		goto out;
	}
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0) {
		sk_error(err, errno, "unlock pty %u", ptn);
		goto out;
	}
	if (p->has_console_size) {
		struct winsize ws = { .ws_row = (unsigned short)p->console_height,
				      .ws_col = (unsigned short)p->console_width };
		if (ioctl(master, TIOCSWINSZ, &ws) < 0) {
			sk_error(err, errno, "set the size of pty %u", ptn);
			goto out;
		}
	}
	/* Opened through the master, not by name: it is this pty's slave. */
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		sk_error(err, errno, "open \"/dev/pts/%u\"", ptn);
		goto out;
	}
	if (console && mount_console(dev, slave, err) < 0)
		goto out;
	/* The process's user must be able to reopen its terminal (/dev/stdout,
	 * /proc/self/fd/0); the group stays devpts's (tty). */
	if (fchown(slave, p->user.uid, (gid_t)-1) < 0) {
		sk_error(err, errno, "chown \"/dev/pts/%u\" to %u", ptn, p->user.uid);
		goto out;
	}
	if (setsid() < 0 && getsid(0) != getpid()) {
		sk_error(err, errno, "setsid");
		goto out;
	}
	if (ioctl(slave, TIOCSCTTY, 0) < 0) {
		sk_error(err, errno, "make \"/dev/pts/%u\" the controlling terminal", ptn);
		goto out;
	}
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0) {
			sk_error(err, errno, "dup \"/dev/pts/%u\" to fd %d", ptn, fd);
			goto out;
		}
	if (sk_fd_send(socket_fd, master, "/dev/ptmx", err) < 0)
		goto out;
	r = 0;
out:
	if (slave > 2)
		close(slave);
	if (master >= 0)
		close(master);
	if (dev >= 0)
		close(dev);
	close(socket_fd);
	return r;
}

static void copy_winsize(int tty, int master)
{
	struct winsize ws;
	if (ioctl(tty, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

/* Blocking write of all of buf; fd 1 may have been left non-blocking. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			poll(&pf, 1, -1);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int proxy_loop(int master, int pidfd, int sfd, int tty, struct sk_err *err)
{
	char in[4096], out[16384];
	size_t in_off = 0, in_len = 0;
	bool in_open = true, out_ok = true;
	int64_t tail_end = -1;         /* set once the process has exited */
	for (;;) {
		struct pollfd pf[4] = {
			{ .fd = in_open && in_len == 0 ? 0 : -1, .events = POLLIN },
			{ .fd = master, .events = POLLIN | (in_len ? POLLOUT : 0) },
			{ .fd = tail_end < 0 ? pidfd : -1, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		int wait_ms = -1;
		if (tail_end >= 0) {
			int64_t left = tail_end - now_ms();
			if (left <= 0)
				return 0;
			wait_ms = (int)left;
		}
		int n = poll(pf, 4, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sk_error(err, errno, "terminal: poll");
		if (n == 0)
			return 0;
		if (pf[0].revents) {
			ssize_t k = read(0, in, sizeof(in));
			if (k > 0) {
				in_off = 0;
				in_len = (size_t)k;
			} else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
				in_open = false;
			}
		}
		if (pf[1].revents & POLLOUT) {
			ssize_t k = write(master, in + in_off, in_len);
			if (k > 0) {
				in_off += (size_t)k;
				in_len -= (size_t)k;
			} else if (k < 0 && errno != EAGAIN && errno != EINTR) {
				in_len = 0;
				in_open = false;
			}
		}
		if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t k = read(master, out, sizeof(out));
			/* EIO: no slave is left; the output is all read. */
			if (k == 0 || (k < 0 && errno == EIO))
				return 0;
			if (k < 0 && errno != EAGAIN && errno != EINTR)
				return sk_error(err, errno, "terminal: read the pty");
			/* Once our stdout is gone, keep draining so the process never blocks. */
			if (k > 0 && out_ok && write_all(1, out, (size_t)k) < 0)
				out_ok = false;
		}
		if (pf[2].revents)
			tail_end = now_ms() + PROXY_TAIL_MS;
		if (pf[3].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGWINCH && tty >= 0)
					copy_winsize(tty, master);
				else if (si.ssi_signo != SIGWINCH && pidfd >= 0)
					sk_pidfd_signal(pidfd, (int)si.ssi_signo);
			}
		}
	}
}

int sk_console_proxy(int master, int pidfd, const sigset_t *forward, struct sk_err *err)
{
	int tty = -1;
	for (int fd = 0; fd < 3 && tty < 0; fd++)
		if (isatty(fd))
			tty = fd;
	struct termios saved;
	sigset_t set, old_mask;
	if (forward)
		set = *forward;
	else
		sigemptyset(&set);
	if (tty >= 0)
		sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, &old_mask);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
		return sk_error(err, errno, "terminal: signalfd");
	}
	int r;
	if (tty >= 0) {
		struct termios raw;
		if (tcgetattr(tty, &saved) < 0) {
			r = sk_error(err, errno, "terminal: tcgetattr fd %d", tty);
			goto out;
		}
		raw = saved;
		cfmakeraw(&raw);
		if (tcsetattr(tty, TCSANOW, &raw) < 0) {
			r = sk_error(err, errno, "terminal: raw mode on fd %d", tty);
			goto out;
		}
		copy_winsize(tty, master);
	}
	int fl = fcntl(master, F_GETFL);
	if (fl < 0 || fcntl(master, F_SETFL, fl | O_NONBLOCK) < 0)
		r = sk_error(err, errno, "terminal: set the pty non-blocking");
	else
		r = proxy_loop(master, pidfd, sfd, tty, err);
	if (tty >= 0)
		tcsetattr(tty, TCSANOW, &saved);
out:
	close(sfd);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	return r;
}
