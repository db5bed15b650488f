/* aaren serve: the HTTP daemon, the stream table and the batching worker.
 *
 * Threads: libmicrohttpd's polling threads (--http-threads, each with its own epoll set and its
 * share of the connections) read requests, parse their JSON, answer what needs no stream
 * (health, metrics, errors) and format answers; one worker thread owns the stream table and the
 * batch stream object. A request that touches a stream is queued for the
 * worker and its connection suspended. The worker takes everything queued (waiting up to
 * batch_wait_us for more when the queue is short), runs the steps of different streams as the
 * rows of one aaren_stream_step_some call per round (a request of R rows takes R rounds),
 * appends the new states to the write-ahead log and syncs it once for the whole group, then
 * resumes the connections. A stream is in at most one round at a time; a second request for a
 * busy stream waits for the next group, so each stream's requests run in arrival order.
 *
 * Memory: one batch stream object of max_streams slots; a stream record (id, position, slot)
 * per stream in all; idle streams are spilled to disk (their state record in a file) when a
 * slot is needed, and loaded back when stepped. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <microhttpd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "aaren.h"
#include "aaren_tasks.h"
#include "base/common.h"
#include "serve/serve.h"
#include "serve/store.h"
#include "tasks/dt_stream.h"
#include "tasks/serving.h"

enum { K_NONE, K_HEALTH, K_METRICS, K_CREATE, K_GET, K_DELETE, K_STEP };
enum { P_RECEIVING, P_QUEUED, P_DONE };

/* Latency histogram bounds (seconds) for the metrics. */
static const double lat_bounds[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0};
#define N_LAT (int)(sizeof lat_bounds / sizeof lat_bounds[0])
static const int err_codes[] = {400, 401, 404, 405, 409, 413, 429, 500, 503};
#define N_ERR (int)(sizeof err_codes / sizeof err_codes[0])

typedef struct req {
    struct req *next;
    struct MHD_Connection *conn;
    int kind, orphan;
    _Atomic int phase;          /* P_*: read by on_completed without the lock */
    uint64_t id;
    int status;                 /* set when answered */
    char msg[320];              /* error message */
    char *body;
    size_t body_len, body_cap;
    int too_big;
    float *in, *out;            /* [n_rows, D] (encoder models) */
    size_t in_cap, out_cap;
    double *tin, *tout;         /* task models: [n_rows, in_w], [n_rows, out_w] */
    size_t tin_cap, tout_cap;
    long long *secs;            /* forecaster: [n_rows] dates as seconds */
    double target;              /* decision model: the new stream's target return */
    size_t secs_cap;
    int n_rows, done;
    long position;
    size_t state_bytes;
    int in_memory;
    char *text;                 /* the answer */
    size_t text_len, text_cap;
    double t0;                  /* when the request was complete */
} req;

typedef struct {
    uint64_t id;
    long pos;
    long disk_pos;              /* position of its spill file; -1 when none */
    int slot;                   /* -1: spilled */
    int busy;                   /* in the group being run */
    int live;
} stream_rec;

typedef struct {
    aaren_serve_options o;
    aaren_model *m;             /* the encoder (owned by the task object of a task model) */
    int D, aar;
    aaren_stream *bs;           /* max_streams slots; NULL for the forecaster (it runs windows) */
    /* the task (tasks/serving.h) */
    int kind;                   /* AAREN_KIND_* */
    aaren_classifier *cls;
    aaren_tpp *tpp;
    aaren_forecaster *fc;
    aaren_dt *dt;               /* decision model, and what its streams need of it */
    aaren_dt_stream_spec dts;
    int tps;                    /* encoder tokens per step: 3 for a decision model (2 without return tokens), else 1 */
    int in_w, out_w;            /* numbers of an input row; doubles of an output row (task models) */
    int C, L, H, c_out, cols;   /* classes or marks; forecaster: lookback, horizon, outputs, columns */
    size_t E;                   /* task state bytes per stream, beside the encoder's */
    unsigned char *extra;       /* [max_streams, E] */
    char *info;                 /* the task's members of /v1/health (JSON text) */
    /* the worker's task scratch */
    float *Xin, *Pr, *Z;        /* [max_batch, in_w], [max_batch, C or H c_out or act_dim], [max_batch, decoder or D] */
    aaren_tpp_prediction *pred; /* [max_batch] */
    double *T, *LT, *Wraw;      /* [max_batch], [max_batch], [max_batch, L, cols] */
    long *NB;
    int *MK;
    int CL, *HM;                /* event model: copy lags; with CL > 1, [max_batch, CL] each row's recent marks */
    long long *Wsecs;           /* [max_batch, L] */
    serve_store *store;
    /* stream table: records in one array (free list through slot), open-addressing index */
    stream_rec *recs;
    int *free_recs, n_free_recs;
    int *index;                 /* [index_cap] record number or -1 */
    size_t index_cap;
    long n_live;
    /* slots */
    int *slot_rec;              /* [max_streams] record or -1 */
    unsigned char *slot_used;   /* clock bits */
    int *free_slots, n_free_slots, hand;
    /* the worker's buffers */
    float *X, *Y;               /* [max_batch, D] */
    int *idx;
    req **who;
    unsigned char *rec_buf;     /* one state record */
    size_t rec_cap;
    void *load_buf;
    size_t load_cap;
    /* queue */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    req *q_head, *q_tail;
    int q_len, stop;
    req *free_reqs;             /* requests for reuse, under fl_mu (the polling threads) */
    pthread_mutex_t fl_mu;
    struct MHD_Daemon *daemon;
    int broken;                 /* the log could not be written: nothing more is accepted */
    /* metrics */
    atomic_ullong n_requests, n_steps, n_step_calls, n_spills, n_loads, n_errors[N_ERR];
    atomic_ullong lat_count[N_LAT + 1], lat_sum_us;
    atomic_long active, total, batch_max;
    atomic_ullong rate_milli;   /* steps/s x 1000 over the last window */
    atomic_llong rate_at;       /* when that window ended (ms since start) */
    double t_start;
} server;



static void set_error(req *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_error(req *r, int status, const char *fmt, ...) {
    r->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
}

static void req_free(req *r);

/* ---- stream table ------------------------------------------------------------------------- */

static size_t hash_id(uint64_t id, size_t cap) {
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t)id & (cap - 1);
}

static int find_rec(const server *sv, uint64_t id) {
    for (size_t h = hash_id(id, sv->index_cap);; h = (h + 1) & (sv->index_cap - 1)) {
        const int r = sv->index[h];
        if (r < 0) return -1;
        if (sv->recs[r].id == id) return r;
    }
}

/* A new record for id (absent); -1 when the table is full. */
static int add_rec(server *sv, uint64_t id) {
    if (!sv->n_free_recs) return -1;
    const int r = sv->free_recs[--sv->n_free_recs];
    sv->recs[r] = (stream_rec){id, 0, -1, -1, 0, 1};
    size_t h = hash_id(id, sv->index_cap);
    while (sv->index[h] >= 0) h = (h + 1) & (sv->index_cap - 1);
    sv->index[h] = r;
    sv->n_live++;
    atomic_store(&sv->total, sv->n_live);
    return r;
}

/* Removes record r from the index (linear probing with backward shift) and frees it. */
static void remove_rec(server *sv, int r) {
    const size_t mask = sv->index_cap - 1;
    size_t h = hash_id(sv->recs[r].id, sv->index_cap);
    while (sv->index[h] != r) h = (h + 1) & mask;
    size_t j = h;
    for (;;) {
        j = (j + 1) & mask;
        const int e = sv->index[j];
        if (e < 0) break;
        const size_t home = hash_id(sv->recs[e].id, sv->index_cap);
        /* e may fill the hole at h when its home is not in (h, j] cyclically */
        if ((j > h) ? (home <= h || home > j) : (home <= h && home > j)) {
            sv->index[h] = e;
            h = j;
        }
    }
    sv->index[h] = -1;
    sv->recs[r].live = 0;
    sv->free_recs[sv->n_free_recs++] = r;
    sv->n_live--;
    atomic_store(&sv->total, sv->n_live);
}

/* A stream's state record: [position u64][task state E bytes][encoder state record (none for
 * the forecaster)]. The state record of the stream in slot s into sv->rec_buf; its length
 * (0 when it cannot be had). */
static size_t take_state(server *sv, int s) {
    const uint64_t pos = (uint64_t)sv->recs[sv->slot_rec[s]].pos;
    memcpy(sv->rec_buf, &pos, 8);
    if (sv->E) memcpy(sv->rec_buf + 8, sv->extra + (size_t)s * sv->E, sv->E);
    size_t n = 8 + sv->E;
    if (sv->bs) {
        const size_t k = aaren_stream_get_state_one(sv->bs, s, sv->rec_buf + n, sv->rec_cap - n);
        if (!k) return 0;
        n += k;
    }
    return n;
}

/* Checks a state record (into slot 0 of probe, a one-slot batch object, for the encoder's
 * part): 0 and its position, or -1 with a message. */
static int check_state(server *sv, aaren_stream *probe, const void *buf, size_t len, long *pos, char *err, size_t errlen) {
    const unsigned char *b = buf;
    if (len < 8 + sv->E || (!sv->bs && len != 8 + sv->E))
        return aaren_errf(err, errlen, "a state record of %zu bytes; a %s stream's is %s%zu", len, aaren_kind_name(sv->kind),
                          sv->bs ? "more than " : "", 8 + sv->E);
    uint64_t p;
    memcpy(&p, b, 8);
    if (p > (uint64_t)1 << 50) return aaren_errf(err, errlen, "a state record at position %llu", (unsigned long long)p);
    if (sv->kind == AAREN_KIND_EVENTS) {
        double last;
        memcpy(&last, b + 8, sizeof last);
        if (!isfinite(last)) return aaren_errf(err, errlen, "an event stream's last time is not finite");
        for (int i = 0; i + 1 < sv->CL; i++) {   /* its recent marks, kept as mark + 1 (0: none) */
            int32_t v;
            memcpy(&v, b + 8 + sizeof last + (size_t)i * sizeof v, sizeof v);
            if (v < 0 || v > sv->C) return aaren_errf(err, errlen, "an event stream's recent mark %d is outside 0..%d", (int)v - 1, sv->C - 1);
        }
    }
    if (sv->kind == AAREN_KIND_DECISION) {
        double rtg;
        memcpy(&rtg, b + 8, sizeof rtg);
        if (!isfinite(rtg)) return aaren_errf(err, errlen, "a decision stream's return-to-go is not finite");
        if (p > AAREN_DT_MAX_EP_LEN) return aaren_errf(err, errlen, "a decision stream at step %llu", (unsigned long long)p);
    }
    if (sv->bs) {
        if (aaren_stream_set_state_one(probe, 0, b + 8 + sv->E, len - 8 - sv->E, err, errlen)) return -1;
        if (aaren_stream_position_one(probe, 0) != (long)p * sv->tps)
            return aaren_errf(err, errlen, "a state record at position %llu holds an encoder state at %ld (%d per step)",
                              (unsigned long long)p, aaren_stream_position_one(probe, 0), sv->tps);
    }
    *pos = (long)p;
    return 0;
}

