/* caps: process.capabilities applied to the calling process (see caps.h),
 * with libcap: the kernel's last capability (cap_max_bits), the effective,
 * permitted and inheritable sets (cap_get_proc, cap_set_proc), and the
 * inheritable, ambient and bounding vectors as one IAB tuple
 * (cap_iab_set_proc).  The sets are computed as 64-bit masks first, so
 * that what the kernel cannot grant is known, and warned about, before
 * anything changes. */
#include "skiff/plan/caps.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/capability.h>

#include "skiff/base/log.h"

#define BIT(c) (UINT64_C(1) << (c))

struct capsets { uint64_t eff, prm, inh; };

/* The capabilities below n raised in flag f of c, as a mask. */
static uint64_t get_mask(cap_t c, cap_flag_t f, int n)
{
	uint64_t m = 0;
	for (int i = 0; i < n; i++) {
		cap_flag_value_t v;
		if (cap_get_flag(c, i, f, &v) == 0 && v == CAP_SET)
			m |= BIT(i);
	}
	return m;
}

/* Flag f of c becomes exactly the capabilities of m below n. */
static int set_mask(cap_t c, cap_flag_t f, uint64_t m, int n)
{
	cap_value_t list[64];
	int k = 0;
	for (int i = 0; i < n; i++)
		if (m & BIT(i))
			list[k++] = i;
	if (cap_clear_flag(c, f) < 0)
		return -1;
	return k ? cap_set_flag(c, f, k, list, CAP_SET) : 0;
}

static struct capsets get_sets(cap_t c, int n)
{
	return (struct capsets){ get_mask(c, CAP_EFFECTIVE, n), get_mask(c, CAP_PERMITTED, n),
				 get_mask(c, CAP_INHERITABLE, n) };
}

static int set_sets(cap_t c, int n, const struct capsets *s)
{
	if (set_mask(c, CAP_EFFECTIVE, s->eff, n) < 0 || set_mask(c, CAP_PERMITTED, s->prm, n) < 0 ||
	    set_mask(c, CAP_INHERITABLE, s->inh, n) < 0)
		return -1;
	return cap_set_proc(c);
}

static const char *cap_label(int c, char buf[SK_CAP_NAME_MAX])
{
	if (!sk_cap_name(c, buf))
		snprintf(buf, SK_CAP_NAME_MAX, "capability %d", c);
	return buf;
}

static void cap_list(uint64_t set, char *list, size_t size)
{
	char tmp[SK_CAP_NAME_MAX];
	size_t len = 0;
	list[0] = '\0';
	for (int c = 0; c < 64; c++)
		if ((set & BIT(c)) && len < size) {
			int n = snprintf(list + len, size - len, "%s%s", len ? " " : "", cap_label(c, tmp));
			len += n > 0 ? (size_t)n : 0;
		}
}

static void warn_not_granted(uint64_t missing, uint64_t amb_config)
{
	char list[512];
	if (amb_config) {
		/* The config's own sets rule these out (`runc spec` writes such
		 * configs; runc drops them silently): nothing is wrong, so only
		 * --debug says so, and does not blame the host. */
		cap_list(amb_config, list, sizeof(list));
		sk_debug("process.capabilities.ambient: %s not raised: an ambient capability must also be in the "
			"inheritable and permitted sets", list);
	}
	if (missing) {
		cap_list(missing, list, sizeof(list));
		sk_warn("process.capabilities: not granted (unknown to the kernel or not held by the runtime): %s", list);
	}
}

/* The inheritable, ambient and bounding vectors in one go: libcap raises
 * CAP_SETPCAP for the change, clears the ambient set, raises amb, drops
 * drop from the bounding set, and restores the effective set. */
static int set_iab(uint64_t inh, uint64_t amb, uint64_t drop, int n, struct sk_err *err)
{
	cap_iab_t iab = cap_iab_init();
	if (!iab)
		return sk_error(err, ENOMEM, "process.capabilities");
	int r = 0;
	for (int c = 0; c < n && r == 0; c++) {
		if (inh & BIT(c))
			r = cap_iab_set_vector(iab, CAP_IAB_INH, c, CAP_SET);
		if (r == 0 && (amb & BIT(c)))
			r = cap_iab_set_vector(iab, CAP_IAB_AMB, c, CAP_SET);
		if (r == 0 && (drop & BIT(c)))
			r = cap_iab_set_vector(iab, CAP_IAB_BOUND, c, CAP_SET);
	}
	if (r == 0 && cap_iab_set_proc(iab) < 0)
		r = sk_error(err, errno, "process.capabilities: set the inheritable, ambient and bounding sets");
	else if (r < 0)
		r = sk_error(err, errno, "process.capabilities");
	cap_free(iab);
	return r;
}

