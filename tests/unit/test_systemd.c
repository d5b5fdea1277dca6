/* The systemd cgroup driver's pure half: cgroupsPath to unit and slice,
 * slice expansion, unit properties (runtime/cgroup/systemd.c). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "skiff/cgroup/res.h"
#include "skiff/cgroup/systemd.h"

static void unit_is(const char *cp, bool user, const char *name, const char *slice, const char *path)
{
	struct sk_sd_unit u;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_sd_unit_parse(cp, "c1", user, &u, &err), 0, "%s: %s", cp ? cp : "(null)", err.msg);
	cr_assert_str_eq(u.name, name);
	cr_assert_str_eq(u.slice, slice);
	cr_assert_str_eq(u.path, path);
	cr_assert_str_eq(u.id, "c1");
	cr_assert_eq(u.user, user);
	sk_sd_unit_free(&u);
}

static void unit_refused(const char *cp, const char *msg)
{
	struct sk_sd_unit u;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_sd_unit_parse(cp, "c1", false, &u, &err), -1, "%s accepted", cp);
	cr_assert_null(u.name);
	cr_assert_str_eq(err.msg, msg);
}

Test(systemd, unit_names)
{
	unit_is("system.slice:skiff:c1", false, "skiff-c1.scope", "system.slice", "/system.slice/skiff-c1.scope");
	unit_is(":skiff:c1", false, "skiff-c1.scope", "system.slice", "/system.slice/skiff-c1.scope");
	unit_is(":skiff:c1", true, "skiff-c1.scope", "user.slice", "/user.slice/skiff-c1.scope");
	unit_is(NULL, false, "skiff-c1.scope", "system.slice", "/system.slice/skiff-c1.scope");
	unit_is("", true, "skiff-c1.scope", "user.slice", "/user.slice/skiff-c1.scope");
	unit_is("machine.slice:libpod:abc", false, "libpod-abc.scope", "machine.slice", "/machine.slice/libpod-abc.scope");
	unit_is("a-b-c.slice:pfx:t5", false, "pfx-t5.scope", "a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice/pfx-t5.scope");
	unit_is("kubepods-besteffort-pod12_34.slice:cri-containerd:abc", false, "cri-containerd-abc.scope",
		"kubepods-besteffort-pod12_34.slice",
		"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12_34.slice/cri-containerd-abc.scope");
	unit_is("system.slice::c1", false, "c1.scope", "system.slice", "/system.slice/c1.scope");
	unit_is("-:skiff:c1", false, "skiff-c1.scope", "-.slice", "/skiff-c1.scope");
	/* A name ending in .slice is the unit itself, a slice under its own
	 * name's levels; the slice part is what it wants. */
	unit_is("kubepods.slice:x:kubepods-pod1.slice", false, "kubepods-pod1.slice", "kubepods.slice",
		"/kubepods.slice/kubepods-pod1.slice");
}

Test(systemd, bad_paths)
{
	unit_refused("/a/b", "linux.cgroupsPath \"/a/b\": expected \"slice:prefix:name\" for systemd cgroups");
	unit_refused("a:b", "linux.cgroupsPath \"a:b\": expected \"slice:prefix:name\" for systemd cgroups");
	unit_refused("a:b:c:d", "linux.cgroupsPath \"a:b:c:d\": expected \"slice:prefix:name\" for systemd cgroups");
	unit_refused("system.slice:skiff:", "linux.cgroupsPath \"system.slice:skiff:\": the name (slice:prefix:name) is empty");
	unit_refused("system:skiff:c1",
		     "linux.cgroupsPath \"system:skiff:c1\": systemd slice \"system\": not a slice name (NAME.slice)");
	unit_refused("a--b.slice:skiff:c1",
		     "linux.cgroupsPath \"a--b.slice:skiff:c1\": systemd slice \"a--b.slice\": empty component");
	unit_refused("system.slice:sk/iff:c1",
		     "linux.cgroupsPath \"system.slice:sk/iff:c1\": \"sk/iff-c1.scope\" is not a valid systemd unit name");
	unit_refused("system.slice:skiff:a b",
		     "linux.cgroupsPath \"system.slice:skiff:a b\": \"skiff-a b.scope\" is not a valid systemd unit name");
}

