/* cgroup: conversions, path resolution, validation and the device program
 * (pure); then, as root, real cgroups on this machine's cgroup2 mount.
 * Tests that need a controller the hierarchy lacks skip with the reason
 * (the host is hybrid; tests/vm/run has them all). */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "skiff/cgroup.h"

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

static void resolves(const char *cp, const char *id, const char *own, const char *want)
{
	struct sk_err err = { 0 };
	char *rel = NULL;
	cr_assert_eq(sk_cgroup_resolve(cp, id, own, &rel, &err), 0, "%s: %s", cp ? cp : "(null)", err.msg);
	cr_assert_str_eq(rel, want);
	free(rel);
}

static void refuses(const char *cp, const char *id, const char *own, const char *msg)
{
	struct sk_err err = { 0 };
	char *rel = (char *)"x";
	cr_assert_eq(sk_cgroup_resolve(cp, id, own, &rel, &err), -1, "%s accepted", cp ? cp : "(null)");
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
	refuses("system.slice:skiff:c1", "c1", "/", "linux.cgroupsPath \"system.slice:skiff:c1\": needs --systemd-cgroup, not supported yet");
	refuses("/a/../b", "c1", NULL, "linux.cgroupsPath \"/a/../b\": \"..\" components are not allowed");
	refuses("../b", "c1", "/x", "linux.cgroupsPath \"../b\": \"..\" components are not allowed");
	refuses("/a/./b", "c1", NULL, "linux.cgroupsPath \"/a/./b\": \".\" components are not allowed");
	refuses("/", "c1", NULL, "linux.cgroupsPath \"/\": must name a cgroup below the root");
	refuses("///", "c1", NULL, "linux.cgroupsPath \"///\": must name a cgroup below the root");
	refuses(NULL, "..", "/", "cgroup: container id \"..\" cannot name a cgroup");
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
	cr_assert_eq(sk_cgroup_needs(r, &n, &err), -1, "accepted, wanted: %s", msg);
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
	needs_error(&r, "linux.resources.network: not supported on cgroup v2 (no net_cls or net_prio)");
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
	cr_assert_eq(sk_cgroup_needs(&r, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n.mask, 0);
	r.cpu.has_quota = true;                            /* any negative: no quota (runc, the kernel) */
	r.cpu.quota = -5;
	cr_assert_eq(sk_cgroup_needs(&r, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n.mask, 1u << SK_CG_CPU);
	char max[48];
	sk_cgroup_cpu_max(&r, max, sizeof(max));
	cr_assert_str_eq(max, "max 100000");
	cr_assert_eq(sk_cgroup_needs(NULL, &n, &err), 0);
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
	cr_assert_eq(sk_cgroup_needs(&r, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n.mask, (1u << SK_CG_MEMORY) | (1u << SK_CG_CPUSET) | (1u << SK_CG_PIDS) | (1u << SK_CG_RDMA));
	cr_assert_str_eq(n.why[SK_CG_MEMORY], "linux.resources.memory");
	cr_assert_str_eq(n.why[SK_CG_CPUSET], "linux.resources.cpu.cpus");
	cr_assert_str_eq(n.why_key[SK_CG_RDMA], "rdma.max");
	cr_assert_str_eq(sk_cgroup_ctrl_name(SK_CG_HUGETLB), "hugetlb");
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

/* ---- real cgroups (root) ------------------------------------------------------- */

static const char *mnt;
static int serial;

static void need_root(void)
{
	struct sk_err err = { 0 };
	if (geteuid() != 0)
		cr_skip_test("needs root");
	if (sk_cgroup_mount_find(&mnt, &err))
		cr_skip_test("no cgroup2 mount: %s", err.msg);
}

static bool controller_available(const char *name)
{
	char path[512], buf[512] = { 0 };
	snprintf(path, sizeof(path), "%s/cgroup.controllers", mnt);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (char *save = NULL, *t = strtok_r(buf, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
		if (!strcmp(t, name))
			return true;
	return false;
}

static void need_controller(const char *name)
{
	need_root();
	if (!controller_available(name))
		cr_skip_test("controller \"%s\" is not available in %s", name, mnt);
}

/* A cgroupsPath no other test (or run) uses. */
static char *unique(const char *tag)
{
	char *s;
	cr_assert_neq(asprintf(&s, "/skiff-ut-%d-%d-%s", (int)getpid(), serial++, tag), -1);
	return s;
}

static struct sk_spec spec_at(const char *cgpath)
{
	struct sk_spec s;
	memset(&s, 0, sizeof(s));
	s.has_linux = true;
	s.linux_.cgroups_path = (char *)cgpath;
	return s;
}

/* What a test made, so a failed one leaves no process or cgroup behind. */
static char made_paths[8][512];

static void cleanup(void)
{
	for (size_t i = 0; i < sizeof(made_paths) / sizeof(made_paths[0]); i++) {
		struct sk_cgroup cg;
		struct sk_err err;
		if (!made_paths[i][0] || sk_cgroup_open(made_paths[i], &cg, &err))
			continue;
		sk_cgroup_kill(&cg, &err);
		sk_cgroup_destroy(&cg, &err);
		sk_cgroup_close(&cg);
	}
}

TestSuite(cgroup_root, .fini = cleanup);

static void prepare_ok(struct sk_spec *s, struct sk_cgroup *cg)
{
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_prepare(s, "ut", cg, &err), 0, "prepare: %s", err.msg);
	cr_assert_geq(cg->dir_fd, 0);
	for (size_t i = 0; i < sizeof(made_paths) / sizeof(made_paths[0]); i++)
		if (!made_paths[i][0]) {
			snprintf(made_paths[i], sizeof(made_paths[i]), "%s", cg->path);
			break;
		}
}

static void destroy_ok(struct sk_cgroup *cg)
{
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_destroy(cg, &err), 0, "destroy: %s", err.msg);
	struct stat st;
	cr_assert_eq(stat(cg->path, &st), -1, "%s still exists", cg->path);
	sk_cgroup_close(cg);
}

static void file_is(const struct sk_cgroup *cg, const char *name, const char *want)
{
	char buf[256];
	struct sk_err err = { 0 };
	cr_assert_geq(sk_cgroup_read(cg, name, buf, sizeof(buf), &err), 0, "%s", err.msg);
	buf[strcspn(buf, "\n")] = '\0';
	cr_assert_str_eq(buf, want, "%s/%s", cg->path, name);
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

struct clone_args_v2 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/* A child started the way the init is: clone3 CLONE_INTO_CGROUP with the
 * cgroup's dir_fd.  It runs fn and exits with its result. */
static pid_t spawn_in(const struct sk_cgroup *cg, int (*fn)(void *), void *arg)
{
	struct clone_args_v2 a = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)cg->dir_fd };
	long pid = syscall(SYS_clone3, &a, sizeof(a));
	cr_assert_neq(pid, -1, "clone3 into %s: %s", cg->path, strerror(errno));
	if (pid == 0)
		_exit(fn(arg));
	return (pid_t)pid;
}

static int wait_status(pid_t pid)
{
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return st;
}

static int sleeper(void *arg)
{
	(void)arg;
	while (pause() < 0) {
	}
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static size_t count_pids(const struct sk_cgroup *cg)
{
	pid_t *pids;
	size_t n;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_pids(cg, &pids, &n, &err), 0, "%s", err.msg);
	free(pids);
	return n;
}

Test(cgroup_root, create_destroy_no_controllers)
{
	need_root();
	char *p = unique("plain");
	struct sk_spec s = spec_at(p);
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	cr_assert(cg.created);
	cr_assert_str_eq(cg.mount, mnt);
	cr_assert_str_eq(cg.rel, p);
	char want[512];
	snprintf(want, sizeof(want), "%s%s", mnt, p);
	cr_assert_str_eq(cg.path, want);
	struct stat st;
	cr_assert_eq(stat(cg.path, &st), 0);
	struct sk_cgroup_stats stats;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_stats(&cg, &stats, &err), 0, "%s", err.msg);
	sk_cgroup_stats_free(&stats);
	char path[512];
	snprintf(path, sizeof(path), "%s", cg.path);
	destroy_ok(&cg);
	/* Gone already: not an error. */
	struct sk_cgroup again;
	cr_assert_eq(sk_cgroup_open(path, &again, &err), -1);
	cr_assert_eq(err.errnum, ENOENT);
	again.path = path;
	cr_assert_eq(sk_cgroup_destroy(&again, &err), 0, "%s", err.msg);
	free(p);
}

Test(cgroup_root, default_path_from_id)
{
	need_root();
	struct sk_spec s = spec_at(NULL);
	struct sk_cgroup cg;
	struct sk_err err = { 0 };
	char id[64];
	snprintf(id, sizeof(id), "skiff-ut-%d-default", (int)getpid());
	cr_assert_eq(sk_cgroup_prepare(&s, id, &cg, &err), 0, "%s", err.msg);
	const char *base = strrchr(cg.rel, '/');
	cr_assert_str_eq(base + 1, id);
	destroy_ok(&cg);
}

Test(cgroup_root, nested_path_and_hugetlb)
{
	need_controller("hugetlb");
	if (access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK))
		cr_skip_test("no 2MB huge pages on this kernel");
	char *top = unique("nest"), path[256];
	snprintf(path, sizeof(path), "%s/a/b", top);
	struct sk_spec s = spec_at(path);
	struct sk_hugepage_limit h = { (char *)"2MB", 4 << 21 };
	s.linux_.resources.hugepage_limits = &h;
	s.linux_.resources.n_hugepage_limits = 1;
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	file_is(&cg, "hugetlb.2MB.max", "8388608");
	char ctl[512], buf[256];
	snprintf(ctl, sizeof(ctl), "%s%s/a/cgroup.subtree_control", mnt, top);
	FILE *f = fopen(ctl, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_assert(strstr(buf, "hugetlb"), "%s: %s", ctl, buf);
	destroy_ok(&cg);
	/* Parents stay: they may be shared. */
	snprintf(ctl, sizeof(ctl), "%s%s/a", mnt, top);
	cr_assert_eq(rmdir(ctl), 0);
	snprintf(ctl, sizeof(ctl), "%s%s", mnt, top);
	cr_assert_eq(rmdir(ctl), 0);
	free(top);
}

Test(cgroup_root, missing_controller_is_named)
{
	need_root();
	if (controller_available("memory"))
		cr_skip_test("memory is available in %s: nothing missing to report", mnt);
	char *top = unique("miss"), path[256];
	snprintf(path, sizeof(path), "%s/leaf", top);
	struct sk_spec s = spec_at(path);
	s.linux_.resources.memory.present = true;
	s.linux_.resources.memory.has_limit = true;
	s.linux_.resources.memory.limit = 1 << 26;
	struct sk_cgroup cg;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_prepare(&s, "ut", &cg, &err), -1);
	char want[512];
	snprintf(want, sizeof(want),
		 "cgroup: controller \"memory\" is not available in %s (needed by linux.resources.memory)", mnt);
	cr_assert_str_eq(err.msg, want);
	cr_assert_eq(cg.dir_fd, -1);
	cr_assert_null(cg.path);
	/* Nothing left behind, parents included. */
	char made[512];
	snprintf(made, sizeof(made), "%s%s", mnt, top);
	cr_assert_eq(access(made, F_OK), -1, "%s left behind", made);
	free(top);
}

Test(cgroup_root, missing_unified_controller_is_named)
{
	need_root();
	const char *missing = NULL;
	static const char *const all[] = { "memory", "pids", "cpu", "io", "cpuset", "rdma", "misc" };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && !missing; i++)
		if (!controller_available(all[i]))
			missing = all[i];
	if (!missing)
		cr_skip_test("every controller is available in %s", mnt);
	char key[32], want[512];
	snprintf(key, sizeof(key), "%s.max", missing);
	char *p = unique("uni");
	struct sk_spec s = spec_at(p);
	struct sk_kv kv = { key, (char *)"max" };
	s.linux_.resources.unified = &kv;
	s.linux_.resources.n_unified = 1;
	struct sk_cgroup cg;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_prepare(&s, "ut", &cg, &err), -1);
	snprintf(want, sizeof(want), "cgroup: controller \"%s\" is not available in %s (needed by linux.resources.unified[\"%s\"])",
		 missing, mnt, key);
	cr_assert_str_eq(err.msg, want);
	free(p);
}

