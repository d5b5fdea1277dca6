/* criu: CRIU's RPC over `criu swrk`, and what checkpoint and restore share
 * (see criu.h). */
#include "skiff/container/criu.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <protobuf-c/protobuf-c.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skiff/base/util.h"

#define LIBCRIU_SONAME "libcriu.so.2"
/* CRIU's messages are small (libcriu reads them into 1 KiB). */
#define MSG_MAX (64u << 10)

/* The first failure of a setter, kept for sk_criu_request. */
#define fail(c, ...) \
	do { \
		if (!(c)->failed) { \
			(c)->failed = true; \
			sk_error(&(c)->err, __VA_ARGS__); \
		} \
	} while (0)

/* ---- memory the request's messages own ---------------------------------- */

static void *own(struct sk_criu *c, void *p)
{
	void **m = p ? realloc(c->mem, (c->n_mem + 1) * sizeof(*m)) : NULL;
	if (!m) {
		free(p);
		fail(c, ENOMEM, "CRIU request");
		return NULL;
	}
	c->mem = m;
	c->mem[c->n_mem++] = p;
	return p;
}

/* Grow an owned array (or own a new one) to n elements of size. */
static void *own_grow(struct sk_criu *c, void *old, size_t n, size_t size)
{
	size_t i = 0;
	while (old && i < c->n_mem && c->mem[i] != old)
		i++;
	void *p = realloc(old, n * size);
	if (!p) {
		fail(c, ENOMEM, "CRIU request");
		return NULL;
	}
	if (old)
		c->mem[i] = p;
	else if (!own(c, p))
		return NULL;
	return p;
}

static ProtobufCMessage *new_msg(struct sk_criu *c, const ProtobufCMessageDescriptor *d)
{
	void *m = own(c, calloc(1, d->sizeof_message));
	if (m)
		c->init(d, m);
	return m;
}

/* ---- fields by name, through the loaded library's descriptors ----------- */

static const ProtobufCFieldDescriptor *field_of(struct sk_criu *c, ProtobufCMessage *m, const char *name,
					       ProtobufCType type, bool repeated)
{
	const ProtobufCFieldDescriptor *f = c->field(m->descriptor, name);
	if (!f) {
		fail(c, 0, "CRIU too old: no option %s in %s", name, m->descriptor->name);
		return NULL;
	}
	if (f->type != type || (f->label == PROTOBUF_C_LABEL_REPEATED) != repeated) {
		fail(c, 0, "CRIU's option %s in %s has an unexpected type", name, m->descriptor->name);
		return NULL;
	}
	return f;
}

static void *slot(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	/* An optional scalar says it is set in its has_ member. */
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		*(protobuf_c_boolean *)((char *)m + f->quantifier_offset) = 1;
	return (char *)m + f->offset;
}

void sk_criu_set_bool(struct sk_criu *c, ProtobufCMessage *m, const char *name, bool v)
{
	m = m ? m : c->opts;
	const ProtobufCFieldDescriptor *f = m ? field_of(c, m, name, PROTOBUF_C_TYPE_BOOL, false) : NULL;
	if (f)
		*(protobuf_c_boolean *)slot(m, f) = v;
}

void sk_criu_set_int(struct sk_criu *c, ProtobufCMessage *m, const char *name, int64_t v)
{
	m = m ? m : c->opts;
	const ProtobufCFieldDescriptor *f = m ? c->field(m->descriptor, name) : NULL;
	if (!m)
		return;
	if (!f) {
		fail(c, 0, "CRIU too old: no option %s in %s", name, m->descriptor->name);
		return;
	}
	switch (f->label == PROTOBUF_C_LABEL_REPEATED ? PROTOBUF_C_TYPE_BYTES : f->type) {
	case PROTOBUF_C_TYPE_INT32:
		*(int32_t *)slot(m, f) = (int32_t)v;
		break;
	case PROTOBUF_C_TYPE_UINT32:
		*(uint32_t *)slot(m, f) = (uint32_t)v;
		break;
	case PROTOBUF_C_TYPE_ENUM:
		*(int *)slot(m, f) = (int)v;
		break;
	default:
		fail(c, 0, "CRIU's option %s in %s has an unexpected type", name, m->descriptor->name);
	}
}

