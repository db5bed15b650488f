/* AdamW with global-norm clipping and a warm-up + cosine / step learning-rate schedule. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aaren.h"

struct aaren_adamw {
    aaren_optim_config c;
    size_t n;
    long t;                 /* steps taken */
    float *m, *v;           /* [n] each */
    unsigned char *decay;   /* [n]: 1 where weight decay applies */
    void *block;            /* the one allocation behind m, v and decay */
};

aaren_optim_config aaren_optim_default(void) {
    aaren_optim_config c = {1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1.0f, 0, 1000, AAREN_SCHED_COSINE,
                            0.1f, 1000, 0.5f};
    return c;
}

float aaren_lr_at(const aaren_optim_config *c, long step) {
    if (c->warmup_steps > 0 && step < c->warmup_steps)
        return c->lr * (float)(step + 1) / (float)c->warmup_steps;
    const long s = step - (c->warmup_steps > 0 ? c->warmup_steps : 0);
    switch (c->schedule) {
    case AAREN_SCHED_COSINE: {
        const long span = c->total_steps - (c->warmup_steps > 0 ? c->warmup_steps : 0);
        const double f = span > 0 ? fmin(1.0, (double)s / (double)span) : 1.0;
        const double lo = c->min_lr_frac;
        return (float)(c->lr * (lo + (1 - lo) * 0.5 * (1 + cos(3.14159265358979323846 * f))));
    }
    case AAREN_SCHED_STEP:
        return (float)(c->lr * pow(c->gamma, c->step_size > 0 ? (double)(s / c->step_size) : 0.0));
    default:
        return c->lr;
    }
}

aaren_adamw *aaren_adamw_new(size_t n, const aaren_optim_config *c, char *err, size_t errlen) {
    aaren_adamw *o = calloc(1, sizeof *o);
    void *block = o ? calloc(1, n * 2 * sizeof(float) + n) : NULL;
    if (!block) {
        free(o);
        if (err && errlen) snprintf(err, errlen, "out of memory for optimizer state of %zu parameters", n);
        return NULL;
    }
    o->c = *c;
    o->n = n;
    o->block = block;
    o->m = block;
    o->v = o->m + n;
    o->decay = (unsigned char *)(o->v + n);
    memset(o->decay, 1, n);
    return o;
}

const aaren_optim_config *aaren_adamw_config(const aaren_adamw *o) { return &o->c; }

void aaren_adamw_free(aaren_adamw *o) {
    if (!o) return;
    free(o->block);
    free(o);
}

void aaren_adamw_set_decay(aaren_adamw *o, size_t offset, size_t len, int on) {
    if (offset >= o->n) return;
    if (len > o->n - offset) len = o->n - offset;
    memset(o->decay + offset, on ? 1 : 0, len);
}

long aaren_adamw_steps(const aaren_adamw *o) { return o->t; }
void aaren_adamw_set_steps(aaren_adamw *o, long steps) { o->t = steps; }
float *aaren_adamw_moment(aaren_adamw *o, int which) { return which ? o->v : o->m; }

float aaren_adamw_step(aaren_adamw *o, float *params, float *grads) {
    const size_t n = o->n;
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)grads[i] * grads[i];   /* in order: deterministic */
    const float norm = (float)sqrt(ss);
    if (!isfinite(norm)) return norm;
    const aaren_optim_config *c = &o->c;
    const float scale = (c->clip_norm > 0 && norm > c->clip_norm) ? c->clip_norm / norm : 1.0f;
    const float lr = aaren_lr_at(c, o->t);
    o->t++;
    const float b1 = c->beta1, b2 = c->beta2;
    const float bc1 = 1 - powf(b1, (float)o->t), bc2 = 1 - powf(b2, (float)o->t);
    const float step = lr / bc1, wd = lr * c->weight_decay, rbc2 = 1 / sqrtf(bc2);
    #pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        const float g = grads[i] * scale;
        grads[i] = g;
        o->m[i] = b1 * o->m[i] + (1 - b1) * g;
        o->v[i] = b2 * o->v[i] + (1 - b2) * g * g;
        if (o->decay[i]) params[i] -= wd * params[i];
        params[i] -= step * o->m[i] / (sqrtf(o->v[i]) * rbc2 + c->eps);
    }
    return norm;
}
