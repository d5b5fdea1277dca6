/* cgroup_dev: linux.resources.devices -> a BPF_PROG_TYPE_CGROUP_DEVICE
 * program (cgroup2) or devices.allow/deny lines (v1); see
 * include/skiff/cgroup/dev.h. */
#include "skiff/cgroup/dev.h"
#include "skiff/base/log.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Bounds the program so every jump offset fits the 16-bit field. */
#define MAX_RULES 4096

struct dev_rule { char type; int64_t major, minor; unsigned access; bool allow; };

/* Always allowed after the configured rules, so they win over them: the
 * list runc and crun share (crun adds /dev/console 5:1, which in a
 * container is a pts device anyway). */
static const struct dev_rule default_rules[] = {
	{ 'c', -1, -1, BPF_DEVCG_ACC_MKNOD, true },           /* mknod of any char device */
	{ 'b', -1, -1, BPF_DEVCG_ACC_MKNOD, true },           /* ... and block device */
	{ 'c', 1, 3, 7, true },                               /* /dev/null */
	{ 'c', 1, 8, 7, true },                               /* /dev/random */
	{ 'c', 1, 7, 7, true },                               /* /dev/full */
	{ 'c', 5, 0, 7, true },                               /* /dev/tty */
	{ 'c', 1, 5, 7, true },                               /* /dev/zero */
	{ 'c', 1, 9, 7, true },                               /* /dev/urandom */
	{ 'c', 136, -1, 7, true },                            /* /dev/pts/N */
	{ 'c', 5, 2, 7, true },                               /* /dev/ptmx */
	{ 'c', 10, 200, 7, true },                            /* /dev/net/tun */
};
#define N_DEFAULT (sizeof(default_rules) / sizeof(default_rules[0]))

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

struct asm_buf { struct bpf_insn *v; size_t n; };

static size_t emit(struct asm_buf *b, struct bpf_insn i)
{
	b->v[b->n] = i;
	return b->n++;
}

/* Point the jump at index `at` to the next instruction to be emitted. */
static void land_here(struct asm_buf *b, size_t at)
{
	b->v[at].off = (int16_t)(b->n - at - 1);
}

static int convert_rule(const struct sk_device_rule *r, size_t i, struct dev_rule *out, struct sk_err *err)
{
	if (r->type != 'a' && r->type != 'c' && r->type != 'b')
		return sk_error(err, 0, "linux.resources.devices[%zu].type: \"%c\" is not a, b or c", i, r->type);
	if (r->major < -1 || r->major > UINT32_MAX || r->minor < -1 || r->minor > UINT32_MAX)
		return sk_error(err, 0, "linux.resources.devices[%zu]: major/minor out of range", i);
	unsigned acc = 0;
	for (const char *p = r->access; *p; p++) {
		switch (*p) {
		case 'r': acc |= BPF_DEVCG_ACC_READ; break;
		case 'w': acc |= BPF_DEVCG_ACC_WRITE; break;
		case 'm': acc |= BPF_DEVCG_ACC_MKNOD; break;
		default:
			return sk_error(err, 0, "linux.resources.devices[%zu].access: \"%s\" is not made of r, w and m",
					i, r->access);
		}
	}
	*out = (struct dev_rule){ r->type, r->major, r->minor, acc ? acc : 7, r->allow };
	return 0;
}

/* One section per access bit: skipped when the bit is not requested, else
 * the rules that include the bit are tried last to first and the first
 * match decides (allow: on to the next bit; deny: return 0); no match
 * denies.  A catch-all rule ends its section: what is below it is
 * unreachable and the verifier refuses unreachable code.  bits holds
 * several when every rule includes all or none of them (see
 * sk_cgroup_dev_build): the same rule decides for each. */
