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

/* Never crash on a malformed file. load(path) loads one file and returns 1 for a consistent
 * object, 0 for a refusal with a message, -1 for anything else (an inconsistent object, or a
 * refusal without a message). check_fuzz_file writes every prefix of text[0..n) and, at every
 * offset, each of the n_odd odd bytes, as the temporary file `name`, and checks: no load
 * returns -1, some prefixes load and some are refused, and some mutated files load. */
typedef int (*check_loader)(const char *path);
void check_fuzz_file(const char *name, const char *text, size_t n, const char *odd, size_t n_odd, check_loader load);

#endif
