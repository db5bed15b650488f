/* Streaming inference: a batch of independent streams of one model, each fed one token at
 * a time (step) or many at once (prefill).
 * Aaren carries (m, u, w) per stream, layer and head: constant memory and time per token.
 * The Transformer carries a KV cache per stream: memory and time per token grow with position.
 *
 * A batch step runs the n tokens of n streams as the n rows of one matrix product per
 * weight matrix, so the weights are read once for the whole batch. A prefill runs up to
 * prefill_chunk tokens of one stream as the rows of those products, with the parallel
 * scan (Aaren, continued from the stream's state) or blocked causal attention over the
 * cache (Transformer). Everything is allocated by aaren_stream_new_batch. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/model.h"
#include "base/common.h"
#include "base/parallel.h"

#define STATE_MAGIC 0x74534141u   /* "AASt" */
#define STATE_VERSION 1u

/* Transformer prefill attention works on blocks of up to ATT_RB query rows against up to
 * ATT_KB keys (fewer when the prefill chunk or the cache is smaller). */
#define ATT_RB 64
#define ATT_KB 128

typedef struct {
    uint32_t magic, version;
    int32_t arch, n_layers, d_model, n_heads;
    int64_t pos;
} state_header;

struct aaren_stream {
    const aaren_model *m;
    int L, D, H, dh, F, aar, pre;
    int n;                      /* streams in the batch */
    int chunk;                  /* prefill rows per pass */
    int rows;                   /* activation rows: max(n, chunk) */
    int threads;                /* OpenMP threads when created: per-thread scratch slots */
    int arb, akb;               /* Transformer prefill: attention block rows and keys */
    long cap;                   /* KV capacity per stream (Transformer; 0 for Aaren) */
    size_t per;                 /* floats of state per stream */
    long *pos;                  /* [n] tokens seen by each stream */
    int *idx;                   /* [n] 0..n-1: the rows of a full batch step */
    unsigned char *mark;        /* [n] duplicate check of a partial step */
    float *state;               /* [n, per]; Aaren per = [L, H, dh + 2];
                                 * Transformer per = k caches [L, cap, D], then v caches [L, cap, D] */
    float *scratch;             /* everything below, one block */
    size_t scratch_len;
    float *qv;                  /* Aaren: [L, D] projected queries */
    float *xa, *xb;             /* [rows, D] block outputs, alternating */
    float *nrm;                 /* [rows, D] LayerNorm output (attention input, or FFN input) */
    float *q, *k, *v, *att;     /* [rows, D] projections, heads concatenated (q: Transformer) */
    float *ao;                  /* [rows, D] out_proj output, then FFN output */
    float *r1;                  /* [rows, D] first residual, then the second (post-norm) */
    float *f1, *fa;             /* [rows, F] */
    float *mean, *rstd;         /* [rows] LayerNorm statistics (not needed, required by the layer) */
    float *sc, *sm, *su;        /* Aaren prefill: [H, chunk] scores, scan max, denominators */
    float *kscr;                /* Aaren prefill: scan scratch */
    float *probs;               /* Transformer step: [slots, cap] attention weights per thread */
    float *blk;                 /* Transformer prefill: [threads, arb * akb + 2 * arb] */
};

