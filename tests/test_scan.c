/* Attention-as-RNN kernels: naive / fold / scan parity against a float64 reference,
 * scan backward against the float64 backward and finite differences, hard inputs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kernels/kernels.h"
#include "base/rng.h"

/* ||a - b||_inf / ||b||_inf over n values (b double reference). */
static double relerr(const float *a, const double *b, size_t n) {
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        s = fmax(s, fabs(b[i]));
        if (!isfinite(a[i])) return INFINITY;
    }
    return s > 0 ? d / s : d;
}

enum { SC_RANDOM, SC_WIDE, SC_EQUAL, SC_MASKED };
static const char *sc_name[] = {"random", "wide(-1e4..1e4)", "all-equal", "masked"};

typedef struct {
    int B, H, N, dh;
    size_t ns, nv;
    float *s, *v, *g, *o, *m, *u, *ds, *dv, *scr;
    double *sd, *vd, *gd, *od, *md, *ud, *dsd, *dvd, *scrd;
} problem;

static void make(problem *p, int B, int H, int N, int dh, int kind, uint64_t seed) {
    p->B = B; p->H = H; p->N = N; p->dh = dh;
    p->ns = (size_t)B * H * N;
    p->nv = (size_t)B * N * H * dh;
    p->s = malloc(p->ns * 4); p->m = malloc(p->ns * 4); p->u = malloc(p->ns * 4); p->ds = malloc(p->ns * 4);
    p->v = malloc(p->nv * 4); p->g = malloc(p->nv * 4); p->o = malloc(p->nv * 4); p->dv = malloc(p->nv * 4);
    p->sd = malloc(p->ns * 8); p->md = malloc(p->ns * 8); p->ud = malloc(p->ns * 8); p->dsd = malloc(p->ns * 8);
    p->vd = malloc(p->nv * 8); p->gd = malloc(p->nv * 8); p->od = malloc(p->nv * 8); p->dvd = malloc(p->nv * 8);
    p->scr = malloc(aaren_attn_scratch_len(dh, 64) * 4);
    p->scrd = malloc(aaren_attn_scratch_len_f64(dh, 64) * 8);
    uint64_t r = seed;
    for (size_t i = 0; i < p->ns; i++) {
        double x = 0;
        switch (kind) {
        case SC_RANDOM: x = 3 * (float)aaren_rng_normal(&r); break;
        case SC_WIDE: x = (2 * aaren_rng_uniform(&r) - 1) * 1e4; break;
        case SC_EQUAL: x = 0.75; break;
        case SC_MASKED: x = aaren_rng_uniform(&r) < 0.3 ? -INFINITY : (float)aaren_rng_normal(&r); break;
        }
        p->s[i] = (float)x;
        p->sd[i] = p->s[i];
    }
    /* masked: make the first token of the first sequence masked too (o = 0 there) */
    if (kind == SC_MASKED) { p->s[0] = -INFINITY; p->sd[0] = -INFINITY; }
    for (size_t i = 0; i < p->nv; i++) {
        p->v[i] = (float)(float)aaren_rng_normal(&r); p->vd[i] = p->v[i];
        p->g[i] = (float)(float)aaren_rng_normal(&r); p->gd[i] = p->g[i];
    }
}

static void destroy(problem *p) {
    float *f[] = {p->s, p->v, p->g, p->o, p->m, p->u, p->ds, p->dv, p->scr};
    double *d[] = {p->sd, p->vd, p->gd, p->od, p->md, p->ud, p->dsd, p->dvd, p->scrd};
    for (int i = 0; i < 9; i++) { free(f[i]); free(d[i]); }
}

static const double TOL = 1e-5;

/* ds_t = e_t (v_t . R_t - Q_t) is a difference of two terms that can cancel (a saturated
 * softmax has ds ~ 0 while both terms are O(1)); float32 can only be asked to get it
 * right relative to those terms. From the reference: e_t v_t.R_t = v_t . dv_t and
 * e_t Q_t = v_t . dv_t - ds_t. Returns ||ds - ref||_inf / max_t(|e v.R| + |e Q|),
 * which is the plain relative error whenever no cancellation happens. */
static double ds_err(const problem *p) {
    const int D = p->H * p->dh;
    double d = 0, scale = 0;
    for (int b = 0; b < p->B; b++)
        for (int h = 0; h < p->H; h++)
            for (int t = 0; t < p->N; t++) {
                const size_t si = ((size_t)b * p->H + h) * p->N + t;
                const size_t vi = ((size_t)b * p->N + t) * D + (size_t)h * p->dh;
                double vr = 0;
                for (int i = 0; i < p->dh; i++) vr += p->vd[vi + i] * p->dvd[vi + i];
                scale = fmax(scale, fabs(vr) + fabs(vr - p->dsd[si]));
                if (!isfinite(p->ds[si])) return INFINITY;
                d = fmax(d, fabs(p->ds[si] - p->dsd[si]));
            }
    return scale > 0 ? d / scale : d;
}

