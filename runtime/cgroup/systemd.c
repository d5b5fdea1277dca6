/* systemd: unit names, slices and unit properties for the systemd cgroup
 * driver (include/skiff/cgroup/systemd.h).  Pure but for /proc/devices,
 * read for a device rule that names a major with any minor. */
#include "skiff/cgroup/systemd.h"
#include "skiff/cgroup/res.h"
#include "skiff/base/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNIT_NAME_MAX 255
#define SD_INFINITY UINT64_MAX

/* ---- units and slices ----------------------------------------------------- */

/* systemd's unit name characters (unit_name_is_valid), '@' aside. */
static bool unit_chars_ok(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(":-_.\\", *s))
			return false;
	return true;
}

static int check_unit_name(const char *name, struct sk_err *err)
{
	if (strlen(name) > UNIT_NAME_MAX || !unit_chars_ok(name))
		return sk_error(err, 0, "\"%s\" is not a valid systemd unit name", name);
	return 0;
}

int sk_sd_slice_expand(const char *slice, char **out, struct sk_err *err)
{
	*out = NULL;
	size_t len = strlen(slice);
	if (len < 6 || strcmp(slice + len - 6, ".slice") || strchr(slice, '/'))
		return sk_error(err, 0, "systemd slice \"%s\": not a slice name (NAME.slice)", slice);
	if (!strcmp(slice, "-.slice"))
		return (*out = strdup("/")) ? 0 : sk_error(err, ENOMEM, "slice");
	size_t base = len - 6;
	/* Each '-' opens a level: "a-b-c" gives /a.slice/a-b.slice/a-b-c.slice;
	 * at most (base / 2 + 1) levels of at most len + 1 bytes each. */
	size_t cap = (base / 2 + 2) * (len + 2) + 1;
	char *p = malloc(cap);
	if (!p)
		return sk_error(err, ENOMEM, "slice");
	size_t n = 0;
	for (size_t i = 0; i <= base; i++) {
		if (i < base && slice[i] != '-')
			continue;
		if (i == 0 || slice[i - 1] == '-') {
			free(p);
			return sk_error(err, 0, "systemd slice \"%s\": empty component", slice);
		}
		n += (size_t)snprintf(p + n, cap - n, "/%.*s.slice", (int)i, slice);
	}
	*out = p;
	return 0;
}

void sk_sd_unit_free(struct sk_sd_unit *u)
{
	free(u->id);
	free(u->name);
	free(u->slice);
	free(u->path);
	*u = (struct sk_sd_unit){ 0 };
}

int sk_sd_unit_parse(const char *cp, const char *id, bool user, struct sk_sd_unit *u, struct sk_err *err)
{
	*u = (struct sk_sd_unit){ .user = user };
	char dflt[PATH_MAX];
	if (!cp || !*cp) {
		snprintf(dflt, sizeof(dflt), ":skiff:%s", id);
		cp = dflt;
	}
	const char *c1 = strchr(cp, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2 || strchr(c2 + 1, ':'))
		return sk_error(err, 0, "linux.cgroupsPath \"%s\": expected \"slice:prefix:name\" for systemd cgroups", cp);
	const char *prefix = c1 + 1, *name = c2 + 1;
	size_t slice_len = (size_t)(c1 - cp), prefix_len = (size_t)(c2 - prefix), name_len = strlen(name);
	if (!name_len)
		return sk_error(err, 0, "linux.cgroupsPath \"%s\": the name (slice:prefix:name) is empty", cp);
	if (!slice_len)
		u->slice = strdup(user ? "user.slice" : "system.slice");
	else if (slice_len == 1 && cp[0] == '-')
		u->slice = strdup("-.slice");
	else
		u->slice = strndup(cp, slice_len);
	bool is_slice = name_len > 6 && !strcmp(name + name_len - 6, ".slice");
	if (is_slice)
		u->name = strdup(name);
	else if (asprintf(&u->name, "%.*s%s%s.scope", (int)prefix_len, prefix, prefix_len ? "-" : "", name) < 0)
		u->name = NULL;
	u->id = strdup(id);
	if (!u->slice || !u->name || !u->id) {
		sk_sd_unit_free(u);
		return sk_error(err, ENOMEM, "systemd unit");
	}
	char *sp = NULL;
	if (check_unit_name(u->slice, err) < 0 || check_unit_name(u->name, err) < 0 ||
	    sk_sd_slice_expand(is_slice ? u->name : u->slice, &sp, err) < 0)
		goto fail;
	if (is_slice) {
		u->path = sp;
	} else {
		if (asprintf(&u->path, "%s/%s", strcmp(sp, "/") ? sp : "", u->name) < 0)
			u->path = NULL;
		free(sp);
		if (!u->path) {
			sk_error(err, ENOMEM, "systemd unit");
			goto fail;
		}
	}
	return 0;
fail:
	sk_error_wrap(err, "linux.cgroupsPath \"%s\"", cp);
	sk_sd_unit_free(u);
	return -1;
}