/* Lays the scratch block out (p NULL: only counts); returns its length in floats. */
static size_t carve(aaren_stream *s, float *p) {
    size_t off = 0;
    const size_t D = (size_t)s->D, R = (size_t)s->rows, HC = (size_t)s->H * s->chunk;
#define TAKE(ptr, len) do { size_t n_ = (len); (ptr) = (p && n_) ? p + off : NULL; off += n_; } while (0)
    TAKE(s->qv, s->aar ? (size_t)s->L * D : 0);
    TAKE(s->xa, R * D); TAKE(s->xb, R * D); TAKE(s->nrm, R * D);
    TAKE(s->q, s->aar ? 0 : R * D);
    TAKE(s->k, R * D); TAKE(s->v, R * D); TAKE(s->att, R * D); TAKE(s->ao, R * D); TAKE(s->r1, R * D);
    TAKE(s->f1, R * s->F); TAKE(s->fa, R * s->F);
    TAKE(s->mean, R); TAKE(s->rstd, R);
    TAKE(s->sc, s->aar ? HC : 0); TAKE(s->sm, s->aar ? HC : 0); TAKE(s->su, s->aar ? HC : 0);
    TAKE(s->kscr, s->aar ? aaren_attn_scratch_len(s->dh, 0) : 0);
    TAKE(s->probs, s->aar ? 0 : (size_t)(s->n > 1 ? s->threads : 1) * s->cap);
    TAKE(s->blk, s->aar ? 0 : (size_t)s->threads * ((size_t)s->arb * s->akb + 2 * (size_t)s->arb));
#undef TAKE
    return off;
}

aaren_stream *aaren_stream_new_batch(const aaren_model *m, int n_streams, long max_tokens,
                                     int prefill_chunk, char *err, size_t errlen) {
    if (!m) { aaren_errf(err, errlen, "stream: no model"); return NULL; }
    const aaren_config *c = &m->cfg;
    const int aar = c->arch == AAREN_ARCH_AAREN;
    if (n_streams < 1) { aaren_errf(err, errlen, "stream: n_streams must be >= 1, got %d", n_streams); return NULL; }
    if (prefill_chunk < 1) { aaren_errf(err, errlen, "stream: prefill_chunk must be >= 1, got %d", prefill_chunk); return NULL; }
    if (!aar && max_tokens < 1) {
        aaren_errf(err, errlen, "a transformer stream needs a KV-cache capacity (max_tokens >= 1), got %ld", max_tokens);
        return NULL;
    }
    aaren_stream *s = calloc(1, sizeof(*s));
    if (!s) { aaren_errf(err, errlen, "out of memory"); return NULL; }
    s->m = m;
    s->L = c->n_layers; s->D = c->d_model; s->H = c->n_heads; s->dh = c->d_model / c->n_heads;
    s->F = c->d_ff; s->aar = aar; s->pre = c->norm == AAREN_NORM_PRE;
    s->n = n_streams;
    s->cap = aar ? 0 : max_tokens;
    /* a Transformer prefill never holds more rows than the cache */
    s->chunk = (!aar && prefill_chunk > s->cap) ? (int)s->cap : prefill_chunk;
    s->rows = s->n > s->chunk ? s->n : s->chunk;
    s->threads = aaren_max_threads();
    s->arb = s->chunk < ATT_RB ? s->chunk : ATT_RB;
    s->akb = s->cap < ATT_KB ? (int)s->cap : ATT_KB;
    s->per = aar ? (size_t)s->L * s->H * (s->dh + 2) : 2 * (size_t)s->L * (size_t)s->cap * s->D;
    s->scratch_len = carve(s, NULL);
    /* The KV cache's pages are touched only as tokens arrive, so resident memory grows
     * with position as it would with a growing cache. */
    s->state = malloc((size_t)s->n * s->per * sizeof(float));
    s->scratch = malloc(s->scratch_len * sizeof(float));
    s->pos = calloc((size_t)s->n, sizeof(long));
    s->idx = malloc((size_t)s->n * sizeof(int));
    s->mark = calloc((size_t)s->n, 1);
    if (!s->state || !s->scratch || !s->pos || !s->idx || !s->mark) {
        aaren_errf(err, errlen, "out of memory for %d stream(s): %.1f MiB of state, %.1f MiB of scratch", s->n,
             (double)s->n * s->per * 4.0 / 1048576.0, s->scratch_len * 4.0 / 1048576.0);
        aaren_stream_free(s);
        return NULL;
    }
    carve(s, s->scratch);
    for (int i = 0; i < s->n; i++) s->idx[i] = i;
    if (s->aar)
        for (int l = 0; l < s->L; l++)
            aaren_linear_forward(s->qv + (size_t)l * s->D, m->p[l].query, m->p[l].wq, m->p[l].bq, 1, s->D, s->D);
    aaren_stream_reset(s);
    return s;
}

