/* Helpers shared across the library: error messages, shapes, opening and sizing files, strict
 * numbers, and a clock. */
#ifndef AAREN_BASE_COMMON_H
#define AAREN_BASE_COMMON_H
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>

#if defined(__GNUC__)
#define AAREN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define AAREN_PRINTF(a, b)
#endif

/* Writes the formatted message into err (errlen bytes, always terminated) as one line:
 * control characters (e.g. from decoded file contents) become '?'. Returns -1. */
int aaren_errf(char *err, size_t errlen, const char *fmt, ...) AAREN_PRINTF(3, 4);
/* The same, prefixed by "<path>: ". */
int aaren_file_err(char *err, size_t errlen, const char *path, const char *fmt, ...) AAREN_PRINTF(4, 5);

/* The same with "line N: " after the path when line > 0 (for readers of text files). */
int aaren_file_line_verr(char *err, size_t errlen, const char *path, long line, const char *fmt, va_list ap);

/* Element count of a shape; -1 when a dimension is negative or the byte size (4 bytes per
 * element) would not fit both int64_t and size_t. */
int64_t aaren_shape_numel(int ndim, const int64_t *shape);

/* Size of an open file (and rewinds it); -1 on failure. */
int aaren_file_size(FILE *f, uint64_t *size);

/* Opens path for binary reading, sizes it (*size) and reads its first n bytes into head.
 * NULL with "<path>: ..." in err when it cannot be opened, sized or read, or when it is
 * shorter than n bytes ("file is too short (S bytes) for <what>"). */
FILE *aaren_file_open_head(const char *path, void *head, size_t n, const char *what, uint64_t *size,
                           char *err, size_t errlen);

/* Strict numbers for values read from files (checkpoint metadata, input lines): s must be
 * the number and nothing else, no spaces around it. Integers: [+-] decimal digits. Numbers:
 * [+-] digits [. digits] [e|E [+-] digits], digits on at least one side of the point ("5.",
 * ".5"); no hex, inf or nan. 0 with *out set when s is such a number, finite (no overflow)
 * and within [lo, hi]; otherwise -1 with *out untouched. */
int aaren_parse_long(const char *s, long lo, long hi, long *out);
int aaren_parse_double(const char *s, double lo, double hi, double *out);

/* Checkpoint metadata: val is the value of key in the checkpoint at path (NULL when absent),
 * read as above. -1 with "<path>: metadata 'KEY' is missing" or "<path>: metadata 'KEY' is
 * 'VAL'; expected an integer from LO to HI" (a number from LO to HI) in err. */
int aaren_meta_long(const char *path, const char *key, const char *val, long lo, long hi, long *out,
                    char *err, size_t errlen);
int aaren_meta_double(const char *path, const char *key, const char *val, double lo, double hi, double *out,
                      char *err, size_t errlen);

/* n numbers as one metadata value: comma-separated, each with 17 significant digits (exact
 * for doubles). malloc'd; NULL when out of memory. */
char *aaren_join_doubles(const double *v, int n);
/* Reads such a value (val of key in the checkpoint at path) into v[0..n): exactly n strict
 * numbers, or -1 with a message naming the file, the key and the bad value. */
int aaren_meta_doubles(const char *path, const char *key, const char *val, double *v, int n, char *err, size_t errlen);

/* Seconds on the monotonic clock (for timings and progress lines). */
double aaren_now_s(void);
#endif
