/* containers: the containers under a state root (state.h), for `list` and
 * for any program that manages skiff's containers.
 * sk_containers_list() reads every container directory under root without
 * taking their locks (state.json is replaced atomically, and a listing must
 * not wait behind a create that runs hooks), in name order as runc lists
 * them.  A directory without state.json (a create under way, or one killed
 * before it wrote its state) is listed as "creating", owned by the owner of
 * the directory; one whose state cannot be read is listed as "unknown"
 * with a warning (runc leaves it out: it would be invisible).  A root that does not exist holds no container, and is not
 * made. */
#ifndef SKIFF_CONTAINERS_H
#define SKIFF_CONTAINERS_H

#include <stddef.h>

#include "skiff/base/error.h"
#include "skiff/container/state.h"

struct sk_container_info {
	struct sk_state st;
	enum sk_status status;
};

/* *out (malloc()ed, NULL when empty) gets *n entries sorted by id. */
int sk_containers_list(const char *root, struct sk_container_info **out, size_t *n, struct sk_err *err);
void sk_containers_free(struct sk_container_info *v, size_t n);

#endif
