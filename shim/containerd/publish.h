/* publish: task events to containerd, as its shims send them: the ttrpc
 * Events service's Forward on TTRPC_ADDRESS, an Envelope with the time, the
 * namespace, the topic ("/tasks/exit") and the event as an Any whose
 * type_url is its full name ("containerd.events.TaskExit").
 * One connection, made on first use and again once after a failure; each
 * call waits at most PUBLISH_TIMEOUT_MS.  An event that cannot be sent is
 * logged and dropped: containerd learns the state again with State and
 * Wait when it reconnects (after a restart). */
#ifndef SKIFF_SHIM_CONTAINERD_PUBLISH_H
#define SKIFF_SHIM_CONTAINERD_PUBLISH_H

#include <protobuf-c/protobuf-c.h>

#define PUBLISH_TIMEOUT_MS 5000

/* address: TTRPC_ADDRESS (NULL: events are dropped with a warning). */
void ctrd_publish_init(const char *address, const char *ns);
void ctrd_publish(const char *topic, const ProtobufCMessage *event);

#endif
