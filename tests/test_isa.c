/* The float32 vector kernels on every instruction-set path this host has (portable,
 * AVX2 + FMA, AVX-512F; kernels.h: aaren_isa), each against double at every vector-width
 * edge: lengths 0..70 (around the multiples of 8 and 16 and the 32-element unrolling) and
 * 127..129, inputs at odd offsets (unaligned), matrix rows at odd strides, and nothing
 * written outside the output. A path the host lacks is reported as skipped by name (the
 * test passes only for the paths it ran, and says which); AAREN_ISA's parsing is checked
 * through aaren_isa_set and the dispatch (aaren_gemm, aaren_gelu_f32, LayerNorm, the softmax) against
 * the _isa variants. The AVX-512 one-row product's source is also run on emulated
 * intrinsics where the host lacks AVX-512 (test_isa_emul). */
#define _POSIX_C_SOURCE 200809L   /* setenv */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "isa_ref.h"
#include "base/rng.h"
#include "kernels/kernels.h"
#include "layers/layers.h"
#include "model/model.h"

#define GUARD 8   /* floats after every output that must stay untouched */
static const float SENTINEL = -12345.5f;

static int lengths(int *L) {   /* 0..70 and 127..129 */
    int n = 0;
    for (int i = 0; i <= 70; i++) L[n++] = i;
    for (int i = 127; i <= 129; i++) L[n++] = i;
    return n;
}

static void guard_set(float *p) { for (int g = 0; g < GUARD; g++) p[g] = SENTINEL; }
static int guard_ok(const float *p) {
    for (int g = 0; g < GUARD; g++) if (p[g] != SENTINEL) return 0;
    return 1;
}

/* c[j] = alpha a . B[j, :] + beta c[j] against double; a at an odd offset, rows of B at an
 * odd stride, N and K over every edge */
static void check_row_product(int isa) {
    uint64_t r = 11;
    int L[80];
    const int nl = lengths(L), maxk = 129, ldb = maxk + 3;
    const int Ns[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33};
    float *abuf = malloc(sizeof(float) * (maxk + 1)), *B = malloc(sizeof(float) * 40 * ldb);
    float c[40 + GUARD];
    for (int i = 0; i <= maxk; i++) abuf[i] = (float)aaren_rng_normal(&r);
    for (int i = 0; i < 40 * ldb; i++) B[i] = (float)aaren_rng_normal(&r);
    const float *a = abuf + 1;
    double worst = 0;
    int where_n = 0, where_k = 0;
    for (size_t in = 0; in < sizeof Ns / sizeof Ns[0]; in++)
        for (int ik = 0; ik < nl; ik++) {
            const int N = Ns[in], K = L[ik];
            for (int beta = 0; beta < 2; beta++) {
                for (int j = 0; j < N; j++) c[j] = 0.25f * (float)j - 1;
                guard_set(c + N);
                aaren_row_times_rows_f32_isa(isa, N, K, 0.75f, a, B + 1, ldb, beta ? 0.5f : 0.0f, c);
                CHECK(guard_ok(c + N), "%s one-row product N=%d K=%d: wrote past c[N-1]", aaren_isa_name(isa), N, K);
                const double e = ref_row_product_err(c, a, B + 1, ldb, N, K, beta ? 0.5 : 0.0);
                if (e > worst) { worst = e; where_n = N; where_k = K; }
            }
        }
    /* float32 sums of K <= 129 terms, each rounded: a few ulps of the sum of magnitudes */
    CHECK(worst < 2e-6, "%s one-row product: relative error %.3g at N=%d K=%d", aaren_isa_name(isa), worst,
          where_n, where_k);
    free(abuf);
    free(B);
}

/* LayerNorm row forward (y, mean, rstd) and backward (dx +=) against double, x with a large
 * mean (the two-pass variance must not cancel), at an odd offset */
