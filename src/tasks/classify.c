/* Time-series classification (see classify.h). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/common.h"
#include "base/rng.h"
#include "layers/layers.h"
#include "tasks/classify.h"
#include "tasks/serving.h"

struct aaren_classifier {
    aaren_classify_options o;
    aaren_uea *train, *test;    /* NULL for a classifier loaded to predict */
    int dims, C;
    char **labels;              /* [C] the model's label strings (train's, or read from a checkpoint) */
    char *label_text;           /* checkpoint: storage behind labels */
    aaren_seqmodel *sm;
    aaren_adamw *opt;
    int max_batch, max_len;     /* what the model has reserved */
    int *tr, *va;               /* [n_tr], [n_va] case indices of TRAIN */
    int n_tr, n_va;
    int *test_map;              /* [test->n_classes] test label index -> model class */
    double *mean, *sd;          /* [dims] standardisation */
    float *x;                   /* [max_batch, max_len, dims] one batch, zero-padded */
    int *lab, *lens;            /* [max_batch] */
    void *block;                /* the allocation behind mean .. test_map */
};

void aaren_classify_options_init(aaren_classify_options *o) {
    memset(o, 0, sizeof *o);
    aaren_config c = {AAREN_ARCH_AAREN, 64, 4, 2, 128, AAREN_NORM_POST, AAREN_GELU, 1e-5f};
    o->enc = c;
    o->batch = 16;
    o->epochs = 100;
    o->patience = 15;
    o->lr = 1e-3f;
    o->dropout = 0.1f;
    o->clip = 4.0f;
    o->val_frac = 0.2f;
    o->seed = 1;
    o->limits = aaren_uea_limits_default();
}

aaren_seqmodel *aaren_classifier_model(const aaren_classifier *c) { return c->sm; }
int aaren_classifier_n_classes(const aaren_classifier *c) { return c->C; }
const char *aaren_classifier_label(const aaren_classifier *c, int k) { return k >= 0 && k < c->C ? c->labels[k] : NULL; }
const aaren_uea *aaren_classifier_test_data(const aaren_classifier *c) { return c->test; }

void aaren_classifier_free(aaren_classifier *c) {
    if (!c) return;
    aaren_uea_free(c->train);
    aaren_uea_free(c->test);
    aaren_seqmodel_free(c->sm);
    aaren_adamw_free(c->opt);
    if (c->label_text) free(c->labels);
    free(c->label_text);
    free(c->block);
    free(c);
}

/* Standardises every value of d with mean/sd, then fills missing values by linear
 * interpolation along time (nearest value at the ends, 0 when none is present). */
static void prepare(aaren_uea *d, const double *mean, const double *sd) {
    const int D = d->dims;
    for (int i = 0; i < d->n_cases; i++) {
        float *v = d->values + d->off[i];
        const int L = d->len[i];
        for (int k = 0; k < D; k++) {
            int prev = -1;   /* last step with a value */
            for (int t = 0; t < L; t++) {
                float *x = v + (size_t)t * D + k;
                if (isnan(*x)) continue;
                *x = (float)((*x - mean[k]) / sd[k]);
                const float xt = *x;
                if (prev < 0) {
                    for (int s = 0; s < t; s++) v[(size_t)s * D + k] = xt;
                } else {
                    const float xp = v[(size_t)prev * D + k];
                    for (int s = prev + 1; s < t; s++)
                        v[(size_t)s * D + k] = xp + (xt - xp) * (float)(s - prev) / (float)(t - prev);
                }
                prev = t;
            }
            const float tail = prev < 0 ? 0.0f : v[(size_t)prev * D + k];
            for (int s = prev + 1; s < L; s++) v[(size_t)s * D + k] = tail;
        }
    }
}

