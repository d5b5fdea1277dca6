/* mount: the plan (pure: option parsing, paths, errors); then, as root, the
 * child side for real: the rootfs steps of a plan, pivot, the path steps, in a forked child
 * with its own mount namespace on a tiny rootfs in /tmp, checked through
 * /proc/self/mountinfo, and the host's mount table compared before and
 * after. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skiff/plan/inroot.h"
#include "skiff/plan/mount.h"
#include "skiff/plan/rootfs.h"

#define OPTS(...) ((const char *[]){ __VA_ARGS__, NULL })

static struct sk_mount M(const char *dest, const char *type, const char *src, const char **opts)
{
	struct sk_mount m = {
		.destination = (char *)dest, .type = (char *)type, .source = (char *)src, .options = (char **)opts,
	};
	while (opts && opts[m.n_options])
		m.n_options++;
	return m;
}

#define SPEC(arr) ((struct sk_spec){ .mounts = (arr), .n_mounts = sizeof(arr) / sizeof((arr)[0]) })

static void build_ok(const struct sk_spec *s, struct sk_mount_plan *p)
{
	struct sk_err err = { 0 };
	int r = sk_mount_plan_build(s, "/bundle", p, &err);
	cr_assert_eq(r, 0, "build: %s", err.msg);
}

static void build_fails(struct sk_mount m, const char *want)
{
	struct sk_mount arr[] = { M("/ok", "tmpfs", NULL, NULL), m };
	struct sk_spec s = SPEC(arr);
	struct sk_mount_plan p;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_mount_plan_build(&s, "/bundle", &p, &err), -1, "built, wanted \"%s\"", want);
	cr_assert(strstr(err.msg, want), "message \"%s\" lacks \"%s\"", err.msg, want);
	cr_assert_eq(p.n_steps, 0);
	cr_assert_null(p.steps);
}

/* ---- plan ------------------------------------------------------------------------ */

Test(mount_plan, flags)
{
	struct sk_mount arr[] = {
		M("/a", "tmpfs", NULL, OPTS("ro", "nosuid", "nodev", "noexec", "relatime")),
		M("/b", "tmpfs", "shm", OPTS("strictatime", "ro", "rw", "sync", "async", "dirsync")),
		M("/c", "proc", "proc", OPTS("nosymfollow", "noatime", "nodiratime", "lazytime")),
	};
	struct sk_spec s = SPEC(arr);
	struct sk_mount_plan p;
	build_ok(&s, &p);
	cr_assert_eq(p.n_steps, 3);
	cr_assert_eq(p.steps[0].kind, SK_MOUNT_TMPFS);
	cr_assert_eq(p.steps[0].flags, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);
	cr_assert_str_eq(p.steps[0].type, "tmpfs");
	cr_assert_str_eq(p.steps[0].source, "tmpfs", "no source: the type");
	cr_assert_null(p.steps[0].data);
	cr_assert_eq(p.steps[0].n_propagation, 0);
	cr_assert_eq(p.steps[0].tree_fd, -1);
	cr_assert_eq(p.steps[1].flags, MS_STRICTATIME | MS_DIRSYNC, "rw undoes ro, async undoes sync");
	cr_assert_str_eq(p.steps[1].source, "shm");
	cr_assert_eq(p.steps[2].kind, SK_MOUNT_GENERIC);
	cr_assert_eq(p.steps[2].flags, MS_NOSYMFOLLOW | MS_NOATIME | MS_NODIRATIME | MS_LAZYTIME);
	sk_mount_plan_free(&p);
	cr_assert_eq(p.n_steps, 0);
}

