/* Throughput of the Aaren scan kernels (aaren_attn_scan + aaren_attn_scan_backward),
 * float32, compared with memcpy bandwidth on the same machine and thread count.
 *
 * Traffic model (minimum compulsory traffic, every array float32, each byte read
 * counted once and each byte written counted once; no write-allocate, no re-reads):
 *   forward   reads  s [BH, N], v [BH, N, dh]            writes o [BH, N, dh], m, u [BH, N]
 *   backward  reads  g, o, v [BH, N, dh], m, u, s [BH, N] writes dv [BH, N, dh], ds [BH, N]
 * i.e. 4 * BH * N * (6 dh + 7) bytes per forward + backward. GB/s = bytes / time / 1e9.
 * The reference copies that many bytes with memcpy and, with the same convention, counts
 * them twice (read + written). With T threads the copy is split into T contiguous parts,
 * one per thread of an OpenMP parallel region.
 *
 * Method: one warm-up run, then the median of K timed runs (wall clock,
 * CLOCK_MONOTONIC): runs are repeated until K >= 5 (3 with --quick) and about 2 s
 * (0.25 s with --quick) have been timed for the configuration, at most 50 runs.
 *
 * Usage: bench_scan [--quick] [--csv FILE] [--help]. Always exits 0 after a run: the
 * verdict lines at the end report the targets, they do not fail the program. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "aaren.h"
#include "kernels/kernels.h"
#include "base/rng.h"

#define MAX_REPS 50
#define MAX_THREAD_COUNTS 3
#define SEED 20240521u

typedef struct {
    int BH, N, dh;
} shape;

typedef struct {
    int quick;
    double budget_s; /* time per configuration for the timed runs */
    int min_reps;
} options;

typedef struct {
    double ms, fwd_ms, bwd_ms, gbps, memcpy_gbps, pct;
    double cpu_share;   /* process CPU time / (wall time x threads) over the timed runs */
    int reps;
} result;

/* ---- small helpers ------------------------------------------------------------ */

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now_s(void) { return clock_s(CLOCK_MONOTONIC); }

/* CPU time of the whole process (all threads), seconds. */
static double cpu_s(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n values (sorts a copy). */
static double median(const double *x, int n) {
    double tmp[MAX_REPS];
    memcpy(tmp, x, sizeof(double) * (size_t)n);
    qsort(tmp, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? tmp[n / 2] : 0.5 * (tmp[n / 2 - 1] + tmp[n / 2]);
}

/* Whether to time another run after `done` runs that took `spent` seconds in all. */
static int more_reps(const options *opt, int done, double spent) {
    return done < MAX_REPS && (done < opt->min_reps || spent < opt->budget_s);
}

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes);
    if (!p) {
        fprintf(stderr, "bench_scan: out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    return p;
}

static int machine_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static void set_threads(int t) {
#ifdef _OPENMP
    omp_set_num_threads(t);
#else
    (void)t;
#endif
}


/* The 1-minute load average, or -1 when unreadable. */
static double load_average(void) {
    double la = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &la) != 1) la = -1;
        fclose(f);
    }
    return la;
}

static void shape_label(char *buf, size_t len, const shape *sh, char sep) {
    snprintf(buf, len, "%d%c%d%c%d", sh->BH, sep, sh->N, sep, sh->dh);
}

/* ---- memcpy reference ------------------------------------------------------------ */

/* Copies bytes from src to dst with `threads` threads, each one contiguous part. */
static void copy_parallel(char *dst, const char *src, size_t bytes, int threads) {
#ifdef _OPENMP
    if (threads > 1) {
        #pragma omp parallel num_threads(threads)
        {
            const size_t nt = (size_t)omp_get_num_threads(), id = (size_t)omp_get_thread_num();
            const size_t part = (bytes / nt + 63) & ~(size_t)63;   /* cache-line multiple */
            const size_t a = id * part < bytes ? id * part : bytes;
            const size_t b = a + part < bytes ? a + part : bytes;
            memcpy(dst + a, src + a, b - a);
        }
        return;
    }
#else
    (void)threads;
#endif
    memcpy(dst, src, bytes);
}

