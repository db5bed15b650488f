/* Event sequences for temporal point processes (see events.h): the CSV loader and the
 * synthetic "Sin" process.
 *
 * The loader reads the file line by line (getline: lines of any length). The header fixes
 * which cells hold the sequence id, time, mark and split; every event line is checked and
 * appended to arrays that grow by doubling. A sequence is identified by (split, id); the
 * keys seen so far sit in an open-addressing hash set (ids copied into one growing pool) so
 * that a key coming back after another sequence is caught at its line. Any fault ends the
 * load with one message "path: line N: ...".
 *
 * Marks are integers written as integers: an optional sign and decimal digits only ("1.0"
 * or "1e0" is refused as not an integer, even though it is integral). */
#define _POSIX_C_SOURCE 200809L
#include "data/events.h"
#include "base/common.h"
#include "data/text.h"
#include "base/rng.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIN_MAX_DRAWS 1e9    /* the Sin generator refuses to expect more candidate events */

static const char *const split_name[3] = { "train", "val", "test" };

void aaren_events_options_init(aaren_events_options *o) {
    memset(o, 0, sizeof *o);
    o->max_marks = AAREN_EV_MAX_MARKS;
    o->max_seq_len = AAREN_EV_MAX_SEQ_LEN;
    o->train_frac = 0.6;
    o->val_frac = 0.2;
}

void aaren_sin_options_init(aaren_sin_options *o) {
    o->n_seq = 1000;
    o->horizon = 100;
    o->base = 1;
    o->amp = 0.9;
    o->period = 10;
    o->random_phase = 0;
    o->train_frac = 0.6;
    o->val_frac = 0.2;
    o->seed = 1;
}

void aaren_events_free(aaren_events *d) {
    if (!d) return;
    free(d->off);
    free(d->time);
    free(d->mark);
    free(d->split);
    free(d);
}

/* ---- shared: the in-order split by fractions ------------------------------------------ */

/* Sequence counts [3] of the in-order split of n sequences: floor(tf n) TRAIN, floor(vf n)
 * VAL, the rest TEST. Returns the first split left empty, -1 when none is, -2 when the
 * fractions themselves are unusable (not finite, negative, or summing above 1). */
static int split_counts(int n, double tf, double vf, int cnt[3]) {
    if (!isfinite(tf) || !isfinite(vf) || tf < 0 || vf < 0 || tf + vf > 1) return -2;
    cnt[0] = (int)floor(tf * n);
    cnt[1] = (int)floor(vf * n);
    if (cnt[0] > n) cnt[0] = n;
    if (cnt[1] > n - cnt[0]) cnt[1] = n - cnt[0];
    cnt[2] = n - cnt[0] - cnt[1];
    for (int k = 0; k < 3; k++)
        if (cnt[k] == 0) return k;
    return -1;
}

/* ---- loader state ---------------------------------------------------------------------- */

enum { COL_ID, COL_TIME, COL_MARK, COL_SPLIT, N_ROLES };

static const char *const role_name[N_ROLES] = { "sequence id", "time", "mark", "split" };
static const char *const role_words[N_ROLES] = { "seq_id, sequence or seq", "time, arrival_time or time_since_start",
                                                 "mark, type_event or type", "split" };

typedef struct {
    aaren_lines in;          /* the file, and the line for messages */
    aaren_events *d;
    int n_marks_opt;         /* options.n_marks (0: from the data) */
    int max_marks;           /* options.max_marks */
    long max_seq_len;        /* options.max_seq_len */
    int n_cols;              /* header cells */
    int col[N_ROLES];        /* cell index of each role, -1 when absent */
    int max_mark;            /* largest mark so far, -1 before any */
    int cap_seq;             /* off has cap_seq + 1 entries, split and seq_line cap_seq */
    long cap_ev;
    long *seq_line;          /* [cap_seq] line of each sequence's first event */
    size_t *id_at, *id_len;  /* [cap_seq] each sequence's id in ids */
    char *ids;               /* [cap_ids] the ids, back to back (not terminated) */
    size_t n_ids, cap_ids;
    int *slot;               /* [cap_slot] hash set of sequences: index + 1, 0 = empty */
    size_t cap_slot;         /* a power of two, at least twice the sequences held */
} loader;