/* ---- properties ----------------------------------------------------------- */

void sk_sd_props_free(struct sk_sd_props *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct sk_sd_prop *q = &p->p[i];
		free(q->name);
		free(q->str);
		for (size_t j = 0; q->strv && j < q->n; j++)
			free(q->strv[j]);
		free(q->strv);
		free(q->bytes);
	}
	free(p->p);
	*p = (struct sk_sd_props){ 0 };
}

static struct sk_sd_prop *add(struct sk_sd_props *p, const char *name, enum sk_sd_type type, struct sk_err *err)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct sk_sd_prop *np = realloc(p->p, cap * sizeof(*np));
		if (!np) {
			sk_error(err, ENOMEM, "unit properties");
			return NULL;
		}
		p->p = np;
		p->cap = cap;
	}
	struct sk_sd_prop *q = &p->p[p->n];
	*q = (struct sk_sd_prop){ .type = type, .name = strdup(name) };
	if (!q->name) {
		sk_error(err, ENOMEM, "unit properties");
		return NULL;
	}
	p->n++;
	return q;
}

static int add_num(struct sk_sd_props *p, const char *name, enum sk_sd_type type, uint64_t v, struct sk_err *err)
{
	struct sk_sd_prop *q = add(p, name, type, err);
	if (!q)
		return -1;
	q->num = v;
	return 0;
}

static int add_str(struct sk_sd_props *p, const char *name, const char *v, struct sk_err *err)
{
	struct sk_sd_prop *q = add(p, name, SK_SD_STR, err);
	if (!q)
		return -1;
	return (q->str = strdup(v)) ? 0 : sk_error(err, ENOMEM, "unit properties");
}

/* Append one string (STRV, DEVICES) to q. */
static int push(struct sk_sd_prop *q, const char *s, struct sk_err *err)
{
	char **nv = realloc(q->strv, (q->n + 1) * sizeof(*nv));
	if (!nv)
		return sk_error(err, ENOMEM, "unit properties");
	q->strv = nv;
	if (!(q->strv[q->n] = strdup(s)))
		return sk_error(err, ENOMEM, "unit properties");
	q->n++;
	return 0;
}

int sk_sd_props_unit(const struct sk_sd_unit *u, pid_t pid, struct sk_sd_props *p, struct sk_err *err)
{
	char desc[PATH_MAX];
	snprintf(desc, sizeof(desc), "skiff container %s", u->id);
	bool is_slice = strlen(u->name) > 6 && !strcmp(u->name + strlen(u->name) - 6, ".slice");
	if (add_str(p, "Description", desc, err) < 0)
		return -1;
	if (is_slice) {
		struct sk_sd_prop *q = add(p, "Wants", SK_SD_STRV, err);
		if (!q || push(q, u->slice, err) < 0)
			return -1;
	} else if (add_str(p, "Slice", u->slice, err) < 0 || add_num(p, "Delegate", SK_SD_BOOL, 1, err) < 0) {
		return -1;
	}
	if (pid > 0 && add_num(p, "PIDs", SK_SD_PIDS, (uint64_t)pid, err) < 0)
		return -1;
	static const char *const acct[] = { "MemoryAccounting", "CPUAccounting", "IOAccounting", "TasksAccounting" };
	for (size_t i = 0; i < sizeof(acct) / sizeof(acct[0]); i++)
		if (add_num(p, acct[i], SK_SD_BOOL, 1, err) < 0)
			return -1;
	return add_num(p, "DefaultDependencies", SK_SD_BOOL, 0, err);
}