static void check_layernorm(int isa) {
    uint64_t r = 12;
    int L[80];
    const int nl = lengths(L), maxc = 129;
    float *xb = malloc(sizeof(float) * (maxc + 3)), *w = malloc(sizeof(float) * maxc), *b = malloc(sizeof(float) * maxc);
    float *dy = malloc(sizeof(float) * (maxc + 1)), *y = malloc(sizeof(float) * (maxc + GUARD));
    float *dx = malloc(sizeof(float) * (maxc + GUARD));
    for (int i = 0; i < maxc + 3; i++) xb[i] = 3.0f + (float)aaren_rng_normal(&r);
    for (int i = 0; i < maxc; i++) { w[i] = 1 + 0.5f * (float)aaren_rng_normal(&r); b[i] = 0.3f * (float)aaren_rng_normal(&r); }
    for (int i = 0; i <= maxc; i++) dy[i] = (float)aaren_rng_normal(&r);
    const float *x = xb + 3;
    double wf = 0, wb = 0;
    int at_f = 0, at_b = 0;
    for (int il = 0; il < nl; il++) {
        const int C = L[il];
        if (C == 0) continue;   /* a row has at least one element */
        float mean = 0, rstd = 0;
        guard_set(y + C);
        aaren_layernorm_row_f32_isa(isa, y, &mean, &rstd, x, w, b, C, 1e-5f);
        CHECK(guard_ok(y + C), "%s LayerNorm C=%d: wrote past y[C-1]", aaren_isa_name(isa), C);
        const double e = ref_layernorm_err(y, mean, rstd, x, w, b, C);
        if (e > wf) { wf = e; at_f = C; }
        /* backward from the float mean and rstd (as the layer saves them) */
        for (int c = 0; c < C; c++) dx[c] = 0.5f * (float)c - 2;
        guard_set(dx + C);
        aaren_layernorm_row_backward_f32_isa(isa, dx, dy, x, mean, rstd, w, C);
        CHECK(guard_ok(dx + C), "%s LayerNorm backward C=%d: wrote past dx[C-1]", aaren_isa_name(isa), C);
        const double eb = ref_layernorm_backward_err(dx, dy, x, mean, rstd, w, C, 1.0);
        if (eb > wb) { wb = eb; at_b = C; }
    }
    CHECK(wf < 3e-6, "%s LayerNorm row: relative error %.3g at C=%d", aaren_isa_name(isa), wf, at_f);
    CHECK(wb < 3e-6, "%s LayerNorm row backward: relative error %.3g at C=%d", aaren_isa_name(isa), wb, at_b);
    free(xb); free(w); free(b); free(dy); free(y); free(dx);
}

static double gelu_d(double x) { return 0.5 * x * (1 + erf(x / sqrt(2.0))); }
static double gelu_grad_d(double x) { return 0.5 * (1 + erf(x / sqrt(2.0))) + x * exp(-0.5 * x * x) * 0.39894228040143267794; }

/* GELU(x + b) and d *= GELU'(x + b) against double: every length and offset (with and
 * without a bias), then a dense grid over [-12, 12] and values a diverging model makes */
