/* netdev: move linux.netDevices into the container's network namespace
 * (netdev.h). */
#include "skiff/container/netdev.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUF 32768

struct req {
	struct nlmsghdr h;
	union { struct ifinfomsg link; struct ifaddrmsg addr; } u;
	char attrs[512];
};

static void put_attr(struct nlmsghdr *h, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static int nl_open(struct sk_err *err)
{
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0)
		return sk_error(err, errno, "linux.netDevices: netlink socket");
	/* Never block forever on a kernel that does not answer. */
	struct timeval tv = { .tv_sec = 10 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return s;
}

/* Send h and wait for its ack; the kernel's errno on refusal. */
static int nl_call(int s, struct nlmsghdr *h)
{
	static uint32_t seq;
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = ++seq;
	if (send(s, h, h->nlmsg_len, 0) < 0)
		return -errno;
	char buf[4096];
	for (;;) {
		ssize_t n = recv(s, buf, sizeof(buf), 0);
		if (n < 0)
			return errno == EINTR ? -EINTR : -errno;
		for (struct nlmsghdr *m = (struct nlmsghdr *)buf; NLMSG_OK(m, (size_t)n); m = NLMSG_NEXT(m, n)) {
			if (m->nlmsg_seq != h->nlmsg_seq || m->nlmsg_type != NLMSG_ERROR)
				continue;
			return ((struct nlmsgerr *)NLMSG_DATA(m))->error;
		}
	}
}

/* The permanent, global addresses of ifindex, as RTM_NEWADDR requests
 * (without the label, which names the old device, and the lifetimes). */
static int dump_addrs(int s, int ifindex, char **out, size_t *len)
{
	struct req r = { .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)), .nlmsg_type = RTM_GETADDR,
				.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 } };
	if (send(s, &r, r.h.nlmsg_len, 0) < 0)
		return -errno;
	char *buf = malloc(BUF), *acc = NULL;
	size_t alen = 0;
	int rc = 0;
	if (!buf)
		return -ENOMEM;
	for (bool done = false; !done;) {
		ssize_t n = recv(s, buf, BUF, 0);
		if (n < 0) {
			rc = -errno;
			break;
		}
		for (struct nlmsghdr *m = (struct nlmsghdr *)buf; NLMSG_OK(m, (size_t)n); m = NLMSG_NEXT(m, n)) {
			if (m->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (m->nlmsg_type == NLMSG_ERROR) {
				rc = ((struct nlmsgerr *)NLMSG_DATA(m))->error;
				done = true;
				break;
			}
			struct ifaddrmsg *ifa = NLMSG_DATA(m);
			if (m->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index != ifindex ||
			    ifa->ifa_scope != RT_SCOPE_UNIVERSE)
				continue;
			uint32_t flags = ifa->ifa_flags;
			int alen_attr = (int)IFA_PAYLOAD(m);
			for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, alen_attr); a = RTA_NEXT(a, alen_attr))
				if (a->rta_type == IFA_FLAGS && RTA_PAYLOAD(a) >= 4)
					memcpy(&flags, RTA_DATA(a), 4);
			if (!(flags & IFA_F_PERMANENT))
				continue;
			char *grown = realloc(acc, alen + sizeof(struct req));
			if (!grown) {
				rc = -ENOMEM;
				done = true;
				break;
			}
			acc = grown;
			struct req *q = (struct req *)(acc + alen);
			memset(q, 0, sizeof(*q));
			q->h = (struct nlmsghdr){ .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
						  .nlmsg_type = RTM_NEWADDR, .nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL };
			q->u.addr = *ifa;
			alen_attr = (int)IFA_PAYLOAD(m);
			for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, alen_attr); a = RTA_NEXT(a, alen_attr))
				if (a->rta_type != IFA_LABEL && a->rta_type != IFA_CACHEINFO &&
				    NLMSG_ALIGN(q->h.nlmsg_len) + RTA_ALIGN(a->rta_len) <= sizeof(*q))
					put_attr(&q->h, a->rta_type, RTA_DATA(a), RTA_PAYLOAD(a));
			alen += sizeof(struct req);
		}
	}
	free(buf);
	if (rc < 0) {
		free(acc);
		return rc;
	}
	*out = acc;
	*len = alen / sizeof(struct req);
	return 0;
}

