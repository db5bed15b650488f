/* Decision Transformer / Decision Aaren (see dt.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/common.h"
#include "layers/layers.h"
#include "base/rng.h"
#include "rl/policy.h"
#include "tasks/dt.h"

struct aaren_dt {
    aaren_dt_options o;
    aaren_env_kind env;
    int no, na, D, K;
    int tps;                          /* tokens per step: 3, or 2 without return tokens (o.no_returns) */
    aaren_model *enc;
    aaren_adamw *opt;                 /* NULL for a loaded model */
    /* views into the encoder's extra parameter block */
    float *Wr, *br;                   /* [D, 1], [D] */
    float *Ws, *bs;                   /* [D, no], [D] */
    float *Wa, *ba;                   /* [D, na], [D] */
    float *T;                         /* [AAREN_DT_MAX_EP_LEN, D] */
    float *lnw, *lnb;                 /* [D] */
    float *Wh, *bh;                   /* [na, D], [na] */
    float *mean, *std;                /* [no] observation statistics */
    /* activations for max_B sequences of max_N tokens */
    int max_B, max_N, grads;
    float *x, *xn, *h, *dh, *dxn;     /* [max_B, max_N, D] */
    float *lnm, *lnr;                 /* [max_B * max_N] */
    float *ztmp;                      /* [max(no, na) + D] */
    /* a batch's steps as matrices, S = max_B x ceil(max_N / tps) rows (padding rows zero) */
    float *sv, *av;                   /* [S, no] normalised states, [S, na] actions */
    float *y, *dz;                    /* [S, na] the head's actions, dL/d(pre-activation) */
    int *len;                         /* [max_B] window steps */
    long *row0;                       /* [max_B] first data row */
    int *ts0;                         /* [max_B] time step of the first row */
    void *block;
    float *rtg;                       /* [n] returns-to-go of the training data (set while training) */
    const float *rtg_of;              /* the rewards they were summed from (aaren_dt_update reuses them) */
};

void aaren_dt_options_init(aaren_dt_options *o) {
    memset(o, 0, sizeof *o);
    aaren_config c = {AAREN_ARCH_AAREN, 128, 1, 3, 512, AAREN_NORM_PRE, AAREN_GELU, 1e-5f};
    o->enc = c;
    o->K = 20;
    o->batch = 64;
    o->steps = 10000;
    o->warmup = 10000;
    o->lr = 1e-4f;
    o->weight_decay = 1e-4f;
    o->clip = 0.25f;
    o->dropout = 0.1f;
    o->rtg_scale = 1000.0f;
    o->seed = 1;
    o->no_returns = 0;
}

aaren_model *aaren_dt_encoder(const aaren_dt *m) { return m->enc; }
aaren_env_kind aaren_dt_env(const aaren_dt *m) { return m->env; }
int aaren_dt_K(const aaren_dt *m) { return m->K; }
int aaren_dt_no_returns(const aaren_dt *m) { return m->o.no_returns; }

const char *aaren_dt_mode_name(int mode) {
    return mode == AAREN_DT_RECOMPUTE ? "window-recompute" : mode == AAREN_DT_STREAMS ? "window-streams" : "full-stream";
}

void aaren_dt_free(aaren_dt *m) {
    if (!m) return;
    aaren_model_free(m->enc);
    aaren_adamw_free(m->opt);
    free(m->block);
    free(m->rtg);
    free(m);
}

size_t aaren_dt_layout(int D, int no, int na, size_t off[AAREN_DT_TENSORS + 1]) {
    const size_t sizes[AAREN_DT_TENSORS] = {D, D, (size_t)D * no, D, (size_t)D * na, D, (size_t)AAREN_DT_MAX_EP_LEN * D,
                                           D, D, (size_t)na * D, na, no, no};
    off[0] = 0;
    for (int i = 0; i < AAREN_DT_TENSORS; i++) off[i + 1] = off[i] + sizes[i];
    return off[AAREN_DT_TENSORS];
}

static size_t extra_len(int D, int no, int na) {
    size_t off[AAREN_DT_TENSORS + 1];
    return aaren_dt_layout(D, no, na, off);
}

/* v[i]: tensor i of the task's block p (parameters or their gradients). */
static void carve(const aaren_dt *m, float *p, float **v) {
    size_t off[AAREN_DT_TENSORS + 1];
    aaren_dt_layout(m->D, m->no, m->na, off);
    for (int i = 0; i < AAREN_DT_TENSORS; i++) v[i] = p + off[i];
}

static void views(aaren_dt *m) {
    float *v[AAREN_DT_TENSORS];
    carve(m, aaren_model_extra(m->enc), v);
    m->Wr = v[AAREN_DT_WR]; m->br = v[AAREN_DT_BR]; m->Ws = v[AAREN_DT_WS]; m->bs = v[AAREN_DT_BS];
    m->Wa = v[AAREN_DT_WA]; m->ba = v[AAREN_DT_BA]; m->T = v[AAREN_DT_T]; m->lnw = v[AAREN_DT_LNW];
    m->lnb = v[AAREN_DT_LNB]; m->Wh = v[AAREN_DT_WH]; m->bh = v[AAREN_DT_BH]; m->mean = v[AAREN_DT_MEAN];
    m->std = v[AAREN_DT_STD];
}

/* The working block for max_B sequences of max_N tokens (and the encoder's activations). */
static int reserve(aaren_dt *m, int max_B, int max_N, int grads, char *err, size_t errlen) {
    if (aaren_model_reserve(m->enc, max_B, max_N, grads, err, errlen)) return -1;
    const size_t bnd = (size_t)max_B * max_N * m->D, bn = (size_t)max_B * max_N;
    const size_t rows = (size_t)max_B * (((size_t)max_N + m->tps - 1) / m->tps);
    const size_t floats = 5 * bnd + 2 * bn + (size_t)(m->no > m->na ? m->no : m->na) + m->D + rows * (m->no + 3 * (size_t)m->na);
    void *b = malloc(sizeof(float) * floats + (sizeof(long) + 2 * sizeof(int)) * (size_t)max_B);
    if (!b) return aaren_errf(err, errlen, "rl: out of memory for %d x %d tokens", max_B, max_N);
    free(m->block);
    m->block = b;
    m->max_B = max_B;
    m->max_N = max_N;
    m->grads = grads;
    m->row0 = b;
    float *p = (float *)(m->row0 + max_B);
    m->x = p; p += bnd;
    m->xn = p; p += bnd;
    m->h = p; p += bnd;
    m->dh = p; p += bnd;
    m->dxn = p; p += bnd;
    m->lnm = p; p += bn;
    m->lnr = p; p += bn;
    m->ztmp = p; p += (m->no > m->na ? m->no : m->na) + m->D;
    m->sv = p; p += rows * m->no;
    m->av = p; p += rows * m->na;
    m->y = p; p += rows * m->na;
    m->dz = p; p += rows * m->na;
    m->len = (int *)p;
    m->ts0 = m->len + max_B;
    return 0;
}