void sk_criu_set_str(struct sk_criu *c, ProtobufCMessage *m, const char *name, const char *v)
{
	m = m ? m : c->opts;
	const ProtobufCFieldDescriptor *f = m ? field_of(c, m, name, PROTOBUF_C_TYPE_STRING, false) : NULL;
	char *s = f ? own(c, strdup(v)) : NULL;
	if (s)
		*(char **)slot(m, f) = s;
}

/* Append p to the repeated field f of m. */
static void append(struct sk_criu *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, void *p)
{
	size_t *n = (size_t *)((char *)m + f->quantifier_offset);
	void ***arr = (void ***)((char *)m + f->offset);
	void **a = own_grow(c, *arr, *n + 1, sizeof(void *));
	if (!a)
		return;
	a[(*n)++] = p;
	*arr = a;
}

void sk_criu_add_str(struct sk_criu *c, const char *name, const char *v)
{
	const ProtobufCFieldDescriptor *f = c->opts ? field_of(c, c->opts, name, PROTOBUF_C_TYPE_STRING, true) : NULL;
	char *s = f ? own(c, strdup(v)) : NULL;
	if (s)
		append(c, c->opts, f, s);
}

ProtobufCMessage *sk_criu_add_msg(struct sk_criu *c, const char *name)
{
	const ProtobufCFieldDescriptor *f = c->opts ? field_of(c, c->opts, name, PROTOBUF_C_TYPE_MESSAGE, true) : NULL;
	ProtobufCMessage *sub = f ? new_msg(c, f->descriptor) : NULL;
	if (sub)
		append(c, c->opts, f, sub);
	return c->failed ? NULL : sub;
}

static ProtobufCMessage *sub_msg(struct sk_criu *c, ProtobufCMessage *m, const char *name)
{
	const ProtobufCFieldDescriptor *f = m ? field_of(c, m, name, PROTOBUF_C_TYPE_MESSAGE, false) : NULL;
	ProtobufCMessage *sub = f ? new_msg(c, f->descriptor) : NULL;
	if (sub)
		*(ProtobufCMessage **)slot(m, f) = sub;
	return sub;
}

ProtobufCMessage *sk_criu_msg(struct sk_criu *c, const char *name)
{
	return sub_msg(c, c->opts, name);
}

void sk_criu_ext_mount(struct sk_criu *c, const char *key, const char *val)
{
	ProtobufCMessage *m = sk_criu_add_msg(c, "ext_mnt");
	if (m) {
		sk_criu_set_str(c, m, "key", key);
		sk_criu_set_str(c, m, "val", val);
	}
}

void sk_criu_inherit_fd(struct sk_criu *c, const char *key, int fd)
{
	ProtobufCMessage *m = sk_criu_add_msg(c, "inherit_fd");
	if (m) {
		sk_criu_set_str(c, m, "key", key);
		sk_criu_set_int(c, m, "fd", fd);
	}
}

void sk_criu_pass_fd(struct sk_criu *c, const char *key, int fd)
{
	if (c->n_pass == SK_CRIU_MAX_PASS) {
		fail(c, EMFILE, "too many fds for CRIU (%s)", key);
		return;
	}
	c->pass[c->n_pass] = fd;
	sk_criu_inherit_fd(c, key, 4 + (int)c->n_pass++);
}

/* A field of a parsed message, NULL when absent. */
static const void *get(struct sk_criu *c, const ProtobufCMessage *m, const char *name)
{
	const ProtobufCFieldDescriptor *f = m ? c->field(m->descriptor, name) : NULL;
	if (!f)
		return NULL;
	const char *p = (const char *)m + f->offset;
	if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(void *const *)p;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !*(const protobuf_c_boolean *)((const char *)m + f->quantifier_offset))
		return NULL;
	return p;
}

static int get_int(struct sk_criu *c, const ProtobufCMessage *m, const char *name)
{
	const int32_t *p = get(c, m, name);   /* int32, bool and enum are 4 bytes */
	return p ? *p : 0;
}

/* ---- one request over one swrk ------------------------------------------ */

