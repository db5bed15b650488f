/* Event forecasting with a neural temporal point process (see tpp.h). */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/common.h"
#include "layers/layers.h"
#include "base/rng.h"
#include "tasks/tpp.h"
#include "tasks/serving.h"

enum { CHUNK = 256 };   /* decoder rows per pass */

struct aaren_tpp {
    aaren_tpp_options o;
    aaren_model *enc;              /* encoder + the task's parameters (extra block) */
    aaren_adamw *opt;              /* NULL for a loaded model */
    int D, K, C, P, n_emb;         /* width, components, marks (0: unmarked), decoder outputs, embedding rows */
    double time_scale, loc, scale, tau_min;
    double *te_freq;               /* [D] frequencies of the temporal encoding, 10000^(-2 floor(j/2) / D) */
    float *E, *v, *W, *b;          /* [n_emb, D], [D], [P, D], [P]: views into the extra block */
    float *T;                      /* [D, D] after b when the mark head is tied (tpp.h), else NULL */
    float *g;                      /* [L] the copy logits, one per lag, last in the extra block (tpp.h), else NULL */
    int L;                         /* copy lags (0: none) */
    int max_B, max_N;
    float *x, *h, *dh, *dx;        /* [max_B, max_N, D] */
    float *z, *dz;                 /* [CHUNK, P] */
    int *hist;                     /* [CHUNK, L] each decoder row's recent marks, lag 1 first (-1: none) */
    int *seq;                      /* [max_B] sequences of the batch */
    int *order;                    /* [n_train] the training sequences (the engine shuffles their indices) */
    int n_train;
    void *block;
};

void aaren_tpp_options_init(aaren_tpp_options *o) {
    memset(o, 0, sizeof *o);
    aaren_config c = {AAREN_ARCH_AAREN, 64, 4, 2, 128, AAREN_NORM_POST, AAREN_GELU, 1e-5f};
    o->enc = c;
    o->K = 8;
    o->batch = 16;
    o->epochs = 30;
    o->patience = 5;
    o->lr = 1e-3f;
    o->dropout = 0.1f;
    o->clip = 1.0f;
    o->seed = 1;
    o->tie_marks = 0;
    o->copy_mark = 0;
}

aaren_model *aaren_tpp_encoder(const aaren_tpp *m) { return m->enc; }
int aaren_tpp_n_marks(const aaren_tpp *m) { return m->C; }

void aaren_tpp_free(aaren_tpp *m) {
    if (!m) return;
    aaren_model_free(m->enc);
    aaren_adamw_free(m->opt);
    free(m->block);
    free(m);
}

static size_t extra_len(int n_emb, int D, int P) { return (size_t)n_emb * D + D + (size_t)P * D + P; }

static void carve(aaren_tpp *m, float *p, float **E, float **v, float **W, float **b) {
    *E = p; p += (size_t)m->n_emb * m->D;
    *v = p; p += m->D;
    *W = p; p += (size_t)m->P * m->D;
    *b = p;
}

/* Encoder with the task's parameters, views, and the working block for batches of max_B
 * sequences up to max_N events. */
static int build(aaren_tpp *m, int n_train, int with_grads, char *err, size_t errlen) {
    m->D = m->o.enc.d_model;
    m->P = 3 * m->K + m->C;
    m->n_emb = m->C > 0 ? m->C : 1;
    if (m->K < 1 || m->K > 64) return aaren_errf(err, errlen, "events: mixture components must be in 1..64");
    const size_t tie = m->o.tie_marks && m->C > 0 ? (size_t)m->D * m->D : 0;
    if (m->o.copy_mark < 0 || m->o.copy_mark > AAREN_TPP_MAX_COPY_LAGS)
        return aaren_errf(err, errlen, "events: copy lags must be in 0..%d (got %d)", AAREN_TPP_MAX_COPY_LAGS, m->o.copy_mark);
    if (m->o.copy_mark && m->C < 2) return aaren_errf(err, errlen, "events: the copy logit needs marked data (2 marks or more)");
    m->L = m->o.copy_mark;
    const size_t copy = (size_t)m->L;
    if (!(m->enc = aaren_model_new_ext(&m->o.enc, extra_len(m->n_emb, m->D, m->P) + tie + copy, err, errlen))) return -1;
    carve(m, aaren_model_extra(m->enc), &m->E, &m->v, &m->W, &m->b);
    m->T = tie ? m->b + m->P : NULL;
    m->g = copy ? m->b + m->P + tie : NULL;
    if (aaren_model_reserve(m->enc, m->max_B, m->max_N, with_grads, err, errlen)) return -1;
    const size_t bnd = (size_t)m->max_B * m->max_N * m->D;
    const size_t floats = 4 * bnd + 2 * (size_t)CHUNK * m->P;
    m->block = malloc(sizeof(double) * (size_t)m->D + sizeof(float) * floats +
                      sizeof(int) * ((size_t)m->max_B + n_train + (size_t)CHUNK * m->L));
    if (!m->block) return aaren_errf(err, errlen, "events: out of memory for %d x %d events", m->max_B, m->max_N);
    m->te_freq = m->block;
    for (int j = 0; j < m->D; j++) m->te_freq[j] = pow(10000.0, -(double)(2 * (j / 2)) / m->D);
    float *p = (float *)(m->te_freq + m->D);
    m->x = p; p += bnd;
    m->h = p; p += bnd;
    m->dh = p; p += bnd;
    m->dx = p; p += bnd;
    m->z = p; p += (size_t)CHUNK * m->P;
    m->dz = p; p += (size_t)CHUNK * m->P;
    m->seq = (int *)p;
    m->order = m->seq + m->max_B;
    m->hist = m->order + n_train;
    m->n_train = n_train;
    return 0;
}

/* Initial values of the task's parameters: embedding N(0, 1) / sqrt(D) (a scale like the
 * temporal encoding's), v and the decoder like a linear layer (U(+-1/sqrt(D))), biases 0. */
