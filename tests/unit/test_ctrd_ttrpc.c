/* test_ctrd_ttrpc: ttrpc framing, serving and calling
 * (shim/containerd/ttrpc.c) over socketpairs: the header's byte order, frames
 * that arrive in pieces or several at once, oversized frames refused,
 * requests dispatched by service and method, unknown methods and malformed
 * payloads answered with a status, and a client that gives up on time. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/containerd/ttrpc.h"
#include "containerd/shim.pb-c.h"
#include "ttrpc/ttrpc.pb-c.h"

static int sp[2];

static void open_pair(void)
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp), 0);
}

static void close_pair(void)
{
	if (sp[0] >= 0)
		close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
}

TestSuite(ttrpc, .init = open_pair, .fini = close_pair);

Test(ttrpc, header_is_big_endian)
{
	struct ttrpc_hdr h = { .len = 0x00010203, .stream = 0x04050607, .type = 2, .flags = 4 }, g;
	uint8_t b[TTRPC_HDR_LEN];
	ttrpc_hdr_put(b, &h);
	const uint8_t want[] = { 0, 1, 2, 3, 4, 5, 6, 7, 2, 4 };
	cr_assert_arr_eq(b, want, sizeof(want));
	ttrpc_hdr_get(b, &g);
	cr_assert(g.len == h.len && g.stream == h.stream && g.type == 2 && g.flags == 4);
}

Test(ttrpc, frames_in_pieces_and_together)
{
	struct ttrpc_conn tx, rx;
	struct sk_err err;
	ttrpc_conn_init(&tx, sp[0]);
	ttrpc_conn_init(&rx, sp[1]);
	cr_assert_eq(ttrpc_conn_send(&tx, 1, TTRPC_REQUEST, 0, (const uint8_t *)"hello", 5, &err), 0);
	cr_assert_eq(ttrpc_conn_send(&tx, 3, TTRPC_REQUEST, 0, NULL, 0, &err), 0);
	cr_assert_eq(ttrpc_conn_send(&tx, 5, TTRPC_DATA, 1, (const uint8_t *)"xy", 2, &err), 0);
	size_t total = tx.out_len;
	/* One byte at a time: nothing is handed out before its frame is whole. */
	struct ttrpc_hdr h;
	const uint8_t *d;
	int seen = 0;
	for (size_t i = 0; i < total; i++) {
		cr_assert_eq(write(sp[0], tx.out + i, 1), 1);
		while (ttrpc_conn_read(&rx, &err) == 0 && ttrpc_conn_next(&rx, &h, &d, &err) == 1) {
			if (seen == 0)
				cr_assert(h.stream == 1 && h.len == 5 && !memcmp(d, "hello", 5) && i == 14);
			if (seen == 1)
				cr_assert(h.stream == 3 && h.len == 0 && i == 24);
			if (seen == 2)
				cr_assert(h.stream == 5 && h.type == TTRPC_DATA && h.flags == 1 && !memcmp(d, "xy", 2));
			seen++;
		}
	}
	cr_assert_eq(seen, 3);
	/* All at once. */
	cr_assert_eq(ttrpc_conn_flush(&tx, &err), 1);
	seen = 0;
	while (ttrpc_conn_read(&rx, &err) == 0 && ttrpc_conn_next(&rx, &h, &d, &err) == 1)
		seen++;
	cr_assert_eq(seen, 3);
	cr_assert(!rx.eof);
	close(sp[0]);
	sp[0] = -1;
	cr_assert_eq(ttrpc_conn_read(&rx, &err), 0);
	cr_assert(rx.eof);
	free(tx.out);
	free(rx.in);
}

