/* cgroup, as root: each resource in the files of the backend that serves
 * its controller here (v1 on the hybrid development host, cgroup2 in
 * tests/vm/run), on create and on update, and the limits enforced where a
 * child can show it (fork refused at the pids limit, checkBeforeUpdate). */
#include <sched.h>
#include <sys/mman.h>

#include "cgroup_test.h"
#include "skiff/container/events.h"

TestSuite(cgroup_limits, .fini = cleanup);

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

static struct sk_resources memory_update(int64_t limit, int64_t swap)
{
	struct sk_resources u;
	memset(&u, 0, sizeof(u));
	u.memory.present = true;
	u.memory.has_limit = limit != 0;
	u.memory.limit = limit;
	u.memory.has_swap = swap != 0;
	u.memory.swap = swap;
	return u;
}

static void apply_ok(const struct sk_cgroup *cg, const struct sk_resources *r)
{
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_apply(cg, r, true, &err), 0, "%s", err.msg);
}

Test(cgroup_limits, memory_files)
{
	char b = need_controller(SK_CG_MEMORY);
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
	bool v;
	const char *path;
	int fd = sk_cgroup_ctrl_fd(&cg, SK_CG_MEMORY, &v, &path);
	bool swap = faccessat(fd, b == 'v' ? "memory.memsw.limit_in_bytes" : "memory.swap.max", F_OK, 0) == 0;
	if (b == 'v') {
		file_is(&cg, "memory.limit_in_bytes", "67108864");
		file_is(&cg, "memory.soft_limit_in_bytes", "33554432");
		if (swap)
			file_is(&cg, "memory.memsw.limit_in_bytes", "100663296");
	} else {
		file_is(&cg, "memory.max", "67108864");
		file_is(&cg, "memory.low", "33554432");
		if (swap)
			file_is(&cg, "memory.swap.max", "33554432");
	}
	/* checkBeforeUpdate refuses a limit under what is in use. */
	struct sk_resources upd = memory_update(1 << 20, 0);
	upd.memory.has_check_before_update = true;
	upd.memory.check_before_update = true;
	pid_t pid = spawn_in(&cg, hog, NULL);
	struct sk_err err = { 0 };
	uint64_t use = 0;
	for (int i = 0; i < 10000 && use <= (2 << 20); i++) {
		cr_assert(sk_cgroup_read_u64(fd, b == 'v' ? "memory.usage_in_bytes" : "memory.current", &use));
		sleep_ms(1);
	}
	cr_assert_eq(sk_cgroup_apply(&cg, &upd, true, &err), -1);
	cr_assert(strstr(err.msg, "linux.resources.memory.limit: 1048576 is not above the current usage"), "%s", err.msg);
	file_is(&cg, b == 'v' ? "memory.limit_in_bytes" : "memory.max", "67108864");
	upd.memory.limit = -1;
	apply_ok(&cg, &upd);
	file_is(&cg, b == 'v' ? "memory.limit_in_bytes" : "memory.max", b == 'v' ? "9223372036854771712" : "max");
	struct sk_stats st;
	cr_assert_eq(sk_events_stats(&cg, &st, &err), 0, "%s", err.msg);
	cr_assert_gt(st.usage.usage, 0);
	cr_assert_gt(st.n_raw, 5);
	sk_events_stats_free(&st);
	kill(pid, SIGKILL);
	wait_status(pid);
	destroy_ok(&cg);
	free(p);
}

/* v1 keeps limit <= memory+swap at each write: raising both, memory+swap
 * first; lowering, the limit first (runc's order). */
Test(cgroup_limits, memory_v1_order)
{
	if (need_controller(SK_CG_MEMORY) != 'v')
		cr_skip_test("memory is not a v1 controller here");
	char *p = unique("order");
	struct sk_spec s = spec_at(p);
	s.linux_.resources.memory = memory_update(64 << 20, 96 << 20).memory;
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	bool v;
	if (faccessat(sk_cgroup_ctrl_fd(&cg, SK_CG_MEMORY, &v, NULL), "memory.memsw.limit_in_bytes", F_OK, 0)) {
		destroy_ok(&cg);
		cr_skip_test("no swap accounting");
	}
	struct sk_resources up = memory_update(1 << 30, 2LL << 30);
	apply_ok(&cg, &up);
	file_is(&cg, "memory.limit_in_bytes", "1073741824");
	file_is(&cg, "memory.memsw.limit_in_bytes", "2147483648");
	struct sk_resources down = memory_update(32 << 20, 48 << 20);
	apply_ok(&cg, &down);
	file_is(&cg, "memory.limit_in_bytes", "33554432");
	file_is(&cg, "memory.memsw.limit_in_bytes", "50331648");
	/* memory+swap alone is checked against the limit in place. */
	struct sk_resources low = memory_update(0, 16 << 20);
	struct sk_err err = { 0 };
	cr_assert_eq(sk_cgroup_apply(&cg, &low, true, &err), -1);
	cr_assert(strstr(err.msg, "linux.resources.memory.swap"), "%s", err.msg);
	struct sk_resources inf = memory_update(-1, 0);
	apply_ok(&cg, &inf);
	file_is(&cg, "memory.memsw.limit_in_bytes", "9223372036854771712");
	/* Kernel memory: written where the kernel enforces it, else a warning. */
	struct sk_resources k;
	memset(&k, 0, sizeof(k));
	k.memory.present = true;
	k.memory.has_kernel_tcp = true;
	k.memory.kernel_tcp = 16 << 20;
	apply_ok(&cg, &k);
	file_is(&cg, "memory.kmem.tcp.limit_in_bytes", "16777216");
	k.memory.has_kernel = true;
	k.memory.kernel = 64 << 20;
	apply_ok(&cg, &k);
	destroy_ok(&cg);
	free(p);
}

