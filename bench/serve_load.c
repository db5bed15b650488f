/* Load and fault client for aaren serve (scripts/load_test.sh runs it). Loopback only.
 *
 *   serve_load --port P --streams N --seconds S [--rate R] [--hostile K] [--acked FILE] [--width W] [--episode E]
 *   serve_load --port P --verify FILE --model M.safetensors
 *   serve_load --port P --memory N [--steps T]
 *
 * Load: N connections, one stream each (POST /v1/streams), then each steps its stream with one
 * row per request, back to back, for S seconds (one epoll thread), over one kept-alive
 * connection each. Inputs are rows of a fixed table of W numbers (default 128, the bench
 * model's d_model; a task model's input_width, e.g. 12 for a hopper decision model: reward and
 * 11 observations), row (7 s + t) mod 64 for stream s at position t, so bodies are formatted
 * once. With --episode E a stream at position E is deleted and a new one made (a decision
 * model's episode ends at 1000 steps).
 * With --rate R the load is open: R steps/s offered in all, stream s sending its k-th step at
 * t0 + (s + k N) / R (evenly interleaved, each stream every N / R s), or as soon as its previous
 * answer arrives when that is later; latency counts from the scheduled time, so a server that
 * falls behind is charged for the wait (no coordinated omission). Without it each stream sends
 * its next step the moment the previous answer arrives (closed loop: the server's saturation,
 * where the mean latency is N / (steps/s) by Little's law).
 * Prints steps/s, p50 / p99 latency, and the server's resident memory before the streams and
 * at the end (from /v1/metrics). K more connections send hostile requests all the while
 * (malformed JSON, wrong width, non-finite numbers, unknown streams, oversized bodies) and
 * must get 4xx answers. When the server dies mid-run the client stops and, with --acked,
 * writes each stream's id and last answered position.
 *
 * Memory: N streams created one after another over plain requests, each stepped T tokens (in
 * requests of up to 32 rows), then the server's resident memory growth per stream (from
 * /v1/metrics, before the first stream and after the last), without the per-connection memory
 * of the load mode (one short connection at a time). Prints streams, tokens per stream, the
 * resident memory before and after and the growth per stream.
 *
 * Verify: after a restart, every stream of FILE must be at its answered position (or one more,
 * when a step was in flight), and its next output must equal a local single-stream replay
 * through the library (to 1e-4: the server ran it batched). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "aaren.h"

enum { TABLE = 64, MAXD = 1024 };

typedef struct {
    int fd, kind;           /* kind 0: a stream; 1: hostile */
    int stage;              /* 0 create, 1 step, 2 delete (the episode is over) */
    int episodes;           /* streams this connection made before its current one */
    int idx;                /* stream number */
    char id[17];
    long pos;               /* last answered position */
    char *out;              /* request being sent (the buffer kept from one request to the next) */
    size_t out_len, out_off, out_cap;
    int watch_out;          /* EPOLLOUT in the interest set */
    char in[65536];
    size_t in_len;
    double t_send;          /* when the request was sent, or (--rate) when it was due */
    long k_next;            /* --rate: the number of this stream's next scheduled step */
    int parked;             /* --rate: its stream made before every stream exists: waits for the start */
    int hostile_i;
    int dead;
} conn;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int D = 128, port = 8080;
static long episode;   /* --episode: steps after which a stream is deleted and a new one made (0: never) */
static char *bodies[TABLE];
static size_t body_len[TABLE];
static float table[TABLE][MAXD];
static char *hostile_bodies[6];
static double rate;    /* --rate: steps/s offered in all (0: closed loop) */

/* --rate: a binary min-heap of the streams waiting for their next step's time */
static conn **heap;
static int heap_n;

static void heap_push(conn *c) {
    int i = heap_n++;
    while (i > 0 && heap[(i - 1) / 2]->t_send > c->t_send) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = c;
}

