/* spec: config.json -> struct sk_spec (see spec.h): the entry points, the
 * top level (version, root, mounts, hooks, annotations), the rules across
 * sections, and the release.
 *
 * The JSON is read into a tree (json.h), then the typed struct is filled by
 * walking it while the JSON path is kept, so that every problem names where
 * it is.  The sections have files of their own (spec_parse.h). */
#include "skiff/spec/spec.h"
#include "skiff/spec/parse.h"
#include "skiff/base/util.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* spec.h's limits are the reader's. */
_Static_assert(SK_SPEC_MAX_DEPTH == SK_JSON_MAX_DEPTH && SK_SPEC_MAX_VALUES == SK_JSON_MAX_VALUES,
	       "spec.h and json.h disagree on the JSON limits");

static int check_annotation_key(struct sk_jwalk *c, const char *key)
{
	return *key ? 0 : sk_jfail(c, "key must not be empty");
}

static int parse_mount(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_mount *m = out;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_path(c, v, "destination", true, &m->destination) ||
	    sk_jget_str(c, v, "type", false, &m->type) ||
	    sk_jget_str(c, v, "source", false, &m->source) ||
	    sk_jget_strv(c, v, "options", &m->options, &m->n_options) ||
	    sk_jget_list(c, v, "uidMappings", sizeof(*m->uid_mappings), &m->uid_mappings,
		         &m->n_uid_mappings, sk_spec_read_idmap) ||
	    sk_jget_list(c, v, "gidMappings", sizeof(*m->gid_mappings), &m->gid_mappings,
		         &m->n_gid_mappings, sk_spec_read_idmap))
		return -1;
	/* runtime-spec: an idmapped mount gives both maps. */
	if (!m->n_uid_mappings != !m->n_gid_mappings) {
		bool uid = m->n_uid_mappings;
		sk_jenter_key(c, uid ? "gidMappings" : "uidMappings");
		return sk_jfail(c, "is required with %s", uid ? "uidMappings" : "gidMappings");
	}
	return 0;
}

static int parse_hook(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_hook *h = out;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_path(c, v, "path", true, &h->path) ||
	    sk_jget_strv(c, v, "args", &h->args, &h->n_args) ||
	    sk_jget_strv(c, v, "env", &h->env, &h->n_env) ||
	    sk_jget_int(c, v, "timeout", 1, INT_MAX, &h->has_timeout, &h->timeout))
		return -1;
	return 0;
}

static int parse_hooks(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_hooks *hooks = out;
	if (sk_jwant_obj(c, v))
		return -1;
	for (int k = 0; k < SK_HOOK_NKINDS; k++)
		if (sk_jget_list(c, v, sk_hook_kind_name(k), sizeof(struct sk_hook), &hooks->list[k], &hooks->n[k], parse_hook))
			return -1;
	return 0;
}

static int parse_root(struct sk_jwalk *c, const struct sk_jv *v, void *out)
{
	struct sk_spec *s = out;
	bool opt;
	if (sk_jwant_obj(c, v) ||
	    sk_jget_str(c, v, "path", true, &s->root.path) ||
	    sk_jget_bool(c, v, "readonly", &opt, &s->root.readonly))
		return -1;
	return 0;
}

static int read_spec(struct sk_jwalk *c, const struct sk_jv *v, struct sk_spec *s)
{
	if (v->type != SK_JOBJ)
		return sk_jfail(c, "must be a JSON object");
	if (sk_jget_str(c, v, "ociVersion", true, &s->oci_version))
		return -1;
	if (!sk_spec_oci_version_ok(s->oci_version)) {
		char q[SK_JQUOTE_MAX];
		sk_jenter_key(c, "ociVersion");
		return sk_jfail(c, "must be a 1.x.y semantic version, got %s", sk_jquote(q, s->oci_version));
	}
	bool opt;
	if (sk_jget_obj(c, v, "root", NULL, parse_root, s) ||
	    sk_jget_list(c, v, "mounts", sizeof(*s->mounts), &s->mounts, &s->n_mounts, parse_mount) ||
	    sk_jget_obj(c, v, "process", &s->has_process, sk_spec_read_process, &s->process) ||
	    sk_jget_str(c, v, "hostname", false, &s->hostname) ||
	    sk_jget_str(c, v, "domainname", false, &s->domainname) ||
	    sk_jget_obj(c, v, "hooks", &opt, parse_hooks, &s->hooks) ||
	    sk_spec_get_kv(c, v, "annotations", &s->annotations, &s->n_annotations, check_annotation_key) ||
	    sk_jget_obj(c, v, "linux", &s->has_linux, sk_spec_read_linux, &s->linux_))
		return -1;
	/* runtime-spec up to 1.2 read a pids limit of 0 as "no limit" (podman
	 * 4 sends it so); 1.3.0 made 0 a limit like any other. */
	struct sk_resources *res = &s->linux_.resources;
	if (res->pids.has_limit && res->pids.limit == 0 && strtoul(s->oci_version + 2, NULL, 10) < 3)
		res->pids.limit = -1;
	/* As runc: without its own UTS namespace the container would rename
	 * the host. */
	if (sk_spec_need_ns(c, &s->linux_, s->hostname && *s->hostname, "hostname", SK_NS_UTS, "a UTS") ||
	    sk_spec_need_ns(c, &s->linux_, s->domainname && *s->domainname, "domainname", SK_NS_UTS, "a UTS"))
		return -1;
	return 0;
}

