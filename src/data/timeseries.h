/* Time-series forecasting data in the Time-Series-Library (TSLib) convention.
 *
 * A CSV file as TSLib reads it (ETTh1/2, ETTm1/2, weather, exchange_rate, ...):
 *   - one header line; its bytes are opaque (kept as raw bytes, any encoding, never rejected);
 *   - first column: a date, YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS[.frac]]; '/' may replace '-'
 *     and month, day and hour may have one digit (exchange_rate.csv: "1990/1/1 0:00");
 *     'T' may replace the space;
 *   - then one or more numeric columns (decimal numbers, optional exponent, spaces around
 *     a number allowed). No quoting. Lines end in LF, CRLF or CR (a UTF-8 byte-order mark
 *     is skipped); the last may lack it; blank
 *     lines are skipped (as pandas does) but still counted in the line numbers of messages.
 * Numbers are read with strtod in the C locale's notation ('.' decimal point).
 *
 * Everything is allocated by aaren_ts_load and released by aaren_ts_free; no other
 * function allocates. Errors: aaren_ts_load returns NULL and writes a one-line message
 * into err naming the file, the fault and, for a row fault, the line (1 = header) and
 * column name, e.g. "ETTh1.csv: line 7, column 'HULL': non-numeric cell 'abc'".
 *
 * Column order. The numeric columns are kept in file order, except that the target
 * column (when present) is moved to the end, as TSLib's Dataset_Custom does
 * ("date + others + target"); for the six shared files the target OT is already last,
 * so nothing moves. Column c below is a numeric column in this order (the date is not
 * a column), 0 <= c < aaren_ts_cols().
 *
 * Splits (row indices into the data rows, header excluded; [begin, end)):
 *   ETT_HOUR  : train [0, 8640), val [8640 - L, 11520), test [11520 - L, 14400)
 *               (12/4/4 months of 30 days, hourly; rows >= 14400 unused)
 *   ETT_MINUTE: the same with every border x 4 (15-minute steps)
 *   RATIO     : num_train = (long)(n*0.7), num_test = (long)(n*0.2) (double arithmetic
 *               and truncation, as Python's int(len*0.7)), num_val = n - num_train - num_test;
 *               train [0, num_train), val [num_train - L, num_train + num_val),
 *               test [n - num_test - L, n)
 *   with L = seq_len. AUTO picks ETT_HOUR for a file name (basename) starting "ETTh",
 *   ETT_MINUTE for "ETTm", else RATIO.
 * Window i of a split that starts at row b (0 <= i < n_windows = rows - seq_len - pred_len + 1):
 *   x = rows [b + i, b + i + seq_len) of the input columns (+ calendar features),
 *   y = rows [b + i + seq_len, b + i + seq_len + pred_len) of the output columns.
 * Every split must hold at least one window; otherwise the load fails naming the split.
 *
 * Scaler: per column mean and population standard deviation (ddof = 0, sklearn's
 * StandardScaler) over the train rows, in double; a column with zero spread gets std 1
 * (as sklearn does). Applied to every row unless no_scale.
 *
 * Features: M = all columns in, all out; S = target in, target out; MS = all columns in,
 * target out. d_in = (input columns) + (calendar features), d_out = output columns.
 *
 * Calendar features (TSLib timeF), appended after the input columns of x, in this order:
 *   FREQ_H: hour/23 - 0.5, day_of_week/6 - 0.5 (Monday = 0), (day_of_month - 1)/30 - 0.5,
 *           (day_of_year - 1)/365 - 0.5                                        (4 features)
 *   FREQ_T: minute/59 - 0.5 first, then the four above                         (5 features)
 */
#ifndef AAREN_DATA_TIMESERIES_H
#define AAREN_DATA_TIMESERIES_H
#include <stddef.h>

typedef struct aaren_ts aaren_ts;

