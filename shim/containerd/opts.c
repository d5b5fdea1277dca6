/* The shim's command line (opts.h). */
#include "opts.h"

#include <string.h>

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "1", "t", "T", "true", "TRUE", "True" };
	static const char *const no[] = { "0", "f", "F", "false", "FALSE", "False" };
	for (size_t i = 0; i < 6; i++) {
		if (!strcmp(v, yes[i]))
			return *out = true, 0;
		if (!strcmp(v, no[i]))
			return *out = false, 0;
	}
	return -1;
}

int ctrd_opts_parse(int argc, char **argv, struct ctrd_opts *o, struct sk_err *err)
{
	memset(o, 0, sizeof(*o));
	struct { const char *name; const char **s; bool *b; } flags[] = {
		{ "namespace", &o->namespace, NULL }, { "id", &o->id, NULL },
		{ "bundle", &o->bundle, NULL }, { "address", &o->address, NULL },
		{ "publish-binary", &o->publish_binary, NULL }, { "socket", &o->socket, NULL },
		{ "debug", NULL, &o->debug }, { "v", NULL, &o->version },
	};
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || !a[1])
			break;
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		a += a[1] == '-' ? 2 : 1;
		if (!*a || *a == '-' || *a == '=')
			return sk_error(err, 0, "bad flag syntax: %s", argv[i]);
		const char *eq = strchr(a, '=');
		size_t n = eq ? (size_t)(eq - a) : strlen(a);
		size_t f = 0;
		while (f < sizeof(flags) / sizeof(flags[0]) &&
		       (strlen(flags[f].name) != n || strncmp(flags[f].name, a, n)))
			f++;
		if (f == sizeof(flags) / sizeof(flags[0]))
			return sk_error(err, 0, "flag provided but not defined: -%.*s", (int)n, a);
		if (flags[f].b) {
			if (!eq)
				*flags[f].b = true;
			else if (parse_bool(eq + 1, flags[f].b) < 0)
				return sk_error(err, 0, "invalid boolean value \"%s\" for -%s", eq + 1,
						flags[f].name);
		} else if (eq) {
			*flags[f].s = eq + 1;
		} else if (i + 1 < argc) {
			*flags[f].s = argv[++i];
		} else {
			return sk_error(err, 0, "flag needs an argument: -%s", flags[f].name);
		}
	}
	if (i < argc)
		o->action = argv[i];
	return 0;
}
