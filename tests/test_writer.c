/* All-or-nothing output files: a failed write (the file size limit stands in for a full disk)
 * leaves the previous file byte for byte and no temporary behind; folders, devices, pipes and
 * links are refused, never replaced; appends keep the header once, and appends from several
 * processes at once to one file lose no row. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aaren_io.h"
#include "check.h"
#include "data/d4rl.h"

static char err[1024];

/* Entries of the test folder (temporaries included). */
static int n_entries(void) {
    DIR *d = opendir(check_tmp_dir());
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    return n;
}

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = malloc(1 << 20);
    *n = b ? fread(b, 1, 1 << 20, f) : 0;
    fclose(f);
    return b;
}

/* Runs write(path) with the file size limit at `limit` bytes; the limit is lifted after. */
static int with_size_limit(rlim_t limit, int (*write)(const char *), const char *path) {
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = limit;
    setrlimit(RLIMIT_FSIZE, &lim);
    const int rc = write(path);
    setrlimit(RLIMIT_FSIZE, &old);
    return rc;
}

static float big[200000];
static int write_npy(const char *path) {
    const int64_t shape[1] = {200000};
    return aaren_npy_write(path, big, 1, shape, err, sizeof err);
}
static int write_st(const char *path) {
    aaren_st st;
    aaren_st_init(&st);
    const int64_t shape[1] = {200000};
    int rc = aaren_st_put(&st, "w", 1, shape, big) ? aaren_st_write(path, &st, err, sizeof err) : -1;
    aaren_st_free(&st);
    return rc;
}
static int write_h5(const char *path) {
    aaren_d4rl d;
    if (aaren_d4rl_alloc(&d, 20000, 3, 2, 0)) return -2;
    d.timeouts[d.n - 1] = 1;
    const int rc = aaren_d4rl_save(path, &d, err, sizeof err);
    aaren_d4rl_free(&d);
    return rc;
}

/* A write that fails part way leaves the previous file as it was, and nothing else. */
static void test_failed_write(const char *label, int (*write)(const char *), const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s", check_tmp_path(name));
    const char prev[] = "the previous file, which must survive";
    check_write_text(name, prev);
    const int before = n_entries();
    const int rc = with_size_limit(4096, write, path);
    CHECK(rc != 0, "%s: a write past the size limit reported success", label);
    CHECK(strstr(err, name) && strstr(err, "unchanged"), "%s: message '%s' names neither the file nor its state", label, err);
    size_t n = 0;
    char *got = slurp(path, &n);
    CHECK(got && n == strlen(prev) && !memcmp(got, prev, n), "%s: the previous file changed (%zu bytes)", label, n);
    free(got);
    CHECK(n_entries() == before, "%s: a temporary was left behind (%d entries, %d before)", label, n_entries(), before);
    CHECK(write(path) == 0, "%s: the same write without the limit failed: %s", label, err);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size > 4096, "%s: the successful write did not replace the file", label);
    CHECK(n_entries() == before, "%s: a temporary was left after a successful write", label);
    remove(path);
}

static void test_refusals(void) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", check_tmp_path("sub"));
    mkdir(dir, 0777);
    CHECK(write_npy(dir) != 0 && strstr(err, "a folder"), "a folder as the target: '%s'", err);
    CHECK(write_npy("/dev/null") != 0 && strstr(err, "a device"), "a device as the target: '%s'", err);
    char fifo[1024];
    snprintf(fifo, sizeof fifo, "%s", check_tmp_path("fifo"));
    CHECK(mkfifo(fifo, 0666) == 0, "mkfifo");
    CHECK(write_st(fifo) != 0 && strstr(err, "a pipe"), "a pipe as the target: '%s'", err);
    char target[1024], link[1024];
    snprintf(target, sizeof target, "%s", check_write_text("target", "keep"));
    snprintf(link, sizeof link, "%s", check_tmp_path("link"));
    CHECK(symlink(target, link) == 0, "symlink");
    CHECK(write_npy(link) != 0 && strstr(err, "symbolic link"), "a link as the target: '%s'", err);
    size_t n = 0;
    char *got = slurp(target, &n);
    CHECK(got && n == 4 && !memcmp(got, "keep", 4), "the link's target changed");
    free(got);
    CHECK(write_npy(check_tmp_path("no/such/folder.npy")) != 0 && strstr(err, "no/such"), "a missing folder: '%s'", err);
    struct stat st;
    CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode), "the folder was replaced");
    CHECK(aaren_check_writable(check_tmp_path("fresh.npy"), err, sizeof err) == 0, "check_writable on a new name: %s", err);
    CHECK(access(check_tmp_path("fresh.npy"), F_OK) != 0, "check_writable created the file");
    CHECK(aaren_check_writable(check_tmp_path("no/such/x"), err, sizeof err) != 0, "check_writable accepted a missing folder");
    CHECK(aaren_check_writable(dir, err, sizeof err) != 0, "check_writable accepted a folder");
    rmdir(dir);
    remove(fifo);
    remove(link);
    remove(target);
}

