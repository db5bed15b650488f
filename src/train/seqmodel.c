/* A trainable sequence model: linear embedding, the encoder stack, linear head, and the
 * losses (MSE, cross-entropy; every position or the last valid one). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/model.h"
#include "base/common.h"
#include "base/rng.h"

struct aaren_seqmodel {
    aaren_model *enc;             /* parameter block: encoder, then embed.*, head.* */
    int d_in, d_out, D;
    float *emb_w, *emb_b, *head_w, *head_b;      /* [D, d_in], [D], [d_out, D], [d_out] */
    float *acts;                  /* one block: */
    float *h0, *y, *pred, *dpred, *dy, *dh0;     /* [B,N,D] [B,N,D] [B,N,d_out] [B,N,d_out] [B,N,D] [B,N,D] */
    float *ylast, *dylast;        /* [B, D]: encoder output at each sequence's last valid token */
    int *last_idx;                /* [max_B]: that token's position */
    int last_mode;                /* the last forward applied the head at last tokens only */
    float *tok_block;             /* streaming scratch: [D] embedded token, [D] encoder output */
    const float *x;               /* input of the last forward (read by backward) */
    int max_B, max_N, B, N, have_loss;
};

static size_t extra_len(int D, int d_in, int d_out) {
    return (size_t)D * d_in + D + (size_t)d_out * D + d_out;
}

/* Points the task tensors into a block laid out like the parameters. */
static void carve(const aaren_seqmodel *sm, float *base, float **ew, float **eb, float **hw, float **hb) {
    *ew = base;
    *eb = *ew + (size_t)sm->D * sm->d_in;
    *hw = *eb + sm->D;
    *hb = *hw + (size_t)sm->d_out * sm->D;
}

aaren_seqmodel *aaren_seqmodel_new(const aaren_config *c, int d_in, int d_out, char *err, size_t errlen) {
    if (d_in < 1 || d_out < 1 || d_in > 1 << 20 || d_out > 1 << 20) {
        aaren_errf(err, errlen, "sequence model: input width %d and output width %d must be >= 1", d_in, d_out);
        return NULL;
    }
    aaren_seqmodel *sm = calloc(1, sizeof *sm);
    if (!sm) { aaren_errf(err, errlen, "out of memory"); return NULL; }
    sm->d_in = d_in;
    sm->d_out = d_out;
    sm->D = c->d_model;
    sm->enc = aaren_model_new_ext(c, extra_len(c->d_model, d_in, d_out), err, errlen);
    sm->tok_block = sm->enc ? malloc(sizeof(float) * 2 * (size_t)c->d_model) : NULL;
    if (!sm->tok_block) {
        if (sm->enc) aaren_errf(err, errlen, "out of memory");
        aaren_seqmodel_free(sm);
        return NULL;
    }
    carve(sm, aaren_model_extra(sm->enc), &sm->emb_w, &sm->emb_b, &sm->head_w, &sm->head_b);
    return sm;
}

void aaren_seqmodel_free(aaren_seqmodel *sm) {
    if (!sm) return;
    aaren_model_free(sm->enc);
    free(sm->acts);
    free(sm->last_idx);
    free(sm->tok_block);
    free(sm);
}

aaren_model *aaren_seqmodel_encoder(const aaren_seqmodel *sm) { return sm->enc; }
int aaren_seqmodel_d_in(const aaren_seqmodel *sm) { return sm->d_in; }
int aaren_seqmodel_d_out(const aaren_seqmodel *sm) { return sm->d_out; }

void aaren_seqmodel_init(aaren_seqmodel *sm, uint64_t seed) {
    aaren_model_init(sm->enc, seed);
    uint64_t r = seed ^ 0x5EEDF00Dull;
    const double be = 1 / sqrt((double)sm->d_in), bh = 1 / sqrt((double)sm->D);
    for (size_t i = 0; i < (size_t)sm->D * sm->d_in; i++) sm->emb_w[i] = (float)((2 * aaren_rng_uniform(&r) - 1) * be);
    for (size_t i = 0; i < (size_t)sm->d_out * sm->D; i++) sm->head_w[i] = (float)((2 * aaren_rng_uniform(&r) - 1) * bh);
    memset(sm->emb_b, 0, sizeof(float) * sm->D);
    memset(sm->head_b, 0, sizeof(float) * sm->d_out);
}

void aaren_seqmodel_decay_mask(const aaren_seqmodel *sm, aaren_adamw *o) {
    const aaren_model *m = sm->enc;
    aaren_adamw_set_decay(o, 0, aaren_model_n_trainable(m), 0);
    for (int i = 0; i < m->n_tensors; i++) {
        const aaren_param_entry *e = &m->table[i];
        if (e->ndim == 2) aaren_adamw_set_decay(o, e->offset, e->size, 1);
    }
    const float *base = aaren_model_params(m);
    aaren_adamw_set_decay(o, (size_t)(sm->emb_w - base), (size_t)sm->D * sm->d_in, 1);
    aaren_adamw_set_decay(o, (size_t)(sm->head_w - base), (size_t)sm->d_out * sm->D, 1);
}

