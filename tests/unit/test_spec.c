/* test_spec: config.json parsing and validation (runtime/spec*.c, json*.c).
 * The fixtures live in spec-fixtures/: every valid/ file must parse, every
 * invalid/NAME.json must fail with exactly the line in NAME.err.  Inputs
 * too big to keep in the tree (the 10 MB file, deep nesting, a million
 * values) are generated here at run time. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/capability.h>

#include "skiff/spec/spec.h"

#define FIXTURES SK_SOURCE_DIR "/spec-fixtures"

/* Each test ends with a leak check of its own: LeakSanitizer's report at
 * exit does not fail a Criterion test. */
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#define LEAK_CHECK() cr_expect_eq(__lsan_do_recoverable_leak_check(), 0, "memory leaked (report above)")
#else
#define LEAK_CHECK() ((void)0)
#endif
#define TEST(suite, name)                                                    \
	static void suite##_##name(void);                                    \
	Test(suite, name) { suite##_##name(); LEAK_CHECK(); }                \
	static void suite##_##name(void)

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert(f, "open %s: %s", path, strerror(errno));
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	cr_assert_geq(n, 0);
	rewind(f);
	char *buf = malloc((size_t)n + 1);
	cr_assert(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Parses buf as "config.json"; returns the error line, or NULL on success
 * (the struct is then freed). */
static const char *parse_err(const char *buf, size_t len)
{
	static struct sk_err err;
	struct sk_spec s;
	memset(&err, 0, sizeof(err));
	if (sk_spec_parse("config.json", buf, len, &s, &err) == 0) {
		sk_spec_free(&s);
		return NULL;
	}
	/* A failed parse leaves nothing behind. */
	static const struct sk_spec zero;
	cr_assert(memcmp(&s, &zero, sizeof(s)) == 0, "struct not left empty after: %s", err.msg);
	return err.msg;
}

static const char *parse_str_err(const char *json)
{
	return parse_err(json, strlen(json));
}

static void parse_ok(const char *json, struct sk_spec *s)
{
	struct sk_err err = { 0 };
	int r = sk_spec_parse("config.json", json, strlen(json), s, &err);
	cr_assert_eq(r, 0, "unexpected error: %s", err.msg);
}

static void load_fixture(const char *rel, struct sk_spec *s)
{
	char path[4096];
	struct sk_err err = { 0 };
	snprintf(path, sizeof(path), "%s/%s", FIXTURES, rel);
	cr_assert_eq(sk_spec_load(path, s, &err), 0, "%s: %s", rel, err.msg);
}

static char tmpdir[64];

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/skiff-test-spec-XXXXXX");
	cr_assert(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/config.json", tmpdir);
	unlink(path);
	rmdir(tmpdir);
}

/* ---- valid fixtures ---- */

TEST(spec_valid, minimal)
{
	struct sk_spec s;
	load_fixture("valid/minimal.json", &s);
	cr_expect_str_eq(s.oci_version, "1.0.0");
	cr_expect_str_eq(s.root.path, "rootfs");
	cr_expect_not(s.root.readonly);
	cr_expect_not(s.has_process);
	cr_expect_not(s.has_linux);
	cr_expect_eq(s.n_mounts, 0);
	cr_expect_null(s.hostname);
	for (int k = 0; k < SK_HOOK_NKINDS; k++)
		cr_expect_eq(s.hooks.n[k], 0);
	sk_spec_free(&s);
}

/* What docker 20.10 and podman 4.3 send for "unset": runc 1.1 reads each
 * as nothing asked (issue 12). */
TEST(spec_valid, docker_sentinels)
{
	struct sk_spec s;
	load_fixture("valid/docker-20.10-resources.json", &s);
	const struct sk_resources *r = &s.linux_.resources;
	cr_expect(r->block_io.has_weight);
	cr_expect_eq(r->block_io.weight, 0);
	cr_expect_eq(r->block_io.leaf_weight, 0);
	cr_assert_eq(r->block_io.n_weight_device, 1);
	cr_expect_eq(r->block_io.weight_device[0].weight, 0);
	cr_expect_not(r->memory.has_swappiness, "swappiness 2^64-1 is docker's unset");
	cr_expect(r->memory.has_kernel);
	cr_expect_eq(r->memory.kernel, 0);
	cr_expect(r->pids.has_limit);
	cr_expect_eq(r->pids.limit, -1, "ociVersion 1.0.2: a pids limit of 0 is no limit");
	sk_spec_free(&s);
}

TEST(spec_valid, pids_zero_follows_oci_version)
{
	struct sk_spec s;
	load_fixture("valid/pids-limit-zero-spec-1.3.json", &s);
	cr_expect_eq(s.linux_.resources.pids.limit, 0, "runtime-spec 1.3: 0 is a limit");
	sk_spec_free(&s);
	parse_ok("{\"ociVersion\":\"1.2.1\",\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"pids\":{\"limit\":0}}}}", &s);
	cr_expect_eq(s.linux_.resources.pids.limit, -1);
	sk_spec_free(&s);
	parse_ok("{\"ociVersion\":\"1.10.0\",\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"pids\":{\"limit\":0}}}}", &s);
	cr_expect_eq(s.linux_.resources.pids.limit, 0);
	sk_spec_free(&s);
	parse_ok("{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"pids\":{\"limit\":5}}}}", &s);
	cr_expect_eq(s.linux_.resources.pids.limit, 5);
	sk_spec_free(&s);
}

TEST(spec_valid, runc_default)
{
	struct sk_spec s;
	load_fixture("valid/runc-default.json", &s);
	cr_expect_str_eq(s.oci_version, "1.0.2-dev");
	cr_assert(s.has_process);
	cr_expect(s.process.terminal);
	cr_assert_eq(s.process.n_args, 1);
	cr_expect_str_eq(s.process.args[0], "sh");
	cr_expect_str_eq(s.process.cwd, "/");
	cr_expect_eq(s.process.n_env, 2);
	uint64_t want = 1ull << CAP_AUDIT_WRITE | 1ull << CAP_KILL | 1ull << CAP_NET_BIND_SERVICE;
	cr_expect(s.process.caps.present);
	cr_expect_eq(s.process.caps.set[SK_CAP_BOUNDING], want);
	cr_expect_eq(s.process.caps.set[SK_CAP_AMBIENT], want);
	cr_expect_not(s.process.caps.has[SK_CAP_INHERITABLE]);
	cr_assert_eq(s.process.n_rlimits, 1);
	cr_expect_eq(s.process.rlimits[0].resource, RLIMIT_NOFILE);
	cr_expect_eq(s.process.rlimits[0].soft, 1024);
	cr_expect(s.process.no_new_privileges);
	cr_expect(s.root.readonly);
	cr_expect_str_eq(s.hostname, "runc");
	cr_assert_eq(s.n_mounts, 7);
	cr_expect_str_eq(s.mounts[6].destination, "/sys/fs/cgroup");
	cr_expect_str_eq(s.mounts[2].options[3], "ptmxmode=0666");
	cr_expect_null(s.mounts[0].options);
	cr_assert(s.has_linux);
	cr_expect_eq(s.linux_.n_namespaces, 6);
	cr_expect_not_null(sk_spec_namespace(&s, SK_NS_CGROUP));
	cr_expect_null(sk_spec_namespace(&s, SK_NS_USER));
	cr_assert_eq(s.linux_.resources.n_devices, 1);
	cr_expect_not(s.linux_.resources.devices[0].allow);
	cr_expect_eq(s.linux_.resources.devices[0].type, 'a');
	cr_expect_eq(s.linux_.resources.devices[0].major, -1);
	cr_expect_str_eq(s.linux_.resources.devices[0].access, "rwm");
	cr_expect_eq(s.linux_.n_masked_paths, 10);
	cr_expect_str_eq(s.linux_.readonly_paths[4], "/proc/sysrq-trigger");
	cr_expect_not(s.linux_.seccomp.present);
	sk_spec_free(&s);
}

TEST(spec_valid, maximal)
{
	struct sk_spec s;
	load_fixture("valid/maximal.json", &s);
	cr_expect_str_eq(s.root.path, "/var/lib/skiff/bundles/max/rootfs");
	cr_expect(s.root.readonly);

	cr_assert_eq(s.n_mounts, 2);
	const struct sk_mount *m = &s.mounts[1];
	cr_expect_str_eq(m->source, "/srv/data");
	cr_expect_eq(m->n_options, 3);
	cr_assert_eq(m->n_uid_mappings, 1);
	cr_expect_eq(m->uid_mappings[0].host_id, 200000);
	cr_expect_eq(m->gid_mappings[0].host_id, 300000);
	cr_expect_eq(m->gid_mappings[0].size, 65536);

	const struct sk_process *p = &s.process;
	cr_assert(s.has_process);
	cr_expect(p->has_console_size);
	cr_expect_eq(p->console_height, 25);
	cr_expect_eq(p->console_width, 80);
	cr_expect_eq(p->user.uid, 1000);
	cr_expect_eq(p->user.gid, 1001);
	cr_expect(p->user.has_umask);
	cr_expect_eq(p->user.umask, 18);
	cr_assert_eq(p->user.n_additional_gids, 2);
	cr_expect_eq(p->user.additional_gids[1], 4294967295u);
	cr_expect_str_eq(p->user.username, "app");
	cr_expect_str_eq(p->args[2], "ünïcödé ✓");
	cr_expect_str_eq(p->command_line, "app.exe --flag");
	cr_expect_str_eq(p->env[2], "NOEQUALS");
	cr_expect_str_eq(p->cwd, "/home/app");
	cr_expect_eq(p->caps.set[SK_CAP_BOUNDING],
		     1ull << CAP_CHOWN | 1ull << CAP_KILL | 1ull << CAP_SYS_ADMIN | 1ull << 40);
	cr_expect(p->caps.has[SK_CAP_INHERITABLE]);
	cr_expect_eq(p->caps.set[SK_CAP_INHERITABLE], 0);
	cr_expect_eq(p->caps.set[SK_CAP_AMBIENT], 1ull << CAP_NET_BIND_SERVICE);
	cr_assert_eq(p->n_rlimits, 2);
	cr_expect_eq(p->rlimits[1].resource, RLIMIT_CORE);
	cr_expect_str_eq(p->rlimits[1].type, "RLIMIT_CORE");
	cr_expect_eq(p->rlimits[1].hard, UINT64_MAX);
	cr_expect_eq(p->rlimits[0].hard, 4096);
	cr_expect(p->no_new_privileges);
	cr_expect_str_eq(p->apparmor_profile, "skiff-default");
	cr_expect(p->has_oom_score_adj);
	cr_expect_eq(p->oom_score_adj, -999);
	cr_expect_str_eq(p->selinux_label, "system_u:system_r:container_t:s0:c1,c2");
	cr_expect(p->io_priority.present);
	cr_expect_eq(p->io_priority.class_, 2 /* IOPRIO_CLASS_BE */);
	cr_expect_eq(p->io_priority.priority, 6);
	cr_expect(p->scheduler.present);
	cr_expect_eq(p->scheduler.policy, 6 /* SCHED_DEADLINE */);
	cr_expect_eq(p->scheduler.nice, -5);
	cr_expect_eq(p->scheduler.flags, 0x01 | 0x04);
	cr_expect_eq(p->scheduler.runtime, 10000000);
	cr_expect_eq(p->scheduler.deadline, 20000000);
	cr_expect_eq(p->scheduler.period, 30000000);
	cr_expect_str_eq(p->exec_cpu_affinity_initial, "7");
	cr_expect_str_eq(p->exec_cpu_affinity_final, "0-3,7");

	cr_expect_str_eq(s.hostname, "maximal");
	cr_expect_str_eq(s.domainname, "example.test");
	for (int k = 0; k < SK_HOOK_NKINDS; k++)
		cr_expect_geq(s.hooks.n[k], 1, "%s", sk_hook_kind_name(k));
	const struct sk_hook *h = &s.hooks.list[SK_HOOK_PRESTART][0];
	cr_expect_str_eq(h->path, "/usr/bin/prestart");
	cr_expect_eq(h->n_args, 2);
	cr_expect_str_eq(h->env[0], "K=V");
	cr_expect(h->has_timeout);
	cr_expect_eq(h->timeout, 3);
	cr_expect_not(s.hooks.list[SK_HOOK_CREATE_RUNTIME][0].has_timeout);
	cr_assert_eq(s.hooks.n[SK_HOOK_POSTSTOP], 2);
	cr_expect_eq(s.hooks.list[SK_HOOK_POSTSTOP][1].timeout, 60);
	cr_assert_eq(s.n_annotations, 2);
	cr_expect_str_eq(s.annotations[0].key, "com.example.key");
	cr_expect_str_eq(s.annotations[0].value, "value");

	const struct sk_linux *l = &s.linux_;
	cr_expect_eq(l->n_namespaces, 8);
	cr_expect_str_eq(sk_spec_namespace(&s, SK_NS_NET)->path, "/var/run/netns/max");
	cr_expect_null(sk_spec_namespace(&s, SK_NS_PID)->path);
	cr_expect_eq(l->n_uid_mappings, 1);
	cr_assert_eq(l->n_gid_mappings, 2);
	cr_expect_eq(l->gid_mappings[1].container_id, 65536);
	cr_expect_eq(l->gid_mappings[1].host_id, 5);
	cr_expect(l->time_offsets[0].present);
	cr_expect_eq(l->time_offsets[0].secs, -86400);
	cr_expect_eq(l->time_offsets[0].nanosecs, 999999999);
	cr_expect(l->time_offsets[1].present);
	cr_expect_eq(l->time_offsets[1].secs, 3600);
	cr_expect_eq(l->time_offsets[1].nanosecs, 0);
	cr_assert_eq(l->n_devices, 3);
	cr_expect_eq(l->devices[0].type, 'c');
	cr_expect_eq(l->devices[0].major, 10);
	cr_expect_eq(l->devices[0].minor, 229);
	cr_expect(l->devices[0].has_file_mode);
	cr_expect_eq(l->devices[0].file_mode, 0666);
	cr_expect(l->devices[0].has_uid);
	cr_expect_not(l->devices[1].has_file_mode);
	cr_expect_eq(l->devices[2].type, 'p');
	cr_expect_eq(l->devices[2].major, -1);
	cr_expect_str_eq(l->cgroups_path, "/skiff/maximal");

	const struct sk_resources *r = &l->resources;
	cr_assert(r->present);
	cr_assert_eq(r->n_devices, 3);
	cr_expect_str_eq(r->devices[1].access, "rwm"); /* "mwr" in the file */
	cr_expect_eq(r->devices[1].type, 'c');
	cr_expect_eq(r->devices[1].minor, 3);
	cr_expect_eq(r->devices[2].minor, -1);
	cr_expect_str_eq(r->devices[2].access, "r");
	cr_expect(r->memory.present);
	cr_expect_eq(r->memory.limit, 536870912);
	cr_expect_eq(r->memory.reservation, 268435456);
	cr_expect_eq(r->memory.swap, -1);
	cr_expect(r->memory.has_kernel);
	cr_expect_eq(r->memory.kernel, 0);
	cr_expect_eq(r->memory.kernel_tcp, 1048576);
	cr_expect_eq(r->memory.swappiness, 60);
	cr_expect(r->memory.has_disable_oom_killer && r->memory.disable_oom_killer);
	cr_expect(r->memory.has_use_hierarchy && !r->memory.use_hierarchy);
	cr_expect(r->memory.has_check_before_update && r->memory.check_before_update);
	cr_expect_eq(r->cpu.shares, 1024);
	cr_expect_eq(r->cpu.quota, 50000);
	cr_expect_eq(r->cpu.burst, 10000);
	cr_expect_eq(r->cpu.period, 100000);
	cr_expect_eq(r->cpu.realtime_runtime, 950000);
	cr_expect_eq(r->cpu.realtime_period, 1000000);
	cr_expect_str_eq(r->cpu.cpus, "0-3");
	cr_expect_str_eq(r->cpu.mems, "0");
	cr_expect(r->cpu.has_idle);
	cr_expect_eq(r->cpu.idle, 1);
	cr_expect(r->pids.has_limit);
	cr_expect_eq(r->pids.limit, 512);
	cr_expect_eq(r->block_io.weight, 500);
	cr_expect_eq(r->block_io.leaf_weight, 300);
	cr_assert_eq(r->block_io.n_weight_device, 2);
	cr_expect_eq(r->block_io.weight_device[0].weight, 600);
	cr_expect_not(r->block_io.weight_device[1].has_weight);
	cr_expect_eq(r->block_io.weight_device[1].leaf_weight, 1000);
	cr_expect_eq(r->block_io.weight_device[1].minor, 16);
	cr_expect_eq(r->block_io.throttle_read_bps[0].rate, 104857600);
	cr_expect_eq(r->block_io.throttle_write_bps[0].rate, 52428800);
	cr_expect_eq(r->block_io.throttle_read_iops[0].rate, 1000);
	cr_expect_eq(r->block_io.throttle_write_iops[0].rate, 500);
	cr_assert_eq(r->n_hugepage_limits, 2);
	cr_expect_str_eq(r->hugepage_limits[1].page_size, "1GB");
	cr_expect_eq(r->hugepage_limits[0].limit, 209715200);
	cr_assert_eq(r->n_rdma, 2);
	cr_expect_str_eq(r->rdma[0].device, "mlx5_1");
	cr_expect_eq(r->rdma[0].hca_handles, 3);
	cr_expect_eq(r->rdma[0].hca_objects, 10000);
	cr_expect_not(r->rdma[1].has_hca_handles);
	cr_expect(r->network.present);
	cr_expect_eq(r->network.class_id, 1048577);
	cr_assert_eq(r->network.n_priorities, 2);
	cr_expect_str_eq(r->network.priorities[1].name, "eth1");
	cr_expect_eq(r->network.priorities[1].priority, 1000);
	cr_assert_eq(r->n_unified, 2);
	cr_expect_str_eq(r->unified[0].key, "io.weight");
	cr_expect_str_eq(r->unified[0].value, "default 100");

	cr_assert_eq(l->n_sysctl, 2);
	cr_expect_str_eq(l->sysctl[1].key, "kernel.msgmax");
	const struct sk_seccomp *sc = &l->seccomp;
	cr_assert(sc->present);
	cr_expect_str_eq(sc->default_action, "SCMP_ACT_ERRNO");
	cr_expect(sc->has_default_errno_ret);
	cr_expect_eq(sc->default_errno_ret, 1);
	cr_expect_eq(sc->n_architectures, 3);
	cr_expect_str_eq(sc->flags[1], "SECCOMP_FILTER_FLAG_SPEC_ALLOW");
	cr_expect_str_eq(sc->listener_path, "/run/seccomp-agent.sock");
	cr_expect_str_eq(sc->listener_metadata, "metadata");
	cr_assert_eq(sc->n_syscalls, 4);
	cr_expect_eq(sc->syscalls[0].n_names, 3);
	cr_assert_eq(sc->syscalls[1].n_args, 2);
	cr_expect_eq(sc->syscalls[1].args[1].index, 5);
	cr_expect_eq(sc->syscalls[1].args[1].value, UINT64_MAX);
	cr_expect_eq(sc->syscalls[1].args[1].value_two, 8);
	cr_expect_str_eq(sc->syscalls[1].args[1].op, "SCMP_CMP_MASKED_EQ");
	cr_expect_str_eq(sc->syscalls[2].action, "SCMP_ACT_NOTIFY");
	cr_expect(sc->syscalls[3].has_errno_ret);
	cr_expect_eq(sc->syscalls[3].errno_ret, 38);
	cr_expect_str_eq(l->rootfs_propagation, "rslave");
	cr_expect_eq(l->n_masked_paths, 2);
	cr_expect_str_eq(l->readonly_paths[0], "/proc/sys");
	cr_expect_str_eq(l->mount_label, "system_u:object_r:container_file_t:s0:c1,c2");
	cr_expect(l->personality.present);
	cr_expect_str_eq(l->personality.domain, "LINUX32");
	cr_expect_eq(l->personality.n_flags, 0);
	sk_spec_free(&s);
}

/* ---- invalid fixtures ---- */

TEST(spec_invalid, every_fixture_gives_its_error)
{
	DIR *d = opendir(FIXTURES "/invalid");
	cr_assert(d);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char path[4096], errpath[4096];
		if (len > 4 && strcmp(e->d_name + len - 4, ".err") == 0) {
			/* no .err without its .json */
			snprintf(path, sizeof(path), "%s/invalid/%.*s.json", FIXTURES, (int)len - 4, e->d_name);
			cr_expect_eq(access(path, F_OK), 0, "%s has no .json", e->d_name);
			continue;
		}
		if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/invalid/%s", FIXTURES, e->d_name);
		snprintf(errpath, sizeof(errpath), "%s/invalid/%.*s.err", FIXTURES, (int)len - 5, e->d_name);
		size_t n_json, n_err;
		char *json = slurp(path, &n_json);
		char *want = slurp(errpath, &n_err);
		cr_assert(n_err > 0 && want[n_err - 1] == '\n' && !memchr(want, '\n', n_err - 1),
			  "%s: the .err file holds one line", errpath);
		want[n_err - 1] = '\0';
		const char *got = parse_err(json, n_json);
		cr_expect(got != NULL, "%s: parsed without error", e->d_name);
		if (got)
			cr_expect_str_eq(got, want, "%s", e->d_name);
		free(json);
		free(want);
		n++;
	}
	closedir(d);
	cr_expect_geq(n, 45, "only %d invalid fixtures", n);
}

/* sk_spec_load names the file by its base name, like the fixtures. */
TEST(spec_invalid, load_uses_base_name)
{
	size_t n;
	char *json = slurp(FIXTURES "/invalid/ns-duplicate-type.json", &n);
	make_tmpdir();
	char path[128];
	snprintf(path, sizeof(path), "%s/config.json", tmpdir);
	FILE *f = fopen(path, "wb");
	cr_assert(f);
	cr_assert_eq(fwrite(json, 1, n, f), n);
	fclose(f);
	struct sk_spec s;
	struct sk_err err = { 0 };
	cr_expect_eq(sk_spec_load(path, &s, &err), -1);
	cr_expect_str_eq(err.msg, "config.json: linux.namespaces[2].type: duplicate namespace type \"pid\"");
	remove_tmpdir();
	free(json);
}

TEST(spec_invalid, load_missing_file)
{
	struct sk_spec s;
	struct sk_err err = { 0 };
	cr_expect_eq(sk_spec_load("/nonexistent/bundle/config.json", &s, &err), -1);
	cr_expect_eq(err.errnum, ENOENT);
	cr_expect_str_eq(err.msg, "open \"/nonexistent/bundle/config.json\": ENOENT");
}

TEST(spec_invalid, load_not_regular)
{
	struct sk_spec s;
	struct sk_err err = { 0 };
	make_tmpdir();
	char path[128];
	snprintf(path, sizeof(path), "%s/config.json", tmpdir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	/* Must not block waiting for a writer. */
	cr_expect_eq(sk_spec_load(path, &s, &err), -1);
	cr_expect_str_eq(err.msg, "config.json: not a regular file");
	remove_tmpdir();
}

/* ---- limits ---- */

/* The 10 MB file is generated here, not kept in the tree; it is sparse,
 * and must be refused from its size without being read. */
TEST(spec_limits, ten_megabyte_file)
{
	make_tmpdir();
	char path[128];
	snprintf(path, sizeof(path), "%s/config.json", tmpdir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 10 * 1024 * 1024), 0);
	close(fd);
	struct sk_spec s;
	struct sk_err err = { 0 };
	cr_expect_eq(sk_spec_load(path, &s, &err), -1);
	cr_expect_str_eq(err.msg, "config.json: file is too large (limit 8388608 bytes)");
	remove_tmpdir();

	char *big = malloc(10 * 1024 * 1024);
	cr_assert(big);
	memset(big, ' ', 10 * 1024 * 1024);
	cr_expect_str_eq(parse_err(big, 10 * 1024 * 1024), "config.json: file is too large (limit 8388608 bytes)");
	free(big);
}

/* A config of exactly SK_SPEC_MAX_BYTES is fine; one byte more is not. */
TEST(spec_limits, size_boundary)
{
	const char *head = "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"rootfs\"}, \"x\": \"";
	const char *tail = "\"}";
	size_t len = SK_SPEC_MAX_BYTES;
	char *buf = malloc(len + 1);
	cr_assert(buf);
	memset(buf, 'a', len + 1);
	memcpy(buf, head, strlen(head));
	memcpy(buf + len - strlen(tail), tail, strlen(tail));
	cr_expect_null(parse_err(buf, len));
	memcpy(buf + len + 1 - strlen(tail), tail, strlen(tail));
	cr_expect_str_eq(parse_err(buf, len + 1), "config.json: file is too large (limit 8388608 bytes)");
	free(buf);
}

TEST(spec_limits, empty)
{
	cr_expect_str_eq(parse_err("", 0), "config.json: file is empty");
}

static char *nested(size_t depth)
{
	const char *head = "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"rootfs\"}, \"x\": ";
	size_t hl = strlen(head);
	char *buf = malloc(hl + 2 * depth + 2);
	cr_assert(buf);
	memcpy(buf, head, hl);
	memset(buf + hl, '[', depth);
	memset(buf + hl + depth, ']', depth);
	strcpy(buf + hl + 2 * depth, "}");
	return buf;
}

TEST(spec_limits, deep_nesting)
{
	/* The object is level 1: 63 arrays inside it are the most allowed. */
	char *ok = nested(SK_SPEC_MAX_DEPTH - 1);
	cr_expect_null(parse_str_err(ok));
	free(ok);
	char *deep = nested(SK_SPEC_MAX_DEPTH);
	cr_expect_str_eq(parse_str_err(deep), "config.json: line 1, column 121: nesting deeper than 64 levels");
	free(deep);

	size_t n = 100000;
	char *brackets = malloc(n);
	cr_assert(brackets);
	memset(brackets, '[', n);
	cr_expect_str_eq(parse_err(brackets, n), "config.json: line 1, column 65: nesting deeper than 64 levels");
	memset(brackets, '{', n);
	cr_expect_str_eq(parse_err(brackets, n),
			 "config.json: line 1, column 2: parse error: invalid object key (must be a string)");
	free(brackets);
}

TEST(spec_limits, value_count)
{
	const char *head = "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"rootfs\"}, \"x\": [";
	size_t hl = strlen(head), n = SK_SPEC_MAX_VALUES + 10;
	char *buf = malloc(hl + 2 * n + 3);
	cr_assert(buf);
	memcpy(buf, head, hl);
	char *p = buf + hl;
	for (size_t i = 0; i < n; i++) {
		*p++ = '0';
		*p++ = ',';
	}
	strcpy(p - 1, "]}");
	const char *got = parse_str_err(buf);
	/* Three values come first (two strings and the root object; the
	 * outer object and the array count when they end), so item number
	 * MAX - 2 is one too many: its column is where it starts. */
	char want[128];
	snprintf(want, sizeof(want), "config.json: line 1, column %zu: more than 1048576 JSON values",
		 hl + 2 * (SK_SPEC_MAX_VALUES - 3) + 1);
	cr_expect_str_eq(got, want);
	free(buf);
}

/* Every proper prefix of a valid config is an error, never a crash. */
TEST(spec_robustness, truncations)
{
	size_t len;
	char *json = slurp(FIXTURES "/valid/maximal.json", &len);
	size_t end = len;
	while (end > 0 && strchr(" \t\r\n", json[end - 1]))
		end--;
	for (size_t cut = 0; cut < end; cut++) {
		char *copy = malloc(cut + 1); /* exact size: ASan sees any overread */
		cr_assert(copy);
		memcpy(copy, json, cut);
		cr_expect_not_null(parse_err(copy, cut), "prefix of %zu bytes parsed", cut);
		free(copy);
	}
	cr_expect_null(parse_err(json, end));
	free(json);
}

/* Random damage to a valid config: any outcome but a crash or a leak. */
TEST(spec_robustness, mutations)
{
	size_t len;
	char *json = slurp(FIXTURES "/valid/maximal.json", &len);
	static const char bytes[] = "{}[]\":,-0123456789.eE \\tfnu\x80\xff\x00";
	unsigned seed = 12345;
	for (int round = 0; round < 3000; round++) {
		char *copy = malloc(len);
		cr_assert(copy);
		memcpy(copy, json, len);
		int edits = 1 + rand_r(&seed) % 4;
		for (int i = 0; i < edits; i++)
			copy[rand_r(&seed) % len] = bytes[rand_r(&seed) % (sizeof(bytes) - 1)];
		size_t n = len - (size_t)(rand_r(&seed) % 2 ? 0 : rand_r(&seed) % len);
		parse_err(copy, n);
		free(copy);
	}
	free(json);
}

/* ---- semantics ---- */

#define BASE "\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"rootfs\"}"

TEST(spec_semantics, oci_versions)
{
	static const char *good[] = { "1.0.0", "1.2.0", "1.0.2-dev", "1.1.0-rc.1", "1.3.0", "1.0.0+build.5",
				      "1.10.200-alpha.0.x-y+z" };
	static const char *bad[] = { "2.0.0", "1.x", "", "1", "1.0", "1.0.0-", "1.0.0-01", "v1.0.0", "1.0.0 ",
				     "01.0.0", "1.0.0+", "1.0.0-a..b" };
	char json[256];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(json, sizeof(json), "{\"ociVersion\": \"%s\", \"root\": {\"path\": \"r\"}}", good[i]);
		cr_expect_null(parse_str_err(json), "%s refused", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), "{\"ociVersion\": \"%s\", \"root\": {\"path\": \"r\"}}", bad[i]);
		char want[128];
		snprintf(want, sizeof(want), "config.json: ociVersion: must be a 1.x.y semantic version, got \"%s\"",
			 bad[i]);
		const char *got = parse_str_err(json);
		cr_expect(got && strcmp(got, want) == 0, "%s: %s", bad[i], got ? got : "accepted");
	}
}

