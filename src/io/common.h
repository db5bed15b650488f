/* Helpers shared across the library: error messages, shapes, opening and sizing files, and a clock. */
#ifndef AAREN_IO_COMMON_H
#define AAREN_IO_COMMON_H
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

/* Seconds on the monotonic clock (for timings and progress lines). */
double aaren_now_s(void);
#endif