/* Mean and population std of each dimension over the given cases (missing values skipped). */
static void fit_scaler(const aaren_uea *d, const int *cases, int n, double *mean, double *sd) {
    const int D = d->dims;
    for (int k = 0; k < D; k++) {
        double s = 0, ss = 0;
        long cnt = 0;
        for (int j = 0; j < n; j++) {
            const float *v = d->values + d->off[cases[j]];
            for (int t = 0; t < d->len[cases[j]]; t++) {
                const float x = v[(size_t)t * D + k];
                if (!isnan(x)) { s += x; cnt++; }
            }
        }
        const double m = cnt ? s / cnt : 0;
        for (int j = 0; j < n; j++) {
            const float *v = d->values + d->off[cases[j]];
            for (int t = 0; t < d->len[cases[j]]; t++) {
                const float x = v[(size_t)t * D + k];
                if (!isnan(x)) ss += (x - m) * (x - m);
            }
        }
        const double var = cnt ? ss / cnt : 0;
        mean[k] = m;
        sd[k] = var > 1e-24 ? sqrt(var) : 1.0;
    }
}

/* Stratified split of TRAIN into the training part and the validation part. */
static void split_train(aaren_classifier *c) {
    const aaren_uea *d = c->train;
    uint64_t rng = c->o.seed * 0xD1B54A32D192ED03ull + 29;
    c->n_tr = c->n_va = 0;
    int *members = c->va + d->n_cases;   /* scratch: the block reserves n_cases more ints after va */
    for (int k = 0; k < d->n_classes; k++) {
        int m = 0;
        for (int i = 0; i < d->n_cases; i++) if (d->y[i] == k) members[m++] = i;
        for (int i = m - 1; i > 0; i--) {
            const int j = (int)(aaren_rng_uniform(&rng) * (double)(i + 1));
            const int t = members[i]; members[i] = members[j]; members[j] = t;
        }
        int nv = c->o.select_on_test ? 0 : (int)floor(c->o.val_frac * m + 0.5);
        if (!c->o.select_on_test && c->o.val_frac > 0 && m >= 2 && nv < 1) nv = 1;
        if (nv > m - 1) nv = m > 0 ? m - 1 : 0;
        for (int i = 0; i < m; i++) {
            if (i < nv) c->va[c->n_va++] = members[i];
            else c->tr[c->n_tr++] = members[i];
        }
    }
}

/* The one working block: standardisation, batch buffers and the index
 * lists, for batches of max_batch cases up to max_len steps and n_train TRAIN cases. When
 * a block exists already (growing to longer cases), everything but the batch is kept. */
static int alloc_block(aaren_classifier *c, int n_train, char *err, size_t errlen) {
    const size_t B = (size_t)c->max_batch, n_map = c->test ? (size_t)c->test->n_classes : 0;
    const size_t bytes = sizeof(double) * 2 * c->dims + sizeof(float) * (B * c->max_len * c->dims) +
                         sizeof(int) * (3 * (size_t)n_train + 2 * B + n_map);
    char *p = malloc(bytes);
    if (!p) return aaren_errf(err, errlen, "out of memory");
    const int had = c->block != NULL;
    double *mean = (double *)p, *sd = mean + c->dims;
    p += sizeof(double) * 2 * c->dims;
    float *x = (float *)p; p += sizeof(float) * B * c->max_len * c->dims;
    int *lab = (int *)p, *lens = lab + B, *tr = lens + B, *va = tr + n_train;
    int *test_map = va + 2 * (size_t)n_train;   /* va, then split_train's scratch */
    if (had) {
        memcpy(mean, c->mean, sizeof(double) * c->dims);
        memcpy(sd, c->sd, sizeof(double) * c->dims);
        memcpy(tr, c->tr, sizeof(int) * 3 * (size_t)n_train);
        memcpy(test_map, c->test_map, sizeof(int) * n_map);
        free(c->block);
    }
    c->block = mean;
    c->mean = mean; c->sd = sd; c->x = x;
    c->lab = lab; c->lens = lens; c->tr = tr; c->va = va; c->test_map = test_map;
    return aaren_seqmodel_reserve(c->sm, c->max_batch, c->max_len, n_train > 0, err, errlen);
}

/* A fresh model and its optimizer for dims inputs and C classes, then the block. */
static int build(aaren_classifier *c, int n_train, char *err, size_t errlen) {
    c->sm = aaren_seqmodel_new(&c->o.enc, c->dims, c->C, err, errlen);
    if (!c->sm) return -1;
    aaren_seqmodel_init(c->sm, c->o.seed);
    aaren_optim_config oc = aaren_optim_default();
    oc.lr = c->o.lr;
    oc.weight_decay = 0;
    oc.clip_norm = c->o.clip;
    oc.schedule = AAREN_SCHED_CONSTANT;
    if (!(c->opt = aaren_adamw_new(aaren_model_n_trainable(aaren_seqmodel_encoder(c->sm)), &oc, err, errlen))) return -1;
    return alloc_block(c, n_train, err, errlen);
}