aaren_stream *aaren_stream_new(const aaren_model *m, long max_tokens, char *err, size_t errlen) {
    return aaren_stream_new_batch(m, 1, max_tokens, AAREN_PREFILL_CHUNK, err, errlen);
}

void aaren_stream_free(aaren_stream *s) {
    if (!s) return;
    free(s->state);
    free(s->scratch);
    free(s->pos);
    free(s->idx);
    free(s->mark);
    free(s);
}

int aaren_stream_n_streams(const aaren_stream *s) { return s->n; }

/* Stream i back to position 0 (Aaren: every (m, u, w) to the identity (-inf, 0, 0)). */
static void reset_stream(aaren_stream *s, int i) {
    s->pos[i] = 0;
    if (!s->aar) return;   /* cache entries beyond pos are never read */
    float *base = s->state + (size_t)i * s->per;
    for (int j = 0; j < s->L * s->H; j++) {
        float *st = base + (size_t)j * (s->dh + 2);
        st[0] = -INFINITY;
        st[1] = 0;
        memset(st + 2, 0, sizeof(float) * (size_t)s->dh);
    }
}

void aaren_stream_reset(aaren_stream *s) {
    for (int i = 0; i < s->n; i++) reset_stream(s, i);
}

int aaren_stream_reset_one(aaren_stream *s, int i) {
    if (i < 0 || i >= s->n) return -1;
    reset_stream(s, i);
    return 0;
}

long aaren_stream_position(const aaren_stream *s) { return s->pos[0]; }

long aaren_stream_position_one(const aaren_stream *s, int i) {
    return (i < 0 || i >= s->n) ? -1 : s->pos[i];
}

/* Threads for a parallel region that uses per-thread scratch: as configured now, but no
 * more than there are slots (the thread count at creation). */
static int team(const aaren_stream *s) {
    const int t = aaren_max_threads();
    return t < s->threads ? t : s->threads;
}

/* Layer l's k and v caches of stream i: [cap, D] each. */
static float *kcache(const aaren_stream *s, int i, int l) {
    return s->state + (size_t)i * s->per + (size_t)l * s->cap * s->D;
}
static float *vcache(const aaren_stream *s, int i, int l) {
    return s->state + (size_t)i * s->per + ((size_t)s->L + l) * s->cap * s->D;
}

/* One token's causal attention over a cache: att [D] = softmax(q [D] . k_j / sqrt(dh)) v_j
 * per head over cache rows j = 0..n-1 (kc, vc [>= n, D]); probs [n] scratch. */
static void kv_attend(float *att, const float *q, const float *kc, const float *vc, long n,
                      float *probs, int H, int dh, int D) {
    const float scale = 1 / sqrtf((float)dh);
    for (int h = 0; h < H; h++) {
        const float *qh = q + h * dh;
        float mx = -INFINITY, sum = 0;
        for (long j = 0; j < n; j++) {
            const float *kj = kc + (size_t)j * D + h * dh;
            float acc = 0;
            for (int i = 0; i < dh; i++) acc += qh[i] * kj[i];
            probs[j] = acc * scale;
            if (probs[j] > mx) mx = probs[j];
        }
        for (long j = 0; j < n; j++) { probs[j] = expf(probs[j] - mx); sum += probs[j]; }
        float *oh = att + h * dh;
        memset(oh, 0, sizeof(float) * (size_t)dh);
        for (long j = 0; j < n; j++) {
            const float p = probs[j] / sum, *vj = vc + (size_t)j * D + h * dh;
            for (int i = 0; i < dh; i++) oh[i] += p * vj[i];
        }
    }
}

