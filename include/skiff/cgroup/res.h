/* cgroup_res: linux.resources checked against the hierarchies that will
 * serve them, and the conversions between the spec's (v1) units and cgroup
 * v2's; pure functions, internal to the cgroup module (tested by
 * tests/unit/test_cgroup.c).  A field no serving backend can enforce is an
 * error naming it, found before anything is created. */
#ifndef SKIFF_CGROUP_RES_H
#define SKIFF_CGROUP_RES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/cgroup/cgroup.h"
#include "skiff/base/error.h"
#include "skiff/spec/spec.h"

/* What a set of resources needs: a bit (1u << ctrl) per controller and,
 * for messages, the JSON path of the first field needing it (why_key set:
 * it is linux.resources.unified[why_key]). */
struct sk_cgroup_needs {
	unsigned mask;
	const char *why[SK_CG_NCTRL];
	const char *why_key[SK_CG_NCTRL];
};

/* Check res (may be NULL) and fill needs.  v1 holds the controllers a v1
 * hierarchy serves, the others are cgroup2's when v2 (a cgroup2 hierarchy
 * exists): fields only v1 has a file for (memory.swappiness,
 * cpu.realtimeRuntime, network...) are refused for a controller served by
 * cgroup2, as are unified keys for one served by v1 and, without cgroup2,
 * every unified key.  Values that can never be written are refused. */
int sk_cgroup_needs(const struct sk_resources *res, unsigned v1, bool v2, struct sk_cgroup_needs *needs,
		    struct sk_err *err);

/* cpu.shares (cgroup v1, 2..262144) to cpu.weight (1..10000), the mapping
 * runc and crun use: 1024 (the v1 default) gives 100 (the v2 default).
 * 0 means unset and gives 0. */
uint64_t sk_cgroup_shares_to_weight(uint64_t shares);

/* blkio weight (10..1000) to io.weight (1..10000): 1 + (w - 10) * 9999 / 990. */
uint64_t sk_cgroup_blkio_to_io_weight(uint16_t weight);

/* memory.swap.max from the spec's memory+swap "swap" and "limit" (absent =
 * 0, as runc).  Returns 1 with *out set (-1 = "max"), 0 when there is
 * nothing to write, -1 on a combination that has no meaning (for v1's
 * memsw too: it must not be below the limit). */
int sk_cgroup_swap_max(int64_t swap, int64_t limit, int64_t *out, struct sk_err *err);

/* The cpu.max line for quota/period ("max 100000", "50000 100000"), or ""
 * when neither is set.  buf must hold 48 bytes. */
void sk_cgroup_cpu_max(const struct sk_resources *res, char *buf, size_t size);

/* A linux.resources.unified key must be a plain file name ("memory.high"):
 * no '/', not starting with '.', not one of the files skiff owns
 * (cgroup.procs, cgroup.threads, cgroup.subtree_control, cgroup.type,
 * cgroup.freeze, cgroup.kill).  *ctrl gets its controller, or -1 for a
 * "cgroup." key, which needs none. */
int sk_cgroup_unified_key(const char *key, int *ctrl, struct sk_err *err);

#endif
