/* The float32 encoder: scan / naive / stream parity for both architectures, the stream's
 * state save and restore, checkpoint round trip, and errors for wrong shapes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "aaren.h"
#include "base/rng.h"

static double rel(const float *a, const float *b, size_t n) {
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i])) return INFINITY;
        d = fmax(d, fabs((double)a[i] - b[i]));
        s = fmax(s, fabs((double)b[i]));
    }
    return d / (s > 0 ? s : 1);
}

static void paths(int arch, int norm, int B, int N, int D, int H) {
    aaren_config c = {arch, D, H, 2, 2 * D + 3, norm, AAREN_GELU, 1e-5f};
    char err[256];
    aaren_model *m = aaren_model_new(&c, err, sizeof err);
    CHECK(m != NULL, "%s", err);
    if (!m) return;
    aaren_model_init(m, 11);
    /* non-trivial LayerNorm and biases */
    uint64_t r = 17;
    float *p = aaren_model_params(m);
    for (size_t i = 0; i < aaren_model_n_params(m); i++) p[i] += 0.05f * (float)aaren_rng_normal(&r);
    const size_t n = (size_t)B * N * D;
    float *x = malloc(n * 4), *ys = malloc(n * 4), *yn = malloc(n * 4), *yt = malloc(n * 4);
    for (size_t i = 0; i < n; i++) x[i] = (float)aaren_rng_normal(&r);
    CHECK(!aaren_model_reserve(m, B, N, 0, err, sizeof err), "%s", err);
    CHECK(!aaren_model_forward(m, ys, x, B, N, AAREN_SCAN, err, sizeof err), "%s", err);
    CHECK(!aaren_model_forward(m, yn, x, B, N, AAREN_NAIVE, err, sizeof err), "%s", err);
    aaren_stream *s = aaren_stream_new(m, N, err, sizeof err);
    CHECK(s != NULL, "%s", err);
    const int half = N / 2;
    unsigned char *saved = NULL;
    size_t saved_len = 0;
    for (int b = 0; s && b < B; b++) {
        aaren_stream_reset(s);
        for (int t = 0; t < N; t++) {
            const size_t off = ((size_t)b * N + t) * D;
            if (b == 0 && t == half) {   /* save mid-way, then restore into a fresh stream */
                saved_len = aaren_stream_get_state(s, NULL, 0);
                CHECK(saved_len == 0, "get_state with no buffer returns 0");
                saved_len = sizeof(long) * 8 + aaren_stream_state_bytes(s) + 64;
                saved = malloc(saved_len);
                saved_len = aaren_stream_get_state(s, saved, saved_len);
                CHECK(saved_len > 0, "get_state");
            }
            aaren_stream_step(s, x + off, yt + off, err, sizeof err);
        }
    }
    const char *an = aaren_arch_name(arch);
    CHECK(rel(ys, yn, n) < 2e-5, "%s %s-norm B=%d N=%d: scan vs naive %.3g", an, norm ? "pre" : "post", B, N, rel(ys, yn, n));
    CHECK(rel(yt, yn, n) < 2e-5, "%s %s-norm B=%d N=%d: stream vs naive %.3g", an, norm ? "pre" : "post", B, N, rel(yt, yn, n));
    if (s && saved && half > 0) {
        aaren_stream *s2 = aaren_stream_new(m, N, err, sizeof err);
        CHECK(!aaren_stream_set_state(s2, saved, saved_len, err, sizeof err), "set_state: %s", err);
        CHECK(aaren_stream_position(s2) == half, "restored position %ld", aaren_stream_position(s2));
        float *y2 = malloc((size_t)D * 4);
        int same = 1;
        for (int t = half; t < N; t++) {
            aaren_stream_step(s2, x + (size_t)t * D, y2, err, sizeof err);
            same &= !memcmp(y2, yt + (size_t)t * D, (size_t)D * 4);
        }
        CHECK(same, "%s: a restored stream continues bit-for-bit like the original", an);
        CHECK(aaren_stream_set_state(s2, saved, saved_len - 1, err, sizeof err) != 0, "truncated state accepted");
        free(y2);
        aaren_stream_free(s2);
    }
    if (s && arch == AAREN_ARCH_AAREN) {
        CHECK(aaren_stream_state_bytes(s) == (size_t)c.n_layers * H * (D / H + 2) * sizeof(float),
              "aaren state bytes %zu", aaren_stream_state_bytes(s));
    }
    free(saved);
    aaren_stream_free(s);
    free(x); free(ys); free(yn); free(yt);
    aaren_model_free(m);
}

