/* aaren bench: the efficiency figures on this machine, each beside its method. The tool
 * parses the options, runs the harness's sections (bench/harness: training, streaming, the
 * PyTorch twin) and prints the header, the summary and a verdict table; the exit code is 0
 * whatever the verdicts. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "harness.h"

/* ---- options and the report ------------------------------------------------------------------ */

static const char *bench_help =
    "usage: aaren [--threads N] bench [options]\n\n"
    "Measures, on this machine, the efficiency claims of Aaren against a causal Transformer of\n"
    "the same shape (default: 3 layers, d_model 128, 4 heads, d_ff 512, post-norm, GELU), and\n"
    "prints each figure with its method and a final PASS/MISS table of the targets. Exit code 0\n"
    "whatever the verdicts (1 only when the benchmark cannot run). Full run: about 10 minutes\n"
    "on 2 cores (half of it the Transformer baseline).\n\n"
    "1. training: tokens/s of aaren_train_step (forward, MSE, backward, clip, AdamW; dropout 0)\n"
    "   also as a share of the host's peak (square 2048 float32 products, the better of 1 and\n"
    "   all threads; column 'of peak'), beside the CPU's instruction set\n"
    "   on a sequence model d_in = d_out = d_model, batch 32, N = 256, 1024, 4096; the bound\n"
    "   set by the step's matrix products (aaren_gemm timed on the step's own shapes; the FLOP\n"
    "   formula is printed); Aaren's fraction of it and the Aaren/Transformer ratio. A\n"
    "   configuration that does not fit memory, or is predicted (from the shorter lengths) to\n"
    "   take over 240 s, gets a smaller batch, and says so. Then where a step's time goes:\n"
    "   forward, loss, backward, AdamW, each beside the products, attention kernel, LayerNorms\n"
    "   and activation of that phase timed alone on the same shapes.\n"
    "2. streaming: per-token latency (median of the 1000-token window up to the position), RSS\n"
    "   and state bytes at 1K, 16K, 64K and 1M tokens; Aaren's 1K window is timed again on a\n"
    "   fresh stream after the long run, and the 1K-vs-1M verdict uses it, so that a drift of\n"
    "   the machine is not read as an effect of position. Cumulative time to N tokens (Aaren\n"
    "   to 1M, the Transformer to 65,536 unless the next doubling is predicted to pass the\n"
    "   budget: then it stops, says where, and extrapolates a fitted a + b x position latency,\n"
    "   marked measured = 0 in the CSV and dashed in the plot). The kernels of one token timed\n"
    "   alone (products, activation, LayerNorm, Aaren cell). 32 streams with\n"
    "   aaren_stream_step_batch against 32 single-stream steps.\n"
    "3. the PyTorch twin (python/bench_twin.py via " CLI_PYTHON ", same thread count): training\n"
    "   tokens/s of its scan path at N = 256 and 1024 and streaming latency of its step path,\n"
    "   with the BLAS torch loaded (a loud warning if it is the reference BLAS).\n"
    "4. decision models (--parts dt only; not in the default): one update of 'aaren rl train' at\n"
    "   the offline-RL recipe's sizes (K 20, batch 64, d_model 128, 1 head, 3 layers, d_ff 512,\n"
    "   pre-norm, dropout 0.1; synthetic data of halfcheetah's sizes), both architectures: ms\n"
    "   per update, tokens/s and the share of the bound set by the update's own products (the\n"
    "   encoder's, the three embeddings' and the action head's, timed alone), then the\n"
    "   update's phases. Target: >= 60% of that bound, as for the training step.\n\n"
    "options:\n"
    "  --model F.safetensors  the encoder shape of this checkpoint (its weights for its own\n"
    "                         architecture; the other architecture gets the same shape)\n"
    "  --quick                small sizes and few repetitions: seconds, not minutes (batch 8,\n"
    "                         N = 64, 128, 256, streams to 64K; the targets are defined at\n"
    "                         full size, so the verdicts say so)\n"
    "  --parts LIST           which sections, comma-separated: train, stream, twin, dt\n"
    "                         [train,stream,twin]\n"
    "  --shapes               training: also time every product shape of a step alone (forward,\n"
    "                         input and weight gradient) in GFLOP/s against the host's peak;\n"
    "                         each also with the BLAS's own threads in place of aaren_gemm's\n"
    "                         row bands\n"
    "  --batch B              training batch [32; quick 8]\n"
    "  --tokens LIST          training lengths, comma-separated, up to 6 [256,1024,4096]\n"
    "  --stream-tokens N      Aaren stream length, a power of two [1048576; quick 65536]\n"
    "  --budget S             seconds the Transformer stream may take [200; quick 5]\n"
    "  --csv PREFIX           write PREFIX_train.csv (one row per configuration: step, bound,\n"
    "                         phases, memory, CPU share), PREFIX_stream.csv (one row per\n"
    "                         power of two of tokens: cumulative s, us/token, RSS, state) and\n"
    "                         PREFIX_dt.csv (one row per architecture: update, bound, phases)\n"
    "  --plot                 draw PREFIX_stream.png (memory and cumulative time against tokens)\n"
    "                         with python/plot_bench.py; needs --csv and matplotlib\n"
    "  --python DIR           folder of bench_twin.py and plot_bench.py [found next to the\n"
    "                         binary (../python) or in the source tree]\n"
    "  --seed S               weights and data [1]\n\n"
    "Method: wall clock (CLOCK_MONOTONIC); training: one warm-up step, then the median of K\n"
    "steps (K >= 5 and >= 2 s timed, at least 3 and at most ~30 s for long steps, K <= 50);\n"
    "matrix products likewise; streaming: every token timed. 'cpu%' is process CPU time over\n"
    "wall time x threads: well below 100% means other processes took the CPUs.\n";

