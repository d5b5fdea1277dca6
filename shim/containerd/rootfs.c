/* The container's root file system (rootfs.h). */
#include "rootfs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

/* fstab options that are mount flags; the others are file system data. */
static const struct { const char *name; unsigned long set, clear; } flags[] = {
	{ "ro", MS_RDONLY, 0 }, { "rw", 0, MS_RDONLY }, { "bind", MS_BIND, 0 }, { "rbind", MS_BIND | MS_REC, 0 },
	{ "nosuid", MS_NOSUID, 0 }, { "suid", 0, MS_NOSUID }, { "nodev", MS_NODEV, 0 }, { "dev", 0, MS_NODEV },
	{ "noexec", MS_NOEXEC, 0 }, { "exec", 0, MS_NOEXEC }, { "relatime", MS_RELATIME, 0 },
	{ "noatime", MS_NOATIME, 0 }, { "nodiratime", MS_NODIRATIME, 0 }, { "sync", MS_SYNCHRONOUS, 0 },
	{ "async", 0, MS_SYNCHRONOUS }, { "defaults", 0, 0 },
};

static int mount_one(const char *target, const Containerd__Types__Mount *m, struct sk_err *err)
{
	unsigned long fl = 0;
	size_t cap = 1;
	for (size_t i = 0; i < m->n_options; i++)
		cap += strlen(m->options[i]) + 1;
	char *data = calloc(1, cap);
	if (!data)
		return sk_error(err, ENOMEM, "mount options");
	for (size_t i = 0; i < m->n_options; i++) {
		const char *o = m->options[i];
		size_t f = 0;
		while (f < sizeof(flags) / sizeof(flags[0]) && strcmp(flags[f].name, o))
			f++;
		if (f < sizeof(flags) / sizeof(flags[0])) {
			fl = (fl | flags[f].set) & ~flags[f].clear;
		} else {
			if (*data)
				strcat(data, ",");
			strcat(data, o);
		}
	}
	const char *type = m->type && *m->type ? m->type : "none";
	int rc = 0;
	if (mount(m->source, target, type, fl, *data ? data : NULL) < 0)
		rc = sk_error(err, errno, "mount %s (%s) on %s", m->source, type, target);
	/* A bind mount is made read-only by a remount. */
	else if ((fl & MS_BIND) && (fl & MS_RDONLY) &&
		 mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | (fl & (MS_NOSUID | MS_NODEV | MS_NOEXEC)),
		       NULL) < 0)
		rc = sk_error(err, errno, "remount %s read-only", target);
	free(data);
	return rc;
}

int ctrd_rootfs_mount(const char *bundle, Containerd__Types__Mount *const *mounts, size_t n, struct sk_err *err)
{
	char target[PATH_MAX];
	if (snprintf(target, sizeof(target), "%s/rootfs", bundle) >= (int)sizeof(target))
		return sk_error(err, ENAMETOOLONG, "rootfs of %s", bundle);
	for (size_t i = 0; i < n; i++) {
		if (mount_one(target, mounts[i], err) < 0) {
			for (size_t j = 0; j < i; j++)
				umount2(target, MNT_DETACH);
			return -1;
		}
	}
	return 0;
}

void ctrd_rootfs_unmount(const char *bundle)
{
	char target[PATH_MAX];
	if (snprintf(target, sizeof(target), "%s/rootfs", bundle) >= (int)sizeof(target))
		return;
	for (int i = 0; i < 64 && umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0; i++)
		;
}
