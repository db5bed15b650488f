#include "check.h"
#include <stdarg.h>

int check_failures = 0, check_count = 0;

void check_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    check_failures++;
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int check_done(const char *name) {
    if (check_failures) {
        printf("%s: FAILED %d of %d checks\n", name, check_failures, check_count);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, check_count);
    return 0;
}

int check_skip(const char *name, const char *why) {
    printf("%s: SKIPPED: %s\n", name, why);
    return 77;
}
