/* Request bodies and answers of aaren serve: JSON through cJSON, numbers checked to be finite
 * float32, answers printed with enough digits to read back the same float32. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "data/timeseries.h"
#include "base/common.h"
#include "serve/serve.h"


/* At most n - 1 bytes of s with anything outside printable ASCII as '?', for messages. */
static const char *printable(char *dst, size_t n, const char *s) {
    size_t i = 0;
    for (; s && s[i] && i + 1 < n; i++) dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    dst[i] = 0;
    return dst;
}

/* cJSON's nodes come from a per-thread arena while a body is parsed: a step of one row of 128
 * numbers is 131 nodes, which malloc and free one by one (and cJSON_Delete walks) cost about a
 * tenth of a request's time. The allocation hooks are process-wide, but only a thread inside
 * parse_json uses its arena: everything else (and a body too big for the arena, from where it
 * overflows) gets malloc and free. A tree is parsed and dropped by one thread (json_drop). */
enum { ARENA_BYTES = 65536 };
typedef struct {
    unsigned char *mem;
    size_t used;
    int active, spilled;
} json_arena;
static _Thread_local json_arena *tls_arena;
static pthread_key_t arena_key;
static int arena_key_ok;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void arena_free(void *p) {
    json_arena *a = p;
    free(a->mem);
    free(a);
}

static void *json_alloc(size_t n) {
    json_arena *a = tls_arena;
    if (a && a->active) {
        const size_t need = (n + 15) & ~(size_t)15;
        if (need <= ARENA_BYTES - a->used) {
            void *p = a->mem + a->used;
            a->used += need;
            return p;
        }
        a->spilled = 1;
    }
    return malloc(n);
}

static void json_dealloc(void *p) {
    const json_arena *a = tls_arena;
    if (a && (unsigned char *)p >= a->mem && (unsigned char *)p < a->mem + ARENA_BYTES) return;   /* dropped whole */
    free(p);
}

/* Under AddressSanitizer every node is its own allocation, so that the fuzz harness and the
 * sanitizer tests check cJSON's and our accesses to each (the arena has no red zones). */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_USED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_USED 0
#endif
#endif
#ifndef ARENA_USED
#define ARENA_USED 1
#endif

static void hooks_init(void) {
    if (!ARENA_USED) return;
    cJSON_Hooks h = {json_alloc, json_dealloc};
    cJSON_InitHooks(&h);
    arena_key_ok = !pthread_key_create(&arena_key, arena_free);   /* else arenas are not made */
}

/* This thread's arena, made on first use; NULL when it cannot be (plain malloc then). */
static json_arena *arena_get(void) {
    if (tls_arena || !arena_key_ok) return tls_arena;
    json_arena *a = calloc(1, sizeof *a);
    if (a && (a->mem = aligned_alloc(16, ARENA_BYTES)) && !pthread_setspecific(arena_key, a)) return tls_arena = a;
    if (a) free(a->mem);
    free(a);
    return NULL;
}

/* The body as JSON, or NULL with "malformed JSON near byte N" in err; *end: where parsing stopped. */
static cJSON *parse_json(const char *body, size_t len, const char **end, char *err, size_t errlen) {
    pthread_once(&hooks_once, hooks_init);
    json_arena *a = arena_get();
    if (a) {
        a->used = 0;
        a->spilled = 0;
        a->active = 1;
    }
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, end, 0);
    if (a) a->active = 0;
    if (!root) {
        const size_t at = (*end && *end >= body && *end <= body + len) ? (size_t)(*end - body) : 0;
        aaren_errf(err, errlen, "malformed JSON near byte %zu", at);
    }
    return root;
}

/* Drops a tree of parse_json: nothing to do when it lies wholly in the arena. */
static void json_drop(cJSON *root) {
    const json_arena *a = tls_arena;
    if (!a || a->spilled) cJSON_Delete(root);
}

