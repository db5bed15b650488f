/* Decision models as streams (tasks/dt_stream.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/common.h"
#include "layers/layers.h"
#include "aaren_io.h"
#include "tasks/dt_stream.h"

double aaren_dt_default_target(aaren_env_kind env) {
    static const double t[AAREN_ENV_COUNT] = {12000, 3600, 5000, 6000};
    return env >= 0 && env < AAREN_ENV_COUNT ? t[env] : 0;
}

int aaren_dt_stream_spec_get(const char *path, const aaren_dt *m, aaren_dt_stream_spec *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    aaren_st st;
    aaren_st_init(&st);
    if (aaren_st_read(path, &st, err, errlen)) return -1;
    long no = 0, na = 0;
    double scale = 0;
    const int bad = aaren_meta_long(path, "dt.obs_dim", aaren_st_meta(&st, "dt.obs_dim"), 1, 100000, &no, err, errlen) ||
                    aaren_meta_long(path, "dt.act_dim", aaren_st_meta(&st, "dt.act_dim"), 1, 100000, &na, err, errlen) ||
                    aaren_meta_double(path, "dt.rtg_scale", aaren_st_meta(&st, "dt.rtg_scale"), 1e-30, 1e30, &scale, err,
                                      errlen);
    aaren_st_free(&st);
    if (bad) return -1;
    aaren_model *enc = aaren_dt_encoder(m);
    const aaren_config *cf = aaren_model_config(enc);
    const size_t D = (size_t)cf->d_model;
    s->obs_dim = (int)no;
    s->act_dim = (int)na;
    s->d_model = (int)D;
    s->rtg_scale = (float)scale;   /* as aaren_dt_load keeps it */
    s->ln_eps = cf->ln_eps;
    s->target = aaren_dt_default_target(aaren_dt_env(m));
    s->no_returns = aaren_dt_no_returns(m);
    /* the task's parameter block as dt.h lays it out */
    size_t off[AAREN_DT_TENSORS + 1];
    const size_t total = aaren_dt_layout((int)D, s->obs_dim, s->act_dim, off);
    if (total != aaren_model_n_extra(enc))
        return aaren_file_err(err, errlen, path, "the decision model holds %zu task parameters; %d observations and %d "
                              "actions at width %zu make %zu", aaren_model_n_extra(enc), s->obs_dim, s->act_dim, D, total);
    const float *p = aaren_model_extra(enc);
    s->Wr = p + off[AAREN_DT_WR]; s->br = p + off[AAREN_DT_BR]; s->Ws = p + off[AAREN_DT_WS]; s->bs = p + off[AAREN_DT_BS];
    s->Wa = p + off[AAREN_DT_WA]; s->ba = p + off[AAREN_DT_BA]; s->T = p + off[AAREN_DT_T];
    s->lnw = p + off[AAREN_DT_LNW]; s->lnb = p + off[AAREN_DT_LNB]; s->Wh = p + off[AAREN_DT_WH];
    s->bh = p + off[AAREN_DT_BH]; s->mean = p + off[AAREN_DT_MEAN]; s->std = p + off[AAREN_DT_STD];
    return 0;
}

static int clamp_ts(long t) { return t < 0 ? 0 : t >= AAREN_DT_MAX_EP_LEN ? AAREN_DT_MAX_EP_LEN - 1 : (int)t; }

/* One token x [D] = W v + b + T[ts] (v [n]), summed in the order of dt.c's prediction path
 * (step_tokens), so that a stream gives the parallel model's actions. */
static void embed(float *x, const float *W, const float *b, const float *v, int n, const float *Trow, int D) {
    for (int j = 0; j < D; j++) {
        const float *w = W + (size_t)j * n;
        float acc = b[j] + Trow[j];
        for (int k = 0; k < n; k++) acc += w[k] * v[k];
        x[j] = acc;
    }
}

void aaren_dt_stream_tokens(const aaren_dt_stream_spec *s, int k, const double *rtg, const float *obs, const long *t,
                            float *xr, float *xs, float *mu, float *rs, float *sn) {
    const int D = s->d_model, no = s->obs_dim;
    for (int i = 0; i < k; i++) {
        const float *Trow = s->T + (size_t)clamp_ts(t[i]) * D;
        const float r = (float)rtg[i] / s->rtg_scale;
        embed(xr + (size_t)i * D, s->Wr, s->br, &r, 1, Trow, D);
        const float *o = obs + (size_t)i * no;
        for (int c = 0; c < no; c++) sn[c] = (o[c] - s->mean[c]) / s->std[c];
        embed(xs + (size_t)i * D, s->Ws, s->bs, sn, no, Trow, D);
    }
    aaren_layernorm_forward(xr, mu, rs, xr, s->lnw, s->lnb, k, D, s->ln_eps);
    aaren_layernorm_forward(xs, mu, rs, xs, s->lnw, s->lnb, k, D, s->ln_eps);
}

