/* float32 encoder stack, its configuration, tensor table and checkpoint I/O. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/parallel.h"
#include "model/model.h"
#include "base/common.h"
#include "base/rng.h"
#include "kernels/precision.h"
#include "model.inc"
#include "kernels/precision_end.h"

#ifndef AAREN_VERSION
#define AAREN_VERSION "0.0.0"
#endif

const char *aaren_version(void) { return AAREN_VERSION; }
const char *aaren_backend(void) { return aaren_gemm_backend(); }
int aaren_threads(void) { return aaren_max_threads(); }

/* First "model name" of /proc/cpuinfo and its "cpu cores" (0 when absent). */
void aaren_cpu_info(char *model, size_t len, int *cores) {
    snprintf(model, len, "unknown");
    *cores = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    int have_model = 0;
    while (fgets(line, sizeof line, f)) {
        const char *colon = strchr(line, ':');
        if (!colon) continue;
        const char *val = colon + 1;
        while (*val == ' ' || *val == '\t') val++;
        if (!have_model && strncmp(line, "model name", 10) == 0) {
            snprintf(model, len, "%s", val);
            model[strcspn(model, "\n")] = 0;
            have_model = 1;
        } else if (*cores == 0 && strncmp(line, "cpu cores", 9) == 0) {
            *cores = atoi(val);
        }
    }
    fclose(f);
}


aaren_config aaren_config_default(void) {
    aaren_config c = {AAREN_ARCH_AAREN, 128, 4, 3, 512, AAREN_NORM_POST, AAREN_GELU, 1e-5f};
    return c;
}

/* ---- the enums' names (aaren_enums.h) ---- */
static const char *const arch_names[] = {"aaren", "transformer", NULL};
static const char *const norm_names[] = {"post", "pre", NULL};
static const char *const act_names[] = {"gelu", "relu", NULL};
static const char *const path_names[] = {"scan", "naive", "fold", NULL};

static int index_of(const char *const *names, const char *s) {
    for (int i = 0; s && names[i]; i++)
        if (!strcmp(names[i], s)) return i;
    return -1;
}

const char *aaren_arch_name(int arch) { return arch == AAREN_ARCH_TRANSFORMER ? "transformer" : "aaren"; }
const char *aaren_norm_name(int norm) { return norm == AAREN_NORM_PRE ? "pre" : "post"; }
const char *aaren_activation_name(int act) { return act == AAREN_RELU ? "relu" : "gelu"; }
const char *aaren_path_name(int path) { return path == AAREN_NAIVE ? "naive" : path == AAREN_FOLD ? "fold" : "scan"; }
int aaren_arch_from_name(const char *s) { return index_of(arch_names, s); }
int aaren_norm_from_name(const char *s) { return index_of(norm_names, s); }
int aaren_activation_from_name(const char *s) { return index_of(act_names, s); }
int aaren_path_from_name(const char *s) { return index_of(path_names, s); }

int aaren_config_check(const aaren_config *c, char *err, size_t errlen) {
    const char *why = NULL;
    if (c->arch != AAREN_ARCH_AAREN && c->arch != AAREN_ARCH_TRANSFORMER) why = "arch must be aaren or transformer";
    else if (c->d_model < 1 || c->n_heads < 1 || c->d_ff < 1) why = "d_model, n_heads and d_ff must be >= 1";
    else if (c->d_model % c->n_heads) why = "d_model must be a multiple of n_heads";
    else if (c->n_layers < 1 || c->n_layers > AAREN_MAX_LAYERS) why = "n_layers must be between 1 and 64";
    else if (c->norm != AAREN_NORM_POST && c->norm != AAREN_NORM_PRE) why = "norm must be post or pre";
    else if (c->activation != AAREN_GELU && c->activation != AAREN_RELU) why = "activation must be gelu or relu";
    else if (!(c->ln_eps > 0) || !isfinite(c->ln_eps)) why = "ln_eps must be a positive number";
    else if ((double)c->d_model * c->d_ff > 1e9 || c->d_model > 65536) why = "sizes too large";
    if (why) {
        aaren_errf(err, errlen, "invalid config (d_model %d, n_heads %d, n_layers %d, d_ff %d): %s",
                c->d_model, c->n_heads, c->n_layers, c->d_ff, why);
        return -1;
    }
    return 0;
}

