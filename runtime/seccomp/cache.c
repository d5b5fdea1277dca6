/* seccomp_cache: compiled filters kept under <root>/.seccomp, so that a
 * create with a long profile does not compile it again (seccomp.h).
 *
 * <root>/.seccomp/<64-bit FNV-1a of the key, hex>: a header, the key, the
 * program.  The key is everything the compiled program depends on: the
 * skiff binary (device, inode, size, mtime: a rebuild changes it), the
 * libseccomp version, the kernel (uname), and every field of linux.seccomp
 * that compile reads.  A hit needs the stored key to equal ours byte for
 * byte, so a hash collision (or a crafted profile) costs a miss, never a
 * wrong filter.  Container ids cannot start with '.', so the directory
 * never meets a container's. */
#include "skiff/seccomp/seccomp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "skiff/base/log.h"
#include "skiff/base/util.h"

#define CACHE_DIR ".seccomp"
#define CACHE_MAGIC "skiffsc1"
/* When a store finds this many entries it empties the directory: distinct
 * profiles are few on a host, so this only bounds a pathological case. */
#define CACHE_MAX_ENTRIES 64

struct cache_head {
	char magic[8];
	uint32_t key_len, n_insns, flags, notify;
};

struct key { char *p; size_t len, cap; bool oom; };

static void key_put(struct key *k, const void *d, size_t n)
{
	if (k->oom)
		return;
	if (k->len + n > k->cap) {
		size_t cap = k->cap ? k->cap : 4096;
		while (cap < k->len + n)
			cap *= 2;
		char *p = realloc(k->p, cap);
		if (!p) {
			k->oom = true;
			return;
		}
		k->p = p;
		k->cap = cap;
	}
	memcpy(k->p + k->len, d, n);
	k->len += n;
}

static void key_u64(struct key *k, uint64_t v)
{
	key_put(k, &v, sizeof(v));
}

/* Length-prefixed, so that no two sequences of strings serialize alike;
 * NULL differs from "". */
static void key_str(struct key *k, const char *s)
{
	key_u64(k, s ? strlen(s) : UINT64_MAX);
	if (s)
		key_put(k, s, strlen(s));
}

static int build_key(const struct sk_seccomp *sc, struct key *k, struct sk_err *err)
{
	struct stat exe;
	struct utsname u;
	if (stat("/proc/self/exe", &exe) < 0)
		return sk_error(err, errno, "stat /proc/self/exe");
	if (uname(&u) < 0)
		return sk_error(err, errno, "uname");
	const struct scmp_version *v = seccomp_version();
	key_str(k, CACHE_MAGIC);
	key_u64(k, exe.st_dev);
	key_u64(k, exe.st_ino);
	key_u64(k, (uint64_t)exe.st_size);
	key_u64(k, (uint64_t)exe.st_mtim.tv_sec);
	key_u64(k, (uint64_t)exe.st_mtim.tv_nsec);
	key_u64(k, ((uint64_t)v->major << 32) | ((uint64_t)v->minor << 16) | v->micro);
	key_str(k, u.release);
	key_str(k, u.version);
	key_str(k, u.machine);
	key_str(k, sc->default_action);
	key_u64(k, sc->has_default_errno_ret);
	key_u64(k, sc->default_errno_ret);
	key_str(k, sc->listener_path);
	key_u64(k, sc->n_architectures);
	for (size_t i = 0; i < sc->n_architectures; i++)
		key_str(k, sc->architectures[i]);
	key_u64(k, sc->n_flags);
	for (size_t i = 0; i < sc->n_flags; i++)
		key_str(k, sc->flags[i]);
	key_u64(k, sc->n_syscalls);
	for (size_t i = 0; i < sc->n_syscalls; i++) {
		const struct sk_seccomp_syscall *s = &sc->syscalls[i];
		key_u64(k, s->n_names);
		for (size_t j = 0; j < s->n_names; j++)
			key_str(k, s->names[j]);
		key_str(k, s->action);
		key_u64(k, s->has_errno_ret);
		key_u64(k, s->errno_ret);
		key_u64(k, s->n_args);
		for (size_t j = 0; j < s->n_args; j++) {
			key_u64(k, s->args[j].index);
			key_u64(k, s->args[j].value);
			key_u64(k, s->args[j].value_two);
			key_str(k, s->args[j].op);
		}
	}
	if (k->oom)
		return sk_error(err, ENOMEM, "seccomp: cache key");
	if (k->len > UINT32_MAX)
		return sk_error(err, EFBIG, "seccomp: cache key of %zu bytes", k->len);
	return 0;
}

