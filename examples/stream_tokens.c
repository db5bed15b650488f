/* The README's C example: stream tokens through a checkpoint in constant memory.
 * usage: stream_tokens MODEL.safetensors [TOKENS] */
#include <stdio.h>
#include <stdlib.h>
#include "aaren.h"

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s MODEL.safetensors [TOKENS]\n", argv[0]); return 2; }
    char err[512];
    aaren_model *m = aaren_model_load(argv[1], err, sizeof err);
    if (!m) { fprintf(stderr, "%s\n", err); return 1; }
    const long n = argc > 2 ? atol(argv[2]) : 1000;
    aaren_stream *s = aaren_stream_new(m, n, err, sizeof err);   /* capacity matters for transformers only */
    if (!s) { fprintf(stderr, "%s\n", err); return 1; }
    const int d = aaren_model_config(m)->d_model;
    float *x = calloc((size_t)d, sizeof(float)), *y = calloc((size_t)d, sizeof(float));
    for (long t = 0; t < n; t++) {
        x[t % d] = 1.0f;                         /* some input token */
        if (aaren_stream_step(s, x, y, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
        x[t % d] = 0.0f;
    }
    printf("%ld tokens, state %zu bytes, y[0] = %g\n", n, aaren_stream_state_bytes(s), (double)y[0]);
    free(x); free(y);
    aaren_stream_free(s);
    aaren_model_free(m);
    return 0;
}