/* Forward: float naive / fold / scan (auto and forced chunks) against the float64 fold
 * (itself checked against the float64 naive where N allows); backward: float scan
 * backward (auto and chunked) against the float64 backward. */
static void parity(int B, int H, int N, int dh, int kind, uint64_t seed) {
    problem p;
    make(&p, B, H, N, dh, kind, seed);
    char tag[160];
    snprintf(tag, sizeof tag, "B=%d H=%d N=%d dh=%d scores=%s", B, H, N, dh, sc_name[kind]);
    aaren_attn_fold_f64(p.od, p.md, p.ud, p.sd, p.vd, B, H, N, dh, p.scrd);
    if ((double)N * N * B * H < 1e8) {
        double *on = malloc(p.nv * 8);
        aaren_attn_naive_f64(on, p.sd, p.vd, B, H, N, dh);
        double d = 0, s = 0;
        for (size_t i = 0; i < p.nv; i++) { d = fmax(d, fabs(on[i] - p.od[i])); s = fmax(s, fabs(on[i])); }
        CHECK(d <= 1e-12 * (s > 0 ? s : 1), "%s: float64 fold vs float64 naive differ by %g", tag, d);
        free(on);
        aaren_attn_naive(p.o, p.s, p.v, B, H, N, dh);
        double e = relerr(p.o, p.od, p.nv);
        CHECK(e <= TOL, "%s: naive rel err %.3g", tag, e);
    }
    aaren_attn_fold(p.o, p.m, p.u, p.s, p.v, B, H, N, dh, p.scr);
    double e = relerr(p.o, p.od, p.nv);
    CHECK(e <= TOL, "%s: fold rel err %.3g", tag, e);
    const int chunk_opts[] = {0, 3, 64};
    for (int ci = 0; ci < 3; ci++) {
        aaren_attn_scan(p.o, p.m, p.u, p.s, p.v, B, H, N, dh, chunk_opts[ci], p.scr);
        e = relerr(p.o, p.od, p.nv);
        CHECK(e <= TOL, "%s: scan (chunks %d) rel err %.3g", tag, chunk_opts[ci], e);
        if (N > 100000) printf("  %s scan chunks %d: rel err %.2e\n", tag, chunk_opts[ci], e);
    }
    /* backward */
    aaren_attn_scan_backward_f64(p.dsd, p.dvd, p.gd, p.od, p.md, p.ud, p.sd, p.vd, B, H, N, dh, 1, p.scrd);
    for (int ci = 0; ci < 3; ci++) {
        aaren_attn_scan(p.o, p.m, p.u, p.s, p.v, B, H, N, dh, chunk_opts[ci], p.scr);
        aaren_attn_scan_backward(p.ds, p.dv, p.g, p.o, p.m, p.u, p.s, p.v, B, H, N, dh, chunk_opts[ci], p.scr);
        double eds = ds_err(&p), edv = relerr(p.dv, p.dvd, p.nv);
        CHECK(eds <= TOL && edv <= TOL, "%s: scan backward (chunks %d) rel err ds %.3g dv %.3g", tag,
              chunk_opts[ci], eds, edv);
        if (N > 100000) printf("  %s backward chunks %d: ds %.2e dv %.2e\n", tag, chunk_opts[ci], eds, edv);
    }
    /* the float64 chunked backward equals the float64 sequential one */
    {
        double *ds2 = malloc(p.ns * 8), *dv2 = malloc(p.nv * 8);
        aaren_attn_scan_backward_f64(ds2, dv2, p.gd, p.od, p.md, p.ud, p.sd, p.vd, B, H, N, dh, 5, p.scrd);
        double d = 0, s = 0;
        for (size_t i = 0; i < p.ns; i++) { d = fmax(d, fabs(ds2[i] - p.dsd[i])); s = fmax(s, fabs(p.dsd[i])); }
        CHECK(d <= 1e-12 * (s > 0 ? s : 1), "%s: float64 chunked vs sequential ds differ by %g", tag, d);
        free(ds2); free(dv2);
    }
    destroy(&p);
}

