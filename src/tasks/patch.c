/* The patch forecaster's network (see patch.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/common.h"
#include "base/rng.h"
#include "layers/layers.h"
#include "tasks/patch.h"

struct aaren_patchmodel {
    aaren_model *enc;             /* parameter block: encoder, then the task's tensors */
    int L, H, P, stride, n, D;    /* lookback, horizon, patch length, stride, patches, width */
    float *pw, *pb, *pos, *hw, *hb;   /* [D, P] [D] [n, D] [H, n*D] [H] inside the block */
    float *acts;                  /* one block: */
    float *tok, *h0, *y, *dy, *dh0, *pred, *dpred;   /* [S,n,P] [S,n,D] x4 [S,H] x2 */
    const float *x;               /* input of the last forward */
    int max_S, S, have_grad;
};

static size_t extra_len(int D, int P, int n, int H) {
    return (size_t)D * P + D + (size_t)n * D + (size_t)H * n * D + H;
}

static void carve(const aaren_patchmodel *pm, float *base, float **pw, float **pb, float **pos, float **hw, float **hb) {
    *pw = base;
    *pb = *pw + (size_t)pm->D * pm->P;
    *pos = *pb + pm->D;
    *hw = *pos + (size_t)pm->n * pm->D;
    *hb = *hw + (size_t)pm->H * pm->n * pm->D;
}

aaren_patchmodel *aaren_patchmodel_new(const aaren_config *c, int L, int H, int P, int stride, char *err, size_t errlen) {
    if (L < 1 || H < 1 || P < 1 || P > L || stride < 1 || stride > P || L > 1 << 20 || H > 1 << 20) {
        aaren_errf(err, errlen, "patch model: lookback %d, horizon %d, patch length %d and stride %d must satisfy "
                   "1 <= stride <= patch length <= lookback", L, H, P, stride);
        return NULL;
    }
    aaren_patchmodel *pm = calloc(1, sizeof *pm);
    if (!pm) { aaren_errf(err, errlen, "out of memory"); return NULL; }
    pm->L = L; pm->H = H; pm->P = P; pm->stride = stride;
    pm->n = (L - P) / stride + 2;
    pm->D = c->d_model;
    pm->enc = aaren_model_new_ext(c, extra_len(pm->D, P, pm->n, H), err, errlen);
    if (!pm->enc) { free(pm); return NULL; }
    carve(pm, aaren_model_extra(pm->enc), &pm->pw, &pm->pb, &pm->pos, &pm->hw, &pm->hb);
    return pm;
}

void aaren_patchmodel_free(aaren_patchmodel *pm) {
    if (!pm) return;
    aaren_model_free(pm->enc);
    free(pm->acts);
    free(pm);
}

aaren_model *aaren_patchmodel_encoder(const aaren_patchmodel *pm) { return pm->enc; }
int aaren_patchmodel_n_patches(const aaren_patchmodel *pm) { return pm->n; }

void aaren_patchmodel_init(aaren_patchmodel *pm, uint64_t seed) {
    aaren_model_init(pm->enc, seed);
    uint64_t r = seed ^ 0x9A7C4F00Dull;
    const size_t nd = (size_t)pm->n * pm->D;
    const double be = 1 / sqrt((double)pm->P), bh = 1 / sqrt((double)nd);
    for (size_t i = 0; i < (size_t)pm->D * pm->P; i++) pm->pw[i] = (float)((2 * aaren_rng_uniform(&r) - 1) * be);
    for (size_t i = 0; i < nd; i++) pm->pos[i] = (float)((2 * aaren_rng_uniform(&r) - 1) * 0.02);
    for (size_t i = 0; i < (size_t)pm->H * nd; i++) pm->hw[i] = (float)((2 * aaren_rng_uniform(&r) - 1) * bh);
    memset(pm->pb, 0, sizeof(float) * pm->D);
    memset(pm->hb, 0, sizeof(float) * pm->H);
}

