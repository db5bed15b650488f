/* The benchmark harness of `aaren bench` (harness.h): the measurements of
 *   1. training: tokens/s of aaren_train_step for Aaren and the Transformer, against the
 *      bound set by the matrix products of their linear layers (timed here, same shapes);
 *   2. streaming, one token at a time: latency, resident memory and stream state against
 *      position, cumulative time to N tokens, and a batch of streams against single steps;
 *   3. the PyTorch twin of the same Aaren model (python/bench_twin.py);
 *   4. decision models: one update of the offline-RL recipe against its products' bound. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"
#ifdef _OPENMP
#include <omp.h>
#endif
#include "base/process.h"
#include "base/common.h"
#include "kernels/kernels.h"
#include "layers/layers.h"
#include "base/rng.h"
#include "tasks/dt.h"

/* "aaren bench: message" on stderr; returns 1. */
static int bench_fail(const char *fmt, ...) AAREN_PRINTF(1, 2);
static int bench_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("aaren bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}
/* ---- small helpers ------------------------------------------------------------------ */

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of x[0..n), sorting x in place. */
static double median_inplace(double *x, int n) {
    if (n <= 0) return NAN;
    qsort(x, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

static double median(const double *x, int n) {
    double tmp[MAX_REPS];
    if (n > MAX_REPS) n = MAX_REPS;
    memcpy(tmp, x, sizeof(double) * (size_t)(n > 0 ? n : 0));
    return median_inplace(tmp, n);
}

static int more_reps(const reps_rule *r, int done, double spent) {
    if (done >= MAX_REPS) return 0;
    if (done < r->hard_min) return 1;
    if (spent >= r->long_s) return 0;
    return done < r->min_reps || spent < r->budget_s;
}

/* Reads a small /proc file into buf without allocating (so that reading it leaves the
 * resident memory it measures unchanged). Returns the bytes read, or -1. */
static long read_small(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    long n = 0;
    for (;;) {
        const ssize_t k = read(fd, buf + n, cap - 1 - (size_t)n);
        if (k <= 0) break;
        n += k;
        if ((size_t)n >= cap - 1) break;
    }
    close(fd);
    buf[n] = 0;
    return n;
}

/* Resident set size now (bytes), from /proc/self/statm; -1 when unreadable. */
static long rss_bytes(void) {
    char buf[256];
    long size, res;
    if (read_small("/proc/self/statm", buf, sizeof buf) <= 0 || sscanf(buf, "%ld %ld", &size, &res) != 2) return -1;
    return res * sysconf(_SC_PAGESIZE);
}

/* MemAvailable of /proc/meminfo in bytes; 0 when unknown. */
static double mem_available(void) {
    char buf[8192];
    if (read_small("/proc/meminfo", buf, sizeof buf) <= 0) return 0;
    const char *p = strstr(buf, "MemAvailable:");
    return p ? 1024.0 * atof(p + 13) : 0;
}

double bench_load_average(void) {
    char buf[128];
    return read_small("/proc/loadavg", buf, sizeof buf) > 0 ? atof(buf) : -1;
}


static void fill_normal(float *x, size_t n, uint64_t seed) {
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) x[i] = (float)aaren_rng_normal(&s);
}

static const char *mib(double bytes, char *buf, size_t len) {
    if (bytes < 1 << 20) snprintf(buf, len, "%.1f KiB", bytes / 1024.0);
    else if (bytes < 1 << 30) snprintf(buf, len, "%.1f MiB", bytes / 1048576.0);
    else snprintf(buf, len, "%.2f GiB", bytes / 1073741824.0);
    return buf;
}

/* "1K", "16K", "1M" for powers of two from 1024; the plain number otherwise. */
const char *bench_tok_label(long n, char *buf, size_t len) {
    if (n >= 1048576 && n % 1048576 == 0) snprintf(buf, len, "%ldM", n / 1048576);
    else if (n >= 1024 && n % 1024 == 0) snprintf(buf, len, "%ldK", n / 1024);
    else snprintf(buf, len, "%ld", n);
    return buf;
}

/* ---- the matrix-product bound ---------------------------------------------------------
 * Every linear layer of one training step, as aaren_linear_forward / _backward call the
 * matrix product: forward out[M, OUT] = in[M, IN] W^T (+ bias, C read and written),
 * backward din[M, IN] += dout W and dW[OUT, IN] += dout^T in. Each is 2 M IN OUT FLOPs. */
typedef struct {
    int in, out, din;   /* din: the input gradient is computed */
    int useful;         /* output columns that count as FLOPs (Aaren's key-value product has
                         * 2D + 1 columns, one of them x . k_proj.bias, never read; the
                         * Transformer's query-key-value product 3D + 2, two never read) */
    const char *what;
} linear_shape;

/* The linear layers of a sequence model (embed, encoder, head), forward order, as the library
 * calls the product: Aaren's key and value projections are one product of 2D + 1 outputs, the
 * Transformer's query, key and value projections one of 3D + 2 (layers_decl.inc). */
static int list_linears(const aaren_config *c, int d_in, int d_out, linear_shape *l) {
    const int D = c->d_model, F = c->d_ff;
    int n = 0;
    l[n++] = (linear_shape){d_in, D, 0, D, "embedding"};
    for (int i = 0; i < c->n_layers; i++) {
        if (c->arch == AAREN_ARCH_AAREN) {
            l[n++] = (linear_shape){D, 2 * D + 1, 1, 2 * D, "key+value"};
        } else {
            l[n++] = (linear_shape){D, 3 * D + 2, 1, 3 * D, "query+key+value"};
        }
        l[n++] = (linear_shape){D, D, 1, D, "out_proj"};
        l[n++] = (linear_shape){D, F, 1, F, "ffn linear1"};
        l[n++] = (linear_shape){F, D, 1, D, "ffn linear2"};
    }
    l[n++] = (linear_shape){D, d_out, 1, d_out, "head"};
    return n;
}

/* FLOPs per token of those products in one training step. */
static double linear_flops_per_token(const aaren_config *c, int d_in, int d_out) {
    linear_shape l[6 * AAREN_MAX_LAYERS + 2];
    const int n = list_linears(c, d_in, d_out, l);
    double f = 0;
    for (int i = 0; i < n; i++) f += 2.0 * l[i].in * l[i].useful * (2 + l[i].din);
    return f;
}


/* Times the products l[0..n) of one training step, product i on rows[i] rows (median of
 * passes): forward in order, then the input gradients and the weight gradients in reverse. */
static int time_products(const bench_opts *o, const linear_shape *l, int n, const int *rows, gemm_result *g) {
    int wmax = 1, M = 1;
    for (int i = 0; i < n; i++) {
        if (l[i].in > wmax) wmax = l[i].in;
        if (l[i].out > wmax) wmax = l[i].out;
        if (rows[i] > M) M = rows[i];
    }
    const size_t big = (size_t)M * wmax;
    float *in = malloc(sizeof(float) * big), *dout = malloc(sizeof(float) * big), *out = malloc(sizeof(float) * big);
    float *w = malloc(sizeof(float) * (size_t)wmax * wmax), *dw = malloc(sizeof(float) * (size_t)wmax * wmax);
    if (!in || !dout || !out || !w || !dw) {
        free(in); free(dout); free(out); free(w); free(dw);
        return -1;
    }
    fill_normal(in, big, o->seed + 11);
    fill_normal(dout, big, o->seed + 12);
    fill_normal(w, (size_t)wmax * wmax, o->seed + 13);
    memset(out, 0, sizeof(float) * big);
    memset(dw, 0, sizeof(float) * (size_t)wmax * wmax);
    g->flops = 0;
    for (int i = 0; i < n; i++) g->flops += 2.0 * rows[i] * l[i].in * l[i].useful * (2 + l[i].din);
    double fwd[MAX_REPS], din[MAX_REPS], dwt[MAX_REPS], tot[MAX_REPS], spent = 0;
    int k = -1;   /* pass -1 is the warm-up */
    while (k < 0 || more_reps(&o->gemm_rule, k, spent)) {
        const double t0 = aaren_now_s();
        for (int i = 0; i < n; i++)
            aaren_gemm(0, 1, rows[i], l[i].out, l[i].in, 1, in, l[i].in, w, l[i].in, 1, out, l[i].out);
        const double t1 = aaren_now_s();
        for (int i = n - 1; i >= 0; i--)
            if (l[i].din) aaren_gemm(0, 0, rows[i], l[i].in, l[i].out, 1, dout, l[i].out, w, l[i].in, 1, out, l[i].in);
        const double t2 = aaren_now_s();
        for (int i = n - 1; i >= 0; i--)
            aaren_gemm(1, 0, l[i].out, l[i].in, rows[i], 1, dout, l[i].out, in, l[i].in, 1, dw, l[i].in);
        const double t3 = aaren_now_s();
        if (k >= 0) {
            fwd[k] = t1 - t0; din[k] = t2 - t1; dwt[k] = t3 - t2; tot[k] = t3 - t0;
            spent += tot[k];
        }
        k++;
    }
    g->reps = k;
    g->step_s = median(tot, k);
    g->fwd_s = median(fwd, k);
    g->din_s = median(din, k);
    g->dw_s = median(dwt, k);
    free(in); free(dout); free(out); free(w); free(dw);
    return 0;
}

/* Times the products of one training step of the sequence model on M rows. */
static int gemm_bound(const bench_opts *o, const aaren_config *c, int M, gemm_result *g) {
    linear_shape l[6 * AAREN_MAX_LAYERS + 2];
    int rows[6 * AAREN_MAX_LAYERS + 2];
    const int n = list_linears(c, o->d_io, o->d_io, l);
    for (int i = 0; i < n; i++) rows[i] = M;
    return time_products(o, l, n, rows, g);
}

/* ---- the host's peak ------------------------------------------------------------------
 * What the machine's matrix products reach at their best: square float32 products of n = 2048
 * (aaren_gemm, the backend the library uses), best of 5 after a warm-up, on one thread and on
 * all of them. Training figures are then also stated as a share of this peak, so that the bound
 * is the machine's, not our own code's on the step's shapes. */
typedef struct {
    double gflops[2];   /* one thread, all threads */
    int threads;
} host_peak;

static void measure_peak(host_peak *h) {
    const int n = 2048;
    float *a = malloc(sizeof(float) * (size_t)n * n), *b = malloc(sizeof(float) * (size_t)n * n);
    float *c = malloc(sizeof(float) * (size_t)n * n);
    h->threads = aaren_threads();
    h->gflops[0] = h->gflops[1] = 0;
    if (a && b && c) {
        fill_normal(a, (size_t)n * n, 1);
        fill_normal(b, (size_t)n * n, 2);
        for (int t = 0; t < 2; t++) {
#ifdef _OPENMP
            omp_set_num_threads(t == 0 ? 1 : h->threads);
#endif
            double best = 1e30;
            for (int k = -1; k < 5; k++) {   /* k = -1: warm-up */
                const double t0 = aaren_now_s();
                aaren_gemm(0, 1, n, n, n, 1, a, n, b, n, 0, c, n);
                const double dt = aaren_now_s() - t0;
                if (k >= 0 && dt < best) best = dt;
            }
            h->gflops[t] = 2.0 * n * n * n / best / 1e9;
        }
#ifdef _OPENMP
        omp_set_num_threads(h->threads);
#endif
    }
    free(a);
    free(b);
    free(c);
}

/* The instruction sets that decide the products' speed, as the CPU reports them. */
const char *bench_isa_name(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return "AVX-512F (and AVX2, FMA)";
    if (__builtin_cpu_supports("avx2")) return __builtin_cpu_supports("fma") ? "AVX2 + FMA" : "AVX2";
    if (__builtin_cpu_supports("avx")) return "AVX";
    return "SSE";
#else
    return "unknown (not x86-64)";
#endif
}

static host_peak peak;   /* measured once per run, before the training section */

/* ---- each product shape of a step (--shapes) ------------------------------------------
 * Every distinct linear-layer shape of one training step at M rows, its three products
 * (forward out = in W^T, input gradient din += dout W, weight gradient dW += dout^T in) each
 * timed alone: best of 3 after a warm-up, GFLOP/s (useful columns only) and share of the
 * host's peak. Shows which product shape holds the step back. */
static void print_shapes(const bench_opts *o, const aaren_config *c, int M) {
    linear_shape l[6 * AAREN_MAX_LAYERS + 2];
    const int n = list_linears(c, o->d_io, o->d_io, l);
    const double top = peak.gflops[1] > peak.gflops[0] ? peak.gflops[1] : peak.gflops[0];
    printf("  %s, M = %d rows: shape [in -> out]   forward GF/s (of peak)  input grad          weight grad\n",
           aaren_arch_name(c->arch), M);
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= l[j].in == l[i].in && l[j].out == l[i].out && l[j].din == l[i].din;
        if (seen) continue;
        const int in = l[i].in, out = l[i].out;
        float *x = malloc(sizeof(float) * (size_t)M * in), *y = malloc(sizeof(float) * (size_t)M * out);
        float *w = malloc(sizeof(float) * (size_t)in * out), *dw = calloc((size_t)in * out, sizeof(float));
        float *dx = calloc((size_t)M * in, sizeof(float));
        if (!x || !y || !w || !dw || !dx) {
            printf("  %-16s [%d -> %d]: no memory\n", l[i].what, in, out);
            free(x); free(y); free(w); free(dw); free(dx);
            continue;
        }
        fill_normal(x, (size_t)M * in, o->seed + 21);
        fill_normal(y, (size_t)M * out, o->seed + 22);
        fill_normal(w, (size_t)in * out, o->seed + 23);
        /* as the library calls them (row bands a thread, see aaren_gemm_row_split), then the
         * same products with the BLAS's own threads */
        const int split = aaren_gemm_row_split(-1);
        for (int v = 0; v < 1 + split; v++) {
            aaren_gemm_row_split(v == 0 ? split : 0);
            double best[3] = {1e30, 1e30, 1e30};
            for (int k = -1; k < 3; k++) {
                double t[4];
                t[0] = aaren_now_s();
                aaren_gemm(0, 1, M, out, in, 1, x, in, w, in, 1, y, out);
                t[1] = aaren_now_s();
                if (l[i].din) aaren_gemm(0, 0, M, in, out, 1, y, out, w, in, 1, dx, in);
                t[2] = aaren_now_s();
                aaren_gemm(1, 0, out, in, M, 1, y, out, x, in, 1, dw, in);
                t[3] = aaren_now_s();
                for (int p = 0; p < 3 && k >= 0; p++) if (t[p + 1] - t[p] < best[p]) best[p] = t[p + 1] - t[p];
            }
            const double f = 2.0 * M * in * l[i].useful;
            char cell[3][40];
            for (int p = 0; p < 3; p++) {
                if (p == 1 && !l[i].din) snprintf(cell[p], sizeof cell[p], "-");
                else snprintf(cell[p], sizeof cell[p], "%7.1f (%5.1f%%)", f / best[p] / 1e9, top > 0 ? 100 * f / best[p] / 1e9 / top : 0);
            }
            if (v == 0) printf("  %-16s [%4d -> %4d]    %-22s %-19s %s\n", l[i].what, in, out, cell[0], cell[1], cell[2]);
            else printf("    BLAS's threads instead       %-22s %-19s %s\n", cell[0], cell[1], cell[2]);
        }
        aaren_gemm_row_split(split);
        free(x); free(y); free(w); free(dw); free(dx);
    }
}


/* ---- the other kernels of a training step ---------------------------------------------
 * One block's attention kernel (Aaren: the prefix scan; Transformer: blocked causal
 * attention), its two LayerNorms and its activation, forward and backward, on the step's
 * shapes and with the library's own functions; times one layer and multiplies by L. */
static int time_ops(const bench_opts *o, int arch, int B, int N, ops_result *r) {
    const aaren_config *c = &o->cfg;
    const int D = c->d_model, H = c->n_heads, dh = D / H, F = c->d_ff, L = c->n_layers;
    const size_t M = (size_t)B * N, nd = M * D, nf = M * F, nh = (size_t)B * H * N;
    const size_t ks = arch == AAREN_ARCH_AAREN ? aaren_attn_scratch_len(dh, 0) : aaren_causal_attn_scratch_len(N);
    float *buf = malloc(sizeof(float) * (8 * nd + 3 * nf + 4 * nh + 6 * (size_t)D + M * 2 + ks));
    if (!buf) return -1;
    float *q = buf, *k = q + nd, *v = k + nd, *out = v + nd, *g = out + nd, *dq = g + nd, *dk = dq + nd, *dv = dk + nd;
    float *f1 = dv + nd, *fa = f1 + nf, *dfa = fa + nf;
    float *sc = dfa + nf, *sm = sc + nh, *su = sm + nh, *ds = su + nh;
    float *w = ds + nh, *b = w + D, *dw = b + D, *db = dw + D, *dw2 = db + D, *db2 = dw2 + D;
    float *mean = db2 + D, *rstd = mean + M, *scr = rstd + M;
    fill_normal(buf, 8 * nd + 3 * nf + 4 * nh + 6 * (size_t)D + 2 * M + ks, o->seed + 21);
    for (int i = 0; i < D; i++) { w[i] = 1; b[i] = 0; }
    double t[6][MAX_REPS], spent = 0;
    int n = -1;   /* pass -1 is the warm-up */
    while (n < 0 || more_reps(&o->phase_rule, n, spent)) {
        double tk[7];
        tk[0] = aaren_now_s();
        if (arch == AAREN_ARCH_AAREN) {
            aaren_attn_scan(out, sm, su, sc, v, B, H, N, dh, 0, scr);
            tk[1] = aaren_now_s();
            aaren_attn_scan_backward(ds, dv, g, out, sm, su, sc, v, B, H, N, dh, 0, scr);
        } else {
            aaren_causal_attn_forward(out, sm, q, k, v, B, H, N, dh, scr);
            tk[1] = aaren_now_s();
            aaren_causal_attn_backward(dq, dk, dv, g, q, k, v, out, sm, B, H, N, dh, scr);
        }
        tk[2] = aaren_now_s();
        for (int j = 0; j < 2; j++) aaren_layernorm_forward(out, mean, rstd, q, w, b, (int)M, D, c->ln_eps);
        tk[3] = aaren_now_s();
        for (int j = 0; j < 2; j++) aaren_layernorm_backward(dq, dw, db, g, q, mean, rstd, w, (int)M, D);
        tk[4] = aaren_now_s();
        aaren_act_forward(fa, f1, nf, c->activation);
        tk[5] = aaren_now_s();
        aaren_act_backward(dfa, fa, f1, fa, nf, c->activation);
        tk[6] = aaren_now_s();
        if (n >= 0) {
            for (int j = 0; j < 6; j++) t[j][n] = tk[j + 1] - tk[j];
            spent += tk[6] - tk[0];
        }
        n++;
    }
    r->attn_f = L * median(t[0], n);
    r->attn_b = L * median(t[1], n);
    r->ln_f = L * median(t[2], n);
    r->ln_b = L * median(t[3], n);
    r->act_f = L * median(t[4], n);
    r->act_b = L * median(t[5], n);
    (void)dk; (void)dw2; (void)db2;
    free(buf);
    return 0;
}

/* ---- 1. training --------------------------------------------------------------------- */


/* Builds a sequence model of architecture arch (the checkpoint's weights when it has that
 * architecture). */
static aaren_seqmodel *make_seqmodel(const bench_opts *o, int arch, char *err, size_t errlen) {
    aaren_config c = o->cfg;
    c.arch = arch;
    aaren_seqmodel *sm = aaren_seqmodel_new(&c, o->d_io, o->d_io, err, errlen);
    if (!sm) return NULL;
    aaren_seqmodel_init(sm, o->seed);
    if (o->ckpt && aaren_model_config(o->ckpt)->arch == arch)
        memcpy(aaren_model_params(aaren_seqmodel_encoder(sm)), aaren_model_params(o->ckpt),
               sizeof(float) * aaren_model_n_params(o->ckpt));
    return sm;
}

/* Runs one training configuration. Returns 0; 1 when it does not fit memory (nothing run);
 * -1 on another failure (message printed). */
static int train_config(const bench_opts *o, int arch, int B, int N, train_point *r) {
    char err[512];
    memset(r, 0, sizeof *r);
    r->B = B;
    r->N = N;
    aaren_seqmodel *sm = make_seqmodel(o, arch, err, sizeof err);
    aaren_adamw *opt = NULL;
    float *x = NULL, *y = NULL;
    int rc = -1;
    if (!sm) goto done;
    aaren_model *enc = aaren_seqmodel_encoder(sm);
    if (aaren_seqmodel_reserve(sm, B, N, 1, err, sizeof err)) { rc = 1; goto done; }
    {
        size_t p, g, a;
        aaren_model_memory(enc, &p, &g, &a);
        const double tokens = (double)B * N, D = o->cfg.d_model;
        /* the sequence model's own activations (4 D + 2 d_out per token), the optimizer's
         * two moments and mask, the inputs and targets */
        r->bytes = (double)(p + g + a) + 4.0 * tokens * (4 * D + 2 * o->d_io) +
                   12.0 * aaren_model_n_trainable(enc) + 4.0 * tokens * 2 * o->d_io;
        const double avail = mem_available();
        if (avail > 0 && r->bytes > 0.8 * avail) {
            char b1[32], b2[32];
            snprintf(r->note, sizeof r->note, "needs %s, %s available", mib(r->bytes, b1, sizeof b1),
                     mib(avail, b2, sizeof b2));
            rc = 1;
            goto done;
        }
    }
    aaren_optim_config oc = aaren_optim_default();
    opt = aaren_adamw_new(aaren_model_n_trainable(enc), &oc, err, sizeof err);
    x = malloc(sizeof(float) * (size_t)B * N * o->d_io);
    y = malloc(sizeof(float) * (size_t)B * N * o->d_io);
    if (!opt || !x || !y) { if (opt) snprintf(err, sizeof err, "out of memory"); goto done; }
    aaren_seqmodel_decay_mask(sm, opt);
    fill_normal(x, (size_t)B * N * o->d_io, o->seed + 1);
    fill_normal(y, (size_t)B * N * o->d_io, o->seed + 2);
    const aaren_batch batch = {x, B, N, y, NULL, NULL, AAREN_LOSS_MSE, 0, NULL, NULL};

    /* training steps: one warm-up (it also touches every activation page), then timed */
    double t[MAX_REPS], spent = 0;
    float gn;
    uint64_t step = 1;
    if (isnan(aaren_train_step(sm, opt, &batch, 0, step++, &gn, err, sizeof err))) goto done;
    const double cpu0 = cpu_now();
    int k = 0;
    while (more_reps(&o->train_rule, k, spent)) {
        const double t0 = aaren_now_s();
        if (isnan(aaren_train_step(sm, opt, &batch, 0, step++, &gn, err, sizeof err))) goto done;
        t[k] = aaren_now_s() - t0;
        spent += t[k++];
    }
    r->cpu_share = (cpu_now() - cpu0) / (spent * aaren_threads());
    r->reps = k;
    r->step_s = median(t, k);
    r->tps = (double)B * N / r->step_s;

    /* the same step in its phases, as aaren_train_step runs them */
    double pf[MAX_REPS], pl[MAX_REPS], pb[MAX_REPS], po[MAX_REPS];
    spent = 0;
    k = 0;
    while (more_reps(&o->phase_rule, k, spent)) {
        const double t0 = aaren_now_s();
        aaren_model_zero_grad(enc);
        if (!aaren_seqmodel_forward(sm, x, B, N, AAREN_SCAN, err, sizeof err)) goto done;
        const double t1 = aaren_now_s();
        aaren_seqmodel_loss_mse(sm, y, NULL, 0);
        const double t2 = aaren_now_s();
        if (aaren_seqmodel_backward(sm, err, sizeof err)) goto done;
        const double t3 = aaren_now_s();
        aaren_adamw_step(opt, aaren_model_params(enc), aaren_model_grads(enc));
        const double t4 = aaren_now_s();
        pf[k] = t1 - t0; pl[k] = t2 - t1; pb[k] = t3 - t2; po[k] = t4 - t3;
        spent += t4 - t0;
        k++;
    }
    r->fwd_s = median(pf, k);
    r->loss_s = median(pl, k);
    r->bwd_s = median(pb, k);
    r->opt_s = median(po, k);
    r->ran = 1;
    rc = 0;
done:
    if (rc < 0) bench_fail("training %s at %d x %d: %s", aaren_arch_name(arch), B, N, err);
    if (rc == 1 && !r->note[0]) snprintf(r->note, sizeof r->note, "%.190s", err);
    aaren_adamw_free(opt);
    aaren_seqmodel_free(sm);
    free(x);
    free(y);
    if (rc == 0) {
        aaren_config c = o->cfg;
        c.arch = arch;
        if (gemm_bound(o, &c, B * N, &r->gemm)) {
            snprintf(r->note, sizeof r->note, "no memory to time the matrix products");
        } else {
            r->bound_tps = (double)B * N / r->gemm.step_s;
            r->frac = r->tps / r->bound_tps;
            /* the step's products at the host's peak: FLOPs per token x tokens/s against it */
            const double top = peak.gflops[1] > peak.gflops[0] ? peak.gflops[1] : peak.gflops[0];
            r->frac_peak = top > 0 ? r->tps * r->gemm.flops / ((double)B * N) / (top * 1e9) : 0;
        }
        r->have_ops = !time_ops(o, arch, B, N, &r->ops);
    }
    return rc;
}


/* Seconds per step at batch B x N predicted from the configurations before index i: a
 * step costs B (c1 N + c2 N^2) (linear layers, attention), c1 and c2 >= 0 fitted to the
 * last two runs (with one, all of it is taken as quadratic: an upper bound). 0: no data. */
static double predict_step(const train_point *r, int i, int B, int N) {
    int a = -1, b = -1;
    for (int j = i - 1; j >= 0; j--) {
        if (!r[j].ran) continue;
        if (b < 0) b = j;
        else { a = j; break; }
    }
    if (b < 0) return 0;
    const double yb = r[b].step_s / r[b].B, nb = r[b].N;
    double c1 = 0, c2 = yb / (nb * nb);
    if (a >= 0 && r[a].N != r[b].N) {
        const double ya = r[a].step_s / r[a].B, na = r[a].N;
        /* ya = c1 na + c2 na^2, yb = c1 nb + c2 nb^2 */
        const double q = (yb / nb - ya / na) / (nb - na);
        if (q >= 0 && ya / na - q * na >= 0) { c2 = q; c1 = ya / na - q * na; }
    }
    return B * (c1 * N + c2 * (double)N * N);
}

/* Measurements that had under 90% of the CPU time they asked for. */
static int interfered;
int bench_interfered(void) { return interfered; }

int bench_run_training(const bench_opts *o, train_section *ts, FILE *csv) {
    const aaren_config *c = &o->cfg;
    const int D = c->d_model, F = c->d_ff, L = c->n_layers, d = o->d_io;
    aaren_config ca = *c, ct = *c;
    ca.arch = AAREN_ARCH_AAREN;
    ct.arch = AAREN_ARCH_TRANSFORMER;
    printf("\n== 1. training step: aaren_train_step (forward, MSE loss, backward, clip, AdamW)\n");
    printf("model: sequence model d_in %d -> encoder -> d_out %d, dropout 0, random N(0,1) inputs and targets;\n"
           "memory: parameters, gradients, AdamW state, activations and data of the configuration\n", d, d);
    printf("matrix-product bound: the linear layers' products of one step, timed with aaren_gemm on\n"
           "  the step's own shapes (forward, input gradient, weight gradient), median of passes.\n"
           "  FLOPs/token = 3 x 2 x [L (P D^2 + 2 D F) + D d_in + D d_out] - 2 D d_in\n"
           "  (forward + backward = 3 x forward; the embedding needs no input gradient; P = 3\n"
           "  projections k, v, out for Aaren, whose query is projected once per step, P = 4 for\n"
           "  the Transformer; the attention itself is not counted). Aaren's key and value are one\n"
           "  product of 2D + 1 outputs, the Transformer's query, key and value one of 3D + 2 (timed\n"
           "  so; their unused columns not counted as FLOPs)\n"
           "  L %d, D %d, F %d, d_in = d_out = %d: Aaren %.3f MFLOP/token, Transformer %.3f MFLOP/token\n",
           L, D, F, d, linear_flops_per_token(&ca, d, d) / 1e6, linear_flops_per_token(&ct, d, d) / 1e6);
    measure_peak(&peak);
    printf("host peak: square 2048 x 2048 float32 products (aaren_gemm, best of 5): %.1f GFLOP/s on 1 thread, "
           "%.1f GFLOP/s on %d\n", peak.gflops[0], peak.gflops[1], peak.threads);
    printf("\n%-12s %5s %6s %3s %10s %11s %11s %8s %9s %7s %9s %5s\n", "arch", "batch", "N", "K", "step ms",
           "tokens/s", "bound tok/s", "of bound", "GEMM GF/s", "of peak", "memory", "cpu%");
    fflush(stdout);
    for (int arch = 0; arch < 2; arch++) {
        int B = o->batch;
        for (int i = 0; i < o->n_ns; i++) {
            const int N = o->ns[i];
            train_point *r = &ts->r[arch][i];
            char note[256] = "";
            /* time: predict a step at B x N from the configurations already run and keep the
             * warm-up and the minimum of timed steps within the cap */
            const double pred = predict_step(ts->r[arch], i, B, N);
            if (pred > 0) {
                const double k = 1 + o->train_rule.hard_min;
                while (B > 1 && pred * B / o->batch * k > o->train_cap) B /= 2;
                if (B < o->batch)
                    snprintf(note, sizeof note, "batch %d x %d predicted at %.0f s per step, over %.0f s per configuration; "
                             "batch %d fits", o->batch, N, pred, o->train_cap, B);
            }
            int rc;
            while ((rc = train_config(o, arch, B, N, r)) == 1 && B > 1) {
                snprintf(note, sizeof note, "batch %d x %d does not fit memory (%s); halved", B, N, r->note);
                B /= 2;
            }
            if (rc) {
                printf("%-12s %5d %6d   (not run: %s)\n", aaren_arch_name(arch), B, N, r->note);
                continue;
            }
            if (note[0]) snprintf(r->note, sizeof r->note, "%s", note);
            char mem[32];
            printf("%-12s %5d %6d %3d %10.1f %11.0f %11.0f %7.1f%% %9.1f %6.1f%% %9s %4.0f%%\n", aaren_arch_name(arch),
                   r->B, N, r->reps, 1e3 * r->step_s, r->tps, r->bound_tps, 100 * r->frac,
                   r->gemm.flops / r->gemm.step_s / 1e9, 100 * r->frac_peak, mib(r->bytes, mem, sizeof mem),
                   100 * r->cpu_share);
            if (r->note[0]) printf("%-12s   note: %s\n", "", r->note);
            if (r->cpu_share < 0.9) {
                printf("%-12s   note: the run had %.0f%% of its %d CPUs: another load interfered; figures pessimistic\n",
                       "", 100 * r->cpu_share, aaren_threads());
                interfered++;
            }
            fflush(stdout);
            if (csv)
                fprintf(csv, "%s,%d,%d,%d,%.4f,%.1f,%.1f,%.4f,%.3f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.0f,%.3f,%.4f\n",
                        aaren_arch_name(arch), r->B, N, r->reps, 1e3 * r->step_s, r->tps, r->bound_tps, r->frac,
                        r->gemm.flops / r->gemm.step_s / 1e9, 1e3 * r->gemm.step_s, 1e3 * r->fwd_s,
                        1e3 * r->loss_s, 1e3 * r->bwd_s, 1e3 * r->opt_s, 1e3 * r->gemm.fwd_s,
                        1e3 * (r->gemm.din_s + r->gemm.dw_s), r->bytes, r->cpu_share, r->frac_peak);
        }
    }
    /* where the time goes: phases against the products they contain */
    printf("\nwhere a step's time goes (ms per step, medians). GEMM: the step's matrix products timed\n"
           "alone (the bound); attention, LayerNorm (2 per block), activation: those kernels timed alone\n"
           "on the step's shapes (one block, times L); rest: the phase minus all of these (attention\n"
           "scores, residual adds, bias broadcasts, copies and zeroing, embedding and head biases).\n");
    for (int phase = 0; phase < 2; phase++) {
        printf("%-9s %-12s %6s %9s %9s %9s %9s %9s %9s %8s\n", phase ? "backward" : "forward", "arch", "N", "phase",
               "GEMM", "attention", "LayerNorm", "act", "rest", phase ? "AdamW" : "loss");
        for (int arch = 0; arch < 2; arch++)
            for (int i = 0; i < o->n_ns; i++) {
                const train_point *r = &ts->r[arch][i];
                if (!r->ran) continue;
                const ops_result *q = &r->ops;
                const double tot = phase ? r->bwd_s : r->fwd_s, gm = phase ? r->gemm.din_s + r->gemm.dw_s : r->gemm.fwd_s;
                const double at = phase ? q->attn_b : q->attn_f, ln = phase ? q->ln_b : q->ln_f;
                const double ac = phase ? q->act_b : q->act_f;
                printf("%-9s %-12s %6d %9.1f %9.1f", "", aaren_arch_name(arch), r->N, 1e3 * tot, 1e3 * gm);
                if (r->have_ops)
                    printf(" %9.1f %9.1f %9.1f %9.1f", 1e3 * at, 1e3 * ln, 1e3 * ac, 1e3 * (tot - gm - at - ln - ac));
                else
                    printf(" %9s %9s %9s %9s", "-", "-", "-", "-");
                printf(" %8.2f\n", 1e3 * (phase ? r->opt_s : r->loss_s));
            }
    }
    if (o->shapes) {
        printf("\neach product shape of a step alone (--shapes): GFLOP/s of the useful columns, best of 3,\n"
               "against the host peak %.1f GFLOP/s; each product as the library runs it (a band of rows a\n"
               "thread, aaren_gemm) and below, when that split is on, with the BLAS's own threads\n", peak.gflops[1] > peak.gflops[0] ? peak.gflops[1] : peak.gflops[0]);
        for (int arch = 0; arch < 2; arch++)
            for (int i = 0; i < o->n_ns; i++) {
                const train_point *r = &ts->r[arch][i];
                if (!r->ran) continue;
                aaren_config cs = *c;
                cs.arch = arch;
                print_shapes(o, &cs, r->B * r->N);
            }
    }
    return 0;
}

/* ---- 4. decision models --------------------------------------------------------------------
 * One update of `aaren rl train` (aaren_dt_update: draw the windows, embed, forward with
 * dropout, MSE on the actions, backward, clip, AdamW) at the sizes of the offline-RL recipe
 * (aaren_dt_options_init, as scripts/reproduce_rl.sh runs it), on a synthetic data set of
 * halfcheetah's sizes. The bound: the update's matrix products alone on their own shapes: the
 * encoder's linear layers on B 3K rows, the three token embeddings (1, obs_dim, act_dim -> D)
 * and the action head (D -> act_dim) on B K rows each. */
enum { DT_OBS = 17, DT_ACT = 6, DT_EP_LEN = 1000, DT_EPISODES = 1000 };

/* The decision model's products: the embeddings first, the encoder's, then the head. */
static int list_dt_linears(const aaren_config *c, int B, int K, linear_shape *l, int *rows) {
    linear_shape enc[6 * AAREN_MAX_LAYERS + 2];
    const int ne = list_linears(c, c->d_model, c->d_model, enc), D = c->d_model;
    int n = 0;
    const int ins[3] = {1, DT_OBS, DT_ACT};
    const char *what[3] = {"return embedding", "state embedding", "action embedding"};
    for (int j = 0; j < 3; j++) { rows[n] = B * K; l[n++] = (linear_shape){ins[j], D, 0, D, what[j]}; }
    for (int i = 1; i < ne - 1; i++) { rows[n] = B * 3 * K; l[n++] = enc[i]; }   /* without the sequence model's embed and head */
    rows[n] = B * K;
    l[n++] = (linear_shape){D, DT_ACT, 1, DT_ACT, "action head"};
    return n;
}

/* Episodes of DT_EP_LEN steps: observations uniform with unit variance, actions uniform in
 * (-1, 1), rewards uniform in (0, 2) (their values do not change the work of an update). */
static int make_dt_data(aaren_d4rl *d, uint64_t seed) {
    if (aaren_d4rl_alloc(d, (long)DT_EPISODES * DT_EP_LEN, DT_OBS, DT_ACT, 0)) return -1;
    uint64_t r = seed * 7919 + 5;
    for (size_t i = 0; i < (size_t)d->n * DT_OBS; i++) d->observations[i] = (float)((2 * aaren_rng_uniform(&r) - 1) * 1.7320508);
    for (size_t i = 0; i < (size_t)d->n * DT_ACT; i++) d->actions[i] = (float)(2 * aaren_rng_uniform(&r) - 1);
    for (long i = 0; i < d->n; i++) {
        d->rewards[i] = (float)(2 * aaren_rng_uniform(&r));
        d->timeouts[i] = (i + 1) % DT_EP_LEN == 0;
    }
    aaren_d4rl_split(d);
    return 0;
}

static int dt_config(const bench_opts *o, int arch, const aaren_d4rl *d, dt_point *r) {
    char err[512] = "";
    memset(r, 0, sizeof *r);
    aaren_dt_options dto;
    aaren_dt_options_init(&dto);
    dto.enc.arch = arch;
    dto.seed = o->seed;
    r->B = dto.batch;
    r->K = dto.K;
    r->N = 3 * dto.K;
    aaren_dt *m = aaren_dt_new(d, AAREN_ENV_HALFCHEETAH, &dto, err, sizeof err);
    if (!m) return bench_fail("decision model (%s): %s", aaren_arch_name(arch), err);
    uint64_t rng = o->seed * 0x9E3779B97F4A7C15ull + 101;
    double t[MAX_REPS], ph[AAREN_DT_PHASES][MAX_REPS], spent = 0;
    long step = 0;
    int k = 0, rc = 0;
    if (isnan(aaren_dt_update(m, d, &rng, step++, NULL, err, sizeof err))) rc = -1;   /* warm-up */
    const double cpu0 = cpu_now();
    while (!rc && more_reps(&o->train_rule, k, spent)) {
        double p[AAREN_DT_PHASES];
        const double t0 = aaren_now_s();
        if (isnan(aaren_dt_update(m, d, &rng, step++, p, err, sizeof err))) { rc = -1; break; }
        t[k] = aaren_now_s() - t0;
        for (int j = 0; j < AAREN_DT_PHASES; j++) ph[j][k] = p[j];
        spent += t[k++];
    }
    if (rc) {
        aaren_dt_free(m);
        return bench_fail("decision model (%s): %s", aaren_arch_name(arch), err);
    }
    r->cpu_share = (cpu_now() - cpu0) / (spent * aaren_threads());
    r->reps = k;
    r->step_s = median(t, k);
    r->tps = (double)r->B * r->N / r->step_s;
    for (int j = 0; j < AAREN_DT_PHASES; j++) r->phase_s[j] = median(ph[j], k);
    aaren_dt_free(m);
    linear_shape l[6 * AAREN_MAX_LAYERS + 6];
    int rows[6 * AAREN_MAX_LAYERS + 6];
    const int n = list_dt_linears(&dto.enc, r->B, r->K, l, rows);
    if (time_products(o, l, n, rows, &r->gemm)) return bench_fail("decision model: no memory to time the products");
    r->frac = r->gemm.step_s / r->step_s;
    const double top = peak.gflops[1] > peak.gflops[0] ? peak.gflops[1] : peak.gflops[0];
    r->frac_peak = top > 0 ? r->gemm.flops / r->step_s / (top * 1e9) : 0;
    r->ran = 1;
    return 0;
}

int bench_run_dt(const bench_opts *o, dt_section *ds, FILE *csv) {
    memset(ds, 0, sizeof *ds);
    aaren_dt_options dto;
    aaren_dt_options_init(&dto);
    const aaren_config *c = &dto.enc;
    printf("\n== 4. decision models: one update of 'aaren rl train' (aaren_dt_update: draw the windows, embed,\n"
           "   forward with dropout, MSE on the actions, backward, clip, AdamW)\n");
    printf("model: the offline-RL recipe (scripts/reproduce_rl.sh's defaults): K %d steps (%d tokens), batch %d windows,\n"
           "  d_model %d, %d head%s, %d layers, d_ff %d, %s-norm, %s, dropout %g, AdamW with clipping at %g\n",
           dto.K, 3 * dto.K, dto.batch, c->d_model, c->n_heads, c->n_heads > 1 ? "s" : "", c->n_layers, c->d_ff,
           aaren_norm_name(c->norm), c->activation == AAREN_RELU ? "ReLU" : "GELU", (double)dto.dropout, (double)dto.clip);
    printf("data: synthetic, halfcheetah's sizes (%d observations, %d actions), %d episodes of %d steps (windows\n"
           "  that reach an episode's end are shorter, padded as in training)\n", DT_OBS, DT_ACT, DT_EPISODES, DT_EP_LEN);
    printf("bound: the update's matrix products alone on their own shapes (aaren_gemm; forward, input and\n"
           "  weight gradients; median of passes): the encoder's linear layers on B x 3K = %d rows, the\n"
           "  return, state and action embeddings (1, %d, %d -> %d, no input gradient) and the action head\n"
           "  (%d -> %d) on B x K = %d rows each. tokens/s counts B x 3K tokens per update.\n",
           dto.batch * 3 * dto.K, DT_OBS, DT_ACT, c->d_model, c->d_model, DT_ACT, dto.batch * dto.K);
    if (peak.gflops[0] <= 0) measure_peak(&peak);
    aaren_d4rl d;
    if (make_dt_data(&d, o->seed)) return bench_fail("decision model: no memory for the data set");
    printf("\n%-12s %5s %3s %4s %10s %11s %11s %8s %9s %7s %5s\n", "arch", "batch", "K", "reps", "update ms", "tokens/s",
           "bound tok/s", "of bound", "GEMM GF/s", "of peak", "cpu%");
    fflush(stdout);
    int rc = 0;
    for (int arch = 0; arch < 2 && !rc; arch++) {
        dt_point *r = &ds->r[arch];
        if ((rc = dt_config(o, arch, &d, r))) break;
        printf("%-12s %5d %3d %4d %10.2f %11.0f %11.0f %7.1f%% %9.1f %6.1f%% %4.0f%%\n", aaren_arch_name(arch), r->B, r->K,
               r->reps, 1e3 * r->step_s, r->tps, (double)r->B * r->N / r->gemm.step_s, 100 * r->frac,
               r->gemm.flops / r->gemm.step_s / 1e9, 100 * r->frac_peak, 100 * r->cpu_share);
        if (r->cpu_share < 0.9) {
            printf("%-12s   note: the run had %.0f%% of its %d CPUs: another load interfered; figures pessimistic\n", "",
                   100 * r->cpu_share, aaren_threads());
            interfered++;
        }
        fflush(stdout);
        if (csv)
            fprintf(csv, "%s,%d,%d,%d,%.4f,%.1f,%.1f,%.4f,%.3f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.3f\n",
                    aaren_arch_name(arch), r->B, r->K, r->reps, 1e3 * r->step_s, r->tps,
                    (double)r->B * r->N / r->gemm.step_s, r->frac, r->gemm.flops / r->gemm.step_s / 1e9,
                    1e3 * r->gemm.step_s, 1e3 * r->phase_s[0], 1e3 * r->phase_s[1], 1e3 * r->phase_s[2],
                    1e3 * r->phase_s[3], 1e3 * r->phase_s[4], 1e3 * r->phase_s[5], 1e3 * r->gemm.fwd_s,
                    1e3 * (r->gemm.din_s + r->gemm.dw_s), r->frac_peak, r->cpu_share);
    }
    aaren_d4rl_free(&d);
    if (rc) return 1;
    printf("\nwhere an update's time goes (ms, medians over the timed updates): the phases of aaren_dt_update\n"
           "(AdamW includes zeroing the gradients) beside the update's products timed alone (GEMM fwd: every\n"
           "forward product, embeddings and head included; GEMM bwd: every input and weight gradient)\n");
    printf("%-12s %10s %9s %9s %9s %9s %9s %9s %9s\n", "arch", "draw+embed", "forward", "head+loss", "backward",
           "emb.back", "AdamW", "GEMM fwd", "GEMM bwd");
    for (int arch = 0; arch < 2; arch++) {
        const dt_point *r = &ds->r[arch];
        printf("%-12s %10.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f\n", aaren_arch_name(arch), 1e3 * r->phase_s[0],
               1e3 * r->phase_s[1], 1e3 * r->phase_s[2], 1e3 * r->phase_s[3], 1e3 * r->phase_s[4], 1e3 * r->phase_s[5],
               1e3 * r->gemm.fwd_s, 1e3 * (r->gemm.din_s + r->gemm.dw_s));
    }
    return 0;
}

/* ---- 2. streaming ---------------------------------------------------------------------- */




const stream_point *bench_point_at(const stream_curve *r, long n) {
    for (int i = 0; i < r->np; i++) if (r->p[i].n == n) return &r->p[i];
    return NULL;
}

/* Streams up to n_max tokens (a power of two) one at a time through one stream, timing
 * every token; records a point at every power of two. budget > 0: before doubling, stop
 * when the predicted time to the next point would pass the budget. */
static int stream_run(const bench_opts *o, const aaren_model *m, long n_max, double budget,
                      const float *xs, stream_curve *r) {
    char err[512];
    const int D = aaren_model_config(m)->d_model, W = o->window;
    memset(r, 0, sizeof *r);
    r->rss_before = rss_bytes();
    const int tf = aaren_model_config(m)->arch == AAREN_ARCH_TRANSFORMER;
    aaren_stream *s = aaren_stream_new(m, tf ? n_max : 0, err, sizeof err);
    double *ring = malloc(sizeof(double) * (size_t)W), *tmp = malloc(sizeof(double) * (size_t)W);
    float *y = malloc(sizeof(float) * (size_t)D);
    if (!s || !ring || !tmp || !y) {
        if (s) bench_fail("out of memory for the stream's timing buffers");
        else bench_fail("%s", err);
        aaren_stream_free(s); free(ring); free(tmp); free(y);
        return -1;
    }
    r->alloc = aaren_stream_alloc_bytes(s);
    long next = 1;
    double cpu_w0 = cpu_now(), wall_w0 = aaren_now_s();
    const double t_start = aaren_now_s();
    for (long t = 0; t < n_max; t++) {
        const double a = aaren_now_s();
        if (t == next - W) { cpu_w0 = cpu_now(); wall_w0 = a; }   /* a window opens */
        if (aaren_stream_step(s, xs + (size_t)(t % N_INPUTS) * D, y, err, sizeof err)) {
            bench_fail("stream step %ld: %s", t, err);
            aaren_stream_free(s); free(ring); free(tmp); free(y);
            return -1;
        }
        const double b = aaren_now_s();
        ring[t % W] = b - a;
        r->reached = t + 1;
        if (t + 1 == next) {
            stream_point *p = &r->p[r->np++];
            const int w = t + 1 < W ? (int)(t + 1) : W;
            double sum = 0;
            for (int i = 0; i < w; i++) sum += tmp[i] = ring[i];
            p->n = t + 1;
            p->cum_s = b - t_start;
            p->us_med = 1e6 * median_inplace(tmp, w);
            p->us_mean = 1e6 * sum / w;
            p->cpu_share = (cpu_now() - cpu_w0) / (aaren_now_s() - wall_w0);
            p->rss = rss_bytes();
            p->state = aaren_stream_state_bytes(s);
            p->measured = 1;
            if (next == n_max || r->np == MAX_POINTS) break;
            /* per-token cost grows at most linearly with position: the next n tokens
             * cost about 1.5 n times the latency now */
            const double pred = 1.5 * p->us_mean * 1e-6 * (double)next;
            if (budget > 0 && p->cum_s + pred > budget) {
                r->stopped = 1;
                r->next_s = pred;
                break;
            }
            next *= 2;
        }
        if (budget > 0 && b - t_start > 2 * budget) {   /* far off its prediction */
            r->stopped = 1;
            break;
        }
    }
    /* Aaren's latency does not depend on position: time the window up to 1K once more, on a
     * fresh stream right after the long run, so that a drift of the machine's speed during
     * the run is not read as an effect of position */
    if (!tf && !r->stopped && r->reached > 1024 && W <= 1024) {
        aaren_stream_reset(s);
        for (long t = 0; t < 1024; t++) {
            const double a = aaren_now_s();
            if (aaren_stream_step(s, xs + (size_t)(t % N_INPUTS) * D, y, err, sizeof err)) break;
            ring[t % W] = aaren_now_s() - a;
            if (t + 1 == 1024) {
                memcpy(tmp, ring, sizeof(double) * (size_t)W);
                r->again_us = 1e6 * median_inplace(tmp, W);
            }
        }
    }
    aaren_stream_free(s);
    free(ring); free(tmp); free(y);
    r->ran = 1;
    return 0;
}

/* The kernels of one streamed token alone, with the library's functions on the shapes of a
 * step: the encoder's linear layers with M = 1, each on its own weights as in the model
 * (aaren_gemm takes its single-row path), the activations, the LayerNorms and (Aaren) the
 * attention cell; medians over `tokens` tokens after 8 warm-up tokens. */
static int time_token_parts(const bench_opts *o, int arch, int tokens, token_parts *r) {
    aaren_config c = o->cfg;
    c.arch = arch;
    const int L = c.n_layers, D = c.d_model, F = c.d_ff, H = c.n_heads, dh = D / H;
    linear_shape l[6 * AAREN_MAX_LAYERS + 2];
    const int n = list_linears(&c, D, D, l) - 1;   /* without the head; l[0] is the embedding */
    size_t nw = 0;
    for (int i = 1; i < n; i++) nw += (size_t)l[i].in * l[i].out;
    const int wide = F > D ? F : D;
    float *w = malloc(sizeof(float) * nw), *x = malloc(sizeof(float) * wide), *y = malloc(sizeof(float) * wide);
    float *st = malloc(sizeof(float) * (size_t)H * (dh + 2)), *lnw = malloc(sizeof(float) * 2 * (size_t)D);
    double *t = malloc(sizeof(double) * 4 * (size_t)tokens);
    if (!w || !x || !y || !st || !lnw || !t) {
        free(w); free(x); free(y); free(st); free(lnw); free(t);
        return -1;
    }
    fill_normal(w, nw, o->seed + 31);
    fill_normal(x, (size_t)wide, o->seed + 32);
    memset(y, 0, sizeof(float) * wide);
    for (int i = 0; i < D; i++) { lnw[i] = 1; lnw[D + i] = 0; }
    for (int h = 0; h < H; h++) {
        st[h * (dh + 2)] = -INFINITY;
        st[h * (dh + 2) + 1] = 0;
        memset(st + h * (dh + 2) + 2, 0, sizeof(float) * dh);
    }
    const int act = c.activation;
    float mean, rstd;
    r->mm_flops = 2.0 * (double)nw;
    r->mm_bytes = 4.0 * (double)nw;
    for (int k = -8; k < tokens; k++) {
        double tk[5];
        tk[0] = aaren_now_s();
        const float *wi = w;
        for (int i = 1; i < n; i++) {
            aaren_gemm(0, 1, 1, l[i].out, l[i].in, 1, x, l[i].in, wi, l[i].in, 1, y, l[i].out);
            wi += (size_t)l[i].in * l[i].out;
        }
        tk[1] = aaren_now_s();
        for (int j = 0; j < L; j++) aaren_act_forward(y, x, (size_t)F, act);
        tk[2] = aaren_now_s();
        for (int j = 0; j < 2 * L; j++) aaren_layernorm_forward(y, &mean, &rstd, x, lnw, lnw + D, 1, D, c.ln_eps);
        tk[3] = aaren_now_s();
        if (arch == AAREN_ARCH_AAREN)
            for (int j = 0; j < L; j++)
                for (int h = 0; h < H; h++) aaren_attn_step(st + h * (dh + 2), x[h] * 0.1f, x + h * dh, y + h * dh, dh);
        tk[4] = aaren_now_s();
        if (k >= 0)
            for (int j = 0; j < 4; j++) t[(size_t)j * tokens + k] = tk[j + 1] - tk[j];
    }
    r->mm_us = 1e6 * median_inplace(t, tokens);
    r->act_us = 1e6 * median_inplace(t + tokens, tokens);
    r->ln_us = 1e6 * median_inplace(t + 2 * (size_t)tokens, tokens);
    r->cell_us = arch == AAREN_ARCH_AAREN ? 1e6 * median_inplace(t + 3 * (size_t)tokens, tokens) : 0;
    free(w); free(x); free(y); free(st); free(lnw); free(t);
    return 0;
}

/* Latency ~ a + b * position, least squares over the points from 1K tokens on (at least
 * the last two), then predicted points up to n_max (marked not measured). */
static void extrapolate(stream_curve *r, long n_max) {
    int i0 = 0;
    while (i0 < r->np - 2 && r->p[i0].n < 1024) i0++;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    const int k = r->np - i0;
    if (k < 2) return;
    for (int i = i0; i < r->np; i++) {
        const double x = (double)r->p[i].n, yv = r->p[i].us_med;
        sx += x; sy += yv; sxx += x * x; sxy += x * yv;
    }
    const double den = k * sxx - sx * sx;
    r->fit_b = den > 0 ? (k * sxy - sx * sy) / den : 0;
    r->fit_a = (sy - r->fit_b * sx) / k;
    if (!r->stopped) return;
    const stream_point last = r->p[r->np - 1];
    for (long n = 2 * last.n; n <= n_max && r->np < MAX_POINTS; n *= 2) {
        stream_point *p = &r->p[r->np++];
        /* sum over positions last.n+1 .. n of (a + b t) */
        const double cnt = (double)(n - last.n), tsum = 0.5 * ((double)n * (n + 1) - (double)last.n * (last.n + 1));
        p->n = n;
        p->cum_s = last.cum_s + 1e-6 * (r->fit_a * cnt + r->fit_b * tsum);
        p->us_med = p->us_mean = r->fit_a + r->fit_b * (double)n;
        p->rss = -1;
        p->state = (size_t)((double)last.state / (double)last.n * (double)n);
        p->measured = 0;
    }
}

/* A batch of n streams: per-stream latency of aaren_stream_step_batch against n calls of
 * aaren_stream_step_one, over T tokens each (medians of per-token samples). */
static int batch_run(const bench_opts *o, const aaren_model *m, const float *xs, double *us_batch,
                     double *us_single) {
    char err[512];
    const int n = o->n_streams, T = o->batch_tokens, D = aaren_model_config(m)->d_model;
    const int warm = 8;
    aaren_stream *s = aaren_stream_new_batch(m, n, T + warm, AAREN_PREFILL_CHUNK, err, sizeof err);
    double *t = malloc(sizeof(double) * (size_t)T);
    float *y = malloc(sizeof(float) * (size_t)n * D);
    int rc = -1;
    if (!s || !t || !y) { if (s) snprintf(err, sizeof err, "out of memory"); goto done; }
    for (int pass = 0; pass < 2; pass++) {
        aaren_stream_reset(s);
        for (int k = 0; k < T + warm; k++) {
            const float *x = xs + (size_t)((k * n) % (N_INPUTS - n)) * D;
            const double a = aaren_now_s();
            if (pass == 0) {
                if (aaren_stream_step_batch(s, x, y, err, sizeof err)) goto done;
            } else {
                for (int i = 0; i < n; i++)
                    if (aaren_stream_step_one(s, i, x + (size_t)i * D, y + (size_t)i * D, err, sizeof err)) goto done;
            }
            if (k >= warm) t[k - warm] = (aaren_now_s() - a) / n;
        }
        *(pass == 0 ? us_batch : us_single) = 1e6 * median_inplace(t, T);
    }
    rc = 0;
done:
    if (rc) bench_fail("batched streams: %s", err);
    aaren_stream_free(s);
    free(t);
    free(y);
    return rc;
}


static aaren_model *make_model(const bench_opts *o, int arch, char *err, size_t errlen) {
    aaren_config c = o->cfg;
    c.arch = arch;
    aaren_model *m = aaren_model_new(&c, err, errlen);
    if (!m) return NULL;
    aaren_model_init(m, o->seed);
    if (o->ckpt && aaren_model_config(o->ckpt)->arch == arch)
        memcpy(aaren_model_params(m), aaren_model_params(o->ckpt), sizeof(float) * aaren_model_n_params(o->ckpt));
    return m;
}

int bench_run_streaming(const bench_opts *o, stream_section *ss, FILE *csv) {
    char err[512], b1[32], b2[32], b3[32], lab[24];
    const int D = o->cfg.d_model;
    float *xs = malloc(sizeof(float) * (size_t)N_INPUTS * D);
    if (!xs) return bench_fail("out of memory");
    fill_normal(xs, (size_t)N_INPUTS * D, o->seed + 3);
    printf("\n== 2. streaming: one stream, one token at a time (aaren_stream_step)\n");
    printf("every token timed; latency at position P = median (and mean) over the %d tokens up to P\n"
           "(Aaren: the window up to 1K is timed again on a fresh stream after the long run, and the\n"
           "1K-vs-end verdict uses that one, so that a drift of the machine's speed is not read as a\n"
           "position effect);\n"
           "cpu%% = process CPU time / wall time over that window (below 100%%: the CPU was taken);\n"
           "cumulative = wall time from the first token to the N-th; RSS from /proc/self/statm;\n"
           "state = aaren_stream_state_bytes; inputs N(0,1), %d distinct tokens cycled.\n"
           "Aaren to %ld tokens; the Transformer (KV cache of %ld tokens, pages touched as it fills)\n"
           "until the grid ends at %ld or the next doubling is predicted to pass %.0f s in all.\n",
           o->window, N_INPUTS, o->aaren_tokens, o->tf_tokens, o->tf_tokens, o->tf_budget);
    fflush(stdout);
    for (int arch = 0; arch < 2; arch++) {
        aaren_model *m = make_model(o, arch, err, sizeof err);
        if (!m) { free(xs); return bench_fail("%s", err); }
        stream_curve *r = &ss->r[arch];
        const long n_max = arch == AAREN_ARCH_AAREN ? o->aaren_tokens : o->tf_tokens;
        const int rc = stream_run(o, m, n_max, arch == AAREN_ARCH_AAREN ? 0 : o->tf_budget, xs, r);
        if (!rc) {
            const int nmeas = r->np;
            if (arch == AAREN_ARCH_TRANSFORMER) extrapolate(r, n_max);
            printf("\n%s: stream object %s; RSS before it %s\n", aaren_arch_name(arch), mib((double)r->alloc, b1, sizeof b1),
                   mib((double)r->rss_before, b2, sizeof b2));
            printf("  %9s %12s %12s %12s %5s %12s %12s\n", "tokens", "cumulative s", "us/tok med", "us/tok mean",
                   "cpu%", "RSS", "state");
            for (int i = 0; i < nmeas; i++) {
                const stream_point *p = &r->p[i];
                if (p->n >= 1024 && p->cpu_share < 0.9) interfered++;
                const int named = p->n == 1 || p->n == 1024 || p->n == 16384 || p->n == 65536 || p->n == 1048576 ||
                                  i == nmeas - 1;
                if (named)
                    printf("  %9s %12.3f %12.2f %12.2f %4.0f%% %12s %12s\n", bench_tok_label(p->n, lab, sizeof lab),
                           p->cum_s, p->us_med, p->us_mean, 100 * p->cpu_share, mib((double)p->rss, b1, sizeof b1),
                           mib((double)p->state, b3, sizeof b3));
            }
            if (r->again_us > 0)
                printf("  %9s %12s %12.2f   (a fresh stream, timed right after the last row)\n", "1K again", "",
                       r->again_us);
            r->have_parts = !time_token_parts(o, arch, o->window, &r->parts);
            const stream_point *p1 = bench_point_at(r, 1024);
            if (r->have_parts) {
                const token_parts *q = &r->parts;
                const double sum = q->mm_us + q->act_us + q->ln_us + q->cell_us;
                printf("  the token's kernels alone (medians of %d tokens; compare the step at 1K, %.1f us):\n"
                       "    products (aaren_gemm, M = 1, %s of weights) %.1f us (%.1f GFLOP/s, %.1f GB/s of weights)\n"
                       "    activation %d x %d: %.1f us; LayerNorm %d x 1 x %d: %.1f us",
                       o->window, p1 ? p1->us_med : NAN, mib(q->mm_bytes, b1, sizeof b1), q->mm_us,
                       q->mm_flops / q->mm_us / 1e3, q->mm_bytes / q->mm_us / 1e3, o->cfg.n_layers, o->cfg.d_ff,
                       q->act_us, 2 * o->cfg.n_layers, o->cfg.d_model, q->ln_us);
                if (arch == AAREN_ARCH_AAREN)
                    printf("; Aaren cell %d x %d heads: %.2f us", o->cfg.n_layers, o->cfg.n_heads, q->cell_us);
                printf("\n    sum %.1f us = %.0f%% of the step at 1K%s\n", sum, p1 ? 100 * sum / p1->us_med : NAN,
                       arch == AAREN_ARCH_AAREN ? "" : "; the rest is attention over the KV cache");
            }
            if (arch == AAREN_ARCH_TRANSFORMER && r->fit_b > 0)
                printf("  latency ~ %.3g + %.3g x position us (least squares over the windows from 1K): each cached\n"
                       "  token costs %.1f ns per layer and head\n", r->fit_a, r->fit_b,
                       1e3 * r->fit_b / (o->cfg.n_layers * o->cfg.n_heads));
            if (r->stopped)
                printf("  stopped after %ld tokens (%.1f s): the next doubling was predicted to take %.0f s more;\n"
                       "  beyond, the cumulative time is extrapolated with that fit\n",
                       r->reached, r->p[nmeas - 1].cum_s, r->next_s);
            if (csv)
                for (int i = 0; i < r->np; i++) {
                    const stream_point *p = &r->p[i];
                    fprintf(csv, "%s,%ld,%.6f,%.4f,%.4f,%ld,%zu,%d\n", aaren_arch_name(arch), p->n, p->cum_s, p->us_med,
                            p->us_mean, p->rss, p->state, p->measured);
                }
            fflush(stdout);
        }
        if (!rc) {
            ss->batch_ok[arch] = !batch_run(o, m, xs, &ss->us_batch[arch], &ss->us_single[arch]);
        }
        aaren_model_free(m);
        if (rc) { free(xs); return 1; }
    }
    printf("\nbatched streams: %d streams, %d tokens each from position 0 (8 warm-up tokens),\n"
           "per-stream latency = median over tokens of (time of the step) / %d:\n", o->n_streams, o->batch_tokens,
           o->n_streams);
    printf("  %-12s %22s %26s %9s\n", "arch", "step_batch us/stream", "step_one x n us/stream", "speed-up");
    for (int arch = 0; arch < 2; arch++)
        if (ss->batch_ok[arch])
            printf("  %-12s %22.2f %26.2f %8.1fx\n", aaren_arch_name(arch), ss->us_batch[arch], ss->us_single[arch],
                   ss->us_single[arch] / ss->us_batch[arch]);
    free(xs);
    return 0;
}

/* ---- 3. the PyTorch twin ------------------------------------------------------------------ */


int bench_run_twin(const bench_opts *o, twin_result *tw, int twin_ns, const int *ns) {
    memset(tw, 0, sizeof *tw);
    tw->blas_reference = -1;
    printf("\n== 3. the PyTorch twin (python/aaren_twin.py) of the same Aaren model\n");
    if (access(o->python, X_OK)) {
        snprintf(tw->why, sizeof tw->why, "%s not found", o->python);
        printf("skipped: %s\n", tw->why);
        return 0;
    }
    if (!o->twin_dir) {
        snprintf(tw->why, sizeof tw->why, "bench_twin.py not found (give its folder with --python DIR)");
        printf("skipped: %s\n", tw->why);
        return 0;
    }
    const aaren_config *c = &o->cfg;
    char list[128] = "", script[1100], num[10][32];
    for (int i = 0, k = 0; i < twin_ns; i++) k += snprintf(list + k, sizeof list - k, "%s%d", i ? "," : "", ns[i]);
    snprintf(script, sizeof script, "%s/bench_twin.py", o->twin_dir);
    snprintf(num[0], sizeof num[0], "%d", aaren_threads());
    snprintf(num[1], sizeof num[1], "%d", c->d_model);
    snprintf(num[2], sizeof num[2], "%d", c->n_heads);
    snprintf(num[3], sizeof num[3], "%d", c->n_layers);
    snprintf(num[4], sizeof num[4], "%d", c->d_ff);
    snprintf(num[5], sizeof num[5], "%g", (double)c->ln_eps);
    snprintf(num[6], sizeof num[6], "%d", o->d_io);
    snprintf(num[7], sizeof num[7], "%d", o->batch);
    snprintf(num[8], sizeof num[8], "%d", o->window);
    snprintf(num[9], sizeof num[9], "%llu", (unsigned long long)o->seed);
    char *argv[40] = {(char *)o->python, script, "--threads", num[0], "--d-model", num[1], "--n-heads", num[2],
                      "--n-layers", num[3], "--d-ff", num[4], "--norm", (char *)aaren_norm_name(c->norm),
                      "--activation", (char *)aaren_activation_name(c->activation), "--ln-eps", num[5],
                      "--d-io", num[6], "--batch", num[7], "--tokens", list, "--stream-tokens", num[8], "--seed", num[9]};
    int n = 28;
    if (o->quick) argv[n++] = "--quick";
    if (o->ckpt && aaren_model_config(o->ckpt)->arch == AAREN_ARCH_AAREN) {
        argv[n++] = "--model";
        argv[n++] = (char *)o->model_path;
    }
    printf("$ OMP_NUM_THREADS=%s", num[0]);
    for (int i = 0; i < n; i++) printf(" %s", argv[i]);
    printf("\n");
    setenv("OMP_NUM_THREADS", num[0], 1);   /* the twin's thread count: ours */
    int fd = -1;
    const pid_t pid = aaren_spawn(argv, &fd);
    FILE *p = pid < 0 ? NULL : fdopen(fd, "r");
    if (!p) {
        if (pid >= 0) { close(fd); aaren_wait(pid); }
        snprintf(tw->why, sizeof tw->why, "could not start %s", o->python);
        printf("skipped: %s\n", tw->why);
        return 0;
    }
    char line[1024];
    while (fgets(line, sizeof line, p)) {
        if (!strncmp(line, "RESULT ", 7)) {
            int n;
            double v;
            if (sscanf(line + 7, "train %d %lf", &n, &v) == 2 && tw->n_train < MAX_NS) {
                tw->train_n[tw->n_train] = n;
                tw->train_tps[tw->n_train++] = v;
            } else if (sscanf(line + 7, "stream_us %lf", &v) == 1) {
                tw->stream_us = v;
            } else if (sscanf(line + 7, "blas_reference %d", &n) == 1) {
                tw->blas_reference = n;
            }
            continue;
        }
        printf("  %s", line);
        if (!strchr(line, '\n')) printf("\n");
        fflush(stdout);
    }
    fclose(p);
    const int code = aaren_wait(pid);
    if (code == 77) snprintf(tw->why, sizeof tw->why, "torch or numpy missing for %s", o->python);
    else if (code) snprintf(tw->why, sizeof tw->why, "bench_twin.py failed (exit code %d)", code);
    else tw->ran = tw->n_train > 0 || tw->stream_us > 0;
    if (!tw->ran) printf("skipped: %s\n", tw->why[0] ? tw->why : "no results from bench_twin.py");
    return 0;
}

