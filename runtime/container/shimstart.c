/* shim: starting skiff-shim for `create --shim` (see skiff/shim.h), with
 * conmon's protocol: a start socketpair (one byte releases the shim), a
 * sync socketpair (one JSON line with the pid, or -1 and the runtime's
 * message), the two placed right after the preserved fds. */
#include "skiff/container/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "skiff/spec/spec.h"
#include "skiff/base/util.h"

extern char **environ;

static bool executable(const char *p)
{
	return access(p, X_OK) == 0;
}

/* The absolute path of name: itself with a slash, else the first
 * executable match in $PATH. */
static int find_program(const char *name, char *out, size_t cap)
{
	if (strchr(name, '/'))
		return realpath(name, out) && executable(out) ? 0 : -1;
	const char *path = getenv("PATH");
	for (const char *p = path; p && *p;) {
		size_t l = strcspn(p, ":");
		char cand[PATH_MAX];
		int k = snprintf(cand, sizeof(cand), "%.*s/%s", (int)l, p, name);
		if (l && k > 0 && (size_t)k < sizeof(cand) && executable(cand) && realpath(cand, out))
			return 0;
		p += l + (p[l] == ':');
	}
	return -1;
}

static int find_shim(const char *self, char *out, size_t cap, struct sk_err *err)
{
	const char *env = getenv("SKIFF_SHIM");
	if (env && *env) {
		if (!executable(env))
			return sk_error(err, errno, "SKIFF_SHIM=\"%s\"", env);
		snprintf(out, cap, "%s", env);
		return 0;
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", self);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		static const char *const rel[] = { "skiff-shim", "../shim/skiff-shim" };
		for (size_t i = 0; i < 2; i++) {
			int k = snprintf(out, cap, "%s/%s", dir, rel[i]);
			if (k > 0 && (size_t)k < cap && executable(out))
				return 0;
		}
	}
	if (find_program("skiff-shim", out, cap) == 0)
		return 0;
	return sk_error(err, ENOENT, "skiff-shim not found (next to skiff, in $PATH, or set SKIFF_SHIM)");
}

/* Whether the bundle's config asks for a terminal: the shim then takes
 * the pty over a console socket (-t). */
static int wants_terminal(const char *bundle, bool *out, struct sk_err *err)
{
	int d = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return sk_error(err, errno, "open bundle \"%s\"", bundle);
	char *buf;
	int r = sk_read_file_at(d, "config.json", NULL, SK_SPEC_MAX_BYTES, &buf, NULL, err);
	close(d);
	if (r < 0)
		return -1;
	yajl_val root = yajl_tree_parse(buf, NULL, 0);
	free(buf);
	if (!root)
		return sk_error(err, EINVAL, "%s/config.json: not JSON", bundle);
	const char *path[] = { "process", "terminal", NULL };
	*out = yajl_tree_get(root, path, yajl_t_true) != NULL;
	yajl_tree_free(root);
	return 0;
}

struct argv {
	const char **v;
	size_t n, cap;
	bool oom;
};