Test(cgroup_root, existing_cgroup_reused_or_refused)
{
	need_root();
	char *p = unique("exist"), path[512];
	snprintf(path, sizeof(path), "%s%s", mnt, p);
	cr_assert_eq(mkdir(path, 0755), 0);
	struct sk_spec s = spec_at(p);
	struct sk_cgroup cg, busy;
	prepare_ok(&s, &cg);
	cr_assert_not(cg.created);
	/* With a process in it, it belongs to someone: refused. */
	pid_t pid = spawn_in(&cg, sleeper, NULL);
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_prepare(&s, "ut", &busy, &err), -1);
	char want[600];
	snprintf(want, sizeof(want), "cgroup \"%s\" already exists and has processes in it", path);
	cr_assert_str_eq(err.msg, want);
	cr_assert_eq(access(path, F_OK), 0, "a refused prepare removed a cgroup it did not make");
	cr_assert_eq(sk_cgroup_kill(&cg, &err), 0, "%s", err.msg);
	int st = wait_status(pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* With a sub-cgroup, the init would land in an inner node: refused. */
	char sub[600];
	snprintf(sub, sizeof(sub), "%s/sub", path);
	cr_assert_eq(mkdir(sub, 0755), 0);
	cr_assert_eq(sk_cgroup_prepare(&s, "ut", &busy, &err), -1);
	snprintf(want, sizeof(want), "cgroup \"%s\" already exists and has sub-cgroups", path);
	cr_assert_str_eq(err.msg, want);
	destroy_ok(&cg);
	free(p);
}

