/* state: the container directory under the root: its lock, state.json,
 * the derived status and the OCI state JSON (state.h). */
#include "skiff/container/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "skiff/cgroup/cgroup.h"
#include "skiff/base/features.h"
#include "skiff/base/util.h"

#define STATE_FILE "state.json"
/* A state.json holds a few paths and the annotations: 1 MiB is far beyond
 * any real one and bounds what a corrupted file can make us allocate. */
#define STATE_MAX_BYTES (1024u * 1024u)

static bool id_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '_' || c == '+' || c == '.' || c == '-');
}

int sk_state_validate_id(const char *id, struct sk_err *err)
{
	size_t len = strnlen(id, SK_ID_MAX + 1);
	if (len == 0)
		return sk_error(err, EINVAL, "invalid container id: empty");
	if (len > SK_ID_MAX)
		return sk_error(err, EINVAL, "invalid container id: longer than %d bytes", SK_ID_MAX);
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return sk_error(err, EINVAL, "invalid container id \"%s\"", id);
	for (size_t i = 0; i < len; i++) {
		if (!id_char(id[i], i == 0))
			return sk_error(err, EINVAL,
					"invalid container id \"%.64s\": must match [a-zA-Z0-9][a-zA-Z0-9_+.-]*", id);
	}
	return 0;
}

int sk_state_check_root(int fd, const char *root, struct sk_err *err)
{
	/* Another user's state is never trusted: state.json names pids to
	 * signal and directories to remove. */
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sk_error(err, errno, "stat state root %s", root);
	if (st.st_uid != geteuid())
		return sk_error(err, 0, "state root %s: owned by uid %u, not by the caller (uid %u)", root,
				(unsigned)st.st_uid, (unsigned)geteuid());
	return 0;
}

