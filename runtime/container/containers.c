/* containers: listing the containers under a state root (containers.h). */
#include "skiff/container/containers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skiff/base/log.h"

/* Loads one container; 0 and *skip = true for entries that are not
 * containers or cannot be read (those with a warning). */
static int load_entry(int root, const char *name, struct sk_container_info *e, bool *skip, struct sk_err *err)
{
	*skip = true;
	struct sk_err ignored;
	if (sk_state_validate_id(name, &ignored) < 0)
		return 0;
	int dir = openat(root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0) {
		if (errno == ENOTDIR || errno == ELOOP || errno == ENOENT)
			return 0;
		return sk_error(err, errno, "open state directory of \"%s\"", name);
	}
	struct sk_err rerr;
	if (sk_state_read(dir, &e->st, &rerr) == 0) {
		e->status = sk_state_status_unlocked(dir, &e->st);
	} else {
		/* Being created, or a create that died before writing its
		 * state; or a state that cannot be read, "unknown": listed
		 * so that it can be found and deleted, never hidden. */
		if (rerr.errnum != ENOENT)
			sk_warn("list: container \"%s\": %s", name, rerr.msg);
		struct stat sb;
		memset(&e->st, 0, sizeof(e->st));
		e->st.id = strdup(name);
		if (!e->st.id || fstat(dir, &sb) < 0) {
			int errnum = e->st.id ? errno : ENOMEM;
			close(dir);
			sk_state_free(&e->st);
			return sk_error(err, errnum, "state directory of \"%s\"", name);
		}
		e->st.owner = sb.st_uid;
		e->status = rerr.errnum == ENOENT ? SK_STATUS_CREATING : SK_STATUS_UNKNOWN;
	}
	close(dir);
	*skip = false;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct sk_container_info *)a)->st.id, ((const struct sk_container_info *)b)->st.id);
}

int sk_containers_list(const char *root_path, struct sk_container_info **out, size_t *n_out, struct sk_err *err)
{
	*out = NULL;
	*n_out = 0;
	int root = open(root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		if (errno == ENOENT)
			return 0;       /* nothing was ever created there */
		return sk_error(err, errno, "open state root %s", root_path);
	}
	if (sk_state_check_root(root, root_path, err) < 0) {
		close(root);
		return -1;
	}
	DIR *d = fdopendir(root);
	if (!d) {
		int e = errno;
		close(root);
		return sk_error(err, e, "read state root %s", root_path);
	}
	struct sk_container_info *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct sk_container_info *nv = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				rc = sk_error(err, ENOMEM, "list containers");
				break;
			}
			v = nv;
			cap = ncap;
		}
		bool skip;
		if (load_entry(root, de->d_name, &v[n], &skip, err) < 0) {
			rc = -1;
			break;
		}
		if (!skip)
			n++;
	}
	if (rc == 0 && errno)
		rc = sk_error(err, errno, "read state root %s", root_path);
	closedir(d);
	if (rc < 0) {
		sk_containers_free(v, n);
		return -1;
	}
	if (n == 0) {
		free(v);
		v = NULL;
	}
	/* runc lists in name order (Go's ReadDir sorts). */
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_entry);
	*out = v;
	*n_out = n;
	return 0;
}

void sk_containers_free(struct sk_container_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sk_state_free(&v[i].st);
	free(v);
}