int aaren_serve_parse_inputs(const char *body, size_t len, int width, int max_rows, float **buf, size_t *cap,
                             int *n_rows, char *err, size_t errlen) {
    *n_rows = 0;
    if (len == 0) return aaren_errf(err, errlen, "empty body; expected {\"inputs\": [[...], ...]}");
    const char *end = NULL;
    cJSON *root = parse_json(body, len, &end, err, errlen);
    if (!root) return -1;
    int rc = -1;
    const cJSON *inputs = NULL;
    for (const char *q = end; q && q < body + len; q++)
        if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n') {
            aaren_errf(err, errlen, "unexpected bytes after the JSON value at byte %zu", (size_t)(q - body));
            goto out;
        }
    if (!cJSON_IsObject(root)) {
        aaren_errf(err, errlen, "the body must be a JSON object {\"inputs\": [[...], ...]}");
        goto out;
    }
    for (const cJSON *it = root->child; it; it = it->next) {
        if (!it->string || strcmp(it->string, "inputs") != 0) {
            char name[41];
            aaren_errf(err, errlen, "unknown member '%s' (a step takes only \"inputs\")", printable(name, sizeof name, it->string));
            goto out;
        }
        if (inputs) { aaren_errf(err, errlen, "\"inputs\" given twice"); goto out; }
        inputs = it;
    }
    if (!inputs) { aaren_errf(err, errlen, "missing \"inputs\": [[...], ...]"); goto out; }
    if (!cJSON_IsArray(inputs)) { aaren_errf(err, errlen, "\"inputs\" must be an array of rows"); goto out; }
    const int n = cJSON_GetArraySize(inputs);
    if (n < 1) { aaren_errf(err, errlen, "\"inputs\" is empty; give at least one row"); goto out; }
    if (n > max_rows) { aaren_errf(err, errlen, "\"inputs\" has %d rows; at most %d per request", n, max_rows); goto out; }
    const size_t need = (size_t)n * (size_t)width;
    if (need > *cap) {
        float *nb = realloc(*buf, need * sizeof(float));
        if (!nb) { aaren_errf(err, errlen, "out of memory for %d rows", n); goto out; }
        *buf = nb;
        *cap = need;
    }
    int r = 0;
    for (const cJSON *row = inputs->child; row; row = row->next, r++) {
        if (!cJSON_IsArray(row)) { aaren_errf(err, errlen, "inputs row %d is not an array of numbers", r); goto out; }
        int c = 0;
        for (const cJSON *v = row->child; v; v = v->next, c++) {
            if (c >= width) break;
            if (!cJSON_IsNumber(v)) {
                aaren_errf(err, errlen, "inputs row %d, column %d is not a number", r, c);
                goto out;
            }
            const double d = v->valuedouble;
            if (!isfinite(d) || fabs(d) > FLT_MAX) {
                aaren_errf(err, errlen, "inputs row %d, column %d is not a finite float32", r, c);
                goto out;
            }
            (*buf)[(size_t)r * width + c] = (float)d;
        }
        const int got = cJSON_GetArraySize(row);
        if (got != width) {
            aaren_errf(err, errlen, "inputs row %d has %d numbers; the model takes %d (d_model)", r, got, width);
            goto out;
        }
    }
    *n_rows = n;
    rc = 0;
out:
    json_drop(root);
    return rc;
}

/* Grows *buf (*cap elements of size each) to need elements. */
static int grow(void **buf, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return 0;
    void *nb = realloc(*buf, need * size);
    if (!nb) return -1;
    *buf = nb;
    *cap = need;
    return 0;
}