static aaren_dt *alloc_model(const aaren_dt_options *o, aaren_env_kind env, int no, int na, char *err, size_t errlen) {
    if (o->K < 1 || o->K > 1000 || o->batch < 1 || o->steps < 0 || !(o->lr > 0) || !(o->rtg_scale > 0)) {
        aaren_errf(err, errlen, "rl: needs 1 <= K <= 1000, batch >= 1, steps >= 0, lr > 0 and rtg_scale > 0");
        return NULL;
    }
    aaren_dt *m = calloc(1, sizeof *m);
    if (!m) { aaren_errf(err, errlen, "out of memory"); return NULL; }
    m->o = *o;
    m->env = env;
    m->no = no;
    m->na = na;
    m->D = o->enc.d_model;
    m->K = o->K;
    m->o.no_returns = o->no_returns != 0;
    m->tps = m->o.no_returns ? 2 : 3;
    if (!(m->enc = aaren_model_new_ext(&o->enc, extra_len(m->D, no, na), err, errlen))) { free(m); return NULL; }
    views(m);
    return m;
}

aaren_dt *aaren_dt_new(const aaren_d4rl *d, aaren_env_kind env, const aaren_dt_options *o, char *err, size_t errlen) {
    if (d->n < 1 || d->n_episodes < 1) { aaren_errf(err, errlen, "rl: the data set is empty"); return NULL; }
    aaren_dt *m = alloc_model(o, env, d->obs_dim, d->act_dim, err, errlen);
    if (!m) return NULL;
    if (reserve(m, o->batch, m->tps * o->K, 1, err, errlen)) { aaren_dt_free(m); return NULL; }
    aaren_model_init(m->enc, o->seed);
    /* embeddings and head like PyTorch's Linear (U(+-1/sqrt(fan_in))), the time-step table
     * N(0, 0.02^2) as in GPT-2, the embedding norm (1, 0) */
    uint64_t r = o->seed * 0x2545F4914F6CDD1Dull + 11;
    const int D = m->D;
    struct { float *w; size_t n; int fan; } lin[] = {{m->Wr, (size_t)D, 1}, {m->Ws, (size_t)D * m->no, m->no},
                                                    {m->Wa, (size_t)D * m->na, m->na}, {m->Wh, (size_t)m->na * D, D}};
    for (int i = 0; i < 4; i++) {
        const double a = 1.0 / sqrt((double)lin[i].fan);
        for (size_t j = 0; j < lin[i].n; j++) lin[i].w[j] = (float)((2 * aaren_rng_uniform(&r) - 1) * a);
    }
    memset(m->br, 0, sizeof(float) * D); memset(m->bs, 0, sizeof(float) * D); memset(m->ba, 0, sizeof(float) * D);
    memset(m->bh, 0, sizeof(float) * m->na);
    for (size_t j = 0; j < (size_t)AAREN_DT_MAX_EP_LEN * D; j++) m->T[j] = (float)(0.02 * aaren_rng_normal(&r));
    for (int j = 0; j < D; j++) { m->lnw[j] = 1; m->lnb[j] = 0; }
    /* observation statistics of the data (std floored so constant inputs stay finite) */
    for (int k = 0; k < m->no; k++) {
        double s = 0, s2 = 0;
        for (long i = 0; i < d->n; i++) { const double v = d->observations[(size_t)i * m->no + k]; s += v; s2 += v * v; }
        const double mu = s / d->n, var = s2 / d->n - mu * mu;
        m->mean[k] = (float)mu;
        m->std[k] = (float)(sqrt(var > 0 ? var : 0) + 1e-6);
    }
    aaren_optim_config oc = aaren_optim_default();
    oc.lr = o->lr;
    oc.weight_decay = o->weight_decay;
    oc.clip_norm = o->clip;
    oc.warmup_steps = o->warmup < o->steps / 10 ? o->warmup : o->steps / 10;
    oc.schedule = AAREN_SCHED_CONSTANT;
    if (!(m->opt = aaren_adamw_new(aaren_model_n_trainable(m->enc), &oc, err, errlen))) { aaren_dt_free(m); return NULL; }
    /* the observation statistics live in the parameter block (so checkpoints carry them) but are not trained */
    aaren_adamw_set_decay(m->opt, (size_t)(m->mean - aaren_model_params(m->enc)), 2 * (size_t)m->no, 0);
    return m;
}

/* One token: x [D] = W v + b + T[ts], v [n]. */
static void embed(float *x, const float *W, const float *b, const float *v, int n, const float *Trow, int D) {
    for (int j = 0; j < D; j++) {
        const float *w = W + (size_t)j * n;
        float s = b[j] + Trow[j];
        for (int k = 0; k < n; k++) s += w[k] * v[k];
        x[j] = s;
    }
}

static int clamp_ts(long t) { return t < 0 ? 0 : t >= AAREN_DT_MAX_EP_LEN ? AAREN_DT_MAX_EP_LEN - 1 : (int)t; }

/* The tokens of one step into x [tps, D]: return-to-go (not without return tokens), state,
 * action (only when act != NULL). */