Test(cgroup_root, open_checks_path)
{
	need_root();
	struct sk_cgroup cg;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_open("/etc", &cg, &err), -1);
	cr_assert(strstr(err.msg, "is not below the cgroup2 mount"), "%s", err.msg);
	cr_assert_eq(sk_cgroup_open(mnt, &cg, &err), -1);
	char *p = unique("open");
	struct sk_spec s = spec_at(p);
	struct sk_cgroup made;
	prepare_ok(&s, &made);
	cr_assert_eq(sk_cgroup_open(made.path, &cg, &err), 0, "%s", err.msg);
	cr_assert_str_eq(cg.rel, p);
	cr_assert_str_eq(cg.mount, mnt);
	cr_assert_not(cg.created);
	sk_cgroup_close(&cg);
	cr_assert_eq(cg.dir_fd, -1);
	destroy_ok(&made);
	free(p);
}

static int try_kmsg_and_null(void *arg)
{
	(void)arg;
	int fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return 10;
	close(fd);
	fd = open("/dev/kmsg", O_RDONLY);
	if (fd >= 0) {
		close(fd);
		return 0;   /* allowed */
	}
	return errno == EPERM ? 1 : 20;   /* 1: denied by the device program */
}

Test(cgroup_root, device_program_enforced_and_replaced)
{
	need_root();
	if (access("/dev/kmsg", R_OK))
		cr_skip_test("no /dev/kmsg to be denied");
	char *p = unique("dev");
	struct sk_spec s = spec_at(p);
	struct sk_device_rule deny_all = rule(false, 'a', -1, -1, "rwm");
	s.linux_.resources.devices = &deny_all;
	s.linux_.resources.n_devices = 1;
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	int st = wait_status(spawn_in(&cg, try_kmsg_and_null, NULL));
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d: /dev/kmsg should be denied, /dev/null allowed", st);
	/* update: the old program must be gone, not just joined by the new. */
	struct sk_resources upd;
	memset(&upd, 0, sizeof(upd));
	struct sk_device_rule allow_kmsg[] = { rule(false, 'a', -1, -1, "rwm"), rule(true, 'c', 1, 11, "r") };
	upd.devices = allow_kmsg;
	upd.n_devices = 2;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_apply(&cg, &upd, true, &err), 0, "%s", err.msg);
	st = wait_status(spawn_in(&cg, try_kmsg_and_null, NULL));
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d: /dev/kmsg should be allowed after update", st);
	/* Reusing the cgroup (prepare on an existing, empty one) replaces too. */
	struct sk_cgroup again;
	prepare_ok(&s, &again);
	st = wait_status(spawn_in(&again, try_kmsg_and_null, NULL));
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d after re-prepare", st);
	sk_cgroup_close(&again);
	destroy_ok(&cg);
	free(p);
}

