/* fault: named points at which the tests have skiff killed, to prove that
 * a runtime killed there leaves nothing that `delete --force` cannot
 * remove.  SKIFF_TEST_KILL_AT=NAME makes sk_fault_point(NAME) raise
 * SIGKILL; without it, a point costs one string compare.  The caller of
 * skiff could kill it anyway: the variable grants nothing. */
#ifndef SKIFF_FAULT_H
#define SKIFF_FAULT_H

void sk_fault_point(const char *name);

#endif
