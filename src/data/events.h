/* Event sequences for temporal point processes: loaders and the synthetic "Sin" process.
 *
 * A data set is n_seq sequences of events; event e of the whole set has an absolute time
 * time[e] (double, non-decreasing within its sequence) and, for marked data, a mark
 * mark[e] in 0..n_marks-1. Sequence s holds events off[s] .. off[s+1]-1 and belongs to
 * split[s] (AAREN_EV_TRAIN, AAREN_EV_VAL or AAREN_EV_TEST).
 *
 * CSV files (aaren_events_load_csv): a header line naming the columns (case-insensitive,
 * any order, other columns ignored), then one event per line:
 *   sequence id (required): `seq_id`, `sequence` or `seq`: any text without commas;
 *   time (required):        `time`, `arrival_time` or `time_since_start`: a finite decimal;
 *   mark (optional):        `mark`, `type_event` or `type`: an integer >= 0;
 *   split (optional):       `split`: train | dev | val | valid | validation | test.
 * A sequence is a run of consecutive lines with the same (split, sequence id); the same
 * (split, sequence id) appearing again after another sequence is an error. Without a split
 * column, sequences are split in file order: the first floor(train_frac * n) are TRAIN, the
 * next floor(val_frac * n) VAL, the rest TEST (Meta-TPP's in-order 60/20/20 by default).
 * Lines end in LF, CRLF or CR; a UTF-8 byte-order mark is skipped; blank lines are skipped; numbers are read in the C locale.
 * This reads ../shared/data/events/MIMIC/mimic_events.csv (split column, type_event
 * 0..74) and Wiki/wikipedia_events.csv (no split column, mark = user id) as they are.
 *
 * Errors: NULL and one line in err naming the file, the line (1-based; 1 = header) and the
 * fault: unreadable or empty file; a required column missing (named); a wrong number of
 * cells; a non-numeric or non-finite time; a mark that is not an integer, negative, or (when
 * options.n_marks > 0) >= n_marks, or >= options.max_marks; a sequence longer than
 * options.max_seq_len events; a time smaller than the previous event's of the same
 * sequence ("times must be non-decreasing"); an unknown split name; a sequence id that
 * reappears; no events; a split left with no sequences.
 *
 * Everything is allocated by the loader / generator and released by aaren_events_free. */
#ifndef AAREN_DATA_EVENTS_H
#define AAREN_DATA_EVENTS_H
#include <stddef.h>
#include <stdint.h>

enum { AAREN_EV_TRAIN = 0, AAREN_EV_VAL = 1, AAREN_EV_TEST = 2 };

typedef struct {
    int n_seq;
    long n_events;
    int n_marks;          /* 0: unmarked (mark is NULL) */
    long *off;            /* [n_seq + 1] */
    double *time;         /* [n_events] absolute times */
    int *mark;            /* [n_events] or NULL */
    int *split;           /* [n_seq] */
    int max_len;          /* longest sequence */
    double window_end;    /* > 0: every sequence was observed until this time (Sin: the horizon),
                           * so its log-likelihood has a survival term after its last event;
                           * 0 (CSV files): each sequence's window ends at its last event */
} aaren_events;

/* Resource bounds (a small file must not ask for gigabytes): the number of distinct marks the
 * model's embedding and output layer are sized for, and events per sequence. */
enum { AAREN_EV_MAX_MARKS = 100000, AAREN_EV_MARKS_CEIL = 10000000, AAREN_EV_MAX_SEQ_LEN = 100000 };

typedef struct {
    int n_marks;          /* > 0: marks must be below it; 0: n_marks = largest mark + 1 */
    int max_marks;        /* marks must be below it [AAREN_EV_MAX_MARKS]; at most AAREN_EV_MARKS_CEIL */
    long max_seq_len;     /* events per sequence at most [AAREN_EV_MAX_SEQ_LEN] */
    int all_test;         /* non-zero: every sequence is TEST (sequences to predict; no split rules) */
    double train_frac, val_frac;   /* files without a split column [0.6, 0.2] */
} aaren_events_options;

void aaren_events_options_init(aaren_events_options *o);
aaren_events *aaren_events_load_csv(const char *path, const aaren_events_options *o, char *err, size_t errlen);

/* The synthetic "Sin" process: an inhomogeneous Poisson process on [0, horizon) with
 * intensity lambda(t) = base * (1 + amp * sin(2 pi t / period + phase_s)), simulated by
 * thinning (Lewis and Shedler) with lambda_max = base * (1 + amp); phase_s = 0, or with
 * random_phase drawn uniformly in [0, 2 pi) per sequence (then a model must infer the phase
 * from the events). Unmarked. Splits in order with the fractions above. Everything from seed. */
typedef struct {
    int n_seq;            /* [1000] */
    double horizon;       /* [100] */
    double base, amp, period;   /* [1, 0.9, 10] */
    int random_phase;     /* [0] */
    double train_frac, val_frac;   /* [0.6, 0.2] */
    uint64_t seed;        /* [1] */
} aaren_sin_options;

void aaren_sin_options_init(aaren_sin_options *o);
/* NULL with a message on bad parameters (amp outside [0, 1], non-positive base, period or
 * horizon, n_seq < 3) or no memory. Sequences left empty by chance get no events and are
 * kept (length 0). */
aaren_events *aaren_events_sin(const aaren_sin_options *o, char *err, size_t errlen);
/* The process's intensity at t for a sequence of phase phi (for tests and the oracle NLL). */
double aaren_sin_intensity(const aaren_sin_options *o, double t, double phi);

void aaren_events_free(aaren_events *d);
#endif
