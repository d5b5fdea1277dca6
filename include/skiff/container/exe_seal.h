/* exe_seal: never let a container see skiff's own binary file.
 *
 * Until their execve, the init of create/run and the process of exec run
 * skiff's code inside the container, and a process there can open their
 * /proc/PID/exe; a binary opened that way could be rewritten once skiff
 * has exited (CVE-2019-5736).  So the commands that clone into a container
 * first re-execute skiff from a file nothing can write: the same inode
 * through a detached, read-only bind mount of it (no copy; the mount is
 * attached nowhere, so no one can remount it writable), or, where that
 * cannot be made (no mount privilege, kernel before 5.12), a sealed memfd
 * copy.  A binary that already is a write-sealed memfd is left alone.
 * The process is also made non-dumpable, which its clones inherit until
 * their execve: no process of the container may ptrace them or open their
 * /proc files while they run skiff's code.
 * docs/security.md has the reasoning and the measured cost. */
#ifndef SKIFF_EXE_SEAL_H
#define SKIFF_EXE_SEAL_H

#include "skiff/base/error.h"

/* Returns 0 when this process runs from a sealed binary (after the re-exec,
 * or a sealed memfd), now non-dumpable; otherwise re-executes argv from a
 * sealed one and does not return, or returns -1 with err filled. */
int sk_exe_seal(char **argv, struct sk_err *err);

#endif