static int parse_parts(const char *v, int *parts) {
    *parts = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", v);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (!strcmp(tok, "train")) *parts |= PART_TRAIN;
        else if (!strcmp(tok, "stream")) *parts |= PART_STREAM;
        else if (!strcmp(tok, "twin")) *parts |= PART_TWIN;
        else if (!strcmp(tok, "dt")) *parts |= PART_DT;
        else return cli_fail("bench", "--parts: unknown part '%s' (expected train, stream, twin, dt)", tok), -1;
    }
    return *parts ? 0 : (cli_fail("bench", "--parts: no part given"), -1);
}

static int parse_tokens(const char *v, bench_opts *o) {
    o->n_ns = 0;
    const char *p = v;
    while (*p) {
        char *end;
        const long n = strtol(p, &end, 10);
        if (end == p || n < 1 || n > 1 << 20 || o->n_ns == MAX_NS || (*end && *end != ','))
            return cli_fail("bench", "--tokens '%s': expected up to %d comma-separated lengths from 1 to %d", v,
                            MAX_NS, 1 << 20), -1;
        o->ns[o->n_ns++] = (int)n;
        p = *end ? end + 1 : end;
    }
    return o->n_ns ? 0 : (cli_fail("bench", "--tokens: no length given"), -1);
}

static int parse_opts(const cli_args *a, bench_opts *o) {
    memset(o, 0, sizeof *o);
    o->quick = cli_flag(a, "quick");
    o->plot = cli_flag(a, "plot");
    o->shapes = cli_flag(a, "shapes");
    o->csv = cli_get(a, "csv");
    o->pydir_opt = cli_get(a, "python");
    o->model_path = cli_get(a, "model");
    o->parts = PART_TRAIN | PART_STREAM | PART_TWIN;
    if (cli_get(a, "parts") && parse_parts(cli_get(a, "parts"), &o->parts)) return -1;
    long batch, st, seed, budget;
    if (cli_int(a, "batch", o->quick ? 8 : 32, 1, 65536, &batch) ||
        cli_int(a, "stream-tokens", o->quick ? 65536 : 1048576, 1, 1L << 30, &st) ||
        cli_int(a, "budget", o->quick ? 5 : 200, 0, 100000, &budget) ||
        cli_int(a, "seed", 1, 0, 0x7fffffffL, &seed))
        return -1;
    if (st & (st - 1)) return cli_fail("bench", "--stream-tokens %ld: must be a power of two", st), -1;
    if (o->plot && !o->csv) return cli_fail("bench", "--plot draws from the CSV files: give --csv PREFIX too"), -1;
    o->batch = (int)batch;
    o->aaren_tokens = st;
    o->tf_tokens = st < 65536 ? st : 65536;
    o->tf_budget = (double)budget;
    o->seed = (uint64_t)seed;
    if (cli_get(a, "tokens")) {
        if (parse_tokens(cli_get(a, "tokens"), o)) return -1;
    } else {
        const int full[3] = {256, 1024, 4096}, quick[3] = {64, 128, 256};
        o->n_ns = 3;
        memcpy(o->ns, o->quick ? quick : full, sizeof full);
    }
    o->window = o->quick ? 200 : 1000;
    o->n_streams = 32;
    o->batch_tokens = o->quick ? 100 : 1000;
    o->train_cap = o->quick ? 10 : 240;
    const reps_rule full_rule = {3, 5, 2.0, 30.0}, quick_rule = {2, 3, 0.2, 1.0};
    const reps_rule full_phase = {1, 3, 1.0, 10.0}, quick_phase = {1, 2, 0.1, 0.5};
    o->train_rule = o->gemm_rule = o->quick ? quick_rule : full_rule;
    o->phase_rule = o->quick ? quick_phase : full_phase;
    if (o->model_path) {
        char err[512];
        o->ckpt = aaren_model_load(o->model_path, err, sizeof err);
        if (!o->ckpt) return cli_fail("bench", "%s", err), -1;
        o->cfg = *aaren_model_config(o->ckpt);
    } else {
        o->cfg = (aaren_config){AAREN_ARCH_AAREN, 128, 4, 3, 512, AAREN_NORM_POST, AAREN_GELU, 1e-5f};
    }
    o->d_io = o->cfg.d_model;
    o->python = CLI_PYTHON;
    static char twin_dir[1024];
    o->twin_dir = cli_python_dir(o->pydir_opt, "bench_twin.py", twin_dir, sizeof twin_dir);
    return 0;
}