int aaren_seqmodel_reserve(aaren_seqmodel *sm, int max_batch, int max_tokens, int with_grads,
                           char *err, size_t errlen) {
    if (aaren_model_reserve(sm->enc, max_batch, max_tokens, with_grads, err, errlen)) return -1;
    const size_t bn = (size_t)max_batch * max_tokens, D = sm->D, O = sm->d_out;
    free(sm->acts);
    free(sm->last_idx);
    sm->acts = malloc(sizeof(float) * (bn * (4 * D + 2 * O) + 2 * (size_t)max_batch * D));
    sm->last_idx = malloc(sizeof(int) * (size_t)max_batch);
    if (!sm->acts || !sm->last_idx) { aaren_errf(err, errlen, "out of memory for %d x %d tokens", max_batch, max_tokens); return -1; }
    sm->max_B = max_batch;
    sm->max_N = max_tokens;
    sm->B = 0;
    return 0;
}

/* Lays the activation block out for B x N tokens. */
static void layout(aaren_seqmodel *sm, int B, int N) {
    const size_t bn = (size_t)B * N, D = sm->D, O = sm->d_out;
    float *p = sm->acts;
    sm->h0 = p; p += bn * D;
    sm->y = p; p += bn * D;
    sm->dy = p; p += bn * D;
    sm->dh0 = p; p += bn * D;
    sm->pred = p; p += bn * O;
    sm->dpred = p; p += bn * O;
    sm->ylast = p; p += (size_t)B * D;
    sm->dylast = p;
}

/* Shared head of both forwards: checks the batch against the reservation, lays out the
 * activations and runs embedding and encoder into sm->y [B, N, D]. Lengths (or NULL: all N)
 * are checked first when last_idx is wanted. */
static int embed_encode(aaren_seqmodel *sm, const float *x, int B, int N, const int *lengths, int want_last, int path,
                        const aaren_dropout *drop, char *err, size_t errlen) {
    if (!sm->acts || B < 1 || N < 1 || B > sm->max_B || N > sm->max_N)
        return aaren_errf(err, errlen, "forward: batch %d x %d tokens is outside the reserved %d x %d", B, N, sm->max_B, sm->max_N);
    if (want_last)
        for (int b = 0; b < B; b++) {
            const int len = lengths ? lengths[b] : N;
            if (len < 1 || len > N)
                return aaren_errf(err, errlen, "forward: sequence %d has length %d; lengths must be 1..%d", b, len, N);
            sm->last_idx[b] = len - 1;
        }
    layout(sm, B, N);
    aaren_linear_forward(sm->h0, x, sm->emb_w, sm->emb_b, B * N, sm->d_in, sm->D);
    if (aaren_model_forward_train(sm->enc, sm->y, sm->h0, B, N, path, drop, err, errlen)) return -1;
    sm->x = x;
    sm->B = B;
    sm->N = N;
    sm->have_loss = 0;
    sm->last_mode = want_last;
    return 0;
}

const float *aaren_seqmodel_forward_train(aaren_seqmodel *sm, const float *x, int B, int N, const int *lengths,
                                          int last_only, int path, const aaren_dropout *drop, char *err, size_t errlen) {
    if (embed_encode(sm, x, B, N, lengths, last_only, path, drop, err, errlen)) return NULL;
    if (!last_only) {
        aaren_linear_forward(sm->pred, sm->y, sm->head_w, sm->head_b, B * N, sm->D, sm->d_out);
        return sm->pred;
    }
    for (int b = 0; b < B; b++)
        memcpy(sm->ylast + (size_t)b * sm->D, sm->y + ((size_t)b * N + sm->last_idx[b]) * sm->D, sizeof(float) * sm->D);
    aaren_linear_forward(sm->pred, sm->ylast, sm->head_w, sm->head_b, B, sm->D, sm->d_out);
    return sm->pred;
}

const float *aaren_seqmodel_forward(aaren_seqmodel *sm, const float *x, int B, int N, int path,
                                    char *err, size_t errlen) {
    return aaren_seqmodel_forward_train(sm, x, B, N, NULL, 0, path, NULL, err, errlen);
}

const float *aaren_seqmodel_forward_last(aaren_seqmodel *sm, const float *x, int B, int N,
                                         const int *lengths, int path, char *err, size_t errlen) {
    return aaren_seqmodel_forward_train(sm, x, B, N, lengths, 1, path, NULL, err, errlen);
}