/* Causal attention of M consecutive tokens of one stream over its cache: row t (position
 * p0 + t) attends over cache rows 0..p0 + t. att, q [M, D]; kc, vc [>= p0 + M, D].
 * Blocks of arb rows x akb keys: scores are one matrix product per block, the
 * softmax is carried across key blocks by a running max and sum per row (rescaling the
 * partial output), and the output is one more product per block. Each (head, row block)
 * is a job for one thread, with its scratch slot in blk. */
static void kv_attend_rows(aaren_stream *s, float *att, const float *q, const float *kc,
                           const float *vc, long p0, int M) {
    const int D = s->D, dh = s->dh, H = s->H, RB = s->arb, KB = s->akb, nrb = (M + RB - 1) / RB;
    const float scale = 1 / sqrtf((float)dh);
    const int nt = team(s);
    (void)nt;   /* read by the OpenMP clause only */
    #pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (H * nrb > 1)
    for (int job = 0; job < H * nrb; job++) {
        const int h = job % H, r0 = (job / H) * RB, rb = M - r0 < RB ? M - r0 : RB;
        float *S = s->blk + (size_t)aaren_thread_id() * ((size_t)RB * KB + 2 * (size_t)RB);
        float *mx = S + (size_t)RB * KB, *sum = mx + RB;
        float *ob = att + (size_t)r0 * D + h * dh;
        const float *qb = q + (size_t)r0 * D + h * dh;
        for (int i = 0; i < rb; i++) {
            mx[i] = -INFINITY;
            sum[i] = 0;
            memset(ob + (size_t)i * D, 0, sizeof(float) * (size_t)dh);
        }
        const long nk = p0 + r0 + rb;   /* keys visible to the block's last row */
        for (long j0 = 0; j0 < nk; j0 += KB) {
            const int kb = nk - j0 < KB ? (int)(nk - j0) : KB;
            aaren_gemm(0, 1, rb, kb, dh, scale, qb, D, kc + (size_t)j0 * D + h * dh, D, 0, S, kb);
            for (int i = 0; i < rb; i++) {
                float *p = S + (size_t)i * kb;
                const long vis = p0 + r0 + i + 1 - j0;   /* keys of this block row i sees */
                const int lim = vis < 0 ? 0 : (vis > kb ? kb : (int)vis);
                float bm = -INFINITY;
                for (int j = 0; j < lim; j++) if (p[j] > bm) bm = p[j];
                const float mnew = bm > mx[i] ? bm : mx[i];
                float add = 0;
                for (int j = 0; j < lim; j++) { p[j] = expf(p[j] - mnew); add += p[j]; }
                for (int j = lim; j < kb; j++) p[j] = 0;
                if (lim == 0) continue;
                if (mnew > mx[i]) {   /* rescale what the earlier key blocks added */
                    const float c = mx[i] == -INFINITY ? 0 : expf(mx[i] - mnew);
                    float *oi = ob + (size_t)i * D;
                    for (int d = 0; d < dh; d++) oi[d] *= c;
                    sum[i] *= c;
                    mx[i] = mnew;
                }
                sum[i] += add;
            }
            aaren_gemm(0, 0, rb, dh, kb, 1, S, kb, vc + (size_t)j0 * D + h * dh, D, 1, ob, D);
        }
        for (int i = 0; i < rb; i++) {
            const float r = 1 / sum[i];
            float *oi = ob + (size_t)i * D;
            for (int d = 0; d < dh; d++) oi[d] *= r;
        }
    }
}

/* The encoder over M rows; x, y [M, D]. Step (stream < 0): row r is the next token of
 * stream idx[r] (distinct streams). Prefill (stream >= 0): the rows are the next M tokens
 * of that stream, M <= chunk. y NULL (prefill only): the states are updated and the last
 * layer stops after its attention state (the Transformer's after writing its cache). The
 * caller has checked every index and capacity; positions advance here. */
