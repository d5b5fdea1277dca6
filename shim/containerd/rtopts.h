/* rtopts: the runtime behind a task, from Create's options (an Any):
 *   containerd.runc.v1.Options   the runc shim's: BinaryName, Root,
 *                                SystemdCgroup, CriuPath, CriuWorkPath
 *                                (ctr with io.containerd.runc.v2's flags,
 *                                a CRI runtime_type io.containerd.runc.v2
 *                                whose runtime_path is this shim);
 *   runtimeoptions.v1.Options    its config_path names a file of the same
 *                                settings (ctr --runtime-config-path, a
 *                                CRI runtime's options.ConfigPath for any
 *                                other runtime_type);
 *   anything else, or none       the defaults (skiff; manage.h).
 * The file is a subset of TOML: top-level `Key = value` lines, a value a
 * "basic" or 'literal' string or true/false, # comments; the keys are the
 * Options' names as containerd's TOML spells them (BinaryName) or as the
 * .proto does (binary_name); other keys are ignored, and so is everything
 * from the first [table] on. */
#ifndef SKIFF_SHIM_CONTAINERD_RTOPTS_H
#define SKIFF_SHIM_CONTAINERD_RTOPTS_H

#include <stdbool.h>

#include "google/protobuf/any.pb-c.h"
#include "proc.h"
#include "skiff/base/error.h"

/* Whether opt is an Any of type: its type_url is the message's full name,
 * or ends with "/" and the name. */
bool ctrd_any_is(const Google__Protobuf__Any *opt, const char *type);

/* Largest settings file read. */
#define CTRD_RTOPTS_FILE_MAX 65536

/* Set t->rt (a binary named without '/' looked up in PATH), t->criu_path
 * and t->criu_work_path from opt (may be NULL) for namespace ns. */
int ctrd_rtopts_apply(struct ctrd_task *t, const Google__Protobuf__Any *opt, const char *ns, struct sk_err *err);

/* Parse a settings file's text (NUL-terminated, modified) into o; the
 * strings point into text.  Exposed for the unit tests. */
struct ctrd_rtopts {
	const char *binary, *root, *criu_path, *criu_work_path;
	int systemd_cgroup;          /* -1: not set */
};
int ctrd_rtopts_parse(char *text, struct ctrd_rtopts *o, struct sk_err *err);

#endif