/* A netlink socket in the network namespace nsfd (setns there and back:
 * the socket keeps the namespace it was made in). */
static int nl_open_in(int nsfd, struct sk_err *err)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return sk_error(err, errno, "linux.netDevices: open /proc/self/ns/net");
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		int e = errno;
		close(self);
		return sk_error(err, e, "linux.netDevices: enter the container's network namespace");
	}
	int s = nl_open(err);
	if (setns(self, CLONE_NEWNET) < 0) {
		/* Cannot happen; going on in the wrong namespace would be worse. */
		abort();
	}
	close(self);
	return s;
}

static int move_one(int host, int inner, int nsfd, const struct sk_net_device *d, struct sk_err *err)
{
	const char *name = d->name ? d->name : d->host;
	int idx = (int)if_nametoindex(d->host);
	if (!idx)
		return sk_error(err, errno == ENODEV || errno == ENXIO ? ENODEV : errno,
				"linux.netDevices[\"%s\"]: no such host interface", d->host);
	char *addrs = NULL;
	size_t n = 0;
	int r = dump_addrs(host, idx, &addrs, &n);
	if (r < 0)
		return sk_error(err, -r, "linux.netDevices[\"%s\"]: read its addresses", d->host);
	struct req q = { .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)), .nlmsg_type = RTM_NEWLINK },
			 .u.link = { .ifi_family = AF_UNSPEC, .ifi_index = idx } };
	uint32_t fd = (uint32_t)nsfd;
	put_attr(&q.h, IFLA_NET_NS_FD, &fd, sizeof(fd));
	put_attr(&q.h, IFLA_IFNAME, name, strlen(name) + 1);
	r = nl_call(host, &q.h);
	if (r < 0) {
		free(addrs);
		return sk_error(err, -r, "linux.netDevices[\"%s\"]: move into the container as \"%s\"%s", d->host,
				name, r == -EEXIST ? " (the name is taken there)" : "");
	}
	/* The index stays the same inside unless taken there. */
	for (size_t i = 0; i < n && r == 0; i++) {
		struct req *a = (struct req *)(addrs + i * sizeof(struct req));
		a->u.addr.ifa_index = (uint32_t)idx;
		r = nl_call(inner, &a->h);
		if (r == -EEXIST)
			r = 0;
	}
	free(addrs);
	if (r < 0)
		return sk_error(err, -r, "linux.netDevices[\"%s\"]: restore its addresses inside", d->host);
	q = (struct req){ .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)), .nlmsg_type = RTM_NEWLINK },
			  .u.link = { .ifi_family = AF_UNSPEC, .ifi_index = idx, .ifi_flags = IFF_UP,
				      .ifi_change = IFF_UP } };
	r = nl_call(inner, &q.h);
	if (r < 0)
		return sk_error(err, -r, "linux.netDevices[\"%s\"]: set it up inside", d->host);
	return 0;
}

int sk_netdev_move(const struct sk_linux *l, pid_t init_pid, struct sk_err *err)
{
	if (!l->n_net_devices)
		return 0;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)init_pid);
	int nsfd = open(path, O_RDONLY | O_CLOEXEC), host = -1, inner = -1, r = -1;
	struct stat a, b;
	if (nsfd < 0 || fstat(nsfd, &a) < 0 || stat("/proc/self/ns/net", &b) < 0) {
		sk_error(err, errno, "linux.netDevices: the container's network namespace");
		goto out;
	}
	if (a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
		sk_error(err, 0, "linux.netDevices: the container's network namespace is the runtime's");
		goto out;
	}
	if ((host = nl_open(err)) < 0 || (inner = nl_open_in(nsfd, err)) < 0)
		goto out;
	for (size_t i = 0; i < l->n_net_devices; i++)
		if (move_one(host, inner, nsfd, &l->net_devices[i], err) < 0)
			goto out;
	r = 0;
out:
	if (inner >= 0)
		close(inner);
	if (host >= 0)
		close(host);
	if (nsfd >= 0)
		close(nsfd);
	return r;
}