static void init_task(aaren_tpp *m, uint64_t seed) {
    uint64_t r = seed * 0x2545F4914F6CDD1Dull + 7;
    const double a = 1.0 / sqrt((double)m->D);
    for (size_t i = 0; i < (size_t)m->n_emb * m->D; i++) m->E[i] = (float)(aaren_rng_normal(&r) * a);
    for (int i = 0; i < m->D; i++) m->v[i] = (float)((2 * aaren_rng_uniform(&r) - 1) * a);
    for (size_t i = 0; i < (size_t)m->P * m->D; i++) m->W[i] = (float)((2 * aaren_rng_uniform(&r) - 1) * a);
    memset(m->b, 0, sizeof(float) * m->P);
    for (size_t i = 0; m->T && i < (size_t)m->D * m->D; i++) m->T[i] = (float)((2 * aaren_rng_uniform(&r) - 1) * a * 0.1) + (i % (m->D + 1) == 0);
}

/* The tied mark head: the mark rows of W [C, D] = E T^T, so the logit of mark c is
 * E[c] . (T h); made before every forward pass from the current E and T. */
static void tie_forward(aaren_tpp *m) {
    if (m->T) aaren_linear_forward(m->W + (size_t)3 * m->K * m->D, m->E, m->T, NULL, m->C, m->D, m->D);
}

/* The gradient of W's mark rows moved into E's and T's (then zeroed: those rows are not
 * parameters of their own). */
static void tie_backward(aaren_tpp *m) {
    if (!m->T) return;
    float *g = aaren_model_extra_grads(m->enc), *gE = g, *gW = g + (size_t)m->n_emb * m->D + m->D;
    float *gWm = gW + (size_t)3 * m->K * m->D, *gT = gW + (size_t)m->P * m->D + m->P;
    aaren_linear_backward(gE, gT, NULL, gWm, m->E, m->T, m->C, m->D, m->D);
    memset(gWm, 0, sizeof(float) * (size_t)m->C * m->D);
}

/* The mark whose copy logit lag j + 1 gives in a row's recent marks h [L]: h[j] when it is a
 * mark and no nearer lag holds it (a mark gets the logit of its most recent lag only), else -1. */
static int lag_mark(const int *h, int j) {
    for (int i = 0; i < j; i++)
        if (h[i] == h[j]) return -1;
    return h[j];
}

/* The decoder on rows of encoder outputs: z [rows, P] = h W^T + b, and with copy logits, g[j]
 * added to the logit of the mark hist[r, j] of each row r (its recent marks, lag 1 first: the
 * mark of the event the row read, then the one before, ...; -1 where the sequence has none),
 * for each mark at its most recent lag only (lag_mark). hist is [rows, L] (unused without copy
 * logits). */
static void decoder_forward(const aaren_tpp *m, float *z, const float *h, int rows, const int *hist) {
    aaren_linear_forward(z, h, m->W, m->b, rows, m->D, m->P);
    for (int r = 0; m->g && r < rows; r++)
        for (int j = 0; j < m->L; j++) {
            const int c = lag_mark(hist + (size_t)r * m->L, j);
            if (c >= 0) z[(size_t)r * m->P + 3 * m->K + c] += m->g[j];
        }
}

/* hist [rows, L] for consecutive events of one sequence: row r read the event marks[r] (marks
 * points into the sequence's marks, with `back` of its events before marks[0]). Unmarked data
 * or no copy logits: nothing to fill (the decoder does not read it). */
static const int *seq_hist(const aaren_tpp *m, const int *marks, long back, int rows) {
    if (!m->g || !marks) return NULL;
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < m->L; j++) m->hist[(size_t)r * m->L + j] = r - j >= -back ? marks[r - j] : -1;
    return m->hist;
}

/* rate[j], j < L, on TRAIN: how often the next event's mark is the mark at lag j + 1 and at no
 * smaller lag (lag 1: the current event's mark, so rate[0] is the repeat rate,
 * aaren_tpp_repeat_acc), over the predictions that have an event at that lag. */
static void lag_rates(const aaren_events *d, int L, double *rate) {
    for (int j = 0; j < L; j++) {
        long n = 0, hit = 0;
        for (int s = 0; s < d->n_seq; s++) {
            if (d->split[s] != AAREN_EV_TRAIN) continue;
            for (long e = d->off[s] + 1 + j; e < d->off[s + 1]; e++) {
                int newer = 0;
                for (int i = 0; i < j && !newer; i++) newer = d->mark[e - 1 - i] == d->mark[e];
                hit += !newer && d->mark[e - 1 - j] == d->mark[e];
                n++;
            }
        }
        rate[j] = n ? (double)hit / n : NAN;
    }
}

static double tau_of(const aaren_events *d, long e, long first) { return e == first ? 0.0 : d->time[e] - d->time[e - 1]; }

aaren_tpp *aaren_tpp_new(const aaren_events *d, const aaren_tpp_options *o, char *err, size_t errlen) {
    if (o->batch < 1 || o->epochs < 1 || o->patience < 1) {
        aaren_errf(err, errlen, "events: batch, epochs and patience must be >= 1");
        return NULL;
    }
    aaren_tpp *m = calloc(1, sizeof *m);
    if (!m) { aaren_errf(err, errlen, "out of memory"); return NULL; }
    m->o = *o;
    m->K = o->K;
    m->C = d->n_marks;
    /* statistics of the training events */
    double sum_tau = 0;
    long n_tau = 0;
    int n_train = 0;
    for (int s = 0; s < d->n_seq; s++) {
        if (d->split[s] != AAREN_EV_TRAIN) continue;
        n_train++;
        for (long e = d->off[s] + 1; e < d->off[s + 1]; e++) { sum_tau += d->time[e] - d->time[e - 1]; n_tau++; }
    }
    if (n_tau < 2 || !(sum_tau > 0)) {
        aaren_errf(err, errlen, "events: the training split needs at least two inter-event times with a positive total");
        aaren_tpp_free(m);
        return NULL;
    }
    m->time_scale = sum_tau / n_tau;
    m->tau_min = 1e-3 * m->time_scale;
    double s1 = 0, s2 = 0;
    for (int s = 0; s < d->n_seq; s++) {
        if (d->split[s] != AAREN_EV_TRAIN) continue;
        for (long e = d->off[s] + 1; e < d->off[s + 1]; e++) {
            const double lt = log(fmax(d->time[e] - d->time[e - 1], m->tau_min));
            s1 += lt; s2 += lt * lt;
        }
    }
    m->loc = s1 / n_tau;
    const double var = s2 / n_tau - m->loc * m->loc;
    m->scale = var > 1e-12 ? sqrt(var) : 1.0;
    m->max_B = o->batch;
    m->max_N = d->max_len > 1 ? d->max_len : 2;
    if (build(m, n_train, 1, err, errlen)) { aaren_tpp_free(m); return NULL; }
    aaren_model_init(m->enc, o->seed);
    init_task(m, o->seed);
    if (m->g) {   /* per lag, the logit that gives its mark TRAIN's rate against uniform others */
        double rate[AAREN_TPP_MAX_COPY_LAGS];
        lag_rates(d, m->L, rate);
        for (int j = 0; j < m->L; j++) {
            const double r = fmin(fmax(rate[j], 1e-3), 1 - 1e-3);
            m->g[j] = isfinite(r) ? (float)log(r * (m->C - 1) / (1 - r)) : 0.0f;
        }
    }
    aaren_optim_config oc = aaren_optim_default();
    oc.lr = o->lr;
    oc.weight_decay = 0;
    oc.clip_norm = o->clip;
    oc.schedule = AAREN_SCHED_CONSTANT;
    if (!(m->opt = aaren_adamw_new(aaren_model_n_trainable(m->enc), &oc, err, errlen))) { aaren_tpp_free(m); return NULL; }
    int k = 0;
    for (int s = 0; s < d->n_seq; s++) if (d->split[s] == AAREN_EV_TRAIN) m->order[k++] = s;
    return m;
}