static void test_writer_api(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s", check_tmp_path("w.txt"));
    check_write_text("w.txt", "old");
    aaren_writer *w = aaren_writer_open(path, err, sizeof err);
    CHECK(w != NULL, "writer_open: %s", err);
    if (!w) return;
    fputs("new text", aaren_writer_file(w));
    size_t n = 0;
    char *got = slurp(path, &n);
    CHECK(got && n == 3, "the target changed before commit");
    free(got);
    aaren_writer_abort(w);
    got = slurp(path, &n);
    CHECK(got && n == 3 && !memcmp(got, "old", 3), "abort changed the target");
    free(got);
    CHECK(n_entries() == 1, "abort left a temporary (%d entries)", n_entries());
    w = aaren_writer_open(path, err, sizeof err);
    CHECK(w != NULL, "writer_open: %s", err);
    if (!w) return;
    fputs("new text", aaren_writer_file(w));
    CHECK(aaren_writer_commit(w, err, sizeof err) == 0, "commit: %s", err);
    got = slurp(path, &n);
    CHECK(got && n == 8 && !memcmp(got, "new text", 8), "commit did not land the text");
    free(got);
    remove(path);
}

static void test_append(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s", check_tmp_path("runs.csv"));
    CHECK(aaren_append_text(path, "a,b\n", "1,2\n", err, sizeof err) == 0, "append to a new file: %s", err);
    CHECK(aaren_append_text(path, "a,b\n", "3,4\n", err, sizeof err) == 0, "append: %s", err);
    size_t n = 0;
    char *got = slurp(path, &n);
    CHECK(got && n == 12 && !memcmp(got, "a,b\n1,2\n3,4\n", 12), "appended file is '%.*s'", (int)n, got ? got : "");
    free(got);
    check_write_text("runs.csv", "a,b\n1,2");   /* a last line without its newline */
    CHECK(aaren_append_text(path, "a,b\n", "5,6\n", err, sizeof err) == 0, "append: %s", err);
    got = slurp(path, &n);
    CHECK(got && n == 12 && !memcmp(got, "a,b\n1,2\n5,6\n", 12), "append after an unterminated line: '%.*s'", (int)n,
          got ? got : "");
    free(got);
    CHECK(aaren_append_text("/dev/null", NULL, "x\n", err, sizeof err) != 0, "append to a device was accepted");
    remove(path);
}

/* Several processes append to one file at once (shards of a grid writing one runs CSV): every
 * row of every process is there exactly once, after the header once. */
static void test_concurrent_append(void) {
    enum { PROCS = 4, ROWS = 40 };
    char path[1024];
    snprintf(path, sizeof path, "%s", check_tmp_path("shared_runs.csv"));
    remove(path);
    pid_t kids[PROCS];
    for (int p = 0; p < PROCS; p++) {
        kids[p] = fork();
        CHECK(kids[p] >= 0, "fork failed");
        if (kids[p] == 0) {
            char row[64], e[512];
            int bad = 0;
            for (int i = 0; i < ROWS; i++) {
                snprintf(row, sizeof row, "%d,%d\n", p, i);
                bad |= aaren_append_text(path, "proc,row\n", row, e, sizeof e) != 0;
            }
            _exit(bad);
        }
    }
    int failed = 0;
    for (int p = 0; p < PROCS; p++) {
        int st = 0;
        waitpid(kids[p], &st, 0);
        failed += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    }
    CHECK(failed == 0, "%d appending processes failed", failed);
    size_t n = 0;
    char *got = slurp(path, &n);
    CHECK(got != NULL, "cannot read %s back", path);
    int seen[PROCS][ROWS];
    memset(seen, 0, sizeof seen);
    int lines = 0, headers = 0, other = 0;
    for (char *line = got; line < got + n;) {
        char *nl = memchr(line, '\n', (size_t)(got + n - line));
        if (!nl) { other++; break; }
        *nl = 0;
        int a, b;
        if (!strcmp(line, "proc,row")) headers++;
        else if (sscanf(line, "%d,%d", &a, &b) == 2 && a >= 0 && a < PROCS && b >= 0 && b < ROWS) seen[a][b]++;
        else other++;
        lines++;
        line = nl + 1;
    }
    int missing = 0, doubled = 0;
    for (int p = 0; p < PROCS; p++)
        for (int i = 0; i < ROWS; i++) missing += seen[p][i] == 0, doubled += seen[p][i] > 1;
    CHECK(headers == 1 && other == 0 && missing == 0 && doubled == 0 && lines == 1 + PROCS * ROWS,
          "%d processes x %d appends: %d lines, %d headers, %d rows missing, %d doubled, %d others", PROCS, ROWS, lines,
          headers, missing, doubled, other);
    free(got);
    remove(path);
}

int main(void) {
    if (!check_tmp_dir()) return check_skip("test_writer", "no temporary folder");
    signal(SIGXFSZ, SIG_IGN);   /* past the size limit, write() fails with EFBIG instead */
    for (int i = 0; i < 200000; i++) big[i] = (float)i;
    test_failed_write("npy", write_npy, "a.npy");
    test_failed_write("safetensors", write_st, "a.safetensors");
    if (aaren_hdf5_available()) test_failed_write("hdf5", write_h5, "a.hdf5");
    test_refusals();
    test_writer_api();
    test_append();
    test_concurrent_append();
    check_tmp_cleanup();
    return check_done("test_writer");
}
