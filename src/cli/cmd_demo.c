/* aaren demo, the main job: train a small Aaren and a small Transformer on the same
 * synthetic task, compare accuracy, training time, streaming latency and memory, then
 * stream a few hundred tokens through the trained Aaren. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char *demo_help =
    "usage: aaren demo [training options of 'aaren train']\n"
    "       aaren demo --data FILE.csv [options]   (forecasting; see 'aaren demo --data x --help')\n\n"
    "Trains an Aaren and a Transformer sequence model with the same hyper-parameters on the\n"
    "running-maximum task (see 'aaren train --help'; defaults: 32 wide, 2 heads, 2 layers,\n"
    "300 steps of 32 x 64 tokens), prints test MSE, training time and throughput beside\n"
    "each other, measures token-by-token streaming (latency per token, state memory) over\n"
    "4096 tokens, and streams 300 tokens through the trained Aaren, checking every output\n"
    "against the parallel (scan) and quadratic (naive) paths.\n";

typedef struct {
    double us_per_token, state_bytes, alloc_bytes;
} stream_result;

/* Streams n tokens of one sequence; pred receives [n] outputs when non-NULL. */
static int stream_run(aaren_seqmodel *sm, const float *x, long n, float *pred, stream_result *r) {
    char err[512];
    aaren_stream *s = aaren_stream_new(aaren_seqmodel_encoder(sm), n, err, sizeof err);
    if (!s) return cli_fail("demo", "%s", err);
    float out;
    const double t0 = aaren_now_s();
    for (long t = 0; t < n; t++) {
        if (aaren_seqmodel_stream_step(sm, s, x + t, pred ? pred + t : &out, err, sizeof err)) {
            aaren_stream_free(s);
            return cli_fail("demo", "%s", err);
        }
    }
    r->us_per_token = 1e6 * (aaren_now_s() - t0) / (double)n;
    r->state_bytes = (double)aaren_stream_state_bytes(s);
    r->alloc_bytes = (double)aaren_stream_alloc_bytes(s);
    aaren_stream_free(s);
    return 0;
}

