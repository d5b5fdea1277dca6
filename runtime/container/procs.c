/* procs: a container's processes (procs.h). */
#include "skiff/container/procs.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skiff/cgroup/cgroup.h"
#include "skiff/container/container.h"

int sk_container_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct sk_err *err)
{
	struct sk_held h;
	if (sk_container_hold(root, id, false, &h, err) < 0)
		return -1;
	int r;
	struct sk_cgroup cg;
	if (!h.have_state)
		r = sk_error_wrap(err, "container \"%s\"", id);   /* err: why state.json could not be read */
	else if (!h.st.cgroup_path)
		r = sk_error(err, 0, "container \"%s\" has no cgroup", id);
	else
		r = sk_cgroup_open(h.st.cgroup_path, h.st.cgroup_paths, h.st.n_cgroup_paths, &cg, err);
	/* The open cgroup is enough: kill and delete need not wait. */
	sk_container_release(&h);
	if (r == 0) {
		r = sk_cgroup_pids(&cg, pids, n, err);
		sk_cgroup_close(&cg);
	}
	return r;
}

/* Run ps with args; its stdout and stderr together into *out (malloc()ed,
 * NUL-terminated).  A failing ps is an error showing what it said. */
static int run_ps(char **args, char **out, struct sk_err *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return sk_error(err, errno, "pipe");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDERR_FILENO);
	pid_t pid;
	int e = posix_spawnp(&pid, "ps", &fa, NULL, args, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (e) {
		close(p[0]);
		return sk_error(err, e, "run ps");
	}
	size_t cap = 16384, len = 0;
	char *buf = malloc(cap);
	int rerr = buf ? 0 : ENOMEM;
	while (buf) {
		if (len + 1 == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				rerr = ENOMEM;
				break;
			}
			buf = nb;
		}
		ssize_t r = read(p[0], buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rerr = r < 0 ? errno : 0;
			break;
		}
		len += (size_t)r;
	}
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rerr) {
		free(buf);
		return sk_error(err, rerr, "read the output of ps");
	}
	buf[len] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* Its message (the first lines of it) says what was wrong. */
		for (char *c = buf; *c; c++)
			if (*c == '\n')
				*c = ' ';
		sk_error(err, 0, "ps %s %d: %.300s", WIFEXITED(status) ? "exited with status" : "killed by signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), buf);
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* Field idx (0-based, blank-separated) of line into [*start, *start+*len). */
static bool field(const char *line, size_t idx, const char **start, size_t *len)
{
	const char *p = line;
	for (size_t i = 0;; i++) {
		p += strspn(p, " \t");
		if (!*p)
			return false;
		size_t l = strcspn(p, " \t");
		if (i == idx) {
			*start = p;
			*len = l;
			return true;
		}
		p += l;
	}
}

/* Keep text's first line (ps's header) and the lines whose PID column
 * holds one of sorted[0..n) in *out. */
static int keep_rows(char *text, const pid_t *sorted, size_t n, char **out, struct sk_err *err)
{
	/* What is kept is never longer than what ps wrote, plus a newline. */
	char *buf = malloc(strlen(text) + 2), *w = buf;
	if (!buf)
		return sk_error(err, ENOMEM, "the output of ps");
	char *save = NULL, *header = strtok_r(text, "\n", &save);
	size_t col = 0;
	const char *f;
	size_t fl;
	for (; header && field(header, col, &f, &fl); col++)
		if (fl == 3 && !memcmp(f, "PID", 3))
			break;
	if (!header || !field(header, col, &f, &fl)) {
		sk_error(err, 0, "no PID column in the output of ps");
		goto fail;
	}
	w = stpcpy(stpcpy(w, header), "\n");
	for (char *line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char num[16], *end;
		if (!field(line, col, &f, &fl) || fl >= sizeof(num)) {
			sk_error(err, 0, "no pid in this line of the output of ps: %.200s", line);
			goto fail;
		}
		memcpy(num, f, fl);
		num[fl] = '\0';
		long v = strtol(num, &end, 10);
		if (*end || end == num) {
			sk_error(err, 0, "unable to parse pid \"%s\" in the output of ps", num);
			goto fail;
		}
		pid_t key = (pid_t)v;
		if (bsearch(&key, sorted, n, sizeof(*sorted), cmp_pid))
			w = stpcpy(stpcpy(w, line), "\n");
	}
	*out = buf;
	return 0;
fail:
	free(buf);
	return -1;
}

int sk_procs_ps(const pid_t *pids, size_t n, char *const *ps_args, size_t n_args, char **out, struct sk_err *err)
{
	*out = NULL;
	/* ps, then its arguments or -ef, then NULL. */
	char **args = calloc(n_args + 3, sizeof(*args));
	pid_t *sorted = malloc((n ? n : 1) * sizeof(*sorted));
	char *text = NULL;
	int r = -1;
	if (!args || !sorted) {
		sk_error(err, ENOMEM, "run ps");
		goto out;
	}
	args[0] = "ps";
	if (n_args)
		memcpy(args + 1, ps_args, n_args * sizeof(*args));
	else
		args[1] = "-ef";
	if (n)
		memcpy(sorted, pids, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_pid);
	if (run_ps(args, &text, err) == 0)
		r = keep_rows(text, sorted, n, out, err);
out:
	free(text);
	free(sorted);
	free(args);
	return r;
}
