/* Streaming: batched streams and prefill.
 *   - the scan with a carry-in state (kernel) against one scan over the whole sequence;
 *   - Aaren: prefill then step equals stepping every token (N = 100,000), also prefill in
 *     several calls of odd sizes from a non-zero position; final states compared;
 *   - Transformer: the same at N = 3,000 (its cost is quadratic);
 *   - a batch step of B streams equals B single streams; partial batch steps;
 *   - state get/set per stream and for the whole batch, after steps and after prefill;
 *   - no allocation after creation (malloc/calloc/realloc counted; skipped under ASan);
 *   - errors: prefill past a Transformer cache's capacity, bad stream indices.
 * Prints (not checked): per-stream time of a batch step against single-stream steps, and
 * prefill against stepping. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "check.h"
#include "aaren.h"
#include "kernels/kernels.h"
#include "base/rng.h"

#include "alloc_count.h"

static const double TOL = 1e-5;

static double now(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* max |a - b| / max |b| over n values (b the reference). */
static double rel(const float *a, const float *b, size_t n) {
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(b[i]) && !isfinite(a[i])) return INFINITY;
        d = fmax(d, fabs((double)a[i] - b[i]));
        s = fmax(s, fabs((double)b[i]));
    }
    return d / (s > 0 ? s : 1);
}

/* Worst over the N rows [N, D] of rel(row of a, row of b): every position on its own. */
static double rel_rows(const float *a, const float *b, long N, int D) {
    double w = 0;
    for (long t = 0; t < N; t++) w = fmax(w, rel(a + (size_t)t * D, b + (size_t)t * D, (size_t)D));
    return w;
}

static void fill(float *x, size_t n, uint64_t *r) {
    for (size_t i = 0; i < n; i++) x[i] = (float)aaren_rng_normal(r);
}

/* A model with non-trivial LayerNorms and biases. */
static aaren_model *make_model(int arch, int norm, int D, int H, int L, int F, uint64_t seed) {
    aaren_config c = {arch, D, H, L, F, norm, AAREN_GELU, 1e-5f};
    char err[256];
    aaren_model *m = aaren_model_new(&c, err, sizeof err);
    CHECK(m != NULL, "model: %s", err);
    if (!m) return NULL;
    aaren_model_init(m, seed);
    uint64_t r = seed * 7 + 1;
    float *p = aaren_model_params(m);
    for (size_t i = 0; i < aaren_model_n_params(m); i++) p[i] += 0.05f * (float)aaren_rng_normal(&r);
    return m;
}

/* The states of stream i of a and stream j of b, as get_state_one writes them. Aaren: per
 * (layer, head), max m to 1e-5 absolute, u to TOL relative, w to TOL relative to its
 * largest entry (m may differ by rounding, which scales u and w by exp of that). The
 * Transformer: the caches as one array. Returns the worst. */
static double state_diff(const aaren_stream *a, int i, const aaren_stream *b, int j, int aar, int L, int H, int dh) {
    const size_t na = aaren_stream_state_size_one(a, i), nb = aaren_stream_state_size_one(b, j);
    if (na != nb || !na) return INFINITY;
    unsigned char *ba = malloc(na), *bb = malloc(nb);
    aaren_stream_get_state_one(a, i, ba, na);
    aaren_stream_get_state_one(b, j, bb, nb);
    const size_t hdr = na - aaren_stream_state_bytes_one(a, i);
    double worst = memcmp(ba, bb, hdr) ? INFINITY : 0;   /* same header: same position */
    const size_t nf = (na - hdr) / sizeof(float);
    float *fa = malloc(nf * sizeof(float)), *fb = malloc(nf * sizeof(float));
    memcpy(fa, ba + hdr, nf * sizeof(float));
    memcpy(fb, bb + hdr, nf * sizeof(float));
    if (aar) {
        for (int k = 0; k < L * H; k++) {
            const float *x = fa + (size_t)k * (dh + 2), *y = fb + (size_t)k * (dh + 2);
            worst = fmax(worst, fabs((double)x[0] - y[0]) / fmax(1, fabs((double)y[0])));
            worst = fmax(worst, fabs((double)x[1] - y[1]) / fmax(1e-30, fabs((double)y[1])));
            worst = fmax(worst, rel(x + 2, y + 2, (size_t)dh));
        }
    } else {
        worst = fmax(worst, rel(fa, fb, nf));
    }
    free(ba); free(bb); free(fa); free(fb);
    return worst;
}

/* ---- the kernel: scan with a carry-in ------------------------------------------------ */

/* Tokens [t0, t0 + n) of one [1, H, N] score array and [N, D] values, repacked. */
static void take(float *s2, const float *s, int H, int N, int t0, int n) {
    for (int h = 0; h < H; h++) memcpy(s2 + (size_t)h * n, s + (size_t)h * N + t0, sizeof(float) * (size_t)n);
}