Test(ttrpc, oversized_frame_is_refused)
{
	struct ttrpc_conn rx;
	struct sk_err err;
	ttrpc_conn_init(&rx, sp[1]);
	uint8_t b[TTRPC_HDR_LEN];
	struct ttrpc_hdr h = { .len = TTRPC_MAX_DATA + 1, .stream = 1, .type = TTRPC_REQUEST };
	ttrpc_hdr_put(b, &h);
	cr_assert_eq(write(sp[0], b, sizeof(b)), (ssize_t)sizeof(b));
	cr_assert_eq(write(sp[0], "junk", 4), 4);
	cr_assert_eq(ttrpc_conn_read(&rx, &err), 0);
	const uint8_t *d;
	cr_assert_eq(ttrpc_conn_next(&rx, &h, &d, &err), -1);
	cr_assert_eq(err.errnum, EMSGSIZE);
	/* The buffer did not grow to the announced size. */
	cr_assert_leq(rx.in_cap, 4096);
	struct ttrpc_conn tx;
	ttrpc_conn_init(&tx, sp[0]);
	cr_assert_eq(ttrpc_conn_send(&tx, 1, TTRPC_REQUEST, 0, NULL, TTRPC_MAX_DATA + 1, &err), -1);
	free(rx.in);
}

/* The served methods: Connect answers the ids, Pids fails with NOT_FOUND. */
static int do_connect(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *req, ProtobufCMessage **resp, int *code,
		      struct sk_err *err)
{
	const Containerd__Task__V2__ConnectRequest *r = (const void *)req;
	Containerd__Task__V2__ConnectResponse *o = malloc(sizeof(*o));
	containerd__task__v2__connect_response__init(o);
	o->shim_pid = 42;
	o->task_pid = (uint32_t)strlen(r->id);
	o->version = strdup("test");
	*resp = &o->base;
	(*(int *)ctx)++;
	return 0;
}

static int do_pids(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *req, ProtobufCMessage **resp, int *code,
		   struct sk_err *err)
{
	*code = TTRPC_NOT_FOUND;
	return sk_error(err, 0, "container %s: not found",
			((const Containerd__Task__V2__PidsRequest *)req)->id);
}

static const struct ttrpc_method table[] = {
	{ "containerd.task.v2.Task", "Connect", &containerd__task__v2__connect_request__descriptor, do_connect },
	{ "containerd.task.v2.Task", "Pids", &containerd__task__v2__pids_request__descriptor, do_pids },
};

struct server {
	int fd, served;
	int frames;                  /* how many to answer before stopping */
};

static void *serve(void *arg)
{
	struct server *s = arg;
	struct ttrpc_conn c;
	struct sk_err err;
	ttrpc_conn_init(&c, s->fd);
	int answered = 0;
	while (answered < s->frames && !c.eof) {
		struct ttrpc_hdr h;
		const uint8_t *d;
		while (ttrpc_conn_read(&c, &err) == 0 && ttrpc_conn_next(&c, &h, &d, &err) == 1) {
			if (ttrpc_serve_frame(&c, &h, d, table, 2, &s->served, &err) < 0)
				goto out;
			answered++;
		}
		while (ttrpc_conn_flush(&c, &err) == 0)
			usleep(1000);
		usleep(1000);
	}
out:
	c.fd = -1;
	ttrpc_conn_close(&c);
	return NULL;
}

