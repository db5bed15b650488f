/* Error messages, shape arithmetic, opening and sizing files, and the clock (see common.h). */
#define _POSIX_C_SOURCE 200809L
#include "base/common.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void one_line(char *err) {
    for (char *c = err; *c; c++)
        if ((unsigned char)*c < 0x20) *c = '?';
}

int aaren_errf(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        one_line(err);
    }
    return -1;
}

int aaren_file_line_verr(char *err, size_t errlen, const char *path, long line, const char *fmt, va_list ap) {
    if (err && errlen) {
        int n = line > 0 ? snprintf(err, errlen, "%s: line %ld: ", path ? path : "(null)", line)
                         : snprintf(err, errlen, "%s: ", path ? path : "(null)");
        if (n >= 0 && (size_t)n < errlen) vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        one_line(err);
    }
    return -1;
}

int aaren_file_err(char *err, size_t errlen, const char *path, const char *fmt, ...) {
    if (err && errlen) {
        int n = snprintf(err, errlen, "%s: ", path ? path : "(null)");
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
        one_line(err);
    }
    return -1;
}

int64_t aaren_shape_numel(int ndim, const int64_t *shape) {
    const uint64_t limit = (SIZE_MAX < (uint64_t)INT64_MAX ? (uint64_t)SIZE_MAX : (uint64_t)INT64_MAX) / 4;
    uint64_t n = 1;
    int zero = 0;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return -1;
        if (shape[i] == 0) zero = 1;
    }
    if (zero) return 0;
    for (int i = 0; i < ndim; i++) {
        const uint64_t d = (uint64_t)shape[i];
        if (d > limit / n) return -1;
        n *= d;
    }
    return (int64_t)n;
}

int aaren_file_size(FILE *f, uint64_t *size) {
    long n;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) return -1;
    *size = (uint64_t)n;
    return 0;
}

FILE *aaren_file_open_head(const char *path, void *head, size_t n, const char *what, uint64_t *size,
                           char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        aaren_file_err(err, errlen, path, "cannot open: %s", strerror(errno));
        return NULL;
    }
    if (aaren_file_size(f, size) != 0)
        aaren_file_err(err, errlen, path, "cannot determine the file size");
    else if (*size < n)
        aaren_file_err(err, errlen, path, "file is too short (%llu bytes) for %s", (unsigned long long)*size, what);
    else if (fread(head, 1, n, f) != n)
        aaren_file_err(err, errlen, path, "cannot read: %s", strerror(errno));
    else
        return f;
    fclose(f);
    return NULL;
}

/* 1 when s is written as an integer (integer != 0) or a number in the grammar of common.h. */
static int number_syntax(const char *s, int integer) {
    static const char digits[] = "0123456789";
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    const size_t whole = strspn(p, digits);
    p += whole;
    if (integer) return whole > 0 && !*p;
    size_t frac = 0;
    if (*p == '.') {
        frac = strspn(++p, digits);
        p += frac;
    }
    if (whole + frac == 0) return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        const size_t ex = strspn(p, digits);
        if (!ex) return 0;
        p += ex;
    }
    return !*p;
}

int aaren_parse_long(const char *s, long lo, long hi, long *out) {
    if (!s || !number_syntax(s, 1)) return -1;
    errno = 0;
    const long x = strtol(s, NULL, 10);
    if (errno == ERANGE || x < lo || x > hi) return -1;
    *out = x;
    return 0;
}

int aaren_parse_double(const char *s, double lo, double hi, double *out) {
    if (!s || !number_syntax(s, 0)) return -1;
    const double x = strtod(s, NULL);   /* an overflow gives +-HUGE_VAL, refused below */
    if (!isfinite(x) || !(x >= lo && x <= hi)) return -1;
    *out = x;
    return 0;
}

int aaren_meta_long(const char *path, const char *key, const char *val, long lo, long hi, long *out,
                    char *err, size_t errlen) {
    if (!val) return aaren_file_err(err, errlen, path, "metadata '%s' is missing", key);
    if (aaren_parse_long(val, lo, hi, out))
        return aaren_file_err(err, errlen, path, "metadata '%s' is '%.60s'; expected an integer from %ld to %ld",
                              key, val, lo, hi);
    return 0;
}

int aaren_meta_double(const char *path, const char *key, const char *val, double lo, double hi, double *out,
                      char *err, size_t errlen) {
    if (!val) return aaren_file_err(err, errlen, path, "metadata '%s' is missing", key);
    if (aaren_parse_double(val, lo, hi, out))
        return aaren_file_err(err, errlen, path, "metadata '%s' is '%.60s'; expected a number from %g to %g",
                              key, val, lo, hi);
    return 0;
}

double aaren_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

char *aaren_join_doubles(const double *v, int n) {
    char *s = malloc((size_t)(n > 0 ? n : 0) * 26 + 1), *p = s;
    if (!s) return NULL;
    *p = 0;
    for (int i = 0; i < n; i++) p += sprintf(p, i ? ",%.17g" : "%.17g", v[i]);
    return s;
}

int aaren_meta_doubles(const char *path, const char *key, const char *val, double *v, int n, char *err, size_t errlen) {
    if (!val) return aaren_file_err(err, errlen, path, "metadata '%s' is missing", key);
    int fields = 1;
    for (const char *p = val; *p; p++) fields += *p == ',';
    if (fields != n)
        return aaren_file_err(err, errlen, path, "metadata '%s' holds %d comma-separated values; expected %d", key,
                              fields, n);
    for (int i = 0; i < n; i++) {
        const size_t len = strcspn(val, ",");
        char field[64];
        if (len < sizeof field) {
            memcpy(field, val, len);
            field[len] = 0;
        }
        if (len >= sizeof field || aaren_parse_double(field, -1e300, 1e300, &v[i]))
            return aaren_file_err(err, errlen, path, "metadata '%s': value %d is '%.*s'; expected a number", key, i + 1,
                                  (int)(len < 60 ? len : 60), val);
        val += len + 1;
    }
    return 0;
}