static void cache_name(const struct key *k, char name[17])
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < k->len; i++)
		h = (h ^ (unsigned char)k->p[i]) * 0x100000001b3ull;
	snprintf(name, 17, "%016llx", (unsigned long long)h);
}

/* 0 and *out filled on a hit; -1 on a miss (absent, stale or damaged). */
static int cache_read(int dir, const char *name, const struct key *k, struct sk_seccomp_prog *out)
{
	struct sk_err e;
	char *buf;
	size_t len;
	struct cache_head h;
	if (sk_read_file_at(dir, name, NULL, sizeof(h) + k->len + BPF_MAXINSNS * sizeof(struct sock_filter), &buf, &len,
			    &e) < 0)
		return -1;
	int ret = -1;
	if (len < sizeof(h))
		goto out;
	memcpy(&h, buf, sizeof(h));
	size_t prog = (size_t)h.n_insns * sizeof(struct sock_filter);
	if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) != 0 || h.key_len != k->len || h.n_insns == 0 ||
	    h.n_insns > BPF_MAXINSNS || len != sizeof(h) + k->len + prog || memcmp(buf + sizeof(h), k->p, k->len) != 0)
		goto out;
	out->insns = malloc(prog);
	if (!out->insns)
		goto out;
	memcpy(out->insns, buf + sizeof(h) + k->len, prog);
	out->len = (unsigned short)h.n_insns;
	out->flags = h.flags;
	out->notify = h.notify;
	ret = 0;
out:
	free(buf);
	return ret;
}

static void cache_trim(int dir)
{
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	if (n >= CACHE_MAX_ENTRIES) {
		rewinddir(d);
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				unlinkat(dir, de->d_name, 0);
	}
	closedir(d);
}

static int cache_store(int dir, const char *name, const struct key *k, const struct sk_seccomp_prog *p,
		       struct sk_err *err)
{
	struct cache_head h = { .key_len = (uint32_t)k->len, .n_insns = p->len, .flags = p->flags, .notify = p->notify };
	memcpy(h.magic, CACHE_MAGIC, sizeof(h.magic));
	size_t prog = p->len * sizeof(struct sock_filter);
	char *buf = malloc(sizeof(h) + k->len + prog);
	if (!buf)
		return sk_error(err, ENOMEM, "seccomp: cache entry");
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), k->p, k->len);
	memcpy(buf + sizeof(h) + k->len, p->insns, prog);
	cache_trim(dir);
	int r = sk_write_file_atomic_at(dir, name, buf, sizeof(h) + k->len + prog, 0600, err);
	free(buf);
	return r;
}

/* The cache directory, made when create is set; -1 (with a debug line
 * unless it is only absent) when it cannot be used. */
static int cache_dir(int root_fd, bool create)
{
	if (create && mkdirat(root_fd, CACHE_DIR, 0700) < 0 && errno != EEXIST) {
		sk_debug("seccomp: no cache: mkdir %s: %s", CACHE_DIR, sk_errno_name(errno));
		return -1;
	}
	int dir = openat(root_fd, CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0 && (create || errno != ENOENT))
		sk_debug("seccomp: no cache: open %s: %s", CACHE_DIR, sk_errno_name(errno));
	return dir;
}

int sk_seccomp_compile_cached(const struct sk_seccomp *sc, int root_fd, struct sk_seccomp_prog *out,
			      struct sk_err *err)
{
	struct key k = { 0 };
	struct sk_err e;
	char name[17];
	if (build_key(sc, &k, &e) < 0) {
		sk_debug("seccomp: no cache: %s", e.msg);
		free(k.p);
		return sk_seccomp_compile(sc, out, err);
	}
	cache_name(&k, name);
	int ret, dir = cache_dir(root_fd, false);
	if (dir >= 0 && cache_read(dir, name, &k, out) == 0) {
		sk_debug("seccomp: filter %s/%s from the cache", CACHE_DIR, name);
		ret = 0;
	} else {
		ret = sk_seccomp_compile(sc, out, err);
		/* Made only for a filter that compiled: a create that fails on
		 * its profile leaves --root as it found it. */
		if (ret == 0 && dir < 0)
			dir = cache_dir(root_fd, true);
		if (ret == 0 && dir >= 0 && cache_store(dir, name, &k, out, &e) < 0)
			sk_debug("seccomp: not cached: %s", e.msg);
	}
	if (dir >= 0)
		close(dir);
	free(k.p);
	return ret;
}
