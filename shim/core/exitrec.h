/* exitrec: skiff's exit.json for a process (skiff/container/exitrec.h), in
 * the directory the face chose: "running" once the pid is known, and the
 * final record, durably, the moment the process is reaped.  skiff's
 * commands flock the container's directory; with rec_lock the shim does
 * too, so a delete under way finishes first. */
#ifndef SHIM_CORE_EXITREC_H
#define SHIM_CORE_EXITREC_H

struct shim_proc;

void shim_record_running(struct shim_proc *p);
/* The final record: the status, the OOM kill (the container's first
 * process only), the timeout. */
void shim_record_exit(struct shim_proc *p);
/* The status as conmon and containerd report it: the code, 128+signal,
 * -1 when timed out or unknown. */
int shim_exit_code(const struct shim_proc *p);

#endif
