/* ns: the init's namespaces: the plan of what clone3() creates and what is
 * joined by path, the joining, the id maps and time offsets (ns.h). */
#include "skiff/plan/ns.h"

#include "skiff/base/rootless.h"
#include "skiff/plan/idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/nsfs.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int sk_ns_flag(enum sk_ns_type t)
{
	static const int flags[SK_NS_NTYPES] = {
		[SK_NS_PID] = CLONE_NEWPID, [SK_NS_NET] = CLONE_NEWNET, [SK_NS_MNT] = CLONE_NEWNS,
		[SK_NS_IPC] = CLONE_NEWIPC, [SK_NS_UTS] = CLONE_NEWUTS, [SK_NS_USER] = CLONE_NEWUSER,
		[SK_NS_CGROUP] = CLONE_NEWCGROUP, [SK_NS_TIME] = CLONE_NEWTIME,
	};
	return flags[t];
}

static const char *type_name_of_flag(int flag)
{
	for (int t = 0; t < SK_NS_NTYPES; t++)
		if (sk_ns_flag(t) == flag)
			return sk_ns_type_name(t);
	return "unknown";
}

static int format_map(char *out, size_t cap, const struct sk_idmap *m, size_t n, const char *what, struct sk_err *err)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + o, cap - o, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
		if (w < 0 || (size_t)w >= cap - o)
			return sk_error(err, E2BIG, "linux.%s: too many mappings", what);
		o += (size_t)w;
	}
	return 0;
}

void sk_ns_plan_close(struct sk_ns_plan *p)
{
	for (int t = 0; t < SK_NS_NTYPES; t++) {
		if (p->join_fd[t] >= 0)
			close(p->join_fd[t]);
		p->join_fd[t] = -1;
	}
}

int sk_ns_plan_build(const struct sk_spec *spec, struct sk_ns_plan *p, struct sk_err *err)
{
	memset(p, 0, sizeof(*p));
	for (int t = 0; t < SK_NS_NTYPES; t++)
		p->join_fd[t] = -1;
	const struct sk_linux *l = &spec->linux_;
	unsigned long new_flags = 0;
	bool joins_other = false;
	for (size_t i = 0; i < l->n_namespaces; i++) {
		const struct sk_namespace *ns = &l->namespaces[i];
		if (!ns->path) {
			new_flags |= (unsigned long)sk_ns_flag(ns->type);
			continue;
		}
		int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			sk_error(err, errno, "linux.namespaces[%zu].path: open \"%s\"", i, ns->path);
			goto fail;
		}
		int type = ioctl(fd, NS_GET_NSTYPE);
		if (type != sk_ns_flag(ns->type)) {
			int e = errno;
			close(fd);
			if (type < 0 && e == ENOTTY)
				sk_error(err, 0, "linux.namespaces[%zu].path: \"%s\" is not a namespace", i, ns->path);
			else if (type < 0)
				sk_error(err, e, "linux.namespaces[%zu].path: \"%s\": NS_GET_NSTYPE", i, ns->path);
			else
				sk_error(err, 0, "linux.namespaces[%zu].path: \"%s\" is a %s namespace, not %s", i,
					 ns->path, type_name_of_flag(type), sk_ns_type_name(ns->type));
			goto fail;
		}
		p->join_fd[ns->type] = fd;
		if (ns->type != SK_NS_PID)
			joins_other = true;
	}
	p->userns_new = new_flags & CLONE_NEWUSER;
	p->userns = p->userns_new || p->join_fd[SK_NS_USER] >= 0;
	p->mounts_in_userns = p->userns || sk_rootless_in_userns();
	p->netns_new = new_flags & CLONE_NEWNET;
	p->cgroupns_new = new_flags & CLONE_NEWCGROUP;
	p->mntns_new = new_flags & CLONE_NEWNS;
	p->utsns = (new_flags & CLONE_NEWUTS) || p->join_fd[SK_NS_UTS] >= 0;
	p->ipcns = (new_flags & CLONE_NEWIPC) || p->join_fd[SK_NS_IPC] >= 0;
	/* cgroup: after the child is in its cgroup; time: offsets first. */
	unsigned long late = new_flags & (CLONE_NEWCGROUP | CLONE_NEWTIME);
	/* A process enters a new time namespace when it forks, and when it
	 * execs only since Linux 6.2: the init must be forked after it. */
	if (!joins_other && !(new_flags & CLONE_NEWTIME)) {
		p->clone_flags = new_flags & ~late;
		p->unshare_flags = late;
	} else {
		p->child_joins = true;
		p->unshare_flags = new_flags;
		p->second_fork = new_flags & (CLONE_NEWPID | CLONE_NEWTIME);
	}
	if (p->userns_new) {
		if (format_map(p->uid_map, sizeof(p->uid_map), l->uid_mappings, l->n_uid_mappings, "uidMappings", err) < 0 ||
		    format_map(p->gid_map, sizeof(p->gid_map), l->gid_mappings, l->n_gid_mappings, "gidMappings", err) < 0)
			goto fail;
	}
	if (new_flags & CLONE_NEWTIME) {
		const struct sk_time_offset *mo = &l->time_offsets[0], *bo = &l->time_offsets[1];
		int w = 0;
		if (mo->present)
			w = snprintf(p->timens_offsets, sizeof(p->timens_offsets), "monotonic %lld %u\n",
				     (long long)mo->secs, mo->nanosecs);
		if (bo->present)
			snprintf(p->timens_offsets + w, sizeof(p->timens_offsets) - (size_t)w, "boottime %lld %u\n",
				 (long long)bo->secs, bo->nanosecs);
	}
	return 0;
