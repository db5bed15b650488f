/* aaren demo: the three inference paths on a generated model, compared and timed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "model/rng.h"

static const char *demo_help =
    "usage: aaren demo [--tokens N] [--batch B] [--seed S]\n\n"
    "Generates an Aaren and a Transformer encoder (d_model 128, 4 heads, 3 layers,\n"
    "d_ff 512) and random inputs, runs the parallel scan, the token-by-token stream and\n"
    "the quadratic reference, and prints how far apart they are and how long each took.\n\n"
    "  --tokens N   sequence length (default 2048)\n"
    "  --batch B    sequences (default 4)\n"
    "  --seed S     seed for weights and inputs (default 1)\n";

/* max |a - b| / max |b| */
static double rel_diff(const float *a, const float *b, size_t n) {
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        s = fmax(s, fabs((double)b[i]));
    }
    return d / (s > 0 ? s : 1);
}

static int run_arch(int arch, int B, int N, uint64_t seed) {
    aaren_config c = aaren_config_default();
    c.arch = arch;
    char err[512];
    aaren_model *m = aaren_model_new(&c, err, sizeof err);
    if (!m) return cli_fail("demo", "%s", err);
    aaren_model_init(m, seed);
    const size_t n = (size_t)B * N * c.d_model;
    float *x = malloc(n * sizeof(float)), *ys = malloc(n * sizeof(float));
    float *yn = malloc(n * sizeof(float)), *yt = malloc(n * sizeof(float));
    int rc = (x && ys && yn && yt) ? 0 : -1;
    uint64_t r = seed * 7919 + 11;
    for (size_t i = 0; x && i < n; i++) x[i] = (float)aaren_rng_normal(&r);
    if (!rc) rc = aaren_model_reserve(m, B, N, 0, err, sizeof err);
    double t_scan = 0, t_naive = 0, t_stream = 0;
    size_t state0 = 0, state1 = 0;
    /* one untimed pass first: page-faulting fresh activations is not the kernels' time */
    if (!rc) rc = aaren_model_forward(m, ys, x, B, N, AAREN_SCAN, err, sizeof err);
    if (!rc) {
        double t = cli_now();
        rc = aaren_model_forward(m, ys, x, B, N, AAREN_SCAN, err, sizeof err);
        t_scan = cli_now() - t;
    }
    if (!rc) {
        double t = cli_now();
        rc = aaren_model_forward(m, yn, x, B, N, AAREN_NAIVE, err, sizeof err);
        t_naive = cli_now() - t;
    }
    if (!rc) {
        aaren_stream *s = aaren_stream_new(m, N, err, sizeof err);
        rc = s ? 0 : -1;
        double t = cli_now();
        for (int b = 0; b < B && !rc; b++) {
            aaren_stream_reset(s);
            for (int i = 0; i < N && !rc; i++) {
                const size_t off = ((size_t)b * N + i) * c.d_model;
                rc = aaren_stream_step(s, x + off, yt + off, err, sizeof err);
                if (i == 0) state0 = aaren_stream_state_bytes(s);
            }
        }
        t_stream = cli_now() - t;
        if (s) state1 = aaren_stream_state_bytes(s);
        aaren_stream_free(s);
    }
    if (!rc) {
        const double tok = (double)B * N;
        printf("%-12s scan %8.3f s (%9.0f tokens/s) | naive %8.3f s | stream %8.3f s (%6.1f us/token)\n",
               aaren_arch_name(arch), t_scan, tok / t_scan, t_naive, t_stream, 1e6 * t_stream / tok);
        printf("%-12s max relative difference: scan vs naive %.2e, stream vs naive %.2e\n", "",
               rel_diff(ys, yn, n), rel_diff(yt, yn, n));
        printf("%-12s stream state after 1 token: %zu bytes, after %d tokens: %zu bytes\n", "",
               state0, N, state1);
    }
    free(x); free(ys); free(yn); free(yt);
    aaren_model_free(m);
    return rc ? cli_fail("demo", "%s", err) : 0;
}

int cmd_demo(int argc, char **argv) {
    static const char *const valued[] = {"tokens", "batch", "seed", NULL};
    cli_args a;
    int rc = cli_parse(&a, "demo", argc, argv, valued, NULL);
    if (rc) { if (rc > 0) fputs(demo_help, stdout); return rc > 0 ? 0 : 2; }
    long N, B, seed;
    if (cli_int(&a, "tokens", 2048, 1, 1 << 20, &N) || cli_int(&a, "batch", 4, 1, 4096, &B) ||
        cli_int(&a, "seed", 1, 0, 0x7fffffffL, &seed))
        return 2;
    printf("aaren %s demo: batch %ld x %ld tokens, d_model 128, 4 heads, 3 layers, d_ff 512\n",
           aaren_version(), B, N);
    printf("machine: %d threads, matrix backend %s\n\n", aaren_threads(), aaren_backend());
    rc = run_arch(AAREN_ARCH_AAREN, (int)B, (int)N, (uint64_t)seed);
    if (!rc) rc = run_arch(AAREN_ARCH_TRANSFORMER, (int)B, (int)N, (uint64_t)seed);
    return rc;
}
