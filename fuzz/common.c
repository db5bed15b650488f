/* Shared by the fuzz harnesses: input files in a private folder, message checks. */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[512];
static char path_buf[1024];

static void remove_dir(void) {
    if (!dir[0]) return;
    static const char *names[] = {"input", "input.npy", "input.safetensors", "input.csv", "input.ts",
                                  "input.hdf5", "copy.safetensors", "copy.npy"};
    char p[1024];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void make_dir(void) {
    const char *base = getenv("AAREN_FUZZ_TMP");
    struct stat sb;
    if (!base || !*base) base = (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode)) ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/aaren-fuzz-XXXXXX", base);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "fuzz: cannot make a folder under %s\n", base);
        abort();
    }
    atexit(remove_dir);
}

const char *fuzz_put(const char *name, const uint8_t *data, size_t size) {
    if (!dir[0]) make_dir();
    snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
    FILE *f = fopen(path_buf, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) {
        fprintf(stderr, "fuzz: cannot write %s\n", path_buf);
        abort();
    }
    return path_buf;
}

void fuzz_fail(const char *file, int line, const char *what) {
    fprintf(stderr, "fuzz: %s:%d: check failed: %s\n", file, line, what);
    abort();
}

static int verbose(void) {
    static int v = -1;
    if (v < 0) v = getenv("AAREN_FUZZ_VERBOSE") != NULL;
    return v;
}

void fuzz_note_loaded(const char *what, const char *path) {
    if (verbose()) fprintf(stderr, "fuzz: %s: %s loaded\n", what, path);
}

void fuzz_check_message(const char *what, const char *path, const char *err) {
    if (verbose()) fprintf(stderr, "fuzz: %s: %s\n", what, err);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!err[0] || strchr(err, '\n') || !strstr(err, base)) {
        fprintf(stderr, "fuzz: %s failed with %s message: '%s'\n", what,
                !err[0] ? "an empty" : strchr(err, '\n') ? "a multi-line" : "a file-less", err);
        abort();
    }
}

double fuzz_touch(const float *v, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += v[i];
    return s;
}