/* "0-3,7" to systemd's byte mask (bit n of byte n / 8). */
static int cpu_mask(struct sk_sd_props *p, const char *name, const char *list, struct sk_err *err)
{
	unsigned char mask[1024] = { 0 };
	size_t top = 0;
	for (const char *s = list; *s;) {
		char *end;
		errno = 0;
		unsigned long a = strtoul(s, &end, 10), b = a;
		if (end == s || errno)
			goto bad;
		if (*end == '-') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (end == s || errno || b < a)
				goto bad;
		}
		if (b >= sizeof(mask) * 8)
			goto bad;
		for (unsigned long i = a; i <= b; i++)
			mask[i / 8] |= (unsigned char)(1u << (i % 8));
		if (b / 8 + 1 > top)
			top = b / 8 + 1;
		if (*end == ',')
			end++;
		else if (*end)
			goto bad;
		s = end;
	}
	struct sk_sd_prop *q = add(p, name, SK_SD_BYTES, err);
	if (!q)
		return -1;
	q->bytes = malloc(top ? top : 1);
	if (!q->bytes)
		return sk_error(err, ENOMEM, "unit properties");
	memcpy(q->bytes, mask, top);
	q->n = top;
	return 0;
bad:
	return sk_error(err, 0, "linux.resources.cpu: \"%s\" is not a list of CPUs or memory nodes", list);
}

/* The name /proc/devices gives a character or block major, or NULL. */
static bool major_name(char type, int64_t major, char *out, size_t size)
{
	char buf[8192];
	struct sk_err ignored;
	if (sk_read_small_at(AT_FDCWD, "/proc/devices", buf, sizeof(buf), &ignored) < 0)
		return false;
	bool in = false;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strcmp(line, "Character devices:") || !strcmp(line, "Block devices:")) {
			in = (line[0] == 'C') == (type == 'c');
			continue;
		}
		char *end;
		long m = strtol(line, &end, 10);
		if (in && end != line && m == major && *end == ' ') {
			snprintf(out, size, "%s-%s", type == 'c' ? "char" : "block", end + 1);
			return true;
		}
	}
	return false;
}

/* DevicePolicy=strict, DeviceAllow emptied, then one entry per allow rule
 * and the devices every container may use (cgroup/dev.h); an allow-all
 * rule gives DevicePolicy=auto.  Deny rules are not sent: systemd's list
 * only allows, and skiff's own device program (cgroup2) or devices.deny
 * lines (v1) enforce them, as runc does. */
static int devices(const struct sk_resources *res, struct sk_sd_props *p, struct sk_err *err)
{
	for (size_t i = 0; i < res->n_devices; i++) {
		const struct sk_device_rule *d = &res->devices[i];
		if (d->allow && d->type == 'a')
			return add_str(p, "DevicePolicy", "auto", err);
	}
	if (add_str(p, "DevicePolicy", "strict", err) < 0 || !add(p, "DeviceAllow", SK_SD_DEVICES, err))
		return -1;
	struct sk_sd_prop *q = add(p, "DeviceAllow", SK_SD_DEVICES, err);
	if (!q)
		return -1;
	char path[64];
	for (size_t i = 0; i < res->n_devices; i++) {
		const struct sk_device_rule *d = &res->devices[i];
		if (!d->allow)
			continue;
		const char *kind = d->type == 'b' ? "block" : "char";
		if (d->major < 0)
			snprintf(path, sizeof(path), "%s-*", kind);
		else if (d->minor < 0 && !major_name(d->type, d->major, path, sizeof(path)))
			continue;   /* no name for it: skiff's own rules allow it */
		else if (d->minor >= 0)
			snprintf(path, sizeof(path), "/dev/%s/%" PRId64 ":%" PRId64, kind, d->major, d->minor);
		if (push(q, path, err) < 0 || push(q, d->access[0] ? d->access : "rwm", err) < 0)
			return -1;
	}
	static const char *const always[][2] = {
		{ "char-*", "m" }, { "block-*", "m" }, { "/dev/char/1:3", "rwm" }, { "/dev/char/1:5", "rwm" },
		{ "/dev/char/1:7", "rwm" }, { "/dev/char/1:8", "rwm" }, { "/dev/char/1:9", "rwm" },
		{ "/dev/char/5:0", "rwm" }, { "/dev/char/5:2", "rwm" }, { "char-pts", "rwm" },
		{ "/dev/char/10:200", "rwm" },
	};
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		if (push(q, always[i][0], err) < 0 || push(q, always[i][1], err) < 0)
			return -1;
	return 0;
}