/* memcpy bandwidth (GB/s, read + write counted) copying `bytes` at each thread count. */
static void memcpy_bandwidth(size_t bytes, const int *threads, int n_threads,
                             const options *opt, double *gbps) {
    char *src = xmalloc(bytes), *dst = xmalloc(bytes);
    for (size_t i = 0; i < bytes; i++) src[i] = (char)(i * 131u >> 3);
    memset(dst, 0, bytes);
    for (int ti = 0; ti < n_threads; ti++) {
        copy_parallel(dst, src, bytes, threads[ti]);   /* warm-up */
        double times[MAX_REPS], spent = 0;
        int k = 0;
        while (more_reps(opt, k, spent)) {
            const double t = now_s();
            copy_parallel(dst, src, bytes, threads[ti]);
            times[k] = now_s() - t;
            spent += times[k++];
        }
        gbps[ti] = 2.0 * (double)bytes / median(times, k) / 1e9;
    }
    free(src);
    free(dst);
}

/* ---- scan ------------------------------------------------------------------------- */

typedef struct {
    shape sh;
    size_t ns, nv;   /* floats in a [BH, N] and in a [BH, N, dh] array */
    float *s, *v, *g, *o, *m, *u, *ds, *dv;
} problem;

static size_t bytes_forward(const shape *sh) {
    return 4 * (size_t)sh->BH * sh->N * (2 * (size_t)sh->dh + 3);
}

static size_t bytes_backward(const shape *sh) {
    return 4 * (size_t)sh->BH * sh->N * (4 * (size_t)sh->dh + 4);
}

static void problem_make(problem *p, const shape *sh) {
    p->sh = *sh;
    p->ns = (size_t)sh->BH * sh->N;
    p->nv = p->ns * sh->dh;
    p->s = xmalloc(sizeof(float) * p->ns);
    p->m = xmalloc(sizeof(float) * p->ns);
    p->u = xmalloc(sizeof(float) * p->ns);
    p->ds = xmalloc(sizeof(float) * p->ns);
    p->v = xmalloc(sizeof(float) * p->nv);
    p->g = xmalloc(sizeof(float) * p->nv);
    p->o = xmalloc(sizeof(float) * p->nv);
    p->dv = xmalloc(sizeof(float) * p->nv);
    uint64_t rng = SEED;
    for (size_t i = 0; i < p->ns; i++) p->s[i] = (float)(3.0 * aaren_rng_normal(&rng));
    for (size_t i = 0; i < p->nv; i++) p->v[i] = (float)aaren_rng_normal(&rng);
    for (size_t i = 0; i < p->nv; i++) p->g[i] = (float)aaren_rng_normal(&rng);
    /* outputs touched once so that page faults are not timed */
    memset(p->m, 0, sizeof(float) * p->ns);
    memset(p->u, 0, sizeof(float) * p->ns);
    memset(p->ds, 0, sizeof(float) * p->ns);
    memset(p->o, 0, sizeof(float) * p->nv);
    memset(p->dv, 0, sizeof(float) * p->nv);
}

static void problem_free(problem *p) {
    free(p->s); free(p->m); free(p->u); free(p->ds);
    free(p->v); free(p->g); free(p->o); free(p->dv);
}

/* One forward + backward (B = BH, H = 1); seconds spent in each. */
static void scan_once(problem *p, float *scratch, double *fwd_s, double *bwd_s) {
    const shape *sh = &p->sh;
    const double t0 = now_s();
    aaren_attn_scan(p->o, p->m, p->u, p->s, p->v, sh->BH, 1, sh->N, sh->dh, 0, scratch);
    const double t1 = now_s();
    aaren_attn_scan_backward(p->ds, p->dv, p->g, p->o, p->m, p->u, p->s, p->v,
                             sh->BH, 1, sh->N, sh->dh, 0, scratch);
    const double t2 = now_s();
    *fwd_s = t1 - t0;
    *bwd_s = t2 - t1;
}