static void scan_carry_kernel(void) {
    const int H = 3, dh = 5, D = H * dh, N = 20000;
    const int cuts[] = {0, 1, 777, 12345, N};   /* pieces [cuts[k], cuts[k + 1]) */
    uint64_t r = 99;
    float *s = malloc(sizeof(float) * H * N), *v = malloc(sizeof(float) * N * D);
    float *o = malloc(sizeof(float) * N * D), *o2 = malloc(sizeof(float) * N * D);
    float *m = malloc(sizeof(float) * H * N), *u = malloc(sizeof(float) * H * N);
    float *s2 = malloc(sizeof(float) * H * N), *m2 = malloc(sizeof(float) * H * N), *u2 = malloc(sizeof(float) * H * N);
    float *scr = malloc(aaren_attn_scratch_len(dh, 64) * sizeof(float));
    float *st = malloc(sizeof(float) * H * (dh + 2)), *st0 = malloc(sizeof(float) * H * (dh + 2));
    double *ref = malloc(sizeof(double) * H * (dh + 2)), *ob = malloc(sizeof(double) * dh);
    double *vd = malloc(sizeof(double) * dh);
    for (int i = 0; i < H * N; i++) s[i] = (float)(3 * aaren_rng_normal(&r));
    s[5] = -INFINITY;   /* a masked token */
    fill(v, (size_t)N * D, &r);
    /* the reference: the cell stepped over every token in float64 (the float32 cell drifts
     * like any float32 running sum, about 2e-5 here; the scan is compensated) */
    for (int h = 0; h < H; h++) {
        double *rh = ref + (size_t)h * (dh + 2);
        rh[0] = -INFINITY; rh[1] = 0;
        for (int i = 0; i < dh; i++) rh[2 + i] = 0;
        for (int t = 0; t < N; t++) {
            for (int i = 0; i < dh; i++) vd[i] = v[(size_t)t * D + h * dh + i];
            aaren_attn_step_f64(rh, s[(size_t)h * N + t], vd, ob, dh);
        }
    }
    aaren_attn_scan(o, m, u, s, v, 1, H, N, dh, 0, scr);
    /* NULL state: exactly aaren_attn_scan */
    aaren_attn_scan_carry(o2, m2, u2, s, v, 1, H, N, dh, 0, scr, NULL);
    CHECK(!memcmp(o, o2, sizeof(float) * N * D), "scan_carry(NULL) differs from scan");
    const int chunk_opts[] = {0, 1, 3, 64};
    for (int ci = 0; ci < 4; ci++) {
        for (int h = 0; h < H; h++) {
            float *sh = st + (size_t)h * (dh + 2);
            sh[0] = -INFINITY; sh[1] = 0;
            memset(sh + 2, 0, sizeof(float) * dh);
        }
        for (int k = 0; k + 1 < 5; k++) {
            const int t0 = cuts[k], n = cuts[k + 1] - cuts[k];
            take(s2, s, H, N, t0, n);
            aaren_attn_scan_carry(o2 + (size_t)t0 * D, m2, u2, s2, v + (size_t)t0 * D, 1, H, n, dh,
                                  chunk_opts[ci], scr, st);
        }
        const double e = rel(o2, o, (size_t)N * D);
        CHECK(e <= TOL, "scan in 4 pieces with carry (chunks %d) vs one scan: %.3g", chunk_opts[ci], e);
        double es = 0;
        for (int h = 0; h < H; h++) {
            const float *a = st + (size_t)h * (dh + 2);
            const double *b = ref + (size_t)h * (dh + 2);
            double dw = 0, sw = 0;
            for (int i = 0; i < dh; i++) { dw = fmax(dw, fabs(a[2 + i] - b[2 + i])); sw = fmax(sw, fabs(b[2 + i])); }
            es = fmax(es, fabs(a[0] - b[0]));
            es = fmax(es, fabs(a[1] - b[1]) / b[1]);
            es = fmax(es, dw / sw);
        }
        CHECK(es <= TOL, "final state of the carried scan (chunks %d) vs float64 stepping: %.3g", chunk_opts[ci], es);
        if (ci == 0) printf("  scan in 4 pieces with carry-in: outputs %.2e, final state vs float64 %.2e\n", e, es);
        /* the last output is w / u of the final state */
        double el = 0;
        for (int h = 0; h < H; h++) {
            const float *a = st + (size_t)h * (dh + 2);
            for (int i = 0; i < dh; i++)
                el = fmax(el, fabs(a[2 + i] / a[1] - o2[(size_t)(N - 1) * D + h * dh + i]));
        }
        CHECK(el <= 1e-6, "last output vs final state (chunks %d): %.3g", chunk_opts[ci], el);
    }
    /* N = 0 leaves the state as it was */
    memcpy(st0, st, sizeof(float) * H * (dh + 2));
    aaren_attn_scan_carry(o2, m2, u2, s2, v, 1, H, 0, dh, 0, scr, st);
    CHECK(!memcmp(st0, st, sizeof(float) * H * (dh + 2)), "scan_carry over 0 tokens changed the state");
    free(s); free(v); free(o); free(o2); free(m); free(u); free(s2); free(m2); free(u2);
    free(scr); free(st); free(st0); free(ref); free(ob); free(vd);
}

/* ---- prefill then step equals stepping ----------------------------------------------- */

/* N tokens through three streams of the same model:
 *   ref: stepped token by token;
 *   one: prefill of the first P tokens in one call (chunks of `chunk`), then steps;
 *   odd: 17 steps, then prefills of odd sizes (y NULL for one of them), steps between,
 *        prefill to 3/4 of N, then steps.
 * Outputs at every position and the final states must agree to TOL. */