/* Rows of predictions of the last forward: one per token, or one per sequence. */
static size_t pred_rows(const aaren_seqmodel *sm) { return sm->last_mode ? (size_t)sm->B : (size_t)sm->B * sm->N; }

/* The positions a loss counts: sequence b contributes [t0, t1). */
static void span(const aaren_seqmodel *sm, const int *lengths, int b, int last_only, int *t0, int *t1) {
    if (sm->last_mode) { *t0 = 0; *t1 = 1; return; }   /* one prediction row per sequence */
    int len = lengths ? lengths[b] : sm->N;
    if (len > sm->N) len = sm->N;
    if (len < 0) len = 0;
    *t1 = len;
    *t0 = last_only ? (len > 0 ? len - 1 : 0) : 0;
}

/* Positions (sequences x counted tokens) a loss averages over; also zeroes the gradient. */
static size_t begin_loss(aaren_seqmodel *sm, const int *lengths, int last_only) {
    size_t count = 0;
    memset(sm->dpred, 0, sizeof(float) * pred_rows(sm) * sm->d_out);
    for (int b = 0; b < sm->B; b++) {
        int t0, t1;
        span(sm, lengths, b, last_only, &t0, &t1);
        count += (size_t)(t1 - t0);
    }
    return count;
}

float aaren_seqmodel_loss_mse(aaren_seqmodel *sm, const float *target, const int *lengths, int last_only) {
    const int O = sm->d_out;
    const size_t count = begin_loss(sm, lengths, last_only) * O;
    double loss = 0;
    const double inv = count ? 1.0 / (double)count : 0;
    for (int b = 0; b < sm->B; b++) {
        int t0, t1;
        span(sm, lengths, b, last_only, &t0, &t1);
        for (int t = t0; t < t1; t++) {
            const size_t row = (sm->last_mode ? (size_t)b : (size_t)b * sm->N + t) * O;
            const float *tg = (last_only || sm->last_mode) ? target + (size_t)b * O : target + row;
            for (int k = 0; k < O; k++) {
                const double d = (double)sm->pred[row + k] - tg[k];
                loss += d * d;
                sm->dpred[row + k] = (float)(2 * d * inv);
            }
        }
    }
    sm->have_loss = 1;
    return (float)(loss * inv);
}

float aaren_seqmodel_loss_ce(aaren_seqmodel *sm, const int *labels, const int *lengths, int last_only) {
    const int O = sm->d_out;
    const size_t count = begin_loss(sm, lengths, last_only);
    double loss = 0;
    const double inv = count ? 1.0 / (double)count : 0;
    for (int b = 0; b < sm->B; b++) {
        int t0, t1;
        span(sm, lengths, b, last_only, &t0, &t1);
        for (int t = t0; t < t1; t++) {
            const size_t row = (sm->last_mode ? (size_t)b : (size_t)b * sm->N + t) * O;
            int y = (last_only || sm->last_mode) ? labels[b] : labels[(size_t)b * sm->N + t];
            if (y < 0 || y >= O) y = 0;   /* callers validate labels; never index outside */
            const float *z = sm->pred + row;
            float mx = z[0];
            for (int k = 1; k < O; k++) if (z[k] > mx) mx = z[k];
            double sum = 0;
            for (int k = 0; k < O; k++) sum += exp((double)z[k] - mx);
            loss += log(sum) + mx - z[y];
            for (int k = 0; k < O; k++)
                sm->dpred[row + k] = (float)((exp((double)z[k] - mx) / sum - (k == y)) * inv);
        }
    }
    sm->have_loss = 1;
    return (float)(loss * inv);
}

float *aaren_seqmodel_grad_output(aaren_seqmodel *sm) {
    if (!sm->B) return NULL;
    memset(sm->dpred, 0, sizeof(float) * pred_rows(sm) * sm->d_out);
    sm->have_loss = 1;
    return sm->dpred;
}

int aaren_seqmodel_backward(aaren_seqmodel *sm, char *err, size_t errlen) {
    if (!sm->B || !sm->have_loss) { aaren_errf(err, errlen, "backward: call forward and a loss first"); return -1; }
    float *g = aaren_model_grads(sm->enc);
    if (!g) { aaren_errf(err, errlen, "backward: gradients were not reserved"); return -1; }
    float *gew, *geb, *ghw, *ghb;
    carve(sm, aaren_model_extra_grads(sm->enc), &gew, &geb, &ghw, &ghb);
    const int M = sm->B * sm->N;
    memset(sm->dy, 0, sizeof(float) * (size_t)M * sm->D);
    if (sm->last_mode) {
        memset(sm->dylast, 0, sizeof(float) * (size_t)sm->B * sm->D);
        aaren_linear_backward(sm->dylast, ghw, ghb, sm->dpred, sm->ylast, sm->head_w, sm->B, sm->D, sm->d_out);
        for (int b = 0; b < sm->B; b++)
            memcpy(sm->dy + ((size_t)b * sm->N + sm->last_idx[b]) * sm->D, sm->dylast + (size_t)b * sm->D, sizeof(float) * sm->D);
    } else {
        aaren_linear_backward(sm->dy, ghw, ghb, sm->dpred, sm->y, sm->head_w, M, sm->D, sm->d_out);
    }
    if (aaren_model_backward(sm->enc, sm->dh0, sm->dy, err, errlen)) return -1;
    aaren_linear_backward(NULL, gew, geb, sm->dh0, sm->x, sm->emb_w, M, sm->d_in, sm->D);
    return 0;
}