static void run_rows(aaren_stream *s, const float *x, float *y, int M, const int *idx, int stream) {
    const aaren_model *m = s->m;
    const int D = s->D, H = s->H, dh = s->dh, F = s->F;
    const size_t MD = (size_t)M * D;
    const float eps = m->cfg.ln_eps, scale = 1 / sqrtf((float)dh);
    const float *cur = x;
    float *out = s->xa;
    for (int l = 0; l < s->L; l++) {
        const aaren_block_params *p = &m->p[l];
        const int last = l == s->L - 1 && !y;
        const float *ain = cur;
        if (s->pre) {
            aaren_layernorm_forward(s->nrm, s->mean, s->rstd, cur, p->ln1_w, p->ln1_b, M, D, eps);
            ain = s->nrm;
        }
        aaren_linear_forward(s->k, ain, p->wk, p->bk, M, D, D);
        aaren_linear_forward(s->v, ain, p->wv, p->bv, M, D, D);
        if (s->aar) {
            const float *qv = s->qv + (size_t)l * D;
            const size_t st_l = (size_t)l * H * (dh + 2);
            if (stream < 0) {
                for (int r = 0; r < M; r++) {
                    float *st = s->state + (size_t)idx[r] * s->per + st_l;
                    const float *kr = s->k + (size_t)r * D;
                    for (int h = 0; h < H; h++) {
                        float acc = 0;
                        for (int i = 0; i < dh; i++) acc += qv[h * dh + i] * kr[h * dh + i];
                        aaren_attn_step(st + (size_t)h * (dh + 2), acc * scale, s->v + (size_t)r * D + h * dh,
                                        s->att + (size_t)r * D + h * dh, dh);
                    }
                }
            } else {
                /* scores [1, H, M] as the step computes them, then the scan from the state */
                for (int t = 0; t < M; t++) {
                    const float *kt = s->k + (size_t)t * D;
                    for (int h = 0; h < H; h++) {
                        float acc = 0;
                        for (int i = 0; i < dh; i++) acc += qv[h * dh + i] * kt[h * dh + i];
                        s->sc[(size_t)h * M + t] = acc * scale;
                    }
                }
                aaren_attn_scan_carry(s->att, s->sm, s->su, s->sc, s->v, 1, H, M, dh, 0, s->kscr,
                                      s->state + (size_t)stream * s->per + st_l);
            }
        } else {
            if (!last) aaren_linear_forward(s->q, ain, p->wq, p->bq, M, D, D);
            if (stream < 0) {
                for (int r = 0; r < M; r++) {
                    const int i = idx[r];
                    memcpy(kcache(s, i, l) + (size_t)s->pos[i] * D, s->k + (size_t)r * D, sizeof(float) * D);
                    memcpy(vcache(s, i, l) + (size_t)s->pos[i] * D, s->v + (size_t)r * D, sizeof(float) * D);
                }
                const int nt = team(s);
                (void)nt;   /* read by the OpenMP clause only */
                #pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (M > 1)
                for (int r = 0; r < M; r++) {
                    const int i = idx[r];
                    kv_attend(s->att + (size_t)r * D, s->q + (size_t)r * D, kcache(s, i, l), vcache(s, i, l),
                              s->pos[i] + 1, s->probs + (size_t)(M > 1 ? aaren_thread_id() : 0) * s->cap,
                              H, dh, D);
                }
            } else {
                const long p0 = s->pos[stream];
                memcpy(kcache(s, stream, l) + (size_t)p0 * D, s->k, sizeof(float) * MD);
                memcpy(vcache(s, stream, l) + (size_t)p0 * D, s->v, sizeof(float) * MD);
                if (!last) kv_attend_rows(s, s->att, s->q, kcache(s, stream, l), vcache(s, stream, l), p0, M);
            }
        }
        if (last) break;
        aaren_linear_forward(s->ao, s->att, p->wo, p->bo, M, D, D);
        /* the rest of the block as the parallel forward runs it, in the stream's scratch */
        aaren_block_acts a = {.attn_out = s->ao, .r1 = s->r1, .h = s->nrm, .h_mean = s->mean, .h_rstd = s->rstd,
                              .f_in = s->nrm, .f_mean = s->mean, .f_rstd = s->rstd, .f1 = s->f1, .fa = s->fa,
                              .ffn_out = s->ao, .r2 = s->pre ? out : s->r1, .y = out, .y_mean = s->mean,
                              .y_rstd = s->rstd};
        const aaren_block_shape sh = {1, M, D, H, F, m->cfg.arch, s->pre, m->cfg.activation, eps, 0, 0};
        aaren_block_after_attention(&a, cur, p, &sh);
        cur = out;
        out = (out == s->xa) ? s->xb : s->xa;
    }
    if (y) {
        if (s->pre) aaren_layernorm_forward(y, s->mean, s->rstd, cur, m->fn_w, m->fn_b, M, D, eps);
        else memcpy(y, cur, sizeof(float) * MD);
    }
    if (stream < 0) for (int r = 0; r < M; r++) s->pos[idx[r]]++;
    else s->pos[stream] += M;
}