static void emit_section(struct asm_buf *b, const struct dev_rule *rules, size_t n, unsigned bits, size_t *to_next)
{
	size_t n_next = 0;
	emit(b, INSN(BPF_JMP | BPF_JSET | BPF_K, BPF_REG_3, 0, 1, (int32_t)bits));
	to_next[n_next++] = emit(b, INSN(BPF_JMP | BPF_JA, 0, 0, 0, 0));
	bool terminal = false;
	for (size_t k = n; k-- > 0 && !terminal;) {
		const struct dev_rule *r = &rules[k];
		if (!(r->access & bits))
			continue;
		size_t cond[3], n_cond = 0;
		if (r->type != 'a')
			cond[n_cond++] = emit(b, INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_2, 0, 0,
						      r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
		if (r->major >= 0)
			cond[n_cond++] = emit(b, INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, (int32_t)(uint32_t)r->major));
		if (r->minor >= 0)
			cond[n_cond++] = emit(b, INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, (int32_t)(uint32_t)r->minor));
		if (r->allow) {
			to_next[n_next++] = emit(b, INSN(BPF_JMP | BPF_JA, 0, 0, 0, 0));
		} else {
			emit(b, INSN(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
			emit(b, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
		}
		for (size_t c = 0; c < n_cond; c++)
			land_here(b, cond[c]);
		terminal = n_cond == 0;
	}
	if (!terminal) {
		emit(b, INSN(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
		emit(b, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	}
	for (size_t j = 0; j < n_next; j++)
		land_here(b, to_next[j]);
}

/* Whether every rule includes both bits or neither. */
static bool same_rules(const struct dev_rule *rules, size_t n, unsigned a, unsigned b)
{
	for (size_t k = 0; k < n; k++)
		if (!(rules[k].access & a) != !(rules[k].access & b))
			return false;
	return true;
}

int sk_cgroup_dev_build(const struct sk_device_rule *in, size_t n_in, struct sk_bpf_prog *out, struct sk_err *err)
{
	out->insns = NULL;
	out->n = 0;
	if (n_in > MAX_RULES)
		return sk_error(err, 0, "linux.resources.devices: %zu rules, at most %d are supported", n_in, MAX_RULES);
	size_t n = n_in + N_DEFAULT;
	struct dev_rule *rules = malloc(n * sizeof(*rules));
	size_t *to_next = malloc((n + 1) * sizeof(*to_next));   /* a section's jumps to the next */
	/* 6 loads, 3 sections of at most 4 + 5 per rule, the final allow. */
	struct asm_buf b = { malloc((6 + 3 * (4 + 5 * n) + 2) * sizeof(struct bpf_insn)), 0 };
	if (!rules || !to_next || !b.v) {
		free(rules);
		free(to_next);
		free(b.v);
		return sk_error(err, ENOMEM, "device program");
	}
	for (size_t i = 0; i < n_in; i++)
		if (convert_rule(&in[i], i, &rules[i], err)) {
			free(rules);
			free(to_next);
			free(b.v);
			return -1;
		}
	memcpy(rules + n_in, default_rules, sizeof(default_rules));

	/* struct bpf_cgroup_dev_ctx: r2 = device type, r3 = access bits,
	 * r4 = major, r5 = minor. */
	emit(&b, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0));
	emit(&b, INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff));
	emit(&b, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 0, 0));
	emit(&b, INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16));
	emit(&b, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0));
	emit(&b, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0));
	/* Bits the rules treat alike share a section (r and w in the default
	 * config): a shorter program, and less for the verifier to walk, which
	 * is much of create's own time under the VM's emulated CPU. */
	static const unsigned bits[] = { BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE };
	unsigned done = 0;
	for (size_t i = 0; i < 3; i++) {
		if (done & bits[i])
			continue;
		unsigned group = bits[i];
		for (size_t j = i + 1; j < 3; j++)
			if (!(done & bits[j]) && same_rules(rules, n, bits[i], bits[j]))
				group |= bits[j];
		done |= group;
		emit_section(&b, rules, n, group, to_next);
	}
	emit(&b, INSN(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1));
	emit(&b, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	free(rules);
	free(to_next);
	out->insns = b.v;
	out->n = b.n;
	return 0;
}

void sk_cgroup_dev_free(struct sk_bpf_prog *prog)
{
	free(prog->insns);
	prog->insns = NULL;
	prog->n = 0;
}

/* ---- bpf(2) ---------------------------------------------------------------- */

static int sys_bpf(int cmd, union bpf_attr *a)
{
	return (int)syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static int prog_load(const struct sk_bpf_prog *prog, char *log, size_t log_size)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uintptr_t)prog->insns;
	a.insn_cnt = (uint32_t)prog->n;
	/* Only gates GPL-only helpers, and the program calls none. */
	a.license = (uintptr_t)"GPL";
	if (log) {
		a.log_buf = (uintptr_t)log;
		a.log_size = (uint32_t)log_size;
		a.log_level = 1;
	}
	return sys_bpf(BPF_PROG_LOAD, &a);
}

/* The verifier's last line says why it refused. */
static const char *last_line(char *log)
{
	size_t len = strlen(log);
	while (len && log[len - 1] == '\n')
		log[--len] = '\0';
	char *nl = strrchr(log, '\n');
	return nl ? nl + 1 : log;
}