Test(mount_plan, data_passthrough)
{
	struct sk_mount arr[] = {
		M("/dev", "tmpfs", "tmpfs", OPTS("nosuid", "strictatime", "mode=755", "size=65536k")),
		M("/dev/pts", "devpts", "devpts", OPTS("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
		M("/x", "tmpfs", NULL, OPTS("defaults", "nofail", "x-systemd.foo=bar", "uid=0", "comment=hi")),
	};
	struct sk_spec s = SPEC(arr);
	struct sk_mount_plan p;
	build_ok(&s, &p);
	cr_assert_str_eq(p.steps[0].data, "mode=755,size=65536k");
	cr_assert_eq(p.steps[0].flags, MS_NOSUID | MS_STRICTATIME);
	cr_assert_str_eq(p.steps[1].data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
	cr_assert_eq(p.steps[1].kind, SK_MOUNT_DEVPTS);
	cr_assert_str_eq(p.steps[2].data, "uid=0", "userspace-only options are dropped");
	cr_assert(p.has_devpts);
	cr_assert_not(p.dev_is_bind);
	sk_mount_plan_free(&p);
}

Test(mount_plan, binds_and_propagation)
{
	struct sk_mount arr[] = {
		M("/a", "bind", "/src", NULL),
		M("/b", "none", "rel/dir", OPTS("rbind", "rprivate")),
		M("/c", NULL, "./file", OPTS("bind", "ro", "rshared")),
		M("/d", "bind", "/src", OPTS("rslave", "rshared", "runbindable", "private")),
		M("/e", NULL, "/src", OPTS("bind", "slave", "unbindable", "shared")),
		M("/dev", "bind", "/dev", OPTS("rbind")),
	};
	struct sk_spec s = SPEC(arr);
	struct sk_mount_plan p;
	build_ok(&s, &p);
	cr_assert_eq(p.steps[0].kind, SK_MOUNT_BIND);
	cr_assert_eq(p.steps[0].flags, MS_BIND, "type bind alone binds");
	cr_assert_null(p.steps[0].type);
	cr_assert_str_eq(p.steps[0].source, "/src");
	cr_assert_eq(p.steps[1].flags, MS_BIND | MS_REC);
	cr_assert_str_eq(p.steps[1].source, "/bundle/rel/dir", "relative to the bundle");
	cr_assert_eq(p.steps[1].n_propagation, 1);
	cr_assert_eq(p.steps[1].propagation[0], MS_PRIVATE | MS_REC);
	cr_assert_eq(p.steps[2].kind, SK_MOUNT_BIND);
	cr_assert_eq(p.steps[2].flags, MS_BIND | MS_RDONLY);
	cr_assert_str_eq(p.steps[2].source, "/bundle/./file");
	cr_assert_eq(p.steps[2].propagation[0], MS_SHARED | MS_REC);
	cr_assert_eq(p.steps[3].n_propagation, 4);
	cr_assert_eq(p.steps[3].propagation[0], MS_SLAVE | MS_REC);
	cr_assert_eq(p.steps[3].propagation[1], MS_SHARED | MS_REC);
	cr_assert_eq(p.steps[3].propagation[2], MS_UNBINDABLE | MS_REC);
	cr_assert_eq(p.steps[3].propagation[3], MS_PRIVATE);
	cr_assert_eq(p.steps[4].propagation[0], MS_SLAVE);
	cr_assert_eq(p.steps[4].propagation[1], MS_UNBINDABLE);
	cr_assert_eq(p.steps[4].propagation[2], MS_SHARED);
	cr_assert(p.dev_is_bind);
	sk_mount_plan_free(&p);
}

Test(mount_plan, recursive_attrs)
{
	struct sk_mount arr[] = {
		M("/a", "bind", "/src", OPTS("rbind", "rro", "rnosuid", "rnodev", "rnoexec", "rnosymfollow")),
		M("/b", "bind", "/src", OPTS("rro", "rrw", "rnoatime")),
		M("/c", "bind", "/src", OPTS("rnoatime", "rstrictatime", "rnodiratime", "rdiratime")),
		M("/d", "tmpfs", NULL, OPTS("rrelatime", "rsuid")),
	};
	struct sk_spec s = SPEC(arr);
	struct sk_mount_plan p;
	build_ok(&s, &p);
	cr_assert_eq(p.steps[0].attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					  MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSYMFOLLOW);
	cr_assert_eq(p.steps[0].attr_clr, 0);
	cr_assert_eq(p.steps[0].flags, MS_BIND | MS_REC, "recursive options are not mount(2) flags");
	cr_assert_eq(p.steps[1].attr_set, MOUNT_ATTR_NOATIME);
	cr_assert_eq(p.steps[1].attr_clr, MOUNT_ATTR_RDONLY | MOUNT_ATTR__ATIME);
	cr_assert_eq(p.steps[2].attr_set, MOUNT_ATTR_STRICTATIME, "last atime wins");
	cr_assert_eq(p.steps[2].attr_clr, MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME);
	cr_assert_eq(p.steps[3].attr_set, MOUNT_ATTR_RELATIME);
	cr_assert_eq(p.steps[3].attr_clr, MOUNT_ATTR__ATIME | MOUNT_ATTR_NOSUID);
	sk_mount_plan_free(&p);
}

Test(mount_plan, overlay_dirs)
{
	struct sk_mount arr[] = {
		M("/ovl", "overlay", "overlay",
		  OPTS("lowerdir=l1:/abs/l2:sub/l\\:3", "upperdir=up", "workdir=/abs/work", "index=off")),
		M("/ovl2", "overlay", NULL, OPTS("lowerdir=a::d1", "upperdir=/u", "workdir=./w")),
		M("/t", "tmpfs", NULL, OPTS("lowerdir=rel")),
	};
	struct sk_spec s = SPEC(arr);
	struct sk_mount_plan p;
	build_ok(&s, &p);
	/* Relative directories stay as given, for the init to open beneath
	 * the bundle. */
	cr_assert_str_eq(p.steps[0].data, "lowerdir=l1:/abs/l2:sub/l\\:3,upperdir=up,workdir=/abs/work,index=off");
	cr_assert_str_eq(p.steps[0].overlay_bundle, "/bundle");
	cr_assert_str_eq(p.steps[0].source, "overlay");
	cr_assert_str_eq(p.steps[1].data, "lowerdir=a::d1,upperdir=/u,workdir=./w");
	cr_assert_str_eq(p.steps[1].overlay_bundle, "/bundle");
	cr_assert_str_eq(p.steps[1].source, "overlay");
	cr_assert_str_eq(p.steps[2].data, "lowerdir=rel", "only overlay's options are paths");
	cr_assert_null(p.steps[2].overlay_bundle);
	sk_mount_plan_free(&p);
	/* An escaped backslash at the end escapes nothing after it. */
	struct sk_mount esc[] = { M("/ovl", "overlay", NULL, OPTS("lowerdir=/l\\\\", "upperdir=/u", "workdir=/w")) };
	struct sk_spec s2 = SPEC(esc);
	build_ok(&s2, &p);
	cr_assert_str_eq(p.steps[0].data, "lowerdir=/l\\\\,upperdir=/u,workdir=/w");
	sk_mount_plan_free(&p);
}

/* The init's side: each relative directory is opened beneath the bundle
 * and named by fd; a symlink of the image cannot lead one out. */
Test(mount_plan, overlay_dirs_beneath_the_bundle)
{
	char dir[] = "/tmp/skiff-ovl.XXXXXX", path[PATH_MAX];
	cr_assert_not_null(mkdtemp(dir));
	static const char *const dirs[] = { "lower", "up", "work", "in", "a:b" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, dirs[i]);
		cr_assert_eq(mkdir(path, 0755), 0);
	}
	snprintf(path, sizeof(path), "%s/inside", dir);
	cr_assert_eq(symlink("in", path), 0);
	snprintf(path, sizeof(path), "%s/out", dir);
	cr_assert_eq(symlink("/tmp", path), 0);
	snprintf(path, sizeof(path), "%s/up2", dir);
	cr_assert_eq(symlink("../..", path), 0);
	struct sk_mount_step st = { .index = 2, .overlay_bundle = dir,
				    .data = "lowerdir=lower:inside:/abs:a\\:b,upperdir=up,workdir=work,index=off" };
	char *data;
	int *fds;
	size_t n;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_mount_overlay_data(&st, &data, &fds, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 5);
	char want[256];
	snprintf(want, sizeof(want),
		 "lowerdir=/proc/self/fd/%d:/proc/self/fd/%d:/abs:/proc/self/fd/%d,upperdir=/proc/self/fd/%d,"
		 "workdir=/proc/self/fd/%d,index=off", fds[0], fds[1], fds[2], fds[3], fds[4]);
	cr_assert_str_eq(data, want);
	struct stat a, b;
	snprintf(path, sizeof(path), "%s/in", dir);
	cr_assert(fstat(fds[1], &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino, "inside -> in");
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	free(data);

	static const struct { const char *data, *msg; } bad[] = {
		{ "lowerdir=lower,upperdir=out,workdir=work",
		  "mounts[2].options: overlay upperdir \"out\" leads out of the bundle: EXDEV" },
		{ "lowerdir=lower:../x,upperdir=up,workdir=work",
		  "mounts[2].options: overlay lowerdir \"../x\" leads out of the bundle: EXDEV" },
		{ "lowerdir=lower,upperdir=up,workdir=up2/tmp",
		  "mounts[2].options: overlay workdir \"up2/tmp\" leads out of the bundle: EXDEV" },
		{ "lowerdir=nope,upperdir=up,workdir=work", "mounts[2].options: overlay lowerdir \"nope\": ENOENT" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st.data = (char *)bad[i].data;
		cr_assert_eq(sk_mount_overlay_data(&st, &data, &fds, &n, &err), -1, "%s", bad[i].data);
		cr_assert_str_eq(err.msg, bad[i].msg);
	}
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(mount_plan, destination_cleaned)
{
	struct sk_mount arr[] = {
		M("/a/../b//c/./", "tmpfs", NULL, NULL),
		M("/../../etc", "tmpfs", NULL, NULL),
		M("/dev/./pts", "devpts", NULL, NULL),
	};
	struct sk_spec s = SPEC(arr);
	struct sk_mount_plan p;
	build_ok(&s, &p);
	cr_assert_str_eq(p.steps[0].destination, "/b/c");
	cr_assert_str_eq(p.steps[1].destination, "/etc");
	cr_assert(p.has_devpts);
	sk_mount_plan_free(&p);
}

Test(mount_plan, kinds_and_tmpcopyup)
{
	struct sk_mount arr[] = {
		M("/sys", "sysfs", "sysfs", OPTS("ro")),
		M("/sys/fs/cgroup", "cgroup", "cgroup", OPTS("ro", "nosuid")),
		M("/run", "tmpfs", "tmpfs", OPTS("tmpcopyup", "mode=755")),
		M("/q", "mqueue", "mqueue", NULL),
	};
	struct sk_spec s = SPEC(arr);
	struct sk_mount_plan p;
	build_ok(&s, &p);
	cr_assert_eq(p.steps[0].kind, SK_MOUNT_SYSFS);
	cr_assert_eq(p.steps[1].kind, SK_MOUNT_CGROUP);
	cr_assert_eq(p.steps[2].kind, SK_MOUNT_TMPFS);
	cr_assert(p.steps[2].copyup);
	cr_assert_str_eq(p.steps[2].data, "mode=755");
	cr_assert_eq(p.steps[3].kind, SK_MOUNT_GENERIC);
	sk_mount_plan_free(&p);
}

Test(mount_plan, idmap)
{
	struct sk_idmap um[] = { { 0, 1000, 1 } }, gm[] = { { 0, 2000, 10 } }, lu[] = { { 0, 100000, 65536 } };
	struct sk_mount arr[] = {
		M("/a", "bind", "/src", NULL),
		M("/b", "bind", "/src", OPTS("rbind")),
		M("/c", "bind", "/src", OPTS("rbind", "idmap")),
		M("/d", "bind", "/src", OPTS("ridmap")),
	};
	for (int i = 0; i < 3; i++) {
		arr[i].uid_mappings = um, arr[i].n_uid_mappings = 1;
		arr[i].gid_mappings = gm, arr[i].n_gid_mappings = 1;
	}
	struct sk_spec s = SPEC(arr);
	s.has_linux = true;
	s.linux_.uid_mappings = lu, s.linux_.n_uid_mappings = 1;
	s.linux_.gid_mappings = lu, s.linux_.n_gid_mappings = 1;
	struct sk_mount_plan p;
	build_ok(&s, &p);
	cr_assert(p.steps[0].idmap);
	cr_assert_not(p.steps[0].idmap_recursive);
	cr_assert(p.steps[1].idmap_recursive, "rbind idmaps the whole tree");
	cr_assert_not(p.steps[2].idmap_recursive, "explicit idmap: only the top");
	cr_assert(p.steps[3].idmap && p.steps[3].idmap_recursive);
	cr_assert_eq(p.steps[0].n_uid_map, 1);
	cr_assert_eq(p.steps[0].uid_map[0].host_id, 1000);
	cr_assert_eq(p.steps[0].gid_map[0].size, 10);
	cr_assert_eq(p.steps[3].uid_map[0].host_id, 100000, "idmap without mappings: the container's");
	cr_assert_eq(p.steps[0].tree_fd, -1, "nothing opened before prepare");
	sk_mount_plan_free(&p);
}

Test(mount_plan, root_propagation)
{
	struct sk_spec s = { .has_linux = true };
	struct sk_mount_plan p;
	const char *names[] = { "shared", "rshared", "slave", "rslave", "private", "rprivate", "unbindable", "runbindable" };
	unsigned long want[] = { MS_SHARED, MS_SHARED | MS_REC, MS_SLAVE, MS_SLAVE | MS_REC, MS_PRIVATE,
				 MS_PRIVATE | MS_REC, MS_UNBINDABLE, MS_UNBINDABLE | MS_REC };
	for (size_t i = 0; i < 8; i++) {
		s.linux_.rootfs_propagation = (char *)names[i];
		build_ok(&s, &p);
		cr_assert(p.has_root_propagation);
		cr_assert_eq(p.root_propagation, want[i], "%s", names[i]);
		sk_mount_plan_free(&p);
	}
	s.linux_.rootfs_propagation = NULL;
	build_ok(&s, &p);
	cr_assert_not(p.has_root_propagation);
	sk_mount_plan_free(&p);

	struct sk_err err = { 0 };
	const char *bad[] = { "bogus", "ro", "shared=1", "" };
	for (size_t i = 0; i < 4; i++) {
		s.linux_.rootfs_propagation = (char *)bad[i];
		cr_assert_eq(sk_mount_plan_build(&s, "/bundle", &p, &err), -1, "%s", bad[i]);
		cr_assert(strstr(err.msg, "linux.rootfsPropagation: "), "%s", err.msg);
	}
}

Test(mount_plan, errors_name_the_mount)
{
	build_fails(M("/x", "tmpfs", NULL, OPTS("size=1m", "ro=1")), "mounts[1].options[1]: \"ro=1\": \"ro\" takes no value");
	build_fails(M("/x", "tmpfs", NULL, OPTS("")), "mounts[1].options[0]: empty option");
	build_fails(M("/x", "tmpfs", NULL, OPTS("ro,nosuid")), "mounts[1].options[0]: \"ro,nosuid\": one option per element");
	build_fails(M("/x", "tmpfs", NULL, OPTS("remount")), "mounts[1].options[0]: \"remount\": not supported");
	/* A trailing '\\' would escape the ',' that joins the next option,
	 * which overlayfs then reads as part of this one: a relative directory
	 * the bundle rewrite never saw (fuzz_mount found it). */
	build_fails(M("/x", "overlay", NULL, OPTS("lowerdir=/l\\", "upperdir=up", "workdir=/w")),
		    "mounts[1].options[0]: \"lowerdir=/l\\\": ends in a lone '\\'");
	/* The same with nothing relative before the join: "rel" would have
	 * reached the kernel unresolved, as a directory of the init's cwd. */
	build_fails(M("/x", "overlay", NULL, OPTS("lowerdir=/a\\", ":rel", "upperdir=/u", "workdir=/w")),
		    "mounts[1].options[0]: \"lowerdir=/a\\\": ends in a lone '\\'");
	build_fails(M("/x", "tmpfs", NULL, OPTS("a\\\\\\")), "mounts[1].options[0]: \"a\\\\\\\": ends in a lone '\\'");
	build_fails(M("/x", "tmpfs", NULL, OPTS("shared", "slave", "private", "shared", "slave")),
		    "mounts[1].options[4]: more than 4 propagation options");
	build_fails(M("/x", "bind", "/s", OPTS("tmpcopyup")), "mounts[1].options: \"tmpcopyup\" is only for tmpfs");
	build_fails(M("/x", "proc", NULL, OPTS("tmpcopyup")), "mounts[1].options: \"tmpcopyup\" is only for tmpfs");
	build_fails(M("/x", "tmpfs", NULL, OPTS("idmap")), "mounts[1]: idmapped mounts (\"idmap\") need a bind mount");
	build_fails(M("/x", "bind", "/s", OPTS("idmap")), "mounts[1].options[0]: \"idmap\": no uidMappings/gidMappings");
	build_fails(M("/x", "bind", NULL, NULL), "mounts[1].source: required for a bind mount");
	build_fails(M("/x", NULL, "/s", OPTS("ro")), "mounts[1].type: required unless the options hold \"bind\"");
	build_fails(M("/", "tmpfs", NULL, NULL), "mounts[1].destination: \"/\": cannot mount over the root");
	build_fails(M("/a/..", "tmpfs", NULL, NULL), "mounts[1].destination: \"/a/..\": cannot mount over the root");
	build_fails(M("rel", "tmpfs", NULL, NULL), "mounts[1].destination: path \"rel\": not absolute");

	struct sk_idmap um[] = { { 0, 1000, 1 } };
	struct sk_mount m = M("/x", "bind", "/s", NULL);
	m.uid_mappings = um, m.n_uid_mappings = 1;
	build_fails(m, "mounts[1]: an idmapped mount needs both uidMappings and gidMappings");
	m.type = "tmpfs";
	build_fails(m, "mounts[1]: idmapped mounts (uidMappings/gidMappings) need a bind mount");

	char big[5000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	build_fails(M("/x", "tmpfs", NULL, OPTS(big)), "mounts[1].options: fs data longer than 4095 bytes");
}

Test(mount_plan, path_clean)
{
	struct { const char *in, *out; } cases[] = {
		{ "/", "/" }, { "//", "/" }, { "/a", "/a" }, { "/a/", "/a" }, { "/a//b", "/a/b" },
		{ "/./a/.", "/a" }, { "/a/..", "/" }, { "/..", "/" }, { "/a/b/../c", "/a/c" },
		{ "/a/../../b", "/b" }, { "/...", "/..." }, { "/a/.b/..c", "/a/.b/..c" },
	};
	char out[64];
	struct sk_err err = { 0 };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(sk_path_clean(out, sizeof(out), cases[i].in, &err), 0, "%s", cases[i].in);
		cr_assert_str_eq(out, cases[i].out, "%s", cases[i].in);
	}
	cr_assert_eq(sk_path_clean(out, 4, "/abcd", &err), -1);
	cr_assert_eq(err.errnum, ENAMETOOLONG);
	cr_assert_eq(sk_path_clean(out, sizeof(out), "a/b", &err), -1);
	cr_assert_eq(err.errnum, EINVAL);
}

Test(mount_plan, prepare_without_idmap_is_free)
{
	struct sk_mount arr[] = { M("/a", "bind", "/nonexistent", NULL), M("/b", "tmpfs", NULL, NULL) };
	struct sk_spec s = SPEC(arr);
	struct sk_mount_plan p;
	build_ok(&s, &p);
	struct sk_err err = { 0 };
	cr_assert_eq(sk_mount_plan_prepare(&p, false, &err), 0, "%s", err.msg);
	cr_assert_eq(p.steps[0].tree_fd, -1);
	sk_mount_plan_free(&p);
}

/* ---- the child side, for real (root) ------------------------------------------------ */

static char ws[256];           /* workspace (the bundle) */
static char root[512];         /* ws/rootfs */
static char *msg;              /* shared with forked children */

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
}

static void put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	cr_assert_geq(fd, 0, "create %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

#define P(buf, ...) (snprintf((buf), sizeof(buf), __VA_ARGS__), (buf))

/* The workspace: a bundle in /tmp with rootfs/ and some host-side sources.
 *   rootfs/{proc,sys,dev,etc/secret,secretdir/f,tmpcp/{a,sub/b,link}}
 *   rootfs/evil -> /etc, rootfs/rel -> ../../../../../etc,
 *   rootfs/dangle -> /nonexistent/deep, rootfs/pp -> /proc/sys
 *   src/{f,sub/}, srcfile, lower/l, upper/, work/ */
static void make_ws(void)
{
	char b[PATH_MAX];
	strcpy(ws, "/tmp/skiff-mount-XXXXXX");
	cr_assert_not_null(mkdtemp(ws));
	cr_assert_not_null(realpath(ws, b));
	strcpy(ws, b);
	P(root, "%s/rootfs", ws);
	const char *dirs[] = { "rootfs", "rootfs/proc", "rootfs/sys", "rootfs/dev", "rootfs/etc", "rootfs/secretdir",
			       "rootfs/tmpcp", "rootfs/tmpcp/sub", "src", "src/sub", "lower", "upper", "work", "idsrc" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		cr_assert_eq(mkdir(P(b, "%s/%s", ws, dirs[i]), 0755), 0, "mkdir %s", b);
	put(P(b, "%s/etc/secret", root), "s3cret", 0600);
	put(P(b, "%s/secretdir/f", root), "x", 0644);
	put(P(b, "%s/tmpcp/a", root), "copied", 0640);
	put(P(b, "%s/tmpcp/sub/b", root), "deep", 0600);
	cr_assert_eq(symlink("a", P(b, "%s/tmpcp/link", root)), 0);
	cr_assert_eq(chown(P(b, "%s/tmpcp/sub/b", root), 123, 456), 0);
	cr_assert_eq(symlink("/etc", P(b, "%s/evil", root)), 0);
	cr_assert_eq(symlink("../../../../../etc", P(b, "%s/rel", root)), 0);
	cr_assert_eq(symlink("/nonexistent/deep", P(b, "%s/dangle", root)), 0);
	cr_assert_eq(symlink("/proc/sys", P(b, "%s/pp", root)), 0);
	put(P(b, "%s/src/f", ws), "from src", 0644);
	put(P(b, "%s/srcfile", ws), "a host file", 0644);
	put(P(b, "%s/lower/l", ws), "lower", 0644);
	put(P(b, "%s/idsrc/rootfile", ws), "root's", 0644);
	put(P(b, "%s/idsrc/owned", ws), "1000's", 0644);
	cr_assert_eq(chown(P(b, "%s/idsrc/owned", ws), 1000, 1000), 0);
	msg = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(msg, MAP_FAILED);
	msg[0] = '\0';
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	return remove(path);
}

/* The .fini of every root test: runs after a failed assertion too. */
static void drop_ws(void)
{
	if (!ws[0])
		return;
	umount2(ws, MNT_DETACH);   /* run_prop's tmpfs, if still there */
	nftw(ws, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	ws[0] = '\0';
}

/* A check in a forked child: the first failure is kept in msg. */
#define CHECK(cond, ...)                                     \
	do {                                                 \
		if (!(cond)) {                               \
			snprintf(msg, 4096, __VA_ARGS__);    \
			_exit(1);                            \
		}                                            \
	} while (0)

static char *slurp(const char *path)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = '\0';
	return buf;
}

struct mnt { char id[16], mp[PATH_MAX], opts[512], optional[256], fstype[64], super[1024]; };

/* The top mount at mount point mp in this process's mountinfo. */
static bool find_mount(const char *mp, struct mnt *out)
{
	char *text = slurp("/proc/self/mountinfo");
	bool found = false;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		struct mnt m = { 0 };
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		int off = 0;
		if (sscanf(line, "%15s %*s %*s %*s %4095s %511s %n", m.id, m.mp, m.opts, &off) < 3)
			continue;
		snprintf(m.optional, sizeof(m.optional), "%s", line + off);
		sscanf(sep + 3, "%63s %*s %1023s", m.fstype, m.super);
		if (!strcmp(m.mp, mp)) {
			*out = m;
			found = true;
		}
	}
	return found;
}

/* Whether the comma list has the option. */
static bool has_opt(const char *list, const char *opt)
{
	size_t n = strlen(opt);
	for (const char *p = list; p; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (!strncmp(p, opt, n) && (p[n] == ',' || !p[n]))
			return true;
	}
	return false;
}

/* The rootfs steps of a plan before pivot, as the walk takes them
 * (walk.c): the rootfs, each mount, /dev. */
static int rootfs_setup(const struct sk_rootfs_ctx *c, struct sk_err *err)
{
	int rootfd;
	if (sk_rootfs_open(c, &rootfd, err) < 0)
		return -1;
	int r = 0;
	for (size_t i = 0; r == 0 && i < c->plan->n_steps; i++)
		r = sk_rootfs_mount(rootfd, c, &c->plan->steps[i], err);
	if (r == 0 && !c->plan->dev_is_bind)
		r = sk_rootfs_devices(rootfd, c, err);
	if (!c->shared_mntns)
		close(rootfd);
	return r;
}

/* ... and after pivot: read-only and masked paths, root.readonly,
 * rootfsPropagation. */
static int rootfs_finalize(const struct sk_rootfs_ctx *c, struct sk_err *err)
{
	const struct sk_spec *s = c->spec;
	int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), r = 0;
	struct sk_mask_fds mask = SK_MASK_FDS_INIT;
	if (rootfd < 0)
		return sk_error(err, errno, "open /");
	for (size_t i = 0; r == 0 && s->has_linux && i < s->linux_.n_readonly_paths; i++)
		r = sk_rootfs_readonly(rootfd, s->linux_.readonly_paths[i], err);
	for (size_t i = 0; r == 0 && s->has_linux && i < s->linux_.n_masked_paths; i++)
		r = sk_rootfs_mask(rootfd, s->linux_.masked_paths[i], &mask, err);
	if (r == 0 && s->root.readonly)
		r = sk_rootfs_root_readonly(rootfd, err);
	if (r == 0 && c->plan->has_root_propagation)
		r = sk_rootfs_root_propagation(c->plan, err);
	if (mask.null >= 0)
		close(mask.null);
	if (mask.dir >= 0)
		close(mask.dir);
	close(rootfd);
	return r;
}

/* Run body in a child with its own mount namespace; fail with its message. */
static void in_child(void (*body)(void *), void *arg)
{
	char *before = strdup(slurp("/proc/self/mountinfo"));
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		CHECK(unshare(CLONE_NEWNS) == 0, "unshare: %s", strerror(errno));
		body(arg);
		_exit(0);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: %s", msg[0] ? msg : "crashed");
	cr_assert_str_eq(slurp("/proc/self/mountinfo"), before, "the host's mount table changed");
	free(before);
}

struct full_arg {
	struct sk_spec *spec;
	struct sk_mount_plan *plan;
	bool no_pivot;
};

#define R(buf, rel) P(buf, "%s%s", root, rel)

static void full_body(void *p)
{
	struct full_arg *a = p;
	char b[PATH_MAX], b2[PATH_MAX];
	struct mnt m;
	struct stat sb;
	struct sk_err err = { 0 };

	/* A submount in the bind source, for rro. */
	CHECK(mount("tmpfs", P(b, "%s/src/sub", ws), "tmpfs", 0, NULL) == 0, "tmpfs on src/sub: %s", strerror(errno));
	struct sk_rootfs_ctx c = { .spec = a->spec, .plan = a->plan, .rootfs = root };
	CHECK(rootfs_setup(&c, &err) == 0, "setup: %s", err.msg);

	CHECK(find_mount(R(b, "/data"), &m), "no mount at /data");
	CHECK(has_opt(m.opts, "ro") && has_opt(m.opts, "nosuid") && !has_opt(m.opts, "nodev"), "/data: %s", m.opts);
	CHECK(strstr(m.optional, "shared:"), "/data is not shared: \"%s\"", m.optional);
	CHECK(stat(R(b, "/data/f"), &sb) == 0, "/data/f: %s", strerror(errno));
	CHECK(find_mount(R(b, "/hostfile"), &m) && has_opt(m.opts, "ro"), "/hostfile not a ro mount");
	CHECK(!strcmp(slurp(R(b, "/hostfile")), "a host file"), "/hostfile content");
	CHECK(stat(R(b, "/hostfile"), &sb) == 0 && S_ISREG(sb.st_mode), "/hostfile is not a file");
	CHECK(find_mount(R(b, "/nosym"), &m) && has_opt(m.opts, "nosymfollow"), "/nosym: %s", m.opts);

	/* The symlinks led inside the rootfs, never to the host's /etc. */
	CHECK(find_mount(R(b, "/etc/x"), &m) && !strcmp(m.fstype, "tmpfs"), "no tmpfs at rootfs/etc/x");
	CHECK(find_mount(R(b, "/etc/y"), &m), "no mount at rootfs/etc/y (relative link)");
	CHECK(access("/etc/x", F_OK) < 0 && access("/etc/y", F_OK) < 0, "made something in the host's /etc");
	CHECK(find_mount(R(b, "/nonexistent/deep/z"), &m), "dangling link target not made in the rootfs");
	CHECK(access("/nonexistent", F_OK) < 0, "followed a dangling link out");

	CHECK(find_mount(R(b, "/rro"), &m) && has_opt(m.opts, "ro"), "/rro not ro");
	CHECK(find_mount(R(b, "/rro/sub"), &m) && has_opt(m.opts, "ro"), "/rro/sub not ro: rro not recursive");
	CHECK(find_mount(P(b2, "%s/src/sub", ws), &m) && has_opt(m.opts, "rw"), "rro changed the source");

	CHECK(find_mount(R(b, "/tmpcp"), &m) && !strcmp(m.fstype, "tmpfs"), "no tmpfs at /tmpcp");
	CHECK(!strcmp(slurp(R(b, "/tmpcp/a")), "copied"), "tmpcopyup: a");
	CHECK(stat(R(b, "/tmpcp/a"), &sb) == 0 && (sb.st_mode & 07777) == 0640, "tmpcopyup: a's mode");
	CHECK(stat(R(b, "/tmpcp/sub/b"), &sb) == 0 && sb.st_uid == 123 && sb.st_gid == 456, "tmpcopyup: owner");
	CHECK(readlink(R(b, "/tmpcp/link"), b2, sizeof(b2)) == 1 && b2[0] == 'a', "tmpcopyup: link");

	CHECK(find_mount(R(b, "/ovl"), &m) && !strcmp(m.fstype, "overlay"), "no overlay");
	CHECK(strstr(m.super, "lowerdir=/proc/self/fd/"), "overlay lowerdir not opened beneath the bundle: %s", m.super);
	CHECK(!strcmp(slurp(R(b, "/ovl/l")), "lower"), "overlay content");

	CHECK(find_mount(R(b, "/dev"), &m) && !has_opt(m.opts, "relatime") && has_opt(m.opts, "nosuid"),
	      "/dev: %s", m.opts);
	CHECK(find_mount(R(b, "/proc"), &m) && !strcmp(m.fstype, "proc"), "no proc");
	CHECK(find_mount(R(b, "/sys"), &m) && !strcmp(m.fstype, "sysfs") && has_opt(m.opts, "ro"), "sysfs");
	/* cgroup2 on a cgroup v2 host; runc's v1 layout (a tmpfs holding the
	 * hierarchies) on a hybrid or v1 one. */
	struct statfs hostcg;
	const char *cgtype = statfs("/sys/fs/cgroup", &hostcg) == 0 && hostcg.f_type == CGROUP2_SUPER_MAGIC
	                             ? "cgroup2" : "tmpfs";
	CHECK(find_mount(R(b, "/sys/fs/cgroup"), &m) && !strcmp(m.fstype, cgtype) && has_opt(m.opts, "ro"),
	      "cgroup: %s %s (want %s)", m.fstype, m.opts, cgtype);

	CHECK(stat(R(b, "/dev/null"), &sb) == 0 && S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(1, 3) &&
	      (sb.st_mode & 07777) == 0666, "/dev/null");
	CHECK(stat(R(b, "/dev/tty"), &sb) == 0 && sb.st_rdev == makedev(5, 0), "/dev/tty");
	CHECK(stat(R(b, "/dev/net/tun"), &sb) == 0 && S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(10, 200) &&
	      (sb.st_mode & 07777) == 0600 && sb.st_uid == 1000 && sb.st_gid == 1001, "/dev/net/tun");
	CHECK(stat(R(b, "/dev/fifo"), &sb) == 0 && S_ISFIFO(sb.st_mode), "/dev/fifo");
	CHECK(stat(R(b, "/dev/zero"), &sb) == 0 && sb.st_rdev == makedev(1, 7), "linux.devices replaces a default");
	CHECK(readlink(R(b, "/dev/ptmx"), b2, sizeof(b2)) == 8 && !strncmp(b2, "pts/ptmx", 8), "/dev/ptmx");
	CHECK(readlink(R(b, "/dev/fd"), b2, sizeof(b2)) == 13 && !strncmp(b2, "/proc/self/fd", 13), "/dev/fd");
	CHECK(readlink(R(b, "/dev/stderr"), b2, sizeof(b2)) == 15, "/dev/stderr");
	CHECK(stat(R(b, "/dev/shm"), &sb) == 0 && S_ISDIR(sb.st_mode), "/dev/shm");
	CHECK(find_mount(R(b, "/dev/pts"), &m) && !strcmp(m.fstype, "devpts"), "devpts");

	CHECK(sk_rootfs_pivot(root, a->no_pivot, &err) == 0, "pivot: %s", err.msg);
	CHECK(rootfs_finalize(&c, &err) == 0, "finalize: %s", err.msg);

	CHECK(find_mount("/", &m) && has_opt(m.opts, "ro"), "root.readonly: / is %s", m.opts);
	CHECK(access("/etc/secret", F_OK) == 0, "not in the rootfs");
	CHECK(stat("/etc/secret", &sb) == 0 && S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(1, 3), "not masked");
	CHECK(!strcmp(slurp("/etc/secret"), ""), "masked file readable");
	CHECK(find_mount("/secretdir", &m) && !strcmp(m.fstype, "tmpfs") && has_opt(m.opts, "ro"), "dir mask");
	CHECK(access("/secretdir/f", F_OK) < 0, "masked dir shows its content");
	CHECK(find_mount("/proc/sys", &m) && has_opt(m.opts, "ro"), "/proc/sys not read-only");
	CHECK(find_mount("/data", &m) && has_opt(m.opts, "ro"), "/data lost after pivot");
	if (!a->no_pivot) {
		/* The old root went: every mount is one the container made. */
		static const char *const ours[] = {
			"/", "/proc", "/dev", "/dev/pts", "/dev/shm", "/sys", "/sys/fs/cgroup", "/data", "/hostfile",
			"/nosym", "/etc/x", "/etc/y", "/nonexistent/deep/z", "/rro", "/rro/sub", "/tmpcp", "/ovl",
			"/proc/sys", "/etc/secret", "/secretdir",
		};
		char *text = strdup(slurp("/proc/self/mountinfo"));
		for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
			char mp[PATH_MAX];
			size_t i = 0;
			sscanf(line, "%*s %*s %*s %*s %4095s", mp);
			while (i < sizeof(ours) / sizeof(ours[0]) && strcmp(mp, ours[i]))
				i++;
			/* The v1 layout's hierarchies are the container's too. */
			CHECK(i < sizeof(ours) / sizeof(ours[0]) || !strncmp(mp, "/sys/fs/cgroup/", 15),
			      "a mount not made by the container: %s", line);
		}
		free(text);
	}
}

static void run_full(bool no_pivot)
{
	need_root();
	make_ws();
	struct sk_device devs[] = {
		{ .path = "/dev/net/tun", .type = 'c', .major = 10, .minor = 200, .has_file_mode = true,
		  .file_mode = 0600, .has_uid = true, .uid = 1000, .has_gid = true, .gid = 1001 },
		{ .path = "/dev/fifo", .type = 'p', .major = -1, .minor = -1 },
		{ .path = "/dev/zero", .type = 'c', .major = 1, .minor = 7 },
	};
	char *masked[] = { "/etc/secret", "/secretdir", "/proc/kcore", "/nope/nothing" };
	char *ro[] = { "/proc/sys", "/nope" };
	char data_src[PATH_MAX], lower[PATH_MAX];
	P(data_src, "%s/src", ws);
	P(lower, "lowerdir=lower");
	struct sk_mount mounts[] = {
		M("/proc", "proc", "proc", NULL),
		M("/dev", "tmpfs", "tmpfs", OPTS("nosuid", "strictatime", "mode=755", "size=65536k")),
		M("/dev/pts", "devpts", "devpts", OPTS("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620")),
		M("/dev/shm", "tmpfs", "shm", OPTS("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
		M("/sys", "sysfs", "sysfs", OPTS("nosuid", "noexec", "nodev", "ro")),
		M("/sys/fs/cgroup", "cgroup", "cgroup", OPTS("nosuid", "noexec", "nodev", "relatime", "ro")),
		M("/data", "bind", data_src, OPTS("ro", "nosuid", "rshared")),
		M("/hostfile", "bind", "srcfile", OPTS("bind", "ro")),
		M("/nosym", "bind", "src", OPTS("nosymfollow")),
		M("/evil/x", "tmpfs", NULL, NULL),
		M("/rel/y", "tmpfs", NULL, NULL),
		M("/dangle/z", "tmpfs", NULL, NULL),
		M("/rro", "bind", data_src, OPTS("rbind", "rro")),
		M("/tmpcp", "tmpfs", NULL, OPTS("tmpcopyup")),
		M("/ovl", "overlay", "overlay", OPTS(lower, "upperdir=upper", "workdir=work")),
	};
	struct sk_spec spec = SPEC(mounts);
	spec.root.readonly = true;
	spec.has_linux = true;
	spec.linux_.devices = devs;
	spec.linux_.n_devices = 3;
	spec.linux_.masked_paths = masked;
	spec.linux_.n_masked_paths = 4;
	spec.linux_.readonly_paths = ro;
	spec.linux_.n_readonly_paths = 2;
	struct sk_mount_plan plan;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_mount_plan_build(&spec, ws, &plan, &err), 0, "%s", err.msg);
	cr_assert_eq(sk_mount_plan_prepare(&plan, false, &err), 0, "%s", err.msg);
	struct full_arg a = { .spec = &spec, .plan = &plan, .no_pivot = no_pivot };
	in_child(full_body, &a);
	cr_assert_eq(access("/etc/x", F_OK), -1);
	sk_mount_plan_free(&plan);
}

Test(rootfs, setup_pivot_finalize, .fini = drop_ws) { run_full(false); }
Test(rootfs, no_pivot, .fini = drop_ws) { run_full(true); }

/* A rootfs in a shared mount (peer of ours): whatever the container's
 * propagation, nothing it mounts may reach us. */
struct prop_arg { struct sk_spec *spec; struct sk_mount_plan *plan; const char *want_root; };

static void prop_body(void *p)
{
	struct prop_arg *a = p;
	struct sk_err err = { 0 };
	struct mnt m;
	struct sk_rootfs_ctx c = { .spec = a->spec, .plan = a->plan, .rootfs = root };
	CHECK(rootfs_setup(&c, &err) == 0, "setup: %s", err.msg);
	CHECK(sk_rootfs_pivot(root, false, &err) == 0, "pivot: %s", err.msg);
	CHECK(rootfs_finalize(&c, &err) == 0, "finalize: %s", err.msg);
	CHECK(find_mount("/", &m), "no /");
	if (a->want_root)
		CHECK(strstr(m.optional, a->want_root), "/ is \"%s\", wanted %s", m.optional, a->want_root);
	CHECK(mount("tmpfs", "/tmp", "tmpfs", 0, NULL) == 0 || errno == ENOENT, "late mount: %s", strerror(errno));
}

static void run_prop(const char *prop, const char *want_root)
{
	need_root();
	make_ws();
	cr_assert_eq(unshare(CLONE_NEWNS), 0);
	cr_assert_eq(mount(NULL, "/", NULL, MS_PRIVATE | MS_REC, NULL), 0);
	cr_assert_eq(mount("tmpfs", ws, "tmpfs", 0, NULL), 0, "%s", strerror(errno));
	cr_assert_eq(mount(NULL, ws, NULL, MS_SHARED, NULL), 0);
	char b[PATH_MAX];
	cr_assert_eq(mkdir(root, 0755), 0);
	cr_assert_eq(mkdir(P(b, "%s/tmp", root), 0755), 0);
	struct sk_mount mounts[] = { M("/proc", "proc", "proc", NULL), M("/x", "tmpfs", NULL, NULL) };
	struct sk_spec spec = SPEC(mounts);
	spec.has_linux = true;
	spec.linux_.rootfs_propagation = (char *)prop;
	struct sk_mount_plan plan;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_mount_plan_build(&spec, ws, &plan, &err), 0, "%s", err.msg);
	struct prop_arg a = { &spec, &plan, want_root };
	in_child(prop_body, &a);
	sk_mount_plan_free(&plan);
}

Test(rootfs, propagation_default_rslave, .fini = drop_ws) { run_prop(NULL, NULL); }
Test(rootfs, propagation_rshared, .fini = drop_ws) { run_prop("rshared", "shared:"); }
Test(rootfs, propagation_shared, .fini = drop_ws) { run_prop("shared", "shared:"); }
Test(rootfs, propagation_private, .fini = drop_ws) { run_prop("private", NULL); }
Test(rootfs, propagation_runbindable, .fini = drop_ws) { run_prop("runbindable", "unbindable"); }

/* In a user namespace (root mapped to root): locked flags kept, sysfs
 * falls back to a bind of /sys, devices are the host's nodes bound,
 * devpts without gid=. */
static void userns_body(void *p)
{
	struct full_arg *a = p;
	struct sk_err err = { 0 };
	struct mnt m;
	struct stat sb;
	char b[PATH_MAX];
	CHECK(mount("tmpfs", P(b, "%s/src", ws), "tmpfs", MS_NOSUID | MS_NODEV, NULL) == 0, "tmpfs: %s", strerror(errno));
	put(P(b, "%s/src/f", ws), "in tmpfs", 0644);
	CHECK(unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0, "unshare: %s", strerror(errno));
	int fd = open("/proc/self/setgroups", O_WRONLY);
	CHECK(fd >= 0 && write(fd, "deny", 4) == 4, "setgroups");
	close(fd);
	fd = open("/proc/self/uid_map", O_WRONLY);
	CHECK(fd >= 0 && write(fd, "0 0 1\n", 6) == 6, "uid_map: %s", strerror(errno));
	close(fd);
	fd = open("/proc/self/gid_map", O_WRONLY);
	CHECK(fd >= 0 && write(fd, "0 0 1\n", 6) == 6, "gid_map: %s", strerror(errno));
	close(fd);

	struct sk_rootfs_ctx c = { .spec = a->spec, .plan = a->plan, .rootfs = root, .userns = true };
	CHECK(rootfs_setup(&c, &err) == 0, "setup: %s", err.msg);
	CHECK(find_mount(R(b, "/data"), &m), "no /data");
	CHECK(has_opt(m.opts, "ro") && has_opt(m.opts, "nosuid") && has_opt(m.opts, "nodev"), "/data: %s", m.opts);
	CHECK(find_mount(R(b, "/sys"), &m) && !strcmp(m.fstype, "sysfs") && has_opt(m.opts, "ro"), "/sys: %s", m.opts);
	CHECK(find_mount(R(b, "/dev/pts"), &m) && !strcmp(m.fstype, "devpts") && !strstr(m.super, "gid="),
	      "devpts: %s", m.super);
	CHECK(find_mount(R(b, "/dev/null"), &m), "/dev/null is not a bind of the host's");
	CHECK(stat(R(b, "/dev/null"), &sb) == 0 && S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(1, 3), "/dev/null");
	CHECK(stat(R(b, "/dev/net/tun"), &sb) == 0 && sb.st_rdev == makedev(10, 200), "/dev/net/tun");
	CHECK(stat(R(b, "/dev/fifo"), &sb) == 0 && S_ISFIFO(sb.st_mode), "fifo");
	CHECK(sk_rootfs_pivot(root, false, &err) == 0, "pivot: %s", err.msg);
	CHECK(rootfs_finalize(&c, &err) == 0, "finalize: %s", err.msg);
	/* No /proc in here: ask statvfs. */
	struct statvfs sv;
	CHECK(statvfs("/", &sv) == 0 && (sv.f_flag & ST_RDONLY), "/ not read-only");
	CHECK(statvfs("/data", &sv) == 0 && (sv.f_flag & ST_NOSUID) && (sv.f_flag & ST_RDONLY), "/data");
}

Test(rootfs, user_namespace, .fini = drop_ws)
{
	need_root();
	make_ws();
	char data_src[PATH_MAX];
	P(data_src, "%s/src", ws);
	struct sk_device devs[] = {
		{ .path = "/dev/net/tun", .type = 'c', .major = 10, .minor = 200 },
		{ .path = "/dev/fifo", .type = 'p', .major = -1, .minor = -1 },
	};
	struct sk_mount mounts[] = {
		M("/dev", "tmpfs", "tmpfs", OPTS("nosuid", "mode=755")),
		M("/dev/pts", "devpts", "devpts", OPTS("newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
		M("/sys", "sysfs", "sysfs", OPTS("nosuid", "noexec", "nodev", "ro")),
		M("/data", "bind", data_src, OPTS("ro")),
	};
	struct sk_spec spec = SPEC(mounts);
	spec.root.readonly = true;
	spec.has_linux = true;
	spec.linux_.devices = devs;
	spec.linux_.n_devices = 2;
	struct sk_mount_plan plan;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_mount_plan_build(&spec, ws, &plan, &err), 0, "%s", err.msg);
	struct full_arg a = { .spec = &spec, .plan = &plan };
	in_child(userns_body, &a);
	sk_mount_plan_free(&plan);
}

static void idmap_body(void *p)
{
	struct full_arg *a = p;
	struct sk_err err = { 0 };
	struct stat sb;
	struct mnt m;
	char b[PATH_MAX];
	struct sk_rootfs_ctx c = { .spec = a->spec, .plan = a->plan, .rootfs = root };
	CHECK(rootfs_setup(&c, &err) == 0, "setup: %s", err.msg);
	/* Mapping 0 -> 1000: what is 0 on disk shows as 1000; 1000 has no
	 * mapping and shows as the overflow id. */
	CHECK(stat(R(b, "/ids/rootfile"), &sb) == 0, "/ids/rootfile: %s", strerror(errno));
	CHECK(sb.st_uid == 1000 && sb.st_gid == 1000, "idmapped owner is %u:%u, wanted 1000:1000", sb.st_uid, sb.st_gid);
	CHECK(stat(R(b, "/ids/owned"), &sb) == 0 && sb.st_uid == 65534, "unmapped owner is %u", sb.st_uid);
	CHECK(find_mount(R(b, "/ids"), &m) && strstr(m.opts, "idmapped") && has_opt(m.opts, "ro"), "/ids: %s", m.opts);
	CHECK(stat(P(b, "%s/idsrc/rootfile", ws), &sb) == 0 && sb.st_uid == 0, "the source changed");
}

Test(rootfs, idmapped_mount, .fini = drop_ws)
{
	need_root();
	make_ws();
	char src[PATH_MAX];
	P(src, "%s/idsrc", ws);
	struct sk_idmap map[] = { { 0, 1000, 1 } };
	struct sk_mount mounts[] = { M("/ids", "bind", src, OPTS("ro")) };
	mounts[0].uid_mappings = mounts[0].gid_mappings = map;
	mounts[0].n_uid_mappings = mounts[0].n_gid_mappings = 1;
	struct sk_spec spec = SPEC(mounts);
	struct sk_mount_plan plan;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_mount_plan_build(&spec, ws, &plan, &err), 0, "%s", err.msg);
	if (sk_mount_plan_prepare(&plan, false, &err) < 0 && (err.errnum == EINVAL || err.errnum == ENOSYS)) {
		sk_mount_plan_free(&plan);
			cr_skip_test("idmapped mounts unsupported here: %s", err.msg);
	}
	cr_assert_eq(err.msg[0], '\0', "prepare: %s", err.msg);
	cr_assert_geq(plan.steps[0].tree_fd, 0);
	struct full_arg a = { .spec = &spec, .plan = &plan };
	in_child(idmap_body, &a);
	sk_mount_plan_free(&plan);
}

/* Setup must fail with want in the message (and the host stay clean). */
struct fail_arg { struct sk_spec *spec; struct sk_mount_plan *plan; const char *want; };

static void fail_body(void *p)
{
	struct fail_arg *a = p;
	struct sk_err err = { 0 };
	struct sk_rootfs_ctx c = { .spec = a->spec, .plan = a->plan, .rootfs = root };
	CHECK(rootfs_setup(&c, &err) == -1, "setup succeeded, wanted \"%s\"", a->want);
	CHECK(strstr(err.msg, a->want), "message \"%s\" lacks \"%s\"", err.msg, a->want);
	CHECK(umask(022) == 022, "umask not restored");
}

static void setup_fails(struct sk_mount m, const char *want)
{
	struct sk_mount mounts[] = { M("/proc", "proc", "proc", NULL), m };
	struct sk_spec spec = SPEC(mounts);
	struct sk_mount_plan plan;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_mount_plan_build(&spec, ws, &plan, &err), 0, "%s", err.msg);
	struct fail_arg a = { &spec, &plan, want };
	umask(022);
	in_child(fail_body, &a);
	sk_mount_plan_free(&plan);
}

Test(rootfs, errors, .fini = drop_ws)
{
	need_root();
	make_ws();
	setup_fails(M("/x", "nosuchfs", "src", NULL), "mounts[1]: mount \"nosuchfs\" on \"/x\": ENODEV");
	setup_fails(M("/pp/kernel", "tmpfs", NULL, NULL),
		    "mounts[1]: destination \"/pp/kernel\" is \"");
	setup_fails(M("/proc/self/attr", "tmpfs", NULL, NULL), "in procfs: refused: EPERM");
	setup_fails(M("/etc/secret/x", "tmpfs", NULL, NULL), "mounts[1]: open \"/etc/secret/x\" in rootfs: ENOTDIR");
	setup_fails(M("/x", "bind", "/nonexistent/src", NULL), "mounts[1]: source \"/nonexistent/src\": ENOENT");
}

Test(rootfs, resolve_creates_inside, .fini = drop_ws)
{
	need_root();
	make_ws();
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;
	cr_assert_geq(rootfd, 0);
	struct sk_err err = { 0 };
	char b[PATH_MAX];
	struct stat sb;
	cr_assert_eq(sk_inroot_resolve(rootfd, "/evil/new/file", SK_CREATE_FILE, &fd, &err), 0, "%s", err.msg);
	close(fd);
	cr_assert_eq(stat(R(b, "/etc/new/file"), &sb), 0);
	cr_assert(S_ISREG(sb.st_mode));
	cr_assert_eq(access("/etc/new", F_OK), -1);
	cr_assert_eq(sk_inroot_resolve(rootfd, "/a/../../b", SK_CREATE_DIR, &fd, &err), 0, "%s", err.msg);
	close(fd);
	cr_assert_eq(stat(R(b, "/b"), &sb), 0);
	cr_assert(S_ISDIR(sb.st_mode));
	cr_assert_eq(sk_inroot_resolve(rootfd, "/missing", SK_CREATE_NONE, &fd, &err), -1);
	cr_assert_eq(err.errnum, ENOENT);
	cr_assert_eq(symlink("loop2", R(b, "/loop1")), 0);
	cr_assert_eq(symlink("loop1", R(b, "/loop2")), 0);
	cr_assert_eq(sk_inroot_resolve(rootfd, "/loop1/x", SK_CREATE_DIR, &fd, &err), -1);
	cr_assert_eq(err.errnum, ELOOP, "%s", err.msg);
	close(rootfd);
}
