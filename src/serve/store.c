/* The on-disk side of aaren serve (layout in store.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aaren_io.h"
#include "base/common.h"
#include "serve/serve.h"
#include "serve/store.h"

#define WAL_MAGIC 0x4c574141u    /* "AAWL" */
#define SNAP_MAGIC "AASNAP01"
#define REC_STATE 1
#define REC_DELETE 2
#define REC_HEAD 12              /* magic, length, checksum */
#define PAYLOAD_HEAD 16          /* kind + padding, id */
#define MAX_RECORD (1u << 30)    /* no stream state comes near a GiB */

struct serve_store {
    char *dir;
    int durable;
    int lock_fd, wal_fd;
    size_t wal_bytes;
    int broken;                  /* a failed commit: nothing more is written */
    unsigned char *group;        /* records of the group being formed */
    size_t group_len, group_cap;
    char *path;                  /* scratch for file names */
    size_t path_cap;
};

struct serve_snapshot {
    aaren_writer *w;
    uint32_t crc;
    uint64_t count;
};


static const char *file_path(serve_store *st, const char *name) {
    snprintf(st->path, st->path_cap, "%s/%s", st->dir, name);
    return st->path;
}

static const char *stream_path(serve_store *st, uint64_t id) {
    snprintf(st->path, st->path_cap, "%s/%016llx.state", st->dir, (unsigned long long)id);
    return st->path;
}

serve_store *serve_store_open(const char *dir, char *err, size_t errlen) {
    serve_store *st = calloc(1, sizeof *st);
    if (!st) { aaren_errf(err, errlen, "out of memory"); return NULL; }
    st->lock_fd = st->wal_fd = -1;
    st->durable = dir != NULL;
    if (dir) {
        if (mkdir(dir, 0777) && errno != EEXIST) {
            aaren_errf(err, errlen, "--state-dir %s: cannot create it: %s", dir, strerror(errno));
            goto bad;
        }
        struct stat sb;
        if (stat(dir, &sb) || !S_ISDIR(sb.st_mode)) {
            aaren_errf(err, errlen, "--state-dir %s: not a folder", dir);
            goto bad;
        }
        st->dir = strdup(dir);
    } else {
        const char *tmp = getenv("TMPDIR");
        char templ[4096];
        snprintf(templ, sizeof templ, "%s/aaren-serve-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(templ)) {
            aaren_errf(err, errlen, "cannot create a spill folder %s: %s", templ, strerror(errno));
            goto bad;
        }
        st->dir = strdup(templ);
    }
    st->path_cap = strlen(st->dir ? st->dir : "") + 64;
    st->path = malloc(st->path_cap);
    if (!st->dir || !st->path) { aaren_errf(err, errlen, "out of memory"); goto bad; }
    if (st->durable) {
        st->lock_fd = open(file_path(st, "lock"), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (st->lock_fd < 0) { aaren_errf(err, errlen, "%s: %s", st->path, strerror(errno)); goto bad; }
        if (flock(st->lock_fd, LOCK_EX | LOCK_NB)) {
            aaren_errf(err, errlen, "--state-dir %s is in use by another server (%s is locked)", dir, st->path);
            goto bad;
        }
        st->wal_fd = open(file_path(st, "wal.log"), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
        if (st->wal_fd < 0) { aaren_errf(err, errlen, "%s: %s", st->path, strerror(errno)); goto bad; }
    }
    return st;
bad:
    serve_store_close(st);
    return NULL;
}

void serve_store_close(serve_store *st) {
    if (!st) return;
    if (!st->durable && st->dir && st->path) {   /* the scratch folder goes with the server */
        DIR *d = opendir(st->dir);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)))
                if (strstr(e->d_name, ".state")) unlink(file_path(st, e->d_name));
            closedir(d);
        }
        rmdir(st->dir);
    }
    if (st->wal_fd >= 0) close(st->wal_fd);
    if (st->lock_fd >= 0) close(st->lock_fd);
    free(st->group);
    free(st->path);
    free(st->dir);
    free(st);
}