aaren_classifier *aaren_classifier_new(const aaren_classify_options *o, char *err, size_t errlen) {
    if (o->batch < 1 || o->epochs < 1 || o->patience < 1 || !(o->val_frac >= 0 && o->val_frac < 1)) {
        aaren_errf(err, errlen, "classify: batch, epochs and patience must be >= 1 and the validation fraction in [0, 1)");
        return NULL;
    }
    aaren_classifier *c = calloc(1, sizeof *c);
    if (!c) { aaren_errf(err, errlen, "out of memory"); return NULL; }
    c->o = *o;
    if (!(c->train = aaren_uea_load_limited(o->train, &o->limits, err, errlen)) ||
        !(c->test = aaren_uea_load_limited(o->test, &o->limits, err, errlen))) {
        aaren_classifier_free(c);
        return NULL;
    }
    aaren_uea *tr = c->train, *te = c->test;
    if (te->dims != tr->dims) {
        aaren_errf(err, errlen, "%s: %d dimensions, but the training file %s has %d", o->test, te->dims, o->train, tr->dims);
        aaren_classifier_free(c);
        return NULL;
    }
    c->dims = tr->dims;
    c->C = tr->n_classes;
    c->labels = tr->labels;
    c->max_len = tr->max_len > te->max_len ? tr->max_len : te->max_len;
    c->max_batch = o->batch;
    if (build(c, tr->n_cases, err, errlen)) { aaren_classifier_free(c); return NULL; }
    for (int k = 0; k < te->n_classes; k++) {
        c->test_map[k] = aaren_uea_label_index(tr, te->labels[k]);
        if (c->test_map[k] < 0) {
            aaren_errf(err, errlen, "%s: class label '%s' does not occur in the training file's @classLabel list", o->test, te->labels[k]);
            aaren_classifier_free(c);
            return NULL;
        }
    }
    split_train(c);
    if (c->n_tr < 1) {
        aaren_errf(err, errlen, "%s: no training cases left after the validation split", o->train);
        aaren_classifier_free(c);
        return NULL;
    }
    fit_scaler(tr, c->tr, c->n_tr, c->mean, c->sd);
    prepare(tr, c->mean, c->sd);
    prepare(te, c->mean, c->sd);
    return c;
}

/* Copies cases idx[0..B) of d into the zero-padded batch; returns the longest length. */
static int load_batch(aaren_classifier *c, const aaren_uea *d, const int *idx, int B, const int *map) {
    int N = 1;
    for (int b = 0; b < B; b++) if (d->len[idx[b]] > N) N = d->len[idx[b]];
    const int D = c->dims;
    for (int b = 0; b < B; b++) {
        const int i = idx[b], L = d->len[i];
        float *x = c->x + (size_t)b * N * D;
        memcpy(x, d->values + d->off[i], sizeof(float) * (size_t)L * D);
        memset(x + (size_t)L * D, 0, sizeof(float) * (size_t)(N - L) * D);
        c->lens[b] = L;
        c->lab[b] = map ? map[d->y[i]] : d->y[i];
    }
    return N;
}

/* Accuracy and mean cross-entropy of the model over cases idx[0..n) of d (labels through
 * map when given); pred [n], probs [n, C] (every class's probability) and confusion [C * C]
 * are optional. Without pred and probs, under MPI each rank evaluates its part of the
 * batches and the sums are combined (aaren_dist_block_sums, exact counts): every rank gets one
 * process's figures to the last bit. */
