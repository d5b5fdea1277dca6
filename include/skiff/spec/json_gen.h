/* json_gen: a thin layer over yajl_gen for writing JSON.  The calls do not
 * return a status: the first failure is remembered and reported once by
 * sk_json_take()/sk_json_buf(), which keeps generating code linear.
 * Empty arrays and maps print as [] and {} even when indented. */
#ifndef SKIFF_JSON_GEN_H
#define SKIFF_JSON_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_gen.h>

#include "skiff/base/error.h"

struct sk_json {
	yajl_gen g;
	bool failed;
};

/* indent NULL: compact output; else pretty-printed with this indent. */
int sk_json_init(struct sk_json *j, const char *indent, struct sk_err *err);
void sk_json_free(struct sk_json *j);

void sk_json_map_open(struct sk_json *j);
void sk_json_map_close(struct sk_json *j);
void sk_json_array_open(struct sk_json *j);
void sk_json_array_close(struct sk_json *j);
void sk_json_str(struct sk_json *j, const char *s);          /* NULL -> null */
void sk_json_int(struct sk_json *j, long long v);
void sk_json_uint(struct sk_json *j, uint64_t v);
void sk_json_bool(struct sk_json *j, bool v);
void sk_json_empty_array(struct sk_json *j);
void sk_json_empty_map(struct sk_json *j);
/* An array of n strings (or of the strings up to a NULL when n is
 * SIZE_MAX). */
void sk_json_strv(struct sk_json *j, const char *const *v, size_t n);

/* "key": value shorthands for maps. */
void sk_json_kstr(struct sk_json *j, const char *key, const char *s);
void sk_json_kint(struct sk_json *j, const char *key, long long v);
void sk_json_kuint(struct sk_json *j, const char *key, uint64_t v);
void sk_json_kbool(struct sk_json *j, const char *key, bool v);

/* The text so far, owned by j (valid until sk_json_free), or -1 if any
 * call failed.  Pretty output ends with a newline, compact output not. */
int sk_json_buf(struct sk_json *j, const char **buf, size_t *len, struct sk_err *err);
/* Same, as a malloc()ed NUL-terminated copy; frees j in all cases. */
int sk_json_take(struct sk_json *j, char **out, struct sk_err *err);

#endif