static void prefill_parity(int arch, int norm, long N, long P, int chunk, int D, int H) {
    const int L = 2, F = 2 * D, dh = D / H;
    char err[256], tag[96];
    snprintf(tag, sizeof tag, "%s %s-norm N=%ld chunk=%d", aaren_arch_name(arch), norm ? "pre" : "post", N, chunk);
    aaren_model *m = make_model(arch, norm, D, H, L, F, 5 + (uint64_t)arch);
    if (!m) return;
    const size_t n = (size_t)N * D;
    float *x = malloc(n * 4), *yr = malloc(n * 4), *y1 = malloc(n * 4), *y2 = malloc(n * 4);
    uint64_t r = 1234;
    fill(x, n, &r);
    aaren_stream *ref = aaren_stream_new_batch(m, 1, N, chunk, err, sizeof err);
    aaren_stream *one = aaren_stream_new_batch(m, 1, N, chunk, err, sizeof err);
    aaren_stream *odd = aaren_stream_new_batch(m, 1, N, chunk, err, sizeof err);
    CHECK(ref && one && odd, "%s: %s", tag, err);
    if (!ref || !one || !odd) goto done;
    double t = now();
    int rc = 0;
    for (long i = 0; i < N; i++) rc |= aaren_stream_step(ref, x + (size_t)i * D, yr + (size_t)i * D, err, sizeof err);
    const double t_step = now() - t;
    t = now();
    rc |= aaren_stream_prefill(one, 0, x, P, y1, err, sizeof err);
    const double t_prefill = now() - t;
    for (long i = P; i < N; i++) rc |= aaren_stream_step(one, x + (size_t)i * D, y1 + (size_t)i * D, err, sizeof err);
    CHECK(!rc, "%s: %s", tag, err);
    const double e1 = rel_rows(y1, yr, N, D);
    CHECK(e1 <= TOL, "%s: prefill %ld + step vs step, worst position: %.3g", tag, P, e1);
    /* Aaren states: the reference steps the plain float32 cell, whose running sums drift
     * like any float32 sum (3e-6 to 7e-6 by 100,000 tokens); the prefill's scan is
     * compensated, so most of the difference is the reference's */
    const double s1 = state_diff(one, 0, ref, 0, arch == AAREN_ARCH_AAREN, L, H, dh);
    CHECK(s1 <= TOL, "%s: prefill %ld + step vs step, final state: %.3g", tag, P, s1);
    /* odd pieces from a non-zero position */
    const long sizes[] = {1, 2, chunk - 1, chunk, chunk + 1, 3 * chunk + 5, 63, 64, 65, 129, 997};
    long pos = 0;
    memset(y2, 0, n * 4);
    for (; pos < 17 && pos < N; pos++) rc |= aaren_stream_step(odd, x + (size_t)pos * D, y2 + (size_t)pos * D, err, sizeof err);
    for (int k = 0; k < 11 && pos < N; k++) {
        const long len = sizes[k] < N - pos ? sizes[k] : N - pos;
        /* piece 4 without outputs: only the state is wanted (compared through what follows) */
        float *yo = k == 4 ? NULL : y2 + (size_t)pos * D;
        if (!yo) memcpy(y2 + (size_t)pos * D, yr + (size_t)pos * D, (size_t)len * D * 4);
        rc |= aaren_stream_prefill(odd, 0, x + (size_t)pos * D, len, yo, err, sizeof err);
        pos += len;
        if (pos < N) { rc |= aaren_stream_step(odd, x + (size_t)pos * D, y2 + (size_t)pos * D, err, sizeof err); pos++; }
    }
    const long q3 = 3 * N / 4;
    if (pos < q3) {
        rc |= aaren_stream_prefill(odd, 0, x + (size_t)pos * D, q3 - pos, y2 + (size_t)pos * D, err, sizeof err);
        pos = q3;
    }
    for (; pos < N; pos++) rc |= aaren_stream_step(odd, x + (size_t)pos * D, y2 + (size_t)pos * D, err, sizeof err);
    CHECK(!rc, "%s: %s", tag, err);
    CHECK(aaren_stream_position(odd) == N, "%s: position %ld after the odd pieces", tag, aaren_stream_position(odd));
    const double e2 = rel_rows(y2, yr, N, D);
    CHECK(e2 <= TOL, "%s: odd prefill pieces + steps vs step, worst position: %.3g", tag, e2);
    const double s2 = state_diff(odd, 0, ref, 0, arch == AAREN_ARCH_AAREN, L, H, dh);
    CHECK(s2 <= TOL, "%s: odd prefill pieces + steps vs step, final state: %.3g", tag, s2);
    printf("  %-36s outputs %.2e / %.2e, states %.2e / %.2e; step %.1f us/token, prefill %.2f us/token\n",
           tag, e1, e2, s1, s2, 1e6 * t_step / (double)N, 1e6 * t_prefill / (double)(P > 0 ? P : 1));
done:
    aaren_stream_free(ref); aaren_stream_free(one); aaren_stream_free(odd);
    free(x); free(yr); free(y1); free(y2);
    aaren_model_free(m);
}

/* ---- a batch of streams equals that many single streams ------------------------------
 * Equal to float32 rounding, not bit for bit: a single stream's products have one row and
 * run the library's single-row kernel, a batch's have n rows and run the matrix-product
 * backend (OpenBLAS when built in), and the two add the same terms in different orders.
 * Everything else (LayerNorm, the attention cell, the caches) is per row and identical. */