int serve_store_durable(const serve_store *st) { return st->durable; }
const char *serve_store_dir(const serve_store *st) { return st->dir; }
size_t serve_store_log_bytes(const serve_store *st) { return st->wal_bytes; }

/* ---- reading ---------------------------------------------------------------------------- */

/* The whole of a small file into *buf. */
static int read_file(const char *path, unsigned char **buf, size_t *cap, size_t *len, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return aaren_errf(err, errlen, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        close(fd);
        return aaren_errf(err, errlen, "%s: not a regular file", path);
    }
    const size_t n = (size_t)sb.st_size;
    if (n > *cap) {
        unsigned char *nb = realloc(*buf, n ? n : 1);
        if (!nb) { close(fd); return aaren_errf(err, errlen, "%s: out of memory for %zu bytes", path, n); }
        *buf = nb;
        *cap = n;
    }
    size_t got = 0;
    while (got < n) {
        const ssize_t r = read(fd, *buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { close(fd); return aaren_errf(err, errlen, "%s: read failed: %s", path, r ? strerror(errno) : "short file"); }
        got += (size_t)r;
    }
    close(fd);
    *len = n;
    return 0;
}

static int is_stream_file(const char *name, uint64_t *id) {
    return strlen(name) == 22 && !strcmp(name + 16, ".state") && !aaren_serve_parse_id(name, 16, id);
}

int serve_store_recover(serve_store *st,
                        int (*state)(void *ctx, int source, uint64_t id, const void *rec, size_t len),
                        void *ctx, char *note, size_t notelen, char *err, size_t errlen) {
    if (note && notelen) note[0] = 0;
    if (!st->durable) return 0;
    unsigned char *buf = NULL;
    size_t cap = 0, len = 0;
    int rc = 0;
    /* spill files */
    DIR *d = opendir(st->dir);
    if (!d) return aaren_errf(err, errlen, "%s: %s", st->dir, strerror(errno));
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        uint64_t id;
        if (!is_stream_file(e->d_name, &id)) continue;
        char name[32];
        snprintf(name, sizeof name, "%.31s", e->d_name);   /* is_stream_file: 22 bytes */
        rc = read_file(file_path(st, name), &buf, &cap, &len, err, errlen);
        if (!rc && state(ctx, 0, id, buf, len))
            rc = aaren_errf(err, errlen, "%s: cannot be recovered (not a stream state of this model, or more streams than --max-total)", st->path);
    }
    closedir(d);
    /* the snapshot */
    if (!rc && access(file_path(st, "snapshot.bin"), F_OK) == 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s", st->path);
        rc = read_file(path, &buf, &cap, &len, err, errlen);
        size_t off = 8;
        uint64_t count = 0;
        if (!rc && (len < 20 || memcmp(buf, SNAP_MAGIC, 8))) rc = aaren_errf(err, errlen, "%s: not an aaren serve snapshot", path);
        if (!rc) {
            uint32_t crc;
            memcpy(&crc, buf + len - 4, 4);
            memcpy(&count, buf + len - 12, 8);
            if (aaren_serve_crc32(0, buf, len - 4) != crc) rc = aaren_errf(err, errlen, "%s: checksum mismatch (damaged file)", path);
        }
        const size_t stop = len - 12;
        for (uint64_t i = 0; !rc && i < count; i++) {
            uint64_t id, n;
            if (stop - off < 16) { rc = aaren_errf(err, errlen, "%s: entry %llu runs past the end", path, (unsigned long long)i); break; }
            memcpy(&id, buf + off, 8);
            memcpy(&n, buf + off + 8, 8);
            off += 16;
            if (n > stop - off) { rc = aaren_errf(err, errlen, "%s: entry %llu runs past the end", path, (unsigned long long)i); break; }
            if (state(ctx, 1, id, buf + off, (size_t)n))
                rc = aaren_errf(err, errlen, "%s: entry %llu cannot be recovered (not a stream state of this model, or more "
                          "streams than --max-total)", path, (unsigned long long)i);
            off += (size_t)n;
        }
        if (!rc && off != stop) rc = aaren_errf(err, errlen, "%s: %zu unexpected bytes after the entries", path, stop - off);
    }
    /* the log, in order; a bad record ends it */
    if (!rc) {
        rc = read_file(file_path(st, "wal.log"), &buf, &cap, &len, err, errlen);
        size_t off = 0;
        long n_rec = 0;
        while (!rc && off < len) {
            uint32_t magic, plen, crc;
            if (len - off < REC_HEAD) break;
            memcpy(&magic, buf + off, 4);
            memcpy(&plen, buf + off + 4, 4);
            memcpy(&crc, buf + off + 8, 4);
            if (magic != WAL_MAGIC || plen < PAYLOAD_HEAD || plen > MAX_RECORD || plen > len - off - REC_HEAD) break;
            const unsigned char *p = buf + off + REC_HEAD;
            if (aaren_serve_crc32(0, p, plen) != crc) break;
            uint64_t id;
            memcpy(&id, p + 8, 8);
            if (p[0] == REC_STATE) {
                if (state(ctx, 2, id, p + PAYLOAD_HEAD, plen - PAYLOAD_HEAD))
                    rc = aaren_errf(err, errlen, "%s: record %ld at byte %zu cannot be recovered (not a stream state of this "
                              "model, or more streams than --max-total)", st->path, n_rec, off);
            } else if (p[0] == REC_DELETE) {
                state(ctx, 2, id, NULL, 0);
            } else {
                break;
            }
            off += REC_HEAD + plen;
            n_rec++;
        }
        if (!rc && off < len) {
            if (note && notelen)
                snprintf(note, notelen, "%s: dropped a torn or damaged record at byte %zu (%zu bytes) after %ld good records",
                         st->path, off, len - off, n_rec);
            if (ftruncate(st->wal_fd, (off_t)off) || fsync(st->wal_fd))
                rc = aaren_errf(err, errlen, "%s: cannot cut the torn record off: %s", st->path, strerror(errno));
        }
        st->wal_bytes = off;
    }
    free(buf);
    return rc;
}

