/* cgroup_unit: the container's cgroup as a systemd unit, internal to the
 * cgroup module (cgroup.h sk_cgroup_plan_unit, sk_cgroup_set_unit): the
 * unit started around a holder process, its properties set on update, the
 * unit stopped on destroy. */
#ifndef SKIFF_CGROUP_UNIT_H
#define SKIFF_CGROUP_UNIT_H

#include "skiff/cgroup/cgroup.h"

/* The unit's cgroup path below the cgroup2 mount, malloc()ed in *path:
 * sd->path for the system manager; for the user manager (rootless) its
 * own cgroup (ControlGroup) + sd->path, on cgroup v2 only, and refused
 * when res needs a controller the manager was not delegated. */
int sk_cgroup_unit_path(const struct sk_sd_unit *sd, const struct sk_resources *res, char **path,
			struct sk_err *err);

/* Fork the holder, StartTransientUnit with it, its resources and
 * annotations, wait for the job, check the holder is in the planned
 * cgroup.  On failure nothing is left: the holder is gone, the unit
 * stopped. */
int sk_cgroup_unit_start(const struct sk_spec *spec, struct sk_cgroup *cg, struct sk_err *err);

/* End the holder (once the init is in the unit), if there is one. */
void sk_cgroup_unit_release(struct sk_cgroup *cg);

/* Stop the unit: _err reports, the other logs a failure. */
int sk_cgroup_unit_stop_err(struct sk_cgroup *cg, struct sk_err *err);
void sk_cgroup_unit_stop(struct sk_cgroup *cg);

/* SetUnitProperties with the resources r (update). */
int sk_cgroup_unit_set(const struct sk_cgroup *cg, const struct sk_resources *r, struct sk_err *err);

#endif
