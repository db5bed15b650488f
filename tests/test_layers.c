/* Every layer's backward against central finite differences in float64 (Aaren attention and
 * blocks with the key and value projections as one product and as two, and the two against
 * each other; the Transformer's attention and blocks with the query, key and value projections
 * as one product and as three, likewise), the whole two-layer stack of both architectures (pre-
 * and post-norm; the stack's blocks use the fused products) likewise, the float32 feed-forward
 * (bias and activation in one pass) against float64, and the float32 matrix product (BLAS when
 * built in) against the portable loops. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "model/model.h"
#include "base/rng.h"

typedef aaren_block_params_f64 bparams;

enum { K_LINEAR, K_LAYERNORM, K_GELU, K_RELU, K_FFN, K_AAREN_ATTN, K_CAUSAL_ATTN, K_BLOCK };
static const char *kname[] = {"linear", "layernorm", "gelu", "relu", "feed-forward",
                              "aaren attention", "causal attention", "block"};

typedef struct {
    int kind, B, N, D, H, F, arch, prenorm;
    double *x, *dx, *G, *out, *pbuf, *gbuf, *kscr;
    size_t np, nx, nout;
    bparams p, g;
    aaren_block_acts_f64 a;
    aaren_block_grads_f64 w;
    aaren_block_shape_f64 sh;
} lcase;

static double *dalloc(size_t n) { return calloc(n ? n : 1, sizeof(double)); }

static int g_fused;   /* setup gives kv, dkv and qkv, dqkv: Aaren's one key-value product and
                       * the Transformer's one query-key-value product */

static void fill(double *x, size_t n, uint64_t *r, double scale) {
    for (size_t i = 0; i < n; i++) x[i] = scale * aaren_rng_normal(r);
}

/* Carves the block parameters (all of them, whatever the kind) from one buffer. */
static void carve(bparams *p, double *buf, int D, int F) {
    double **slots[] = {&p->query, &p->wq, &p->bq, &p->wk, &p->bk, &p->wv, &p->bv, &p->wo, &p->bo,
                        &p->ln1_w, &p->ln1_b, &p->ln2_w, &p->ln2_b, &p->w1, &p->b1, &p->w2, &p->b2};
    const size_t sz[] = {D, (size_t)D * D, D, (size_t)D * D, D, (size_t)D * D, D, (size_t)D * D, D,
                         D, D, D, D, (size_t)F * D, F, (size_t)D * F, D};
    for (int i = 0; i < 17; i++) { *slots[i] = buf; buf += sz[i]; }
}

static void setup(lcase *c, int kind, int B, int N, int D, int H, int F, int arch, int prenorm, uint64_t seed) {
    memset(c, 0, sizeof *c);
    c->kind = kind; c->B = B; c->N = N; c->D = D; c->H = H; c->F = F; c->arch = arch; c->prenorm = prenorm;
    const size_t M = (size_t)B * N, n = M * D, nf = M * F, nh = M * H;
    c->np = 4 * (size_t)D * D + 2 * (size_t)D * F + 10 * (size_t)D + F;
    c->pbuf = dalloc(c->np); c->gbuf = dalloc(c->np);
    carve(&c->p, c->pbuf, D, F);
    carve(&c->g, c->gbuf, D, F);
    c->nx = n;
    c->nout = kind == K_LINEAR ? nf : n;
    c->x = dalloc(n); c->dx = dalloc(n); c->G = dalloc(c->nout); c->out = dalloc(c->nout);
    uint64_t r = seed;
    fill(c->pbuf, c->np, &r, 0.4);
    for (int i = 0; i < D; i++) { c->p.ln1_w[i] += 1; c->p.ln2_w[i] += 1; }
    fill(c->x, n, &r, 1.0);
    fill(c->G, c->nout, &r, 1.0);
    aaren_block_acts_f64 *a = &c->a;
    double **big[] = {&a->a_in, &a->attn.k, &a->attn.v, &a->attn.att, &a->attn_out, &a->r1, &a->h,
                      &a->f_in, &a->ffn_out, &a->r2, &c->w.g1, &c->w.g2, &c->w.g3,
                      &c->w.attn.datt, &c->w.attn.dq, &c->w.attn.dk, &c->w.attn.dv, &a->attn.q};
    for (size_t i = 0; i < sizeof big / sizeof *big; i++) *big[i] = dalloc(n);
    a->y = prenorm ? NULL : dalloc(n);    /* pre-norm blocks point y at r2 */
    double **rows[] = {&a->a_mean, &a->a_rstd, &a->h_mean, &a->h_rstd, &a->f_mean, &a->f_rstd,
                       &a->y_mean, &a->y_rstd};
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) *rows[i] = dalloc(M);
    a->f1 = dalloc(nf); a->fa = dalloc(nf); c->w.gf = dalloc(nf);
    a->attn.s = dalloc(nh); a->attn.m = dalloc(nh); a->attn.u = dalloc(nh); c->w.attn.ds = dalloc(nh);
    c->w.attn.dqv = dalloc(D);
    if (g_fused) {   /* Aaren reads kv, the Transformer qkv */
        a->attn.kv = dalloc(M * (2 * D + 1)); c->w.attn.dkv = dalloc(M * (2 * D + 1));
        a->attn.qkv = dalloc(M * (3 * D + 2)); c->w.attn.dqkv = dalloc(M * (3 * D + 2));
    }
    size_t ks = aaren_attn_scratch_len_f64(D / H, 0), kc = aaren_causal_attn_scratch_len_f64(N);
    c->kscr = dalloc(ks > kc ? ks : kc);
    aaren_block_shape_f64 sh = {B, N, D, H, F, arch, prenorm, AAREN_GELU, 1e-5, 0, 0};
    c->sh = sh;
}