static void step_tokens(const aaren_dt *m, float *x, float rtg, const float *obs, const float *act, int ts) {
    const int D = m->D;
    float *sn = m->ztmp;
    const float r = rtg / m->o.rtg_scale;
    const float *Trow = m->T + (size_t)clamp_ts(ts) * D;
    if (m->tps == 3) {
        embed(x, m->Wr, m->br, &r, 1, Trow, D);
        x += D;
    }
    for (int k = 0; k < m->no; k++) sn[k] = (obs[k] - m->mean[k]) / m->std[k];
    embed(x, m->Ws, m->bs, sn, m->no, Trow, D);
    if (act) embed(x + D, m->Wa, m->ba, act, m->na, Trow, D);
}

/* Tokens of the batch's windows (len, row0, ts0 set) from data d; N = tps K. Step i of window b
 * is row b K + i of the step matrices sv, av and its tokens rows tps i .. tps i + tps - 1 of
 * sequence b, so that the state tokens of the batch are one matrix of B K rows with row stride
 * tps D (and likewise the action tokens): x = b + T[t] (+ W_R r), then the state and action
 * embeddings as two products over all steps. Padding: zero tokens and zero step rows. Without
 * return tokens (tps = 2) a step is its state and action tokens only. */
static void build_batch(aaren_dt *m, const aaren_d4rl *d, int B, int N) {
    const int D = m->D, tps = m->tps, K = N / tps, no = m->no, na = m->na, so = (tps - 2) * D;
    for (int b = 0; b < B; b++) {
        float *x = m->x + (size_t)b * N * D;
        for (int i = 0; i < m->len[b]; i++) {
            const long row = m->row0[b] + i;
            const float r = m->rtg[row] / m->o.rtg_scale;
            const float *Trow = m->T + (size_t)clamp_ts(m->ts0[b] + i) * D;
            float *xr = x + (size_t)tps * i * D, *xs = xr + so, *xa = xs + D;
            if (tps == 3)
                for (int j = 0; j < D; j++) xr[j] = m->br[j] + Trow[j] + m->Wr[j] * r;
            for (int j = 0; j < D; j++) {
                xs[j] = m->bs[j] + Trow[j];
                xa[j] = m->ba[j] + Trow[j];
            }
            const float *obs = d->observations + (size_t)row * no;
            float *sn = m->sv + ((size_t)b * K + i) * no;
            for (int k = 0; k < no; k++) sn[k] = (obs[k] - m->mean[k]) / m->std[k];
            memcpy(m->av + ((size_t)b * K + i) * na, d->actions + (size_t)row * na, sizeof(float) * na);
        }
        memset(x + (size_t)tps * m->len[b] * D, 0, sizeof(float) * (size_t)(N - tps * m->len[b]) * D);
        memset(m->sv + ((size_t)b * K + m->len[b]) * no, 0, sizeof(float) * (size_t)(K - m->len[b]) * no);
        memset(m->av + ((size_t)b * K + m->len[b]) * na, 0, sizeof(float) * (size_t)(K - m->len[b]) * na);
    }
    /* x_s += sn W_s^T, x_a += a W_a^T over the B K steps (padding: + 0) */
    aaren_gemm(0, 1, B * K, D, no, 1, m->sv, no, m->Ws, no, 1, m->x + so, tps * D);
    aaren_gemm(0, 1, B * K, D, na, 1, m->av, na, m->Wa, na, 1, m->x + so + D, tps * D);
    aaren_layernorm_forward(m->xn, m->lnm, m->lnr, m->x, m->lnw, m->lnb, B * N, D, m->o.enc.ln_eps);
}

/* Draws B windows: a uniform data row, up to K steps from there within its episode. */
static void draw_windows(aaren_dt *m, const aaren_d4rl *d, int B, uint64_t *rng) {
    for (int b = 0; b < B; b++) {
        long row = (long)(aaren_rng_uniform(rng) * (double)d->n);
        if (row >= d->n) row = d->n - 1;
        long lo = 0, hi = d->n_episodes - 1;   /* the episode holding row */
        while (lo < hi) {
            const long mid = (lo + hi + 1) / 2;
            if (d->ep_start[mid] <= row) lo = mid; else hi = mid - 1;
        }
        const long end = d->ep_start[lo + 1];
        m->row0[b] = row;
        m->ts0[b] = clamp_ts(row - d->ep_start[lo]);
        m->len[b] = (int)(end - row < m->K ? end - row : m->K);
    }
}

/* The action head: out [na] = tanh(W_h h + b_h) for one encoder output h [D]. */
static void act_head(const aaren_dt *m, const float *h, float *out) {
    for (int a = 0; a < m->na; a++) {
        const float *w = m->Wh + (size_t)a * m->D;
        float z = m->bh[a];
        for (int j = 0; j < m->D; j++) z += w[j] * h[j];
        out[a] = tanhf(z);
    }
}

/* Action head over the batch's state tokens (after build_batch): returns the summed squared
 * error; with grad, writes dh (zero elsewhere) and the head's gradients for the loss sum / count.
 * The state tokens' outputs are the matrix h + D of B K rows with stride 3 D: one product for
 * the pre-activations, one for dh and one for W_h's gradient. */
static double head(aaren_dt *m, const aaren_d4rl *d, int B, int N, long count, int grad) {
    const int D = m->D, na = m->na, tps = m->tps, K = N / tps, so = (tps - 2) * D;
    const float *hs = m->h + so;   /* [B K, D], row stride tps D */
    aaren_gemm(0, 1, B * K, na, D, 1, hs, tps * D, m->Wh, D, 0, m->y, na);
    double se = 0;
    const float scale = 2.0f / (float)(count * na);
    for (int b = 0; b < B; b++)
        for (int i = 0; i < K; i++) {
            float *y = m->y + ((size_t)b * K + i) * na, *dz = m->dz + ((size_t)b * K + i) * na;
            if (i >= m->len[b]) {   /* padding: no loss */
                memset(dz, 0, sizeof(float) * na);
                continue;
            }
            const float *target = d->actions + (size_t)(m->row0[b] + i) * na;
            for (int a = 0; a < na; a++) {
                y[a] = tanhf(y[a] + m->bh[a]);
                const float e = y[a] - target[a];
                se += (double)e * e;
                dz[a] = scale * e * (1 - y[a] * y[a]);
            }
        }
    if (grad) {
        float *v[AAREN_DT_TENSORS];
        carve(m, aaren_model_extra_grads(m->enc), v);
        memset(m->dh, 0, sizeof(float) * (size_t)B * N * D);
        aaren_gemm(0, 0, B * K, D, na, 1, m->dz, na, m->Wh, D, 0, m->dh + so, tps * D);
        aaren_gemm(1, 0, na, D, B * K, 1, m->dz, na, hs, tps * D, 1, v[AAREN_DT_WH], D);
        for (size_t r = 0; r < (size_t)B * K; r++)
            for (int a = 0; a < na; a++) v[AAREN_DT_BH][a] += m->dz[r * na + a];
    }
    return se;
}

