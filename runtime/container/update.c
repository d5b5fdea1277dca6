/* update: new resources for a live container (see include/skiff/container/update.h). */
#include "skiff/container/update.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>

#include "skiff/cgroup/cgroup.h"
#include "skiff/container/container.h"
#include "skiff/base/log.h"
#include "skiff/base/util.h"

/* ---- sizes and numbers, as runc's flags read them ------------------------ */

int sk_ram_in_bytes(const char *s, int64_t *out, struct sk_err *err)
{
	const char *p = s;
	unsigned __int128 whole = 0, frac = 0, frac_scale = 1;
	if (!isdigit((unsigned char)*p))
		goto bad;
	for (; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (unsigned)(*p - '0');
		if (whole > INT64_MAX)
			goto big;
	}
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			goto bad;
		/* Past 19 digits a fraction changes nothing a byte count shows. */
		for (int n = 0; isdigit((unsigned char)*p); p++, n++) {
			if (n < 19) {
				frac = frac * 10 + (unsigned)(*p - '0');
				frac_scale *= 10;
			}
		}
	}
	if (*p == ' ')
		p++;
	uint64_t unit = 1;
	const char *units = "kmgtp";
	const char *u = *p ? strchr(units, tolower((unsigned char)*p)) : NULL;
	if (u) {
		unit = 1ull << (10 * (u - units + 1));
		p++;
	}
	if (*p == 'i' || *p == 'I')
		p++;
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p)
		goto bad;
	unsigned __int128 v = whole * unit + frac * unit / frac_scale;
	if (v > INT64_MAX)
		goto big;
	*out = (int64_t)v;
	return 0;
bad:
	return sk_error(err, 0, "\"%s\" is not a size (bytes, or a number with a k, m, g, t or p suffix)", s);
big:
	return sk_error(err, 0, "\"%s\" is too large", s);
}

/* Go's strconv.ParseUint(s, 10, 64): digits only. */
static bool parse_u64(const char *s, uint64_t *out)
{
	if (!isdigit((unsigned char)*s))
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* Go's strconv.ParseInt(s, base, 64), base 10 or 0 (0x, 0 prefixes), which
 * allows a sign but no blanks. */
static bool parse_i64(const char *s, int base, int64_t *out)
{
	if (!*s || isspace((unsigned char)*s))
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, base);
	if (errno || end == s || *end)
		return false;
	*out = v;
	return true;
}

static bool given(const char *s) { return s && *s; }

static int bad_flag(struct sk_err *err, const char *flag, const char *val, const char *why)
{
	return sk_error(err, 0, "invalid value \"%s\" for --%s: %s", val, flag, why);
}

static int size_flag(const char *flag, const char *val, bool *has, int64_t *out, struct sk_err *err)
{
	if (!given(val))
		return 0;
	int64_t v = -1;
	if (strcmp(val, "-1") != 0 && sk_ram_in_bytes(val, &v, err) < 0)
		return sk_error_wrap(err, "invalid value for --%s", flag);
	/* 0 is runc's "leave it". */
	*has = v != 0;
	*out = v;
	return 0;
}

static int u64_flag(const char *flag, const char *val, bool *has, uint64_t *out, struct sk_err *err)
{
	if (!given(val))
		return 0;
	if (!parse_u64(val, out))
		return bad_flag(err, flag, val, "must be a non-negative integer");
	*has = true;
	return 0;
}

static int i64_flag(const char *flag, const char *val, bool *has, int64_t *out, struct sk_err *err)
{
	if (!given(val))
		return 0;
	if (!parse_i64(val, 10, out))
		return bad_flag(err, flag, val, "must be an integer");
	*has = true;
	return 0;
}

static int cpus_flag(const char *flag, const char *val, char **out, struct sk_err *err)
{
	if (!given(val))
		return 0;
	if (val[strspn(val, "0123456789,-")] || !isdigit((unsigned char)val[0]))
		return bad_flag(err, flag, val, "must be a list like 0-3,6");
	*out = strdup(val);
	return *out ? 0 : sk_error(err, ENOMEM, "--%s", flag);
}