TEST(spec_semantics, cpu_lists)
{
	static const char *good[] = { "0", "0-3,7", " 1 , 2 ", "1,,2", "65536", "0-65536", "3-3" };
	static const char *bad[] = { ",", "a", "1-", "-1", "3-1", "65537", "1 2", "1-2-3", "0x1" };
	char json[256];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(json, sizeof(json),
			 "{" BASE ", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"execCPUAffinity\": {\"initial\": \"%s\"}}}",
			 good[i]);
		cr_expect_null(parse_str_err(json), "%s refused", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json),
			 "{" BASE ", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"execCPUAffinity\": {\"final\": \"%s\"}}}",
			 bad[i]);
		const char *got = parse_str_err(json);
		cr_expect(got && strstr(got, "process.execCPUAffinity.final: invalid CPU list"), "%s: %s", bad[i],
			  got ? got : "accepted");
	}
}

/* null is absent, "" is unset where runc says so, the last of duplicate keys wins. */
TEST(spec_semantics, absent_values)
{
	struct sk_spec s;
	parse_ok("{\"ociVersion\": \"9\", " BASE ", \"process\": null, \"hostname\": null, \"linux\": {"
		 "\"namespaces\": [{\"type\": \"network\", \"path\": \"\"}], \"rootfsPropagation\": \"\","
		 " \"seccomp\": null, \"intelRdt\": null, \"resources\": {\"devices\": [{\"allow\": true, \"type\": \"\"}]}}}",
		 &s);
	cr_expect_str_eq(s.oci_version, "1.0.0");
	cr_expect_not(s.has_process);
	cr_expect_null(s.hostname);
	cr_expect_null(s.linux_.namespaces[0].path);
	cr_expect_null(s.linux_.rootfs_propagation);
	cr_expect_not(s.linux_.seccomp.present);
	cr_expect_eq(s.linux_.resources.devices[0].type, 'a');
	cr_expect_str_eq(s.linux_.resources.devices[0].access, "");
	sk_spec_free(&s);

	parse_ok("{" BASE ", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", "
		 "\"execCPUAffinity\": {\"initial\": \"\", \"final\": \"1\"}}}", &s);
	cr_expect_null(s.process.exec_cpu_affinity_initial);
	cr_expect_str_eq(s.process.exec_cpu_affinity_final, "1");
	cr_expect_eq(s.process.user.uid, 0);
	sk_spec_free(&s);

	parse_ok("{" BASE ", \"annotations\": {\"a\": \"1\", \"b\": \"2\", \"a\": \"3\"}}", &s);
	cr_assert_eq(s.n_annotations, 2);
	cr_expect_str_eq(s.annotations[0].key, "b");
	cr_expect_str_eq(s.annotations[1].key, "a");
	cr_expect_str_eq(s.annotations[1].value, "3");
	sk_spec_free(&s);
}

