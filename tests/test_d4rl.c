/* D4RL-layout data sets (src/data/d4rl.h): allocation, the episode split, meta and the return
 * statistics (checked against sums done here by hand); with HDF5, a save / load round trip
 * compared bit for bit, files written here with the HDF5 API in the other accepted forms
 * (float64 arrays, rewards [n, 1], integer and float flags, fixed-length string attributes),
 * and every malformed file with the wording of its message; no HDF5 handle stays open after
 * any load or save. Built without HDF5, load and save must say so. Temporary files go to a
 * fresh directory under /tmp, removed at the end. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "data/d4rl.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef AAREN_HAVE_HDF5
#include <hdf5.h>
#endif

static char err[1024];

/* 12 rows, obs 3, act 2: rows 0-3 end terminated, 4-8 time out, 9-11 are unfinished.
 * rewards[i] = 0.5 i - 1, so the returns are -1, 10 and 12. Observations and actions hold
 * awkward floats (negative zero, a subnormal, large and tiny values) for the bit check. */
static int fill(aaren_d4rl *d, int with_next) {
    if (aaren_d4rl_alloc(d, 12, 3, 2, with_next)) return -1;
    uint32_t s = 12345;
    for (long i = 0; i < 12 * 3; i++) {
        s = s * 1664525u + 1013904223u;
        d->observations[i] = (float)((double)(int32_t)s / 65536.0) * 1e-3f;
        if (d->next_observations) d->next_observations[i] = -d->observations[i] * 3.0f;
    }
    for (long i = 0; i < 12 * 2; i++) d->actions[i] = (float)i / 7.0f - 1.5f;
    d->observations[4] = -0.0f;
    d->observations[5] = 1e-40f;
    d->actions[3] = 3.0e38f;
    for (long i = 0; i < 12; i++) d->rewards[i] = 0.5f * (float)i - 1.0f;
    d->terminals[3] = 1;
    d->timeouts[8] = 1;
    aaren_d4rl_split(d);
    return 0;
}

/* ---- without HDF5 --------------------------------------------------------------------------- */

static void test_alloc(void) {
    aaren_d4rl d;
    CHECK(aaren_d4rl_alloc(&d, -1, 3, 2, 1) == -1 && aaren_d4rl_alloc(&d, 5, 0, 2, 1) == -1 &&
          aaren_d4rl_alloc(&d, 5, 3, 0, 0) == -1 && d.block_ == NULL, "bad sizes are refused");
    CHECK(aaren_d4rl_alloc(&d, 1L << 60, 1000, 1000, 1) == -1, "an overflowing size is refused");
    CHECK(aaren_d4rl_alloc(&d, 7, 4, 3, 0) == 0, "alloc");
    CHECK(d.n == 7 && d.obs_dim == 4 && d.act_dim == 3 && d.next_observations == NULL && d.n_meta == 0 &&
          d.n_episodes == 0, "fields after alloc");
    int zero = 1;
    for (long i = 0; i < 7 * 4; i++) zero &= d.observations[i] == 0;
    for (long i = 0; i < 7 * 3; i++) zero &= d.actions[i] == 0;
    for (long i = 0; i < 7; i++) zero &= d.rewards[i] == 0 && d.terminals[i] == 0 && d.timeouts[i] == 0;
    CHECK(zero, "arrays are zeroed");
    /* the arrays do not overlap: write each one through and read them back */
    for (long i = 0; i < 7 * 4; i++) d.observations[i] = 1;
    for (long i = 0; i < 7 * 3; i++) d.actions[i] = 2;
    for (long i = 0; i < 7; i++) { d.rewards[i] = 3; d.terminals[i] = 4; d.timeouts[i] = 5; }
    for (long i = 0; i < 8; i++) d.ep_start[i] = 6;
    int sep = 1;
    for (long i = 0; i < 7 * 4; i++) sep &= d.observations[i] == 1;
    for (long i = 0; i < 7 * 3; i++) sep &= d.actions[i] == 2;
    for (long i = 0; i < 7; i++) sep &= d.rewards[i] == 3 && d.terminals[i] == 4 && d.timeouts[i] == 5;
    CHECK(sep, "arrays are disjoint");
    aaren_d4rl_free(&d);
    CHECK(d.block_ == NULL && d.n == 0 && d.observations == NULL, "free zeroes the struct");
    aaren_d4rl_free(&d);   /* twice is harmless */
    CHECK(aaren_d4rl_alloc(&d, 0, 2, 2, 1) == 0 && d.next_observations != NULL, "an empty data set");
    aaren_d4rl_split(&d);
    CHECK(d.n_episodes == 0 && d.ep_start[0] == 0, "no rows: no episodes");
    aaren_d4rl_stats s;
    aaren_d4rl_stats_of(&d, &s);
    CHECK(s.episodes == 0 && s.ret_mean == 0 && s.len_mean == 0, "stats of nothing are zero");
    aaren_d4rl_free(&d);
}

