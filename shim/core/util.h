/* util: small helpers of the shim. */
#ifndef SHIM_CORE_UTIL_H
#define SHIM_CORE_UTIL_H

#include <stddef.h>

/* NULL for NULL (or no memory). */
char *shim_strdup(const char *s);
/* dir/name, malloc'd; NULL when out of memory. */
char *shim_path_join(const char *dir, const char *name);
int shim_set_nonblock(int fd);

struct shim_strv {
	const char **v;
	size_t n;
};

#endif
