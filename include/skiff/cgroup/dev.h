/* cgroup_dev: linux.resources.devices for both backends, internal to the
 * cgroup module.  Semantics (docs/cgroups.md "Devices"): deny by default,
 * the rules in config order, then the always-allowed list of runc and crun
 * (mknod of any device, /dev/null, zero, full, random, urandom, tty, ptmx,
 * the pts devices, net/tun).
 *  - cgroup2: a BPF_PROG_TYPE_CGROUP_DEVICE program, hand-assembled (no
 *    libbpf) and attached with raw bpf(2); for each access bit (r, w, m)
 *    the last rule that matches the device and includes it decides.
 *  - v1: "a" to devices.deny, then one line per rule to devices.allow or
 *    devices.deny.  The kernel keeps a list of exceptions and removes only
 *    exact matches, so a rule that would punch a hole in an earlier
 *    wildcard rule (allow c 1:* then deny c 1:3) cannot be expressed: it
 *    is refused, naming it, as runc refuses it. */
#ifndef SKIFF_CGROUP_DEV_H
#define SKIFF_CGROUP_DEV_H

#include <stdbool.h>
#include <stddef.h>

#include "skiff/base/error.h"
#include "skiff/spec/spec.h"

struct bpf_insn;

struct sk_bpf_prog { struct bpf_insn *insns; size_t n; };

/* Build the program for rules.  out->insns is malloc()ed. */
int sk_cgroup_dev_build(const struct sk_device_rule *rules, size_t n_rules, struct sk_bpf_prog *out,
			struct sk_err *err);
void sk_cgroup_dev_free(struct sk_bpf_prog *prog);

/* Load prog and attach it to the cgroup dir_fd (BPF_F_ALLOW_MULTI).  With
 * replace, device programs already attached there are swapped out
 * (BPF_F_REPLACE when there is one, else attach then detach the old). */
int sk_cgroup_dev_install(int dir_fd, const char *path, const struct sk_bpf_prog *prog, bool replace,
			  struct sk_err *err);

/* The v1 lines for rules, in order: each "allow <rule>" or "deny <rule>"
 * ("deny a" first), given to out (which writes them); refused before
 * anything is emitted when a rule cannot be expressed. */
typedef int sk_cgroup_dev_emit_fn(void *ctx, bool allow, const char *line, struct sk_err *err);
int sk_cgroup_dev_v1(const struct sk_device_rule *rules, size_t n_rules, sk_cgroup_dev_emit_fn *out, void *ctx,
		     struct sk_err *err);

#endif