static int evaluate(aaren_classifier *c, const aaren_uea *d, const int *idx, int n, const int *map, double *acc,
                    double *loss, int *pred, float *probs, long *confusion, char *err, size_t errlen) {
    const int C = c->C;
    const long nb = (n + c->max_batch - 1) / c->max_batch;
    long k0 = 0, k1 = nb;
    if (!pred && !probs) aaren_dist_part(nb, &k0, &k1);
    if (confusion) memset(confusion, 0, sizeof(long) * C * C);
    int *all = NULL;
    double *rows = calloc((size_t)(nb > 0 ? nb : 1) * 2, sizeof(double));   /* [nb, 2]: each batch's NLL and right answers */
    if (!rows) return aaren_errf(err, errlen, "out of memory");
    if (!idx) {   /* every case of d, in order */
        if (!(all = malloc(sizeof(int) * (size_t)(d->n_cases > 0 ? d->n_cases : 1)))) {
            free(rows);
            return aaren_errf(err, errlen, "out of memory");
        }
        for (int i = 0; i < d->n_cases; i++) all[i] = i;
        idx = all;
    }
    int rc = 0;
    for (long k = k0; k < k1 && !rc; k++) {
        const int i0 = (int)k * c->max_batch;
        const int B = n - i0 < c->max_batch ? n - i0 : c->max_batch;
        const int N = load_batch(c, d, idx + i0, B, map);
        const float *p = aaren_seqmodel_forward_last(c->sm, c->x, B, N, c->lens, AAREN_SCAN, err, errlen);
        if (!p) { rc = -1; break; }
        double nll = 0;
        long right = 0;
        for (int b = 0; b < B; b++) {
            const float *z = p + (size_t)b * C;
            int arg = 0;
            double mx = z[0];
            for (int j = 1; j < C; j++) if (z[j] > mx) { mx = z[j]; arg = j; }
            double se = 0;
            for (int j = 0; j < C; j++) se += exp((double)z[j] - mx);
            nll += log(se) + mx - z[c->lab[b]];
            right += arg == c->lab[b];
            if (pred) pred[i0 + b] = arg;
            for (int j = 0; probs && j < C; j++) probs[(size_t)(i0 + b) * C + j] = (float)(exp((double)z[j] - mx) / se);
            if (confusion) confusion[(size_t)c->lab[b] * C + arg]++;
        }
        rows[2 * k] = nll;
        rows[2 * k + 1] = (double)right;
    }
    free(all);
    /* every rank takes part in the sums, even one that failed (the others would wait for it) */
    double t[2] = {0, 0};
    int rs = 0;
    if (!pred && !probs) rs = aaren_dist_block_sums(rows, nb, 2, t) || (confusion && aaren_dist_sum_long(confusion, (size_t)C * C));
    else   /* this process alone */
        for (long k = 0; k < nb; k++) {
            t[0] += rows[2 * k];
            t[1] += rows[2 * k + 1];
        }
    free(rows);
    if (rc) return -1;
    if (rs) return aaren_errf(err, errlen, "classify: summing the evaluation across ranks failed");
    *acc = n ? t[1] / n : NAN;
    if (loss) *loss = n ? t[0] / n : NAN;
    return 0;
}

/* The engine's batch (aaren_fit): training cases c->tr[idx[b]], forward at each case's last
 * valid step, cross-entropy, backward. */
static int fit_batch(void *ctx, const long *idx, int B, uint64_t *rng, const aaren_dropout *drop, double *loss, long *tokens,
                     char *err, size_t errlen) {
    aaren_classifier *c = ctx;
    int *cases = c->va + c->train->n_cases;   /* the block's scratch after va (n_cases ints) */
    (void)rng;
    *tokens = 0;
    for (int b = 0; b < B; b++) {
        cases[b] = c->tr[idx[b]];
        *tokens += c->train->len[cases[b]];
    }
    const int N = load_batch(c, c->train, cases, B, NULL);
    const aaren_batch b = {c->x, B, N, NULL, c->lab, c->lens, AAREN_LOSS_CE, 1, NULL, NULL};
    return aaren_train_grads(c->sm, &b, drop, loss, err, errlen);
}

/* Validation accuracy decides (higher is better), its loss breaks ties. */
static int fit_validate(void *ctx, aaren_fit_eval *ev, char *err, size_t errlen) {
    aaren_classifier *c = ctx;
    double acc = NAN, loss = NAN;
    if (evaluate(c, c->train, c->va, c->n_va, NULL, &acc, &loss, NULL, NULL, NULL, err, errlen)) return -1;
    ev->score = -acc;
    ev->tie = loss;
    aaren_fit_eval_add(ev, "val loss", loss);
    aaren_fit_eval_add(ev, "val acc", acc);
    return 0;
}