int sk_state_open_root(const char *root, struct sk_err *err)
{
	if (sk_mkdir_p(root, 0700, err) < 0)
		return sk_error_wrap(err, "state root");
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sk_error(err, errno, "open state root %s", root);
	if (sk_state_check_root(fd, root, err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* errnum ENOENT lets callers tell "no such container" apart (delete
 * --force succeeds on it, as runc) without it showing in the message. */
static void not_found(struct sk_err *err, const char *id)
{
	sk_error(err, 0, "container \"%s\" does not exist", id);
	err->errnum = ENOENT;
}

int sk_state_open(int root_fd, const char *id, struct sk_err *err)
{
	if (sk_state_validate_id(id, err) < 0)
		return -1;
	int fd = openat(root_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			not_found(err, id);
		else
			sk_error(err, errno, "open state directory of \"%s\"", id);
	}
	return fd;
}

bool sk_state_busy(int dir_fd)
{
	/* A lock of our own would be converted, not tested: use a new open. */
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool busy = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

/* The pid /proc/locks names for the flock on the file of sb, or 0. */
static pid_t lock_holder(const struct stat *sb)
{
	FILE *f = fopen("/proc/locks", "re");
	if (!f)
		return 0;
	char line[256], kind[16];
	int pid;
	unsigned maj, min;
	unsigned long long ino;
	pid_t holder = 0;
	while (!holder && fgets(line, sizeof(line), f))
		/* Waiters ("1: -> FLOCK ...") do not scan as FLOCK. */
		if (sscanf(line, "%*d: %15s %*s %*s %d %x:%x:%llu", kind, &pid, &maj, &min, &ino) == 5 &&
		    !strcmp(kind, "FLOCK") && maj == major(sb->st_dev) && min == minor(sb->st_dev) && ino == sb->st_ino)
			holder = pid;
	fclose(f);
	return holder;
}

/* Whoever holds the lock of fd cannot let it go: a frozen process, or
 * one that is gone while what it started holds the lock on and the
 * container's own cgroup is frozen (an init frozen as it was born). */
static bool lock_wedged(int fd, const char *id, struct sk_err *err)
{
	struct stat sb;
	char where[4096];
	if (fstat(fd, &sb) < 0)
		return false;
	pid_t pid = lock_holder(&sb);
	if (pid > 0 && sk_cgroup_pid_frozen(pid, where, sizeof(where))) {
		sk_error(err, EDEADLK, "container \"%s\" is locked by pid %d, which is frozen (cgroup \"%s\")", id,
			 (int)pid, where);
		return true;
	}
	if (pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH))
		return false;
	struct sk_state st;
	struct sk_err ignored;
	bool frozen = sk_state_read(fd, &st, &ignored) == 0 && st.cgroup_path &&
		      sk_cgroup_is_frozen(st.cgroup_path, st.cgroup_paths, st.n_cgroup_paths);
	if (frozen)
		sk_error(err, EDEADLK, "container \"%s\" is locked by a frozen process of its cgroup \"%s\"", id,
			 st.cgroup_path);
	if (st.id)
		sk_state_free(&st);
	return frozen;
}

/* flock(LOCK_EX), but never for ever behind a holder that cannot run. */
static int lock_wait(int fd, const char *id, struct sk_err *err)
{
	for (int i = 0;; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return sk_error(err, errno, "lock state directory of \"%s\"", id);
		/* Polled (flock cannot time out): briefly at first, where a
		 * short command holds it; the holder is checked after about a
		 * second, then every second. */
		if (i >= 100 && i % 50 == 0 && lock_wedged(fd, id, err))
			return -1;
		usleep(i < 50 ? 2000 : 20000);
	}
}

int sk_state_lock(int root_fd, const char *id, bool create, struct sk_err *err)
{
	if (sk_state_validate_id(id, err) < 0)
		return -1;
	if (create && mkdirat(root_fd, id, 0700) < 0) {
		if (errno == EEXIST)
			return sk_error(err, 0, "container \"%s\" already exists", id);
		return sk_error(err, errno, "create state directory for \"%s\"", id);
	}
	int fd = openat(root_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			not_found(err, id);
		else
			sk_error(err, errno, "open state directory of \"%s\"", id);
		goto fail;
	}
	if (lock_wait(fd, id, err) < 0)
		goto fail;
	/* A delete that held the lock before us removed the directory: the
	 * container is gone even though we opened it. */
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		sk_error(err, errno, "stat state directory of \"%s\"", id);
		goto fail;
	}
	if (sb.st_nlink == 0) {
		not_found(err, id);
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	/* Do not leave behind the directory we made for a create that failed. */
	if (create)
		unlinkat(root_fd, id, AT_REMOVEDIR);
	return -1;
}

static void free_map(struct sk_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void sk_state_free(struct sk_state *st)
{
	free(st->id);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->cgroup_path);
	free(st->resctrl_group);
	free(st->resctrl_mon);
	free(st->cgroup_unit);
	free_map(st->cgroup_paths, st->n_cgroup_paths);
	free_map(st->annotations, st->n_annotations);
	memset(st, 0, sizeof(*st));
}

/* The value of key in the object obj, or NULL. */
static yajl_val field(yajl_val obj, const char *key)
{
	for (size_t i = 0; i < obj->u.object.len; i++) {
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	}
	return NULL;
}

static int get_str(yajl_val obj, const char *key, bool required, char **out, struct sk_err *err)
{
	yajl_val v = field(obj, key);
	if (!v || YAJL_IS_NULL(v)) {
		if (required)
			return sk_error(err, 0, "%s: %s: missing", STATE_FILE, key);
		return 0;
	}
	if (!YAJL_IS_STRING(v))
		return sk_error(err, 0, "%s: %s: must be a string", STATE_FILE, key);
	*out = strdup(v->u.string);
	if (!*out)
		return sk_error(err, ENOMEM, "%s: %s", STATE_FILE, key);
	return 0;
}

static int get_uint(yajl_val obj, const char *key, uint64_t max, uint64_t *out, struct sk_err *err)
{
	yajl_val v = field(obj, key);
	if (!v)
		return sk_error(err, 0, "%s: %s: missing", STATE_FILE, key);
	if (!YAJL_IS_INTEGER(v) || v->u.number.i < 0 || (uint64_t)v->u.number.i > max)
		return sk_error(err, 0, "%s: %s: must be an integer in [0, %" PRIu64 "]", STATE_FILE, key, max);
	*out = (uint64_t)v->u.number.i;
	return 0;
}

static int get_bool_or_true(yajl_val obj, const char *key, bool *out, struct sk_err *err)
{
	yajl_val v = field(obj, key);
	if (v && !YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
		return sk_error(err, 0, "%s: %s: must be a boolean", STATE_FILE, key);
	*out = !v || YAJL_IS_TRUE(v);
	return 0;
}

/* An object of strings, absent or null being empty. */
static int get_map(yajl_val root, const char *key, struct sk_kv **out, size_t *n_out, struct sk_err *err)
{
	yajl_val obj = field(root, key);
	if (!obj || YAJL_IS_NULL(obj))
		return 0;
	if (!YAJL_IS_OBJECT(obj))
		return sk_error(err, 0, "%s: %s: must be an object", STATE_FILE, key);
	size_t n = obj->u.object.len;
	if (n == 0)
		return 0;
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return sk_error(err, ENOMEM, "%s: %s", STATE_FILE, key);
	for (size_t i = 0; i < n; i++) {
		yajl_val v = obj->u.object.values[i];
		if (!YAJL_IS_STRING(v))
			return sk_error(err, 0, "%s: %s.%s: must be a string", STATE_FILE, key, obj->u.object.keys[i]);
		struct sk_kv *kv = &(*out)[(*n_out)++];
		kv->key = strdup(obj->u.object.keys[i]);
		kv->value = strdup(v->u.string);
		if (!kv->key || !kv->value)
			return sk_error(err, ENOMEM, "%s: %s", STATE_FILE, key);
	}
	return 0;
}

static int parse_state(yajl_val root, struct sk_state *st, struct sk_err *err)
{
	if (!YAJL_IS_OBJECT(root))
		return sk_error(err, 0, "%s: not a JSON object", STATE_FILE);
	uint64_t pid, owner;
	if (get_str(root, "id", true, &st->id, err) < 0 ||
	    get_uint(root, "pid", INT32_MAX, &pid, err) < 0 ||
	    get_uint(root, "startTime", INT64_MAX, &st->start_time, err) < 0 ||
	    get_str(root, "bundle", true, &st->bundle, err) < 0 ||
	    get_str(root, "rootfs", true, &st->rootfs, err) < 0 ||
	    get_str(root, "created", true, &st->created, err) < 0 ||
	    get_str(root, "cgroupPath", false, &st->cgroup_path, err) < 0 ||
	    get_str(root, "cgroupUnit", false, &st->cgroup_unit, err) < 0 ||
	    get_uint(root, "owner", UINT32_MAX, &owner, err) < 0 ||
	    (field(root, "rootfsMountId") &&
	     (get_uint(root, "rootfsMountId", INT64_MAX, &st->rootfs_mnt_id, err) < 0 ||
	      get_uint(root, "rootfsBaseMountId", INT64_MAX, &st->rootfs_base_mnt_id, err) < 0)))
		return -1;
	st->pid = (pid_t)pid;
	st->owner = (uid_t)owner;
	if (st->cgroup_unit && get_bool_or_true(root, "cgroupUnitUser", &st->cgroup_unit_user, err) < 0)
		return -1;
	if (get_bool_or_true(root, "poststartHooks", &st->poststart_hooks, err) < 0 ||
	    get_bool_or_true(root, "poststopHooks", &st->poststop_hooks, err) < 0 ||
	    get_str(root, "resctrlGroup", false, &st->resctrl_group, err) < 0 ||
	    get_str(root, "resctrlMonGroup", false, &st->resctrl_mon, err) < 0)
		return -1;

	return get_map(root, "cgroupPaths", &st->cgroup_paths, &st->n_cgroup_paths, err) < 0 ||
			       get_map(root, "annotations", &st->annotations, &st->n_annotations, err) < 0
		       ? -1
		       : 0;
}

/* yajl_tree builds and frees nested values recursively, so a deep enough
 * state.json would overflow the stack; ours nests 2 levels. */
#define STATE_MAX_DEPTH 16

/* Whether the JSON text nests deeper than STATE_MAX_DEPTH.  Brackets in
 * strings do not count; on text that is not JSON the count may be off only
 * past the first error, where yajl stops too. */
static bool too_deep(const char *s, size_t len)
{
	size_t depth = 0;
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > STATE_MAX_DEPTH)
				return true;
		} else if ((c == ']' || c == '}') && depth) {
			depth--;
		}
	}
	return false;
}

/* text: NUL-terminated at len (yajl_tree_parse reads up to the NUL). */
static int parse_text(const char *text, size_t len, struct sk_state *out, struct sk_err *err)
{
	memset(out, 0, sizeof(*out));
	/* yajl_tree_parse would stop at an inner NUL and take the prefix. */
	if (memchr(text, '\0', len))
		return sk_error(err, 0, "%s: holds a NUL byte", STATE_FILE);
	if (too_deep(text, len))
		return sk_error(err, 0, "%s: nested deeper than %d levels", STATE_FILE, STATE_MAX_DEPTH);
	char ebuf[256];
	yajl_val root = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	if (!root) {
		/* yajl's message spans lines; keep the first. */
		ebuf[strcspn(ebuf, "\n")] = '\0';
		return sk_error(err, 0, "%s: %s", STATE_FILE, ebuf);
	}
	int rc = parse_state(root, out, err);
	yajl_tree_free(root);
	if (rc < 0)
		sk_state_free(out);
	return rc;
}

int sk_state_parse(const char *buf, size_t len, struct sk_state *out, struct sk_err *err)
{
	memset(out, 0, sizeof(*out));
	if (len > STATE_MAX_BYTES)
		return sk_error(err, 0, "%s: too large (limit %u bytes)", STATE_FILE, STATE_MAX_BYTES);
	char *text = malloc(len + 1);
	if (!text)
		return sk_error(err, ENOMEM, "%s", STATE_FILE);
	memcpy(text, buf, len);
	text[len] = '\0';
	int rc = parse_text(text, len, out, err);
	free(text);
	return rc;
}

int sk_state_read(int dir_fd, struct sk_state *out, struct sk_err *err)
{
	memset(out, 0, sizeof(*out));
	char *buf;
	size_t len;
	if (sk_read_file_at(dir_fd, STATE_FILE, NULL, STATE_MAX_BYTES, &buf, &len, err) < 0)
		return -1;
	/* The reader's buffer is NUL-terminated already: no copy. */
	int rc = parse_text(buf, len, out, err);
	free(buf);
	return rc;
}

/* An optional string map: left out when empty, as readers expect. */
static void put_kv_map(struct sk_json *j, const char *name, const struct sk_kv *kv, size_t n)
{
	if (!n)
		return;
	sk_json_str(j, name);
	sk_json_map_open(j);
	for (size_t i = 0; i < n; i++)
		sk_json_kstr(j, kv[i].key, kv[i].value);
	sk_json_map_close(j);
}

int sk_state_write(int dir_fd, const struct sk_state *st, struct sk_err *err)
{
	struct sk_json j;
	if (sk_json_init(&j, NULL, err) < 0)
		return -1;
	sk_json_map_open(&j);
	sk_json_kstr(&j, "id", st->id);
	sk_json_kint(&j, "pid", st->pid);
	sk_json_kuint(&j, "startTime", st->start_time);
	sk_json_kstr(&j, "bundle", st->bundle);
	sk_json_kstr(&j, "rootfs", st->rootfs);
	sk_json_kstr(&j, "created", st->created);
	if (st->cgroup_path)
		sk_json_kstr(&j, "cgroupPath", st->cgroup_path);
	put_kv_map(&j, "cgroupPaths", st->cgroup_paths, st->n_cgroup_paths);
	if (st->cgroup_unit) {
		sk_json_kstr(&j, "cgroupUnit", st->cgroup_unit);
		sk_json_kbool(&j, "cgroupUnitUser", st->cgroup_unit_user);
	}
	sk_json_kuint(&j, "owner", st->owner);
	if (st->rootfs_mnt_id) {
		sk_json_kuint(&j, "rootfsMountId", st->rootfs_mnt_id);
		sk_json_kuint(&j, "rootfsBaseMountId", st->rootfs_base_mnt_id);
	}
	sk_json_kbool(&j, "poststartHooks", st->poststart_hooks);
	sk_json_kbool(&j, "poststopHooks", st->poststop_hooks);
	if (st->resctrl_group)
		sk_json_kstr(&j, "resctrlGroup", st->resctrl_group);
	if (st->resctrl_mon)
		sk_json_kstr(&j, "resctrlMonGroup", st->resctrl_mon);
	put_kv_map(&j, "annotations", st->annotations, st->n_annotations);
	sk_json_map_close(&j);
	const char *buf;
	size_t len;
	int rc = sk_json_buf(&j, &buf, &len, err);
	if (rc == 0)
		rc = sk_write_file_atomic_at(dir_fd, STATE_FILE, buf, len, 0600, err);
	sk_json_free(&j);
	if (rc < 0)
		return sk_error_wrap(err, "write state of \"%s\"", st->id);
	return 0;
}

int sk_state_remove(int root_fd, const char *id, struct sk_err *err)
{
	if (sk_state_validate_id(id, err) < 0)
		return -1;
	int fd = openat(root_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return sk_error(err, 0, "container \"%s\" does not exist", id);
		return sk_error(err, errno, "open state directory of \"%s\"", id);
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return sk_error(err, e, "read state directory of \"%s\"", id);
	}
	int rc = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT) {
			rc = sk_error(err, errno, "remove %s/%s", id, de->d_name);
			break;
		}
		errno = 0;
	}
	if (rc == 0 && errno != 0)
		rc = sk_error(err, errno, "read state directory of \"%s\"", id);
	closedir(d);
	if (rc == 0 && unlinkat(root_fd, id, AT_REMOVEDIR) < 0)
		rc = sk_error(err, errno, "remove state directory of \"%s\"", id);
	return rc;
}