TEST(spec_semantics, integer_bounds)
{
	struct sk_spec s;
	parse_ok("{" BASE ", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 4294967295, "
		 "\"gid\": 0}, \"oomScoreAdj\": -1000}, \"linux\": {\"resources\": {\"memory\": {\"limit\": "
		 "-9223372036854775808, \"swap\": 9223372036854775807}}}}",
		 &s);
	cr_expect_eq(s.process.user.uid, UINT32_MAX);
	cr_expect_eq(s.process.oom_score_adj, -1000);
	cr_expect_eq(s.linux_.resources.memory.limit, INT64_MIN);
	cr_expect_eq(s.linux_.resources.memory.swap, INT64_MAX);
	sk_spec_free(&s);
	cr_expect_str_eq(parse_str_err("{" BASE ", \"linux\": {\"resources\": {\"memory\": {\"swap\": 9223372036854775808}}}}"),
			 "config.json: linux.resources.memory.swap: must be an integer in range "
			 "-9223372036854775808..9223372036854775807");
	cr_expect_str_eq(parse_str_err("{" BASE ", \"linux\": {\"resources\": {\"cpu\": {\"shares\": -0}}}}"),
			 "config.json: linux.resources.cpu.shares: must be an integer in range 0..18446744073709551615");
}

TEST(spec_semantics, free_is_idempotent)
{
	struct sk_spec s;
	memset(&s, 0, sizeof(s));
	sk_spec_free(&s);
	sk_spec_free(NULL);
	load_fixture("valid/maximal.json", &s);
	sk_spec_free(&s);
	sk_spec_free(&s);
}