/* Puts a state record (checked when written, but read back from disk) into slot s. */
static int put_state(server *sv, int s, const void *buf, size_t len, char *err, size_t errlen) {
    const unsigned char *b = buf;
    if (len < 8 + sv->E || (!sv->bs && len != 8 + sv->E))
        return aaren_errf(err, errlen, "a state record of %zu bytes; a %s stream's is %s%zu", len, aaren_kind_name(sv->kind),
                          sv->bs ? "more than " : "", 8 + sv->E);
    if (sv->bs && aaren_stream_set_state_one(sv->bs, s, b + 8 + sv->E, len - 8 - sv->E, err, errlen)) return -1;
    if (sv->E) memcpy(sv->extra + (size_t)s * sv->E, b + 8, sv->E);
    return 0;
}

static void reset_slot(server *sv, int s) {
    if (sv->E) memset(sv->extra + (size_t)s * sv->E, 0, sv->E);
    if (sv->bs) aaren_stream_reset_one(sv->bs, s);
}

static void release_slot(server *sv, int s) {
    sv->slot_rec[s] = -1;
    sv->slot_used[s] = 0;
    sv->free_slots[sv->n_free_slots++] = s;
    atomic_fetch_sub(&sv->active, 1);
}

/* A slot for record r: a free one, else the clock's choice among streams not in the group
 * being run (spilled to disk first). -1 with a message when none can be had. */
static int acquire_slot(server *sv, int r, char *err, size_t errlen) {
    int s = -1;
    if (sv->n_free_slots) {
        s = sv->free_slots[--sv->n_free_slots];
    } else {
        const int n = sv->o.max_streams;
        for (int tries = 0; tries < 2 * n + 1 && s < 0; tries++) {
            const int c = sv->hand;
            sv->hand = (sv->hand + 1) % n;
            const int v = sv->slot_rec[c];
            if (v < 0) { s = c; break; }
            if (sv->recs[v].busy) continue;
            if (sv->slot_used[c]) { sv->slot_used[c] = 0; continue; }
            stream_rec *victim = &sv->recs[v];
            if (victim->disk_pos != victim->pos) {
                const size_t len = take_state(sv, c);
                if (!len) return aaren_errf(err, errlen, "cannot read the state of stream %016llx", (unsigned long long)victim->id);
                if (serve_store_put(sv->store, victim->id, sv->rec_buf, len, err, errlen)) return -1;
                victim->disk_pos = victim->pos;
            }
            victim->slot = -1;
            atomic_fetch_add(&sv->n_spills, 1);
            s = c;
        }
        if (s < 0) return aaren_errf(err, errlen, "every one of the %d in-memory streams is busy", n);
        atomic_fetch_sub(&sv->active, 1);   /* the victim left memory */
    }
    sv->slot_rec[s] = r;
    sv->slot_used[s] = 1;
    sv->recs[r].slot = s;
    atomic_fetch_add(&sv->active, 1);
    return s;
}

/* Brings record r into memory (from its spill file). */
static int ensure_loaded(server *sv, int r, char *err, size_t errlen) {
    stream_rec *rec = &sv->recs[r];
    if (rec->slot >= 0) { sv->slot_used[rec->slot] = 1; return 0; }
    size_t len = 0;
    if (serve_store_get(sv->store, rec->id, &sv->load_buf, &sv->load_cap, &len, err, errlen)) return -1;
    const int s = acquire_slot(sv, r, err, errlen);
    if (s < 0) return -1;
    if (put_state(sv, s, sv->load_buf, len, err, errlen)) {
        release_slot(sv, s);
        rec->slot = -1;
        return -1;
    }
    atomic_fetch_add(&sv->n_loads, 1);
    return 0;
}

/* ---- the worker --------------------------------------------------------------------------- */

static uint64_t new_id(server *sv) {
    for (;;) {
        uint64_t id = 0;
        if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id) {
            static atomic_ullong counter;
            id = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL ^ atomic_fetch_add(&counter, 1);
        }
        if (find_rec(sv, id) < 0) return id;
    }
}

static void do_create(server *sv, req *r, int *logged) {
    char err[256];
    if (sv->n_live >= sv->o.max_total) {
        set_error(r, 429, "over capacity: %ld streams exist (--max-total); delete some first", sv->n_live);
        return;
    }
    const uint64_t id = new_id(sv);
    const int k = add_rec(sv, id);
    if (k < 0) { set_error(r, 429, "over capacity: the stream table is full"); return; }
    const int s = acquire_slot(sv, k, err, sizeof err);
    if (s < 0) {
        remove_rec(sv, k);
        set_error(r, 503, "no room for a new stream: %s", err);
        return;
    }
    reset_slot(sv, s);
    if (sv->kind == AAREN_KIND_DECISION) memcpy(sv->extra + (size_t)s * sv->E, &r->target, sizeof(double));
    if (serve_store_durable(sv->store)) {
        const size_t len = take_state(sv, s);
        if (serve_store_log_state(sv->store, id, sv->rec_buf, len)) {
            release_slot(sv, s);
            remove_rec(sv, k);
            set_error(r, 503, "out of memory for the log");
            return;
        }
        *logged = 1;
    }
    r->id = id;
    r->status = 201;
}

static void do_get(server *sv, req *r) {
    const int k = find_rec(sv, r->id);
    if (k < 0) { set_error(r, 404, "no stream %016llx", (unsigned long long)r->id); return; }
    const stream_rec *rec = &sv->recs[k];
    r->position = rec->pos;
    r->in_memory = rec->slot >= 0;
    /* Aaren: the same for every stream; Transformer: the KV cache of pos tokens; the task's own */
    r->state_bytes = sv->E + (!sv->bs ? 0 : sv->aar ? aaren_stream_state_bytes_one(sv->bs, 0)
                              : (size_t)rec->pos * sv->tps * 2 * (size_t)aaren_model_config(sv->m)->n_layers * sv->D * sizeof(float));
    r->status = 200;
}

static void do_delete(server *sv, req *r, int *logged) {
    const int k = find_rec(sv, r->id);
    if (k < 0) { set_error(r, 404, "no stream %016llx", (unsigned long long)r->id); return; }
    if (serve_store_log_delete(sv->store, r->id)) { set_error(r, 503, "out of memory for the log"); return; }
    *logged = 1;
    stream_rec *rec = &sv->recs[k];
    r->position = rec->pos;
    if (rec->slot >= 0) release_slot(sv, rec->slot);
    if (rec->disk_pos >= 0) serve_store_drop(sv->store, rec->id);
    remove_rec(sv, k);
    r->status = 200;
}

/* ---- the task's work around the encoder's batched step ------------------------------------ */

/* Row j of the round: request r's next row for the stream rec. */
static void task_in(server *sv, const req *r, const stream_rec *rec, int j) {
    const int s = rec->slot;
    const double *x = r->tin ? r->tin + (size_t)r->done * sv->in_w : NULL;
    switch (sv->kind) {
    case AAREN_KIND_ENCODER:
        memcpy(sv->X + (size_t)j * sv->D, r->in + (size_t)r->done * sv->D, sizeof(float) * (size_t)sv->D);
        break;
    case AAREN_KIND_CLASSIFY:
        for (int c = 0; c < sv->in_w; c++) sv->Xin[(size_t)j * sv->in_w + c] = (float)x[c];   /* as a .ts file is read */
        break;
    case AAREN_KIND_EVENTS:
        sv->T[j] = x[0];
        sv->MK[j] = sv->C > 0 ? (int)x[1] : 0;
        memcpy(&sv->LT[j], sv->extra + (size_t)s * sv->E, sizeof(double));
        sv->NB[j] = rec->pos;
        if (sv->CL > 1) {   /* the row's mark, then the stream's last CL - 1 (kept as mark + 1, 0: none) */
            int *h = sv->HM + (size_t)j * sv->CL;
            const unsigned char *e = sv->extra + (size_t)s * sv->E + sizeof(double);
            h[0] = sv->MK[j];
            for (int i = 1; i < sv->CL; i++) {
                int32_t v;
                memcpy(&v, e + (size_t)(i - 1) * sizeof v, sizeof v);
                h[i] = (int)v - 1;
            }
        }
        break;
    case AAREN_KIND_DECISION: {
        /* the reward of the previous step's action (none before the first) leaves the return-to-go */
        double rtg;
        memcpy(&rtg, sv->extra + (size_t)s * sv->E, sizeof rtg);
        sv->T[j] = rec->pos > 0 ? rtg - x[0] : rtg;
        for (int c = 0; c < sv->dts.obs_dim; c++) sv->Xin[(size_t)j * sv->dts.obs_dim + c] = (float)x[1 + c];
        sv->NB[j] = rec->pos;
        break;
    }
    case AAREN_KIND_FORECAST: {
        /* the stream's window: dates [L] then rows [L, cols], a ring at position pos mod L */
        unsigned char *e = sv->extra + (size_t)s * sv->E;
        long long *secs = (long long *)e;
        double *rows = (double *)(e + sizeof(long long) * (size_t)sv->L);
        const long at = rec->pos % sv->L;
        secs[at] = r->secs[r->done];
        memcpy(rows + (size_t)at * sv->cols, x, sizeof(double) * (size_t)sv->cols);
        if (rec->pos + 1 < sv->L) break;
        for (int t = 0; t < sv->L; t++) {   /* oldest first */
            const long q = (rec->pos + 1 + t) % sv->L;
            sv->Wsecs[(size_t)j * sv->L + t] = secs[q];
            memcpy(sv->Wraw + ((size_t)j * sv->L + t) * sv->cols, rows + (size_t)q * sv->cols, sizeof(double) * (size_t)sv->cols);
        }
        break;
    }
    }
}

