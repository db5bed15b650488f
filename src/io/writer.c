/* All-or-nothing output files (see aaren_io.h): a temporary file beside the target, flushed
 * and synced, then renamed over it; the folder is synced after the rename. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE   /* flock */
#include "base/common.h"
#include "aaren_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct aaren_writer {
    FILE *f;
    char *path;     /* the target */
    char *tmp;      /* the temporary, in the target's folder */
    char *dir;      /* the target's folder */
};

enum { APPEND_MAX = 64 << 20 };

/* The folder of path ("." for a bare name); malloc'd, NULL when out of memory. */
static char *folder_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    char *d = malloc((size_t)(slash - path) + 1);
    if (d) {
        memcpy(d, path, (size_t)(slash - path));
        d[slash - path] = '\0';
    }
    return d;
}

/* 0 when path is absent or a regular file; else -1 with the reason. */
static int target_ok(const char *path, char *err, size_t errlen) {
    struct stat st;
    if (!*path) return aaren_errf(err, errlen, "empty output path");
    if (path[strlen(path) - 1] == '/') return aaren_file_err(err, errlen, path, "names a folder, not a file");
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : aaren_file_err(err, errlen, path, "cannot inspect: %s", strerror(errno));
    if (S_ISREG(st.st_mode)) return 0;
    return aaren_file_err(err, errlen, path, "is %s, not a regular file; refusing to replace it",
                          S_ISDIR(st.st_mode) ? "a folder" : S_ISLNK(st.st_mode) ? "a symbolic link"
                          : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : S_ISFIFO(st.st_mode) ? "a pipe"
                          : "a special file");
}

/* Creates a new file "<dir>/.<base>.tmp-<pid>-<k>" with O_EXCL; returns its descriptor and
 * sets *tmp (malloc'd), or -1 with the reason. */
static int make_tmp(const char *path, const char *dir, char **tmp, char *err, size_t errlen) {
    static unsigned counter;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const size_t cap = strlen(dir) + strlen(base) + 64;
    char *t = malloc(cap);
    if (!t) return aaren_file_err(err, errlen, path, "out of memory");
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(t, cap, "%s/.%s.tmp-%ld-%u", dir, base, (long)getpid(), counter++);
        const int fd = open(t, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            *tmp = t;
            return fd;
        }
        if (errno != EEXIST) {
            const int e = errno;
            free(t);
            return aaren_file_err(err, errlen, path, "cannot create a file in %s: %s", dir, strerror(e));
        }
    }
    free(t);
    return aaren_file_err(err, errlen, path, "cannot find a free temporary name in %s", dir);
}

static void writer_free(aaren_writer *w) {
    free(w->path);
    free(w->tmp);
    free(w->dir);
    free(w);
}

aaren_writer *aaren_writer_open(const char *path, char *err, size_t errlen) {
    if (!path) {
        aaren_errf(err, errlen, "no output path");
        return NULL;
    }
    if (target_ok(path, err, errlen)) return NULL;
    aaren_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path)) || !(w->dir = folder_of(path))) {
        if (w) writer_free(w);
        aaren_file_err(err, errlen, path, "out of memory");
        return NULL;
    }
    const int fd = make_tmp(path, w->dir, &w->tmp, err, errlen);
    if (fd < 0) {
        writer_free(w);
        return NULL;
    }
    if (!(w->f = fdopen(fd, "wb"))) {
        aaren_file_err(err, errlen, path, "cannot open a stream: %s", strerror(errno));
        close(fd);
        unlink(w->tmp);
        writer_free(w);
        return NULL;
    }
    return w;
}

FILE *aaren_writer_file(aaren_writer *w) { return w->f; }

void aaren_writer_abort(aaren_writer *w) {
    if (!w) return;
    if (w->f) fclose(w->f);
    unlink(w->tmp);
    writer_free(w);
}

