/* spec_mempolicy: config.json's "linux.memoryPolicy" (runtime-spec 1.3,
 * set_mempolicy(2)): the mode and flags by name, the nodes as a list
 * ("0-3,7") turned into a node mask, and the rules set_mempolicy(2) states
 * between them, so that a bad policy is refused at create naming the field
 * rather than by the kernel in the container's init. */
#include "skiff/spec/parse.h"

#include <string.h>

/* The kernel's values (uapi linux/mempolicy.h; the newest modes are not in
 * every libc's headers). */
static const struct { const char *name; int value; } modes[] = {
	{ "MPOL_DEFAULT", 0 }, { "MPOL_PREFERRED", 1 }, { "MPOL_BIND", 2 }, { "MPOL_INTERLEAVE", 3 },
	{ "MPOL_LOCAL", 4 }, { "MPOL_PREFERRED_MANY", 5 }, { "MPOL_WEIGHTED_INTERLEAVE", 6 },
};
static const struct { const char *name; int value; } flags[] = {
	{ "MPOL_F_NUMA_BALANCING", 1 << 13 }, { "MPOL_F_RELATIVE_NODES", 1 << 14 },
	{ "MPOL_F_STATIC_NODES", 1 << 15 },
};
#define LEN(a) (sizeof(a) / sizeof((a)[0]))

int sk_spec_mpol_mode(const char *name)
{
	for (size_t i = 0; i < LEN(modes); i++)
		if (strcmp(modes[i].name, name) == 0)
			return modes[i].value;
	return -1;
}

int sk_spec_mpol_flag(const char *name)
{
	for (size_t i = 0; i < LEN(flags); i++)
		if (strcmp(flags[i].name, name) == 0)
			return flags[i].value;
	return -1;
}

const char *sk_mpol_mode_name(int mode)
{
	for (size_t i = 0; i < LEN(modes); i++)
		if (modes[i].value == mode)
			return modes[i].name;
	return "?";
}

const char *sk_mpol_flag_at(size_t i)
{
	return i < LEN(flags) ? flags[i].name : NULL;
}

const char *sk_mpol_mode_at(size_t i)
{
	return i < LEN(modes) ? modes[i].name : NULL;
}

static bool node_num(const char **s, unsigned long *out)
{
	const char *p = *s;
	unsigned long x = 0;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((x = x * 10 + (unsigned long)(*p - '0')) >= SK_MPOL_MAX_NODES)
			return false;
	*s = p;
	*out = x;
	return true;
}

/* "0-3,7": nodes and ranges separated by commas; "" is no node. */
static bool parse_nodes(const char *s, struct sk_memory_policy *m)
{
	while (*s) {
		unsigned long lo, hi;
		if (!node_num(&s, &lo))
			return false;
		hi = lo;
		if (*s == '-' && (s++, !node_num(&s, &hi) || hi < lo))
			return false;
		if (*s && *s++ != ',')
			return false;
		if (!*s && s[-1] == ',')
			return false;
		for (unsigned long n = lo; n <= hi; n++)
			m->nodemask[n / 64] |= 1ull << (n % 64);
		m->n_nodes += hi - lo + 1;
	}
	return true;
}

int sk_spec_read_memory_policy(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_memory_policy *m = out;
	char q[SK_JQUOTE_MAX];
	const struct sk_jv *f;
	size_t mark;
	uint64_t fl = 0;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_named(c, v, "mode", true, sk_spec_mpol_mode, "memory policy mode", &m->mode, NULL) ||
	    sk_jget_str(c, v, "nodes", false, &m->nodes))
		return -1;
	f = sk_jenter(c, v, "flags", &mark);
	if (f && sk_jto_flags(c, f, sk_spec_mpol_flag, "memory policy flag", false, &fl))
		return -1;
	sk_jleave(c, mark);
	m->flags = (uint32_t)fl;
	if (m->nodes && !parse_nodes(m->nodes, m)) {
		sk_jenter_key(c, "nodes");
		return sk_jfail(c, "invalid node list %s (expected e.g. \"0-3,7\", nodes 0..%d)", sk_jquote(q, m->nodes),
			        SK_MPOL_MAX_NODES - 1);
	}
	const char *mode = sk_mpol_mode_name(m->mode);
	bool none = strcmp(mode, "MPOL_DEFAULT") == 0 || strcmp(mode, "MPOL_LOCAL") == 0;
	bool some = !none && strcmp(mode, "MPOL_PREFERRED") != 0;
	if (none && m->n_nodes) {
		sk_jenter_key(c, "nodes");
		return sk_jfail(c, "must be empty with %s", mode);
	}
	if (some && !m->n_nodes) {
		sk_jenter_key(c, "nodes");
		return sk_jfail(c, "%s needs at least one node", mode);
	}
	uint32_t st = (uint32_t)sk_spec_mpol_flag("MPOL_F_STATIC_NODES");
	uint32_t rel = (uint32_t)sk_spec_mpol_flag("MPOL_F_RELATIVE_NODES");
	uint32_t bal = (uint32_t)sk_spec_mpol_flag("MPOL_F_NUMA_BALANCING");
	if ((m->flags & st) && (m->flags & rel)) {
		sk_jenter_key(c, "flags");
		return sk_jfail(c, "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other");
	}
	if ((m->flags & (st | rel)) && (none || !m->n_nodes)) {
		sk_jenter_key(c, "flags");
		return sk_jfail(c, "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES need nodes");
	}
	if ((m->flags & bal) && strcmp(mode, "MPOL_BIND") != 0 && strcmp(mode, "MPOL_PREFERRED_MANY") != 0) {
		sk_jenter_key(c, "flags");
		return sk_jfail(c, "MPOL_F_NUMA_BALANCING is only for MPOL_BIND and MPOL_PREFERRED_MANY");
	}
	return 0;
}