static void batch_parity(int arch, int norm) {
    const int B = 5, D = 12, H = 3, L = 2, F = 20, T = 60;
    char err[256], tag[64];
    snprintf(tag, sizeof tag, "%s %s-norm batch", aaren_arch_name(arch), norm ? "pre" : "post");
    aaren_model *m = make_model(arch, norm, D, H, L, F, 21);
    if (!m) return;
    const long cap = 400;
    aaren_stream *bs = aaren_stream_new_batch(m, B, cap, 32, err, sizeof err);
    CHECK(bs != NULL, "%s: %s", tag, err);
    aaren_stream *ss[5];
    for (int i = 0; i < B; i++) ss[i] = aaren_stream_new_batch(m, 1, cap, 32, err, sizeof err);
    CHECK(aaren_stream_n_streams(bs) == B && aaren_stream_n_streams(ss[0]) == 1, "%s: n_streams", tag);
    uint64_t r = 77;
    float *x = malloc(sizeof(float) * 200 * B * D), *yb = malloc(sizeof(float) * B * D), *ys = malloc(sizeof(float) * B * D);
    fill(x, (size_t)200 * B * D, &r);
    int rc = 0;
    /* different starting positions: stream i prefilled with 7 i tokens of its own */
    for (int i = 0; i < B; i++) {
        rc |= aaren_stream_prefill(bs, i, x + (size_t)i * 7 * D, 7 * i, NULL, err, sizeof err);
        rc |= aaren_stream_prefill(ss[i], 0, x + (size_t)i * 7 * D, 7 * i, NULL, err, sizeof err);
    }
    double worst = 0;
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * B * D;
        rc |= aaren_stream_step_batch(bs, xt, yb, err, sizeof err);
        for (int i = 0; i < B; i++) rc |= aaren_stream_step(ss[i], xt + (size_t)i * D, ys + (size_t)i * D, err, sizeof err);
        worst = fmax(worst, rel_rows(yb, ys, B, D));
    }
    CHECK(!rc, "%s: %s", tag, err);
    CHECK(worst <= TOL, "%s: batch step vs %d single streams: %.3g", tag, B, worst);
    for (int i = 0; i < B; i++)
        CHECK(aaren_stream_position_one(bs, i) == T + 7 * i, "%s: stream %d at %ld", tag, i, aaren_stream_position_one(bs, i));
    /* a partial batch in a scrambled order, and one stream alone */
    const int some[3] = {3, 0, 4};
    double w2 = 0;
    for (int t = 0; t < 10; t++) {
        const float *xt = x + (size_t)(100 + t) * B * D;
        rc |= aaren_stream_step_some(bs, some, 3, xt, yb, err, sizeof err);
        for (int k = 0; k < 3; k++)
            rc |= aaren_stream_step(ss[some[k]], xt + (size_t)k * D, ys + (size_t)k * D, err, sizeof err);
        w2 = fmax(w2, rel_rows(yb, ys, 3, D));
        rc |= aaren_stream_step_one(bs, 2, xt + 3 * D, yb, err, sizeof err);
        rc |= aaren_stream_step(ss[2], xt + 3 * D, ys, err, sizeof err);
        w2 = fmax(w2, rel(yb, ys, (size_t)D));   /* same code, states equal to rounding */
    }
    CHECK(!rc, "%s: %s", tag, err);
    CHECK(w2 <= TOL, "%s: partial batch steps vs single streams: %.3g", tag, w2);
    CHECK(aaren_stream_position_one(bs, 1) == T + 7 && aaren_stream_position_one(bs, 2) == T + 24,
          "%s: positions after partial steps", tag);
    double sw = 0;
    for (int i = 0; i < B; i++) sw = fmax(sw, state_diff(bs, i, ss[i], 0, arch == AAREN_ARCH_AAREN, L, H, D / H));
    CHECK(sw <= TOL, "%s: states of the batch vs single streams: %.3g", tag, sw);
    /* the batch's state bytes are the sum of its streams' */
    size_t sum = 0;
    for (int i = 0; i < B; i++) sum += aaren_stream_state_bytes_one(bs, i);
    CHECK(aaren_stream_state_bytes(bs) == sum && sum > 0, "%s: state bytes %zu vs sum %zu", tag, aaren_stream_state_bytes(bs), sum);
    if (arch == AAREN_ARCH_AAREN)
        CHECK(aaren_stream_state_bytes_one(bs, 1) == (size_t)L * H * (D / H + 2) * sizeof(float),
              "%s: Aaren state per stream %zu bytes", tag, aaren_stream_state_bytes_one(bs, 1));
    /* reset_one: stream 1 starts over and matches a fresh single stream */
    CHECK(!aaren_stream_reset_one(bs, 1), "%s: reset_one", tag);
    aaren_stream_reset(ss[1]);
    CHECK(aaren_stream_position_one(bs, 1) == 0 && aaren_stream_position_one(bs, 0) > 0, "%s: reset_one positions", tag);
    rc |= aaren_stream_step_one(bs, 1, x, yb, err, sizeof err);
    rc |= aaren_stream_step(ss[1], x, ys, err, sizeof err);
    CHECK(!rc && !memcmp(yb, ys, sizeof(float) * D), "%s: stream 1 after reset_one", tag);
    printf("  %-36s batch vs singles %.2e, partial %.2e, states %.2e\n", tag, worst, w2, sw);
    free(x); free(yb); free(ys);
    for (int i = 0; i < B; i++) aaren_stream_free(ss[i]);
    aaren_stream_free(bs);
    aaren_model_free(m);
}