static void teardown(lcase *c) {
    aaren_block_acts_f64 *a = &c->a;
    if (a->y == a->r2) a->y = NULL;
    double *ptrs[] = {c->x, c->dx, c->G, c->out, c->pbuf, c->gbuf, c->kscr, a->a_in, a->attn.k,
                      a->attn.v, a->attn.att, a->attn_out, a->r1, a->h, a->f_in, a->ffn_out, a->r2,
                      a->y, c->w.g1, c->w.g2, c->w.g3, c->w.attn.datt, c->w.attn.dq, c->w.attn.dk,
                      c->w.attn.dv, a->attn.q, a->a_mean, a->a_rstd, a->h_mean, a->h_rstd, a->f_mean,
                      a->f_rstd, a->y_mean, a->y_rstd, a->f1, a->fa, c->w.gf, a->attn.s, a->attn.m,
                      a->attn.u, c->w.attn.ds, c->w.attn.dqv, a->attn.kv, c->w.attn.dkv, a->attn.qkv,
                      c->w.attn.dqkv};
    for (size_t i = 0; i < sizeof ptrs / sizeof *ptrs; i++) free(ptrs[i]);
}

/* Forward of the layer under test; returns sum(G * out). */
static double loss(lcase *c) {
    const int M = c->B * c->N, D = c->D, F = c->F;
    const double *out = c->out;
    switch (c->kind) {
    case K_LINEAR: aaren_linear_forward_f64(c->out, c->x, c->p.w1, c->p.b1, M, D, F); break;
    case K_LAYERNORM: aaren_layernorm_forward_f64(c->out, c->a.h_mean, c->a.h_rstd, c->x, c->p.ln1_w, c->p.ln1_b, M, D, 1e-5); break;
    case K_GELU: aaren_act_forward_f64(c->out, c->x, (size_t)M * D, AAREN_GELU); break;
    case K_RELU: aaren_act_forward_f64(c->out, c->x, (size_t)M * D, AAREN_RELU); break;
    case K_FFN: aaren_ffn_forward_f64(c->out, c->a.f1, c->a.fa, c->x, &c->p, M, D, F, AAREN_GELU); break;
    case K_AAREN_ATTN:
        aaren_attention_forward_f64(c->out, &c->a.attn, c->x, &c->p, c->B, c->N, D, c->H, AAREN_SCAN, c->kscr);
        break;
    case K_CAUSAL_ATTN:
        aaren_causal_attention_forward_f64(c->out, &c->a.attn, c->x, &c->p, c->B, c->N, D, c->H, AAREN_SCAN, c->kscr);
        break;
    case K_BLOCK:
        aaren_block_forward_f64(&c->a, c->x, &c->p, &c->sh, AAREN_SCAN, c->kscr);
        out = c->a.y;
        break;
    }
    double L = 0;
    for (size_t i = 0; i < c->nout; i++) L += c->G[i] * out[i];
    return L;
}