int aaren_stream_step_some(aaren_stream *s, const int *streams, int k, const float *x, float *y,
                           char *err, size_t errlen) {
    if (k < 0 || k > s->n) {
        aaren_errf(err, errlen, "stream step: %d rows for a batch of %d streams", k, s->n);
        return -1;
    }
    if (k == 0) return 0;
    if (!x || !y) { aaren_errf(err, errlen, "stream step: x and y must not be NULL"); return -1; }
    const int *idx = streams ? streams : s->idx;
    int bad = -1;
    for (int r = 0; r < k && bad < 0; r++) {
        const int i = idx[r];
        if (i < 0 || i >= s->n) {
            aaren_errf(err, errlen, "stream step: row %d names stream %d; the batch has streams 0..%d", r, i, s->n - 1);
            bad = r;
        } else if (s->mark[i]) {
            aaren_errf(err, errlen, "stream step: stream %d appears twice (row %d)", i, r);
            bad = r;
        } else if (!s->aar && s->pos[i] >= s->cap) {
            aaren_errf(err, errlen, "transformer stream %d: KV cache full at %ld tokens", i, s->cap);
            bad = r;
        } else {
            s->mark[i] = 1;
        }
    }
    for (int r = 0; r < k; r++)
        if (idx[r] >= 0 && idx[r] < s->n) s->mark[idx[r]] = 0;
    if (bad >= 0) return -1;
    run_rows(s, x, y, k, idx, -1);
    return 0;
}

int aaren_stream_step_batch(aaren_stream *s, const float *x, float *y, char *err, size_t errlen) {
    return aaren_stream_step_some(s, NULL, s->n, x, y, err, errlen);
}

int aaren_stream_step(aaren_stream *s, const float *x, float *y, char *err, size_t errlen) {
    return aaren_stream_step_some(s, NULL, s->n, x, y, err, errlen);
}

int aaren_stream_step_one(aaren_stream *s, int i, const float *x, float *y, char *err, size_t errlen) {
    return aaren_stream_step_some(s, &i, 1, x, y, err, errlen);
}