/* x [D] = E[mark] + TE(t / time_scale) + v y for one event. */
static void event_token(const aaren_tpp *m, float *x, double t, double tau, int first, int mark) {
    const int D = m->D;
    const float *e = m->E + (size_t)(m->C > 0 ? mark : 0) * D;
    const double y = first ? 0.0 : (log(fmax(tau, m->tau_min)) - m->loc) / m->scale, u = t / m->time_scale;
    for (int j = 0; j < D; j++) {
        const double ang = u * m->te_freq[j];
        x[j] = e[j] + (float)((j % 2 ? cos(ang) : sin(ang)) + m->v[j] * y);
    }
}

/* Tokens of the batch's sequences into x [B, N, D] (zero padding); returns N. */
static int load_batch(aaren_tpp *m, const aaren_events *d, const int *seqs, int B) {
    int N = 1;
    for (int b = 0; b < B; b++) {
        const int n = (int)(d->off[seqs[b] + 1] - d->off[seqs[b]]);
        if (n > N) N = n;
    }
    for (int b = 0; b < B; b++) {
        const long first = d->off[seqs[b]], n = d->off[seqs[b] + 1] - first;
        float *x = m->x + (size_t)b * N * m->D;
        for (long i = 0; i < n; i++)
            event_token(m, x + (size_t)i * m->D, d->time[first + i], tau_of(d, first + i, first), i == 0,
                        d->mark ? d->mark[first + i] : 0);
        memset(x + (size_t)n * m->D, 0, sizeof(float) * (size_t)(N - n) * m->D);
    }
    return N;
}

typedef struct {
    double nll_time, nll_mark, se;
    long right, n;
} sums;

/* Decoder over every predicting position of the batch (h must hold the encoder output).
 * Accumulates the sums; with grad, writes dh = d(loss)/dh for a loss that is the mean over
 * the batch's n_pred predictions (and adds the decoder's parameter gradients). */
static void decode(aaren_tpp *m, const aaren_events *d, int B, int N, long n_pred, int grad, sums *acc) {
    const int D = m->D, P = m->P, K = m->K;
    float *gW = NULL, *gb = NULL, *gE, *gv;
    if (grad) {
        carve(m, aaren_model_extra_grads(m->enc), &gE, &gv, &gW, &gb);
        memset(m->dh, 0, sizeof(float) * (size_t)B * N * D);
    }
    const float w = n_pred > 0 ? 1.0f / (float)n_pred : 0.0f;
    for (int b = 0; b < B; b++) {
        const long first = d->off[m->seq[b]], n = d->off[m->seq[b] + 1] - first;
        for (long i0 = 0; i0 < n - 1; i0 += CHUNK) {
            const int rows = (int)(n - 1 - i0 < CHUNK ? n - 1 - i0 : CHUNK);
            const float *hin = m->h + ((size_t)b * N + i0) * D;
            const int *hist = seq_hist(m, d->mark ? d->mark + first + i0 : NULL, i0, rows);
            decoder_forward(m, m->z, hin, rows, hist);
            for (int r = 0; r < rows; r++) {
                const long e = first + i0 + r + 1;   /* the event predicted */
                const float *z = m->z + (size_t)r * P;
                float *dz = m->dz + (size_t)r * P;
                const double tau = d->time[e] - d->time[e - 1];
                const float taue = (float)fmax(tau, m->tau_min);
                acc->nll_time += aaren_lnmix_nll(z, K, taue, (float)m->loc, (float)m->scale, grad ? dz : NULL);
                if (m->C > 0) acc->nll_mark += aaren_softmax_nll(z + 3 * K, m->C, d->mark[e], grad ? dz + 3 * K : NULL);
                if (!grad) {   /* the metrics that training does not need */
                    const double mean = aaren_lnmix_mean(z, K, (float)m->loc, (float)m->scale);
                    acc->se += (mean - tau) * (mean - tau);
                    if (m->C > 0) {
                        int arg = 0;
                        for (int c = 1; c < m->C; c++) if (z[3 * K + c] > z[3 * K + arg]) arg = c;
                        acc->right += arg == d->mark[e];
                    }
                }
                acc->n++;
                if (grad) for (int j = 0; j < P; j++) dz[j] *= w;
            }
            if (grad && m->g) {   /* dL/dg: the copied logits' gradients (the copy logits are last in the block) */
                float *gg = gW + (m->g - m->W);
                for (int r = 0; r < rows; r++)
                    for (int j = 0; j < m->L; j++) {
                        const int c = lag_mark(hist + (size_t)r * m->L, j);
                        if (c >= 0) gg[j] += m->dz[(size_t)r * P + 3 * K + c];
                    }
            }
            if (grad) aaren_linear_backward(m->dh + ((size_t)b * N + i0) * D, gW, gb, m->dz, hin, m->W, rows, D, P);
        }
    }
}