/* dL/d(tokens) into the embedding parameters (dxn holds dL/d(encoder input); build_batch's
 * step matrices still hold the batch): W_s and W_a as products over the B K steps, the rest
 * step by step. */
static void embed_backward(aaren_dt *m, int B, int N) {
    const int D = m->D, tps = m->tps, K = N / tps, so = (tps - 2) * D;
    float *v[AAREN_DT_TENSORS];
    carve(m, aaren_model_extra_grads(m->enc), v);
    float *gx = m->dh;   /* reused: dL/dx before the embedding norm */
    memset(gx, 0, sizeof(float) * (size_t)B * N * D);
    aaren_layernorm_backward(gx, v[AAREN_DT_LNW], v[AAREN_DT_LNB], m->dxn, m->x, m->lnm, m->lnr, m->lnw, B * N, D);
    /* padding steps have zero rows in sv, av: they add nothing */
    aaren_gemm(1, 0, D, m->no, B * K, 1, gx + so, tps * D, m->sv, m->no, 1, v[AAREN_DT_WS], m->no);
    aaren_gemm(1, 0, D, m->na, B * K, 1, gx + so + D, tps * D, m->av, m->na, 1, v[AAREN_DT_WA], m->na);
    float *gWr = v[AAREN_DT_WR], *gbr = v[AAREN_DT_BR], *gbs = v[AAREN_DT_BS], *gba = v[AAREN_DT_BA];
    for (int b = 0; b < B; b++)
        for (int i = 0; i < m->len[b]; i++) {
            const float *gs = gx + ((size_t)b * N + (size_t)tps * i) * D + so, *ga = gs + D;
            float *gT = v[AAREN_DT_T] + (size_t)clamp_ts(m->ts0[b] + i) * D;
            if (tps == 3) {   /* the return token (W_R and b_R get no gradient without it) */
                const float *gr = gs - D;
                const float r = m->rtg[m->row0[b] + i] / m->o.rtg_scale;
                for (int j = 0; j < D; j++) {
                    gWr[j] += gr[j] * r;
                    gbr[j] += gr[j];
                    gT[j] += gr[j];
                }
            }
            for (int j = 0; j < D; j++) {
                gbs[j] += gs[j];
                gba[j] += ga[j];
                gT[j] += gs[j];
                gT[j] += ga[j];
            }
        }
}

static long count_rows(const aaren_dt *m, int B) {
    long c = 0;
    for (int b = 0; b < B; b++) c += m->len[b];
    return c;
}

/* Returns-to-go of every row of d (sums of the rewards to the end of its episode). */
static int set_rtg(aaren_dt *m, const aaren_d4rl *d, char *err, size_t errlen) {
    free(m->rtg);
    m->rtg_of = NULL;
    if (!(m->rtg = malloc(sizeof(float) * (size_t)d->n))) return aaren_errf(err, errlen, "rl: out of memory");
    m->rtg_of = d->rewards;
    for (long e = 0; e < d->n_episodes; e++) {
        double s = 0;
        for (long i = d->ep_start[e + 1] - 1; i >= d->ep_start[e]; i--) { s += d->rewards[i]; m->rtg[i] = (float)s; }
    }
    return 0;
}

static int check_data(const aaren_dt *m, const aaren_d4rl *d, char *err, size_t errlen) {
    if (d->obs_dim != m->no || d->act_dim != m->na)
        return aaren_errf(err, errlen, "rl: the data has %d observations and %d actions, the model %d and %d",
                          d->obs_dim, d->act_dim, m->no, m->na);
    if (d->n < 1 || d->n_episodes < 1) return aaren_errf(err, errlen, "rl: the data set is empty");
    return 0;
}

/* Forward (dropout drop, NULL: none) and backward on the windows already drawn: returns the
 * mean squared action error; the gradients get its derivative added. t (NULL: not timed)
 * gets the clock after each of the five phases (aaren_dt_update). */
static double batch_loss(aaren_dt *m, const aaren_d4rl *d, int B, const aaren_dropout *drop, double *t, char *err,
                         size_t errlen) {
    const int N = m->tps * m->K;
    const long count = count_rows(m, B);
    build_batch(m, d, B, N);
    if (t) t[0] = aaren_now_s();
    if (aaren_model_forward_train(m->enc, m->h, m->xn, B, N, AAREN_SCAN, drop, err, errlen)) return NAN;
    if (t) t[1] = aaren_now_s();
    const double se = head(m, d, B, N, count, 1);
    if (t) t[2] = aaren_now_s();
    if (aaren_model_backward(m->enc, m->dxn, m->dh, err, errlen)) return NAN;
    if (t) t[3] = aaren_now_s();
    embed_backward(m, B, N);
    if (t) t[4] = aaren_now_s();
    return se / ((double)count * m->na);
}

static int can_train(const aaren_dt *m, const aaren_d4rl *d, char *err, size_t errlen) {
    if (!m->opt) return aaren_errf(err, errlen, "rl: a loaded model is for evaluation, not training");
    if (!m->grads || m->max_B < m->o.batch || m->max_N < m->tps * m->K)
        return aaren_errf(err, errlen, "rl: the model was re-reserved for prediction only");
    return check_data(m, d, err, errlen);
}

double aaren_dt_batch_grad(aaren_dt *m, const aaren_d4rl *d, uint64_t seed, char *err, size_t errlen) {
    if (can_train(m, d, err, errlen) || set_rtg(m, d, err, errlen)) return NAN;
    uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 5;
    draw_windows(m, d, m->o.batch, &rng);
    aaren_model_zero_grad(m->enc);
    return batch_loss(m, d, m->o.batch, NULL, NULL, err, errlen);
}

