/* bench: time command sequences without a shell in the way.
 *   bench -n N [-w W] [-p PREFIX] -s 'cmd args' [-s 'cmd args' ...]
 * Each iteration runs the steps in order (words split on spaces; "{}" is
 * replaced by a per-iteration id: PREFIX-I, I counting from 0 with the W
 * warm-up iterations, or bench-PID-I without -p), fails on a non-zero exit, and records
 * the wall time of the whole sequence and the largest ru_maxrss of any
 * step's process.  Prints: median_ms p90_ms max_rss_kb */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_STEPS 8
#define MAX_WORDS 64

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int run_step(const char *tmpl, const char *id, long *rss)
{
	char buf[4096], *argv[MAX_WORDS];
	int argc = 0;
	size_t o = 0;
	for (const char *p = tmpl; *p && o + 64 < sizeof(buf); p++) {
		if (p[0] == '{' && p[1] == '}') {
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s", id);
			p++;
		} else {
			buf[o++] = *p;
		}
	}
	buf[o] = '\0';
	for (char *save = NULL, *w = strtok_r(buf, " ", &save); w && argc < MAX_WORDS - 1; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0)
		return -1;
	if (ru.ru_maxrss > *rss)
		*rss = ru.ru_maxrss;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench: \"%s\" failed (status 0x%x)\n", argv[0], status);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int n = 20, warm = 2, nsteps = 0;
	const char *steps[MAX_STEPS], *prefix = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "n:w:p:s:")) != -1) {
		if (opt == 'n')
			n = atoi(optarg);
		else if (opt == 'w')
			warm = atoi(optarg);
		else if (opt == 'p')
			prefix = optarg;
		else if (opt == 's' && nsteps < MAX_STEPS)
			steps[nsteps++] = optarg;
		else
			return 2;
	}
	if (n <= 0 || !nsteps)
		return 2;
	double *t = calloc((size_t)n, sizeof(double));
	long rss = 0;
	for (int i = -warm; i < n; i++) {
		char id[64];
		if (prefix)
			snprintf(id, sizeof(id), "%s-%d", prefix, i + warm);
		else
			snprintf(id, sizeof(id), "bench-%d-%d", (int)getpid(), i + warm);
		double t0 = now_ms();
		for (int s = 0; s < nsteps; s++)
			if (run_step(steps[s], id, &rss) < 0)
				return 1;
		if (i >= 0)
			t[i] = now_ms() - t0;
	}
	qsort(t, (size_t)n, sizeof(double), cmp);
	printf("%.2f %.2f %ld\n", t[n / 2], t[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1], rss);
	free(t);
	return 0;
}