static int load(const struct sk_bpf_prog *prog, const char *path, struct sk_err *err)
{
	int fd = prog_load(prog, NULL, 0);
	if (fd >= 0)
		return fd;
	int e = errno;
	if (e == EINVAL || e == EACCES) {
		size_t size = 1 << 16;
		char *log = calloc(1, size);
		if (log && (fd = prog_load(prog, log, size)) < 0 && log[0]) {
			sk_error(err, e, "load the device program for \"%s\" (verifier: %s)", path, last_line(log));
			free(log);
			return -1;
		}
		free(log);
		if (fd >= 0)
			return fd;
	}
	return sk_error(err, e, "load the device program for \"%s\"", path);
}

static int attach(int dir_fd, int prog_fd, int replace_fd)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)dir_fd;
	a.attach_bpf_fd = (uint32_t)prog_fd;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (replace_fd >= 0) {
		a.attach_flags |= BPF_F_REPLACE;
		a.replace_bpf_fd = (uint32_t)replace_fd;
	}
	return sys_bpf(BPF_PROG_ATTACH, &a);
}

/* Fds of the device programs attached to the cgroup itself (not those
 * inherited from ancestors).  Returns their count or -1. */
static int attached(int dir_fd, const char *path, int *fds, int max, struct sk_err *err)
{
	uint32_t ids[64];
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)dir_fd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uintptr_t)ids;
	a.query.prog_cnt = (uint32_t)max;
	if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
		return sk_error(err, errno, "query the device programs of \"%s\"", path);
	int n = (int)a.query.prog_cnt;
	for (int i = 0; i < n; i++) {
		union bpf_attr g;
		memset(&g, 0, sizeof(g));
		g.prog_id = ids[i];
		if ((fds[i] = sys_bpf(BPF_PROG_GET_FD_BY_ID, &g)) < 0) {
			sk_error(err, errno, "open device program %u of \"%s\"", ids[i], path);
			while (i-- > 0)
				close(fds[i]);
			return -1;
		}
	}
	return n;
}

int sk_cgroup_dev_install(int dir_fd, const char *path, const struct sk_bpf_prog *prog, bool replace,
			  struct sk_err *err)
{
	int old[64], n_old = 0;
	if (replace && (n_old = attached(dir_fd, path, old, 64, err)) < 0)
		return -1;
	int fd = load(prog, path, err);
	int rc = -1;
	if (fd < 0)
		goto out;
	/* One program there: swap it atomically, so no access slips through
	 * in between; kernels before 5.6 lack BPF_F_REPLACE (EINVAL). */
	bool swapped = false;
	if (n_old == 1) {
		swapped = attach(dir_fd, fd, old[0]) == 0;
		if (!swapped && errno != EINVAL) {
			sk_error(err, errno, "replace the device program of \"%s\"", path);
			goto out;
		}
	}
	if (!swapped && attach(dir_fd, fd, -1) < 0) {
		sk_error(err, errno, "attach the device program to \"%s\"", path);
		goto out;
	}
	for (int i = 0; i < n_old && !swapped; i++) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.target_fd = (uint32_t)dir_fd;
		a.attach_bpf_fd = (uint32_t)old[i];
		a.attach_type = BPF_CGROUP_DEVICE;
		if (sys_bpf(BPF_PROG_DETACH, &a) < 0) {
			sk_error(err, errno, "detach the old device program of \"%s\"", path);
			goto out;
		}
	}
	sk_debug("cgroup %s: device program of %zu instructions attached (%d replaced)", path, prog->n, n_old);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < n_old; i++)
		close(old[i]);
	return rc;
}

/* ---- v1: devices.allow / devices.deny -------------------------------------- */

struct v1_state {
	bool allow_all;           /* the default, after an "a" rule */
	struct dev_rule *exc;     /* the kernel's exceptions, as it keeps them */
	size_t n_exc;
	struct { bool allow; char line[64]; } *out;
	size_t n_out;
};

static void v1_line(struct v1_state *st, bool allow, const struct dev_rule *r)
{
	char acc[4], *a = acc;
	if (r->access & BPF_DEVCG_ACC_READ)
		*a++ = 'r';
	if (r->access & BPF_DEVCG_ACC_WRITE)
		*a++ = 'w';
	if (r->access & BPF_DEVCG_ACC_MKNOD)
		*a++ = 'm';
	*a = '\0';
	char maj[24] = "*", min[24] = "*";
	if (r->major >= 0)
		snprintf(maj, sizeof(maj), "%" PRId64, r->major);
	if (r->minor >= 0)
		snprintf(min, sizeof(min), "%" PRId64, r->minor);
	st->out[st->n_out].allow = allow;
	snprintf(st->out[st->n_out].line, sizeof(st->out[0].line), "%c %s:%s %s", r->type, maj, min, acc);
	st->n_out++;
}