/* What the engine's hooks see: the model and its data. */
typedef struct {
    aaren_dt *m;
    const aaren_d4rl *d;
    long every;                       /* > 0: call `after` after every this many updates */
    aaren_dt_step_fn after;
    void *after_ctx;
} fit_ctx;

static int fit_after_step(void *ctx, long step, char *err, size_t errlen) {
    const fit_ctx *fc = ctx;
    return fc->every > 0 && fc->after && step % fc->every == 0 ? fc->after(fc->after_ctx, fc->m, step, err, errlen) : 0;
}

/* The engine's batch (aaren_fit): windows drawn from the engine's random state. */
static int fit_batch(void *ctx, const long *idx, int B, uint64_t *rng, const aaren_dropout *drop, double *loss, long *tokens,
                     char *err, size_t errlen) {
    aaren_dt *m = ((fit_ctx *)ctx)->m;
    const aaren_d4rl *d = ((fit_ctx *)ctx)->d;
    (void)idx;
    draw_windows(m, d, B, rng);
    *loss = batch_loss(m, d, B, drop, NULL, err, errlen);
    *tokens = m->tps * count_rows(m, B);
    return isnan(*loss) && err[0] ? -1 : 0;
}

static int dt_to_st(const aaren_dt *m, aaren_st *st);
static int fit_save(void *ctx, aaren_st *st) { return dt_to_st(((fit_ctx *)ctx)->m, st); }

int aaren_dt_train(aaren_dt *m, const aaren_d4rl *d, const aaren_fit_io *io, char *err, size_t errlen) {
    return aaren_dt_train_every(m, d, io, 0, NULL, NULL, err, errlen);
}

int aaren_dt_train_every(aaren_dt *m, const aaren_d4rl *d, const aaren_fit_io *io, long every, aaren_dt_step_fn after,
                         void *ctx, char *err, size_t errlen) {
    if (can_train(m, d, err, errlen) || set_rtg(m, d, err, errlen)) return -1;
    if (errlen) err[0] = 0;
    fit_ctx fc = {m, d, every, after, ctx};
    const aaren_fit_task t = {&fc, m->enc, m->opt, 0, fit_batch, NULL, fit_save, "rl", 0};
    aaren_fit_options fo = aaren_fit_options_for(0, m->o.steps, m->o.batch, 0, m->o.dropout, m->o.seed, 101, io);
    fo.after_step = fit_after_step;
    aaren_fit_result fr;
    return aaren_fit(&t, &fo, &fr, err, errlen);
}

double aaren_dt_update(aaren_dt *m, const aaren_d4rl *d, uint64_t *rng, long step, double *phase_s, char *err,
                       size_t errlen) {
    if (can_train(m, d, err, errlen) || (m->rtg_of != d->rewards && set_rtg(m, d, err, errlen))) return NAN;
    if (errlen) err[0] = 0;
    /* as the engine's step (train/fit.c, one_step): zero, the task's batch, AdamW */
    double t[7];
    t[0] = aaren_now_s();
    aaren_model_zero_grad(m->enc);
    const double tz = aaren_now_s();
    const aaren_dropout drop = {m->o.dropout, m->o.seed * 1000003ull + (uint64_t)step};
    draw_windows(m, d, m->o.batch, rng);
    const double loss = batch_loss(m, d, m->o.batch, &drop, t + 1, err, errlen);
    if (isnan(loss)) return NAN;
    aaren_adamw_step(m->opt, aaren_model_params(m->enc), aaren_model_grads(m->enc));
    t[6] = aaren_now_s();
    if (phase_s) {
        for (int i = 0; i < AAREN_DT_PHASES; i++) phase_s[i] = t[i + 1] - t[i];
        phase_s[0] -= tz - t[0];
        phase_s[AAREN_DT_PHASES - 1] += tz - t[0];
    }
    return loss;
}

double aaren_dt_action_mse(aaren_dt *m, const aaren_d4rl *d, int n_windows, uint64_t seed, char *err, size_t errlen) {
    if (check_data(m, d, err, errlen) || set_rtg(m, d, err, errlen)) return NAN;
    const int N = m->tps * m->K;
    if (m->max_N < N) { aaren_errf(err, errlen, "rl: the model was re-reserved for longer histories"); return NAN; }
    uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 7;
    /* under MPI each rank takes its part of the batches (every rank draws them all, so the
     * windows do not depend on the ranks) and the per-batch sums are combined exactly */
    const long nb = n_windows > 0 ? (n_windows + m->max_B - 1) / m->max_B : 0;
    long k0, k1;
    aaren_dist_part(nb, &k0, &k1);
    double *rows = calloc((size_t)(nb > 0 ? nb : 1) * 2, sizeof(double)), t[2];   /* [nb, 2]: squared error, rows */
    if (!rows) { aaren_errf(err, errlen, "rl: out of memory for the evaluation"); return NAN; }
    int rc = 0;
    for (long k = 0; k < k1 && !rc; k++) {
        const int done = (int)k * m->max_B, B = n_windows - done < m->max_B ? n_windows - done : m->max_B;
        draw_windows(m, d, B, &rng);
        if (k < k0) continue;
        build_batch(m, d, B, N);
        if (aaren_model_forward(m->enc, m->h, m->xn, B, N, AAREN_SCAN, err, errlen)) rc = -1;
        else rows[2 * k] = head(m, d, B, N, 1, 0), rows[2 * k + 1] = (double)count_rows(m, B);
    }
    /* every rank takes part in the sum, even one that failed (the others would wait for it) */
    const int rs = aaren_dist_block_sums(rows, nb, 2, t);
    free(rows);
    if (rc) return NAN;
    if (rs) { aaren_errf(err, errlen, "rl: summing the evaluation across ranks failed"); return NAN; }
    return t[0] / (t[1] * m->na);
}

/* ---- checkpoints ---------------------------------------------------------------------- */

