/* D4RL-layout data sets (see d4rl.h). One allocation holds every array. The HDF5 reader opens
 * every dataset and checks every shape before it allocates, then reads and checks the values;
 * each HDF5 handle has one owner and is closed on every path. */
#define _POSIX_C_SOURCE 200809L
#include "data/d4rl.h"
#include "base/common.h"
#include "aaren_io.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the data set (no HDF5 needed) ------------------------------------------------------ */

aaren_d4rl_limits aaren_d4rl_limits_default(void) {
    const aaren_d4rl_limits l = {4096, 60};
    return l;
}

int aaren_d4rl_alloc(aaren_d4rl *d, long n, int obs_dim, int act_dim, int with_next) {
    memset(d, 0, sizeof *d);
    if (n < 0 || obs_dim < 1 || act_dim < 1) return -1;
    const size_t un = (size_t)n;
    const size_t floats = (size_t)obs_dim * (with_next ? 2 : 1) + (size_t)act_dim + 1;   /* per row */
    if (un > (SIZE_MAX / 2) / (floats * sizeof(float) + sizeof(long) + 2) - 1) return -1;
    /* [ep_start: n + 1 longs][observations][actions][rewards][next_observations][terminals][timeouts] */
    long *block = calloc(1, (un + 1) * sizeof(long) + un * floats * sizeof(float) + 2 * un);
    if (!block) return -1;
    float *f = (float *)(block + un + 1);
    d->block_ = block;
    d->ep_start = block;
    d->observations = f;  f += un * (size_t)obs_dim;
    d->actions = f;       f += un * (size_t)act_dim;
    d->rewards = f;       f += un;
    if (with_next) { d->next_observations = f; f += un * (size_t)obs_dim; }
    d->terminals = (unsigned char *)f;
    d->timeouts = d->terminals + un;
    d->n = n;
    d->obs_dim = obs_dim;
    d->act_dim = act_dim;
    return 0;
}

void aaren_d4rl_free(aaren_d4rl *d) {
    if (!d) return;
    free(d->block_);
    memset(d, 0, sizeof *d);
}

void aaren_d4rl_split(aaren_d4rl *d) {
    long e = 0;
    d->ep_start[0] = 0;
    for (long i = 0; i < d->n; i++)
        if (d->terminals[i] || d->timeouts[i]) d->ep_start[++e] = i + 1;
    if (d->ep_start[e] < d->n) d->ep_start[++e] = d->n;   /* the unfinished trailing run */
    d->n_episodes = e;
}

int aaren_d4rl_set_meta(aaren_d4rl *d, const char *key, const char *val) {
    if (strlen(key) >= AAREN_D4RL_KEY || strlen(val) >= AAREN_D4RL_VAL) return -1;
    int i = 0;
    while (i < d->n_meta && strcmp(d->meta_key[i], key)) i++;
    if (i == AAREN_D4RL_META) return -1;
    if (i == d->n_meta) d->n_meta++;
    strcpy(d->meta_key[i], key);
    strcpy(d->meta_val[i], val);
    return 0;
}

const char *aaren_d4rl_meta(const aaren_d4rl *d, const char *key) {
    for (int i = 0; i < d->n_meta; i++)
        if (!strcmp(d->meta_key[i], key)) return d->meta_val[i];
    return NULL;
}

static double episode_return(const aaren_d4rl *d, long e) {
    double r = 0;
    for (long i = d->ep_start[e]; i < d->ep_start[e + 1]; i++) r += d->rewards[i];
    return r;
}

void aaren_d4rl_stats_of(const aaren_d4rl *d, aaren_d4rl_stats *s) {
    memset(s, 0, sizeof *s);
    s->n = d->n;
    s->episodes = d->n_episodes;
    if (s->episodes < 1) return;
    double sum = 0, ss = 0;
    for (long e = 0; e < s->episodes; e++) {
        const double r = episode_return(d, e);
        const long last = d->ep_start[e + 1] - 1;
        sum += r;
        s->ret_min = e == 0 || r < s->ret_min ? r : s->ret_min;
        s->ret_max = e == 0 || r > s->ret_max ? r : s->ret_max;
        if (d->terminals[last]) s->terminated++;
        else if (d->timeouts[last]) s->timed_out++;
        else s->unfinished++;
    }
    s->ret_mean = sum / (double)s->episodes;
    for (long e = 0; e < s->episodes; e++) {
        const double dev = episode_return(d, e) - s->ret_mean;
        ss += dev * dev;
    }
    s->ret_std = s->episodes > 1 ? sqrt(ss / (double)(s->episodes - 1)) : 0;
    s->len_mean = (double)d->n / (double)s->episodes;
}