/* dL/dx back into the embedding rows and v. */
static void input_grads(aaren_tpp *m, const aaren_events *d, int B, int N) {
    float *gE, *gv, *gW, *gb;
    carve(m, aaren_model_extra_grads(m->enc), &gE, &gv, &gW, &gb);
    for (int b = 0; b < B; b++) {
        const long first = d->off[m->seq[b]], n = d->off[m->seq[b] + 1] - first;
        for (long i = 0; i < n; i++) {
            const float *g = m->dx + ((size_t)b * N + i) * m->D;
            float *ge = gE + (size_t)(m->C > 0 ? d->mark[first + i] : 0) * m->D;
            const double y = i == 0 ? 0.0 : (log(fmax(tau_of(d, first + i, first), m->tau_min)) - m->loc) / m->scale;
            for (int j = 0; j < m->D; j++) { ge[j] += g[j]; gv[j] += (float)(g[j] * y); }
        }
    }
}

static long count_pred(const aaren_events *d, const int *seqs, int B) {
    long n = 0;
    for (int b = 0; b < B; b++) {
        const long len = d->off[seqs[b] + 1] - d->off[seqs[b]];
        if (len > 1) n += len - 1;
    }
    return n;
}

/* A forward of the sequences m->seq[0..B): a training one with dropout drop (NULL: none). */
static int forward_train(aaren_tpp *m, const aaren_events *d, int B, int *N, const aaren_dropout *drop, char *err,
                         size_t errlen) {
    tie_forward(m);
    *N = load_batch(m, d, m->seq, B);
    return aaren_model_forward_train(m->enc, m->h, m->x, B, *N, AAREN_SCAN, drop, err, errlen);
}

static int forward(aaren_tpp *m, const aaren_events *d, int B, int *N, char *err, size_t errlen) {
    return forward_train(m, d, B, N, NULL, err, errlen);
}

/* What the engine's hooks see: the model and its data. */
typedef struct {
    aaren_tpp *m;
    const aaren_events *d;
} fit_ctx;

/* The engine's batch (aaren_fit): training sequences m->order[idx[b]], forward, the mixture
 * and mark NLL per predicted event, backward through the decoder, the encoder and the inputs. */
/* The loss of the n_pred predictions of the sequences in m->seq[0..B) (dropout drop, NULL:
 * none) and its gradients, added into the gradient block (a training step's work). */
static int batch_loss_grads(aaren_tpp *m, const aaren_events *d, int B, long n_pred, const aaren_dropout *drop,
                            double *loss, char *err, size_t errlen) {
    int N;
    if (forward_train(m, d, B, &N, drop, err, errlen)) return -1;
    sums acc = {0, 0, 0, 0, 0};
    decode(m, d, B, N, n_pred, 1, &acc);
    tie_backward(m);
    if (aaren_model_backward(m->enc, m->dx, m->dh, err, errlen)) return -1;
    input_grads(m, d, B, N);
    *loss = (acc.nll_time + acc.nll_mark) / n_pred;
    return 0;
}

static int fit_batch(void *ctx, const long *idx, int B, uint64_t *rng, const aaren_dropout *drop, double *loss, long *tokens,
                     char *err, size_t errlen) {
    aaren_tpp *m = ((fit_ctx *)ctx)->m;
    const aaren_events *d = ((fit_ctx *)ctx)->d;
    (void)rng;
    for (int b = 0; b < B; b++) m->seq[b] = m->order[idx[b]];
    const long n_pred = count_pred(d, m->seq, B);
    if (n_pred == 0) return 1;   /* sequences of one event: nothing to predict */
    *tokens = n_pred;
    return batch_loss_grads(m, d, B, n_pred, drop, loss, err, errlen);
}

int aaren_tpp_loss_grads(aaren_tpp *m, const aaren_events *d, const int *seqs, int B, double *loss, char *err,
                         size_t errlen) {
    if (B < 1 || B > m->max_B || !m->opt) return aaren_errf(err, errlen, "events: 1 to %d sequences of a trainable model", m->max_B);
    memcpy(m->seq, seqs, sizeof(int) * (size_t)B);
    const long n_pred = count_pred(d, m->seq, B);
    if (n_pred == 0) return aaren_errf(err, errlen, "events: these sequences have nothing to predict");
    aaren_model_zero_grad(m->enc);
    return batch_loss_grads(m, d, B, n_pred, NULL, loss, err, errlen);
}

static int fit_validate(void *ctx, aaren_fit_eval *ev, char *err, size_t errlen) {
    aaren_tpp_metrics v;
    if (aaren_tpp_evaluate(((fit_ctx *)ctx)->m, ((fit_ctx *)ctx)->d, AAREN_EV_VAL, &v, err, errlen)) return -1;
    ev->score = ev->tie = v.nll;
    aaren_fit_eval_add(ev, "val NLL", v.nll);
    aaren_fit_eval_add(ev, "val NLL time", v.nll_time);
    aaren_fit_eval_add(ev, "val NLL mark", v.nll_mark);
    aaren_fit_eval_add(ev, "val RMSE", v.rmse);
    if (((fit_ctx *)ctx)->m->C > 0) aaren_fit_eval_add(ev, "val acc", v.acc);
    return 0;
}

static int tpp_to_st(const aaren_tpp *m, aaren_st *st);
static int fit_save(void *ctx, aaren_st *st) {
    tie_forward(((fit_ctx *)ctx)->m);   /* W's mark rows from this step's E and T */
    return tpp_to_st(((fit_ctx *)ctx)->m, st);
}

/* Under MPI each rank evaluates its part of the split's batches and the per-batch sums are
 * combined (aaren_dist_block_sums): every rank gets one process's figures to the last bit. */