int aaren_serve_parse_task(const char *body, size_t len, const aaren_serve_task_spec *spec, double **buf, size_t *cap,
                           long long **secs, size_t *secs_cap, int *n_rows, char *err, size_t errlen) {
    *n_rows = 0;
    const int width = spec->width;
    if (len == 0) return aaren_errf(err, errlen, "empty body; expected {\"inputs\": [[...], ...]%s}",
                                    spec->dates ? ", \"dates\": [...]" : "");
    const char *end = NULL;
    cJSON *root = parse_json(body, len, &end, err, errlen);
    if (!root) return -1;
    int rc = -1;
    const cJSON *inputs = NULL, *dates = NULL;
    for (const char *q = end; q && q < body + len; q++)
        if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n') {
            aaren_errf(err, errlen, "unexpected bytes after the JSON value at byte %zu", (size_t)(q - body));
            goto out;
        }
    if (!cJSON_IsObject(root)) { aaren_errf(err, errlen, "the body must be a JSON object {\"inputs\": [[...], ...]}"); goto out; }
    for (const cJSON *it = root->child; it; it = it->next) {
        const cJSON **slot = NULL;
        if (it->string && !strcmp(it->string, "inputs")) slot = &inputs;
        else if (it->string && spec->dates && !strcmp(it->string, "dates")) slot = &dates;
        if (!slot) {
            char name[41];
            aaren_errf(err, errlen, "unknown member '%s' (a step takes \"inputs\"%s)", printable(name, sizeof name, it->string),
                       spec->dates ? " and \"dates\"" : " only");
            goto out;
        }
        if (*slot) { aaren_errf(err, errlen, "\"%s\" given twice", it->string); goto out; }
        *slot = it;
    }
    if (!inputs) { aaren_errf(err, errlen, "missing \"inputs\": [[...], ...]"); goto out; }
    if (!cJSON_IsArray(inputs)) { aaren_errf(err, errlen, "\"inputs\" must be an array of rows"); goto out; }
    const int n = cJSON_GetArraySize(inputs);
    if (n < 1) { aaren_errf(err, errlen, "\"inputs\" is empty; give at least one row"); goto out; }
    if (n > spec->max_rows) { aaren_errf(err, errlen, "\"inputs\" has %d rows; at most %d per request", n, spec->max_rows); goto out; }
    if (spec->dates) {
        if (!dates) { aaren_errf(err, errlen, "missing \"dates\": one date per input row (\"YYYY-MM-DD HH:MM:SS\")"); goto out; }
        if (!cJSON_IsArray(dates) || cJSON_GetArraySize(dates) != n) {
            aaren_errf(err, errlen, "\"dates\" must be an array of %d date strings, one per input row", n);
            goto out;
        }
    }
    if (grow((void **)buf, cap, (size_t)n * (size_t)width, sizeof(double)) ||
        (spec->dates && grow((void **)secs, secs_cap, (size_t)n, sizeof(long long)))) {
        aaren_errf(err, errlen, "out of memory for %d rows", n);
        goto out;
    }
    int r = 0;
    for (const cJSON *row = inputs->child; row; row = row->next, r++) {
        if (!cJSON_IsArray(row)) { aaren_errf(err, errlen, "inputs row %d is not an array of numbers", r); goto out; }
        const int got = cJSON_GetArraySize(row);
        if (got != width) {
            aaren_errf(err, errlen, "inputs row %d has %d numbers; the model takes %d", r, got, width);
            goto out;
        }
        int c = 0;
        for (const cJSON *v = row->child; v; v = v->next, c++) {
            if (!cJSON_IsNumber(v)) { aaren_errf(err, errlen, "inputs row %d, column %d is not a number", r, c); goto out; }
            const double d = v->valuedouble;
            if (!isfinite(d) || fabs(d) > FLT_MAX) {
                aaren_errf(err, errlen, "inputs row %d, column %d is not a finite float32", r, c);
                goto out;
            }
            if (c == spec->int_col && (d != floor(d) || d < 0 || d > (double)spec->int_max)) {
                aaren_errf(err, errlen, "inputs row %d, column %d must be an integer from 0 to %ld", r, c, spec->int_max);
                goto out;
            }
            (*buf)[(size_t)r * width + c] = d;
        }
    }
    if (spec->dates) {
        int i = 0;
        for (const cJSON *v = dates->child; v; v = v->next, i++) {
            aaren_ts_date d;
            if (!cJSON_IsString(v) || aaren_ts_parse_date(v->valuestring, strlen(v->valuestring), &d)) {
                char shown[41];
                aaren_errf(err, errlen, "dates[%d] '%s' is not a date (YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS])", i,
                           cJSON_IsString(v) ? printable(shown, sizeof shown, v->valuestring) : "(not a string)");
                goto out;
            }
            (*secs)[i] = aaren_ts_date_seconds(&d);
            if (i && (*secs)[i] <= (*secs)[i - 1]) {
                aaren_errf(err, errlen, "dates[%d] is not after dates[%d]; dates must increase", i, i - 1);
                goto out;
            }
        }
    }
    *n_rows = n;
    rc = 0;
out:
    json_drop(root);
    return rc;
}

