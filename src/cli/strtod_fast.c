/* The tool's strtod: an exact fast path in front of the C library's.
 *
 * Every number of a JSON body that `aaren serve` reads goes through strtod (cJSON calls it per
 * number), and so does every cell of the CSV files the other commands read. glibc's strtod is
 * correctly rounded but takes its multi-precision path for every input: at 1,000 streams of
 * 128 numbers a step it was about an eighth of the server's CPU time (results/serve.md).
 *
 * The fast path: a decimal [+-]digits[.digits][(e|E)[+-]digits] with at most 19 significant
 * digits, read as m 10^e with the integer m < 2^53 and |e| <= 22. Then m and 10^|e| are both
 * doubles exactly, and the one IEEE multiplication or division rounds the exact value m 10^e
 * correctly (W. D. Clinger, "How to read floating point numbers accurately", PLDI 1990): the
 * very double the C library returns, with the same end pointer, and errno untouched (no
 * such value overflows or underflows). Everything else (more digits, larger exponents,
 * hexadecimal, inf and nan, leading white space, no digits) goes to the C library's own
 * routine. tests/test_strtod_fast.c checks the two agree, bit for bit, on edge cases and
 * millions of random inputs.
 *
 * Defined in the tool's executable, it takes the place of the C library's strtod for the tool
 * and for the shared libraries it loads (ELF symbol interposition: cJSON's calls reach it);
 * the library libaaren never defines it, so programs that link libaaren keep their own. The
 * tool never calls setlocale, so the decimal point is '.', as the fast path assumes. Only
 * with glibc, whose __strtod_internal is the routine behind its strtod; elsewhere the C
 * library's strtod is used as it is. */
#include <stdlib.h>   /* defines __GLIBC__ with glibc */
#ifdef __GLIBC__
#include <stdint.h>

/* glibc's strtod itself: strtod(s, end) is __strtod_internal(s, end, 0) (0: no grouping) */
extern double __strtod_internal(const char *restrict s, char **restrict end, int group);

static const double exact_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                       1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The fast path: 1 and *out, *end set when s is a decimal it takes; 0 otherwise. */
static int decimal_fast(const char *s, char **end, double *out) {
    const char *p = s;
    const int neg = *p == '-';
    if (*p == '-' || *p == '+') p++;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) return 0;   /* hexadecimal */
    uint64_t m = 0;
    int sig = 0, e = 0, digits = 0;   /* significant digits read, power of ten, digits read */
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (sig == 19) return 0;
        m = m * 10 + (uint64_t)(*p - '0');
        sig += m != 0;
    }
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
            if (sig == 19) return 0;
            m = m * 10 + (uint64_t)(*p - '0');
            sig += m != 0;
            e--;
        }
    if (!digits) return 0;
    if (*p == 'e' || *p == 'E') {   /* an exponent counts only with at least one digit */
        const char *q = p + 1;
        const int eneg = *q == '-';
        if (*q == '-' || *q == '+') q++;
        if (*q >= '0' && *q <= '9') {
            int x = 0;
            for (; *q >= '0' && *q <= '9'; q++)
                if (x < 1000) x = x * 10 + (*q - '0');
            e += eneg ? -x : x;
            p = q;
        }
    }
    if (m >= (uint64_t)1 << 53 || e < -22 || e > 22) return 0;
    const double v = e < 0 ? (double)m / exact_pow10[-e] : (double)m * exact_pow10[e];
    *out = neg ? -v : v;
    if (end) *end = (char *)p;
    return 1;
}

double strtod(const char *restrict s, char **restrict end) {
    double v;
    if (decimal_fast(s, end, &v)) return v;
    return __strtod_internal(s, end, 0);
}
#else
typedef int aaren_strtod_fast_unused;   /* ISO C: a translation unit is not empty */
#endif
