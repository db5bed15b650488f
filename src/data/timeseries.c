/* Time-series CSV loader, TSLib splits, scaler, calendar features, windows (see timeseries.h). */
#include "data/timeseries.h"
#include "base/common.h"
#include "data/text.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct aaren_ts {
    long n;                  /* data rows */
    int cols;                /* numeric columns */
    char *names_buf;         /* header copy, cells NUL-terminated */
    const char **names;      /* [cols] numeric column names, target moved last */
    aaren_ts_date *dates;    /* [n] */
    double *raw;             /* [n, cols] */
    float *data;             /* [n, cols] scaled (or raw) */
    float *time;             /* [n, n_time] or NULL */
    double *mean, *std;      /* [cols] */
    int *in_cols, *out_cols; /* [n_in], [d_out] */
    int n_in, n_time, d_in, d_out;
    int target;              /* column index or -1 */
    int seq_len, pred_len, scaled;
    aaren_ts_split_rule rule;
    aaren_ts_freq freq;      /* calendar features as used (AUTO resolved) */
    long b1[3], b2[3], windows[3];
};

static const char *const split_name[3] = { "train", "val", "test" };

void aaren_ts_options_init(aaren_ts_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->seq_len = 96;
    opt->pred_len = 96;
    opt->target = "OT";
    opt->features = AAREN_TS_M;
    opt->split = AAREN_TS_SPLIT_AUTO;
    opt->freq = AAREN_TS_FREQ_NONE;
}

void aaren_ts_free(aaren_ts *ts) {
    if (!ts) return;
    free(ts->names_buf);
    free((void *)ts->names);
    free(ts->dates);
    free(ts->raw);
    free(ts->data);
    free(ts->time);
    free(ts->mean);
    free(ts->std);
    free(ts->in_cols);
    free(ts->out_cols);
    free(ts);
}

/* ---- dates ---------------------------------------------------------------------------- */