static void expands(const char *slice, const char *path)
{
	char *out;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_sd_slice_expand(slice, &out, &err), 0, "%s: %s", slice, err.msg);
	cr_assert_str_eq(out, path);
	free(out);
}

static void expand_refused(const char *slice)
{
	char *out = (char *)"x";
	struct sk_err err = { 0 };
	cr_assert_eq(sk_sd_slice_expand(slice, &out, &err), -1, "%s accepted", slice);
	cr_assert_null(out);
}

Test(systemd, slices)
{
	expands("-.slice", "/");
	expands("system.slice", "/system.slice");
	expands("a-b.slice", "/a.slice/a-b.slice");
	expands("a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice");
	expand_refused("a--b.slice");
	expand_refused("-a.slice");
	expand_refused("a-.slice");
	expand_refused(".slice");
	expand_refused("a/b.slice");
	expand_refused("a.scope");
}

static const struct sk_sd_prop *find(const struct sk_sd_props *p, const char *name, size_t nth)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->p[i].name, name) && nth-- == 0)
			return &p->p[i];
	return NULL;
}

static uint64_t num(const struct sk_sd_props *p, const char *name)
{
	const struct sk_sd_prop *q = find(p, name, 0);
	cr_assert_not_null(q, "no %s", name);
	return q->num;
}

Test(systemd, unit_props)
{
	struct sk_sd_unit u;
	struct sk_err err = { 0 };
	struct sk_sd_props p = { 0 };
	cr_assert_eq(sk_sd_unit_parse("system.slice:skiff:c1", "c1", false, &u, &err), 0);
	cr_assert_eq(sk_sd_props_unit(&u, 42, &p, &err), 0, "%s", err.msg);
	cr_assert_str_eq(find(&p, "Description", 0)->str, "skiff container c1");
	cr_assert_str_eq(find(&p, "Slice", 0)->str, "system.slice");
	cr_assert_eq(num(&p, "Delegate"), 1);
	cr_assert_eq(num(&p, "PIDs"), 42);
	cr_assert_eq(find(&p, "PIDs", 0)->type, SK_SD_PIDS);
	cr_assert_eq(num(&p, "MemoryAccounting"), 1);
	cr_assert_eq(num(&p, "CPUAccounting"), 1);
	cr_assert_eq(num(&p, "IOAccounting"), 1);
	cr_assert_eq(num(&p, "TasksAccounting"), 1);
	cr_assert_eq(num(&p, "DefaultDependencies"), 0);
	sk_sd_props_free(&p);
	sk_sd_unit_free(&u);
	/* A slice unit wants its parent and takes no Delegate. */
	cr_assert_eq(sk_sd_unit_parse("kubepods.slice:x:kubepods-p1.slice", "c1", false, &u, &err), 0);
	cr_assert_eq(sk_sd_props_unit(&u, 0, &p, &err), 0);
	cr_assert_null(find(&p, "Slice", 0));
	cr_assert_null(find(&p, "Delegate", 0));
	cr_assert_null(find(&p, "PIDs", 0));
	cr_assert_str_eq(find(&p, "Wants", 0)->strv[0], "kubepods.slice");
	sk_sd_props_free(&p);
	sk_sd_unit_free(&u);
}