static int oom(loader *L) { return aaren_lines_fail(&L->in, "out of memory"); }

static void loader_release(loader *L) {
    free(L->seq_line);
    free(L->id_at);
    free(L->id_len);
    free(L->ids);
    free(L->slot);
}

/* ---- the set of (split, id) keys ------------------------------------------------------- */

/* FNV-1a over the id, mixed with the split (-1 without a split column). */
static uint64_t key_hash(int split, const char *id, size_t n) {
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(split + 2) * 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)id[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

/* Sequence s's id (never NULL, also before any id was stored). */
static const char *id_of(const loader *L, int s) { return L->ids ? L->ids + L->id_at[s] : ""; }

static int key_is(const loader *L, int s, int split, const char *id, size_t n) {
    return L->d->split[s] == split && L->id_len[s] == n && (n == 0 || memcmp(id_of(L, s), id, n) == 0);
}

/* Sequence index of the key, or -1 when unseen. */
static int key_find(const loader *L, int split, const char *id, size_t n) {
    size_t mask = L->cap_slot - 1, i;
    if (!L->cap_slot) return -1;
    for (i = (size_t)key_hash(split, id, n) & mask; L->slot[i]; i = (i + 1) & mask)
        if (key_is(L, L->slot[i] - 1, split, id, n)) return L->slot[i] - 1;
    return -1;
}

static void slot_put(loader *L, int s) {
    size_t mask = L->cap_slot - 1;
    size_t i = (size_t)key_hash(L->d->split[s], id_of(L, s), L->id_len[s]) & mask;
    while (L->slot[i]) i = (i + 1) & mask;
    L->slot[i] = s + 1;
}

/* Adds sequence s (split and id already stored) to the set, doubling the table as needed. */
static int key_add(loader *L, int s) {
    if ((size_t)(s + 1) * 2 > L->cap_slot) {
        size_t cap = L->cap_slot ? L->cap_slot * 2 : 256;
        int *slot;
        if (cap > SIZE_MAX / sizeof *slot || !(slot = calloc(cap, sizeof *slot))) return oom(L);
        free(L->slot);
        L->slot = slot;
        L->cap_slot = cap;
        for (int k = 0; k < s; k++) slot_put(L, k);
    }
    slot_put(L, s);
    return 0;
}

/* ---- growing arrays -------------------------------------------------------------------- */

/* Room for one more sequence and `id_n` more id bytes. */
static int grow_seq(loader *L, size_t id_n) {
    aaren_events *d = L->d;
    if (d->n_seq == L->cap_seq) {
        int cap;
        long *off, *line;
        int *split;
        size_t *at, *len;
        if (L->cap_seq >= (INT_MAX - 1) / 2) return aaren_lines_fail(&L->in, "too many sequences");
        cap = L->cap_seq ? L->cap_seq * 2 : 64;
        if (!(off = realloc(d->off, sizeof *off * ((size_t)cap + 1)))) return oom(L);
        d->off = off;
        if (!(split = realloc(d->split, sizeof *split * (size_t)cap))) return oom(L);
        d->split = split;
        if (!(line = realloc(L->seq_line, sizeof *line * (size_t)cap))) return oom(L);
        L->seq_line = line;
        if (!(at = realloc(L->id_at, sizeof *at * (size_t)cap))) return oom(L);
        L->id_at = at;
        if (!(len = realloc(L->id_len, sizeof *len * (size_t)cap))) return oom(L);
        L->id_len = len;
        L->cap_seq = cap;
    }
    if (id_n > SIZE_MAX / 2 - L->n_ids) return oom(L);
    if (L->n_ids + id_n > L->cap_ids) {
        size_t cap = L->cap_ids ? L->cap_ids : 1024;
        char *ids;
        while (cap < L->n_ids + id_n) cap *= 2;
        if (!(ids = realloc(L->ids, cap))) return oom(L);
        L->ids = ids;
        L->cap_ids = cap;
    }
    return 0;
}

/* Room for one more event. */
static int grow_ev(loader *L) {
    aaren_events *d = L->d;
    if (d->n_events == L->cap_ev) {
        long cap;
        double *t;
        if (L->cap_ev > LONG_MAX / 2 || (size_t)L->cap_ev > SIZE_MAX / 2 / sizeof(double))
            return aaren_lines_fail(&L->in, "too many events");
        cap = L->cap_ev ? L->cap_ev * 2 : 1024;
        if (!(t = realloc(d->time, sizeof *t * (size_t)cap))) return oom(L);
        d->time = t;
        if (L->col[COL_MARK] >= 0) {
            int *m = realloc(d->mark, sizeof *m * (size_t)cap);
            if (!m) return oom(L);
            d->mark = m;
        }
        L->cap_ev = cap;
    }
    return 0;
}

/* ---- cells ----------------------------------------------------------------------------- */

/* The header line s[0..n): which cell plays which role. */
static int header(loader *L, const char *s, size_t n) {
    static const char *const names[N_ROLES][4] = {
        { "seq_id", "sequence", "seq", NULL },
        { "time", "arrival_time", "time_since_start", NULL },
        { "mark", "type_event", "type", NULL },
        { "split", NULL, NULL, NULL },
    };
    size_t start = 0;
    int k = 0;
    for (int r = 0; r < N_ROLES; r++) L->col[r] = -1;
    for (size_t i = 0; i <= n; i++) {
        size_t a, b;
        if (i < n && s[i] != ',') continue;
        if (k == INT_MAX) return aaren_lines_fail(&L->in, "too many columns");
        a = start;
        b = i;
        aaren_text_trim(s, &a, &b);
        for (int r = 0; r < N_ROLES; r++)
            for (int w = 0; names[r][w]; w++)
                if (aaren_text_word_is(s + a, b - a, names[r][w])) {
                    if (L->col[r] >= 0)
                        return aaren_lines_fail(&L->in, "columns %d and %d both name the %s (%s)", L->col[r] + 1, k + 1,
                                    role_name[r], role_words[r]);
                    L->col[r] = k;
                }
        k++;
        start = i + 1;
    }
    L->n_cols = k;
    for (int r = COL_ID; r <= COL_TIME; r++)
        if (L->col[r] < 0) return aaren_lines_fail(&L->in, "no %s column (expected one named %s)", role_name[r], role_words[r]);
    return 0;
}

/* A finite decimal time in s[a..b) (s[b] must be writable). */
static int parse_time(loader *L, char *s, size_t a, size_t b, double *out) {
    const aaren_num rc = aaren_text_number(s, a, b, out);
    if (rc == AAREN_NUM_OK) return 0;
    if (rc == AAREN_NUM_EMPTY) return aaren_lines_fail(&L->in, "empty time");
    return aaren_lines_fail(&L->in, "time is %s: '%.*s%s'", rc == AAREN_NUM_BAD ? "not a number" : "not a finite number",
                            aaren_text_shown(b - a), s + a, aaren_text_dots(b - a));
}

/* An integer mark >= 0 in s[a..b) (s[b] must be writable), below options.n_marks when set. */
static int parse_mark(loader *L, char *s, size_t a, size_t b, int *out) {
    size_t i = a + (a < b && (s[a] == '+' || s[a] == '-'));
    const size_t digits = i;
    char save, *end;
    long v;
    if (a == b) return aaren_lines_fail(&L->in, "empty mark");
    while (i < b && s[i] >= '0' && s[i] <= '9') i++;
    if (i != b || i == digits) return aaren_lines_fail(&L->in, "mark is not an integer: '%.*s%s'", aaren_text_shown(b - a), s + a, aaren_text_dots(b - a));
    save = s[b];
    s[b] = '\0';
    errno = 0;
    v = strtol(s + a, &end, 10);
    s[b] = save;
    if (v < 0) return aaren_lines_fail(&L->in, "mark %ld is negative (marks are integers >= 0)", v);
    if (errno == ERANGE || v >= INT_MAX) return aaren_lines_fail(&L->in, "mark out of range: '%.*s%s'", aaren_text_shown(b - a), s + a, aaren_text_dots(b - a));
    if (L->n_marks_opt > 0 && v >= L->n_marks_opt)
        return aaren_lines_fail(&L->in, "mark %ld is not below n_marks %d", v, L->n_marks_opt);
    if (v >= L->max_marks)
        return aaren_lines_fail(&L->in, "mark %ld is not below the limit of %d marks (marks are dense ids 0..K-1; "
                                "raise the limit with --max-marks)", v, L->max_marks);
    *out = (int)v;
    return 0;
}

/* A split name in s[a..b). */
static int parse_split(loader *L, const char *s, size_t a, size_t b) {
    static const struct { const char *w; int split; } names[] = {
        { "train", AAREN_EV_TRAIN }, { "dev", AAREN_EV_VAL }, { "val", AAREN_EV_VAL },
        { "valid", AAREN_EV_VAL }, { "validation", AAREN_EV_VAL }, { "test", AAREN_EV_TEST },
    };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (aaren_text_word_is(s + a, b - a, names[k].w)) return names[k].split;
    return aaren_lines_fail(&L->in, "unknown split '%.*s%s' (expected train, dev, val, valid, validation or test)", aaren_text_shown(b - a),
                s + a, aaren_text_dots(b - a));
}

/* One event line s[0..n) (s[n] writable). */
static int event_line(loader *L, char *s, size_t n) {
    aaren_events *d = L->d;
    size_t cell[N_ROLES][2] = { { 0, 0 } };
    size_t start = 0;
    long cells = 1;
    int k = 0, split = -1, mark = 0, s_cur;
    double t = 0;

    for (size_t i = 0; i < n; i++) cells += s[i] == ',';
    if (cells != L->n_cols) return aaren_lines_fail(&L->in, "%ld cell%s, the header has %d", cells, cells == 1 ? "" : "s", L->n_cols);
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != ',') continue;
        for (int r = 0; r < N_ROLES; r++)
            if (L->col[r] == k) {
                size_t a = start, b = i;
                aaren_text_trim(s, &a, &b);
                cell[r][0] = a;
                cell[r][1] = b;
            }
        k++;
        start = i + 1;
    }
    if (parse_time(L, s, cell[COL_TIME][0], cell[COL_TIME][1], &t) < 0) return -1;
    if (L->col[COL_MARK] >= 0 && parse_mark(L, s, cell[COL_MARK][0], cell[COL_MARK][1], &mark) < 0) return -1;
    if (L->col[COL_SPLIT] >= 0 && (split = parse_split(L, s, cell[COL_SPLIT][0], cell[COL_SPLIT][1])) < 0) return -1;

    {
        const char *id = s + cell[COL_ID][0];
        const size_t id_n = cell[COL_ID][1] - cell[COL_ID][0];
        s_cur = d->n_seq - 1;
        if (s_cur < 0 || !key_is(L, s_cur, split, id, id_n)) {   /* a new sequence */
            const int seen = key_find(L, split, id, id_n);
            if (seen >= 0) {
                if (split >= 0)
                    return aaren_lines_fail(&L->in, "sequence '%.*s%s' of split %s reappears (it began on line %ld; the events "
                                   "of a sequence must be consecutive)", aaren_text_shown(id_n), id, aaren_text_dots(id_n),
                                split_name[split], L->seq_line[seen]);
                return aaren_lines_fail(&L->in, "sequence '%.*s%s' reappears (it began on line %ld; the events of a sequence "
                               "must be consecutive)", aaren_text_shown(id_n), id, aaren_text_dots(id_n), L->seq_line[seen]);
            }
            if (grow_seq(L, id_n) < 0) return -1;
            s_cur = d->n_seq;
            d->off[s_cur] = d->n_events;
            d->split[s_cur] = split;
            L->seq_line[s_cur] = L->in.line;
            L->id_at[s_cur] = L->n_ids;
            L->id_len[s_cur] = id_n;
            if (id_n) memcpy(L->ids + L->n_ids, id, id_n);
            L->n_ids += id_n;
            if (key_add(L, s_cur) < 0) return -1;
            d->n_seq++;
        } else if (t < d->time[d->n_events - 1]) {
            return aaren_lines_fail(&L->in, "time %.17g is smaller than the previous event's %.17g (times must be non-decreasing "
                           "within a sequence)", t, d->time[d->n_events - 1]);
        }
    }
    if (d->n_events - d->off[s_cur] >= L->max_seq_len)
        return aaren_lines_fail(&L->in, "sequence '%.*s%s' has more than %ld events (the limit; raise it with "
                                "--max-seq-len)", aaren_text_shown(L->id_len[s_cur]), id_of(L, s_cur),
                                aaren_text_dots(L->id_len[s_cur]), L->max_seq_len);
    if (grow_ev(L) < 0) return -1;
    d->time[d->n_events] = t;
    if (d->mark) {
        d->mark[d->n_events] = mark;
        if (mark > L->max_mark) L->max_mark = mark;
    }
    d->n_events++;
    return 0;
}