int sk_update_from_flags(const struct sk_update_flags *f, struct sk_resources *res, struct sk_err *err)
{
	memset(res, 0, sizeof(*res));
	struct sk_resources *r = res;
	if (size_flag("memory", f->memory, &r->memory.has_limit, &r->memory.limit, err) ||
	    size_flag("memory-reservation", f->memory_reservation, &r->memory.has_reservation,
		      &r->memory.reservation, err) ||
	    size_flag("memory-swap", f->memory_swap, &r->memory.has_swap, &r->memory.swap, err) ||
	    u64_flag("cpu-share", f->cpu_shares, &r->cpu.has_shares, &r->cpu.shares, err) ||
	    u64_flag("cpu-period", f->cpu_period, &r->cpu.has_period, &r->cpu.period, err) ||
	    u64_flag("cpu-burst", f->cpu_burst, &r->cpu.has_burst, &r->cpu.burst, err) ||
	    u64_flag("cpu-rt-period", f->cpu_rt_period, &r->cpu.has_realtime_period, &r->cpu.realtime_period, err) ||
	    i64_flag("cpu-quota", f->cpu_quota, &r->cpu.has_quota, &r->cpu.quota, err) ||
	    i64_flag("cpu-rt-runtime", f->cpu_rt_runtime, &r->cpu.has_realtime_runtime, &r->cpu.realtime_runtime, err) ||
	    i64_flag("cpu-idle", f->cpu_idle, &r->cpu.has_idle, &r->cpu.idle, err) ||
	    cpus_flag("cpuset-cpus", f->cpuset_cpus, &r->cpu.cpus, err) ||
	    cpus_flag("cpuset-mems", f->cpuset_mems, &r->cpu.mems, err))
		goto fail;
	if (r->cpu.has_idle && r->cpu.idle != 0 && r->cpu.idle != 1) {
		bad_flag(err, "cpu-idle", f->cpu_idle, "must be 0 or 1");
		goto fail;
	}
	int64_t v;
	if (given(f->pids_limit)) {
		if (!parse_i64(f->pids_limit, 0, &v) || v < -1) {
			bad_flag(err, "pids-limit", f->pids_limit, "must be a number of processes, or -1 for no limit");
			goto fail;
		}
		r->pids.has_limit = v != 0;
		r->pids.limit = v;
	}
	if (given(f->blkio_weight)) {
		if (!parse_i64(f->blkio_weight, 0, &v) || (v != 0 && (v < 10 || v > 1000))) {
			bad_flag(err, "blkio-weight", f->blkio_weight, "must be between 10 and 1000");
			goto fail;
		}
		r->block_io.has_weight = v != 0;
		r->block_io.weight = (uint16_t)v;
	}
	r->memory.present = r->memory.has_limit || r->memory.has_reservation || r->memory.has_swap;
	r->cpu.present = r->cpu.has_shares || r->cpu.has_period || r->cpu.has_burst || r->cpu.has_realtime_period ||
			 r->cpu.has_quota || r->cpu.has_realtime_runtime || r->cpu.has_idle || r->cpu.cpus || r->cpu.mems;
	r->pids.present = r->pids.has_limit;
	r->block_io.present = r->block_io.has_weight;
	r->present = true;
	return 0;
fail:
	sk_update_free(res);
	return -1;
}

/* ---- a LinuxResources object ---------------------------------------------- */

/* The input must be exactly one JSON object before it is set into a
 * config.json around it: anything else could close that object early and
 * add members of its own. */
struct shape { int depth; bool object; };

static int sh_scalar(void *ctx) { return ((struct shape *)ctx)->depth > 0; }
static int sh_bool(void *ctx, int v) { (void)v; return sh_scalar(ctx); }
static int sh_number(void *ctx, const char *s, size_t l) { (void)s; (void)l; return sh_scalar(ctx); }
static int sh_string(void *ctx, const unsigned char *s, size_t l) { (void)s; (void)l; return sh_scalar(ctx); }
static int sh_key(void *ctx, const unsigned char *s, size_t l) { (void)ctx; (void)s; (void)l; return 1; }

static int sh_open(struct shape *sh, bool map)
{
	if (sh->depth == 0 && !map)
		return 0;
	if (sh->depth == 0)
		sh->object = true;
	return ++sh->depth <= SK_SPEC_MAX_DEPTH;
}
static int sh_open_map(void *ctx) { return sh_open(ctx, true); }
static int sh_open_array(void *ctx) { return sh_open(ctx, false); }
static int sh_close(void *ctx) { ((struct shape *)ctx)->depth--; return 1; }

static const yajl_callbacks shape_callbacks = {
	.yajl_null = sh_scalar, .yajl_boolean = sh_bool, .yajl_number = sh_number, .yajl_string = sh_string,
	.yajl_start_map = sh_open_map, .yajl_map_key = sh_key, .yajl_end_map = sh_close,
	.yajl_start_array = sh_open_array, .yajl_end_array = sh_close,
};

