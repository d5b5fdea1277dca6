/* loop: the one epoll loop.  Signals arrive through a signalfd (SIGCHLD
 * reaps; SIGTERM, SIGINT and SIGQUIT go on to the container, or to the
 * runtime before there is a container, as conmon does); the container's
 * end through its pidfd too, which also covers a process that is not our
 * child (its status is then unknown, never made up). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"
#include "skiff/base/pidfd.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int shim_loop_init(struct sk_err *err)
{
	S.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (S.epfd < 0)
		return sk_error(err, errno, "epoll_create1");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, &S.saved_mask) < 0)
		return sk_error(err, errno, "sigprocmask");
	S.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (S.sigfd < 0)
		return sk_error(err, errno, "signalfd");
	return shim_watch(S.sigfd, EPOLLIN, SHIM_TAG(T_SIGNAL, 0), err);
}

int shim_watch(int fd, uint32_t events, uint64_t tag, struct sk_err *err)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };
	if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return sk_error(err, errno, "epoll_ctl add fd %d", fd);
	return 0;
}

void shim_watch_mod(int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };
	if (epoll_ctl(S.epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		shim_warn("epoll_ctl mod fd %d: %s", fd, strerrorname_np(errno));
}

void shim_unwatch(int fd)
{
	epoll_ctl(S.epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void cache_early(pid_t pid, int status)
{
	/* Oldest first out: only the runtime's helpers and a container that
	 * exits before its runtime land here, a handful at most. */
	if (S.n_early == sizeof(S.early) / sizeof(S.early[0])) {
		memmove(S.early, S.early + 1, sizeof(S.early) - sizeof(S.early[0]));
		S.n_early--;
	}
	S.early[S.n_early++] = (struct shim_pidstatus){ pid, status };
}

void shim_reap(void)
{
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p < 0 && errno == EINTR)
			continue;
		if (p <= 0)
			return;
		if (p == S.runtime_pid && !S.runtime_done) {
			S.runtime_status = st;
			S.runtime_done = true;
		} else if (S.ctr_pid > 0 && p == S.ctr_pid && !S.ctr_done) {
			S.ctr_status = st;
			S.ctr_done = S.ctr_status_known = true;
		} else {
			cache_early(p, st);
		}
	}
}

void shim_claim_early(void)
{
	for (size_t i = 0; i < S.n_early; i++) {
		if (S.early[i].pid == S.ctr_pid) {
			S.ctr_status = S.early[i].status;
			S.ctr_done = S.ctr_status_known = true;
			return;
		}
	}
}

void shim_forward_signal(int sig)
{
	if (S.ctr_pidfd >= 0 && !S.ctr_done) {
		if (sk_pidfd_signal(S.ctr_pidfd, sig) < 0)
			shim_debug("forward signal %d: %s", sig, strerrorname_np(errno));
	} else if (S.runtime_pid > 0 && !S.runtime_done) {
		kill(S.runtime_pid, sig);
	}
}

/* The pidfd is readable: the process ended.  A child of ours is reaped
 * here; one that is not (a runtime that did not leave the container to
 * us) ended with a status nobody can know. */
static void ctr_pidfd_ready(void)
{
	shim_reap();
	if (!S.ctr_done) {
		siginfo_t si = { 0 };
		int r = waitid(P_PIDFD, (id_t)S.ctr_pidfd, &si, WEXITED | WNOHANG);
		if (r == 0 && si.si_pid > 0) {
			S.ctr_status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : si.si_status;
			S.ctr_done = S.ctr_status_known = true;
		} else if (r < 0 && errno == ECHILD) {
			shim_warn("container process %d is not our child: its exit status is unknown", (int)S.ctr_pid);
			S.ctr_done = true;
		}
	}
	if (S.ctr_done)
		shim_unwatch(S.ctr_pidfd);
}

static void signal_ready(void)
{
	struct signalfd_siginfo si;
	while (read(S.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
		case SIGUSR1:
			shim_reap();
			break;
		default:
			shim_forward_signal((int)si.ssi_signo);
			break;
		}
	}
}

static void timer_ready(void)
{
	uint64_t n;
	if (read(S.timer_fd, &n, sizeof(n)) < 0)
		return;
	shim_unwatch(S.timer_fd);
	if (S.ctr_done)
		return;
	shim_log(SHIM_L_INFO, "timed out after %lld s: killing the process", (long long)S.o.timeout);
	S.timed_out = true;
	/* conmon's rule: the whole process group, unless that is ours or
	 * init's. */
	pid_t pg = getpgid(S.ctr_pid);
	if (pg > 1 && pg != getpgrp())
		kill(-pg, SIGKILL);
	sk_pidfd_signal(S.ctr_pidfd, SIGKILL);
}

int shim_timer_start(int seconds, struct sk_err *err)
{
	S.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (S.timer_fd < 0)
		return sk_error(err, errno, "timerfd_create");
	struct itimerspec its = { .it_value = { .tv_sec = seconds } };
	if (timerfd_settime(S.timer_fd, 0, &its, NULL) < 0)
		return sk_error(err, errno, "timerfd_settime");
	return shim_watch(S.timer_fd, EPOLLIN, SHIM_TAG(T_TIMER, 0), err);
}

static void dispatch(uint64_t tag, uint32_t events)
{
	size_t idx = (size_t)(tag >> 8);
	switch ((enum shim_tag)(tag & 0xff)) {
	case T_SIGNAL:
		signal_ready();
		break;
	case T_OUT:
	case T_ERR:
		shim_output_ready((int)(tag & 0xff));
		break;
	case T_IN:
		shim_stdin_writable();
		break;
	case T_CTR_PIDFD:
		ctr_pidfd_ready();
		break;
	case T_CONSOLE:
		shim_console_ready();
		break;
	case T_ATTACH:
		shim_attach_accept();
		break;
	case T_CLIENT:
		shim_client_event(idx, events);
		break;
	case T_CTL:
		shim_ctl_ready();
		break;
	case T_TIMER:
		timer_ready();
		break;
	case T_OOM:
		shim_oom_event();
		break;
	case T_NOTIFY:
		shim_notify_ready();
		break;
	}
}

void shim_loop_run(bool (*done)(void), int timeout_ms)
{
	struct epoll_event ev[16];
	while (!done()) {
		/* A pty with no slave open reports HUP without end: look
		 * again every 100 ms instead (conmon does the same). */
		bool pty_poll = S.pty_hup;
		int n = epoll_wait(S.epfd, ev, (int)(sizeof(ev) / sizeof(ev[0])), pty_poll ? 100 : timeout_ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			struct sk_err err;
			sk_error(&err, errno, "epoll_wait");
			shim_fatal(&err);
		}
		if (pty_poll) {
			S.pty_hup = false;
			struct sk_err err;
			if (S.out_fd >= 0 && shim_watch(S.out_fd, EPOLLIN, SHIM_TAG(T_OUT, 0), &err) < 0)
				shim_warn("%s", err.msg);
		}
		for (int i = 0; i < n; i++)
			dispatch(ev[i].data.u64, ev[i].events);
		if (n == 0 && timeout_ms >= 0 && !pty_poll)
			return;
	}
}