static void analytic(lcase *c) {
    const int M = c->B * c->N, D = c->D, F = c->F;
    memset(c->gbuf, 0, c->np * sizeof(double));
    memset(c->dx, 0, c->nx * sizeof(double));
    loss(c);
    switch (c->kind) {
    case K_LINEAR: aaren_linear_backward_f64(c->dx, c->g.w1, c->g.b1, c->G, c->x, c->p.w1, M, D, F); break;
    case K_LAYERNORM:
        aaren_layernorm_backward_f64(c->dx, c->g.ln1_w, c->g.ln1_b, c->G, c->x, c->a.h_mean, c->a.h_rstd, c->p.ln1_w, M, D);
        break;
    case K_GELU: aaren_act_backward_f64(c->dx, c->G, c->x, c->out, (size_t)M * D, AAREN_GELU); break;
    case K_RELU: aaren_act_backward_f64(c->dx, c->G, c->x, c->out, (size_t)M * D, AAREN_RELU); break;
    case K_FFN: aaren_ffn_backward_f64(c->dx, &c->g, c->G, c->x, c->a.f1, c->a.fa, c->w.gf, &c->p, M, D, F, AAREN_GELU); break;
    case K_AAREN_ATTN:
        aaren_attention_backward_f64(c->dx, &c->g, c->G, &c->a.attn, &c->w.attn, c->x, &c->p, c->B, c->N, D, c->H, c->kscr);
        break;
    case K_CAUSAL_ATTN:
        aaren_causal_attention_backward_f64(c->dx, &c->g, c->G, &c->a.attn, &c->w.attn, c->x, &c->p, c->B, c->N, D, c->H, c->kscr);
        break;
    case K_BLOCK: aaren_block_backward_f64(c->dx, &c->g, c->G, &c->a, &c->w, &c->p, &c->sh, c->kscr); break;
    }
}

/* Worst |fd - analytic| / max(1, |fd|) over every entry of x (n values, analytic in an). */
static double fd_worst(double *x, const double *an, size_t n, double (*L)(void *), void *ctx, int skip_kinks) {
    const double h = 1e-6;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        if (skip_kinks && fabs(x[i]) < 1e-3) continue;   /* ReLU is not differentiable at 0 */
        const double x0 = x[i];
        x[i] = x0 + h; const double lp = L(ctx);
        x[i] = x0 - h; const double lm = L(ctx);
        x[i] = x0;
        const double fd = (lp - lm) / (2 * h), e = fabs(fd - an[i]) / fmax(1.0, fabs(fd));
        if (e > worst) worst = e;
    }
    return worst;
}

static double loss_cb(void *ctx) { return loss(ctx); }

static const double FD_TOL = 1e-6;

static void check_layer(int kind, int B, int N, int D, int H, int F, int arch, int prenorm, double drop) {
    lcase c;
    setup(&c, kind, B, N, D, H, F, arch, prenorm, 77 + kind * 13 + prenorm + 5 * arch);
    c.sh.dropout = drop;          /* masks are a function of the seed: differentiable as fixed */
    c.sh.drop_seed = 12345;
    analytic(&c);
    double *an = malloc(c.np * sizeof(double)), *anx = malloc(c.nx * sizeof(double));
    memcpy(an, c.gbuf, c.np * sizeof(double));
    memcpy(anx, c.dx, c.nx * sizeof(double));
    const double ex = fd_worst(c.x, anx, c.nx, loss_cb, &c, kind == K_RELU);
    const double ep = fd_worst(c.pbuf, an, c.np, loss_cb, &c, 0);
    CHECK(ex < FD_TOL && ep < FD_TOL, "%s (%s, %s-norm, dropout %.1f, B=%d N=%d D=%d H=%d F=%d): finite "
          "differences disagree: input %.3g, parameters %.3g", kname[kind], arch ? "transformer" : "aaren",
          prenorm ? "pre" : "post", drop, B, N, D, H, F, ex, ep);
    /* the check can fail: a gradient with one term dropped is caught */
    if (kind == K_BLOCK) {
        an[c.np / 3] += 0.01;
        CHECK(fd_worst(c.pbuf, an, c.np, loss_cb, &c, 0) > 1e-3, "%s: a corrupted gradient went unnoticed", kname[kind]);
    }
    if (drop > 0) {   /* the masks are really applied: about a fraction `drop` of zeros */
        loss(&c);
        size_t zeros = 0, n = c.nx;
        for (size_t i = 0; i < n; i++) zeros += c.a.attn_out[i] == 0;
        CHECK(zeros > n * drop / 3 && zeros < n * drop * 2, "dropout %.1f zeroed %zu of %zu", drop, zeros, n);
    }
    free(an); free(anx);
    teardown(&c);
}

/* The key and value projections as one product (kv, dkv) against two (the unfused
 * reference) on the same input: outputs, input and parameter gradients to 1e-12. */
