/* The tool's strtod (src/cli/strtod_fast.c, linked into this test as into the tool) against
 * glibc's own routine (__strtod_internal): the same double bit for bit, the same end pointer
 * and the same errno, on edge cases and on random decimals of every shape the fast path takes
 * or refuses, including the "%.9g" rows a serving client sends. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"

#ifdef __GLIBC__
extern double __strtod_internal(const char *restrict s, char **restrict end, int group);

static long mismatches, compared;

static void compare(const char *s) {
    char *e1 = NULL, *e2 = NULL;
    compared++;
    errno = 0;
    const double a = strtod(s, &e1);
    const int err1 = errno;
    errno = 0;
    const double b = __strtod_internal(s, &e2, 0);
    const int err2 = errno;
    const int same = memcmp(&a, &b, sizeof a) == 0 && e1 == e2 && err1 == err2;
    if (!same && mismatches++ < 10)
        CHECK(0, "'%s': ours %.17g (end +%td, errno %d), glibc's %.17g (end +%td, errno %d)", s, a, e1 - s, err1, b,
              e2 - s, err2);
    /* a NULL end pointer takes the same path */
    const double c = strtod(s, NULL);
    if (memcmp(&a, &c, sizeof a) != 0 && mismatches++ < 10) CHECK(0, "'%s': a NULL end pointer gives %.17g", s, c);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static int below(int n) { return (int)(next() % (uint64_t)n); }

/* a random decimal: sign, integer digits (sometimes leading zeros), fraction, exponent, and
 * sometimes a character after it that ends the number */
static void random_decimal(char *s) {
    char *o = s;
    const int sign = below(3);
    if (sign) *o++ = sign == 1 ? '-' : '+';
    const int n_int = below(4) == 0 ? below(23) : below(8);
    const int zeros = below(4) == 0 ? below(4) : 0;
    for (int i = 0; i < zeros; i++) *o++ = '0';
    for (int i = 0; i < n_int; i++) *o++ = (char)('0' + below(10));
    if (below(3)) {
        *o++ = '.';
        const int n_frac = below(4) == 0 ? below(23) : below(10);
        for (int i = 0; i < n_frac; i++) *o++ = (char)('0' + (below(5) == 0 ? 0 : below(10)));
    }
    if (below(3) == 0) {
        *o++ = below(2) ? 'e' : 'E';
        const int es = below(3);
        if (es) *o++ = es == 1 ? '-' : '+';
        const int n_exp = below(6) == 0 ? 0 : below(6) == 0 ? 1 + below(5) : 1 + below(2);
        for (int i = 0; i < n_exp; i++) *o++ = (char)('0' + below(10));
    }
    static const char tail[] = "x.e+-, a]}";
    if (below(4) == 0) *o++ = tail[below((int)sizeof tail - 1)];
    *o = 0;
}
#endif

int main(void) {
#ifndef __GLIBC__
    return check_skip("test_strtod_fast", "the fast path is built only with glibc");
#else
    static const char *const edge[] = {
        "0", "-0", "+0", "0.0", "-0.0", "1", "-1", "1.", ".5", "-.5", ".", "-", "+", "", " 1", "\t2.5", "1e", "1e+",
        "1e-", "1e-5", "1E22", "1e23", "1e-22", "1e-23", "9007199254740991", "9007199254740992", "9007199254740993",
        "18014398509481985", "1234567890123456789", "12345678901234567890", "0.1", "0.2", "0.3", "3.14159265358979323846",
        "0000000000000000000000001.5", "1.50000000000000000000000", "1,5", "1e0000000000000000000000022", "1e00022",
        "4.9e-324", "2.2250738585072014e-308", "1.7976931348623157e308", "1e400", "-1e400", "1e-400", "0x1p3", "0X10",
        "-0x1.8p1", "0x", "inf", "-Infinity", "nan", "NAN(123)", "1.2.3", "1e5e5", "--1", "+-1", "1e+-5",
        "-1.23456789e-08", "123456789e-9", "8.9999999e+22", "1e22x", "0e999", "0e-999", "00", "0.000000000000000000000001",
        "999999999999999999e-22", "9999999999999999999e3", "0.9999999999999999999", "5e-1", "2.5e+00",
    };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) compare(edge[i]);
    char s[128];
    for (long i = 0; i < 1000000; i++) {   /* random decimals of every shape */
        random_decimal(s);
        compare(s);
    }
    for (long i = 0; i < 1000000; i++) {   /* the serving client's rows: "%.9g" of any finite float */
        uint32_t bits = (uint32_t)next();
        float f;
        memcpy(&f, &bits, sizeof f);
        if (f != f || f - f != 0) continue;
        snprintf(s, sizeof s, "%.9g", (double)f);
        compare(s);
    }
    for (long i = 0; i < 300000; i++) {   /* doubles written with 6 to 17 digits, plain and scientific */
        uint64_t bits = next();
        double d;
        memcpy(&d, &bits, sizeof d);
        if (d != d || d - d != 0) continue;
        if (below(2)) d = (double)(int64_t)(next() % 2000001) / 1000.0 - 1000.0;   /* CSV-like values */
        snprintf(s, sizeof s, below(2) ? "%.*g" : "%.*e", 6 + below(12), d);
        compare(s);
        snprintf(s, sizeof s, "%.*f", below(8), (double)(int64_t)(next() % 100000000) / 1000.0);
        compare(s);
    }
    /* the fast path itself must be the one linked here */
    CHECK((void *)strtod != (void *)__strtod_internal, "strtod is glibc's own: the fast path is not linked");
    CHECK(mismatches == 0, "%ld of %ld inputs differ from glibc's strtod", mismatches, compared);
    printf("compared %ld inputs with glibc's strtod\n", compared);
    return check_done("test_strtod_fast");
#endif
}
