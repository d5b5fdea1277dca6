/* start and delete (manage.h). */
#include "manage.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "containerd/runc_options.pb-c.h"
#include "containerd/shim.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "rootfs.h"
#include "sha256.h"
#include "skiff/base/log.h"
#include "skiff/base/util.h"
#include "skiff/spec/json.h"

extern char **environ;

/* Annotations that put containers in one shim, in containerd's order. */
static const char *const group_keys[] = { "io.containerd.runc.v2.group", "io.kubernetes.cri.sandbox-id" };

#define RUNC_OPTIONS_TYPE "containerd.runc.v1.Options"
/* What is read of start's stdin (an Any with the runc options). */
#define START_STDIN_MAX 65536
/* How long the runtime's delete --force may take. */
#define DELETE_TIMEOUT_MS 30000

int ctrd_path_join3(const char *a, const char *b, const char *c, char *out, size_t cap)
{
	char joined[PATH_MAX * 2];
	const char *parts[3] = { a, b, c };
	size_t len = 0;
	joined[0] = '\0';
	for (int i = 0; i < 3; i++) {
		if (!parts[i] || !*parts[i])
			continue;
		int n = snprintf(joined + len, sizeof(joined) - len, "%s%s", len ? "/" : "", parts[i]);
		if (n < 0 || (size_t)n >= sizeof(joined) - len)
			return -1;
		len += (size_t)n;
	}
	/* Clean, as Go's path.Clean: each kept element's offset in out is on a
	 * stack, so that ".." drops the last one (a leading ".." of a relative
	 * path is kept, one of a rooted path dropped). */
	bool rooted = joined[0] == '/';
	size_t o = 0, stack[PATH_MAX / 2];
	size_t depth = 0;
	if (cap < 2)
		return -1;
	if (rooted)
		out[o++] = '/';
	char *save = NULL;
	for (char *e = strtok_r(joined, "/", &save); e; e = strtok_r(NULL, "/", &save)) {
		if (!strcmp(e, "."))
			continue;
		if (!strcmp(e, "..") && depth) {
			o = stack[--depth];
			if (o > (rooted ? 1u : 0u))
				o--; /* its '/' */
			continue;
		}
		if (!strcmp(e, "..") && rooted)
			continue;
		size_t n = strlen(e);
		bool sep = o > (rooted ? 1u : 0u);
		if (o + sep + n + 1 > cap)
			return -1;
		if (sep)
			out[o++] = '/';
		if (strcmp(e, "..")) /* a leading ".." of a relative path stays */
			stack[depth++] = o;
		memcpy(out + o, e, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	return 0;
}

int ctrd_socket_address(const char *address, const char *ns, const char *group, char *out, size_t cap,
			struct sk_err *err)
{
	char key[PATH_MAX * 2], hex[2 * SHA256_LEN + 1];
	if (ctrd_path_join3(address, ns, group, key, sizeof(key)) < 0)
		return sk_error(err, ENAMETOOLONG, "socket name for %s", group);
	sha256_hex(key, strlen(key), hex);
	int n = snprintf(out, cap, "unix://%s/%s", CTRD_SOCKET_DIR, hex);
	if (n < 0 || (size_t)n >= cap)
		return sk_error(err, ENAMETOOLONG, "socket address");
	return 0;
}

int ctrd_group(int dir_fd, const char *id, char **out, struct sk_err *err)
{
	char *buf;
	size_t len;
	if (sk_read_file_at(dir_fd, "config.json", NULL, 16u << 20, &buf, &len, err) < 0)
		return -1;
	struct sk_jdoc doc;
	int rc = sk_jdoc_parse("config.json", buf, len, &doc, err);
	free(buf);
	if (rc < 0)
		return -1;
	const char *group = id;
	const struct sk_jv *ann = doc.root && doc.root->type == SK_JOBJ ? sk_jmember(doc.root, "annotations") : NULL;
	for (size_t i = 0; ann && ann->type == SK_JOBJ && i < 2 && group == id; i++) {
		const struct sk_jv *v = sk_jmember(ann, group_keys[i]);
		if (v && v->type == SK_JSTR && v->u.s[0])
			group = v->u.s;
	}
	*out = strdup(group);
	sk_jdoc_free(&doc);
	if (!*out)
		return sk_error(err, ENOMEM, "group");
	return 0;
}

void ctrd_runtime_default(struct ctrd_runtime *rt, const char *binary, const char *root, const char *ns)
{
	memset(rt, 0, sizeof(*rt));
	snprintf(rt->binary, sizeof(rt->binary), "%s", binary && *binary ? binary : "skiff");
	if (root && *root) {
		snprintf(rt->root, sizeof(rt->root), "%s", root);
	} else {
		const char *base = strrchr(rt->binary, '/');
		base = base ? base + 1 : rt->binary;
		if (snprintf(rt->root, sizeof(rt->root), "/run/containerd/%.200s/%.200s", base, ns) < 0)
			rt->root[0] = '\0';
	}
}

int ctrd_runtime_save(int dir_fd, const struct ctrd_runtime *rt, struct sk_err *err)
{
	char buf[8300];
	int n = snprintf(buf, sizeof(buf), "%s\n%s\n%s", rt->binary, rt->root,
			 rt->systemd_cgroup ? "systemd-cgroup\n" : "");
	return sk_write_file_atomic_at(dir_fd, "shim-runtime", buf, (size_t)n, 0600, err);
}

int ctrd_runtime_load(int dir_fd, const char *ns, struct ctrd_runtime *rt, struct sk_err *err)
{
	char *buf;
	ctrd_runtime_default(rt, NULL, NULL, ns);
	if (sk_read_file_at(dir_fd, "shim-runtime", NULL, sizeof(rt->binary) + sizeof(rt->root) + 32, &buf, NULL,
			    err) < 0)
		return err->errnum == ENOENT ? 0 : -1;
	char *save = NULL, *bin = strtok_r(buf, "\n", &save), *root = strtok_r(NULL, "\n", &save);
	char *flag = strtok_r(NULL, "\n", &save);
	if (!bin || !root || strlen(bin) >= sizeof(rt->binary) || strlen(root) >= sizeof(rt->root)) {
		free(buf);
		return sk_error(err, EINVAL, "shim-runtime: malformed");
	}
	strcpy(rt->binary, bin);
	strcpy(rt->root, root);
	rt->systemd_cgroup = flag && !strcmp(flag, "systemd-cgroup");
	free(buf);
	return 0;
}

/* Bind and listen on path.  Returns the fd, or -1; EADDRINUSE in err when
 * something is there already. */
static int listen_on(const char *path, struct sk_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return sk_error(err, ENAMETOOLONG, "socket %s", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sk_error(err, errno, "socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
		int e = errno;
		close(fd);
		return sk_error(err, e, "listen on %s", path);
	}
	return fd;
}

static bool can_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* The runc options that start's stdin may carry (an Any). */
static int read_start_options(char **shim_cgroup, struct sk_err *err)
{
	char *buf;
	size_t len;
	*shim_cgroup = NULL;
	if (sk_read_fd(STDIN_FILENO, "start's stdin", START_STDIN_MAX, &buf, &len, err) < 0)
		return err->errnum == EBADF ? 0 : -1;
	if (!len) {
		free(buf);
		return 0;
	}
	Google__Protobuf__Any *any = google__protobuf__any__unpack(NULL, len, (const uint8_t *)buf);
	free(buf);
	if (!any)
		return sk_error(err, EINVAL, "start's stdin: not a protobuf Any");
	int rc = 0;
	const char *t = any->type_url ? any->type_url : "";
	size_t tl = strlen(t), ol = strlen(RUNC_OPTIONS_TYPE);
	if (tl >= ol && !strcmp(t + tl - ol, RUNC_OPTIONS_TYPE)) {
		Containerd__Runc__V1__Options *opt =
			containerd__runc__v1__options__unpack(NULL, any->value.len, any->value.data);
		if (!opt)
			rc = sk_error(err, EINVAL, "start's stdin: malformed %s", RUNC_OPTIONS_TYPE);
		else if (opt->shim_cgroup && *opt->shim_cgroup && !(*shim_cgroup = strdup(opt->shim_cgroup)))
			rc = sk_error(err, ENOMEM, "options");
		if (opt)
			containerd__runc__v1__options__free_unpacked(opt, NULL);
	}
	google__protobuf__any__free_unpacked(any, NULL);
	return rc;
}

/* Move pid into the cgroup v2 group path (ShimCgroup). */
static int join_cgroup(pid_t pid, const char *path, struct sk_err *err)
{
	struct stat st;
	if (stat("/sys/fs/cgroup/cgroup.controllers", &st) < 0)
		return sk_error(err, ENOTSUP, "shim_cgroup %s: only on the cgroup v2 hierarchy", path);
	if (strstr(path, ".."))
		return sk_error(err, EINVAL, "shim_cgroup %s", path);
	char file[PATH_MAX], num[32];
	snprintf(file, sizeof(file), "/sys/fs/cgroup/%s/cgroup.procs", path);
	int fd = open(file, O_WRONLY | O_CLOEXEC);
	int n = snprintf(num, sizeof(num), "%d", pid);
	if (fd < 0 || write(fd, num, (size_t)n) != n) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return sk_error(err, e, "join shim_cgroup %s", path);
	}
	close(fd);
	return 0;
}

/* The shim's oom_score_adj: one above containerd's (start inherited it),
 * so that the shim goes before containerd, as containerd's shims do. */
static void adjust_oom(pid_t pid)
{
	char buf[32], path[64];
	struct sk_err e;
	if (sk_read_small_at(AT_FDCWD, "/proc/self/oom_score_adj", buf, sizeof(buf), &e) <= 0)
		return;
	int score = atoi(buf);
	if (score < 1000)
		score++;
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", pid);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	int n = snprintf(buf, sizeof(buf), "%d", score);
	if (write(fd, buf, (size_t)n) != n)
		sk_warn("set the shim's oom_score_adj: %s", sk_errno_name(errno));
	close(fd);
}

/* Fork the serving shim: a new session, stdio on /dev/null, the listening
 * socket as fd 3, this binary again. */
static pid_t spawn_server(const struct ctrd_opts *o, int lfd, struct sk_err *err)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return sk_error(err, errno, "readlink /proc/self/exe");
	self[n] = '\0';
	const char *argv[12];
	int a = 0;
	argv[a++] = self;
	argv[a++] = "-namespace"; argv[a++] = o->namespace;
	argv[a++] = "-id"; argv[a++] = o->id;
	argv[a++] = "-address"; argv[a++] = o->address ? o->address : "";
	if (o->debug)
		argv[a++] = "-debug";
	argv[a] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		return sk_error(err, errno, "fork");
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);
		if (nul < 0 || setsid() < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0)
			_exit(127);
		if (lfd == 3) {
			if (fcntl(3, F_SETFD, 0) < 0)
				_exit(127);
		} else if (dup2(lfd, 3) < 0) {
			_exit(127);
		}
		execve(self, (char *const *)argv, environ);
		_exit(127);
	}
	return pid;
}