static void check_gelu(int isa) {
    uint64_t r = 13;
    int L[80];
    const int nl = lengths(L);
    enum { MAXN = 129 };
    float xb[MAXN + 3], bias[MAXN], y[MAXN + GUARD], d[MAXN + GUARD];
    for (int i = 0; i < MAXN + 3; i++) xb[i] = 3.0f * (float)aaren_rng_normal(&r);
    for (int i = 0; i < MAXN; i++) bias[i] = (float)aaren_rng_normal(&r);
    double wf = 0, wg = 0;
    for (int with_b = 0; with_b < 2; with_b++)
        for (int off = 0; off < 3; off++)
            for (int il = 0; il < nl; il++) {
                const int n = L[il];
                const float *x = xb + off, *b = with_b ? bias : NULL;
                guard_set(y + n);
                aaren_bias_gelu_f32_isa(isa, y, x, b, (size_t)n);
                CHECK(guard_ok(y + n), "%s GELU n=%d: wrote past y[n-1]", aaren_isa_name(isa), n);
                for (int i = 0; i < n; i++) d[i] = 1.0f + 0.01f * (float)i;
                guard_set(d + n);
                aaren_gelu_grad_f32_isa(isa, d, x, b, y, (size_t)n);
                CHECK(guard_ok(d + n), "%s GELU gradient n=%d: wrote past d[n-1]", aaren_isa_name(isa), n);
                for (int i = 0; i < n; i++) {
                    const float xf = with_b ? x[i] + b[i] : x[i];
                    const double xd = xf, s = fmax(1.0, fabs(xd));
                    wf = fmax(wf, fabs(y[i] - gelu_d(xd)) / s);
                    wg = fmax(wg, fabs(d[i] - (1.0 + 0.01 * i) * gelu_grad_d(xd)) / ((1.0 + 0.01 * i) * s));
                }
            }
    CHECK(wf <= 2e-7, "%s GELU at the length edges: error %.3g (relative to max(1, |x|))", aaren_isa_name(isa), wf);
    CHECK(wg <= 5e-7, "%s GELU gradient at the length edges: error %.3g", aaren_isa_name(isa), wg);
    /* dense grid */
    const int n = 240001;
    float *x = malloc(sizeof(float) * n), *yy = malloc(sizeof(float) * n), *g = malloc(sizeof(float) * n);
    for (int i = 0; i < n; i++) { x[i] = -12.0f + 24.0f * (float)i / (float)(n - 1); g[i] = 1; }
    aaren_bias_gelu_f32_isa(isa, yy, x, NULL, (size_t)n);
    aaren_gelu_grad_f32_isa(isa, g, x, NULL, yy, (size_t)n);
    double ef = 0, eg = 0, at_f = 0, at_g = 0;
    for (int i = 0; i < n; i++) {
        const double s = fmax(1.0, fabs((double)x[i]));
        const double e1 = fabs(yy[i] - gelu_d(x[i])) / s, e2 = fabs(g[i] - gelu_grad_d(x[i])) / s;
        if (e1 > ef) { ef = e1; at_f = x[i]; }
        if (e2 > eg) { eg = e2; at_g = x[i]; }
    }
    CHECK(ef <= 2e-7, "%s GELU on [-12, 12]: error %.3g at x = %.7g", aaren_isa_name(isa), ef, at_f);
    CHECK(eg <= 5e-7, "%s GELU gradient on [-12, 12]: error %.3g at x = %.7g", aaren_isa_name(isa), eg, at_g);
    printf("  %-9s GELU error %.2g, gradient error %.2g (relative to max(1, |x|), against double)\n",
           aaren_isa_name(isa), ef, eg);
    free(x); free(yy); free(g);
    /* nan, infinities and huge values among ordinary ones, at every lane position */
    const float odd[] = {NAN, INFINITY, -INFINITY, 3e38f, -3e38f, 1e30f, -1e30f, 0.0f, -0.0f, 1e-30f};
    float xs[67], ys[67], gs[67];
    for (int shift = 0; shift < 17; shift++) {
        for (int i = 0; i < 67; i++) {
            xs[i] = (i + shift) % 5 == 0 ? odd[(i / 5) % 10] : 0.37f * (float)(i - 30);
            gs[i] = 1;
        }
        aaren_bias_gelu_f32_isa(isa, ys, xs, NULL, 67);
        aaren_gelu_grad_f32_isa(isa, gs, xs, NULL, ys, 67);
        for (int i = 0; i < 67; i++) {
            const double xd = xs[i], ref = gelu_d(xd);
            const int ok = isnan(ref) ? isnan(ys[i])
                                      : (double)ys[i] == (double)(float)ref || fabs(ys[i] - ref) <= 2e-7 * fmax(1.0, fabs(xd));
            CHECK(ok, "%s GELU at %.9g among other values: %.9g vs %.9g", aaren_isa_name(isa), xd, (double)ys[i], ref);
            if (isfinite(xd) && fabs(xd) < 1e19) {   /* beyond, x^2 overflows double's meaning */
                const double gr = gelu_grad_d(xd);
                CHECK(fabs(gs[i] - gr) <= 5e-7 * fmax(1.0, fabs(xd)), "%s GELU gradient at %.9g: %.9g vs %.9g",
                      aaren_isa_name(isa), xd, (double)gs[i], gr);
            } else if (isnan(xd)) {
                CHECK(isnan(gs[i]), "%s GELU gradient at nan: %.9g, not nan", aaren_isa_name(isa), (double)gs[i]);
            }
        }
    }
}