static void check_kv_fused(int B, int N, int D, int H) {
    lcase f, u;
    g_fused = 1;
    setup(&f, K_AAREN_ATTN, B, N, D, H, 4, 0, 0, 991);
    g_fused = 0;
    setup(&u, K_AAREN_ATTN, B, N, D, H, 4, 0, 0, 991);
    const int M = B * N;
    aaren_attention_forward_f64(f.out, &f.a.attn, f.x, &f.p, B, N, D, H, AAREN_SCAN, f.kscr);
    aaren_attention_backward_f64(f.dx, &f.g, f.G, &f.a.attn, &f.w.attn, f.x, &f.p, B, N, D, H, f.kscr);
    aaren_attention_forward_unfused_f64(u.out, &u.a.attn, u.x, &u.p, B, N, D, H, AAREN_SCAN, u.kscr);
    aaren_attention_backward_unfused_f64(u.dx, &u.g, u.G, &u.a.attn, &u.w.attn, u.x, &u.p, B, N, D, H, u.kscr);
    double eo = 0, ex = 0, ep = 0, ek = 0;
    for (size_t i = 0; i < f.nout; i++) eo = fmax(eo, fabs(f.out[i] - u.out[i]) / fmax(1, fabs(u.out[i])));
    for (size_t i = 0; i < f.nx; i++) ex = fmax(ex, fabs(f.dx[i] - u.dx[i]) / fmax(1, fabs(u.dx[i])));
    for (size_t i = 0; i < f.np; i++) ep = fmax(ep, fabs(f.gbuf[i] - u.gbuf[i]) / fmax(1, fabs(u.gbuf[i])));
    /* the fused path really ran: kv holds the keys (columns 0..D-1) the reference put in k */
    for (int i = 0; i < M; i++)
        for (int j = 0; j < D; j++)
            ek = fmax(ek, fabs(f.a.attn.kv[(size_t)i * (2 * D + 1) + j] - u.a.attn.k[(size_t)i * D + j]));
    double gk = 0;
    for (size_t i = 0; i < (size_t)D * D; i++) gk = fmax(gk, fabs(u.g.wk[i]));
    CHECK(eo < 1e-12 && ex < 1e-12 && ep < 1e-12 && ek < 1e-12 && gk > 0,
          "one key-value product (B=%d N=%d D=%d H=%d) against two: output %.3g, input gradient %.3g, "
          "parameter gradients %.3g, keys %.3g (k_proj gradient max %.3g)", B, N, D, H, eo, ex, ep, ek, gk);
    teardown(&f);
    teardown(&u);
}

/* The Transformer's query, key and value projections as one product (qkv, dqkv) against
 * three (the unfused reference) on the same input: outputs (scan and naive paths), input and
 * parameter gradients to 1e-12, and the fused path really ran (qkv holds q, k and v). */
static void check_qkv_fused(int B, int N, int D, int H) {
    lcase f, u;
    g_fused = 1;
    setup(&f, K_CAUSAL_ATTN, B, N, D, H, 4, 1, 0, 993);
    g_fused = 0;
    setup(&u, K_CAUSAL_ATTN, B, N, D, H, 4, 1, 0, 993);
    const int M = B * N, W = 3 * D + 2;
    double en = 0;
    aaren_causal_attention_forward_f64(f.out, &f.a.attn, f.x, &f.p, B, N, D, H, AAREN_NAIVE, f.kscr);
    aaren_causal_attention_forward_unfused_f64(u.out, &u.a.attn, u.x, &u.p, B, N, D, H, AAREN_NAIVE, u.kscr);
    for (size_t i = 0; i < f.nout; i++) en = fmax(en, fabs(f.out[i] - u.out[i]) / fmax(1, fabs(u.out[i])));
    aaren_causal_attention_forward_f64(f.out, &f.a.attn, f.x, &f.p, B, N, D, H, AAREN_SCAN, f.kscr);
    aaren_causal_attention_backward_f64(f.dx, &f.g, f.G, &f.a.attn, &f.w.attn, f.x, &f.p, B, N, D, H, f.kscr);
    aaren_causal_attention_forward_unfused_f64(u.out, &u.a.attn, u.x, &u.p, B, N, D, H, AAREN_SCAN, u.kscr);
    aaren_causal_attention_backward_unfused_f64(u.dx, &u.g, u.G, &u.a.attn, &u.w.attn, u.x, &u.p, B, N, D, H, u.kscr);
    double eo = 0, ex = 0, ep = 0, eq = 0;
    for (size_t i = 0; i < f.nout; i++) eo = fmax(eo, fabs(f.out[i] - u.out[i]) / fmax(1, fabs(u.out[i])));
    for (size_t i = 0; i < f.nx; i++) ex = fmax(ex, fabs(f.dx[i] - u.dx[i]) / fmax(1, fabs(u.dx[i])));
    for (size_t i = 0; i < f.np; i++) ep = fmax(ep, fabs(f.gbuf[i] - u.gbuf[i]) / fmax(1, fabs(u.gbuf[i])));
    for (int i = 0; i < M; i++)
        for (int j = 0; j < D; j++) {
            const double *r = f.a.attn.qkv + (size_t)i * W;
            const size_t at = (size_t)i * D + j;
            eq = fmax(eq, fabs(r[j] - u.a.attn.q[at]));
            eq = fmax(eq, fabs(r[D + 1 + j] - u.a.attn.k[at]));
            eq = fmax(eq, fabs(r[2 * D + 2 + j] - u.a.attn.v[at]));
        }
    double gq = 0, gb = 0;
    for (size_t i = 0; i < (size_t)D * D; i++) gq = fmax(gq, fabs(u.g.wq[i]));
    for (int i = 0; i < D; i++) gb = fmax(gb, fabs(u.g.bk[i]) + fabs(u.g.bq[i]));
    CHECK(eo < 1e-12 && en < 1e-12 && ex < 1e-12 && ep < 1e-12 && eq < 1e-12 && gq > 0 && gb > 0,
          "one query-key-value product (B=%d N=%d D=%d H=%d) against three: output %.3g (naive path %.3g), "
          "input gradient %.3g, parameter gradients %.3g, q/k/v %.3g (q_proj gradient max %.3g, "
          "q/k bias %.3g)", B, N, D, H, eo, en, ex, ep, eq, gq, gb);
    teardown(&f);
    teardown(&u);
}