/* ---- state get / set ------------------------------------------------------------------ */

static void state_round_trip(int arch) {
    const int B = 3, D = 8, H = 2, L = 2, F = 16;
    char err[256];
    const char *an = aaren_arch_name(arch);
    aaren_model *m = make_model(arch, AAREN_NORM_POST, D, H, L, F, 31);
    if (!m) return;
    aaren_stream *a = aaren_stream_new_batch(m, B, 300, 16, err, sizeof err);
    aaren_stream *b = aaren_stream_new_batch(m, B, 300, 16, err, sizeof err);
    aaren_stream *one = aaren_stream_new(m, 300, err, sizeof err);
    uint64_t r = 5;
    float *x = malloc(sizeof(float) * 300 * D), *ya = malloc(sizeof(float) * B * D), *yb = malloc(sizeof(float) * B * D);
    fill(x, (size_t)300 * D, &r);
    int rc = 0;
    /* streams at positions 0, 40 (prefill) and 57 (prefill + steps) */
    rc |= aaren_stream_prefill(a, 1, x, 40, NULL, err, sizeof err);
    rc |= aaren_stream_prefill(a, 2, x + 40 * D, 50, NULL, err, sizeof err);
    for (int t = 0; t < 7; t++) rc |= aaren_stream_step_one(a, 2, x + (size_t)t * D, ya, err, sizeof err);
    CHECK(!rc, "%s: %s", an, err);
    /* per stream: stream 2 of a into stream 0 of a single stream and stream 1 of b */
    const size_t n2 = aaren_stream_state_size_one(a, 2), cap = 1 << 20;
    unsigned char *buf = malloc(cap);
    CHECK(aaren_stream_get_state_one(a, 2, buf, n2 - 1) == 0, "%s: get_state_one into a short buffer", an);
    CHECK(aaren_stream_get_state_one(a, 2, buf, cap) == n2, "%s: get_state_one size", an);
    CHECK(!aaren_stream_set_state_one(one, 0, buf, n2, err, sizeof err), "%s: set into a single stream: %s", an, err);
    CHECK(!aaren_stream_set_state_one(b, 1, buf, n2, err, sizeof err), "%s: set into stream 1: %s", an, err);
    CHECK(aaren_stream_position(one) == 57 && aaren_stream_position_one(b, 1) == 57, "%s: restored positions", an);
    int same = 1;
    for (int t = 0; t < 20; t++) {
        const float *xt = x + (size_t)(100 + t) * D;
        rc |= aaren_stream_step_one(a, 2, xt, ya, err, sizeof err);
        rc |= aaren_stream_step(one, xt, yb, err, sizeof err);
        same &= !memcmp(ya, yb, sizeof(float) * D);
        rc |= aaren_stream_step_one(b, 1, xt, yb, err, sizeof err);
        same &= !memcmp(ya, yb, sizeof(float) * D);
    }
    CHECK(!rc && same, "%s: restored stream continues bit for bit (one stream)", an);
    /* the whole batch, taken after a prefill */
    rc |= aaren_stream_prefill(a, 0, x + 200 * D, 33, NULL, err, sizeof err);
    const size_t nb = aaren_stream_state_size(a);
    unsigned char *all = malloc(nb);
    CHECK(aaren_stream_get_state(a, all, nb) == nb, "%s: get_state (batch)", an);
    size_t sum = 0;
    for (int i = 0; i < B; i++) sum += aaren_stream_state_size_one(a, i);
    CHECK(sum == nb, "%s: batch state size %zu is the sum of the streams' %zu", an, nb, sum);
    CHECK(aaren_stream_set_state(b, all, nb - 1, err, sizeof err) != 0, "%s: truncated batch state accepted", an);
    CHECK(aaren_stream_position_one(b, 1) == 77, "%s: a refused set changed stream 1 (position %ld)", an,
          aaren_stream_position_one(b, 1));
    CHECK(!aaren_stream_set_state(b, all, nb, err, sizeof err), "%s: set_state (batch): %s", an, err);
    same = 1;
    for (int t = 0; t < 20; t++) {
        const float *xt = x + (size_t)(150 + 3 * t) * D;
        rc |= aaren_stream_step_batch(a, xt, ya, err, sizeof err);
        rc |= aaren_stream_step_batch(b, xt, yb, err, sizeof err);
        same &= !memcmp(ya, yb, sizeof(float) * B * D);
    }
    CHECK(!rc && same, "%s: restored batch continues bit for bit", an);
    /* a one-stream batch's state is one record: it loads into any stream */
    const size_t n1 = aaren_stream_state_size(one);
    CHECK(aaren_stream_get_state(one, buf, cap) == n1, "%s: get_state of one stream", an);
    CHECK(!aaren_stream_set_state_one(b, 0, buf, n1, err, sizeof err), "%s: %s", an, err);
    CHECK(aaren_stream_set_state(b, buf, n1, err, sizeof err) != 0 && strstr(err, "stream 1 of 3"),
          "%s: one record for a batch of 3: %s", an, err);
    CHECK(aaren_stream_set_state_one(b, 3, buf, n1, err, sizeof err) != 0 && strstr(err, "out of range"),
          "%s: set_state_one index 3: %s", an, err);
    CHECK(aaren_stream_get_state_one(b, -1, buf, n1) == 0, "%s: get_state_one index -1", an);
    free(buf); free(all); free(x); free(ya); free(yb);
    aaren_stream_free(a); aaren_stream_free(b); aaren_stream_free(one);
    aaren_model_free(m);
}