Test(ttrpc, call_and_serve)
{
	struct server s = { .fd = sp[1], .frames = 3 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, serve, &s), 0);
	uint32_t stream = 1;
	int code;
	struct sk_err err;
	const char *kv[] = { "containerd-namespace-ttrpc", "default" };

	Containerd__Task__V2__ConnectRequest req = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	req.id = "abcd";
	ProtobufCMessage *out;
	cr_assert_eq(ttrpc_call(sp[0], &stream, "containerd.task.v2.Task", "Connect", kv, 1, &req.base,
				&containerd__task__v2__connect_response__descriptor, &out, &code, 5000, &err),
		     0, "%s", err.msg);
	Containerd__Task__V2__ConnectResponse *r = (void *)out;
	cr_assert(code == 0 && r->shim_pid == 42 && r->task_pid == 4 && !strcmp(r->version, "test"));
	protobuf_c_message_free_unpacked(out, NULL);
	cr_assert_eq(stream, 3);

	Containerd__Task__V2__PidsRequest p = CONTAINERD__TASK__V2__PIDS_REQUEST__INIT;
	p.id = "zz";
	cr_assert_eq(ttrpc_call(sp[0], &stream, "containerd.task.v2.Task", "Pids", NULL, 0, &p.base,
				&containerd__task__v2__pids_response__descriptor, &out, &code, 5000, &err), -1);
	cr_assert_eq(code, TTRPC_NOT_FOUND);
	cr_assert(strstr(err.msg, "container zz: not found"), "%s", err.msg);
	cr_assert_null(out);

	cr_assert_eq(ttrpc_call(sp[0], &stream, "containerd.task.v2.Task", "Checkpoint", NULL, 0, &p.base,
				NULL, NULL, &code, 5000, &err), -1);
	cr_assert_eq(code, TTRPC_UNIMPLEMENTED);
	pthread_join(t, NULL);
	cr_assert_eq(s.served, 1);
}

Test(ttrpc, malformed_requests_get_a_status)
{
	struct ttrpc_conn c, cl;
	struct sk_err err;
	int served = 0;
	ttrpc_conn_init(&c, sp[1]);
	ttrpc_conn_init(&cl, sp[0]);
	struct ttrpc_hdr h = { .len = 3, .stream = 7, .type = TTRPC_REQUEST };
	/* Not a protobuf Request. */
	cr_assert_eq(ttrpc_serve_frame(&c, &h, (const uint8_t *)"\xff\xff\xff", table, 2, &served, &err), 0);
	/* A Request whose payload is not a ConnectRequest. */
	Ttrpc__Request r = TTRPC__REQUEST__INIT;
	r.service = "containerd.task.v2.Task";
	r.method = "Connect";
	r.payload.data = (uint8_t *)"\x0a\x10x";
	r.payload.len = 3;
	uint8_t buf[128];
	size_t n = protobuf_c_message_pack(&r.base, buf);
	h.len = (uint32_t)n;
	h.stream = 9;
	cr_assert_eq(ttrpc_serve_frame(&c, &h, buf, table, 2, &served, &err), 0);
	cr_assert_eq(served, 0);
	/* A response, or an even stream, is no request: the caller drops the peer. */
	h.type = TTRPC_RESPONSE;
	cr_assert_eq(ttrpc_serve_frame(&c, &h, buf, table, 2, &served, &err), -1);
	h.type = TTRPC_REQUEST;
	h.stream = 2;
	cr_assert_eq(ttrpc_serve_frame(&c, &h, buf, table, 2, &served, &err), -1);
	cr_assert_eq(ttrpc_conn_flush(&c, &err), 1);
	const uint8_t *d;
	int codes[2], k = 0;
	while (k < 2 && ttrpc_conn_read(&cl, &err) == 0 && ttrpc_conn_next(&cl, &h, &d, &err) == 1) {
		Ttrpc__Response *res = ttrpc__response__unpack(NULL, h.len, d);
		cr_assert_not_null(res);
		codes[k++] = res->status->code;
		ttrpc__response__free_unpacked(res, NULL);
	}
	cr_assert_eq(k, 2);
	cr_assert(codes[0] == TTRPC_INVALID_ARGUMENT && codes[1] == TTRPC_INVALID_ARGUMENT);
	free(c.in);
	free(c.out);
	free(cl.in);
}

Test(ttrpc, call_gives_up_on_time)
{
	uint32_t stream = 1;
	int code;
	struct sk_err err;
	Containerd__Task__V2__ConnectRequest req = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	req.id = "x";
	cr_assert_eq(ttrpc_call(sp[0], &stream, "s", "m", NULL, 0, &req.base, NULL, NULL, &code, 100, &err), -1);
	cr_assert_eq(err.errnum, ETIMEDOUT);
	/* A peer that goes away is an error, not a wait. */
	close(sp[1]);
	sp[1] = -1;
	cr_assert_eq(ttrpc_call(sp[0], &stream, "s", "m", NULL, 0, &req.base, NULL, NULL, &code, 5000, &err), -1);
	cr_assert(err.errnum == ECONNRESET || err.errnum == EPIPE, "%s", err.msg);
}

