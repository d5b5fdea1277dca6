/* The runtime's options from Create (rtopts.h). */
#include "rtopts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "containerd/runc_options.pb-c.h"
#include "containerd/runtimeoptions.pb-c.h"
#include "skiff/base/util.h"

#define RUNC_OPTIONS_TYPE "containerd.runc.v1.Options"
#define RUNTIME_OPTIONS_TYPE "runtimeoptions.v1.Options"
#define CONFIG_MAX (64 * 1024)

static bool type_is(const char *url, const char *type)
{
	size_t ul = strlen(url), tl = strlen(type);
	/* "containerd.runc.v1.Options" or ".../containerd.runc.v1.Options" */
	return ul >= tl && !strcmp(url + ul - tl, type) && (ul == tl || url[ul - tl - 1] == '/');
}

static int set_str(char **dst, const char *s, size_t n, struct sk_err *err)
{
	free(*dst);
	if (!(*dst = strndup(s, n)))
		return sk_error(err, ENOMEM, "options");
	return 0;
}

/* A TOML basic ("...", with \" and \\) or literal ('...') string at *p, up
 * to end; the rest of the line must be blank or a comment. */
static int toml_string(const char *p, const char *end, char **out, struct sk_err *err)
{
	char q = *p++;
	char *s = malloc((size_t)(end - p) + 1);
	if (!s)
		return sk_error(err, ENOMEM, "options");
	size_t n = 0;
	for (; p < end && *p != q; p++) {
		if (q == '"' && *p == '\\') {
			if (p + 1 >= end || (p[1] != '"' && p[1] != '\\')) {
				free(s);
				return sk_error(err, 0, "only \\\" and \\\\ are understood in a string");
			}
			p++;
		}
		s[n++] = *p;
	}
	if (p >= end) {
		free(s);
		return sk_error(err, 0, "unterminated string");
	}
	for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	if (p < end && *p != '#') {
		free(s);
		return sk_error(err, 0, "text after the string");
	}
	s[n] = '\0';
	*out = s;
	return 0;
}

static int one_line(const char *p, const char *end, struct ctrd_rtopts *o, struct sk_err *err)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	if (p == end || *p == '#')
		return 0;
	const char *k = p;
	while (p < end && *p != '=' && *p != ' ' && *p != '\t')
		p++;
	size_t kl = (size_t)(p - k);
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (!kl || p == end || *p != '=')
		return sk_error(err, 0, "not a `Key = value` line");
	for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	bool is_bin = kl == 10 && !strncmp(k, "BinaryName", kl), is_root = kl == 4 && !strncmp(k, "Root", kl);
	if (is_bin || is_root) {
		if (p == end || (*p != '"' && *p != '\''))
			return sk_error(err, 0, "%.*s: a quoted string is expected", (int)kl, k);
		char *s = NULL;
		if (toml_string(p, end, &s, err) < 0)
			return sk_error_wrap(err, "%.*s", (int)kl, k);
		int rc = set_str(is_bin ? &o->binary : &o->root, s, strlen(s), err);
		free(s);
		return rc;
	}
	if (kl == 13 && !strncmp(k, "SystemdCgroup", kl)) {
		size_t vl = 0;
		while (p + vl < end && p[vl] != ' ' && p[vl] != '\t' && p[vl] != '#')
			vl++;
		const char *rest = p + vl;
		while (rest < end && (*rest == ' ' || *rest == '\t'))
			rest++;
		if (rest < end && *rest != '#')
			return sk_error(err, 0, "SystemdCgroup: text after the value");
		if (vl == 4 && !strncmp(p, "true", 4))
			o->systemd_cgroup = true;
		else if (vl == 5 && !strncmp(p, "false", 5))
			o->systemd_cgroup = false;
		else
			return sk_error(err, 0, "SystemdCgroup: true or false is expected");
		return 0;
	}
	/* containerd 1.7's config_body is the handler's whole options table. */
	if ((kl == 7 && !strncmp(k, "TypeUrl", kl)) || (kl == 10 && !strncmp(k, "ConfigPath", kl)))
		return 0;
	return sk_error(err, 0, "unknown key %.*s (BinaryName, Root and SystemdCgroup are read)", (int)kl, k);
}

int ctrd_rtopts_lines(const char *text, size_t len, const char *name, struct ctrd_rtopts *o, struct sk_err *err)
{
	const char *p = text, *end = text + len;
	for (unsigned line = 1; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (memchr(p, '\0', (size_t)(le - p)))
			return sk_error(err, 0, "%s: line %u: a NUL byte", name, line);
		if (one_line(p, le, o, err) < 0)
			return sk_error_wrap(err, "%s: line %u", name, line);
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int ctrd_rtopts_parse(const Google__Protobuf__Any *any, struct ctrd_rtopts *o, struct sk_err *err)
{
	memset(o, 0, sizeof(*o));
	if (!any || !any->type_url)
		return 0;
	if (type_is(any->type_url, RUNC_OPTIONS_TYPE)) {
		Containerd__Runc__V1__Options *r =
			containerd__runc__v1__options__unpack(NULL, any->value.len, any->value.data);
		if (!r)
			return sk_error(err, EINVAL, "malformed %s", RUNC_OPTIONS_TYPE);
		int rc = 0;
		if (r->binary_name && *r->binary_name)
			rc = set_str(&o->binary, r->binary_name, strlen(r->binary_name), err);
		if (!rc && r->root && *r->root)
			rc = set_str(&o->root, r->root, strlen(r->root), err);
		o->systemd_cgroup = r->systemd_cgroup;
		containerd__runc__v1__options__free_unpacked(r, NULL);
		if (rc < 0)
			ctrd_rtopts_free(o);
		return rc;
	}
	if (!type_is(any->type_url, RUNTIME_OPTIONS_TYPE))
		return 0;
	Runtimeoptions__V1__Options *r = runtimeoptions__v1__options__unpack(NULL, any->value.len, any->value.data);
	if (!r)
		return sk_error(err, EINVAL, "malformed %s", RUNTIME_OPTIONS_TYPE);
	int rc = 0;
	if (r->config_path && *r->config_path) {
		char *buf;
		size_t len;
		if (r->config_path[0] != '/')
			rc = sk_error(err, 0, "ConfigPath %s: not an absolute path", r->config_path);
		else if ((rc = sk_read_file_at(AT_FDCWD, r->config_path, NULL, CONFIG_MAX, &buf, &len, err)) == 0) {
			rc = ctrd_rtopts_lines(buf, len, r->config_path, o, err);
			free(buf);
		}
	} else if (r->config_body.len) {
		rc = ctrd_rtopts_lines((const char *)r->config_body.data, r->config_body.len, "the runtime's options",
				       o, err);
	}
	runtimeoptions__v1__options__free_unpacked(r, NULL);
	if (rc < 0)
		ctrd_rtopts_free(o);
	return rc;
}

void ctrd_rtopts_free(struct ctrd_rtopts *o)
{
	free(o->binary);
	free(o->root);
	o->binary = o->root = NULL;
}