Test(cgroup_limits, cpu_files)
{
	char b = need_controller(SK_CG_CPU);
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
	bool v;
	int fd = sk_cgroup_ctrl_fd(&cg, SK_CG_CPU, &v, NULL);
	if (b == 'v') {
		file_is(&cg, "cpu.shares", "1024");
		file_is(&cg, "cpu.cfs_quota_us", "50000");
		file_is(&cg, "cpu.cfs_period_us", "100000");
		if (faccessat(fd, "cpu.cfs_burst_us", F_OK, 0) == 0)
			file_is(&cg, "cpu.cfs_burst_us", "20000");
	} else {
		file_is(&cg, "cpu.weight", "100");
		file_is(&cg, "cpu.max", "50000 100000");
		if (faccessat(fd, "cpu.max.burst", F_OK, 0) == 0)
			file_is(&cg, "cpu.max.burst", "20000");
	}
	/* update: a quota alone keeps the period; -1 is no limit; a burst
	 * above the old quota is fine. */
	struct sk_resources upd;
	memset(&upd, 0, sizeof(upd));
	upd.cpu.present = true;
	upd.cpu.has_quota = true;
	upd.cpu.quota = 200000;
	upd.cpu.has_burst = true;
	upd.cpu.burst = 150000;
	apply_ok(&cg, &upd);
	if (b == 'v') {
		file_is(&cg, "cpu.cfs_quota_us", "200000");
		file_is(&cg, "cpu.cfs_period_us", "100000");
	} else {
		file_is(&cg, "cpu.max", "200000 100000");
	}
	upd.cpu.quota = -1;
	upd.cpu.has_burst = false;
	apply_ok(&cg, &upd);
	file_is(&cg, b == 'v' ? "cpu.cfs_quota_us" : "cpu.max", b == 'v' ? "-1" : "max 100000");
	destroy_ok(&cg);
	free(p);
}

/* 0 when the process may run on CPU 0 only. */
static int on_cpu0_only(void *arg)
{
	(void)arg;
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 2;
	return CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set) ? 0 : 1;
}

Test(cgroup_limits, cpuset_files)
{
	need_controller(SK_CG_CPUSET);
	char *p = unique("cpuset"), path[256];
	/* Nested: v1 fills each new level from its parent. */
	snprintf(path, sizeof(path), "%s/a/b", p);
	struct sk_spec s = spec_at(path);
	s.linux_.resources.cpu.present = true;
	s.linux_.resources.cpu.cpus = (char *)"0";
	s.linux_.resources.cpu.mems = (char *)"0";
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	file_is(&cg, "cpuset.cpus", "0");
	file_is(&cg, "cpuset.mems", "0");
	int st = wait_status(spawn_in(&cg, on_cpu0_only, NULL));
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child ran on a CPU outside cpuset 0 (status %d)", st);
	destroy_ok(&cg);
	for (size_t i = 0; i < host->n; i++) {
		char dir[512];
		snprintf(dir, sizeof(dir), "%s%s/a", host->h[i].mount, p);
		cr_assert_eq(rmdir(dir), 0, "%s: %s", dir, strerror(errno));
		snprintf(dir, sizeof(dir), "%s%s", host->h[i].mount, p);
		cr_assert_eq(rmdir(dir), 0, "%s: %s", dir, strerror(errno));
	}
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

Test(cgroup_limits, pids_limit)
{
	need_controller(SK_CG_PIDS);
	char *p = unique("pids");
	struct sk_spec s = spec_at(p);
	s.linux_.resources.pids.present = true;
	s.linux_.resources.pids.has_limit = true;
	s.linux_.resources.pids.limit = 0;   /* runc: 1, so the init can enter */
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
	apply_ok(&cg, &upd);
	file_is(&cg, "pids.max", "max");
	st = wait_status(spawn_in(&cg, try_fork, NULL));
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "fork failed without a limit (status %d)", st);
	struct sk_stats stats;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_events_stats(&cg, &stats, &err), 0, "%s", err.msg);
	cr_assert_eq(stats.pids_limit, 0, "runc's \"no limit\"");
	sk_events_stats_free(&stats);
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