/* ---- loading --------------------------------------------------------------------------- */

/* After the last line: offsets closed, splits assigned and checked, n_marks, max_len. */
static int finish(loader *L, const aaren_events_options *o) {
    aaren_events *d = L->d;
    int cnt[3] = { 0, 0, 0 };
    d->off[d->n_seq] = d->n_events;
    L->in.line = 0;
    if (o->all_test) {   /* sequences to predict: every one is TEST */
        for (int s = 0; s < d->n_seq; s++) d->split[s] = AAREN_EV_TEST;
    } else if (L->col[COL_SPLIT] >= 0) {
        for (int s = 0; s < d->n_seq; s++) cnt[d->split[s]]++;
        for (int k = 0; k < 3; k++)
            if (cnt[k] == 0)
                return aaren_lines_fail(&L->in, "split %s has no sequences (%d sequences: train %d, val %d, test %d)", split_name[k],
                            d->n_seq, cnt[0], cnt[1], cnt[2]);
    } else {
        const int empty = split_counts(d->n_seq, o->train_frac, o->val_frac, cnt);
        int s = 0;
        if (empty >= 0)
            return aaren_lines_fail(&L->in, "split %s has no sequences (%d sequences in file order, train_frac %g, val_frac %g: "
                           "train %d, val %d, test %d)", split_name[empty], d->n_seq, o->train_frac, o->val_frac,
                        cnt[0], cnt[1], cnt[2]);
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < cnt[k]; i++) d->split[s++] = k;
    }
    d->n_marks = !d->mark ? 0 : L->n_marks_opt > 0 ? L->n_marks_opt : L->max_mark + 1;
    d->max_len = 0;
    for (int s = 0; s < d->n_seq; s++)
        if (d->off[s + 1] - d->off[s] > d->max_len) d->max_len = (int)(d->off[s + 1] - d->off[s]);
    {   /* give back the unused capacity (keeping the arrays when that fails) */
        double *t = realloc(d->time, sizeof *t * (size_t)d->n_events);
        if (t) d->time = t;
        if (d->mark) {
            int *m = realloc(d->mark, sizeof *m * (size_t)d->n_events);
            if (m) d->mark = m;
        }
    }
    return 0;
}

