/* loop: the one epoll loop (core/loop.h).  Each watched fd has a slot,
 * indexed by the fd, holding its handler; epoll's data carries the fd and
 * the slot's generation, so that an event left in a batch for an fd that
 * was closed and reused since goes nowhere. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/loop.h"

static void signal_ready(void *ctx, uint32_t events)
{
	struct shim_loop *loop = ctx;
	struct signalfd_siginfo si;
	(void)events;
	while (read(loop->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		loop->on_signal(loop->sig_ctx, (int)si.ssi_signo);
}

int shim_loop_init(struct shim_loop *loop, const sigset_t *signals, void (*on_signal)(void *ctx, int sig),
		   void *ctx, struct sk_err *err)
{
	*loop = (struct shim_loop){ .epfd = -1, .sigfd = -1, .on_signal = on_signal, .sig_ctx = ctx };
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		return sk_error(err, errno, "epoll_create1");
	if (sigprocmask(SIG_BLOCK, signals, &loop->saved_mask) < 0)
		return sk_error(err, errno, "sigprocmask");
	loop->sigfd = signalfd(-1, signals, SFD_NONBLOCK | SFD_CLOEXEC);
	if (loop->sigfd < 0)
		return sk_error(err, errno, "signalfd");
	return shim_loop_watch(loop, loop->sigfd, EPOLLIN, signal_ready, loop, err);
}

static uint64_t ev_data(int fd, uint32_t gen)
{
	return (uint64_t)(uint32_t)fd | ((uint64_t)gen << 32);
}

int shim_loop_watch(struct shim_loop *loop, int fd, uint32_t events, shim_loop_fn fn, void *ctx,
		    struct sk_err *err)
{
	if (fd < 0)
		return sk_error(err, EBADF, "watch fd %d", fd);
	if ((size_t)fd >= loop->n_slots) {
		size_t n = loop->n_slots ? loop->n_slots : 32;
		while (n <= (size_t)fd)
			n *= 2;
		struct shim_loop_slot *s = realloc(loop->slots, n * sizeof(*s));
		if (!s)
			return sk_error(err, ENOMEM, "watch fd %d", fd);
		memset(s + loop->n_slots, 0, (n - loop->n_slots) * sizeof(*s));
		loop->slots = s;
		loop->n_slots = n;
	}
	struct shim_loop_slot *slot = &loop->slots[fd];
	uint32_t gen = ++loop->gen;
	struct epoll_event ev = { .events = events, .data.u64 = ev_data(fd, gen) };
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return sk_error(err, errno, "epoll_ctl add fd %d", fd);
	*slot = (struct shim_loop_slot){ .fn = fn, .ctx = ctx, .gen = gen };
	return 0;
}

void shim_loop_modify(struct shim_loop *loop, int fd, uint32_t events)
{
	if (fd < 0 || (size_t)fd >= loop->n_slots || !loop->slots[fd].fn)
		return;
	struct epoll_event ev = { .events = events, .data.u64 = ev_data(fd, loop->slots[fd].gen) };
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		shim_warn("epoll_ctl mod fd %d: %s", fd, strerrorname_np(errno));
}

void shim_loop_unwatch(struct shim_loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->n_slots || !loop->slots[fd].fn)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop->slots[fd] = (struct shim_loop_slot){ 0 };
}

int shim_loop_run(struct shim_loop *loop, bool (*done)(void *ctx), void *ctx, int timeout_ms, struct sk_err *err)
{
	struct epoll_event ev[16];
	while (!done(ctx)) {
		int n = epoll_wait(loop->epfd, ev, (int)(sizeof(ev) / sizeof(ev[0])), timeout_ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sk_error(err, errno, "epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			int fd = (int)(uint32_t)ev[i].data.u64;
			uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);
			if ((size_t)fd >= loop->n_slots)
				continue;
			struct shim_loop_slot s = loop->slots[fd];
			if (s.fn && s.gen == gen)
				s.fn(s.ctx, ev[i].events);
		}
		if (n == 0 && timeout_ms >= 0)
			return 0;
	}
	return 0;
}