enum sk_status sk_state_status(int dir_fd, const struct sk_state *st)
{
	if (st->pid <= 0)
		return SK_STATUS_STOPPED;
	uint64_t start;
	struct sk_err ignored;
	/* An unreadable /proc entry is treated as gone: the status must be
	 * given, and a process we cannot see is not one we can manage. */
	if (sk_proc_start_time(st->pid, &start, &ignored) < 0 || start != st->start_time)
		return SK_STATUS_STOPPED;
	/* Frozen first, as runc: a paused container that was never started
	 * is paused, and start must refuse it. */
	if (st->cgroup_path && sk_cgroup_is_frozen(st->cgroup_path, st->cgroup_paths, st->n_cgroup_paths))
		return SK_STATUS_PAUSED;
	if (faccessat(dir_fd, "exec.fifo", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return SK_STATUS_CREATED;
	return SK_STATUS_RUNNING;
}

enum sk_status sk_state_status_unlocked(int dir_fd, const struct sk_state *st)
{
	enum sk_status s = sk_state_status(dir_fd, st);
	return s == SK_STATUS_STOPPED && st->pid <= 0 && sk_state_busy(dir_fd) ? SK_STATUS_CREATING : s;
}

const char *sk_status_name(enum sk_status s)
{
	switch (s) {
	case SK_STATUS_CREATING: return "creating";
	case SK_STATUS_CREATED: return "created";
	case SK_STATUS_RUNNING: return "running";
	case SK_STATUS_PAUSED: return "paused";
	case SK_STATUS_STOPPED: return "stopped";
	case SK_STATUS_UNKNOWN: return "unknown";
	}
	return "unknown";
}

void sk_state_gen_oci(struct sk_json *j, const struct sk_state *st, enum sk_status status, const char *owner)
{
	sk_json_map_open(j);
	sk_json_kstr(j, "ociVersion", SK_OCI_VERSION);
	sk_json_kstr(j, "id", st->id);
	sk_json_kint(j, "pid", status == SK_STATUS_STOPPED ? 0 : st->pid);
	sk_json_kstr(j, "status", sk_status_name(status));
	sk_json_kstr(j, "bundle", st->bundle ? st->bundle : "");
	sk_json_kstr(j, "rootfs", st->rootfs ? st->rootfs : "");
	sk_json_kstr(j, "created", st->created ? st->created : "");
	sk_json_kstr(j, "owner", owner);
	if (st->n_annotations) {
		sk_json_str(j, "annotations");
		sk_json_map_open(j);
		for (size_t i = 0; i < st->n_annotations; i++)
			sk_json_kstr(j, st->annotations[i].key, st->annotations[i].value);
		sk_json_map_close(j);
	}
	sk_json_map_close(j);
}

char *sk_state_oci_json(const struct sk_state *st, enum sk_status status, struct sk_err *err)
{
	struct sk_json j;
	if (sk_json_init(&j, "  ", err) < 0)
		return NULL;
	sk_state_gen_oci(&j, st, status, "");
	char *out;
	if (sk_json_take(&j, &out, err) < 0)
		return NULL;
	return out;
}

/* RFC 3339 in UTC with nanoseconds.  The civil date is computed here:
 * gmtime_r() would load /etc/localtime on its first call. */
void sk_now_rfc3339(char *buf, size_t cap)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	long long secs = ts.tv_sec, days = secs / 86400, sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	/* Days since 1970-01-01 to year/month/day, with years starting on
	 * March 1st so that the leap day is the last one of a year. */
	long long z = days + 719468;                          /* days since 0000-03-01 */
	long long era = (z >= 0 ? z : z - 146096) / 146097;   /* 400-year cycles */
	long long doe = z - era * 146097;                     /* day of the cycle */
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;                   /* month, March = 0 */
	long long day = doy - (153 * mp + 2) / 5 + 1;
	long long month = mp < 10 ? mp + 3 : mp - 9;
	long long year = yoe + era * 400 + (month <= 2);
	/* Narrow types tell the compiler the width of each field. */
	snprintf(buf, cap, "%04d-%02hhu-%02hhuT%02hhu:%02hhu:%02hhu.%09uZ", (int)year, (unsigned char)month,
		 (unsigned char)day, (unsigned char)(sod / 3600), (unsigned char)(sod / 60 % 60),
		 (unsigned char)(sod % 60), (unsigned)ts.tv_nsec);
}