static int targets_sizes(const bench_opts *o) {
    return !o->quick && o->batch == 32 && o->n_ns == 3 && o->ns[0] == 256 && o->ns[1] == 1024 && o->ns[2] == 4096;
}

typedef struct {
    int n;
    int state[24];      /* 1 PASS, 0 MISS, -1 not measured */
    char what[24][96], fig[24][160];
} verdicts;

static void verdict(verdicts *v, int state, const char *what, const char *fmt, ...) {
    if (v->n == 24) return;
    va_list ap;
    v->state[v->n] = state;
    snprintf(v->what[v->n], sizeof v->what[0], "%s", what);
    va_start(ap, fmt);
    vsnprintf(v->fig[v->n], sizeof v->fig[0], fmt, ap);
    va_end(ap);
    v->n++;
}

static const train_point *train_at(const train_section *ts, const bench_opts *o, int arch, int N) {
    for (int i = 0; i < o->n_ns; i++) if (o->ns[i] == N && ts->r[arch][i].ran) return &ts->r[arch][i];
    return NULL;
}

int cmd_bench(int argc, char **argv) {
    static const char *const valued[] = {"model", "parts", "batch", "tokens", "stream-tokens", "budget", "csv",
                                         "python", "seed", NULL};
    static const char *const flags[] = {"quick", "plot", "shapes", NULL};
    cli_args a;
    const int prc = cli_parse(&a, "bench", argc, argv, valued, flags);
    if (prc) { if (prc > 0) fputs(bench_help, stdout); return prc > 0 ? 0 : 2; }
    if (a.n_positional) return cli_fail("bench", "unexpected argument '%s' (see 'aaren bench --help')", a.positional[0]), 2;
    bench_opts o;
    if (parse_opts(&a, &o)) return 2;

    aaren_writer *w_train = NULL, *w_stream = NULL, *w_dt = NULL;   /* the CSVs land when the run ends */
    FILE *csv_train = NULL, *csv_stream = NULL, *csv_dt = NULL;
    char path_train[1024], path_stream[1024], path_dt[1024], err[1024];
    if (o.csv) {
        snprintf(path_train, sizeof path_train, "%s_train.csv", o.csv);
        snprintf(path_stream, sizeof path_stream, "%s_stream.csv", o.csv);
        snprintf(path_dt, sizeof path_dt, "%s_dt.csv", o.csv);
        int bad = 0;
        if ((o.parts & PART_TRAIN) && !(w_train = aaren_writer_open(path_train, err, sizeof err))) bad = 1;
        else if ((o.parts & PART_STREAM) && !(w_stream = aaren_writer_open(path_stream, err, sizeof err))) bad = 1;
        else if ((o.parts & PART_DT) && !(w_dt = aaren_writer_open(path_dt, err, sizeof err))) bad = 1;
        if (bad) {
            aaren_writer_abort(w_train);
            aaren_writer_abort(w_stream);
            aaren_model_free(o.ckpt);
            return cli_fail("bench", "%s", err);
        }
        if (w_train) csv_train = aaren_writer_file(w_train);
        if (w_stream) csv_stream = aaren_writer_file(w_stream);
        if (w_dt) csv_dt = aaren_writer_file(w_dt);
        if (csv_train)
            fprintf(csv_train, "arch,batch,tokens,reps,step_ms,tokens_per_s,bound_tokens_per_s,fraction_of_bound,"
                               "gemm_gflops,gemm_ms,forward_ms,loss_ms,backward_ms,adamw_ms,gemm_forward_ms,"
                               "gemm_backward_ms,memory_bytes,cpu_share,fraction_of_peak\n");
        if (csv_dt)
            fprintf(csv_dt, "arch,batch,K,reps,update_ms,tokens_per_s,bound_tokens_per_s,fraction_of_bound,gemm_gflops,"
                            "gemm_ms,draw_embed_ms,forward_ms,head_loss_ms,backward_ms,embed_backward_ms,adamw_ms,"
                            "gemm_forward_ms,gemm_backward_ms,fraction_of_peak,cpu_share\n");
        if (csv_stream)
            fprintf(csv_stream, "arch,tokens,cumulative_s,us_per_token_median,us_per_token_mean,rss_bytes,"
                                "state_bytes,measured\n");
    }

    char model[256], date[64];
    int cores;
    aaren_cpu_info(model, sizeof model, &cores);
    const time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    const aaren_config *c = &o.cfg;
    printf("aaren %s bench%s, %s\n", aaren_version(), o.quick ? " --quick" : "", date);
    printf("machine:  %s; %ld logical CPUs online", model, sysconf(_SC_NPROCESSORS_ONLN));
    if (cores > 0) printf(", %d cores per socket", cores);
    printf("; load average %.2f at the start\n", bench_load_average());
    printf("isa:      %s\n", bench_isa_name());
    printf("threads:  %d (OpenMP)\n", aaren_threads());
    printf("backend:  %s\n", aaren_backend());
    char source[1100];
    if (o.model_path) snprintf(source, sizeof source, "%s", o.model_path);
    else snprintf(source, sizeof source, "random weights (seed %llu)", (unsigned long long)o.seed);
    if (o.parts & ~PART_DT)   /* the decision models' section prints its own */
        printf("model:    %s: d_model %d, %d heads, %d layers, d_ff %d, %s-norm, %s\n", source, c->d_model, c->n_heads,
               c->n_layers, c->d_ff, aaren_norm_name(c->norm), c->activation == AAREN_RELU ? "ReLU" : "GELU");
    printf("method:   clock_gettime(CLOCK_MONOTONIC); one warm-up, then the median of K runs\n"
           "          (K >= %d and >= %.2g s timed; at least %d and about %.0f s at most for long runs)\n",
           o.train_rule.min_reps, o.train_rule.budget_s, o.train_rule.hard_min, o.train_rule.long_s);
    fflush(stdout);

    train_section *ts = calloc(1, sizeof *ts);
    stream_section *ss = calloc(1, sizeof *ss);
    dt_section *ds = calloc(1, sizeof *ds);
    twin_result tw;
    memset(&tw, 0, sizeof tw);
    if (!ts || !ss || !ds) {
        free(ts); free(ss); free(ds); aaren_model_free(o.ckpt);
        aaren_writer_abort(w_train);
        aaren_writer_abort(w_stream);
        aaren_writer_abort(w_dt);
        return cli_fail("bench", "out of memory");
    }
    const double t_run = aaren_now_s();
    int rc = 0;
    if (o.parts & PART_TRAIN) rc = bench_run_training(&o, ts, csv_train);
    if (!rc && (o.parts & PART_STREAM)) rc = bench_run_streaming(&o, ss, csv_stream);
    if (!rc && (o.parts & PART_DT)) rc = bench_run_dt(&o, ds, csv_dt);
    if (rc) {
        aaren_writer_abort(w_train);
        aaren_writer_abort(w_stream);
        aaren_writer_abort(w_dt);
    } else {
        int bad = w_train && aaren_writer_commit(w_train, err, sizeof err);
        if (bad) aaren_writer_abort(w_stream);
        else bad = w_stream && aaren_writer_commit(w_stream, err, sizeof err);
        if (bad) aaren_writer_abort(w_dt);
        else bad = w_dt && aaren_writer_commit(w_dt, err, sizeof err);
        if (bad) rc = cli_fail("bench", "%s", err);
    }
    if (!rc && (o.parts & PART_TWIN)) bench_run_twin(&o, &tw, o.n_ns < 2 ? o.n_ns : 2, o.ns);
    if (rc) { free(ts); free(ss); free(ds); aaren_model_free(o.ckpt); return 1; }

    /* ---- comparisons and verdicts ---- */
    verdicts v;
    memset(&v, 0, sizeof v);
    const int nmax = o.ns[o.n_ns - 1];
    printf("\n== summary\n");
    if (o.parts & PART_TRAIN) {
        for (int i = 0; i < o.n_ns; i++) {
            const train_point *r = train_at(ts, &o, 0, o.ns[i]);
            char what[96];
            snprintf(what, sizeof what, "Aaren training >= 60%% of the GEMM bound, N=%d", o.ns[i]);
            if (r) verdict(&v, r->frac >= 0.6, what, "%.1f%% (%.0f of %.0f tokens/s)", 100 * r->frac, r->tps, r->bound_tps);
            else verdict(&v, -1, what, "not run");
        }
        const train_point *ra = train_at(ts, &o, 0, nmax), *rt = train_at(ts, &o, 1, nmax);
        char what[96];
        snprintf(what, sizeof what, "Aaren / Transformer training >= 2x, N=%d", nmax);
        if (ra && rt) {
            const double ratio = ra->tps / rt->tps;
            printf("training tokens/s at N = %d: Aaren %.0f (batch %d), Transformer %.0f (batch %d): ratio %.2fx\n", nmax,
                   ra->tps, ra->B, rt->tps, rt->B, ratio);
            verdict(&v, ratio >= 2, what, "%.2fx (%.0f vs %.0f tokens/s)", ratio, ra->tps, rt->tps);
        } else {
            verdict(&v, -1, what, "not run");
        }
    }
    if (o.parts & PART_STREAM) {
        const stream_curve *ra = &ss->r[0], *rt = &ss->r[1];
        const stream_point *a1 = bench_point_at(ra, 1024), *a2 = bench_point_at(ra, o.aaren_tokens);
        char what[96], lab[24];
        snprintf(what, sizeof what, "Aaren latency at %s within 5%% of 1K", bench_tok_label(o.aaren_tokens, lab, sizeof lab));
        if (a1 && a2 && a2->n > a1->n) {
            /* against the 1K window timed right after the long run when there is one */
            const double ref = ra->again_us > 0 ? ra->again_us : a1->us_med, d = a2->us_med / ref - 1;
            if (ra->again_us > 0)
                verdict(&v, fabs(d) <= 0.05, what, "%.2f vs %.2f us/token (%+.1f%%; first 1K window %.2f, %+.1f%%)",
                        a2->us_med, ref, 100 * d, a1->us_med, 100 * (a2->us_med / a1->us_med - 1));
            else
                verdict(&v, fabs(d) <= 0.05, what, "%.2f vs %.2f us/token (%+.1f%%)", a2->us_med, ref, 100 * d);
            snprintf(what, sizeof what, "Aaren RSS unchanged 1K -> %s", lab);
            verdict(&v, a2->rss == a1->rss, what, "%ld -> %ld bytes (%+ld), state %zu bytes", a1->rss, a2->rss,
                    a2->rss - a1->rss, a2->state);
        } else {
            verdict(&v, -1, what, "stream shorter than 2K tokens");
        }
        const long nr = o.tf_tokens;
        const stream_point *pa = bench_point_at(ra, nr), *pt = bench_point_at(rt, nr);
        if (pa && pt)
            printf("cumulative time to %ld tokens one at a time: Transformer %.2f s%s, Aaren %.3f s: ratio %.1fx\n", nr,
                   pt->cum_s, pt->measured ? "" : " (extrapolated)", pa->cum_s, pt->cum_s / pa->cum_s);
        for (int arch = 0; arch < 2; arch++)
            if (ss->batch_ok[arch])
                printf("%s: %d batched streams %.2f us per stream-token vs %.2f single (%.1fx)\n", aaren_arch_name(arch),
                       o.n_streams, ss->us_batch[arch], ss->us_single[arch], ss->us_single[arch] / ss->us_batch[arch]);
    }
    if (o.parts & PART_TWIN) {
        const double need[2] = {1.5, 3.0};
        for (int i = 0; i < 2 && i < o.n_ns; i++) {
            char what[96];
            snprintf(what, sizeof what, "training vs the twin >= %.1fx, N=%d", need[i], o.ns[i]);
            const train_point *r = train_at(ts, &o, 0, o.ns[i]);
            double twin = 0;
            for (int k = 0; k < tw.n_train; k++) if (tw.train_n[k] == o.ns[i]) twin = tw.train_tps[k];
            if (r && twin > 0)
                verdict(&v, r->tps / twin >= need[i], what, "%.2fx (%.0f vs %.0f tokens/s)%s", r->tps / twin, r->tps, twin,
                        tw.blas_reference == 1 ? "; torch on the reference BLAS" : "");
            else if (!r) verdict(&v, -1, what, "not measured: the training part did not run at N=%d", o.ns[i]);
            else verdict(&v, -1, what, "not measured%s%s", tw.why[0] ? ": " : "", tw.why);
        }
        const stream_point *a1 = bench_point_at(&ss->r[0], 1024);
        if (!a1 && ss->r[0].np) a1 = &ss->r[0].p[ss->r[0].np - 1];
        if (a1 && tw.stream_us > 0)
            verdict(&v, tw.stream_us / a1->us_med >= 20, "streaming latency vs the twin >= 20x lower",
                    "%.1fx (%.2f vs %.2f us/token)%s", tw.stream_us / a1->us_med, a1->us_med, tw.stream_us,
                    tw.blas_reference == 1 ? "; torch on the reference BLAS" : "");
        else if (!a1) verdict(&v, -1, "streaming latency vs the twin >= 20x lower", "not measured: the streaming part did not run");
        else verdict(&v, -1, "streaming latency vs the twin >= 20x lower", "not measured%s%s", tw.why[0] ? ": " : "", tw.why);
        if (tw.blas_reference == 1)
            printf("WARNING: torch runs on the REFERENCE BLAS: the twin comparison is meaningless\n");
    }
    if (o.parts & PART_DT)
        for (int arch = 0; arch < 2; arch++) {
            const dt_point *r = &ds->r[arch];
            char what[96];
            snprintf(what, sizeof what, "decision model (%s) update >= 60%% of its GEMM bound", aaren_arch_name(arch));
            if (r->ran)
                verdict(&v, r->frac >= 0.6, what, "%.1f%% (%.1f ms per update, %.0f tokens/s)", 100 * r->frac,
                        1e3 * r->step_s, r->tps);
            else verdict(&v, -1, what, "not run");
        }
    printf("\nrun time %.0f s; load average at the end %.2f\n", aaren_now_s() - t_run, bench_load_average());
    if (bench_interfered())
        printf("WARNING: %d measurement(s) had under 90%% of the CPU time they asked for (cpu%% columns):\n"
               "another load interfered and those figures are pessimistic; rerun on a quiet machine\n", bench_interfered());
    printf("verdicts%s:\n", targets_sizes(&o) ? "" : " (sizes differ from those the targets are defined at)");
    for (int i = 0; i < v.n; i++)
        printf("  %-4s  %-52s %s\n", v.state[i] > 0 ? "PASS" : v.state[i] == 0 ? "MISS" : "n/a", v.what[i], v.fig[i]);

    if (o.plot) {
        char dir[1024], script[1100], title[600];
        if (access(CLI_PYTHON, X_OK)) {
            printf("plot skipped: %s not found\n", CLI_PYTHON);
        } else if (!cli_python_dir(o.pydir_opt, "plot_bench.py", dir, sizeof dir)) {
            printf("plot skipped: plot_bench.py not found (give its folder with --python DIR)\n");
        } else {
            snprintf(script, sizeof script, "%s/plot_bench.py", dir);
            snprintf(title, sizeof title, "%s, %d threads; %d layers, d_model %d, d_ff %d", model, aaren_threads(),
                     c->n_layers, c->d_model, c->d_ff);
            char *argv[] = {CLI_PYTHON, script, (char *)o.csv, "--title", title, NULL};
            const pid_t pid = aaren_spawn(argv, NULL);
            const int code = pid < 0 ? -1 : aaren_wait(pid);
            if (code == 77) printf("plot skipped: matplotlib is missing for %s\n", CLI_PYTHON);
            else if (code) printf("plot failed (exit code %d)\n", code);
        }
    }
    free(ts);
    free(ss);
    free(ds);
    aaren_model_free(o.ckpt);
    return 0;
}
