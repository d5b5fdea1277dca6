/* cgroup, pure (no root): conversions, path resolution, validation against
 * the backends that serve each controller, the device program and the v1
 * device lines, the delegation rule, the hierarchies read from mountinfo
 * and /proc/self/cgroup texts.  test_cgroup_root.c has the real
 * hierarchies. */
#include <criterion/criterion.h>

#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/cgroup/cgroup.h"
#include "skiff/cgroup/dev.h"
#include "skiff/cgroup/fs.h"
#include "skiff/cgroup/res.h"

/* ---- conversions ------------------------------------------------------------ */

Test(cgroup, shares_to_weight)
{
	cr_assert_eq(sk_cgroup_shares_to_weight(0), 0);
	cr_assert_eq(sk_cgroup_shares_to_weight(1), 1);
	cr_assert_eq(sk_cgroup_shares_to_weight(2), 1);
	cr_assert_eq(sk_cgroup_shares_to_weight(3), 2);
	cr_assert_eq(sk_cgroup_shares_to_weight(100), 17);
	cr_assert_eq(sk_cgroup_shares_to_weight(512), 59);
	cr_assert_eq(sk_cgroup_shares_to_weight(1024), 100);
	cr_assert_eq(sk_cgroup_shares_to_weight(2048), 174);
	cr_assert_eq(sk_cgroup_shares_to_weight(10000), 627);
	cr_assert_eq(sk_cgroup_shares_to_weight(262143), 10000);
	cr_assert_eq(sk_cgroup_shares_to_weight(262144), 10000);
	cr_assert_eq(sk_cgroup_shares_to_weight(1000000), 10000);
	uint64_t prev = 0;
	for (uint64_t s = 2; s <= 262144; s += 97) {
		uint64_t w = sk_cgroup_shares_to_weight(s);
		cr_assert(w >= prev && w >= 1 && w <= 10000, "shares %lu -> %lu", (unsigned long)s, (unsigned long)w);
		prev = w;
	}
}

Test(cgroup, blkio_to_io_weight)
{
	cr_assert_eq(sk_cgroup_blkio_to_io_weight(0), 0);
	cr_assert_eq(sk_cgroup_blkio_to_io_weight(10), 1);
	cr_assert_eq(sk_cgroup_blkio_to_io_weight(500), 4950);
	cr_assert_eq(sk_cgroup_blkio_to_io_weight(1000), 10000);
}

Test(cgroup, swap_conversion)
{
	struct sk_err err = { 0 };
	int64_t out = 12345;
	cr_assert_eq(sk_cgroup_swap_max(0, 0, &out, &err), 0);              /* nothing */
	cr_assert_eq(sk_cgroup_swap_max(0, 1 << 20, &out, &err), 0);
	cr_assert_eq(sk_cgroup_swap_max(0, -1, &out, &err), 1);             /* unlimited memory: swap too */
	cr_assert_eq(out, -1);
	cr_assert_eq(sk_cgroup_swap_max(-1, 1 << 20, &out, &err), 1);
	cr_assert_eq(out, -1);
	cr_assert_eq(sk_cgroup_swap_max(300, -1, &out, &err), 1);
	cr_assert_eq(out, 300);
	cr_assert_eq(sk_cgroup_swap_max(3 << 20, 1 << 20, &out, &err), 1);  /* memory+swap - memory */
	cr_assert_eq(out, 2 << 20);
	cr_assert_eq(sk_cgroup_swap_max(1 << 20, 1 << 20, &out, &err), 1);  /* equal: no swap */
	cr_assert_eq(out, 0);
	cr_assert_eq(sk_cgroup_swap_max(1 << 20, 0, &out, &err), -1);
	cr_assert_str_eq(err.msg, "linux.resources.memory.swap: cannot be set without memory.limit");
	cr_assert_eq(sk_cgroup_swap_max(1 << 20, 2 << 20, &out, &err), -1);
	cr_assert(strstr(err.msg, "is below memory.limit"), "%s", err.msg);
}

Test(cgroup, cpu_max)
{
	struct sk_resources r;
	char buf[48];
	memset(&r, 0, sizeof(r));
	r.cpu.present = true;
	sk_cgroup_cpu_max(&r, buf, sizeof(buf));
	cr_assert_str_eq(buf, "");
	r.cpu.has_quota = true;
	r.cpu.quota = 50000;
	sk_cgroup_cpu_max(&r, buf, sizeof(buf));
	cr_assert_str_eq(buf, "50000 100000");
	r.cpu.has_period = true;
	r.cpu.period = 200000;
	sk_cgroup_cpu_max(&r, buf, sizeof(buf));
	cr_assert_str_eq(buf, "50000 200000");
	r.cpu.quota = -1;
	sk_cgroup_cpu_max(&r, buf, sizeof(buf));
	cr_assert_str_eq(buf, "max 200000");
	r.cpu.has_quota = false;
	sk_cgroup_cpu_max(&r, buf, sizeof(buf));
	cr_assert_str_eq(buf, "max 200000");
}

/* ---- placement ----------------------------------------------------------------- */

