/* resctrl: linux.intelRdt (runtime-spec 1.3) on the resctrl filesystem.
 *
 *   sk_resctrl_find()    its mount point from a mountinfo file (NULL: ours);
 *                        none is "linux.intelRdt: resctrl is not mounted"
 *   sk_resctrl_paths()   the group (CTRL_MON) directory: the root for closID
 *                        "/", root/closID, or root/<id> without closID; and
 *                        its mon_groups/<id> with enableMonitoring.  remove
 *                        says which of them the container owns (delete
 *                        removes them): the group when closID is absent,
 *                        the monitoring group always.
 *   sk_resctrl_apply()   with schemata lines (l3CacheSchema, memBwSchema,
 *                        then schemata[], in that order): an existing closID
 *                        group must already hold them (compared without
 *                        blanks), else the group is made and they are
 *                        written; without them a closID group must exist.
 *                        Then pid joins the group's tasks, and the
 *                        monitoring group (made here) when asked.
 *   sk_resctrl_remove()  rmdir of what the container owns; gone is fine.
 *
 * Errors name the field: "linux.intelRdt.closID: group \"g\" ...". */
#ifndef SKIFF_RESCTRL_H
#define SKIFF_RESCTRL_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "skiff/base/error.h"
#include "skiff/spec/spec.h"

struct sk_resctrl {
	char group[PATH_MAX];
	char mon[PATH_MAX];          /* "" without enableMonitoring */
	bool own_group;              /* made by and for the container */
};

int sk_resctrl_find(const char *mountinfo, char *root, size_t cap, struct sk_err *err);
int sk_resctrl_paths(const char *root, const struct sk_intel_rdt *r, const char *id, struct sk_resctrl *out,
		     struct sk_err *err);
int sk_resctrl_apply(const struct sk_resctrl *g, const struct sk_intel_rdt *r, pid_t pid, struct sk_err *err);
/* group and mon as sk_resctrl_paths() gave them and the state kept
 * (NULL or "": nothing to remove). */
int sk_resctrl_remove(const char *group, const char *mon, struct sk_err *err);

#endif
