/* skiff features: the runtime-spec features document, from
 * include/skiff/base/features.h (what this build implements) plus what only the
 * installed libseccomp can tell: its architectures and the filter flags the
 * running kernel accepts; and the cgroup backend this host gets. */
#include <stdio.h>
#include <string.h>

#include <seccomp.h>

#include "cli.h"
#include "skiff/cgroup/cgroup.h"
#include "skiff/base/features.h"
#include "skiff/seccomp/seccomp.h"
#include "skiff/spec/json_gen.h"
#include "skiff/spec/spec.h"

static const char *const hooks[] = { SK_FEAT_HOOKS NULL };
static const char *const mount_options[] = { SK_FEAT_MOUNT_OPTIONS NULL };
static const char *const namespaces[] = { SK_FEAT_NAMESPACES NULL };
static const char *const seccomp_actions[] = { SK_FEAT_SECCOMP_ACTIONS NULL };
static const char *const seccomp_operators[] = { SK_FEAT_SECCOMP_OPERATORS NULL };
static const char *const seccomp_flags[] = { SK_FEAT_SECCOMP_FLAGS NULL };

/* The spec's architecture names and libseccomp's for them. */
static const struct { const char *spec, *scmp; } archs[] = {
	{ "SCMP_ARCH_AARCH64", "aarch64" }, { "SCMP_ARCH_ARM", "arm" },
	{ "SCMP_ARCH_LOONGARCH64", "loongarch64" }, { "SCMP_ARCH_M68K", "m68k" },
	{ "SCMP_ARCH_MIPS", "mips" }, { "SCMP_ARCH_MIPS64", "mips64" },
	{ "SCMP_ARCH_MIPS64N32", "mips64n32" }, { "SCMP_ARCH_MIPSEL", "mipsel" },
	{ "SCMP_ARCH_MIPSEL64", "mipsel64" }, { "SCMP_ARCH_MIPSEL64N32", "mipsel64n32" },
	{ "SCMP_ARCH_PARISC", "parisc" }, { "SCMP_ARCH_PARISC64", "parisc64" },
	{ "SCMP_ARCH_PPC", "ppc" }, { "SCMP_ARCH_PPC64", "ppc64" }, { "SCMP_ARCH_PPC64LE", "ppc64le" },
	{ "SCMP_ARCH_RISCV64", "riscv64" }, { "SCMP_ARCH_S390", "s390" }, { "SCMP_ARCH_S390X", "s390x" },
	{ "SCMP_ARCH_SH", "sh" }, { "SCMP_ARCH_SHEB", "sheb" },
	{ "SCMP_ARCH_X32", "x32" }, { "SCMP_ARCH_X86", "x86" }, { "SCMP_ARCH_X86_64", "x86_64" },
};

static void gen_enabled(struct sk_json *j, const char *key, bool on)
{
	sk_json_str(j, key);
	sk_json_map_open(j);
	sk_json_kbool(j, "enabled", on);
	sk_json_map_close(j);
}

static void gen_seccomp(struct sk_json *j)
{
	sk_json_str(j, "seccomp");
	sk_json_map_open(j);
	sk_json_kbool(j, "enabled", SK_FEAT_SECCOMP);
	if (SK_FEAT_SECCOMP) {
		sk_json_str(j, "actions");
		sk_json_strv(j, seccomp_actions, SIZE_MAX);
		sk_json_str(j, "operators");
		sk_json_strv(j, seccomp_operators, SIZE_MAX);
		sk_json_str(j, "archs");
		sk_json_array_open(j);
		for (size_t i = 0; i < sizeof(archs) / sizeof(archs[0]); i++) {
			if (seccomp_arch_resolve_name(archs[i].scmp) != 0)
				sk_json_str(j, archs[i].spec);
		}
		sk_json_array_close(j);
		sk_json_str(j, "knownFlags");
		sk_json_strv(j, seccomp_flags, SIZE_MAX);
		sk_json_str(j, "supportedFlags");
		sk_json_array_open(j);
		/* Asked of the kernel: libseccomp's API level stops short of
		 * the newest flags. */
		for (const char *const *f = seccomp_flags; *f; f++)
			if (sk_seccomp_flag_supported(*f))
				sk_json_str(j, *f);
		sk_json_array_close(j);
	}
	sk_json_map_close(j);
}

