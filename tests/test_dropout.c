/* Dropout is an argument of a training forward, remembered for that forward's backward:
 *   - float64 model: the gradient after aaren_model_forward_train with dropout equals finite
 *     differences of the same training forward (masks fixed by the seed); an evaluation
 *     forward has no dropout, and a backward follows the last forward (an evaluation forward
 *     in between leaves no masks behind);
 *   - the training step's gradient part (aaren_train_grads): a custom loss that is the MSE
 *     gives the gradients of the built-in MSE, and the last-position forward gives those of
 *     the full forward with a last-position loss. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "aaren.h"
#include "base/rng.h"
#include "model/model.h"

enum { B = 2, N = 5, D = 8 };

static void fill(double *v, size_t n, uint64_t seed) {
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) v[i] = aaren_rng_normal(&s);
}

/* sum(y * w) of a training forward with drop. */
static double objective(aaren_model_f64 *m, const double *x, const double *w, double *y, const aaren_dropout *drop) {
    char err[256];
    if (aaren_model_forward_train_f64(m, y, x, B, N, AAREN_SCAN, drop, err, sizeof err)) return NAN;
    double s = 0;
    for (int i = 0; i < B * N * D; i++) s += y[i] * w[i];
    return s;
}

static void check_model(int arch) {
    const aaren_config c = {arch, D, 2, 2, 16, AAREN_NORM_POST, AAREN_GELU, 1e-5f};
    char err[256];
    aaren_model_f64 *m = aaren_model_new_f64(&c, err, sizeof err);
    CHECK(m != NULL, "model: %s", err);
    if (!m) return;
    aaren_model_init_f64(m, 3);
    CHECK(aaren_model_reserve_f64(m, B, N, 1, err, sizeof err) == 0, "reserve: %s", err);
    double x[B * N * D], w[B * N * D], y[B * N * D], y0[B * N * D], y1[B * N * D];
    fill(x, B * N * D, 11);
    fill(w, B * N * D, 12);
    const aaren_dropout drop = {0.3f, 777};
    const char *name = aaren_arch_name(arch);

    /* evaluation forward = training forward without dropout; with dropout the output differs */
    aaren_model_forward_f64(m, y0, x, B, N, AAREN_SCAN, err, sizeof err);
    aaren_model_forward_train_f64(m, y1, x, B, N, AAREN_SCAN, NULL, err, sizeof err);
    CHECK(!memcmp(y0, y1, sizeof y0), "%s: an evaluation forward is the training forward without dropout", name);
    objective(m, x, w, y, &drop);
    int differ = 0;
    for (int i = 0; i < B * N * D; i++) differ += y[i] != y0[i];
    CHECK(differ > 0, "%s: dropout 0.3 changed no output", name);

    /* the backward of a training forward applies its masks: finite differences agree */
    const size_t np = m->n_params;
    double *g = malloc(sizeof(double) * np);
    aaren_model_zero_grad_f64(m);
    objective(m, x, w, y, &drop);
    aaren_model_backward_f64(m, NULL, w, err, sizeof err);
    memcpy(g, m->grads, sizeof(double) * np);
    uint64_t s = 5;
    double worst = 0;
    for (int k = 0; k < 24; k++) {
        const size_t i = (size_t)(aaren_rng_uniform(&s) * (double)np);
        const double p = m->params[i], h = 1e-6;
        m->params[i] = p + h;
        const double fp = objective(m, x, w, y, &drop);
        m->params[i] = p - h;
        const double fm = objective(m, x, w, y, &drop);
        m->params[i] = p;
        const double fd = (fp - fm) / (2 * h), e = fabs(fd - g[i]) / (1e-6 + fabs(fd) + fabs(g[i]));
        if (e > worst) worst = e;
    }
    CHECK(worst < 1e-5, "%s: dropout gradient against finite differences: worst relative error %.3g", name, worst);

    /* a backward follows the last forward: an evaluation forward in between leaves no masks */
    double *g0 = malloc(sizeof(double) * np);
    aaren_model_zero_grad_f64(m);
    aaren_model_forward_f64(m, y, x, B, N, AAREN_SCAN, err, sizeof err);
    aaren_model_backward_f64(m, NULL, w, err, sizeof err);
    memcpy(g0, m->grads, sizeof(double) * np);
    aaren_model_zero_grad_f64(m);
    objective(m, x, w, y, &drop);
    aaren_model_forward_f64(m, y, x, B, N, AAREN_SCAN, err, sizeof err);
    aaren_model_backward_f64(m, NULL, w, err, sizeof err);
    CHECK(!memcmp(g0, m->grads, sizeof(double) * np), "%s: the backward after an evaluation forward has no dropout", name);
    CHECK(memcmp(g0, g, sizeof(double) * np) != 0, "%s: dropout left the gradient unchanged", name);
    free(g);
    free(g0);
    aaren_model_free_f64(m);
}

/* ---- aaren_train_grads: custom loss and last-position forward --------------------------- */

enum { DI = 3, DO = 2 };

