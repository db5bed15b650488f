/* Offline data sets from behaviour policies (see datasets.h). */
#include <stdlib.h>
#include <string.h>
#include "base/common.h"
#include "base/parallel.h"
#include "base/rng.h"
#include "rl/datasets.h"

int aaren_collect(aaren_env_kind k, const char *xml_dir, const aaren_linpolicy *p, float action_noise,
                  long transitions, uint64_t seed, aaren_episode_store *store, char *err, size_t errlen) {
    const int T = aaren_max_threads();
    aaren_env **env = calloc((size_t)T, sizeof *env);
    aaren_episode *eps = calloc((size_t)T, sizeof *eps);
    int rc = env && eps ? 0 : aaren_errf(err, errlen, "out of memory");
    for (int i = 0; i < T && !rc; i++) {
        if (!(env[i] = aaren_env_new(k, xml_dir, err, errlen))) rc = -1;
        else if (aaren_episode_init(&eps[i], p->obs_dim, p->act_dim)) rc = aaren_errf(err, errlen, "out of memory");
    }
    long have = 0, batch = 0;
    while (!rc && have < transitions) {
        #pragma omp parallel for schedule(dynamic, 1) num_threads(T)
        for (int i = 0; i < T; i++) {
            uint64_t rng = seed * 0x9E3779B97F4A7C15ull ^ (uint64_t)(batch * T + i) * 0xD1B54A32D192ED03ull;
            aaren_rng_next(&rng);
            aaren_episode_run(env[aaren_thread_id()], p, NULL, action_noise, 0, &rng, &eps[i]);
        }
        for (int i = 0; i < T && have < transitions && !rc; i++) {
            const long room = transitions - have;
            const int len = eps[i].len < room ? eps[i].len : (int)room;
            if (aaren_store_add(store, &eps[i], len)) rc = aaren_errf(err, errlen, "out of memory");
            have += len;
        }
        batch++;
    }
    for (int i = 0; i < T; i++) {
        if (env && env[i]) aaren_env_free(env[i]);
        if (eps) aaren_episode_free(&eps[i]);
    }
    free(env);
    free(eps);
    return rc;
}

long aaren_store_thin(const aaren_episode_store *s, long transitions, unsigned char *keep) {
    long kept = 0;
    if (s->n_steps <= transitions) {
        for (long e = 0; e < s->n_ep; e++) keep[e] = 1;
        return s->n_steps;
    }
    /* keep episode e when the running share crosses an integer: a fraction q of the episodes,
     * spread evenly from the first training iteration to the last */
    const double q = (double)transitions / s->n_steps;
    for (long e = 0; e < s->n_ep; e++) {
        keep[e] = (long)((e + 1) * q) > (long)(e * q);
        if (keep[e]) kept += s->ep_len[e];
    }
    return kept;
}

static long rows_of(const aaren_episode_store *s, const unsigned char *keep) {
    long n = 0;
    for (long e = 0; s && e < s->n_ep; e++) n += !keep || keep[e] ? s->ep_len[e] : 0;
    return n;
}

static long append(aaren_d4rl *d, long row, const aaren_episode_store *s, const unsigned char *keep) {
    const int no = d->obs_dim, na = d->act_dim;
    for (long e = 0; s && e < s->n_ep; e++) {
        if (keep && !keep[e]) continue;
        const long st = s->ep_step[e];
        const int L = s->ep_len[e];
        const float *obs = s->obs + (size_t)(st + e) * no;
        memcpy(d->observations + (size_t)row * no, obs, sizeof(float) * (size_t)L * no);
        memcpy(d->next_observations + (size_t)row * no, obs + no, sizeof(float) * (size_t)L * no);
        memcpy(d->actions + (size_t)row * na, s->act + (size_t)st * na, sizeof(float) * (size_t)L * na);
        memcpy(d->rewards + row, s->rew + st, sizeof(float) * (size_t)L);
        if (L > 0) {
            d->terminals[row + L - 1] = s->ep_end[e] == AAREN_EP_TERMINATED;
            d->timeouts[row + L - 1] = s->ep_end[e] == AAREN_EP_TRUNCATED;
        }
        row += L;
    }
    return row;
}

int aaren_store_to_d4rl(const aaren_episode_store *a, const unsigned char *keep_a, const aaren_episode_store *b,
                        aaren_d4rl *d, char *err, size_t errlen) {
    const long n = rows_of(a, keep_a) + rows_of(b, NULL);
    if (n < 1) return aaren_errf(err, errlen, "rl: no transitions to write");
    if (aaren_d4rl_alloc(d, n, a->obs_dim, a->act_dim, 1)) return aaren_errf(err, errlen, "out of memory");
    const long mid = append(d, 0, a, keep_a);
    /* a cut last episode of the first part must not run on into the second part's first */
    if (b && mid > 0 && !d->terminals[mid - 1]) d->timeouts[mid - 1] = 1;
    append(d, mid, b, NULL);
    aaren_d4rl_split(d);
    return 0;
}
