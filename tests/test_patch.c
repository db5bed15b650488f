/* The patch forecaster's network (tasks/patch.h): the patches of a series against a direct
 * construction (padding by the last value, windows every stride steps); every parameter's
 * gradient, for both backbones, against central finite differences of the loss; a checkpoint
 * round trip gives the same forecasts to the last bit; bad sizes and damaged checkpoints are
 * refused with a message. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "aaren.h"
#include "aaren_io.h"
#include "check.h"
#include "base/rng.h"
#include "tasks/patch.h"

enum { L = 13, H = 3, P = 4, STRIDE = 3, S = 3 };

static void test_unfold(void) {
    char err[256];
    aaren_config c = {AAREN_ARCH_AAREN, 8, 2, 1, 16, AAREN_NORM_POST, AAREN_GELU, 1e-5f};
    aaren_patchmodel *pm = aaren_patchmodel_new(&c, L, H, P, STRIDE, err, sizeof err);
    CHECK(pm != NULL, "new: %s", err);
    if (!pm) return;
    const int n = aaren_patchmodel_n_patches(pm);
    CHECK(n == (L - P) / STRIDE + 2, "patches: %d", n);
    float x[L], padded[L + STRIDE], tok[64 * P];
    for (int t = 0; t < L; t++) x[t] = (float)(t * t) - 3.5f;
    memcpy(padded, x, sizeof x);
    for (int t = L; t < L + STRIDE; t++) padded[t] = x[L - 1];
    aaren_patchmodel_unfold(pm, x, tok);
    int bad = 0;
    for (int k = 0; k < n; k++) {
        CHECK(k * STRIDE + P <= L + STRIDE, "patch %d runs past the padding", k);
        for (int j = 0; j < P; j++) bad += tok[k * P + j] != padded[k * STRIDE + j];
    }
    CHECK(bad == 0, "%d patch values differ from windows of the padded series", bad);
    aaren_patchmodel_free(pm);
}

/* loss = sum over outputs of w * pred (a fixed weight per output): dL/dpred = w. */
static double loss_of(aaren_patchmodel *pm, const float *x, const float *w) {
    char err[256];
    const float *p = aaren_patchmodel_forward(pm, x, S, err, sizeof err);
    if (!p) return NAN;
    double l = 0;
    for (int i = 0; i < S * H; i++) l += (double)w[i] * p[i];
    return l;
}

static void test_gradients(int arch) {
    char err[256];
    aaren_config c = {arch, 8, 2, 2, 16, AAREN_NORM_POST, AAREN_GELU, 1e-5f};
    aaren_patchmodel *pm = aaren_patchmodel_new(&c, L, H, P, STRIDE, err, sizeof err);
    CHECK(pm && !aaren_patchmodel_reserve(pm, S, 1, err, sizeof err), "reserve: %s", err);
    if (!pm) return;
    aaren_patchmodel_init(pm, 7);
    aaren_model *m = aaren_patchmodel_encoder(pm);
    float *prm = aaren_model_params(m);
    /* larger positional and bias values than the initialiser's, so that every path carries
     * a gradient well above the differences' rounding */
    const size_t np = aaren_model_n_params(m), nt = aaren_model_n_trainable(m);
    uint64_t r = 11;
    for (size_t i = np; i < nt; i++) prm[i] += (float)(0.2 * (2 * aaren_rng_uniform(&r) - 1));
    float x[S * L], w[S * H];
    for (int i = 0; i < S * L; i++) x[i] = (float)sin(0.7 * i) + 0.1f * (float)(i % 5);
    for (int i = 0; i < S * H; i++) w[i] = (float)cos(1.3 * i + 0.2);
    aaren_model_zero_grad(m);
    loss_of(pm, x, w);
    float *g = aaren_patchmodel_grad_output(pm);
    memcpy(g, w, sizeof w);
    CHECK(!aaren_patchmodel_backward(pm, err, sizeof err), "backward: %s", err);
    const float *grad = aaren_model_grads(m);
    /* every task parameter and every 7th encoder parameter */
    double worst = 0;
    size_t where = 0, checked = 0;
    for (size_t i = 0; i < nt; i += (i < np ? 7 : 1)) {
        const float keep = prm[i];
        const double h = 1e-2 * fmax(1.0, fabs(keep));
        prm[i] = (float)(keep + h);
        const double lp = loss_of(pm, x, w);
        prm[i] = (float)(keep - h);
        const double lm = loss_of(pm, x, w);
        prm[i] = keep;
        const double fd = (lp - lm) / (2 * h), e = fabs(fd - grad[i]) / (2e-3 + 2e-2 * fabs(fd));
        if (e > worst) { worst = e; where = i; }
        checked++;
    }
    CHECK(worst <= 1, "%s: gradient of parameter %zu (of %zu; task part from %zu) off by %.2f of the tolerance",
          arch == AAREN_ARCH_AAREN ? "aaren" : "transformer", where, nt, np, worst);
    CHECK(checked > nt - np, "checked %zu parameters", checked);
    aaren_patchmodel_free(pm);
}