int aaren_tpp_evaluate(aaren_tpp *m, const aaren_events *d, int split, aaren_tpp_metrics *out, char *err, size_t errlen) {
    if (d->n_marks != m->C) return aaren_errf(err, errlen, "events: the data has %d marks, the model %d", d->n_marks, m->C);
    long n_seq = 0;   /* sequences with something to predict */
    for (int s = 0; s < d->n_seq; s++) {
        if (d->split[s] != split) continue;
        const long len = d->off[s + 1] - d->off[s];
        if (len > m->max_N) return aaren_errf(err, errlen, "events: a sequence of %ld events is longer than the model's %d", len, m->max_N);
        n_seq += len > 1;
    }
    const long nb = (n_seq + m->max_B - 1) / m->max_B;
    long k0, k1;
    aaren_dist_part(nb, &k0, &k1);
    double *rows = calloc((size_t)(nb > 0 ? nb : 1) * 5, sizeof(double));   /* [nb, 5]: a batch's sums */
    if (!rows) return aaren_errf(err, errlen, "events: out of memory for the evaluation");
    int B = 0, rc = 0;
    long k = 0;   /* the batch being formed */
    for (int s = 0; s <= d->n_seq && k < k1 && !rc; s++) {
        if (s < d->n_seq && d->split[s] == split && d->off[s + 1] - d->off[s] > 1) m->seq[B++] = s;
        if (B == m->max_B || (s == d->n_seq && B > 0)) {
            if (k >= k0) {
                int N;
                sums acc = {0, 0, 0, 0, 0};
                if (forward(m, d, B, &N, err, errlen)) rc = -1;
                else decode(m, d, B, N, 0, 0, &acc);
                double *r = rows + (size_t)k * 5;
                r[0] = acc.nll_time; r[1] = acc.nll_mark; r[2] = acc.se; r[3] = (double)acc.right; r[4] = (double)acc.n;
            }
            B = 0;
            k++;
        }
    }
    /* every rank takes part in the sums, even one that failed (the others would wait for it) */
    double t[5];
    const int rs = aaren_dist_block_sums(rows, nb, 5, t);
    free(rows);
    if (rc) return -1;
    if (rs) return aaren_errf(err, errlen, "events: summing the evaluation across ranks failed");
    memset(out, 0, sizeof *out);
    const long n = (long)t[4];
    out->n_pred = n;
    if (!n) return aaren_errf(err, errlen, "events: split %d has no events to predict", split);
    out->nll_time = t[0] / n;
    out->nll_mark = m->C > 0 ? t[1] / n : 0;
    out->nll = out->nll_time + out->nll_mark;
    out->rmse = sqrt(t[2] / n);
    out->acc = m->C > 0 ? t[3] / n : NAN;
    return 0;
}

void aaren_tpp_poisson(const aaren_events *d, int split, aaren_tpp_metrics *out) {
    double T = 0;
    long n = 0;
    for (int s = 0; s < d->n_seq; s++) {
        if (d->split[s] != AAREN_EV_TRAIN) continue;
        for (long e = d->off[s] + 1; e < d->off[s + 1]; e++) { T += d->time[e] - d->time[e - 1]; n++; }
    }
    const double rate = T > 0 ? n / T : NAN, median = log(2.0) / rate;
    double nt = 0, se = 0, se_med = 0, surv = 0;
    long cnt = 0;
    for (int s = 0; s < d->n_seq; s++) {
        if (d->split[s] != split || d->off[s + 1] == d->off[s]) continue;
        for (long e = d->off[s] + 1; e < d->off[s + 1]; e++) {
            const double tau = d->time[e] - d->time[e - 1];
            nt += -log(rate) + rate * tau;
            se += (1 / rate - tau) * (1 / rate - tau);
            se_med += (median - tau) * (median - tau);
            cnt++;
        }
        const double last = d->time[d->off[s + 1] - 1];
        if (d->window_end > last) surv -= rate * (d->window_end - last);
    }
    aaren_tpp_baseline_metrics(d, split, cnt, nt, surv, se, se_med, out);
}

int aaren_tpp_evaluate_ll(aaren_tpp *m, const aaren_events *d, int split, aaren_tpp_metrics *out, char *err,
                          size_t errlen) {
    const int D = m->D, P = m->P, K = m->K;
    const float loc = (float)m->loc, sc = (float)m->scale;
    /* under MPI each rank takes its part of the batches and the per-batch sums are combined
     * exactly (aaren_dist_block_sums), as in aaren_tpp_evaluate */
    long n_seq = 0;
    /* a sequence of one event has nothing to predict but, with a window end, a survival term */
    const long min_len = d->window_end > 0 ? 1 : 2;
    for (int s = 0; s < d->n_seq; s++) n_seq += d->split[s] == split && d->off[s + 1] - d->off[s] >= min_len;
    const long nb = (n_seq + m->max_B - 1) / m->max_B;
    long k0, k1, k = 0;
    aaren_dist_part(nb, &k0, &k1);
    double *sums = calloc((size_t)(nb > 0 ? nb : 1) * 4, sizeof(double));   /* [nb, 4]: lt, lm, se_med, cnt */
    if (!sums) return aaren_errf(err, errlen, "events: out of memory for the evaluation");
    int B = 0, rc = 0;
    for (int s = 0; s <= d->n_seq && k < k1 && !rc; s++) {
        if (s < d->n_seq && d->split[s] == split && d->off[s + 1] - d->off[s] >= min_len) m->seq[B++] = s;
        if (B < m->max_B && !(s == d->n_seq && B > 0)) continue;
        int N;
        if (k++ < k0) { B = 0; continue; }
        if (forward(m, d, B, &N, err, errlen)) { rc = -1; break; }
        double lt = 0, lm = 0, se_med = 0;
        long cnt = 0;
        for (int b = 0; b < B; b++) {
            const long first = d->off[m->seq[b]], n = d->off[m->seq[b] + 1] - first;
            /* positions 0 .. n-2 predict events 1 .. n-1; position n-1 gives the survival */
            for (long i0 = 0; i0 < n; i0 += CHUNK) {
                const int rows = (int)(n - i0 < CHUNK ? n - i0 : CHUNK);
                decoder_forward(m, m->z, m->h + ((size_t)b * N + i0) * D, rows, seq_hist(m, d->mark ? d->mark + first + i0 : NULL, i0, rows));
                for (int r = 0; r < rows; r++) {
                    const long i = i0 + r, e = first + i + 1;
                    const float *z = m->z + (size_t)r * P;
                    if (i == n - 1) {
                        if (d->window_end > d->time[e - 1])
                            lt += aaren_lnmix_logsurv(z, K, d->window_end - d->time[e - 1], loc, sc);
                        continue;
                    }
                    const double tau = d->time[e] - d->time[e - 1];
                    lt -= aaren_lnmix_nll(z, K, (float)fmax(tau, m->tau_min), loc, sc, NULL);
                    if (m->C > 0) lm -= aaren_softmax_nll(z + 3 * K, m->C, d->mark[e], NULL);
                    const double med = aaren_lnmix_quantile(z, K, loc, sc, 0.5);
                    se_med += (med - tau) * (med - tau);
                    cnt++;
                }
            }
        }
        double *w = sums + (size_t)(k - 1) * 4;
        w[0] = lt; w[1] = lm; w[2] = se_med; w[3] = (double)cnt;
        B = 0;
    }
    /* every rank takes part in the sums, even one that failed (the others would wait for it) */
    double t[4];
    const int rs = aaren_dist_block_sums(sums, nb, 4, t);
    free(sums);
    if (rc) return -1;
    if (rs) return aaren_errf(err, errlen, "events: summing the evaluation across ranks failed");
    const double cnt = t[3];
    if (!(cnt > 0)) return aaren_errf(err, errlen, "events: split %d has no events to predict", split);
    out->ll_time = t[0] / cnt;
    out->ll = (t[0] + t[1]) / cnt;
    out->rmse_median = sqrt(t[2] / cnt);
    return 0;
}