static pid_t spawn(struct sk_criu *c, int *sock, struct sk_err *err)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return sk_error(err, errno, "socketpair for criu");
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sp[0]);
		close(sp[1]);
		return sk_error(err, e, "fork criu");
	}
	if (pid == 0) {
		/* CRIU watches its children with SIGCHLD: nothing blocked. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		/* 3 the socket, 4.. the passed fds: first out of the way. */
		int n = 1 + (int)c->n_pass, tmp[1 + SK_CRIU_MAX_PASS];
		for (int i = 0; i < n; i++)
			if ((tmp[i] = fcntl(i ? c->pass[i - 1] : sp[1], F_DUPFD, 3 + n)) < 0)
				_exit(126);
		for (int i = 0; i < n; i++)
			if (dup2(tmp[i], 3 + i) < 0)
				_exit(126);
		close_range(3 + (unsigned)n, ~0U, 0);
		execlp(c->bin, c->bin, "swrk", "3", (char *)NULL);
		_exit(127);
	}
	close(sp[1]);
	*sock = sp[0];
	return pid;
}

static int send_msg(struct sk_criu *c, int sock, ProtobufCMessage *m, struct sk_err *err)
{
	size_t len = c->packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return sk_error(err, ENOMEM, "CRIU request");
	c->pack(m, buf);
	ssize_t n = send(sock, buf, len, MSG_NOSIGNAL);
	int e = errno;
	free(buf);
	return n == (ssize_t)len ? 0 : sk_error(err, n < 0 ? e : EIO, "send to criu");
}

/* The next answer from criu, and the fd it carried (or -1); 0 at EOF. */
static int recv_msg(struct sk_criu *c, int sock, uint8_t *buf, ProtobufCMessage **out, int *fd, struct sk_err *err)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { buf, MSG_MAX };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof(cm.b) };
	*fd = -1;
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sk_error(err, errno, "receive from criu");
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS && h->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(h), sizeof(int));
	if (n == 0)
		return 0;
	if (mh.msg_flags & MSG_TRUNC) {
		if (*fd >= 0)
			close(*fd);
		return sk_error(err, EMSGSIZE, "criu's answer");
	}
	*out = c->unpack(c->resp_d, NULL, (size_t)n, buf);
	if (!*out) {
		if (*fd >= 0)
			close(*fd);
		return sk_error(err, EPROTO, "criu's answer cannot be parsed");
	}
	return 1;
}

/* The first "Error" line of CRIU's log says why, most of the time (the
 * last one is CRIU's "Dumping FAILED."). */
static void first_error(int work, const char *log, char *out, size_t cap)
{
	char *buf = NULL;
	size_t len = 0;
	struct sk_err ignored;
	out[0] = '\0';
	if (work < 0 || sk_read_file_at(work, log, log, 16u << 20, &buf, &len, &ignored) < 0)
		return;
	for (char *line = buf, *nl; line < buf + len && !out[0]; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(buf + len - line));
		if (!nl)
			nl = buf + len;
		char *e = memmem(line, (size_t)(nl - line), "Error", 5);
		if (e)
			snprintf(out, cap, "%.*s", (int)(nl - e), e);
	}
	free(buf);
}

static int failed(const struct sk_criu_req_ctx *x, int cr_errno, const char *cr_msg, struct sk_err *err)
{
	char why[300];
	first_error(x->work, x->log, why, sizeof(why));
	if (!why[0] && cr_msg)
		snprintf(why, sizeof(why), "%s", cr_msg);
	char en[48] = "";
	if (cr_errno)
		snprintf(en, sizeof(en), " (%s)", sk_errno_name(cr_errno));
	if (x->work_abs)
		return sk_error(err, 0, "%s failed%s%s%s; log: %s/%s", x->what, en, why[0] ? ": " : "", why, x->work_abs,
				x->log);
	return sk_error(err, 0, "%s failed%s%s%s", x->what, en, why[0] ? ": " : "", why);
}

