/* ttrpc framing, serving and calling (ttrpc.h). */
#include "ttrpc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ttrpc/ttrpc.pb-c.h"

void ttrpc_hdr_put(uint8_t out[TTRPC_HDR_LEN], const struct ttrpc_hdr *h)
{
	out[0] = h->len >> 24; out[1] = h->len >> 16; out[2] = h->len >> 8; out[3] = h->len;
	out[4] = h->stream >> 24; out[5] = h->stream >> 16; out[6] = h->stream >> 8; out[7] = h->stream;
	out[8] = h->type;
	out[9] = h->flags;
}

void ttrpc_hdr_get(const uint8_t in[TTRPC_HDR_LEN], struct ttrpc_hdr *h)
{
	h->len = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
	h->stream = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7];
	h->type = in[8];
	h->flags = in[9];
}

void ttrpc_conn_init(struct ttrpc_conn *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
}

void ttrpc_conn_close(struct ttrpc_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->out);
	ttrpc_conn_init(c, -1);
}

static int reserve(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 4096;
	while (n < need)
		n *= 2;
	uint8_t *p = realloc(*buf, n);
	if (!p)
		return -1;
	*buf = p;
	*cap = n;
	return 0;
}

/* Drop the frame handed out last, keeping what follows it. */
static void consume(struct ttrpc_conn *c)
{
	if (!c->in_used)
		return;
	memmove(c->in, c->in + c->in_used, c->in_len - c->in_used);
	c->in_len -= c->in_used;
	c->in_used = 0;
}

int ttrpc_conn_read(struct ttrpc_conn *c, struct sk_err *err)
{
	consume(c);
	for (;;) {
		/* Read at most up to the end of the frame being received (or its
		 * header), so that a peer cannot make the buffer grow past one
		 * frame. */
		size_t want = TTRPC_HDR_LEN;
		if (c->in_len >= TTRPC_HDR_LEN) {
			struct ttrpc_hdr h;
			ttrpc_hdr_get(c->in, &h);
			if (h.len > TTRPC_MAX_DATA)
				return 0; /* ttrpc_conn_next() reports it */
			want = TTRPC_HDR_LEN + (size_t)h.len;
			if (c->in_len >= want)
				return 0; /* a whole frame: hand it out first */
		}
		if (reserve(&c->in, &c->in_cap, want) < 0)
			return sk_error(err, ENOMEM, "ttrpc: receive buffer");
		ssize_t r = read(c->fd, c->in + c->in_len, want - c->in_len);
		if (r == 0) {
			c->eof = true;
			return 0;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return sk_error(err, errno, "ttrpc: read");
		}
		c->in_len += (size_t)r;
	}
}

int ttrpc_conn_next(struct ttrpc_conn *c, struct ttrpc_hdr *h, const uint8_t **data,
		    struct sk_err *err)
{
	consume(c);
	if (c->in_len < TTRPC_HDR_LEN)
		return 0;
	ttrpc_hdr_get(c->in, h);
	if (h->len > TTRPC_MAX_DATA)
		return sk_error(err, EMSGSIZE, "ttrpc: frame of %u bytes (at most %u)", h->len,
				TTRPC_MAX_DATA);
	if (c->in_len < TTRPC_HDR_LEN + (size_t)h->len)
		return 0;
	*data = c->in + TTRPC_HDR_LEN;
	c->in_used = TTRPC_HDR_LEN + (size_t)h->len;
	return 1;
}

int ttrpc_conn_send(struct ttrpc_conn *c, uint32_t stream, uint8_t type, uint8_t flags,
		    const uint8_t *data, size_t len, struct sk_err *err)
{
	if (len > TTRPC_MAX_DATA)
		return sk_error(err, EMSGSIZE, "ttrpc: message of %zu bytes (at most %u)", len,
				TTRPC_MAX_DATA);
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (reserve(&c->out, &c->out_cap, c->out_len + TTRPC_HDR_LEN + len) < 0)
		return sk_error(err, ENOMEM, "ttrpc: send buffer");
	struct ttrpc_hdr h = { .len = (uint32_t)len, .stream = stream, .type = type, .flags = flags };
	ttrpc_hdr_put(c->out + c->out_len, &h);
	if (len)
		memcpy(c->out + c->out_len + TTRPC_HDR_LEN, data, len);
	c->out_len += TTRPC_HDR_LEN + len;
	return 0;
}