int aaren_tpp_run(aaren_tpp *m, const aaren_events *d, aaren_tpp_result *r, const aaren_fit_io *io, char *err,
                  size_t errlen) {
    memset(r, 0, sizeof *r);
    if (!m->opt) return aaren_errf(err, errlen, "events: a loaded model is for prediction, not training");
    const double t0 = aaren_now_s();
    r->n_params = aaren_model_n_trainable(m->enc);
    fit_ctx fc = {m, d};
    const aaren_fit_task t = {&fc, m->enc, m->opt, m->n_train, fit_batch, fit_validate, fit_save, "events", 1};
    const aaren_fit_options fo = aaren_fit_options_for(m->o.epochs, 0, m->max_B, m->o.patience,
                                                       m->o.dropout, m->o.seed, 53, io);
    aaren_fit_result fr;
    if (aaren_fit(&t, &fo, &fr, err, errlen)) return -1;
    r->epochs_run = fr.epochs_run;
    r->best_epoch = fr.best_epoch;
    r->stopped = fr.stopped;
    double *const val[5] = {&r->val.nll, &r->val.nll_time, &r->val.nll_mark, &r->val.rmse, &r->val.acc};
    r->val.acc = NAN;
    for (int i = 0; i < fr.n_best && i < 5; i++) *val[i] = fr.best_value[i];
    if (fr.stopped) return 0;
    if (aaren_tpp_evaluate(m, d, AAREN_EV_TEST, &r->test, err, errlen) ||
        aaren_tpp_evaluate_ll(m, d, AAREN_EV_TEST, &r->test, err, errlen) ||
        aaren_hawkes_fit(d, &r->hawkes, err, errlen))
        return -1;
    aaren_tpp_poisson(d, AAREN_EV_TEST, &r->poisson_test);
    aaren_tpp_hawkes(d, &r->hawkes, AAREN_EV_TEST, &r->hawkes_test);
    r->seconds = aaren_now_s() - t0;
    return 0;
}

/* ---- predictions: parallel and streamed ------------------------------------------------- */

static void summarise(const aaren_tpp *m, const float *z, aaren_tpp_prediction *p) {
    const float loc = (float)m->loc, sc = (float)m->scale;
    p->mean = aaren_lnmix_mean(z, m->K, loc, sc);
    p->median = aaren_lnmix_quantile(z, m->K, loc, sc, 0.5);
    p->q10 = aaren_lnmix_quantile(z, m->K, loc, sc, 0.1);
    p->q90 = aaren_lnmix_quantile(z, m->K, loc, sc, 0.9);
    p->mark = -1;
    p->p_mark = NAN;
    if (m->C > 0) {
        const float *l = z + 3 * m->K;
        int arg = 0;
        for (int c = 1; c < m->C; c++) if (l[c] > l[arg]) arg = c;
        double s = 0;
        for (int c = 0; c < m->C; c++) s += exp((double)l[c] - l[arg]);
        p->mark = arg;
        p->p_mark = 1.0 / s;
    }
}

int aaren_tpp_predict_sequence(aaren_tpp *m, const aaren_events *d, int s, aaren_tpp_prediction *pred,
                               float *mark_probs, char *err, size_t errlen) {
    if (s < 0 || s >= d->n_seq) return aaren_errf(err, errlen, "events: sequence %d is outside 0..%d", s, d->n_seq - 1);
    if (d->n_marks != m->C) return aaren_errf(err, errlen, "events: the data has %d marks, the model %d", d->n_marks, m->C);
    const long n = d->off[s + 1] - d->off[s];
    if (n > m->max_N) return aaren_errf(err, errlen, "events: sequence %d has %ld events, more than the model's %d", s, n, m->max_N);
    m->seq[0] = s;
    int N;
    if (forward(m, d, 1, &N, err, errlen)) return -1;
    for (long i0 = 0; i0 < n; i0 += CHUNK) {
        const int rows = (int)(n - i0 < CHUNK ? n - i0 : CHUNK);
        decoder_forward(m, m->z, m->h + (size_t)i0 * m->D, rows, seq_hist(m, d->mark ? d->mark + d->off[s] + i0 : NULL, i0, rows));
        for (int r = 0; r < rows; r++) {
            const float *z = m->z + (size_t)r * m->P, *l = z + 3 * m->K;
            summarise(m, z, pred + i0 + r);
            float *q = mark_probs && m->C > 0 ? mark_probs + (size_t)(i0 + r) * m->C : NULL;
            for (int c = 0; q && c < m->C; c++)   /* p(mark c) = exp(l_c - l_max) / sum, p_mark = 1 / sum */
                q[c] = (float)(exp((double)l[c] - l[pred[i0 + r].mark]) * pred[i0 + r].p_mark);
        }
    }
    return 0;
}

struct aaren_tpp_stream {
    aaren_tpp *m;
    aaren_stream *s;
    double last_t;
    long n;
    float *x, *h, *z;   /* [D], [D], [P]: one allocation, then */
    int *hist;          /* [L] the recent marks, lag 1 first (-1: none yet) */
};