/* the layers that call these kernels, float32 against float64 on the same inputs (the path
 * set by aaren_isa_set): the feed-forward's forward and backward (bias + GELU, GELU's gradient
 * at f1 + b1) and LayerNorm's backward, at widths around the lane edges */
static void check_layers_f32(int isa) {
    const int widths[] = {1, 7, 15, 16, 17, 33, 130};
    for (size_t iw = 0; iw < sizeof widths / sizeof *widths; iw++) {
        const int M = 3, D = 5, F = widths[iw];
        const size_t np = 2 * (size_t)D * F + F + D;
        uint64_t r = 41 + iw;
        double *pd = calloc(np, sizeof(double)), *gd = calloc(np, sizeof(double));
        float *pf = calloc(np, sizeof(float)), *gf = calloc(np, sizeof(float));
        double xd[3 * 5], od[3 * 5], dod[3 * 5], dxd[3 * 5], *f1d = calloc((size_t)M * F, sizeof(double));
        double *fad = calloc((size_t)M * F, sizeof(double)), *dfad = calloc((size_t)M * F, sizeof(double));
        float xf[3 * 5], of[3 * 5], dof[3 * 5], dxf[3 * 5], *f1f = calloc((size_t)M * F, sizeof(float));
        float *faf = calloc((size_t)M * F, sizeof(float)), *dfaf = calloc((size_t)M * F, sizeof(float));
        for (size_t i = 0; i < np; i++) pd[i] = pf[i] = (float)(0.5 * aaren_rng_normal(&r));
        for (int i = 0; i < M * D; i++) {
            xd[i] = xf[i] = (float)aaren_rng_normal(&r);
            dod[i] = dof[i] = (float)aaren_rng_normal(&r);
            dxd[i] = dxf[i] = 0;
        }
        aaren_block_params_f64 bd = {0}, bgd = {0};
        aaren_block_params bf = {0}, bgf = {0};
        bd.w1 = pd; bd.b1 = pd + (size_t)D * F; bd.w2 = bd.b1 + F; bd.b2 = bd.w2 + (size_t)D * F;
        bf.w1 = pf; bf.b1 = pf + (size_t)D * F; bf.w2 = bf.b1 + F; bf.b2 = bf.w2 + (size_t)D * F;
        bgd.w1 = gd; bgd.b1 = gd + (size_t)D * F; bgd.w2 = bgd.b1 + F; bgd.b2 = bgd.w2 + (size_t)D * F;
        bgf.w1 = gf; bgf.b1 = gf + (size_t)D * F; bgf.w2 = bgf.b1 + F; bgf.b2 = bgf.w2 + (size_t)D * F;
        aaren_ffn_forward_f64(od, f1d, fad, xd, &bd, M, D, F, AAREN_GELU);
        aaren_ffn_forward(of, f1f, faf, xf, &bf, M, D, F, AAREN_GELU);
        aaren_ffn_backward_f64(dxd, &bgd, dod, xd, f1d, fad, dfad, &bd, M, D, F, AAREN_GELU);
        aaren_ffn_backward(dxf, &bgf, dof, xf, f1f, faf, dfaf, &bf, M, D, F, AAREN_GELU);
        double e = 0, eg = 0, sg = 0, sx = 0;
        for (int i = 0; i < M * D; i++) { e = fmax(e, fabs(of[i] - od[i]) / fmax(1, fabs(od[i]))); sx = fmax(sx, fabs(dxd[i])); }
        for (size_t i = 0; i < np; i++) sg = fmax(sg, fabs(gd[i]));
        for (size_t i = 0; i < np; i++) eg = fmax(eg, fabs(gf[i] - gd[i]));
        for (int i = 0; i < M * D; i++) eg = fmax(eg, fabs(dxf[i] - dxd[i]) * sg / fmax(sx, 1e-30));
        CHECK(e < 1e-5 && eg < 1e-5 * fmax(1, sg), "%s float32 feed-forward (GELU, F=%d) against float64: output %.3g, "
              "gradients %.3g (scale %.3g)", aaren_isa_name(isa), F, e, eg, sg);
        free(pd); free(gd); free(pf); free(gf); free(f1d); free(fad); free(dfad); free(f1f); free(faf); free(dfaf);
    }
    /* LayerNorm backward [M, C], both precisions from the float32 forward's mean and rstd */
    for (size_t iw = 0; iw < sizeof widths / sizeof *widths; iw++) {
        const int M = 3, C = widths[iw];
        uint64_t r = 51 + iw;
        float *xf = malloc(sizeof(float) * M * C), *yf = malloc(sizeof(float) * M * C), *dyf = malloc(sizeof(float) * M * C);
        float *dxf = calloc((size_t)M * C, sizeof(float)), *wf = malloc(sizeof(float) * C), *bf = malloc(sizeof(float) * C);
        float *dwf = calloc(C, sizeof(float)), *dbf = calloc(C, sizeof(float)), mf[3], rf[3];
        double *xd = malloc(sizeof(double) * M * C), *dyd = malloc(sizeof(double) * M * C), *dxd = calloc((size_t)M * C, sizeof(double));
        double *wd = malloc(sizeof(double) * C), *dwd = calloc(C, sizeof(double)), *dbd = calloc(C, sizeof(double)), md[3], rd[3];
        for (int i = 0; i < M * C; i++) {
            xd[i] = xf[i] = 2.0f + (float)aaren_rng_normal(&r);
            dyd[i] = dyf[i] = (float)aaren_rng_normal(&r);
        }
        for (int c = 0; c < C; c++) { wd[c] = wf[c] = 1 + 0.3f * (float)aaren_rng_normal(&r); bf[c] = 0.1f; }
        aaren_layernorm_forward(yf, mf, rf, xf, wf, bf, M, C, 1e-5f);
        for (int i = 0; i < M; i++) { md[i] = mf[i]; rd[i] = rf[i]; }
        aaren_layernorm_backward(dxf, dwf, dbf, dyf, xf, mf, rf, wf, M, C);
        aaren_layernorm_backward_f64(dxd, dwd, dbd, dyd, xd, md, rd, wd, M, C);
        double e = 0, s = 0;
        for (int i = 0; i < M * C; i++) { e = fmax(e, fabs(dxf[i] - dxd[i])); s = fmax(s, fabs(dxd[i])); }
        for (int c = 0; c < C; c++) { e = fmax(e, fabs(dwf[c] - dwd[c])); s = fmax(s, fabs(dwd[c])); }
        CHECK(e <= 1e-5 * fmax(s, 1e-3), "%s float32 LayerNorm backward (C=%d) against float64: %.3g (scale %.3g)",
              aaren_isa_name(isa), C, e, s);
        free(xf); free(yf); free(dyf); free(dxf); free(wf); free(bf); free(dwf); free(dbf);
        free(xd); free(dyd); free(dxd); free(wd); free(dwd); free(dbd);
    }
}