int ttrpc_conn_flush(struct ttrpc_conn *c, struct sk_err *err)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return sk_error(err, errno, "ttrpc: write");
		}
		c->out_off += (size_t)w;
	}
	c->out_off = c->out_len = 0;
	return 1;
}

/* Pack msg into a new buffer (*out, *len; NULL msg: empty). */
static int pack(const ProtobufCMessage *msg, uint8_t **out, size_t *len, struct sk_err *err)
{
	*out = NULL;
	*len = msg ? protobuf_c_message_get_packed_size(msg) : 0;
	if (!*len)
		return 0;
	if (*len > TTRPC_MAX_DATA)
		return sk_error(err, EMSGSIZE, "ttrpc: message of %zu bytes", *len);
	*out = malloc(*len);
	if (!*out)
		return sk_error(err, ENOMEM, "ttrpc: pack");
	protobuf_c_message_pack(msg, *out);
	return 0;
}

int ttrpc_respond(struct ttrpc_conn *c, uint32_t stream, int code, const char *message,
		  const ProtobufCMessage *msg, struct sk_err *err)
{
	uint8_t *payload, *buf;
	size_t plen, len;
	if (pack(msg, &payload, &plen, err) < 0) {
		/* The answer is too large to send: say so instead. */
		code = TTRPC_INTERNAL;
		message = err->msg;
		payload = NULL;
		plen = 0;
	}
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	st.code = code;
	st.message = (char *)(message ? message : "");
	Ttrpc__Response r = TTRPC__RESPONSE__INIT;
	r.status = &st;
	r.payload.data = payload;
	r.payload.len = plen;
	int rc = pack(&r.base, &buf, &len, err);
	free(payload);
	if (rc < 0)
		return -1;
	rc = ttrpc_conn_send(c, stream, TTRPC_RESPONSE, 0, buf, len, err);
	free(buf);
	return rc;
}

int ttrpc_serve_frame(struct ttrpc_conn *c, const struct ttrpc_hdr *h, const uint8_t *data,
		      const struct ttrpc_method *table, size_t n, void *ctx, struct sk_err *err)
{
	if (h->type != TTRPC_REQUEST)
		return sk_error(err, EPROTO, "ttrpc: frame of type %u on stream %u, not a request",
				h->type, h->stream);
	if (!(h->stream & 1))
		return sk_error(err, EPROTO, "ttrpc: request on even stream %u", h->stream);
	Ttrpc__Request *req = ttrpc__request__unpack(NULL, h->len, data);
	if (!req)
		return ttrpc_respond(c, h->stream, TTRPC_INVALID_ARGUMENT, "ttrpc: malformed request",
				     NULL, err);
	const struct ttrpc_method *m = NULL;
	for (size_t i = 0; i < n && !m; i++)
		if (!strcmp(table[i].service, req->service) && !strcmp(table[i].method, req->method))
			m = &table[i];
	int rc;
	if (!m) {
		char msg[256];
		snprintf(msg, sizeof(msg), "%.100s/%.100s: not implemented", req->service, req->method);
		rc = ttrpc_respond(c, h->stream, TTRPC_UNIMPLEMENTED, msg, NULL, err);
		ttrpc__request__free_unpacked(req, NULL);
		return rc;
	}
	ProtobufCMessage *in = protobuf_c_message_unpack(m->req_desc, NULL, req->payload.len,
							 req->payload.data);
	ttrpc__request__free_unpacked(req, NULL);
	if (!in)
		return ttrpc_respond(c, h->stream, TTRPC_INVALID_ARGUMENT,
				     "ttrpc: malformed request payload", NULL, err);
	ProtobufCMessage *out = NULL;
	int code = 0;
	struct sk_err merr = { 0 };
	int r = m->fn(ctx, c, h->stream, in, &out, &code, &merr);
	if (r < 0)
		rc = ttrpc_respond(c, h->stream, code ? code : TTRPC_UNKNOWN, merr.msg, NULL, err);
	else if (r == 0)
		rc = ttrpc_respond(c, h->stream, TTRPC_OK, NULL, out, err);
	else
		rc = 0;
	protobuf_c_message_free_unpacked(in, NULL);
	if (out)
		protobuf_c_message_free_unpacked(out, NULL);
	return rc;
}

