/* Starting a program without a shell (process.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "base/process.h"

extern char **environ;

pid_t aaren_spawn(char *const argv[], int *out_fd) {
    int p[2] = {-1, -1};
    pid_t pid;
    posix_spawn_file_actions_t fa;
    if (out_fd && pipe(p) != 0) return -1;
    posix_spawn_file_actions_init(&fa);
    if (out_fd) {   /* the child's stdout and stderr into the pipe */
        posix_spawn_file_actions_adddup2(&fa, p[1], 1);
        posix_spawn_file_actions_adddup2(&fa, p[1], 2);
        posix_spawn_file_actions_addclose(&fa, p[0]);
        posix_spawn_file_actions_addclose(&fa, p[1]);
    }
    fflush(stdout);
    fflush(stderr);
    const int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (out_fd) {
        close(p[1]);
        if (e) close(p[0]);
        else *out_fd = p[0];
    }
    return e ? -1 : pid;
}

int aaren_wait(pid_t pid) {
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