int aaren_writer_commit(aaren_writer *w, char *err, size_t errlen) {
    int e = 0;
    const char *what = NULL;
    if (ferror(w->f)) what = "write error", e = EFBIG;   /* the stream keeps no errno: the usual causes */
    else if (fflush(w->f) != 0) what = "write error", e = errno;
    else if (fsync(fileno(w->f)) != 0) what = "cannot sync to disk", e = errno;
    if (fclose(w->f) != 0 && !what) what = "write error", e = errno;
    w->f = NULL;
    if (!what && target_ok(w->path, NULL, 0) != 0) what = "the target became something other than a file", e = EEXIST;
    if (!what && rename(w->tmp, w->path) != 0) what = "cannot rename the finished file into place", e = errno;
    if (what) {
        aaren_file_err(err, errlen, w->path, "%s: %s (the previous file, if any, is unchanged)", what,
                       e == ENOSPC ? "no space left on the device"
                       : e == EFBIG ? "disk full, quota or file size limit reached" : strerror(e));
        unlink(w->tmp);
        writer_free(w);
        return -1;
    }
    const int dfd = open(w->dir, O_RDONLY | O_CLOEXEC);
    if (dfd >= 0) {   /* the rename itself reaches the disk (best effort: some file systems refuse) */
        fsync(dfd);
        close(dfd);
    }
    writer_free(w);
    return 0;
}

int aaren_check_writable(const char *path, char *err, size_t errlen) {
    aaren_writer *w = aaren_writer_open(path, err, errlen);
    if (!w) return -1;
    aaren_writer_abort(w);
    return 0;
}

/* An append reads the file, writes it again with the text added and renames the new one over
 * it, so two processes appending to one file at once (two shards of a grid) would each write
 * what they read and one's rows would be lost. Appends therefore hold an exclusive lock on
 * the target's folder (flock on the folder itself: no lock file is left behind) from the read
 * to the rename. Returns the folder's descriptor, or -1 where the file system takes no such
 * lock (the append then goes on unlocked, as before). */
static int lock_folder(const char *path) {
    char *dir = folder_of(path);
    if (!dir) return -1;
    const int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0) return -1;
    int rc;
    while ((rc = flock(fd, LOCK_EX)) != 0 && errno == EINTR) {}
    if (rc != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int append_locked(const char *path, const char *header, const char *text, char *err, size_t errlen) {
    char *old = NULL;
    size_t n_old = 0;
    FILE *in = NULL;
    if ((in = fopen(path, "rb"))) {
        uint64_t size = 0;
        if (aaren_file_size(in, &size) != 0 || size > APPEND_MAX) {
            fclose(in);
            return aaren_file_err(err, errlen, path, size > APPEND_MAX ? "larger than 64 MiB; refusing to append to it"
                                                                       : "cannot determine the file size");
        }
        n_old = (size_t)size;
        old = malloc(n_old + 1);
        const int ok = old && fread(old, 1, n_old, in) == n_old;
        fclose(in);
        if (!ok) {
            free(old);
            return aaren_file_err(err, errlen, path, old ? "cannot read" : "out of memory");
        }
    } else if (errno != ENOENT) {
        return aaren_file_err(err, errlen, path, "cannot open: %s", strerror(errno));
    }
    aaren_writer *w = aaren_writer_open(path, err, errlen);
    if (!w) {
        free(old);
        return -1;
    }
    FILE *f = aaren_writer_file(w);
    if (n_old) fwrite(old, 1, n_old, f);
    if (n_old && old[n_old - 1] != '\n') fputc('\n', f);
    if (!n_old && header) fputs(header, f);
    fputs(text, f);
    free(old);
    return aaren_writer_commit(w, err, errlen);
}

int aaren_append_text(const char *path, const char *header, const char *text, char *err, size_t errlen) {
    if (target_ok(path, err, errlen)) return -1;
    const int lock = lock_folder(path);
    const int rc = append_locked(path, header, text, err, errlen);
    if (lock >= 0) close(lock);   /* closing the descriptor releases the lock */
    return rc;
}
