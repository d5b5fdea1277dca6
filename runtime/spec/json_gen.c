/* json_gen: writing JSON through yajl_gen, the first failure kept for the
 * end (json_gen.h). */
#include "skiff/spec/json_gen.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sk_json_init(struct sk_json *j, const char *indent, struct sk_err *err)
{
	j->failed = false;
	j->g = yajl_gen_alloc(NULL);
	if (!j->g)
		return sk_error(err, ENOMEM, "allocate JSON generator");
	if (indent) {
		yajl_gen_config(j->g, yajl_gen_beautify, 1);
		yajl_gen_config(j->g, yajl_gen_indent_string, indent);
	}
	return 0;
}

void sk_json_free(struct sk_json *j)
{
	if (j->g)
		yajl_gen_free(j->g);
	j->g = NULL;
}

static void check(struct sk_json *j, yajl_gen_status st)
{
	if (st != yajl_gen_status_ok)
		j->failed = true;
}

void sk_json_map_open(struct sk_json *j) { check(j, yajl_gen_map_open(j->g)); }
void sk_json_map_close(struct sk_json *j) { check(j, yajl_gen_map_close(j->g)); }
void sk_json_array_open(struct sk_json *j) { check(j, yajl_gen_array_open(j->g)); }
void sk_json_array_close(struct sk_json *j) { check(j, yajl_gen_array_close(j->g)); }
void sk_json_bool(struct sk_json *j, bool v) { check(j, yajl_gen_bool(j->g, v)); }
void sk_json_int(struct sk_json *j, long long v) { check(j, yajl_gen_integer(j->g, v)); }

void sk_json_uint(struct sk_json *j, uint64_t v)
{
	/* yajl_gen_integer is signed; numbers are emitted verbatim instead. */
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);
	check(j, yajl_gen_number(j->g, buf, (size_t)n));
}

/* yajl_gen_number inserts its text as a value, with the separators and
 * indentation of a value: the way to get [] and {} instead of yajl's
 * multi-line empty containers when beautifying. */
void sk_json_empty_array(struct sk_json *j) { check(j, yajl_gen_number(j->g, "[]", 2)); }
void sk_json_empty_map(struct sk_json *j) { check(j, yajl_gen_number(j->g, "{}", 2)); }

void sk_json_str(struct sk_json *j, const char *s)
{
	if (!s)
		check(j, yajl_gen_null(j->g));
	else
		check(j, yajl_gen_string(j->g, (const unsigned char *)s, strlen(s)));
}

void sk_json_strv(struct sk_json *j, const char *const *v, size_t n)
{
	if (n == 0 || (n == SIZE_MAX && !v[0])) {
		sk_json_empty_array(j);
		return;
	}
	sk_json_array_open(j);
	for (size_t i = 0; i < n && v[i]; i++)
		sk_json_str(j, v[i]);
	sk_json_array_close(j);
}

void sk_json_kstr(struct sk_json *j, const char *key, const char *s) { sk_json_str(j, key); sk_json_str(j, s); }
void sk_json_kint(struct sk_json *j, const char *key, long long v) { sk_json_str(j, key); sk_json_int(j, v); }
void sk_json_kuint(struct sk_json *j, const char *key, uint64_t v) { sk_json_str(j, key); sk_json_uint(j, v); }
void sk_json_kbool(struct sk_json *j, const char *key, bool v) { sk_json_str(j, key); sk_json_bool(j, v); }

int sk_json_buf(struct sk_json *j, const char **buf, size_t *len, struct sk_err *err)
{
	const unsigned char *b;
	if (j->failed || yajl_gen_get_buf(j->g, &b, len) != yajl_gen_status_ok)
		return sk_error(err, 0, "generate JSON: invalid sequence or out of memory");
	*buf = (const char *)b;
	return 0;
}

int sk_json_take(struct sk_json *j, char **out, struct sk_err *err)
{
	const char *b = NULL;
	size_t len = 0;
	int rc = sk_json_buf(j, &b, &len, err);
	if (rc == 0) {
		*out = malloc(len + 1);
		if (*out) {
			memcpy(*out, b, len);
			(*out)[len] = '\0';
		} else {
			rc = sk_error(err, ENOMEM, "generate JSON");
		}
	}
	sk_json_free(j);
	return rc;
}