int cmd_demo(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--data")) return demo_forecast(argc, argv);
    cli_args a;
    int rc = cli_parse(&a, "demo", argc, argv, train_valued, NULL);
    if (rc) { if (rc > 0) fputs(demo_help, stdout); return rc > 0 ? 0 : 2; }
    aaren_synth_options o;
    if (synth_opts_from_args(&a, &o)) return 2;
    if (cli_get(&a, "arch") || cli_get(&a, "save") || cli_get(&a, "resume"))
        return cli_fail("demo", "demo trains both architectures itself; use 'aaren train' for --arch, --save, --resume"), 2;
    printf("aaren %s demo: %d threads, matrix backend %s\n", aaren_version(), aaren_threads(), aaren_backend());
    printf("task: running maximum of a noisy signal; model: d_model %d, %d heads, %d layers, d_ff %d; "
           "%ld steps x %d sequences x %d tokens\n\n", o.cfg.d_model, o.cfg.n_heads, o.cfg.n_layers, o.cfg.d_ff,
           o.steps, o.batch, o.tokens);
    aaren_seqmodel *sm[2] = {NULL, NULL};
    aaren_synth_result tr[2];
    stream_result sr[2];
    const long n_stream = 4096;
    float *xs = malloc(sizeof(float) * n_stream), *ys = malloc(sizeof(float) * n_stream);
    if (!xs || !ys) { free(xs); free(ys); return cli_fail("demo", "out of memory"); }
    aaren_synth_running_max(xs, ys, 1, (int)n_stream, o.seed ^ 0x57AEull, 3000000L);
    for (int arch = 0; arch < 2 && !rc; arch++) {
        o.cfg.arch = arch;
        printf("== training %s\n", aaren_arch_name(arch));
        char err[1024];
        long log_every;
        if (cli_int(&a, "log-every", o.steps >= 10 ? o.steps / 10 : 1, 1, 100000000, &log_every)) { rc = 2; break; }
        const aaren_fit_io io = {.progress = stdout, .log_every = log_every};
        sm[arch] = aaren_synth_train(&o, &io, &tr[arch], err, sizeof err);
        if (!sm[arch]) rc = cli_fail("demo", "%s", err);
        else rc = stream_run(sm[arch], xs, n_stream, NULL, &sr[arch]);
        printf("\n");
    }
    if (!rc) {
        double mm, mn;
        aaren_synth_running_max_baselines(o.batch, o.tokens, o.seed, 8, &mm, &mn);
        printf("== comparison (same data, same hyper-parameters, %d threads)\n", aaren_threads());
        printf("%-12s %10s %10s %12s %14s %16s %16s\n", "", "test MSE", "train s", "tokens/s",
               "stream us/tok", "state @1 tok", "state @4096 tok");
        for (int arch = 0; arch < 2; arch++) {
            /* state after one token: Aaren's is the same; the KV cache holds one entry */
            const aaren_config *c = aaren_model_config(aaren_seqmodel_encoder(sm[arch]));
            const double one = arch == 0 ? sr[arch].state_bytes : 2.0 * c->n_layers * c->d_model * sizeof(float);
            printf("%-12s %10.5f %10.1f %12.0f %14.1f %14.0f B %14.0f B\n", aaren_arch_name(arch), tr[arch].eval_mse,
                   tr[arch].train_seconds, tr[arch].tokens_per_s, sr[arch].us_per_token, one, sr[arch].state_bytes);
        }
        printf("%-12s %10.5f   (per-position mean of the target)\n", "baseline", mm);
        printf("%-12s %10.5f   (running max of the noisy input)\n\n", "baseline", mn);

        /* stream 300 tokens through the trained Aaren; compare with the parallel paths */
        const int n = 300;
        float *pt = malloc(sizeof(float) * n), *pn = malloc(sizeof(float) * n);
        char err[512];
        rc = (pt && pn) ? stream_run(sm[0], xs, n, pt, &sr[0]) : cli_fail("demo", "out of memory");
        const float *p = NULL;
        if (!rc && aaren_seqmodel_reserve(sm[0], 1, n, 0, err, sizeof err)) rc = cli_fail("demo", "%s", err);
        if (!rc && (p = aaren_seqmodel_forward(sm[0], xs, 1, n, AAREN_NAIVE, err, sizeof err))) memcpy(pn, p, sizeof(float) * n);
        if (!rc && (!p || !(p = aaren_seqmodel_forward(sm[0], xs, 1, n, AAREN_SCAN, err, sizeof err)))) rc = cli_fail("demo", "%s", err);
        if (!rc) {
            printf("== streaming %d tokens through the trained Aaren (state %.0f bytes, %.1f us/token)\n", n,
                   sr[0].state_bytes, sr[0].us_per_token);
            printf("%6s %10s %12s %12s\n", "t", "input", "target", "streamed");
            double d_scan = 0, d_naive = 0, mse = 0;
            for (int t = 0; t < n; t++) {
                if (t < 5 || t % 50 == 49) printf("%6d %10.3f %12.3f %12.3f\n", t + 1, xs[t], ys[t], pt[t]);
                d_scan = fmax(d_scan, fabs((double)pt[t] - p[t]));
                d_naive = fmax(d_naive, fabs((double)pt[t] - pn[t]));
                mse += ((double)pt[t] - ys[t]) * ((double)pt[t] - ys[t]);
            }
            printf("streamed MSE %.5f; max |stream - scan| %.2e, max |stream - naive| %.2e\n", mse / n, d_scan, d_naive);
        }
        free(pt); free(pn);
    }
    aaren_seqmodel_free(sm[0]);
    aaren_seqmodel_free(sm[1]);
    free(xs); free(ys);
    return rc;
}
