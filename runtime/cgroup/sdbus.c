/* sdbus: the systemd manager calls of the systemd cgroup driver
 * (include/skiff/cgroup/systemd.h), through sd-bus from libsystemd.so.0,
 * opened with dlopen() on first use: the cgroupfs path never loads it.
 * One connection per call sequence, closed at the end: a command makes at
 * most a few calls. */
#include "skiff/cgroup/systemd.h"
#include "skiff/base/log.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#define LIBSYSTEMD_SONAME "libsystemd.so.0"
#define CALL_TIMEOUT_US (30ULL * 1000000)
#define JOB_WAIT_MS 30000
#define SYSTEM_BUS "unix:path=/run/dbus/system_bus_socket"
#define PRIVATE_BUS "unix:path=/run/systemd/private"
#define DEST "org.freedesktop.systemd1"
#define OBJ "/org/freedesktop/systemd1"
#define MANAGER "org.freedesktop.systemd1.Manager"

/* The sd-bus functions used, resolved once. */
static struct {
	bool loaded;
	typeof(sd_bus_new) *new_;
	typeof(sd_bus_set_address) *set_address;
	typeof(sd_bus_set_bus_client) *set_bus_client;
	typeof(sd_bus_start) *start;
	typeof(sd_bus_flush_close_unref) *close_unref;
	typeof(sd_bus_message_new_method_call) *new_call;
	typeof(sd_bus_message_append) *append;
	typeof(sd_bus_message_append_basic) *append_basic;
	typeof(sd_bus_message_append_array) *append_array;
	typeof(sd_bus_message_open_container) *open;
	typeof(sd_bus_message_close_container) *close;
	typeof(sd_bus_message_unref) *msg_unref;
	typeof(sd_bus_message_read) *read;
	typeof(sd_bus_call) *call;
	typeof(sd_bus_match_signal) *match_signal;
	typeof(sd_bus_process) *process;
	typeof(sd_bus_wait) *wait;
	typeof(sd_bus_error_free) *error_free;
	typeof(sd_bus_error_has_name) *error_has_name;
	typeof(sd_bus_get_property_string) *get_string;
} sd;