static conn *heap_pop(void) {
    conn *top = heap[0], *last = heap[--heap_n];
    int i = 0;
    for (;;) {
        int j = 2 * i + 1;
        if (j >= heap_n) break;
        if (j + 1 < heap_n && heap[j + 1]->t_send < heap[j]->t_send) j++;
        if (heap[j]->t_send >= last->t_send) break;
        heap[i] = heap[j];
        i = j;
    }
    if (heap_n > 0) heap[i] = last;
    return top;
}

static void make_table(void) {
    for (int r = 0; r < TABLE; r++) {
        size_t cap = (size_t)D * 24 + 64, o = 0;
        bodies[r] = malloc(cap);
        o += (size_t)snprintf(bodies[r] + o, cap - o, "{\"inputs\":[[");
        for (int j = 0; j < D; j++) {
            table[r][j] = (float)(0.9 * sin(0.37 * (r + 1) + 0.11 * j) + 0.1 * cos(1.7 * j * (r + 2)));
            o += (size_t)snprintf(bodies[r] + o, cap - o, "%s%.9g", j ? "," : "", (double)table[r][j]);
        }
        o += (size_t)snprintf(bodies[r] + o, cap - o, "]]}");
        body_len[r] = o;
    }
}

static int connect_one(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) { close(fd); return -1; }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static void set_request(conn *c, const char *method, const char *path, const char *body, size_t blen) {
    static char head[512];
    const int h = snprintf(head, sizeof head,
                           "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                           method, path, blen);
    if ((size_t)h + blen > c->out_cap) {
        free(c->out);
        c->out_cap = (size_t)h + blen + 256;
        c->out = malloc(c->out_cap);
        if (!c->out) { fprintf(stderr, "serve_load: out of memory\n"); exit(1); }
    }
    memcpy(c->out, head, (size_t)h);
    if (blen) memcpy(c->out + h, body, blen);
    c->out_len = (size_t)h + blen;
    c->out_off = 0;
    c->in_len = 0;
    c->t_send = now_s();
}

/* A whole response in c->in: its status and body; 0 when more bytes are needed. */
static int response(conn *c, int *status, const char **body, size_t *blen) {
    c->in[c->in_len < sizeof c->in ? c->in_len : sizeof c->in - 1] = 0;
    char *end = strstr(c->in, "\r\n\r\n");
    if (!end) return 0;
    size_t cl = 0;
    for (char *p = c->in; p < end; p = strstr(p, "\r\n") + 2)
        if (!strncasecmp(p, "Content-Length:", 15)) cl = strtoul(p + 15, NULL, 10);
    const size_t need = (size_t)(end + 4 - c->in) + cl;
    if (c->in_len < need) return 0;
    *status = atoi(c->in + 9);
    *body = end + 4;
    *blen = cl;
    return 1;
}

static int ep = -1;

/* Writes what the socket takes now; watches for writability only while bytes are left (the
 * interest set changed only when that changes: one system call less per request). */
static int flush_out(conn *c, uint32_t key) {
    while (c->out_off < c->out_len) {
        const ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (w > 0) { c->out_off += (size_t)w; continue; }
        if (w < 0 && errno == EAGAIN) break;
        return -1;
    }
    const int want = c->out_off < c->out_len;
    if (want == c->watch_out) return 0;
    c->watch_out = want;
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.u32 = key};
    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void step_request(conn *c) {
    const int r = (int)((7L * c->idx + c->pos) % TABLE);
    char path[64];
    snprintf(path, sizeof path, "/v1/streams/%s/step", c->id);
    set_request(c, "POST", path, bodies[r], body_len[r]);
}

/* --rate: sends c's next step, its latency counted from the time it was due */
static int send_due(conn *c, double due, uint32_t key) {
    step_request(c);
    c->t_send = due;
    return flush_out(c, key);
}

/* --rate: sends c's next step now if its time has come, or queues it */
static int schedule_step(conn *c, double t0, int n, uint32_t key) {
    const double due = t0 + ((double)c->idx + (double)c->k_next * n) / rate;
    c->k_next++;
    if (due <= now_s()) return send_due(c, due, key);
    c->t_send = due;
    heap_push(c);
    return 0;
}

static void hostile_request(conn *c) {
    static char big[2000000];   /* over the default --max-body: 413 */
    if (!big[0]) { memset(big, '[', sizeof big - 1); big[sizeof big - 1] = 0; }
    switch (c->hostile_i++ % 6) {
    case 0: set_request(c, "POST", "/v1/streams/0123456789abcdef/step", bodies[0], body_len[0]); break;   /* 404 */
    case 1: set_request(c, "POST", "/v1/streams/zz/step", "{}", 2); break;                               /* 404 */
    default: {
        const char *b = hostile_bodies[(c->hostile_i - 1) % 6];
        if ((c->hostile_i - 1) % 6 == 5) b = big;
        char path[64];
        snprintf(path, sizeof path, "/v1/streams/%s/step", c->id[0] ? c->id : "0000000000000000");
        set_request(c, "POST", path, b, strlen(b));
    }
    }
}

static int cmp_d(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One GET with a blocking socket; the body into buf. Status, or -1. */
static int get(const char *method, const char *path, const char *body, char *buf, size_t cap) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) { if (fd >= 0) close(fd); return -1; }
    conn c = {0};
    set_request(&c, method, path, body, body ? strlen(body) : 0);
    size_t off = 0;
    while (off < c.out_len) {
        const ssize_t w = write(fd, c.out + off, c.out_len - off);
        if (w <= 0) { close(fd); free(c.out); return -1; }
        off += (size_t)w;
    }
    free(c.out);
    int status;
    const char *b;
    size_t bl;
    for (;;) {
        const ssize_t r = read(fd, c.in + c.in_len, sizeof c.in - 1 - c.in_len);
        if (r <= 0) { close(fd); return -1; }
        c.in_len += (size_t)r;
        if (response(&c, &status, &b, &bl)) break;
    }
    close(fd);
    snprintf(buf, cap, "%.*s", (int)bl, b);
    return status;
}