int aaren_stream_prefill(aaren_stream *s, int i, const float *x, long N, float *y, char *err,
                         size_t errlen) {
    if (i < 0 || i >= s->n) {
        aaren_errf(err, errlen, "stream prefill: stream %d out of range; the batch has streams 0..%d", i, s->n - 1);
        return -1;
    }
    if (N < 0 || (N > 0 && !x)) {
        aaren_errf(err, errlen, "stream prefill: %ld tokens%s", N, N < 0 ? "" : " and no input");
        return -1;
    }
    if (!s->aar && N > s->cap - s->pos[i]) {
        aaren_errf(err, errlen, "transformer stream %d: prefill of %ld tokens from position %ld exceeds the "
             "KV-cache capacity of %ld tokens", i, N, s->pos[i], s->cap);
        return -1;
    }
    if (s->aar && N > 0 && aaren_max_threads() > s->threads) {
        aaren_errf(err, errlen, "stream prefill: the scan scratch is sized for %d OpenMP threads; %d are "
             "in use now (create the stream after setting the thread count)", s->threads, aaren_max_threads());
        return -1;
    }
    const size_t D = (size_t)s->D;
    for (long t0 = 0; t0 < N; t0 += s->chunk) {
        const int M = N - t0 < s->chunk ? (int)(N - t0) : s->chunk;
        run_rows(s, x + (size_t)t0 * D, y ? y + (size_t)t0 * D : NULL, M, NULL, i);
    }
    return 0;
}

/* Floats of recurrent state stream i holds at position pos. */
static size_t state_floats(const aaren_stream *s, long pos) {
    return s->aar ? s->per : 2 * (size_t)s->L * (size_t)pos * s->D;
}

size_t aaren_stream_state_bytes_one(const aaren_stream *s, int i) {
    if (i < 0 || i >= s->n) return 0;
    return state_floats(s, s->pos[i]) * sizeof(float);
}

size_t aaren_stream_state_bytes(const aaren_stream *s) {
    size_t b = 0;
    for (int i = 0; i < s->n; i++) b += aaren_stream_state_bytes_one(s, i);
    return b;
}

size_t aaren_stream_alloc_bytes(const aaren_stream *s) {
    return sizeof(*s) + ((size_t)s->n * s->per + s->scratch_len) * sizeof(float) +
           (size_t)s->n * (sizeof(long) + sizeof(int) + 1);
}

size_t aaren_stream_state_size_one(const aaren_stream *s, int i) {
    if (i < 0 || i >= s->n) return 0;
    return sizeof(state_header) + aaren_stream_state_bytes_one(s, i);
}

size_t aaren_stream_state_size(const aaren_stream *s) {
    size_t b = 0;
    for (int i = 0; i < s->n; i++) b += aaren_stream_state_size_one(s, i);
    return b;
}

size_t aaren_stream_get_state_one(const aaren_stream *s, int i, void *buf, size_t cap) {
    const size_t need = aaren_stream_state_size_one(s, i);
    if (!need || !buf || cap < need) return 0;
    state_header hd = {STATE_MAGIC, STATE_VERSION, s->aar ? AAREN_ARCH_AAREN : AAREN_ARCH_TRANSFORMER,
                       s->L, s->D, s->H, s->pos[i]};
    char *p = buf;
    memcpy(p, &hd, sizeof hd);
    p += sizeof hd;
    if (s->aar) {
        memcpy(p, s->state + (size_t)i * s->per, s->per * sizeof(float));
    } else {
        const size_t row = (size_t)s->pos[i] * s->D * sizeof(float);
        for (int l = 0; l < s->L; l++, p += row) memcpy(p, kcache(s, i, l), row);
        for (int l = 0; l < s->L; l++, p += row) memcpy(p, vcache(s, i, l), row);
    }
    return need;
}

size_t aaren_stream_get_state(const aaren_stream *s, void *buf, size_t cap) {
    const size_t need = aaren_stream_state_size(s);
    if (!buf || cap < need) return 0;
    char *p = buf;
    for (int i = 0; i < s->n; i++) p += aaren_stream_get_state_one(s, i, p, need - (size_t)(p - (char *)buf));
    return need;
}

/* Checks the record at buf (avail bytes, at least its own length) against this stream's
 * shape; returns the record's length (header + body) and its position, or 0 and a
 * message. */