/* the categorical's NLL and its gradient against double: every length 1..70 and 127..129
 * plus the Wiki head's 8,227, logits at odd offsets and of several spreads (the sum's
 * lanes, its tail and exp_f32's whole range), the label at every end; nothing written past
 * dz; a nan or an infinity anywhere gives nan. Errors are relative to 1 + |log sum exp|:
 * float32's rounding of it (an ulp of 180 is 1.5e-5) moves every probability that much. */
static void check_softmax(int isa) {
    uint64_t r = 15;
    int L[80];
    const int nl = lengths(L);
    enum { MAXC = 8227 };
    float *zb = malloc(sizeof(float) * (MAXC + 1)), *dz = malloc(sizeof(float) * (MAXC + GUARD));
    double worst_nll = 0, worst_dz = 0;
    int at_nll = 0, at_dz = 0;
    const float spreads[] = {0.01f, 1.0f, 8.0f, 60.0f};
    for (int il = 0; il <= nl; il++) {
        const int C = il < nl ? L[il] : MAXC;
        if (C < 1) continue;
        for (size_t is = 0; is < sizeof spreads / sizeof spreads[0]; is++) {
            float *z = zb + 1;
            for (int k = 0; k < C; k++) z[k] = spreads[is] * (float)aaren_rng_normal(&r) + 3.0f;
            const int labels[3] = {0, C / 2, C - 1};
            for (int li = 0; li < 3; li++) {
                const int label = labels[li];
                guard_set(dz + C);
                const float nll = aaren_softmax_nll_f32_isa(isa, z, C, label, dz);
                CHECK(guard_ok(dz + C), "%s softmax C=%d: wrote past dz[C-1]", aaren_isa_name(isa), C);
                double m = z[0], S = 0;
                for (int k = 1; k < C; k++) m = fmax(m, z[k]);
                for (int k = 0; k < C; k++) S += exp((double)z[k] - m);
                const double lse = m + log(S), ref = lse - z[label];
                const double e = fabs(nll - ref) / (1 + fabs(lse));
                if (e > worst_nll) { worst_nll = e; at_nll = C; }
                for (int k = 0; k < C; k++) {
                    const double p = exp((double)z[k] - lse) - (k == label);
                    const double ed = fabs(dz[k] - p) / (1 + fabs(lse));   /* lse's float32 rounding */
                    if (ed > worst_dz) { worst_dz = ed; at_dz = C; }
                }
                const float nll2 = aaren_softmax_nll_f32_isa(isa, z, C, label, NULL);
                CHECK(nll2 == nll, "%s softmax C=%d: the NLL without dz (%.9g) differs from with it (%.9g)",
                      aaren_isa_name(isa), C, nll2, nll);
            }
        }
        /* a nan or an infinity at the first, a middle and the last logit */
        const float bad[3] = {NAN, INFINITY, -INFINITY};
        for (int b = 0; b < 3; b++)
            for (int w = 0; w < 3; w++) {
                float *z = zb + 1;
                for (int k = 0; k < C; k++) z[k] = (float)aaren_rng_normal(&r);
                z[w == 0 ? 0 : w == 1 ? C / 2 : C - 1] = bad[b];
                const float nll = aaren_softmax_nll_f32_isa(isa, z, C, 0, dz);
                CHECK(isnan(nll) && isnan(dz[C - 1]) && isnan(dz[0]), "%s softmax C=%d: a %g logit gave NLL %g, not nan",
                      aaren_isa_name(isa), C, bad[b], nll);
            }
    }
    CHECK(worst_nll < 2e-6, "%s softmax NLL: relative error %.3g at C=%d", aaren_isa_name(isa), worst_nll, at_nll);
    CHECK(worst_dz < 2e-7, "%s softmax gradient: error %.3g (relative to 1 + |lse|) at C=%d", aaren_isa_name(isa), worst_dz, at_dz);
    printf("test_isa: %s softmax NLL worst relative error %.2g, gradient %.2g\n", aaren_isa_name(isa), worst_nll, worst_dz);
    free(zb); free(dz);
}

