/* Offline-RL data sets in D4RL's HDF5 layout (the v2 locomotion files, e.g. hopper-medium-v2.hdf5).
 *
 * A file holds, at its root, one row per transition:
 *   observations       [n, obs_dim]  float (any float class; read as float32)
 *   actions            [n, act_dim]  float
 *   rewards            [n] or [n, 1] float
 *   terminals          [n] or [n, 1] 0/1: bool (h5py's enum over int8, FALSE = 0, TRUE = 1),
 *                                    integer or float; any other value is refused
 *   timeouts           [n] or [n, 1] 0/1, the same
 *   next_observations  [n, obs_dim]  optional
 * Other groups and datasets (infos/..., metadata/...) are ignored. Root attributes that are
 * scalar strings become meta entries (key < 32 bytes, value < 128 bytes, at most 16; others
 * are skipped).
 *
 * Episodes: an episode ends after a row whose terminals or timeouts is 1 (terminated: the
 * state left the healthy set; timed out: the step cap); rows after the last such row form one
 * more, unfinished episode. Episode e is rows ep_start[e] .. ep_start[e+1]-1.
 *
 * Errors: load and save return -1 and write one line into err naming the file and the fault,
 * e.g. "hopper.hdf5: 'rewards' row 17 holds a non-finite value (nan)".
 *
 * HDF5 is optional: built without it (AAREN_HAVE_HDF5 undefined), load and save fail with a
 * message saying so; everything else works. */
#ifndef AAREN_DATA_D4RL_H
#define AAREN_DATA_D4RL_H
#include <stddef.h>

enum { AAREN_D4RL_META = 16, AAREN_D4RL_KEY = 32, AAREN_D4RL_VAL = 128 };

typedef struct aaren_d4rl {
    long n;                    /* transitions */
    int obs_dim, act_dim;
    float *observations;       /* [n, obs_dim] */
    float *actions;            /* [n, act_dim] */
    float *rewards;            /* [n] */
    float *next_observations;  /* [n, obs_dim]; NULL when the file has none */
    unsigned char *terminals;  /* [n] 0/1 */
    unsigned char *timeouts;   /* [n] 0/1 */
    long n_episodes;
    long *ep_start;            /* [n_episodes + 1] (room for n + 1) */
    int n_meta;                /* root string attributes, e.g. "env" -> "hopper" */
    char meta_key[AAREN_D4RL_META][AAREN_D4RL_KEY], meta_val[AAREN_D4RL_META][AAREN_D4RL_VAL];
    void *block_;              /* the single allocation behind all the arrays */
} aaren_d4rl;

typedef struct {
    long n, episodes, terminated, timed_out, unfinished;
    double ret_mean, ret_std, ret_min, ret_max, len_mean;
} aaren_d4rl_stats;

/* 1 when the library was built with HDF5 and libhdf5 starts (it then stays started: reading
 * children forked later skip its start-up). */
int aaren_hdf5_available(void);

/* Sets *d to an empty data set of n rows (n >= 0, dims >= 1): one zeroed allocation for all
 * arrays, next_observations only when with_next. No episodes, no meta. Returns 0 or -1. */
int aaren_d4rl_alloc(aaren_d4rl *d, long n, int obs_dim, int act_dim, int with_next);
void aaren_d4rl_free(aaren_d4rl *d);   /* releases the arrays and zeroes *d */

/* Fills n_episodes and ep_start from terminals and timeouts (see the top of this file). */
void aaren_d4rl_split(aaren_d4rl *d);

/* Adds or replaces a meta entry; -1 when the table is full or key / value is too long. */
int aaren_d4rl_set_meta(aaren_d4rl *d, const char *key, const char *val);
const char *aaren_d4rl_meta(const aaren_d4rl *d, const char *key);   /* NULL when absent */

/* Per episode of the current split: return = the sum of its rewards; std with n - 1 (0 for
 * one episode); an episode counts as terminated when its last row is terminal, else timed out
 * when that row is a timeout, else unfinished. All zero without episodes. */
void aaren_d4rl_stats_of(const aaren_d4rl *d, aaren_d4rl_stats *s);

/* Limits on reading one file. libhdf5 itself can crash or hang on a damaged or crafted file,
 * so the file is read in a child process: a crash or a hang there becomes an error naming the
 * file, never the caller's end. */
typedef struct {
    double max_mb;      /* memory for the arrays (declared sizes are checked before reading);
                           default 4096: D4RL's largest locomotion file needs about 1000 */
    double timeout_s;   /* wall time of the child that reads; default 60 (a 1M-transition file takes seconds) */
} aaren_d4rl_limits;
aaren_d4rl_limits aaren_d4rl_limits_default(void);

/* Reads a file in the layout above into *d (which it initialises; free with aaren_d4rl_free)
 * and splits it into episodes. Refuses: a file that cannot be opened or is not HDF5, a missing
 * dataset, a dataset reached through a soft or external link or keeping its data in external
 * files, a wrong rank or type, mismatched lengths, next_observations whose shape differs from
 * observations, no rows, declared sizes beyond the memory limit, uncompressed data the file
 * does not hold in full (unwritten or truncated) and compressed data expanding more than
 * 1100-fold, a non-finite value (names the dataset and the row), a flag that is not 0 or 1; a
 * crash, a hang past the time limit or memory exhaustion of the reading child. Returns 0, or -1
 * with err filled and *d empty. lim NULL: the defaults. */
int aaren_d4rl_load_limited(const char *path, aaren_d4rl *d, const aaren_d4rl_limits *lim, char *err, size_t errlen);
/* The same with the default limits. */
int aaren_d4rl_load(const char *path, aaren_d4rl *d, char *err, size_t errlen);

/* Writes *d in the layout above (float32 arrays; terminals and timeouts as h5py's bool, so
 * h5py reads numpy bool; meta as root UTF-8 string attributes), creating or overwriting path.
 * Returns 0, or -1 with err filled (and no file left behind). */
int aaren_d4rl_save(const char *path, const aaren_d4rl *d, char *err, size_t errlen);
#endif