static double custom_mse(const aaren_batch *b, const float *pred, float *grad) {
    const float *target = b->loss_ctx;
    const size_t n = (size_t)(b->last_only ? b->B : b->B * b->N) * DO;
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = (double)pred[i] - target[i];
        se += d * d;
        grad[i] = (float)(2 * d / (double)n);
    }
    return se / (double)n;
}

static double rel_diff(const float *a, const float *b, size_t n) {
    double num = 0, den = 1e-12;
    for (size_t i = 0; i < n; i++) {
        num += fabs((double)a[i] - b[i]);
        den += fabs((double)a[i]) + fabs((double)b[i]);
    }
    return num / den;
}

static void check_train_grads(void) {
    const aaren_config c = {AAREN_ARCH_AAREN, D, 2, 1, 16, AAREN_NORM_PRE, AAREN_GELU, 1e-5f};
    char err[256];
    aaren_seqmodel *sm = aaren_seqmodel_new(&c, DI, DO, err, sizeof err);
    CHECK(sm != NULL, "seqmodel: %s", err);
    if (!sm) return;
    aaren_seqmodel_init(sm, 4);
    CHECK(!aaren_seqmodel_reserve(sm, B, N, 1, err, sizeof err), "reserve: %s", err);
    aaren_model *enc = aaren_seqmodel_encoder(sm);
    const size_t n = aaren_model_n_trainable(enc);
    float x[B * N * DI], t_all[B * N * DO], t_last[B * DO];
    uint64_t s = 9;
    for (int i = 0; i < B * N * DI; i++) x[i] = (float)aaren_rng_normal(&s);
    for (int i = 0; i < B * N * DO; i++) t_all[i] = (float)aaren_rng_normal(&s);
    for (int i = 0; i < B * DO; i++) t_last[i] = (float)aaren_rng_normal(&s);
    const int lengths[B] = {N, 3};
    const aaren_dropout drop = {0.2f, 99};
    float *g1 = malloc(sizeof(float) * n), *g2 = malloc(sizeof(float) * n);
    double l1 = 0, l2 = 0;

    /* the built-in MSE and a custom loss that is the MSE, with the same dropout */
    aaren_batch b = {x, B, N, t_all, NULL, NULL, AAREN_LOSS_MSE, 0, NULL, NULL};
    aaren_model_zero_grad(enc);
    CHECK(!aaren_train_grads(sm, &b, &drop, &l1, err, sizeof err), "train_grads (MSE): %s", err);
    memcpy(g1, aaren_model_grads(enc), sizeof(float) * n);
    b.loss = AAREN_LOSS_CUSTOM;
    b.loss_fn = custom_mse;
    b.loss_ctx = t_all;
    aaren_model_zero_grad(enc);
    CHECK(!aaren_train_grads(sm, &b, &drop, &l2, err, sizeof err), "train_grads (custom): %s", err);
    memcpy(g2, aaren_model_grads(enc), sizeof(float) * n);
    CHECK(fabs(l1 - l2) <= 1e-6 * fabs(l1), "custom MSE loss %.9g, built-in %.9g", l2, l1);
    CHECK(rel_diff(g1, g2, n) < 1e-6, "custom MSE gradient differs from the built-in one (%.3g)", rel_diff(g1, g2, n));

    /* the last-position forward against the full forward with a last-position loss */
    aaren_batch bl = {x, B, N, t_last, NULL, lengths, AAREN_LOSS_MSE, 1, NULL, NULL};
    aaren_model_zero_grad(enc);
    CHECK(!aaren_train_grads(sm, &bl, &drop, &l1, err, sizeof err), "train_grads (last): %s", err);
    memcpy(g1, aaren_model_grads(enc), sizeof(float) * n);
    aaren_model_zero_grad(enc);
    const float *p = aaren_seqmodel_forward_train(sm, x, B, N, NULL, 0, AAREN_SCAN, &drop, err, sizeof err);
    CHECK(p != NULL, "full forward: %s", err);
    l2 = aaren_seqmodel_loss_mse(sm, t_last, lengths, 1);
    CHECK(!aaren_seqmodel_backward(sm, err, sizeof err), "backward: %s", err);
    memcpy(g2, aaren_model_grads(enc), sizeof(float) * n);
    CHECK(fabs(l1 - l2) <= 1e-6 * fabs(l1), "last-position loss %.9g, full forward's %.9g", l1, l2);
    CHECK(rel_diff(g1, g2, n) < 1e-6, "last-position gradient differs from the full forward's (%.3g)", rel_diff(g1, g2, n));

    /* without loss_fn a custom loss is an error, not a crash */
    b.loss_fn = NULL;
    CHECK(aaren_train_grads(sm, &b, &drop, &l1, err, sizeof err) == -1 && strstr(err, "loss_fn"), "custom loss without loss_fn");
    free(g1);
    free(g2);
    aaren_seqmodel_free(sm);
}

int main(void) {
    check_model(AAREN_ARCH_AAREN);
    check_model(AAREN_ARCH_TRANSFORMER);
    check_train_grads();
    return check_done("test_dropout");
}