/* The round's n rows through the model. */
static int task_step(server *sv, int n, char *err, size_t errlen) {
    switch (sv->kind) {
    case AAREN_KIND_CLASSIFY: aaren_classifier_stream_embed(sv->cls, sv->Xin, n, sv->X); break;
    case AAREN_KIND_EVENTS: aaren_tpp_stream_tokens(sv->tpp, n, sv->T, sv->LT, sv->NB, sv->MK, sv->X); break;
    case AAREN_KIND_FORECAST: {
        /* only the rows whose stream has a full window are forecast; pack them */
        int m = 0;
        for (int j = 0; j < n; j++) {
            const stream_rec *rec = &sv->recs[sv->slot_rec[sv->idx[j]]];
            sv->NB[j] = rec->pos + 1 >= sv->L ? m : -1;
            if (sv->NB[j] < 0) continue;
            if (m != j) {
                memmove(sv->Wraw + (size_t)m * sv->L * sv->cols, sv->Wraw + (size_t)j * sv->L * sv->cols,
                        sizeof(double) * (size_t)sv->L * sv->cols);
                memmove(sv->Wsecs + (size_t)m * sv->L, sv->Wsecs + (size_t)j * sv->L, sizeof(long long) * (size_t)sv->L);
            }
            m++;
        }
        return m ? aaren_forecaster_forecast_windows(sv->fc, sv->Wraw, sv->Wsecs, m, sv->Pr, err, errlen) : 0;
    }
    case AAREN_KIND_DECISION: {
        /* three tokens per step: return-to-go (not for a model without them), observation (its
         * output gives the action), action */
        float *mu = (float *)sv->LT, *rs = mu + n, *sn = (float *)sv->Wraw;   /* scratch */
        aaren_dt_stream_tokens(&sv->dts, n, sv->T, sv->Xin, sv->NB, sv->X, sv->Z, mu, rs, sn);
        if ((!sv->dts.no_returns && aaren_stream_step_some(sv->bs, sv->idx, n, sv->X, sv->Y, err, errlen)) ||
            aaren_stream_step_some(sv->bs, sv->idx, n, sv->Z, sv->Y, err, errlen))
            return -1;
        aaren_dt_stream_actions(&sv->dts, n, sv->Y, sv->NB, sv->Pr, sv->X, mu, rs);
        return aaren_stream_step_some(sv->bs, sv->idx, n, sv->X, sv->Y, err, errlen);
    }
    default: break;
    }
    if (aaren_stream_step_some(sv->bs, sv->idx, n, sv->X, sv->Y, err, errlen)) return -1;
    if (sv->kind == AAREN_KIND_CLASSIFY) aaren_classifier_stream_proba(sv->cls, sv->Y, n, sv->Pr);
    if (sv->kind == AAREN_KIND_EVENTS) aaren_tpp_stream_decode(sv->tpp, sv->Y, n, sv->CL > 1 ? sv->HM : sv->MK, sv->Z, sv->pred, sv->C ? sv->Pr : NULL);
    return 0;
}

/* Row j of the round's outputs into request r's answer (and the stream's task state). */
static void task_out(server *sv, req *r, const stream_rec *rec, int j) {
    double *o = r->tout ? r->tout + (size_t)r->done * sv->out_w : NULL;
    switch (sv->kind) {
    case AAREN_KIND_ENCODER:
        memcpy(r->out + (size_t)r->done * sv->D, sv->Y + (size_t)j * sv->D, sizeof(float) * (size_t)sv->D);
        break;
    case AAREN_KIND_CLASSIFY:
        for (int c = 0; c < sv->C; c++) o[c] = sv->Pr[(size_t)j * sv->C + c];
        break;
    case AAREN_KIND_EVENTS: {
        const aaren_tpp_prediction *p = &sv->pred[j];
        o[0] = p->mean; o[1] = p->median; o[2] = p->q10; o[3] = p->q90; o[4] = p->mark; o[5] = p->p_mark;
        for (int c = 0; c < sv->C; c++) o[6 + c] = sv->Pr[(size_t)j * sv->C + c];
        memcpy(sv->extra + (size_t)rec->slot * sv->E, &sv->T[j], sizeof(double));   /* the last event's time */
        for (int i = 0; i + 1 < sv->CL; i++) {   /* and its recent marks, for the next event's copy logits */
            const int32_t v = (int32_t)sv->HM[(size_t)j * sv->CL + i] + 1;
            memcpy(sv->extra + (size_t)rec->slot * sv->E + sizeof(double) + (size_t)i * sizeof v, &v, sizeof v);
        }
        break;
    }
    case AAREN_KIND_DECISION:   /* [act_dim actions][the return-to-go they were conditioned on] */
        for (int c = 0; c < sv->dts.act_dim; c++) o[c] = sv->Pr[(size_t)j * sv->dts.act_dim + c];
        o[sv->dts.act_dim] = sv->T[j];
        memcpy(sv->extra + (size_t)rec->slot * sv->E, &sv->T[j], sizeof(double));
        break;
    case AAREN_KIND_FORECAST: {
        /* [1 or 0: a forecast][the last date][the step to the next][pred_len x d_out values] */
        const long long *secs = (const long long *)(sv->extra + (size_t)rec->slot * sv->E);
        const long at = rec->pos % sv->L;
        o[0] = sv->NB[j] >= 0;
        o[1] = (double)secs[at];
        o[2] = rec->pos > 0 ? (double)(secs[at] - secs[(rec->pos - 1) % sv->L]) : 0.0;
        const size_t per = (size_t)sv->H * sv->c_out;
        for (size_t i = 0; i < per; i++) o[3 + i] = o[0] ? sv->Pr[(size_t)sv->NB[j] * per + i] : 0.0;
        break;
    }
    }
}

/* Runs a group of requests (FIFO); requests that must wait are returned in order. */
static req *run_group(server *sv, req *list) {
    char err[320];
    int logged = 0;
    req *defer_h = NULL, *defer_t = NULL, *steps_h = NULL, *steps_t = NULL, *answered = NULL;
    int n_steps = 0;
#define DEFER(r) do { (r)->next = NULL; if (defer_t) defer_t->next = (r); else defer_h = (r); defer_t = (r); } while (0)
#define ANSWER(r) do { (r)->next = answered; answered = (r); } while (0)
    for (req *r = list, *nx; r; r = nx) {
        nx = r->next;
        if (sv->broken) { set_error(r, 503, "the server could not write its state folder; restart it"); ANSWER(r); continue; }
        if (r->kind == K_CREATE) { do_create(sv, r, &logged); ANSWER(r); continue; }
        const int k = find_rec(sv, r->id);
        if (k >= 0 && sv->recs[k].busy) { DEFER(r); continue; }
        if (r->kind == K_GET) { do_get(sv, r); ANSWER(r); continue; }
        if (r->kind == K_DELETE) { do_delete(sv, r, &logged); ANSWER(r); continue; }
        /* a step */
        if (k < 0) { set_error(r, 404, "no stream %016llx", (unsigned long long)r->id); ANSWER(r); continue; }
        if (n_steps >= sv->o.max_batch) { DEFER(r); continue; }
        sv->recs[k].busy = 1;
        r->done = 0;
        r->status = 0;
        r->next = NULL;
        if (steps_t) steps_t->next = r; else steps_h = r;
        steps_t = r;
        n_steps++;
    }
    /* every stepped stream into memory, and its request checked against the stream's state */
    for (req *r = steps_h; r; r = r->next) {
        const int k = find_rec(sv, r->id);
        if (ensure_loaded(sv, k, err, sizeof err)) {
            set_error(r, 500, "stream %016llx could not be loaded: %s", (unsigned long long)r->id, err);
            continue;
        }
        const stream_rec *rec = &sv->recs[k];
        if (sv->kind == AAREN_KIND_EVENTS && rec->pos > 0) {
            double last;
            memcpy(&last, sv->extra + (size_t)rec->slot * sv->E, sizeof last);
            if (r->tin[0] < last)
                set_error(r, 400, "inputs row 0: time %.17g is before the stream's last event at %.17g (times must not "
                          "decrease); no row was applied", r->tin[0], last);
        }
        if (sv->kind == AAREN_KIND_FORECAST && rec->pos > 0) {
            long long last;
            memcpy(&last, sv->extra + (size_t)rec->slot * sv->E + (size_t)((rec->pos - 1) % sv->L) * sizeof last,
                   sizeof last);
            if (r->secs[0] <= last)
                set_error(r, 400, "dates[0] is not after the stream's last date (dates must increase); no row was applied");
        }
    }
    /* rounds: one row of every request that has rows left */
    const long cap = sv->o.max_tokens;
    for (;;) {
        int n = 0;
        for (req *r = steps_h; r; r = r->next) {
            if (r->status || r->done >= r->n_rows) continue;
            const stream_rec *rec = &sv->recs[find_rec(sv, r->id)];
            if (sv->bs && !sv->aar && (rec->pos + 1) * sv->tps > cap) {
                set_error(r, 409, "the stream's KV cache is full at %ld tokens (--max-tokens)%s; %d of %d rows were applied",
                          cap, sv->tps == 3 ? ", three per step" : sv->tps == 2 ? ", two per step" : "", r->done, r->n_rows);
                continue;
            }
            if (sv->kind == AAREN_KIND_DECISION && rec->pos >= AAREN_DT_MAX_EP_LEN) {
                set_error(r, 409, "the episode has its %d steps (the model's longest); %d of %d rows were applied",
                          AAREN_DT_MAX_EP_LEN, r->done, r->n_rows);
                continue;
            }
            sv->idx[n] = rec->slot;
            task_in(sv, r, rec, n);
            sv->who[n++] = r;
        }
        if (!n) break;
        if (task_step(sv, n, err, sizeof err)) {
            for (int j = 0; j < n; j++) set_error(sv->who[j], 500, "step failed: %s", err);
            break;
        }
        atomic_fetch_add(&sv->n_steps, (unsigned long long)n);
        atomic_fetch_add(&sv->n_step_calls, 1);
        if (n > atomic_load(&sv->batch_max)) atomic_store(&sv->batch_max, n);
        for (int j = 0; j < n; j++) {
            req *r = sv->who[j];
            stream_rec *rec = &sv->recs[find_rec(sv, r->id)];
            task_out(sv, r, rec, j);
            rec->pos++;
            r->done++;
        }
    }
    /* the new states into the log */
    for (req *r = steps_h; r; r = r->next) {
        const int k = find_rec(sv, r->id);
        stream_rec *rec = &sv->recs[k];
        r->position = rec->pos;
        if (r->done > 0 && serve_store_durable(sv->store)) {
            const size_t len = take_state(sv, rec->slot);
            if (!len || serve_store_log_state(sv->store, rec->id, sv->rec_buf, len)) {
                sv->broken = 1;
                set_error(r, 503, "the state of stream %016llx could not be logged", (unsigned long long)rec->id);
            }
            logged = 1;
        }
        if (!r->status) r->status = 200;
    }
    if (logged && serve_store_commit(sv->store, err, sizeof err)) {
        sv->broken = 1;
        fprintf(stderr, "aaren serve: %s; no further request is accepted\n", err);
        for (req *r = answered; r; r = r->next)
            if (r->status < 300) set_error(r, 503, "state not saved: %s", err);
        for (req *r = steps_h; r; r = r->next)
            if (r->status < 300) set_error(r, 503, "state not saved: %s", err);
    }
    for (req *r = steps_h, *nx; r; r = nx) {
        nx = r->next;
        sv->recs[find_rec(sv, r->id)].busy = 0;
        ANSWER(r);
    }
    /* compaction: the snapshot of every stream in memory, then an empty log */
    if (serve_store_durable(sv->store) && !sv->broken && serve_store_log_bytes(sv->store) > (size_t)sv->o.wal_limit) {
        serve_snapshot *w = serve_store_snapshot_begin(sv->store, err, sizeof err);
        int rc = w ? 0 : -1;
        for (int s = 0; s < sv->o.max_streams && !rc; s++) {
            const int k = sv->slot_rec[s];
            if (k < 0) continue;
            const size_t len = take_state(sv, s);
            rc = serve_store_snapshot_add(w, sv->recs[k].id, sv->rec_buf, len);
        }
        if (w) rc = serve_store_snapshot_commit(sv->store, w, err, sizeof err) || rc;
        if (rc) fprintf(stderr, "aaren serve: compaction failed (the log keeps growing): %s\n", err);
    }
    /* answers: marked done under one lock (not one per request: the polling threads queue under
     * it), then the connections resumed outside it (libmicrohttpd takes its own locks). A
     * suspended connection is not polled, so it cannot complete before it is resumed. */
    req *orphans = NULL, *resume = NULL;
    pthread_mutex_lock(&sv->mu);
    for (req *r = answered, *nx; r; r = nx) {
        nx = r->next;
        r->phase = P_DONE;
        if (r->orphan) { r->next = orphans; orphans = r; }
        else { r->next = resume; resume = r; }
    }
    pthread_mutex_unlock(&sv->mu);
    for (req *r = orphans, *nx; r; r = nx) {
        nx = r->next;
        req_free(r);
    }
    for (req *r = resume, *nx; r; r = nx) {
        nx = r->next;
        MHD_resume_connection(r->conn);
    }
    return defer_h;
#undef DEFER
#undef ANSWER
}