int aaren_patchmodel_reserve(aaren_patchmodel *pm, int max_series, int with_grads, char *err, size_t errlen) {
    if (max_series < 1) return aaren_errf(err, errlen, "patch model: batch of %d series", max_series);
    if (aaren_model_reserve(pm->enc, max_series, pm->n, with_grads, err, errlen)) return -1;
    const size_t S = (size_t)max_series, n = pm->n, D = pm->D;
    free(pm->acts);
    pm->acts = malloc(sizeof(float) * S * (n * pm->P + 4 * n * D + 2 * (size_t)pm->H));
    if (!pm->acts) return aaren_errf(err, errlen, "out of memory for a batch of %d series", max_series);
    float *p = pm->acts;
    pm->tok = p; p += S * n * pm->P;
    pm->h0 = p; p += S * n * D;
    pm->y = p; p += S * n * D;
    pm->dy = p; p += S * n * D;
    pm->dh0 = p; p += S * n * D;
    pm->pred = p; p += S * pm->H;
    pm->dpred = p;
    pm->max_S = max_series;
    pm->S = 0;
    return 0;
}

void aaren_patchmodel_unfold(const aaren_patchmodel *pm, const float *x, float *tokens) {
    for (int k = 0; k < pm->n; k++)
        for (int j = 0; j < pm->P; j++) {
            const int t = k * pm->stride + j;   /* into x followed by copies of its last value */
            tokens[(size_t)k * pm->P + j] = x[t < pm->L ? t : pm->L - 1];
        }
}

const float *aaren_patchmodel_forward(aaren_patchmodel *pm, const float *x, int S, char *err, size_t errlen) {
    return aaren_patchmodel_forward_train(pm, x, S, NULL, err, errlen);
}

const float *aaren_patchmodel_forward_train(aaren_patchmodel *pm, const float *x, int S, const aaren_dropout *drop, char *err,
                                            size_t errlen) {
    if (!pm->acts || S < 1 || S > pm->max_S) {
        aaren_errf(err, errlen, "patch model: batch of %d series is outside the reserved %d", S, pm->max_S);
        return NULL;
    }
    const size_t n = pm->n, D = pm->D;
    for (int s = 0; s < S; s++) aaren_patchmodel_unfold(pm, x + (size_t)s * pm->L, pm->tok + (size_t)s * n * pm->P);
    aaren_linear_forward(pm->h0, pm->tok, pm->pw, pm->pb, (int)(S * n), pm->P, pm->D);
    for (int s = 0; s < S; s++) {
        float *h = pm->h0 + (size_t)s * n * D;
        for (size_t i = 0; i < n * D; i++) h[i] += pm->pos[i];
    }
    if (aaren_model_forward_train(pm->enc, pm->y, pm->h0, S, pm->n, AAREN_SCAN, drop, err, errlen)) return NULL;
    aaren_linear_forward(pm->pred, pm->y, pm->hw, pm->hb, S, (int)(n * D), pm->H);
    pm->x = x;
    pm->S = S;
    pm->have_grad = 0;
    return pm->pred;
}

float *aaren_patchmodel_grad_output(aaren_patchmodel *pm) {
    if (!pm->S) return NULL;
    memset(pm->dpred, 0, sizeof(float) * (size_t)pm->S * pm->H);
    pm->have_grad = 1;
    return pm->dpred;
}

int aaren_patchmodel_backward(aaren_patchmodel *pm, char *err, size_t errlen) {
    if (!pm->S || !pm->have_grad) return aaren_errf(err, errlen, "patch model: backward needs a forward and its grad_output");
    if (!aaren_model_grads(pm->enc)) return aaren_errf(err, errlen, "patch model: gradients were not reserved");
    float *gpw, *gpb, *gpos, *ghw, *ghb;
    carve(pm, aaren_model_extra_grads(pm->enc), &gpw, &gpb, &gpos, &ghw, &ghb);
    const int S = pm->S;
    const size_t n = pm->n, D = pm->D;
    memset(pm->dy, 0, sizeof(float) * (size_t)S * n * D);
    aaren_linear_backward(pm->dy, ghw, ghb, pm->dpred, pm->y, pm->hw, S, (int)(n * D), pm->H);
    if (aaren_model_backward(pm->enc, pm->dh0, pm->dy, err, errlen)) return -1;
    for (int s = 0; s < S; s++) {
        const float *g = pm->dh0 + (size_t)s * n * D;
        for (size_t i = 0; i < n * D; i++) gpos[i] += g[i];
    }
    aaren_linear_backward(NULL, gpw, gpb, pm->dh0, pm->tok, pm->pw, (int)(S * n), pm->P, pm->D);
    return 0;
}

