/* spec: config.json -> struct sk_spec (see spec.h).
 *
 * The JSON is read with yajl's callback parser into a small tree of our own
 * rather than with yajl_tree: the callbacks let us stop at a nesting limit
 * before anything recursive runs, keep every number's text (so uint64 fields
 * and overflow are judged exactly), and give each syntax error a position
 * through yajl_get_bytes_consumed().  The tree lives in one arena, freed at
 * once.  The typed struct is then filled by walking the tree while the JSON
 * path is kept in a buffer, so every problem names where it is. */
#include "skiff/spec.h"
#include "skiff/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/ioprio.h>
#include <linux/sched.h>
#include <yajl/yajl_parse.h>

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define TAB(t) t, LEN(t)

/* Highest CPU number in a CPU list: runc's sanity limit, so that a bogus
 * list cannot make the consumer allocate a huge mask. */
#define MAX_CPU 65536

/* ---- names ---- */

struct named { const char *name; int value; };
#define N(x) { #x, x }

static int find(const struct named *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].value;
	return -1;
}

static bool in_list(const char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i], s) == 0)
			return true;
	return false;
}

static const struct named ns_types[] = {
	{ "pid", SK_NS_PID }, { "network", SK_NS_NET }, { "mount", SK_NS_MNT },
	{ "ipc", SK_NS_IPC }, { "uts", SK_NS_UTS }, { "user", SK_NS_USER },
	{ "cgroup", SK_NS_CGROUP }, { "time", SK_NS_TIME },
};

static const char *const hook_kinds[SK_HOOK_NKINDS] = {
	[SK_HOOK_PRESTART] = "prestart",
	[SK_HOOK_CREATE_RUNTIME] = "createRuntime",
	[SK_HOOK_CREATE_CONTAINER] = "createContainer",
	[SK_HOOK_START_CONTAINER] = "startContainer",
	[SK_HOOK_POSTSTART] = "poststart",
	[SK_HOOK_POSTSTOP] = "poststop",
};

static const char *const cap_sets[SK_CAP_NSETS] = {
	[SK_CAP_BOUNDING] = "bounding",
	[SK_CAP_EFFECTIVE] = "effective",
	[SK_CAP_INHERITABLE] = "inheritable",
	[SK_CAP_PERMITTED] = "permitted",
	[SK_CAP_AMBIENT] = "ambient",
};

#define CAP(x) [x] = #x
static const char *const cap_names[] = {
	CAP(CAP_CHOWN), CAP(CAP_DAC_OVERRIDE), CAP(CAP_DAC_READ_SEARCH),
	CAP(CAP_FOWNER), CAP(CAP_FSETID), CAP(CAP_KILL), CAP(CAP_SETGID),
	CAP(CAP_SETUID), CAP(CAP_SETPCAP), CAP(CAP_LINUX_IMMUTABLE),
	CAP(CAP_NET_BIND_SERVICE), CAP(CAP_NET_BROADCAST), CAP(CAP_NET_ADMIN),
	CAP(CAP_NET_RAW), CAP(CAP_IPC_LOCK), CAP(CAP_IPC_OWNER),
	CAP(CAP_SYS_MODULE), CAP(CAP_SYS_RAWIO), CAP(CAP_SYS_CHROOT),
	CAP(CAP_SYS_PTRACE), CAP(CAP_SYS_PACCT), CAP(CAP_SYS_ADMIN),
	CAP(CAP_SYS_BOOT), CAP(CAP_SYS_NICE), CAP(CAP_SYS_RESOURCE),
	CAP(CAP_SYS_TIME), CAP(CAP_SYS_TTY_CONFIG), CAP(CAP_MKNOD),
	CAP(CAP_LEASE), CAP(CAP_AUDIT_WRITE), CAP(CAP_AUDIT_CONTROL),
	CAP(CAP_SETFCAP), CAP(CAP_MAC_OVERRIDE), CAP(CAP_MAC_ADMIN),
	CAP(CAP_SYSLOG), CAP(CAP_WAKE_ALARM), CAP(CAP_BLOCK_SUSPEND),
	CAP(CAP_AUDIT_READ), CAP(CAP_PERFMON), CAP(CAP_BPF),
	CAP(CAP_CHECKPOINT_RESTORE),
};

static const struct named rlimits[] = {
	N(RLIMIT_CPU), N(RLIMIT_FSIZE), N(RLIMIT_DATA), N(RLIMIT_STACK),
	N(RLIMIT_CORE), N(RLIMIT_RSS), N(RLIMIT_NPROC), N(RLIMIT_NOFILE),
	N(RLIMIT_MEMLOCK), N(RLIMIT_AS), N(RLIMIT_LOCKS), N(RLIMIT_SIGPENDING),
	N(RLIMIT_MSGQUEUE), N(RLIMIT_NICE), N(RLIMIT_RTPRIO), N(RLIMIT_RTTIME),
};

static const struct named sched_policies[] = {
	N(SCHED_OTHER), N(SCHED_FIFO), N(SCHED_RR), N(SCHED_BATCH),
	N(SCHED_ISO), N(SCHED_IDLE), N(SCHED_DEADLINE),
};

static const struct named sched_flags[] = {
	N(SCHED_FLAG_RESET_ON_FORK), N(SCHED_FLAG_RECLAIM), N(SCHED_FLAG_DL_OVERRUN),
	N(SCHED_FLAG_KEEP_POLICY), N(SCHED_FLAG_KEEP_PARAMS),
	N(SCHED_FLAG_UTIL_CLAMP_MIN), N(SCHED_FLAG_UTIL_CLAMP_MAX),
};

static const struct named ioprio_classes[] = {
	N(IOPRIO_CLASS_RT), N(IOPRIO_CLASS_BE), N(IOPRIO_CLASS_IDLE),
};

static const char *const seccomp_actions[] = {
	"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
	"SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",
	"SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
};

/* runtime-spec's list plus the later libseccomp ones. */
static const char *const seccomp_archs[] = {
	"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64",
	"SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
	"SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
	"SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
	"SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
	"SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH",
	"SCMP_ARCH_SHEB",
};

