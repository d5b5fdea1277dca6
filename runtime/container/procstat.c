/* procstat: a process's state letter and start time from /proc/<pid>/stat
 * (declared in skiff/state.h).  A file of its own so that skiff-shim can
 * link it without the state module's JSON. */
#include "skiff/container/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/base/util.h"

int sk_proc_parse_stat(const char *stat, char *state, uint64_t *start_time, struct sk_err *err)
{
	/* "pid (comm) S ppid ...": comm is free text, so the fields are
	 * counted from the last ')'.  state is field 3, starttime field 22. */
	const char *p = strrchr(stat, ')');
	if (!p || p[1] != ' ' || !p[2])
		return sk_error(err, EINVAL, "parse stat: no \"(comm) state\"");
	*state = p[2];
	p += 3;
	for (int field_no = 4; field_no <= 22; field_no++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return sk_error(err, EINVAL, "parse stat: only %d fields", field_no - 1);
		if (field_no == 22) {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(p, &end, 10);
			if (errno || end == p || (*end && *end != ' ' && *end != '\n'))
				return sk_error(err, EINVAL, "parse stat: bad starttime");
			*start_time = v;
			return 0;
		}
		p = strchr(p, ' ');
		if (!p)
			return sk_error(err, EINVAL, "parse stat: only %d fields", field_no);
	}
	return sk_error(err, EINVAL, "parse stat: no starttime");
}

int sk_proc_start_time(pid_t pid, uint64_t *out, struct sk_err *err)
{
	*out = 0;
	char path[32], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	/* 1 KiB holds the fields up to starttime even with the longest comm
	 * (15 bytes) and every number at its widest; the rest is not needed. */
	if (sk_read_small_at(AT_FDCWD, path, buf, sizeof(buf), err) < 0) {
		if (err->errnum == ENOENT || err->errnum == ESRCH)
			return sk_error(err, ESRCH, "process %d", (int)pid);
		return -1;
	}
	char state;
	uint64_t start;
	if (sk_proc_parse_stat(buf, &state, &start, err) < 0)
		return sk_error_wrap(err, "%s", path);
	if (state == 'Z' || state == 'X')
		return sk_error(err, ESRCH, "process %d", (int)pid);
	*out = start;
	return 0;
}