static const char *const tensor_name[5] = {"patch.embed.weight", "patch.embed.bias", "patch.pos", "patch.head.weight",
                                          "patch.head.bias"};

int aaren_patchmodel_to_st(const aaren_patchmodel *pm, aaren_st *st) {
    if (aaren_model_to_st(pm->enc, st)) return -1;
    const char *key[4] = {"patch.seq_len", "patch.pred_len", "patch.len", "patch.stride"};
    const int val[4] = {pm->L, pm->H, pm->P, pm->stride};
    for (int i = 0; i < 4; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d", val[i]);
        if (aaren_st_set_meta(st, key[i], buf)) return -1;
    }
    const int64_t shape[5][2] = {{pm->D, pm->P}, {pm->D, 0}, {pm->n, pm->D}, {pm->H, (int64_t)pm->n * pm->D}, {pm->H, 0}};
    const float *src[5] = {pm->pw, pm->pb, pm->pos, pm->hw, pm->hb};
    for (int i = 0; i < 5; i++)
        if (!aaren_st_put(st, tensor_name[i], shape[i][1] ? 2 : 1, shape[i], src[i])) return -1;
    return 0;
}

aaren_patchmodel *aaren_patchmodel_from_st(const aaren_st *st, const char *path, char *err, size_t errlen) {
    const char *key[4] = {"patch.seq_len", "patch.pred_len", "patch.len", "patch.stride"};
    long v[4];
    for (int i = 0; i < 4; i++) {
        const char *s = aaren_st_meta(st, key[i]);
        if (!s) {
            aaren_errf(err, errlen, "%s: metadata %s missing: not a patch-forecaster checkpoint", path, key[i]);
            return NULL;
        }
        if (aaren_meta_long(path, key[i], s, 1, 1L << 20, &v[i], err, errlen)) return NULL;
    }
    aaren_model *probe = aaren_model_from_st(st, path, err, errlen);
    if (!probe) return NULL;
    aaren_patchmodel *pm = aaren_patchmodel_new(aaren_model_config(probe), (int)v[0], (int)v[1], (int)v[2], (int)v[3],
                                                err, errlen);
    if (pm) memcpy(aaren_model_params(pm->enc), aaren_model_params(probe), aaren_model_n_params(probe) * sizeof(float));
    aaren_model_free(probe);
    if (!pm) return NULL;
    float *dst[5] = {pm->pw, pm->pb, pm->pos, pm->hw, pm->hb};
    const int64_t len[5] = {(int64_t)pm->D * pm->P, pm->D, (int64_t)pm->n * pm->D, (int64_t)pm->H * pm->n * pm->D, pm->H};
    for (int i = 0; i < 5; i++) {
        const aaren_tensor *t = aaren_st_find(st, tensor_name[i]);
        const char *why = !t ? "missing" : t->numel != len[i] ? "the wrong size" : NULL;
        for (int64_t j = 0; !why && j < len[i]; j++)
            if (!isfinite(t->data[j])) why = "holding a non-finite value";
        if (why) {
            aaren_errf(err, errlen, "%s: tensor '%s' is %s (expected %lld finite values)", path, tensor_name[i], why,
                       (long long)len[i]);
            aaren_patchmodel_free(pm);
            return NULL;
        }
        memcpy(dst[i], t->data, sizeof(float) * (size_t)len[i]);
    }
    return pm;
}
