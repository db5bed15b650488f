/* Fuzz harness: the tool's strtod (src/cli/strtod_fast.c) against the C library's.
 *
 * The tool's executable defines strtod, so every number cJSON and the CSV readers parse goes
 * through its fast path. Its promise is to return exactly what glibc's strtod returns: the
 * same double bit for bit, the same end pointer and the same errno, for any string. The
 * input is the string (up to its first NUL, with one added); both routines read it, and any
 * difference aborts. The file is compiled here with its strtod renamed, so the harness (and
 * libFuzzer) keep the C library's and the two can be called side by side. */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifdef __GLIBC__
double strtod_under_test(const char *restrict s, char **restrict end);
#define strtod strtod_under_test
#include "../src/cli/strtod_fast.c"
#undef strtod

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_INPUT = 256 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MAX_INPUT) return 0;
    char *s = malloc(size + 1);   /* exactly the string and its NUL: a read past it is caught */
    FUZZ_ASSERT(s != NULL);
    if (size) memcpy(s, data, size);
    s[size] = 0;
    char *end_fast = NULL, *end_libc = NULL;
    errno = 0;
    const double fast = strtod_under_test(s, &end_fast);
    const int errno_fast = errno;
    errno = 0;
    const double libc = __strtod_internal(s, &end_libc, 0);
    const int errno_libc = errno;
    FUZZ_ASSERT(memcmp(&fast, &libc, sizeof fast) == 0);
    FUZZ_ASSERT(end_fast == end_libc);
    FUZZ_ASSERT(errno_fast == errno_libc);
    /* a null end pointer is allowed, and gives the same value */
    const double again = strtod_under_test(s, NULL);
    FUZZ_ASSERT(memcmp(&again, &libc, sizeof again) == 0);
    free(s);
    return 0;
}
#else
/* without glibc the tool uses the C library's strtod as it is: nothing to compare */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    (void)data;
    (void)size;
    return 0;
}
#endif