/* ---- the log ------------------------------------------------------------------------------ */

static int add_record(serve_store *st, int kind, uint64_t id, const void *rec, size_t len) {
    const size_t plen = PAYLOAD_HEAD + len, need = st->group_len + REC_HEAD + plen;
    if (need > st->group_cap) {
        size_t nc = st->group_cap ? st->group_cap : 65536;
        while (nc < need) nc *= 2;
        unsigned char *nb = realloc(st->group, nc);
        if (!nb) return -1;
        st->group = nb;
        st->group_cap = nc;
    }
    unsigned char *h = st->group + st->group_len, *p = h + REC_HEAD;
    memset(p, 0, PAYLOAD_HEAD);
    p[0] = (unsigned char)kind;
    memcpy(p + 8, &id, 8);
    if (len) memcpy(p + PAYLOAD_HEAD, rec, len);
    const uint32_t magic = WAL_MAGIC, l32 = (uint32_t)plen, crc = aaren_serve_crc32(0, p, plen);
    memcpy(h, &magic, 4);
    memcpy(h + 4, &l32, 4);
    memcpy(h + 8, &crc, 4);
    st->group_len = need;
    return 0;
}

int serve_store_log_state(serve_store *st, uint64_t id, const void *rec, size_t len) {
    return st->durable ? add_record(st, REC_STATE, id, rec, len) : 0;
}

int serve_store_log_delete(serve_store *st, uint64_t id) {
    return st->durable ? add_record(st, REC_DELETE, id, NULL, 0) : 0;
}

