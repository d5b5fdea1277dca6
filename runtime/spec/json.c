/* json: JSON text -> a tree of struct sk_jv (see json.h).
 *
 * The text is read with yajl's callback parser into a small tree of our own
 * rather than with yajl_tree: the callbacks let us stop at a nesting limit
 * before anything recursive runs, keep every number's text (so uint64 fields
 * and overflow are judged exactly), and give each syntax error a position
 * through yajl_get_bytes_consumed().  The tree lives in one arena, freed at
 * once. */
#include "skiff/spec/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>


#define ARENA_CHUNK 65536

struct sk_jchunk { struct sk_jchunk *next; size_t used, cap; struct sk_jv data[]; };

/* The parse state the yajl callbacks build the tree with.  Values wait on
 * the stack until their container ends, then move into the arena. */
struct builder {
	struct sk_jchunk *arena;
	struct sk_jv *stack;
	size_t n, cap;
	size_t base[SK_JSON_MAX_DEPTH];          /* first item of each open container */
	const char *open_key[SK_JSON_MAX_DEPTH]; /* the key each open container sits under */
	unsigned depth;
	const char *key;                         /* member name awaiting its value */
	size_t values;
	bool oom;
	bool in_string;                          /* the problem is a string's content */
	char problem[96];                        /* why a callback stopped the parse */
};

static void *arena_alloc(struct builder *b, size_t size)
{
	const size_t align = _Alignof(struct sk_jv);
	size = (size + align - 1) & ~(align - 1);
	struct sk_jchunk *h = b->arena;
	if (h && h->cap - h->used >= size) {
		void *p = (char *)h->data + h->used;
		h->used += size;
		return p;
	}
	/* A big block gets a chunk of its own, put behind the current one so
	 * that the current one's free space stays in use. */
	bool own = size > ARENA_CHUNK / 4;
	struct sk_jchunk *c = malloc(sizeof(*c) + (own ? size : ARENA_CHUNK));
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

static void arena_free(struct sk_jchunk *c)
{
	while (c) {
		struct sk_jchunk *next = c->next;
		free(c);
		c = next;
	}
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

static int push(struct builder *b, struct sk_jv v, const char *key)
{
	if (++b->values > SK_JSON_MAX_VALUES)
		return stop(b, "more than %u JSON values", SK_JSON_MAX_VALUES);
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct sk_jv *s = realloc(b->stack, cap * sizeof(*s));
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
	int r = push(b, (struct sk_jv){ .type = SK_JNULL }, b->key);
	b->key = NULL;
	return r;
}

static int cb_bool(void *ctx, int v)
{
	struct builder *b = ctx;
	int r = push(b, (struct sk_jv){ .type = SK_JBOOL, .b = v }, b->key);
	b->key = NULL;
	return r;
}

static int cb_number(void *ctx, const char *s, size_t len)
{
	struct builder *b = ctx;
	const char *t = text(b, (const unsigned char *)s, len);
	if (!t)
		return 0;
	int r = push(b, (struct sk_jv){ .type = SK_JNUM, .u.s = t }, b->key);
	b->key = NULL;
	return r;
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
	struct builder *b = ctx;
	const char *t = text(b, s, len);
	if (!t)
		return 0;
	int r = push(b, (struct sk_jv){ .type = SK_JSTR, .u.s = t }, b->key);
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
	if (b->depth == SK_JSON_MAX_DEPTH)
		return stop(b, "nesting deeper than %d levels", SK_JSON_MAX_DEPTH);
	b->base[b->depth] = b->n;
	b->open_key[b->depth] = b->key;
	b->key = NULL;
	b->depth++;
	return 1;
}

static int cmp_members(const void *x, const void *y)
{
	const struct sk_jv *a = *(const struct sk_jv *const *)x;
	const struct sk_jv *b = *(const struct sk_jv *const *)y;
	int r = strcmp(a->key, b->key);
	return r ? r : (a > b) - (a < b);
}

/* Of members with the same key only the last counts, as with Go's
 * encoding/json (so runc); the others lose their key. */
static int drop_duplicates(struct sk_jv *items, size_t n)
{
	const struct sk_jv **order = malloc(n * sizeof(*order));
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

static int cb_close(struct builder *b, enum sk_jtype type)
{
	b->depth--;
	size_t base = b->base[b->depth], n = b->n - base;
	struct sk_jv *items = n ? b->stack + base : NULL; /* the stack is NULL before any value */
	if (type == SK_JOBJ && n > 1 && drop_duplicates(items, n) < 0)
		return stop_oom(b);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		kept += type == SK_JARR || items[i].key;
	struct sk_jv *copy = NULL;
	if (kept) {
		copy = arena_alloc(b, kept * sizeof(*copy));
		if (!copy)
			return stop_oom(b);
		for (size_t i = 0, j = 0; i < n; i++)
			if (type == SK_JARR || items[i].key)
				copy[j++] = items[i];
	}
	b->n = base;
	return push(b, (struct sk_jv){ .type = type, .n = kept, .u.items = copy }, b->open_key[b->depth]);
}

static int cb_end_map(void *ctx) { return cb_close(ctx, SK_JOBJ); }
static int cb_end_array(void *ctx) { return cb_close(ctx, SK_JARR); }

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

/* Reads buf into b's tree: the top-level value is b->stack[0]. */
static int read_json(const char *name, const char *buf, size_t len, struct builder *b, struct sk_err *err)
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

int sk_jdoc_parse(const char *name, const char *buf, size_t len, struct sk_jdoc *doc, struct sk_err *err)
{
	*doc = (struct sk_jdoc){ 0 };
	struct builder b = { 0 };
	struct sk_jv *root = NULL;
	if (read_json(name, buf, len, &b, err) == 0) {
		/* The stack goes; the root moves into the arena with the rest. */
		root = arena_alloc(&b, sizeof(*root));
		if (root)
			*root = b.stack[0];
		else
			sk_error(err, ENOMEM, "%s: out of memory", name);
	}
	free(b.stack);
	if (!root) {
		arena_free(b.arena);
		return -1;
	}
	doc->arena = b.arena;
	doc->root = root;
	return 0;
}

void sk_jdoc_free(struct sk_jdoc *doc)
{
	arena_free(doc->arena);
	*doc = (struct sk_jdoc){ 0 };
}
