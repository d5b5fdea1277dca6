/* idmap: the id maps of a new user namespace, written directly or through
 * newuidmap/newgidmap (idmap.h). */
#include "skiff/plan/idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

bool sk_idmap_single_own(const char *map, unsigned own)
{
	unsigned c, h, n;
	int end = 0;
	return sscanf(map, "%u %u %u\n%n", &c, &h, &n, &end) == 3 && end > 0 && map[end] == '\0' && h == own &&
	       n == 1;
}

static int write_proc(pid_t pid, const char *file, const char *data, struct sk_err *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sk_error(err, errno, "open \"%s\"", path);
	size_t len = strlen(data);
	ssize_t n = write(fd, data, len);
	int e = errno;
	close(fd);
	if (n != (ssize_t)len)
		return sk_error(err, n < 0 ? e : EIO, "write \"%s\"", path);
	return 0;
}

/* "0 1001 1\n1 100000 65536\n" as "0 1001 1, 1 100000 65536", for messages. */
static void map_text(const char *map, char *out, size_t cap)
{
	size_t o = 0;
	for (const char *p = map; *p && o + 3 < cap; p++) {
		if (*p == '\n') {
			if (p[1])
				out[o++] = ',', out[o++] = ' ';
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

/* The helper's first line of stderr, trimmed, into msg. */
static void first_line(char *buf, size_t n, char *msg, size_t cap)
{
	buf[n] = '\0';
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	snprintf(msg, cap, "%.200s", buf);
}

/* Run helper PID c h s ... (the map's fields as arguments); 10 s at most. */
static int run_helper(const char *helper, pid_t pid, const char *map, struct sk_err *err)
{
	char *args[3 + 3 * 340 + 1];
	char pidbuf[16], copy[1024];
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	snprintf(copy, sizeof(copy), "%s", map);
	size_t n = 0;
	args[n++] = (char *)helper;
	args[n++] = pidbuf;
	char *save = NULL;
	for (char *t = strtok_r(copy, " \n", &save); t && n < sizeof(args) / sizeof(args[0]) - 1;
	     t = strtok_r(NULL, " \n", &save))
		args[n++] = t;
	args[n] = NULL;
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return sk_error(err, errno, "pipe");
	pid_t child = fork();
	if (child < 0) {
		int e = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return sk_error(err, e, "fork %s", helper);
	}
	if (child == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
		}
		execvp(helper, args);
		dprintf(STDERR_FILENO, "%s: %s (install uidmap)", helper, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	char buf[512];
	size_t got = 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int left = 10000 - (int)((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
		if (left <= 0 || poll(&p, 1, left) == 0) {
			kill(child, SIGKILL);
			break;
		}
		ssize_t r = read(pipefd[0], buf + got, sizeof(buf) - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == sizeof(buf) - 1)
			break;      /* enough for a message; the rest is dropped with the pipe */
	}
	close(pipefd[0]);
	int status;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	char msg[256];
	first_line(buf, got, msg, sizeof(msg));
	if (!msg[0])
		snprintf(msg, sizeof(msg), "%s %s", helper, WIFEXITED(status) ? "failed" : "was killed");
	return sk_error(err, 0, "%s", msg);
}

static int write_one(pid_t pid, bool uid, const char *map, bool privileged, struct sk_err *err)
{
	const char *file = uid ? "uid_map" : "gid_map";
	int r;
	if (privileged) {
		r = write_proc(pid, file, map, err);
	} else if (sk_idmap_single_own(map, uid ? geteuid() : getegid())) {
		/* Only a process that cannot drop groups by setgroups may map
		 * its own gid without privilege. */
		r = (uid ? 0 : write_proc(pid, "setgroups", "deny", err));
		if (r == 0)
			r = write_proc(pid, file, map, err);
	} else {
		r = run_helper(uid ? "newuidmap" : "newgidmap", pid, map, err);
	}
	if (r < 0) {
		char text[256];
		map_text(map, text, sizeof(text));
		sk_error_wrap(err, "user namespace %s mappings \"%s\"", uid ? "uid" : "gid", text);
	}
	return r;
}

int sk_idmap_write(pid_t pid, const char *uid_map, const char *gid_map, bool privileged, struct sk_err *err)
{
	if (uid_map[0] && write_one(pid, true, uid_map, privileged, err) < 0)
		return -1;
	if (gid_map[0] && write_one(pid, false, gid_map, privileged, err) < 0)
		return -1;
	return 0;
}