/* Whether the v1 blkio hierarchy has a weight file (CFQ's or BFQ's). */
static bool v1_has_weight(void)
{
	for (size_t i = 0; i < host->n; i++) {
		if (host->h[i].v2 || !(host->h[i].ctrls & (1u << SK_CG_IO)))
			continue;
		int fd = open(host->h[i].mount, O_RDONLY | O_DIRECTORY);
		bool has = fd >= 0 && (faccessat(fd, "blkio.weight", F_OK, 0) == 0 ||
		                       faccessat(fd, "blkio.bfq.weight", F_OK, 0) == 0);
		if (fd >= 0)
			close(fd);
		return has;
	}
	return false;
}

Test(cgroup_limits, io_files)
{
	char b = need_controller(SK_CG_IO);
	char *p = unique("io");
	struct sk_spec s = spec_at(p);
	struct sk_resources *r = &s.linux_.resources;
	r->block_io.present = true;
	/* A v1 blkio without CFQ or BFQ (no scheduler with weights in this
	 * kernel) has no weight file: a weight is then refused with its name,
	 * and the throttle is what is left to check. */
	bool weights = b != 'v' || v1_has_weight();
	r->block_io.has_weight = true;
	r->block_io.weight = 500;
	if (!weights) {
		struct sk_cgroup refused;
		struct sk_err e = { 0 };
		cr_assert_lt(sk_cgroup_prepare(&s, "ut", &refused, &e), 0, "a weight without a weight file");
		cr_assert(strstr(e.msg, "linux.resources.blockIO.weight"), "%s", e.msg);
		r->block_io.has_weight = false;
	}
	int64_t major = 0, minor = 0;
	bool dev = block_device(&major, &minor);
	struct sk_throttle_device t = { major, minor, 1048576 };
	if (dev) {
		r->block_io.throttle_read_bps = &t;
		r->block_io.n_throttle_read_bps = 1;
	}
	struct sk_cgroup cg;
	struct sk_err err = { 0 };
	if (sk_cgroup_prepare(&s, "ut", &cg, &err) < 0 && dev && err.errnum == EINVAL) {
		/* A partition or a device without a queue takes no throttle. */
		dev = false;
		r->block_io.n_throttle_read_bps = 0;
	}
	if (!cg.n)
		prepare_ok(&s, &cg);
	bool v;
	int fd = sk_cgroup_ctrl_fd(&cg, SK_CG_IO, &v, NULL);
	char want[64];
	if (b == 'v') {
		const char *w = faccessat(fd, "blkio.weight", F_OK, 0) == 0 ? "blkio.weight" : "blkio.bfq.weight";
		char buf[64];
		if (weights) {
			cr_assert_geq(sk_cgroup_read_at(fd, "", w, buf, sizeof(buf), &err), 0, "%s", err.msg);
			cr_assert(strstr(buf, "500"), "%s: %s", w, buf);
		}
		snprintf(want, sizeof(want), "%ld:%ld 1048576", (long)major, (long)minor);
		if (dev)
			file_is(&cg, "blkio.throttle.read_bps_device", want);
	} else {
		if (faccessat(fd, "io.bfq.weight", F_OK, 0) == 0)
			file_is(&cg, "io.bfq.weight", "default 500");
		else
			file_is(&cg, "io.weight", "default 4950");
		snprintf(want, sizeof(want), "%ld:%ld rbps=1048576 wbps=max riops=max wiops=max", (long)major, (long)minor);
		if (dev)
			file_is(&cg, "io.max", want);
	}
	destroy_ok(&cg);
	free(p);
	if (!dev)
		cr_skip_test("the weight checked; no block device for a throttle");
}

Test(cgroup_limits, unified_files)
{
	need_root();
	if (!host->v2)
		cr_skip_test("no cgroup2 hierarchy");
	char *p = unique("unified");
	struct sk_spec s = spec_at(p);
	struct sk_kv kv[] = { { (char *)"cgroup.max.descendants", (char *)"5" },
			      { (char *)"memory.high", (char *)"50000000" } };
	s.linux_.resources.unified = kv;
	/* memory.high only where cgroup2 serves memory. */
	s.linux_.resources.n_unified = backend(SK_CG_MEMORY) == '2' ? 2 : 1;
	struct sk_cgroup cg;
	prepare_ok(&s, &cg);
	file_is(&cg, "cgroup.max.descendants", "5");
	if (s.linux_.resources.n_unified == 2)
		file_is(&cg, "memory.high", "49999872");   /* rounded down to pages */
	destroy_ok(&cg);
	free(p);
}