static int is_leap(int y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

static int days_in_month(int y, int m) {
    static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads min..max decimal digits at s[*i] (bounded by n); -1 when fewer than min. */
static int read_digits(const char *s, size_t n, size_t *i, int min, int max) {
    int v = 0, k = 0;
    while (*i < n && k < max && s[*i] >= '0' && s[*i] <= '9') {
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        k++;
    }
    return k >= min ? v : -1;
}

int aaren_ts_parse_date(const char *s, size_t n, aaren_ts_date *d) {
    size_t i = 0;
    char sep;
    aaren_ts_date t = { 0, 0, 0, 0, 0, 0 };
    if (!s || !d) return -1;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if ((t.year = read_digits(s, n, &i, 4, 4)) < 0 || i >= n) return -1;
    sep = s[i++];
    if (sep != '-' && sep != '/') return -1;
    if ((t.month = read_digits(s, n, &i, 1, 2)) < 0 || i >= n || s[i++] != sep) return -1;
    if ((t.day = read_digits(s, n, &i, 1, 2)) < 0) return -1;
    if (i < n) {
        if (s[i] != ' ' && s[i] != 'T') return -1;
        i++;
        if ((t.hour = read_digits(s, n, &i, 1, 2)) < 0 || i >= n || s[i++] != ':') return -1;
        if ((t.minute = read_digits(s, n, &i, 2, 2)) < 0) return -1;
        if (i < n && s[i] == ':') {
            i++;
            if ((t.second = read_digits(s, n, &i, 2, 2)) < 0) return -1;
            if (i < n && s[i] == '.') {     /* fraction of a second: checked, dropped */
                size_t j = ++i;
                while (i < n && s[i] >= '0' && s[i] <= '9') i++;
                if (i == j) return -1;
            }
        }
    }
    if (i != n) return -1;
    if (t.year < 1 || t.month < 1 || t.month > 12 || t.day < 1 ||
        t.day > days_in_month(t.year, t.month) || t.hour > 23 || t.minute > 59 || t.second > 59)
        return -1;
    *d = t;
    return 0;
}

/* Day of the week, Monday = 0 .. Sunday = 6 (pandas' dayofweek). The date is turned into a
 * day count since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil: years start in March so the leap day falls at the end of a year; a
 * 400-year era has 146097 days); 1970-01-01 was a Thursday (= 3), so the weekday is
 * (days + 3) mod 7, taken non-negative. */
int aaren_ts_day_of_week(const aaren_ts_date *d) {
    const long y = (long)d->year - (d->month <= 2);
    const long era = (y >= 0 ? y : y - 399) / 400;
    const long yoe = y - era * 400;                                             /* 0..399 */
    const long mp = d->month > 2 ? d->month - 3 : d->month + 9;                 /* March = 0 */
    const long doy = (153 * mp + 2) / 5 + d->day - 1;                           /* 0..365 */
    const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                     /* 0..146096 */
    const long days = era * 146097 + doe - 719468;
    return (int)(((days + 3) % 7 + 7) % 7);
}

/* Days since 1970-01-01 of a civil date: the year taken to start in March, so that the leap
 * day falls last; 400-year eras of 146097 days. */
static long long days_of(long y, long m, long d) {
    y -= m <= 2;
    const long era = (y >= 0 ? y : y - 399) / 400;
    const long yoe = y - era * 400;
    const long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    return (long long)era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

long long aaren_ts_date_seconds(const aaren_ts_date *d) {
    return days_of(d->year, d->month, d->day) * 86400 + d->hour * 3600LL + d->minute * 60LL + d->second;
}

void aaren_ts_date_from_seconds(long long s, aaren_ts_date *d) {
    long long days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
    long long rem = s - days * 86400;
    days += 719468;
    const long long era = (days >= 0 ? days : days - 146096) / 146097;
    const long long doe = days - era * 146097;
    const long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const long long mp = (5 * doy + 2) / 153;
    d->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    d->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    d->year = (int)(yoe + era * 400 + (d->month <= 2));
    d->hour = (int)(rem / 3600);
    d->minute = (int)(rem / 60 % 60);
    d->second = (int)(rem % 60);
}

/* Day of the year, 1..366: days in the months before this one (a table of cumulative
 * lengths of a common year, + 1 after February in a leap year), plus the day of month. */
int aaren_ts_day_of_year(const aaren_ts_date *d) {
    static const int before[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    return before[d->month - 1] + (d->month > 2 && is_leap(d->year)) + d->day;
}

/* TSLib utils/timefeatures.py: values in double, stored as float. */
int aaren_ts_time_features(const aaren_ts_date *d, aaren_ts_freq freq, float *out) {
    int k = 0;
    if (freq != AAREN_TS_FREQ_H && freq != AAREN_TS_FREQ_T) return 0;
    if (freq == AAREN_TS_FREQ_T) out[k++] = (float)(d->minute / 59.0 - 0.5);
    out[k++] = (float)(d->hour / 23.0 - 0.5);
    out[k++] = (float)(aaren_ts_day_of_week(d) / 6.0 - 0.5);
    out[k++] = (float)((d->day - 1) / 30.0 - 0.5);
    out[k++] = (float)((aaren_ts_day_of_year(d) - 1) / 365.0 - 0.5);
    return k;
}

/* ---- numbers -------------------------------------------------------------------------- */

/* A cell's number: spaces around it allowed, within float range. */
static aaren_num parse_number(char *s, size_t n, double *out) {
    size_t a = 0, b = n;
    double v;
    aaren_num rc;
    aaren_text_trim(s, &a, &b);
    rc = aaren_text_number(s, a, b, &v);
    if (rc != AAREN_NUM_OK) return rc;
    if (!(fabs(v) <= FLT_MAX)) return AAREN_NUM_HUGE;
    *out = v;
    return AAREN_NUM_OK;
}

/* ---- loading -------------------------------------------------------------------------- */

/* Whole file into a malloc'd buffer with one spare byte; read in chunks so that pipes,
 * directories and files whose size cannot be asked for fail cleanly. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    size_t cap = 1 << 16, n = 0;
    char *buf;
    if (!f) {
        aaren_file_err(err, errlen, path, "cannot open: %s", strerror(errno));
        return NULL;
    }
    buf = malloc(cap);
    for (;;) {
        size_t got;
        if (!buf) {
            fclose(f);
            aaren_file_err(err, errlen, path, "out of memory reading %zu bytes", n);
            return NULL;
        }
        got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (n < cap - 1) {
            if (ferror(f)) {
                const int e = errno;
                free(buf);
                fclose(f);
                aaren_file_err(err, errlen, path, "cannot read: %s", e ? strerror(e) : "I/O error");
                return NULL;
            }
            if (feof(f)) break;
            continue;
        }
        if (cap > SIZE_MAX / 2) {
            free(buf);
            buf = NULL;
            continue;
        }
        {
            char *nb = realloc(buf, cap * 2);
            if (!nb) free(buf);
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    buf[n] = '\0';
    /* classic Mac files end their lines in a lone CR: make those LF (CRLF stays as it is) */
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\r' && buf[i + 1] != '\n') buf[i] = '\n';
    if (n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {   /* a UTF-8 byte-order mark is not data */
        memmove(buf, buf + 3, n - 2);
        n -= 3;
    }
    *len = n;
    return buf;
}

/* Length of a name in messages (long header names are cut). */
static int show(const char *s) {
    const size_t n = strlen(s);
    return n > 48 ? 48 : (int)n;
}

static int cell_err(char *err, size_t errlen, const char *path, long line, const char *col,
                    const char *what, const char *cell, size_t n, int show_cell) {
    const int shown = n > 40 ? 40 : (int)n;
    if (!show_cell)
        return aaren_file_err(err, errlen, path, "line %ld, column '%.*s': %s", line, show(col), col, what);
    return aaren_file_err(err, errlen, path, "line %ld, column '%.*s': %s: '%.*s%s'", line,
                          show(col), col, what, shown, cell, n > 40 ? "..." : "");
}

static const char *base_name(const char *path) {
    const char *b = path;
    for (const char *p = path; *p; p++)
        if (*p == '/' || *p == '\\') b = p + 1;
    return b;
}

/* Borders of the three splits; 0, or -1 with the message. */
static int make_splits(aaren_ts *ts, const char *path, char *err, size_t errlen) {
    const long n = ts->n, L = ts->seq_len, W = (long)ts->seq_len + ts->pred_len;
    if (ts->rule == AAREN_TS_SPLIT_NONE) {   /* rows to forecast from */
        if (n < L)
            return aaren_file_err(err, errlen, path, "%ld data rows; forecasting needs the last seq_len = %ld", n, L);
        return 0;
    }
    if (ts->rule == AAREN_TS_SPLIT_ETT_HOUR || ts->rule == AAREN_TS_SPLIT_ETT_MINUTE) {
        const long k = ts->rule == AAREN_TS_SPLIT_ETT_HOUR ? 1 : 4;
        const long month = 30 * 24 * k;
        ts->b1[0] = 0;                 ts->b2[0] = 12 * month;
        ts->b1[1] = 12 * month - L;    ts->b2[1] = 12 * month + 4 * month;
        ts->b1[2] = 16 * month - L;    ts->b2[2] = 12 * month + 8 * month;
        if (n < ts->b2[2])
            return aaren_file_err(err, errlen, path,
                                  "too few rows for the %s ETT split: it needs %ld data rows "
                                  "(12/4/4 months), the file has %ld",
                                  k == 1 ? "hourly" : "15-minute", ts->b2[2], n);
    } else {
        /* TSLib Dataset_Custom: int(len(df_raw) * 0.7), int(len(df_raw) * 0.2) */
        const long num_train = (long)((double)n * 0.7), num_test = (long)((double)n * 0.2);
        const long num_val = n - num_train - num_test;
        ts->b1[0] = 0;                   ts->b2[0] = num_train;
        ts->b1[1] = num_train - L;       ts->b2[1] = num_train + num_val;
        ts->b1[2] = n - num_test - L;    ts->b2[2] = n;
    }
    for (int s = 0; s < 3; s++) {
        const long rows = ts->b2[s] - ts->b1[s];
        if (rows < W)
            return aaren_file_err(err, errlen, path,
                                  "%s split too short: %ld rows, one window needs seq_len + "
                                  "pred_len = %d + %d = %ld rows (file has %ld data rows)",
                                  split_name[s], rows, ts->seq_len, ts->pred_len, W, n);
        if (ts->b1[s] < 0)   /* unreachable after the train check, kept as a guard */
            return aaren_file_err(err, errlen, path, "%s split would start at row %ld",
                                  split_name[s], ts->b1[s]);
        ts->windows[s] = rows - W + 1;
    }
    return 0;
}

/* sklearn's _is_constant_feature: var <= n*eps*var + (n*mean*eps)^2 -> scale 1. */
static void fit_scaler(aaren_ts *ts) {
    const long m = ts->b2[0];
    for (int c = 0; c < ts->cols; c++) {
        double sum = 0, ss = 0, mean, var;
        for (long r = 0; r < m; r++) sum += ts->raw[(size_t)r * ts->cols + c];
        mean = sum / (double)m;
        for (long r = 0; r < m; r++) {
            const double dv = ts->raw[(size_t)r * ts->cols + c] - mean;
            ss += dv * dv;
        }
        var = ss / (double)m;
        {
            const double eps = DBL_EPSILON, nm = (double)m * mean * eps;
            ts->mean[c] = mean;
            ts->std[c] = var <= (double)m * eps * var + nm * nm ? 1.0 : sqrt(var);
        }
    }
}

aaren_ts *aaren_ts_load(const char *path, const aaren_ts_options *opt, char *err, size_t errlen) {
    aaren_ts_options defaults;
    aaren_ts *ts = NULL;
    char *buf = NULL, *p, *end, *line_end;
    size_t len = 0, hlen, hcells = 1;
    const char *target;
    int *perm = NULL;
    long line = 1, r = 0, maxrows;

    if (err && errlen) err[0] = '\0';
    if (!path) {
        aaren_errf(err, errlen, "aaren_ts_load: path is NULL");
        return NULL;
    }
    if (!opt) {
        aaren_ts_options_init(&defaults);
        opt = &defaults;
    }
    target = opt->target ? opt->target : "OT";
    if (opt->seq_len < 1 || opt->pred_len < 1) {
        aaren_file_err(err, errlen, path, "seq_len (%d) and pred_len (%d) must be >= 1",
                       opt->seq_len, opt->pred_len);
        return NULL;
    }
    if ((unsigned)opt->features > (unsigned)AAREN_TS_MS ||
        (unsigned)opt->split > (unsigned)AAREN_TS_SPLIT_NONE ||
        (unsigned)opt->freq > (unsigned)AAREN_TS_FREQ_AUTO) {
        aaren_file_err(err, errlen, path, "bad option: features %d, split %d, freq %d",
                       (int)opt->features, (int)opt->split, (int)opt->freq);
        return NULL;
    }
    if (!(buf = read_file(path, &len, err, errlen))) return NULL;
    if (!(ts = calloc(1, sizeof *ts))) goto oom;
    ts->seq_len = opt->seq_len;
    ts->pred_len = opt->pred_len;
    ts->target = -1;
    end = buf + len;

    /* ---- header: opaque bytes split at commas */
    if (len == 0) {
        aaren_file_err(err, errlen, path, "empty file: no header line");
        goto fail;
    }
    line_end = memchr(buf, '\n', len);
    if (!line_end) line_end = end;
    hlen = (size_t)(line_end - buf);
    if (hlen && buf[hlen - 1] == '\r') hlen--;
    if (hlen == 0) {
        aaren_file_err(err, errlen, path, "line 1: empty header line");
        goto fail;
    }
    for (size_t i = 0; i < hlen; i++) hcells += buf[i] == ',';
    if (hcells < 2) {
        aaren_file_err(err, errlen, path,
                       "header has 1 column; need a date column and at least one numeric column");
        goto fail;
    }
    if (hcells - 1 > (size_t)INT_MAX / 2) {
        aaren_file_err(err, errlen, path, "header has too many columns (%zu)", hcells);
        goto fail;
    }
    ts->cols = (int)(hcells - 1);
    if (!(ts->names_buf = malloc(hlen + 1)) || !(ts->names = malloc(sizeof(char *) * ts->cols)) ||
        !(perm = malloc(sizeof(int) * ts->cols)))
        goto oom;
    memcpy(ts->names_buf, buf, hlen);
    ts->names_buf[hlen] = '\0';
    {
        /* file column j (0-based among numeric ones) goes to column perm[j]: the target
         * moves last. Cells are found by position (a NUL byte inside a name only cuts it). */
        const size_t tlen = strlen(target);
        char *q = ts->names_buf, *cellp = q;
        int j = -1, t = -1;
        for (size_t i = 0; i <= hlen; i++) {
            if (i < hlen && q[i] != ',') continue;
            q[i] = '\0';
            if (j >= 0) {
                ts->names[j] = cellp;
                perm[j] = j;
                if (t < 0 && (size_t)(q + i - cellp) == tlen && memcmp(cellp, target, tlen) == 0) t = j;
            }
            j++;
            cellp = q + i + 1;
        }
        if (t >= 0) {
            const char *tn = ts->names[t];
            for (j = t + 1; j < ts->cols; j++) {
                perm[j] = j - 1;
                ts->names[j - 1] = ts->names[j];
            }
            perm[t] = ts->cols - 1;
            ts->names[ts->cols - 1] = tn;
            ts->target = ts->cols - 1;
        } else if (opt->features != AAREN_TS_M) {
            aaren_file_err(err, errlen, path,
                           "target column '%.*s' not found in the header (needed by features %s)",
                           show(target), target, opt->features == AAREN_TS_S ? "S" : "MS");
            goto fail;
        }
    }

    /* ---- data rows. A valid row holds cols + 1 non-empty cells and cols commas, so at
     * least 2 * cols + 1 bytes: that bounds the rows to allocate by the file size. */
    p = line_end < end ? line_end + 1 : end;
    {
        size_t newlines = 0;
        for (char *q = p; q < end && (q = memchr(q, '\n', (size_t)(end - q))); q++) newlines++;
        maxrows = (long)(newlines + 1);
        {
            const size_t bound = (size_t)(end - p) / (2 * (size_t)ts->cols + 1) + 1;
            if ((size_t)maxrows > bound) maxrows = (long)bound;
        }
    }
    if ((size_t)maxrows > SIZE_MAX / sizeof(double) / (size_t)ts->cols) goto oom;
    if (!(ts->raw = malloc(sizeof(double) * (size_t)maxrows * ts->cols)) ||
        !(ts->dates = malloc(sizeof(aaren_ts_date) * (size_t)maxrows)))
        goto oom;
    while (p < end) {
        char *le = memchr(p, '\n', (size_t)(end - p)), *c;
        size_t n, cells = 1;
        if (!le) le = end;
        n = (size_t)(le - p);
        line++;
        if (n && p[n - 1] == '\r') n--;
        if (n == 0) {          /* blank line: skipped, as pandas does */
            p = le < end ? le + 1 : end;
            continue;
        }
        for (char *q = p; (q = memchr(q, ',', (size_t)(p + n - q))); q++) cells++;
        if (cells != hcells) {
            aaren_file_err(err, errlen, path, "line %ld: ragged row: %zu cells, the header has %zu",
                           line, cells, hcells);
            goto fail;
        }
        if (r >= maxrows) {    /* cannot happen: every stored row is at least 2*cols+1 bytes */
            aaren_file_err(err, errlen, path, "line %ld: row count exceeds bound", line);
            goto fail;
        }
        c = p;
        for (size_t k = 0; k < hcells; k++) {
            char *ce = k + 1 < hcells ? memchr(c, ',', (size_t)(p + n - c)) : p + n;
            const size_t cl = (size_t)(ce - c);
            if (k == 0) {
                if (aaren_ts_parse_date(c, cl, &ts->dates[r]) != 0) {
                    const int shown = cl > 40 ? 40 : (int)cl;
                    aaren_file_err(err, errlen, path,
                                   "line %ld: bad date '%.*s%s' (expected YYYY-MM-DD[ HH:MM[:SS]])",
                                   line, shown, c, cl > 40 ? "..." : "");
                    goto fail;
                }
            } else {
                const int col = perm[k - 1];
                double v = 0;
                const aaren_num rc = parse_number(c, cl, &v);
                if (rc != AAREN_NUM_OK) {
                    static const char *const what[] = { "", "empty cell", "non-numeric cell",
                                                        "NaN/Inf value not allowed",
                                                        "value out of float range" };
                    cell_err(err, errlen, path, line, ts->names[col], what[rc], c, cl, rc != AAREN_NUM_EMPTY);
                    goto fail;
                }
                ts->raw[(size_t)r * ts->cols + col] = v;
            }
            c = ce + 1;
        }
        r++;
        p = le < end ? le + 1 : end;
    }
    ts->n = r;
    free(buf);
    buf = NULL;
    free(perm);
    perm = NULL;
    if (ts->n == 0) {
        aaren_file_err(err, errlen, path, "no data rows after the header");
        goto fail;
    }

    /* ---- splits */
    ts->rule = opt->split;
    if (ts->rule == AAREN_TS_SPLIT_AUTO) {
        const char *b = base_name(path);
        ts->rule = strncmp(b, "ETTh", 4) == 0   ? AAREN_TS_SPLIT_ETT_HOUR
                   : strncmp(b, "ETTm", 4) == 0 ? AAREN_TS_SPLIT_ETT_MINUTE
                                                : AAREN_TS_SPLIT_RATIO;
    }
    if (make_splits(ts, path, err, errlen) != 0) goto fail;

    /* ---- scaler on the train rows, applied to all */
    if (!(ts->mean = malloc(sizeof(double) * ts->cols)) || !(ts->std = malloc(sizeof(double) * ts->cols)) ||
        !(ts->data = malloc(sizeof(float) * (size_t)ts->n * ts->cols)))
        goto oom;
    if (opt->scaler_mean && opt->scaler_std) {
        if (opt->scaler_cols != ts->cols) {
            aaren_file_err(err, errlen, path, "%d numeric columns; the model was trained on %d", ts->cols, opt->scaler_cols);
            goto fail;
        }
        memcpy(ts->mean, opt->scaler_mean, sizeof(double) * ts->cols);
        memcpy(ts->std, opt->scaler_std, sizeof(double) * ts->cols);
    } else if (ts->rule == AAREN_TS_SPLIT_NONE) {
        aaren_file_err(err, errlen, path, "rows to forecast from need the model's scaler");
        goto fail;
    } else {
        fit_scaler(ts);
    }
    ts->scaled = !opt->no_scale;
    for (long i = 0; i < ts->n; i++)
        for (int c = 0; c < ts->cols; c++) {
            const size_t at = (size_t)i * ts->cols + c;
            const float v = ts->scaled ? (float)((ts->raw[at] - ts->mean[c]) / ts->std[c]) : (float)ts->raw[at];
            if (!isfinite(v)) {
                aaren_file_err(err, errlen, path,
                               "column '%.*s': scaled value of data row %ld overflows float "
                               "(train mean %g, std %g)",
                               show(ts->names[c]), ts->names[c], i, ts->mean[c], ts->std[c]);
                goto fail;
            }
            ts->data[at] = v;
        }

    /* ---- feature mode */
    ts->freq = opt->freq != AAREN_TS_FREQ_AUTO ? opt->freq
               : ts->rule == AAREN_TS_SPLIT_ETT_MINUTE ? AAREN_TS_FREQ_T : AAREN_TS_FREQ_H;
    ts->n_time = ts->freq == AAREN_TS_FREQ_H ? 4 : ts->freq == AAREN_TS_FREQ_T ? 5 : 0;
    ts->n_in = opt->features == AAREN_TS_S ? 1 : ts->cols;
    ts->d_out = opt->features == AAREN_TS_M ? ts->cols : 1;
    ts->d_in = ts->n_in + ts->n_time;
    if (!(ts->in_cols = malloc(sizeof(int) * ts->n_in)) || !(ts->out_cols = malloc(sizeof(int) * ts->d_out)))
        goto oom;
    for (int j = 0; j < ts->n_in; j++) ts->in_cols[j] = opt->features == AAREN_TS_S ? ts->target : j;
    for (int j = 0; j < ts->d_out; j++) ts->out_cols[j] = opt->features == AAREN_TS_M ? j : ts->target;

    /* ---- calendar features */
    if (ts->n_time) {
        if (!(ts->time = malloc(sizeof(float) * (size_t)ts->n * ts->n_time))) goto oom;
        for (long i = 0; i < ts->n; i++)
            aaren_ts_time_features(&ts->dates[i], ts->freq, ts->time + (size_t)i * ts->n_time);
    }
    return ts;

oom:
    aaren_file_err(err, errlen, path, "out of memory");
fail:
    free(buf);
    free(perm);
    aaren_ts_free(ts);
    return NULL;
}

/* ---- accessors ------------------------------------------------------------------------ */

long aaren_ts_rows(const aaren_ts *ts) { return ts->n; }
int aaren_ts_cols(const aaren_ts *ts) { return ts->cols; }
const char *aaren_ts_col_name(const aaren_ts *ts, int c) {
    return c >= 0 && c < ts->cols ? ts->names[c] : NULL;
}
int aaren_ts_target_col(const aaren_ts *ts) { return ts->target; }
int aaren_ts_seq_len(const aaren_ts *ts) { return ts->seq_len; }
int aaren_ts_pred_len(const aaren_ts *ts) { return ts->pred_len; }
int aaren_ts_d_in(const aaren_ts *ts) { return ts->d_in; }
int aaren_ts_d_out(const aaren_ts *ts) { return ts->d_out; }
int aaren_ts_n_time(const aaren_ts *ts) { return ts->n_time; }
const int *aaren_ts_in_cols(const aaren_ts *ts) { return ts->in_cols; }
const int *aaren_ts_out_cols(const aaren_ts *ts) { return ts->out_cols; }
aaren_ts_split_rule aaren_ts_split_kind(const aaren_ts *ts) { return ts->rule; }
aaren_ts_freq aaren_ts_freq_used(const aaren_ts *ts) { return ts->freq; }
const float *aaren_ts_data(const aaren_ts *ts) { return ts->data; }
const double *aaren_ts_raw(const aaren_ts *ts) { return ts->raw; }
const aaren_ts_date *aaren_ts_dates(const aaren_ts *ts) { return ts->dates; }
const float *aaren_ts_time(const aaren_ts *ts) { return ts->time; }
const double *aaren_ts_mean(const aaren_ts *ts) { return ts->mean; }
const double *aaren_ts_std(const aaren_ts *ts) { return ts->std; }
int aaren_ts_scaled(const aaren_ts *ts) { return ts->scaled; }

long aaren_ts_split_rows(const aaren_ts *ts, int split, long *begin, long *end) {
    const int ok = split >= 0 && split < 3;
    if (begin) *begin = ok ? ts->b1[split] : 0;
    if (end) *end = ok ? ts->b2[split] : 0;
    return ok ? ts->windows[split] : -1;
}

long aaren_ts_n_windows(const aaren_ts *ts, int split) {
    return split >= 0 && split < 3 ? ts->windows[split] : -1;
}

/* ---- windows -------------------------------------------------------------------------- */

int aaren_ts_batch(const aaren_ts *ts, int split, const long *idx, int B, float *x, float *y) {
    if (!ts || split < 0 || split > 2 || B < 0 || (B > 0 && (!idx || !x))) return -1;
    for (int b = 0; b < B; b++)
        if (idx[b] < 0 || idx[b] >= ts->windows[split]) return -1;
    for (int b = 0; b < B; b++) {
        const long start = ts->b1[split] + idx[b];
        for (int t = 0; t < ts->seq_len; t++) {
            const size_t row = (size_t)(start + t);
            const float *src = ts->data + row * ts->cols;
            float *dst = x + ((size_t)b * ts->seq_len + t) * ts->d_in;
            for (int j = 0; j < ts->n_in; j++) dst[j] = src[ts->in_cols[j]];
            for (int k = 0; k < ts->n_time; k++) dst[ts->n_in + k] = ts->time[row * ts->n_time + k];
        }
        if (!y) continue;
        for (int t = 0; t < ts->pred_len; t++) {
            const size_t row = (size_t)(start + ts->seq_len + t);
            const float *src = ts->data + row * ts->cols;
            float *dst = y + ((size_t)b * ts->pred_len + t) * ts->d_out;
            for (int j = 0; j < ts->d_out; j++) dst[j] = src[ts->out_cols[j]];
        }
    }
    return 0;
}

/* ---- scaler --------------------------------------------------------------------------- */

static void transform(const aaren_ts *ts, aaren_ts_side side, float *v, long n, int inverse) {
    const int *cols = side == AAREN_TS_INPUT ? ts->in_cols : ts->out_cols;
    const int m = side == AAREN_TS_INPUT ? ts->n_in : ts->d_out;
    const int stride = side == AAREN_TS_INPUT ? ts->d_in : ts->d_out;
    for (long i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
            const int c = cols[j];
            float *e = v + (size_t)i * stride + j;
            *e = (float)(inverse ? (double)*e * ts->std[c] + ts->mean[c] : ((double)*e - ts->mean[c]) / ts->std[c]);
        }
}

void aaren_ts_scale(const aaren_ts *ts, aaren_ts_side side, float *v, long n) { transform(ts, side, v, n, 0); }
void aaren_ts_unscale(const aaren_ts *ts, aaren_ts_side side, float *v, long n) { transform(ts, side, v, n, 1); }