static void *worker(void *arg) {
    server *sv = arg;
#ifdef _OPENMP
    /* the steps' threads: a thread's own setting (this one's, not the main thread's). Between
     * the many short parallel regions of a step an idle OpenMP thread spins, taking a core
     * from the HTTP thread; one thread (the default) leaves that core to it. */
    omp_set_num_threads(sv->o.step_threads);
#endif
    long long last_ms = 0;
    unsigned long long last_steps = 0;
    pthread_mutex_lock(&sv->mu);
    for (;;) {
        while (!sv->q_head && !sv->stop) pthread_cond_wait(&sv->cv, &sv->mu);
        if (!sv->q_head && sv->stop) break;
        if (sv->q_len < sv->o.max_batch && sv->o.batch_wait_us > 0) {
            struct timespec dl;
            clock_gettime(CLOCK_REALTIME, &dl);
            dl.tv_nsec += (long)sv->o.batch_wait_us * 1000L;
            while (dl.tv_nsec >= 1000000000L) { dl.tv_nsec -= 1000000000L; dl.tv_sec++; }
            while (sv->q_len < sv->o.max_batch && !sv->stop)
                if (pthread_cond_timedwait(&sv->cv, &sv->mu, &dl) == ETIMEDOUT) break;
        }
        req *list = sv->q_head;
        sv->q_head = sv->q_tail = NULL;
        sv->q_len = 0;
        pthread_mutex_unlock(&sv->mu);
        req *rest = run_group(sv, list);
        /* steps per second over windows of at least a second */
        const long long ms = (long long)((aaren_now_s() - sv->t_start) * 1000);
        if (ms - last_ms >= 1000) {
            const unsigned long long st = atomic_load(&sv->n_steps);
            atomic_store(&sv->rate_milli, (st - last_steps) * 1000000ULL / (unsigned long long)(ms - last_ms));
            atomic_store(&sv->rate_at, ms);
            last_ms = ms;
            last_steps = st;
        }
        pthread_mutex_lock(&sv->mu);
        if (rest) {   /* waiting requests go first next time */
            int n = 0;
            req *t = rest;
            for (; t->next; t = t->next) n++;
            t->next = sv->q_head;
            if (!sv->q_head) sv->q_tail = t;
            sv->q_head = rest;
            sv->q_len += n + 1;
        }
    }
    pthread_mutex_unlock(&sv->mu);
    return NULL;
}

/* ---- HTTP ------------------------------------------------------------------------------- */

static void req_free(req *r) {
    free(r->body);
    free(r->in);
    free(r->out);
    free(r->tin);
    free(r->tout);
    free(r->secs);
    free(r->text);
    free(r);
}

static req *req_get(server *sv) {
    pthread_mutex_lock(&sv->fl_mu);
    req *r = sv->free_reqs;
    if (r) sv->free_reqs = r->next;
    pthread_mutex_unlock(&sv->fl_mu);
    if (!r && !(r = calloc(1, sizeof *r))) return NULL;
    r->next = NULL;
    r->kind = K_NONE;
    r->phase = P_RECEIVING;
    r->orphan = r->too_big = 0;
    r->status = 0;
    r->msg[0] = 0;
    r->body_len = r->text_len = 0;
    r->n_rows = r->done = 0;
    return r;
}

static void req_put(server *sv, req *r) {
    pthread_mutex_lock(&sv->fl_mu);
    r->next = sv->free_reqs;
    sv->free_reqs = r;
    pthread_mutex_unlock(&sv->fl_mu);
}

static void count_error(server *sv, int status) {
    for (int i = 0; i < N_ERR; i++)
        if (err_codes[i] == status) atomic_fetch_add(&sv->n_errors[i], 1);
}

/* Appends s as a JSON string body (quotes and escapes; bytes outside ASCII become '?'). */
static void json_string(char *out, size_t cap, const char *s) {
    size_t o = 0;
    if (cap < 3) return;
    out[o++] = '"';
    for (; *s && o + 8 < cap; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { out[o++] = '\\'; out[o++] = (char)c; }
        else if (c < 0x20) o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        else out[o++] = c < 0x80 ? (char)c : '?';
    }
    out[o++] = '"';
    out[o] = 0;
}

/* text is copied, except with keep set: then it must stay as it is until the request is
 * completed (a request's own answer buffer, reused only after on_completed). */
static enum MHD_Result send_text_keep(struct MHD_Connection *c, int status, const char *text, size_t len, const char *type,
                                      int keep) {
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)text, keep ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    const enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result send_text(struct MHD_Connection *c, int status, const char *text, size_t len, const char *type) {
    return send_text_keep(c, status, text, len, type, 0);
}

static enum MHD_Result send_error(server *sv, struct MHD_Connection *c, int status, const char *msg) {
    char text[1024], quoted[800];
    json_string(quoted, sizeof quoted, msg);
    const int n = snprintf(text, sizeof text, "{\"error\":%s,\"status\":%d}", quoted, status);
    count_error(sv, status);
    return send_text(c, status, text, (size_t)n, "application/json");
}

