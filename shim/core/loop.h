/* loop: the shim's one epoll loop.  It knows no handler: whoever watches an
 * fd registers a function and its context, and the loop calls fn(ctx,
 * events) when the fd is ready.  Signals arrive through a signalfd and go
 * to the one function given at init.  One loop per shim process, no
 * threads; any number of containers and processes share it. */
#ifndef SHIM_CORE_LOOP_H
#define SHIM_CORE_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/base/error.h"

typedef void (*shim_loop_fn)(void *ctx, uint32_t events);

/* What is watched, by fd.  gen tells a handler from an earlier one on a
 * reused fd number: an event of the same batch for a closed fd is not
 * delivered to its successor. */
struct shim_loop_slot {
	shim_loop_fn fn;
	void *ctx;
	uint32_t gen;
};

struct shim_loop {
	int epfd, sigfd;
	sigset_t saved_mask;         /* before init blocked the signals: children get it back */
	void (*on_signal)(void *ctx, int sig);
	void *sig_ctx;
	struct shim_loop_slot *slots;
	size_t n_slots;
	uint32_t gen;
};

/* Create the epoll fd and block `signals`, which are then delivered, one
 * call each, to on_signal(ctx, signo) from the loop. */
int shim_loop_init(struct shim_loop *loop, const sigset_t *signals, void (*on_signal)(void *ctx, int sig),
		   void *ctx, struct sk_err *err);
/* Watch fd for events (EPOLLIN, EPOLLOUT...): fn(ctx, events) when ready.
 * An fd is watched at most once; unwatch it before closing it. */
int shim_loop_watch(struct shim_loop *loop, int fd, uint32_t events, shim_loop_fn fn, void *ctx,
		    struct sk_err *err);
/* Change the events of a watched fd (a failure is logged). */
void shim_loop_modify(struct shim_loop *loop, int fd, uint32_t events);
void shim_loop_unwatch(struct shim_loop *loop, int fd);
/* Dispatch until done(ctx) is true, or until a wait of timeout_ms (-1:
 * none) passes with nothing ready.  -1 only when epoll_wait fails. */
int shim_loop_run(struct shim_loop *loop, bool (*done)(void *ctx), void *ctx, int timeout_ms, struct sk_err *err);

#endif