aaren_events *aaren_events_load_csv(const char *path, const aaren_events_options *o, char *err, size_t errlen) {
    aaren_events_options defaults;
    loader L;
    char *line;
    size_t n;
    int rc = 0, have_header = 0;
    locale_t c_num, prev_loc = (locale_t)0;

    if (err && errlen) err[0] = '\0';
    if (!path) {
        aaren_errf(err, errlen, "aaren_events_load_csv: path is NULL");
        return NULL;
    }
    if (!o) {
        aaren_events_options_init(&defaults);
        o = &defaults;
    }
    if (o->n_marks < 0 || o->max_marks < 1 || o->max_marks > AAREN_EV_MARKS_CEIL || o->n_marks > o->max_marks ||
        o->max_seq_len < 1 || o->max_seq_len > INT_MAX) {
        aaren_file_err(err, errlen, path, "options: n_marks %d, max_marks %d or max_seq_len %ld out of range (marks "
                       "at most %d, sequences at most %d events)", o->n_marks, o->max_marks, o->max_seq_len,
                       AAREN_EV_MARKS_CEIL, INT_MAX);
        return NULL;
    }
    if (split_counts(0, o->train_frac, o->val_frac, (int[3]){ 0, 0, 0 }) == -2) {
        aaren_file_err(err, errlen, path, "options: train_frac %g and val_frac %g must be >= 0 with a sum <= 1",
                       o->train_frac, o->val_frac);
        return NULL;
    }
    memset(&L, 0, sizeof L);
    L.n_marks_opt = o->n_marks;
    L.max_marks = o->max_marks;
    L.max_seq_len = o->max_seq_len;
    L.max_mark = -1;
    if (aaren_lines_open(&L.in, path, err, errlen)) return NULL;
    if (!(L.d = calloc(1, sizeof *L.d))) {
        aaren_lines_close(&L.in);
        aaren_file_err(err, errlen, path, "out of memory");
        return NULL;
    }
    /* numbers in the C locale whatever the program's locale (this thread only) */
    if ((c_num = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0)) != (locale_t)0) prev_loc = uselocale(c_num);

    while (rc == 0 && (rc = aaren_lines_next(&L.in, &line, &n)) == 1) {
        if (!have_header) {
            rc = header(&L, line, n);
            have_header = 1;
            if (rc == 0 && L.col[COL_MARK] < 0) L.n_marks_opt = 0;
        } else {
            rc = event_line(&L, line, n);
        }
    }
    if (c_num != (locale_t)0) {
        uselocale(prev_loc);
        freelocale(c_num);
    }
    aaren_lines_close(&L.in);
    if (rc == 0 && !have_header) {
        rc = L.in.line == 0 ? aaren_file_err(err, errlen, path, "empty file")
                         : aaren_file_err(err, errlen, path, "no header line (the file has only blank lines)");
    } else if (rc == 0 && L.d->n_seq == 0) {
        rc = aaren_file_err(err, errlen, path, "no events after the header (the file ends at line %ld)", L.in.line);
    }
    if (rc == 0) rc = finish(&L, o);
    loader_release(&L);
    if (rc != 0) {
        aaren_events_free(L.d);
        return NULL;
    }
    return L.d;
}

