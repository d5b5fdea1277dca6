/* Events to containerd (publish.h). */
#include "publish.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "containerd/forward.pb-c.h"
#include "core/diag.h"
#include "ttrpc.h"

static struct {
	const char *address, *ns;
	int fd;
	uint32_t stream;
} P = { .fd = -1 };

void ctrd_publish_init(const char *address, const char *ns)
{
	P.address = address && *address ? address : NULL;
	P.ns = ns;
	P.fd = -1;
	P.stream = 1;
}

static int forward(const Containerd__Services__Events__Ttrpc__V1__ForwardRequest *req, struct sk_err *err)
{
	if (P.fd < 0) {
		P.fd = ttrpc_dial(P.address, err);
		if (P.fd < 0)
			return -1;
		P.stream = 1;
	}
	/* containerd reads the namespace from the metadata too. */
	const char *kv[] = { "containerd-namespace-ttrpc", P.ns };
	int code;
	int rc = ttrpc_call(P.fd, &P.stream, "containerd.services.events.ttrpc.v1.Events", "Forward", kv, 1,
			    &req->base, NULL, NULL, &code, PUBLISH_TIMEOUT_MS, err);
	if (rc < 0 && code == TTRPC_UNAVAILABLE) {
		/* The connection is broken (containerd restarted?): a new one
		 * next time. */
		close(P.fd);
		P.fd = -1;
	}
	return rc;
}

void ctrd_publish(const char *topic, const ProtobufCMessage *event)
{
	const char *name = event->descriptor->name;
	if (!P.address) {
		shim_warn("event %s %s dropped: no TTRPC_ADDRESS", topic, name);
		return;
	}
	size_t len = protobuf_c_message_get_packed_size(event);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf) {
		shim_warn("event %s dropped: out of memory", topic);
		return;
	}
	protobuf_c_message_pack(event, buf);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t)now.tv_nsec;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	any.type_url = (char *)event->descriptor->name;
	any.value.data = buf;
	any.value.len = len;
	Containerd__Services__Events__Ttrpc__V1__Envelope env = CONTAINERD__SERVICES__EVENTS__TTRPC__V1__ENVELOPE__INIT;
	env.timestamp = &ts;
	env.namespace_ = (char *)P.ns;
	env.topic = (char *)topic;
	env.event = &any;
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest req =
		CONTAINERD__SERVICES__EVENTS__TTRPC__V1__FORWARD_REQUEST__INIT;
	req.envelope = &env;
	struct sk_err err;
	/* Once more on a new connection after a broken one. */
	if (forward(&req, &err) < 0 && (P.fd >= 0 || forward(&req, &err) < 0))
		shim_warn("event %s dropped: %s", topic, err.msg);
	else
		shim_debug("event %s %s sent", topic, name);
	free(buf);
}