/* ---- no allocation after creation ----------------------------------------------------- */

#if COUNT_ALLOCS
/* Every streaming path once: steps (one, some, batch), prefills (with and without
 * outputs, several chunks), state get and set. */
static int exercise(aaren_stream *s, const float *x, float *y, unsigned char *buf, size_t cap) {
    char err[256];
    const int some[2] = {1, 0};
    int rc = 0;
    rc |= aaren_stream_prefill(s, 0, x, 100, y, err, sizeof err);
    rc |= aaren_stream_prefill(s, 1, x, 37, NULL, err, sizeof err);
    rc |= aaren_stream_step_batch(s, x, y, err, sizeof err);
    rc |= aaren_stream_step_some(s, some, 2, x, y, err, sizeof err);
    rc |= aaren_stream_step_one(s, 1, x, y, err, sizeof err);
    const size_t n = aaren_stream_get_state(s, buf, cap);
    rc |= n == 0;
    rc |= aaren_stream_set_state(s, buf, n, err, sizeof err);
    aaren_stream_reset_one(s, 0);
    rc |= aaren_stream_prefill(s, 0, x, 10, y, err, sizeof err);
    return rc;
}

#endif

static void no_allocation(void) {
#if COUNT_ALLOCS
    char err[256];
    {   /* the counter sees this program's own calls */
        void *(*volatile mf)(size_t) = malloc;
        atomic_store(&n_allocs, 0);
        atomic_store(&counting, 1);
        void *p = mf(16);
        atomic_store(&counting, 0);
        CHECK(atomic_load(&n_allocs) == 1, "the allocation counter missed a malloc");
        free(p);
    }
    for (int arch = 0; arch < 2; arch++) {
        aaren_model *m = make_model(arch, AAREN_NORM_PRE, 16, 2, 2, 32, 41);
        if (!m) return;
        float *x = malloc(sizeof(float) * 100 * 16), *y = malloc(sizeof(float) * 100 * 16);
        uint64_t r = 3;
        fill(x, 100 * 16, &r);
        const size_t cap = 1 << 20;
        unsigned char *buf = malloc(cap);
        /* warm-up on another stream object: the OpenMP and BLAS runtimes set up their
         * thread pools and buffers on first use */
        aaren_stream *w = aaren_stream_new_batch(m, 2, 400, 32, err, sizeof err);
        atomic_store(&n_allocs, 0);
        atomic_store(&counting, 1);
        const int rcw = exercise(w, x, y, buf, cap);
        atomic_store(&counting, 0);
        const long first = atomic_load(&n_allocs);
        atomic_store(&n_allocs, 0);
        atomic_store(&counting, 1);
        aaren_stream *s = aaren_stream_new_batch(m, 2, 400, 32, err, sizeof err);
        atomic_store(&counting, 0);
        CHECK(s && atomic_load(&n_allocs) > 0, "the counter missed the library's allocations at creation");
        atomic_store(&n_allocs, 0);
        atomic_store(&counting, 1);
        const int rc = exercise(s, x, y, buf, cap);
        atomic_store(&counting, 0);
        const long n = atomic_load(&n_allocs);
        CHECK(!rc && !rcw, "%s: exercise failed", aaren_arch_name(arch));
        CHECK(n == 0, "%s: %ld allocations while stepping and prefilling", aaren_arch_name(arch), n);
        printf("  %-36s allocations after creation: %ld (on the first use in the process, by the "
               "runtime libraries: %ld)\n", aaren_arch_name(arch), n, first);
        aaren_stream_free(w); aaren_stream_free(s);
        free(x); free(y); free(buf);
        aaren_model_free(m);
    }
#else
    printf("  allocation count: SKIPPED (AddressSanitizer replaces malloc; the release build checks it)\n");
#endif
}

/* ---- errors ---------------------------------------------------------------------------- */

