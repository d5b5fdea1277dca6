/* skiff ps [--format table|json] ID [PS ARGS...]: the processes of a
 * container's cgroup (and its sub-cgroups).  json prints their pids as an
 * array; table runs ps(1) with PS ARGS (default -ef) and keeps its header
 * and the rows whose PID column is one of them, as runc does. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skiff/cgroup.h"
#include "skiff/json_gen.h"
#include "skiff/state.h"

/* The pids of the container's cgroup, read under its lock. */
static int container_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct sk_err *err)
{
	int root_fd = sk_state_open_root(root, err);
	if (root_fd < 0)
		return -1;
	int dir = sk_state_lock(root_fd, id, false, err);
	close(root_fd);
	if (dir < 0)
		return -1;
	struct sk_state st;
	int r = sk_state_read(dir, &st, err);
	close(dir);
	if (r < 0)
		return sk_error_wrap(err, "container \"%s\"", id);
	struct sk_cgroup cg;
	if (!st.cgroup_path)
		r = sk_error(err, 0, "container \"%s\" has no cgroup", id);
	else if ((r = sk_cgroup_open(st.cgroup_path, st.cgroup_paths, st.n_cgroup_paths, &cg, err)) == 0) {
		r = sk_cgroup_pids(&cg, pids, n, err);
		sk_cgroup_close(&cg);
	}
	sk_state_free(&st);
	return r;
}

static int print_json(const pid_t *pids, size_t n, struct sk_err *err)
{
	struct sk_json j;
	if (sk_json_init(&j, NULL, err) < 0)
		return -1;
	sk_json_array_open(&j);
	for (size_t i = 0; i < n; i++)
		sk_json_int(&j, pids[i]);
	sk_json_array_close(&j);
	const char *buf;
	size_t len;
	int r = sk_json_buf(&j, &buf, &len, err) < 0 || sk_out_write(buf, len, err) < 0 || sk_out_write("\n", 1, err) < 0
			? -1 : 0;
	sk_json_free(&j);
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

/* Keep ps's header and the rows of the container's processes. */
static int print_table(char *text, pid_t *pids, size_t n, struct sk_err *err)
{
	qsort(pids, n, sizeof(*pids), cmp_pid);
	char *save = NULL, *header = strtok_r(text, "\n", &save);
	size_t col = 0;
	const char *f;
	size_t fl;
	for (; header && field(header, col, &f, &fl); col++)
		if (fl == 3 && !memcmp(f, "PID", 3))
			break;
	if (!header || !field(header, col, &f, &fl))
		return sk_error(err, 0, "no PID column in the output of ps");
	if (sk_out(err, "%s\n", header) < 0)
		return -1;
	for (char *line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char num[16], *end;
		if (!field(line, col, &f, &fl) || fl >= sizeof(num))
			return sk_error(err, 0, "no pid in this line of the output of ps: %.200s", line);
		memcpy(num, f, fl);
		num[fl] = '\0';
		long v = strtol(num, &end, 10);
		if (*end || end == num)
			return sk_error(err, 0, "unable to parse pid \"%s\" in the output of ps", num);
		pid_t key = (pid_t)v;
		if (bsearch(&key, pids, n, sizeof(*pids), cmp_pid) && sk_out(err, "%s\n", line) < 0)
			return -1;
	}
	return 0;
}

int cmd_ps(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	const char *format = "table";
	struct sk_opt opts[] = {
		{ "format", 'f', SK_OPT_STRING, &format, "table|json", "output format (default: table)" },
		{ 0 }
	};
	struct sk_usage u = { .operands = "<container-id> [ps options]", .min = 1, .max = -1, .opts = opts };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;
	bool json = strcmp(format, "json") == 0;
	if (!json && strcmp(format, "table") != 0) {
		sk_error(err, 0, "invalid --format \"%s\": must be table or json", format);
		return SK_EXIT_USAGE;
	}
	pid_t *pids;
	size_t n;
	if (container_pids(g->root, argv[0], &pids, &n, err) < 0)
		return SK_EXIT_ERROR;
	if (json) {
		rc = print_json(pids, n, err) < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
		free(pids);
		return rc;
	}
	/* ps, then its arguments (argv[0] is the id's slot) or -ef, then NULL. */
	char *def[] = { "ps", "-ef", NULL };
	char **args = def;
	if (argc > 1) {
		args = argv;
		args[0] = "ps";
	}
	char *text = NULL;
	rc = SK_EXIT_ERROR;
	if (run_ps(args, &text, err) == 0) {
		rc = print_table(text, pids, n, err) < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
		free(text);
	}
	free(pids);
	return rc;
}