/* Finite differences in double of L = sum(g . o) with respect to s and v. */
static void fd_check(int N, int dh, int kind) {
    problem p;
    make(&p, 1, 2, N, dh, kind, 99 + N);
    const int B = 1, H = 2;
    aaren_attn_fold_f64(p.od, p.md, p.ud, p.sd, p.vd, B, H, N, dh, p.scrd);
    aaren_attn_scan_backward_f64(p.dsd, p.dvd, p.gd, p.od, p.md, p.ud, p.sd, p.vd, B, H, N, dh, 2, p.scrd);
    double *o2 = malloc(p.nv * 8);
    const double h = 1e-6;
    double worst = 0;
    for (int which = 0; which < 2; which++) {
        double *x = which ? p.vd : p.sd;
        const double *an = which ? p.dvd : p.dsd;
        const size_t n = which ? p.nv : p.ns;
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(x[i])) continue;
            const double x0 = x[i];
            double l[2];
            for (int sgn = 0; sgn < 2; sgn++) {
                x[i] = x0 + (sgn ? -h : h);
                aaren_attn_naive_f64(o2, p.sd, p.vd, B, H, N, dh);
                l[sgn] = 0;
                for (size_t j = 0; j < p.nv; j++) l[sgn] += p.gd[j] * o2[j];
            }
            x[i] = x0;
            const double fd = (l[0] - l[1]) / (2 * h);
            const double err = fabs(fd - an[i]) / fmax(1.0, fabs(fd));
            if (err > worst) worst = err;
        }
    }
    CHECK(worst < 1e-6, "finite differences N=%d dh=%d scores=%s: worst error %.3g", N, dh, sc_name[kind], worst);
    free(o2);
    destroy(&p);
}

/* The Transformer's blocked causal attention keeps causality with a non-finite token: a NaN
 * or inf in the value of token j (inside a 64-row block) leaves every earlier row finite and
 * equal to the naive path, forward and, in the backward's dS, the earlier rows' gradients. */
static void causal_nonfinite(float bad) {
    const int B = 1, H = 2, N = 100, dh = 4, D = H * dh, j = 70;
    const size_t n = (size_t)B * N * D;
    float *q = malloc(n * sizeof *q), *k = malloc(n * sizeof *k), *v = malloc(n * sizeof *v);
    float *o = malloc(n * sizeof *o), *on = malloc(n * sizeof *on), *g = malloc(n * sizeof *g);
    float *dq = malloc(n * sizeof *dq), *dk = malloc(n * sizeof *dk), *dv = malloc(n * sizeof *dv);
    float *lse = malloc((size_t)B * H * N * sizeof *lse);
    float *scr = malloc(aaren_causal_attn_scratch_len(N) * sizeof *scr);
    uint64_t r = 99;
    for (size_t i = 0; i < n; i++) {
        q[i] = (float)aaren_rng_normal(&r);
        k[i] = (float)aaren_rng_normal(&r);
        v[i] = (float)aaren_rng_normal(&r);
        g[i] = (float)aaren_rng_normal(&r);
    }
    v[(size_t)j * D + 1] = bad;   /* head 0, token j */
    aaren_causal_attn_forward(o, lse, q, k, v, B, H, N, dh, scr);
    aaren_causal_attn_naive(on, q, k, v, B, H, N, dh);
    double worst = 0;
    int finite_before = 1, bad_after = 1;
    for (int t = 0; t < N; t++)
        for (int c = 0; c < dh; c++) {   /* head 0 */
            const float a = o[(size_t)t * D + c], b = on[(size_t)t * D + c];
            if (t < j) {
                finite_before &= isfinite(a) != 0;
                if (isfinite(a)) worst = fmax(worst, fabs((double)a - b));
            } else if (c == 1) bad_after &= !isfinite(a);
        }
    CHECK(finite_before && worst < 1e-5, "causal attention, value %g at token %d: rows before it finite (%d) "
          "and equal to naive (worst %.3g)", (double)bad, j, finite_before, worst);
    CHECK(bad_after, "causal attention, value %g at token %d: rows from it on see it", (double)bad, j);
    aaren_causal_attn_backward(dq, dk, dv, g, q, k, v, o, lse, B, H, N, dh, scr);
    int dq_before = 1;
    for (int t = 0; t < j; t++)
        for (int c = 0; c < dh; c++) dq_before &= isfinite(dq[(size_t)t * D + c]) != 0;
    CHECK(dq_before, "causal attention backward, value %g at token %d: query gradients of earlier rows finite",
          (double)bad, j);
    free(q); free(k); free(v); free(o); free(on); free(g); free(dq); free(dk); free(dv); free(lse); free(scr);
}

int main(void) {
    causal_nonfinite(NAN);
    causal_nonfinite(INFINITY);
    const int Ns[] = {1, 2, 3, 1000};
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 4; i++) parity(2, 3, Ns[i], 5, k, 1000 + k * 10 + i);
    parity(64, 4, 33, 8, SC_RANDOM, 7);   /* many short sequences */
    for (int k = 0; k < 4; k++) parity(1, 1, 1000000, 4, k, 4242 + k);   /* one very long */
    for (int k = 0; k < 4; k++) { fd_check(1, 3, k); fd_check(2, 3, k); fd_check(17, 3, k); }
    /* a single token: output equals its value */
    {
        float s = 123.f, v[3] = {1, -2, 3}, o[3], m, u, scr[64];
        aaren_attn_scan(o, &m, &u, &s, v, 1, 1, 1, 3, 0, scr);
        CHECK(o[0] == 1 && o[1] == -2 && o[2] == 3 && m == 123.f && u == 1, "single token output");
    }
    return check_done("test_scan");
}
