/* sdnotify: send one sd_notify datagram, built static for a container.
 *   sdnotify SOCKET MESSAGE */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: sdnotify SOCKET MESSAGE\n");
		return 2;
	}
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	if (fd < 0 || sendto(fd, argv[2], strlen(argv[2]), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "sdnotify: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	return 0;
}
