/* json: the reader of the JSON documents skiff is given (config.json, exec
 * --process), internal to the library; json_gen.h writes JSON.
 *  - sk_jdoc_parse() turns a buffer into a tree of struct sk_jv, strict
 *    JSON only (UTF-8 checked, no NUL in strings, no comments, one value),
 *    with at most SK_JSON_MAX_DEPTH levels and SK_JSON_MAX_VALUES values;
 *    a syntax error is one line: "<name>: line L, column C: <problem>".
 *    Numbers keep their text; of an object's members with the same key only
 *    the last is kept (Go's encoding/json, so runc).
 *  - struct sk_jwalk walks a tree while keeping the JSON path of where it
 *    is ("process.rlimits[2].type"); the typed getters check each value and
 *    report the first problem as "<name>: <path>: <problem>".  A null
 *    member counts as absent.  Getters return 0 or -1 (walk->err filled);
 *    on an error the path is left pointing at the faulty value.
 * Strings the getters return are malloc()ed copies; the tree itself lives
 * in one arena that sk_jdoc_free() releases at once. */
#ifndef SKIFF_JSON_H
#define SKIFF_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/base/error.h"

#define SK_JSON_MAX_DEPTH 64
#define SK_JSON_MAX_VALUES 1048576u

enum sk_jtype { SK_JNULL, SK_JBOOL, SK_JNUM, SK_JSTR, SK_JOBJ, SK_JARR };

/* A JSON value.  An object's items carry their keys. */
struct sk_jv {
	enum sk_jtype type;
	bool b;
	size_t n;                       /* items of an array or object */
	union {
		const char *s;          /* string, or a number's text */
		const struct sk_jv *items;
	} u;
	const char *key;                /* member name inside an object */
};

struct sk_jchunk;

struct sk_jdoc {
	struct sk_jchunk *arena;
	const struct sk_jv *root;
};

/* Parse buf (len bytes, need not be NUL-terminated) into doc; name is the
 * document's name in messages.  On error doc is empty. */
int sk_jdoc_parse(const char *name, const char *buf, size_t len, struct sk_jdoc *doc, struct sk_err *err);
void sk_jdoc_free(struct sk_jdoc *doc);

/* ---- walking a tree ---- */

struct sk_jwalk {
	const char *name;               /* the document's, for messages */
	struct sk_err *err;
	size_t len;
	char path[256];
};

/* Enter a member, an array index or a map key ("[\"k\"]") in the path;
 * each returns the mark that sk_jleave() goes back to. */
size_t sk_jenter_key(struct sk_jwalk *c, const char *key);
size_t sk_jenter_index(struct sk_jwalk *c, size_t i);
size_t sk_jenter_map_key(struct sk_jwalk *c, const char *key);
void sk_jleave(struct sk_jwalk *c, size_t mark);

