/* Starting a program without a shell: an argument vector, never a command string. */
#ifndef AAREN_BASE_PROCESS_H
#define AAREN_BASE_PROCESS_H
#include <sys/types.h>

/* Starts argv[0] (a path) with argv and the current environment; with out_fd, the child's
 * stdout and stderr come back on *out_fd (a pipe to read and close). Our stdout and stderr
 * are flushed first. The pid, or -1. */
pid_t aaren_spawn(char *const argv[], int *out_fd);
/* Waits for pid: its exit code; -1 when it did not exit normally. */
int aaren_wait(pid_t pid);
#endif
