/* opts: the shim's command line, containerd's (runtime/v2/README.md), in
 * the syntax of Go's flag package that containerd's shims use: -name value,
 * -name=value, one or two dashes, booleans as -name or -name=true|false;
 * flags end at the first other argument or "--", which is the action
 * ("start", "delete", or none: serve).
 *   -namespace NS  (required)   -id ID            -bundle DIR (delete)
 *   -address ADDR  containerd's gRPC socket (names the shim's socket)
 *   -publish-binary PATH  (accepted; events go over TTRPC_ADDRESS)
 *   -socket PATH   serve there instead of on the inherited fd 3
 *   -debug         -v (print the version) */
#ifndef SKIFF_SHIM_CONTAINERD_OPTS_H
#define SKIFF_SHIM_CONTAINERD_OPTS_H

#include <stdbool.h>

#include "skiff/base/error.h"

struct ctrd_opts {
	const char *namespace, *id, *bundle, *address, *publish_binary, *socket;
	bool debug, version;
	const char *action;          /* NULL: serve */
};

/* Parse argv (argv[0] is the program).  Returns 0, or -1 with a usage
 * error in err. */
int ctrd_opts_parse(int argc, char **argv, struct ctrd_opts *o, struct sk_err *err);

#endif