static void errors(void) {
    char err[256];
    aaren_model *m = make_model(AAREN_ARCH_TRANSFORMER, AAREN_NORM_POST, 8, 2, 1, 16, 51);
    aaren_model *ma = make_model(AAREN_ARCH_AAREN, AAREN_NORM_POST, 8, 2, 1, 16, 52);
    if (!m || !ma) return;
    float x[101 * 8], y[101 * 8];
    memset(x, 0, sizeof x);
    aaren_stream *s = aaren_stream_new_batch(m, 2, 100, 16, err, sizeof err);
    CHECK(s != NULL, "%s", err);
    if (!s) return;
    err[0] = 0;
    CHECK(aaren_stream_prefill(s, 0, x, 101, y, err, sizeof err) != 0 && strstr(err, "capacity") && strstr(err, "101"),
          "prefill past the capacity: '%s'", err);
    CHECK(aaren_stream_position_one(s, 0) == 0, "a refused prefill moved the stream");
    CHECK(!aaren_stream_prefill(s, 0, x, 60, y, err, sizeof err), "%s", err);
    CHECK(aaren_stream_prefill(s, 0, x, 41, y, err, sizeof err) != 0 && strstr(err, "position 60"),
          "prefill of 41 at position 60 of 100: '%s'", err);
    CHECK(!aaren_stream_prefill(s, 0, x, 40, NULL, err, sizeof err), "%s", err);
    CHECK(aaren_stream_step_one(s, 0, x, y, err, sizeof err) != 0 && strstr(err, "full"), "step of a full cache: '%s'", err);
    CHECK(aaren_stream_step_batch(s, x, y, err, sizeof err) != 0 && aaren_stream_position_one(s, 1) == 0,
          "a batch step with one full stream must change nothing");
    CHECK(!aaren_stream_step_one(s, 1, x, y, err, sizeof err), "the other stream still steps: %s", err);
    CHECK(aaren_stream_prefill(s, 2, x, 1, y, err, sizeof err) != 0 && strstr(err, "out of range"), "prefill stream 2: '%s'", err);
    CHECK(aaren_stream_prefill(s, -1, x, 1, y, err, sizeof err) != 0 && strstr(err, "out of range"), "prefill stream -1: '%s'", err);
    CHECK(aaren_stream_prefill(s, 1, x, -3, y, err, sizeof err) != 0, "prefill of -3 tokens");
    CHECK(aaren_stream_step_one(s, 5, x, y, err, sizeof err) != 0 && strstr(err, "stream 5"), "step_one stream 5: '%s'", err);
    const int dup[2] = {1, 1};
    CHECK(aaren_stream_step_some(s, dup, 2, x, y, err, sizeof err) != 0 && strstr(err, "twice"), "repeated stream: '%s'", err);
    CHECK(aaren_stream_position_one(s, 1) == 1, "a refused step moved stream 1");
    CHECK(aaren_stream_step_some(s, NULL, 3, x, y, err, sizeof err) != 0, "3 rows for a batch of 2");
    CHECK(aaren_stream_reset_one(s, 2) != 0 && aaren_stream_position_one(s, 2) == -1, "reset_one / position_one of stream 2");
    aaren_stream_free(s);
    CHECK(!aaren_stream_new_batch(m, 0, 10, 16, err, sizeof err) && strstr(err, "n_streams"), "0 streams: '%s'", err);
    CHECK(!aaren_stream_new_batch(m, 2, 10, 0, err, sizeof err) && strstr(err, "prefill_chunk"), "chunk 0: '%s'", err);
    CHECK(!aaren_stream_new_batch(m, 2, 0, 16, err, sizeof err) && strstr(err, "capacity"), "transformer without a cache: '%s'", err);
    /* Aaren has no capacity: a long prefill is fine, a bad index is not */
    aaren_stream *a = aaren_stream_new_batch(ma, 2, 0, 16, err, sizeof err);
    CHECK(a != NULL, "%s", err);
    CHECK(!aaren_stream_prefill(a, 1, x, 101, NULL, err, sizeof err), "%s", err);
    CHECK(aaren_stream_prefill(a, 2, x, 1, NULL, err, sizeof err) != 0 && strstr(err, "out of range"), "aaren prefill stream 2: '%s'", err);
#ifdef _OPENMP
    /* the scan scratch is per thread: a prefill after raising the thread count is refused */
    const int threads = omp_get_max_threads();
    omp_set_num_threads(threads + 1);
    CHECK(aaren_stream_prefill(a, 0, x, 5, NULL, err, sizeof err) != 0 && strstr(err, "threads"),
          "prefill after raising the thread count: '%s'", err);
    CHECK(!aaren_stream_step_one(a, 0, x, y, err, sizeof err), "steps need no per-thread scratch: %s", err);
    /* the Transformer's parallel regions keep to the threads it has scratch for */
    aaren_stream *tr = aaren_stream_new_batch(m, 2, 300, 100, err, sizeof err);
    omp_set_num_threads(threads + 3);
    float *xl = calloc(300 * 8, sizeof(float)), *yl = calloc(300 * 8, sizeof(float));
    CHECK(tr && !aaren_stream_prefill(tr, 1, xl, 250, yl, err, sizeof err) &&
          !aaren_stream_step_batch(tr, xl, yl, err, sizeof err), "transformer with more threads: %s", err);
    free(xl); free(yl);
    aaren_stream_free(tr);
    omp_set_num_threads(threads);
    CHECK(!aaren_stream_prefill(a, 0, x, 5, NULL, err, sizeof err), "%s", err);
#endif
    aaren_stream_free(a);
    aaren_model_free(m);
    aaren_model_free(ma);
}

/* ---- speed (informative) ----------------------------------------------------------------- */

/* Per-stream time of B single-stream steps and of one batch step of B, at the given
 * OpenMP thread count (0: as configured). */
