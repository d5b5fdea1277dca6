/* cli_opts: the option parser and the stdout helpers of the CLI layer (see
 * cli.h). */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skiff/base/util.h"

int sk_out_write(const void *buf, size_t len, struct sk_err *err)
{
	if (sk_write_all(STDOUT_FILENO, buf, len) < 0)
		return sk_error(err, errno, "write to stdout");
	return 0;
}

int sk_out(struct sk_err *err, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return sk_error(err, errno, "format output");
	if ((size_t)n < sizeof(small))
		return sk_out_write(small, (size_t)n, err);
	char *big = malloc((size_t)n + 1);
	if (!big)
		return sk_error(err, ENOMEM, "format output");
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int rc = sk_out_write(big, (size_t)n, err);
	free(big);
	return rc;
}

int sk_cli_format(const char *format, bool *json, struct sk_err *err)
{
	*json = strcmp(format, "json") == 0;
	if (!*json && strcmp(format, "table") != 0)
		return sk_error(err, 0, "invalid --format \"%s\": must be table or json", format);
	return 0;
}

/* The implicit --help/-h of commands. */
static const struct sk_opt help_opt = { "help", 'h', SK_OPT_BOOL, NULL, NULL, "show this help" };

static const struct sk_opt *find_opt(const struct sk_opt *opts, const char *name, size_t len, bool with_help)
{
	for (const struct sk_opt *o = opts; o && o->name; o++) {
		if (strlen(o->name) == len && memcmp(o->name, name, len) == 0)
			return o;
		if (len == 1 && o->short_name == name[0])
			return o;
	}
	if (with_help && ((len == 4 && memcmp(name, "help", 4) == 0) || (len == 1 && name[0] == 'h')))
		return &help_opt;
	return NULL;
}