int aaren_serve_parse_create(const char *body, size_t len, int decision, double *target, int *given, char *err,
                             size_t errlen) {
    *given = 0;
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n')) i++;
    if (i == len) return 0;   /* no body: the defaults */
    const char *end = NULL;
    cJSON *root = parse_json(body, len, &end, err, errlen);
    if (!root) return -1;
    int rc = -1;
    for (const char *q = end; q && q < body + len; q++)
        if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n') {
            aaren_errf(err, errlen, "unexpected bytes after the JSON value at byte %zu", (size_t)(q - body));
            goto out;
        }
    if (!cJSON_IsObject(root)) {
        aaren_errf(err, errlen, "the body of a new stream must be a JSON object%s",
                   decision ? " ({} or {\"target_return\": R})" : " ({})");
        goto out;
    }
    for (const cJSON *it = root->child; it; it = it->next) {
        char name[41];
        if (!it->string || strcmp(it->string, "target_return") != 0 || !decision) {
            aaren_errf(err, errlen, "unknown member '%s' (%s)", printable(name, sizeof name, it->string),
                       decision ? "a new stream takes only \"target_return\"" : "a new stream of this model takes none");
            goto out;
        }
        if (*given) { aaren_errf(err, errlen, "\"target_return\" given twice"); goto out; }
        if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || fabs(it->valuedouble) > 1e12) {
            aaren_errf(err, errlen, "\"target_return\" must be a finite number of at most 1e12 in magnitude");
            goto out;
        }
        *target = it->valuedouble;
        *given = 1;
    }
    rc = 0;
out:
    json_drop(root);
    return rc;
}

static int reserve(char **out, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 4096;
    while (nc < need) nc *= 2;
    char *p = realloc(*out, nc);
    if (!p) return -1;
    *out = p;
    *cap = nc;
    return 0;
}

/* Powers of ten 1e-64 .. 1e64 as the nearest doubles (strtod rounds correctly). */
static double pow10_tab[129];
static pthread_once_t pow10_once = PTHREAD_ONCE_INIT;

static void pow10_init(void) {
    for (int k = -64; k <= 64; k++) {
        char s[16];
        snprintf(s, sizeof s, "1e%d", k);
        pow10_tab[k + 64] = strtod(s, NULL);
    }
}

int aaren_serve_put_float(char *p, float v) {
    pthread_once(&pow10_once, pow10_init);
    char *o = p;
    double d = v;
    if (signbit(d)) { *o++ = '-'; d = -d; }
    if (d == 0) { *o++ = '0'; return (int)(o - p); }
    /* q: the 9 significant digits, d ~ q 10^(k - 8). q is within half a unit of its last digit of
     * d (plus a few 1e-16 relative from the scaling), far inside half a float32 spacing (at
     * least 3e-8 relative), so the decimal reads back to v. */
    /* k = floor(log10 d): d = m 2^e2 with m in [0.5, 1) puts it at floor((e2 - 1) log10 2) or one
     * more (log10 is a fifth of the time otherwise); a wrong guess is corrected below */
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    int e2 = (int)((bits >> 23) & 0xffu) - 126;   /* a normal float: the exponent field */
    if (e2 == -126) frexp(d, &e2);                /* a subnormal one */
    int k = (e2 - 1) * 78913;                     /* 78913 / 2^18 = log10 2 to 6e-7, exact enough for |e2| < 1000 */
    k = k >= 0 ? k >> 18 : -((-k + (1 << 18) - 1) >> 18);   /* floor(k / 2^18) */
    if (k < 63 && d >= pow10_tab[k + 1 + 64]) k++;
    long long q = 0;
    for (int tries = 0; tries < 3; tries++) {
        /* llround for x >= 1 (x + 0.5 is exact below 2^52, or rounds to the same integer),
         * inline instead of a library call */
        q = (long long)(d * pow10_tab[8 - k + 64] + 0.5);
        if (q >= 1000000000LL) k++;
        else if (q < 100000000LL) k--;
        else break;
    }
    if (q >= 1000000000LL) { q = 100000000LL; k++; }   /* rounded up to the next power of ten */
    /* the nine digits two at a time, in 32-bit arithmetic (q < 10^9) */
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    char dig[9];
    uint32_t u = (uint32_t)q;
    for (int i = 7; i >= 1; i -= 2) {
        const uint32_t t = u % 100;
        u /= 100;
        dig[i] = pairs[2 * t];
        dig[i + 1] = pairs[2 * t + 1];
    }
    dig[0] = (char)('0' + u);
    int nd = 9;
    while (nd > 1 && dig[nd - 1] == '0') nd--;
    if (k >= 0 && k < 9) {   /* dddd or dd.dd */
        for (int i = 0; i <= k; i++) *o++ = i < nd ? dig[i] : '0';
        if (nd > k + 1) {
            *o++ = '.';
            for (int i = k + 1; i < nd; i++) *o++ = dig[i];
        }
    } else if (k < 0 && k >= -4) {   /* 0.000ddd */
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -k - 1; i++) *o++ = '0';
        for (int i = 0; i < nd; i++) *o++ = dig[i];
    } else {   /* d.ddde-45 */
        *o++ = dig[0];
        if (nd > 1) {
            *o++ = '.';
            for (int i = 1; i < nd; i++) *o++ = dig[i];
        }
        *o++ = 'e';
        if (k < 0) { *o++ = '-'; k = -k; }
        if (k >= 10) *o++ = (char)('0' + k / 10);
        *o++ = (char)('0' + k % 10);
    }
    return (int)(o - p);
}