int aaren_seqmodel_to_st(const aaren_seqmodel *sm, aaren_st *st) {
    if (aaren_model_to_st(sm->enc, st)) return -1;
    char buf[32];
    snprintf(buf, sizeof buf, "%d", sm->d_in);
    int rc = aaren_st_set_meta(st, "seq.d_in", buf);
    snprintf(buf, sizeof buf, "%d", sm->d_out);
    rc |= aaren_st_set_meta(st, "seq.d_out", buf);
    const int64_t ew[2] = {sm->D, sm->d_in}, eb[1] = {sm->D}, hw[2] = {sm->d_out, sm->D}, hb[1] = {sm->d_out};
    if (rc || !aaren_st_put(st, "embed.weight", 2, ew, sm->emb_w) || !aaren_st_put(st, "embed.bias", 1, eb, sm->emb_b) ||
        !aaren_st_put(st, "head.weight", 2, hw, sm->head_w) || !aaren_st_put(st, "head.bias", 1, hb, sm->head_b))
        return -1;
    return 0;
}

aaren_seqmodel *aaren_seqmodel_from_st(const aaren_st *st, const char *path, char *err, size_t errlen) {
    aaren_model *probe = aaren_model_from_st(st, path, err, errlen);
    if (!probe) return NULL;
    const char *si = aaren_st_meta(st, "seq.d_in"), *so = aaren_st_meta(st, "seq.d_out");
    long li, lo;
    if (!si || !so) {
        aaren_errf(err, errlen, "%s: metadata seq.d_in / seq.d_out missing: not a sequence-model checkpoint", path);
        aaren_model_free(probe);
        return NULL;
    }
    if (aaren_meta_long(path, "seq.d_in", si, 1, 1L << 20, &li, err, errlen) ||
        aaren_meta_long(path, "seq.d_out", so, 1, 1L << 20, &lo, err, errlen)) {
        aaren_model_free(probe);
        return NULL;
    }
    const int d_in = (int)li, d_out = (int)lo;
    aaren_seqmodel *sm = aaren_seqmodel_new(aaren_model_config(probe), d_in, d_out, err, errlen);
    if (sm) memcpy(aaren_model_params(sm->enc), aaren_model_params(probe), aaren_model_n_params(probe) * sizeof(float));
    aaren_model_free(probe);
    if (!sm) return NULL;
    const char *names[4] = {"embed.weight", "embed.bias", "head.weight", "head.bias"};
    float *dst[4] = {sm->emb_w, sm->emb_b, sm->head_w, sm->head_b};
    const int64_t len[4] = {(int64_t)sm->D * d_in, sm->D, (int64_t)d_out * sm->D, d_out};
    for (int i = 0; i < 4; i++) {
        const aaren_tensor *t = aaren_st_find(st, names[i]);
        if (!t || t->numel != len[i]) {
            aaren_errf(err, errlen, "%s: tensor '%s' is %s (expected %lld values)", path, names[i],
                   t ? "the wrong size" : "missing", (long long)len[i]);
            aaren_seqmodel_free(sm);
            return NULL;
        }
        for (int64_t j = 0; j < len[i]; j++)
            if (!isfinite(t->data[j])) {
                aaren_errf(err, errlen, "%s: tensor '%s' holds a non-finite value", path, names[i]);
                aaren_seqmodel_free(sm);
                return NULL;
            }
        memcpy(dst[i], t->data, sizeof(float) * (size_t)len[i]);
    }
    return sm;
}

int aaren_seqmodel_stream_step(aaren_seqmodel *sm, aaren_stream *s, const float *x, float *pred,
                               char *err, size_t errlen) {
    float *h = sm->tok_block, *y = sm->tok_block + sm->D;
    aaren_linear_forward(h, x, sm->emb_w, sm->emb_b, 1, sm->d_in, sm->D);
    if (aaren_stream_step(s, h, y, err, errlen)) return -1;
    aaren_linear_forward(pred, y, sm->head_w, sm->head_b, 1, sm->D, sm->d_out);
    return 0;
}