/* Answer notifications until the final answer, which is returned. */
static int converse(struct sk_criu *c, int sock, const struct sk_criu_req_ctx *x, ProtobufCMessage **final,
		    struct sk_err *cb_err, struct sk_err *err)
{
	uint8_t *buf = malloc(MSG_MAX);
	if (!buf)
		return sk_error(err, ENOMEM, "CRIU answer");
	int rc;
	for (;;) {
		ProtobufCMessage *m = NULL;
		int fd;
		rc = recv_msg(c, sock, buf, &m, &fd, err);
		if (rc <= 0)
			break;
		if (get_int(c, m, "type") != SK_CRIU_NOTIFY) {
			if (fd >= 0)
				close(fd);
			*final = m;
			break;
		}
		const ProtobufCMessage *n = get(c, m, "notify");
		const char *script = get(c, n, "script");
		bool ok = true;
		if (x && x->notify && !cb_err->msg[0] &&
		    x->notify(x->arg, script ? script : "", get_int(c, n, "pid"), fd, cb_err) < 0)
			ok = false;
		if (fd >= 0)
			close(fd);
		c->free_unpacked(m, NULL);
		/* The ack is a request of its own; the options are not sent. */
		ProtobufCMessage *ack = new_msg(c, c->req_d);
		if (!ack) {
			rc = sk_error(err, ENOMEM, "CRIU answer");
			break;
		}
		sk_criu_set_int(c, ack, "type", SK_CRIU_NOTIFY);
		sk_criu_set_bool(c, ack, "notify_success", ok);
		if (c->failed || send_msg(c, sock, ack, err) < 0) {
			rc = c->failed ? (*err = c->err, -1) : -1;
			break;
		}
	}
	free(buf);
	return rc;
}

static int wait_criu(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

static int request(struct sk_criu *c, ProtobufCMessage *req, const struct sk_criu_req_ctx *x, ProtobufCMessage **final,
		   struct sk_err *err)
{
	*final = NULL;
	if (c->failed) {
		*err = c->err;
		return -1;
	}
	int sock = -1;
	pid_t pid = spawn(c, &sock, err);
	if (pid < 0)
		return -1;
	struct sk_err cb_err = { 0 };
	int rc = send_msg(c, sock, req, err);
	if (rc == 0)
		rc = converse(c, sock, x, final, &cb_err, err);
	close(sock);
	int status = 0;
	wait_criu(pid, &status);
	if (cb_err.msg[0]) {
		*err = cb_err;
		rc = -1;
	} else if (rc == 0) {
		/* criu went away without an answer. */
		char how[64];
		if (WIFSIGNALED(status))
			snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(status));
		else
			snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
		rc = WIFEXITED(status) && WEXITSTATUS(status) == 127
			     ? sk_error(err, ENOENT, "cannot run %s swrk", c->bin)
			     : sk_error(err, 0, "criu swrk %s without answering", how);
		if (x && x->work_abs)
			rc = failed(x, 0, err->msg, err);
	}
	if (rc < 0 && *final) {
		c->free_unpacked(*final, NULL);
		*final = NULL;
	}
	return rc < 0 ? -1 : 0;
}

int sk_criu_request(struct sk_criu *c, enum sk_criu_req type, const struct sk_criu_req_ctx *x, int *pid,
		    struct sk_err *err)
{
	ProtobufCMessage *req = new_msg(c, c->req_d), *resp;
	if (req) {
		sk_criu_set_int(c, req, "type", type);
		const ProtobufCFieldDescriptor *f = field_of(c, req, "opts", PROTOBUF_C_TYPE_MESSAGE, false);
		if (f)
			*(ProtobufCMessage **)slot(req, f) = c->opts;
	}
	if (request(c, req, x, &resp, err) < 0)
		return -1;
	int rc = 0;
	if (get_int(c, resp, "type") != (int)type)
		rc = sk_error(err, EPROTO, "criu answered request %d with %d", type, get_int(c, resp, "type"));
	else if (!get_int(c, resp, "success"))
		rc = failed(x, get_int(c, resp, "cr_errno"), get(c, resp, "cr_errmsg"), err);
	else if (pid)
		*pid = get_int(c, get(c, resp, "restore"), "pid");
	c->free_unpacked(resp, NULL);
	return rc;
}

int sk_criu_feature(struct sk_criu *c, const char *feature, bool *has, struct sk_err *err)
{
	*has = false;
	ProtobufCMessage *req = new_msg(c, c->req_d), *resp;
	if (req) {
		sk_criu_set_int(c, req, "type", SK_CRIU_FEATURE_CHECK);
		ProtobufCMessage *f = sub_msg(c, req, "features");
		if (f)
			sk_criu_set_bool(c, f, feature, true);
	}
	if (request(c, req, NULL, &resp, err) < 0)
		return -1;
	*has = get_int(c, resp, "success") && get_int(c, get(c, resp, "features"), feature);
	c->free_unpacked(resp, NULL);
	return 0;
}