static size_t record_check(const aaren_stream *s, const void *buf, size_t avail, long *pos,
                           char *err, size_t errlen) {
    state_header hd;
    if (!buf || avail < sizeof hd) {
        aaren_errf(err, errlen, "stream state: %zu bytes is too short for a header", avail);
        return 0;
    }
    memcpy(&hd, buf, sizeof hd);
    if (hd.magic != STATE_MAGIC || hd.version != STATE_VERSION) {
        aaren_errf(err, errlen, "stream state: not an aaren stream state (bad magic or version)");
        return 0;
    }
    if (hd.arch != (s->aar ? AAREN_ARCH_AAREN : AAREN_ARCH_TRANSFORMER) || hd.n_layers != s->L ||
        hd.d_model != s->D || hd.n_heads != s->H) {
        aaren_errf(err, errlen, "stream state: made for %s %d layers x d_model %d x %d heads; this stream is %s %d x %d x %d",
             aaren_arch_name(hd.arch), hd.n_layers, hd.d_model, hd.n_heads,
             aaren_arch_name(s->aar ? 0 : 1), s->L, s->D, s->H);
        return 0;
    }
    if (hd.pos < 0 || (!s->aar && hd.pos > s->cap)) {
        aaren_errf(err, errlen, "stream state: position %lld does not fit this stream (capacity %ld)", (long long)hd.pos, s->cap);
        return 0;
    }
    const size_t need = sizeof hd + state_floats(s, (long)hd.pos) * sizeof(float);
    if (avail < need) {
        aaren_errf(err, errlen, "stream state: expected %zu bytes, got %zu", need, avail);
        return 0;
    }
    *pos = (long)hd.pos;
    return need;
}

/* Loads a checked record into stream i. */
static void record_load(aaren_stream *s, int i, const void *buf, long pos) {
    const char *p = (const char *)buf + sizeof(state_header);
    if (s->aar) {
        memcpy(s->state + (size_t)i * s->per, p, s->per * sizeof(float));
    } else {
        const size_t row = (size_t)pos * s->D * sizeof(float);
        for (int l = 0; l < s->L; l++, p += row) memcpy(kcache(s, i, l), p, row);
        for (int l = 0; l < s->L; l++, p += row) memcpy(vcache(s, i, l), p, row);
    }
    s->pos[i] = pos;
}

int aaren_stream_set_state_one(aaren_stream *s, int i, const void *buf, size_t len, char *err, size_t errlen) {
    if (i < 0 || i >= s->n) {
        aaren_errf(err, errlen, "stream state: stream %d out of range; the batch has streams 0..%d", i, s->n - 1);
        return -1;
    }
    long pos;
    const size_t need = record_check(s, buf, len, &pos, err, errlen);
    if (!need) return -1;
    if (len != need) { aaren_errf(err, errlen, "stream state: expected %zu bytes, got %zu", need, len); return -1; }
    record_load(s, i, buf, pos);
    return 0;
}

int aaren_stream_set_state(aaren_stream *s, const void *buf, size_t len, char *err, size_t errlen) {
    /* every record is checked before any stream changes */
    size_t off = 0;
    for (int i = 0; i < s->n; i++) {
        long pos;
        const size_t need = record_check(s, buf ? (const char *)buf + off : NULL, len - off, &pos, err, errlen);
        if (!need) {
            if (s->n > 1 && err && errlen) {
                char msg[256];
                snprintf(msg, sizeof msg, "%s", err);
                aaren_errf(err, errlen, "stream %d of %d: %s", i, s->n, msg);
            }
            return -1;
        }
        off += need;
    }
    if (off != len) {
        aaren_errf(err, errlen, "stream state: expected %zu bytes for %d stream(s), got %zu", off, s->n, len);
        return -1;
    }
    off = 0;
    for (int i = 0; i < s->n; i++) {
        long pos = 0;
        const size_t need = record_check(s, (const char *)buf + off, len - off, &pos, NULL, 0);
        record_load(s, i, (const char *)buf + off, pos);
        off += need;
    }
    return 0;
}
