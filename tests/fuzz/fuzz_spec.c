/* fuzz_spec: config.json through sk_spec_parse() (runtime/spec/spec.c), the
 * parser every create, run and validate runs on a file its author controls.
 * The input is the whole file, not NUL-terminated (libFuzzer's buffer ends
 * at its last byte, so ASan sees any read past len).  Beyond the sanitizers:
 * a failure leaves the struct empty and says one line naming config.json;
 * a success holds what spec.h promises (absolute, validated paths, a
 * non-empty process.args). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "skiff/spec/spec.h"

static void check_spec(const struct sk_spec *s)
{
	FUZZ_CHECK(s->oci_version && s->root.path, "ociVersion or root.path missing");
	for (size_t i = 0; i < s->n_mounts; i++)
		FUZZ_CHECK(s->mounts[i].destination && s->mounts[i].destination[0] == '/',
			   "mounts[%zu].destination not absolute", i);
	if (s->has_process) {
		FUZZ_CHECK(s->process.n_args > 0 && s->process.args[0], "process.args empty");
		FUZZ_CHECK(s->process.cwd && s->process.cwd[0] == '/', "process.cwd not absolute");
	}
	for (int k = 0; k < SK_HOOK_NKINDS; k++)
		for (size_t i = 0; i < s->hooks.n[k]; i++)
			FUZZ_CHECK(s->hooks.list[k][i].path && s->hooks.list[k][i].path[0] == '/',
				   "hooks.%s[%zu].path not absolute", sk_hook_kind_name(k), i);
	if (s->has_linux) {
		for (size_t i = 0; i < s->linux_.n_devices; i++)
			FUZZ_CHECK(s->linux_.devices[i].path[0] == '/', "linux.devices[%zu].path not absolute", i);
		if (s->linux_.seccomp.present)
			FUZZ_CHECK(s->linux_.seccomp.default_action, "linux.seccomp.defaultAction missing");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sk_spec s;
	struct sk_err err = { 0 };
	if (sk_spec_parse("config.json", (const char *)data, size, &s, &err) == 0) {
		check_spec(&s);
		sk_spec_free(&s);
		return 0;
	}
	fuzz_check_err(&err, "config.json: ");
	FUZZ_CHECK(fuzz_all_zero(&s, sizeof(s)), "struct not left empty after: %s", err.msg);
	return 0;
}