/* The encoder's tensors, the task's parameters and dt.* metadata. */
static int dt_to_st(const aaren_dt *m, aaren_st *st) {
    char v[7][48];
    snprintf(v[0], 48, "%d", m->K);
    snprintf(v[1], 48, "%d", m->no);
    snprintf(v[2], 48, "%d", m->na);
    snprintf(v[3], 48, "%.9g", m->o.rtg_scale);
    snprintf(v[4], 48, "%s", aaren_env_name(m->env));
    snprintf(v[5], 48, "%d", AAREN_DT_MAX_EP_LEN);
    snprintf(v[6], 48, "%d", m->o.no_returns);
    const int64_t shape[1] = {(int64_t)aaren_model_n_extra(m->enc)};
    return aaren_model_to_st(m->enc, st) || !aaren_st_put(st, "dt.params", 1, shape, aaren_model_extra(m->enc)) ||
           aaren_st_set_meta(st, "dt.K", v[0]) || aaren_st_set_meta(st, "dt.obs_dim", v[1]) ||
           aaren_st_set_meta(st, "dt.act_dim", v[2]) || aaren_st_set_meta(st, "dt.rtg_scale", v[3]) ||
           aaren_st_set_meta(st, "dt.env", v[4]) || aaren_st_set_meta(st, "dt.max_ep_len", v[5]) ||
           aaren_st_set_meta(st, "dt.no_returns", v[6]) ? -1 : 0;
}

int aaren_dt_save(const aaren_dt *m, const char *path, char *err, size_t errlen) {
    aaren_st st;
    aaren_st_init(&st);
    int rc = dt_to_st(m, &st);
    if (rc) aaren_errf(err, errlen, "%s: out of memory", path);
    else rc = aaren_st_write(path, &st, err, errlen);
    aaren_st_free(&st);
    return rc ? -1 : 0;
}

aaren_dt *aaren_dt_load(const char *path, char *err, size_t errlen) {
    aaren_st st;
    aaren_st_init(&st);
    if (aaren_st_read(path, &st, err, errlen)) return NULL;
    aaren_dt *m = NULL;
    aaren_model *enc = aaren_model_from_st(&st, path, err, errlen);
    long K, no, na, mel, nr = 0;
    double rtg_scale;
    const char *env = aaren_st_meta(&st, "dt.env"), *rs = aaren_st_meta(&st, "dt.rtg_scale");
    const char *ks = aaren_st_meta(&st, "dt.K"), *os = aaren_st_meta(&st, "dt.obs_dim");
    const char *as = aaren_st_meta(&st, "dt.act_dim"), *ms = aaren_st_meta(&st, "dt.max_ep_len");
    const char *ns = aaren_st_meta(&st, "dt.no_returns");   /* absent (older files): with return tokens */
    const aaren_tensor *t = aaren_st_find(&st, "dt.params");
    if (!enc) goto out;
    if (!ks || !os || !as || !ms || !env || aaren_env_kind_from_name(env) < 0 || !rs || !t) {
        aaren_file_err(err, errlen, path, "not a decision-model checkpoint (needs dt.params and dt.K, dt.obs_dim, "
                       "dt.act_dim, dt.rtg_scale, dt.env, dt.max_ep_len = %d)", AAREN_DT_MAX_EP_LEN);
        goto out;
    }
    if (aaren_meta_long(path, "dt.K", ks, 1, 1000, &K, err, errlen) ||
        aaren_meta_long(path, "dt.obs_dim", os, 1, 100000, &no, err, errlen) ||
        aaren_meta_long(path, "dt.act_dim", as, 1, 100000, &na, err, errlen) ||
        aaren_meta_long(path, "dt.max_ep_len", ms, AAREN_DT_MAX_EP_LEN, AAREN_DT_MAX_EP_LEN, &mel, err, errlen) ||
        aaren_meta_double(path, "dt.rtg_scale", rs, 1e-30, 1e30, &rtg_scale, err, errlen) ||
        (ns && aaren_meta_long(path, "dt.no_returns", ns, 0, 1, &nr, err, errlen)))
        goto out;
    aaren_dt_options o;
    aaren_dt_options_init(&o);
    o.enc = *aaren_model_config(enc);
    o.K = (int)K;
    o.rtg_scale = (float)rtg_scale;
    o.no_returns = (int)nr;
    if (!(m = alloc_model(&o, (aaren_env_kind)aaren_env_kind_from_name(env), (int)no, (int)na, err, errlen))) goto out;
    if (t->ndim != 1 || (size_t)t->numel != aaren_model_n_extra(m->enc)) {
        aaren_file_err(err, errlen, path, "dt.params holds %lld values; the model needs %zu", (long long)t->numel,
                       aaren_model_n_extra(m->enc));
        aaren_dt_free(m);
        m = NULL;
        goto out;
    }
    memcpy(aaren_model_params(m->enc), aaren_model_params(enc), sizeof(float) * aaren_model_n_params(enc));
    memcpy(aaren_model_extra(m->enc), t->data, sizeof(float) * (size_t)t->numel);
    if (reserve(m, 1, m->tps * m->K, 0, err, errlen)) { aaren_dt_free(m); m = NULL; }
out:
    aaren_model_free(enc);
    aaren_st_free(&st);
    return m;
}

/* ---- prediction ----------------------------------------------------------------------- */

aaren_dt *aaren_dt_copy_for_eval(const aaren_dt *m, char *err, size_t errlen) {
    aaren_dt *c = alloc_model(&m->o, m->env, m->no, m->na, err, errlen);
    if (!c) return NULL;
    memcpy(aaren_model_params(c->enc), aaren_model_params(m->enc), sizeof(float) * aaren_model_n_params(m->enc));
    memcpy(aaren_model_extra(c->enc), aaren_model_extra(m->enc), sizeof(float) * aaren_model_n_extra(m->enc));
    if (reserve(c, 1, c->tps * c->K, 0, err, errlen)) { aaren_dt_free(c); return NULL; }
    return c;
}

int aaren_dt_reserve(aaren_dt *m, int L, char *err, size_t errlen) {
    if (L < 1 || L > AAREN_DT_MAX_EP_LEN) return aaren_errf(err, errlen, "rl: histories hold 1 to %d steps", AAREN_DT_MAX_EP_LEN);
    if (m->tps * L <= m->max_N) return 0;
    return reserve(m, 1, m->tps * L, 0, err, errlen);
}