/* ---- the Sin process ------------------------------------------------------------------- */

double aaren_sin_intensity(const aaren_sin_options *o, double t, double phi) {
    return o->base * (1.0 + o->amp * sin(6.283185307179586 * t / o->period + phi));
}

aaren_events *aaren_events_sin(const aaren_sin_options *o, char *err, size_t errlen) {
    aaren_events *d;
    uint64_t rng;
    double lmax;
    long cap_ev;
    int cnt[3], empty;

    if (err && errlen) err[0] = '\0';
    if (!o) {
        aaren_errf(err, errlen, "aaren_events_sin: options are NULL");
        return NULL;
    }
    if (o->n_seq < 3) {
        aaren_errf(err, errlen, "aaren_events_sin: n_seq %d: at least 3 sequences are needed (one per split)", o->n_seq);
        return NULL;
    }
    if (!(o->amp >= 0 && o->amp <= 1)) {
        aaren_errf(err, errlen, "aaren_events_sin: amp %g must be in [0, 1]", o->amp);
        return NULL;
    }
    if (!(o->base > 0 && isfinite(o->base)) || !(o->period > 0 && isfinite(o->period)) ||
        !(o->horizon > 0 && isfinite(o->horizon))) {
        aaren_errf(err, errlen, "aaren_events_sin: base %g, period %g and horizon %g must be positive and finite",
                   o->base, o->period, o->horizon);
        return NULL;
    }
    lmax = o->base * (1.0 + o->amp);
    if (!(lmax * o->horizon * o->n_seq <= SIN_MAX_DRAWS)) {
        aaren_errf(err, errlen, "aaren_events_sin: about %.3g candidate events (base (1 + amp) horizon n_seq); "
                   "at most %.0g", lmax * o->horizon * o->n_seq, SIN_MAX_DRAWS);
        return NULL;
    }
    empty = split_counts(o->n_seq, o->train_frac, o->val_frac, cnt);
    if (empty == -2) {
        aaren_errf(err, errlen, "aaren_events_sin: train_frac %g and val_frac %g must be >= 0 with a sum <= 1",
                   o->train_frac, o->val_frac);
        return NULL;
    }
    if (empty >= 0) {
        aaren_errf(err, errlen, "aaren_events_sin: split %s gets no sequences (n_seq %d, train_frac %g, val_frac %g)",
                   split_name[empty], o->n_seq, o->train_frac, o->val_frac);
        return NULL;
    }

    if (!(d = calloc(1, sizeof *d)) || !(d->off = malloc(sizeof *d->off * ((size_t)o->n_seq + 1))) ||
        !(d->split = malloc(sizeof *d->split * (size_t)o->n_seq)))
        goto oom;
    d->n_seq = o->n_seq;
    d->window_end = o->horizon;
    cap_ev = (long)(o->base * o->horizon * o->n_seq * 1.05) + 1024;   /* the mean count, and a margin */
    if (!(d->time = malloc(sizeof *d->time * (size_t)cap_ev))) goto oom;
    {
        int s = 0;
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < cnt[k]; i++) d->split[s++] = k;
    }

    /* Thinning: candidates from a rate-lmax Poisson process, each kept with probability
     * lambda(t) / lmax. Draws per sequence: the phase (random_phase only), then per
     * candidate the exponential gap and the acceptance uniform. */
    rng = o->seed;
    for (int s = 0; s < d->n_seq; s++) {
        const double phi = o->random_phase ? 6.283185307179586 * aaren_rng_uniform(&rng) : 0.0;
        double t = 0;
        d->off[s] = d->n_events;
        for (;;) {
            t += -log(1.0 - aaren_rng_uniform(&rng)) / lmax;
            if (t >= o->horizon) break;
            if (aaren_rng_uniform(&rng) * lmax >= aaren_sin_intensity(o, t, phi)) continue;
            if (d->n_events == cap_ev) {
                double *tt;
                if (cap_ev > LONG_MAX / 2 || (size_t)cap_ev > SIZE_MAX / 2 / sizeof *tt) goto oom;
                if (!(tt = realloc(d->time, sizeof *tt * (size_t)cap_ev * 2))) goto oom;
                d->time = tt;
                cap_ev *= 2;
            }
            d->time[d->n_events++] = t;
        }
        if (d->n_events - d->off[s] > d->max_len) d->max_len = (int)(d->n_events - d->off[s]);
    }
    d->off[d->n_seq] = d->n_events;
    if (d->n_events > 0) {   /* give back the unused capacity (keeping the array when that fails) */
        double *tt = realloc(d->time, sizeof *tt * (size_t)d->n_events);
        if (tt) d->time = tt;
    }
    return d;

oom:
    aaren_events_free(d);
    aaren_errf(err, errlen, "aaren_events_sin: out of memory");
    return NULL;
}