int serve_store_commit(serve_store *st, char *err, size_t errlen) {
    if (!st->durable) return 0;
    if (st->broken) return aaren_errf(err, errlen, "%s/wal.log: an earlier write failed; restart the server", st->dir);
    size_t done = 0;
    while (done < st->group_len) {
        const ssize_t w = write(st->wal_fd, st->group + done, st->group_len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            st->broken = 1;
            return aaren_errf(err, errlen, "%s/wal.log: write failed: %s", st->dir, w ? strerror(errno) : "no progress");
        }
        done += (size_t)w;
    }
    if (st->group_len && fdatasync(st->wal_fd)) {
        st->broken = 1;
        return aaren_errf(err, errlen, "%s/wal.log: fdatasync failed: %s", st->dir, strerror(errno));
    }
    st->wal_bytes += st->group_len;
    st->group_len = 0;
    return 0;
}

/* ---- compaction ----------------------------------------------------------------------- */

serve_snapshot *serve_store_snapshot_begin(serve_store *st, char *err, size_t errlen) {
    serve_snapshot *w = calloc(1, sizeof *w);
    if (!w) { aaren_errf(err, errlen, "out of memory"); return NULL; }
    w->w = aaren_writer_open(file_path(st, "snapshot.bin"), err, errlen);
    if (!w->w) { free(w); return NULL; }
    fwrite(SNAP_MAGIC, 1, 8, aaren_writer_file(w->w));
    w->crc = aaren_serve_crc32(0, SNAP_MAGIC, 8);
    return w;
}

/* Writes n bytes into the snapshot and its running checksum. */
static int snap_write(serve_snapshot *w, const void *p, size_t n) {
    w->crc = aaren_serve_crc32(w->crc, p, n);
    return fwrite(p, 1, n, aaren_writer_file(w->w)) == n ? 0 : -1;
}

int serve_store_snapshot_add(serve_snapshot *w, uint64_t id, const void *rec, size_t len) {
    const uint64_t n = len;
    if (snap_write(w, &id, 8) || snap_write(w, &n, 8) || snap_write(w, rec, len)) return -1;
    w->count++;
    return 0;
}

int serve_store_snapshot_commit(serve_store *st, serve_snapshot *w, char *err, size_t errlen) {
    /* trailer: the entry count, then the checksum of everything before it */
    int rc = snap_write(w, &w->count, 8);
    const uint32_t crc = w->crc;
    if (!rc && fwrite(&crc, 4, 1, aaren_writer_file(w->w)) != 1) rc = -1;
    if (rc) {
        aaren_writer_abort(w->w);
        free(w);
        return aaren_errf(err, errlen, "%s/snapshot.bin: write failed", st->dir);
    }
    rc = aaren_writer_commit(w->w, err, errlen);
    free(w);
    if (rc) return -1;
    /* the snapshot holds what the log held: empty the log */
    if (ftruncate(st->wal_fd, 0) || fsync(st->wal_fd)) {
        st->broken = 1;
        return aaren_errf(err, errlen, "%s/wal.log: cannot empty it after the snapshot: %s", st->dir, strerror(errno));
    }
    st->wal_bytes = 0;
    return 0;
}

/* ---- spill files ------------------------------------------------------------------------- */

int serve_store_put(serve_store *st, uint64_t id, const void *rec, size_t len, char *err, size_t errlen) {
    aaren_writer *w = aaren_writer_open(stream_path(st, id), err, errlen);
    if (!w) return -1;
    fwrite(rec, 1, len, aaren_writer_file(w));
    return aaren_writer_commit(w, err, errlen);
}

int serve_store_get(serve_store *st, uint64_t id, void **buf, size_t *cap, size_t *len, char *err, size_t errlen) {
    unsigned char *b = *buf;
    const int rc = read_file(stream_path(st, id), &b, cap, len, err, errlen);
    *buf = b;
    return rc;
}

void serve_store_drop(serve_store *st, uint64_t id) { unlink(stream_path(st, id)); }

uint64_t serve_store_disk_bytes(const serve_store *st) {
    uint64_t total = 0;
    DIR *d = opendir(st->dir);
    if (!d) return 0;
    struct dirent *e;
    char path[4200];
    while ((e = readdir(d))) {
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", st->dir, e->d_name);
        if (!stat(path, &sb) && S_ISREG(sb.st_mode)) total += (uint64_t)sb.st_size;
    }
    closedir(d);
    return total;
}