typedef enum { AAREN_TS_M = 0, AAREN_TS_S = 1, AAREN_TS_MS = 2 } aaren_ts_features;
typedef enum {
    AAREN_TS_SPLIT_AUTO = 0,       /* from the file name, see above */
    AAREN_TS_SPLIT_ETT_HOUR = 1,
    AAREN_TS_SPLIT_ETT_MINUTE = 2,
    AAREN_TS_SPLIT_RATIO = 3,
    AAREN_TS_SPLIT_NONE = 4        /* recent rows to forecast from: no splits, no windows; at
                                      least seq_len rows; the scaler comes from the options */
} aaren_ts_split_rule;
/* AUTO: calendar features at the file's frequency as the split rule tells it: 't' for the
 * ETT minute files, 'h' otherwise (aaren_ts_freq_used says which). */
typedef enum { AAREN_TS_FREQ_NONE = 0, AAREN_TS_FREQ_H = 1, AAREN_TS_FREQ_T = 2, AAREN_TS_FREQ_AUTO = 3 } aaren_ts_freq;
enum { AAREN_TS_TRAIN = 0, AAREN_TS_VAL = 1, AAREN_TS_TEST = 2 };
typedef enum { AAREN_TS_INPUT = 0, AAREN_TS_OUTPUT = 1 } aaren_ts_side;

typedef struct {
    int seq_len;                   /* lookback L >= 1 */
    int pred_len;                  /* horizon H >= 1 */
    const char *target;            /* target column name (exact bytes); NULL means "OT" */
    aaren_ts_features features;    /* M, S or MS */
    aaren_ts_split_rule split;     /* AUTO by default */
    aaren_ts_freq freq;            /* calendar features: none, 'h', 't' or AUTO */
    int no_scale;                  /* non-zero: keep raw values (the scaler is still fitted) */
    const double *scaler_mean;     /* [cols] with scaler_std: this scaler instead of one fitted */
    const double *scaler_std;      /*   on the train rows (a saved model's); NULL: fit it */
    int scaler_cols;               /* their length: the file must have this many columns */
} aaren_ts_options;

/* One date, as read from the first column (seconds truncated to whole seconds). */
typedef struct { int year, month, day, hour, minute, second; } aaren_ts_date;

/* Defaults: seq_len 96, pred_len 96, target "OT", M, AUTO split, no calendar features,
 * scaled. A zero-initialised struct means the same except seq_len = pred_len = 0,
 * which the loader rejects. */
void aaren_ts_options_init(aaren_ts_options *opt);

/* Reads the CSV at path, resolves the split, fits the scaler and prepares the windows.
 * opt NULL means aaren_ts_options_init's defaults. Returns NULL on failure (message in
 * err, errlen bytes, always terminated). Validated: the file is non-empty; the header has
 * a date column and >= 1 numeric column; every row has exactly as many cells as the header;
 * no empty, non-numeric, NaN/Inf or out-of-float-range cell; every date is a real calendar
 * date; >= 1 data row; the target column exists (S and MS; in M an absent target only
 * leaves the order alone); every split holds at least one window. */
aaren_ts *aaren_ts_load(const char *path, const aaren_ts_options *opt, char *err, size_t errlen);
void aaren_ts_free(aaren_ts *ts);          /* NULL is fine */

/* ---- sizes and names */
long aaren_ts_rows(const aaren_ts *ts);    /* data rows n (header excluded) */
int  aaren_ts_cols(const aaren_ts *ts);    /* numeric columns (date excluded) */
/* Raw header bytes of numeric column c (NUL-terminated; a NUL inside the header cuts the
 * name short); NULL when c is out of range. */