/* cgroup2 (beside) unless v1 says otherwise. */
static void resolves_in(bool v1, const char *cp, const char *id, const char *own, const char *want)
{
	struct sk_err err = { 0 };
	char *rel = NULL;
	cr_assert_eq(sk_cgroup_resolve(cp, id, own, !v1, &rel, &err), 0, "%s: %s", cp ? cp : "(null)", err.msg);
	cr_assert_str_eq(rel, want);
	free(rel);
}

static void resolves(const char *cp, const char *id, const char *own, const char *want)
{
	resolves_in(false, cp, id, own, want);
}

static void refuses(const char *cp, const char *id, const char *own, const char *msg)
{
	struct sk_err err = { 0 };
	char *rel = (char *)"x";
	cr_assert_eq(sk_cgroup_resolve(cp, id, own, true, &rel, &err), -1, "%s accepted", cp ? cp : "(null)");
	cr_assert_null(rel);
	cr_assert_str_eq(err.msg, msg);
}

Test(cgroup, resolve_paths)
{
	resolves("/a/b", "c1", NULL, "/a/b");
	resolves("//a///b/", "c1", NULL, "/a/b");
	resolves("/machine/x:y", "c1", NULL, "/machine/x:y");            /* ':' is fine when absolute */
	resolves("a/b", "c1", "/", "/a/b");
	resolves("a/b", "c1", "/user.slice/session-1.scope", "/user.slice/a/b");
	resolves(NULL, "c1", "/", "/c1");
	resolves("", "c1", "/", "/c1");
	resolves(NULL, "c1", "/system.slice/skiff.service", "/system.slice/c1");
	refuses("system.slice:skiff:c1", "c1", "/", "linux.cgroupsPath \"system.slice:skiff:c1\": \"slice:prefix:name\" is systemd's form and needs --systemd-cgroup");
	refuses("/a/../b", "c1", NULL, "linux.cgroupsPath \"/a/../b\": \"..\" components are not allowed");
	refuses("../b", "c1", "/x", "linux.cgroupsPath \"../b\": \"..\" components are not allowed");
	refuses("/a/./b", "c1", NULL, "linux.cgroupsPath \"/a/./b\": \".\" components are not allowed");
	refuses("/", "c1", NULL, "linux.cgroupsPath \"/\": must name a cgroup below the root");
	refuses("///", "c1", NULL, "linux.cgroupsPath \"///\": must name a cgroup below the root");
	refuses(NULL, "..", "/", "cgroup: container id \"..\" cannot name a cgroup");
	/* v1 (runc's rule): below our own cgroup, not beside it. */
	resolves_in(true, "/a/b", "c1", NULL, "/a/b");
	resolves_in(true, "a/b", "c1", "/", "/a/b");
	resolves_in(true, "a/b", "c1", "/user.slice/session-1.scope", "/user.slice/session-1.scope/a/b");
	resolves_in(true, NULL, "c1", "/process_api/x", "/process_api/x/c1");
	resolves_in(true, NULL, "c1", "/", "/c1");
}

/* ---- validation ------------------------------------------------------------------ */

Test(cgroup, unified_keys)
{
	struct sk_err err = { 0 };
	int c = 99;
	cr_assert_eq(sk_cgroup_unified_key("memory.high", &c, &err), 0);
	cr_assert_eq(c, SK_CG_MEMORY);
	cr_assert_eq(sk_cgroup_unified_key("cpu.weight.nice", &c, &err), 0);
	cr_assert_eq(c, SK_CG_CPU);
	cr_assert_eq(sk_cgroup_unified_key("misc.max", &c, &err), 0);
	cr_assert_eq(c, SK_CG_MISC);
	cr_assert_eq(sk_cgroup_unified_key("cgroup.max.depth", &c, &err), 0);
	cr_assert_eq(c, -1);
	const char *bad[] = { "", ".hidden", "../memory.max", "memory/max", "memory", "memory.", "foo.bar",
			      "cgroup.procs", "cgroup.threads", "cgroup.subtree_control", "cgroup.kill",
			      "cgroup.freeze", "cgroup.type", ".." };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(sk_cgroup_unified_key(bad[i], &c, &err), -1, "\"%s\" accepted", bad[i]);
	sk_cgroup_unified_key("cgroup.procs", &c, &err);
	cr_assert_str_eq(err.msg, "linux.resources.unified: key \"cgroup.procs\" is managed by skiff and cannot be set");
	sk_cgroup_unified_key("foo.bar", &c, &err);
	cr_assert_str_eq(err.msg, "linux.resources.unified: key \"foo.bar\": \"foo\" is not a cgroup v2 controller");
}

static void needs_error(const struct sk_resources *r, const char *msg)
{
	struct sk_cgroup_needs n;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_needs(r, 0, true, &n, &err), -1, "accepted, wanted: %s", msg);
	cr_assert_str_eq(err.msg, msg);
}

