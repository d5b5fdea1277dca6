/* ttrpc: containerd's framing of protobuf messages over a unix socket
 * (containerd/ttrpc PROTOCOL.md), the server side for the Task service and a
 * small client for publishing events.
 *
 * A frame is a 10-byte header (data length and stream id, big-endian 32-bit;
 * message type; flags) and its data.  A Request frame carries a
 * ttrpc.Request (service, method, payload), its answer a Response frame with
 * a ttrpc.Response (google.rpc.Status, payload) on the same stream id.  Only
 * unary calls are served; a frame over TTRPC_MAX_DATA is refused and the
 * connection dropped, as the Go implementation does.
 *
 * A connection is non-blocking: ttrpc_conn_read() takes from the socket up
 * to one whole frame, into a buffer that grows only to that frame's size,
 * and ttrpc_conn_next() hands it out (so: read, next, serve, until next
 * says 0, under level-triggered epoll); ttrpc_conn_send() queues a frame and ttrpc_conn_flush()
 * writes what the socket takes.  Nothing here blocks but ttrpc_call(), which
 * waits at most its timeout. */
#ifndef SKIFF_SHIM_CONTAINERD_TTRPC_H
#define SKIFF_SHIM_CONTAINERD_TTRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "skiff/base/error.h"

#define TTRPC_HDR_LEN 10
#define TTRPC_MAX_DATA (4u << 20)

enum ttrpc_type { TTRPC_REQUEST = 1, TTRPC_RESPONSE = 2, TTRPC_DATA = 3 };

/* gRPC status codes, which containerd maps to its errdefs errors. */
enum ttrpc_code {
	TTRPC_OK = 0, TTRPC_UNKNOWN = 2, TTRPC_INVALID_ARGUMENT = 3,
	TTRPC_DEADLINE_EXCEEDED = 4, TTRPC_NOT_FOUND = 5, TTRPC_ALREADY_EXISTS = 6,
	TTRPC_FAILED_PRECONDITION = 9, TTRPC_UNIMPLEMENTED = 12,
	TTRPC_INTERNAL = 13, TTRPC_UNAVAILABLE = 14,
};

struct ttrpc_hdr {
	uint32_t len, stream;
	uint8_t type, flags;
};

void ttrpc_hdr_put(uint8_t out[TTRPC_HDR_LEN], const struct ttrpc_hdr *h);
void ttrpc_hdr_get(const uint8_t in[TTRPC_HDR_LEN], struct ttrpc_hdr *h);

struct ttrpc_conn {
	int fd;
	bool eof;                    /* the peer closed its end */
	uint8_t *in; size_t in_len, in_cap;
	size_t in_used;              /* bytes of the frame last handed out */
	uint8_t *out; size_t out_len, out_off, out_cap;
};

void ttrpc_conn_init(struct ttrpc_conn *c, int fd);
/* Free the buffers and close the fd. */
void ttrpc_conn_close(struct ttrpc_conn *c);
/* Read until a whole frame is buffered or the socket is empty (EAGAIN).
 * Sets c->eof at end of file.  Returns 0, or -1 on a read error. */
int ttrpc_conn_read(struct ttrpc_conn *c, struct sk_err *err);
/* The next whole frame received: 1 with h and *data (valid until the next
 * call), 0 when none is complete yet, -1 when the peer sent a frame larger
 * than TTRPC_MAX_DATA (drop the connection). */
int ttrpc_conn_next(struct ttrpc_conn *c, struct ttrpc_hdr *h, const uint8_t **data,
		    struct sk_err *err);
/* Queue a frame.  Returns 0, or -1 when data is too large. */
int ttrpc_conn_send(struct ttrpc_conn *c, uint32_t stream, uint8_t type, uint8_t flags,
		    const uint8_t *data, size_t len, struct sk_err *err);
/* Write what is queued.  Returns 1 when all is written, 0 when the socket
 * is full (wait for EPOLLOUT), -1 on a write error. */
int ttrpc_conn_flush(struct ttrpc_conn *c, struct sk_err *err);
static inline bool ttrpc_conn_pending(const struct ttrpc_conn *c) { return c->out_off < c->out_len; }

/* Queue the Response to a request on stream: code and message (NULL for
 * none) as its status, msg (NULL: empty payload) packed as its payload. */
int ttrpc_respond(struct ttrpc_conn *c, uint32_t stream, int code, const char *message,
		  const ProtobufCMessage *msg, struct sk_err *err);

/* A served method: req is unpacked from the payload with req_desc; fn
 * returns 0 with *resp to answer (freed here with its descriptor), -1 with
 * a code (TTRPC_UNKNOWN when left 0) and err->msg to fail, or 1 when it
 * will answer later with ttrpc_respond() on c and stream (Wait). */
struct ttrpc_method {
	const char *service, *method;
	const ProtobufCMessageDescriptor *req_desc;
	int (*fn)(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *req,
		  ProtobufCMessage **resp, int *code, struct sk_err *err);
};

/* Decode a Request frame and call its method from the table (n entries).
 * Queues the Response.  Returns 0, or -1 when the frame is not a request
 * (drop the connection). */
int ttrpc_serve_frame(struct ttrpc_conn *c, const struct ttrpc_hdr *h, const uint8_t *data,
		      const struct ttrpc_method *table, size_t n, void *ctx, struct sk_err *err);

/* Client: connect to a unix socket path ("unix://" prefix allowed; "@name"
 * or "\0name" is abstract).  Returns a close-on-exec, non-blocking fd, or -1. */
int ttrpc_dial(const char *address, struct sk_err *err);
/* Call service/method with req on an fd from ttrpc_dial, using *stream
 * (odd, advanced by 2) and waiting at most timeout_ms for the whole
 * exchange; metadata is n key/value pairs (kv[2i], kv[2i+1]).  On code 0
 * the payload is unpacked into *resp with resp_desc (NULL: ignored);
 * otherwise the status is in err and *code.  Returns 0, or -1. */
int ttrpc_call(int fd, uint32_t *stream, const char *service, const char *method,
	       const char *const *kv, size_t n, const ProtobufCMessage *req,
	       const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
	       int *code, int timeout_ms, struct sk_err *err);

#endif
