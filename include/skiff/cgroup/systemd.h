/* systemd: the systemd cgroup driver (--systemd-cgroup), runc's model.
 * The container's cgroup is a transient unit that systemd owns: create
 * starts it with StartTransientUnit (the resources as unit properties, so
 * that `systemctl daemon-reload` re-applies them), waits for the job, then
 * the cgroupfs backends write the same values and what systemd cannot
 * express; update sets the properties then the files; delete stops the
 * unit.  Everything else (pause, ps, events, exec, kill) uses the unit's
 * cgroup directories like any other.  docs/cgroups.md has the mapping.
 *
 * Two halves: unit naming and properties here are pure (tests/unit);
 * the manager calls (sdbus.c) use sd-bus from libsystemd.so.0, opened with
 * dlopen() on first use only, so the cgroupfs path never loads it. */
#ifndef SKIFF_CGROUP_SYSTEMD_H
#define SKIFF_CGROUP_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "skiff/base/error.h"
#include "skiff/spec/spec.h"

/* ---- units and slices (pure) --------------------------------------------- */

struct sk_sd_unit {
	char *id;        /* the container's, for Description */
	char *name;      /* "prefix-name.scope", or "name" when it ends in .slice */
	char *slice;     /* its parent slice: Slice= (Wants= for a slice unit) */
	char *path;      /* its cgroup below the manager's root:
			  * "/system.slice/prefix-name.scope" */
	bool user;       /* the user manager (rootless), else the system one */
};

/* linux.cgroupsPath read as runc reads it under --systemd-cgroup:
 * "slice:prefix:name", exactly three parts; NULL or "" is ":skiff:<id>".
 * An empty slice is system.slice (user.slice with user); a name ending in
 * ".slice" is the unit itself; otherwise the unit is "prefix-name.scope"
 * ("name.scope" with an empty prefix).  Unit names are checked (systemd's
 * character set, at most 255 bytes). */
int sk_sd_unit_parse(const char *cgroups_path, const char *id, bool user, struct sk_sd_unit *u, struct sk_err *err);
void sk_sd_unit_free(struct sk_sd_unit *u);

/* A slice to its cgroup path, each '-' one level: "a-b-c.slice" is
 * "/a.slice/a-b.slice/a-b-c.slice", "-.slice" is "/".  Empty components
 * ("a--b.slice", "-a.slice", "a-.slice") and '/' are refused.  *out is
 * malloc()ed. */
int sk_sd_slice_expand(const char *slice, char **out, struct sk_err *err);

/* ---- unit properties (pure) ---------------------------------------------- */

enum sk_sd_type {
	SK_SD_BOOL, SK_SD_STR, SK_SD_U64, SK_SD_U32, SK_SD_I32, SK_SD_I64, SK_SD_STRV, SK_SD_BYTES,
	SK_SD_DEVICES,   /* a(ss): strv holds path, access pairs */
	SK_SD_PIDS,      /* au */
};

struct sk_sd_prop {
	char *name;
	enum sk_sd_type type;
	uint64_t num;            /* BOOL, U64, U32, I32 and I64 (as bits), PIDS (one pid) */
	char *str;               /* STR */
	char **strv; size_t n;   /* STRV; DEVICES (n = 2 x the entries) */
	unsigned char *bytes;    /* BYTES (n bytes) */
};

struct sk_sd_props { struct sk_sd_prop *p; size_t n, cap; };

/* The resources as unit properties, for the layout (v2: cgroup2 serves
 * the controllers; else v1's names): memory (MemoryMax, MemoryLow,
 * MemorySwapMax; v1 MemoryLimit), cpu (CPUWeight, v1 CPUShares,
 * CPUQuotaPerSecUSec, CPUQuotaPeriodUSec), cpuset (AllowedCPUs,
 * AllowedMemoryNodes), pids (TasksMax), io (IOWeight, v1 BlockIOWeight)
 * and devices (DevicePolicy=strict, DeviceAllow emptied then the allow
 * rules and the always-allowed devices).  with_devices is false on update,
 * which leaves device rules as they are.  Appended to p. */
int sk_sd_props_resources(const struct sk_resources *res, bool v2, bool with_devices, struct sk_sd_props *p,
			  struct sk_err *err);

/* The org.systemd.property.NAME=VALUE annotations (GVariant text: true,
 * false, 'str', "str", uint64 N, uint32 N, int64 N, int32 N, N, ['a', 'b']);
 * a NAME ending in "Sec" becomes NAME's USec form with the value times
 * 10^6, as runc.  A value that does not parse is refused naming it. */
int sk_sd_props_annotations(const struct sk_kv *ann, size_t n, struct sk_sd_props *p, struct sk_err *err);

/* What StartTransientUnit gets besides those: Description, Slice (or
 * Wants for a slice unit), Delegate (scopes), PIDs [pid],
 * {Memory,CPU,IO,Tasks}Accounting, DefaultDependencies=false. */
int sk_sd_props_unit(const struct sk_sd_unit *u, pid_t pid, struct sk_sd_props *p, struct sk_err *err);

void sk_sd_props_free(struct sk_sd_props *p);

/* ---- the manager (sdbus.c) ------------------------------------------------ */

/* Whether systemd runs the system (sd_booted(3): /run/systemd/system is a
 * directory); refused with a line naming the driver otherwise.  For
 * user, also that a user bus address can be found. */
int sk_sd_check(bool user, struct sk_err *err);

/* The manager's own cgroup (its ControlGroup property, malloc()ed):
 * where a user manager's units live, "/user.slice/user-UID.slice/
 * user@UID.service" on a systemd host. */
int sk_sd_manager_cgroup(bool user, char **out, struct sk_err *err);

/* StartTransientUnit(u->name, "replace", props) and wait (30 s at most)
 * for its job to end "done".  A failed unit of that name left over is
 * reset and the start tried once more.  On failure the unit is reset, so
 * that nothing stays in list-units. */
int sk_sd_start(const struct sk_sd_unit *u, const struct sk_sd_props *props, struct sk_err *err);

/* SetUnitProperties(name, runtime=true, props). */
int sk_sd_set(const char *name, bool user, const struct sk_sd_props *props, struct sk_err *err);

/* AttachProcessesToUnit(name, "", [pid]): the manager moves pid into the
 * unit's cgroup (a user manager that may not asks the system one). */
int sk_sd_attach(const char *name, bool user, pid_t pid, struct sk_err *err);

/* StopUnit(name, "replace"), wait for the job (30 s at most), then
 * ResetFailedUnit.  A unit already gone is not an error. */
int sk_sd_stop(const char *name, bool user, struct sk_err *err);

#endif