static uint64_t limit_value(int64_t v)
{
	return v < 0 ? SD_INFINITY : (uint64_t)v;
}

int sk_sd_props_resources(const struct sk_resources *res, bool v2, bool with_devices, struct sk_sd_props *p,
			  struct sk_err *err)
{
	if (!res)
		return 0;
	if (with_devices && devices(res, p, err) < 0)
		return -1;
	const typeof(res->memory) *m = &res->memory;
	if (m->has_limit && m->limit && add_num(p, v2 ? "MemoryMax" : "MemoryLimit", SK_SD_U64, limit_value(m->limit), err) < 0)
		return -1;
	if (v2 && m->has_reservation && m->reservation &&
	    add_num(p, "MemoryLow", SK_SD_U64, limit_value(m->reservation), err) < 0)
		return -1;
	if (v2 && m->has_swap) {
		int64_t sw;
		int r = sk_cgroup_swap_max(m->swap, m->has_limit ? m->limit : 0, &sw, err);
		if (r < 0 || (r > 0 && add_num(p, "MemorySwapMax", SK_SD_U64, limit_value(sw), err) < 0))
			return -1;
	}
	const typeof(res->cpu) *c = &res->cpu;
	if (c->has_shares && c->shares &&
	    add_num(p, v2 ? "CPUWeight" : "CPUShares", SK_SD_U64, v2 ? sk_cgroup_shares_to_weight(c->shares) : c->shares,
		    err) < 0)
		return -1;
	if ((c->has_quota && c->quota) || (c->has_period && c->period)) {
		uint64_t period = c->has_period && c->period ? c->period : 100000;
		if (c->has_period && c->period && add_num(p, "CPUQuotaPeriodUSec", SK_SD_U64, period, err) < 0)
			return -1;
		if (c->has_quota && c->quota) {
			uint64_t per_sec = SD_INFINITY;
			if (c->quota > 0) {
				/* systemd keeps the quota per second in 10 ms steps:
				 * round up, as runc, so that cpu.max is not lowered. */
				per_sec = (uint64_t)c->quota * 1000000 / period;
				per_sec = (per_sec + 9999) / 10000 * 10000;
			}
			if (add_num(p, "CPUQuotaPerSecUSec", SK_SD_U64, per_sec, err) < 0)
				return -1;
		}
	}
	if (v2 && c->cpus && *c->cpus && cpu_mask(p, "AllowedCPUs", c->cpus, err) < 0)
		return -1;
	if (v2 && c->mems && *c->mems && cpu_mask(p, "AllowedMemoryNodes", c->mems, err) < 0)
		return -1;
	if (res->pids.present && res->pids.has_limit &&
	    add_num(p, "TasksMax", SK_SD_U64, res->pids.limit < 0 ? SD_INFINITY : res->pids.limit ? (uint64_t)res->pids.limit : 1,
		    err) < 0)
		return -1;
	if (res->block_io.has_weight && res->block_io.weight &&
	    add_num(p, v2 ? "IOWeight" : "BlockIOWeight", SK_SD_U64,
		    v2 ? sk_cgroup_blkio_to_io_weight(res->block_io.weight) : res->block_io.weight, err) < 0)
		return -1;
	return 0;
}

/* ---- annotations ---------------------------------------------------------- */

#define ANN_PREFIX "org.systemd.property."