void sk_spec_free(struct sk_spec *s)
{
	if (!s)
		return;
	free(s->oci_version);
	free(s->root.path);
	for (size_t i = 0; i < s->n_mounts; i++) {
		struct sk_mount *m = &s->mounts[i];
		free(m->destination);
		free(m->type);
		free(m->source);
		sk_spec_free_strv(m->options, m->n_options);
		free(m->uid_mappings);
		free(m->gid_mappings);
	}
	free(s->mounts);
	sk_spec_process_free(&s->process);
	free(s->hostname);
	free(s->domainname);
	for (int k = 0; k < SK_HOOK_NKINDS; k++) {
		for (size_t i = 0; i < s->hooks.n[k]; i++) {
			struct sk_hook *h = &s->hooks.list[k][i];
			free(h->path);
			sk_spec_free_strv(h->args, h->n_args);
			sk_spec_free_strv(h->env, h->n_env);
		}
		free(s->hooks.list[k]);
	}
	sk_spec_free_kv(s->annotations, s->n_annotations);
	sk_spec_free_linux(&s->linux_);
	/* Freeing twice, or a struct that failed to load, is harmless. */
	memset(s, 0, sizeof(*s));
}

static int too_large(struct sk_err *err, const char *name)
{
	return sk_error(err, 0, "%s: file is too large (limit %u bytes)", name, SK_SPEC_MAX_BYTES);
}

int sk_spec_parse(const char *name, const char *buf, size_t len, struct sk_spec *out, struct sk_err *err)
{
	memset(out, 0, sizeof(*out));
	if (len > SK_SPEC_MAX_BYTES)
		return too_large(err, name);
	if (len == 0)
		return sk_error(err, 0, "%s: file is empty", name);
	struct sk_jdoc doc;
	if (sk_jdoc_parse(name, buf, len, &doc, err) < 0)
		return -1;
	struct sk_jwalk c = { .name = name, .err = err };
	int r = read_spec(&c, doc.root, out);
	if (r)
		sk_spec_free(out);
	sk_jdoc_free(&doc);
	return r;
}

int sk_spec_parse_process(const char *name, const char *buf, size_t len, struct sk_process *out,
			  struct sk_err *err)
{
	memset(out, 0, sizeof(*out));
	if (len > SK_SPEC_MAX_BYTES)
		return too_large(err, name);
	size_t blank = 0;
	while (blank < len && strchr(" \t\r\n", buf[blank]) && buf[blank])
		blank++;
	if (blank == len)
		return sk_error(err, 0, "%s: file is empty", name);
	struct sk_jdoc doc;
	if (sk_jdoc_parse(name, buf, len, &doc, err) < 0)
		return -1;
	/* Paths as in config.json: "process.cwd". */
	struct sk_jwalk c = { .name = name, .err = err };
	sk_jenter_key(&c, "process");
	int r = sk_spec_read_process(&c, doc.root, out);
	if (r)
		sk_spec_process_free(out);
	sk_jdoc_free(&doc);
	return r;
}

int sk_spec_load(const char *path, struct sk_spec *out, struct sk_err *err)
{
	memset(out, 0, sizeof(*out));
	const char *slash = strrchr(path, '/');
	const char *name = slash && slash[1] ? slash + 1 : path;
	char *buf = NULL;
	size_t len = 0;
	if (sk_read_file_at(AT_FDCWD, path, name, SK_SPEC_MAX_BYTES, &buf, &len, err))
		return -1;
	int r = sk_spec_parse(name, buf, len, out, err);
	free(buf);
	return r;
}