static const char *const seccomp_flags[] = {
	"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

static const char *const seccomp_ops[] = {
	"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
	"SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

/* The r* forms are runc's: they make the change recursive. */
static const char *const propagations[] = {
	"shared", "slave", "private", "unbindable",
	"rshared", "rslave", "rprivate", "runbindable",
};

static const char *const personality_domains[] = { "LINUX", "LINUX32" };

const char *sk_ns_type_name(enum sk_ns_type t)
{
	for (size_t i = 0; i < LEN(ns_types); i++)
		if (ns_types[i].value == (int)t)
			return ns_types[i].name;
	return NULL;
}

const char *sk_hook_kind_name(enum sk_hook_kind k)
{
	return (unsigned)k < SK_HOOK_NKINDS ? hook_kinds[k] : NULL;
}

int sk_cap_from_name(const char *name)
{
	for (size_t i = 0; i < LEN(cap_names); i++)
		if (strcmp(cap_names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *sk_cap_name(int cap)
{
	return cap >= 0 && (size_t)cap < LEN(cap_names) ? cap_names[cap] : NULL;
}

int sk_rlimit_from_name(const char *name)
{
	return find(TAB(rlimits), name);
}

static int sched_flag_from_name(const char *name)
{
	return find(TAB(sched_flags), name);
}

static const struct sk_namespace *find_ns(const struct sk_linux *l, enum sk_ns_type t)
{
	for (size_t i = 0; i < l->n_namespaces; i++)
		if (l->namespaces[i].type == t)
			return &l->namespaces[i];
	return NULL;
}

const struct sk_namespace *sk_spec_namespace(const struct sk_spec *s, enum sk_ns_type t)
{
	return find_ns(&s->linux_, t);
}

/* ---- the JSON tree ---- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_OBJ, J_ARR };

/* A JSON value.  Numbers keep their text; an object's items carry their
 * keys (each key once: see drop_duplicates). */
struct jv {
	enum jtype type;
	bool b;
	size_t n;                       /* items of an array or object */
	union {
		const char *s;          /* string, or a number's text */
		const struct jv *items;
	} u;
	const char *key;                /* member name inside an object */
};

#define ARENA_CHUNK 65536

struct chunk { struct chunk *next; size_t used, cap; struct jv data[]; };

/* The parse state the yajl callbacks build the tree with.  Values wait on
 * the stack until their container ends, then move into the arena. */
struct builder {
	struct chunk *arena;
	struct jv *stack;
	size_t n, cap;
	size_t base[SK_SPEC_MAX_DEPTH];          /* first item of each open container */
	const char *open_key[SK_SPEC_MAX_DEPTH]; /* the key each open container sits under */
	unsigned depth;
	const char *key;                         /* member name awaiting its value */
	size_t values;
	bool oom;
	bool in_string;                          /* the problem is a string's content */
	char problem[96];                        /* why a callback stopped the parse */
};

static void *arena_alloc(struct builder *b, size_t size)
{
	const size_t align = _Alignof(struct jv);
	size = (size + align - 1) & ~(align - 1);
	struct chunk *h = b->arena;
	if (h && h->cap - h->used >= size) {
		void *p = (char *)h->data + h->used;
		h->used += size;
		return p;
	}
	/* A big block gets a chunk of its own, put behind the current one so
	 * that the current one's free space stays in use. */
	bool own = size > ARENA_CHUNK / 4;
	struct chunk *c = malloc(sizeof(*c) + (own ? size : ARENA_CHUNK));
	if (!c)
		return NULL;
	c->cap = own ? size : ARENA_CHUNK;
	c->used = size;
	if (own && h) {
		c->next = h->next;
		h->next = c;
	} else {
		c->next = h;
		b->arena = c;
	}
	return c->data;
}

static void builder_free(struct builder *b)
{
	while (b->arena) {
		struct chunk *next = b->arena->next;
		free(b->arena);
		b->arena = next;
	}
	free(b->stack);
}

__attribute__((format(printf, 2, 3)))
static int stop(struct builder *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->problem, sizeof(b->problem), fmt, ap);
	va_end(ap);
	return 0;
}

static int stop_oom(struct builder *b)
{
	b->oom = true;
	return stop(b, "out of memory");
}

static int push(struct builder *b, struct jv v, const char *key)
{
	if (++b->values > SK_SPEC_MAX_VALUES)
		return stop(b, "more than %u JSON values", SK_SPEC_MAX_VALUES);
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct jv *s = realloc(b->stack, cap * sizeof(*s));
		if (!s)
			return stop_oom(b);
		b->stack = s;
		b->cap = cap;
	}
	v.key = key;
	b->stack[b->n++] = v;
	return 1;
}

/* Well-formed UTF-8 (RFC 3629).  yajl checks only the byte patterns and
 * lets overlong forms, surrogates and code points past U+10FFFF through. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i], len;
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (unsigned k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* A string or key, checked and copied into the arena; NULL stops the parse. */
static const char *text(struct builder *b, const unsigned char *s, size_t len)
{
	b->in_string = true;
	/* A NUL would silently cut the C string short ("/a\u0000/b" -> "/a"). */
	if (memchr(s, '\0', len)) {
		stop(b, "string contains a NUL character");
		return NULL;
	}
	if (!utf8_ok(s, len)) {
		stop(b, "invalid UTF-8 in string");
		return NULL;
	}
	b->in_string = false;
	char *p = arena_alloc(b, len + 1);
	if (!p) {
		stop_oom(b);
		return NULL;
	}
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static int cb_null(void *ctx)
{
	struct builder *b = ctx;
	int r = push(b, (struct jv){ .type = J_NULL }, b->key);
	b->key = NULL;
	return r;
}

static int cb_bool(void *ctx, int v)
{
	struct builder *b = ctx;
	int r = push(b, (struct jv){ .type = J_BOOL, .b = v }, b->key);
	b->key = NULL;
	return r;
}

static int cb_number(void *ctx, const char *s, size_t len)
{
	struct builder *b = ctx;
	const char *t = text(b, (const unsigned char *)s, len);
	if (!t)
		return 0;
	int r = push(b, (struct jv){ .type = J_NUM, .u.s = t }, b->key);
	b->key = NULL;
	return r;
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
	struct builder *b = ctx;
	const char *t = text(b, s, len);
	if (!t)
		return 0;
	int r = push(b, (struct jv){ .type = J_STR, .u.s = t }, b->key);
	b->key = NULL;
	return r;
}

static int cb_key(void *ctx, const unsigned char *s, size_t len)
{
	struct builder *b = ctx;
	b->key = text(b, s, len);
	return b->key != NULL;
}

static int cb_open(void *ctx)
{
	struct builder *b = ctx;
	if (b->depth == SK_SPEC_MAX_DEPTH)
		return stop(b, "nesting deeper than %d levels", SK_SPEC_MAX_DEPTH);
	b->base[b->depth] = b->n;
	b->open_key[b->depth] = b->key;
	b->key = NULL;
	b->depth++;
	return 1;
}

static int cmp_members(const void *x, const void *y)
{
	const struct jv *a = *(const struct jv *const *)x;
	const struct jv *b = *(const struct jv *const *)y;
	int r = strcmp(a->key, b->key);
	return r ? r : (a > b) - (a < b);
}

/* Of members with the same key only the last counts, as with Go's
 * encoding/json (so runc); the others lose their key. */
static int drop_duplicates(struct jv *items, size_t n)
{
	const struct jv **order = malloc(n * sizeof(*order));
	if (!order)
		return -1;
	for (size_t i = 0; i < n; i++)
		order[i] = items + i;
	qsort(order, n, sizeof(*order), cmp_members);
	for (size_t i = 0; i + 1 < n; i++)
		if (strcmp(order[i]->key, order[i + 1]->key) == 0)
			items[order[i] - items].key = NULL;
	free(order);
	return 0;
}

static int cb_close(struct builder *b, enum jtype type)
{
	b->depth--;
	size_t base = b->base[b->depth], n = b->n - base;
	struct jv *items = n ? b->stack + base : NULL; /* the stack is NULL before any value */
	if (type == J_OBJ && n > 1 && drop_duplicates(items, n) < 0)
		return stop_oom(b);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		kept += type == J_ARR || items[i].key;
	struct jv *copy = NULL;
	if (kept) {
		copy = arena_alloc(b, kept * sizeof(*copy));
		if (!copy)
			return stop_oom(b);
		for (size_t i = 0, j = 0; i < n; i++)
			if (type == J_ARR || items[i].key)
				copy[j++] = items[i];
	}
	b->n = base;
	return push(b, (struct jv){ .type = type, .n = kept, .u.items = copy }, b->open_key[b->depth]);
}

static int cb_end_map(void *ctx) { return cb_close(ctx, J_OBJ); }
static int cb_end_array(void *ctx) { return cb_close(ctx, J_ARR); }

static const yajl_callbacks callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_bool,
	.yajl_number = cb_number,   /* raw text: integers are judged by us */
	.yajl_string = cb_string,
	.yajl_start_map = cb_open,
	.yajl_map_key = cb_key,
	.yajl_end_map = cb_end_map,
	.yajl_start_array = cb_open,
	.yajl_end_array = cb_end_array,
};

/* The opening quote of the string token whose closing quote is at end. */
static size_t string_start(const char *buf, size_t end)
{
	for (size_t i = end; i-- > 0;) {
		if (buf[i] != '"')
			continue;
		size_t slashes = 0;
		while (slashes < i && buf[i - 1 - slashes] == '\\')
			slashes++;
		if (slashes % 2 == 0)
			return i;
	}
	return end;
}

/* Whether buf[i] is a quote that opens a string (the text before i lexed
 * without error). */
static bool opens_string(const char *buf, size_t i)
{
	bool in = false;
	for (size_t k = 0; k < i; k++) {
		if (in && buf[k] == '\\')
			k++;
		else if (buf[k] == '"')
			in = !in;
	}
	return !in && buf[i] == '"';
}

/* Reads buf into b's tree; *root is the top-level value. */
static int read_json(const char *name, const char *buf, size_t len, struct builder *b,
		     const struct jv **root, struct sk_err *err)
{
	yajl_handle h = yajl_alloc(&callbacks, NULL, b);
	if (!h)
		return sk_error(err, ENOMEM, "%s: out of memory", name);
	/* Strict JSON: strings must be UTF-8 (yajl's default, kept on
	 * explicitly), no comments, exactly one value. */
	yajl_config(h, yajl_dont_validate_strings, 0);
	yajl_config(h, yajl_allow_comments, 0);
	const unsigned char *in = (const unsigned char *)buf;
	yajl_status st = yajl_parse(h, in, len);
	bool at_end = false;
	if (st == yajl_status_ok) {
		/* What fails only now (premature EOF, a number cut short) is
		 * at the end of the input. */
		st = yajl_complete_parse(h);
		at_end = true;
	}
	if (st == yajl_status_ok) {
		yajl_free(h);
		*root = &b->stack[0];
		return 0;
	}
	char problem[128] = "invalid JSON";
	if (st == yajl_status_client_canceled) {
		snprintf(problem, sizeof(problem), "%s", b->problem);
	} else {
		unsigned char *msg = yajl_get_error(h, 0, in, len);
		if (msg) {
			/* "lexical error: invalid char in json text.\n": one
			 * line, without the stop */
			snprintf(problem, sizeof(problem), "%s", (const char *)msg);
			problem[strcspn(problem, "\n")] = '\0';
			size_t n = strlen(problem);
			if (n && problem[n - 1] == '.')
				problem[n - 1] = '\0';
			yajl_free_error(h, msg);
		}
	}
	/* yajl 2.1 leaves its offset just past the offending token, except
	 * that it unreads a comment's '/' and, for a map member followed by
	 * neither ',' nor '}', backs up by the token's length, which for a
	 * string leaves out the two quotes. */
	size_t at = len;
	if (!at_end) {
		bool comment = st == yajl_status_error && strstr(problem, "comment");
		bool backed_up = st == yajl_status_error && strstr(problem, "inside map, I expect");
		at = yajl_get_bytes_consumed(h);
		if (backed_up && at >= 2 && opens_string(buf, at - 2))
			at -= 2;
		else if (at > 0 && !comment && !backed_up)
			at--;
		if (st == yajl_status_client_canceled && b->in_string)
			at = string_start(buf, at);
	}
	yajl_free(h);
	if (b->oom)
		return sk_error(err, ENOMEM, "%s: out of memory", name);
	size_t line = 1, col_start = 0;
	for (size_t i = 0; i < at; i++)
		if (buf[i] == '\n')
			line++, col_start = i + 1;
	return sk_error(err, 0, "%s: line %zu, column %zu: %s", name, line, at - col_start + 1, problem);
}

/* ---- walking the tree: the path, errors, typed values ---- */

struct ctx {
	const char *name;
	struct sk_err *err;
	size_t len;
	char path[256];
};

__attribute__((format(printf, 2, 3)))
static void append(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(c->path + c->len, sizeof(c->path) - c->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->len = c->len + (size_t)n < sizeof(c->path) ? c->len + (size_t)n : sizeof(c->path) - 1;
}

#define QUOTE_MAX 72

/* s in quotes for a message: control characters as '?', long values cut
 * (at a character boundary) so the message stays one short line. */
static const char *quote(char buf[QUOTE_MAX], const char *s)
{
	size_t n = strlen(s), cut = n > 64 ? 64 : n;
	while (cut < n && cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
		cut--;
	char *p = buf;
	*p++ = '"';
	for (size_t i = 0; i < cut; i++) {
		unsigned char ch = (unsigned char)s[i];
		*p++ = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (cut < n) {
		memcpy(p, "...", 3);
		p += 3;
	}
	*p++ = '"';
	*p = '\0';
	return buf;
}

static size_t enter_key(struct ctx *c, const char *key)
{
	size_t mark = c->len;
	append(c, "%s%s", mark ? "." : "", key);
	return mark;
}

static size_t enter_index(struct ctx *c, size_t i)
{
	size_t mark = c->len;
	append(c, "[%zu]", i);
	return mark;
}

static size_t enter_map_key(struct ctx *c, const char *key)
{
	size_t mark = c->len;
	char q[QUOTE_MAX];
	append(c, "[%s]", quote(q, key));
	return mark;
}

static void leave(struct ctx *c, size_t mark)
{
	c->len = mark;
	c->path[mark] = '\0';
}

__attribute__((format(printf, 2, 3)))
static int fail(struct ctx *c, const char *fmt, ...)
{
	char msg[SK_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->len)
		return sk_error(c->err, 0, "%s: %s: %s", c->name, c->path, msg);
	return sk_error(c->err, 0, "%s: %s", c->name, msg);
}

static int oom(struct ctx *c)
{
	return sk_error(c->err, ENOMEM, "%s: out of memory", c->name);
}

/* The value of key in object o, or NULL when absent or null (null means
 * absent, as for runc). */
static const struct jv *member(const struct jv *o, const char *key)
{
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->u.items[i].key, key) == 0)
			return o->u.items[i].type == J_NULL ? NULL : &o->u.items[i];
	return NULL;
}

/* Looks key up in o and enters it in the path. */
static const struct jv *enter(struct ctx *c, const struct jv *o, const char *key, size_t *mark)
{
	*mark = enter_key(c, key);
	return member(o, key);
}

/* For an absent field: has == NULL means the field is required. */
static int absent(struct ctx *c, bool *has)
{
	if (!has)
		return fail(c, "is required");
	*has = false;
	return 0;
}

static int want_obj(struct ctx *c, const struct jv *v)
{
	return v->type == J_OBJ ? 0 : fail(c, "must be an object");
}

static int dup_str(struct ctx *c, const char *s, char **out)
{
	*out = strdup(s);
	return *out ? 0 : oom(c);
}

static int to_str(struct ctx *c, const struct jv *v, char **out)
{
	if (v->type != J_STR)
		return fail(c, "must be a string");
	return dup_str(c, v->u.s, out);
}

static int to_bool(struct ctx *c, const struct jv *v, bool *out)
{
	if (v->type != J_BOOL)
		return fail(c, "must be a boolean");
	*out = v->b;
	return 0;
}

/* JSON numbers with a fraction or an exponent are not integers, even 1.0
 * or 1e3 (encoding/json refuses them too). */
static bool is_int(const struct jv *v)
{
	return v->type == J_NUM && !strpbrk(v->u.s, ".eE");
}

static int to_i64(struct ctx *c, const struct jv *v, int64_t lo, int64_t hi, int64_t *out)
{
	if (is_int(v)) {
		char *end;
		errno = 0;
		long long x = strtoll(v->u.s, &end, 10);
		if (errno == 0 && *end == '\0' && x >= lo && x <= hi) {
			*out = x;
			return 0;
		}
	}
	return fail(c, "must be an integer in range %" PRId64 "..%" PRId64, lo, hi);
}

static int to_u64(struct ctx *c, const struct jv *v, uint64_t hi, uint64_t *out)
{
	/* strtoull would take "-1" as UINT64_MAX. */
	if (is_int(v) && v->u.s[0] != '-') {
		char *end;
		errno = 0;
		unsigned long long x = strtoull(v->u.s, &end, 10);
		if (errno == 0 && *end == '\0' && x <= hi) {
			*out = x;
			return 0;
		}
	}
	return fail(c, "must be an integer in range 0..%" PRIu64, hi);
}

static int get_bool(struct ctx *c, const struct jv *o, const char *key, bool *has, bool *out)
{
	size_t mark;
	const struct jv *v = enter(c, o, key, &mark);
	int r = v ? to_bool(c, v, out) : absent(c, has);
	if (v && has)
		*has = true;
	leave(c, mark);
	return r;
}

static int get_i64(struct ctx *c, const struct jv *o, const char *key, int64_t lo, int64_t hi,
		   bool *has, int64_t *out)
{
	size_t mark;
	const struct jv *v = enter(c, o, key, &mark);
	int r = v ? to_i64(c, v, lo, hi, out) : absent(c, has);
	if (v && has)
		*has = true;
	leave(c, mark);
	return r;
}

static int get_u64(struct ctx *c, const struct jv *o, const char *key, uint64_t hi,
		   bool *has, uint64_t *out)
{
	size_t mark;
	const struct jv *v = enter(c, o, key, &mark);
	int r = v ? to_u64(c, v, hi, out) : absent(c, has);
	if (v && has)
		*has = true;
	leave(c, mark);
	return r;
}

static int get_int(struct ctx *c, const struct jv *o, const char *key, int lo, int hi,
		   bool *has, int *out)
{
	int64_t x = *out;
	if (get_i64(c, o, key, lo, hi, has, &x))
		return -1;
	*out = (int)x;
	return 0;
}

static int get_u32(struct ctx *c, const struct jv *o, const char *key, uint32_t hi,
		   bool *has, uint32_t *out)
{
	uint64_t x = *out;
	if (get_u64(c, o, key, hi, has, &x))
		return -1;
	*out = (uint32_t)x;
	return 0;
}

/* A 10..1000 cgroup v1 blkio weight, or 0: unset, as runc reads it (docker
 * sends "weight": 0 in every config). */
static int get_weight(struct ctx *c, const struct jv *o, const char *key, bool *has, uint16_t *out)
{
	size_t mark;
	const struct jv *v = enter(c, o, key, &mark);
	int64_t x = 0;
	int r = 0;
	if (!v)
		r = absent(c, has);
	else if (!is_int(v) || to_i64(c, v, INT64_MIN, INT64_MAX, &x) || (x != 0 && (x < 10 || x > 1000)))
		r = fail(c, "must be 0 (unset) or an integer in range 10..1000");
	else
		*out = (uint16_t)x;
	if (v && has)
		*has = true;
	leave(c, mark);
	return r;
}

static int get_str(struct ctx *c, const struct jv *o, const char *key, bool required, char **out)
{
	size_t mark;
	const struct jv *v = enter(c, o, key, &mark);
	int r = v ? to_str(c, v, out) : required ? fail(c, "is required") : 0;
	leave(c, mark);
	return r;
}

static int to_path(struct ctx *c, const struct jv *v, char **out)
{
	if (v->type == J_STR && v->u.s[0] != '/')
		return fail(c, "must be an absolute path");
	return to_str(c, v, out);
}

static int get_path(struct ctx *c, const struct jv *o, const char *key, bool required, char **out)
{
	size_t mark;
	const struct jv *v = enter(c, o, key, &mark);
	int r = v ? to_path(c, v, out) : required ? fail(c, "is required") : 0;
	leave(c, mark);
	return r;
}

/* A string that must be one of list, kept as the string. */
static int get_sym(struct ctx *c, const struct jv *o, const char *key, bool required,
		   const char *const *list, size_t n, const char *what, char **out)
{
	size_t mark;
	const struct jv *v = enter(c, o, key, &mark);
	if (!v) {
		int r = required ? fail(c, "is required") : 0;
		leave(c, mark);
		return r;
	}
	if (v->type != J_STR)
		return fail(c, "must be a string");
	if (!in_list(list, n, v->u.s)) {
		char q[QUOTE_MAX];
		return fail(c, "unknown %s %s", what, quote(q, v->u.s));
	}
	leave(c, mark);
	return dup_str(c, v->u.s, out);
}

/* A string naming an entry of tab: its value in *val, the string in *str
 * when str is not NULL. */
static int to_named(struct ctx *c, const struct jv *v, const struct named *tab, size_t n,
		    const char *what, int *val, char **str)
{
	if (v->type != J_STR)
		return fail(c, "must be a string");
	int x = find(tab, n, v->u.s);
	if (x < 0) {
		char q[QUOTE_MAX];
		return fail(c, "unknown %s %s", what, quote(q, v->u.s));
	}
	*val = x;
	return str ? dup_str(c, v->u.s, str) : 0;
}

static int get_named(struct ctx *c, const struct jv *o, const char *key, bool required,
		     const struct named *tab, size_t n, const char *what, int *val, char **str)
{
	size_t mark;
	const struct jv *v = enter(c, o, key, &mark);
	int r = v ? to_named(c, v, tab, n, what, val, str) : required ? fail(c, "is required") : 0;
	leave(c, mark);
	return r;
}

/* An array of names, each resolved by lookup, ORed into *mask: as bit
 * numbers when shift, else as masks themselves. */
static int to_flags(struct ctx *c, const struct jv *v, int (*lookup)(const char *),
		    const char *what, bool shift, uint64_t *mask)
{
	if (v->type != J_ARR)
		return fail(c, "must be an array of strings");
	for (size_t i = 0; i < v->n; i++) {
		const struct jv *item = &v->u.items[i];
		size_t mark = enter_index(c, i);
		if (item->type != J_STR)
			return fail(c, "must be a string");
		int x = lookup(item->u.s);
		if (x < 0) {
			char q[QUOTE_MAX];
			return fail(c, "unknown %s %s", what, quote(q, item->u.s));
		}
		*mask |= shift ? UINT64_C(1) << x : (uint64_t)x;
		leave(c, mark);
	}
	return 0;
}

typedef int (*parse_fn)(struct ctx *c, const struct jv *v, void *out);

/* An array whose items fn parses into a calloc'd array of size-byte
 * elements; arr points to the struct's T * field, n to its count. */
static int to_list(struct ctx *c, const struct jv *v, size_t size, void *arr, size_t *n, parse_fn fn)
{
	if (v->type != J_ARR)
		return fail(c, "must be an array");
	if (v->n == 0)
		return 0;
	char *items = calloc(v->n, size);
	if (!items)
		return oom(c);
	/* Owned by the struct from here on, so a failure below frees it. */
	memcpy(arr, &items, sizeof(items));
	*n = v->n;
	for (size_t i = 0; i < v->n; i++) {
		size_t mark = enter_index(c, i);
		if (fn(c, &v->u.items[i], items + i * size))
			return -1;
		leave(c, mark);
	}
	return 0;
}

static int get_list(struct ctx *c, const struct jv *o, const char *key, size_t size, void *arr,
		    size_t *n, parse_fn fn)
{
	size_t mark;
	const struct jv *v = enter(c, o, key, &mark);
	int r = v ? to_list(c, v, size, arr, n, fn) : 0;
	leave(c, mark);
	return r;
}

/* An object parsed by fn into out; has as for absent(). */
static int get_obj(struct ctx *c, const struct jv *o, const char *key, bool *has, parse_fn fn, void *out)
{
	size_t mark;
	const struct jv *v = enter(c, o, key, &mark);
	int r = v ? fn(c, v, out) : absent(c, has);
	if (v && has)
		*has = true;
	leave(c, mark);
	return r;
}

static int item_str(struct ctx *c, const struct jv *v, void *out)
{
	return to_str(c, v, out);
}

static int item_path(struct ctx *c, const struct jv *v, void *out)
{
	return to_path(c, v, out);
}

static int get_strv(struct ctx *c, const struct jv *o, const char *key, char ***arr, size_t *n)
{
	return get_list(c, o, key, sizeof(char *), arr, n, item_str);
}

/* process.args and syscalls[].names: at least one string. */
static int get_nonempty_strv(struct ctx *c, const struct jv *o, const char *key, char ***arr, size_t *n)
{
	size_t mark;
	const struct jv *v = enter(c, o, key, &mark);
	if (!v || v->type != J_ARR || v->n == 0)
		return fail(c, "must be a non-empty array of strings");
	int r = to_list(c, v, sizeof(char *), arr, n, item_str);
	leave(c, mark);
	return r;
}

/* An object of strings; check_key, when given, judges each key. */
static int get_kv(struct ctx *c, const struct jv *o, const char *key, struct sk_kv **out, size_t *n,
		  int (*check_key)(struct ctx *, const char *))
{
	size_t mark;
	const struct jv *v = enter(c, o, key, &mark);
	if (!v) {
		leave(c, mark);
		return 0;
	}
	if (want_obj(c, v))
		return -1;
	if (v->n) {
		if (!(*out = calloc(v->n, sizeof(**out))))
			return oom(c);
		*n = v->n;
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct jv *item = &v->u.items[i];
		size_t m = enter_map_key(c, item->key);
		if ((check_key && check_key(c, item->key)) ||
		    dup_str(c, item->key, &(*out)[i].key) ||
		    to_str(c, item, &(*out)[i].value))
			return -1;
		leave(c, m);
	}
	leave(c, mark);
	return 0;
}

/* ---- value syntaxes ---- */

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

/* 1.MINOR.PATCH[-pre][+build]: the spec's major version 1. */
static bool oci_version_ok(const char *s)
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
		if ((x = x * 10 + (unsigned long)(*p - '0')) > MAX_CPU)
			return false;
	*s = p;
	*out = x;
	return true;
}

/* A CPU list as runc reads it: CPUs and ranges separated by commas
 * ("0-3,7"), blanks around items and empty items allowed, at least one. */
static bool cpu_list_ok(const char *s)
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
static bool page_size_ok(const char *s)
{
	size_t digits = strspn(s, "0123456789");
	return digits > 0 && digits <= 10 && s[0] != '0' && s[digits] && strchr("KMGTP", s[digits]) &&
	       strcmp(s + digits + 1, "B") == 0;
}

/* Names written into cgroup files as "<name> <value>": one word. */
static int check_word(struct ctx *c, const char *s)
{
	bool ok = *s;
	for (const char *p = s; *p; p++)
		ok &= (unsigned char)*p > ' ' && *p != 0x7f;
	return ok ? 0 : fail(c, "must be a non-empty name without blanks");
}

/* A unified key names a file in the cgroup directory: "memory.high". */
static int check_unified_key(struct ctx *c, const char *key)
{
	const char *dot = strchr(key, '.');
	if (strchr(key, '/') || !dot || dot == key || !dot[1])
		return fail(c, "must be a cgroup file name like \"memory.high\"");
	return 0;
}

static int check_annotation_key(struct ctx *c, const char *key)
{
	return *key ? 0 : fail(c, "key must not be empty");
}

/* ---- the sections ---- */

static int parse_idmap(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_idmap *m = out;
	if (want_obj(c, v) ||
	    get_u32(c, v, "containerID", UINT32_MAX, NULL, &m->container_id) ||
	    get_u32(c, v, "hostID", UINT32_MAX, NULL, &m->host_id) ||
	    get_u32(c, v, "size", UINT32_MAX, NULL, &m->size))
		return -1;
	return 0;
}

static int parse_mount(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_mount *m = out;
	if (want_obj(c, v) ||
	    get_path(c, v, "destination", true, &m->destination) ||
	    get_str(c, v, "type", false, &m->type) ||
	    get_str(c, v, "source", false, &m->source) ||
	    get_strv(c, v, "options", &m->options, &m->n_options) ||
	    get_list(c, v, "uidMappings", sizeof(*m->uid_mappings), &m->uid_mappings,
		     &m->n_uid_mappings, parse_idmap) ||
	    get_list(c, v, "gidMappings", sizeof(*m->gid_mappings), &m->gid_mappings,
		     &m->n_gid_mappings, parse_idmap))
		return -1;
	/* runtime-spec: an idmapped mount gives both maps. */
	if (!m->n_uid_mappings != !m->n_gid_mappings) {
		bool uid = m->n_uid_mappings;
		enter_key(c, uid ? "gidMappings" : "uidMappings");
		return fail(c, "is required with %s", uid ? "uidMappings" : "gidMappings");
	}
	return 0;
}

static int parse_console(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_process *p = out;
	/* struct winsize holds 16 bits. */
	if (want_obj(c, v) ||
	    get_u32(c, v, "height", UINT16_MAX, NULL, &p->console_height) ||
	    get_u32(c, v, "width", UINT16_MAX, NULL, &p->console_width))
		return -1;
	return 0;
}

static int item_u32(struct ctx *c, const struct jv *v, void *out)
{
	uint64_t x;
	if (to_u64(c, v, UINT32_MAX, &x))
		return -1;
	*(uint32_t *)out = (uint32_t)x;
	return 0;
}

static int parse_user(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_user *u = out;
	if (want_obj(c, v) ||
	    get_u32(c, v, "uid", UINT32_MAX, NULL, &u->uid) ||
	    get_u32(c, v, "gid", UINT32_MAX, NULL, &u->gid) ||
	    get_u32(c, v, "umask", UINT32_MAX, &u->has_umask, &u->umask) ||
	    get_list(c, v, "additionalGids", sizeof(*u->additional_gids), &u->additional_gids,
		     &u->n_additional_gids, item_u32) ||
	    get_str(c, v, "username", false, &u->username))
		return -1;
	return 0;
}

static int parse_caps(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_caps *caps = out;
	if (want_obj(c, v))
		return -1;
	for (int s = 0; s < SK_CAP_NSETS; s++) {
		size_t mark;
		const struct jv *set = enter(c, v, cap_sets[s], &mark);
		if (set && to_flags(c, set, sk_cap_from_name, "capability", true, &caps->set[s]))
			return -1;
		caps->has[s] = set != NULL;
		leave(c, mark);
	}
	return 0;
}

static int parse_rlimit(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_rlimit *r = out;
	if (want_obj(c, v) ||
	    get_named(c, v, "type", true, TAB(rlimits), "rlimit type", &r->resource, &r->type) ||
	    get_u64(c, v, "soft", UINT64_MAX, NULL, &r->soft) ||
	    get_u64(c, v, "hard", UINT64_MAX, NULL, &r->hard))
		return -1;
	if (r->soft > r->hard)
		return fail(c, "soft limit must not exceed hard limit");
	return 0;
}

static int parse_ioprio(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_io_priority *io = out;
	bool opt;
	if (want_obj(c, v) ||
	    get_named(c, v, "class", true, TAB(ioprio_classes), "I/O priority class", &io->class_, NULL) ||
	    get_int(c, v, "priority", 0, 7, &opt, &io->priority))
		return -1;
	return 0;
}

static int parse_scheduler(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_scheduler *s = out;
	uint64_t flags = 0;
	size_t mark;
	bool opt;
	if (want_obj(c, v) ||
	    get_named(c, v, "policy", true, TAB(sched_policies), "scheduling policy", &s->policy, NULL) ||
	    get_int(c, v, "nice", -20, 19, &opt, &s->nice) ||
	    get_int(c, v, "priority", 0, 99, &opt, &s->priority) ||
	    get_u64(c, v, "runtime", UINT64_MAX, &opt, &s->runtime) ||
	    get_u64(c, v, "deadline", UINT64_MAX, &opt, &s->deadline) ||
	    get_u64(c, v, "period", UINT64_MAX, &opt, &s->period))
		return -1;
	const struct jv *f = enter(c, v, "flags", &mark);
	if (f && to_flags(c, f, sched_flag_from_name, "scheduler flag", false, &flags))
		return -1;
	leave(c, mark);
	s->flags = (uint32_t)flags;
	/* sched_setattr(2) semantics, checked as runc does. */
	if (s->priority && s->policy != SCHED_FIFO && s->policy != SCHED_RR) {
		enter_key(c, "priority");
		return fail(c, "only valid with SCHED_FIFO or SCHED_RR");
	}
	if ((s->runtime || s->deadline || s->period) && s->policy != SCHED_DEADLINE)
		return fail(c, "runtime, deadline and period are only valid with SCHED_DEADLINE");
	return 0;
}

/* "" means unset (runtime-spec), as does an absent field. */
static int get_cpus(struct ctx *c, const struct jv *o, const char *key, char **out)
{
	if (get_str(c, o, key, false, out))
		return -1;
	if (*out && !**out) {
		free(*out);
		*out = NULL;
	}
	if (*out && !cpu_list_ok(*out)) {
		char q[QUOTE_MAX];
		enter_key(c, key);
		return fail(c, "invalid CPU list %s (expected e.g. \"0-3,7\", CPUs 0..%d)",
			    quote(q, *out), MAX_CPU);
	}
	return 0;
}

static int parse_affinity(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_process *p = out;
	if (want_obj(c, v) ||
	    get_cpus(c, v, "initial", &p->exec_cpu_affinity_initial) ||
	    get_cpus(c, v, "final", &p->exec_cpu_affinity_final))
		return -1;
	return 0;
}

static int check_rlimit_dups(struct ctx *c, const struct sk_process *p)
{
	for (size_t i = 0; i < p->n_rlimits; i++)
		for (size_t j = 0; j < i; j++)
			if (p->rlimits[j].resource == p->rlimits[i].resource) {
				char q[QUOTE_MAX];
				enter_key(c, "rlimits");
				enter_index(c, i);
				enter_key(c, "type");
				return fail(c, "duplicate rlimit type %s", quote(q, p->rlimits[i].type));
			}
	return 0;
}

static int parse_process(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_process *p = out;
	bool opt;
	if (want_obj(c, v) ||
	    get_bool(c, v, "terminal", &opt, &p->terminal) ||
	    get_obj(c, v, "consoleSize", &p->has_console_size, parse_console, p) ||
	    get_obj(c, v, "user", &opt, parse_user, &p->user) ||
	    get_nonempty_strv(c, v, "args", &p->args, &p->n_args) ||
	    get_str(c, v, "commandLine", false, &p->command_line) ||
	    get_strv(c, v, "env", &p->env, &p->n_env) ||
	    get_path(c, v, "cwd", true, &p->cwd) ||
	    get_obj(c, v, "capabilities", &p->caps.present, parse_caps, &p->caps) ||
	    get_list(c, v, "rlimits", sizeof(*p->rlimits), &p->rlimits, &p->n_rlimits, parse_rlimit) ||
	    check_rlimit_dups(c, p) ||
	    get_bool(c, v, "noNewPrivileges", &opt, &p->no_new_privileges) ||
	    get_str(c, v, "apparmorProfile", false, &p->apparmor_profile) ||
	    get_int(c, v, "oomScoreAdj", -1000, 1000, &p->has_oom_score_adj, &p->oom_score_adj) ||
	    get_str(c, v, "selinuxLabel", false, &p->selinux_label) ||
	    get_obj(c, v, "ioPriority", &p->io_priority.present, parse_ioprio, &p->io_priority) ||
	    get_obj(c, v, "scheduler", &p->scheduler.present, parse_scheduler, &p->scheduler) ||
	    get_obj(c, v, "execCPUAffinity", &opt, parse_affinity, p))
		return -1;
	return 0;
}

static int parse_hook(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_hook *h = out;
	if (want_obj(c, v) ||
	    get_path(c, v, "path", true, &h->path) ||
	    get_strv(c, v, "args", &h->args, &h->n_args) ||
	    get_strv(c, v, "env", &h->env, &h->n_env) ||
	    get_int(c, v, "timeout", 1, INT_MAX, &h->has_timeout, &h->timeout))
		return -1;
	return 0;
}

static int parse_hooks(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_hooks *hooks = out;
	if (want_obj(c, v))
		return -1;
	for (int k = 0; k < SK_HOOK_NKINDS; k++)
		if (get_list(c, v, hook_kinds[k], sizeof(struct sk_hook), &hooks->list[k], &hooks->n[k], parse_hook))
			return -1;
	return 0;
}

static int parse_root(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_spec *s = out;
	bool opt;
	if (want_obj(c, v) ||
	    get_str(c, v, "path", true, &s->root.path) ||
	    get_bool(c, v, "readonly", &opt, &s->root.readonly))
		return -1;
	return 0;
}

static int parse_namespace(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_namespace *ns = out;
	int type;
	if (want_obj(c, v) ||
	    get_named(c, v, "type", true, TAB(ns_types), "namespace type", &type, NULL) ||
	    get_str(c, v, "path", false, &ns->path))
		return -1;
	ns->type = (enum sk_ns_type)type;
	/* "path": "" means a new namespace, as for runc (omitempty in Go). */
	if (ns->path && !ns->path[0]) {
		free(ns->path);
		ns->path = NULL;
	}
	if (ns->path && ns->path[0] != '/') {
		enter_key(c, "path");
		return fail(c, "must be an absolute path");
	}
	return 0;
}

static int parse_namespaces(struct ctx *c, const struct jv *o, struct sk_linux *l)
{
	if (get_list(c, o, "namespaces", sizeof(*l->namespaces), &l->namespaces, &l->n_namespaces,
		     parse_namespace))
		return -1;
	for (size_t i = 0; i < l->n_namespaces; i++)
		for (size_t j = 0; j < i; j++)
			if (l->namespaces[j].type == l->namespaces[i].type) {
				enter_key(c, "namespaces");
				enter_index(c, i);
				enter_key(c, "type");
				return fail(c, "duplicate namespace type \"%s\"",
					    sk_ns_type_name(l->namespaces[i].type));
			}
	return 0;
}

static int parse_time_offsets(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_time_offset *t = out;
	if (want_obj(c, v))
		return -1;
	for (size_t i = 0; i < v->n; i++) {
		const struct jv *item = &v->u.items[i];
		size_t mark = enter_map_key(c, item->key);
		int clock = strcmp(item->key, "monotonic") == 0 ? 0 : strcmp(item->key, "boottime") == 0 ? 1 : -1;
		int64_t secs = 0;
		uint32_t nsecs = 0;
		bool opt;
		if (clock < 0)
			return fail(c, "unknown clock (must be \"monotonic\" or \"boottime\")");
		if (item->type == J_NULL) {
			leave(c, mark);
			continue;
		}
		if (want_obj(c, item) ||
		    get_i64(c, item, "secs", INT64_MIN, INT64_MAX, &opt, &secs) ||
		    get_u32(c, item, "nanosecs", 999999999, &opt, &nsecs))
			return -1;
		t[clock] = (struct sk_time_offset){ .present = true, .secs = secs, .nanosecs = nsecs };
		leave(c, mark);
	}
	return 0;
}

/* A one-letter device type from allowed.  For cgroup rules (not required)
 * "" means all, as for runc. */
static int get_dev_type(struct ctx *c, const struct jv *o, bool required, const char *allowed, char *out)
{
	size_t mark;
	const struct jv *v = enter(c, o, "type", &mark);
	if (!v) {
		int r = required ? fail(c, "is required") : 0;
		leave(c, mark);
		return r;
	}
	if (v->type != J_STR)
		return fail(c, "must be a string");
	if (required || v->u.s[0]) {
		char q[QUOTE_MAX];
		if (strlen(v->u.s) != 1 || !strchr(allowed, v->u.s[0]))
			return fail(c, "unknown device type %s", quote(q, v->u.s));
		*out = v->u.s[0];
	}
	leave(c, mark);
	return 0;
}

static int parse_device(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_device *d = out;
	d->major = d->minor = -1;
	if (want_obj(c, v) ||
	    get_path(c, v, "path", true, &d->path) ||
	    get_dev_type(c, v, true, "cbup", &d->type))
		return -1;
	/* Pipes have no numbers; the others need both. */
	bool opt, *need = d->type == 'p' ? &opt : NULL;
	if (get_i64(c, v, "major", 0, UINT32_MAX, need, &d->major) ||
	    get_i64(c, v, "minor", 0, UINT32_MAX, need, &d->minor) ||
	    get_u32(c, v, "fileMode", UINT32_MAX, &d->has_file_mode, &d->file_mode) ||
	    get_u32(c, v, "uid", UINT32_MAX, &d->has_uid, &d->uid) ||
	    get_u32(c, v, "gid", UINT32_MAX, &d->has_gid, &d->gid))
		return -1;
	return 0;
}

static int parse_device_rule(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_device_rule *r = out;
	char *access = NULL;
	bool opt;
	r->type = 'a';
	r->major = r->minor = -1;
	if (want_obj(c, v) ||
	    get_bool(c, v, "allow", NULL, &r->allow) ||
	    get_dev_type(c, v, false, "acb", &r->type) ||
	    get_i64(c, v, "major", -1, UINT32_MAX, &opt, &r->major) ||
	    get_i64(c, v, "minor", -1, UINT32_MAX, &opt, &r->minor) ||
	    get_str(c, v, "access", false, &access))
		return -1;
	if (!access)
		return 0;
	/* Kept as a subset of "rwm" in that order, whatever order was given. */
	bool bad = access[strspn(access, "rwm")] != '\0';
	size_t n = 0;
	for (const char *p = "rwm"; *p; p++)
		if (strchr(access, *p))
			r->access[n++] = *p;
	r->access[n] = '\0';
	if (bad) {
		char q[QUOTE_MAX];
		enter_key(c, "access");
		fail(c, "invalid access %s (must be a combination of r, w and m)", quote(q, access));
	}
	free(access);
	return bad ? -1 : 0;
}

/* 0..100, or Go's uint64(-1), which docker sends for "unset" and runc reads
 * so. */
static int get_swappiness(struct ctx *c, const struct jv *o, bool *has, uint64_t *out)
{
	size_t mark;
	const struct jv *v = enter(c, o, "swappiness", &mark);
	int r = 0;
	if (!v)
		r = absent(c, has);
	else if (to_u64(c, v, UINT64_MAX, out) || (*out > 100 && *out != UINT64_MAX))
		r = fail(c, "must be an integer in range 0..100 (or %" PRIu64 ": unset)", UINT64_MAX);
	else
		*has = *out != UINT64_MAX;
	leave(c, mark);
	return r;
}

static int parse_memory(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_resources *r = out;
	if (want_obj(c, v) ||
	    get_i64(c, v, "limit", INT64_MIN, INT64_MAX, &r->memory.has_limit, &r->memory.limit) ||
	    get_i64(c, v, "reservation", INT64_MIN, INT64_MAX, &r->memory.has_reservation, &r->memory.reservation) ||
	    get_i64(c, v, "swap", INT64_MIN, INT64_MAX, &r->memory.has_swap, &r->memory.swap) ||
	    get_i64(c, v, "kernel", INT64_MIN, INT64_MAX, &r->memory.has_kernel, &r->memory.kernel) ||
	    get_i64(c, v, "kernelTCP", INT64_MIN, INT64_MAX, &r->memory.has_kernel_tcp, &r->memory.kernel_tcp) ||
	    get_swappiness(c, v, &r->memory.has_swappiness, &r->memory.swappiness) ||
	    get_bool(c, v, "disableOOMKiller", &r->memory.has_disable_oom_killer, &r->memory.disable_oom_killer) ||
	    get_bool(c, v, "useHierarchy", &r->memory.has_use_hierarchy, &r->memory.use_hierarchy) ||
	    get_bool(c, v, "checkBeforeUpdate", &r->memory.has_check_before_update, &r->memory.check_before_update))
		return -1;
	return 0;
}

static int parse_cpu(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_resources *r = out;
	if (want_obj(c, v) ||
	    get_u64(c, v, "shares", UINT64_MAX, &r->cpu.has_shares, &r->cpu.shares) ||
	    get_i64(c, v, "quota", INT64_MIN, INT64_MAX, &r->cpu.has_quota, &r->cpu.quota) ||
	    get_u64(c, v, "burst", UINT64_MAX, &r->cpu.has_burst, &r->cpu.burst) ||
	    get_u64(c, v, "period", UINT64_MAX, &r->cpu.has_period, &r->cpu.period) ||
	    get_i64(c, v, "realtimeRuntime", INT64_MIN, INT64_MAX, &r->cpu.has_realtime_runtime, &r->cpu.realtime_runtime) ||
	    get_u64(c, v, "realtimePeriod", UINT64_MAX, &r->cpu.has_realtime_period, &r->cpu.realtime_period) ||
	    get_str(c, v, "cpus", false, &r->cpu.cpus) ||
	    get_str(c, v, "mems", false, &r->cpu.mems) ||
	    get_i64(c, v, "idle", INT64_MIN, INT64_MAX, &r->cpu.has_idle, &r->cpu.idle))
		return -1;
	return 0;
}

static int parse_pids(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_resources *r = out;
	if (want_obj(c, v) ||
	    get_i64(c, v, "limit", INT64_MIN, INT64_MAX, &r->pids.has_limit, &r->pids.limit))
		return -1;
	return 0;
}

static int get_dev_numbers(struct ctx *c, const struct jv *v, int64_t *major, int64_t *minor)
{
	if (get_i64(c, v, "major", 0, UINT32_MAX, NULL, major) ||
	    get_i64(c, v, "minor", 0, UINT32_MAX, NULL, minor))
		return -1;
	return 0;
}

static int parse_weight_device(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_weight_device *w = out;
	if (want_obj(c, v) ||
	    get_dev_numbers(c, v, &w->major, &w->minor) ||
	    get_weight(c, v, "weight", &w->has_weight, &w->weight) ||
	    get_weight(c, v, "leafWeight", &w->has_leaf_weight, &w->leaf_weight))
		return -1;
	if (!w->has_weight && !w->has_leaf_weight)
		return fail(c, "must have weight or leafWeight");
	return 0;
}

static int parse_throttle(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_throttle_device *t = out;
	if (want_obj(c, v) ||
	    get_dev_numbers(c, v, &t->major, &t->minor) ||
	    get_u64(c, v, "rate", UINT64_MAX, NULL, &t->rate))
		return -1;
	return 0;
}

static int parse_block_io(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_resources *r = out;
	typeof(r->block_io) *b = &r->block_io;
	if (want_obj(c, v) ||
	    get_weight(c, v, "weight", &b->has_weight, &b->weight) ||
	    get_weight(c, v, "leafWeight", &b->has_leaf_weight, &b->leaf_weight) ||
	    get_list(c, v, "weightDevice", sizeof(*b->weight_device), &b->weight_device,
		     &b->n_weight_device, parse_weight_device) ||
	    get_list(c, v, "throttleReadBpsDevice", sizeof(*b->throttle_read_bps), &b->throttle_read_bps,
		     &b->n_throttle_read_bps, parse_throttle) ||
	    get_list(c, v, "throttleWriteBpsDevice", sizeof(*b->throttle_write_bps), &b->throttle_write_bps,
		     &b->n_throttle_write_bps, parse_throttle) ||
	    get_list(c, v, "throttleReadIOPSDevice", sizeof(*b->throttle_read_iops), &b->throttle_read_iops,
		     &b->n_throttle_read_iops, parse_throttle) ||
	    get_list(c, v, "throttleWriteIOPSDevice", sizeof(*b->throttle_write_iops), &b->throttle_write_iops,
		     &b->n_throttle_write_iops, parse_throttle))
		return -1;
	return 0;
}

static int parse_hugepage(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_hugepage_limit *h = out;
	if (want_obj(c, v) ||
	    get_str(c, v, "pageSize", true, &h->page_size) ||
	    get_u64(c, v, "limit", UINT64_MAX, NULL, &h->limit))
		return -1;
	/* It becomes part of a cgroup file name. */
	if (!page_size_ok(h->page_size)) {
		char q[QUOTE_MAX];
		enter_key(c, "pageSize");
		return fail(c, "invalid page size %s (expected e.g. \"2MB\")", quote(q, h->page_size));
	}
	return 0;
}

static int parse_rdma(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_resources *r = out;
	if (want_obj(c, v))
		return -1;
	if (v->n) {
		if (!(r->rdma = calloc(v->n, sizeof(*r->rdma))))
			return oom(c);
		r->n_rdma = v->n;
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct jv *item = &v->u.items[i];
		struct sk_rdma_limit *l = &r->rdma[i];
		size_t mark = enter_map_key(c, item->key);
		if (check_word(c, item->key) ||
		    dup_str(c, item->key, &l->device) ||
		    want_obj(c, item) ||
		    get_u32(c, item, "hcaHandles", UINT32_MAX, &l->has_hca_handles, &l->hca_handles) ||
		    get_u32(c, item, "hcaObjects", UINT32_MAX, &l->has_hca_objects, &l->hca_objects))
			return -1;
		if (!l->has_hca_handles && !l->has_hca_objects)
			return fail(c, "must have hcaHandles or hcaObjects");
		leave(c, mark);
	}
	return 0;
}

static int parse_net_prio(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_net_prio *p = out;
	size_t mark;
	if (want_obj(c, v) ||
	    get_str(c, v, "name", true, &p->name) ||
	    get_u32(c, v, "priority", UINT32_MAX, NULL, &p->priority))
		return -1;
	mark = enter_key(c, "name");
	if (check_word(c, p->name))
		return -1;
	leave(c, mark);
	return 0;
}

static int parse_network(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_resources *r = out;
	if (want_obj(c, v) ||
	    get_u32(c, v, "classID", UINT32_MAX, &r->network.has_class_id, &r->network.class_id) ||
	    get_list(c, v, "priorities", sizeof(*r->network.priorities), &r->network.priorities,
		     &r->network.n_priorities, parse_net_prio))
		return -1;
	return 0;
}

static int parse_resources(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_resources *r = out;
	bool opt;
	if (want_obj(c, v) ||
	    get_list(c, v, "devices", sizeof(*r->devices), &r->devices, &r->n_devices, parse_device_rule) ||
	    get_obj(c, v, "memory", &r->memory.present, parse_memory, r) ||
	    get_obj(c, v, "cpu", &r->cpu.present, parse_cpu, r) ||
	    get_obj(c, v, "pids", &r->pids.present, parse_pids, r) ||
	    get_obj(c, v, "blockIO", &r->block_io.present, parse_block_io, r) ||
	    get_list(c, v, "hugepageLimits", sizeof(*r->hugepage_limits), &r->hugepage_limits,
		     &r->n_hugepage_limits, parse_hugepage) ||
	    get_obj(c, v, "rdma", &opt, parse_rdma, r) ||
	    get_obj(c, v, "network", &r->network.present, parse_network, r) ||
	    get_kv(c, v, "unified", &r->unified, &r->n_unified, check_unified_key))
		return -1;
	return 0;
}

static bool errno_action(const char *action)
{
	return strcmp(action, "SCMP_ACT_ERRNO") == 0 || strcmp(action, "SCMP_ACT_TRACE") == 0;
}

/* runtime-spec: an errno for an action that returns none is an error. */
static int check_errno_ret(struct ctx *c, const char *key, bool has, const char *action)
{
	if (!has || errno_action(action))
		return 0;
	enter_key(c, key);
	return fail(c, "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
}

static int parse_seccomp_arg(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_seccomp_arg *a = out;
	bool opt;
	/* Syscalls have six arguments. */
	if (want_obj(c, v) ||
	    get_u32(c, v, "index", 5, NULL, &a->index) ||
	    get_u64(c, v, "value", UINT64_MAX, NULL, &a->value) ||
	    get_u64(c, v, "valueTwo", UINT64_MAX, &opt, &a->value_two) ||
	    get_sym(c, v, "op", true, TAB(seccomp_ops), "seccomp operator", &a->op))
		return -1;
	return 0;
}

static int parse_syscall(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_seccomp_syscall *s = out;
	if (want_obj(c, v) ||
	    get_nonempty_strv(c, v, "names", &s->names, &s->n_names) ||
	    get_sym(c, v, "action", true, TAB(seccomp_actions), "seccomp action", &s->action) ||
	    get_u32(c, v, "errnoRet", UINT32_MAX, &s->has_errno_ret, &s->errno_ret) ||
	    check_errno_ret(c, "errnoRet", s->has_errno_ret, s->action) ||
	    get_list(c, v, "args", sizeof(*s->args), &s->args, &s->n_args, parse_seccomp_arg))
		return -1;
	return 0;
}

static int item_arch(struct ctx *c, const struct jv *v, void *out)
{
	char q[QUOTE_MAX];
	if (v->type == J_STR && !in_list(TAB(seccomp_archs), v->u.s))
		return fail(c, "unknown seccomp architecture %s", quote(q, v->u.s));
	return to_str(c, v, out);
}

static int item_seccomp_flag(struct ctx *c, const struct jv *v, void *out)
{
	char q[QUOTE_MAX];
	if (v->type == J_STR && !in_list(TAB(seccomp_flags), v->u.s))
		return fail(c, "unknown seccomp flag %s", quote(q, v->u.s));
	return to_str(c, v, out);
}

static int parse_seccomp(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_seccomp *s = out;
	if (want_obj(c, v) ||
	    get_sym(c, v, "defaultAction", true, TAB(seccomp_actions), "seccomp action", &s->default_action))
		return -1;
	/* As runc: the runtime's own syscalls after the filter is loaded
	 * would wait on an agent that does not have the fd yet. */
	if (strcmp(s->default_action, "SCMP_ACT_NOTIFY") == 0) {
		enter_key(c, "defaultAction");
		return fail(c, "SCMP_ACT_NOTIFY cannot be the default action");
	}
	if (get_u32(c, v, "defaultErrnoRet", UINT32_MAX, &s->has_default_errno_ret, &s->default_errno_ret) ||
	    check_errno_ret(c, "defaultErrnoRet", s->has_default_errno_ret, s->default_action) ||
	    get_list(c, v, "architectures", sizeof(char *), &s->architectures, &s->n_architectures, item_arch) ||
	    get_list(c, v, "flags", sizeof(char *), &s->flags, &s->n_flags, item_seccomp_flag) ||
	    get_str(c, v, "listenerPath", false, &s->listener_path) ||
	    get_str(c, v, "listenerMetadata", false, &s->listener_metadata) ||
	    get_list(c, v, "syscalls", sizeof(*s->syscalls), &s->syscalls, &s->n_syscalls, parse_syscall))
		return -1;
	bool listener = s->listener_path && *s->listener_path;
	if (s->listener_metadata && !listener) {
		enter_key(c, "listenerMetadata");
		return fail(c, "requires listenerPath");
	}
	for (size_t i = 0; i < s->n_syscalls; i++)
		if (strcmp(s->syscalls[i].action, "SCMP_ACT_NOTIFY") == 0 && !listener) {
			enter_key(c, "listenerPath");
			return fail(c, "is required when SCMP_ACT_NOTIFY is used (syscalls[%zu])", i);
		}
	return 0;
}

static int parse_personality(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_personality *p = out;
	if (want_obj(c, v) ||
	    get_sym(c, v, "domain", true, TAB(personality_domains), "personality domain", &p->domain) ||
	    get_strv(c, v, "flags", &p->flags, &p->n_flags))
		return -1;
	return 0;
}

/* A field that only makes sense with a namespace of type t. */
static int need_ns(struct ctx *c, const struct sk_linux *l, bool used, const char *key,
		   enum sk_ns_type t, const char *what)
{
	if (!used || find_ns(l, t))
		return 0;
	enter_key(c, key);
	return fail(c, "requires %s namespace in linux.namespaces", what);
}

static int parse_linux(struct ctx *c, const struct jv *v, void *out)
{
	struct sk_linux *l = out;
	size_t mark;
	bool opt;
	if (want_obj(c, v) ||
	    parse_namespaces(c, v, l) ||
	    get_list(c, v, "uidMappings", sizeof(*l->uid_mappings), &l->uid_mappings, &l->n_uid_mappings,
		     parse_idmap) ||
	    get_list(c, v, "gidMappings", sizeof(*l->gid_mappings), &l->gid_mappings, &l->n_gid_mappings,
		     parse_idmap) ||
	    get_obj(c, v, "timeOffsets", &opt, parse_time_offsets, l->time_offsets) ||
	    get_list(c, v, "devices", sizeof(*l->devices), &l->devices, &l->n_devices, parse_device) ||
	    get_str(c, v, "cgroupsPath", false, &l->cgroups_path) ||
	    get_obj(c, v, "resources", &l->resources.present, parse_resources, &l->resources) ||
	    get_kv(c, v, "sysctl", &l->sysctl, &l->n_sysctl, NULL) ||
	    get_obj(c, v, "seccomp", &l->seccomp.present, parse_seccomp, &l->seccomp))
		return -1;
	/* "" is runc's "leave it alone". */
	const struct jv *prop = member(v, "rootfsPropagation");
	bool empty = prop && prop->type == J_STR && !prop->u.s[0];
	if ((!empty && get_sym(c, v, "rootfsPropagation", false, TAB(propagations), "propagation",
			       &l->rootfs_propagation)) ||
	    get_list(c, v, "maskedPaths", sizeof(char *), &l->masked_paths, &l->n_masked_paths, item_path) ||
	    get_list(c, v, "readonlyPaths", sizeof(char *), &l->readonly_paths, &l->n_readonly_paths, item_path) ||
	    get_str(c, v, "mountLabel", false, &l->mount_label) ||
	    get_obj(c, v, "personality", &l->personality.present, parse_personality, &l->personality))
		return -1;
	if (enter(c, v, "intelRdt", &mark))
		return fail(c, "not supported");
	leave(c, mark);

	bool offsets = l->time_offsets[0].present || l->time_offsets[1].present;
	if (need_ns(c, l, l->n_uid_mappings, "uidMappings", SK_NS_USER, "a user") ||
	    need_ns(c, l, l->n_gid_mappings, "gidMappings", SK_NS_USER, "a user") ||
	    need_ns(c, l, offsets, "timeOffsets", SK_NS_TIME, "a time") ||
	    need_ns(c, l, l->n_masked_paths, "maskedPaths", SK_NS_MNT, "a mount") ||
	    need_ns(c, l, l->n_readonly_paths, "readonlyPaths", SK_NS_MNT, "a mount"))
		return -1;
	/* Offsets apply to a new time namespace only. */
	const struct sk_namespace *time_ns = find_ns(l, SK_NS_TIME);
	if (offsets && time_ns && time_ns->path) {
		enter_key(c, "timeOffsets");
		return fail(c, "cannot be used when joining a time namespace");
	}
	return 0;
}

static int parse_spec(struct ctx *c, const struct jv *v, struct sk_spec *s)
{
	if (v->type != J_OBJ)
		return fail(c, "must be a JSON object");
	if (get_str(c, v, "ociVersion", true, &s->oci_version))
		return -1;
	if (!oci_version_ok(s->oci_version)) {
		char q[QUOTE_MAX];
		enter_key(c, "ociVersion");
		return fail(c, "must be a 1.x.y semantic version, got %s", quote(q, s->oci_version));
	}
	bool opt;
	if (get_obj(c, v, "root", NULL, parse_root, s) ||
	    get_list(c, v, "mounts", sizeof(*s->mounts), &s->mounts, &s->n_mounts, parse_mount) ||
	    get_obj(c, v, "process", &s->has_process, parse_process, &s->process) ||
	    get_str(c, v, "hostname", false, &s->hostname) ||
	    get_str(c, v, "domainname", false, &s->domainname) ||
	    get_obj(c, v, "hooks", &opt, parse_hooks, &s->hooks) ||
	    get_kv(c, v, "annotations", &s->annotations, &s->n_annotations, check_annotation_key) ||
	    get_obj(c, v, "linux", &s->has_linux, parse_linux, &s->linux_))
		return -1;
	/* runtime-spec up to 1.2 read a pids limit of 0 as "no limit" (podman
	 * 4 sends it so); 1.3.0 made 0 a limit like any other. */
	struct sk_resources *res = &s->linux_.resources;
	if (res->pids.has_limit && res->pids.limit == 0 && strtoul(s->oci_version + 2, NULL, 10) < 3)
		res->pids.limit = -1;
	/* As runc: without its own UTS namespace the container would rename
	 * the host. */
	if (need_ns(c, &s->linux_, s->hostname && *s->hostname, "hostname", SK_NS_UTS, "a UTS") ||
	    need_ns(c, &s->linux_, s->domainname && *s->domainname, "domainname", SK_NS_UTS, "a UTS"))
		return -1;
	return 0;
}

/* ---- freeing ---- */

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void free_kv(struct sk_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static void free_process(struct sk_process *p)
{
	free(p->user.additional_gids);
	free(p->user.username);
	free_strv(p->args, p->n_args);
	free(p->command_line);
	free_strv(p->env, p->n_env);
	free(p->cwd);
	for (size_t i = 0; i < p->n_rlimits; i++)
		free(p->rlimits[i].type);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p->exec_cpu_affinity_initial);
	free(p->exec_cpu_affinity_final);
}

static void free_resources(struct sk_resources *r)
{
	free(r->devices);
	free(r->cpu.cpus);
	free(r->cpu.mems);
	free(r->block_io.weight_device);
	free(r->block_io.throttle_read_bps);
	free(r->block_io.throttle_write_bps);
	free(r->block_io.throttle_read_iops);
	free(r->block_io.throttle_write_iops);
	for (size_t i = 0; i < r->n_hugepage_limits; i++)
		free(r->hugepage_limits[i].page_size);
	free(r->hugepage_limits);
	for (size_t i = 0; i < r->n_rdma; i++)
		free(r->rdma[i].device);
	free(r->rdma);
	for (size_t i = 0; i < r->network.n_priorities; i++)
		free(r->network.priorities[i].name);
	free(r->network.priorities);
	free_kv(r->unified, r->n_unified);
}

static void free_seccomp(struct sk_seccomp *s)
{
	free(s->default_action);
	free_strv(s->architectures, s->n_architectures);
	free_strv(s->flags, s->n_flags);
	free(s->listener_path);
	free(s->listener_metadata);
	for (size_t i = 0; i < s->n_syscalls; i++) {
		struct sk_seccomp_syscall *sc = &s->syscalls[i];
		free_strv(sc->names, sc->n_names);
		free(sc->action);
		for (size_t j = 0; j < sc->n_args; j++)
			free(sc->args[j].op);
		free(sc->args);
	}
	free(s->syscalls);
}

static void free_linux(struct sk_linux *l)
{
	for (size_t i = 0; i < l->n_namespaces; i++)
		free(l->namespaces[i].path);
	free(l->namespaces);
	free(l->uid_mappings);
	free(l->gid_mappings);
	for (size_t i = 0; i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	free(l->cgroups_path);
	free_resources(&l->resources);
	free_kv(l->sysctl, l->n_sysctl);
	free_seccomp(&l->seccomp);
	free(l->rootfs_propagation);
	free_strv(l->masked_paths, l->n_masked_paths);
	free_strv(l->readonly_paths, l->n_readonly_paths);
	free(l->mount_label);
	free(l->personality.domain);
	free_strv(l->personality.flags, l->personality.n_flags);
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
		free_strv(m->options, m->n_options);
		free(m->uid_mappings);
		free(m->gid_mappings);
	}
	free(s->mounts);
	free_process(&s->process);
	free(s->hostname);
	free(s->domainname);
	for (int k = 0; k < SK_HOOK_NKINDS; k++) {
		for (size_t i = 0; i < s->hooks.n[k]; i++) {
			struct sk_hook *h = &s->hooks.list[k][i];
			free(h->path);
			free_strv(h->args, h->n_args);
			free_strv(h->env, h->n_env);
		}
		free(s->hooks.list[k]);
	}
	free_kv(s->annotations, s->n_annotations);
	free_linux(&s->linux_);
	/* Freeing twice, or a struct that failed to load, is harmless. */
	memset(s, 0, sizeof(*s));
}

/* ---- entry points ---- */

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
	struct builder b = { 0 };
	const struct jv *root = NULL;
	int r = read_json(name, buf, len, &b, &root, err);
	if (r == 0) {
		struct ctx c = { .name = name, .err = err };
		r = parse_spec(&c, root, out);
		if (r)
			sk_spec_free(out);
	}
	builder_free(&b);
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
	struct builder b = { 0 };
	const struct jv *root = NULL;
	int r = read_json(name, buf, len, &b, &root, err);
	if (r == 0) {
		/* Paths as in config.json: "process.cwd". */
		struct ctx c = { .name = name, .err = err };
		enter_key(&c, "process");
		r = parse_process(&c, root, out);
		if (r)
			free_process(out);
	}
	builder_free(&b);
	return r;
}

void sk_spec_process_free(struct sk_process *p)
{
	free_process(p);
	memset(p, 0, sizeof(*p));
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