/* A quoted GVariant string at *s ('x' or "x", no escapes) into out. */
static int quoted(const char **s, char **out)
{
	char q = **s;
	if (q != '\'' && q != '"')
		return -1;
	const char *end = strchr(*s + 1, q);
	if (!end || memchr(*s + 1, '\\', (size_t)(end - *s - 1)))
		return -1;
	*out = strndup(*s + 1, (size_t)(end - *s - 1));
	*s = end + 1;
	return *out ? 0 : -1;
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ')
		s++;
	return s;
}

static int annotation(const char *key, const char *val, struct sk_sd_props *p, struct sk_err *err)
{
	const char *name = key + strlen(ANN_PREFIX);
	size_t nlen = strlen(name);
	if (!nlen || nlen > 64)
		goto bad;
	for (const char *s = name; *s; s++)
		if (!isalnum((unsigned char)*s))
			goto bad;
	bool sec = nlen > 3 && !strcmp(name + nlen - 3, "Sec") && (nlen < 4 || strcmp(name + nlen - 4, "USec"));
	if (!strcmp(val, "true") || !strcmp(val, "false")) {
		if (sec)
			goto bad;
		return add_num(p, name, SK_SD_BOOL, val[0] == 't', err);
	}
	if (val[0] == '\'' || val[0] == '"') {
		char *s;
		const char *v = val;
		if (sec || quoted(&v, &s) < 0)
			goto bad;
		if (*v) {
			free(s);
			goto bad;
		}
		int r = add_str(p, name, s, err);
		free(s);
		return r;
	}
	if (val[0] == '[') {
		if (sec)
			goto bad;
		struct sk_sd_prop *q = add(p, name, SK_SD_STRV, err);
		if (!q)
			return -1;
		const char *v = skip_ws(val + 1);
		while (*v != ']') {
			char *s;
			if (quoted(&v, &s) < 0)
				goto bad;
			int r = push(q, s, err);
			free(s);
			if (r < 0)
				return -1;
			v = skip_ws(v);
			if (*v == ',')
				v = skip_ws(v + 1);
			else if (*v != ']')
				goto bad;
		}
		if (v[1])
			goto bad;
		return 0;
	}
	/* A number, GVariant's int32 unless typed. */
	static const struct { const char *word; enum sk_sd_type type; } types[] = {
		{ "uint64 ", SK_SD_U64 }, { "uint32 ", SK_SD_U32 }, { "int64 ", SK_SD_I64 }, { "int32 ", SK_SD_I32 },
	};
	enum sk_sd_type type = SK_SD_I32;
	const char *v = val;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strncmp(v, types[i].word, strlen(types[i].word))) {
			type = types[i].type;
			v = skip_ws(v + strlen(types[i].word));
		}
	if (!*v || (!isdigit((unsigned char)*v) && *v != '-'))
		goto bad;
	char *end;
	errno = 0;
	bool neg = *v == '-';
	uint64_t u = neg ? 0 : strtoull(v, &end, 10);
	int64_t i = neg ? strtoll(v, &end, 10) : 0;
	if (*end || errno || (neg && (type == SK_SD_U64 || type == SK_SD_U32 || sec)))
		goto bad;
	if (sec) {
		char usec[80];
		snprintf(usec, sizeof(usec), "%.*sUSec", (int)(nlen - 3), name);
		if (u > UINT64_MAX / 1000000)
			goto bad;
		return add_num(p, usec, SK_SD_U64, u * 1000000, err);
	}
	if ((type == SK_SD_U32 && u > UINT32_MAX) ||
	    (type == SK_SD_I32 && (neg ? i < INT32_MIN : u > INT32_MAX)) || (type == SK_SD_I64 && !neg && u > INT64_MAX))
		goto bad;
	return add_num(p, name, type, neg ? (uint64_t)i : u, err);
bad:
	return sk_error(err, 0, "annotation %s=\"%s\": not a systemd property name and GVariant value", key, val);
}

int sk_sd_props_annotations(const struct sk_kv *ann, size_t n, struct sk_sd_props *p, struct sk_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(ann[i].key, ANN_PREFIX, strlen(ANN_PREFIX)) && annotation(ann[i].key, ann[i].value, p, err) < 0)
			return -1;
	return 0;
}
