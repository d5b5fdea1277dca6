/* manage: the shim's two one-shot commands, run by containerd in the
 * container's bundle (runtime/v2/README.md):
 *   start   find or start the shim of the container's group and print its
 *           address: containers of one pod (the io.kubernetes.cri.sandbox-id
 *           annotation, or io.containerd.runc.v2.group) share one shim, the
 *           others have one each.  A new shim is this binary again, detached
 *           (own session, stdio on /dev/null, its listening socket as fd 3),
 *           with containerd's environment (TTRPC_ADDRESS).
 *   delete  clean up after a shim that died: the runtime's delete --force,
 *           the rootfs unmounted, and a DeleteResponse (the init's pid, exit
 *           status 137) on stdout.
 * The socket is named as containerd's own shims name it:
 *   unix:///run/containerd/s/<sha256 hex of Join(address, namespace, group)>
 * and its address is also written to the bundle's `address` file. */
#ifndef SKIFF_SHIM_CONTAINERD_MANAGE_H
#define SKIFF_SHIM_CONTAINERD_MANAGE_H

#include <stddef.h>

#include "opts.h"
#include "skiff/base/error.h"

/* Where the shim's sockets live (containerd's state dir). */
#define CTRD_SOCKET_DIR "/run/containerd/s"

/* Go's filepath.Join(a, b, c): joined with '/', then cleaned (no empty or
 * "." elements, ".." resolved, no trailing '/').  Returns 0, or -1 when it
 * does not fit cap. */
int ctrd_path_join3(const char *a, const char *b, const char *c, char *out, size_t cap);
/* The shim's address for group: "unix://" CTRD_SOCKET_DIR "/<hex>". */
int ctrd_socket_address(const char *address, const char *ns, const char *group, char *out, size_t cap,
			struct sk_err *err);
/* The group of the bundle's config.json (dir_fd): the first of the grouping
 * annotations that is present, else id.  *out is malloc()ed. */
int ctrd_group(int dir_fd, const char *id, char **out, struct sk_err *err);

/* The runtime behind the containers of a bundle, recorded at Create in the
 * bundle's `shim-runtime` file (binary, then root, one a line) so that
 * delete finds them after the shim is gone. */
struct ctrd_runtime {
	char binary[4096], root[4096];
	int systemd_cgroup;
};
/* The defaults: skiff, and /run/containerd/<basename of binary>/<ns> as
 * root (runc's is then /run/containerd/runc/<ns>, the runc shim's). */
void ctrd_runtime_default(struct ctrd_runtime *rt, const char *binary, const char *root, const char *ns);
int ctrd_runtime_save(int dir_fd, const struct ctrd_runtime *rt, struct sk_err *err);
/* Read the record; a bundle without one gets the defaults. */
int ctrd_runtime_load(int dir_fd, const char *ns, struct ctrd_runtime *rt, struct sk_err *err);

/* The commands; they print only their result on stdout. */
int ctrd_start(const struct ctrd_opts *o, struct sk_err *err);
int ctrd_delete(const struct ctrd_opts *o, struct sk_err *err);

#endif