static size_t resident_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
        fclose(f);
    }
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static enum MHD_Result send_metrics(server *sv, struct MHD_Connection *c) {
    char buf[8192];
    size_t o = 0;
#define OUT(...) do { if (o < sizeof buf) o += (size_t)snprintf(buf + o, sizeof buf - o, __VA_ARGS__); } while (0)
    OUT("# HELP aaren_requests_total HTTP requests received.\n# TYPE aaren_requests_total counter\n"
        "aaren_requests_total %llu\n", (unsigned long long)atomic_load(&sv->n_requests));
    OUT("# HELP aaren_errors_total Requests answered with an error, by status.\n# TYPE aaren_errors_total counter\n");
    for (int i = 0; i < N_ERR; i++)
        OUT("aaren_errors_total{status=\"%d\"} %llu\n", err_codes[i], (unsigned long long)atomic_load(&sv->n_errors[i]));
    OUT("# HELP aaren_streams_active Streams held in memory.\n# TYPE aaren_streams_active gauge\n"
        "aaren_streams_active %ld\n", atomic_load(&sv->active));
    OUT("# HELP aaren_streams Streams that exist (in memory or spilled to disk).\n# TYPE aaren_streams gauge\n"
        "aaren_streams %ld\n", atomic_load(&sv->total));
    OUT("# HELP aaren_steps_total Tokens stepped.\n# TYPE aaren_steps_total counter\naaren_steps_total %llu\n",
        (unsigned long long)atomic_load(&sv->n_steps));
    OUT("# HELP aaren_batched_steps_total Batched step calls (each steps many streams).\n"
        "# TYPE aaren_batched_steps_total counter\naaren_batched_steps_total %llu\n",
        (unsigned long long)atomic_load(&sv->n_step_calls));
    OUT("# HELP aaren_batch_rows_max Most streams stepped by one batched call.\n# TYPE aaren_batch_rows_max gauge\n"
        "aaren_batch_rows_max %ld\n", atomic_load(&sv->batch_max));
    OUT("# HELP aaren_spills_total Streams written to disk to free memory.\n# TYPE aaren_spills_total counter\n"
        "aaren_spills_total %llu\n", (unsigned long long)atomic_load(&sv->n_spills));
    OUT("# HELP aaren_reloads_total Spilled streams loaded back.\n# TYPE aaren_reloads_total counter\n"
        "aaren_reloads_total %llu\n", (unsigned long long)atomic_load(&sv->n_loads));
    OUT("# HELP aaren_step_latency_seconds Time from a step request's arrival to its answer.\n"
        "# TYPE aaren_step_latency_seconds histogram\n");
    unsigned long long cum = 0;
    for (int i = 0; i <= N_LAT; i++) {
        cum += atomic_load(&sv->lat_count[i]);
        if (i < N_LAT) OUT("aaren_step_latency_seconds_bucket{le=\"%g\"} %llu\n", lat_bounds[i], cum);
        else OUT("aaren_step_latency_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    }
    OUT("aaren_step_latency_seconds_sum %.6f\naaren_step_latency_seconds_count %llu\n",
        1e-6 * (double)atomic_load(&sv->lat_sum_us), cum);
    const long long ms = (long long)((aaren_now_s() - sv->t_start) * 1000);
    const double rate = ms - atomic_load(&sv->rate_at) > 2500 ? 0 : 1e-3 * (double)atomic_load(&sv->rate_milli);
    OUT("# HELP aaren_steps_per_second Steps per second over the last second of work.\n"
        "# TYPE aaren_steps_per_second gauge\naaren_steps_per_second %.1f\n", rate);
    OUT("# HELP aaren_resident_memory_bytes Resident memory of the server.\n"
        "# TYPE aaren_resident_memory_bytes gauge\naaren_resident_memory_bytes %zu\n", resident_bytes());
#undef OUT
    return send_text(c, 200, buf, o < sizeof buf ? o : sizeof buf - 1, "text/plain; version=0.0.4");
}

/* Which endpoint url and method name; 0, or an HTTP status with a message. */
static int route(const char *url, const char *method, req *r, char *msg, size_t len) {
    const int get = !strcmp(method, "GET"), post = !strcmp(method, "POST"), del = !strcmp(method, "DELETE");
    if (!strcmp(url, "/v1/health")) { r->kind = K_HEALTH; return get ? 0 : (aaren_errf(msg, len, "/v1/health takes GET"), 405); }
    if (!strcmp(url, "/v1/metrics")) { r->kind = K_METRICS; return get ? 0 : (aaren_errf(msg, len, "/v1/metrics takes GET"), 405); }
    if (!strcmp(url, "/v1/streams")) { r->kind = K_CREATE; return post ? 0 : (aaren_errf(msg, len, "/v1/streams takes POST"), 405); }
    if (!strncmp(url, "/v1/streams/", 12)) {
        const char *p = url + 12, *slash = strchr(p, '/');
        const size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (aaren_serve_parse_id(p, n, &r->id)) return aaren_errf(msg, len, "no such stream (ids are 16 hex digits)"), 404;
        if (!slash) {
            if (get) { r->kind = K_GET; return 0; }
            if (del) { r->kind = K_DELETE; return 0; }
            return aaren_errf(msg, len, "/v1/streams/<id> takes GET or DELETE"), 405;
        }
        if (!strcmp(slash, "/step")) { r->kind = K_STEP; return post ? 0 : (aaren_errf(msg, len, "/v1/streams/<id>/step takes POST"), 405); }
    }
    return aaren_errf(msg, len, "no endpoint %.100s", url), 404;
}

static int authorised(const server *sv, struct MHD_Connection *c) {
    if (!sv->o.token) return 1;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *given = "";
    if (h && !strncmp(h, "Bearer ", 7)) given = h + 7;
    return aaren_serve_token_equal(given, strlen(given), sv->o.token, strlen(sv->o.token));
}

/* What a task's step request must be beyond its shape, checked before it is queued. */
static int task_check(const server *sv, const req *r, char *msg, size_t len) {
    if (sv->kind == AAREN_KIND_EVENTS)
        for (int i = 1; i < r->n_rows; i++)
            if (r->tin[(size_t)i * sv->in_w] < r->tin[(size_t)(i - 1) * sv->in_w])
                return aaren_errf(msg, len, "inputs row %d: time %.17g is before row %d's %.17g (times must not decrease)", i,
                                  r->tin[(size_t)i * sv->in_w], i - 1, r->tin[(size_t)(i - 1) * sv->in_w]);
    return 0;
}

/* Appends printf text to the answer buffer; -1 when out of memory. */
static int appendf(req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int appendf(req *r, const char *fmt, ...) {
    for (;;) {
        const size_t room = r->text_cap - r->text_len;
        va_list ap;
        va_start(ap, fmt);
        const int n = r->text ? vsnprintf(r->text + r->text_len, room, fmt, ap) : -2;
        va_end(ap);
        if (n >= 0 && (size_t)n < room) { r->text_len += (size_t)n; return 0; }
        const size_t nc = r->text_cap ? 2 * r->text_cap + (n > 0 ? (size_t)n : 0) : 4096;
        char *p = realloc(r->text, nc);
        if (!p) return -1;
        r->text = p;
        r->text_cap = nc;
    }
}

/* A number of an answer: 9 significant digits (a float32 reads back the same), 17 for a
 * double; null when not finite. */
static int append_num(req *r, double v, int digits) {
    if (!isfinite(v)) return appendf(r, "null");
    if (digits != 9) return appendf(r, "%.*g", digits, v);
    char b[24];
    b[aaren_serve_put_float(b, (float)v)] = 0;   /* a float32's value */
    return appendf(r, "%s", b);
}

/* The JSON answer of a task model's step. */
static int format_task(server *sv, req *r) {
    int e = 0;
    r->text_len = 0;
    if (sv->kind == AAREN_KIND_CLASSIFY) {
        e |= appendf(r, "{\"probabilities\":[");
        for (int i = 0; i < r->n_rows; i++) {
            const double *o = r->tout + (size_t)i * sv->out_w;
            e |= appendf(r, "%s[", i ? "," : "");
            for (int c = 0; c < sv->C; c++) {
                if (c) e |= appendf(r, ",");
                e |= append_num(r, o[c], 9);
            }
            e |= appendf(r, "]");
        }
        e |= appendf(r, "],\"predicted\":[");
        for (int i = 0; i < r->n_rows; i++) {
            const double *o = r->tout + (size_t)i * sv->out_w;
            int arg = 0;
            for (int c = 1; c < sv->C; c++) if (o[c] > o[arg]) arg = c;
            char q[800];
            json_string(q, sizeof q, aaren_classifier_label(sv->cls, arg));
            e |= appendf(r, "%s%s", i ? "," : "", q);
        }
    } else if (sv->kind == AAREN_KIND_EVENTS) {
        static const char *const keys[] = {"mean", "median", "q10", "q90"};
        e |= appendf(r, "{\"predictions\":[");
        for (int i = 0; i < r->n_rows; i++) {
            const double *o = r->tout + (size_t)i * sv->out_w;
            e |= appendf(r, "%s{", i ? "," : "");
            for (int k = 0; k < 4; k++) {
                e |= appendf(r, "\"%s\":", keys[k]);
                e |= append_num(r, o[k], 17);
                e |= appendf(r, ",");
            }
            e |= appendf(r, "\"mark\":%d,\"p_mark\":", (int)o[4]);
            e |= append_num(r, o[5], 17);
            if (sv->C > 0) {
                e |= appendf(r, ",\"mark_probs\":[");
                for (int c = 0; c < sv->C; c++) {
                    if (c) e |= appendf(r, ",");
                    e |= append_num(r, o[6 + c], 9);
                }
                e |= appendf(r, "]");
            }
            e |= appendf(r, "}");
        }
    } else if (sv->kind == AAREN_KIND_DECISION) {
        const int na = sv->dts.act_dim;
        e |= appendf(r, "{\"actions\":[");
        for (int i = 0; i < r->n_rows; i++) {
            const double *o = r->tout + (size_t)i * sv->out_w;
            e |= appendf(r, "%s[", i ? "," : "");
            for (int c = 0; c < na; c++) {
                if (c) e |= appendf(r, ",");
                e |= append_num(r, o[c], 9);
            }
            e |= appendf(r, "]");
        }
        e |= appendf(r, "],\"returns_to_go\":[");
        for (int i = 0; i < r->n_rows; i++) {
            if (i) e |= appendf(r, ",");
            e |= append_num(r, r->tout[(size_t)i * sv->out_w + na], 17);
        }
    } else {   /* the forecaster */
        e |= appendf(r, "{\"forecasts\":[");
        for (int i = 0; i < r->n_rows; i++) {
            const double *o = r->tout + (size_t)i * sv->out_w;
            if (i) e |= appendf(r, ",");
            if (!o[0]) { e |= appendf(r, "null"); continue; }
            e |= appendf(r, "{\"dates\":[");
            const long long last = (long long)o[1], step = (long long)o[2];
            for (int h = 0; h < sv->H; h++) {
                aaren_ts_date d;
                aaren_ts_date_from_seconds(last + step * (h + 1), &d);
                if (step > 0)
                    e |= appendf(r, "%s\"%04d-%02d-%02d %02d:%02d:%02d\"", h ? "," : "", d.year, d.month, d.day, d.hour,
                                 d.minute, d.second);
                else e |= appendf(r, "%snull", h ? "," : "");
            }
            e |= appendf(r, "],\"values\":[");
            for (int h = 0; h < sv->H; h++) {
                e |= appendf(r, "%s[", h ? "," : "");
                for (int c = 0; c < sv->c_out; c++) {
                    if (c) e |= appendf(r, ",");
                    e |= append_num(r, o[3 + (size_t)h * sv->c_out + c], 9);
                }
                e |= appendf(r, "]");
            }
            e |= appendf(r, "]}");
        }
    }
    e |= appendf(r, "],\"position\":%ld}", r->position);
    return e ? -1 : 0;
}

/* The answer of a request the worker has run. */
static enum MHD_Result answer(server *sv, struct MHD_Connection *c, req *r) {
    if (r->status >= 400) return send_error(sv, c, r->status, r->msg);
    r->text_len = 0;
    char small[256];
    int n;
    switch (r->kind) {
    case K_CREATE:
        n = snprintf(small, sizeof small, "{\"id\":\"%016llx\"}", (unsigned long long)r->id);
        return send_text(c, 201, small, (size_t)n, "application/json");
    case K_GET:
        n = snprintf(small, sizeof small, "{\"id\":\"%016llx\",\"position\":%ld,\"state_bytes\":%zu,\"in_memory\":%s}",
                     (unsigned long long)r->id, r->position, r->state_bytes, r->in_memory ? "true" : "false");
        return send_text(c, 200, small, (size_t)n, "application/json");
    case K_DELETE:
        n = snprintf(small, sizeof small, "{\"id\":\"%016llx\",\"deleted\":true,\"position\":%ld}",
                     (unsigned long long)r->id, r->position);
        return send_text(c, 200, small, (size_t)n, "application/json");
    default: {
        if (sv->kind == AAREN_KIND_ENCODER
                ? aaren_serve_format_outputs(r->out, r->n_rows, sv->D, r->position, &r->text, &r->text_len, &r->text_cap)
                : format_task(sv, r))
            return send_error(sv, c, 500, "out of memory for the answer");
        const double dt = aaren_now_s() - r->t0;
        int b = 0;
        while (b < N_LAT && dt > lat_bounds[b]) b++;
        atomic_fetch_add(&sv->lat_count[b], 1);
        atomic_fetch_add(&sv->lat_sum_us, (unsigned long long)(dt * 1e6));
        return send_text_keep(c, 200, r->text, r->text_len, "application/json", 1);   /* no copy */
    }
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    (void)version;
    server *sv = cls;
    req *r = *con_cls;
    if (!r) {   /* the headers */
        atomic_fetch_add(&sv->n_requests, 1);
        r = req_get(sv);
        if (!r) return send_error(sv, c, 503, "out of memory");
        *con_cls = r;
        r->conn = c;
        if (!authorised(sv, c) && strcmp(url, "/v1/health")) {
            r->phase = P_DONE;
            return send_error(sv, c, 401, "missing or wrong token (send 'Authorization: Bearer <token>')");
        }
        r->status = route(url, method, r, r->msg, sizeof r->msg);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > (unsigned long long)sv->o.max_body) {
            r->phase = P_DONE;
            char msg[128];
            snprintf(msg, sizeof msg, "body of %s bytes; at most %ld (--max-body)", cl, sv->o.max_body);
            return send_error(sv, c, 413, msg);
        }
        return MHD_YES;
    }
    if (r->phase == P_RECEIVING && *upload_size) {
        const size_t n = *upload_size;
        *upload_size = 0;
        if (r->too_big || r->status) return MHD_YES;   /* read and dropped */
        if (r->body_len + n > (size_t)sv->o.max_body) { r->too_big = 1; return MHD_YES; }
        if (r->body_len + n > r->body_cap) {
            size_t nc = r->body_cap ? r->body_cap : 4096;
            while (nc < r->body_len + n) nc *= 2;
            char *nb = realloc(r->body, nc);
            if (!nb) { r->too_big = 1; return MHD_YES; }
            r->body = nb;
            r->body_cap = nc;
        }
        memcpy(r->body + r->body_len, upload, n);
        r->body_len += n;
        return MHD_YES;
    }
    if (r->phase == P_RECEIVING) {   /* the whole request is in */
        r->t0 = aaren_now_s();
        if (r->too_big) {
            r->phase = P_DONE;
            char msg[128];
            snprintf(msg, sizeof msg, "body larger than %ld bytes (--max-body)", sv->o.max_body);
            return send_error(sv, c, 413, msg);
        }
        if (r->status) { r->phase = P_DONE; return send_error(sv, c, r->status, r->msg); }
        if (r->kind == K_HEALTH) {
            const aaren_config *cf = aaren_model_config(sv->m);
            r->text_len = 0;
            const int bad = appendf(r, "{\"status\":\"%s\",\"task\":\"%s\",\"arch\":\"%s\",\"d_model\":%d,\"n_layers\":%d,"
                                    "\"streams\":%ld,\"in_memory\":%ld,\"durable\":%s%s}",
                                    sv->broken ? "broken" : "ok", aaren_kind_name(sv->kind), aaren_arch_name(cf->arch),
                                    cf->d_model, cf->n_layers, atomic_load(&sv->total), atomic_load(&sv->active),
                                    serve_store_durable(sv->store) ? "true" : "false", sv->info ? sv->info : "");
            r->phase = P_DONE;
            if (bad) return send_error(sv, c, 503, "out of memory");
            return send_text(c, sv->broken ? 503 : 200, r->text, r->text_len, "application/json");
        }
        if (r->kind == K_METRICS) { r->phase = P_DONE; return send_metrics(sv, c); }
        if (r->kind == K_CREATE) {
            char msg[320];
            int given = 0;
            if (aaren_serve_parse_create(r->body ? r->body : "", r->body_len, sv->kind == AAREN_KIND_DECISION, &r->target,
                                         &given, msg, sizeof msg)) {
                r->phase = P_DONE;
                return send_error(sv, c, 400, msg);
            }
            if (!given) r->target = sv->dts.target;
        }
        if (r->kind == K_STEP && sv->kind != AAREN_KIND_ENCODER) {
            char msg[320];
            const aaren_serve_task_spec spec = {sv->in_w, sv->o.max_rows, sv->kind == AAREN_KIND_EVENTS && sv->C > 0 ? 1 : -1,
                                                sv->C - 1L, sv->kind == AAREN_KIND_FORECAST};
            if (aaren_serve_parse_task(r->body ? r->body : "", r->body_len, &spec, &r->tin, &r->tin_cap, &r->secs,
                                       &r->secs_cap, &r->n_rows, msg, sizeof msg) ||
                task_check(sv, r, msg, sizeof msg)) {
                r->phase = P_DONE;
                return send_error(sv, c, 400, msg);
            }
            const size_t need = (size_t)r->n_rows * sv->out_w;
            if (need > r->tout_cap) {
                double *nb = realloc(r->tout, need * sizeof(double));
                if (!nb) { r->phase = P_DONE; return send_error(sv, c, 503, "out of memory"); }
                r->tout = nb;
                r->tout_cap = need;
            }
        }
        if (r->kind == K_STEP && sv->kind == AAREN_KIND_ENCODER) {
            char msg[320];
            if (aaren_serve_parse_inputs(r->body ? r->body : "", r->body_len, sv->D, sv->o.max_rows, &r->in, &r->in_cap,
                                         &r->n_rows, msg, sizeof msg)) {
                r->phase = P_DONE;
                return send_error(sv, c, 400, msg);
            }
            const size_t need = (size_t)r->n_rows * sv->D;
            if (need > r->out_cap) {
                float *nb = realloc(r->out, need * sizeof(float));
                if (!nb) { r->phase = P_DONE; return send_error(sv, c, 503, "out of memory"); }
                r->out = nb;
                r->out_cap = need;
            }
        }
        pthread_mutex_lock(&sv->mu);
        const int stopping = sv->stop, full = sv->q_len >= sv->o.max_queue;
        pthread_mutex_unlock(&sv->mu);
        if (stopping) { r->phase = P_DONE; return send_error(sv, c, 503, "the server is stopping"); }
        if (full) { r->phase = P_DONE; return send_error(sv, c, 429, "over capacity: too many requests waiting (--max-queue)"); }
        /* suspended before it is queued (the worker resumes it), but outside the queue's lock:
         * suspending is a system call, which the worker and the other polling thread would
         * wait for */
        r->phase = P_QUEUED;
        r->next = NULL;
        MHD_suspend_connection(c);
        pthread_mutex_lock(&sv->mu);
        if (sv->stop) {   /* the worker may be gone: answered here, on resuming */
            pthread_mutex_unlock(&sv->mu);
            r->phase = P_DONE;
            set_error(r, 503, "the server is stopping");
            MHD_resume_connection(c);
            return MHD_YES;
        }
        if (sv->q_tail) sv->q_tail->next = r; else sv->q_head = r;
        sv->q_tail = r;
        const int wake = ++sv->q_len == 1 || sv->q_len == sv->o.max_batch;
        pthread_mutex_unlock(&sv->mu);
        if (wake) pthread_cond_signal(&sv->cv);
        return MHD_YES;
    }
    return answer(sv, c, r);   /* P_DONE: the worker has run it */
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)c;
    (void)toe;
    server *sv = cls;
    req *r = *con_cls;
    if (!r) return;
    *con_cls = NULL;
    /* a queued request's connection is suspended, which libmicrohttpd does not complete while
     * the worker runs; the lock only for that case */
    int queued = atomic_load(&r->phase) == P_QUEUED;
    if (queued) {
        pthread_mutex_lock(&sv->mu);
        queued = r->phase == P_QUEUED;
        if (queued) r->orphan = 1;   /* the worker frees it */
        pthread_mutex_unlock(&sv->mu);
    }
    if (!queued) req_put(sv, r);
}

/* ---- start, recovery, stop ---------------------------------------------------------------- */

void aaren_serve_defaults(aaren_serve_options *o) {
    *o = (aaren_serve_options){0};
    o->host = "127.0.0.1";
    o->port = 8080;
    o->max_streams = 1024;
    o->max_total = 100000;
    o->max_body = 1 << 20;
    o->max_rows = 1024;
    o->max_batch = 512;
    o->batch_wait_us = 200;
    o->max_tokens = 1024;
    o->max_queue = 16384;
    o->max_connections = 16384;
    o->wal_limit = 64L << 20;
    o->step_threads = 1;
    o->http_threads = 2;
    o->conn_memory = 8192;
}

/* Recovery: the newest state of each stream, kept in memory until placed. */
typedef struct {
    server *sv;
    aaren_stream *probe;        /* one slot to check records and read positions */
    void **pending;             /* [max_total] copies of the newest records */
    size_t *pending_len;
    char why[256];              /* why the last record was refused */
} recovery;

static int recover_one(void *ctx, int source, uint64_t id, const void *rec, size_t len) {
    recovery *rv = ctx;
    const int from_file = source == 0;
    server *sv = rv->sv;
    int k = find_rec(sv, id);
    if (!rec) {   /* a delete */
        if (k >= 0) {
            free(rv->pending[k]);
            rv->pending[k] = NULL;
            if (sv->recs[k].disk_pos >= 0) serve_store_drop(sv->store, id);
            remove_rec(sv, k);
        }
        return 0;
    }
    long pos = 0;
    if (check_state(sv, rv->probe, rec, len, &pos, rv->why, sizeof rv->why)) return -1;
    if (k < 0) {
        if ((k = add_rec(sv, id)) < 0) return -1;
        sv->recs[k].pos = -1;
    }
    stream_rec *r = &sv->recs[k];
    if (from_file) r->disk_pos = pos;
    if (pos <= r->pos) return 0;
    r->pos = pos;
    void *copy = realloc(rv->pending[k], len);
    if (!copy) return -1;
    memcpy(copy, rec, len);
    rv->pending[k] = copy;
    rv->pending_len[k] = len;
    return 0;
}

static int recover(server *sv, char *err, size_t errlen) {
    recovery rv = {sv, NULL, NULL, NULL, ""};
    rv.probe = sv->bs ? aaren_stream_new_batch(sv->m, 1, sv->o.max_tokens, 1, err, errlen) : NULL;
    rv.pending = calloc((size_t)sv->o.max_total, sizeof(void *));
    rv.pending_len = calloc((size_t)sv->o.max_total, sizeof(size_t));
    int rc = (rv.probe || !sv->bs) && rv.pending && rv.pending_len ? 0 : -1;
    if (rc && (rv.probe || !sv->bs)) aaren_errf(err, errlen, "out of memory for recovery");
    char note[512] = "";
    if (!rc) {
        rc = serve_store_recover(sv->store, recover_one, &rv, note, sizeof note, err, errlen);
        const size_t used = strlen(err);
        if (rc && rv.why[0] && used < errlen) snprintf(err + used, errlen - used, ": %s", rv.why);   /* the record's fault */
    }
    long in_mem = 0, on_disk = 0;
    for (int k = 0; !rc && k < sv->o.max_total; k++) {
        stream_rec *r = &sv->recs[k];
        if (!r->live || !rv.pending[k]) continue;
        if (sv->n_free_slots) {
            const int s = acquire_slot(sv, k, err, errlen);
            rc = s < 0 || put_state(sv, s, rv.pending[k], rv.pending_len[k], err, errlen);
            in_mem++;
        } else {
            if (r->disk_pos != r->pos) rc = serve_store_put(sv->store, r->id, rv.pending[k], rv.pending_len[k], err, errlen);
            r->disk_pos = r->pos;
            on_disk++;
        }
    }
    /* a fresh snapshot, and an empty log */
    if (!rc && serve_store_durable(sv->store)) {
        serve_snapshot *w = serve_store_snapshot_begin(sv->store, err, errlen);
        rc = w ? 0 : -1;
        for (int s = 0; s < sv->o.max_streams && !rc; s++) {
            const int k = sv->slot_rec[s];
            if (k < 0) continue;
            rc = serve_store_snapshot_add(w, sv->recs[k].id, sv->rec_buf, take_state(sv, s));
        }
        if (w) rc = serve_store_snapshot_commit(sv->store, w, err, errlen) || rc;
        if (!sv->o.quiet || note[0])
            printf("recovered %ld stream(s) from %s (%ld in memory, %ld on disk)%s%s\n", sv->n_live,
                   serve_store_dir(sv->store), in_mem, sv->n_live - in_mem, note[0] ? "; " : "", note);
    }
    for (int k = 0; rv.pending && k < sv->o.max_total; k++) free(rv.pending[k]);
    free(rv.pending);
    free(rv.pending_len);
    aaren_stream_free(rv.probe);
    return rc;
}

static void server_free(server *sv) {
    aaren_stream_free(sv->bs);
    serve_store_close(sv->store);
    if (sv->kind == AAREN_KIND_ENCODER) aaren_model_free(sv->m);
    aaren_classifier_free(sv->cls);
    aaren_tpp_free(sv->tpp);
    aaren_forecaster_free(sv->fc);
    aaren_dt_free(sv->dt);
    free(sv->info);
    free(sv->extra);
    free(sv->Xin);
    free(sv->Pr);
    free(sv->Z);
    free(sv->pred);
    free(sv->T);
    free(sv->LT);
    free(sv->NB);
    free(sv->MK);
    free(sv->HM);
    free(sv->Wraw);
    free(sv->Wsecs);
    free(sv->recs);
    free(sv->free_recs);
    free(sv->index);
    free(sv->slot_rec);
    free(sv->slot_used);
    free(sv->free_slots);
    free(sv->X);
    free(sv->Y);
    free(sv->idx);
    free(sv->who);
    free(sv->rec_buf);
    free(sv->load_buf);
    while (sv->free_reqs) {
        req *r = sv->free_reqs;
        sv->free_reqs = r->next;
        req_free(r);
    }
}

/* The model and its task, by the checkpoint's metadata; the task's widths, state and the
 * members it adds to /v1/health. */
static int load_task(server *sv, char *err, size_t errlen) {
    const char *path = sv->o.model_path;
    sv->kind = aaren_checkpoint_kind(path, err, errlen);
    if (sv->kind < 0) return -1;
    char q[800], *p = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&p, &n);
    if (!f) return aaren_errf(err, errlen, "out of memory");
    switch (sv->kind) {
    case AAREN_KIND_ENCODER:
        if (!(sv->m = aaren_model_load(path, err, errlen))) break;
        sv->in_w = aaren_model_config(sv->m)->d_model;
        fprintf(f, ",\"input_width\":%d", sv->in_w);
        break;
    case AAREN_KIND_CLASSIFY:
        if (!(sv->cls = aaren_classifier_load(path, err, errlen))) break;
        sv->m = aaren_seqmodel_encoder(aaren_classifier_model(sv->cls));
        sv->in_w = aaren_classifier_n_dims(sv->cls);
        sv->out_w = sv->C = aaren_classifier_n_classes(sv->cls);
        fprintf(f, ",\"input_width\":%d,\"labels\":[", sv->in_w);
        for (int k = 0; k < sv->C; k++) {
            json_string(q, sizeof q, aaren_classifier_label(sv->cls, k));
            fprintf(f, "%s%s", k ? "," : "", q);
        }
        fputs("]", f);
        break;
    case AAREN_KIND_EVENTS:
        if (!(sv->tpp = aaren_tpp_load(path, err, errlen))) break;
        sv->m = aaren_tpp_encoder(sv->tpp);
        sv->C = aaren_tpp_n_marks(sv->tpp);
        sv->in_w = sv->C > 0 ? 2 : 1;
        sv->out_w = 6 + sv->C;
        sv->CL = aaren_tpp_copy_lags(sv->tpp);
        /* the last event's time, and with copy logits over more than one lag the last CL - 1 marks */
        sv->E = sizeof(double) + (sv->CL > 1 ? (size_t)(sv->CL - 1) * sizeof(int32_t) : 0);
        fprintf(f, ",\"input_width\":%d,\"n_marks\":%d,\"copy_lags\":%d", sv->in_w, sv->C, sv->CL);
        break;
    case AAREN_KIND_FORECAST: {
        if (!(sv->fc = aaren_forecaster_load(path, err, errlen))) break;
        sv->m = aaren_forecaster_encoder(sv->fc);   /* either recipe */
        sv->L = aaren_forecaster_seq_len(sv->fc);
        sv->H = aaren_forecaster_pred_len(sv->fc);
        sv->c_out = aaren_forecaster_d_out(sv->fc);
        sv->in_w = sv->cols = aaren_forecaster_cols(sv->fc);
        sv->out_w = 3 + sv->H * sv->c_out;
        sv->E = (size_t)sv->L * (sizeof(long long) + (size_t)sv->cols * sizeof(double));   /* the window: dates, rows */
        fprintf(f, ",\"input_width\":%d,\"seq_len\":%d,\"pred_len\":%d,\"columns\":[", sv->in_w, sv->L, sv->H);
        /* the names as the model holds them (escaped, comma-separated) */
        const char *names = aaren_forecaster_columns(sv->fc);
        for (int c = 0; c < sv->cols; c++) {
            char one[800];
            const size_t len = strcspn(names, ",");
            snprintf(one, sizeof one, "%.*s", (int)len, names);
            json_string(q, sizeof q, one);
            fprintf(f, "%s%s", c ? "," : "", q);
            names += len + (names[len] == ',');
        }
        fputs("],\"output_columns\":[", f);
        for (int j = 0; j < sv->c_out; j++) {
            char one[800];
            aaren_forecaster_out_name(sv->fc, j, one, sizeof one);
            json_string(q, sizeof q, one);
            fprintf(f, "%s%s", j ? "," : "", q);
        }
        fputs("]", f);
        break;
    }
    case AAREN_KIND_DECISION:
        if (!(sv->dt = aaren_dt_load(path, err, errlen))) break;
        if (aaren_dt_stream_spec_get(path, sv->dt, &sv->dts, err, errlen)) {
            aaren_dt_free(sv->dt);
            sv->dt = NULL;
            break;
        }
        sv->m = aaren_dt_encoder(sv->dt);
        sv->tps = sv->dts.no_returns ? 2 : 3;
        sv->in_w = 1 + sv->dts.obs_dim;   /* the reward of the previous action, the observation */
        sv->out_w = sv->dts.act_dim + 1;  /* the action, the return-to-go it was conditioned on */
        sv->E = sizeof(double);           /* the return-to-go */
        fprintf(f, ",\"input_width\":%d,\"obs_dim\":%d,\"act_dim\":%d,\"env\":\"%s\",\"target_return\":%.17g,"
                "\"max_steps\":%d", sv->in_w, sv->dts.obs_dim, sv->dts.act_dim, aaren_env_name(aaren_dt_env(sv->dt)),
                sv->dts.target, AAREN_DT_MAX_EP_LEN);
        break;
    default:
        aaren_file_err(err, errlen, path, "a model of unknown task");
        break;
    }
    fclose(f);
    sv->info = p;
    return sv->m ? 0 : -1;
}

int aaren_serve_run(const aaren_serve_options *opt, char *err, size_t errlen) {
    server sv_, *sv = &sv_;
    memset(sv, 0, sizeof *sv);
    sv->o = *opt;
    aaren_serve_options *o = &sv->o;
    if (o->max_batch > o->max_streams) o->max_batch = o->max_streams;
    if (o->max_streams > o->max_total) o->max_streams = (int)o->max_total;
    sv->t_start = aaren_now_s();
    sv->tps = 1;
    if (load_task(sv, err, errlen)) { server_free(sv); return -1; }
    const aaren_config *cf = aaren_model_config(sv->m);
    sv->D = cf->d_model;
    sv->aar = cf->arch == AAREN_ARCH_AAREN;
    int rc = 0;
    if (sv->kind != AAREN_KIND_FORECAST) {
        sv->bs = aaren_stream_new_batch(sv->m, o->max_streams, sv->aar ? 0 : o->max_tokens, 1, err, errlen);
        if (!sv->bs) { server_free(sv); return -1; }
    } else if (aaren_forecaster_reserve_windows(sv->fc, o->max_batch, err, errlen)) {
        server_free(sv);
        return -1;
    }
    sv->store = serve_store_open(o->state_dir, err, errlen);
    if (!sv->store) { server_free(sv); return -1; }
    /* the largest state record: a fresh Aaren stream's, or a full Transformer cache's */
    sv->rec_cap = 8 + sv->E + (!sv->bs ? 0 : aaren_stream_state_size_one(sv->bs, 0) +
                  (sv->aar ? 0 : (size_t)o->max_tokens * 2 * (size_t)cf->n_layers * (size_t)sv->D * sizeof(float)));
    sv->index_cap = 16;
    while (sv->index_cap < 2 * (size_t)o->max_total) sv->index_cap *= 2;
    sv->recs = calloc((size_t)o->max_total, sizeof *sv->recs);
    sv->free_recs = malloc((size_t)o->max_total * sizeof(int));
    sv->index = malloc(sv->index_cap * sizeof(int));
    sv->slot_rec = malloc((size_t)o->max_streams * sizeof(int));
    sv->slot_used = calloc((size_t)o->max_streams, 1);
    sv->free_slots = malloc((size_t)o->max_streams * sizeof(int));
    sv->X = malloc((size_t)o->max_batch * sv->D * sizeof(float));
    sv->Y = malloc((size_t)o->max_batch * sv->D * sizeof(float));
    sv->idx = malloc((size_t)o->max_batch * sizeof(int));
    sv->who = malloc((size_t)o->max_batch * sizeof(req *));
    sv->rec_buf = malloc(sv->rec_cap);
    const size_t mb = (size_t)o->max_batch;
    const size_t pw = sv->tpp ? (size_t)aaren_tpp_decoder_width(sv->tpp) : sv->dt ? (size_t)sv->D : 1;
    const size_t prw = sv->fc ? (size_t)sv->H * sv->c_out : sv->dt ? (size_t)sv->dts.act_dim : (size_t)(sv->C > 0 ? sv->C : 1);
    sv->extra = calloc((size_t)o->max_streams, sv->E ? sv->E : 1);
    sv->Xin = malloc(mb * (size_t)sv->in_w * sizeof(float));
    sv->Pr = malloc(mb * prw * sizeof(float));
    sv->Z = malloc(mb * pw * sizeof(float));
    sv->pred = malloc(mb * sizeof *sv->pred);
    sv->T = malloc(mb * sizeof(double));
    sv->LT = malloc(mb * sizeof(double));
    sv->NB = malloc(mb * sizeof(long));
    sv->MK = malloc(mb * sizeof(int));
    sv->HM = sv->CL > 1 ? malloc(mb * (size_t)sv->CL * sizeof(int)) : NULL;
    sv->Wraw = sv->fc ? malloc(mb * (size_t)sv->L * sv->cols * sizeof(double))
             : sv->dt ? malloc((size_t)sv->dts.obs_dim * sizeof(double)) : NULL;
    sv->Wsecs = sv->fc ? malloc(mb * (size_t)sv->L * sizeof(long long)) : NULL;
    if (!sv->recs || !sv->free_recs || !sv->index || !sv->slot_rec || !sv->slot_used || !sv->free_slots || !sv->X ||
        !sv->Y || !sv->idx || !sv->who || !sv->rec_buf || !sv->extra || !sv->Xin || !sv->Pr || !sv->Z || !sv->pred ||
        !sv->T || !sv->LT || !sv->NB || !sv->MK || (sv->CL > 1 && !sv->HM) || (sv->fc && (!sv->Wraw || !sv->Wsecs)) || (sv->dt && !sv->Wraw)) {
        aaren_errf(err, errlen, "out of memory for %ld stream records and %d slots", o->max_total, o->max_streams);
        server_free(sv);
        return -1;
    }
    for (long k = 0; k < o->max_total; k++) sv->free_recs[k] = (int)(o->max_total - 1 - k);
    sv->n_free_recs = (int)o->max_total;
    memset(sv->index, 0xff, sv->index_cap * sizeof(int));
    for (int s = 0; s < o->max_streams; s++) {
        sv->slot_rec[s] = -1;
        sv->free_slots[s] = o->max_streams - 1 - s;
    }
    sv->n_free_slots = o->max_streams;
    pthread_mutex_init(&sv->mu, NULL);
    pthread_mutex_init(&sv->fl_mu, NULL);
    pthread_cond_init(&sv->cv, NULL);

    /* start-up report: memory of the model and of each stream */
    size_t pb, gb, ab;
    aaren_model_memory(sv->m, &pb, &gb, &ab);
    const size_t per_state = (sv->bs ? aaren_stream_state_bytes_one(sv->bs, 0) : 0) + sv->E;
    const size_t book = sizeof(stream_rec) + 2 * sizeof(int) + sizeof(int) * 2 + 1;
    if (!o->quiet) {
        printf("aaren serve: %s: %s %s, %d layers, d_model %d, %d heads, d_ff %d; weights %.2f MiB\n", o->model_path,
               aaren_kind_name(sv->kind), aaren_arch_name(cf->arch), cf->n_layers, cf->d_model, cf->n_heads, cf->d_ff,
               (double)pb / 1048576.0);
        if (sv->kind == AAREN_KIND_FORECAST)
            printf("memory per stream: its window of %d rows, %zu bytes + %zu bytes of bookkeeping; each step with a full "
                   "window runs the model over it\n", sv->L, per_state, book);
        else if (sv->aar)
            printf("memory per stream: %zu bytes of state + %zu bytes of bookkeeping in memory; %zu bytes on disk when spilled\n",
                   per_state, book, 8 + sv->E + aaren_stream_state_size_one(sv->bs, 0));
        else
            printf("memory per stream: KV cache of %zu bytes per token (at most %ld tokens, --max-tokens) + %zu bytes of "
                   "bookkeeping\n", 2 * (size_t)cf->n_layers * sv->D * sizeof(float), o->max_tokens, book);
        printf("in memory: at most %d streams (--max-streams; batch object %.1f MiB reserved, resident as used); "
               "%ld streams in all (--max-total)\n", o->max_streams, (double)(sv->bs ? aaren_stream_alloc_bytes(sv->bs) : 0) / 1048576.0,
               o->max_total);
        printf("state: %s\n", serve_store_durable(sv->store) ? "durable (write-ahead log with group commit)"
                                                             : "in memory; spilled streams go to a temporary folder");
    }
    if (serve_store_durable(sv->store)) rc = recover(sv, err, errlen);
    if (rc) { server_free(sv); return -1; }
    atomic_store(&sv->total, sv->n_live);

    /* more connections than the default descriptor limit */
    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    sigset_t stop_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_set, NULL);   /* the threads started below inherit it */

    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    struct sockaddr *addr;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, o->host, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)o->port);
        addr = (struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, o->host, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)o->port);
        addr = (struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        aaren_errf(err, errlen, "--host '%s': expected a numeric IPv4 or IPv6 address", o->host);
        server_free(sv);
        return -1;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, worker, sv)) {
        aaren_errf(err, errlen, "cannot start the worker thread");
        server_free(sv);
        return -1;
    }
    sv->daemon = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, on_request, sv, MHD_OPTION_SOCK_ADDR, addr,
                                  MHD_OPTION_NOTIFY_COMPLETED, on_completed, sv, MHD_OPTION_CONNECTION_LIMIT,
                                  (unsigned)o->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, 120u,
                                  MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u, MHD_OPTION_THREAD_POOL_SIZE,
                                  (unsigned)o->http_threads, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)o->conn_memory,
                                  MHD_OPTION_END);
    if (!sv->daemon) {
        aaren_errf(err, errlen, "cannot listen on %s port %d (in use, or not an address of this machine)", o->host, o->port);
        rc = -1;
    } else {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(sv->daemon, MHD_DAEMON_INFO_BIND_PORT);
        printf("listening on http://%s%s%s:%u\n", addr->sa_family == AF_INET6 ? "[" : "", o->host,
               addr->sa_family == AF_INET6 ? "]" : "", di ? di->port : (unsigned)o->port);
        fflush(stdout);
        int sig = 0;
        sigwait(&stop_set, &sig);
        if (!o->quiet) printf("stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
        /* no new connections; the worker answers what it holds */
        MHD_quiesce_daemon(sv->daemon);
    }
    pthread_mutex_lock(&sv->mu);
    sv->stop = 1;
    pthread_cond_signal(&sv->cv);
    pthread_mutex_unlock(&sv->mu);
    pthread_join(th, NULL);
    if (sv->daemon) MHD_stop_daemon(sv->daemon);
    if (!rc && serve_store_durable(sv->store) && !sv->broken) {   /* leave a compact folder */
        serve_snapshot *w = serve_store_snapshot_begin(sv->store, err, errlen);
        int src = w ? 0 : -1;
        for (int s = 0; s < o->max_streams && !src; s++) {
            const int k = sv->slot_rec[s];
            if (k >= 0) src = serve_store_snapshot_add(w, sv->recs[k].id, sv->rec_buf, take_state(sv, s));
        }
        if (w) src = serve_store_snapshot_commit(sv->store, w, err, errlen) || src;
        if (src) fprintf(stderr, "aaren serve: final compaction failed (the log is kept): %s\n", err);
    }
    server_free(sv);
    pthread_mutex_destroy(&sv->mu);
    pthread_mutex_destroy(&sv->fl_mu);
    pthread_cond_destroy(&sv->cv);
    return rc;
}