struct counter { volatile unsigned long n; };

static int spin(void *arg)
{
	struct counter *c = arg;
	while (c->n + 1 != 0)
		c->n++;
	return 0;
}

Test(cgroup_root, freeze_thaw)
{
	need_root();
	char *p = unique("freeze");
	struct sk_spec s = spec_at(p);
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	if (faccessat(cg.dir_fd, "cgroup.freeze", F_OK, 0)) {
		destroy_ok(&cg);
		cr_skip_test("no cgroup.freeze (kernel before 5.2)");
	}
	struct counter *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(c, MAP_FAILED);
	pid_t pid = spawn_in(&cg, spin, c);
	while (c->n == 0)
		sleep_ms(1);
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_freeze(&cg, true, &err), 0, "%s", err.msg);
	cr_assert_eq(sk_cgroup_is_frozen(cg.path), 1);
	unsigned long a = c->n;
	sleep_ms(100);
	cr_assert_eq(c->n, a, "the frozen child made progress");
	cr_assert_eq(sk_cgroup_freeze(&cg, false, &err), 0, "%s", err.msg);
	cr_assert_eq(sk_cgroup_is_frozen(cg.path), 0);
	for (int i = 0; i < 500 && c->n == a; i++)
		sleep_ms(1);
	cr_assert_gt(c->n, a, "the thawed child made no progress");
	/* Killing a frozen cgroup works too. */
	cr_assert_eq(sk_cgroup_freeze(&cg, true, &err), 0, "%s", err.msg);
	cr_assert_eq(sk_cgroup_kill(&cg, &err), 0, "%s", err.msg);
	int st = wait_status(pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	destroy_ok(&cg);
	munmap(c, sizeof(*c));
	free(p);
}

