/* aaren init, encode, grad, info: the encoder checkpoint commands of shared/docs/contract.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* ---- init ---------------------------------------------------------------------------- */

static const char *init_help =
    "usage: aaren init --output M.safetensors [options]\n\n"
    "Writes a freshly initialised encoder (PyTorch-style init from a seed).\n\n"
    "  --arch aaren|transformer   attention (default aaren)\n"
    "  --d-model N                width (default 128)\n"
    "  --n-heads N                heads; must divide d-model (default 4)\n"
    "  --n-layers N               blocks (default 3)\n"
    "  --d-ff N                   feed-forward width (default 512)\n"
    "  --norm post|pre            residual LayerNorm placement (default post)\n"
    "  --activation gelu|relu     feed-forward activation (default gelu, exact erf form)\n"
    "  --seed N                   initialisation seed (default 0)\n";

int cmd_init(int argc, char **argv) {
    static const char *const valued[] = {"output", "arch", "d-model", "n-heads", "n-layers", "d-ff",
                                         "norm", "activation", "seed", NULL};
    cli_args a;
    int rc = cli_parse(&a, "init", argc, argv, valued, NULL);
    if (rc) { if (rc > 0) fputs(init_help, stdout); return rc > 0 ? 0 : 2; }
    const char *out = cli_need(&a, "output");
    aaren_config c;
    long seed;
    const aaren_config dflt = aaren_config_default();
    if (!out || cli_config(&a, &dflt, &c) || cli_int(&a, "seed", 0, 0, 0x7fffffffffffffffL, &seed)) return 2;
    char err[512];
    aaren_model *m = aaren_model_new(&c, err, sizeof err);
    if (!m) return cli_fail("init", "%s", err);
    aaren_model_init(m, (uint64_t)seed);
    rc = aaren_model_save(m, out, err, sizeof err);
    if (!rc) printf("wrote %s: %s, d_model %d, %d heads, %d layers, d_ff %d, %s-norm, %zu parameters\n",
                    out, aaren_arch_name(c.arch), c.d_model, c.n_heads, c.n_layers, c.d_ff,
                    aaren_norm_name(c.norm), aaren_model_n_params(m));
    aaren_model_free(m);
    return rc ? cli_fail("init", "%s", err) : 0;
}

/* ---- encode ---------------------------------------------------------------------------- */

static const char *encode_help =
    "usage: aaren encode --model M.safetensors --input X.npy --output Y.npy [--mode scan|stream|naive]\n\n"
    "Runs the encoder over X [N, d_model] or [B, N, d_model] (float32 .npy) and writes Y,\n"
    "the output at every position, with the same shape.\n\n"
    "  --mode scan     parallel prefix scan / blocked attention, the training path (default)\n"
    "  --mode stream   tokens one at a time through the streaming API (Aaren: constant\n"
    "                  state; Transformer: KV cache)\n"
    "  --mode naive    quadratic reference attention\n"
    "  --allow-nonfinite  write Y even when it holds nan or inf (by default that is an error\n"
    "                  naming the first such value, and Y is not written)\n"
    "All three agree to float32 rounding.\n";

/* Loads the model and the input tokens shared by encode and grad. */
static int load_model_and_tokens(const char *cmd, const char *mpath, const char *xpath,
                                 aaren_model **m, aaren_array *x, int *B, int *N) {
    char err[512];
    *m = aaren_model_load(mpath, err, sizeof err);
    if (!*m) return cli_fail(cmd, "%s", err), -1;
    if (cli_load_tokens(cmd, xpath, aaren_model_config(*m)->d_model, mpath, x, B, N)) {
        aaren_model_free(*m);
        return -1;
    }
    return 0;
}