/* "<name>: <path>: <message>" (no path at the top).  Returns -1. */
int sk_jfail(struct sk_jwalk *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sk_joom(struct sk_jwalk *c);

/* s in quotes for a message: control characters as '?', cut after 64
 * bytes (at a character boundary) with "...". */
#define SK_JQUOTE_MAX 72
const char *sk_jquote(char buf[SK_JQUOTE_MAX], const char *s);

/* The member key of object o, or NULL when absent or null. */
const struct sk_jv *sk_jmember(const struct sk_jv *o, const char *key);
/* The same, with key entered in the path. */
const struct sk_jv *sk_jenter(struct sk_jwalk *c, const struct sk_jv *o, const char *key, size_t *mark);

/* For an absent field: has == NULL means the field is required ("is
 * required"); else *has = false. */
int sk_jabsent(struct sk_jwalk *c, bool *has);
int sk_jwant_obj(struct sk_jwalk *c, const struct sk_jv *v);
int sk_jdup(struct sk_jwalk *c, const char *s, char **out);
/* An integer: no fraction, no exponent (1.0 and 1e3 are not). */
bool sk_jis_int(const struct sk_jv *v);

/* Typed values.  *out is written only on success. */
int sk_jto_str(struct sk_jwalk *c, const struct sk_jv *v, char **out);
int sk_jto_path(struct sk_jwalk *c, const struct sk_jv *v, char **out);   /* absolute */
int sk_jto_bool(struct sk_jwalk *c, const struct sk_jv *v, bool *out);
int sk_jto_i64(struct sk_jwalk *c, const struct sk_jv *v, int64_t lo, int64_t hi, int64_t *out);
int sk_jto_u64(struct sk_jwalk *c, const struct sk_jv *v, uint64_t hi, uint64_t *out);

/* Members of object o.  has: as for sk_jabsent(), set true when present. */
int sk_jget_bool(struct sk_jwalk *c, const struct sk_jv *o, const char *key, bool *has, bool *out);
int sk_jget_i64(struct sk_jwalk *c, const struct sk_jv *o, const char *key, int64_t lo, int64_t hi, bool *has,
		int64_t *out);
int sk_jget_u64(struct sk_jwalk *c, const struct sk_jv *o, const char *key, uint64_t hi, bool *has, uint64_t *out);
int sk_jget_int(struct sk_jwalk *c, const struct sk_jv *o, const char *key, int lo, int hi, bool *has, int *out);
int sk_jget_u32(struct sk_jwalk *c, const struct sk_jv *o, const char *key, uint32_t hi, bool *has, uint32_t *out);
/* A string (left NULL when absent and not required). */
int sk_jget_str(struct sk_jwalk *c, const struct sk_jv *o, const char *key, bool required, char **out);
int sk_jget_path(struct sk_jwalk *c, const struct sk_jv *o, const char *key, bool required, char **out);

/* The value of a name, or -1 when it is unknown. */
typedef int sk_jlookup_fn(const char *name);

/* A string that lookup knows ("unknown <what> \"x\"" otherwise): its value
 * in *val when val is not NULL, the string in *str when str is not NULL. */
int sk_jto_named(struct sk_jwalk *c, const struct sk_jv *v, sk_jlookup_fn *lookup, const char *what, int *val,
		 char **str);
int sk_jget_named(struct sk_jwalk *c, const struct sk_jv *o, const char *key, bool required, sk_jlookup_fn *lookup,
		  const char *what, int *val, char **str);
/* An array of names, each resolved by lookup, ORed into *mask: as bit
 * numbers when shift, else as masks themselves. */
int sk_jto_flags(struct sk_jwalk *c, const struct sk_jv *v, sk_jlookup_fn *lookup, const char *what, bool shift,
		 uint64_t *mask);

/* Parses one value into out. */
typedef int sk_jparse_fn(struct sk_jwalk *c, const struct sk_jv *v, void *out);

/* An array whose items fn parses into a calloc()ed array of size-byte
 * elements; arr points to the T * field that receives it, n to its count.
 * The array is stored before its items are parsed, so that the caller's
 * release frees it after a failure too.  Absent: nothing stored. */
int sk_jto_list(struct sk_jwalk *c, const struct sk_jv *v, size_t size, void *arr, size_t *n, sk_jparse_fn *fn);
int sk_jget_list(struct sk_jwalk *c, const struct sk_jv *o, const char *key, size_t size, void *arr, size_t *n,
		 sk_jparse_fn *fn);
/* An object (any value fn takes) parsed by fn into out; has as for
 * sk_jabsent(). */
int sk_jget_obj(struct sk_jwalk *c, const struct sk_jv *o, const char *key, bool *has, sk_jparse_fn *fn, void *out);
/* Arrays of strings: any length, or at least one ("must be a non-empty
 * array of strings"). */
int sk_jget_strv(struct sk_jwalk *c, const struct sk_jv *o, const char *key, char ***arr, size_t *n);
int sk_jget_nonempty_strv(struct sk_jwalk *c, const struct sk_jv *o, const char *key, char ***arr, size_t *n);
/* Item parsers for sk_jto_list: a string, an absolute path. */
int sk_jitem_str(struct sk_jwalk *c, const struct sk_jv *v, void *out);
int sk_jitem_path(struct sk_jwalk *c, const struct sk_jv *v, void *out);

#endif
