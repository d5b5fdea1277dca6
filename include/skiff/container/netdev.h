/* netdev: linux.netDevices (runtime-spec 1.3): move host network
 * interfaces into the container's network namespace over rtnetlink, from
 * the runtime, once the init has its namespace and before the process
 * runs.
 *
 * For each device, in config order: its permanent global addresses are
 * read (RTM_GETADDR), it is moved and renamed in one RTM_NEWLINK
 * (IFLA_NET_NS_FD, IFLA_IFNAME; a "%d" name lets the kernel pick), the
 * addresses, which the move drops, are added again inside, and it is set
 * up.  The container's namespace must not be the runtime's.  On failure
 * the devices moved so far stay in the container's namespace, which the
 * caller then destroys by killing the init: the kernel returns physical
 * devices to the initial namespace and destroys virtual ones, as it does
 * at delete (docs/config.md).  Errors name the field:
 *     linux.netDevices["eth0"]: no such host interface */
#ifndef SKIFF_NETDEV_H
#define SKIFF_NETDEV_H

#include <sys/types.h>

#include "skiff/base/error.h"
#include "skiff/spec/spec.h"

int sk_netdev_move(const struct sk_linux *l, pid_t init_pid, struct sk_err *err);

#endif