/* The feed-forward's float32 forward (bias and activation in one pass; GELU through the
 * vectorised kernel, which adds the bias) against the float64 layer, at widths around 256
 * and others (test_isa: forward and backward on every instruction-set path). */
static void check_ffn_f32(void) {
    const int widths[] = {7, 255, 256, 257, 300, 520};
    for (int a = 0; a < 2; a++)
        for (size_t iw = 0; iw < sizeof widths / sizeof *widths; iw++) {
            const int M = 5, D = 6, F = widths[iw], act = a ? AAREN_RELU : AAREN_GELU;
            const size_t np = 2 * (size_t)D * F + F + D;
            double *pd = dalloc(np), *xd = dalloc((size_t)M * D), *od = dalloc((size_t)M * D);
            double *f1d = dalloc((size_t)M * F), *fad = dalloc((size_t)M * F);
            float *pf = malloc(sizeof(float) * np), *xf = malloc(sizeof(float) * M * D), *of = malloc(sizeof(float) * M * D);
            float *f1f = malloc(sizeof(float) * M * F), *faf = malloc(sizeof(float) * M * F);
            uint64_t r = 31 + iw;
            fill(pd, np, &r, 0.5);
            fill(xd, (size_t)M * D, &r, 1.0);
            for (size_t i = 0; i < np; i++) { pf[i] = (float)pd[i]; pd[i] = pf[i]; }
            for (int i = 0; i < M * D; i++) { xf[i] = (float)xd[i]; xd[i] = xf[i]; }
            aaren_block_params_f64 bd = {0};
            aaren_block_params bf = {0};
            bd.w1 = pd; bd.b1 = pd + (size_t)D * F; bd.w2 = bd.b1 + F; bd.b2 = bd.w2 + (size_t)D * F;
            bf.w1 = pf; bf.b1 = pf + (size_t)D * F; bf.w2 = bf.b1 + F; bf.b2 = bf.w2 + (size_t)D * F;
            aaren_ffn_forward_f64(od, f1d, fad, xd, &bd, M, D, F, act);
            aaren_ffn_forward(of, f1f, faf, xf, &bf, M, D, F, act);
            double e = 0, ea = 0;
            for (int i = 0; i < M * D; i++) e = fmax(e, fabs(of[i] - od[i]) / fmax(1, fabs(od[i])));
            for (int i = 0; i < M * F; i++) ea = fmax(ea, fabs(faf[i] - fad[i]) / fmax(1, fabs(fad[i])));
            CHECK(e < 1e-4 && ea < 1e-5, "float32 feed-forward (%s, F=%d) against float64: output %.3g, "
                  "activation %.3g", a ? "relu" : "gelu", F, e, ea);
            free(pd); free(xd); free(od); free(f1d); free(fad);
            free(pf); free(xf); free(of); free(f1f); free(faf);
        }
}

/* ---- the whole stack through the model API ---------------------------------------- */

typedef struct {
    aaren_model_f64 *m;
    double *x, *y, *G;
    int B, N;
} scase;

static double stack_loss(void *ctx) {
    scase *s = ctx;
    char err[256];
    aaren_model_forward_f64(s->m, s->y, s->x, s->B, s->N, AAREN_SCAN, err, sizeof err);
    double L = 0;
    for (size_t i = 0; i < (size_t)s->B * s->N * s->m->cfg.d_model; i++) L += s->G[i] * s->y[i];
    return L;
}