static int version(struct sk_criu *c, struct sk_err *err)
{
	ProtobufCMessage *req = new_msg(c, c->req_d), *resp;
	if (req)
		sk_criu_set_int(c, req, "type", SK_CRIU_VERSION);
	if (request(c, req, NULL, &resp, err) < 0)
		return sk_error_wrap(err, "CRIU's version (is CRIU installed and are we root?)");
	const ProtobufCMessage *v = get(c, resp, "version");
	int ok = get_int(c, resp, "success") && v;
	c->version = get_int(c, v, "major_number") * 10000 + get_int(c, v, "minor_number") * 100 +
		     get_int(c, v, "sublevel");
	c->free_unpacked(resp, NULL);
	if (!ok)
		return sk_error(err, 0, "%s swrk does not tell its version: CRIU too old", c->bin);
	return 0;
}

/* ---- loading ------------------------------------------------------------ */

/* criu from PATH, found once so that a missing one is one clear line. */
static const char *find_criu(char *buf, size_t cap)
{
	const char *path = getenv("PATH");
	for (const char *p = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"; *p;) {
		const char *end = strchrnul(p, ':');
		snprintf(buf, cap, "%.*s/criu", (int)(end - p), p);
		if (end > p && access(buf, X_OK) == 0)
			return buf;
		p = *end ? end + 1 : end;
	}
	return NULL;
}

int sk_criu_load(const struct sk_criu_opts *o, struct sk_criu *c, struct sk_err *err)
{
	static char found[PATH_MAX];
	*c = (struct sk_criu){ 0 };
	struct stat sb;
	if (o->criu && (stat(o->criu, &sb) < 0 || !S_ISREG(sb.st_mode) || access(o->criu, X_OK) < 0))
		return sk_error(err, errno ? errno : EACCES, "--criu \"%s\": not an executable file", o->criu);
	c->bin = o->criu ? o->criu : find_criu(found, sizeof(found));
	if (!c->bin)
		return sk_error(err, ENOENT, "criu is not in PATH (install CRIU: Debian's criu package)");
	c->lib = dlopen(LIBCRIU_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!c->lib)
		return sk_error(err, 0, "load %s (install CRIU: Debian's criu package): %s", LIBCRIU_SONAME, dlerror());
	/* The descriptors are libcriu's; the generic code is protobuf-c's,
	 * which libcriu links. */
	struct {
		const char *name;
		void *dst;
	} sym[] = {
		{ "criu_req__descriptor", &c->req_d },
		{ "criu_resp__descriptor", &c->resp_d },
		{ "criu_opts__descriptor", &c->opts_d },
		{ "protobuf_c_message_get_packed_size", &c->packed_size },
		{ "protobuf_c_message_pack", &c->pack },
		{ "protobuf_c_message_unpack", &c->unpack },
		{ "protobuf_c_message_free_unpacked", &c->free_unpacked },
		{ "protobuf_c_message_init", &c->init },
		{ "protobuf_c_message_descriptor_get_field_by_name", &c->field },
	};
	for (size_t i = 0; i < sizeof(sym) / sizeof(sym[0]); i++)
		if (!(*(void **)sym[i].dst = dlsym(c->lib, sym[i].name))) {
			sk_error(err, 0, "%s: no %s", LIBCRIU_SONAME, sym[i].name);
			sk_criu_close(c);
			return -1;
		}
	if (version(c, err) < 0) {
		sk_criu_close(c);
		return -1;
	}
	if (c->version < SK_CRIU_MIN_VERSION) {
		sk_error(err, 0, "CRIU %d.%d.%d is too old: %d.%d or later is needed", c->version / 10000,
			 c->version / 100 % 100, c->version % 100, SK_CRIU_MIN_VERSION / 10000,
			 SK_CRIU_MIN_VERSION / 100 % 100);
		sk_criu_close(c);
		return -1;
	}
	c->opts = new_msg(c, c->opts_d);
	if (!c->opts) {
		*err = c->err;
		sk_criu_close(c);
		return -1;
	}
	return 0;
}