static void scan_bench(problem *p, int threads, const options *opt, result *res) {
    set_threads(threads);
    float *scratch = xmalloc(sizeof(float) * aaren_attn_scratch_len(p->sh.dh, 0));
    double fwd[MAX_REPS], bwd[MAX_REPS], tot[MAX_REPS], wall = 0;
    scan_once(p, scratch, &fwd[0], &bwd[0]);   /* warm-up */
    const double cpu0 = cpu_s();
    int k = 0;
    while (more_reps(opt, k, wall)) {
        scan_once(p, scratch, &fwd[k], &bwd[k]);
        tot[k] = fwd[k] + bwd[k];
        wall += tot[k++];
    }
    res->cpu_share = (cpu_s() - cpu0) / (wall * threads);
    free(scratch);
    res->reps = k;
    res->ms = 1e3 * median(tot, k);
    res->fwd_ms = 1e3 * median(fwd, k);
    res->bwd_ms = 1e3 * median(bwd, k);
    res->gbps = (double)(bytes_forward(&p->sh) + bytes_backward(&p->sh)) / (res->ms * 1e6);
}

/* ---- program ---------------------------------------------------------------------- */

static void usage(FILE *f) {
    fprintf(f,
            "usage: bench_scan [--quick] [--csv FILE] [--help]\n"
            "  Aaren scan forward+backward throughput (GB/s of compulsory traffic) against\n"
            "  memcpy bandwidth, at 1 and 2 threads (and the OpenMP maximum if larger).\n"
            "  --quick     smaller shapes (64,1024,32) and (1,100000,64), fewer repetitions\n"
            "  --csv FILE  also write rows: shape,threads,ms,gbps,memcpy_gbps,pct_memcpy\n"
            "  --help      this text\n");
}

int main(int argc, char **argv) {
    options opt = {0, 2.0, 5};
    const char *csv_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            opt.quick = 1;
        } else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc) {
            csv_path = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "bench_scan: unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (opt.quick) {
        opt.budget_s = 0.25;
        opt.min_reps = 3;
    }
    FILE *csv = NULL;
    if (csv_path) {
        csv = fopen(csv_path, "w");
        if (!csv) {
            fprintf(stderr, "bench_scan: cannot write %s\n", csv_path);
            return 1;
        }
        fprintf(csv, "shape,threads,ms,gbps,memcpy_gbps,pct_memcpy\n");
    }

    const shape full[2] = {{256, 4096, 32}, {1, 1000000, 64}};
    const shape small[2] = {{64, 1024, 32}, {1, 100000, 64}};
    const shape *shapes = opt.quick ? small : full;

    const int tmax = machine_threads();
    int threads[MAX_THREAD_COUNTS], n_threads = 0;
    threads[n_threads++] = 1;
#ifdef _OPENMP
    threads[n_threads++] = 2;
    if (tmax > 2) threads[n_threads++] = tmax;
#endif

    char model[256];
    int cores;
    aaren_cpu_info(model, sizeof model, &cores);
    printf("aaren %s scan benchmark%s\n", aaren_version(), opt.quick ? " (--quick)" : "");
    printf("backend:  %s\n", aaren_backend());
    printf("machine:  %s; %ld logical CPUs online", model, sysconf(_SC_NPROCESSORS_ONLN));
    if (cores > 0) printf(", %d cores per socket", cores);
    printf("; OpenMP max threads %d; load average %.2f\n", tmax, load_average());
    printf("threads:  ");
    for (int ti = 0; ti < n_threads; ti++) printf("%s%d", ti ? ", " : "", threads[ti]);
#ifndef _OPENMP
    printf(" (built without OpenMP)");