void aaren_dt_stream_actions(const aaren_dt_stream_spec *s, int k, const float *y, const long *t, float *act, float *xa,
                             float *mu, float *rs) {
    const int D = s->d_model, na = s->act_dim;
    for (int i = 0; i < k; i++) {
        const float *h = y + (size_t)i * D;
        float *a = act + (size_t)i * na;
        for (int c = 0; c < na; c++) {   /* tanh(W_h h + b_h) */
            const float *w = s->Wh + (size_t)c * D;
            float z = s->bh[c];
            for (int j = 0; j < D; j++) z += w[j] * h[j];
            a[c] = tanhf(z);
        }
        embed(xa + (size_t)i * D, s->Wa, s->ba, a, na, s->T + (size_t)clamp_ts(t[i]) * D, D);
    }
    aaren_layernorm_forward(xa, mu, rs, xa, s->lnw, s->lnb, k, D, s->ln_eps);
}

/* ---- aaren rl act ---------------------------------------------------------------------- */

static int line_err(char *err, size_t errlen, const char *path, long line, const char *fmt, ...) AAREN_PRINTF(5, 6);
static int line_err(char *err, size_t errlen, const char *path, long line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    aaren_file_line_verr(err, errlen, path, line, fmt, ap);
    va_end(ap);
    return -1;
}

/* Splits a CSV line (no quoting: every field is a number) into its n numbers. */
static int read_row(char *p, const char *path, long line, double *v, int n, char *err, size_t errlen) {
    size_t len = strlen(p);
    while (len && (p[len - 1] == '\n' || p[len - 1] == '\r')) p[--len] = 0;
    int got = 0;
    for (char *f = p;; got++) {
        char *comma = strchr(f, ',');
        if (comma) *comma = 0;
        if (got < n && aaren_parse_double(f, -1e30, 1e30, &v[got]))
            return line_err(err, errlen, path, line, "column %d is '%.40s'; expected a finite number (at most 1e30 in magnitude)",
                            got + 1, f);
        if (!comma) break;
        f = comma + 1;
    }
    if (got + 1 != n)
        return line_err(err, errlen, path, line, "%d columns; the model takes %d (the reward, then %d observation values)",
                        got + 1, n, n - 1);
    return 0;
}

int aaren_dt_act_file(aaren_dt *m, const aaren_dt_stream_spec *s, const char *in_csv, const char *out_csv, double target,
                      long *n_steps, char *err, size_t errlen) {
    *n_steps = 0;
    if (!isfinite(target)) return aaren_errf(err, errlen, "rl act: the target return is not finite");
    const int no = s->obs_dim, na = s->act_dim, w = 1 + no;
    FILE *f = fopen(in_csv, "r");
    if (!f) return aaren_file_err(err, errlen, in_csv, "cannot open: %s", strerror(errno));
    double *v = malloc(sizeof(double) * (size_t)w);
    float *obs = malloc(sizeof(float) * (size_t)(no + na));
    aaren_dt_agent *a = v && obs ? aaren_dt_agent_new(m, AAREN_DT_FULL, err, errlen) : NULL;
    aaren_writer *wr = a ? aaren_writer_open(out_csv, err, errlen) : NULL;
    int rc = wr ? 0 : -1;
    if (!v || !obs) rc = aaren_errf(err, errlen, "rl act: out of memory");
    char *line = NULL;
    size_t cap = 0;
    long ln = 0, t = 0;
    if (!rc) {
        FILE *o = aaren_writer_file(wr);
        aaren_dt_agent_reset(a, target);
        double rtg = target;
        if (getline(&line, &cap, f) < 0) rc = aaren_file_err(err, errlen, in_csv, "empty: expected a header line, then "
                                                             "one row per step (reward, %d observation values)", no);
        else ln = 1;
        fprintf(o, "step,return_to_go");
        for (int c = 0; c < na; c++) fprintf(o, ",a_%d", c + 1);
        fputc('\n', o);
        while (!rc && getline(&line, &cap, f) >= 0) {
            ln++;
            if (line[0] == '\n' || (line[0] == '\r' && line[1] == '\n') || !line[0]) continue;
            if (read_row(line, in_csv, ln, v, w, err, errlen)) { rc = -1; break; }
            if (t >= AAREN_DT_MAX_EP_LEN) {
                rc = line_err(err, errlen, in_csv, ln, "more than %d steps; an episode holds at most that many",
                              AAREN_DT_MAX_EP_LEN);
                break;
            }
            /* the reward of the previous step's action ends that step */
            if (t > 0 && aaren_dt_agent_reward(a, v[0], err, errlen)) { rc = -1; break; }
            if (t > 0) rtg -= v[0];
            for (int c = 0; c < no; c++) {
                obs[c] = (float)v[1 + c];
                if (!isfinite(obs[c])) { rc = line_err(err, errlen, in_csv, ln, "column %d overflows float32", c + 2); break; }
            }
            if (rc || aaren_dt_agent_act(a, obs, obs + no, err, errlen)) { rc = -1; break; }
            fprintf(o, "%ld,%.17g", t, rtg);
            for (int c = 0; c < na; c++) fprintf(o, ",%.9g", (double)obs[no + c]);
            fputc('\n', o);
            t++;
        }
        if (!rc && ferror(f)) rc = aaren_file_err(err, errlen, in_csv, "read error");
        if (!rc && !t) rc = aaren_file_err(err, errlen, in_csv, "no rows after the header");
    }
    free(line);
    fclose(f);
    if (wr) {
        if (rc) aaren_writer_abort(wr);
        else rc = aaren_writer_commit(wr, err, errlen);
    }
    aaren_dt_agent_free(a);
    free(v);
    free(obs);
    if (!rc) *n_steps = t;
    return rc ? -1 : 0;
}