int ctrd_start(const struct ctrd_opts *o, struct sk_err *err)
{
	if (!o->id || !*o->id)
		return sk_error(err, EINVAL, "start: -id is required");
	char *group, addr[128], *cg = NULL;
	if (ctrd_group(AT_FDCWD, o->id, &group, err) < 0)
		return sk_error_wrap(err, "start");
	int rc = ctrd_socket_address(o->address, o->namespace, group, addr, sizeof(addr), err);
	free(group);
	if (rc < 0 || read_start_options(&cg, err) < 0)
		return -1;
	const char *path = addr + strlen("unix://");
	int lfd = -1;
	pid_t pid = -1;
	if (sk_mkdir_p(CTRD_SOCKET_DIR, 0711, err) < 0)
		goto fail;
	lfd = listen_on(path, err);
	if (lfd < 0 && err->errnum == EADDRINUSE) {
		/* The group's shim runs: this container is served by it. */
		if (can_connect(path)) {
			free(cg);
			if (sk_write_file_atomic_at(AT_FDCWD, "address", addr, strlen(addr), 0644, err) < 0)
				return -1;
			printf("%s", addr);
			return fflush(stdout) == 0 ? 0 : sk_error(err, errno, "write the address");
		}
		/* A dead shim's socket. */
		unlink(path);
		lfd = listen_on(path, err);
	}
	if (lfd < 0)
		goto fail;
	if (sk_write_file_atomic_at(AT_FDCWD, "address", addr, strlen(addr), 0644, err) < 0)
		goto fail;
	pid = spawn_server(o, lfd, err);
	if (pid < 0)
		goto fail;
	close(lfd);
	lfd = -1;
	if (cg && join_cgroup(pid, cg, err) < 0)
		goto fail;
	adjust_oom(pid);
	free(cg);
	printf("%s", addr);
	if (fflush(stdout) != 0) {
		sk_error(err, errno, "write the address");
		kill(pid, SIGKILL);
		unlink(path);
		return -1;
	}
	return 0;
fail:
	if (pid > 0)
		kill(pid, SIGKILL);
	if (lfd >= 0) {
		close(lfd);
		unlink(path);
	}
	free(cg);
	return sk_error_wrap(err, "start");
}