/* select_on_test: TEST accuracy decides (the Time-Series-Library's protocol). */
static int fit_select_test(void *ctx, aaren_fit_eval *ev, char *err, size_t errlen) {
    aaren_classifier *c = ctx;
    double acc = NAN, loss = NAN;
    if (evaluate(c, c->test, NULL, c->test->n_cases, c->test_map, &acc, &loss, NULL, NULL, NULL, err, errlen)) return -1;
    ev->score = -acc;
    ev->tie = loss;
    aaren_fit_eval_add(ev, "TEST loss (selects)", loss);
    aaren_fit_eval_add(ev, "TEST acc (selects)", acc);
    return 0;
}

static int classifier_to_st(const aaren_classifier *c, aaren_st *st);
static int fit_save(void *ctx, aaren_st *st) { return classifier_to_st(ctx, st); }

int aaren_classifier_run(aaren_classifier *c, aaren_classify_result *r, long *confusion, const aaren_fit_io *io,
                         char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    if (!c->train || !c->opt) return aaren_errf(err, errlen, "classify: this classifier has no training data");
    const double t0 = aaren_now_s();
    const aaren_uea *tr = c->train;
    r->n_params = aaren_model_n_trainable(aaren_seqmodel_encoder(c->sm));
    r->n_train = c->n_tr;
    r->n_val = c->n_va;
    r->n_test = c->test->n_cases;
    /* without a validation part the epoch's training loss decides */
    const aaren_fit_task t = {c, aaren_seqmodel_encoder(c->sm), c->opt, c->n_tr, fit_batch,
                              c->o.select_on_test ? fit_select_test : c->n_va > 0 ? fit_validate : NULL, fit_save,
                              "classify", 0};
    const aaren_fit_options fo = aaren_fit_options_for(c->o.epochs, 0, c->max_batch, c->o.patience,
                                                       c->o.dropout, c->o.seed, 41, io);
    aaren_fit_result fr;
    if (aaren_fit(&t, &fo, &fr, err, errlen)) return -1;
    r->epochs_run = fr.epochs_run;
    r->best_epoch = fr.best_epoch;
    r->val_acc = c->n_va > 0 || c->o.select_on_test ? -fr.best_score : NAN;
    r->val_loss = fr.best_tie;
    r->stopped = fr.stopped;
    if (fr.stopped) return 0;
    if (evaluate(c, c->test, NULL, c->test->n_cases, c->test_map, &r->test_acc, &r->test_loss, NULL, NULL, confusion,
                 err, errlen))
        return -1;
    /* majority class of the training part */
    long *count = calloc((size_t)c->C, sizeof(long));
    if (!count) return aaren_errf(err, errlen, "out of memory");
    for (int i = 0; i < c->n_tr; i++) count[tr->y[c->tr[i]]]++;
    int maj = 0;
    for (int k = 1; k < c->C; k++) if (count[k] > count[maj]) maj = k;
    long hit = 0;
    for (int i = 0; i < c->test->n_cases; i++) hit += c->test_map[c->test->y[i]] == maj;
    free(count);
    r->majority_acc = c->test->n_cases ? (double)hit / c->test->n_cases : NAN;
    r->seconds = aaren_now_s() - t0;
    return 0;
}

/* ---- checkpoints ------------------------------------------------------------------------ */

/* The model's tensors and classify.* metadata (labels, dimensions, standardisation). */
static int classifier_to_st(const aaren_classifier *c, aaren_st *st) {
    size_t len = 1;
    for (int k = 0; k < c->C; k++) len += strlen(c->labels[k]) + 1;
    char *labels = malloc(len), *mean = aaren_join_doubles(c->mean, c->dims), *sd = aaren_join_doubles(c->sd, c->dims);
    int rc = !labels || !mean || !sd;
    if (!rc) {
        char *p = labels;
        for (int k = 0; k < c->C; k++) p += sprintf(p, k ? " %s" : "%s", c->labels[k]);
        char dims[32];
        snprintf(dims, sizeof dims, "%d", c->dims);
        rc = aaren_seqmodel_to_st(c->sm, st) || aaren_st_set_meta(st, "classify.labels", labels) ||
             aaren_st_set_meta(st, "classify.dims", dims) || aaren_st_set_meta(st, "classify.mean", mean) ||
             aaren_st_set_meta(st, "classify.std", sd) ||
             (c->train && aaren_st_set_meta(st, "classify.train", c->o.train));
    }
    free(labels); free(mean); free(sd);
    return rc ? -1 : 0;
}