/* Action at the last state token of the tokens x [n, D] (one sequence) into out [na]. */
static int predict_tokens(aaren_dt *m, int n, float *out, char *err, size_t errlen) {
    const int D = m->D;
    aaren_layernorm_forward(m->xn, m->lnm, m->lnr, m->x, m->lnw, m->lnb, n, D, m->o.enc.ln_eps);
    if (aaren_model_forward(m->enc, m->h, m->xn, 1, n, AAREN_SCAN, err, errlen)) return -1;
    act_head(m, m->h + (size_t)(n - 1) * D, out);
    return 0;
}

int aaren_dt_predict(aaren_dt *m, const float *rtg, const float *obs, const float *act, const int *timesteps, int L,
                     float *out, char *err, size_t errlen) {
    if (L < 1 || m->tps * L - 1 > m->max_N) return aaren_errf(err, errlen, "rl: a history of %d steps does not fit (reserve first)", L);
    const int D = m->D;
    for (int i = 0; i < L; i++)
        step_tokens(m, m->x + (size_t)m->tps * i * D, rtg ? rtg[i] : 0, obs + (size_t)i * m->no,
                    i + 1 < L ? act + (size_t)i * m->na : NULL, timesteps[i]);
    return predict_tokens(m, m->tps * L - 1, out, err, errlen);
}

struct aaren_dt_agent {
    aaren_dt *m;
    int mode, n_streams;
    long t;                  /* steps taken this episode */
    double rtg;
    aaren_stream *s;
    float *tok, *y;          /* [n_streams, D] */
    float *act;              /* [na] the last action */
    float *h_rtg, *h_obs, *h_act;   /* recompute: the last K steps, oldest first: [K], [K, no], [K, na] */
    int *h_ts;               /* [K] */
    size_t bytes;
    void *block;
};

void aaren_dt_agent_free(aaren_dt_agent *a) {
    if (!a) return;
    aaren_stream_free(a->s);
    free(a->block);
    free(a);
}

aaren_dt_agent *aaren_dt_agent_new(aaren_dt *m, int mode, char *err, size_t errlen) {
    if (mode < AAREN_DT_RECOMPUTE || mode > AAREN_DT_FULL) { aaren_errf(err, errlen, "rl: unknown agent mode %d", mode); return NULL; }
    if (mode == AAREN_DT_STREAMS && aaren_model_config(m->enc)->arch != AAREN_ARCH_AAREN) {
        aaren_errf(err, errlen, "rl: the K-stream window needs Aaren (a Transformer stream keeps a KV cache; use recompute)");
        return NULL;
    }
    aaren_dt_agent *a = calloc(1, sizeof *a);
    if (!a) { aaren_errf(err, errlen, "out of memory"); return NULL; }
    a->m = m;
    a->mode = mode;
    a->n_streams = mode == AAREN_DT_STREAMS ? m->K : 1;
    const int K = m->K, D = m->D;
    const size_t floats = 2 * (size_t)a->n_streams * D + m->na + (size_t)K * (1 + m->no + m->na);
    if (!(a->block = malloc(sizeof(float) * floats + sizeof(int) * (size_t)K))) {
        aaren_errf(err, errlen, "out of memory");
        aaren_dt_agent_free(a);
        return NULL;
    }
    float *p = a->block;
    a->tok = p; p += (size_t)a->n_streams * D;
    a->y = p; p += (size_t)a->n_streams * D;
    a->act = p; p += m->na;
    a->h_rtg = p; p += K;
    a->h_obs = p; p += (size_t)K * m->no;
    a->h_act = p; p += (size_t)K * m->na;
    a->h_ts = (int *)p;
    if (mode != AAREN_DT_RECOMPUTE) {
        a->s = aaren_stream_new_batch(m->enc, a->n_streams, (long)m->tps * AAREN_DT_MAX_EP_LEN, 1, err, errlen);
        if (!a->s) { aaren_dt_agent_free(a); return NULL; }
        a->bytes = aaren_stream_alloc_bytes(a->s) + sizeof(float) * floats;
    } else {
        /* the activations of one window, no gradients (a model reserved for training gives that up here) */
        if ((m->grads || m->max_B > 1 || m->max_N > m->tps * K) && reserve(m, 1, m->tps * K, 0, err, errlen)) {
            aaren_dt_agent_free(a);
            return NULL;
        }
        size_t pa, g, acts;
        aaren_model_memory(m->enc, &pa, &g, &acts);
        a->bytes = sizeof(float) * ((size_t)K * (1 + m->no + m->na)) + sizeof(int) * (size_t)K +
                   sizeof(float) * (5 * (size_t)m->tps * K * D + 2 * (size_t)m->tps * K) + acts;
    }
    return a;
}

void aaren_dt_agent_reset(aaren_dt_agent *a, double target_return) {
    a->t = 0;
    a->rtg = target_return;
    if (a->s) aaren_stream_reset(a->s);
}

size_t aaren_dt_agent_bytes(const aaren_dt_agent *a) { return a->bytes; }

/* Feeds one token (tok row 0, already embedded, not yet normalised) to every stream; y gets the outputs. */
static int feed(aaren_dt_agent *a, char *err, size_t errlen) {
    aaren_dt *m = a->m;
    const int D = m->D;
    aaren_layernorm_forward(a->tok, m->lnm, m->lnr, a->tok, m->lnw, m->lnb, 1, D, m->o.enc.ln_eps);
    for (int i = 1; i < a->n_streams; i++) memcpy(a->tok + (size_t)i * D, a->tok, sizeof(float) * D);
    return aaren_stream_step_batch(a->s, a->tok, a->y, err, errlen);
}