int aaren_param_table(const aaren_config *c, aaren_param_entry *t, size_t *n_params) {
    static const char *lin[] = {"attn.q_proj", "attn.k_proj", "attn.v_proj", "attn.out_proj"};
    const int64_t D = c->d_model, F = c->d_ff;
    int n = 0;
    size_t off = 0;
#define ADD(nd, s0, s1, ...) do { if (t) { aaren_param_entry *e_ = &t[n]; \
        snprintf(e_->name, sizeof e_->name, __VA_ARGS__); e_->ndim = (nd); \
        e_->shape[0] = (s0); e_->shape[1] = (s1); e_->offset = off; \
        e_->size = (size_t)(s0) * ((nd) == 2 ? (size_t)(s1) : 1); } \
        off += (size_t)(s0) * ((nd) == 2 ? (size_t)(s1) : 1); n++; } while (0)
    for (int l = 0; l < c->n_layers; l++) {
        if (c->arch == AAREN_ARCH_AAREN) ADD(1, D, 0, "layers.%d.attn.query", l);
        for (int j = 0; j < 4; j++) {
            ADD(2, D, D, "layers.%d.%s.weight", l, lin[j]);
            ADD(1, D, 0, "layers.%d.%s.bias", l, lin[j]);
        }
        ADD(1, D, 0, "layers.%d.norm1.weight", l);
        ADD(1, D, 0, "layers.%d.norm1.bias", l);
        ADD(1, D, 0, "layers.%d.norm2.weight", l);
        ADD(1, D, 0, "layers.%d.norm2.bias", l);
        ADD(2, F, D, "layers.%d.ffn.fc1.weight", l);
        ADD(1, F, 0, "layers.%d.ffn.fc1.bias", l);
        ADD(2, D, F, "layers.%d.ffn.fc2.weight", l);
        ADD(1, D, 0, "layers.%d.ffn.fc2.bias", l);
    }
    if (c->norm == AAREN_NORM_PRE) {
        ADD(1, D, 0, "final_norm.weight");
        ADD(1, D, 0, "final_norm.bias");
    }
#undef ADD
    if (n_params) *n_params = off;
    return n;
}

const aaren_config *aaren_model_config(const aaren_model *m) { return &m->cfg; }
int aaren_model_n_tensors(const aaren_model *m) { return m->n_tensors; }
size_t aaren_model_n_params(const aaren_model *m) { return m->n_params; }
float *aaren_model_params(const aaren_model *m) { return m->params; }
float *aaren_model_grads(const aaren_model *m) { return m->grads; }
size_t aaren_model_n_extra(const aaren_model *m) { return m->n_extra; }
size_t aaren_model_n_trainable(const aaren_model *m) { return m->n_params + m->n_extra; }
float *aaren_model_extra(const aaren_model *m) { return m->params + m->n_params; }
float *aaren_model_extra_grads(const aaren_model *m) { return m->grads ? m->grads + m->n_params : NULL; }

const char *aaren_model_tensor_name(const aaren_model *m, int i) {
    return (i >= 0 && i < m->n_tensors) ? m->table[i].name : NULL;
}

float *aaren_model_tensor(const aaren_model *m, int i, int *ndim, int64_t shape[2]) {
    if (i < 0 || i >= m->n_tensors) return NULL;
    if (ndim) *ndim = m->table[i].ndim;
    if (shape) { shape[0] = m->table[i].shape[0]; shape[1] = m->table[i].shape[1]; }
    return m->params + m->table[i].offset;
}

float *aaren_model_grad_tensor(const aaren_model *m, int i) {
    if (i < 0 || i >= m->n_tensors || !m->grads) return NULL;
    return m->grads + m->table[i].offset;
}

void aaren_model_memory(const aaren_model *m, size_t *params, size_t *grads, size_t *acts) {
    if (params) *params = (m->n_params + m->n_extra) * sizeof(float);
    if (grads) *grads = m->grads ? (m->n_params + m->n_extra) * sizeof(float) : 0;
    if (acts) *acts = m->n_acts * sizeof(float);
}

/* ---- checkpoints -------------------------------------------------------------------- */

