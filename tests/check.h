/* Minimal test harness: CHECK records a failure and continues; check_done() prints one
 * verdict line and returns the process exit code (0 pass, 1 fail, 77 skipped). */
#ifndef AAREN_CHECK_H
#define AAREN_CHECK_H
#include <stdio.h>

extern int check_failures, check_count;
void check_fail(const char *file, int line, const char *fmt, ...);
#define CHECK(cond, ...) do { check_count++; if (!(cond)) check_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
int check_done(const char *name);
int check_skip(const char *name, const char *why);

#endif