const char *aaren_ts_col_name(const aaren_ts *ts, int c);
int  aaren_ts_target_col(const aaren_ts *ts);  /* column of the target, -1 when absent (M) */
int  aaren_ts_seq_len(const aaren_ts *ts);
int  aaren_ts_pred_len(const aaren_ts *ts);
int  aaren_ts_d_in(const aaren_ts *ts);    /* input columns + calendar features */
int  aaren_ts_d_out(const aaren_ts *ts);   /* output columns */
int  aaren_ts_n_time(const aaren_ts *ts);  /* calendar features: 0, 4 (h) or 5 (t) */
aaren_ts_freq aaren_ts_freq_used(const aaren_ts *ts);   /* NONE, H or T (AUTO resolved) */
/* Columns feeding x ([d_in - n_time]) and y ([d_out]), in order. */
const int *aaren_ts_in_cols(const aaren_ts *ts);
const int *aaren_ts_out_cols(const aaren_ts *ts);
aaren_ts_split_rule aaren_ts_split_kind(const aaren_ts *ts);  /* resolved: never AUTO */

/* ---- splits: split is AAREN_TS_TRAIN, _VAL or _TEST */
/* Row range [*begin, *end) of the split; returns its window count, or -1 (and *begin =
 * *end = 0) for a bad split. begin / end may be NULL. */
long aaren_ts_split_rows(const aaren_ts *ts, int split, long *begin, long *end);
long aaren_ts_n_windows(const aaren_ts *ts, int split);   /* -1 for a bad split */

/* ---- data (all pointers valid until aaren_ts_free) */
const float *aaren_ts_data(const aaren_ts *ts);    /* [n, cols] scaled (raw when no_scale) */
const double *aaren_ts_raw(const aaren_ts *ts);    /* [n, cols] as read (strtod) */
const aaren_ts_date *aaren_ts_dates(const aaren_ts *ts);   /* [n] */
const float *aaren_ts_time(const aaren_ts *ts);    /* [n, n_time]; NULL when n_time = 0 */
const double *aaren_ts_mean(const aaren_ts *ts);   /* [cols] scaler mean (train rows) */
const double *aaren_ts_std(const aaren_ts *ts);    /* [cols] scaler std (train rows, ddof 0) */
int aaren_ts_scaled(const aaren_ts *ts);           /* 1 when aaren_ts_data is scaled */

/* Fills a batch from B window indices of one split (the caller shuffles):
 *   x: [B, seq_len, d_in]   input columns then calendar features
 *   y: [B, pred_len, d_out] output columns
 * y may be NULL (inputs only). Returns 0, or -1 (writing nothing) when split is bad,
 * B < 0, or an index is outside [0, n_windows). */
int aaren_ts_batch(const aaren_ts *ts, int split, const long *idx, int B, float *x, float *y);

/* In-place scaler on n rows: side INPUT: v is [n, d_in] and its first d_in - n_time entries
 * per row are input columns (calendar features are left alone); side OUTPUT: v is
 * [n, d_out]. scale: (v - mean) / std; unscale: v * std + mean (in double). They apply the
 * fitted scaler whether or not the data were scaled (see aaren_ts_scaled). */
void aaren_ts_scale(const aaren_ts *ts, aaren_ts_side side, float *v, long n);
void aaren_ts_unscale(const aaren_ts *ts, aaren_ts_side side, float *v, long n);

/* Date helpers (no allocation). aaren_ts_parse_date: 0 on success, -1 for a malformed or
 * impossible date (s is n bytes, not necessarily terminated). */
int  aaren_ts_parse_date(const char *s, size_t n, aaren_ts_date *d);
int  aaren_ts_day_of_week(const aaren_ts_date *d);  /* Monday = 0 .. Sunday = 6 */
int  aaren_ts_day_of_year(const aaren_ts_date *d);  /* 1 .. 366 */
/* Seconds since 1970-01-01 00:00:00 of a date (proleptic Gregorian, no time zone), and back. */
long long aaren_ts_date_seconds(const aaren_ts_date *d);
void aaren_ts_date_from_seconds(long long s, aaren_ts_date *d);
/* Writes the n_time features of freq for one date into out; returns their count (0, 4, 5). */
int  aaren_ts_time_features(const aaren_ts_date *d, aaren_ts_freq freq, float *out);

#endif