aaren_model *aaren_model_from_st(const aaren_st *st, const char *path, char *err, size_t errlen) {
    aaren_config c = aaren_config_default();
    const char *arch = aaren_st_meta(st, "aaren.arch");
    const char *norm = aaren_st_meta(st, "aaren.norm");
    const char *act = aaren_st_meta(st, "aaren.activation");
    const char *eps = aaren_st_meta(st, "aaren.ln_eps");
    if (!arch) { aaren_errf(err, errlen, "%s: no 'aaren.arch' metadata: not an aaren checkpoint", path); return NULL; }
    if ((c.arch = aaren_arch_from_name(arch)) < 0) {
        aaren_errf(err, errlen, "%s: aaren.arch is '%s'; expected 'aaren' or 'transformer'", path, arch);
        return NULL;
    }
    static const char *ikeys[] = {"aaren.d_model", "aaren.n_heads", "aaren.n_layers", "aaren.d_ff"};
    int *ivals[] = {&c.d_model, &c.n_heads, &c.n_layers, &c.d_ff};
    for (int i = 0; i < 4; i++) {
        long v;
        if (aaren_meta_long(path, ikeys[i], aaren_st_meta(st, ikeys[i]), 1, 1000000000L, &v, err, errlen)) return NULL;
        *ivals[i] = (int)v;
    }
    if (norm && (c.norm = aaren_norm_from_name(norm)) < 0) {
        aaren_errf(err, errlen, "%s: aaren.norm is '%s'; expected 'post' or 'pre'", path, norm);
        return NULL;
    }
    if (act && (c.activation = aaren_activation_from_name(act)) < 0) {
        aaren_errf(err, errlen, "%s: aaren.activation is '%s'; expected 'gelu' or 'relu'", path, act);
        return NULL;
    }
    if (eps) {   /* a positive normal float32 */
        double v;
        if (aaren_meta_double(path, "aaren.ln_eps", eps, FLT_MIN, FLT_MAX, &v, err, errlen)) return NULL;
        c.ln_eps = (float)v;
    }
    char why[256];
    if (aaren_config_check(&c, why, sizeof why)) { aaren_errf(err, errlen, "%s: %s", path, why); return NULL; }
    aaren_model *m = aaren_model_new(&c, err, errlen);
    if (!m) return NULL;
    for (int i = 0; i < m->n_tensors; i++) {
        const aaren_param_entry *e = &m->table[i];
        const aaren_tensor *t = aaren_st_find(st, e->name);
        int ok = t && t->ndim == e->ndim && t->shape[0] == e->shape[0] && (e->ndim == 1 || t->shape[1] == e->shape[1]);
        if (!ok) {
            char want[64], got[96] = "missing";
            if (e->ndim == 1) snprintf(want, sizeof want, "[%lld]", (long long)e->shape[0]);
            else snprintf(want, sizeof want, "[%lld, %lld]", (long long)e->shape[0], (long long)e->shape[1]);
            if (t) {
                int k = snprintf(got, sizeof got, "[");
                for (int d = 0; d < t->ndim && k < (int)sizeof got - 24; d++)
                    k += snprintf(got + k, sizeof got - k, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
                snprintf(got + k, sizeof got - k, "]");
            }
            aaren_errf(err, errlen, "%s: tensor '%s' should have shape %s for this config, got %s", path, e->name, want, got);
            aaren_model_free(m);
            return NULL;
        }
        for (size_t j = 0; j < e->size; j++) {
            if (!isfinite(t->data[j])) {
                aaren_errf(err, errlen, "%s: tensor '%s' holds a non-finite value at index %zu", path, e->name, j);
                aaren_model_free(m);
                return NULL;
            }
        }
        memcpy(m->params + e->offset, t->data, e->size * sizeof(float));
    }
    return m;
}

int aaren_model_to_st(const aaren_model *m, aaren_st *st) {
    char buf[32];
    const aaren_config *c = &m->cfg;
    int rc = aaren_st_set_meta(st, "aaren.arch", aaren_arch_name(c->arch));
    const char *ik[] = {"aaren.d_model", "aaren.n_heads", "aaren.n_layers", "aaren.d_ff"};
    const int iv[] = {c->d_model, c->n_heads, c->n_layers, c->d_ff};
    for (int i = 0; i < 4; i++) {
        snprintf(buf, sizeof buf, "%d", iv[i]);
        rc |= aaren_st_set_meta(st, ik[i], buf);
    }
    rc |= aaren_st_set_meta(st, "aaren.norm", aaren_norm_name(c->norm));
    rc |= aaren_st_set_meta(st, "aaren.activation", aaren_activation_name(c->activation));
    snprintf(buf, sizeof buf, "%.9g", (double)c->ln_eps);
    rc |= aaren_st_set_meta(st, "aaren.ln_eps", buf);
    for (int i = 0; i < m->n_tensors && !rc; i++) {
        const aaren_param_entry *e = &m->table[i];
        if (!aaren_st_put(st, e->name, e->ndim, e->shape, m->params + e->offset)) rc = -1;
    }
    return rc ? -1 : 0;
}

aaren_model *aaren_model_load(const char *path, char *err, size_t errlen) {
    aaren_st st;
    if (aaren_st_read(path, &st, err, errlen)) return NULL;
    aaren_model *m = aaren_model_from_st(&st, path, err, errlen);
    aaren_st_free(&st);
    return m;
}

int aaren_model_save(const aaren_model *m, const char *path, char *err, size_t errlen) {
    aaren_st st;
    aaren_st_init(&st);
    int rc = aaren_model_to_st(m, &st);
    if (rc) aaren_errf(err, errlen, "%s: out of memory while building the checkpoint", path);
    else rc = aaren_st_write(path, &st, err, errlen);
    aaren_st_free(&st);
    return rc;
}