static int load(struct sk_err *err)
{
	if (sd.loaded)
		return 0;
	void *lib = dlopen(LIBSYSTEMD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return sk_error(err, 0, "systemd cgroup driver: cannot load %s: %s", LIBSYSTEMD_SONAME, dlerror());
	struct { void **fn; const char *name; } syms[] = {
#define SYM(f, n) { (void **)&sd.f, n }
		SYM(new_, "sd_bus_new"), SYM(set_address, "sd_bus_set_address"),
		SYM(set_bus_client, "sd_bus_set_bus_client"), SYM(start, "sd_bus_start"),
		SYM(close_unref, "sd_bus_flush_close_unref"), SYM(new_call, "sd_bus_message_new_method_call"),
		SYM(append, "sd_bus_message_append"), SYM(append_basic, "sd_bus_message_append_basic"),
		SYM(append_array, "sd_bus_message_append_array"), SYM(open, "sd_bus_message_open_container"),
		SYM(close, "sd_bus_message_close_container"), SYM(msg_unref, "sd_bus_message_unref"),
		SYM(read, "sd_bus_message_read"), SYM(call, "sd_bus_call"), SYM(match_signal, "sd_bus_match_signal"),
		SYM(process, "sd_bus_process"), SYM(wait, "sd_bus_wait"), SYM(error_free, "sd_bus_error_free"),
		SYM(error_has_name, "sd_bus_error_has_name"), SYM(get_string, "sd_bus_get_property_string"),
#undef SYM
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
		if (!(*syms[i].fn = dlsym(lib, syms[i].name))) {
			dlclose(lib);
			return sk_error(err, 0, "systemd cgroup driver: %s has no %s", LIBSYSTEMD_SONAME, syms[i].name);
		}
	sd.loaded = true;
	return 0;
}

/* ---- connecting ------------------------------------------------------------ */

/* An address from the environment: printable, bounded, and every one of
 * its ';'-separated alternatives "unix:" (a tcp: one would take the calls
 * off the machine). */
static bool address_ok(const char *a)
{
	if (strlen(a) > 1024)
		return false;
	for (const char *s = a; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return false;
	for (const char *s = a;; s++) {
		if (strncmp(s, "unix:", 5))
			return false;
		if (!(s = strchr(s, ';')))
			return true;
	}
}

/* The user manager's bus: $DBUS_SESSION_BUS_ADDRESS, else
 * $XDG_RUNTIME_DIR/bus when that is an absolute directory of ours, not a
 * symlink (as for the state root), escaped as a D-Bus address value. */
static int user_address(char *buf, size_t size, struct sk_err *err)
{
	const char *a = getenv("DBUS_SESSION_BUS_ADDRESS");
	if (a && *a) {
		if (!address_ok(a))
			return sk_error(err, 0, "systemd cgroup driver: DBUS_SESSION_BUS_ADDRESS \"%.64s%s\": not a unix: "
					"address", a, strlen(a) > 64 ? "..." : "");
		snprintf(buf, size, "%s", a);
		return 0;
	}
	const char *x = getenv("XDG_RUNTIME_DIR");
	struct stat sb;
	if (!x || x[0] != '/' || strlen(x) > 1000 || lstat(x, &sb) < 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid())
		return sk_error(err, 0, "systemd cgroup driver: no user bus (DBUS_SESSION_BUS_ADDRESS is unset and "
				"XDG_RUNTIME_DIR is not a directory of this user)");
	size_t n = (size_t)snprintf(buf, size, "unix:path=");
	for (const char *s = x; *s && n + 4 < size; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr("-_/.", ch))
			buf[n++] = (char)ch;
		else
			n += (size_t)snprintf(buf + n, size - n, "%%%02x", ch);
	}
	snprintf(buf + n, size - n, "/bus");
	return 0;
}

static sd_bus *connect_to(const char *address, bool client, int *e)
{
	sd_bus *bus = NULL;
	*e = sd.new_(&bus);
	if (*e >= 0)
		*e = sd.set_address(bus, address);
	if (*e >= 0 && client)
		*e = sd.set_bus_client(bus, 1);
	if (*e >= 0)
		*e = sd.start(bus);
	if (*e < 0 && bus) {
		sd.close_unref(bus);
		bus = NULL;
	}
	return bus;
}

/* The system bus, or as root systemd's private socket when no bus daemon
 * runs (runc's fallback); the user bus for the user manager. */
static sd_bus *bus_open(bool user, struct sk_err *err)
{
	if (load(err) < 0)
		return NULL;
	int e;
	sd_bus *bus;
	if (user) {
		char addr[4096];
		if (user_address(addr, sizeof(addr), err) < 0)
			return NULL;
		if (!(bus = connect_to(addr, true, &e)))
			sk_error(err, -e, "systemd cgroup driver: connect to the user bus %s (is the user's systemd, "
				 "user@UID.service, running?)", addr);
		return bus;
	}
	if ((bus = connect_to(SYSTEM_BUS, true, &e)))
		return bus;
	if (geteuid() == 0 && (bus = connect_to(PRIVATE_BUS, false, &e)))
		return bus;
	sk_error(err, -e, "systemd cgroup driver: connect to the system bus and to /run/systemd/private");
	return NULL;
}

int sk_sd_check(bool user, struct sk_err *err)
{
	struct stat sb;
	if (!user && (lstat("/run/systemd/system", &sb) < 0 || !S_ISDIR(sb.st_mode)))
		return sk_error(err, 0, "systemd cgroup driver: systemd is not running on this host "
				"(no /run/systemd/system): use the cgroupfs driver (no --systemd-cgroup)");
	char addr[4096];
	if (user && user_address(addr, sizeof(addr), err) < 0)
		return -1;
	return load(err);
}

/* ---- messages --------------------------------------------------------------- */

static int append_prop(sd_bus_message *m, const struct sk_sd_prop *q)
{
	static const char *const sig[] = {
		[SK_SD_BOOL] = "b", [SK_SD_STR] = "s", [SK_SD_U64] = "t", [SK_SD_U32] = "u", [SK_SD_I32] = "i",
		[SK_SD_I64] = "x", [SK_SD_STRV] = "as", [SK_SD_BYTES] = "ay", [SK_SD_DEVICES] = "a(ss)", [SK_SD_PIDS] = "au",
	};
	int r;
	if ((r = sd.open(m, 'r', "sv")) < 0 || (r = sd.append_basic(m, 's', q->name)) < 0 ||
	    (r = sd.open(m, 'v', sig[q->type])) < 0)
		return r;
	int b = (int)q->num;
	uint32_t u32 = (uint32_t)q->num;
	switch (q->type) {
	case SK_SD_BOOL: r = sd.append_basic(m, 'b', &b); break;
	case SK_SD_STR: r = sd.append_basic(m, 's', q->str); break;
	case SK_SD_U64: r = sd.append_basic(m, 't', &q->num); break;
	case SK_SD_U32: r = sd.append_basic(m, 'u', &u32); break;
	case SK_SD_I32: r = sd.append_basic(m, 'i', &u32); break;
	case SK_SD_I64: r = sd.append_basic(m, 'x', &q->num); break;
	case SK_SD_BYTES: r = sd.append_array(m, 'y', q->bytes, q->n); break;
	case SK_SD_PIDS:
		if ((r = sd.open(m, 'a', "u")) >= 0 && (r = sd.append_basic(m, 'u', &u32)) >= 0)
			r = sd.close(m);
		break;
	case SK_SD_STRV:
		if ((r = sd.open(m, 'a', "s")) < 0)
			break;
		for (size_t i = 0; i < q->n && r >= 0; i++)
			r = sd.append_basic(m, 's', q->strv[i]);
		if (r >= 0)
			r = sd.close(m);
		break;
	case SK_SD_DEVICES:
		if ((r = sd.open(m, 'a', "(ss)")) < 0)
			break;
		for (size_t i = 0; i + 1 < q->n && r >= 0; i += 2)
			r = sd.append(m, "(ss)", q->strv[i], q->strv[i + 1]);
		if (r >= 0)
			r = sd.close(m);
		break;
	}
	if (r >= 0 && (r = sd.close(m)) >= 0)
		r = sd.close(m);
	return r;
}

static int append_props(sd_bus_message *m, const struct sk_sd_props *p)
{
	int r = sd.open(m, 'a', "(sv)");
	for (size_t i = 0; p && i < p->n && r >= 0; i++)
		r = append_prop(m, &p->p[i]);
	return r < 0 ? r : sd.close(m);
}

/* Call method on the manager: args as "ss"/"sb" given by fill, then the
 * properties when props.  *reply is the answer (NULL on error: *e is
 * errno, *ename the D-Bus error name when there is one). */
struct call {
	const char *method, *unit;
	const char *mode;                 /* "ss" methods: the mode, else NULL */
	bool runtime;                     /* SetUnitProperties */
	const struct sk_sd_props *props;  /* StartTransientUnit, SetUnitProperties */
	bool aux;                         /* StartTransientUnit's empty a(sa(sv)) */
};

static sd_bus_message *call(sd_bus *bus, const struct call *c, char *ename, size_t ename_size, struct sk_err *err)
{
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	ename[0] = '\0';
	int r = sd.new_call(bus, &m, DEST, OBJ, MANAGER, c->method);
	if (r >= 0)
		r = c->mode ? sd.append(m, "ss", c->unit, c->mode) : c->props ? sd.append(m, "sb", c->unit, (int)c->runtime)
										: sd.append(m, "s", c->unit);
	if (r >= 0 && c->props)
		r = append_props(m, c->props);
	if (r >= 0 && c->aux)
		r = sd.append(m, "a(sa(sv))", 0);
	if (r < 0) {
		sd.msg_unref(m);
		sk_error(err, -r, "systemd: %s %s: build the message", c->method, c->unit);
		return NULL;
	}
	r = sd.call(bus, m, CALL_TIMEOUT_US, &e, &reply);
	sd.msg_unref(m);
	if (r < 0) {
		if (e.name)
			snprintf(ename, ename_size, "%s", e.name);
		if (e.message)
			sk_error(err, 0, "systemd: %s %s: %s", c->method, c->unit, e.message);
		else
			sk_error(err, -r, "systemd: %s %s", c->method, c->unit);
		sd.error_free(&e);
		return NULL;
	}
	return reply;
}

/* ---- jobs ------------------------------------------------------------------- */

struct job_wait { char job[256]; char result[32]; bool done; };

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret)
{
	struct job_wait *w = userdata;
	uint32_t id;
	const char *path, *unit, *result;
	if (sd.read(m, "uoss", &id, &path, &unit, &result) >= 0 && !strcmp(path, w->job)) {
		snprintf(w->result, sizeof(w->result), "%s", result);
		w->done = true;
	}
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for the JobRemoved of w->job (the match was added before the call). */
static int job_wait(sd_bus *bus, struct job_wait *w, const char *method, const char *unit, struct sk_err *err)
{
	long long deadline = now_ms() + JOB_WAIT_MS;
	while (!w->done) {
		int r = sd.process(bus, NULL);
		if (r < 0)
			return sk_error(err, -r, "systemd: %s %s: wait for the job", method, unit);
		if (r > 0)
			continue;
		long long left = deadline - now_ms();
		if (left <= 0)
			return sk_error(err, ETIMEDOUT, "systemd: %s %s: job %s did not end", method, unit, w->job);
		if ((r = sd.wait(bus, (uint64_t)left * 1000)) < 0)
			return sk_error(err, -r, "systemd: %s %s: wait for the job", method, unit);
	}
	return 0;
}

/* Call a job-returning method and wait for the job's end. */
static int job_call(sd_bus *bus, const struct call *c, char *result, size_t rsize, char *ename, size_t esize,
		    struct sk_err *err)
{
	struct job_wait w = { .done = false };
	int r = sd.match_signal(bus, NULL, NULL, OBJ, MANAGER, "JobRemoved", on_job_removed, &w);
	if (r < 0)
		return sk_error(err, -r, "systemd: %s %s: match JobRemoved", c->method, c->unit);
	sd_bus_message *reply = call(bus, c, ename, esize, err);
	if (!reply)
		return -1;
	const char *job;
	r = sd.read(reply, "o", &job);
	if (r >= 0)
		snprintf(w.job, sizeof(w.job), "%s", job);
	sd.msg_unref(reply);
	if (r < 0)
		return sk_error(err, -r, "systemd: %s %s: read the job", c->method, c->unit);
	if (job_wait(bus, &w, c->method, c->unit, err) < 0)
		return -1;
	snprintf(result, rsize, "%s", w.result);
	return 0;
}

static void reset_failed(sd_bus *bus, const char *unit)
{
	char ename[128];
	struct sk_err ignored;
	sd_bus_message *reply = call(bus, &(struct call){ .method = "ResetFailedUnit", .unit = unit }, ename,
				     sizeof(ename), &ignored);
	if (reply)
		sd.msg_unref(reply);
}

/* ---- the driver's calls ------------------------------------------------------ */

int sk_sd_start(const struct sk_sd_unit *u, const struct sk_sd_props *props, struct sk_err *err)
{
	sd_bus *bus = bus_open(u->user, err);
	if (!bus)
		return -1;
	const struct call c = { .method = "StartTransientUnit", .unit = u->name, .mode = "replace", .props = props,
				.aux = true };
	char result[32], ename[128];
	int r = job_call(bus, &c, result, sizeof(result), ename, sizeof(ename), err);
	if (r < 0 && !strcmp(ename, "org.freedesktop.systemd1.UnitExists")) {
		/* A failed unit of that name, left over: reset it, try again. */
		reset_failed(bus, u->name);
		r = job_call(bus, &c, result, sizeof(result), ename, sizeof(ename), err);
	}
	if (r == 0 && strcmp(result, "done"))
		r = sk_error(err, 0, "systemd: start %s: job ended \"%s\"", u->name, result);
	if (r < 0)
		reset_failed(bus, u->name);
	else
		sk_debug("systemd: %s started in %s", u->name, u->slice);
	sd.close_unref(bus);
	return r;
}

int sk_sd_set(const char *name, bool user, const struct sk_sd_props *props, struct sk_err *err)
{
	if (!props->n)
		return 0;
	sd_bus *bus = bus_open(user, err);
	if (!bus)
		return -1;
	char ename[128];
	sd_bus_message *reply = call(bus, &(struct call){ .method = "SetUnitProperties", .unit = name, .runtime = true,
							  .props = props },
				     ename, sizeof(ename), err);
	if (reply)
		sd.msg_unref(reply);
	sd.close_unref(bus);
	return reply ? 0 : -1;
}

int sk_sd_stop(const char *name, bool user, struct sk_err *err)
{
	sd_bus *bus = bus_open(user, err);
	if (!bus)
		return -1;
	char result[32], ename[128];
	int r = job_call(bus, &(struct call){ .method = "StopUnit", .unit = name, .mode = "replace" }, result,
			 sizeof(result), ename, sizeof(ename), err);
	if (r < 0 && !strcmp(ename, "org.freedesktop.systemd1.NoSuchUnit"))
		r = 0;   /* gone already: systemd collects an empty scope */
	else if (r == 0 && strcmp(result, "done"))
		sk_log(SK_LOG_WARN, "systemd: stop %s: job ended \"%s\"", name, result);
	reset_failed(bus, name);
	sd.close_unref(bus);
	return r;
}

int sk_sd_manager_cgroup(bool user, char **out, struct sk_err *err)
{
	*out = NULL;
	sd_bus *bus = bus_open(user, err);
	if (!bus)
		return -1;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r = sd.get_string(bus, DEST, OBJ, MANAGER, "ControlGroup", &e, out);
	if (r < 0) {
		if (e.message)
			sk_error(err, 0, "systemd cgroup driver: the %s manager's ControlGroup: %s", user ? "user" : "system",
				 e.message);
		else
			sk_error(err, -r, "systemd cgroup driver: the %s manager's ControlGroup", user ? "user" : "system");
		sd.error_free(&e);
		*out = NULL;
	}
	sd.close_unref(bus);
	return r < 0 ? -1 : 0;
}

int sk_sd_attach(const char *name, bool user, pid_t pid, struct sk_err *err)
{
	sd_bus *bus = bus_open(user, err);
	if (!bus)
		return -1;
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	uint32_t p = (uint32_t)pid;
	int r = sd.new_call(bus, &m, DEST, OBJ, MANAGER, "AttachProcessesToUnit");
	if (r >= 0)
		r = sd.append(m, "ss", name, "");
	if (r >= 0 && (r = sd.open(m, 'a', "u")) >= 0 && (r = sd.append_basic(m, 'u', &p)) >= 0)
		r = sd.close(m);
	if (r >= 0)
		r = sd.call(bus, m, CALL_TIMEOUT_US, &e, &reply);
	if (r < 0) {
		if (e.message)
			sk_error(err, 0, "systemd: AttachProcessesToUnit %s [%d]: %s", name, (int)pid, e.message);
		else
			sk_error(err, -r, "systemd: AttachProcessesToUnit %s [%d]", name, (int)pid);
	}
	sd.error_free(&e);
	sd.msg_unref(m);
	sd.msg_unref(reply);
	sd.close_unref(bus);
	return r < 0 ? -1 : 0;
}