#endif
    printf("\n");
    printf("traffic:  minimum compulsory, float32, read bytes + written bytes:\n"
           "          fwd reads s,v writes o,m,u; bwd reads g,o,m,u,s,v writes ds,dv\n"
           "          = 4*BH*N*(6*dh+7) bytes per fwd+bwd\n");
    printf("memcpy:   copy of the same byte count, counted read + write (2x bytes);\n"
           "          T threads copy T contiguous parts in one OpenMP parallel region\n");
    printf("cpu%%:     process CPU time / (wall time x threads) over the timed scan runs;\n"
           "          well below 100%% means other processes took the CPUs (figures pessimistic)\n");
    printf("method:   warm-up run, then median of K runs (K >= %d and until ~%.2g s timed,\n"
           "          at most %d), clock_gettime(CLOCK_MONOTONIC); B = BH, H = 1;\n"
           "          s ~ 3 N(0,1), v, g ~ N(0,1), seed %u\n",
           opt.min_reps, opt.budget_s, MAX_REPS, SEED);

    result res[2][MAX_THREAD_COUNTS];
    for (int si = 0; si < 2; si++) {
        const shape *sh = &shapes[si];
        const size_t bf = bytes_forward(sh), bb = bytes_backward(sh), total = bf + bb;
        char label[64], csv_label[64], cell[72];
        shape_label(label, sizeof label, sh, ',');
        shape_label(csv_label, sizeof csv_label, sh, 'x');
        snprintf(cell, sizeof cell, "(%s)", label);
        printf("\n(BH,N,dh) = (%s): %.1f MB per fwd+bwd (fwd %.1f MB, bwd %.1f MB)\n", label,
               (double)total / 1e6, (double)bf / 1e6, (double)bb / 1e6);
        printf("  %-16s %3s %3s %9s %8s %11s %8s  %17s  %17s %5s\n", "shape", "thr", "K",
               "ms", "GB/s", "memcpy GB/s", "%memcpy", "fwd ms (GB/s)", "bwd ms (GB/s)", "cpu%");
        fflush(stdout);

        double mc[MAX_THREAD_COUNTS];
        memcpy_bandwidth(total, threads, n_threads, &opt, mc);
        problem p;
        problem_make(&p, sh);
        for (int ti = 0; ti < n_threads; ti++) {
            result *r = &res[si][ti];
            scan_bench(&p, threads[ti], &opt, r);
            r->memcpy_gbps = mc[ti];
            r->pct = 100.0 * r->gbps / mc[ti];
            printf("  %-16s %3d %3d %9.2f %8.2f %11.2f %7.1f%%  %8.2f (%6.2f)  %8.2f (%6.2f) %4.0f%%\n",
                   cell, threads[ti], r->reps, r->ms, r->gbps, r->memcpy_gbps, r->pct,
                   r->fwd_ms, (double)bf / (r->fwd_ms * 1e6), r->bwd_ms,
                   (double)bb / (r->bwd_ms * 1e6), 100.0 * r->cpu_share);
            fflush(stdout);
            if (csv)
                fprintf(csv, "%s,%d,%.4f,%.4f,%.4f,%.2f\n", csv_label, threads[ti], r->ms,
                        r->gbps, r->memcpy_gbps, r->pct);
        }
        problem_free(&p);
    }
    set_threads(tmax);
    if (csv) fclose(csv);

    /* Verdicts: target 1 must hold at every thread count measured. */
    char l0[64], l1[64];
    shape_label(l0, sizeof l0, &shapes[0], ',');
    shape_label(l1, sizeof l1, &shapes[1], ',');
    printf("\nload average at the end: %.2f\n", load_average());
    printf("verdict%s:\n", opt.quick ? " (--quick shapes; the targets are defined at full size)" : "");
    int pass1 = 1;
    for (int ti = 0; ti < n_threads; ti++) pass1 &= res[0][ti].pct >= 30.0;
    printf("  (%s) at >= 30%% of memcpy bandwidth: %s (at every thread count: ", l0,
           pass1 ? "PASS" : "MISS");
    for (int ti = 0; ti < n_threads; ti++)
        printf("%s%d thr %.1f%%", ti ? ", " : "", threads[ti], res[0][ti].pct);
    printf(")\n");
    if (n_threads >= 2) {
        const double t1 = res[1][0].ms, t2 = res[1][1].ms;
        printf("  (%s) 2 threads faster than 1 thread: %s (%.2f ms vs %.2f ms, speed-up %.2fx)\n",
               l1, t2 < t1 ? "PASS" : "MISS", t2, t1, t1 / t2);
    } else {
        printf("  (%s) 2 threads faster than 1 thread: MISS (built without OpenMP)\n", l1);
    }
    return 0;
}