Test(cgroup, needs_refuses_what_v2_lacks)
{
	struct sk_resources r;
	memset(&r, 0, sizeof(r));
	r.memory.present = true;
	r.memory.has_swappiness = true;
	needs_error(&r, "linux.resources.memory.swappiness: not supported on cgroup v2");
	memset(&r, 0, sizeof(r));
	r.memory.present = true;
	r.memory.has_disable_oom_killer = true;
	r.memory.disable_oom_killer = true;
	needs_error(&r, "linux.resources.memory.disableOOMKiller: not supported on cgroup v2");
	memset(&r, 0, sizeof(r));
	r.cpu.present = true;
	r.cpu.has_realtime_runtime = true;
	r.cpu.realtime_runtime = 950000;
	needs_error(&r, "linux.resources.cpu.realtimeRuntime: not supported on cgroup v2");
	memset(&r, 0, sizeof(r));
	r.block_io.present = true;
	r.block_io.has_leaf_weight = true;
	r.block_io.leaf_weight = 300;
	needs_error(&r, "linux.resources.blockIO.leafWeight: not supported on cgroup v2");
	memset(&r, 0, sizeof(r));
	r.network.present = true;
	r.network.has_class_id = true;
	needs_error(&r, "linux.resources.network.classID: no net_cls hierarchy is mounted (cgroup v1 only)");
	memset(&r, 0, sizeof(r));
	struct sk_hugepage_limit h = { (char *)"../2MB", 1 };
	r.hugepage_limits = &h;
	r.n_hugepage_limits = 1;
	needs_error(&r, "linux.resources.hugepageLimits[0].pageSize: \"../2MB\" is not a size like \"2MB\"");
	memset(&r, 0, sizeof(r));
	struct sk_rdma_limit rd = { (char *)"mlx 0", true, 1, false, 0 };
	r.rdma = &rd;
	r.n_rdma = 1;
	needs_error(&r, "linux.resources.rdma: \"mlx 0\" is not a device name");
}

