/* json_get: walking a JSON tree (json.h) with its path kept, and the typed
 * getters that check each value and name where a problem is. */
#include "skiff/spec/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 2, 3)))
static void append(struct sk_jwalk *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(c->path + c->len, sizeof(c->path) - c->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->len = c->len + (size_t)n < sizeof(c->path) ? c->len + (size_t)n : sizeof(c->path) - 1;
}

/* Long values are cut so that the message stays one short line. */
const char *sk_jquote(char buf[SK_JQUOTE_MAX], const char *s)
{
	size_t n = strlen(s), cut = n > 64 ? 64 : n;
	while (cut < n && cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
		cut--;
	char *p = buf;
	*p++ = '"';
	for (size_t i = 0; i < cut; i++) {
		unsigned char ch = (unsigned char)s[i];
		*p++ = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (cut < n) {
		memcpy(p, "...", 3);
		p += 3;
	}
	*p++ = '"';
	*p = '\0';
	return buf;
}

size_t sk_jenter_key(struct sk_jwalk *c, const char *key)
{
	size_t mark = c->len;
	append(c, "%s%s", mark ? "." : "", key);
	return mark;
}

size_t sk_jenter_index(struct sk_jwalk *c, size_t i)
{
	size_t mark = c->len;
	append(c, "[%zu]", i);
	return mark;
}

size_t sk_jenter_map_key(struct sk_jwalk *c, const char *key)
{
	size_t mark = c->len;
	char q[SK_JQUOTE_MAX];
	append(c, "[%s]", sk_jquote(q, key));
	return mark;
}

void sk_jleave(struct sk_jwalk *c, size_t mark)
{
	c->len = mark;
	c->path[mark] = '\0';
}

int sk_jfail(struct sk_jwalk *c, const char *fmt, ...)
{
	char msg[SK_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->len)
		return sk_error(c->err, 0, "%s: %s: %s", c->name, c->path, msg);
	return sk_error(c->err, 0, "%s: %s", c->name, msg);
}

int sk_joom(struct sk_jwalk *c)
{
	return sk_error(c->err, ENOMEM, "%s: out of memory", c->name);
}

/* The value of key in object o, or NULL when absent or null (null means
 * absent, as for runc). */
const struct sk_jv *sk_jmember(const struct sk_jv *o, const char *key)
{
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->u.items[i].key, key) == 0)
			return o->u.items[i].type == SK_JNULL ? NULL : &o->u.items[i];
	return NULL;
}

const struct sk_jv *sk_jenter(struct sk_jwalk *c, const struct sk_jv *o, const char *key, size_t *mark)
{
	*mark = sk_jenter_key(c, key);
	return sk_jmember(o, key);
}

int sk_jabsent(struct sk_jwalk *c, bool *has)
{
	if (!has)
		return sk_jfail(c, "is required");
	*has = false;
	return 0;
}

int sk_jwant_obj(struct sk_jwalk *c, const struct sk_jv *v)
{
	return v->type == SK_JOBJ ? 0 : sk_jfail(c, "must be an object");
}

int sk_jdup(struct sk_jwalk *c, const char *s, char **out)
{
	*out = strdup(s);
	return *out ? 0 : sk_joom(c);
}

int sk_jto_str(struct sk_jwalk *c, const struct sk_jv *v, char **out)
{
	if (v->type != SK_JSTR)
		return sk_jfail(c, "must be a string");
	return sk_jdup(c, v->u.s, out);
}

int sk_jto_bool(struct sk_jwalk *c, const struct sk_jv *v, bool *out)
{
	if (v->type != SK_JBOOL)
		return sk_jfail(c, "must be a boolean");
	*out = v->b;
	return 0;
}

/* JSON numbers with a fraction or an exponent are not integers, even 1.0
 * or 1e3 (encoding/json refuses them too). */
bool sk_jis_int(const struct sk_jv *v)
{
	return v->type == SK_JNUM && !strpbrk(v->u.s, ".eE");
}

int sk_jto_i64(struct sk_jwalk *c, const struct sk_jv *v, int64_t lo, int64_t hi, int64_t *out)
{
	if (sk_jis_int(v)) {
		char *end;
		errno = 0;
		long long x = strtoll(v->u.s, &end, 10);
		if (errno == 0 && *end == '\0' && x >= lo && x <= hi) {
			*out = x;
			return 0;
		}
	}
	return sk_jfail(c, "must be an integer in range %" PRId64 "..%" PRId64, lo, hi);
}

int sk_jto_u64(struct sk_jwalk *c, const struct sk_jv *v, uint64_t hi, uint64_t *out)
{
	/* strtoull would take "-1" as UINT64_MAX. */
	if (sk_jis_int(v) && v->u.s[0] != '-') {
		char *end;
		errno = 0;
		unsigned long long x = strtoull(v->u.s, &end, 10);
		if (errno == 0 && *end == '\0' && x <= hi) {
			*out = x;
			return 0;
		}
	}
	return sk_jfail(c, "must be an integer in range 0..%" PRIu64, hi);
}

int sk_jget_bool(struct sk_jwalk *c, const struct sk_jv *o, const char *key, bool *has, bool *out)
{
	size_t mark;
	const struct sk_jv *v = sk_jenter(c, o, key, &mark);
	int r = v ? sk_jto_bool(c, v, out) : sk_jabsent(c, has);
	if (v && has)
		*has = true;
	sk_jleave(c, mark);
	return r;
}

int sk_jget_i64(struct sk_jwalk *c, const struct sk_jv *o, const char *key, int64_t lo, int64_t hi, bool *has,
		int64_t *out)
{
	size_t mark;
	const struct sk_jv *v = sk_jenter(c, o, key, &mark);
	int r = v ? sk_jto_i64(c, v, lo, hi, out) : sk_jabsent(c, has);
	if (v && has)
		*has = true;
	sk_jleave(c, mark);
	return r;
}

int sk_jget_u64(struct sk_jwalk *c, const struct sk_jv *o, const char *key, uint64_t hi, bool *has, uint64_t *out)
{
	size_t mark;
	const struct sk_jv *v = sk_jenter(c, o, key, &mark);
	int r = v ? sk_jto_u64(c, v, hi, out) : sk_jabsent(c, has);
	if (v && has)
		*has = true;
	sk_jleave(c, mark);
	return r;
}

int sk_jget_int(struct sk_jwalk *c, const struct sk_jv *o, const char *key, int lo, int hi, bool *has, int *out)
{
	int64_t x = *out;
	if (sk_jget_i64(c, o, key, lo, hi, has, &x))
		return -1;
	*out = (int)x;
	return 0;
}

int sk_jget_u32(struct sk_jwalk *c, const struct sk_jv *o, const char *key, uint32_t hi, bool *has, uint32_t *out)
{
	uint64_t x = *out;
	if (sk_jget_u64(c, o, key, hi, has, &x))
		return -1;
	*out = (uint32_t)x;
	return 0;
}

int sk_jget_str(struct sk_jwalk *c, const struct sk_jv *o, const char *key, bool required, char **out)
{
	size_t mark;
	const struct sk_jv *v = sk_jenter(c, o, key, &mark);
	int r = v ? sk_jto_str(c, v, out) : required ? sk_jfail(c, "is required") : 0;
	sk_jleave(c, mark);
	return r;
}

int sk_jto_path(struct sk_jwalk *c, const struct sk_jv *v, char **out)
{
	if (v->type == SK_JSTR && v->u.s[0] != '/')
		return sk_jfail(c, "must be an absolute path");
	return sk_jto_str(c, v, out);
}

int sk_jget_path(struct sk_jwalk *c, const struct sk_jv *o, const char *key, bool required, char **out)
{
	size_t mark;
	const struct sk_jv *v = sk_jenter(c, o, key, &mark);
	int r = v ? sk_jto_path(c, v, out) : required ? sk_jfail(c, "is required") : 0;
	sk_jleave(c, mark);
	return r;
}

int sk_jto_named(struct sk_jwalk *c, const struct sk_jv *v, sk_jlookup_fn *lookup, const char *what, int *val,
		 char **str)
{
	if (v->type != SK_JSTR)
		return sk_jfail(c, "must be a string");
	int x = lookup(v->u.s);
	if (x < 0) {
		char q[SK_JQUOTE_MAX];
		return sk_jfail(c, "unknown %s %s", what, sk_jquote(q, v->u.s));
	}
	if (val)
		*val = x;
	return str ? sk_jdup(c, v->u.s, str) : 0;
}

int sk_jget_named(struct sk_jwalk *c, const struct sk_jv *o, const char *key, bool required, sk_jlookup_fn *lookup,
		  const char *what, int *val, char **str)
{
	size_t mark;
	const struct sk_jv *v = sk_jenter(c, o, key, &mark);
	int r = v ? sk_jto_named(c, v, lookup, what, val, str) : required ? sk_jfail(c, "is required") : 0;
	sk_jleave(c, mark);
	return r;
}

int sk_jto_flags(struct sk_jwalk *c, const struct sk_jv *v, sk_jlookup_fn *lookup, const char *what, bool shift,
		 uint64_t *mask)
{
	if (v->type != SK_JARR)
		return sk_jfail(c, "must be an array of strings");
	for (size_t i = 0; i < v->n; i++) {
		const struct sk_jv *item = &v->u.items[i];
		size_t mark = sk_jenter_index(c, i);
		if (item->type != SK_JSTR)
			return sk_jfail(c, "must be a string");
		int x = lookup(item->u.s);
		if (x < 0) {
			char q[SK_JQUOTE_MAX];
			return sk_jfail(c, "unknown %s %s", what, sk_jquote(q, item->u.s));
		}
		*mask |= shift ? UINT64_C(1) << x : (uint64_t)x;
		sk_jleave(c, mark);
	}
	return 0;
}

int sk_jto_list(struct sk_jwalk *c, const struct sk_jv *v, size_t size, void *arr, size_t *n, sk_jparse_fn *fn)
{
	if (v->type != SK_JARR)
		return sk_jfail(c, "must be an array");
	if (v->n == 0)
		return 0;
	char *items = calloc(v->n, size);
	if (!items)
		return sk_joom(c);
	/* Owned by the struct from here on, so a failure below frees it. */
	memcpy(arr, &items, sizeof(items));
	*n = v->n;
	for (size_t i = 0; i < v->n; i++) {
		size_t mark = sk_jenter_index(c, i);
		if (fn(c, &v->u.items[i], items + i * size))
			return -1;
		sk_jleave(c, mark);
	}
	return 0;
}

int sk_jget_list(struct sk_jwalk *c, const struct sk_jv *o, const char *key, size_t size, void *arr, size_t *n,
		 sk_jparse_fn *fn)
{
	size_t mark;
	const struct sk_jv *v = sk_jenter(c, o, key, &mark);
	int r = v ? sk_jto_list(c, v, size, arr, n, fn) : 0;
	sk_jleave(c, mark);
	return r;
}

int sk_jget_obj(struct sk_jwalk *c, const struct sk_jv *o, const char *key, bool *has, sk_jparse_fn *fn, void *out)
{
	size_t mark;
	const struct sk_jv *v = sk_jenter(c, o, key, &mark);
	int r = v ? fn(c, v, out) : sk_jabsent(c, has);
	if (v && has)
		*has = true;
	sk_jleave(c, mark);
	return r;
}

int sk_jitem_str(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	return sk_jto_str(c, v, out);
}

int sk_jitem_path(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	return sk_jto_path(c, v, out);
}

int sk_jget_strv(struct sk_jwalk *c, const struct sk_jv *o, const char *key, char ***arr, size_t *n)
{
	return sk_jget_list(c, o, key, sizeof(char *), arr, n, sk_jitem_str);
}

/* process.args and syscalls[].names: at least one string. */
int sk_jget_nonempty_strv(struct sk_jwalk *c, const struct sk_jv *o, const char *key, char ***arr, size_t *n)
{
	size_t mark;
	const struct sk_jv *v = sk_jenter(c, o, key, &mark);
	if (!v || v->type != SK_JARR || v->n == 0)
		return sk_jfail(c, "must be a non-empty array of strings");
	int r = sk_jto_list(c, v, sizeof(char *), arr, n, sk_jitem_str);
	sk_jleave(c, mark);
	return r;
}