int aaren_classifier_save(const aaren_classifier *c, const char *path, char *err, size_t errlen) {
    aaren_st st;
    aaren_st_init(&st);
    int rc = classifier_to_st(c, &st);
    if (rc) aaren_errf(err, errlen, "%s: out of memory while building the checkpoint", path);
    else rc = aaren_st_write(path, &st, err, errlen);
    aaren_st_free(&st);
    return rc ? -1 : 0;
}

aaren_classifier *aaren_classifier_load(const char *path, char *err, size_t errlen) {
    aaren_st st;
    aaren_st_init(&st);
    if (aaren_st_read(path, &st, err, errlen)) return NULL;
    aaren_classifier *c = calloc(1, sizeof *c);
    const char *labels = aaren_st_meta(&st, "classify.labels"), *dims = aaren_st_meta(&st, "classify.dims");
    const char *mean = aaren_st_meta(&st, "classify.mean"), *sd = aaren_st_meta(&st, "classify.std");
    if (!c) { aaren_file_err(err, errlen, path, "out of memory"); goto fail; }
    if (!labels || !dims || !mean || !sd) {
        aaren_file_err(err, errlen, path, "no classify.* metadata: not a checkpoint written by aaren classify --save");
        goto fail;
    }
    aaren_classify_options_init(&c->o);
    c->o.batch = 32;
    if (!(c->sm = aaren_seqmodel_from_st(&st, path, err, errlen))) goto fail;
    c->o.enc = *aaren_model_config(aaren_seqmodel_encoder(c->sm));
    long nd;
    if (aaren_meta_long(path, "classify.dims", dims, 1, 1L << 20, &nd, err, errlen)) goto fail;
    c->dims = (int)nd;
    c->C = aaren_seqmodel_d_out(c->sm);
    if (c->dims != aaren_seqmodel_d_in(c->sm)) {
        aaren_file_err(err, errlen, path, "classify.dims %s differs from the model's input width %d", dims, aaren_seqmodel_d_in(c->sm));
        goto fail;
    }
    /* labels: C space-separated strings */
    c->label_text = malloc(strlen(labels) + 1);
    c->labels = malloc(sizeof(char *) * (size_t)c->C);
    if (!c->label_text || !c->labels) { aaren_file_err(err, errlen, path, "out of memory"); goto fail; }
    strcpy(c->label_text, labels);
    int k = 0;
    for (char *tok = strtok(c->label_text, " "); tok; tok = strtok(NULL, " ")) {
        if (k == c->C) break;
        c->labels[k++] = tok;
    }
    if (k != c->C || strtok(NULL, " ")) {
        aaren_file_err(err, errlen, path, "classify.labels holds a different number of labels than the model's %d classes", c->C);
        goto fail;
    }
    c->max_batch = 32;
    c->max_len = 1;   /* grown to each file's longest case */
    if (alloc_block(c, 0, err, errlen)) goto fail;
    if (aaren_meta_doubles(path, "classify.mean", mean, c->mean, c->dims, err, errlen) ||
        aaren_meta_doubles(path, "classify.std", sd, c->sd, c->dims, err, errlen))
        goto fail;
    for (int i = 0; i < c->dims; i++)
        if (!(c->sd[i] > 0)) { aaren_file_err(err, errlen, path, "classify.std holds a non-positive value"); goto fail; }
    aaren_st_free(&st);
    return c;
fail:
    aaren_st_free(&st);
    aaren_classifier_free(c);
    return NULL;
}

