/* The double references of the vector kernels' tests (test_isa on the host's paths,
 * test_isa_emul on emulated AVX-512): each returns the largest relative error of a float32
 * result against the same computation in double. */
#ifndef AAREN_TESTS_ISA_REF_H
#define AAREN_TESTS_ISA_REF_H
#include <math.h>

/* c[j] against 0.75 a . B[j, :K] + beta c0_j, c0_j = 0.25 j - 1 (what c[j] held before the
 * product), for j < N; B's rows ldb apart. Relative to the sum of the terms' magnitudes. */
static inline double ref_row_product_err(const float *c, const float *a, const float *B, int ldb, int N, int K,
                                         double beta) {
    double worst = 0;
    for (int j = 0; j < N; j++) {
        double ref = 0, mag = 0;
        for (int k = 0; k < K; k++) {
            const double t = (double)a[k] * B[(size_t)j * ldb + k];
            ref += t;
            mag += fabs(t);
        }
        const double c0 = 0.25 * j - 1;
        ref = 0.75 * ref + beta * c0;
        const double e = fabs(c[j] - ref) / (0.75 * mag + fabs(beta * c0) + 1e-30);
        if (e > worst) worst = e;
    }
    return worst;
}

/* A LayerNorm row's forward, y = (x - mean) rstd w + b with its mean and rstd (eps 1e-5),
 * against the two-pass statistics in double. */
static inline double ref_layernorm_err(const float *y, float mean, float rstd, const float *x, const float *w,
                                       const float *b, int C) {
    double mu = 0, var = 0;
    for (int c = 0; c < C; c++) mu += x[c];
    mu /= C;
    for (int c = 0; c < C; c++) var += (x[c] - mu) * (x[c] - mu);
    var /= C;
    const double rs = 1 / sqrt(var + 1e-5);
    double e = fabs(mean - mu) / (fabs(mu) + 1) + fabs(rstd - rs) / rs;
    for (int c = 0; c < C; c++) {
        const double xh = (x[c] - mu) * rs;
        e = fmax(e, fabs(y[c] - (xh * w[c] + b[c])) / (fabs(xh * w[c]) + fabs(b[c]) + 1));
    }
    return e;
}

/* The backward, dx = dx0 + rstd (w dy - mean(w dy) - xh mean(w dy xh)) with xh from the
 * float mean and rstd (as the layer saves them), dx0[c] = d0_scale (0.5 c - 2). */
static inline double ref_layernorm_backward_err(const float *dx, const float *dy, const float *x, float mean, float rstd,
                                                const float *w, int C, double d0_scale) {
    double sa = 0, sb = 0, scale = 0, worst = 0;
    for (int c = 0; c < C; c++) {
        const double wd = (double)w[c] * dy[c], xh = ((double)x[c] - mean) * rstd;
        sa += wd;
        sb += wd * xh;
        scale += fabs(wd) * (1 + fabs(xh));
    }
    sa /= C;
    sb /= C;
    scale = scale / C * rstd;
    for (int c = 0; c < C; c++) {
        const double xh = ((double)x[c] - mean) * rstd, d0 = d0_scale * (0.5 * c - 2);
        const double ref = d0 + rstd * ((double)w[c] * dy[c] - sa - xh * sb);
        const double e = fabs(dx[c] - ref) / (fabs(d0) + rstd * fabs((double)w[c] * dy[c]) + scale + 1e-30);
        if (e > worst) worst = e;
    }
    return worst;
}
#endif
