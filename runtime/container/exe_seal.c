/* exe_seal: re-execute skiff from a binary no one can write (exe_seal.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "skiff/container/exe_seal.h"
#include "skiff/base/log.h"

/* Set across the re-exec only: tells the new image that the read-only
 * mount it runs from is the one skiff made, not one an administrator could
 * remount writable.  Removed at once, so nothing skiff starts inherits it. */
#define SEALED_ENV "_SKIFF_SEALED_EXE"

#define WRITE_SEALS (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW)

static bool write_sealed(int fd)
{
	int s = fcntl(fd, F_GET_SEALS);
	return s >= 0 && (s & WRITE_SEALS) == WRITE_SEALS;
}

static bool read_only_mount(int fd)
{
	struct statvfs v;
	return fstatvfs(fd, &v) == 0 && (v.f_flag & ST_RDONLY);
}

/* A detached bind mount of the binary itself, made read-only.  Its fd is
 * close-on-exec: when execveat closes it, the mount leaves its anonymous
 * namespace and only the new image's exe keeps it alive, where neither
 * mount_setattr nor open_tree can reach it. */
static int ro_bind(int exe_fd)
{
	int fd = open_tree(exe_fd, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd < 0)
		return -1;
	struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
	if (mount_setattr(fd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int memfd_copy(int exe_fd, struct sk_err *err)
{
	struct stat st;
	if (fstat(exe_fd, &st) < 0)
		return sk_error(err, errno, "fstat /proc/self/exe");
	int fd = memfd_create("skiff", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return sk_error(err, errno, "memfd_create for a sealed copy of skiff");
	off_t off = 0;
	while (off < st.st_size) {
		ssize_t n = sendfile(fd, exe_fd, &off, (size_t)(st.st_size - off));
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			return sk_error(err, e, "copy skiff into a memfd");
		}
	}
	if (fcntl(fd, F_ADD_SEALS, WRITE_SEALS | F_SEAL_SEAL) < 0) {
		int e = errno;
		close(fd);
		return sk_error(err, e, "seal the memfd copy of skiff");
	}
	return fd;
}

int sk_exe_seal(char **argv, struct sk_err *err)
{
	int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe < 0)
		return sk_error(err, errno, "open /proc/self/exe");
	bool reexeced = getenv(SEALED_ENV) != NULL;
	if (reexeced)
		unsetenv(SEALED_ENV);
	bool sealed = write_sealed(exe);
	if (sealed || (reexeced && read_only_mount(exe))) {
		close(exe);
		sk_debug("running from a %s", sealed ? "write-sealed memfd" : "detached read-only bind mount");
		if (prctl(PR_SET_DUMPABLE, 0) < 0)
			return sk_error(err, errno, "prctl PR_SET_DUMPABLE 0");
		return 0;
	}
	if (reexeced) {
		close(exe);
		return sk_error(err, 0, "re-executed from a sealed copy, but /proc/self/exe is still writable");
	}
	int fd = ro_bind(exe);
	if (fd < 0)
		fd = memfd_copy(exe, err);
	close(exe);
	if (fd < 0)
		return -1;
	extern char **environ;
	if (setenv(SEALED_ENV, "1", 1) < 0) {
		close(fd);
		return sk_error(err, errno, "setenv " SEALED_ENV);
	}
	syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
	int e = errno;
	unsetenv(SEALED_ENV);
	close(fd);
	return sk_error(err, e, "execveat the sealed copy of skiff");
}
