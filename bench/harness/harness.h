/* The benchmark harness behind `aaren bench` (the tool parses its options, calls these
 * sections and prints the summary and verdicts): timing rules, the matrix-product bound and
 * the host's peak, the training step, one-token streaming and the PyTorch twin. Each section
 * prints its figures, with their method, on stdout as it measures them and keeps them in its
 * result struct (and, given one, writes CSV rows). Not part of the library's API. */
#ifndef AAREN_BENCH_HARNESS_H
#define AAREN_BENCH_HARNESS_H
#include <stdio.h>
#include "aaren.h"

#define MAX_REPS 50
#define MAX_NS 6            /* training sequence lengths */
#define MAX_POINTS 32       /* grid points of a stream (powers of two) */
#define N_INPUTS 4096       /* distinct random tokens, cycled while streaming */

enum { PART_TRAIN = 1, PART_STREAM = 2, PART_TWIN = 4, PART_DT = 8 };

typedef struct {
    double step_s, fwd_s, din_s, dw_s;   /* medians over the timed passes */
    double flops;                        /* per pass */
    int reps;
} gemm_result;

typedef struct {
    double attn_f, attn_b, ln_f, ln_b, act_f, act_b;   /* seconds per step, all layers */
} ops_result;

/* When to stop timing repetitions of one configuration. */
typedef struct {
    int hard_min;       /* always at least this many */
    int min_reps;       /* and at least this many unless long_s has been spent */
    double budget_s;    /* keep going until this much has been timed */
    double long_s;      /* stop (after hard_min) once this much has been timed */
} reps_rule;

typedef struct {
    aaren_config cfg;
    aaren_model *ckpt;          /* --model, or NULL */
    const char *model_path;
    int quick, plot, parts;
    int shapes;                 /* --shapes: every product shape of a step timed alone */
    int batch, n_ns, ns[MAX_NS];
    int d_io;                   /* d_in = d_out of the sequence model */
    long aaren_tokens;          /* Aaren stream length (a power of two) */
    long tf_tokens;             /* Transformer stream grid end (a power of two) */
    double tf_budget;           /* seconds the Transformer stream may take */
    double train_cap;           /* seconds one training configuration may take */
    int window;                 /* tokens per latency window */
    int n_streams, batch_tokens;
    const char *csv, *pydir_opt;
    const char *python;         /* the interpreter of the twin (a path) */
    const char *twin_dir;       /* the folder holding bench_twin.py, or NULL: the twin is skipped */
    uint64_t seed;
    reps_rule train_rule, phase_rule, gemm_rule;
} bench_opts;

typedef struct {
    int ran;                     /* 0: not run (see note) */
    int B, N, reps;
    double step_s, tps, cpu_share;
    double fwd_s, loss_s, bwd_s, opt_s;   /* phases, medians */
    double bytes;                /* parameters, gradients, optimizer, activations, data */
    gemm_result gemm;
    ops_result ops;
    int have_ops;
    double bound_tps, frac;
    double frac_peak;            /* the step's product FLOPs per second against the host's peak sgemm */
    char note[200];
} train_point;

typedef struct {
    train_point r[2][MAX_NS];
} train_section;

/* The kernels of one streamed token, each timed alone (microseconds, medians over tokens). */
typedef struct {
    double mm_us, mm_flops, mm_bytes;   /* the linear layers' products (M = 1); per token */
    double act_us, ln_us, cell_us;      /* activation (L x d_ff), LayerNorm (2L x d_model),
                                         * Aaren cell (L x H; 0 for the Transformer) */
} token_parts;

typedef struct {
    long n;             /* tokens processed */
    double cum_s;       /* wall time from before the first token to after the n-th */
    double us_med;      /* median per-token latency over the window ending at token n */
    double us_mean;
    double cpu_share;   /* process CPU time / wall time over the window (one thread works) */
    long rss;           /* resident bytes after token n */
    size_t state;       /* aaren_stream_state_bytes after token n */
    int measured;       /* 0: extrapolated (Transformer beyond where it stopped) */
} stream_point;

typedef struct {
    int ran;
    stream_point p[MAX_POINTS];
    int np;
    long reached;       /* tokens processed */
    int stopped;        /* stopped by the time budget before the end of the grid */
    double next_s;      /* predicted seconds to the next grid point when it stopped */
    size_t alloc;       /* aaren_stream_alloc_bytes */
    long rss_before;    /* before the stream was created */
    double fit_a, fit_b;   /* Transformer: latency (us) ~ a + b * position, fitted */
    int have_parts;
    token_parts parts;  /* the token's kernels alone */
    double again_us;    /* Aaren: median latency of the window up to 1K of a fresh stream, timed
                         * right after the long run (the same machine state); 0 when not run */
} stream_curve;

typedef struct {
    stream_curve r[2];
    int batch_ok[2];
    double us_batch[2], us_single[2];
} stream_section;

typedef struct {
    int ran;            /* 1: results parsed */
    int n_train;
    int train_n[MAX_NS];
    double train_tps[MAX_NS];
    double stream_us;
    int blas_reference; /* 1: the reference BLAS is loaded; -1 unknown */
    char why[256];      /* when not run */
} twin_result;

/* One update of a decision model (tasks/dt.h, aaren_dt_update) at the offline-RL recipe's sizes. */
typedef struct {
    int ran;
    int B, K, N, reps;          /* windows, steps per window, tokens per window (3 K) */
    double step_s, tps;         /* median seconds per update; tokens (B N, padding included) per second */
    double phase_s[6];          /* medians: draw + embed, forward, head + loss, backward, embedding backward, AdamW */
    double cpu_share;
    gemm_result gemm;           /* the update's products timed alone */
    double frac, frac_peak;     /* of the bound; the products' FLOPs per second against the host's peak */
} dt_point;

typedef struct {
    dt_point r[2];              /* Aaren, Transformer */
} dt_section;

/* 1. training: Aaren and the Transformer at every length of o->ns (CSV rows into csv when not
 * NULL). 2. streaming: both architectures one token at a time. 0, or 1 after printing why. */
int bench_run_training(const bench_opts *o, train_section *ts, FILE *csv);
int bench_run_streaming(const bench_opts *o, stream_section *ss, FILE *csv);
/* 4. decision models: one update of each architecture at the offline-RL recipe's sizes against
 * the bound of its products (CSV rows into csv when not NULL). 0, or 1 after printing why. */
int bench_run_dt(const bench_opts *o, dt_section *ds, FILE *csv);
/* 3. the PyTorch twin on the first twin_ns lengths of ns (never fails: tw->why says what was
 * not measured). */
int bench_run_twin(const bench_opts *o, twin_result *tw, int twin_ns, const int *ns);

const stream_point *bench_point_at(const stream_curve *r, long n);   /* the point at n tokens, or NULL */
const char *bench_tok_label(long n, char *buf, size_t len);          /* "1K", "64K", "1M" */
double bench_load_average(void);                                      /* the 1-minute load average */
const char *bench_isa_name(void);                                     /* the CPU's vector instruction set */
int bench_interfered(void);   /* measurements that had under 90% of the CPU time they asked for */
#endif