static void test_checkpoint(void) {
    char err[256];
    aaren_config c = {AAREN_ARCH_AAREN, 8, 2, 1, 16, AAREN_NORM_POST, AAREN_GELU, 1e-5f};
    aaren_patchmodel *a = aaren_patchmodel_new(&c, L, H, P, STRIDE, err, sizeof err);
    if (!a) { CHECK(0, "new: %s", err); return; }
    aaren_patchmodel_init(a, 3);
    aaren_st stv, *st = &stv;
    aaren_st_init(st);
    CHECK(!aaren_patchmodel_to_st(a, st), "to_st");
    aaren_patchmodel *b = aaren_patchmodel_from_st(st, "mem", err, sizeof err);
    CHECK(b != NULL, "from_st: %s", err);
    if (b) {
        float x[S * L], pa[S * H];
        for (int i = 0; i < S * L; i++) x[i] = (float)cos(0.3 * i);
        CHECK(!aaren_patchmodel_reserve(a, S, 0, err, sizeof err) && !aaren_patchmodel_reserve(b, S, 0, err, sizeof err),
              "reserve: %s", err);
        const float *p = aaren_patchmodel_forward(a, x, S, err, sizeof err);
        if (p) memcpy(pa, p, sizeof pa);
        const float *q = aaren_patchmodel_forward(b, x, S, err, sizeof err);
        CHECK(p && q && memcmp(pa, q, sizeof pa) == 0, "the reloaded model forecasts differently");
        CHECK(aaren_patchmodel_forward(b, x, S + 1, err, sizeof err) == NULL && strstr(err, "reserved"),
              "a batch over the reservation: %s", err);
        aaren_patchmodel_free(b);
    }
    /* damaged: a wrong-size tensor, a non-finite value, a missing stride */
    aaren_tensor *t = aaren_st_find(st, "patch.pos");
    if (t) {
        t->data[1] = NAN;
        b = aaren_patchmodel_from_st(st, "ck.safetensors", err, sizeof err);
        CHECK(!b && strstr(err, "ck.safetensors") && strstr(err, "patch.pos"), "a NaN in patch.pos: %s", err);
        aaren_patchmodel_free(b);
        t->data[1] = 0;
        aaren_st_set_meta(st, "patch.len", "5");
        b = aaren_patchmodel_from_st(st, "ck.safetensors", err, sizeof err);
        CHECK(!b && strstr(err, "wrong size"), "patch length that does not match the tensors: %s", err);
        aaren_patchmodel_free(b);
        aaren_st_set_meta(st, "patch.len", "4x");
        b = aaren_patchmodel_from_st(st, "ck.safetensors", err, sizeof err);
        CHECK(!b && strstr(err, "patch.len"), "a malformed patch length: %s", err);
        aaren_patchmodel_free(b);
    }
    aaren_st_free(st);
    aaren_patchmodel_free(a);
    CHECK(aaren_patchmodel_new(&c, 8, 2, 9, 1, err, sizeof err) == NULL && strstr(err, "patch length"),
          "patch longer than the lookback: %s", err);
    CHECK(aaren_patchmodel_new(&c, 8, 2, 4, 5, err, sizeof err) == NULL, "stride over the patch length");
}

int main(void) {
    test_unfold();
    test_gradients(AAREN_ARCH_AAREN);
    test_gradients(AAREN_ARCH_TRANSFORMER);
    test_checkpoint();
    return check_done("test_patch");
}