static void test_split_stats(void) {
    aaren_d4rl d;
    aaren_d4rl_stats s;
    if (fill(&d, 1)) { CHECK(0, "alloc"); return; }
    CHECK(d.n_episodes == 3 && d.ep_start[0] == 0 && d.ep_start[1] == 4 && d.ep_start[2] == 9 && d.ep_start[3] == 12,
          "split: %ld episodes, starts %ld %ld %ld %ld", d.n_episodes, d.ep_start[0], d.ep_start[1], d.ep_start[2],
          d.ep_start[3]);
    /* by hand: -1 - 0.5 + 0 + 0.5 = -1; 1 + 1.5 + 2 + 2.5 + 3 = 10; 3.5 + 4 + 4.5 = 12;
     * mean 7, deviations -8, 3, 5: variance 98 / 2 = 49 */
    aaren_d4rl_stats_of(&d, &s);
    CHECK(s.n == 12 && s.episodes == 3 && s.terminated == 1 && s.timed_out == 1 && s.unfinished == 1,
          "counts: n %ld episodes %ld terminated %ld timed out %ld unfinished %ld", s.n, s.episodes, s.terminated,
          s.timed_out, s.unfinished);
    CHECK(s.ret_mean == 7 && s.ret_std == 7 && s.ret_min == -1 && s.ret_max == 12 && s.len_mean == 4,
          "returns: mean %g std %g min %g max %g length %g", s.ret_mean, s.ret_std, s.ret_min, s.ret_max, s.len_mean);
    /* the last row ends an episode: no trailing one; a row both terminal and timed out counts
     * as terminated; one episode has std 0 */
    d.timeouts[11] = 1;
    d.terminals[11] = 1;
    aaren_d4rl_split(&d);
    aaren_d4rl_stats_of(&d, &s);
    CHECK(d.n_episodes == 3 && d.ep_start[3] == 12 && s.terminated == 2 && s.timed_out == 1 && s.unfinished == 0,
          "last row ends: %ld episodes, %ld terminated", d.n_episodes, s.terminated);
    memset(d.terminals, 0, 12);
    memset(d.timeouts, 0, 12);
    aaren_d4rl_split(&d);
    aaren_d4rl_stats_of(&d, &s);
    CHECK(d.n_episodes == 1 && d.ep_start[1] == 12 && s.unfinished == 1 && s.ret_std == 0 && s.ret_mean == 21 &&
          s.len_mean == 12, "no ends: one unfinished episode (return %g)", s.ret_mean);
    memset(d.timeouts, 1, 12);
    aaren_d4rl_split(&d);
    aaren_d4rl_stats_of(&d, &s);
    CHECK(d.n_episodes == 12 && d.ep_start[12] == 12 && d.ep_start[5] == 5 && s.timed_out == 12 && s.len_mean == 1 &&
          s.ret_min == -1 && s.ret_max == 4.5, "every row ends: %ld episodes", d.n_episodes);
    aaren_d4rl_free(&d);
}

