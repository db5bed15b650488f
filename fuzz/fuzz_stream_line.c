/* Fuzz harness: the line parser of `aaren events --stream` (aaren_tpp_parse_event_line).
 *
 * The input is one line, handed over in a buffer of exactly its length (no terminating NUL,
 * so a read past the end is caught). The parser must return 1 (an event: a finite time, a
 * mark of -1 or more), 0 (blank or comment) or -1 with a one-line message. Two more
 * properties: a line without a final newline parses the same with one added, and an event
 * printed back as "%.17g %d" parses to the same time and mark. */
#include "common.h"
#include "tasks/tpp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_INPUT = 4096 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(const char *s, size_t n, double *t, int *m, char *err, size_t errlen) {
    char *copy = malloc(n ? n : 1);
    FUZZ_ASSERT(copy != NULL);
    if (n) memcpy(copy, s, n);
    const int rc = aaren_tpp_parse_event_line(copy, n, t, m, err, errlen);
    free(copy);
    FUZZ_ASSERT(rc >= -1 && rc <= 1);
    if (rc < 0) FUZZ_ASSERT(err[0] != 0 && strchr(err, '\n') == NULL);
    if (rc == 1) FUZZ_ASSERT(isfinite(*t) && *m >= -1);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MAX_INPUT) return 0;
    const char *line = (const char *)data;
    char err[256] = "", err2[256] = "";
    double t = 0, t2 = 0;
    int m = 0, m2 = 0;
    const int rc = parse(line, size, &t, &m, err, sizeof err);

    if (size == 0 || line[size - 1] != '\n') {
        char *nl = malloc(size + 1);
        FUZZ_ASSERT(nl != NULL);
        if (size) memcpy(nl, line, size);
        nl[size] = '\n';
        const int rc2 = parse(nl, size + 1, &t2, &m2, err2, sizeof err2);
        free(nl);
        FUZZ_ASSERT(rc2 == rc);
        if (rc == 1) FUZZ_ASSERT(memcmp(&t, &t2, sizeof t) == 0 && m == m2);
    }
    if (rc == 1) {
        char text[64];
        const int n = m >= 0 ? snprintf(text, sizeof text, "%.17g %d", t, m) : snprintf(text, sizeof text, "%.17g", t);
        FUZZ_ASSERT(n > 0 && (size_t)n < sizeof text);
        FUZZ_ASSERT(parse(text, (size_t)n, &t2, &m2, err2, sizeof err2) == 1);
        FUZZ_ASSERT(t2 == t && m2 == m);
    }
    return 0;
}
