/* aaren serve: an HTTP/1.1 JSON server that holds many streams of one model: an encoder, or a
 * task model (classifier, event model, forecaster, decision model) whose checkpoint metadata
 * names its task.
 *
 * Layers: request.c turns request bodies into rows of floats (cJSON) and answers into JSON
 * text; store.c keeps streams durable in a state folder (a write-ahead log of stream states
 * with group commit, a snapshot that compacts it, one file per stream spilled from memory);
 * server.c runs the HTTP daemon (libmicrohttpd), the stream table and the worker thread that
 * batches the steps of different streams into one aaren_stream_step_some call (the forecaster:
 * one forward of the model over the windows of every stream that steps).
 *
 * The library is used through its public API (include/aaren*.h) and, for the task models'
 * work around the batched encoder step, src/tasks/serving.h. */
#ifndef AAREN_SERVE_H
#define AAREN_SERVE_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *model_path;
    const char *host;        /* address to bind; default 127.0.0.1 */
    int port;                /* 0: any free port (printed at start) */
    const char *state_dir;   /* NULL: streams live until the server stops */
    int max_streams;         /* streams held in memory; more are spilled to disk */
    long max_total;          /* streams in all (memory and disk); creating more is 429 */
    const char *token;       /* NULL: no authorisation */
    long max_body;           /* bytes of one request body; more is 413 */
    int max_rows;            /* input rows of one step request */
    int max_batch;           /* rows of one batched step */
    int batch_wait_us;       /* how long the worker collects requests before a step */
    long max_tokens;         /* Transformer: KV-cache capacity per stream */
    int max_queue;           /* requests waiting for the worker; more is 429 */
    int max_connections;     /* open HTTP connections */
    long wal_limit;          /* bytes of write-ahead log before it is compacted */
    int step_threads;        /* OpenMP threads of the worker's batched steps */
    int http_threads;        /* libmicrohttpd polling threads (epoll each), sharing the connections */
    long conn_memory;        /* bytes of libmicrohttpd's memory pool per connection */
    int quiet;               /* no start-up lines beyond the listening address */
} aaren_serve_options;

/* The defaults listed by `aaren serve --help`. */
void aaren_serve_defaults(aaren_serve_options *o);

/* Loads the model, recovers the state folder, serves until SIGINT or SIGTERM. 0 after a
 * clean stop; non-zero with a message in err when it cannot start. */
int aaren_serve_run(const aaren_serve_options *o, char *err, size_t errlen);

/* ---- request bodies (request.c) ---------------------------------------------------------
 * A step body is a JSON object {"inputs": [[x_1, ..., x_width], ...]} with 1 to max_rows
 * rows of exactly width finite float32 numbers and no other member. On success the rows are
 * in (*buf)[0 .. n_rows * width), *buf grown with realloc as needed (*cap floats), and 0 is
 * returned; otherwise -1 and a one-line message naming the fault (and, for a row, its index
 * and column). body need not be NUL-terminated and is read only within len. */
int aaren_serve_parse_inputs(const char *body, size_t len, int width, int max_rows, float **buf, size_t *cap,
                             int *n_rows, char *err, size_t errlen);

/* A task model's step body: {"inputs": [[...], ...]} as above but read as doubles (a number
 * as the CSV reader strtod's it), and, when dates is set, a member "dates": ["YYYY-MM-DD
 * HH:MM:SS", ...] with one date per row (the forms of a TSLib CSV's date column), which must
 * increase strictly, into (*secs)[0 .. n_rows) as seconds (aaren_ts_date_seconds). Column
 * int_col (-1: none) must hold an integer from 0 to int_max. No other member. 0, or -1 with a
 * one-line message naming the row and column at fault. */
typedef struct {
    int width, max_rows;
    int int_col;             /* -1: none */
    long int_max;
    int dates;               /* 1: "dates" required */
} aaren_serve_task_spec;
int aaren_serve_parse_task(const char *body, size_t len, const aaren_serve_task_spec *spec, double **buf, size_t *cap,
                           long long **secs, size_t *secs_cap, int *n_rows, char *err, size_t errlen);

/* The body of POST /v1/streams: empty (or white space), {} or, for a decision model (decision
 * set), {"target_return": R} with R a finite number (|R| <= 1e12), into *target with *given
 * set (0 otherwise). No other member. 0, or -1 with a one-line message. */
int aaren_serve_parse_create(const char *body, size_t len, int decision, double *target, int *given, char *err,
                             size_t errlen);

/* Appends the JSON answer of a step, {"outputs": [[...], ...], "position": position}, to the
 * text buffer *out (*len bytes used, *cap allocated; grown with realloc). Each number is
 * printed with 9 significant digits, which reads back to the same float32. A non-finite
 * output is written as null. -1 when out of memory. */
int aaren_serve_format_outputs(const float *y, int n_rows, int width, long position, char **out, size_t *len,
                               size_t *cap);

/* Writes the finite float v at p as a JSON number of 9 significant digits (trailing zeros
 * dropped), at most 16 bytes, no NUL; it reads back (strtod, then float) to v exactly, -0
 * included. Returns the bytes written. snprintf's "%.9g" does the same 5 to 10 times slower. */
int aaren_serve_put_float(char *p, float v);

/* Compares a presented secret with the expected one in time that depends only on the
 * expected length: 1 when equal. */
int aaren_serve_token_equal(const char *given, size_t given_len, const char *expected, size_t expected_len);

/* Reads the secret of --token-file: the file's bytes without one final "\n" or "\r\n";
 * 1 to cap - 1 printable ASCII bytes (no spaces), NUL-terminated in buf. 0, or -1 with a
 * message naming the file (a missing, empty, oversized or multi-line file, or a byte that an
 * Authorization header cannot carry). */
int aaren_serve_read_token(const char *path, char *buf, size_t cap, char *err, size_t errlen);

/* Stream ids are 16 lowercase hex digits; 0 and the id when s is exactly one, else -1. */
int aaren_serve_parse_id(const char *s, size_t len, uint64_t *id);

/* CRC-32 (IEEE 802.3, the zlib polynomial) of n bytes, continuing from crc (0 to start). */
uint32_t aaren_serve_crc32(uint32_t crc, const void *data, size_t n);

#endif