/* Go's strconv.ParseBool spellings, which runc accepts. */
static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "t", "T", "true", "TRUE", "True" };
	static const char *const no[] = { "0", "f", "F", "false", "FALSE", "False" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int set_value(const struct sk_opt *o, const char *flag, const char *val, struct sk_err *err)
{
	char *end;
	errno = 0;
	switch (o->kind) {
	case SK_OPT_BOOL:
		if (parse_bool(val, o->dest) < 0)
			return sk_error(err, 0, "invalid value \"%s\" for flag %s: must be true or false", val, flag);
		return 0;
	case SK_OPT_STRING:
		*(const char **)o->dest = val;
		return 0;
	case SK_OPT_INT: {
		long long v = strtoll(val, &end, 0);
		if (errno || end == val || *end)
			return sk_error(err, 0, "invalid value \"%s\" for flag %s: must be an integer", val, flag);
		*(int64_t *)o->dest = v;
		return 0;
	}
	case SK_OPT_UINT: {
		/* strtoull accepts "-1" as a huge number; refuse any sign. */
		unsigned long long v = strtoull(val, &end, 0);
		if (errno || end == val || *end || val[strspn(val, " \t")] == '-')
			return sk_error(err, 0, "invalid value \"%s\" for flag %s: must be a non-negative integer",
					val, flag);
		*(uint64_t *)o->dest = v;
		return 0;
	}
	case SK_OPT_STRINGS: {
		struct sk_strv *sv = o->dest;
		const char **nv = realloc(sv->v, (sv->n + 1) * sizeof(*nv));
		if (!nv)
			return sk_error(err, ENOMEM, "flag %s", flag);
		nv[sv->n++] = val;
		sv->v = nv;
		return 0;
	}
	}
	return sk_error(err, EINVAL, "flag %s: bad option kind", flag);
}

/* Returns the index of the first operand, or -1.  help != NULL enables the
 * implicit --help and reports whether it was given. */
static int parse(const struct sk_opt *opts, int argc, char **argv, bool *help, struct sk_err *err)
{
	int i = 1;
	while (i < argc) {
		const char *arg = argv[i];
		if (arg[0] != '-' || arg[1] == '\0')
			break;                  /* an operand, or "-" (stdin) */
		if (strcmp(arg, "--") == 0)
			return i + 1;
		const char *name = arg + (arg[1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		/* The flag as typed, without "=value", for messages. */
		char flag[128];
		snprintf(flag, sizeof(flag), "%.*s", (int)(eq ? eq - arg : (long)strlen(arg)), arg);
		const struct sk_opt *o = len ? find_opt(opts, name, len, help != NULL) : NULL;
		if (!o)
			return sk_error(err, 0, "unknown flag %s", flag);
		i++;
		if (o == &help_opt) {
			bool on = true;
			if (eq && parse_bool(eq + 1, &on) < 0)
				return sk_error(err, 0, "invalid value \"%s\" for flag %s: must be true or false", eq + 1, flag);
			*help = *help || on;
			continue;
		}
		const char *val;
		if (eq) {
			val = eq + 1;
		} else if (o->kind == SK_OPT_BOOL) {
			val = "true";
		} else {
			if (i >= argc)
				return sk_error(err, 0, "flag %s needs a value", flag);
			val = argv[i++];
		}
		if (set_value(o, flag, val, err) < 0)
			return -1;
	}
	return i;
}

int sk_opts_parse(const struct sk_opt *opts, int argc, char **argv, struct sk_err *err)
{
	return parse(opts, argc, argv, NULL, err);
}

/* "  -b, --bundle DIR" into buf; returns its length. */
static int opt_label(const struct sk_opt *o, char *buf, size_t cap)
{
	int n;
	if (o->short_name)
		n = snprintf(buf, cap, "  -%c, --%s", o->short_name, o->name);
	else
		n = snprintf(buf, cap, "      --%s", o->name);
	if (o->kind != SK_OPT_BOOL && n >= 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - (size_t)n, " %s", o->metavar ? o->metavar : "VALUE");
	return n < 0 ? 0 : (n >= (int)cap ? (int)cap - 1 : n);
}

static int print_opts(const struct sk_opt *opts, bool with_help, struct sk_err *err)
{
	char label[128];
	int width = 0;
	for (const struct sk_opt *o = opts; o && o->name; o++) {
		int n = opt_label(o, label, sizeof(label));
		width = n > width ? n : width;
	}
	if (with_help) {
		int n = opt_label(&help_opt, label, sizeof(label));
		width = n > width ? n : width;
	}
	for (const struct sk_opt *o = opts; o && o->name; o++) {
		opt_label(o, label, sizeof(label));
		if (sk_out(err, "%-*s  %s\n", width, label, o->help ? o->help : "") < 0)
			return -1;
	}
	if (with_help) {
		opt_label(&help_opt, label, sizeof(label));
		if (sk_out(err, "%-*s  %s\n", width, label, help_opt.help) < 0)
			return -1;
	}
	return 0;
}

int sk_opts_print_help(const struct sk_opt *opts, struct sk_err *err)
{
	return print_opts(opts, false, err);
}

int sk_cli_parse(struct sk_globals *g, const struct sk_usage *u, int *argc, char ***argv, struct sk_err *err)
{
	const char *name = g->cmd->name;
	bool help = false;
	int first = parse(u->opts, *argc, *argv, &help, err);
	if (first < 0)
		return SK_EXIT_USAGE;
	if (help) {
		if (sk_out(err, "Usage: skiff %s [options]%s%s\n\n%s\n\nOptions:\n", name, u->operands ? " " : "",
			   u->operands ? u->operands : "", g->cmd->summary) < 0 ||
		    print_opts(u->opts, true, err) < 0)
			return SK_EXIT_ERROR;
		return SK_EXIT_OK;
	}
	int n = *argc - first;
	if (n < u->min || (u->max >= 0 && n > u->max)) {
		const char *what = u->operands ? u->operands : "none";
		if (u->min == u->max)
			sk_error(err, 0, "expects exactly %d argument%s (%s), got %d", u->min, u->min == 1 ? "" : "s",
				 what, n);
		else if (u->max < 0)
			sk_error(err, 0, "expects at least %d argument%s (%s), got %d", u->min, u->min == 1 ? "" : "s",
				 what, n);
		else
			sk_error(err, 0, "expects %d to %d arguments (%s), got %d", u->min, u->max, what, n);
		return SK_EXIT_USAGE;
	}
	*argc = n;
	*argv += first;
	return SK_CLI_CONTINUE;
}
