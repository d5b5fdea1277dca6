/* fuzz_process: a lone process object through sk_spec_parse_process()
 * (runtime/spec/spec.c), what `exec --process FILE` reads from a file its
 * caller gives.  The input is the whole file, not NUL-terminated.  Beyond
 * the sanitizers: a failure leaves the struct empty and says one line
 * naming the file; a success has non-empty args and an absolute cwd. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "skiff/spec/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sk_process p;
	struct sk_err err = { 0 };
	if (sk_spec_parse_process("process.json", (const char *)data, size, &p, &err) == 0) {
		FUZZ_CHECK(p.n_args > 0 && p.args[0], "args empty");
		FUZZ_CHECK(p.cwd && p.cwd[0] == '/', "cwd not absolute");
		sk_spec_process_free(&p);
		return 0;
	}
	fuzz_check_err(&err, "process.json: ");
	FUZZ_CHECK(fuzz_all_zero(&p, sizeof(p)), "struct not left empty after: %s", err.msg);
	return 0;
}
