/* Minimal test harness: CHECK records a failure and continues; check_done() prints one
 * verdict line and returns the process exit code (0 pass, 1 fail, 77 skipped). */
#ifndef AAREN_CHECK_H
#define AAREN_CHECK_H
#include <stddef.h>
#include <stdio.h>

extern int check_failures, check_count;
void check_fail(const char *file, int line, const char *fmt, ...);
#define CHECK(cond, ...) do { check_count++; if (!(cond)) check_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
int check_done(const char *name);
int check_skip(const char *name, const char *why);

/* Temporary files of a test: check_tmp_dir() makes a fresh directory under /tmp on first use
 * (NULL when it cannot); files are written there by name (a failed write is a failed check)
 * and must be removed by the test; check_tmp_cleanup() removes the directory, checking that
 * it is empty. check_tmp_path returns a static buffer. */
const char *check_tmp_dir(void);
const char *check_tmp_path(const char *name);
const char *check_write_bytes(const char *name, const void *bytes, size_t n);
const char *check_write_text(const char *name, const char *s);
void check_tmp_cleanup(void);

#endif