/* the dispatched entry points take the path aaren_isa_set chose */
static void check_dispatch(int isa) {
    CHECK(aaren_isa_set(isa) == 0 && aaren_isa() == isa, "aaren_isa_set(%s) not taken", aaren_isa_name(isa));
    uint64_t r = 14;
    float a[37], B[5 * 37], c1[5], c2[5], x[37], y1[37], y2[37], w[37], b[37];
    float m1, m2, s1, s2;
    for (int i = 0; i < 37; i++) { a[i] = x[i] = (float)aaren_rng_normal(&r); w[i] = 1; b[i] = 0; }
    for (int i = 0; i < 5 * 37; i++) B[i] = (float)aaren_rng_normal(&r);
    aaren_gemm(0, 1, 1, 5, 37, 1, a, 37, B, 37, 0, c1, 5);
    aaren_row_times_rows_f32_isa(isa, 5, 37, 1, a, B, 37, 0, c2);
    CHECK(!memcmp(c1, c2, sizeof c1), "%s: aaren_gemm's one-row product is not that path's", aaren_isa_name(isa));
    aaren_gelu_f32(y1, x, 37);
    aaren_bias_gelu_f32_isa(isa, y2, x, NULL, 37);
    CHECK(!memcmp(y1, y2, sizeof y1), "%s: aaren_gelu_f32 is not that path's", aaren_isa_name(isa));
    aaren_layernorm_forward(y1, &m1, &s1, x, w, b, 1, 37, 1e-5f);
    aaren_layernorm_row_f32_isa(isa, y2, &m2, &s2, x, w, b, 37, 1e-5f);
    CHECK(!memcmp(y1, y2, sizeof y1) && m1 == m2 && s1 == s2, "%s: aaren_layernorm_forward is not that path's",
          aaren_isa_name(isa));
    const float n1 = aaren_softmax_nll(x, 37, 5, y1), n2 = aaren_softmax_nll_f32_isa(isa, x, 37, 5, y2);
    CHECK(n1 == n2 && !memcmp(y1, y2, sizeof y1), "%s: aaren_softmax_nll is not that path's", aaren_isa_name(isa));
}