#ifdef AAREN_HAVE_HDF5
#include <hdf5.h>

/* Starting libhdf5 reads no file, so it is safe in the parent; a reading child forked
 * afterwards starts with the library ready instead of initialising it for every file. */
int aaren_hdf5_available(void) { return H5open() >= 0; }

enum { OBS, ACT, REW, NEXT, TERM, TOUT, N_DS };
static const char *const ds_name[N_DS] = {"observations", "actions", "rewards", "next_observations",
                                          "terminals", "timeouts"};

/* One load or save: the file, its datasets (-1: not open) and where the message goes. */
typedef struct {
    const char *path;
    char *err;
    size_t errlen;
    double max_bytes;      /* memory limit for the arrays (load) */
    hsize_t file_size;     /* bytes of the file (load) */
    hid_t file, ds[N_DS];
    int rank[N_DS];
    hsize_t dim[N_DS][H5S_MAX_RANK];
} h5job;

static int fail(h5job *J, const char *fmt, ...) AAREN_PRINTF(2, 3);

/* "<path>: <message>". Returns -1. */
static int fail(h5job *J, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    aaren_file_line_verr(J->err, J->errlen, J->path, 0, fmt, ap);
    va_end(ap);
    return -1;
}

/* "[a, b]" for messages. */
static const char *shape_str(const h5job *J, int k, char *s, size_t cap) {
    size_t at = (size_t)snprintf(s, cap, "[");
    for (int i = 0; i < J->rank[k] && at < cap; i++)
        at += (size_t)snprintf(s + at, cap - at, "%s%llu", i ? ", " : "", (unsigned long long)J->dim[k][i]);
    if (at < cap) snprintf(s + at, cap - at, "]");
    return s;
}

/* Where dataset k keeps its data: not in external files, not a virtual dataset; uncompressed data
 * present in full within the file; compressed data expanding at most 1100-fold (beyond what
 * deflate can reach), so that a small file cannot declare gigabytes of zeros. */
static int check_storage(h5job *J, int k) {
    const char *name = ds_name[k];
    hid_t dcpl = H5Dget_create_plist(J->ds[k]), sp = H5Dget_space(J->ds[k]), t = H5Dget_type(J->ds[k]);
    const int n_ext = dcpl < 0 ? -1 : H5Pget_external_count(dcpl), n_filt = dcpl < 0 ? -1 : H5Pget_nfilters(dcpl);
    const H5D_layout_t layout = dcpl < 0 ? H5D_LAYOUT_ERROR : H5Pget_layout(dcpl);
    const hssize_t points = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    const size_t elem = t < 0 ? 0 : H5Tget_size(t);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    if (n_ext < 0 || n_filt < 0 || layout == H5D_LAYOUT_ERROR || points < 0 || elem == 0)
        return fail(J, "cannot read the storage properties of '%s' (damaged file?)", name);
    if (n_ext > 0) return fail(J, "'%s' keeps its data in external files; refused", name);
    if (layout == H5D_VIRTUAL) return fail(J, "'%s' is a virtual dataset (data from other files); refused", name);
    const double declared = (double)points * (double)elem, stored = (double)H5Dget_storage_size(J->ds[k]);
    if (stored > (double)J->file_size)
        return fail(J, "'%s' claims %.0f bytes of storage in a file of %llu bytes (damaged file?)", name, stored,
                    (unsigned long long)J->file_size);
    if (n_filt == 0 && layout != H5D_COMPACT && stored < declared)
        return fail(J, "'%s' declares %.0f bytes but the file holds %.0f of them (unwritten or truncated data)", name,
                    declared, stored);
    if (n_filt > 0 && declared > 1100 * stored)
        return fail(J, "'%s' declares %.0f bytes from %.0f compressed bytes (more than 1100-fold: refused)", name,
                    declared, stored);
    return 0;
}