int cmd_encode(int argc, char **argv) {
    static const char *const valued[] = {"model", "input", "output", "mode", NULL};
    static const char *const flags[] = {"allow-nonfinite", NULL};
    cli_args a;
    int rc = cli_parse(&a, "encode", argc, argv, valued, flags);
    if (rc) { if (rc > 0) fputs(encode_help, stdout); return rc > 0 ? 0 : 2; }
    const char *mp = cli_need(&a, "model"), *xp = mp ? cli_need(&a, "input") : NULL;
    const char *yp = xp ? cli_need(&a, "output") : NULL, *mode = cli_get(&a, "mode");
    if (!yp) return 2;
    if (!mode) mode = "scan";
    if (strcmp(mode, "stream") && aaren_path_from_name(mode) != AAREN_SCAN && aaren_path_from_name(mode) != AAREN_NAIVE)
        return cli_fail("encode", "--mode '%s': expected scan, stream or naive", mode), 2;
    aaren_model *m;
    aaren_array x;
    int B, N;
    if (load_model_and_tokens("encode", mp, xp, &m, &x, &B, &N)) return 1;
    const int D = aaren_model_config(m)->d_model;
    float *y = malloc((size_t)x.numel * sizeof(float));
    char err[512] = "out of memory";
    rc = y ? 0 : -1;
    if (!rc && !strcmp(mode, "stream")) {
        aaren_stream *s = aaren_stream_new(m, N, err, sizeof err);
        rc = s ? 0 : -1;
        for (int b = 0; b < B && !rc; b++) {
            aaren_stream_reset(s);
            for (int t = 0; t < N && !rc; t++) {
                const size_t off = ((size_t)b * N + t) * D;
                rc = aaren_stream_step(s, x.data + off, y + off, err, sizeof err);
            }
        }
        aaren_stream_free(s);
    } else if (!rc) {
        rc = aaren_model_reserve(m, B, N, 0, err, sizeof err);
        if (!rc) rc = aaren_model_forward(m, y, x.data, B, N, aaren_path_from_name(mode),
                                          err, sizeof err);
    }
    int bad = 0;
    if (!rc && cli_check_tokens("encode", yp, "output", y, x.ndim, B, N, D, cli_flag(&a, "allow-nonfinite"))) bad = 1;
    else if (!rc) rc = aaren_npy_write(yp, y, x.ndim, x.shape, err, sizeof err);
    free(y);
    aaren_array_free(&x);
    aaren_model_free(m);
    return bad ? 1 : rc ? cli_fail("encode", "%s", err) : 0;
}

/* ---- grad -------------------------------------------------------------------------------- */

static const char *grad_help =
    "usage: aaren grad --model M.safetensors --input X.npy --grad-output G.npy --output D.safetensors\n\n"
    "Writes the gradient of sum(Y * G), Y = encoder(X), with respect to every parameter\n"
    "(same tensor names as M) and to the input (tensor 'input'), computed by the library's\n"
    "backward pass. G has the shape of X.\n\n"
    "  --allow-nonfinite  write D even when a gradient holds nan or inf (by default that is\n"
    "                     an error naming the first such value, and D is not written)\n";

int cmd_grad(int argc, char **argv) {
    static const char *const valued[] = {"model", "input", "grad-output", "output", NULL};
    static const char *const flags[] = {"allow-nonfinite", NULL};
    cli_args a;
    int rc = cli_parse(&a, "grad", argc, argv, valued, flags);
    if (rc) { if (rc > 0) fputs(grad_help, stdout); return rc > 0 ? 0 : 2; }
    const char *mp = cli_need(&a, "model"), *xp = mp ? cli_need(&a, "input") : NULL;
    const char *gp = xp ? cli_need(&a, "grad-output") : NULL, *op = gp ? cli_need(&a, "output") : NULL;
    if (!op) return 2;
    aaren_model *m;
    aaren_array x, g;
    int B, N, gB, gN;
    if (load_model_and_tokens("grad", mp, xp, &m, &x, &B, &N)) return 1;
    const int D = aaren_model_config(m)->d_model;
    if (cli_load_tokens("grad", gp, D, mp, &g, &gB, &gN)) { aaren_array_free(&x); aaren_model_free(m); return 1; }
    char err[512] = "out of memory";
    rc = 0;
    if (g.ndim != x.ndim || gB != B || gN != N) {
        snprintf(err, sizeof err, "%s: shape differs from the input %s (%d x %d tokens vs %d x %d)", gp, xp, gB, gN, B, N);
        rc = -1;
    }
    float *y = rc ? NULL : malloc((size_t)x.numel * sizeof(float));
    float *dx = y ? malloc((size_t)x.numel * sizeof(float)) : NULL;
    if (!rc && !dx) rc = -1;
    if (!rc) rc = aaren_model_reserve(m, B, N, 1, err, sizeof err);
    if (!rc) {
        aaren_model_zero_grad(m);
        rc = aaren_model_forward(m, y, x.data, B, N, AAREN_SCAN, err, sizeof err);
    }
    if (!rc) rc = aaren_model_backward(m, dx, g.data, err, sizeof err);
    int bad = 0;
    if (!rc && !cli_flag(&a, "allow-nonfinite")) {   /* the parameters' gradients, then the input's */
        for (int i = 0; i < aaren_model_n_tensors(m) && !bad; i++) {
            int nd;
            int64_t sh[2];
            aaren_model_tensor(m, i, &nd, sh);
            const float *gt = aaren_model_grad_tensor(m, i);
            const long k = cli_first_nonfinite(gt, (size_t)sh[0] * (nd == 2 ? (size_t)sh[1] : 1));
            if (k >= 0 && nd == 2)
                bad = cli_fail_nonfinite("grad", "%s not written: the gradient of '%s' at [%ld, %ld] is %s", op,
                                         aaren_model_tensor_name(m, i), k / (long)sh[1], k % (long)sh[1],
                                         cli_nonfinite_name(gt[k]));
            else if (k >= 0)
                bad = cli_fail_nonfinite("grad", "%s not written: the gradient of '%s' at [%ld] is %s", op,
                                         aaren_model_tensor_name(m, i), k, cli_nonfinite_name(gt[k]));
        }
        if (!bad && cli_check_tokens("grad", op, "input gradient", dx, x.ndim, B, N, D, 0)) bad = 1;
    }
    if (!rc && !bad) {
        aaren_st st;
        aaren_st_init(&st);
        aaren_st_set_meta(&st, "aaren.grad_of", mp);
        for (int i = 0; i < aaren_model_n_tensors(m) && !rc; i++) {
            int nd;
            int64_t sh[2];
            aaren_model_tensor(m, i, &nd, sh);
            if (!aaren_st_put(&st, aaren_model_tensor_name(m, i), nd, sh, aaren_model_grad_tensor(m, i))) rc = -1;
        }
        if (!rc && !aaren_st_put(&st, "input", x.ndim, x.shape, dx)) rc = -1;
        if (!rc) rc = aaren_st_write(op, &st, err, sizeof err);
        aaren_st_free(&st);
    }
    free(y);
    free(dx);
    aaren_array_free(&x);
    aaren_array_free(&g);
    aaren_model_free(m);
    return bad ? 1 : rc ? cli_fail("grad", "%s", err) : 0;
}