static void speed_at(aaren_model *m, int B, int D, int T, int threads) {
    char err[256];
#ifdef _OPENMP
    const int saved = omp_get_max_threads();
    if (threads > 0) omp_set_num_threads(threads);
#else
    (void)threads;
#endif
    aaren_stream *bs = aaren_stream_new_batch(m, B, 0, 64, err, sizeof err);
    aaren_stream **ss = malloc(sizeof(*ss) * B);
    for (int i = 0; i < B; i++) ss[i] = aaren_stream_new_batch(m, 1, 0, 1, err, sizeof err);
    float *x = malloc(sizeof(float) * B * D), *y = malloc(sizeof(float) * B * D);
    uint64_t r = 8;
    fill(x, (size_t)B * D, &r);
    int rc = 0;
    for (int i = 0; i < B; i++) rc |= aaren_stream_step(ss[i], x + (size_t)i * D, y + (size_t)i * D, err, sizeof err);
    rc |= aaren_stream_step_batch(bs, x, y, err, sizeof err);   /* warm-up */
    double t = now();
    for (int k = 0; k < T; k++)
        for (int i = 0; i < B; i++) rc |= aaren_stream_step(ss[i], x + (size_t)i * D, y + (size_t)i * D, err, sizeof err);
    const double t_single = (now() - t) / ((double)T * B);
    t = now();
    for (int k = 0; k < T; k++) rc |= aaren_stream_step_batch(bs, x, y, err, sizeof err);
    const double t_batch = (now() - t) / ((double)T * B);
    CHECK(!rc, "speed: %s", err);
    const aaren_config *c = aaren_model_config(m);
    printf("  speed (aaren d_model %d, d_ff %d, %d layers, %d thread(s)): %d single streams %.1f us/token "
           "each, one batch of %d %.1f us/token per stream: %.1fx\n", D, c->d_ff, c->n_layers, aaren_threads(),
           B, 1e6 * t_single, B, 1e6 * t_batch, t_single / t_batch);
    free(x); free(y);
    for (int i = 0; i < B; i++) aaren_stream_free(ss[i]);
    free(ss);
    aaren_stream_free(bs);
#ifdef _OPENMP
    omp_set_num_threads(saved);
#endif
}

static void speed(void) {
    const int B = 32, D = UNDER_ASAN ? 64 : 256, L = UNDER_ASAN ? 2 : 4, T = UNDER_ASAN ? 10 : 50;
    aaren_model *m = make_model(AAREN_ARCH_AAREN, AAREN_NORM_POST, D, 4, L, 4 * D, 61);
    if (!m) return;
    speed_at(m, B, D, T, 0);
    if (aaren_threads() > 1) speed_at(m, B, D, T, 1);
    aaren_model_free(m);
    /* with ReLU: GELU's erf is per row and costs the same batched or not */
    aaren_config c = {AAREN_ARCH_AAREN, D, 4, L, 4 * D, AAREN_NORM_POST, AAREN_RELU, 1e-5f};
    char err[256];
    m = aaren_model_new(&c, err, sizeof err);
    if (!m) return;
    aaren_model_init(m, 62);
    printf("  with ReLU instead of GELU:\n");
    speed_at(m, B, D, T, 0);
    aaren_model_free(m);
}

int main(void) {
    double t = now();
    no_allocation();   /* first, so that the warm-up is the process's first use of the runtimes */
    scan_carry_kernel();
    printf("  allocations, scan with carry-in: %.2f s\n", now() - t);
    t = now();
    /* (a) Aaren: N = 100,000 (prefill 60,000, then step 40,000), 30,000 pre-norm; odd chunks */
    prefill_parity(AAREN_ARCH_AAREN, AAREN_NORM_POST, 100000, 60000, 256, 16, 2);
    prefill_parity(AAREN_ARCH_AAREN, AAREN_NORM_PRE, 30000, 20000, 256, 16, 2);
    prefill_parity(AAREN_ARCH_AAREN, AAREN_NORM_PRE, 3000, 1000, 7, 12, 3);
    prefill_parity(AAREN_ARCH_AAREN, AAREN_NORM_POST, 3000, 2999, 1, 12, 3);
    /* one head and passes of >= 8192 tokens: with more than one thread the scan splits
     * time into chunks, each continued from its carry-in */
    prefill_parity(AAREN_ARCH_AAREN, AAREN_NORM_POST, 20000, 19000, 9000, 8, 1);
    printf("  aaren prefill parity: %.2f s\n", now() - t);
    t = now();
    /* (b) Transformer: N = 3,000; chunks that are and are not multiples of the blocks */
    prefill_parity(AAREN_ARCH_TRANSFORMER, AAREN_NORM_POST, 3000, 1800, 256, 16, 2);
    prefill_parity(AAREN_ARCH_TRANSFORMER, AAREN_NORM_PRE, 3000, 2000, 100, 16, 2);
    prefill_parity(AAREN_ARCH_TRANSFORMER, AAREN_NORM_PRE, 700, 500, 1, 12, 3);
    prefill_parity(AAREN_ARCH_TRANSFORMER, AAREN_NORM_POST, 90, 50, 16, 8, 2);   /* cache < a key block */
    printf("  transformer prefill parity: %.2f s\n", now() - t);
    t = now();
    /* (c) batches */
    for (int arch = 0; arch < 2; arch++)
        for (int norm = 0; norm < 2; norm++) batch_parity(arch, norm);
    /* (d) states */
    state_round_trip(AAREN_ARCH_AAREN);
    state_round_trip(AAREN_ARCH_TRANSFORMER);
    /* (f) errors */
    errors();
    printf("  batches, states, errors: %.2f s\n", now() - t);
    speed();
    return check_done("test_stream");
}
