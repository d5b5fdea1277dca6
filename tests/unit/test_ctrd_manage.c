/* test_ctrd_manage: the pieces of containerd-shim-skiff-v2's start and
 * delete that need no containerd (shim/containerd/{opts,manage,sha256}.c):
 * Go-style flags, SHA-256, the socket's name as containerd's shims derive
 * it, grouping by annotation, the runtime record of a bundle, and the
 * runtime's options from Create (rtopts.c). */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/containerd/manage.h"
#include "shim/containerd/opts.h"
#include "shim/containerd/rtopts.h"
#include "containerd/runtimeoptions.pb-c.h"
#include "shim/containerd/sha256.h"

Test(ctrd, sha256_vectors)
{
	char hex[65];
	sha256_hex("", 0, hex);
	cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56 bytes: two tail blocks */
	sha256_hex(m, strlen(m), hex);
	cr_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	char *a = malloc(1000000);
	memset(a, 'a', 1000000);
	sha256_hex(a, 1000000, hex);
	free(a);
	cr_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

Test(ctrd, flags_as_go_parses_them)
{
	struct ctrd_opts o;
	struct sk_err err;
	char *a1[] = { "shim", "-namespace", "k8s.io", "--id=c1", "-address", "/run/containerd/containerd.sock",
		       "-publish-binary", "/usr/bin/containerd", "-debug", "-bundle", "/b", "start", "-x", NULL };
	cr_assert_eq(ctrd_opts_parse(13, a1, &o, &err), 0, "%s", err.msg);
	cr_assert_str_eq(o.namespace, "k8s.io");
	cr_assert_str_eq(o.id, "c1");
	cr_assert_str_eq(o.address, "/run/containerd/containerd.sock");
	cr_assert_str_eq(o.publish_binary, "/usr/bin/containerd");
	cr_assert_str_eq(o.bundle, "/b");
	cr_assert(o.debug && !o.version);
	cr_assert_str_eq(o.action, "start");
	char *a2[] = { "shim", "-v", "-debug=false", "--", "delete", NULL };
	cr_assert_eq(ctrd_opts_parse(5, a2, &o, &err), 0);
	cr_assert(o.version && !o.debug && !strcmp(o.action, "delete"));
	char *a3[] = { "shim", "-nope", NULL };
	cr_assert_eq(ctrd_opts_parse(2, a3, &o, &err), -1);
	cr_assert_str_eq(err.msg, "flag provided but not defined: -nope");
	char *a4[] = { "shim", "-id", NULL };
	cr_assert_eq(ctrd_opts_parse(2, a4, &o, &err), -1);
	char *a5[] = { "shim", "-debug=maybe", NULL };
	cr_assert_eq(ctrd_opts_parse(2, a5, &o, &err), -1);
	char *a6[] = { "shim", "---id", "x", NULL };
	cr_assert_eq(ctrd_opts_parse(3, a6, &o, &err), -1);
	char *a7[] = { "shim", "-namespace", "default", NULL };
	cr_assert_eq(ctrd_opts_parse(3, a7, &o, &err), 0);
	cr_assert_null(o.action);
}

Test(ctrd, join_cleans_as_go)
{
	char out[256];
	static const char *const cases[][4] = {
		{ "/run/containerd/containerd.sock", "default", "c1", "/run/containerd/containerd.sock/default/c1" },
		{ "/run//x/", "./ns", "id/", "/run/x/ns/id" },
		{ "/a/b", "..", "c", "/a/c" },
		{ "/", "..", "c", "/c" },
		{ "", "ns", "id", "ns/id" },
		{ "a", "../..", "b", "../b" },
		{ "", "", "", "." },
		{ "/a", "../..", "", "/" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(ctrd_path_join3(cases[i][0], cases[i][1], cases[i][2], out, sizeof(out)), 0);
		cr_assert_str_eq(out, cases[i][3], "case %zu", i);
	}
	cr_assert_eq(ctrd_path_join3("/aaaa", "bbbb", "cccc", out, 8), -1);
}

Test(ctrd, socket_address_is_containerds)
{
	char addr[128];
	struct sk_err err;
	cr_assert_eq(ctrd_socket_address("/run/containerd/containerd.sock", "k8s.io", "pod1", addr, sizeof(addr), &err), 0);
	cr_assert_str_eq(addr, "unix:///run/containerd/s/"
			       "8e264b1ad347c80aee5f3dea6e4bb53d72026989222058782273d5db043c7723");
}

static char dir[64];

static void mkbundle(const char *config)
{
	strcpy(dir, "/tmp/ctrd-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char p[128];
	snprintf(p, sizeof(p), "%s/config.json", dir);
	FILE *f = fopen(p, "w");
	fputs(config, f);
	fclose(f);
}

static void rmbundle(void)
{
	char p[128];
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	cr_assert_eq(system(p), 0);
}

Test(ctrd, group_by_annotation)
{
	struct sk_err err;
	char *g;
	mkbundle("{\"annotations\":{\"io.kubernetes.cri.sandbox-id\":\"pod9\",\"x\":\"y\"}}");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	cr_assert_eq(ctrd_group(dfd, "c1", &g, &err), 0, "%s", err.msg);
	cr_assert_str_eq(g, "pod9");
	free(g);
	close(dfd);
	rmbundle();

	mkbundle("{\"annotations\":{\"io.kubernetes.cri.sandbox-id\":\"pod9\",\"io.containerd.runc.v2.group\":\"g\"}}");
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	cr_assert_eq(ctrd_group(dfd, "c1", &g, &err), 0);
	cr_assert_str_eq(g, "g");
	free(g);
	close(dfd);
	rmbundle();

	mkbundle("{\"ociVersion\":\"1.0.2\"}");
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	cr_assert_eq(ctrd_group(dfd, "c1", &g, &err), 0);
	cr_assert_str_eq(g, "c1");
	free(g);
	close(dfd);
	rmbundle();

	mkbundle("{not json");
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	cr_assert_eq(ctrd_group(dfd, "c1", &g, &err), -1);
	close(dfd);
	rmbundle();
}

Test(ctrd, runtime_record)
{
	struct sk_err err;
	struct ctrd_runtime rt, back;
	mkbundle("{}");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	cr_assert_eq(ctrd_runtime_load(dfd, "default", &back, &err), 0);
	cr_assert_str_eq(back.binary, "skiff");
	cr_assert_str_eq(back.root, "/run/containerd/skiff/default");
	ctrd_runtime_default(&rt, "/usr/sbin/runc", NULL, "k8s.io");
	cr_assert_str_eq(rt.root, "/run/containerd/runc/k8s.io");
	rt.systemd_cgroup = 1;
	cr_assert_eq(ctrd_runtime_save(dfd, &rt, &err), 0);
	cr_assert_eq(ctrd_runtime_load(dfd, "x", &back, &err), 0);
	cr_assert_str_eq(back.binary, "/usr/sbin/runc");
	cr_assert_str_eq(back.root, "/run/containerd/runc/k8s.io");
	cr_assert_eq(back.systemd_cgroup, 1);
	close(dfd);
	rmbundle();
}

Test(ctrd, runtime_options_lines)
{
	struct ctrd_rtopts o = { 0 };
	struct sk_err err;
	const char *ok = "# skiff\n  BinaryName = \"/usr/local/bin/sk\\\"iff\"\r\nRoot='/run/x' # c\n\nSystemdCgroup = true\n"
			 "TypeUrl = \"\"\n";
	cr_assert_eq(ctrd_rtopts_lines(ok, strlen(ok), "f", &o, &err), 0, "%s", err.msg);
	cr_assert_str_eq(o.binary, "/usr/local/bin/sk\"iff");
	cr_assert_str_eq(o.root, "/run/x");
	cr_assert(o.systemd_cgroup);
	ctrd_rtopts_free(&o);
	struct { const char *text, *msg; } bad[] = {
		{ "SystemdCgroup = yes", "f: line 1: SystemdCgroup: true or false is expected" },
		{ "x\nNoPivotRoot = true", "f: line 2: unknown key NoPivotRoot (BinaryName, Root and SystemdCgroup are read)" },
		{ "BinaryName = skiff", "f: line 1: BinaryName: a quoted string is expected" },
		{ "Root = \"/a", "f: line 1: Root: unterminated string" },
		{ "Root = \"/a\" b", "f: line 1: Root: text after the string" },
		{ "SystemdCgroup = true false", "f: line 1: SystemdCgroup: text after the value" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&o, 0, sizeof(o));
		int rc = ctrd_rtopts_lines(bad[i].text, strlen(bad[i].text), "f", &o, &err);
		if (i == 1) /* "x" is not a Key = value line either: the first error wins */
			cr_assert_str_eq(err.msg, "f: line 1: not a `Key = value` line");
		else
			cr_assert_str_eq(err.msg, bad[i].msg);
		cr_assert_eq(rc, -1);
		ctrd_rtopts_free(&o);
	}
}

/* runtimeoptions.v1.Options as containerd 1.7 sends it: the handler's
 * TOML options in config_body; 1.6's config_path names a file. */
Test(ctrd, runtime_options_any)
{
	char tmp[] = "/tmp/ctrd-rtopts-XXXXXX", path[64];
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(path, sizeof(path), "%s/opts.toml", tmp);
	FILE *f = fopen(path, "w");
	fputs("SystemdCgroup = true\nBinaryName = \"/bin/skiff\"\n", f);
	fclose(f);
	const char *body = "SystemdCgroup = true\n";
	Runtimeoptions__V1__Options m = RUNTIMEOPTIONS__V1__OPTIONS__INIT;
	uint8_t buf[256];
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	any.type_url = "runtimeoptions.v1.Options";
	any.value.data = buf;
	struct ctrd_rtopts o;
	struct sk_err err;

	m.config_body.data = (uint8_t *)body;
	m.config_body.len = strlen(body);
	any.value.len = runtimeoptions__v1__options__pack(&m, buf);
	cr_assert_eq(ctrd_rtopts_parse(&any, &o, &err), 0, "%s", err.msg);
	cr_assert(o.systemd_cgroup);
	cr_assert_null(o.binary);
	ctrd_rtopts_free(&o);

	m.config_path = path;
	any.value.len = runtimeoptions__v1__options__pack(&m, buf);
	cr_assert_eq(ctrd_rtopts_parse(&any, &o, &err), 0, "%s", err.msg);
	cr_assert(o.systemd_cgroup);
	cr_assert_str_eq(o.binary, "/bin/skiff");
	ctrd_rtopts_free(&o);

	m.config_path = "opts.toml";
	any.value.len = runtimeoptions__v1__options__pack(&m, buf);
	cr_assert_eq(ctrd_rtopts_parse(&any, &o, &err), -1);
	cr_assert_str_eq(err.msg, "ConfigPath opts.toml: not an absolute path");

	/* Another type: the defaults. */
	any.type_url = "other.v1.Options";
	cr_assert_eq(ctrd_rtopts_parse(&any, &o, &err), 0);
	cr_assert(!o.systemd_cgroup && !o.binary && !o.root);
	unlink(path);
	rmdir(tmp);
}
