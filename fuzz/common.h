/* Shared by the fuzz harnesses (see README.md in this folder).
 *
 * The readers take a path, so each input is written to a file in a private folder
 * (under $AAREN_FUZZ_TMP, else /dev/shm when it exists, else /tmp) made on the first
 * call and removed when the process exits. */
#ifndef AAREN_FUZZ_COMMON_H
#define AAREN_FUZZ_COMMON_H
#include <stddef.h>
#include <stdint.h>

/* Writes the input to a file called name inside the private folder and returns its path
 * (valid until the next call with the same name). Aborts when the file cannot be written:
 * a harness that cannot present its input has nothing to test. */
const char *fuzz_put(const char *name, const uint8_t *data, size_t size);

/* A reader that failed must leave a one-line message naming the file: aborts (a finding)
 * when err is empty, holds a newline, or does not mention the file's base name. */
void fuzz_check_message(const char *what, const char *path, const char *err);

/* With AAREN_FUZZ_VERBOSE set, the harnesses print each reader's outcome to stderr (to see
 * which seeds load and why others fail). */
void fuzz_note_loaded(const char *what, const char *path);

/* Aborts with a message when cond is false: an invariant of a successful read is broken. */
#define FUZZ_ASSERT(cond) ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))
void fuzz_fail(const char *file, int line, const char *what);

/* Sum of n floats, read one by one, so the sanitizers check that every element the reader
 * claims to have produced lies inside its allocation. */
double fuzz_touch(const float *v, size_t n);
#endif