static int fork_and_sleep(void *arg)
{
	(void)arg;
	if (fork() < 0)
		return 1;
	return sleeper(NULL);
}

static void kill_test(bool fallback)
{
	need_root();
	char *p = unique(fallback ? "killeach" : "kill");
	struct sk_spec s = spec_at(p);
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	/* A sub-cgroup with its own process: kill reaches it too. */
	char sub[600];
	snprintf(sub, sizeof(sub), "%s/sub", cg.path);
	cr_assert_eq(mkdir(sub, 0755), 0);
	struct sk_cgroup subcg = SK_CGROUP_INIT;
	subcg.path = sub;
	subcg.dir_fd = open(sub, O_RDONLY | O_DIRECTORY);
	pid_t a = spawn_in(&cg, fork_and_sleep, NULL);
	pid_t b = spawn_in(&subcg, sleeper, NULL);
	close(subcg.dir_fd);
	for (int i = 0; i < 1000 && count_pids(&cg) < 3; i++)
		sleep_ms(1);
	cr_assert_eq(count_pids(&cg), 3);
	struct sk_err err = { 0 };
	int rc = fallback ? sk_cgroup_kill_each(&cg, &err) : sk_cgroup_kill(&cg, &err);
	cr_assert_eq(rc, 0, "%s", err.msg);
	int st = wait_status(a);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	st = wait_status(b);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	destroy_ok(&cg);   /* the orphaned grandchild is waited for, the sub-cgroup removed */
	free(p);
}

Test(cgroup_root, kill_all) { kill_test(false); }
Test(cgroup_root, kill_each_fallback) { kill_test(true); }

