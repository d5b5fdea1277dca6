/* spec_parse: what the files of the spec module share, and nothing outside
 * them includes.  The module reads config.json (spec.h) in layers, each
 * file using only those below it (no file calls back up):
 *     spec.c            entry points, the top level (root, mounts, hooks,
 *                       annotations), cross-section rules, release
 *     spec_process.c    process
 *     spec_linux.c      linux (namespaces, devices, seccomp, ...)
 *     spec_resources.c  linux.resources
 *     spec_mempolicy.c  linux.memoryPolicy
 *     spec_netdev.c     linux.netDevices
 *     spec_intelrdt.c   linux.intelRdt
 *     spec_values.c     value syntaxes and shapes several sections share
 *     spec_names.c      the tables of symbolic names
 *     json.h            the JSON tree and its typed getters
 * Section readers are sk_jparse_fn: they fill their struct from a JSON
 * value, report the first problem through the walk (json.h), and leave
 * what they allocated in the struct for its release function even when
 * they fail. */
#ifndef SKIFF_SPEC_PARSE_H
#define SKIFF_SPEC_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "skiff/spec/json.h"
#include "skiff/spec/spec.h"

/* ---- spec_names.c: name -> value (or the name's place in its list), -1
 * when unknown ---- */
sk_jlookup_fn sk_spec_ns_type, sk_spec_sched_policy, sk_spec_sched_flag, sk_spec_ioprio_class;
sk_jlookup_fn sk_spec_seccomp_action, sk_spec_seccomp_arch, sk_spec_seccomp_flag, sk_spec_seccomp_op;
sk_jlookup_fn sk_spec_propagation, sk_spec_personality_domain;
/* "bounding", "effective", ... */
const char *sk_spec_cap_set_name(enum sk_cap_set s);

/* ---- spec_values.c ---- */
/* Highest CPU number in a CPU list: runc's sanity limit, so that a bogus
 * list cannot make the consumer allocate a huge mask. */
#define SK_SPEC_MAX_CPU 65536
/* 1.MINOR.PATCH[-pre][+build]: a semantic version of the spec's major 1. */
bool sk_spec_oci_version_ok(const char *s);
/* A CPU list as runc reads it: "0-3,7". */
bool sk_spec_cpu_list_ok(const char *s);
/* A hugetlb page size as in the cgroup file names: "2MB". */
bool sk_spec_page_size_ok(const char *s);
/* Names written into cgroup files as "<name> <value>": one word. */
int sk_spec_check_word(struct sk_jwalk *c, const char *s);
/* A unified key names a file in the cgroup directory: "memory.high". */
int sk_spec_check_unified_key(struct sk_jwalk *c, const char *key);
/* A one-letter device type from allowed at o's "type".  For cgroup rules
 * (not required) "" means all, as for runc. */
int sk_spec_get_dev_type(struct sk_jwalk *c, const struct sk_jv *o, bool required, const char *allowed, char *out);
/* An object of strings; check_key, when given, judges each key. */
int sk_spec_get_kv(struct sk_jwalk *c, const struct sk_jv *o, const char *key, struct sk_kv **out, size_t *n,
		   int (*check_key)(struct sk_jwalk *, const char *));
sk_jparse_fn sk_spec_read_idmap;              /* struct sk_idmap */
void sk_spec_free_strv(char **v, size_t n);
void sk_spec_free_kv(struct sk_kv *kv, size_t n);

/* ---- the sections ---- */
sk_jparse_fn sk_spec_read_process;            /* struct sk_process */
sk_jparse_fn sk_spec_read_linux;              /* struct sk_linux */
sk_jparse_fn sk_spec_read_resources;          /* struct sk_resources */
sk_jparse_fn sk_spec_read_memory_policy;      /* struct sk_memory_policy */
sk_jparse_fn sk_spec_read_intel_rdt;          /* struct sk_intel_rdt */
/* linux.netDevices (an object) into l->net_devices. */
int sk_spec_read_net_devices(struct sk_jwalk *c, const struct sk_jv *o, struct sk_linux *l);
/* memoryPolicy's names (spec_mempolicy.c), as sk_jlookup_fn. */
sk_jlookup_fn sk_spec_mpol_mode, sk_spec_mpol_flag;
void sk_spec_free_linux(struct sk_linux *l);
void sk_spec_free_resources(struct sk_resources *r);
/* A field that only makes sense with a namespace of type t in l: "<key>:
 * requires <what> namespace in linux.namespaces". */
int sk_spec_need_ns(struct sk_jwalk *c, const struct sk_linux *l, bool used, const char *key, enum sk_ns_type t,
		    const char *what);

#endif