static void test_meta(void) {
    aaren_d4rl d;
    char key[40], val[200];
    if (aaren_d4rl_alloc(&d, 1, 1, 1, 0)) { CHECK(0, "alloc"); return; }
    CHECK(aaren_d4rl_meta(&d, "env") == NULL, "absent key");
    CHECK(aaren_d4rl_set_meta(&d, "env", "hopper") == 0 && aaren_d4rl_set_meta(&d, "dataset", "medium") == 0, "set");
    CHECK(aaren_d4rl_set_meta(&d, "env", "walker2d") == 0 && d.n_meta == 2, "replace keeps the count (%d)", d.n_meta);
    CHECK(aaren_d4rl_meta(&d, "env") && !strcmp(aaren_d4rl_meta(&d, "env"), "walker2d") &&
          !strcmp(aaren_d4rl_meta(&d, "dataset"), "medium"), "get");
    memset(key, 'k', 31); key[31] = '\0';
    memset(val, 'v', 127); val[127] = '\0';
    CHECK(aaren_d4rl_set_meta(&d, key, val) == 0, "the longest key and value fit");
    key[31] = 'k'; key[32] = '\0';
    CHECK(aaren_d4rl_set_meta(&d, key, "x") == -1, "a 32-byte key is refused");
    val[127] = 'v'; val[128] = '\0';
    CHECK(aaren_d4rl_set_meta(&d, "long", val) == -1, "a 128-byte value is refused");
    for (int i = d.n_meta; i < 16; i++) {
        snprintf(key, sizeof key, "k%d", i);
        CHECK(aaren_d4rl_set_meta(&d, key, "x") == 0, "entry %d", i);
    }
    CHECK(d.n_meta == 16 && aaren_d4rl_set_meta(&d, "more", "x") == -1, "a full table refuses a new key");
    CHECK(aaren_d4rl_set_meta(&d, "env", "ant") == 0 && !strcmp(aaren_d4rl_meta(&d, "env"), "ant"),
          "a full table still replaces");
    aaren_d4rl_free(&d);
}

#ifdef AAREN_HAVE_HDF5
/* ---- with HDF5 ------------------------------------------------------------------------------- */

static void no_open_handles(const char *what) {
    const ssize_t open = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    CHECK(open == 0, "%s: %zd HDF5 objects left open", what, open);
}

/* load must fail with a message holding the file's name and every fragment given. */
static void load_fails(const char *label, const char *path, const char *frag1, const char *frag2) {
    aaren_d4rl d;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    err[0] = '\0';
    const int rc = aaren_d4rl_load(path, &d, err, sizeof err);
    CHECK(rc == -1 && d.block_ == NULL, "%s: load should fail", label);
    CHECK(strstr(err, base) && strstr(err, frag1) && (!frag2 || strstr(err, frag2)),
          "%s: message '%s' should name %s and say '%s'%s%s", label, err, base, frag1, frag2 ? " and " : "",
          frag2 ? frag2 : "");
    no_open_handles(label);
    if (rc == 0) aaren_d4rl_free(&d);
}

static int same_bits(const void *a, const void *b, size_t n) { return (!a && !b) || (a && b && !memcmp(a, b, n)); }