int aaren_classifier_predict_file(aaren_classifier *c, const char *path, const char *out_csv, int *n_cases,
                                  double *acc, long *confusion, char *err, size_t errlen) {
    aaren_uea *d = aaren_uea_load(path, err, errlen);
    if (!d) return -1;
    int rc = 0, *map = NULL, *pred = NULL;
    float *prob = NULL;
    if (d->dims != c->dims) {
        rc = aaren_file_err(err, errlen, path, "%d dimensions, but the model was trained on %d", d->dims, c->dims);
        goto done;
    }
    map = malloc(sizeof(int) * (size_t)d->n_classes);
    pred = malloc(sizeof(int) * (size_t)d->n_cases);
    prob = malloc(sizeof(float) * (size_t)d->n_cases * (size_t)c->C);
    if (!map || !pred || !prob) { rc = aaren_file_err(err, errlen, path, "out of memory for %d cases", d->n_cases); goto done; }
    for (int k = 0; k < d->n_classes; k++) {
        map[k] = -1;
        for (int j = 0; j < c->C; j++) if (!strcmp(d->labels[k], c->labels[j])) map[k] = j;
        if (map[k] < 0) { rc = aaren_file_err(err, errlen, path, "class label '%s' is not one of the model's", d->labels[k]); goto done; }
    }
    if (d->max_len > c->max_len) {   /* a batch for this file's longest case */
        c->max_len = d->max_len;
        if (alloc_block(c, c->train ? c->train->n_cases : 0, err, errlen)) { rc = -1; goto done; }
    }
    prepare(d, c->mean, c->sd);
    if ((rc = evaluate(c, d, NULL, d->n_cases, map, acc, NULL, pred, prob, confusion, err, errlen))) goto done;
    *n_cases = d->n_cases;
    for (size_t i = 0; out_csv && !c->o.allow_nonfinite && i < (size_t)d->n_cases * c->C; i++)
        if (!isfinite(prob[i])) {
            rc = aaren_file_err(err, errlen, out_csv, "not written: case %zu of %s: the probability of class '%s' is %s "
                                "(--allow-nonfinite writes non-finite values)", i / c->C, path, c->labels[i % c->C],
                                isnan(prob[i]) ? "nan" : "inf");
            goto done;
        }
    if (out_csv) {   /* the predicted class and its probability, then every class's */
        aaren_writer *w = aaren_writer_open(out_csv, err, errlen);
        if (!w) { rc = -1; goto done; }
        FILE *f = aaren_writer_file(w);
        fprintf(f, "case,label,predicted,probability");
        for (int k = 0; k < c->C; k++) fprintf(f, ",p_%s", c->labels[k]);
        fputc('\n', f);
        for (int i = 0; i < d->n_cases; i++) {
            const float *q = prob + (size_t)i * c->C;
            fprintf(f, "%d,%s,%s,%.6f", i, d->labels[d->y[i]], c->labels[pred[i]], q[pred[i]]);
            for (int k = 0; k < c->C; k++) fprintf(f, ",%.6f", q[k]);
            fputc('\n', f);
        }
        rc = aaren_writer_commit(w, err, errlen);
    }
done:
    free(map); free(pred); free(prob);
    aaren_uea_free(d);
    return rc;
}

void aaren_classifier_allow_nonfinite(aaren_classifier *c, int allow) { c->o.allow_nonfinite = allow; }

int aaren_classifier_n_dims(const aaren_classifier *c) { return c->dims; }