/* Opens dataset k, reads its shape and checks its type class. Returns 1 when open, 0 when an
 * optional dataset is absent, -1 on error. */
static int open_ds(h5job *J, int k) {
    const char *name = ds_name[k];
    const int flag = k == TERM || k == TOUT;
    H5L_info_t li;
    if (H5Lexists(J->file, name, H5P_DEFAULT) <= 0)
        return k == NEXT ? 0 : fail(J, "missing dataset '%s' (D4RL files hold observations, actions, rewards, "
                                       "terminals and timeouts)", name);
    if (H5Lget_info(J->file, name, &li, H5P_DEFAULT) < 0 || li.type != H5L_TYPE_HARD)
        return fail(J, "'%s' is a soft or external link; only datasets held in the file itself are read", name);
    if ((J->ds[k] = H5Dopen2(J->file, name, H5P_DEFAULT)) < 0) return fail(J, "'%s' is not a dataset", name);
    if (check_storage(J, k) < 0) return -1;
    hid_t sp = H5Dget_space(J->ds[k]), t = H5Dget_type(J->ds[k]);
    J->rank[k] = sp < 0 ? -1 : H5Sget_simple_extent_dims(sp, J->dim[k], NULL);
    const H5T_class_t c = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    if (J->rank[k] < 0) return fail(J, "cannot read the shape of '%s'", name);
    if (c != H5T_FLOAT && (!flag || (c != H5T_INTEGER && c != H5T_ENUM)))
        return fail(J, "'%s' holds %s values; expected %s", name,
                    c == H5T_INTEGER ? "integer" : c == H5T_STRING ? "string" : c == H5T_ENUM ? "enum" : "non-numeric",
                    flag ? "bool, integer or float 0/1" : "floating point");
    return 1;
}

/* Checks the shapes against each other and returns n (rows), or -1. */
static long check_shapes(h5job *J) {
    char s1[96], s2[96];
    const hsize_t n = J->dim[OBS][0];
    for (int k = 0; k < N_DS; k++) {
        if (J->ds[k] < 0) continue;
        const int matrix = k == OBS || k == ACT || k == NEXT;
        if (matrix ? J->rank[k] != 2 : !(J->rank[k] == 1 || (J->rank[k] == 2 && J->dim[k][1] == 1)))
            return fail(J, "'%s' has shape %s; expected %s", ds_name[k], shape_str(J, k, s1, sizeof s1),
                        matrix ? "[n, dim]" : "[n] or [n, 1]");
        if (J->dim[k][0] != n)
            return fail(J, "'%s' has %llu rows but 'observations' has %llu (mismatched lengths)", ds_name[k],
                        (unsigned long long)J->dim[k][0], (unsigned long long)n);
    }
    if (J->ds[NEXT] >= 0 && J->dim[NEXT][1] != J->dim[OBS][1])
        return fail(J, "'next_observations' has shape %s but 'observations' has %s", shape_str(J, NEXT, s1, sizeof s1),
                    shape_str(J, OBS, s2, sizeof s2));
    if (n == 0) return fail(J, "no transitions ('observations' has 0 rows)");
    if (J->dim[OBS][1] == 0 || J->dim[ACT][1] == 0)
        return fail(J, "'%s' has 0 columns", J->dim[OBS][1] == 0 ? "observations" : "actions");
    if (n > (hsize_t)LONG_MAX / 2 || J->dim[OBS][1] > INT_MAX || J->dim[ACT][1] > INT_MAX)
        return fail(J, "too large: shapes %s and %s", shape_str(J, OBS, s1, sizeof s1), shape_str(J, ACT, s2, sizeof s2));
    /* the arrays as float32, the flags as bytes and one row of doubles while reading a flag */
    const double need = (double)n * (4.0 * ((double)J->dim[OBS][1] * (J->ds[NEXT] >= 0 ? 2 : 1) + (double)J->dim[ACT][1] + 1) +
                                     2 + 8 + 8);
    if (need > J->max_bytes)
        return fail(J, "the arrays need %.0f MB (shapes %s and %s), more than the limit of %.0f MB", need / 1048576.0,
                    shape_str(J, OBS, s1, sizeof s1), shape_str(J, ACT, s2, sizeof s2), J->max_bytes / 1048576.0);
    return (long)n;
}