/* Run argv with stdout on our stderr (our stdout is the answer), for at
 * most timeout_ms. */
static int run_bounded(const char *const *argv, int timeout_ms, struct sk_err *err)
{
	pid_t pid = fork();
	if (pid < 0)
		return sk_error(err, errno, "fork");
	if (pid == 0) {
		if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(127);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	int status;
	for (int waited = 0;; waited += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return sk_error(err, errno, "wait for %s", argv[0]);
		if (waited >= timeout_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return sk_error(err, ETIMEDOUT, "%s delete", argv[0]);
		}
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return sk_error(err, 0, "%s delete --force: exit status %d", argv[0],
				WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

int ctrd_delete(const struct ctrd_opts *o, struct sk_err *err)
{
	if (!o->id || !*o->id)
		return sk_error(err, EINVAL, "delete: -id is required");
	const char *bundle = o->bundle && *o->bundle ? o->bundle : ".";
	int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sk_error(err, errno, "delete: bundle %s", bundle);
	struct ctrd_runtime rt;
	struct sk_err e;
	if (ctrd_runtime_load(dfd, o->namespace, &rt, &e) < 0) {
		sk_warn("delete %s: %s; using the defaults", o->id, e.msg);
		ctrd_runtime_default(&rt, NULL, NULL, o->namespace);
	}
	const char *argv[] = { rt.binary, "--root", rt.root, "delete", "--force", o->id, NULL };
	if (run_bounded(argv, DELETE_TIMEOUT_MS, &e) < 0)
		sk_warn("delete %s: %s", o->id, e.msg);
	/* The rootfs the shim mounted at Create: every layer of it. */
	ctrd_rootfs_unmount(bundle);
	/* The dead shim's socket, unless a shim of the group still serves it. */
	char addr[256];
	ssize_t an = sk_read_small_at(dfd, "address", addr, sizeof(addr), &e);
	if (an > 7 && !strncmp(addr, "unix://", 7) && !can_connect(addr + 7))
		unlink(addr + 7);
	uint32_t pid = 0;
	char buf[32];
	if (sk_read_small_at(dfd, "init.pid", buf, sizeof(buf), &e) > 0)
		pid = (uint32_t)strtoul(buf, NULL, 10);
	close(dfd);

	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t)now.tv_nsec;
	Containerd__Task__V2__DeleteResponse r = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	r.pid = pid;
	r.exit_status = 128 + SIGKILL;
	r.exited_at = &ts;
	uint8_t out[128];
	size_t n = containerd__task__v2__delete_response__pack(&r, out);
	if (sk_write_all(STDOUT_FILENO, out, n) < 0)
		return sk_error(err, errno, "delete: write the answer");
	return 0;
}
