/* skiff list: the containers under --root, as runc prints them: a table
 * aligned like Go's tabwriter (minimum width 12, padding 3), a JSON array
 * (null when empty, as runc's encoder writes a nil slice), or the ids only.
 * Reading is lock-free: state.json is replaced atomically, and a list must
 * not wait behind a create that runs hooks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "skiff/json_gen.h"
#include "skiff/log.h"
#include "skiff/state.h"

struct entry {
	struct sk_state st;
	enum sk_status status;
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

/* Loads one container; 0 and *skip = true for entries that are not
 * containers or cannot be read (those are logged as warnings, as runc does). */
static int load_entry(int root, const char *name, struct entry *e, struct owner_cache *oc, bool *skip,
		      struct sk_err *err)
{
	*skip = true;
	struct sk_err ignored;
	if (sk_state_validate_id(name, &ignored) < 0)
		return 0;
	int dir = openat(root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0) {
		if (errno == ENOTDIR || errno == ELOOP || errno == ENOENT)
			return 0;
		return sk_error(err, errno, "open state directory of \"%s\"", name);
	}
	struct sk_err rerr;
	if (sk_state_read(dir, &e->st, &rerr) == 0) {
		e->status = sk_state_status(dir, &e->st);
	} else if (rerr.errnum == ENOENT) {
		/* Being created, or a create that died before writing its
		 * state: shown so that it can be found and deleted. */
		struct stat sb;
		memset(&e->st, 0, sizeof(e->st));
		e->st.id = strdup(name);
		if (!e->st.id || fstat(dir, &sb) < 0) {
			int errnum = e->st.id ? errno : ENOMEM;
			close(dir);
			sk_state_free(&e->st);
			return sk_error(err, errnum, "state directory of \"%s\"", name);
		}
		e->st.owner = sb.st_uid;
		e->status = SK_STATUS_CREATING;
	} else {
		close(dir);
		sk_warn("list: skipping container \"%s\": %s", name, rerr.msg);
		return 0;
	}
	close(dir);
	owner_name(oc, e->st.owner, e->owner, sizeof(e->owner));
	*skip = false;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->st.id, ((const struct entry *)b)->st.id);
}

static int load_all(const char *root_path, struct entry **out, size_t *n_out, struct sk_err *err)
{
	*out = NULL;
	*n_out = 0;
	int root = open(root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		if (errno == ENOENT)
			return 0;       /* nothing was ever created there */
		return sk_error(err, errno, "open state root %s", root_path);
	}
	DIR *d = fdopendir(root);
	if (!d) {
		int e = errno;
		close(root);
		return sk_error(err, e, "read state root %s", root_path);
	}
	struct owner_cache oc = { 0 };
	struct entry *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct entry *nv = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				rc = sk_error(err, ENOMEM, "list containers");
				break;
			}
			v = nv;
			cap = ncap;
		}
		bool skip;
		if (load_entry(root, de->d_name, &v[n], &oc, &skip, err) < 0) {
			rc = -1;
			break;
		}
		if (!skip)
			n++;
	}
	if (rc == 0 && errno)
		rc = sk_error(err, errno, "read state root %s", root_path);
	closedir(d);
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			sk_state_free(&v[i].st);
		free(v);
		return -1;
	}
	/* runc lists in name order (Go's ReadDir sorts). */
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_entry);
	*out = v;
	*n_out = n;
	return 0;
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
		const struct sk_state *st = &v[i].st;
		int pl = snprintf(pid, sizeof(pid), "%d", v[i].status == SK_STATUS_STOPPED ? 0 : (int)st->pid);
		size_t len[NCOL] = { strlen(st->id), (size_t)pl, strlen(sk_status_name(v[i].status)),
				     strlen(st->bundle ? st->bundle : ""), strlen(st->created ? st->created : "") };
		for (int c = 0; c < NCOL; c++)
			w[c] = len[c] > w[c] ? len[c] : w[c];
	}
	for (int c = 0; c < NCOL; c++)
		w[c] = w[c] + PAD < MINW ? MINW : w[c] + PAD;
	fprintf(f, "%-*s%-*s%-*s%-*s%-*s%s\n", (int)w[0], head[0], (int)w[1], head[1], (int)w[2], head[2],
		(int)w[3], head[3], (int)w[4], head[4], "OWNER");
	for (size_t i = 0; i < n; i++) {
		const struct sk_state *st = &v[i].st;
		snprintf(pid, sizeof(pid), "%d", v[i].status == SK_STATUS_STOPPED ? 0 : (int)st->pid);
		fprintf(f, "%-*s%-*s%-*s%-*s%-*s%s\n", (int)w[0], st->id, (int)w[1], pid, (int)w[2],
			sk_status_name(v[i].status), (int)w[3], st->bundle ? st->bundle : "", (int)w[4],
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
		sk_state_gen_oci(&j, &v[i].st, v[i].status, v[i].owner);
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
		{ "format", 'f', SK_OPT_STRING, &format, "table|json", "output format (default: table)" },
		{ "quiet", 'q', SK_OPT_BOOL, &quiet, NULL, "print only the container ids" },
		{ 0 }
	};
	struct sk_usage u = { .operands = NULL, .min = 0, .max = 0, .opts = opts };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;
	bool json = strcmp(format, "json") == 0;
	if (!json && strcmp(format, "table") != 0) {
		sk_error(err, 0, "invalid --format \"%s\": must be table or json", format);
		return SK_EXIT_USAGE;
	}

	struct entry *v;
	size_t n;
	if (load_all(g->root, &v, &n, err) < 0)
		return SK_EXIT_ERROR;
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
					fprintf(f, "%s\n", v[i].st.id);
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
	for (size_t i = 0; i < n; i++)
		sk_state_free(&v[i].st);
	free(v);
	return rc < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
}