void sk_criu_close(struct sk_criu *c)
{
	for (size_t i = 0; i < c->n_mem; i++)
		free(c->mem[i]);
	free(c->mem);
	c->mem = NULL;
	c->n_mem = 0;
	c->opts = NULL;
	/* libcriu stays loaded: the process ends soon, and unloading a
	 * library buys nothing. */
}

/* ---- what checkpoint and restore share ---------------------------------- */

int sk_criu_opts_check(const struct sk_criu_opts *o, struct sk_err *err)
{
	const char *m = o->manage_cgroups_mode;
	if (m && strcmp(m, "soft") && strcmp(m, "full") && strcmp(m, "strict") && strcmp(m, "ignore"))
		return sk_error(err, 0, "invalid --manage-cgroups-mode \"%s\": must be soft, full, strict or ignore", m);
	for (size_t i = 0; i < o->n_empty_ns; i++)
		if (strcmp(o->empty_ns[i], "network"))
			return sk_error(err, 0, "invalid --empty-ns \"%s\": only network is supported", o->empty_ns[i]);
	if (!o->image_path || !*o->image_path)
		return sk_error(err, 0, "--image-path must not be empty");
	if (o->work_path && !*o->work_path)
		return sk_error(err, 0, "--work-path must not be empty");
	return 0;
}

static int open_dir(const char *path, bool create, struct sk_err *err)
{
	if (create && sk_mkdir_p(path, 0700, err) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sk_error(err, errno, "open \"%s\"", path);
	return fd;
}

int sk_criu_dirs(const struct sk_criu_opts *o, bool create, int *img, int *work, char *work_abs, size_t cap,
		 struct sk_err *err)
{
	*img = *work = -1;
	*img = open_dir(o->image_path, create, err);
	if (*img < 0)
		return -1;
	const char *w = o->work_path ? o->work_path : o->image_path;
	*work = o->work_path ? open_dir(w, true, err) : fcntl(*img, F_DUPFD_CLOEXEC, 3);
	char buf[PATH_MAX];
	if (*work < 0 || !realpath(w, buf)) {
		if (*work >= 0)
			sk_error(err, errno, "realpath \"%s\"", w);
		close(*img);
		if (*work >= 0)
			close(*work);
		*img = *work = -1;
		return -1;
	}
	snprintf(work_abs, cap, "%s", buf);
	return 0;
}

void sk_criu_apply(struct sk_criu *c, const struct sk_criu_opts *o, int img, int work, const char *log,
		   bool empty_net)
{
	/* The directories go to criu as fds: "/proc/<skiff>/fd/N" there. */
	sk_criu_set_int(c, NULL, "images_dir_fd", img);
	sk_criu_set_int(c, NULL, "work_dir_fd", work);
	sk_criu_set_str(c, NULL, "log_file", log);
	sk_criu_set_int(c, NULL, "log_level", 4);
	sk_criu_set_bool(c, NULL, "notify_scripts", true);
	sk_criu_set_bool(c, NULL, "tcp_established", o->tcp_established);
	sk_criu_set_bool(c, NULL, "ext_unix_sk", o->ext_unix_sk);
	sk_criu_set_bool(c, NULL, "shell_job", o->shell_job);
	sk_criu_set_bool(c, NULL, "file_locks", o->file_locks);
	sk_criu_set_bool(c, NULL, "auto_dedup", o->auto_dedup);
	sk_criu_set_bool(c, NULL, "orphan_pts_master", true);
	sk_criu_set_bool(c, NULL, "manage_cgroups", true);
	if (o->lazy_pages)
		sk_criu_set_bool(c, NULL, "lazy_pages", true);
	if (empty_net)
		sk_criu_set_int(c, NULL, "empty_ns", 0x40000000 /* CLONE_NEWNET */);
	const char *m = o->manage_cgroups_mode;
	if (m)
		sk_criu_set_int(c, NULL, "manage_cgroups_mode",
				!strcmp(m, "soft") ? SK_CRIU_CG_SOFT : !strcmp(m, "full") ? SK_CRIU_CG_FULL :
				!strcmp(m, "strict") ? SK_CRIU_CG_STRICT : SK_CRIU_CG_IGNORE);
}