/* Wait's way: the method answers later, on its connection and stream,
 * while other calls on the same connection are answered meanwhile. */
static uint32_t deferred_stream;

static int do_wait(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *req,
		   ProtobufCMessage **resp, int *code, struct sk_err *err)
{
	deferred_stream = stream;
	return 1;
}

Test(ttrpc, deferred_answer)
{
	static const struct ttrpc_method wt[] = {
		{ "containerd.task.v2.Task", "Wait", &containerd__task__v2__wait_request__descriptor, do_wait },
		{ "containerd.task.v2.Task", "Connect", &containerd__task__v2__connect_request__descriptor, do_connect },
	};
	struct ttrpc_conn srv, cl;
	struct sk_err err;
	int served = 0;
	ttrpc_conn_init(&srv, sp[1]);
	ttrpc_conn_init(&cl, sp[0]);
	Containerd__Task__V2__WaitRequest w = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	w.id = "c";
	Containerd__Task__V2__ConnectRequest cr = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	cr.id = "c";
	const ProtobufCMessage *reqs[] = { &w.base, &cr.base };
	const char *methods[] = { "Wait", "Connect" };
	for (int i = 0; i < 2; i++) {
		Ttrpc__Request r = TTRPC__REQUEST__INIT;
		uint8_t pl[64], buf[256];
		r.service = "containerd.task.v2.Task";
		r.method = (char *)methods[i];
		r.payload.data = pl;
		r.payload.len = protobuf_c_message_pack(reqs[i], pl);
		size_t n = protobuf_c_message_pack(&r.base, buf);
		cr_assert_eq(ttrpc_conn_send(&cl, (uint32_t)(2 * i + 1), TTRPC_REQUEST, 0, buf, n, &err), 0);
	}
	cr_assert_eq(ttrpc_conn_flush(&cl, &err), 1);
	struct ttrpc_hdr h;
	const uint8_t *d;
	int frames = 0;
	while (ttrpc_conn_read(&srv, &err) == 0 && ttrpc_conn_next(&srv, &h, &d, &err) == 1) {
		cr_assert_eq(ttrpc_serve_frame(&srv, &h, d, wt, 2, &served, &err), 0);
		frames++;
	}
	cr_assert_eq(frames, 2);
	cr_assert_eq(deferred_stream, 1);
	/* Only Connect's answer so far; then Wait's. */
	Containerd__Task__V2__WaitResponse wr = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;
	wr.exit_status = 9;
	cr_assert_eq(ttrpc_respond(&srv, deferred_stream, TTRPC_OK, NULL, &wr.base, &err), 0);
	cr_assert_eq(ttrpc_conn_flush(&srv, &err), 1);
	uint32_t order[2];
	int k = 0;
	while (k < 2 && ttrpc_conn_read(&cl, &err) == 0 && ttrpc_conn_next(&cl, &h, &d, &err) == 1) {
		cr_assert_eq(h.type, TTRPC_RESPONSE);
		order[k++] = h.stream;
		if (h.stream == 1) {
			Ttrpc__Response *res = ttrpc__response__unpack(NULL, h.len, d);
			cr_assert_not_null(res);
			Containerd__Task__V2__WaitResponse *got =
				containerd__task__v2__wait_response__unpack(NULL, res->payload.len, res->payload.data);
			cr_assert(got && got->exit_status == 9);
			containerd__task__v2__wait_response__free_unpacked(got, NULL);
			ttrpc__response__free_unpacked(res, NULL);
		}
	}
	cr_assert(k == 2 && order[0] == 3 && order[1] == 1);
	free(srv.in);
	free(srv.out);
	free(cl.in);
	free(cl.out);
}