fail:
	sk_ns_plan_close(p);
	return -1;
}

int sk_ns_write_maps(const struct sk_ns_plan *p, pid_t pid, struct sk_err *err)
{
	return sk_idmap_write(pid, p->uid_map, p->gid_map, geteuid() == 0, err);
}

int sk_ns_enter_pid(const struct sk_ns_plan *p, int *saved_fd, struct sk_err *err)
{
	*saved_fd = -1;
	if (p->join_fd[SK_NS_PID] < 0)
		return 0;
	int self = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return sk_error(err, errno, "open \"/proc/self/ns/pid\"");
	if (setns(p->join_fd[SK_NS_PID], CLONE_NEWPID) < 0) {
		int e = errno;
		close(self);
		return sk_error(err, e, "join pid namespace");
	}
	*saved_fd = self;
	return 0;
}

int sk_ns_restore_pid(int saved_fd, struct sk_err *err)
{
	if (saved_fd < 0)
		return 0;
	int r = setns(saved_fd, CLONE_NEWPID);
	int e = errno;
	close(saved_fd);
	return r < 0 ? sk_error(err, e, "return to own pid namespace") : 0;
}

int sk_ns_join(const struct sk_ns_plan *p, struct sk_err *err)
{
	/* The user namespace first: the others may belong to it. */
	static const enum sk_ns_type order[] = { SK_NS_USER, SK_NS_IPC, SK_NS_UTS, SK_NS_NET, SK_NS_CGROUP, SK_NS_MNT, SK_NS_TIME };
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum sk_ns_type t = order[i];
		if (p->join_fd[t] < 0)
			continue;
		if (setns(p->join_fd[t], sk_ns_flag(t)) < 0)
			return sk_error(err, errno, "join %s namespace", sk_ns_type_name(t));
	}
	return 0;
}

int sk_ns_write_time_offsets(const struct sk_ns_plan *p, struct sk_err *err)
{
	if (!p->timens_offsets[0])
		return 0;
	int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sk_error(err, errno, "open \"/proc/self/timens_offsets\"");
	size_t len = strlen(p->timens_offsets);
	ssize_t n = write(fd, p->timens_offsets, len);
	int e = errno;
	close(fd);
	if (n != (ssize_t)len)
		return sk_error(err, n < 0 ? e : EIO, "write time namespace offsets");
	return 0;
}

int sk_ns_loopback_up(struct sk_err *err)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sk_error(err, errno, "bring up lo in the new network namespace: socket");
	struct ifreq ifr = { .ifr_name = "lo" };
	int rc = 0;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		rc = sk_error(err, errno, "bring up lo in the new network namespace: SIOCGIFFLAGS");
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			rc = sk_error(err, errno, "bring up lo in the new network namespace: SIOCSIFFLAGS");
	}
	close(fd);
	return rc;
}
