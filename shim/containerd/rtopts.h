/* rtopts: the runtime a task runs, from the options containerd sends with
 * Create (a protobuf Any):
 * - containerd.runc.v1.Options (the runc runtime types, ctr's --runc-*):
 *   binary_name, root, systemd_cgroup;
 * - runtimeoptions.v1.Options (every other runtime type, such as
 *   io.containerd.skiff.v2 named by a CRI handler): the same three as
 *   `Key = value` lines, BinaryName = "PATH", Root = "DIR", SystemdCgroup =
 *   true|false (TOML's syntax for them; # comments), from the file
 *   config_path names (containerd 1.6: the handler's ConfigPath option;
 *   ctr's --runtime-config-path), else from config_body (containerd 1.7+:
 *   the handler's options themselves).  Any other key is refused, naming it.
 * No options, or another type: the defaults (all unset). */
#ifndef SKIFF_SHIM_CONTAINERD_RTOPTS_H
#define SKIFF_SHIM_CONTAINERD_RTOPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "google/protobuf/any.pb-c.h"
#include "skiff/base/error.h"

struct ctrd_rtopts {
	char *binary, *root;         /* NULL or "": unset */
	bool systemd_cgroup;
};

int ctrd_rtopts_parse(const Google__Protobuf__Any *any, struct ctrd_rtopts *o, struct sk_err *err);
/* The `Key = value` lines of text (len bytes), for messages named name. */
int ctrd_rtopts_lines(const char *text, size_t len, const char *name, struct ctrd_rtopts *o, struct sk_err *err);
void ctrd_rtopts_free(struct ctrd_rtopts *o);

#endif