int aaren_dt_agent_act(aaren_dt_agent *a, const float *obs, float *action, char *err, size_t errlen) {
    aaren_dt *m = a->m;
    const int D = m->D, K = m->K, na = m->na;
    if (a->t >= AAREN_DT_MAX_EP_LEN) return aaren_errf(err, errlen, "rl: an episode holds at most %d steps", AAREN_DT_MAX_EP_LEN);
    if (a->mode == AAREN_DT_RECOMPUTE) {
        /* slide the window: keep the last K - 1 steps, append this one */
        const int L = a->t < K ? (int)a->t + 1 : K;
        if (a->t >= K) {
            memmove(a->h_rtg, a->h_rtg + 1, sizeof(float) * (K - 1));
            memmove(a->h_obs, a->h_obs + m->no, sizeof(float) * (size_t)(K - 1) * m->no);
            memmove(a->h_act, a->h_act + na, sizeof(float) * (size_t)(K - 1) * na);
            memmove(a->h_ts, a->h_ts + 1, sizeof(int) * (K - 1));
        }
        a->h_rtg[L - 1] = (float)a->rtg;
        memcpy(a->h_obs + (size_t)(L - 1) * m->no, obs, sizeof(float) * m->no);
        a->h_ts[L - 1] = (int)a->t;
        if (aaren_dt_predict(m, a->h_rtg, a->h_obs, a->h_act, a->h_ts, L, action, err, errlen)) return -1;
    } else {
        if (a->mode == AAREN_DT_STREAMS && aaren_stream_reset_one(a->s, (int)(a->t % K))) return aaren_errf(err, errlen, "rl: stream reset");
        step_tokens(m, m->x, (float)a->rtg, obs, NULL, (int)a->t);
        for (int k = 0; k < m->tps - 1; k++) {   /* the return-to-go token (not without them), the state token */
            memcpy(a->tok, m->x + (size_t)k * D, sizeof(float) * D);
            if (feed(a, err, errlen)) return -1;
        }
        /* the stream whose window starts max(0, t - K + 1) */
        const int j = a->mode == AAREN_DT_STREAMS ? (int)((a->t + 1) % K) : 0;
        act_head(m, a->y + (size_t)j * D, action);
    }
    memcpy(a->act, action, sizeof(float) * na);
    return 0;
}

int aaren_dt_agent_reward(aaren_dt_agent *a, double reward, char *err, size_t errlen) {
    aaren_dt *m = a->m;
    if (a->mode == AAREN_DT_RECOMPUTE) {
        const int L = a->t < m->K ? (int)a->t + 1 : m->K;
        memcpy(a->h_act + (size_t)(L - 1) * m->na, a->act, sizeof(float) * m->na);
    } else {
        embed(a->tok, m->Wa, m->ba, a->act, m->na, m->T + (size_t)clamp_ts(a->t) * m->D, m->D);
        if (feed(a, err, errlen)) return -1;
    }
    a->rtg -= reward;
    a->t++;
    return 0;
}

int aaren_dt_evaluate(aaren_dt *m, const char *xml_dir, int mode, double target_return, int episodes, uint64_t seed,
                      aaren_dt_eval *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    aaren_env *e = aaren_env_new(m->env, xml_dir, err, errlen);
    if (!e) return -1;
    if (aaren_env_obs_dim(e) != m->no || aaren_env_act_dim(e) != m->na) {
        aaren_env_free(e);
        return aaren_errf(err, errlen, "rl: the model's dimensions do not match %s", aaren_env_name(m->env));
    }
    aaren_dt_agent *a = aaren_dt_agent_new(m, mode, err, errlen);
    float *obs = malloc(sizeof(float) * (size_t)(m->no + m->na));
    /* [episodes, 3]: each episode's return, seconds in the agent and steps. Under MPI each rank
     * plays its part of the episodes (resetting the environment for the others' too, so every
     * episode starts where one process would start it) and the rows are combined exactly. */
    double *rows = calloc((size_t)(episodes > 0 ? episodes : 1) * 3, sizeof(double)), t[3];
    int rc = a && obs && rows ? 0 : (a ? aaren_errf(err, errlen, "out of memory") : -1);
    float *act = obs ? obs + m->no : NULL;
    uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 3;
    long k0, k1;
    aaren_dist_part(episodes, &k0, &k1);
    for (int ep = 0; ep < k1 && !rc; ep++) {
        aaren_env_reset(e, &rng, obs);
        if (ep < k0) continue;
        aaren_dt_agent_reset(a, target_return);
        double ret = 0, r, t_steps = 0;
        long n_steps = 0;
        int term = 0, trunc = 0;
        while (!term && !trunc && !rc) {
            const double t0 = aaren_now_s();
            if (aaren_dt_agent_act(a, obs, act, err, errlen)) { rc = -1; break; }
            const double t1 = aaren_now_s();
            if (aaren_env_step(e, act, obs, &r, &term, &trunc)) break;
            const double t2 = aaren_now_s();
            if (aaren_dt_agent_reward(a, r, err, errlen)) { rc = -1; break; }
            t_steps += (t1 - t0) + (aaren_now_s() - t2);
            n_steps++;
            ret += r;
        }
        rows[3 * ep] = ret;
        rows[3 * ep + 1] = t_steps;
        rows[3 * ep + 2] = (double)n_steps;
    }
    /* every rank takes part in the sum, even one that failed (the others would wait for it) */
    if (rows && aaren_dist_block_sums(rows, episodes, 3, t) && !rc)
        rc = aaren_errf(err, errlen, "rl: summing the evaluation across ranks failed");
    if (!rc) {
        double s2 = 0;
        out->ret_mean = t[0] / episodes;
        for (int i = 0; i < episodes; i++) s2 += (rows[3 * i] - out->ret_mean) * (rows[3 * i] - out->ret_mean);
        out->ret_std = episodes > 1 ? sqrt(s2 / (episodes - 1)) : 0;
        out->score_mean = aaren_env_normalized_score(m->env, out->ret_mean);
        out->score_std = fabs(aaren_env_normalized_score(m->env, out->ret_mean + out->ret_std) - out->score_mean);
        out->len_mean = t[2] / episodes;
        out->step_us = t[2] > 0 ? 1e6 * t[1] / t[2] : 0;
        out->agent_bytes = aaren_dt_agent_bytes(a);
    }
    aaren_dt_agent_free(a);
    free(obs);
    free(rows);
    aaren_env_free(e);
    return rc;
}