static bool overlaps(int64_t a, int64_t b) { return a < 0 || b < 0 || a == b; }

/* One c or b rule.  Returns 1 when it cannot be expressed. */
static int v1_rule(struct v1_state *st, const struct dev_rule *r)
{
	if (r->allow != st->allow_all) {
		/* An exception: added, merged with an identical one. */
		v1_line(st, r->allow, r);
		for (size_t i = 0; i < st->n_exc; i++) {
			struct dev_rule *e = &st->exc[i];
			if (e->type == r->type && e->major == r->major && e->minor == r->minor) {
				e->access |= r->access;
				return 0;
			}
		}
		st->exc[st->n_exc++] = *r;
		return 0;
	}
	/* Back to the default: the kernel takes the bits off an identical
	 * exception only; one that merely overlaps would keep them. */
	bool exact = false;
	for (size_t i = 0; i < st->n_exc; i++) {
		struct dev_rule *e = &st->exc[i];
		if (e->type != r->type || !(e->access & r->access) || !overlaps(e->major, r->major) ||
		    !overlaps(e->minor, r->minor))
			continue;
		if (e->major != r->major || e->minor != r->minor)
			return 1;
		e->access &= ~r->access;
		exact = true;
	}
	if (exact)
		v1_line(st, r->allow, r);
	return 0;
}

int sk_cgroup_dev_v1(const struct sk_device_rule *in, size_t n_in, sk_cgroup_dev_emit_fn *out, void *ctx,
		     struct sk_err *err)
{
	if (n_in > MAX_RULES)
		return sk_error(err, 0, "linux.resources.devices: %zu rules, at most %d are supported", n_in, MAX_RULES);
	size_t n = n_in + N_DEFAULT, max = 2 * n + 1;
	struct v1_state st = { .exc = malloc(max * sizeof(*st.exc)), .out = malloc(max * sizeof(*st.out)) };
	int rc = -1;
	if (!st.exc || !st.out) {
		sk_error(err, ENOMEM, "device rules");
		goto out;
	}
	st.out[st.n_out].allow = false;
	snprintf(st.out[st.n_out++].line, sizeof(st.out[0].line), "a");
	for (size_t i = 0; i < n; i++) {
		struct dev_rule r;
		if (i < n_in && convert_rule(&in[i], i, &r, err))
			goto out;
		if (i >= n_in)
			r = default_rules[i - n_in];
		if (r.type == 'a' && r.major < 0 && r.minor < 0 && r.access == 7) {
			if (r.allow == st.allow_all && !st.n_exc)
				continue;   /* as things are already */
			/* The whole default changes and the exceptions go. */
			st.allow_all = r.allow;
			st.n_exc = 0;
			st.out[st.n_out].allow = r.allow;
			snprintf(st.out[st.n_out++].line, sizeof(st.out[0].line), "a");
			continue;
		}
		/* v1 reads any "a" line as the whole default: a narrower one is
		 * its char and block halves. */
		struct dev_rule half[2] = { r, r };
		size_t nh = 1;
		if (r.type == 'a') {
			half[0].type = 'c';
			half[1].type = 'b';
			nh = 2;
		}
		for (size_t h = 0; h < nh; h++) {
			if (!v1_rule(&st, &half[h]))
				continue;
			/* The always-allowed list only ever loosens: where an
			 * earlier rule is stricter, it stays stricter. */
			if (i >= n_in)
				continue;
			const struct sk_device_rule *d = &in[i];
			char maj[24] = "*", min[24] = "*";
			if (d->major >= 0)
				snprintf(maj, sizeof(maj), "%" PRId64, d->major);
			if (d->minor >= 0)
				snprintf(min, sizeof(min), "%" PRId64, d->minor);
			sk_error(err, 0, "linux.resources.devices[%zu]: %s %c %s:%s %s cannot be expressed in cgroup v1: it "
				 "would punch a hole in an earlier wildcard rule", i, d->allow ? "allow" : "deny",
				 half[h].type, maj, min, d->access[0] ? d->access : "rwm");
			goto out;
		}
	}
	for (size_t i = 0; i < st.n_out; i++)
		if (out(ctx, st.out[i].allow, st.out[i].line, err) < 0)
			goto out;
	rc = 0;
out:
	free(st.exc);
	free(st.out);
	return rc;
}
