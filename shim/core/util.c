/* util: small helpers of the shim (core/util.h). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

char *shim_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *shim_path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	char *p = malloc(dl + nl + 2);
	if (!p)
		return NULL;
	memcpy(p, dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, name, nl + 1);
	return p;
}

int shim_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}
