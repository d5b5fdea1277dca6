/* update: the library side of `skiff update`, runc's semantics.
 * The new resources come either from runc's flags (sk_update_from_flags)
 * or from a runtime-spec LinuxResources object (sk_update_load/parse,
 * validated by the config.json parser), and sk_update_apply writes them
 * into the cgroup of a created, running or paused container.
 *
 * As in runc, what is absent or 0 is left as it is (memory limit,
 * reservation and swap, cpu shares, quota and period, pids limit, blkio
 * weight); -1 means "no limit".  Values that depend on each other are
 * completed from the cgroup's current files, which are the record of the
 * resources (nothing is saved in the state directory): a quota alone keeps
 * the period of cpu.max, a period alone its quota, a memory+swap alone the
 * limit of memory.max.  Device rules and a zero memory.kernel/kernelTCP (in
 * runc's template) are ignored, as runc ignores them; everything else is
 * checked as for create (docs/cgroups.md).  docs/cgroup-commands.md. */
#ifndef SKIFF_UPDATE_H
#define SKIFF_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "skiff/base/error.h"
#include "skiff/spec/spec.h"

/* runc's flags as given (NULL or "" = not given). */
struct sk_update_flags {
	const char *memory, *memory_reservation, *memory_swap;   /* sizes or -1 */
	const char *cpu_shares, *cpu_period, *cpu_burst, *cpu_rt_period;   /* unsigned */
	const char *cpu_quota, *cpu_rt_runtime, *cpu_idle;       /* signed */
	const char *cpuset_cpus, *cpuset_mems;                  /* "0-3,6" */
	const char *pids_limit;      /* Go int syntax (0x.., 0..), -1 = max */
	const char *blkio_weight;    /* 10..1000 */
};

/* docker/go-units RAMInBytes, which runc's memory flags use: a decimal
 * number (fraction allowed), an optional space, then an optional binary
 * unit k, m, g, t or p (any case) optionally followed by "i" and/or "b":
 * "512m", "1.5G", "64KiB", "4096".  -1 with err filled when s is not such
 * a size or exceeds INT64_MAX. */
int sk_ram_in_bytes(const char *s, int64_t *out, struct sk_err *err);

/* The resources the flags ask for; err names the flag and value.  res is
 * filled from zero; release it with sk_update_free. */
int sk_update_from_flags(const struct sk_update_flags *f, struct sk_resources *res, struct sk_err *err);

/* A LinuxResources JSON object (strict JSON, one object, at most
 * SK_SPEC_MAX_BYTES), validated as linux.resources of a config.json: errors
 * are "<name>: line L, column C: ..." or "<name>: linux.resources.X: ...". */
int sk_update_parse(const char *name, const char *buf, size_t len, struct sk_resources *res, struct sk_err *err);

/* sk_update_parse of the file at path, or of stdin for "-". */
int sk_update_load(const char *path, struct sk_resources *res, struct sk_err *err);

void sk_update_free(struct sk_resources *res);

/* Apply res to container id under root, holding its lock: refused unless
 * the container is created, running or paused.  res is completed in place
 * (see above) before it is written with sk_cgroup_apply(update = true). */
int sk_update_apply(const char *root, const char *id, struct sk_resources *res, struct sk_err *err);

#endif
