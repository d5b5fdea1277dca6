/* fault: SKIFF_TEST_KILL_AT kill points (fault.h). */
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/base/fault.h"

void sk_fault_point(const char *name)
{
	static const char *at;
	static bool read;
	if (!read) {
		at = getenv("SKIFF_TEST_KILL_AT");
		read = true;
	}
	if (at && strcmp(at, name) == 0)
		raise(SIGKILL);
}