Test(cgroup_root, destroy_names_what_is_left)
{
	need_root();
	char *p = unique("busy");
	struct sk_spec s = spec_at(p);
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	pid_t pid = spawn_in(&cg, sleeper, NULL);
	pid_t *pids;
	size_t n;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_pids(&cg, &pids, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_assert_eq(pids[0], pid);
	free(pids);
	cr_assert_eq(sk_cgroup_destroy(&cg, &err), -1);
	char want[600];
	snprintf(want, sizeof(want), "remove cgroup \"%s\": processes still in it: %d", cg.path, (int)pid);
	cr_assert_str_eq(err.msg, want);
	kill(pid, SIGKILL);
	wait_status(pid);
	destroy_ok(&cg);
	free(p);
}

/* ---- controllers (the VM has them all) -------------------------------------------- */

/* Uses 4 MiB, then sleeps. */
static int hog(void *arg)
{
	(void)arg;
	size_t size = 4 << 20;
	char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 1;
	memset(m, 1, size);
	return sleeper(NULL);
}

Test(cgroup_root, memory_files)
{
	need_controller("memory");
	char *p = unique("mem");
	struct sk_spec s = spec_at(p);
	struct sk_resources *r = &s.linux_.resources;
	r->memory.present = true;
	r->memory.has_limit = true;
	r->memory.limit = 64 << 20;
	r->memory.has_reservation = true;
	r->memory.reservation = 32 << 20;
	r->memory.has_swap = true;
	r->memory.swap = 96 << 20;
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	file_is(&cg, "memory.max", "67108864");
	file_is(&cg, "memory.low", "33554432");
	if (faccessat(cg.dir_fd, "memory.swap.max", F_OK, 0) == 0)
		file_is(&cg, "memory.swap.max", "33554432");
	/* checkBeforeUpdate refuses a limit under what is in use. */
	struct sk_resources upd;
	memset(&upd, 0, sizeof(upd));
	upd.memory.present = true;
	upd.memory.has_limit = true;
	upd.memory.limit = 1 << 20;
	upd.memory.has_check_before_update = true;
	upd.memory.check_before_update = true;
	pid_t pid = spawn_in(&cg, hog, NULL);
	char cur[32];
	struct sk_err err = { 0 };
	for (int i = 0; i < 10000; i++) {
		cr_assert_geq(sk_cgroup_read(&cg, "memory.current", cur, sizeof(cur), &err), 0);
		if (strtoull(cur, NULL, 10) > (2 << 20))
			break;
		sleep_ms(1);
	}
	cr_assert_eq(sk_cgroup_apply(&cg, &upd, true, &err), -1);
	cr_assert(strstr(err.msg, "linux.resources.memory.limit: 1048576 is not above the current usage"), "%s", err.msg);
	file_is(&cg, "memory.max", "67108864");
	upd.memory.limit = -1;
	cr_assert_eq(sk_cgroup_apply(&cg, &upd, true, &err), 0, "%s", err.msg);
	file_is(&cg, "memory.max", "max");
	struct sk_cgroup_stats st;
	cr_assert_eq(sk_cgroup_stats(&cg, &st, &err), 0, "%s", err.msg);
	cr_assert(st.has_memory);
	cr_assert_gt(st.mem_current, 0);
	cr_assert_eq(st.mem_max, SK_CG_MAX);
	cr_assert_gt(st.n_mem_stat, 5);
	sk_cgroup_stats_free(&st);
	kill(pid, SIGKILL);
	wait_status(pid);
	destroy_ok(&cg);
	free(p);
}

Test(cgroup_root, cpu_files)
{
	need_controller("cpu");
	char *p = unique("cpu");
	struct sk_spec s = spec_at(p);
	struct sk_resources *r = &s.linux_.resources;
	r->cpu.present = true;
	r->cpu.has_shares = true;
	r->cpu.shares = 1024;
	r->cpu.has_quota = true;
	r->cpu.quota = 50000;
	r->cpu.has_period = true;
	r->cpu.period = 100000;
	r->cpu.has_burst = true;
	r->cpu.burst = 20000;
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	file_is(&cg, "cpu.weight", "100");
	file_is(&cg, "cpu.max", "50000 100000");
	if (faccessat(cg.dir_fd, "cpu.max.burst", F_OK, 0) == 0)
		file_is(&cg, "cpu.max.burst", "20000");
	/* update: quota -1 is "max"; a burst above the old quota is fine. */
	struct sk_resources upd;
	memset(&upd, 0, sizeof(upd));
	upd.cpu.present = true;
	upd.cpu.has_quota = true;
	upd.cpu.quota = 200000;
	upd.cpu.has_burst = true;
	upd.cpu.burst = 150000;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_apply(&cg, &upd, true, &err), 0, "%s", err.msg);
	file_is(&cg, "cpu.max", "200000 100000");
	upd.cpu.quota = -1;
	upd.cpu.has_burst = false;
	cr_assert_eq(sk_cgroup_apply(&cg, &upd, true, &err), 0, "%s", err.msg);
	file_is(&cg, "cpu.max", "max 100000");
	destroy_ok(&cg);
	free(p);
}