/* ---- info ---------------------------------------------------------------------------------- */

int cmd_info(int argc, char **argv) {
    cli_args a;
    int rc = cli_parse(&a, "info", argc, argv, NULL, NULL);
    if (rc > 0 || (!rc && a.n_positional != 1)) {
        fputs("usage: aaren info MODEL.safetensors\n\nPrints the config, parameter count, "
              "memory of weights and of one stream's state.\n", rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    if (rc) return 2;
    char err[512];
    aaren_model *m = aaren_model_load(a.positional[0], err, sizeof err);
    if (!m) return cli_fail("info", "%s", err);
    const aaren_config *c = aaren_model_config(m);
    const int dh = c->d_model / c->n_heads;
    printf("model         %s\n", a.positional[0]);
    printf("arch          %s\n", aaren_arch_name(c->arch));
    printf("d_model       %d (%d heads of %d)\n", c->d_model, c->n_heads, dh);
    printf("n_layers      %d\nd_ff          %d\n", c->n_layers, c->d_ff);
    printf("norm          %s\nactivation    %s\nln_eps        %g\n", aaren_norm_name(c->norm),
           aaren_activation_name(c->activation), (double)c->ln_eps);
    printf("parameters    %zu (%zu bytes float32)\n", aaren_model_n_params(m), aaren_model_n_params(m) * sizeof(float));
    aaren_stream *s = aaren_stream_new(m, c->arch == AAREN_ARCH_AAREN ? 0 : 1, err, sizeof err);
    if (s) {
        if (c->arch == AAREN_ARCH_AAREN)
            printf("stream state  %zu bytes = %d layers x %d heads x (%d + 2) floats, constant in position\n",
                   aaren_stream_state_bytes(s), c->n_layers, c->n_heads, dh);
        else
            printf("stream state  KV cache of %zu bytes per token (2 x %d layers x %d floats), grows with position\n",
                   (size_t)2 * c->n_layers * c->d_model * sizeof(float), c->n_layers, c->d_model);
        if (c->arch == AAREN_ARCH_AAREN) {
            /* the scratch holds the activations of one prefill pass */
            aaren_stream *s1 = aaren_stream_new_batch(m, 1, 0, 1, err, sizeof err);
            printf("stream alloc  %zu bytes (state + scratch for prefill passes of %d tokens)\n",
                   aaren_stream_alloc_bytes(s), AAREN_PREFILL_CHUNK);
            if (s1) printf("              %zu bytes with prefill passes of 1 token\n", aaren_stream_alloc_bytes(s1));
            aaren_stream_free(s1);
        } else {
            printf("stream alloc  %zu bytes (state + scratch, for a 1-token cache)\n", aaren_stream_alloc_bytes(s));
        }
        aaren_stream_free(s);
    }
    aaren_model_free(m);
    return 0;
}