static double metric(const char *name) {
    static char text[65536];
    if (get("GET", "/v1/metrics", NULL, text, sizeof text) != 200) return -1;
    char *p = strstr(text, name);
    while (p && (p == text || p[-1] != '\n' || p[strlen(name)] != ' ')) p = strstr(p + 1, name);
    return p ? atof(p + strlen(name) + 1) : -1;
}

static int load(int n, double seconds, int n_hostile, const char *acked_path) {
    const int total = n + n_hostile;
    conn *cs = calloc((size_t)total, sizeof *cs);
    const long max_lat = 20000000;
    double *lat = malloc((size_t)max_lat * sizeof(double));
    long n_lat = 0, steps = 0, bad_status = 0, hostile_ok = 0, hostile_bad = 0;
    const double rss0 = metric("aaren_resident_memory_bytes");
    ep = epoll_create1(0);
    heap = malloc((size_t)total * sizeof *heap);
    heap_n = 0;
    if (!cs || !lat || !heap) { fprintf(stderr, "serve_load: out of memory\n"); return 1; }
    for (int i = 0; i < total; i++) {
        conn *c = &cs[i];
        c->idx = i;
        c->kind = i >= n;
        c->fd = connect_one();
        if (c->fd < 0) { fprintf(stderr, "serve_load: connect %d failed: %s\n", i, strerror(errno)); return 1; }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        c->watch_out = 1;
        if (c->kind) hostile_request(c);
        else set_request(c, "POST", "/v1/streams", NULL, 0);
        if (flush_out(c, (uint32_t)i)) { fprintf(stderr, "serve_load: send %d failed\n", i); return 1; }
    }
    double t_begin = now_s(), t_steps = 0;
    long created = 0, steps_at_start = 0;
    int alive = total, server_died = 0;
    struct epoll_event evs[1024];
    while (alive > 0) {
        const double t = now_s();
        if (created == n && t_steps == 0) {
            t_steps = t;
            steps_at_start = steps;
            for (int i = 0; rate > 0 && i < n; i++)   /* the streams parked until all exist */
                if (cs[i].parked && !cs[i].dead) {
                    cs[i].parked = 0;
                    if (schedule_step(&cs[i], t_steps, n, (uint32_t)i)) { server_died = 1; break; }
                }
        }
        if (t_steps > 0 && t - t_steps > seconds) break;
        if (t - t_begin > seconds + 120) { fprintf(stderr, "serve_load: gave up waiting\n"); break; }
        int timeout_ms = 100;
        if (rate > 0) {   /* send what is due; sleep at least 1 ms (a late send is charged to the latency) */
            const double tn = now_s();
            while (heap_n > 0 && heap[0]->t_send <= tn) {
                conn *c = heap_pop();
                if (send_due(c, c->t_send, (uint32_t)(c - cs))) { server_died = 1; break; }
            }
            if (heap_n > 0) timeout_ms = 1 + (int)(1e3 * (heap[0]->t_send - tn));
            if (timeout_ms > 100) timeout_ms = 100;
        }
        if (server_died) break;
        const int k = epoll_wait(ep, evs, 1024, timeout_ms);
        for (int e = 0; e < k; e++) {
            conn *c = &cs[evs[e].data.u32];
            if (c->dead) continue;
            int status, whole = 0, closed = 0;
            const char *body;
            size_t blen;
            /* a hostile connection may be closed by the server in the middle of a body it refuses
             * (413 on the Content-Length): its answer is read, then a new connection made */
            if (c->out_off < c->out_len && flush_out(c, evs[e].data.u32)) {
                if (!c->kind) goto died;
                closed = 1;
            }
            for (;;) {   /* until the answer is whole (no read to EAGAIN after it) or no more bytes */
                const ssize_t r = read(c->fd, c->in + c->in_len, sizeof c->in - 1 - c->in_len);
                if (r > 0) {
                    c->in_len += (size_t)r;
                    if ((whole = response(c, &status, &body, &blen))) break;
                    continue;
                }
                if (r < 0 && errno == EAGAIN) break;
                if (!c->kind) goto died;
                closed = 1;
                break;
            }
            if (c->kind) {   /* hostile: 4xx expected */
                if (whole) {
                    if (status >= 400 && status < 500) hostile_ok++; else hostile_bad++;
                    if (status == 413 || strstr(c->in, "Connection: close")) closed = 1;
                }
                if (!whole && !closed) continue;
                if (closed) {
                    close(c->fd);
                    c->fd = connect_one();
                    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)(c - cs)};
                    if (c->fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev)) goto died;
                    c->watch_out = 1;
                }
                hostile_request(c);
                if (flush_out(c, evs[e].data.u32)) c->out_off = c->out_len;   /* closed again: its next event reconnects */
                continue;
            }
            if (!whole) continue;
            if (c->stage == 2) {   /* the old episode deleted: a new stream */
                if (status != 200) { bad_status++; fprintf(stderr, "serve_load: delete answered %d\n", status); goto died; }
                c->stage = 0;
                c->episodes++;
                set_request(c, "POST", "/v1/streams", NULL, 0);
                if (flush_out(c, evs[e].data.u32)) goto died;
                continue;
            }
            if (c->stage == 0) {
                const char *p = strstr(body, "\"id\":\"");
                if (status != 201 || !p) { bad_status++; goto died; }
                memcpy(c->id, p + 6, 16);
                c->stage = 1;
                c->pos = 0;
                if (!c->episodes) created++;
            } else {
                if (status != 200) { bad_status++; fprintf(stderr, "serve_load: step answered %d: %.*s\n", status, (int)blen, body); goto died; }
                const char *p = strstr(body + (blen > 40 ? blen - 40 : 0), "\"position\":");
                c->pos = p ? atol(p + 11) : c->pos + 1;
                steps++;
                if (t_steps > 0 && n_lat < max_lat) lat[n_lat++] = now_s() - c->t_send;
            }
            if (episode > 0 && c->stage == 1 && c->pos >= episode) {   /* a decision model's episode is over */
                char path[64];
                snprintf(path, sizeof path, "/v1/streams/%s", c->id);
                set_request(c, "DELETE", path, NULL, 0);
                c->stage = 2;
            } else if (rate > 0) {
                if (t_steps == 0) { c->parked = 1; continue; }   /* until every stream exists */
                if (schedule_step(c, t_steps, n, evs[e].data.u32)) goto died;
                continue;
            } else {
                step_request(c);
            }
            if (flush_out(c, evs[e].data.u32)) goto died;
            continue;
        died:
            if (!c->kind) server_died = 1;
            c->dead = 1;
            close(c->fd);
            alive--;
        }
        if (server_died) break;
    }
    const double dt = now_s() - (t_steps > 0 ? t_steps : t_begin);
    const double rss1 = server_died ? -1 : metric("aaren_resident_memory_bytes");
    qsort(lat, (size_t)n_lat, sizeof(double), cmp_d);
    const double p50 = n_lat ? lat[n_lat / 2] : 0, p99 = n_lat ? lat[(long)(0.99 * (double)(n_lat - 1))] : 0;
    if (rate > 0) printf("offered_per_s %.0f ", rate);
    printf("streams %d steps %ld seconds %.2f steps_per_s %.0f p50_ms %.3f p99_ms %.3f rss_before_mib %.1f "
           "rss_after_mib %.1f rss_per_stream_b %.0f bad_status %ld hostile_4xx %ld hostile_other %ld server_died %d\n",
           n, steps - steps_at_start, dt, (double)(steps - steps_at_start) / dt, 1e3 * p50, 1e3 * p99, rss0 / 1048576.0,
           rss1 / 1048576.0, rss1 > 0 && rss0 > 0 ? (rss1 - rss0) / n : -1, bad_status, hostile_ok, hostile_bad,
           server_died);
    if (acked_path) {
        FILE *f = fopen(acked_path, "w");
        for (int i = 0; f && i < n; i++)
            if (cs[i].stage == 1) fprintf(f, "%d %s %ld\n", i, cs[i].id, cs[i].pos);
        if (f) fclose(f);
    }
    for (int i = 0; i < total; i++) { if (!cs[i].dead) close(cs[i].fd); free(cs[i].out); }
    free(cs);
    free(lat);
    free(heap);
    close(ep);
    return (bad_status && !server_died) || hostile_bad ? 1 : 0;
}