aaren_tpp_stream *aaren_tpp_stream_new(aaren_tpp *m, long max_events, char *err, size_t errlen) {
    aaren_tpp_stream *s = calloc(1, sizeof *s);
    if (!s || !(s->x = malloc(sizeof(float) * (2 * (size_t)m->D + m->P) + sizeof(int) * (size_t)m->L))) {
        free(s);
        aaren_errf(err, errlen, "out of memory");
        return NULL;
    }
    s->h = s->x + m->D;
    s->z = s->h + m->D;
    s->hist = (int *)(s->z + m->P);
    for (int j = 0; j < m->L; j++) s->hist[j] = -1;
    s->m = m;
    if (!(s->s = aaren_stream_new(m->enc, max_events, err, errlen))) { free(s->x); free(s); return NULL; }
    return s;
}

void aaren_tpp_stream_free(aaren_tpp_stream *s) {
    if (!s) return;
    aaren_stream_free(s->s);
    free(s->x);
    free(s);
}

size_t aaren_tpp_stream_state_bytes(const aaren_tpp_stream *s) { return aaren_stream_state_bytes(s->s); }

int aaren_tpp_stream_event(aaren_tpp_stream *s, double time, int mark, aaren_tpp_prediction *p, char *err, size_t errlen) {
    const aaren_tpp *m = s->m;
    if (!isfinite(time)) return aaren_errf(err, errlen, "event %ld: time is not a finite number", s->n + 1);
    if (s->n > 0 && time < s->last_t)
        return aaren_errf(err, errlen, "event %ld: time %.17g is before the previous event's %.17g (times must be non-decreasing)",
                          s->n + 1, time, s->last_t);
    if (m->C > 0 && (mark < 0 || mark >= m->C))
        return aaren_errf(err, errlen, "event %ld: mark %d is outside 0..%d", s->n + 1, mark, m->C - 1);
    event_token(m, s->x, time, s->n ? time - s->last_t : 0.0, s->n == 0, mark);
    if (aaren_stream_step(s->s, s->x, s->h, err, errlen)) return -1;
    if (m->L > 0) {
        memmove(s->hist + 1, s->hist, sizeof(int) * (size_t)(m->L - 1));
        s->hist[0] = mark;
    }
    decoder_forward(m, s->z, s->h, 1, s->hist);
    summarise(m, s->z, p);
    s->last_t = time;
    s->n++;
    return 0;
}

/* ---- checkpoints ------------------------------------------------------------------------ */

/* The encoder's tensors, the task's parameters and tpp.* metadata. */
static int tpp_to_st(const aaren_tpp *m, aaren_st *st) {
    char v[7][40];
    snprintf(v[0], sizeof v[0], "%d", m->K);
    snprintf(v[1], sizeof v[1], "%d", m->C);
    snprintf(v[2], sizeof v[2], "%.17g", m->time_scale);
    snprintf(v[3], sizeof v[3], "%.17g", m->loc);
    snprintf(v[4], sizeof v[4], "%.17g", m->scale);
    snprintf(v[5], sizeof v[5], "%d", m->max_N);
    snprintf(v[6], sizeof v[6], "%d", m->L);
    const int64_t shape[1] = {(int64_t)aaren_model_n_extra(m->enc)};
    return aaren_model_to_st(m->enc, st) || !aaren_st_put(st, "tpp.params", 1, shape, aaren_model_extra(m->enc)) ||
           aaren_st_set_meta(st, "tpp.K", v[0]) || aaren_st_set_meta(st, "tpp.n_marks", v[1]) ||
           aaren_st_set_meta(st, "tpp.time_scale", v[2]) || aaren_st_set_meta(st, "tpp.loc", v[3]) ||
           aaren_st_set_meta(st, "tpp.scale", v[4]) || aaren_st_set_meta(st, "tpp.max_len", v[5]) ||
           (m->T && aaren_st_set_meta(st, "tpp.tie_marks", "1")) ||
           (m->g && aaren_st_set_meta(st, "tpp.copy_mark", v[6])) ? -1 : 0;
}

int aaren_tpp_save(const aaren_tpp *m, const char *path, char *err, size_t errlen) {
    aaren_st st;
    aaren_st_init(&st);
    int rc = tpp_to_st(m, &st);
    if (rc) aaren_errf(err, errlen, "%s: out of memory while building the checkpoint", path);
    else rc = aaren_st_write(path, &st, err, errlen);
    aaren_st_free(&st);
    return rc ? -1 : 0;
}

/* The tpp.* metadata of a checkpoint, each value strictly parsed; -1 with a message naming
 * the first missing or malformed key. */
static int read_meta(const aaren_st *st, const char *path, aaren_tpp *m, long *K, long *C, long *maxn,
                     char *err, size_t errlen) {
    static const char *const keys[6] = {"tpp.K", "tpp.n_marks", "tpp.time_scale", "tpp.loc", "tpp.scale", "tpp.max_len"};
    const char *v[6];
    for (int i = 0; i < 6; i++)
        if (!(v[i] = aaren_st_meta(st, keys[i])))
            return aaren_file_err(err, errlen, path, "no '%s' metadata: not a checkpoint written by aaren events --save", keys[i]);
    return aaren_meta_long(path, keys[0], v[0], 1, 64, K, err, errlen) ||
           aaren_meta_long(path, keys[1], v[1], 0, 10000000, C, err, errlen) ||
           aaren_meta_double(path, keys[2], v[2], 1e-300, 1e300, &m->time_scale, err, errlen) ||
           aaren_meta_double(path, keys[3], v[3], -1e300, 1e300, &m->loc, err, errlen) ||
           aaren_meta_double(path, keys[4], v[4], 1e-300, 1e300, &m->scale, err, errlen) ||
           aaren_meta_long(path, keys[5], v[5], 1, 10000000, maxn, err, errlen) ? -1 : 0;
}

