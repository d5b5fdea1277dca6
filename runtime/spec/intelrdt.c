/* spec_intelrdt: config.json's "linux.intelRdt" (runtime-spec 1.3):
 * closID, l3CacheSchema, memBwSchema, schemata, enableMonitoring.  What is
 * written into resctrl's files is one line each, so no newline passes. */
#include "skiff/spec/parse.h"

#include <string.h>

static int one_line(struct sk_jwalk *c, const char *key, const char *s, const char *prefix)
{
	if (!s)
		return 0;
	if (strchr(s, '\n') || !*s) {
		sk_jenter_key(c, key);
		return sk_jfail(c, "must be one non-empty line");
	}
	if (prefix && strncmp(s, prefix, strlen(prefix)) != 0) {
		sk_jenter_key(c, key);
		return sk_jfail(c, "must start with \"%s\"", prefix);
	}
	return 0;
}

static int item_line(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	if (v->type == SK_JSTR && (strchr(v->u.s, '\n') || !v->u.s[0]))
		return sk_jfail(c, "must be one non-empty line");
	return sk_jto_str(c, v, out);
}

int sk_spec_read_intel_rdt(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_intel_rdt *r = out;
	bool opt;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_str(c, v, "closID", false, &r->clos_id) ||
	    sk_jget_str(c, v, "l3CacheSchema", false, &r->l3_cache_schema) ||
	    sk_jget_str(c, v, "memBwSchema", false, &r->mem_bw_schema) ||
	    sk_jget_list(c, v, "schemata", sizeof(char *), &r->schemata, &r->n_schemata, item_line) ||
	    sk_jget_bool(c, v, "enableMonitoring", &opt, &r->enable_monitoring))
		return -1;
	/* A directory of the resctrl root, or "/" for the root itself. */
	const char *id = r->clos_id;
	if (id && strcmp(id, "/") != 0 &&
	    (!*id || strchr(id, '/') || strchr(id, '\n') || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)) {
		sk_jenter_key(c, "closID");
		return sk_jfail(c, "must be \"/\" or a directory name");
	}
	/* The spec: memBwSchema MUST start with "MB:"; l3CacheSchema SHOULD
	 * start with "L3:" (or "L3CODE:"/"L3DATA:" with CDP): not checked. */
	if (one_line(c, "l3CacheSchema", r->l3_cache_schema, NULL) ||
	    one_line(c, "memBwSchema", r->mem_bw_schema, "MB:"))
		return -1;
	return 0;
}