int ttrpc_dial(const char *address, struct sk_err *err)
{
	const char *p = address;
	if (!strncmp(p, "unix://", 7))
		p += 7;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(p);
	if (!n || n >= sizeof(sa.sun_path))
		return sk_error(err, ENAMETOOLONG, "ttrpc: socket address %s", address);
	memcpy(sa.sun_path, p, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sk_error(err, errno, "ttrpc: socket");
	/* Non-blocking once connected: ttrpc_call() bounds every wait. */
	if (connect(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		int e = errno;
		close(fd);
		return sk_error(err, e, "ttrpc: connect %s", address);
	}
	return fd;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline.  Returns 0, or -1 on timeout. */
static int wait_fd(int fd, short events, int64_t deadline, struct sk_err *err)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return sk_error(err, ETIMEDOUT, "ttrpc: call");
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return sk_error(err, errno, "ttrpc: poll");
	}
}

int ttrpc_call(int fd, uint32_t *stream, const char *service, const char *method,
	       const char *const *kv, size_t n, const ProtobufCMessage *req,
	       const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
	       int *code, int timeout_ms, struct sk_err *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	if (resp)
		*resp = NULL;
	*code = TTRPC_UNAVAILABLE;
	uint8_t *payload, *buf;
	size_t plen, len;
	if (pack(req, &payload, &plen, err) < 0)
		return -1;
	Ttrpc__KeyValue kvs[8], *kvp[8];
	if (n > 8)
		n = 8;
	for (size_t i = 0; i < n; i++) {
		ttrpc__key_value__init(&kvs[i]);
		kvs[i].key = (char *)kv[2 * i];
		kvs[i].value = (char *)kv[2 * i + 1];
		kvp[i] = &kvs[i];
	}
	Ttrpc__Request r = TTRPC__REQUEST__INIT;
	r.service = (char *)service;
	r.method = (char *)method;
	r.payload.data = payload;
	r.payload.len = plen;
	r.timeout_nano = (int64_t)timeout_ms * 1000000;
	r.metadata = kvp;
	r.n_metadata = n;
	int rc = pack(&r.base, &buf, &len, err);
	free(payload);
	if (rc < 0)
		return -1;

	struct ttrpc_conn c;
	ttrpc_conn_init(&c, fd);
	uint32_t id = *stream;
	*stream += 2;
	rc = ttrpc_conn_send(&c, id, TTRPC_REQUEST, 0, buf, len, err);
	free(buf);
	while (rc == 0 && ttrpc_conn_pending(&c)) {
		int f = ttrpc_conn_flush(&c, err);
		if (f < 0 || (f == 0 && wait_fd(fd, POLLOUT, deadline, err) < 0))
			rc = -1;
	}
	struct ttrpc_hdr h;
	const uint8_t *data = NULL;
	while (rc == 0) {
		int got = ttrpc_conn_next(&c, &h, &data, err);
		if (got < 0) {
			rc = -1;
		} else if (got == 1) {
			if (h.type == TTRPC_RESPONSE && h.stream == id)
				break;
			/* Not ours (an old answer): skip it. */
		} else if (c.eof) {
			rc = sk_error(err, ECONNRESET, "ttrpc: %s/%s: connection closed", service, method);
		} else if (wait_fd(fd, POLLIN, deadline, err) < 0 || ttrpc_conn_read(&c, err) < 0) {
			rc = -1;
		}
	}
	if (rc == 0) {
		Ttrpc__Response *res = ttrpc__response__unpack(NULL, h.len, data);
		if (!res) {
			rc = sk_error(err, EPROTO, "ttrpc: %s/%s: malformed response", service, method);
		} else {
			*code = res->status ? res->status->code : TTRPC_OK;
			if (*code != TTRPC_OK) {
				rc = sk_error(err, 0, "%s/%s: %s", service, method,
					      res->status->message ? res->status->message : "");
			} else if (resp && resp_desc) {
				*resp = protobuf_c_message_unpack(resp_desc, NULL, res->payload.len,
								  res->payload.data);
				if (!*resp)
					rc = sk_error(err, EPROTO, "ttrpc: %s/%s: malformed payload",
						      service, method);
			}
			ttrpc__response__free_unpacked(res, NULL);
		}
	}
	c.fd = -1; /* the caller's */
	ttrpc_conn_close(&c);
	return rc;
}