aaren_tpp *aaren_tpp_load(const char *path, char *err, size_t errlen) {
    aaren_st st;
    aaren_st_init(&st);
    if (aaren_st_read(path, &st, err, errlen)) return NULL;
    aaren_tpp *m = calloc(1, sizeof *m);
    aaren_model *probe = NULL;
    long K, C, maxn;
    if (!m) { aaren_file_err(err, errlen, path, "out of memory"); goto fail; }
    if (read_meta(&st, path, m, &K, &C, &maxn, err, errlen)) goto fail;
    if (!(probe = aaren_model_from_st(&st, path, err, errlen))) goto fail;
    aaren_tpp_options_init(&m->o);
    m->o.enc = *aaren_model_config(probe);
    m->K = (int)K;
    m->C = (int)C;
    m->tau_min = 1e-3 * m->time_scale;
    m->max_B = 1;
    m->max_N = (int)maxn;
    const char *tie = aaren_st_meta(&st, "tpp.tie_marks");   /* absent: an untied head */
    if (tie && strcmp(tie, "1") && strcmp(tie, "0")) {
        aaren_file_err(err, errlen, path, "metadata 'tpp.tie_marks' is '%.20s', not 0 or 1", tie);
        goto fail;
    }
    m->o.tie_marks = tie && !strcmp(tie, "1");
    const char *copy = aaren_st_meta(&st, "tpp.copy_mark");   /* absent: no copy logit; else the lags */
    long lags = 0;
    if (copy && aaren_parse_long(copy, 0, AAREN_TPP_MAX_COPY_LAGS, &lags)) {
        aaren_file_err(err, errlen, path, "metadata 'tpp.copy_mark' is '%.20s', not a count of copy lags in 0..%d", copy,
                       AAREN_TPP_MAX_COPY_LAGS);
        goto fail;
    }
    m->o.copy_mark = (int)lags;
    if (build(m, 0, 0, err, errlen)) goto fail;
    const aaren_tensor *t = aaren_st_find(&st, "tpp.params");
    if (!t || t->numel != (int64_t)aaren_model_n_extra(m->enc)) {
        aaren_file_err(err, errlen, path, "tensor tpp.params missing or of the wrong size for the model in the metadata");
        goto fail;
    }
    memcpy(aaren_model_params(m->enc), aaren_model_params(probe), sizeof(float) * aaren_model_n_params(probe));
    memcpy(aaren_model_extra(m->enc), t->data, sizeof(float) * (size_t)t->numel);
    aaren_model_free(probe);
    aaren_st_free(&st);
    return m;
fail:
    aaren_model_free(probe);
    aaren_st_free(&st);
    aaren_tpp_free(m);
    return NULL;
}

/* ---- one event line of a stream ---------------------------------------------------------- */

/* Copies line[a, b) into buf (n bytes) as a C string; 0 when it does not fit. */
static int copy_field(const char *line, size_t a, size_t b, char *buf, size_t n) {
    if (b - a >= n) return 0;
    memcpy(buf, line + a, b - a);
    buf[b - a] = 0;
    return 1;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

int aaren_tpp_parse_event_line(const char *line, size_t len, double *time, int *mark, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    size_t n = line ? len : 0, i = 0;
    if (n && line[n - 1] == '\n') n--;
    if (n && line[n - 1] == '\r') n--;
    for (size_t j = 0; j < n; j++)
        if (line[j] == '\0') return aaren_errf(err, errlen, "a NUL byte at column %zu", j + 1);
    while (i < n && is_blank(line[i])) i++;
    if (i == n || line[i] == '#') return 0;
    char field[128];
    double t;
    const size_t t0 = i;
    while (i < n && !is_blank(line[i]) && line[i] != ',') i++;
    if (i == t0) return aaren_errf(err, errlen, "expected TIME [MARK], got '%.*s'", (int)(n - t0 < 40 ? n - t0 : 40), line + t0);
    if (!copy_field(line, t0, i, field, sizeof field) || aaren_parse_double(field, -DBL_MAX, DBL_MAX, &t))
        return aaren_errf(err, errlen, "time '%.*s' is not a finite number", (int)(i - t0 < 40 ? i - t0 : 40), line + t0);
    int comma = 0;
    while (i < n && is_blank(line[i])) i++;
    if (i < n && line[i] == ',') {
        comma = 1;
        for (i++; i < n && is_blank(line[i]); i++) {}
    }
    if (i == n) {
        if (comma) return aaren_errf(err, errlen, "expected a mark after the ','");
        *time = t;
        *mark = -1;
        return 1;
    }
    const size_t m0 = i;
    while (i < n && !is_blank(line[i]) && line[i] != ',') i++;
    long k;
    if (i == m0)
        return aaren_errf(err, errlen, "expected a mark after the time, got '%.*s'", (int)(n - m0 < 40 ? n - m0 : 40), line + m0);
    if (!copy_field(line, m0, i, field, sizeof field) || aaren_parse_long(field, 0, INT_MAX, &k))
        return aaren_errf(err, errlen, "mark '%.*s' is not an integer from 0 to %d", (int)(i - m0 < 40 ? i - m0 : 40),
                          line + m0, INT_MAX);
    while (i < n && is_blank(line[i])) i++;
    if (i < n) return aaren_errf(err, errlen, "unexpected text '%.*s' after the mark", (int)(n - i < 40 ? n - i : 40), line + i);
    *time = t;
    *mark = (int)k;
    return 1;
}

/* ---- streaming for the server (tasks/serving.h) ---------------------------------------- */

void aaren_tpp_stream_tokens(const aaren_tpp *m, int k, const double *time, const double *last_t,
                             const long *n_before, const int *mark, float *x) {
    for (int i = 0; i < k; i++)   /* as aaren_tpp_stream_event makes its token */
        event_token(m, x + (size_t)i * m->D, time[i], n_before[i] ? time[i] - last_t[i] : 0.0, n_before[i] == 0,
                    mark[i]);
}

int aaren_tpp_decoder_width(const aaren_tpp *m) { return m->P; }

int aaren_tpp_copy_lags(const aaren_tpp *m) { return m->L; }

void aaren_tpp_stream_decode(const aaren_tpp *m, const float *h, int k, const int *hist, float *z,
                             aaren_tpp_prediction *p, float *mark_probs) {
    decoder_forward(m, z, h, k, hist);
    for (int r = 0; r < k; r++) {
        const float *zr = z + (size_t)r * m->P, *l = zr + 3 * m->K;
        summarise(m, zr, p + r);
        float *q = mark_probs && m->C > 0 ? mark_probs + (size_t)r * m->C : NULL;
        for (int c = 0; q && c < m->C; c++)   /* as aaren_tpp_predict_sequence gives them */
            q[c] = (float)(exp((double)l[c] - l[p[r].mark]) * p[r].p_mark);
    }
}