static int verify(const char *path, const char *model, int max_check) {
    char err[512];
    aaren_model *m = aaren_model_load(model, err, sizeof err);
    if (!m) { fprintf(stderr, "serve_load: %s\n", err); return 1; }
    D = aaren_model_config(m)->d_model;
    make_table();
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "serve_load: cannot read %s\n", path); return 1; }
    int idx;
    char id[17];
    long acked;
    long n = 0, lost = 0, ahead = 0, checked = 0, mismatched = 0;
    double worst = 0;
    static char buf[1 << 20];
    float y[MAXD], ys[MAXD];
    while (fscanf(f, "%d %16s %ld", &idx, id, &acked) == 3) {
        n++;
        char p[64];
        snprintf(p, sizeof p, "/v1/streams/%s", id);
        if (get("GET", p, NULL, buf, sizeof buf) != 200) { lost++; continue; }
        const char *q = strstr(buf, "\"position\":");
        const long pos = q ? atol(q + 11) : -1;
        if (pos < acked || pos > acked + 1) { lost++; fprintf(stderr, "stream %s: position %ld, answered %ld\n", id, pos, acked); continue; }
        ahead += pos > acked;
        if (checked >= max_check) continue;
        /* the next output against a local replay */
        aaren_stream *s = aaren_stream_new(m, pos + 2, err, sizeof err);
        for (long t = 0; t <= pos; t++) aaren_stream_step(s, table[(7L * idx + t) % TABLE], y, err, sizeof err);
        aaren_stream_free(s);
        snprintf(p, sizeof p, "/v1/streams/%s/step", id);
        const int r = (int)((7L * idx + pos) % TABLE);
        if (get("POST", p, bodies[r], buf, sizeof buf) != 200) { mismatched++; continue; }
        const char *o = strstr(buf, "[[");
        for (int j = 0; j < D && o; j++) {
            char *end;
            ys[j] = strtof(o + (j == 0 ? 2 : 1), &end);   /* past "[[" first, then past each comma */
            o = end;
        }
        double w = 0;
        for (int j = 0; j < D; j++) w = fmax(w, fabs((double)ys[j] - y[j]));
        worst = fmax(worst, w);
        mismatched += !(w <= 1e-4);
        checked++;
    }
    fclose(f);
    aaren_model_free(m);
    printf("verify: %ld streams, %ld lost or wrong position, %ld one step ahead (in flight at the kill), next output "
           "checked on %ld: %ld mismatched, largest difference %.2e\n", n, lost, ahead, checked, mismatched, worst);
    return lost || mismatched || n == 0;
}

