/* Streaming inference: one token at a time through the encoder.
 * Aaren carries (m, u, w) per layer and head: constant memory and time per token.
 * The Transformer carries a KV cache: memory and time per token grow with position. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/model.h"

#define STATE_MAGIC 0x74534141u   /* "AASt" */
#define STATE_VERSION 1u

typedef struct {
    uint32_t magic, version;
    int32_t arch, n_layers, d_model, n_heads;
    int64_t pos;
} state_header;

struct aaren_stream {
    const aaren_model *m;
    int L, D, H, dh, F, aar, pre;
    long pos, cap;              /* tokens seen; KV capacity (Transformer) */
    float *state;               /* Aaren: [L, H, dh + 2]; Transformer: k, v caches [L, cap, D] each */
    size_t state_len;           /* floats allocated for state */
    float *scratch;             /* everything else, one block */
    size_t scratch_len;
    float *qv;                  /* Aaren: [L, D] projected queries */
    float *xa, *xb, *ain, *q, *k, *v, *att, *ao, *r1, *h, *fin, *fo, *r2;  /* [D] */
    float *f1, *fa;             /* [F] */
    float *probs;               /* Transformer: [cap] attention weights */
    float stat[2];              /* LayerNorm mean, rstd of the current row */
};

static void serr(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

aaren_stream *aaren_stream_new(const aaren_model *m, long max_tokens, char *err, size_t errlen) {
    const aaren_config *c = &m->cfg;
    aaren_stream *s = calloc(1, sizeof(*s));
    if (!s) { serr(err, errlen, "out of memory"); return NULL; }
    s->m = m;
    s->L = c->n_layers; s->D = c->d_model; s->H = c->n_heads; s->dh = c->d_model / c->n_heads;
    s->F = c->d_ff; s->aar = c->arch == AAREN_ARCH_AAREN; s->pre = c->norm == AAREN_NORM_PRE;
    if (!s->aar && max_tokens < 1) {
        serr(err, errlen, "a transformer stream needs a KV-cache capacity (max_tokens >= 1), got %ld", max_tokens);
        free(s);
        return NULL;
    }
    s->cap = s->aar ? 0 : max_tokens;
    s->state_len = s->aar ? (size_t)s->L * s->H * (s->dh + 2) : 2 * (size_t)s->L * (size_t)s->cap * s->D;
    const size_t D = (size_t)s->D;
    s->scratch_len = (s->aar ? (size_t)s->L * D : 0) + 13 * D + 2 * (size_t)s->F + (size_t)s->cap;
    /* The KV cache's pages are touched only as tokens arrive, so resident memory grows
     * with position as it would with a growing cache. */
    s->state = malloc(s->state_len * sizeof(float));
    s->scratch = malloc(s->scratch_len * sizeof(float));
    if (!s->state || !s->scratch) {
        serr(err, errlen, "out of memory for stream state (%.1f MiB)", s->state_len * 4.0 / 1048576.0);
        aaren_stream_free(s);
        return NULL;
    }
    float *p = s->scratch;
    if (s->aar) { s->qv = p; p += (size_t)s->L * D; }
    float **vecs[] = {&s->xa, &s->xb, &s->ain, &s->q, &s->k, &s->v, &s->att, &s->ao, &s->r1,
                      &s->h, &s->fin, &s->fo, &s->r2};
    for (int i = 0; i < 13; i++) { *vecs[i] = p; p += D; }
    s->f1 = p; p += s->F;
    s->fa = p; p += s->F;
    s->probs = s->cap ? p : NULL;
    if (s->aar)
        for (int l = 0; l < s->L; l++)
            aaren_linear_forward(s->qv + (size_t)l * D, m->p[l].query, m->p[l].wq, m->p[l].bq, 1, s->D, s->D);
    aaren_stream_reset(s);
    return s;
}

void aaren_stream_free(aaren_stream *s) {
    if (!s) return;
    free(s->state);
    free(s->scratch);
    free(s);
}

void aaren_stream_reset(aaren_stream *s) {
    s->pos = 0;
    if (!s->aar) return;   /* cache entries beyond pos are never read */
    for (int i = 0; i < s->L * s->H; i++) {
        float *st = s->state + (size_t)i * (s->dh + 2);
        st[0] = -INFINITY;
        st[1] = 0;
        memset(st + 2, 0, sizeof(float) * (size_t)s->dh);
    }
}

long aaren_stream_position(const aaren_stream *s) { return s->pos; }

/* Causal attention of the newest token over the cache of layer l (positions 0..pos). */
static void kv_attend(aaren_stream *s, int l) {
    const int D = s->D, dh = s->dh;
    const long n = s->pos + 1;
    const float *kc = s->state + (size_t)l * s->cap * D;
    const float *vc = s->state + ((size_t)s->L + l) * s->cap * D;
    const float scale = 1 / sqrtf((float)dh);
    for (int h = 0; h < s->H; h++) {
        const float *qh = s->q + h * dh;
        float mx = -INFINITY, sum = 0;
        for (long j = 0; j < n; j++) {
            const float *kj = kc + (size_t)j * D + h * dh;
            float acc = 0;
            for (int i = 0; i < dh; i++) acc += qh[i] * kj[i];
            s->probs[j] = acc * scale;
            if (s->probs[j] > mx) mx = s->probs[j];
        }
        for (long j = 0; j < n; j++) { s->probs[j] = expf(s->probs[j] - mx); sum += s->probs[j]; }
        float *oh = s->att + h * dh;
        memset(oh, 0, sizeof(float) * (size_t)dh);
        for (long j = 0; j < n; j++) {
            const float p = s->probs[j] / sum, *vj = vc + (size_t)j * D + h * dh;
            for (int i = 0; i < dh; i++) oh[i] += p * vj[i];
        }
    }
}

int aaren_stream_step(aaren_stream *s, const float *x, float *y, char *err, size_t errlen) {
    const aaren_model *m = s->m;
    const int D = s->D, dh = s->dh;
    const float eps = m->cfg.ln_eps, scale = 1 / sqrtf((float)dh);
    if (!s->aar && s->pos >= s->cap) {
        serr(err, errlen, "transformer stream: KV cache full at %ld tokens", s->cap);
        return -1;
    }
    const float *cur = x;
    float *out = s->xa;
    for (int l = 0; l < s->L; l++) {
        const aaren_block_params *p = &m->p[l];
        const float *ain = cur;
        if (s->pre) {
            aaren_layernorm_forward(s->ain, &s->stat[0], &s->stat[1], cur, p->ln1_w, p->ln1_b, 1, D, eps);
            ain = s->ain;
        }
        aaren_linear_forward(s->k, ain, p->wk, p->bk, 1, D, D);
        aaren_linear_forward(s->v, ain, p->wv, p->bv, 1, D, D);
        if (s->aar) {
            const float *q = s->qv + (size_t)l * D;
            for (int h = 0; h < s->H; h++) {
                float acc = 0;
                for (int i = 0; i < dh; i++) acc += q[h * dh + i] * s->k[h * dh + i];
                aaren_attn_step(s->state + ((size_t)l * s->H + h) * (dh + 2), acc * scale,
                                s->v + h * dh, s->att + h * dh, dh);
            }
        } else {
            aaren_linear_forward(s->q, ain, p->wq, p->bq, 1, D, D);
            memcpy(s->state + ((size_t)l * s->cap + s->pos) * D, s->k, sizeof(float) * D);
            memcpy(s->state + (((size_t)s->L + l) * s->cap + s->pos) * D, s->v, sizeof(float) * D);
            kv_attend(s, l);
        }
        aaren_linear_forward(s->ao, s->att, p->wo, p->bo, 1, D, D);
        for (int i = 0; i < D; i++) s->r1[i] = cur[i] + s->ao[i];
        const float *h = s->r1, *fin;
        if (!s->pre) {
            aaren_layernorm_forward(s->h, &s->stat[0], &s->stat[1], s->r1, p->ln1_w, p->ln1_b, 1, D, eps);
            h = fin = s->h;
        } else {
            aaren_layernorm_forward(s->fin, &s->stat[0], &s->stat[1], h, p->ln2_w, p->ln2_b, 1, D, eps);
            fin = s->fin;
        }
        aaren_ffn_forward(s->fo, s->f1, s->fa, fin, p, 1, D, s->F, m->cfg.activation);
        if (!s->pre) {
            for (int i = 0; i < D; i++) s->r2[i] = h[i] + s->fo[i];
            aaren_layernorm_forward(out, &s->stat[0], &s->stat[1], s->r2, p->ln2_w, p->ln2_b, 1, D, eps);
        } else {
            for (int i = 0; i < D; i++) out[i] = h[i] + s->fo[i];
        }
        cur = out;
        out = (out == s->xa) ? s->xb : s->xa;
    }
    if (s->pre) aaren_layernorm_forward(y, &s->stat[0], &s->stat[1], cur, m->fn_w, m->fn_b, 1, D, eps);
    else memcpy(y, cur, sizeof(float) * D);
    s->pos++;
    return 0;
}

size_t aaren_stream_state_bytes(const aaren_stream *s) {
    if (s->aar) return s->state_len * sizeof(float);
    return 2 * (size_t)s->L * (size_t)s->pos * s->D * sizeof(float);
}

size_t aaren_stream_alloc_bytes(const aaren_stream *s) {
    return sizeof(*s) + (s->state_len + s->scratch_len) * sizeof(float);
}

size_t aaren_stream_get_state(const aaren_stream *s, void *buf, size_t cap) {
    const size_t body = aaren_stream_state_bytes(s), need = sizeof(state_header) + body;
    if (!buf || cap < need) return 0;
    state_header hd = {STATE_MAGIC, STATE_VERSION, s->aar ? AAREN_ARCH_AAREN : AAREN_ARCH_TRANSFORMER,
                       s->L, s->D, s->H, s->pos};
    char *p = buf;
    memcpy(p, &hd, sizeof hd);
    p += sizeof hd;
    if (s->aar) {
        memcpy(p, s->state, body);
    } else {
        const size_t row = (size_t)s->pos * s->D * sizeof(float);
        for (int c = 0; c < 2 * s->L; c++, p += row)
            memcpy(p, s->state + (size_t)c * s->cap * s->D, row);
    }
    return need;
}

int aaren_stream_set_state(aaren_stream *s, const void *buf, size_t len, char *err, size_t errlen) {
    state_header hd;
    if (!buf || len < sizeof hd) { serr(err, errlen, "stream state: %zu bytes is too short for a header", len); return -1; }
    memcpy(&hd, buf, sizeof hd);
    if (hd.magic != STATE_MAGIC || hd.version != STATE_VERSION) {
        serr(err, errlen, "stream state: not an aaren stream state (bad magic or version)");
        return -1;
    }
    if (hd.arch != (s->aar ? AAREN_ARCH_AAREN : AAREN_ARCH_TRANSFORMER) || hd.n_layers != s->L ||
        hd.d_model != s->D || hd.n_heads != s->H) {
        serr(err, errlen, "stream state: made for %s %d layers x d_model %d x %d heads; this stream is %s %d x %d x %d",
             aaren_arch_name(hd.arch), hd.n_layers, hd.d_model, hd.n_heads,
             aaren_arch_name(s->aar ? 0 : 1), s->L, s->D, s->H);
        return -1;
    }
    if (hd.pos < 0 || (!s->aar && hd.pos > s->cap)) {
        serr(err, errlen, "stream state: position %lld does not fit this stream (capacity %ld)", (long long)hd.pos, s->cap);
        return -1;
    }
    const size_t body = s->aar ? s->state_len * sizeof(float) : 2 * (size_t)s->L * (size_t)hd.pos * s->D * sizeof(float);
    if (len != sizeof hd + body) {
        serr(err, errlen, "stream state: expected %zu bytes, got %zu", sizeof hd + body, len);
        return -1;
    }
    const char *p = (const char *)buf + sizeof hd;
    if (s->aar) {
        memcpy(s->state, p, body);
    } else {
        const size_t row = (size_t)hd.pos * s->D * sizeof(float);
        for (int c = 0; c < 2 * s->L; c++, p += row)
            memcpy(s->state + (size_t)c * s->cap * s->D, p, row);
    }
    s->pos = (long)hd.pos;
    return 0;
}