int main(void) {
    /* AAREN_ISA is read at the first call: the portable path, which every host has */
    setenv("AAREN_ISA", "scalar", 1);
    CHECK(aaren_isa() == AAREN_ISA_SCALAR, "AAREN_ISA=scalar: the path in use is %s", aaren_isa_name(aaren_isa()));
    const int best = aaren_isa_supported(AAREN_ISA_AVX512) ? AAREN_ISA_AVX512
                   : aaren_isa_supported(AAREN_ISA_AVX2)   ? AAREN_ISA_AVX2 : AAREN_ISA_SCALAR;
    int ran = 0;
    printf("test_isa: the CPU's best path is %s\n", aaren_isa_name(best));
    for (int isa = AAREN_ISA_SCALAR; isa <= AAREN_ISA_AVX512; isa++) {
        if (!aaren_isa_supported(isa)) {
            printf("test_isa: %s path SKIPPED: this CPU or build lacks it (not tested here)\n", aaren_isa_name(isa));
            CHECK(aaren_isa_set(isa) == -1, "aaren_isa_set(%s) accepted a path the CPU lacks", aaren_isa_name(isa));
            continue;
        }
        printf("test_isa: %s path\n", aaren_isa_name(isa));
        check_row_product(isa);
        check_layernorm(isa);
        check_gelu(isa);
        check_softmax(isa);
        check_dispatch(isa);   /* sets the path for what follows */
        check_layers_f32(isa);
        ran++;
    }
    CHECK(aaren_isa_set(7) == -1 && aaren_isa_set(-1) == -1, "aaren_isa_set accepted an unknown path");
    aaren_isa_set(best);
    printf("test_isa: %d of 3 paths run\n", ran);
    return check_done("test_isa");
}