static int memory(int n, int steps) {
    /* a body of up to chunk rows */
    const int chunk = 32;   /* the answer (about 12 bytes a number) fits the 64 KiB reply buffer */
    char *big = malloc((size_t)chunk * ((size_t)D * 17 + 4) + 64);
    if (!big) return 1;
    const double before = metric("aaren_resident_memory_bytes");
    char buf[4096];
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        if (get("POST", "/v1/streams", NULL, buf, sizeof buf) != 201) { fprintf(stderr, "serve_load: create failed: %s\n", buf); return 1; }
        char path[64], *id = strstr(buf, "\"id\":\"");
        if (!id) return 1;
        snprintf(path, sizeof path, "/v1/streams/%.16s/step", id + 6);
        for (int t = 0; t < steps; t += chunk) {
            const int rows = steps - t < chunk ? steps - t : chunk;
            size_t o = (size_t)sprintf(big, "{\"inputs\":[");
            for (int r = 0; r < rows; r++) {
                const char *row = bodies[(7 * i + t + r) % TABLE] + 11;   /* "[...]" of {"inputs":[[...]]} */
                const size_t len = body_len[(7 * i + t + r) % TABLE] - 11 - 2;
                if (r) big[o++] = ',';
                memcpy(big + o, row, len);
                o += len;
            }
            memcpy(big + o, "]}", 3);
            const int st = get("POST", path, big, buf, sizeof buf);
            if (st != 200) { fprintf(stderr, "serve_load: step failed (%d): %.200s\n", st, buf); return 1; }
        }
    }
    const double after = metric("aaren_resident_memory_bytes");
    printf("streams %d tokens_per_stream %d seconds %.1f rss_before_mib %.1f rss_after_mib %.1f rss_per_stream_b %.0f\n", n,
           steps, now_s() - t0, before / 1048576.0, after / 1048576.0, (after - before) / n);
    free(big);
    return 0;
}

