#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ---- temporary files ---------------------------------------------------------------------- */

static char tmp_dir[64];

const char *check_tmp_dir(void) {
    if (!tmp_dir[0]) {
        snprintf(tmp_dir, sizeof tmp_dir, "/tmp/aaren_test_XXXXXX");
        if (!mkdtemp(tmp_dir)) tmp_dir[0] = 0;
    }
    return tmp_dir[0] ? tmp_dir : NULL;
}

const char *check_tmp_path(const char *name) {
    static char p[256];
    snprintf(p, sizeof p, "%s/%s", tmp_dir, name);
    return p;
}

const char *check_write_bytes(const char *name, const void *bytes, size_t n) {
    const char *path = check_tmp_path(name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot create %s", path);
    if (!f) return path;
    CHECK(fwrite(bytes, 1, n, f) == n, "short write to %s", path);
    fclose(f);
    return path;
}

const char *check_write_text(const char *name, const char *s) { return check_write_bytes(name, s, strlen(s)); }

void check_tmp_cleanup(void) {
    if (tmp_dir[0]) CHECK(rmdir(tmp_dir) == 0, "temporary directory %s left non-empty", tmp_dir);
    tmp_dir[0] = 0;
}

void check_fuzz_file(const char *name, const char *text, size_t n, const char *odd, size_t n_odd, check_loader load) {
    char *buf = malloc(n ? n : 1);
    const char *path = check_tmp_path(name);
    int counts[3] = { 0, 0, 0 }, mutated_ok = 0;   /* -1, 0, 1 */
    CHECK(buf != NULL, "%s: out of memory", name);
    if (!buf) return;
    for (size_t k = 0; k <= n; k++) {
        check_write_bytes(name, text, k);
        counts[load(path) + 1]++;
    }
    CHECK(counts[2] > 0 && counts[1] > 0, "%s prefixes: %d loaded, %d refused", name, counts[2], counts[1]);
    memcpy(buf, text, n);
    for (size_t k = 0; k < n; k++) {
        for (size_t o = 0; o < n_odd; o++) {
            int r;
            buf[k] = odd[o];
            check_write_bytes(name, buf, n);
            r = load(path);
            counts[r + 1]++;
            mutated_ok += r == 1;
        }
        buf[k] = text[k];
    }
    CHECK(counts[0] == 0, "%s: %d loads returned an inconsistent object or no message", name, counts[0]);
    CHECK(mutated_ok > 0, "%s: no mutated file loaded", name);
    remove(path);
    free(buf);
}
