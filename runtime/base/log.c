/* log: warnings and debug lines to --log (text or runc's JSON) or stderr
 * (log.h). */
#include "skiff/base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1;
static int log_json;
static int log_debug;

int sk_log_init(const char *path, int json, int debug, struct sk_err *err)
{
	log_json = json;
	log_debug = debug;
	if (path && *path) {
		int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return sk_error(err, errno, "open log file \"%s\"", path);
		log_fd = fd;
	}
	return 0;
}

int sk_log_fd(void) { return log_fd; }
int sk_log_debug_enabled(void) { return log_debug; }
int sk_log_to_file(void) { return log_fd >= 0; }

static const char *level_name(enum sk_log_level l)
{
	switch (l) {
	case SK_LOG_ERROR: return "error";
	case SK_LOG_WARN: return "warning";
	case SK_LOG_INFO: return "info";
	default: return "debug";
	}
}

/* JSON string escaping of a message into buf; truncates safely. */
static void json_escape(char *out, size_t cap, const char *in)
{
	size_t o = 0;
	for (; *in && o + 7 < cap; in++) {
		unsigned char c = (unsigned char)*in;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

void sk_log(enum sk_log_level level, const char *fmt, ...)
{
	int saved = errno;
	char msg[1024], line[2304], ts[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%09ldZ", now.tv_nsec);

	int len;
	/* Both formats quote msg the same way (logrus' text format too). */
	char esc[2048];
	json_escape(esc, sizeof(esc), msg);
	if (log_json)
		len = snprintf(line, sizeof(line), "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n",
			       level_name(level), esc, ts);
	else
		len = snprintf(line, sizeof(line), "time=\"%s\" level=%s msg=\"%s\"\n", ts, level_name(level), esc);
	if (len > (int)sizeof(line) - 1)
		len = (int)sizeof(line) - 1;
	/* One write() per line keeps lines whole when several processes share the file. */
	if (write(log_fd >= 0 ? log_fd : STDERR_FILENO, line, (size_t)len) < 0) {
		/* nowhere left to report it */
	}
	errno = saved;
}
