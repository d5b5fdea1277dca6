/* journal_sink: a stand-in for journald's native socket, for the shim's
 * journald test.
 *   journal_sink SOCKET OUTPUT
 * Binds the datagram socket SOCKET and appends to OUTPUT one line per
 * datagram received: its fields as KEY=VALUE separated by '|', in the
 * order sent, with binary-form values (KEY\n, 64-bit little-endian length,
 * bytes, \n) decoded.  Also serves as an sd_notify socket.  Runs until
 * killed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: journal_sink SOCKET OUTPUT\n");
		return 2;
	}
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "journal_sink: bind %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	static char buf[1 << 17];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			continue;
		FILE *out = fopen(argv[2], "a");
		if (!out)
			return 1;
		size_t i = 0, len = (size_t)n;
		while (i < len) {
			char *nl = memchr(buf + i, '\n', len - i);
			if (!nl) {
				/* sd_notify's last (or only) field has no newline. */
				fprintf(out, "%.*s|", (int)(len - i), buf + i);
				break;
			}
			char *eq = memchr(buf + i, '=', (size_t)(nl - (buf + i)));
			if (eq) {
				fprintf(out, "%.*s|", (int)(nl - (buf + i)), buf + i);
				i = (size_t)(nl - buf) + 1;
				continue;
			}
			/* Binary form. */
			size_t klen = (size_t)(nl - (buf + i));
			uint64_t vlen = 0;
			if ((size_t)(nl - buf) + 9 > len)
				break;
			for (int b = 7; b >= 0; b--)
				vlen = (vlen << 8) | (unsigned char)nl[1 + b];
			fprintf(out, "%.*s=%.*s|", (int)klen, buf + i, (int)vlen, nl + 9);
			i = (size_t)(nl - buf) + 9 + vlen + 1;
		}
		fprintf(out, "\n");
		fclose(out);
	}
}