static void check_stack(int arch, int norm, int act) {
    aaren_config cfg = {arch, 6, 2, 2, 10, norm, act, 1e-5f};
    char err[256];
    scase s = {aaren_model_new_f64(&cfg, err, sizeof err), NULL, NULL, NULL, 2, 5};
    CHECK(s.m != NULL, "model: %s", err);
    if (!s.m) return;
    CHECK(!aaren_model_reserve_f64(s.m, 2, 5, 1, err, sizeof err), "reserve: %s", err);
    uint64_t r = 5 + arch * 2 + norm;
    fill(s.m->params, s.m->n_params, &r, 0.4);
    const size_t n = (size_t)s.B * s.N * cfg.d_model;
    s.x = dalloc(n); s.y = dalloc(n); s.G = dalloc(n);
    double *dx = dalloc(n), *an = dalloc(s.m->n_params);
    fill(s.x, n, &r, 1); fill(s.G, n, &r, 1);
    aaren_model_zero_grad_f64(s.m);
    stack_loss(&s);
    CHECK(!aaren_model_backward_f64(s.m, dx, s.G, err, sizeof err), "backward: %s", err);
    memcpy(an, s.m->grads, s.m->n_params * sizeof(double));
    const double ep = fd_worst(s.m->params, an, s.m->n_params, stack_loss, &s, 0);
    const double ex = fd_worst(s.x, dx, n, stack_loss, &s, 0);
    CHECK(ep < FD_TOL && ex < FD_TOL, "2-layer %s stack, %s-norm, %s: finite differences disagree: "
          "parameters %.3g, input %.3g", aaren_arch_name(arch), norm ? "pre" : "post",
          act ? "relu" : "gelu", ep, ex);
    free(s.x); free(s.y); free(s.G); free(dx); free(an);
    aaren_model_free_f64(s.m);
}

/* ---- float32 matrix products: the compiled backend against the portable loops --------- */

static void check_gemm(void) {
    uint64_t r = 3;
    const int M = 37, N = 29, K = 41;
    float *A = malloc(sizeof(float) * M * K * 2), *B = malloc(sizeof(float) * K * N * 2);
    float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
    for (int i = 0; i < M * K * 2; i++) A[i] = (float)aaren_rng_normal(&r);
    for (int i = 0; i < K * N * 2; i++) B[i] = (float)aaren_rng_normal(&r);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            const int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2;
            for (int i = 0; i < M * N; i++) C1[i] = C2[i] = (float)i / 100;
            aaren_gemm(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 0.25f, C1, N);
            aaren_gemm_portable(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 0.25f, C2, N);
            double d = 0, s = 0;
            for (int i = 0; i < M * N; i++) { d = fmax(d, fabs(C1[i] - C2[i])); s = fmax(s, fabs(C2[i])); }
            CHECK(d <= 1e-5 * s, "gemm ta=%d tb=%d: %s vs portable differ by %.3g (scale %.3g)", ta, tb,
                  aaren_gemm_backend(), d, s);
        }
    free(A); free(B); free(C1); free(C2);
    /* a step's product shapes: tall (forward, input gradient) and a long sum with A
     * transposed (weight gradient), each as bands of rows a thread (aaren_gemm_row_split) and
     * with the BLAS's own threads, against the portable loops */
    float *TA = malloc(sizeof(float) * 1103 * 153), *TB = malloc(sizeof(float) * 1100 * 42 * 2);
    float *T1 = malloc(sizeof(float) * 1100 * 45), *T2 = malloc(sizeof(float) * 1100 * 45);
    for (int i = 0; i < 1103 * 153; i++) TA[i] = (float)aaren_rng_normal(&r);
    for (int i = 0; i < 1100 * 42 * 2; i++) TB[i] = (float)aaren_rng_normal(&r);
    const int was = aaren_gemm_row_split(-1);
    for (int ta = 0; ta < 2; ta++)
        for (int split = 0; split < 2; split++)
            for (int tb = 0; tb < 2; tb++) {
                const int TM = ta ? 150 : 1100, TN = 40, TK = ta ? 1100 : 50;
                const int lda = (ta ? TM : TK) + 3, ldb = (tb ? TK : TN) + 2, ldc = TN + 5;
                aaren_gemm_row_split(split);
                for (int i = 0; i < TM * ldc; i++) T1[i] = T2[i] = (float)(i % 97) / 50;
                aaren_gemm(ta, tb, TM, TN, TK, 0.5f, TA, lda, TB, ldb, 0.25f, T1, ldc);
                aaren_gemm_portable(ta, tb, TM, TN, TK, 0.5f, TA, lda, TB, ldb, 0.25f, T2, ldc);
                double d = 0, sc = 0;
                for (int i = 0; i < TM * ldc; i++) { d = fmax(d, fabs(T1[i] - T2[i])); sc = fmax(sc, fabs(T2[i])); }
                CHECK(d <= 1e-5 * sc, "gemm %d x %d x %d ta=%d tb=%d, row bands %s (%d threads): %s vs portable "
                      "differ by %.3g (scale %.3g)", TM, TN, TK, ta, tb, split ? "on" : "off", aaren_threads(),
                      aaren_gemm_backend(), d, sc);
            }
    aaren_gemm_row_split(was);
    free(TA); free(TB); free(T1); free(T2);
}

