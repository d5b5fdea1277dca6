/* skiff list: the containers under --root (containers.h), as runc prints
 * them: a table aligned like Go's tabwriter (minimum width 12, padding 3), a
 * JSON array (null when empty, as runc's encoder writes a nil slice), or
 * the ids only.  The owner column is the owner's user name. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "skiff/container/containers.h"
#include "skiff/spec/json_gen.h"

struct entry {
	const struct sk_container_info *c;
	char owner[64];
};

struct owner_cache { bool valid; uid_t uid; char name[64]; };

/* runc's owner column: the user name, or "#uid" when there is none. */
static void owner_name(struct owner_cache *c, uid_t uid, char *out, size_t cap)
{
	if (!c->valid || c->uid != uid) {
		struct passwd pw, *res = NULL;
		char buf[1024];
		if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
			snprintf(c->name, sizeof(c->name), "%s", res->pw_name);
		else
			snprintf(c->name, sizeof(c->name), "#%u", (unsigned)uid);
		c->uid = uid;
		c->valid = true;
	}
	snprintf(out, cap, "%s", c->name);
}

static void print_table(FILE *f, const struct entry *v, size_t n)
{
	enum { NCOL = 5, MINW = 12, PAD = 3 };
	static const char *const head[NCOL] = { "ID", "PID", "STATUS", "BUNDLE", "CREATED" };
	size_t w[NCOL];
	for (int c = 0; c < NCOL; c++)
		w[c] = strlen(head[c]);
	char pid[16];
	for (size_t i = 0; i < n; i++) {
		const struct sk_state *st = &v[i].c->st;
		int pl = snprintf(pid, sizeof(pid), "%d", v[i].c->status == SK_STATUS_STOPPED ? 0 : (int)st->pid);
		size_t len[NCOL] = { strlen(st->id), (size_t)pl, strlen(sk_status_name(v[i].c->status)),
				     strlen(st->bundle ? st->bundle : ""), strlen(st->created ? st->created : "") };
		for (int c = 0; c < NCOL; c++)
			w[c] = len[c] > w[c] ? len[c] : w[c];
	}
	for (int c = 0; c < NCOL; c++)
		w[c] = w[c] + PAD < MINW ? MINW : w[c] + PAD;
	fprintf(f, "%-*s%-*s%-*s%-*s%-*s%s\n", (int)w[0], head[0], (int)w[1], head[1], (int)w[2], head[2],
		(int)w[3], head[3], (int)w[4], head[4], "OWNER");
	for (size_t i = 0; i < n; i++) {
		const struct sk_state *st = &v[i].c->st;
		snprintf(pid, sizeof(pid), "%d", v[i].c->status == SK_STATUS_STOPPED ? 0 : (int)st->pid);
		fprintf(f, "%-*s%-*s%-*s%-*s%-*s%s\n", (int)w[0], st->id, (int)w[1], pid, (int)w[2],
			sk_status_name(v[i].c->status), (int)w[3], st->bundle ? st->bundle : "", (int)w[4],
			st->created ? st->created : "", v[i].owner);
	}
}

static int print_json(const struct entry *v, size_t n, struct sk_err *err)
{
	if (n == 0)
		return sk_out(err, "null\n");
	struct sk_json j;
	if (sk_json_init(&j, NULL, err) < 0)
		return -1;
	sk_json_array_open(&j);
	for (size_t i = 0; i < n; i++)
		sk_state_gen_oci(&j, &v[i].c->st, v[i].c->status, v[i].owner);
	sk_json_array_close(&j);
	const char *buf;
	size_t len;
	int rc = sk_json_buf(&j, &buf, &len, err);
	if (rc == 0)
		rc = sk_out_write(buf, len, err);
	if (rc == 0)
		rc = sk_out(err, "\n");
	sk_json_free(&j);
	return rc;
}

int cmd_list(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	const char *format = "table";
	bool quiet = false;
	struct sk_opt opts[] = {
		SK_OPT_FORMAT(&format),
		{ "quiet", 'q', SK_OPT_BOOL, &quiet, NULL, "print only the container ids" },
		{ 0 }
	};
	struct sk_usage u = { .operands = NULL, .min = 0, .max = 0, .opts = opts };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;
	bool json;
	if (sk_cli_format(format, &json, err) < 0)
		return SK_EXIT_USAGE;

	struct sk_container_info *c;
	size_t n;
	if (sk_containers_list(g->root, &c, &n, err) < 0)
		return SK_EXIT_ERROR;
	struct entry *v = n ? calloc(n, sizeof(*v)) : NULL;
	if (n && !v) {
		sk_containers_free(c, n);
		sk_error(err, ENOMEM, "list containers");
		return SK_EXIT_ERROR;
	}
	struct owner_cache oc = { 0 };
	for (size_t i = 0; i < n; i++) {
		v[i].c = &c[i];
		if (!quiet)
			owner_name(&oc, c[i].st.owner, v[i].owner, sizeof(v[i].owner));
	}
	rc = 0;
	if (quiet || !json) {
		/* One write for the whole listing. */
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (!f) {
			rc = sk_error(err, errno, "list containers");
		} else {
			if (quiet) {
				for (size_t i = 0; i < n; i++)
					fprintf(f, "%s\n", v[i].c->st.id);
			} else {
				print_table(f, v, n);
			}
			/* fclose must run even when ferror is set. */
			if (ferror(f) | fclose(f))
				rc = sk_error(err, ENOMEM, "list containers");
			else
				rc = sk_out_write(buf, len, err);
			free(buf);
		}
	} else {
		rc = print_json(v, n, err);
	}
	free(v);
	sk_containers_free(c, n);
	return rc < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
}