int main(int argc, char **argv) {
    int n = 1, hostile = 0, max_check = 200, mem = 0, steps = 1;
    double seconds = 5;
    const char *acked = NULL, *verify_path = NULL, *model = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--streams")) n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--hostile")) hostile = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--acked")) acked = argv[i + 1];
        else if (!strcmp(argv[i], "--verify")) verify_path = argv[i + 1];
        else if (!strcmp(argv[i], "--model")) model = argv[i + 1];
        else if (!strcmp(argv[i], "--d-model") || !strcmp(argv[i], "--width")) D = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--episode")) episode = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--check")) max_check = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--memory")) mem = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--rate")) rate = atof(argv[i + 1]);
        else { fprintf(stderr, "serve_load: unknown option %s\n", argv[i]); return 2; }
    }
    if (D < 1 || D > MAXD || n < 1 || seconds <= 0 || seconds > 600 || !(rate >= 0 && rate <= 1e7)) { fprintf(stderr, "serve_load: bad options\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);   /* a write to a connection the server closed fails with EPIPE instead */
    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl)) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
    if (verify_path) {
        if (!model) { fprintf(stderr, "serve_load: --verify needs --model\n"); return 2; }
        return verify(verify_path, model, max_check);
    }
    make_table();
    if (mem > 0) return steps < 1 || steps > 100000 ? 2 : memory(mem, steps);
    hostile_bodies[2] = "{\"inputs\": [[1, 2";
    hostile_bodies[3] = "{\"inputs\": [[1, 2, 3]]}";
    hostile_bodies[4] = "{\"inputs\": [[1e999]]}";
    hostile_bodies[5] = "";   /* the oversized body, filled in hostile_request */
    return load(n, seconds, hostile, acked);
}