int aaren_classifier_predict_proba(aaren_classifier *c, const float *const *x, const int *lengths, int n,
                                   float *proba, char *err, size_t errlen) {
    const int D = c->dims, C = c->C;
    if (n < 0 || (n > 0 && (!x || !lengths || !proba))) return aaren_errf(err, errlen, "predict: %d cases, or no arrays", n);
    if (n == 0) return 0;
    const long cap = c->o.limits.max_len > 0 ? c->o.limits.max_len : AAREN_UEA_MAX_LEN;
    size_t total = 0;
    int max_len = 1;
    for (int i = 0; i < n; i++) {
        if (!x[i] || lengths[i] < 1 || lengths[i] > cap)
            return aaren_errf(err, errlen, "predict: case %d has %d steps; expected 1 to %ld", i, lengths[i], cap);
        total += (size_t)lengths[i] * D;
        if (lengths[i] > max_len) max_len = lengths[i];
    }
    aaren_uea d;
    memset(&d, 0, sizeof d);
    d.dims = D;
    d.n_cases = n;
    d.values = malloc(sizeof(float) * total);
    d.off = malloc(sizeof(size_t) * (size_t)n);
    d.len = malloc(sizeof(int) * (size_t)n);
    d.y = calloc((size_t)n, sizeof(int));
    int *idx = malloc(sizeof(int) * (size_t)n), rc = -1;
    if (!d.values || !d.off || !d.len || !d.y || !idx) { aaren_errf(err, errlen, "predict: out of memory for %d cases", n); goto done; }
    size_t off = 0;
    for (int i = 0; i < n; i++) {   /* dimension-major in, time-major (as the loader holds cases) here */
        const int L = lengths[i];
        d.off[i] = off;
        d.len[i] = L;
        idx[i] = i;
        for (int t = 0; t < L; t++)
            for (int k = 0; k < D; k++) d.values[off + (size_t)t * D + k] = x[i][(size_t)k * L + t];
        off += (size_t)L * D;
    }
    if (max_len > c->max_len) {
        c->max_len = max_len;
        if (alloc_block(c, c->train ? c->train->n_cases : 0, err, errlen)) goto done;
    }
    prepare(&d, c->mean, c->sd);
    for (int i0 = 0; i0 < n; i0 += c->max_batch) {
        const int B = n - i0 < c->max_batch ? n - i0 : c->max_batch;
        const int N = load_batch(c, &d, idx + i0, B, NULL);
        const float *p = aaren_seqmodel_forward_last(c->sm, c->x, B, N, c->lens, AAREN_SCAN, err, errlen);
        if (!p) goto done;
        for (int b = 0; b < B; b++) {   /* softmax of each case's logits */
            const float *z = p + (size_t)b * C;
            float *q = proba + (size_t)(i0 + b) * C;
            double mx = z[0], se = 0;
            for (int k = 1; k < C; k++) if (z[k] > mx) mx = z[k];
            for (int k = 0; k < C; k++) se += exp((double)z[k] - mx);
            for (int k = 0; k < C; k++) q[k] = (float)(exp((double)z[k] - mx) / se);
        }
    }
    rc = 0;
done:
    free(d.values); free(d.off); free(d.len); free(d.y); free(idx);
    return rc;
}

/* ---- streaming for the server (tasks/serving.h) ---------------------------------------- */

/* The sequence model's embedding and head: its part of the parameter block, laid out as
 * aaren.h gives it (embed.weight [D, d_in], embed.bias [D], head.weight [d_out, D], head.bias). */
static void seq_weights(const aaren_classifier *c, const float **ew, const float **eb, const float **hw, const float **hb) {
    const aaren_model *enc = aaren_seqmodel_encoder(c->sm);
    const size_t D = (size_t)aaren_model_config(enc)->d_model;
    *ew = aaren_model_extra(enc);
    *eb = *ew + D * (size_t)c->dims;
    *hw = *eb + D;
    *hb = *hw + (size_t)c->C * D;
}

void aaren_classifier_stream_embed(const aaren_classifier *c, float *x, int k, float *h) {
    const float *ew, *eb, *hw, *hb;
    seq_weights(c, &ew, &eb, &hw, &hb);
    for (int i = 0; i < k; i++)   /* as prepare() standardises a case */
        for (int j = 0; j < c->dims; j++) {
            float *v = x + (size_t)i * c->dims + j;
            *v = (float)((*v - c->mean[j]) / c->sd[j]);
        }
    aaren_linear_forward(h, x, ew, eb, k, c->dims, aaren_model_config(aaren_seqmodel_encoder(c->sm))->d_model);
}

void aaren_classifier_stream_proba(const aaren_classifier *c, const float *y, int k, float *proba) {
    const float *ew, *eb, *hw, *hb;
    seq_weights(c, &ew, &eb, &hw, &hb);
    const int C = c->C;
    aaren_linear_forward(proba, y, hw, hb, k, aaren_model_config(aaren_seqmodel_encoder(c->sm))->d_model, C);
    for (int b = 0; b < k; b++) {   /* the softmax of aaren_classifier_predict_proba, in place */
        float *q = proba + (size_t)b * C;
        double mx = q[0], se = 0;
        for (int j = 1; j < C; j++) if (q[j] > mx) mx = q[j];
        for (int j = 0; j < C; j++) se += exp((double)q[j] - mx);
        for (int j = 0; j < C; j++) q[j] = (float)(exp((double)q[j] - mx) / se);
    }
}