int aaren_serve_format_outputs(const float *y, int n_rows, int width, long position, char **out, size_t *len,
                               size_t *cap) {
    /* at most 16 characters per number ("-1.23456789e-38,") plus brackets */
    const size_t most = *len + (size_t)n_rows * ((size_t)width * 17 + 4) + 64;
    if (reserve(out, cap, most)) return -1;
    char *p = *out + *len;
    memcpy(p, "{\"outputs\":[", 12);
    p += 12;
    for (int r = 0; r < n_rows; r++) {
        if (r) *p++ = ',';
        *p++ = '[';
        const float *row = y + (size_t)r * width;
        for (int c = 0; c < width; c++) {
            if (c) *p++ = ',';
            if (isfinite(row[c])) p += aaren_serve_put_float(p, row[c]);
            else { memcpy(p, "null", 4); p += 4; }
        }
        *p++ = ']';
    }
    p += snprintf(p, 40, "],\"position\":%ld}", position);
    *len = (size_t)(p - *out);
    return 0;
}

int aaren_serve_token_equal(const char *given, size_t given_len, const char *expected, size_t expected_len) {
    /* every expected byte is compared, whatever the given length; the lengths are folded in */
    unsigned diff = given_len != expected_len;
    for (size_t i = 0; i < expected_len; i++) {
        const unsigned char g = i < given_len ? (unsigned char)given[i] : 0;
        diff |= (unsigned)(g ^ (unsigned char)expected[i]);
    }
    return diff == 0;
}

int aaren_serve_read_token(const char *path, char *buf, size_t cap, char *err, size_t errlen) {
    if (cap < 2) return aaren_file_err(err, errlen, path, "no room for a token");
    FILE *f = fopen(path, "rb");
    if (!f) return aaren_file_err(err, errlen, path, "cannot open the token file: %s", strerror(errno));
    size_t n = fread(buf, 1, cap, f);
    const int bad = ferror(f);
    fclose(f);
    if (bad) { buf[0] = 0; return aaren_file_err(err, errlen, path, "cannot read the token file"); }
    int rc = 0;
    if (n == cap) rc = aaren_file_err(err, errlen, path, "the token file holds %zu bytes or more; at most %zu", cap, cap - 2);
    if (!rc && n && buf[n - 1] == '\n') n--;
    if (!rc && n && buf[n - 1] == '\r') n--;
    if (!rc && !n) rc = aaren_file_err(err, errlen, path, "the token file is empty");
    for (size_t i = 0; !rc && i < n; i++)
        if (buf[i] <= 0x20 || buf[i] >= 0x7f)
            rc = aaren_file_err(err, errlen, path, "byte %zu of the token is %s; a token is printable ASCII without "
                                "spaces on one line", i + 1, buf[i] == '\n' ? "a second line" : "not printable ASCII");
    if (rc) n = 0;
    memset(buf + n, 0, cap - n);   /* nothing of a rejected secret stays behind */
    return rc;
}

int aaren_serve_parse_id(const char *s, size_t len, uint64_t *id) {
    if (len != 16) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < 16; i++) {
        const char c = s[i];
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else return -1;
        v = (v << 4) | (uint64_t)d;
    }
    *id = v;
    return 0;
}

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t aaren_serve_crc32(uint32_t crc, const void *data, size_t n) {
    pthread_once(&crc_once, crc_init);
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = crc_table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}
