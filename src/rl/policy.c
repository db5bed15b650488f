/* Linear policies, episodes and episode stores (see policy.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aaren_io.h"
#include "base/common.h"
#include "base/rng.h"
#include "rl/policy.h"

int aaren_linpolicy_init(aaren_linpolicy *p, int obs_dim, int act_dim) {
    memset(p, 0, sizeof *p);
    const size_t n = (size_t)act_dim * obs_dim + 2 * (size_t)obs_dim;
    float *b = calloc(n, sizeof(float));
    if (!b) return -1;
    p->obs_dim = obs_dim;
    p->act_dim = act_dim;
    p->block_ = b;
    p->M = b;
    p->mean = b + (size_t)act_dim * obs_dim;
    p->std = p->mean + obs_dim;
    for (int i = 0; i < obs_dim; i++) p->std[i] = 1.0f;
    return 0;
}

void aaren_linpolicy_free(aaren_linpolicy *p) {
    free(p->block_);
    memset(p, 0, sizeof *p);
}

void aaren_linpolicy_copy(aaren_linpolicy *dst, const aaren_linpolicy *src) {
    memcpy(dst->block_, src->block_, sizeof(float) * ((size_t)src->act_dim * src->obs_dim + 2 * (size_t)src->obs_dim));
}

void aaren_linpolicy_act(const aaren_linpolicy *p, const float *M, const float *obs, float *z, float *act) {
    if (!M) M = p->M;
    const int no = p->obs_dim;
    for (int i = 0; i < no; i++) z[i] = (obs[i] - p->mean[i]) / p->std[i];
    for (int a = 0; a < p->act_dim; a++) {
        const float *row = M + (size_t)a * no;
        double v = 0;
        for (int i = 0; i < no; i++) v += (double)row[i] * z[i];
        act[a] = (float)v;
    }
}

int aaren_linpolicy_save(const char *path, const aaren_linpolicy *p, aaren_env_kind env, int n,
                         const char *const *keys, const char *const *vals, char *err, size_t errlen) {
    aaren_st st;
    aaren_st_init(&st);
    const int64_t sm[2] = {p->act_dim, p->obs_dim}, sv[1] = {p->obs_dim};
    int rc = !aaren_st_put(&st, "policy.M", 2, sm, p->M) || !aaren_st_put(&st, "policy.mean", 1, sv, p->mean) ||
             !aaren_st_put(&st, "policy.std", 1, sv, p->std) || aaren_st_set_meta(&st, "policy.env", aaren_env_name(env));
    for (int i = 0; i < n && !rc; i++) rc = aaren_st_set_meta(&st, keys[i], vals[i]);
    if (rc) aaren_errf(err, errlen, "%s: out of memory", path);
    else rc = aaren_st_write(path, &st, err, errlen);
    aaren_st_free(&st);
    return rc ? -1 : 0;
}

int aaren_linpolicy_load(const char *path, aaren_linpolicy *p, aaren_env_kind *env, char *err, size_t errlen) {
    aaren_st st;
    aaren_st_init(&st);
    if (aaren_st_read(path, &st, err, errlen)) return -1;
    const aaren_tensor *M = aaren_st_find(&st, "policy.M"), *mu = aaren_st_find(&st, "policy.mean"),
                       *sd = aaren_st_find(&st, "policy.std");
    const char *name = aaren_st_meta(&st, "policy.env");
    const int k = name ? aaren_env_kind_from_name(name) : -1;
    int rc = -1;
    if (!M || !mu || !sd || k < 0)
        aaren_file_err(err, errlen, path, "not a policy file (needs tensors policy.M, policy.mean, policy.std and "
                                          "metadata policy.env naming an environment)");
    else if (M->ndim != 2 || mu->ndim != 1 || sd->ndim != 1 || mu->shape[0] != M->shape[1] || sd->shape[0] != M->shape[1])
        aaren_file_err(err, errlen, path, "policy.M must be [act, obs] and policy.mean / policy.std [obs]");
    else if (aaren_linpolicy_init(p, (int)M->shape[1], (int)M->shape[0]))
        aaren_errf(err, errlen, "%s: out of memory", path);
    else {
        memcpy(p->M, M->data, sizeof(float) * (size_t)M->numel);
        memcpy(p->mean, mu->data, sizeof(float) * (size_t)p->obs_dim);
        memcpy(p->std, sd->data, sizeof(float) * (size_t)p->obs_dim);
        rc = 0;
        for (int64_t i = 0; i < M->numel && !rc; i++) rc = isfinite(p->M[i]) ? 0 : -1;
        for (int i = 0; i < p->obs_dim && !rc; i++) rc = isfinite(p->mean[i]) && p->std[i] > 0 && isfinite(p->std[i]) ? 0 : -1;
        if (rc) {
            aaren_file_err(err, errlen, path, "the policy holds a non-finite value or a std <= 0");
            aaren_linpolicy_free(p);
        } else {
            *env = (aaren_env_kind)k;
        }
    }
    aaren_st_free(&st);
    return rc;
}

int aaren_episode_init(aaren_episode *ep, int obs_dim, int act_dim) {
    memset(ep, 0, sizeof *ep);
    const size_t T = AAREN_ENV_MAX_STEPS;
    float *b = malloc(sizeof(float) * ((T + 1) * obs_dim + T * act_dim + T + obs_dim));
    if (!b) return -1;
    ep->obs_dim = obs_dim;
    ep->act_dim = act_dim;
    ep->block_ = b;
    ep->obs = b;
    ep->act = ep->obs + (T + 1) * obs_dim;
    ep->rew = ep->act + T * act_dim;
    ep->z = ep->rew + T;
    return 0;
}

void aaren_episode_free(aaren_episode *ep) {
    free(ep->block_);
    memset(ep, 0, sizeof *ep);
}

double aaren_episode_run(aaren_env *e, const aaren_linpolicy *p, const float *M, float noise, double shift,
                         uint64_t *rng, aaren_episode *ep) {
    const int no = ep->obs_dim, na = ep->act_dim;
    aaren_env_reset(e, rng, ep->obs);
    ep->len = 0;
    ep->ret = ep->shifted_ret = 0;
    ep->end = AAREN_EP_UNFINISHED;
    int term = 0, trunc = 0;
    while (!term && !trunc && ep->len < AAREN_ENV_MAX_STEPS) {
        const int t = ep->len;
        float *a = ep->act + (size_t)t * na;
        aaren_linpolicy_act(p, M, ep->obs + (size_t)t * no, ep->z, a);
        for (int i = 0; i < na; i++) {
            float v = a[i] + (noise > 0 ? noise * (float)aaren_rng_normal(rng) : 0.0f);
            a[i] = v < -1 ? -1 : v > 1 ? 1 : v;
        }
        double r;
        if (aaren_env_step(e, a, ep->obs + (size_t)(t + 1) * no, &r, &term, &trunc)) break;
        ep->rew[t] = (float)r;
        ep->ret += r;
        ep->shifted_ret += r - shift;
        ep->len++;
    }
    ep->end = term ? AAREN_EP_TERMINATED : trunc ? AAREN_EP_TRUNCATED : AAREN_EP_UNFINISHED;
    return ep->ret;
}

void aaren_store_init(aaren_episode_store *s, int obs_dim, int act_dim) {
    memset(s, 0, sizeof *s);
    s->obs_dim = obs_dim;
    s->act_dim = act_dim;
}

void aaren_store_free(aaren_episode_store *s) {
    free(s->ep_step); free(s->ep_len); free(s->ep_end); free(s->ep_ret);
    free(s->obs); free(s->act); free(s->rew);
    aaren_store_init(s, s->obs_dim, s->act_dim);
}

static int resize(void **p, long n, size_t sz) {
    void *q = realloc(*p, (size_t)n * sz);
    if (!q) return -1;
    *p = q;
    return 0;
}

static long doubled(long cap, long need) {
    long c = cap ? cap : 1024;
    while (c < need) c *= 2;
    return c;
}

int aaren_store_add(aaren_episode_store *s, const aaren_episode *ep, int len) {
    if (len > ep->len) len = ep->len;
    const long e = s->n_ep, st = s->n_steps;
    if (e + 1 > s->cap_ep) {
        const long c = doubled(s->cap_ep, e + 1);
        if (resize((void **)&s->ep_step, c, sizeof(long)) || resize((void **)&s->ep_len, c, sizeof(int)) ||
            resize((void **)&s->ep_end, c, 1) || resize((void **)&s->ep_ret, c, sizeof(double)))
            return -1;
        s->cap_ep = c;
    }
    if (st + len + e + 1 > s->cap_steps) {   /* obs rows need steps + episodes; act and rew get the same room */
        const long c = doubled(s->cap_steps, st + len + e + 1);
        if (resize((void **)&s->obs, c, sizeof(float) * s->obs_dim) || resize((void **)&s->act, c, sizeof(float) * s->act_dim) ||
            resize((void **)&s->rew, c, sizeof(float)))
            return -1;
        s->cap_steps = c;
    }
    memcpy(s->obs + (size_t)(st + e) * s->obs_dim, ep->obs, sizeof(float) * (size_t)(len + 1) * s->obs_dim);
    memcpy(s->act + (size_t)st * s->act_dim, ep->act, sizeof(float) * (size_t)len * s->act_dim);
    memcpy(s->rew + st, ep->rew, sizeof(float) * (size_t)len);
    double ret = 0;
    for (int t = 0; t < len; t++) ret += ep->rew[t];
    s->ep_step[e] = st;
    s->ep_len[e] = len;
    s->ep_end[e] = (unsigned char)(len == ep->len ? ep->end : AAREN_EP_UNFINISHED);
    s->ep_ret[e] = ret;
    s->n_ep = e + 1;
    s->n_steps = st + len;
    return 0;
}