Test(systemd, resource_props_v2)
{
	struct sk_resources r = { .present = true };
	r.memory.present = r.memory.has_limit = r.memory.has_swap = r.memory.has_reservation = true;
	r.memory.limit = 64 << 20;
	r.memory.swap = 64 << 20;
	r.memory.reservation = 32 << 20;
	r.cpu.present = r.cpu.has_shares = r.cpu.has_quota = r.cpu.has_period = true;
	r.cpu.shares = 512;
	r.cpu.quota = 50000;
	r.cpu.period = 100000;
	r.cpu.cpus = (char *)"0-1,9";
	r.cpu.mems = (char *)"0";
	r.pids.present = r.pids.has_limit = true;
	r.pids.limit = 50;
	r.block_io.present = r.block_io.has_weight = true;
	r.block_io.weight = 500;
	struct sk_device_rule dev[] = {
		{ .allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm" },
		{ .allow = true, .type = 'c', .major = 10, .minor = 229, .access = "rw" },
		{ .allow = true, .type = 'b', .major = -1, .minor = -1, .access = "m" },
		{ .allow = false, .type = 'c', .major = 1, .minor = 3, .access = "" },
	};
	r.devices = dev;
	r.n_devices = 4;
	struct sk_sd_props p = { 0 };
	struct sk_err err = { 0 };
	cr_assert_eq(sk_sd_props_resources(&r, true, true, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(num(&p, "MemoryMax"), 64 << 20);
	cr_assert_eq(num(&p, "MemoryLow"), 32 << 20);
	cr_assert_eq(num(&p, "MemorySwapMax"), 0, "swap = limit: no swap, sent so that daemon-reload keeps it");
	cr_assert_eq(num(&p, "CPUWeight"), sk_cgroup_shares_to_weight(512), "the weight cgroupfs gets too");
	cr_assert_eq(num(&p, "CPUQuotaPeriodUSec"), 100000);
	cr_assert_eq(num(&p, "CPUQuotaPerSecUSec"), 500000);
	cr_assert_eq(num(&p, "TasksMax"), 50);
	cr_assert_eq(num(&p, "IOWeight"), 1 + (500 - 10) * 9999 / 990);
	const struct sk_sd_prop *cpus = find(&p, "AllowedCPUs", 0);
	cr_assert_eq(cpus->type, SK_SD_BYTES);
	cr_assert_eq(cpus->n, 2);
	cr_assert_eq(cpus->bytes[0], 0x03);
	cr_assert_eq(cpus->bytes[1], 0x02);
	cr_assert_eq(find(&p, "AllowedMemoryNodes", 0)->bytes[0], 0x01);
	cr_assert_str_eq(find(&p, "DevicePolicy", 0)->str, "strict");
	cr_assert_eq(find(&p, "DeviceAllow", 0)->n, 0, "the list emptied first");
	const struct sk_sd_prop *allow = find(&p, "DeviceAllow", 1);
	cr_assert_str_eq(allow->strv[0], "/dev/char/10:229");
	cr_assert_str_eq(allow->strv[1], "rw");
	cr_assert_str_eq(allow->strv[2], "block-*");
	cr_assert_str_eq(allow->strv[3], "m");
	cr_assert_str_eq(allow->strv[4], "char-*", "then the always-allowed ones; deny rules are not sent");
	cr_assert_null(find(&p, "MemoryLimit", 0));
	sk_sd_props_free(&p);

	/* Unlimited values are systemd's infinity; a quota rounds up to 10 ms. */
	r.memory.limit = -1;
	r.memory.has_swap = false;
	r.pids.limit = -1;
	r.cpu.quota = 12345;
	r.cpu.has_period = false;
	cr_assert_eq(sk_sd_props_resources(&r, true, false, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(num(&p, "MemoryMax"), UINT64_MAX);
	cr_assert_eq(num(&p, "TasksMax"), UINT64_MAX);
	cr_assert_eq(num(&p, "CPUQuotaPerSecUSec"), 130000);
	cr_assert_null(find(&p, "CPUQuotaPeriodUSec", 0));
	cr_assert_null(find(&p, "DevicePolicy", 0), "update leaves devices alone");
	sk_sd_props_free(&p);
}

Test(systemd, resource_props_v1)
{
	struct sk_resources r = { .present = true };
	r.memory.present = r.memory.has_limit = true;
	r.memory.limit = 1 << 20;
	r.cpu.present = r.cpu.has_shares = true;
	r.cpu.shares = 512;
	r.cpu.cpus = (char *)"0";
	r.block_io.has_weight = true;
	r.block_io.weight = 300;
	struct sk_device_rule all = { .allow = true, .type = 'a', .major = -1, .minor = -1, .access = "rwm" };
	r.devices = &all;
	r.n_devices = 1;
	struct sk_sd_props p = { 0 };
	struct sk_err err = { 0 };
	cr_assert_eq(sk_sd_props_resources(&r, false, true, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(num(&p, "MemoryLimit"), 1 << 20);
	cr_assert_eq(num(&p, "CPUShares"), 512);
	cr_assert_eq(num(&p, "BlockIOWeight"), 300);
	cr_assert_null(find(&p, "AllowedCPUs", 0), "cpuset is cgroupfs's on v1");
	cr_assert_str_eq(find(&p, "DevicePolicy", 0)->str, "auto");
	cr_assert_null(find(&p, "DeviceAllow", 0));
	sk_sd_props_free(&p);
}

Test(systemd, annotations)
{
	struct sk_kv ann[] = {
		{ (char *)"org.systemd.property.CollectMode", (char *)"'inactive-or-failed'" },
		{ (char *)"org.systemd.property.IgnoreOnIsolate", (char *)"true" },
		{ (char *)"org.systemd.property.TimeoutStopSec", (char *)"uint64 5" },
		{ (char *)"org.systemd.property.TasksMax", (char *)"uint64 99" },
		{ (char *)"org.systemd.property.Nice", (char *)"-5" },
		{ (char *)"org.systemd.property.After", (char *)"['a.service', \"b.service\"]" },
		{ (char *)"io.other", (char *)"whatever" },
	};
	struct sk_sd_props p = { 0 };
	struct sk_err err = { 0 };
	cr_assert_eq(sk_sd_props_annotations(ann, 7, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(p.n, 6);
	cr_assert_str_eq(find(&p, "CollectMode", 0)->str, "inactive-or-failed");
	cr_assert_eq(num(&p, "IgnoreOnIsolate"), 1);
	cr_assert_eq(num(&p, "TimeoutStopUSec"), 5000000);
	cr_assert_eq(find(&p, "TasksMax", 0)->type, SK_SD_U64);
	cr_assert_eq(num(&p, "TasksMax"), 99);
	cr_assert_eq(find(&p, "Nice", 0)->type, SK_SD_I32);
	cr_assert_eq((int32_t)num(&p, "Nice"), -5);
	const struct sk_sd_prop *after = find(&p, "After", 0);
	cr_assert_eq(after->n, 2);
	cr_assert_str_eq(after->strv[1], "b.service");
	sk_sd_props_free(&p);

	static const char *const bad[][2] = {
		{ "org.systemd.property.X", "'unterminated" }, { "org.systemd.property.X", "maybe" },
		{ "org.systemd.property.X-Y", "true" },         { "org.systemd.property.", "true" },
		{ "org.systemd.property.X", "uint32 -1" },       { "org.systemd.property.TimeoutSec", "'x'" },
		{ "org.systemd.property.X", "['a' 'b']" },        { "org.systemd.property.X", "int32 9999999999" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sk_kv one = { (char *)bad[i][0], (char *)bad[i][1] };
		cr_assert_eq(sk_sd_props_annotations(&one, 1, &p, &err), -1, "%s=%s accepted", bad[i][0], bad[i][1]);
		cr_assert(strstr(err.msg, "not a systemd property name and GVariant value"), "%s", err.msg);
		sk_sd_props_free(&p);
	}
}
