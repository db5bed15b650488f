/* Fuzz harness: the D4RL-layout HDF5 loader, the whole load path (aaren_d4rl_load_limited:
 * a child process parses the file with libhdf5, the parent checks and decodes what it sends).
 *
 * The child's time limit is 3 s instead of the reader's default, below libFuzzer's per-input
 * limit, so that a file on which libhdf5 hangs exercises the reader's own time-out; a long
 * campaign sets a shorter one in AAREN_FUZZ_HDF5_TIMEOUT (seconds, e.g. 0.1: a good seed
 * loads in about 10 ms, while about 7% of mutated files hang libhdf5 reading the global
 * heap, and at 3 s those hangs took 95% of the time). The memory limit is 256 MB. A load either fails with a one-line message naming the file, or
 * holds rows whose values are finite, flags that are 0 or 1, and episodes that tile the rows
 * in order. */
#include "common.h"
#include "data/d4rl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_INPUT = 1 << 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Built without HDF5 the loader fails at once on every input, and a campaign would count
 * executions that never reach a parser: refuse to start. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (!aaren_hdf5_available()) {
        fprintf(stderr, "fuzz_d4rl: this build has no HDF5 (install libhdf5-dev and reconfigure "
                        "build-fuzz); nothing to fuzz\n");
        exit(2);
    }
    return 0;
}

static void check_finite(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++) FUZZ_ASSERT(isfinite(v[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MAX_INPUT) return 0;
    const char *path = fuzz_put("input.hdf5", data, size);
    char err[512] = "";
    aaren_d4rl d;
    memset(&d, 0, sizeof d);
    aaren_d4rl_limits lim = aaren_d4rl_limits_default();
    const char *t = getenv("AAREN_FUZZ_HDF5_TIMEOUT");
    lim.timeout_s = t ? atof(t) : 3;
    if (!(lim.timeout_s > 0)) lim.timeout_s = 3;
    lim.max_mb = 256;
    if (aaren_d4rl_load_limited(path, &d, &lim, err, sizeof err)) {
        fuzz_check_message("aaren_d4rl_load_limited", path, err);
        FUZZ_ASSERT(d.n == 0 && d.block_ == NULL);
        return 0;
    }
    fuzz_note_loaded("aaren_d4rl_load_limited", path);
    FUZZ_ASSERT(d.n >= 1 && d.obs_dim >= 1 && d.act_dim >= 1);
    const size_t n = (size_t)d.n;
    check_finite(d.observations, n * (size_t)d.obs_dim);
    check_finite(d.actions, n * (size_t)d.act_dim);
    check_finite(d.rewards, n);
    if (d.next_observations) check_finite(d.next_observations, n * (size_t)d.obs_dim);
    for (size_t i = 0; i < n; i++) FUZZ_ASSERT(d.terminals[i] <= 1 && d.timeouts[i] <= 1);
    FUZZ_ASSERT(d.n_episodes >= 1 && d.ep_start[0] == 0 && d.ep_start[d.n_episodes] == d.n);
    for (long e = 0; e < d.n_episodes; e++) FUZZ_ASSERT(d.ep_start[e] < d.ep_start[e + 1]);
    FUZZ_ASSERT(d.n_meta >= 0 && d.n_meta <= AAREN_D4RL_META);
    for (int i = 0; i < d.n_meta; i++) {
        FUZZ_ASSERT(memchr(d.meta_key[i], 0, AAREN_D4RL_KEY) != NULL);
        FUZZ_ASSERT(memchr(d.meta_val[i], 0, AAREN_D4RL_VAL) != NULL);
    }
    aaren_d4rl_stats st;
    aaren_d4rl_stats_of(&d, &st);
    FUZZ_ASSERT(st.n == d.n && st.episodes == d.n_episodes);
    aaren_d4rl_free(&d);
    return 0;
}