static void test_round_trip(void) {
    aaren_d4rl d, e;
    if (fill(&d, 1)) { CHECK(0, "alloc"); return; }
    aaren_d4rl_set_meta(&d, "env", "hopper");
    aaren_d4rl_set_meta(&d, "dataset", "medium");
    aaren_d4rl_set_meta(&d, "note", "");
    const char *path = check_tmp_path("trip.hdf5");
    CHECK(aaren_d4rl_save(path, &d, err, sizeof err) == 0, "save: %s", err);
    no_open_handles("save");
    CHECK(aaren_d4rl_load(path, &e, err, sizeof err) == 0, "load: %s", err);
    no_open_handles("load");
    if (e.block_) {
        CHECK(e.n == 12 && e.obs_dim == 3 && e.act_dim == 2, "shape %ld x %d, %d", e.n, e.obs_dim, e.act_dim);
        CHECK(same_bits(d.observations, e.observations, 36 * 4) && same_bits(d.actions, e.actions, 24 * 4) &&
              same_bits(d.rewards, e.rewards, 12 * 4) && same_bits(d.next_observations, e.next_observations, 36 * 4) &&
              same_bits(d.terminals, e.terminals, 12) && same_bits(d.timeouts, e.timeouts, 12),
              "every array is equal bit for bit");
        CHECK(e.n_episodes == 3 && e.ep_start[1] == 4 && e.ep_start[2] == 9 && e.ep_start[3] == 12, "load splits");
        CHECK(e.n_meta == 3 && !strcmp(aaren_d4rl_meta(&e, "env"), "hopper") &&
              !strcmp(aaren_d4rl_meta(&e, "dataset"), "medium") && !strcmp(aaren_d4rl_meta(&e, "note"), ""),
              "meta: %d entries", e.n_meta);
        aaren_d4rl_free(&e);
    }
    /* terminals are stored the way h5py stores numpy bool: an enum over int8, FALSE 0, TRUE 1 */
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), ds = H5Dopen2(f, "terminals", H5P_DEFAULT);
    hid_t t = H5Dget_type(ds), base = H5Tget_super(t);
    signed char v0 = -1, v1 = -1;
    CHECK(H5Tget_class(t) == H5T_ENUM && H5Tget_nmembers(t) == 2 && H5Tget_size(base) == 1 &&
          H5Tget_sign(base) == H5T_SGN_2 && H5Tenum_valueof(t, "FALSE", &v0) >= 0 &&
          H5Tenum_valueof(t, "TRUE", &v1) >= 0 && v0 == 0 && v1 == 1, "terminals is h5py's bool type");
    hid_t o = H5Dopen2(f, "observations", H5P_DEFAULT), ot = H5Dget_type(o);
    CHECK(H5Tequal(ot, H5T_IEEE_F32LE) > 0, "observations are float32");
    H5Tclose(ot); H5Dclose(o); H5Tclose(base); H5Tclose(t); H5Dclose(ds); H5Fclose(f);
    /* overwriting, and a data set without next_observations */
    aaren_d4rl g;
    if (aaren_d4rl_alloc(&g, 2, 1, 1, 0) == 0) {
        g.rewards[1] = 5;
        g.timeouts[0] = 1;
        CHECK(aaren_d4rl_save(path, &g, err, sizeof err) == 0, "overwrite: %s", err);
        CHECK(aaren_d4rl_load(path, &e, err, sizeof err) == 0 && e.n == 2 && e.next_observations == NULL &&
              e.n_meta == 0 && e.n_episodes == 2 && e.rewards[1] == 5, "reload without next_observations: %s", err);
        aaren_d4rl_free(&e);
        aaren_d4rl_free(&g);
    }
    unlink(path);
    /* save refuses what load would refuse, and leaves no file */
    d.rewards[5] = NAN;
    CHECK(aaren_d4rl_save(path, &d, err, sizeof err) == -1 && strstr(err, "'rewards' row 5") &&
          access(path, F_OK) != 0, "save refuses NaN: %s", err);
    d.rewards[5] = 0;
    d.terminals[2] = 2;
    CHECK(aaren_d4rl_save(path, &d, err, sizeof err) == -1 && strstr(err, "'terminals' row 2") &&
          access(path, F_OK) != 0, "save refuses a flag of 2: %s", err);
    d.terminals[2] = 0;
    CHECK(aaren_d4rl_save("/nonexistent-dir/x.hdf5", &d, err, sizeof err) == -1 && strstr(err, "x.hdf5") &&
          strstr(err, "cannot create"), "unwritable path: %s", err);
    no_open_handles("failed saves");
    aaren_d4rl_free(&d);
}