static void checkpoint_and_errors(void) {
    char err[256];
    aaren_config c = {AAREN_ARCH_TRANSFORMER, 12, 3, 2, 20, AAREN_NORM_PRE, AAREN_RELU, 1e-6f};
    aaren_model *m = aaren_model_new(&c, err, sizeof err);
    aaren_model_init(m, 3);
    CHECK(!aaren_model_save(m, "test_model_ckpt.safetensors", err, sizeof err), "%s", err);
    /* extra task tensors are kept by the file and ignored by the encoder */
    aaren_st st;
    CHECK(!aaren_st_read("test_model_ckpt.safetensors", &st, err, sizeof err), "%s", err);
    int64_t sh[1] = {4};
    float head[4] = {1, 2, 3, 4};
    aaren_st_put(&st, "task.head.weight", 1, sh, head);
    CHECK(!aaren_st_write("test_model_ckpt.safetensors", &st, err, sizeof err), "%s", err);
    aaren_st_free(&st);
    aaren_model *m2 = aaren_model_load("test_model_ckpt.safetensors", err, sizeof err);
    CHECK(m2 != NULL, "reload: %s", err);
    if (m2) {
        const aaren_config *c2 = aaren_model_config(m2);
        CHECK(c2->arch == c.arch && c2->d_model == 12 && c2->n_heads == 3 && c2->n_layers == 2 &&
              c2->d_ff == 20 && c2->norm == AAREN_NORM_PRE && c2->activation == AAREN_RELU &&
              c2->ln_eps == 1e-6f, "config round trip");
        CHECK(!memcmp(aaren_model_params(m), aaren_model_params(m2), aaren_model_n_params(m) * 4), "parameters round trip");
        aaren_model_free(m2);
    }
    /* a tensor with the wrong shape names both shapes */
    CHECK(!aaren_st_read("test_model_ckpt.safetensors", &st, err, sizeof err), "%s", err);
    aaren_tensor *t = aaren_st_find(&st, "layers.1.ffn.fc1.weight");
    int64_t bad[2] = {21, 12};
    aaren_st_put(&st, t->name, 2, bad, NULL);
    aaren_model *m3 = aaren_model_from_st(&st, "bad.safetensors", err, sizeof err);
    CHECK(!m3 && strstr(err, "[20, 12]") && strstr(err, "[21, 12]") && strstr(err, "bad.safetensors"),
          "wrong tensor shape message: %s", err);
    aaren_st_set_meta(&st, "aaren.n_heads", "5");
    m3 = aaren_model_from_st(&st, "bad.safetensors", err, sizeof err);
    CHECK(!m3 && strstr(err, "multiple of n_heads"), "bad config message: %s", err);
    aaren_st_free(&st);
    remove("test_model_ckpt.safetensors");
    /* forward beyond the reserved sizes is an error naming both */
    float x[12 * 4], y[12 * 4];
    memset(x, 0, sizeof x);
    aaren_model_reserve(m, 1, 2, 0, err, sizeof err);
    CHECK(aaren_model_forward(m, y, x, 1, 4, AAREN_SCAN, err, sizeof err) != 0 && strstr(err, "1 x 4") && strstr(err, "1 x 2"),
          "oversized forward message: %s", err);
    CHECK(aaren_model_backward(m, NULL, y, err, sizeof err) != 0, "backward without gradients is refused");
    aaren_model_free(m);
}

int main(void) {
    for (int arch = 0; arch < 2; arch++)
        for (int norm = 0; norm < 2; norm++) {
            paths(arch, norm, 3, 50, 12, 3);
            paths(arch, norm, 1, 1, 8, 1);
            paths(arch, norm, 2, 130, 10, 5);
        }
    checkpoint_and_errors();
    return check_done("test_model");
}