static int check_object(const char *name, const char *buf, size_t len, struct sk_err *err)
{
	struct shape sh = { 0 };
	yajl_handle h = yajl_alloc(&shape_callbacks, NULL, &sh);
	if (!h)
		return sk_error(err, ENOMEM, "%s", name);
	yajl_config(h, yajl_allow_comments, 0);
	const unsigned char *in = (const unsigned char *)buf;
	yajl_status st = yajl_parse(h, in, len);
	bool at_end = st == yajl_status_ok;
	if (at_end)
		st = yajl_complete_parse(h);
	int r = 0;
	if (st == yajl_status_client_canceled) {
		r = sk_error(err, 0, "%s: %s", name, sh.depth > SK_SPEC_MAX_DEPTH ? "nested too deeply"
										 : "must be a JSON object (LinuxResources)");
	} else if (st != yajl_status_ok) {
		/* yajl's own message spans lines: its first is enough. */
		size_t at = yajl_get_bytes_consumed(h), line = 1, col = 1;
		/* yajl stops just past the offending token; at the end of the
		 * input, the problem is there. */
		at = at_end ? len : at > 0 ? at - 1 : 0;
		for (size_t i = 0; i < at && i < len; i++, col++)
			if (buf[i] == '\n')
				line++, col = 0;
		char problem[128] = "invalid JSON";
		unsigned char *msg = yajl_get_error(h, 0, in, len);
		if (msg) {
			snprintf(problem, sizeof(problem), "%s", (const char *)msg);
			problem[strcspn(problem, "\n")] = '\0';
			yajl_free_error(h, msg);
		}
		r = sk_error(err, 0, "%s: line %zu, column %zu: %s", name, line, col, problem);
	} else if (!sh.object) {
		r = sk_error(err, 0, "%s: must be a JSON object (LinuxResources)", name);
	}
	yajl_free(h);
	return r;
}

int sk_update_parse(const char *name, const char *buf, size_t len, struct sk_resources *res, struct sk_err *err)
{
	static const char head[] = "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"rootfs\"},\"linux\":{\"resources\":";
	static const char tail[] = "}}";
	const size_t max = SK_SPEC_MAX_BYTES - sizeof(head) - sizeof(tail);
	memset(res, 0, sizeof(*res));
	if (len > max)
		return sk_error(err, EFBIG, "%s: larger than %zu bytes", name, max);
	if (check_object(name, buf, len, err) < 0)
		return -1;
	size_t n = sizeof(head) - 1 + len + sizeof(tail) - 1;
	char *doc = malloc(n);
	if (!doc)
		return sk_error(err, ENOMEM, "%s", name);
	memcpy(doc, head, sizeof(head) - 1);
	memcpy(doc + sizeof(head) - 1, buf, len);
	memcpy(doc + sizeof(head) - 1 + len, tail, sizeof(tail) - 1);
	struct sk_spec spec;
	int r = sk_spec_parse(name, doc, n, &spec, err);
	free(doc);
	if (r < 0)
		return -1;
	*res = spec.linux_.resources;
	memset(&spec.linux_.resources, 0, sizeof(spec.linux_.resources));
	sk_spec_free(&spec);
	res->present = true;
	return 0;
}

int sk_update_load(const char *path, struct sk_resources *res, struct sk_err *err)
{
	memset(res, 0, sizeof(*res));
	char *buf;
	size_t len;
	const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
	int r = name == path ? sk_read_file_at(AT_FDCWD, path, NULL, SK_SPEC_MAX_BYTES, &buf, &len, err)
			     : sk_read_fd(STDIN_FILENO, name, SK_SPEC_MAX_BYTES, &buf, &len, err);
	if (r < 0)
		return -1;
	r = sk_update_parse(name, buf, len, res, err);
	free(buf);
	return r;
}

void sk_update_free(struct sk_resources *res)
{
	/* The spec's own release frees every part of its resources. */
	struct sk_spec s;
	memset(&s, 0, sizeof(s));
	s.linux_.resources = *res;
	sk_spec_free(&s);
	memset(res, 0, sizeof(*res));
}

/* ---- applying ----------------------------------------------------------------- */

/* Drop what update leaves alone (update.h); values that go together are
 * completed from the cgroup's files by sk_cgroup_apply. */
static void drop_unchanged(struct sk_resources *r)
{
	if (r->n_devices)
		sk_debug("update: device rules ignored, as runc does");
	r->n_devices = 0;
}

int sk_update_apply(const char *root, const char *id, struct sk_resources *res, struct sk_err *err)
{
	struct sk_held h;
	struct sk_cgroup cg;
	if (sk_container_hold_cgroup(root, id, &h, &cg, err) < 0)
		return -1;
	drop_unchanged(res);
	int r = sk_cgroup_apply(&cg, res, true, err);
	sk_cgroup_close(&cg);
	sk_container_release(&h);
	return r;
}
