/* Fuzz harness: the request-body parsers of aaren serve (aaren_serve_parse_inputs for encoder
 * models, aaren_serve_parse_task for task models; cJSON).
 *
 * Byte 0 picks the row width (1 to 4, bits 0-1), the integer column of a task body (bits 2-4:
 * none or one of the columns) and its largest value (bits 5-7); byte 1 the most rows (1 to 8,
 * bits 0-2) and whether a task body needs "dates" (bit 7); the rest is the body,
 * handed over in a buffer of exactly its length (no terminating NUL, so a read past the end is
 * caught). The parser must return 0 with 1..max rows of finite numbers, or -1 with a one-line
 * message. A parsed body printed back as an answer (aaren_serve_format_outputs) and wrapped as
 * {"inputs": ...} parses to the same floats, bit for bit. The task parser must return 0 with
 * finite numbers, the integer column integral within its range and strictly increasing dates,
 * or -1 with a one-line message; without an integer column and dates it accepts exactly what
 * the encoder parser accepts, with the same numbers (as float32). The body of a new stream
 * (aaren_serve_parse_create; a decision model's when bit 6 of byte 1 is set) must give 0 with
 * a finite target of at most 1e12 in magnitude (only for a decision model) or none, or -1 with
 * a one-line message; white space alone is the defaults, and an accepted target printed as
 * {"target_return": %.17g} reads back to the same double. Also the id and token helpers on the
 * same bytes. */
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef AAREN_FUZZ_NO_SERVER
#include "serve/serve.h"
#endif

enum { MAX_INPUT = 1 << 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef AAREN_FUZZ_NO_SERVER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { (void)data; (void)size; return 0; }
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size > MAX_INPUT) return 0;
    const int width = 1 + data[0] % 4, max_rows = 1 + data[1] % 8;
    const size_t n = size - 2;
    char *body = malloc(n ? n : 1);
    FUZZ_ASSERT(body != NULL);
    if (n) memcpy(body, data + 2, n);
    float *buf = NULL, *buf2 = NULL;
    size_t cap = 0, cap2 = 0;
    int rows = -1, rows2 = -1;
    char err[320] = "";
    const int rc = aaren_serve_parse_inputs(body, n, width, max_rows, &buf, &cap, &rows, err, sizeof err);
    FUZZ_ASSERT(rc == 0 || rc == -1);
    if (rc) {
        FUZZ_ASSERT(err[0] != 0 && strchr(err, '\n') == NULL);
    } else {
        FUZZ_ASSERT(rows >= 1 && rows <= max_rows && cap >= (size_t)rows * width);
        for (size_t i = 0; i < (size_t)rows * width; i++) FUZZ_ASSERT(isfinite(buf[i]));
        /* printed back and read again: the same floats */
        char *text = NULL;
        size_t len = 0, tcap = 0;
        FUZZ_ASSERT(aaren_serve_format_outputs(buf, rows, width, 7, &text, &len, &tcap) == 0);
        const char *open = "{\"outputs\":";
        FUZZ_ASSERT(len > strlen(open) && !memcmp(text, open, strlen(open)));
        size_t end = len;
        while (end > 0 && text[end - 1] != ',') end--;   /* the comma before "position" */
        FUZZ_ASSERT(end > strlen(open));
        const size_t inner = end - 1 - strlen(open);
        char *again = malloc(inner + 12);
        FUZZ_ASSERT(again != NULL);
        memcpy(again, "{\"inputs\":", 10);
        memcpy(again + 10, text + strlen(open), inner);
        again[10 + inner] = '}';
        const int rc2 = aaren_serve_parse_inputs(again, inner + 11, width, max_rows, &buf2, &cap2, &rows2, err, sizeof err);
        FUZZ_ASSERT(rc2 == 0 && rows2 == rows);
        FUZZ_ASSERT(memcmp(buf, buf2, sizeof(float) * (size_t)rows * width) == 0);
        free(again);
        free(text);
    }
    /* the task parser on the same body */
    const aaren_serve_task_spec spec = {width, max_rows, (int)((data[0] >> 2) & 7) % (width + 1) - 1, data[0] >> 5,
                                        (data[1] & 0x80) != 0};
    double *tb = NULL;
    long long *secs = NULL;
    size_t tcap = 0, scap = 0;
    int trows = -1;
    const int trc = aaren_serve_parse_task(body, n, &spec, &tb, &tcap, &secs, &scap, &trows, err, sizeof err);
    FUZZ_ASSERT(trc == 0 || trc == -1);
    if (trc) {
        FUZZ_ASSERT(err[0] != 0 && strchr(err, '\n') == NULL);
    } else {
        FUZZ_ASSERT(trows >= 1 && trows <= max_rows && tcap >= (size_t)trows * width);
        for (int r = 0; r < trows; r++)
            for (int c = 0; c < width; c++) {
                const double v = tb[(size_t)r * width + c];
                FUZZ_ASSERT(isfinite(v) && fabs(v) <= 3.4028234663852886e38);
                if (c == spec.int_col) FUZZ_ASSERT(v == floor(v) && v >= 0 && v <= (double)spec.int_max);
            }
        for (int r = 1; spec.dates && r < trows; r++) FUZZ_ASSERT(secs[r] > secs[r - 1]);
    }
    if (spec.int_col < 0 && !spec.dates) {   /* then the two parsers agree */
        FUZZ_ASSERT(trc == rc);
        if (!rc) {
            FUZZ_ASSERT(trows == rows);
            for (size_t i = 0; i < (size_t)rows * width; i++) FUZZ_ASSERT((float)tb[i] == buf[i]);
        }
    }
    free(tb);
    free(secs);
    /* the body of a new stream */
    const int decision = (data[1] & 0x40) != 0;
    double target = 12345.0;
    int given = -1;
    err[0] = 0;
    const int crc = aaren_serve_parse_create(body, n, decision, &target, &given, err, sizeof err);
    FUZZ_ASSERT(crc == 0 || crc == -1);
    size_t blank = 0;
    while (blank < n && (body[blank] == ' ' || body[blank] == '\t' || body[blank] == '\r' || body[blank] == '\n')) blank++;
    if (blank == n) FUZZ_ASSERT(crc == 0 && given == 0);
    if (crc) {
        FUZZ_ASSERT(err[0] != 0 && strchr(err, '\n') == NULL);
    } else if (given) {
        FUZZ_ASSERT(given == 1 && decision && isfinite(target) && fabs(target) <= 1e12);
        char again[64];
        const int len = snprintf(again, sizeof again, "{\"target_return\": %.17g}", target);
        double t2 = 0;
        int g2 = 0;
        FUZZ_ASSERT(aaren_serve_parse_create(again, (size_t)len, 1, &t2, &g2, err, sizeof err) == 0 && g2 == 1 &&
                    t2 == target);
    } else {
        FUZZ_ASSERT(given == 0 && target == 12345.0);
    }
    /* the id parser and the token comparison on the same bytes */
    uint64_t id;
    if (aaren_serve_parse_id(body, n, &id) == 0) {
        char hex[17];
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)id);
        FUZZ_ASSERT(!memcmp(hex, body, 16));
    }
    const size_t half = n / 2;
    FUZZ_ASSERT(aaren_serve_token_equal(body, half, body, half) == 1);
    FUZZ_ASSERT(aaren_serve_token_equal(body, n, body + half, n - half) == (n - half == n && !memcmp(body, body + half, n)));
    free(buf);
    free(buf2);
    free(body);
    return 0;
}
#endif