Test(cgroup_root, cpuset_files)
{
	need_controller("cpuset");
	char *p = unique("cpuset");
	struct sk_spec s = spec_at(p);
	s.linux_.resources.cpu.present = true;
	s.linux_.resources.cpu.cpus = (char *)"0";
	s.linux_.resources.cpu.mems = (char *)"0";
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	file_is(&cg, "cpuset.cpus", "0");
	file_is(&cg, "cpuset.mems", "0");
	destroy_ok(&cg);
	free(p);
}

static int try_fork(void *arg)
{
	(void)arg;
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid > 0) {
		waitpid(pid, NULL, 0);
		return 1;   /* the limit did not hold */
	}
	return errno == EAGAIN ? 0 : 2;
}

Test(cgroup_root, pids_limit)
{
	need_controller("pids");
	char *p = unique("pids");
	struct sk_spec s = spec_at(p);
	s.linux_.resources.pids.present = true;
	s.linux_.resources.pids.has_limit = true;
	s.linux_.resources.pids.limit = 0;   /* 1.3 configs: 1, as runc, so the init can enter */
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	file_is(&cg, "pids.max", "1");
	int st = wait_status(spawn_in(&cg, try_fork, NULL));
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork was not refused (status %d)", st);
	struct sk_resources upd;
	memset(&upd, 0, sizeof(upd));
	upd.pids.present = true;
	upd.pids.has_limit = true;
	upd.pids.limit = -1;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_apply(&cg, &upd, true, &err), 0, "%s", err.msg);
	file_is(&cg, "pids.max", "max");
	st = wait_status(spawn_in(&cg, try_fork, NULL));
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "fork failed without a limit (status %d)", st);
	struct sk_cgroup_stats stats;
	cr_assert_eq(sk_cgroup_stats(&cg, &stats, &err), 0, "%s", err.msg);
	cr_assert(stats.has_pids);
	cr_assert_eq(stats.pids_max, SK_CG_MAX);
	sk_cgroup_stats_free(&stats);
	destroy_ok(&cg);
	free(p);
}

/* The first block device the kernel lists; in the throwaway VM (which has
 * none) null_blk makes one. */
static bool block_device(int64_t *major, int64_t *minor)
{
	const char *cmd = getenv("SKIFF_IN_VM") ? "modprobe -q null_blk 2>/dev/null; ls /sys/dev/block 2>/dev/null | head -n1"
						: "ls /sys/dev/block 2>/dev/null | head -n1";
	FILE *f = popen(cmd, "r");
	if (!f)
		return false;
	long a, b;
	bool ok = fscanf(f, "%ld:%ld", &a, &b) == 2;
	pclose(f);
	*major = a;
	*minor = b;
	return ok;
}

Test(cgroup_root, io_files)
{
	need_controller("io");
	char *p = unique("io");
	struct sk_spec s = spec_at(p);
	struct sk_resources *r = &s.linux_.resources;
	r->block_io.present = true;
	r->block_io.has_weight = true;
	r->block_io.weight = 500;
	int64_t major = 0, minor = 0;
	bool dev = block_device(&major, &minor);
	struct sk_throttle_device t = { major, minor, 1048576 };
	if (dev) {
		r->block_io.throttle_read_bps = &t;
		r->block_io.n_throttle_read_bps = 1;
	}
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	if (faccessat(cg.dir_fd, "io.bfq.weight", F_OK, 0) == 0)
		file_is(&cg, "io.bfq.weight", "default 500");
	else
		file_is(&cg, "io.weight", "default 4950");
	if (dev) {
		char want[64];
		snprintf(want, sizeof(want), "%ld:%ld rbps=1048576 wbps=max riops=max wiops=max", (long)major, (long)minor);
		file_is(&cg, "io.max", want);
	}
	destroy_ok(&cg);
	free(p);
	if (!dev)
		cr_skip_test("io.weight checked; no block device for io.max");
}

Test(cgroup_root, unified_files)
{
	need_controller("memory");
	char *p = unique("unified");
	struct sk_spec s = spec_at(p);
	struct sk_kv kv[] = { { (char *)"memory.high", (char *)"50000000" }, { (char *)"cgroup.max.descendants", (char *)"5" } };
	s.linux_.resources.unified = kv;
	s.linux_.resources.n_unified = 2;
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	file_is(&cg, "memory.high", "49999872");   /* rounded down to pages */
	file_is(&cg, "cgroup.max.descendants", "5");
	destroy_ok(&cg);
	free(p);
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
