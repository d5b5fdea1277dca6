/* fuzz_state: state.json through sk_state_parse() (runtime/container/state.c), what
 * every command on an existing container reads first.  The input is the
 * whole file, not NUL-terminated.  Beyond the sanitizers: a failure leaves
 * the struct empty and says one line naming state.json; a parsed state
 * gives the OCI state JSON that `state` prints, and that JSON must parse
 * back with the same id. */
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include "fuzz.h"
#include "skiff/container/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sk_state st;
	struct sk_err err = { 0 };
	if (sk_state_parse((const char *)data, size, &st, &err) < 0) {
		fuzz_check_err(&err, "state.json: ");
		FUZZ_CHECK(fuzz_all_zero(&st, sizeof(st)), "struct not left empty after: %s", err.msg);
		return 0;
	}
	FUZZ_CHECK(st.id && st.bundle && st.rootfs && st.created, "a required field is NULL");
	char *json = sk_state_oci_json(&st, data[0] & 1 ? SK_STATUS_RUNNING : SK_STATUS_STOPPED, &err);
	FUZZ_CHECK(json, "sk_state_oci_json: %s", err.msg);
	char ebuf[128];
	yajl_val root = yajl_tree_parse(json, ebuf, sizeof(ebuf));
	FUZZ_CHECK(root, "the OCI state JSON does not parse: %s\n%s", ebuf, json);
	const char *id_path[] = { "id", NULL };
	yajl_val id = yajl_tree_get(root, id_path, yajl_t_string);
	FUZZ_CHECK(id && strcmp(id->u.string, st.id) == 0, "id did not survive: %s", json);
	yajl_tree_free(root);
	free(json);
	sk_state_free(&st);
	return 0;
}
