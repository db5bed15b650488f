/* The number parser and the line reader of the data loaders (see text.h). */
#define _POSIX_C_SOURCE 200809L
#include "data/text.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static int is_digit(char c) { return c >= '0' && c <= '9'; }

aaren_num aaren_text_number(char *s, size_t a, size_t b, double *out) {
    size_t i = a, digits = 0;
    char *end, save;
    double v;
    if (a == b) return AAREN_NUM_EMPTY;
    if (s[i] == '+' || s[i] == '-') i++;
    for (; i < b && is_digit(s[i]); i++) digits++;
    if (i < b && s[i] == '.')
        for (i++; i < b && is_digit(s[i]); i++) digits++;
    if (digits && i < b && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < b && (s[j] == '+' || s[j] == '-')) j++;
        if (j < b && is_digit(s[j])) {
            while (j < b && is_digit(s[j])) j++;
            i = j;
        }
    }
    if (!digits || i != b) {
        const size_t w = a + (s[a] == '+' || s[a] == '-');
        if (aaren_text_word_is(s + w, b - w, "nan") || aaren_text_word_is(s + w, b - w, "inf") ||
            aaren_text_word_is(s + w, b - w, "infinity"))
            return AAREN_NUM_NANINF;
        return AAREN_NUM_BAD;
    }
    save = s[b];
    s[b] = '\0';
    v = strtod(s + a, &end);
    s[b] = save;
    if (end != s + b) return AAREN_NUM_BAD;   /* unreachable after the grammar check, kept as a guard */
    if (!isfinite(v)) return AAREN_NUM_HUGE;
    *out = v;
    return AAREN_NUM_OK;
}

int aaren_lines_open(aaren_lines *r, const char *path, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    r->path = path;
    r->err = err;
    r->errlen = errlen;
    if (!(r->f = fopen(path, "rb"))) return aaren_file_err(err, errlen, path, "cannot open: %s", strerror(errno));
    return 0;
}

int aaren_lines_next(aaren_lines *r, char **s, size_t *n) {
    for (;;) {
        if (!r->buf || r->next > r->end) {   /* what was read is used up: read on */
            errno = 0;
            const ssize_t got = getline(&r->buf, &r->cap, r->f);
            if (got < 0) break;
            size_t len = (size_t)got;
            if (len && r->buf[len - 1] == '\n') len--;
            if (len && r->buf[len - 1] == '\r') len--;
            if (memchr(r->buf, '\0', len)) {
                r->line++;
                return aaren_lines_fail(r, "NUL byte in the line");
            }
            r->buf[len] = '\0';
            /* a UTF-8 byte-order mark before the first line is not part of it */
            r->next = r->line == 0 && len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
            r->end = len;
        }
        /* one line: up to a lone CR (classic Mac line ends) or the end of what was read */
        char *p = r->buf + r->next, *cr = memchr(p, '\r', r->end - r->next);
        const size_t len = cr ? (size_t)(cr - p) : r->end - r->next;
        size_t a = 0;
        r->next += len + 1;
        p[len] = '\0';
        r->line++;
        while (a < len && aaren_text_space((unsigned char)p[a])) a++;
        if (a == len) continue;   /* blank */
        *s = p;
        *n = len;
        return 1;
    }
    if (ferror(r->f)) {
        const int e = errno;
        return aaren_file_err(r->err, r->errlen, r->path, "cannot read: %s", e ? strerror(e) : "I/O error");
    }
    return 0;
}

void aaren_lines_close(aaren_lines *r) {
    if (r->f) fclose(r->f);
    free(r->buf);
    r->f = NULL;
    r->buf = NULL;
    r->cap = 0;
}

int aaren_lines_fail(aaren_lines *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    aaren_file_line_verr(r->err, r->errlen, r->path, r->line, fmt, ap);
    va_end(ap);
    return -1;
}