static void push(struct argv *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 32;
		const char **nv = realloc(a->v, nc * sizeof(*nv));
		if (!nv) {
			a->oom = true;
			return;
		}
		a->v = nv;
		a->cap = nc;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

/* The shim's reply: {"data": N[, "message": "..."]}. */
static int parse_reply(const char *buf, pid_t *pid, struct sk_err *err)
{
	yajl_val root = yajl_tree_parse(buf, NULL, 0);
	if (!root)
		return sk_error(err, EINVAL, "skiff-shim replied \"%.80s\", not JSON", buf);
	const char *dp[] = { "data", NULL }, *mp[] = { "message", NULL };
	yajl_val d = yajl_tree_get(root, dp, yajl_t_number), m = yajl_tree_get(root, mp, yajl_t_string);
	int rc = 0;
	if (!d || !YAJL_IS_INTEGER(d))
		rc = sk_error(err, EINVAL, "skiff-shim replied \"%.80s\": no pid", buf);
	else if (YAJL_GET_INTEGER(d) <= 0)
		rc = sk_error(err, 0, "%s", m ? YAJL_GET_STRING(m) : "skiff-shim: create failed");
	else
		*pid = (pid_t)YAJL_GET_INTEGER(d);
	yajl_tree_free(root);
	return rc;
}

int sk_shim_create(const struct sk_shim_opts *o, pid_t *pid, struct sk_err *err)
{
	char shim[PATH_MAX], self[PATH_MAX], cwd[PATH_MAX];
	if (find_program(o->self, self, sizeof(self)) < 0)
		return sk_error(err, ENOENT, "cannot find skiff's own binary from \"%s\"", o->self);
	if (find_shim(self, shim, sizeof(shim), err) < 0)
		return -1;
	const char *bundle = o->bundle;
	if (!bundle || !*bundle) {
		if (!getcwd(cwd, sizeof(cwd)))
			return sk_error(err, errno, "getcwd");
		bundle = cwd;
	}
	bool terminal = false;
	if (wants_terminal(bundle, &terminal, err) < 0)
		return -1;

	char root_arg[PATH_MAX + 8], state_dir[PATH_MAX], log_arg[PATH_MAX + 16], nfds[16];
	int k1 = snprintf(root_arg, sizeof(root_arg), "--root=%s", o->root);
	int k2 = snprintf(state_dir, sizeof(state_dir), "%s/%s", o->root, o->id);
	int k3 = snprintf(log_arg, sizeof(log_arg), "k8s-file:%s%s", o->log_path ? o->log_path : state_dir,
			  o->log_path ? "" : "/ctr.log");
	if (k1 < 0 || k2 < 0 || k3 < 0 || (size_t)k1 >= sizeof(root_arg) || (size_t)k2 >= sizeof(state_dir) ||
	    (size_t)k3 >= sizeof(log_arg))
		return sk_error(err, ENAMETOOLONG, "state directory of \"%s\"", o->id);
	snprintf(nfds, sizeof(nfds), "%d", o->preserve_fds);

	struct argv a = { 0 };
	push(&a, shim);
	push(&a, "--api-version");
	push(&a, "-c");
	push(&a, o->id);
	push(&a, "-u");
	push(&a, o->id);
	push(&a, "-r");
	push(&a, self);
	push(&a, "-b");
	push(&a, bundle);
	push(&a, "--state-dir");
	push(&a, state_dir);
	push(&a, "--full-attach");
	push(&a, "-l");
	push(&a, log_arg);
	if (o->pid_file) {
		push(&a, "-p");
		push(&a, o->pid_file);
	}
	push(&a, "--runtime-arg");
	push(&a, root_arg);
	for (const char *const *g = o->global_args; g && *g; g++) {
		push(&a, "--runtime-arg");
		push(&a, *g);
	}
	if (terminal)
		push(&a, "-t");
	if (o->no_pivot)
		push(&a, "--no-pivot");
	if (o->no_new_keyring)
		push(&a, "--no-new-keyring");
	if (o->preserve_fds > 0) {
		push(&a, "--runtime-opt");
		push(&a, "--preserve-fds");
		push(&a, "--runtime-opt");
		push(&a, nfds);
	}
	if (a.oom) {
		free(a.v);
		return sk_error(err, ENOMEM, "skiff-shim arguments");
	}

	int sync[2], start[2], errp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0) {
		free(a.v);
		return sk_error(err, errno, "socketpair");
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, start) < 0) {
		sk_error(err, errno, "socketpair");
		goto close_sync;
	}
	if (pipe2(errp, O_CLOEXEC) < 0) {
		sk_error(err, errno, "pipe");
		goto close_start;
	}
	/* The shim's ends go right after the preserved fds, where the
	 * environment says they are. */
	int sync_fd = 3 + o->preserve_fds, start_fd = sync_fd + 1;
	char env_sync[32], env_start[32];
	snprintf(env_sync, sizeof(env_sync), "_OCI_SYNCPIPE=%d", sync_fd);
	snprintf(env_start, sizeof(env_start), "_OCI_STARTPIPE=%d", start_fd);
	size_t ne = 0;
	while (environ[ne])
		ne++;
	const char **envp = calloc(ne + 3, sizeof(*envp));
	if (!envp) {
		sk_error(err, ENOMEM, "environment");
		goto close_err;
	}
	size_t k = 0;
	for (size_t i = 0; i < ne; i++) {
		if (strncmp(environ[i], "_OCI_", 5) != 0)
			envp[k++] = environ[i];
	}
	envp[k++] = env_sync;
	envp[k++] = env_start;

	pid_t child = fork();
	if (child < 0) {
		sk_error(err, errno, "fork skiff-shim");
		free(envp);
		goto close_err;
	}
	if (child == 0) {
		/* Above every target first, so that no dup2 overwrites a
		 * source. */
		int s = fcntl(sync[1], F_DUPFD_CLOEXEC, start_fd + 1);
		int t = fcntl(start[1], F_DUPFD_CLOEXEC, start_fd + 1);
		if (s < 0 || t < 0 || dup2(s, sync_fd) < 0 || dup2(t, start_fd) < 0 || dup2(errp[1], 2) < 0)
			_exit(127);
		execve(shim, (char *const *)a.v, (char *const *)envp);
		_exit(127);
	}
	free(envp);
	free(a.v);
	a.v = NULL;
	close(sync[1]);
	close(start[1]);
	close(errp[1]);
	sync[1] = start[1] = errp[1] = -1;

	int rc = -1;
	if (write(start[0], "", 1) != 1) {
		/* The shim died before reading: its stderr says why. */
	}
	int st;
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		/* The shim's own complaint, if any (it writes to stderr only
		 * before it forks). */
		char ebuf[1024];
		fcntl(errp[0], F_SETFL, O_NONBLOCK);
		ssize_t en = read(errp[0], ebuf, sizeof(ebuf) - 1);
		ebuf[en > 0 ? en : 0] = '\0';
		ebuf[strcspn(ebuf, "\n")] = '\0';
		sk_error(err, 0, "skiff-shim failed (%s %d)%s%s", WIFEXITED(st) ? "exit status" : "signal",
			 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), en > 0 ? ": " : "", ebuf);
		goto out;
	}
	char reply[8192 * 6 + 64];
	ssize_t n;
	while ((n = recv(sync[0], reply, sizeof(reply) - 1, 0)) < 0 && errno == EINTR)
		;
	if (n <= 0) {
		sk_error(err, n < 0 ? errno : 0, "skiff-shim exited without a word on the sync socket");
		goto out;
	}
	reply[n] = '\0';
	rc = parse_reply(reply, pid, err);
out:
	close(sync[0]);
	close(start[0]);
	close(errp[0]);
	return rc;
close_err:
	close(errp[0]);
	close(errp[1]);
close_start:
	close(start[0]);
	close(start[1]);
close_sync:
	close(sync[0]);
	close(sync[1]);
	free(a.v);
	return -1;
}
