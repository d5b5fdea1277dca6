/* spec_values: the syntaxes config.json's string values must have (the
 * version, CPU lists, page sizes, cgroup names, device types) and the small
 * shapes several sections share: string maps, id maps, and their release. */
#include "skiff/spec/parse.h"

#include <stdlib.h>
#include <string.h>

/* A semver numeric identifier: digits, no leading zero. */
static bool semver_num(const char **s)
{
	const char *p = *s;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	*s = p;
	return true;
}

/* Dot-separated non-empty identifiers of [0-9A-Za-z-]; numeric ones in a
 * pre-release have no leading zero. */
static bool semver_idents(const char **s, bool pre)
{
	const char *p = *s;
	for (;;) {
		const char *start = p;
		bool digits = true;
		while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		       (*p >= 'A' && *p <= 'Z') || *p == '-') {
			digits &= *p >= '0' && *p <= '9';
			p++;
		}
		if (p == start || (pre && digits && *start == '0' && p - start > 1))
			return false;
		if (*p != '.')
			break;
		p++;
	}
	*s = p;
	return true;
}

bool sk_spec_oci_version_ok(const char *s)
{
	if (s[0] != '1' || s[1] != '.')
		return false;
	s += 2;
	if (!semver_num(&s) || *s++ != '.' || !semver_num(&s))
		return false;
	if (*s == '-' && (s++, !semver_idents(&s, true)))
		return false;
	if (*s == '+' && (s++, !semver_idents(&s, false)))
		return false;
	return *s == '\0';
}

static bool cpu_num(const char **s, unsigned long *out)
{
	const char *p = *s;
	unsigned long x = 0;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((x = x * 10 + (unsigned long)(*p - '0')) > SK_SPEC_MAX_CPU)
			return false;
	*s = p;
	*out = x;
	return true;
}

/* A CPU list as runc reads it: CPUs and ranges separated by commas
 * ("0-3,7"), blanks around items and empty items allowed, at least one. */
bool sk_spec_cpu_list_ok(const char *s)
{
	bool any = false;
	while (*s) {
		s += strspn(s, " \t");
		if (*s == ',') {
			s++;
			continue;
		}
		if (!*s)
			break;
		unsigned long lo, hi = 0;
		if (!cpu_num(&s, &lo))
			return false;
		if (*s == '-' && (s++, !cpu_num(&s, &hi) || hi < lo))
			return false;
		s += strspn(s, " \t");
		if (*s && *s++ != ',')
			return false;
		any = true;
	}
	return any;
}

/* A hugetlb page size as in the cgroup file names: "2MB", "1GB", "64KB". */
bool sk_spec_page_size_ok(const char *s)
{
	size_t digits = strspn(s, "0123456789");
	return digits > 0 && digits <= 10 && s[0] != '0' && s[digits] && strchr("KMGTP", s[digits]) &&
	       strcmp(s + digits + 1, "B") == 0;
}

int sk_spec_check_word(struct sk_jwalk *c, const char *s)
{
	bool ok = *s;
	for (const char *p = s; *p; p++)
		ok &= (unsigned char)*p > ' ' && *p != 0x7f;
	return ok ? 0 : sk_jfail(c, "must be a non-empty name without blanks");
}

int sk_spec_check_unified_key(struct sk_jwalk *c, const char *key)
{
	const char *dot = strchr(key, '.');
	if (strchr(key, '/') || !dot || dot == key || !dot[1])
		return sk_jfail(c, "must be a cgroup file name like \"memory.high\"");
	return 0;
}

int sk_spec_get_dev_type(struct sk_jwalk *c, const struct sk_jv *o, bool required, const char *allowed, char *out)
{
	size_t mark;
	const struct sk_jv *v = sk_jenter(c, o, "type", &mark);
	if (!v) {
		int r = required ? sk_jfail(c, "is required") : 0;
		sk_jleave(c, mark);
		return r;
	}
	if (v->type != SK_JSTR)
		return sk_jfail(c, "must be a string");
	if (required || v->u.s[0]) {
		char q[SK_JQUOTE_MAX];
		if (strlen(v->u.s) != 1 || !strchr(allowed, v->u.s[0]))
			return sk_jfail(c, "unknown device type %s", sk_jquote(q, v->u.s));
		*out = v->u.s[0];
	}
	sk_jleave(c, mark);
	return 0;
}

int sk_spec_get_kv(struct sk_jwalk *c, const struct sk_jv *o, const char *key, struct sk_kv **out, size_t *n,
		   int (*check_key)(struct sk_jwalk *, const char *))
{
	size_t mark;
	const struct sk_jv *v = sk_jenter(c, o, key, &mark);
	if (!v) {
		sk_jleave(c, mark);
		return 0;
	}
	if (sk_jwant_obj(c, v))
		return -1;
	if (v->n) {
		if (!(*out = calloc(v->n, sizeof(**out))))
			return sk_joom(c);
		*n = v->n;
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct sk_jv *item = &v->u.items[i];
		size_t m = sk_jenter_map_key(c, item->key);
		if ((check_key && check_key(c, item->key)) ||
		    sk_jdup(c, item->key, &(*out)[i].key) ||
		    sk_jto_str(c, item, &(*out)[i].value))
			return -1;
		sk_jleave(c, m);
	}
	sk_jleave(c, mark);
	return 0;
}

int sk_spec_read_idmap(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_idmap *m = out;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_u32(c, v, "containerID", UINT32_MAX, NULL, &m->container_id) ||
	    sk_jget_u32(c, v, "hostID", UINT32_MAX, NULL, &m->host_id) ||
	    sk_jget_u32(c, v, "size", UINT32_MAX, NULL, &m->size))
		return -1;
	return 0;
}

void sk_spec_free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void sk_spec_free_kv(struct sk_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}
