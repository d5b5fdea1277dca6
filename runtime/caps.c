#include "skiff/caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "skiff/log.h"

#define BIT(c) (UINT64_C(1) << (c))

struct capsets { uint64_t eff, prm, inh; };

static int cap_get(struct capsets *c)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	c->eff = d[0].effective | (uint64_t)d[1].effective << 32;
	c->prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	c->inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int cap_set(const struct capsets *c)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {
		{ (uint32_t)c->eff, (uint32_t)c->prm, (uint32_t)c->inh },
		{ (uint32_t)(c->eff >> 32), (uint32_t)(c->prm >> 32), (uint32_t)(c->inh >> 32) },
	};
	return (int)syscall(SYS_capset, &h, d);
}

/* The kernel's last capability, which may differ from our headers':
 * PR_CAPBSET_READ fails with EINVAL past it.  Two calls in the usual case. */
static int last_cap(void)
{
	int c = CAP_LAST_CAP;
	if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0) {
		while (c < 63 && prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) >= 0)
			c++;
	} else {
		while (c > 0 && prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0)
			c--;
	}
	return c;
}

static const char *cap_label(int c, char *buf, size_t cap)
{
	const char *n = sk_cap_name(c);
	if (n)
		return n;
	snprintf(buf, cap, "capability %d", c);
	return buf;
}

static void cap_list(uint64_t set, char *list, size_t size)
{
	char tmp[32];
	size_t len = 0;
	list[0] = '\0';
	for (int c = 0; c < 64; c++)
		if ((set & BIT(c)) && len < size) {
			int n = snprintf(list + len, size - len, "%s%s", len ? " " : "", cap_label(c, tmp, sizeof(tmp)));
			len += n > 0 ? (size_t)n : 0;
		}
}

static void warn_not_granted(uint64_t missing, uint64_t amb_config)
{
	char list[512];
	if (amb_config) {
		/* The config's own sets rule these out (`runc spec` writes such
		 * configs; runc drops them silently): say so, not blame the host. */
		cap_list(amb_config, list, sizeof(list));
		sk_warn("process.capabilities.ambient: %s not raised: an ambient capability must also be in the "
			"inheritable and permitted sets", list);
	}
	if (missing) {
		cap_list(missing, list, sizeof(list));
		sk_warn("process.capabilities: not granted (unknown to the kernel or not held by the runtime): %s", list);
	}
}

int sk_caps_apply(const struct sk_caps *caps, bool keep_admin, struct sk_err *err)
{
	const uint64_t admin = BIT(CAP_SYS_ADMIN);
	struct capsets cur;
	if (cap_get(&cur) < 0)
		return sk_error(err, errno, "capget");
	if (!caps->present) {
		if (!keep_admin || (cur.eff & admin) || !(cur.prm & admin))
			return 0;
		cur.eff |= admin;
		return cap_set(&cur) < 0 ? sk_error(err, errno, "capset (CAP_SYS_ADMIN for seccomp)") : 0;
	}
	/* A switch away from uid 0 cleared the effective set; CAP_SETPCAP
	 * must be there to drop from the bounding set. */
	if (cur.eff != cur.prm) {
		cur.eff = cur.prm;
		if (cap_set(&cur) < 0)
			return sk_error(err, errno, "capset (restore the effective set)");
	}

	int last = last_cap();
	const uint64_t valid = last >= 63 ? UINT64_MAX : BIT(last + 1) - 1;
	const uint64_t bnd = caps->set[SK_CAP_BOUNDING];
	char tmp[32];
	for (int c = 0; c <= last; c++) {
		if (bnd & BIT(c))
			continue;
		/* Without CAP_SETPCAP a capability already gone is still fine. */
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
		    !(errno == EPERM && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 0))
			return sk_error(err, errno, "process.capabilities: drop %s from the bounding set",
					cap_label(c, tmp, sizeof(tmp)));
	}

	/* What the kernel lets us grant: permitted within ours, effective
	 * within permitted, inheritable within ours or permitted-and-bounding,
	 * ambient within permitted and inheritable. */
	struct capsets want;
	want.prm = caps->set[SK_CAP_PERMITTED] & valid & cur.prm;
	want.eff = caps->set[SK_CAP_EFFECTIVE] & want.prm;
	want.inh = caps->set[SK_CAP_INHERITABLE] & valid & (cur.inh | (cur.prm & bnd));
	uint64_t amb = caps->set[SK_CAP_AMBIENT] & want.prm & want.inh;
	uint64_t amb_config = caps->set[SK_CAP_AMBIENT] & ~(caps->set[SK_CAP_PERMITTED] & caps->set[SK_CAP_INHERITABLE]);
	uint64_t missing = (bnd & ~valid) | (caps->set[SK_CAP_PERMITTED] & ~want.prm) |
			   (caps->set[SK_CAP_EFFECTIVE] & ~want.eff) | (caps->set[SK_CAP_INHERITABLE] & ~want.inh) |
			   (caps->set[SK_CAP_AMBIENT] & ~amb & ~amb_config);
	if (keep_admin && (cur.prm & admin)) {
		want.eff |= admin;
		want.prm |= admin;
	}
	if (cap_set(&want) < 0)
		return sk_error(err, errno, "process.capabilities: capset");

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return sk_error(err, errno, "process.capabilities: clear the ambient set");
	for (int c = 0; c <= last; c++)
		if ((amb & BIT(c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			missing |= BIT(c);
	if (missing || amb_config)
		warn_not_granted(missing, amb_config);
	return 0;
}

int sk_caps_apply_final(const struct sk_caps *caps, struct sk_err *err)
{
	const uint64_t admin = BIT(CAP_SYS_ADMIN);
	if (!caps->present)
		return 0;
	struct capsets cur;
	if (cap_get(&cur) < 0)
		return sk_error(err, errno, "capget");
	if (!(caps->set[SK_CAP_PERMITTED] & admin)) {
		cur.prm &= ~admin;
		cur.eff &= ~admin;
	} else if (!(caps->set[SK_CAP_EFFECTIVE] & admin)) {
		cur.eff &= ~admin;
	}
	if (cap_set(&cur) < 0)
		return sk_error(err, errno, "process.capabilities: capset (drop CAP_SYS_ADMIN)");
	return 0;
}
