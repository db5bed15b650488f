/* aaren rl info: describe a D4RL-style HDF5 data set (src/data/d4rl.h). */
#include <string.h>
#include "cli.h"

static const char *info_help =
    "usage: aaren rl info --data FILE.hdf5\n\n"
    "Loads a D4RL-style HDF5 data set (observations, actions, rewards, terminals, timeouts and\n"
    "optionally next_observations at the root, e.g. hopper-medium-v2.hdf5), checks it, and\n"
    "prints one 'key: value' per line: the transitions, the dimensions, the episodes (ended by\n"
    "terminals or timeouts; a trailing run is one unfinished episode), the episode returns and\n"
    "lengths. When the file's 'env' attribute, else the first word of its file name, names\n"
    "halfcheetah, hopper, walker2d or ant, it also prints D4RL's normalised score of the mean\n"
    "return. Needs a build with HDF5 (libhdf5-dev).\n\n"
    CLI_HDF5_OPTIONS_HELP;

/* The environment in the first word of s (up to '-', '_', '.' or '/'), e.g. "hopper-medium-v2";
 * -1 when it is none of the four. */
static int env_of(const char *s) {
    if (!s) return -1;
    char w[32];
    size_t n = strcspn(s, "-_./");
    if (n >= sizeof w) return -1;
    memcpy(w, s, n);
    w[n] = '\0';
    return aaren_env_kind_from_name(w);
}

int cli_data_env(const aaren_d4rl *d, const char *path) {
    const char *env = aaren_d4rl_meta(d, "env"), *base = strrchr(path, '/');
    return env ? env_of(env) : env_of(base ? base + 1 : path);
}

void cli_default_d4rl(cli_defaults *d) {
    const aaren_d4rl_limits lim = aaren_d4rl_limits_default();
    cli_default(d, "max-memory", "%g", lim.max_mb);
    cli_default(d, "read-timeout", "%g", lim.timeout_s);
}

int cli_d4rl_load(const cli_args *a, const char *path, aaren_d4rl *d) {
    aaren_d4rl_limits lim = aaren_d4rl_limits_default();
    char err[1024];
    memset(d, 0, sizeof *d);
    if (cli_double(a, "max-memory", lim.max_mb, 1, 1e7, &lim.max_mb) ||
        cli_double(a, "read-timeout", lim.timeout_s, 0.001, 1e6, &lim.timeout_s))
        return 2;
    return aaren_d4rl_load_limited(path, d, &lim, err, sizeof err) ? cli_fail(a->cmd, "%s", err) : 0;
}

int cmd_rl_info(int argc, char **argv) {
    static const char *const valued[] = {"data", "max-memory", "read-timeout", NULL};
    cli_args a;
    int rc = cli_parse(&a, "rl info", argc, argv, valued, NULL);
    if (rc) {
        cli_defaults dd = {0};
        cli_default_d4rl(&dd);
        if (rc > 0) cli_print_help(info_help, &dd);
        return rc > 0 ? 0 : 2;
    }
    const char *path = cli_need(&a, "data");
    if (!path) return 2;
    aaren_d4rl d;
    aaren_d4rl_stats s;
    if ((rc = cli_d4rl_load(&a, path, &d))) return rc;
    aaren_d4rl_stats_of(&d, &s);
    const char *env = aaren_d4rl_meta(&d, "env"), *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const int k = env ? env_of(env) : env_of(base);
    printf("file: %s\n", path);
    if (env) printf("env: %s\n", env);
    if (aaren_d4rl_meta(&d, "dataset")) printf("dataset: %s\n", aaren_d4rl_meta(&d, "dataset"));
    printf("transitions: %ld\nobs_dim: %d\nact_dim: %d\nnext_observations: %s\n", d.n, d.obs_dim, d.act_dim,
           d.next_observations ? "yes" : "no");
    printf("episodes: %ld\nterminated: %ld\ntimed_out: %ld\nunfinished: %ld\n", s.episodes, s.terminated, s.timed_out,
           s.unfinished);
    printf("return_mean: %.6f\nreturn_std: %.6f\nreturn_min: %.6f\nreturn_max: %.6f\nlength_mean: %.4f\n", s.ret_mean,
           s.ret_std, s.ret_min, s.ret_max, s.len_mean);
    if (k >= 0)
        printf("score_env: %s (from the %s)\nnormalized_score: %.6f\n", aaren_env_name((aaren_env_kind)k),
               env ? "env attribute" : "file name", aaren_env_normalized_score((aaren_env_kind)k, s.ret_mean));
    aaren_d4rl_free(&d);
    return 0;
}