static int apply(const struct sk_caps *caps, bool keep_admin, cap_t cur, struct sk_err *err)
{
	const cap_value_t sys_admin = CAP_SYS_ADMIN;
	const uint64_t admin = BIT(sys_admin);
	const int n = cap_max_bits();
	struct capsets have = get_sets(cur, n);
	if (!caps->present) {
		if (!keep_admin || (have.eff & admin) || !(have.prm & admin))
			return 0;
		if (cap_set_flag(cur, CAP_EFFECTIVE, 1, &sys_admin, CAP_SET) < 0 || cap_set_proc(cur) < 0)
			return sk_error(err, errno, "capset (CAP_SYS_ADMIN for seccomp)");
		return 0;
	}
	/* A switch away from uid 0 cleared the effective set; CAP_SETPCAP
	 * must be there for the bounding set. */
	if (have.eff != have.prm) {
		if (cap_fill(cur, CAP_EFFECTIVE, CAP_PERMITTED) < 0 || cap_set_proc(cur) < 0)
			return sk_error(err, errno, "capset (restore the effective set)");
	}

	/* What the kernel lets us grant: permitted within ours, effective
	 * within permitted, inheritable within ours or permitted-and-bounding,
	 * ambient within permitted and inheritable. */
	const uint64_t valid = n >= 64 ? UINT64_MAX : BIT(n) - 1;
	const uint64_t bnd = caps->set[SK_CAP_BOUNDING];
	struct capsets want;
	want.prm = caps->set[SK_CAP_PERMITTED] & valid & have.prm;
	want.eff = caps->set[SK_CAP_EFFECTIVE] & want.prm;
	want.inh = caps->set[SK_CAP_INHERITABLE] & valid & (have.inh | (have.prm & bnd));
	uint64_t amb = caps->set[SK_CAP_AMBIENT] & want.prm & want.inh;
	uint64_t amb_config = caps->set[SK_CAP_AMBIENT] & ~(caps->set[SK_CAP_PERMITTED] & caps->set[SK_CAP_INHERITABLE]);
	uint64_t missing = (bnd & ~valid) | (caps->set[SK_CAP_PERMITTED] & ~want.prm) |
			   (caps->set[SK_CAP_EFFECTIVE] & ~want.eff) | (caps->set[SK_CAP_INHERITABLE] & ~want.inh) |
			   (caps->set[SK_CAP_AMBIENT] & ~amb & ~amb_config);
	if (keep_admin && (have.prm & admin)) {
		want.eff |= admin;
		want.prm |= admin;
	}
	/* Without CAP_SETPCAP nothing can leave the bounding set, but what is
	 * already gone need not (libcap would ask for CAP_SETPCAP to drop it
	 * again). */
	uint64_t drop = valid & ~bnd;
	if (!(have.prm & BIT(CAP_SETPCAP)))
		for (int c = 0; c < n; c++)
			if ((drop & BIT(c)) && cap_get_bound(c) == 0)
				drop &= ~BIT(c);
	/* Before the permitted set shrinks: raising an ambient capability
	 * needs it permitted, dropping from the bounding set CAP_SETPCAP. */
	if (set_iab(want.inh, amb, drop, n, err) < 0)
		return -1;
	if (set_sets(cur, n, &want) < 0)
		return sk_error(err, errno, "process.capabilities: capset");
	if (missing || amb_config)
		warn_not_granted(missing, amb_config);
	return 0;
}

int sk_caps_apply(const struct sk_caps *caps, bool keep_admin, struct sk_err *err)
{
	cap_t cur = cap_get_proc();
	if (!cur)
		return sk_error(err, errno, "capget");
	int r = apply(caps, keep_admin, cur, err);
	cap_free(cur);
	return r;
}

int sk_caps_apply_final(const struct sk_caps *caps, struct sk_err *err)
{
	const cap_value_t admin = CAP_SYS_ADMIN;
	if (!caps->present)
		return 0;
	cap_t cur = cap_get_proc();
	if (!cur)
		return sk_error(err, errno, "capget");
	int r = 0;
	if (!(caps->set[SK_CAP_PERMITTED] & BIT(admin))) {
		r = cap_set_flag(cur, CAP_PERMITTED, 1, &admin, CAP_CLEAR);
		if (r == 0)
			r = cap_set_flag(cur, CAP_EFFECTIVE, 1, &admin, CAP_CLEAR);
	} else if (!(caps->set[SK_CAP_EFFECTIVE] & BIT(admin))) {
		r = cap_set_flag(cur, CAP_EFFECTIVE, 1, &admin, CAP_CLEAR);
	}
	if (r == 0)
		r = cap_set_proc(cur);
	cap_free(cur);
	return r < 0 ? sk_error(err, errno, "process.capabilities: capset (drop CAP_SYS_ADMIN)") : 0;
}