/* A float dataset into float32 out (HDF5 converts from any float class). */
static int read_floats(h5job *J, int k, float *out) {
    if (H5Dread(J->ds[k], H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
        return fail(J, "cannot read '%s'", ds_name[k]);
    return 0;
}

/* terminals / timeouts [n] into 0/1 bytes. An enum (h5py's bool) is read as its own type, then
 * its integer base converted to double in place; integers and floats are read as double. */
static int read_flags(h5job *J, int k, long n, unsigned char *out) {
    double *v = malloc((size_t)n * sizeof *v);
    hid_t t = H5Dget_type(J->ds[k]), base = -1;
    int ok = v && t >= 0;
    if (ok && H5Tget_class(t) == H5T_ENUM) {
        base = H5Tget_super(t);
        ok = base >= 0 && H5Tget_class(base) == H5T_INTEGER && H5Tget_size(t) <= sizeof *v &&
             H5Dread(J->ds[k], t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0 &&
             H5Tconvert(base, H5T_NATIVE_DOUBLE, (size_t)n, v, NULL, H5P_DEFAULT) >= 0;
    } else if (ok) {
        ok = H5Dread(J->ds[k], H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
    }
    if (base >= 0) H5Tclose(base);
    if (t >= 0) H5Tclose(t);
    int rc = ok ? 0 : v ? fail(J, "cannot read '%s'", ds_name[k]) : fail(J, "out of memory reading '%s'", ds_name[k]);
    for (long i = 0; i < n && !rc; i++) {
        if (v[i] != 0 && v[i] != 1) rc = fail(J, "'%s' row %ld holds %g; expected 0 or 1", ds_name[k], i, v[i]);
        out[i] = v[i] != 0;
    }
    free(v);
    return rc;
}

/* Every float finite and every flag 0/1 (what load promises and save requires). */
static int check_values(h5job *J, const aaren_d4rl *d) {
    const float *arr[4] = {d->observations, d->actions, d->rewards, d->next_observations};
    const int cols[4] = {d->obs_dim, d->act_dim, 1, d->obs_dim}, which[4] = {OBS, ACT, REW, NEXT};
    for (int a = 0; a < 4; a++) {
        const size_t m = arr[a] ? (size_t)d->n * (size_t)cols[a] : 0;
        for (size_t i = 0; i < m; i++) {
            if (isfinite(arr[a][i])) continue;
            if (cols[a] == 1) return fail(J, "'%s' row %zu holds %g (values must be finite)", ds_name[which[a]], i, arr[a][i]);
            return fail(J, "'%s' row %zu, column %zu holds %g (values must be finite)", ds_name[which[a]],
                        i / (size_t)cols[a], i % (size_t)cols[a], arr[a][i]);
        }
    }
    for (long i = 0; i < d->n; i++)
        if (d->terminals[i] > 1 || d->timeouts[i] > 1)
            return fail(J, "'%s' row %ld holds %d; expected 0 or 1", ds_name[d->terminals[i] > 1 ? TERM : TOUT], i,
                        d->terminals[i] > 1 ? d->terminals[i] : d->timeouts[i]);
    return 0;
}

/* H5Aiterate2 callback: a scalar string attribute of the root becomes a meta entry. */
static herr_t read_meta(hid_t loc, const char *name, const H5A_info_t *info, void *op) {
    aaren_d4rl *d = op;
    char val[AAREN_D4RL_VAL];
    (void)info;
    if (d->n_meta == AAREN_D4RL_META) return 1;   /* full: stop */
    if (strlen(name) >= AAREN_D4RL_KEY) return 0;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT), t = -1, sp = -1, mt = -1;
    if (a >= 0) { t = H5Aget_type(a); sp = H5Aget_space(a); }
    if (t >= 0 && sp >= 0 && H5Tget_class(t) == H5T_STRING && H5Sget_simple_extent_npoints(sp) == 1 &&
        (mt = H5Tcopy(H5T_C_S1)) >= 0 && H5Tset_cset(mt, H5Tget_cset(t)) >= 0) {
        if (H5Tis_variable_str(t) > 0) {   /* what h5py writes for a str */
            char *s = NULL;
            if (H5Tset_size(mt, H5T_VARIABLE) >= 0 && H5Aread(a, mt, &s) >= 0 && s) {
                aaren_d4rl_set_meta(d, name, s);   /* a too long value is skipped */
                H5free_memory(s);
            }
        } else {
            const size_t sz = H5Tget_size(t);
            if (sz < sizeof val && H5Tset_size(mt, sz + 1) >= 0 && H5Tset_strpad(mt, H5T_STR_NULLTERM) >= 0 &&
                H5Aread(a, mt, val) >= 0) {
                val[sz] = '\0';
                aaren_d4rl_set_meta(d, name, val);
            }
        }
    }
    if (mt >= 0) H5Tclose(mt);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return 0;
}

/* Reads the file in this process (the child's part of aaren_d4rl_load_limited). */
static int load_here(const char *path, aaren_d4rl *d, double max_bytes, char *err, size_t errlen) {
    h5job J = {.path = path, .err = err, .errlen = errlen, .max_bytes = max_bytes, .file = -1};
    long n = -1;
    int rc = -1;
    memset(d, 0, sizeof *d);
    for (int k = 0; k < N_DS; k++) J.ds[k] = -1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);   /* our message replaces HDF5's error stack */
    FILE *probe = fopen(path, "rb");
    if (!probe) return fail(&J, "cannot open: %s", strerror(errno));
    fclose(probe);
    if (H5Fis_hdf5(path) <= 0) return fail(&J, "not an HDF5 file (expected a D4RL-style .hdf5 data set)");
    if ((J.file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) return fail(&J, "cannot open as HDF5 (damaged file?)");
    if (H5Fget_filesize(J.file, &J.file_size) < 0) {
        H5Fclose(J.file);
        return fail(&J, "cannot determine the file size");
    }
    for (int k = 0; k < N_DS; k++)
        if (open_ds(&J, k) < 0) goto out;
    if ((n = check_shapes(&J)) < 0) goto out;
    if (aaren_d4rl_alloc(d, n, (int)J.dim[OBS][1], (int)J.dim[ACT][1], J.ds[NEXT] >= 0)) {
        fail(&J, "out of memory for %ld transitions", n);
        goto out;
    }
    if (read_floats(&J, OBS, d->observations) || read_floats(&J, ACT, d->actions) ||
        read_floats(&J, REW, d->rewards) || (d->next_observations && read_floats(&J, NEXT, d->next_observations)) ||
        read_flags(&J, TERM, n, d->terminals) || read_flags(&J, TOUT, n, d->timeouts) || check_values(&J, d))
        goto out;
    H5Aiterate2(J.file, H5_INDEX_NAME, H5_ITER_INC, NULL, read_meta, d);
    aaren_d4rl_split(d);
    rc = 0;
out:
    for (int k = 0; k < N_DS; k++)
        if (J.ds[k] >= 0) H5Dclose(J.ds[k]);
    if (J.file >= 0) H5Fclose(J.file);
    if (rc) aaren_d4rl_free(d);
    return rc;
}

/* ---- reading in a child process -------------------------------------------------------- */

/* What the child sends: this head, then on success the arrays in aaren_d4rl_alloc's order. */
typedef struct {
    char magic[8];
    int32_t rc, obs_dim, act_dim, with_next, n_meta;
    int64_t n;
    char msg[1024];
    char meta_key[AAREN_D4RL_META][AAREN_D4RL_KEY], meta_val[AAREN_D4RL_META][AAREN_D4RL_VAL];
} wire_head;
static const char wire_magic[8] = "aarenH5";

static int write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        const ssize_t k = write(fd, c, n > (1 << 20) ? (1 << 20) : n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n) {
    char *c = p;
    while (n) {
        const ssize_t k = read(fd, c, n > (1 << 20) ? (1 << 20) : n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

/* The arrays of d in the order they travel, with their byte sizes; returns how many. */
static int wire_arrays(const aaren_d4rl *d, void **ptr, size_t *bytes) {
    const size_t n = (size_t)d->n;
    int k = 0;
    ptr[k] = d->observations;      bytes[k++] = n * (size_t)d->obs_dim * sizeof(float);
    ptr[k] = d->actions;           bytes[k++] = n * (size_t)d->act_dim * sizeof(float);
    ptr[k] = d->rewards;           bytes[k++] = n * sizeof(float);
    if (d->next_observations) { ptr[k] = d->next_observations; bytes[k++] = n * (size_t)d->obs_dim * sizeof(float); }
    ptr[k] = d->terminals;         bytes[k++] = n;
    ptr[k] = d->timeouts;          bytes[k++] = n;
    return k;
}


#if defined(__SANITIZE_ADDRESS__)
#define AAREN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AAREN_ASAN 1
#endif
#endif

#ifndef AAREN_ASAN
/* Address space of this process now, in bytes (0 when unknown). */
static double address_space_now(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1) pages = 0;
        fclose(f);
    }
    return (double)pages * (double)sysconf(_SC_PAGESIZE);
}
#endif

/* The child: limits itself, reads, sends, and leaves without running exit handlers. */
static void child_read(int fd, const char *path, const aaren_d4rl_limits *lim) {
    sigset_t all;
    sigemptyset(&all);
    sigaddset(&all, SIGALRM);
    sigprocmask(SIG_UNBLOCK, &all, NULL);
    signal(SIGALRM, SIG_DFL);
    struct itimerval tv = {{0, 0}, {(time_t)lim->timeout_s, (suseconds_t)((lim->timeout_s - floor(lim->timeout_s)) * 1e6)}};
    if (tv.it_value.tv_sec == 0 && tv.it_value.tv_usec == 0) tv.it_value.tv_usec = 1;
    setitimer(ITIMER_REAL, &tv, NULL);
#ifndef AAREN_ASAN   /* the address sanitizer reserves terabytes of address space: no limit under it */
    const double cap = address_space_now() + lim->max_mb * 1048576.0 + 512.0 * 1048576.0;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && (rl.rlim_max == RLIM_INFINITY || cap < (double)rl.rlim_max)) {
        rl.rlim_cur = (rlim_t)cap;
        setrlimit(RLIMIT_AS, &rl);
    }
#endif
    static wire_head h;
    aaren_d4rl d;
    memcpy(h.magic, wire_magic, sizeof h.magic);
    h.rc = load_here(path, &d, lim->max_mb * 1048576.0, h.msg, sizeof h.msg);
    if (!h.rc) {
        h.n = d.n;
        h.obs_dim = d.obs_dim;
        h.act_dim = d.act_dim;
        h.with_next = d.next_observations != NULL;
        h.n_meta = d.n_meta;
        memcpy(h.meta_key, d.meta_key, sizeof h.meta_key);
        memcpy(h.meta_val, d.meta_val, sizeof h.meta_val);
    }
    int ok = write_all(fd, &h, sizeof h) == 0;
    if (!h.rc) {
        void *ptr[6];
        size_t bytes[6];
        const int m = wire_arrays(&d, ptr, bytes);
        for (int k = 0; k < m && ok; k++) ok = write_all(fd, ptr[k], bytes[k]) == 0;
    }
    _exit(ok ? 0 : 3);
}

/* The parent's side: reads what the child sent into *d. 1 done, 0 the child's own error (in
 * err), -1 nothing usable came (the exit status says why). */
static int receive(int fd, const char *path, aaren_d4rl *d, double max_bytes, char *err, size_t errlen) {
    static wire_head h;
    if (read_all(fd, &h, sizeof h) || memcmp(h.magic, wire_magic, sizeof h.magic)) return -1;
    h.msg[sizeof h.msg - 1] = '\0';
    if (h.rc) return aaren_errf(err, errlen, "%s", h.msg), 0;
    const double row = 4.0 * ((double)h.obs_dim * (h.with_next ? 2 : 1) + h.act_dim + 1) + 2;
    if (h.n < 1 || h.obs_dim < 1 || h.act_dim < 1 || h.n_meta < 0 || h.n_meta > AAREN_D4RL_META ||
        (double)h.n * row > max_bytes || aaren_d4rl_alloc(d, (long)h.n, h.obs_dim, h.act_dim, h.with_next != 0))
        return aaren_file_err(err, errlen, path, "the reading process sent an inconsistent head"), 0;
    void *ptr[6];
    size_t bytes[6];
    const int m = wire_arrays(d, ptr, bytes);
    for (int k = 0; k < m; k++)
        if (read_all(fd, ptr[k], bytes[k])) return aaren_d4rl_free(d), -1;
    for (long i = 0; i < d->n; i++)
        if (d->terminals[i] > 1 || d->timeouts[i] > 1)
            return aaren_d4rl_free(d), aaren_file_err(err, errlen, path, "the reading process sent a flag that is not 0/1"), 0;
    for (int i = 0; i < h.n_meta; i++) {
        h.meta_key[i][AAREN_D4RL_KEY - 1] = h.meta_val[i][AAREN_D4RL_VAL - 1] = '\0';
        aaren_d4rl_set_meta(d, h.meta_key[i], h.meta_val[i]);
    }
    aaren_d4rl_split(d);
    return 1;
}

int aaren_d4rl_load_limited(const char *path, aaren_d4rl *d, const aaren_d4rl_limits *lim, char *err, size_t errlen) {
    const aaren_d4rl_limits dflt = aaren_d4rl_limits_default();
    if (!lim) lim = &dflt;
    memset(d, 0, sizeof *d);
    if (!(lim->max_mb > 0) || !(lim->timeout_s > 0) || lim->timeout_s > 1e6)
        return aaren_file_err(err, errlen, path, "bad read limits (memory %g MB, time %g s)", lim->max_mb, lim->timeout_s);
    struct stat sb;
    if (stat(path, &sb) != 0) return aaren_file_err(err, errlen, path, "cannot open: %s", strerror(errno));
    if (!S_ISREG(sb.st_mode)) return aaren_file_err(err, errlen, path, "not a regular file");
    int p[2];
    if (pipe(p) != 0) return aaren_file_err(err, errlen, path, "cannot make a pipe: %s", strerror(errno));
    fflush(NULL);
    const pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return aaren_file_err(err, errlen, path, "cannot start the reading process: %s", strerror(errno));
    }
    if (pid == 0) {
        close(p[0]);
        child_read(p[1], path, lim);
    }
    close(p[1]);
    const int got = receive(p[0], path, d, lim->max_mb * 1048576.0, err, errlen);
    close(p[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (got == 1) return 0;
    if (got == 0) return -1;
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
        return aaren_file_err(err, errlen, path, "reading took longer than %g s and was stopped (a damaged or crafted "
                              "file?)", lim->timeout_s);
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
        return aaren_file_err(err, errlen, path, "the reading process was killed (out of memory?)");
    if (WIFSIGNALED(st))
        return aaren_file_err(err, errlen, path, "the HDF5 library crashed reading this file (%s); the file is damaged "
                              "or crafted", strsignal(WTERMSIG(st)));
    return aaren_file_err(err, errlen, path, "the reading process ended without a result (exit status %d): a damaged "
                          "or crafted file, or out of memory within the %g MB limit", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                          lim->max_mb);
}

int aaren_d4rl_load(const char *path, aaren_d4rl *d, char *err, size_t errlen) {
    return aaren_d4rl_load_limited(path, d, NULL, err, errlen);
}

/* ---- writing ----------------------------------------------------------------------------- */

/* h5py's bool: an enum over int8 with FALSE = 0, TRUE = 1. */
static hid_t bool_type(void) {
    const signed char f = 0, t = 1;
    hid_t b = H5Tenum_create(H5T_NATIVE_SCHAR);
    if (b >= 0 && (H5Tenum_insert(b, "FALSE", &f) < 0 || H5Tenum_insert(b, "TRUE", &t) < 0)) {
        H5Tclose(b);
        b = -1;
    }
    return b;
}

/* A dataset [rows] (rank 1) or [rows, cols] stored as ftype from memory of type mtype. */
static int write_ds(h5job *J, const char *name, hid_t ftype, hid_t mtype, int rank, long rows, int cols, const void *buf) {
    const hsize_t dims[2] = {(hsize_t)rows, (hsize_t)cols};
    hid_t sp = H5Screate_simple(rank, dims, NULL), ds = -1;
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);   /* no creation times: the same data, the same bytes */
    const int ok = sp >= 0 && dcpl >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0 &&
                   (ds = H5Dcreate2(J->file, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) >= 0 &&
                   H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
    if (ds >= 0) H5Dclose(ds);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    return ok ? 0 : fail(J, "cannot write '%s' (out of memory?)", name);
}

/* A scalar variable-length UTF-8 string attribute of the root (h5py reads a str). */
static int write_attr(h5job *J, const char *key, const char *val) {
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), a = -1;
    const int ok = t >= 0 && sp >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
                   (a = H5Acreate2(J->file, key, t, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0 && H5Awrite(a, t, &val) >= 0;
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    return ok ? 0 : fail(J, "cannot write the attribute '%s'", key);
}

int aaren_d4rl_save(const char *path, const aaren_d4rl *d, char *err, size_t errlen) {
    h5job J = {.path = path, .err = err, .errlen = errlen, .file = -1};
    if (!d->block_ || d->n < 1) return fail(&J, "nothing to write (the data set has no transitions)");
    if (check_values(&J, d)) return -1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    {   /* built in memory (the core driver, no backing file), then written out all or nothing; the
         * root group without creation times either */
        const hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS);
        if (fcpl >= 0 && fapl >= 0 && H5Pset_obj_track_times(fcpl, 0) >= 0 && H5Pset_fapl_core(fapl, 1 << 20, 0) >= 0)
            J.file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
        if (fcpl >= 0) H5Pclose(fcpl);
        if (fapl >= 0) H5Pclose(fapl);
    }
    if (J.file < 0) return fail(&J, "cannot create an HDF5 file in memory");
    const hid_t b = bool_type();
    int rc = b < 0 ? fail(&J, "cannot make the bool type") : 0;
    if (!rc) rc = write_ds(&J, "observations", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d->n, d->obs_dim, d->observations);
    if (!rc) rc = write_ds(&J, "actions", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d->n, d->act_dim, d->actions);
    if (!rc) rc = write_ds(&J, "rewards", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, d->n, 1, d->rewards);
    if (!rc && d->next_observations)
        rc = write_ds(&J, "next_observations", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d->n, d->obs_dim, d->next_observations);
    if (!rc) rc = write_ds(&J, "terminals", b, b, 1, d->n, 1, d->terminals);
    if (!rc) rc = write_ds(&J, "timeouts", b, b, 1, d->n, 1, d->timeouts);
    for (int i = 0; i < d->n_meta && !rc; i++) rc = write_attr(&J, d->meta_key[i], d->meta_val[i]);
    if (b >= 0) H5Tclose(b);
    void *image = NULL;
    ssize_t size = -1;
    if (!rc && H5Fflush(J.file, H5F_SCOPE_GLOBAL) >= 0 && (size = H5Fget_file_image(J.file, NULL, 0)) > 0 &&
        (image = malloc((size_t)size)) && H5Fget_file_image(J.file, image, (size_t)size) != size)
        size = -1;
    H5Fclose(J.file);
    if (!rc && (size <= 0 || !image)) rc = fail(&J, image || size <= 0 ? "cannot build the file image" : "out of memory");
    aaren_writer *w = rc ? NULL : aaren_writer_open(path, err, errlen);
    if (w) {
        fwrite(image, 1, (size_t)size, aaren_writer_file(w));
        rc = aaren_writer_commit(w, err, errlen);
    } else if (!rc) {
        rc = -1;
    }
    free(image);
    return rc;
}

#else /* built without HDF5 */

int aaren_hdf5_available(void) { return 0; }

static int no_hdf5(const char *path, char *err, size_t errlen) {
    return aaren_file_err(err, errlen, path, "this build of aaren has no HDF5 support (install libhdf5-dev and rebuild)");
}

int aaren_d4rl_load_limited(const char *path, aaren_d4rl *d, const aaren_d4rl_limits *lim, char *err, size_t errlen) {
    (void)lim;
    memset(d, 0, sizeof *d);
    return no_hdf5(path, err, errlen);
}

int aaren_d4rl_load(const char *path, aaren_d4rl *d, char *err, size_t errlen) {
    return aaren_d4rl_load_limited(path, d, NULL, err, errlen);
}

int aaren_d4rl_save(const char *path, const aaren_d4rl *d, char *err, size_t errlen) {
    (void)d;
    return no_hdf5(path, err, errlen);
}
#endif