TEST(spec_names, lookups)
{
	char buf[SK_CAP_NAME_MAX];
	for (int c = 0; c <= 40; c++) {
		const char *name = sk_cap_name(c, buf);
		cr_assert_not_null(name, "capability %d", c);
		cr_expect_eq(sk_cap_from_name(name), c);
	}
	cr_expect_str_eq(sk_cap_name(CAP_SYS_ADMIN, buf), "CAP_SYS_ADMIN");
	cr_expect_eq(sk_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
	cr_expect_null(sk_cap_name(-1, buf));
	cr_expect_null(sk_cap_name(64, buf));
	cr_expect_eq(sk_cap_from_name("CAP_FOO"), -1);
	cr_expect_eq(sk_cap_from_name("SYS_ADMIN"), -1);
	/* libcap would take these; config.json's names are exact. */
	cr_expect_eq(sk_cap_from_name("cap_sys_admin"), -1);
	cr_expect_eq(sk_cap_from_name("CAP_Sys_Admin"), -1);
	cr_expect_eq(sk_cap_from_name("21"), -1);
	cr_expect_eq(sk_cap_from_name("CAP_SYS_ADMIN,CAP_KILL"), -1);
	cr_expect_eq(sk_cap_from_name("CAP_SYS_ADMIN "), -1);
	cr_expect_eq(sk_cap_from_name("CAP_"), -1);
	cr_expect_eq(sk_rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
	cr_expect_eq(sk_rlimit_from_name("RLIMIT_RTTIME"), RLIMIT_RTTIME);
	cr_expect_eq(sk_rlimit_from_name("NOFILE"), -1);
	cr_expect_str_eq(sk_ns_type_name(SK_NS_NET), "network");
	cr_expect_str_eq(sk_ns_type_name(SK_NS_MNT), "mount");
	cr_expect_str_eq(sk_ns_type_name(SK_NS_TIME), "time");
	cr_expect_str_eq(sk_hook_kind_name(SK_HOOK_CREATE_RUNTIME), "createRuntime");
	cr_expect_str_eq(sk_hook_kind_name(SK_HOOK_POSTSTOP), "poststop");
	cr_expect_null(sk_hook_kind_name(SK_HOOK_NKINDS));
}

Test(spec, lone_process_object)
{
	struct sk_err err = { 0 };
	struct sk_process p;
	const char *ok = "{\"args\":[\"sh\",\"-c\",\"true\"],\"cwd\":\"/work\",\"env\":[\"A=1\"],"
			 "\"user\":{\"uid\":5,\"gid\":6}}";
	cr_assert_eq(sk_spec_parse_process("p.json", ok, strlen(ok), &p, &err), 0, "%s", err.msg);
	cr_assert_eq(p.n_args, 3);
	cr_assert_str_eq(p.args[2], "true");
	cr_assert_str_eq(p.cwd, "/work");
	cr_assert_eq(p.user.uid, 5);
	sk_spec_process_free(&p);

	/* The checks and the JSON paths of config.json's process. */
	static const struct { const char *json, *msg; } bad[] = {
		{ "{\"args\":[\"sh\"],\"cwd\":\"rel\"}", "p.json: process.cwd: must be an absolute path" },
		{ "{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":-1,\"gid\":0}}",
		  "p.json: process.user.uid: must be an integer in range 0..4294967295" },
		{ "[1]", "p.json: process: must be an object" },
		{ "{} {}", "p.json: line 1, column 4: parse error: trailing garbage" },
		{ " \n", "p.json: file is empty" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		cr_assert_eq(sk_spec_parse_process("p.json", bad[i].json, strlen(bad[i].json), &p, &err), -1,
			     "%s must be refused", bad[i].json);
		cr_assert_str_eq(err.msg, bad[i].msg);
	}
	/* A failure leaves the struct empty, as sk_spec_parse does, not
	 * holding pointers it freed (fuzz_process found it: the user object
	 * parsed, then cwd missing). */
	static const struct sk_process zero;
	const char *no_cwd = "{\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[1]},\"args\":[\"sh\"],\"env\":[\"A=1\"]}";
	cr_assert_eq(sk_spec_parse_process("p.json", no_cwd, strlen(no_cwd), &p, &err), -1);
	cr_assert_str_eq(err.msg, "p.json: process.cwd: is required");
	cr_assert(memcmp(&p, &zero, sizeof(p)) == 0, "struct not left empty");
	/* (buf, len) holds without a NUL after the bytes: blanks exactly len
	 * long (ASan catches a read past them; libFuzzer found one). */
	char *blank = malloc(2);
	cr_assert_not_null(blank);
	memcpy(blank, "\n\n", 2);
	cr_assert_eq(sk_spec_parse_process("p.json", blank, 2, &p, &err), -1);
	cr_assert_str_eq(err.msg, "p.json: file is empty");
	memcpy(blank, "\n{", 2);
	cr_assert_eq(sk_spec_parse_process("p.json", blank, 2, &p, &err), -1);
	free(blank);
}