/* One row against rows (a linear layer on one streamed token; the AVX2 kernel where the CPU
 * has it) against a double-precision dot product, for sizes around every unrolling edge. */
static void check_gemm_one_row(void) {
    uint64_t r = 5;
    const int sizes[] = {1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 128, 131};
    const int ns = (int)(sizeof sizes / sizeof sizes[0]);
    float *a = malloc(sizeof(float) * 131), *B = malloc(sizeof(float) * 131 * 140);
    float *c = malloc(sizeof(float) * 131);
    for (int i = 0; i < 131; i++) a[i] = (float)aaren_rng_normal(&r);
    for (int i = 0; i < 131 * 140; i++) B[i] = (float)aaren_rng_normal(&r);
    for (int in = 0; in < ns; in++)
        for (int ik = 0; ik < ns; ik++) {
            const int N = sizes[in], K = sizes[ik], ldb = K + 9;
            for (int beta = 0; beta < 2; beta++) {
                for (int j = 0; j < N; j++) c[j] = (float)j - 3;
                aaren_gemm(0, 1, 1, N, K, 0.75f, a, K, B, ldb, beta ? 0.5f : 0.0f, c, N);
                double worst = 0;
                for (int j = 0; j < N; j++) {
                    double ref = 0, mag = 0;
                    for (int k = 0; k < K; k++) {
                        ref += (double)a[k] * B[(size_t)j * ldb + k];
                        mag += fabs((double)a[k] * B[(size_t)j * ldb + k]);
                    }
                    ref = 0.75 * ref + (beta ? 0.5 * ((double)j - 3) : 0.0);
                    worst = fmax(worst, fabs(c[j] - ref) / (0.75 * mag + (beta ? 0.5 * fabs((double)j - 3) : 0.0) + 1.0));
                }
                CHECK(worst < 1e-6, "one-row gemm N=%d K=%d beta=%d (%s): relative error %.3g",
                      N, K, beta, aaren_x86_avx2_fma() ? "AVX2 kernel" : "portable loop", worst);
            }
        }
    free(a); free(B); free(c);
}

/* float32 GELU (its own vectorised erf; the AVX2 path where the CPU has it, and the portable
 * path) against GELU in double with libm's erf, on a dense
 * grid and at the region edges of the erf approximation: absolute error <= 2e-7 max(1, |x|). */