/* A file written here with the HDF5 API: observations float64 [n, 3], actions float32 [n, 2],
 * rewards float64 [n] or [n, 1], terminals in the chosen form, timeouts as h5py's bool,
 * optional next_observations, an infos/ group, and root attributes of several kinds. */
typedef struct {
    long n;
    const char *omit;        /* a dataset left out */
    const char *short_one;   /* a dataset with one row fewer */
    int rewards_col;         /* rewards as [n, 1] */
    long nan_reward;         /* row of a NaN reward, or -1 */
    long nan_obs;            /* row of a NaN observation (column 1), or -1 */
    int flags;               /* terminals: 0 bool enum, 1 int32, 2 float32 */
    double flag_value;       /* the value in terminals row 2 */
    int next_dim;            /* next_observations columns; 0: none */
    int act_rank1;           /* actions as [n] */
} spec;

static void put(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank, hsize_t r, hsize_t c, const void *buf) {
    const hsize_t dims[2] = {r, c};
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(ds >= 0 && H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0, "writing %s", name);
    H5Dclose(ds);
    H5Sclose(sp);
}

static void put_attr(hid_t f, const char *key, const char *val, int variable) {
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(t, variable ? H5T_VARIABLE : strlen(val));
    if (!variable) H5Tset_strpad(t, H5T_STR_NULLPAD);   /* numpy bytes, as h5py writes them */
    hid_t a = H5Acreate2(f, key, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(a >= 0 && H5Awrite(a, t, variable ? (const void *)&val : (const void *)val) >= 0, "attribute %s", key);
    H5Aclose(a); H5Sclose(sp); H5Tclose(t);
}

static const char *h5_file(const char *name, const spec *s) {
    const char *path = check_tmp_path(name);
    const long n = s->n;
    double *obs = calloc((size_t)(n * 3 + 1), sizeof *obs), *rew = calloc((size_t)n + 1, sizeof *rew);
    float *act = calloc((size_t)(n * 2 + 1), sizeof *act), *tf = calloc((size_t)n + 1, sizeof *tf);
    int *ti = calloc((size_t)n + 1, sizeof *ti);
    signed char *tb = calloc((size_t)n + 1, 1), *to = calloc((size_t)n + 1, 1);
    for (long i = 0; i < n * 3; i++) obs[i] = 0.1 * (double)i;
    for (long i = 0; i < n * 2; i++) act[i] = -0.25f * (float)i;
    for (long i = 0; i < n; i++) rew[i] = (double)i + 0.5;
    if (n > 2) { tb[2] = (signed char)s->flag_value; ti[2] = (int)s->flag_value; tf[2] = (float)s->flag_value; }
    if (n > 0) to[n - 1] = 1;
    if (s->nan_reward >= 0) rew[s->nan_reward] = NAN;
    if (s->nan_obs >= 0) obs[s->nan_obs * 3 + 1] = NAN;
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t b = H5Tenum_create(H5T_NATIVE_SCHAR);
    const signed char f0 = 0, f1 = 1;
    H5Tenum_insert(b, "FALSE", &f0);
    H5Tenum_insert(b, "TRUE", &f1);
#define ROWS(nm) ((hsize_t)(s->short_one && !strcmp(s->short_one, nm) ? n - 1 : n))
#define WANT(nm) (!s->omit || strcmp(s->omit, nm))
    if (WANT("observations")) put(f, "observations", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, ROWS("observations"), 3, obs);
    if (WANT("actions")) put(f, "actions", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, s->act_rank1 ? 1 : 2, ROWS("actions"), 2, act);
    if (WANT("rewards")) put(f, "rewards", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s->rewards_col ? 2 : 1, ROWS("rewards"), 1, rew);
    if (WANT("terminals")) {
        if (s->flags == 0) put(f, "terminals", b, b, 1, ROWS("terminals"), 1, tb);
        else if (s->flags == 1) put(f, "terminals", H5T_STD_I32BE, H5T_NATIVE_INT, 1, ROWS("terminals"), 1, ti);
        else put(f, "terminals", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, ROWS("terminals"), 1, tf);
    }
    if (WANT("timeouts")) put(f, "timeouts", b, b, 1, ROWS("timeouts"), 1, to);
    if (s->next_dim) {
        double *nx = calloc((size_t)(n * s->next_dim + 1), sizeof *nx);
        put(f, "next_observations", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, ROWS("next_observations"), (hsize_t)s->next_dim, nx);
        free(nx);
    }
#undef ROWS
#undef WANT
    hid_t g = H5Gcreate2(f, "infos", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    put(g, "qpos", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, (hsize_t)n, 3, obs);
    H5Gclose(g);
    put_attr(f, "env", "walker2d", 0);                 /* fixed-length */
    put_attr(f, "dataset", "medium-replay", 1);        /* variable-length, as h5py writes */
    char longer[200];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    put_attr(f, "long", longer, 1);                    /* too long: skipped */
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(f, "version", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    const int two = 2;
    H5Awrite(a, H5T_NATIVE_INT, &two);                 /* not a string: skipped */
    H5Aclose(a); H5Sclose(sp);
    H5Tclose(b);
    H5Fclose(f);
    free(obs); free(rew); free(act); free(tf); free(ti); free(tb); free(to);
    no_open_handles(name);
    return path;
}

static const spec good = {.n = 6, .nan_reward = -1, .nan_obs = -1, .flag_value = 1};

static void test_other_forms(void) {
    for (int form = 0; form < 3; form++) {
        spec s = good;
        s.flags = form;
        s.rewards_col = form == 1;
        s.next_dim = form == 2 ? 3 : 0;
        const char *path = h5_file("forms.hdf5", &s);
        aaren_d4rl d;
        CHECK(aaren_d4rl_load(path, &d, err, sizeof err) == 0, "form %d: %s", form, err);
        no_open_handles("load of another form");
        if (!d.block_) { unlink(path); continue; }
        int ok = d.n == 6 && d.obs_dim == 3 && d.act_dim == 2 && (d.next_observations != NULL) == (form == 2);
        for (long i = 0; i < 18; i++) ok &= d.observations[i] == (float)(0.1 * (double)i);
        for (long i = 0; i < 12; i++) ok &= d.actions[i] == -0.25f * (float)i;
        for (long i = 0; i < 6; i++)
            ok &= d.rewards[i] == (float)i + 0.5f && d.terminals[i] == (i == 2) && d.timeouts[i] == (i == 5);
        CHECK(ok, "form %d: values converted", form);
        CHECK(d.n_episodes == 2 && d.ep_start[1] == 3 && d.ep_start[2] == 6, "form %d: episodes", form);
        CHECK(d.n_meta == 2 && aaren_d4rl_meta(&d, "env") && !strcmp(aaren_d4rl_meta(&d, "env"), "walker2d") &&
              aaren_d4rl_meta(&d, "dataset") && !strcmp(aaren_d4rl_meta(&d, "dataset"), "medium-replay") &&
              !aaren_d4rl_meta(&d, "long") && !aaren_d4rl_meta(&d, "version"), "form %d: meta (%d entries)", form, d.n_meta);
        aaren_d4rl_free(&d);
        unlink(path);
    }
}

static void test_malformed(void) {
    const char *path;
    spec s;
    load_fails("text", check_write_text("notes.hdf5", "observations,actions\n1,2\n"), "not an HDF5 file", NULL);
    unlink(check_tmp_path("notes.hdf5"));
    load_fails("absent", check_tmp_path("absent.hdf5"), "cannot open", "No such file");
#define CASE(file, field, value, frag1, frag2)                 \
    do {                                                       \
        s = good;                                              \
        s.field = value;                                       \
        path = h5_file(file, &s);                              \
        load_fails(file, path, frag1, frag2);                  \
        unlink(path);                                          \
    } while (0)
    CASE("no_actions.hdf5", omit, "actions", "missing dataset 'actions'", NULL);
    CASE("no_timeouts.hdf5", omit, "timeouts", "missing dataset 'timeouts'", NULL);
    CASE("short_rewards.hdf5", short_one, "rewards", "'rewards' has 5 rows but 'observations' has 6", "mismatched");
    CASE("short_terminals.hdf5", short_one, "terminals", "'terminals' has 5 rows", NULL);
    CASE("nan_reward.hdf5", nan_reward, 3, "'rewards' row 3 holds nan", "finite");
    CASE("nan_obs.hdf5", nan_obs, 4, "'observations' row 4, column 1 holds nan", NULL);
    CASE("two.hdf5", flag_value, 2, "'terminals' row 2 holds 2; expected 0 or 1", NULL);
    CASE("empty.hdf5", n, 0, "no transitions", NULL);
    CASE("rank.hdf5", act_rank1, 1, "'actions' has shape [6]; expected [n, dim]", NULL);
    CASE("next.hdf5", next_dim, 4, "'next_observations' has shape [6, 4] but 'observations' has [6, 3]", NULL);
    s = good; s.flags = 1; s.flag_value = -1;
    path = h5_file("int_flag.hdf5", &s);
    load_fails("integer flag -1", path, "'terminals' row 2 holds -1", NULL);
    unlink(path);
    s = good; s.flags = 2; s.flag_value = 0.5;
    path = h5_file("float_flag.hdf5", &s);
    load_fails("float flag 0.5", path, "'terminals' row 2 holds 0.5", NULL);
    unlink(path);
#undef CASE
    /* a string dataset where a float one belongs, and a group in place of a dataset */
    s = good; s.omit = "rewards";
    path = h5_file("strings.hdf5", &s);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "rewards", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    H5Fclose(f);
    load_fails("group", path, "'rewards' is not a dataset", NULL);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "actions", H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 4);
    static const char words[6][4] = {"a", "b", "c", "d", "e", "f"};
    hsize_t dims[2] = {6, 1};
    hid_t sp = H5Screate_simple(2, dims, NULL), ds = H5Dcreate2(f, "actions", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, words);
    H5Dclose(ds); H5Sclose(sp); H5Tclose(t); H5Fclose(f);
    load_fails("strings", path, "'actions' holds string values; expected floating point", NULL);
    unlink(path);
    /* a truncated HDF5 file */
    aaren_d4rl d;
    if (fill(&d, 0) == 0) {
        path = check_tmp_path("cut.hdf5");
        CHECK(aaren_d4rl_save(path, &d, err, sizeof err) == 0, "save: %s", err);
        CHECK(truncate(path, 1200) == 0, "truncate");
        load_fails("truncated", path, "cut.hdf5", NULL);
        unlink(path);
        aaren_d4rl_free(&d);
    }
}
#endif

int main(void) {
    test_alloc();
    test_split_stats();
    test_meta();
    if (!check_tmp_dir()) return check_skip("test_d4rl", "cannot make a temporary directory");
#ifdef AAREN_HAVE_HDF5
    CHECK(aaren_hdf5_available() == 1, "the library reports HDF5");
    test_round_trip();
    test_other_forms();
    test_malformed();
#else
    aaren_d4rl d;
    CHECK(aaren_hdf5_available() == 0, "the library reports no HDF5");
    CHECK(aaren_d4rl_load(check_tmp_path("x.hdf5"), &d, err, sizeof err) == -1 && strstr(err, "x.hdf5") &&
          strstr(err, "no HDF5") && strstr(err, "libhdf5-dev"), "load without HDF5: %s", err);
    if (fill(&d, 0) == 0) {
        CHECK(aaren_d4rl_save(check_tmp_path("y.hdf5"), &d, err, sizeof err) == -1 && strstr(err, "no HDF5"),
              "save without HDF5: %s", err);
        aaren_d4rl_free(&d);
    }
    printf("test_d4rl: built without HDF5: SKIPPED the file tests (install libhdf5-dev and rebuild)\n");
#endif
    check_tmp_cleanup();
    return check_done("test_d4rl");
}