int cmd_features(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	struct sk_usage u = { .operands = NULL, .min = 0, .max = 0, .opts = NULL };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;

	struct sk_json j;
	if (sk_json_init(&j, "    ", err) < 0)
		return SK_EXIT_ERROR;
	sk_json_map_open(&j);
	sk_json_kstr(&j, "ociVersionMin", SK_OCI_VERSION_MIN);
	sk_json_kstr(&j, "ociVersionMax", SK_OCI_VERSION);
	sk_json_str(&j, "hooks");
	sk_json_strv(&j, hooks, SIZE_MAX);
	sk_json_str(&j, "mountOptions");
	sk_json_strv(&j, mount_options, SIZE_MAX);

	sk_json_str(&j, "linux");
	sk_json_map_open(&j);
	sk_json_str(&j, "namespaces");
	sk_json_strv(&j, namespaces, SIZE_MAX);
	sk_json_str(&j, "capabilities");
	if (SK_FEAT_CAPABILITIES) {
		sk_json_array_open(&j);
		char name[SK_CAP_NAME_MAX];
		for (int cap = 0; sk_cap_name(cap, name); cap++)
			sk_json_str(&j, name);
		sk_json_array_close(&j);
	} else {
		sk_json_empty_array(&j);
	}
	sk_json_str(&j, "cgroup");
	sk_json_map_open(&j);
	sk_json_kbool(&j, "v1", SK_FEAT_CGROUP_V1);
	sk_json_kbool(&j, "v2", SK_FEAT_CGROUP_V2);
	sk_json_kbool(&j, "systemd", SK_FEAT_CGROUP_SYSTEMD);
	sk_json_kbool(&j, "systemdUser", SK_FEAT_CGROUP_SYSTEMD_USER);
	sk_json_kbool(&j, "rdma", SK_FEAT_CGROUP_RDMA);
	sk_json_map_close(&j);
	gen_seccomp(&j);
	gen_enabled(&j, "apparmor", SK_FEAT_APPARMOR);
	gen_enabled(&j, "selinux", SK_FEAT_SELINUX);
	sk_json_str(&j, "intelRdt");
	sk_json_map_open(&j);
	sk_json_kbool(&j, "enabled", SK_FEAT_INTEL_RDT);
	sk_json_kbool(&j, "schemata", SK_FEAT_INTEL_RDT_SCHEMATA);
	sk_json_kbool(&j, "monitoring", SK_FEAT_INTEL_RDT_MONITORING);
	sk_json_map_close(&j);
	if (SK_FEAT_MEMORY_POLICY) {
		sk_json_str(&j, "memoryPolicy");
		sk_json_map_open(&j);
		sk_json_str(&j, "modes");
		sk_json_array_open(&j);
		for (size_t i = 0; sk_mpol_mode_at(i); i++)
			sk_json_str(&j, sk_mpol_mode_at(i));
		sk_json_array_close(&j);
		sk_json_str(&j, "flags");
		sk_json_array_open(&j);
		for (size_t i = 0; sk_mpol_flag_at(i); i++)
			sk_json_str(&j, sk_mpol_flag_at(i));
		sk_json_array_close(&j);
		sk_json_map_close(&j);
	}
	gen_enabled(&j, "netDevices", SK_FEAT_NET_DEVICES);
	sk_json_str(&j, "mountExtensions");
	sk_json_map_open(&j);
	gen_enabled(&j, "idmap", SK_FEAT_IDMAP_MOUNTS);
	sk_json_map_close(&j);
	sk_json_map_close(&j);

	const struct scmp_version *v = seccomp_version();
	char ver[32];
	snprintf(ver, sizeof(ver), "%u.%u.%u", v->major, v->minor, v->micro);
	sk_json_str(&j, "annotations");
	sk_json_map_open(&j);
	sk_json_kstr(&j, "io.github.seccomp.libseccomp.version", ver);
	/* Which backend this host gets (docs/cgroups.md): unified, hybrid,
	 * legacy or none. */
	sk_json_kstr(&j, "org.skiff.cgroup.backend", sk_cgroup_backend());
	sk_json_map_close(&j);
	sk_json_map_close(&j);

	const char *buf;
	size_t len;
	rc = SK_EXIT_ERROR;
	if (sk_json_buf(&j, &buf, &len, err) == 0 && sk_out_write(buf, len, err) == 0)
		rc = SK_EXIT_OK;
	sk_json_free(&j);
	return rc;
}