static void check_gelu_f32(void) {
    const int n = 1200001;
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    for (int i = 0; i < n; i++) x[i] = -12.0f + 24.0f * (float)i / (float)(n - 1);
    aaren_act_forward(y, x, (size_t)n, AAREN_GELU);
    double worst = 0, at = 0;
    for (int i = 0; i < n; i++) {
        const double xd = x[i], ref = 0.5 * xd * (1 + erf(xd / sqrt(2.0)));
        const double e = fabs(y[i] - ref) / fmax(1.0, fabs(xd));
        if (e > worst) { worst = e; at = xd; }
    }
    CHECK(worst <= 2e-7, "float32 GELU: error %.3g (relative to max(1, |x|)) at x = %.7g", worst, at);
    aaren_gelu_f32_portable(y, x, (size_t)n);   /* the path of CPUs without AVX2 + FMA */
    worst = 0;
    for (int i = 0; i < n; i++) {
        const double xd = x[i], ref = 0.5 * xd * (1 + erf(xd / sqrt(2.0)));
        const double e = fabs(y[i] - ref) / fmax(1.0, fabs(xd));
        if (e > worst) { worst = e; at = xd; }
    }
    CHECK(worst <= 2e-7, "float32 GELU, portable path: error %.3g at x = %.7g", worst, at);
    const float edges[] = {1.41421354f, 1.41421366f, 5.56846f, 5.56847f, -1.41421354f, 0.0f, -0.0f, 1e-30f, -1e-30f, 80.0f, -80.0f};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        float out;
        aaren_act_forward(&out, &edges[i], 1, AAREN_GELU);
        const double xd = edges[i], ref = 0.5 * xd * (1 + erf(xd / sqrt(2.0)));
        CHECK(fabs(out - ref) <= 2e-7 * fmax(1.0, fabs(xd)), "float32 GELU at %.9g: %.9g vs %.9g", xd, (double)out, ref);
    }
    /* values a diverging model produces: nan, +-inf, near FLT_MAX, mixed into a vector of
     * ordinary values (each path, every lane position); nan where float64 gives nan,
     * otherwise float64's value, and the ordinary values as computed alone */
    {
        enum { M = 67 };
        const float odd[] = {NAN, -NAN, INFINITY, -INFINITY, 3e38f, -3e38f, FLT_MAX, -FLT_MAX, 1e30f, -1e30f};
        const int n_odd = (int)(sizeof odd / sizeof odd[0]);
        float xs[M], ys[M], yp[M];
        for (int shift = 0; shift < 9; shift++) {
            for (int i = 0; i < M; i++) xs[i] = (i + shift) % 5 == 0 ? odd[(i / 5) % n_odd] : 0.37f * (float)(i - 30);
            aaren_act_forward(ys, xs, M, AAREN_GELU);
            aaren_gelu_f32_portable(yp, xs, M);
            for (int i = 0; i < M; i++) {
                const double xd = xs[i], ref = 0.5 * xd * (1 + erf(xd / sqrt(2.0)));
                float alone;
                aaren_act_forward(&alone, &xs[i], 1, AAREN_GELU);
                for (int path = 0; path < 2; path++) {
                    const float v = path ? yp[i] : ys[i];
                    const int ok = isnan(ref) ? isnan(v) : (double)v == (double)(float)ref || fabs(v - ref) <= 2e-7 * fmax(1.0, fabs(xd));
                    CHECK(ok, "float32 GELU (%s) at %.9g among other values: %.9g vs %.9g", path ? "portable" : "dispatched",
                          xd, (double)v, ref);
                }
                CHECK(memcmp(&alone, &ys[i], sizeof alone) == 0 || (isnan(alone) && isnan(ys[i])),
                      "float32 GELU at %.9g: %.9g in a vector, %.9g alone", xd, (double)ys[i], (double)alone);
            }
        }
    }
    free(x); free(y);
}

int main(void) {
    check_gemm();
    check_gelu_f32();
    check_gemm_one_row();
    for (int k = K_LINEAR; k <= K_FFN; k++) check_layer(k, 2, 3, 5, 1, 7, 0, 0, 0);
    check_layer(K_AAREN_ATTN, 2, 6, 6, 2, 4, 0, 0, 0);
    check_layer(K_AAREN_ATTN, 1, 1, 5, 1, 4, 0, 0, 0);
    g_fused = 1;   /* the same layers with one key-value product */
    check_layer(K_AAREN_ATTN, 2, 6, 6, 2, 4, 0, 0, 0);
    check_layer(K_AAREN_ATTN, 1, 1, 5, 1, 4, 0, 0, 0);
    for (int pre = 0; pre < 2; pre++) check_layer(K_BLOCK, 2, 4, 6, 3, 8, 0, pre, 0.3);
    g_fused = 0;
    check_kv_fused(2, 6, 6, 2);
    check_kv_fused(3, 37, 24, 4);
    check_layer(K_CAUSAL_ATTN, 2, 6, 6, 2, 4, 1, 0, 0);
    check_layer(K_CAUSAL_ATTN, 1, 70, 4, 2, 4, 1, 0, 0);    /* more rows than one block of 64 */
    g_fused = 1;   /* the same with one query-key-value product, and Transformer blocks with it */
    check_layer(K_CAUSAL_ATTN, 2, 6, 6, 2, 4, 1, 0, 0);
    check_layer(K_CAUSAL_ATTN, 1, 70, 4, 2, 4, 1, 0, 0);
    for (int pre = 0; pre < 2; pre++) check_layer(K_BLOCK, 2, 4, 6, 3, 8, 1, pre, 0.3);
    g_fused = 0;
    check_qkv_fused(2, 6, 6, 2);
    check_qkv_fused(2, 70, 24, 4);
    check_ffn_f32();
    for (int arch = 0; arch < 2; arch++)
        for (int pre = 0; pre < 2; pre++) {
            check_layer(K_BLOCK, 2, 4, 6, 3, 8, arch, pre, 0);
            check_layer(K_BLOCK, 2, 4, 6, 3, 8, arch, pre, 0.3);
        }
    for (int arch = 0; arch < 2; arch++)
        for (int norm = 0; norm < 2; norm++) check_stack(arch, norm, norm ? AAREN_RELU : AAREN_GELU);
    return check_done("test_layers");
}
