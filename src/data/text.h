/* Small text helpers shared by the data loaders (CSV time series, UEA .ts, event CSV), and
 * the line reader of the loaders that read a file line by line. */
#ifndef AAREN_DATA_TEXT_H
#define AAREN_DATA_TEXT_H
#include <stddef.h>
#include <stdio.h>
#include "base/common.h"

#define AAREN_TEXT_SHOW 32   /* bytes of an offending value shown in a message */

static inline int aaren_text_space(int c) { return c == ' ' || c == '\t'; }
static inline int aaren_text_lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* s[0..n) equals the lower-case word w, ignoring case. */
static inline int aaren_text_word_is(const char *s, size_t n, const char *w) {
    size_t i = 0;
    for (; i < n && w[i]; i++)
        if (aaren_text_lower((unsigned char)s[i]) != w[i]) return 0;
    return i == n && !w[i];
}

/* Trims spaces and tabs around s[*a..*b). */
static inline void aaren_text_trim(const char *s, size_t *a, size_t *b) {
    while (*a < *b && aaren_text_space((unsigned char)s[*a])) (*a)++;
    while (*b > *a && aaren_text_space((unsigned char)s[*b - 1])) (*b)--;
}

/* For "%.*s%s" in messages: how many bytes of an n-byte value to show, and "..." when cut. */
static inline int aaren_text_shown(size_t n) { return n > AAREN_TEXT_SHOW ? AAREN_TEXT_SHOW : (int)n; }
static inline const char *aaren_text_dots(size_t n) { return n > AAREN_TEXT_SHOW ? "..." : ""; }

/* A decimal number in s[a..b) (no surrounding spaces; s[b] must be writable: it is set to
 * NUL for strtod and put back): [+-] digits [. digits] [e|E [+-] digits], with at least one
 * digit before the exponent. Hex, nan and inf spellings never reach strtod, so the C library's
 * extensions are not accepted. AAREN_NUM_HUGE: a valid spelling beyond the range of double. */
typedef enum { AAREN_NUM_OK, AAREN_NUM_EMPTY, AAREN_NUM_BAD, AAREN_NUM_NANINF, AAREN_NUM_HUGE } aaren_num;
aaren_num aaren_text_number(char *s, size_t a, size_t b, double *out);

/* A text file read line by line (getline: lines of any length), and where the reader is for
 * messages. */
typedef struct {
    const char *path;
    char *err;
    size_t errlen;
    long line;      /* current physical line, 1-based; 0 before the first (messages then name none) */
    FILE *f;
    char *buf;      /* [cap] the current physical line as read */
    size_t cap;
    size_t next, end;   /* buf[next..end) not yet returned (lines after a lone CR) */
} aaren_lines;

/* Opens path for reading; -1 with "path: cannot open: ..." in err. */
int aaren_lines_open(aaren_lines *r, const char *path, char *err, size_t errlen);
/* The next line that is not blank (spaces and tabs only): *s its bytes without the line end,
 * terminated, *n their count. Lines end in LF, CRLF or a lone CR (classic Mac files); a UTF-8
 * byte-order mark at the start of the file is skipped. Returns 1 with a line, 0 at the end of the file, -1 with the
 * message on a NUL byte in the line or a read error. */
int aaren_lines_next(aaren_lines *r, char **s, size_t *n);
void aaren_lines_close(aaren_lines *r);
/* "<path>: line N: <message>" into the reader's err (line 0: no line prefix). Returns -1. */
int aaren_lines_fail(aaren_lines *r, const char *fmt, ...) AAREN_PRINTF(2, 3);
#endif