Test(cgroup, needs_tolerates_harmless_fields)
{
	struct sk_resources r;
	struct sk_cgroup_needs n;
	struct sk_err err = { 0 };
	memset(&r, 0, sizeof(r));
	r.memory.present = true;
	r.memory.has_disable_oom_killer = true;            /* false: the default anyway */
	r.memory.has_use_hierarchy = true;
	r.memory.use_hierarchy = true;                     /* v2 always is */
	r.cpu.present = true;
	r.cpu.has_realtime_period = true;                  /* 0: nothing asked */
	r.block_io.present = true;
	r.block_io.has_leaf_weight = true;
	r.block_io.has_weight = true;                      /* 0: docker's "unset" */
	struct sk_weight_device wd = { .major = 8, .has_weight = true };   /* weight 0: none */
	r.block_io.weight_device = &wd;
	r.block_io.n_weight_device = 1;
	r.memory.has_kernel = true;                        /* ignored, as runc 1.1 does */
	r.memory.kernel = 1 << 26;
	r.memory.has_kernel_tcp = true;
	cr_assert_eq(sk_cgroup_needs(&r, 0, true, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n.mask, 0);
	r.cpu.has_quota = true;                            /* any negative: no quota (runc, the kernel) */
	r.cpu.quota = -5;
	cr_assert_eq(sk_cgroup_needs(&r, 0, true, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n.mask, 1u << SK_CG_CPU);
	char max[48];
	sk_cgroup_cpu_max(&r, max, sizeof(max));
	cr_assert_str_eq(max, "max 100000");
	cr_assert_eq(sk_cgroup_needs(NULL, 0, true, &n, &err), 0);
	cr_assert_eq(n.mask, 0);
}

Test(cgroup, needs_controllers)
{
	struct sk_resources r;
	struct sk_cgroup_needs n;
	struct sk_err err = { 0 };
	memset(&r, 0, sizeof(r));
	r.memory.present = true;
	r.memory.has_limit = true;
	r.memory.limit = 1 << 26;
	r.cpu.present = true;
	r.cpu.cpus = (char *)"0";
	r.pids.present = true;
	r.pids.has_limit = true;
	r.pids.limit = 0;
	struct sk_kv u = { (char *)"rdma.max", (char *)"mlx4_0 hca_handle=1" };
	r.unified = &u;
	r.n_unified = 1;
	cr_assert_eq(sk_cgroup_needs(&r, 0, true, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n.mask, (1u << SK_CG_MEMORY) | (1u << SK_CG_CPUSET) | (1u << SK_CG_PIDS) | (1u << SK_CG_RDMA));
	cr_assert_str_eq(n.why[SK_CG_MEMORY], "linux.resources.memory");
	cr_assert_str_eq(n.why[SK_CG_CPUSET], "linux.resources.cpu.cpus");
	cr_assert_str_eq(n.why_key[SK_CG_RDMA], "rdma.max");
	cr_assert_str_eq(sk_cgroup_ctrl_name(SK_CG_HUGETLB), "hugetlb");
}

#define V1(c) (1u << (c))
#define ALL_V1 (V1(SK_CG_MEMORY) | V1(SK_CG_CPU) | V1(SK_CG_IO) | V1(SK_CG_NET_CLS) | V1(SK_CG_NET_PRIO) | \
		V1(SK_CG_PIDS) | V1(SK_CG_CPUSET) | V1(SK_CG_DEVICES) | V1(SK_CG_FREEZER))

/* What cgroup2 refuses, v1 takes: the field's controller needed. */
Test(cgroup, needs_v1_fields)
{
	struct sk_resources r;
	struct sk_cgroup_needs n;
	struct sk_err err = { 0 };
	memset(&r, 0, sizeof(r));
	r.memory.present = true;
	r.memory.has_swappiness = true;
	r.memory.swappiness = 10;
	r.memory.has_disable_oom_killer = true;
	r.memory.disable_oom_killer = true;
	r.memory.has_kernel_tcp = true;
	r.memory.kernel_tcp = 1 << 24;
	r.cpu.present = true;
	r.cpu.has_realtime_runtime = true;
	r.cpu.realtime_runtime = 5000;
	r.block_io.present = true;
	r.block_io.has_leaf_weight = true;
	r.block_io.leaf_weight = 300;
	r.network.present = true;
	r.network.has_class_id = true;
	r.network.class_id = 0x100001;
	cr_assert_eq(sk_cgroup_needs(&r, ALL_V1, true, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n.mask, V1(SK_CG_MEMORY) | V1(SK_CG_CPU) | V1(SK_CG_IO) | V1(SK_CG_NET_CLS));
	/* Hybrid: the one cgroup2 serves is still checked as cgroup2. */
	cr_assert_eq(sk_cgroup_needs(&r, ALL_V1 & ~V1(SK_CG_IO), true, &n, &err), -1);
	cr_assert_str_eq(err.msg, "linux.resources.blockIO.leafWeight: not supported on cgroup v2");
	/* Kernel memory: 0 is runc's "leave it"; a limit needs memory on v1
	 * (written where the kernel still enforces it), and is ignored with a
	 * warning on cgroup2, as runc does. */
	memset(&r, 0, sizeof(r));
	r.memory.present = true;
	r.memory.has_kernel = true;
	cr_assert_eq(sk_cgroup_needs(&r, ALL_V1, true, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n.mask, 0);
	r.memory.kernel = 1 << 26;
	cr_assert_eq(sk_cgroup_needs(&r, ALL_V1, true, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n.mask, V1(SK_CG_MEMORY));
	cr_assert_eq(sk_cgroup_needs(&r, 0, true, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n.mask, 0);
}

Test(cgroup, needs_unified_per_backend)
{
	struct sk_resources r;
	struct sk_cgroup_needs n;
	struct sk_err err = { 0 };
	memset(&r, 0, sizeof(r));
	struct sk_kv u[] = { { (char *)"memory.high", (char *)"1" }, { (char *)"hugetlb.2MB.max", (char *)"0" } };
	r.unified = u;
	r.n_unified = 2;
	/* Hybrid: a controller cgroup2 serves is fine, one v1 serves is not. */
	cr_assert_eq(sk_cgroup_needs(&r, V1(SK_CG_PIDS), true, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n.mask, V1(SK_CG_MEMORY) | V1(SK_CG_HUGETLB));
	cr_assert_eq(sk_cgroup_needs(&r, V1(SK_CG_MEMORY), true, &n, &err), -1);
	cr_assert_str_eq(err.msg, "linux.resources.unified[\"memory.high\"]: the memory controller is a cgroup v1 one on this host");
	/* No cgroup2 at all: every key, named. */
	r.unified = &u[1];
	r.n_unified = 1;
	cr_assert_eq(sk_cgroup_needs(&r, V1(SK_CG_MEMORY), false, &n, &err), -1);
	cr_assert_str_eq(err.msg, "linux.resources.unified[\"hugetlb.2MB.max\"]: this host has no cgroup2 hierarchy (cgroup v1 only)");
	/* net_prio without its hierarchy. */
	memset(&r, 0, sizeof(r));
	struct sk_net_prio np = { (char *)"eth0", 3 };
	r.network.present = true;
	r.network.priorities = &np;
	r.network.n_priorities = 1;
	cr_assert_eq(sk_cgroup_needs(&r, V1(SK_CG_NET_CLS), true, &n, &err), -1);
	cr_assert_str_eq(err.msg, "linux.resources.network.priorities: no net_prio hierarchy is mounted (cgroup v1 only)");
}

/* ---- the device program, run by a small interpreter ---------------------------- */

/* Runs prog on one access; supports exactly the instructions the builder
 * may emit, forward jumps only (so it terminates, like the verifier wants). */
static int run_prog(const struct sk_bpf_prog *p, char type, uint32_t major, uint32_t minor, const char *access)
{
	uint32_t acc = 0;
	for (const char *a = access; *a; a++)
		acc |= *a == 'r' ? BPF_DEVCG_ACC_READ : *a == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
	uint32_t ctx[3] = { (acc << 16) | (type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK), major, minor };
	uint64_t r[11] = { 0 };
	for (size_t pc = 0;;) {
		cr_assert_lt(pc, p->n, "ran off the end");
		struct bpf_insn in = p->insns[pc++];
		switch (in.code) {
		case BPF_LDX | BPF_MEM | BPF_W:
			cr_assert(in.src_reg == BPF_REG_1 && in.off >= 0 && in.off <= 8 && in.off % 4 == 0);
			r[in.dst_reg] = ctx[in.off / 4];
			break;
		case BPF_ALU | BPF_AND | BPF_K: r[in.dst_reg] = (uint32_t)r[in.dst_reg] & (uint32_t)in.imm; break;
		case BPF_ALU | BPF_RSH | BPF_K: r[in.dst_reg] = (uint32_t)r[in.dst_reg] >> in.imm; break;
		case BPF_ALU | BPF_MOV | BPF_K: r[in.dst_reg] = (uint32_t)in.imm; break;
		case BPF_JMP | BPF_JSET | BPF_K:
			cr_assert_geq(in.off, 0);
			if (r[in.dst_reg] & (uint64_t)(int64_t)in.imm)
				pc += (size_t)in.off;
			break;
		case BPF_JMP | BPF_JA:
			cr_assert_geq(in.off, 0);
			pc += (size_t)in.off;
			break;
		case BPF_JMP32 | BPF_JNE | BPF_K:
			cr_assert_geq(in.off, 0);
			if ((uint32_t)r[in.dst_reg] != (uint32_t)in.imm)
				pc += (size_t)in.off;
			break;
		case BPF_JMP | BPF_EXIT:
			return (int)r[0];
		default:
			cr_assert_fail("unexpected opcode 0x%x at %zu", in.code, pc - 1);
		}
	}
}

static struct sk_device_rule rule(bool allow, char type, int64_t major, int64_t minor, const char *access)
{
	struct sk_device_rule r = { allow, type, major, minor, { 0 } };
	snprintf(r.access, sizeof(r.access), "%s", access);
	return r;
}

static struct sk_bpf_prog build(const struct sk_device_rule *rules, size_t n)
{
	struct sk_bpf_prog p;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_dev_build(rules, n, &p, &err), 0, "%s", err.msg);
	return p;
}

Test(cgroup, devices_default_deny_and_defaults)
{
	struct sk_bpf_prog p = build(NULL, 0);
	cr_assert_eq(run_prog(&p, 'c', 1, 11, "r"), 0);      /* /dev/kmsg */
	cr_assert_eq(run_prog(&p, 'b', 8, 0, "r"), 0);
	cr_assert_eq(run_prog(&p, 'c', 1, 3, "rw"), 1);      /* /dev/null */
	cr_assert_eq(run_prog(&p, 'c', 1, 9, "r"), 1);
	cr_assert_eq(run_prog(&p, 'c', 5, 2, "rw"), 1);      /* ptmx */
	cr_assert_eq(run_prog(&p, 'c', 136, 7, "rw"), 1);    /* pts */
	cr_assert_eq(run_prog(&p, 'c', 10, 200, "rw"), 1);   /* tun */
	cr_assert_eq(run_prog(&p, 'c', 4, 1, "m"), 1);       /* mknod is always allowed */
	cr_assert_eq(run_prog(&p, 'b', 8, 0, "m"), 1);
	cr_assert_eq(run_prog(&p, 'c', 4, 1, "rm"), 0);
	sk_cgroup_dev_free(&p);
}

Test(cgroup, devices_last_match_wins)
{
	struct sk_device_rule rs[] = { rule(false, 'a', -1, -1, "rwm"), rule(true, 'c', 4, -1, "rwm"),
				       rule(false, 'c', 4, 1, "rwm") };
	struct sk_bpf_prog p = build(rs, 3);
	cr_assert_eq(run_prog(&p, 'c', 4, 1, "r"), 0);
	cr_assert_eq(run_prog(&p, 'c', 4, 2, "rw"), 1);
	cr_assert_eq(run_prog(&p, 'b', 4, 2, "r"), 0);
	sk_cgroup_dev_free(&p);
	struct sk_device_rule rs2[] = { rule(false, 'c', 4, 1, "rwm"), rule(true, 'c', 4, -1, "rwm") };
	p = build(rs2, 2);
	cr_assert_eq(run_prog(&p, 'c', 4, 1, "r"), 1);
	sk_cgroup_dev_free(&p);
}

Test(cgroup, devices_access_bits)
{
	/* Deny of one bit denies any access that includes it. */
	struct sk_device_rule rs[] = { rule(true, 'a', -1, -1, "rwm"), rule(false, 'c', 4, 1, "w") };
	struct sk_bpf_prog p = build(rs, 2);
	cr_assert_eq(run_prog(&p, 'c', 4, 1, "r"), 1);
	cr_assert_eq(run_prog(&p, 'c', 4, 1, "rw"), 0);
	cr_assert_eq(run_prog(&p, 'c', 4, 1, "w"), 0);
	cr_assert_eq(run_prog(&p, 'b', 4, 1, "w"), 1);
	sk_cgroup_dev_free(&p);
	/* Allows add up per bit, as cgroup v1 merged them. */
	struct sk_device_rule rs2[] = { rule(false, 'a', -1, -1, "rwm"), rule(true, 'c', 4, 1, "r"),
					rule(true, 'c', 4, 1, "w") };
	p = build(rs2, 3);
	cr_assert_eq(run_prog(&p, 'c', 4, 1, "rw"), 1);
	cr_assert_eq(run_prog(&p, 'c', 4, 2, "r"), 0);
	sk_cgroup_dev_free(&p);
	/* Empty access means rwm; wildcard major with a minor. */
	struct sk_device_rule rs3[] = { rule(true, 'b', -1, 3, "") };
	p = build(rs3, 1);
	cr_assert_eq(run_prog(&p, 'b', 9, 3, "rw"), 1);
	cr_assert_eq(run_prog(&p, 'b', 9, 4, "r"), 0);
	cr_assert_eq(run_prog(&p, 'c', 9, 3, "r"), 0);
	sk_cgroup_dev_free(&p);
	/* Majors and minors use all 32 bits. */
	struct sk_device_rule rs4[] = { rule(true, 'c', 0xffffffffLL, 0x80000000LL, "r") };
	p = build(rs4, 1);
	cr_assert_eq(run_prog(&p, 'c', 0xffffffffu, 0x80000000u, "r"), 1);
	cr_assert_eq(run_prog(&p, 'c', 0x7fffffffu, 0x80000000u, "r"), 0);
	sk_cgroup_dev_free(&p);
}

Test(cgroup, devices_bits_alike_share_a_section)
{
	/* r and w in the same rules: one section decides for both. */
	struct sk_device_rule rs[] = { rule(true, 'a', -1, -1, "rwm"), rule(false, 'c', 4, 1, "rw") };
	struct sk_bpf_prog p = build(rs, 2);
	cr_assert_eq(run_prog(&p, 'c', 4, 1, "r"), 0);
	cr_assert_eq(run_prog(&p, 'c', 4, 1, "w"), 0);
	cr_assert_eq(run_prog(&p, 'c', 4, 1, "rw"), 0);
	cr_assert_eq(run_prog(&p, 'c', 4, 1, "m"), 1);
	cr_assert_eq(run_prog(&p, 'c', 4, 2, "rw"), 1);
	sk_cgroup_dev_free(&p);
	/* The default rules treat r and w alike: shorter than three sections. */
	struct sk_bpf_prog d = build(NULL, 0);
	struct sk_device_rule w_apart[] = { rule(false, 'c', 99, 99, "w") };
	struct sk_bpf_prog a = build(w_apart, 1);
	cr_assert_lt(d.n + 30, a.n);
	cr_assert_eq(run_prog(&a, 'c', 1, 3, "rw"), 1);
	cr_assert_eq(run_prog(&a, 'c', 99, 99, "r"), 0);
	sk_cgroup_dev_free(&d);
	sk_cgroup_dev_free(&a);
}

Test(cgroup, devices_bad_rules)
{
	struct sk_bpf_prog p;
	struct sk_err err = { 0 };
	struct sk_device_rule r1 = rule(true, 'c', 1LL << 32, 0, "r");
	cr_assert_eq(sk_cgroup_dev_build(&r1, 1, &p, &err), -1);
	cr_assert_str_eq(err.msg, "linux.resources.devices[0]: major/minor out of range");
	struct sk_device_rule r2 = rule(true, 'c', 1, 3, "rx");
	cr_assert_eq(sk_cgroup_dev_build(&r2, 1, &p, &err), -1);
	cr_assert_str_eq(err.msg, "linux.resources.devices[0].access: \"rx\" is not made of r, w and m");
	struct sk_device_rule r3 = rule(true, 'p', 1, 3, "r");
	cr_assert_eq(sk_cgroup_dev_build(&r3, 1, &p, &err), -1);
	struct sk_device_rule *many = calloc(5000, sizeof(*many));
	cr_assert_eq(sk_cgroup_dev_build(many, 5000, &p, &err), -1);
	cr_assert_str_eq(err.msg, "linux.resources.devices: 5000 rules, at most 4096 are supported");
	free(many);
}

Test(cgroup, devices_many_rules_fit)
{
	struct sk_device_rule *rs = calloc(4096, sizeof(*rs));
	for (int i = 0; i < 4096; i++)
		rs[i] = rule(i % 2 == 0, 'c', 300 + i, i, "rwm");
	struct sk_bpf_prog p = build(rs, 4096);
	cr_assert_eq(run_prog(&p, 'c', 300, 0, "rw"), 1);
	cr_assert_eq(run_prog(&p, 'c', 301, 1, "rw"), 0);
	cr_assert_eq(run_prog(&p, 'c', 300 + 4094, 4094, "r"), 1);
	sk_cgroup_dev_free(&p);
	free(rs);
}

/* sk_cgroup_owner on a config with a user namespace mapping 0..65535 to
 * 100000.., the namespaces and cgroup mount given. */
static int owner_of(const char *namespaces, const char *mount_opts, unsigned uid, uid_t *owner)
{
	char json[1024];
	snprintf(json, sizeof(json),
		 "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"},"
		 "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":%u,\"gid\":0}},"
		 "\"mounts\":[{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
		 "\"options\":[%s]}],"
		 "\"linux\":{\"namespaces\":[%s],"
		 "\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
		 "\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]}}",
		 uid, mount_opts, namespaces);
	struct sk_spec s;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_spec_parse("config.json", json, strlen(json), &s, &err), 0, "%s", err.msg);
	*owner = 0;
	int r = sk_cgroup_owner(&s, owner);
	sk_spec_free(&s);
	return r;
}

Test(cgroup, delegation_rule)
{
	const char *both = "{\"type\":\"user\"},{\"type\":\"cgroup\"},{\"type\":\"mount\"}";
	uid_t o;
	cr_assert_eq(owner_of(both, "\"nosuid\",\"rw\"", 0, &o), 1);
	cr_assert_eq(o, 100000);
	cr_assert_eq(owner_of(both, "\"nosuid\"", 1000, &o), 1, "process.user.uid is the owner");
	cr_assert_eq(o, 101000);
	cr_assert_eq(owner_of(both, "\"ro\",\"nosuid\"", 0, &o), 0, "read-only cgroup mount");
	cr_assert_eq(owner_of(both, "\"rw\",\"ro\"", 0, &o), 0, "the last of ro/rw counts");
	cr_assert_eq(owner_of(both, "\"ro\",\"rw\"", 0, &o), 1);
	cr_assert_eq(owner_of("{\"type\":\"user\"},{\"type\":\"mount\"}", "\"rw\"", 0, &o), 0, "no cgroup namespace");
	cr_assert_eq(owner_of(both, "\"rw\"", 70000, &o), 0, "an unmapped uid");
}

/* ---- v1 device lines ----------------------------------------------------------- */

struct lines { char buf[4096]; size_t n; };

static int collect_line(void *ctx, bool allow, const char *line, struct sk_err *err)
{
	(void)err;
	struct lines *l = ctx;
	l->n += (size_t)snprintf(l->buf + l->n, sizeof(l->buf) - l->n, "%s %s\n", allow ? "allow" : "deny", line);
	return 0;
}

static void starts(const char *out, const char *want)
{
	cr_assert(!strncmp(out, want, strlen(want)), "lines:\n%s\nwanted first:\n%s", out, want);
}

/* The lines for rules. */
static const char *v1_lines(const struct sk_device_rule *rules, size_t n, struct lines *l)
{
	struct sk_err err = { 0 };
	l->n = 0;
	l->buf[0] = '\0';
	cr_assert_eq(sk_cgroup_dev_v1(rules, n, collect_line, l, &err), 0, "%s", err.msg);
	return l->buf;
}

Test(cgroup, devices_v1_lines)
{
	struct lines l;
	/* Deny all first, the rules in order, then the always-allowed list. */
	struct sk_device_rule r1[] = { rule(false, 'a', -1, -1, "rwm"), rule(true, 'c', 10, 229, "rwm"),
				       rule(true, 'b', 8, 20, "rw") };
	const char *out = v1_lines(r1, 3, &l);
	starts(out, "deny a\nallow c 10:229 rwm\nallow b 8:20 rw\nallow c *:* m\nallow b *:* m\nallow c 1:3 rwm\n");
	/* An "a" rule for part of the access is its c and b halves (v1 reads
	 * any "a" line as the whole default). */
	struct sk_device_rule r2[] = { rule(true, 'a', -1, -1, "m") };
	out = v1_lines(r2, 1, &l);
	starts(out, "deny a\nallow c *:* m\nallow b *:* m\nallow c *:* m\nallow b *:* m\nallow c 1:3 rwm\n");
	/* Allow-all, then deny exceptions, then the always-allowed ones take
	 * the exact exception back. */
	struct sk_device_rule r3[] = { rule(true, 'a', -1, -1, "rwm"), rule(false, 'c', 1, 3, "rwm"),
				       rule(false, 'c', 1, 11, "w") };
	out = v1_lines(r3, 3, &l);
	cr_assert_str_eq(out, "deny a\nallow a\ndeny c 1:3 rwm\ndeny c 1:11 w\nallow c 1:3 rwm\n");
	/* A deny of an exact allowed device takes its bits back. */
	struct sk_device_rule r4[] = { rule(true, 'c', 1, 11, "rw"), rule(false, 'c', 1, 11, "w") };
	out = v1_lines(r4, 2, &l);
	starts(out, "deny a\nallow c 1:11 rw\ndeny c 1:11 w\nallow c *:* m\n");
}

Test(cgroup, devices_v1_refuses_holes)
{
	struct lines l;
	struct sk_err err = { 0 };
	/* allow c 1:* then deny c 1:3: the kernel would keep c 1:* whole. */
	struct sk_device_rule r[] = { rule(true, 'c', 1, -1, "rwm"), rule(false, 'c', 1, 3, "w") };
	l.n = 0;
	cr_assert_eq(sk_cgroup_dev_v1(r, 2, collect_line, &l, &err), -1);
	cr_assert_str_eq(err.msg, "linux.resources.devices[1]: deny c 1:3 w cannot be expressed in cgroup v1: it "
				  "would punch a hole in an earlier wildcard rule");
	cr_assert_eq(l.n, 0, "lines emitted before the refusal: %s", l.buf);
	/* ... and the other way round: a wildcard deny over an exact allow. */
	struct sk_device_rule r2[] = { rule(true, 'c', 1, 3, "rw"), rule(false, 'c', -1, -1, "w") };
	cr_assert_eq(sk_cgroup_dev_v1(r2, 2, collect_line, &l, &err), -1);
	/* Bits that do not overlap are fine. */
	struct sk_device_rule r3[] = { rule(true, 'c', 1, -1, "r"), rule(false, 'c', 1, 3, "w") };
	cr_assert_eq(sk_cgroup_dev_v1(r3, 2, collect_line, &l, &err), 0, "%s", err.msg);
	struct sk_device_rule bad = rule(true, 'x', 1, 3, "r");
	cr_assert_eq(sk_cgroup_dev_v1(&bad, 1, collect_line, &l, &err), -1);
	cr_assert_str_eq(err.msg, "linux.resources.devices[0].type: \"x\" is not a, b or c");
}

/* ---- the host's hierarchies, from mountinfo and /proc/self/cgroup --------------- */

static void parse_host(const char *mountinfo, struct sk_cgroup_host *h)
{
	struct sk_err err = { 0 };
	char *text = strdup(mountinfo);
	cr_assert_eq(sk_cgroup_host_parse(text, h, &err), 0, "%s", err.msg);
	free(text);
}

/* The development host's shape, plus what other hosts do: cpu and cpuacct
 * mounted together (twice, the "/" root preferred), a named hierarchy, a
 * hierarchy with an unknown controller only, an escaped mount point. */
static const char hybrid[] =
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 /sub /mnt/cpu rw - cgroup cgroup rw,cpu,cpuacct\n"
	"33 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
	"35 31 0:32 / /sys/fs/cgroup/mem\\040ory rw,relatime - cgroup cgroup rw,memory\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"
	"42 31 0:39 / /sys/fs/cgroup/debug rw,relatime - cgroup cgroup rw,debug\n"
	"50 22 0:5 / /proc rw,nosuid - proc proc rw\n";

Test(cgroup, host_from_mountinfo)
{
	struct sk_cgroup_host h;
	parse_host(hybrid, &h);
	cr_assert_eq(h.n, 4, "cgroup2, cpu+cpuacct, memory, name=systemd (debug alone is not one we use)");
	cr_assert(h.v2 && h.h[0].v2, "cgroup2 first");
	cr_assert_str_eq(h.h[0].mount, "/sys/fs/cgroup/unified");
	cr_assert_str_eq(h.h[1].name, "cpu,cpuacct");
	cr_assert_str_eq(h.h[1].mount, "/sys/fs/cgroup/cpu,cpuacct", "the mount of the hierarchy's root");
	cr_assert_str_eq(h.h[1].root, "/");
	cr_assert_eq(h.h[1].ctrls, (1u << SK_CG_CPU) | (1u << SK_CG_CPUACCT));
	cr_assert_str_eq(h.h[2].mount, "/sys/fs/cgroup/mem ory");
	cr_assert_str_eq(h.h[3].name, "name=systemd");
	cr_assert_eq(h.h[3].ctrls, 0);
	cr_assert_eq(h.v1_ctrls, (1u << SK_CG_CPU) | (1u << SK_CG_CPUACCT) | (1u << SK_CG_MEMORY));
	cr_assert_eq(sk_cgroup_v1_ctrls("cpu,cpuacct"), h.h[1].ctrls);
	cr_assert_eq(sk_cgroup_v1_ctrls("blkio,name=x"), 1u << SK_CG_IO);

	/* skiff's own cgroup in each, relative to the mount's root. */
	struct sk_cgroup_own own;
	struct sk_err err = { 0 };
	char *text = strdup("4:name=systemd:/user.slice\n3:memory:/process_api/x\n2:cpuacct,cpu:/\n0::/init.scope\n");
	cr_assert_eq(sk_cgroup_own_parse(&h, text, &own, &err), 0, "%s", err.msg);
	cr_assert_str_eq(own.rel[0], "/init.scope");
	cr_assert_str_eq(own.rel[1], "/", "controllers in another order are the same hierarchy");
	cr_assert_str_eq(own.rel[2], "/process_api/x");
	cr_assert_str_eq(own.rel[3], "/user.slice");
	sk_cgroup_own_free(&own);
	/* A hierarchy missing from /proc/self/cgroup is an error naming it. */
	text = strdup("3:memory:/\n0::/\n");
	cr_assert_eq(sk_cgroup_own_parse(&h, text, &own, &err), -1);
	cr_assert_str_eq(err.msg, "cgroup: no cpu,cpuacct line in /proc/self/cgroup");
	sk_cgroup_host_free(&h);

	/* Legacy: no cgroup2. Unified: cgroup2 only. */
	parse_host("33 31 0:29 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n", &h);
	cr_assert(!h.v2 && h.n == 1 && h.v1_ctrls == 1u << SK_CG_PIDS);
	sk_cgroup_host_free(&h);
	parse_host("41 31 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", &h);
	cr_assert(h.v2 && h.n == 1 && !h.v1_ctrls);
	sk_cgroup_host_free(&h);
}

/* Inside a container whose cgroup mount shows a subtree: our own path must
 * be within it, and is taken relative to it. */
Test(cgroup, own_below_a_mount_root)
{
	struct sk_cgroup_host h;
	parse_host("41 31 0:38 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", &h);
	struct sk_cgroup_own own;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_own_parse(&h, strdup("0::/kubepods/pod1/c\n"), &own, &err), 0, "%s", err.msg);
	cr_assert_str_eq(own.rel[0], "/c");
	sk_cgroup_own_free(&own);
	cr_assert_eq(sk_cgroup_own_parse(&h, strdup("0::/kubepods/pod1\n"), &own, &err), 0, "%s", err.msg);
	cr_assert_str_eq(own.rel[0], "/");
	sk_cgroup_own_free(&own);
	cr_assert_eq(sk_cgroup_own_parse(&h, strdup("0::/kubepods/pod12\n"), &own, &err), -1);
	cr_assert(strstr(err.msg, "is outside the cgroup2 mount"), "%s", err.msg);
	sk_cgroup_host_free(&h);
}
