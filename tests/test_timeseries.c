/* Time-series loader: hand-written CSV files (exact values, CRLF, Latin-1 header, every
 * malformed case with its message, prefixes and byte mutations that must never crash),
 * TSLib split arithmetic, the scaler, M/S/MS widths, calendar features, windows and
 * batches; then the six shared forecasting files (skipped, still passing, when
 * $AAREN_SHARED/data is absent). Temporary files are written to the working directory
 * and removed at the end. */
#include "check.h"
#include "data/timeseries.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TMP     "test_ts_tmp.csv"
#define TMP_ETT "ETTh_test_ts_tmp.csv"
#define TMP_ETM "ETTm_test_ts_tmp.csv"

static char err[512];

static void write_bytes(const char *path, const void *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot create %s", path);
    if (!f) return;
    CHECK(fwrite(bytes, 1, n, f) == n, "short write to %s", path);
    fclose(f);
}

static void write_text(const char *path, const char *s) { write_bytes(path, s, strlen(s)); }

/* seq_len 1, pred_len 1, RATIO split, unscaled: the loosest options, for reader tests. */
static aaren_ts_options loose(void) {
    aaren_ts_options o;
    aaren_ts_options_init(&o);
    o.seq_len = 1;
    o.pred_len = 1;
    o.split = AAREN_TS_SPLIT_RATIO;
    o.no_scale = 1;
    return o;
}

/* The load must fail with a message naming the file, containing word and, when given, word2. */
static void expect_fail(const char *label, const char *path, const aaren_ts_options *o,
                        const char *word, const char *word2) {
    aaren_ts *ts;
    err[0] = '\0';
    ts = aaren_ts_load(path, o, err, sizeof err);
    CHECK(ts == NULL, "%s: accepted", label);
    aaren_ts_free(ts);
    CHECK(strstr(err, path) != NULL, "%s: message '%s' lacks the path", label, err);
    CHECK(strstr(err, word) != NULL, "%s: message '%s' lacks '%s'", label, err, word);
    CHECK(!word2 || strstr(err, word2) != NULL, "%s: message '%s' lacks '%s'", label, err,
          word2 ? word2 : "");
}

static void expect_text_fail(const char *label, const char *text, const char *word, const char *word2) {
    const aaren_ts_options o = loose();
    write_text(TMP, text);
    expect_fail(label, TMP, &o, word, word2);
}

/* Ten rows "date,a,b,OT" with value 100*row + column (a = 0, b = 1, OT = 2). */
static void ten_rows(char *buf, size_t cap, const char *eol, int final_eol) {
    size_t at = (size_t)snprintf(buf, cap, "date,a,b,OT%s", eol);
    for (int r = 0; r < 10; r++)
        at += (size_t)snprintf(buf + at, cap - at, "2016-07-%02d 0%d:00:00,%d,%d,%d%s", r + 1, r % 10,
                               100 * r, 100 * r + 1, 100 * r + 2, r < 9 || final_eol ? eol : "");
}

/* ---- reading ------------------------------------------------------------------------- */

static void test_read_exact(void) {
    static const char text[] =
        "date,a,b,OT\n"
        "2016-07-01 00:00:00,5.827000141143799,-2.25e3,  7 \n"
        "2016-07-01 01:00:00,0.1,1e-5,-0\n"
        "2016-07-01 02:00:00,123456789.125,+3.,.5\n"
        "2016-07-01 03:15:59.75,1E+2,-4.5E-1,0\n"
        "1990/1/2 0:00,1,2,3\n"
        "2016-07-01,1,2,3\n"
        "2016-7-1T5:07,1,2,3\n"
        "2016-07-08 00:00:00,1,2,3\n"
        "2016-07-09 00:00:00,1,2,3\n"
        "2016-07-10 00:00:00,1,2,3\n";
    static const double want[4][3] = {
        { 5.827000141143799, -2.25e3, 7 }, { 0.1, 1e-5, -0.0 }, { 123456789.125, 3.0, 0.5 },
        { 1e2, -4.5e-1, 0 },
    };
    const aaren_ts_options o = loose();
    aaren_ts *ts;
    write_text(TMP, text);
    ts = aaren_ts_load(TMP, &o, err, sizeof err);
    CHECK(ts != NULL, "read exact: %s", err);
    if (!ts) return;
    CHECK(aaren_ts_rows(ts) == 10 && aaren_ts_cols(ts) == 3, "read exact: %ld x %d",
          aaren_ts_rows(ts), aaren_ts_cols(ts));
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 3; c++) {
            CHECK(aaren_ts_raw(ts)[r * 3 + c] == want[r][c], "raw[%d][%d] = %.17g", r, c,
                  aaren_ts_raw(ts)[r * 3 + c]);
            CHECK(aaren_ts_data(ts)[r * 3 + c] == (float)want[r][c], "data[%d][%d] = %.9g", r, c,
                  (double)aaren_ts_data(ts)[r * 3 + c]);
        }
    CHECK(signbit(aaren_ts_raw(ts)[1 * 3 + 2]), "-0 keeps its sign");
    CHECK(strcmp(aaren_ts_col_name(ts, 0), "a") == 0 && strcmp(aaren_ts_col_name(ts, 2), "OT") == 0,
          "column names");
    CHECK(aaren_ts_col_name(ts, 3) == NULL && aaren_ts_col_name(ts, -1) == NULL, "name out of range");
    {
        const aaren_ts_date *d = aaren_ts_dates(ts);
        CHECK(d[0].year == 2016 && d[0].month == 7 && d[0].day == 1 && d[0].hour == 0, "date 0");
        CHECK(d[3].hour == 3 && d[3].minute == 15 && d[3].second == 59, "date 3 (fraction dropped)");
        CHECK(d[4].year == 1990 && d[4].month == 1 && d[4].day == 2 && d[4].hour == 0 && d[4].minute == 0,
              "date 4 (1990/1/2 0:00)");
        CHECK(d[5].day == 1 && d[5].hour == 0 && d[5].minute == 0, "date 5 (date only)");
        CHECK(d[6].month == 7 && d[6].day == 1 && d[6].hour == 5 && d[6].minute == 7, "date 6 (T, one digit)");
    }
    aaren_ts_free(ts);
    aaren_ts_free(NULL);
}

/* LF, CRLF, with and without the last line end, trailing blank lines: identical contents. */
static void test_line_ends(void) {
    static const char *const eols[] = { "\n", "\r\n", "\r" };   /* Unix, Windows, classic Mac */
    const aaren_ts_options o = loose();
    char buf[1024];
    for (int e = 0; e < 3; e++)
        for (int fin = 0; fin < 4; fin++) {   /* fin 3: a UTF-8 byte-order mark first */
            aaren_ts *ts;
            ten_rows(buf + 3, sizeof buf - 16, eols[e], fin > 0);
            if (fin == 2) strcat(buf + 3, e == 1 ? "\r\n\r\n" : e == 2 ? "\r\r" : "\n\n");
            memcpy(buf, "\xEF\xBB\xBF", 3);
            write_text(TMP, fin == 3 ? buf : buf + 3);
            ts = aaren_ts_load(TMP, &o, err, sizeof err);
            CHECK(ts != NULL, "line ends %d/%d: %s", e, fin, err);
            if (!ts) continue;
            CHECK(aaren_ts_rows(ts) == 10 && aaren_ts_cols(ts) == 3, "line ends %d/%d: shape", e, fin);
            CHECK(strcmp(aaren_ts_col_name(ts, 2), "OT") == 0, "line ends %d/%d: CR kept in name", e, fin);
            for (int r = 0; r < 10; r++) {
                for (int c = 0; c < 3; c++)
                    CHECK(aaren_ts_raw(ts)[r * 3 + c] == 100 * r + c, "line ends %d/%d: [%d][%d]", e, fin, r, c);
                CHECK(aaren_ts_dates(ts)[r].day == r + 1 && aaren_ts_dates(ts)[r].hour == r,
                      "line ends %d/%d: date %d", e, fin, r);
            }
            aaren_ts_free(ts);
        }
    /* a blank line inside is skipped, but the line numbers of messages still count it */
    write_text(TMP, "date,OT\n2016-01-01,1\n\n2016-01-02,x\n");
    {
        const aaren_ts_options o2 = loose();
        expect_fail("blank line counted", TMP, &o2, "line 4", "non-numeric");
    }
}

static void test_latin1_header(void) {
    static const char text[] =
        "date,T (\xb0" "C),\xb5g/m\xb3,\xff\xfe,OT\r\n"
        "2020-01-01 00:10:00,1,2,3,4\r\n2020-01-01 00:20:00,1,2,3,4\r\n2020-01-01 00:30:00,1,2,3,4\r\n"
        "2020-01-01 00:40:00,1,2,3,4\r\n2020-01-01 00:50:00,1,2,3,4\r\n2020-01-01 01:00:00,1,2,3,4\r\n"
        "2020-01-01 01:10:00,1,2,3,4\r\n2020-01-01 01:20:00,1,2,3,4\r\n2020-01-01 01:30:00,1,2,3,4\r\n"
        "2020-01-01 01:40:00,1,2,3,4\r\n";
    const aaren_ts_options o = loose();
    aaren_ts *ts;
    write_text(TMP, text);
    ts = aaren_ts_load(TMP, &o, err, sizeof err);
    CHECK(ts != NULL, "Latin-1 header: %s", err);
    if (!ts) return;
    CHECK(aaren_ts_cols(ts) == 4 && aaren_ts_rows(ts) == 10, "Latin-1: shape");
    CHECK(strcmp(aaren_ts_col_name(ts, 0), "T (\xb0" "C)") == 0, "Latin-1: name 0 bytes");
    CHECK(strcmp(aaren_ts_col_name(ts, 1), "\xb5g/m\xb3") == 0, "Latin-1: name 1 bytes");
    CHECK(strcmp(aaren_ts_col_name(ts, 2), "\xff\xfe") == 0, "Latin-1: name 2 bytes");
    aaren_ts_free(ts);
    /* a NUL byte inside a header name only cuts that name */
    {
        static const char nul[] = "date,a\0b,OT\n2016-01-01,1,2\n2016-01-02,1,2\n2016-01-03,1,2\n"
                                  "2016-01-04,1,2\n2016-01-05,1,2\n2016-01-06,1,2\n2016-01-07,1,2\n"
                                  "2016-01-08,1,2\n2016-01-09,1,2\n2016-01-10,1,2\n";
        write_bytes(TMP, nul, sizeof nul - 1);
        ts = aaren_ts_load(TMP, &o, err, sizeof err);
        CHECK(ts != NULL, "NUL in header: %s", err);
        if (ts) {
            CHECK(aaren_ts_cols(ts) == 2 && strcmp(aaren_ts_col_name(ts, 0), "a") == 0 &&
                  aaren_ts_target_col(ts) == 1, "NUL in header: names");
            aaren_ts_free(ts);
        }
    }
}

static void test_malformed(void) {
    static const char head[] = "date,a,OT\n2016-01-01 00:00:00,1,2\n";   /* line 3 is the bad one */
    static const struct { const char *label, *row, *word; } rows[] = {
        { "ragged long", "2016-01-01 01:00:00,1,2,3", "ragged" },
        { "ragged short", "2016-01-01 01:00:00,1", "ragged" },
        { "ragged date only", "2016-01-01 01:00:00", "ragged" },
        { "empty cell", "2016-01-01 01:00:00,,2", "empty cell" },
        { "blank cell", "2016-01-01 01:00:00,1,   ", "empty cell" },
        { "word", "2016-01-01 01:00:00,abc,2", "non-numeric" },
        { "two points", "2016-01-01 01:00:00,1.2.3,2", "non-numeric" },
        { "bare exponent", "2016-01-01 01:00:00,1e,2", "non-numeric" },
        { "hex", "2016-01-01 01:00:00,0x10,2", "non-numeric" },
        { "double sign", "2016-01-01 01:00:00,--1,2", "non-numeric" },
        { "lone point", "2016-01-01 01:00:00,.,2", "non-numeric" },
        { "inner space", "2016-01-01 01:00:00,1 2,2", "non-numeric" },
        { "NA", "2016-01-01 01:00:00,NA,2", "non-numeric" },
        { "nan", "2016-01-01 01:00:00,nan,2", "NaN/Inf" },
        { "NaN", "2016-01-01 01:00:00,1,NaN", "NaN/Inf" },
        { "-inf", "2016-01-01 01:00:00,-inf,2", "NaN/Inf" },
        { "Infinity", "2016-01-01 01:00:00,+Infinity,2", "NaN/Inf" },
        { "overflow", "2016-01-01 01:00:00,1e39,2", "float range" },
        { "double overflow", "2016-01-01 01:00:00,-1e400,2", "float range" },
        { "month 13", "2016-13-01 00:00:00,1,2", "bad date" },
        { "Feb 29 2017", "2017-02-29 00:00:00,1,2", "bad date" },
        { "hour 24", "2016-07-01 24:00:00,1,2", "bad date" },
        { "minute 60", "2016-07-01 12:60,1,2", "bad date" },
        { "second 60", "2016-07-01 12:00:60,1,2", "bad date" },
        { "day 0", "2016-07-00,1,2", "bad date" },
        { "two-digit year", "16-07-01,1,2", "bad date" },
        { "mixed separators", "2016-07/01,1,2", "bad date" },
        { "trailing text", "2016-07-01 00:00:00 UTC,1,2", "bad date" },
        { "empty date", ",1,2", "bad date" },
        { "word date", "yesterday,1,2", "bad date" },
        { "one-digit minute", "2016-07-01 1:5,1,2", "bad date" },
    };
    char buf[256];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        snprintf(buf, sizeof buf, "%s%s\n2016-01-01 02:00:00,1,2\n", head, rows[i].row);
        expect_text_fail(rows[i].label, buf, rows[i].word, "line 3");
    }
    /* cell faults name the column */
    expect_text_fail("column named", "date,a,OT\n2016-01-01,1,x\n", "column 'OT'", "line 2");
    expect_text_fail("CRLF line number", "date,a,OT\r\n2016-01-01,1,2\r\n2016-01-02,1,2,\r\n", "ragged", "line 3");
    expect_text_fail("no newline at end, bad", "date,a,OT\n2016-01-01,1,2\n2016-01-02,1,z", "non-numeric", "line 3");
    /* whole-file faults */
    expect_text_fail("0-byte file", "", "empty", NULL);
    expect_text_fail("header only", "date,a,OT\n", "no data rows", NULL);
    expect_text_fail("header only, no newline", "date,a,OT", "no data rows", NULL);
    expect_text_fail("header and blank lines", "date,a,OT\r\n\r\n\n", "no data rows", NULL);
    expect_text_fail("1-column file", "date\n2016-01-01\n2016-01-02\n", "1 column", NULL);
    expect_text_fail("empty header line", "\n2016-01-01,1\n", "empty header", NULL);
    expect_text_fail("newline only", "\n", "empty header", NULL);
    {
        static const char nul[] = "date,OT\n2016-01-01,1\0\n";
        const aaren_ts_options o = loose();
        write_bytes(TMP, nul, sizeof nul - 1);
        expect_fail("NUL in a cell", TMP, &o, "non-numeric", "line 2");
    }
    /* the target column */
    {
        aaren_ts_options o = loose();
        char ten[1024];
        ten_rows(ten, sizeof ten, "\n", 1);
        write_text(TMP, ten);
        o.target = "OT2";
        o.features = AAREN_TS_S;
        expect_fail("missing target (S)", TMP, &o, "target column 'OT2'", "not found");
        o.features = AAREN_TS_MS;
        expect_fail("missing target (MS)", TMP, &o, "target column 'OT2'", "not found");
        o.features = AAREN_TS_M;
        {
            aaren_ts *ts = aaren_ts_load(TMP, &o, err, sizeof err);
            CHECK(ts != NULL, "missing target in M loads: %s", err);
            if (ts) {
                CHECK(aaren_ts_target_col(ts) == -1 && strcmp(aaren_ts_col_name(ts, 2), "OT") == 0,
                      "M without target keeps the order");
                aaren_ts_free(ts);
            }
        }
        /* another target moves last, as TSLib's Dataset_Custom orders columns */
        o.target = "a";
        o.features = AAREN_TS_MS;
        {
            aaren_ts *ts = aaren_ts_load(TMP, &o, err, sizeof err);
            CHECK(ts != NULL, "target a: %s", err);
            if (ts) {
                CHECK(strcmp(aaren_ts_col_name(ts, 0), "b") == 0 && strcmp(aaren_ts_col_name(ts, 1), "OT") == 0 &&
                      strcmp(aaren_ts_col_name(ts, 2), "a") == 0 && aaren_ts_target_col(ts) == 2,
                      "target a moved last");
                CHECK(aaren_ts_raw(ts)[3 * 3 + 0] == 301 && aaren_ts_raw(ts)[3 * 3 + 1] == 302 &&
                      aaren_ts_raw(ts)[3 * 3 + 2] == 300, "values follow their columns");
                CHECK(aaren_ts_out_cols(ts)[0] == 2, "target a is the output");
                aaren_ts_free(ts);
            }
        }
        /* option faults */
        o = loose();
        o.seq_len = 0;
        expect_fail("seq_len 0", TMP, &o, "seq_len", NULL);
        o = loose();
        o.pred_len = -3;
        expect_fail("pred_len -3", TMP, &o, "pred_len", NULL);
        o = loose();
        o.features = (aaren_ts_features)7;
        expect_fail("bad features", TMP, &o, "bad option", NULL);
        o = loose();
        expect_fail("missing file", "no_such_dir/none.csv", &o, "cannot open", NULL);
        err[0] = '\0';
        CHECK(aaren_ts_load(".", &o, err, sizeof err) == NULL && err[0], "a directory is refused");
    }
}

/* Very long lines: a 100 000-digit number (overflow), a 300 000-byte garbage cell, and a
 * 5 000-column file that loads. */
static void test_long_lines(void) {
    const size_t big = 300000;
    char *buf = malloc(big + 200);
    aaren_ts_options o = loose();
    size_t at;
    if (!buf) return;
    at = (size_t)sprintf(buf, "date,OT\n2016-01-01,1");
    memset(buf + at, '0', 100000);
    at += 100000;
    strcpy(buf + at, "\n");
    write_text(TMP, buf);
    expect_fail("100000 digits", TMP, &o, "float range", "line 2");
    CHECK(strstr(err, "...") != NULL && strlen(err) < 300, "long cell cut in the message: %zu bytes", strlen(err));
    at = (size_t)sprintf(buf, "date,OT\n2016-01-01,");
    memset(buf + at, 'q', big);
    at += big;
    strcpy(buf + at, "\n");
    write_text(TMP, buf);
    expect_fail("300000-byte cell", TMP, &o, "non-numeric", "line 2");
    free(buf);
    {
        const int C = 5000, R = 20;
        char *w = malloc((size_t)C * 12 * (R + 1) + 100);
        aaren_ts *ts;
        if (!w) return;
        at = (size_t)sprintf(w, "date");
        for (int c = 0; c < C; c++) at += (size_t)sprintf(w + at, ",c%d", c);
        w[at++] = '\n';
        for (int r = 0; r < R; r++) {
            at += (size_t)sprintf(w + at, "2016-01-%02d", r + 1);
            for (int c = 0; c < C; c++) at += (size_t)sprintf(w + at, ",%d", r + c);
            w[at++] = '\n';
        }
        w[at] = '\0';
        write_text(TMP, w);
        free(w);
        ts = aaren_ts_load(TMP, &o, err, sizeof err);
        CHECK(ts != NULL, "5000 columns: %s", err);
        if (ts) {
            CHECK(aaren_ts_cols(ts) == C && aaren_ts_rows(ts) == R && aaren_ts_d_in(ts) == C,
                  "5000 columns: shape");
            CHECK(aaren_ts_raw(ts)[(size_t)7 * C + 4321] == 7 + 4321, "5000 columns: a value");
            aaren_ts_free(ts);
        }
    }
}

/* 1: loaded with sane sizes and a test window, 0: refused with a message naming the file,
 * -1: neither (see check_fuzz_file). */
static int load_checked(const char *path) {
    const aaren_ts_options o = loose();
    aaren_ts *ts;
    int r;
    err[0] = '\0';
    ts = aaren_ts_load(path, &o, err, sizeof err);
    if (ts)
        r = aaren_ts_rows(ts) >= 1 && aaren_ts_cols(ts) >= 1 && aaren_ts_n_windows(ts, AAREN_TS_TEST) >= 1 ? 1 : -1;
    else
        r = strstr(err, path) ? 0 : -1;
    aaren_ts_free(ts);
    return r;
}

/* Every prefix of a valid file, and every byte replaced by a few troublesome ones. */
static void test_no_crash(void) {
    /* five rows (the fewest with a window in every split at seq_len = pred_len = 1) */
    static const char base[] = "date,a,OT\r\n2016-07-01 00:00:00,1.5,-2\r\n2016-07-01 01:00:00,2,3e1\r\n"
                               "2016-07-01 02:00:00,3,4\r\n2016-07-01 03:00:00,4,5\r\n2016-07-01 04:00:00,5,6\r\n";
    static const char subst[] = { ',', '\n', '\0', 'x', '9' };
    check_fuzz_file("fuzz.csv", base, sizeof base - 1, subst, sizeof subst, load_checked);
}

/* ---- splits, scaler, modes, calendar, windows ------------------------------------------- */

/* n rows "date,a,b,OT": a = row, b = 5 (constant), OT = row^2 / 10; hourly from
 * 2016-07-01 00:00 (the calendar advanced by hand, leap years included). */
static void make_rows(const char *path, long n) {
    static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y = 2016, m = 7, d = 1, h = 0;
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot create %s", path);
    if (!f) return;
    fputs("date,a,b,OT\n", f);
    for (long r = 0; r < n; r++) {
        fprintf(f, "%04d-%02d-%02d %02d:00:00,%ld,5,%g\n", y, m, d, h, r, (double)r * r / 10);
        if (++h == 24) {
            h = 0;
            if (++d > dim[m - 1] + (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) {
                d = 1;
                if (++m == 13) m = 1, y++;
            }
        }
    }
    fclose(f);
}

static void test_ratio_split(void) {
    /* n = 47: num_train = int(32.9) = 32, num_test = int(9.4) = 9, num_val = 6;
     * seq_len 4, pred_len 2: train [0, 32), val [28, 38), test [34, 47);
     * windows 32-6+1 = 27, 10-6+1 = 5, 13-6+1 = 8. */
    static const long want_b[3][2] = { { 0, 32 }, { 28, 38 }, { 34, 47 } }, want_w[3] = { 27, 5, 8 };
    aaren_ts_options o;
    aaren_ts *ts;
    aaren_ts_options_init(&o);
    o.seq_len = 4;
    o.pred_len = 2;
    make_rows(TMP, 47);
    ts = aaren_ts_load(TMP, &o, err, sizeof err);
    CHECK(ts != NULL, "ratio split: %s", err);
    if (!ts) return;
    CHECK(aaren_ts_split_kind(ts) == AAREN_TS_SPLIT_RATIO, "AUTO picks RATIO for %s", TMP);
    for (int s = 0; s < 3; s++) {
        long b, e;
        const long w = aaren_ts_split_rows(ts, s, &b, &e);
        CHECK(b == want_b[s][0] && e == want_b[s][1] && w == want_w[s] && aaren_ts_n_windows(ts, s) == w,
              "split %d: [%ld, %ld) %ld windows", s, b, e, w);
    }
    {
        long b = 9, e = 9;
        CHECK(aaren_ts_split_rows(ts, 3, &b, &e) == -1 && b == 0 && e == 0 && aaren_ts_n_windows(ts, -1) == -1,
              "bad split index");
    }
    aaren_ts_free(ts);
    /* the smallest file with a window in every split, and one row fewer */
    o.seq_len = 4;
    o.pred_len = 2;
    make_rows(TMP, 60);   /* 42 / 6 / 12: val rows 6 + 4 = 10 */
    ts = aaren_ts_load(TMP, &o, err, sizeof err);
    CHECK(ts != NULL && aaren_ts_n_windows(ts, AAREN_TS_VAL) == 5, "60 rows: %s", err);
    aaren_ts_free(ts);
    /* too few rows for the window: n = 10, seq 4 + pred 2: train 7 rows ok, val 1 + 4 = 5 < 6 */
    make_rows(TMP, 10);
    expect_fail("too short val", TMP, &o, "val split too short", "5 rows");
    CHECK(strstr(err, "= 6 rows") != NULL, "window length in '%s'", err);
    o.seq_len = 40;
    expect_fail("too short train", TMP, &o, "train split too short", "7 rows");
    /* the split rule is overridable, and AUTO reads the file name */
    o.seq_len = 4;
    o.split = AAREN_TS_SPLIT_ETT_HOUR;
    expect_fail("ETT hourly on 10 rows", TMP, &o, "14400", "10");
    o.split = AAREN_TS_SPLIT_AUTO;
    make_rows(TMP_ETT, 14399);
    expect_fail("ETTh name, 14399 rows", TMP_ETT, &o, "hourly", "14400");
    make_rows(TMP_ETT, 14400);
    o.seq_len = 96;
    o.pred_len = 96;
    ts = aaren_ts_load(TMP_ETT, &o, err, sizeof err);
    CHECK(ts != NULL, "ETTh name, 14400 rows: %s", err);
    if (ts) {
        static const long hb[3][2] = { { 0, 8640 }, { 8544, 11520 }, { 11424, 14400 } };
        CHECK(aaren_ts_split_kind(ts) == AAREN_TS_SPLIT_ETT_HOUR, "AUTO picks ETT_HOUR");
        for (int s = 0; s < 3; s++) {
            long b, e;
            const long w = aaren_ts_split_rows(ts, s, &b, &e);
            CHECK(b == hb[s][0] && e == hb[s][1] && w == e - b - 191, "ETTh split %d: [%ld, %ld) %ld", s, b, e, w);
        }
        aaren_ts_free(ts);
    }
    o.split = AAREN_TS_SPLIT_RATIO;
    ts = aaren_ts_load(TMP_ETT, &o, err, sizeof err);
    CHECK(ts && aaren_ts_split_kind(ts) == AAREN_TS_SPLIT_RATIO && aaren_ts_n_windows(ts, 0) == 10080 - 191,
          "RATIO forced on an ETTh name: %s", err);
    aaren_ts_free(ts);
    o.split = AAREN_TS_SPLIT_AUTO;
    make_rows(TMP_ETM, 57600);
    ts = aaren_ts_load(TMP_ETM, &o, err, sizeof err);
    CHECK(ts != NULL, "ETTm name, 57600 rows: %s", err);
    if (ts) {
        static const long mb[3][2] = { { 0, 34560 }, { 34464, 46080 }, { 45984, 57600 } };
        CHECK(aaren_ts_split_kind(ts) == AAREN_TS_SPLIT_ETT_MINUTE, "AUTO picks ETT_MINUTE");
        for (int s = 0; s < 3; s++) {
            long b, e;
            const long w = aaren_ts_split_rows(ts, s, &b, &e);
            CHECK(b == mb[s][0] && e == mb[s][1] && w == e - b - 191, "ETTm split %d: [%ld, %ld) %ld", s, b, e, w);
        }
        CHECK(aaren_ts_freq_used(ts) == AAREN_TS_FREQ_NONE && aaren_ts_n_time(ts) == 0, "no calendar features asked");
        aaren_ts_free(ts);
    }
    /* calendar features at the file's frequency (the tool's --calendar): 't' on an ETTm name,
     * 'h' on the others; an explicit frequency is kept */
    static const struct { const char *file; aaren_ts_freq asked, used; int n_time; } fq[] = {
        { TMP_ETM, AAREN_TS_FREQ_AUTO, AAREN_TS_FREQ_T, 5 },   /* AUTO on an ETTm name: t */
        { TMP_ETT, AAREN_TS_FREQ_AUTO, AAREN_TS_FREQ_H, 4 },   /* AUTO on an ETTh name: h */
        { TMP_ETM, AAREN_TS_FREQ_H, AAREN_TS_FREQ_H, 4 },      /* h kept on an ETTm name */
    };
    for (size_t i = 0; i < sizeof fq / sizeof fq[0]; i++) {
        o.freq = fq[i].asked;
        ts = aaren_ts_load(fq[i].file, &o, err, sizeof err);
        CHECK(ts && aaren_ts_freq_used(ts) == fq[i].used && aaren_ts_n_time(ts) == fq[i].n_time,
              "calendar case %zu on %s (%s)", i, fq[i].file, ts ? "" : err);
        aaren_ts_free(ts);
    }
    o.freq = (aaren_ts_freq)4;
    ts = aaren_ts_load(TMP_ETM, &o, err, sizeof err);
    CHECK(!ts && strstr(err, "freq 4"), "freq 4 refused: %s", err);
    aaren_ts_free(ts);
    o.freq = AAREN_TS_FREQ_NONE;
}

static void test_scaler(void) {
    aaren_ts_options o;
    aaren_ts *ts;
    aaren_ts_options_init(&o);
    o.seq_len = 4;
    o.pred_len = 2;
    make_rows(TMP, 47);   /* train rows [0, 32) */
    ts = aaren_ts_load(TMP, &o, err, sizeof err);
    CHECK(ts != NULL, "scaler: %s", err);
    if (!ts) return;
    {
        const double *mean = aaren_ts_mean(ts), *sd = aaren_ts_std(ts);
        const float *d = aaren_ts_data(ts);
        double ot_sum = 0, ot_ss = 0;
        for (int r = 0; r < 32; r++) ot_sum += r * r / 10.0;
        for (int r = 0; r < 32; r++) ot_ss += (r * r / 10.0 - ot_sum / 32) * (r * r / 10.0 - ot_sum / 32);
        CHECK(aaren_ts_scaled(ts) == 1, "scaled by default");
        CHECK(fabs(mean[0] - 15.5) < 1e-12 && fabs(sd[0] - sqrt((32.0 * 32 - 1) / 12)) < 1e-12,
              "column a: mean %.17g std %.17g (population, train rows only)", mean[0], sd[0]);
        CHECK(mean[1] == 5 && sd[1] == 1, "constant column: mean %g std %g (std 1 as sklearn)", mean[1], sd[1]);
        CHECK(fabs(mean[2] - ot_sum / 32) < 1e-12 && fabs(sd[2] - sqrt(ot_ss / 32)) < 1e-12, "column OT");
        for (int c = 0; c < 3; c++) {
            double tm = 0, tv = 0, vm = 0;
            for (int r = 0; r < 32; r++) tm += d[r * 3 + c] / 32.0;
            for (int r = 0; r < 32; r++) tv += (d[r * 3 + c] - tm) * (d[r * 3 + c] - tm) / 32.0;
            for (int r = 32; r < 38; r++) vm += d[r * 3 + c] / 6.0;
            CHECK(fabs(tm) < 1e-6, "column %d: scaled train mean %g", c, tm);
            CHECK(c == 1 ? tv == 0 : fabs(tv - 1) < 1e-5, "column %d: scaled train variance %g", c, tv);
            CHECK(c == 1 || vm > 1.0, "column %d: scaled val mean %g is not forced to 0", c, vm);
            for (int r = 0; r < 47; r++)
                CHECK(d[r * 3 + c] == (float)((aaren_ts_raw(ts)[r * 3 + c] - mean[c]) / sd[c]),
                      "scaled [%d][%d]", r, c);
        }
        /* unscale(batch y) gives back the raw values; scale undoes it */
        {
            float x[4 * 3], y[2 * 3], y0[2 * 3];
            const long idx = 3;
            CHECK(aaren_ts_batch(ts, AAREN_TS_TEST, &idx, 1, x, y) == 0, "batch for unscale");
            memcpy(y0, y, sizeof y);
            aaren_ts_unscale(ts, AAREN_TS_OUTPUT, y, 2);
            for (int t = 0; t < 2; t++)
                for (int c = 0; c < 3; c++) {
                    const double raw = aaren_ts_raw(ts)[(34 + 3 + 4 + t) * 3 + c];
                    CHECK(fabs(y[t * 3 + c] - raw) <= 1e-5 * (1 + fabs(raw)), "unscaled y[%d][%d] %g vs %g", t, c,
                          (double)y[t * 3 + c], raw);
                }
            aaren_ts_scale(ts, AAREN_TS_OUTPUT, y, 2);
            for (int i = 0; i < 6; i++) CHECK(fabs(y[i] - y0[i]) < 1e-5, "scale(unscale(y))[%d]", i);
            aaren_ts_unscale(ts, AAREN_TS_INPUT, x, 4);
            for (int t = 0; t < 4; t++)
                CHECK(fabs(x[t * 3] - (34 + 3 + t)) < 1e-4 && x[t * 3 + 1] == 5.0f, "unscaled x[%d] a = %g", t,
                      (double)x[t * 3]);
        }
    }
    aaren_ts_free(ts);
    /* no_scale: raw values, the scaler still fitted */
    o.no_scale = 1;
    ts = aaren_ts_load(TMP, &o, err, sizeof err);
    CHECK(ts && !aaren_ts_scaled(ts) && aaren_ts_data(ts)[40 * 3] == 40.0f && aaren_ts_mean(ts)[0] == 15.5,
          "no_scale: %s", err);
    aaren_ts_free(ts);
}

static void test_modes(void) {
    static const struct { aaren_ts_features f; aaren_ts_freq q; int d_in, d_out, n_time; } cases[] = {
        { AAREN_TS_M, AAREN_TS_FREQ_NONE, 3, 3, 0 },  { AAREN_TS_S, AAREN_TS_FREQ_NONE, 1, 1, 0 },
        { AAREN_TS_MS, AAREN_TS_FREQ_NONE, 3, 1, 0 }, { AAREN_TS_M, AAREN_TS_FREQ_H, 7, 3, 4 },
        { AAREN_TS_S, AAREN_TS_FREQ_H, 5, 1, 4 },     { AAREN_TS_MS, AAREN_TS_FREQ_T, 8, 1, 5 },
    };
    aaren_ts_options o;
    aaren_ts_options_init(&o);
    o.seq_len = 4;
    o.pred_len = 2;
    make_rows(TMP, 47);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        aaren_ts *ts;
        o.features = cases[i].f;
        o.freq = cases[i].q;
        ts = aaren_ts_load(TMP, &o, err, sizeof err);
        CHECK(ts != NULL, "mode %zu: %s", i, err);
        if (!ts) continue;
        CHECK(aaren_ts_d_in(ts) == cases[i].d_in && aaren_ts_d_out(ts) == cases[i].d_out &&
              aaren_ts_n_time(ts) == cases[i].n_time, "mode %zu: d_in %d d_out %d n_time %d", i,
              aaren_ts_d_in(ts), aaren_ts_d_out(ts), aaren_ts_n_time(ts));
        CHECK(cases[i].f == AAREN_TS_M ? aaren_ts_out_cols(ts)[1] == 1 : aaren_ts_out_cols(ts)[0] == 2,
              "mode %zu: output columns", i);
        CHECK(cases[i].f == AAREN_TS_S ? aaren_ts_in_cols(ts)[0] == 2 : aaren_ts_in_cols(ts)[2] == 2,
              "mode %zu: input columns", i);
        CHECK((aaren_ts_time(ts) != NULL) == (cases[i].n_time > 0), "mode %zu: time array", i);
        aaren_ts_free(ts);
    }
}

static int near(float a, double b) { return fabs(a - b) < 1e-6; }

static void test_calendar(void) {
    static const struct { const char *s; int dow, doy; } days[] = {
        { "2016-07-01", 4, 183 }, { "2016-12-31", 5, 366 }, { "2000-02-29", 1, 60 },
        { "1900-03-01", 3, 60 },  { "1970-01-01", 3, 1 },   { "1969-12-31", 2, 365 },
        { "0001-01-01", 0, 1 },   { "2021-01-01", 4, 1 },   { "1990/1/1 0:00", 0, 1 },
        { "2010/10/10 0:00", 6, 283 },
    };
    aaren_ts_date d;
    float f[5];
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
        CHECK(aaren_ts_parse_date(days[i].s, strlen(days[i].s), &d) == 0, "parse %s", days[i].s);
        CHECK(aaren_ts_day_of_week(&d) == days[i].dow && aaren_ts_day_of_year(&d) == days[i].doy,
              "%s: weekday %d day of year %d", days[i].s, aaren_ts_day_of_week(&d), aaren_ts_day_of_year(&d));
    }
    CHECK(aaren_ts_parse_date("2016-02-29", 10, &d) == 0 && aaren_ts_parse_date("2100-02-29", 10, &d) != 0,
          "leap years");
    /* 2016-07-01 00:00:00 is a Friday (weekday 4), day 183 of a leap year */
    aaren_ts_parse_date("2016-07-01 00:00:00", 19, &d);
    CHECK(aaren_ts_time_features(&d, AAREN_TS_FREQ_H, f) == 4, "freq h: 4 features");
    CHECK(near(f[0], -0.5) && near(f[1], 4 / 6.0 - 0.5) && near(f[2], -0.5) && near(f[3], 182 / 365.0 - 0.5),
          "2016-07-01 00:00 h: %g %g %g %g", (double)f[0], (double)f[1], (double)f[2], (double)f[3]);
    aaren_ts_parse_date("2016-12-31 23:45:00", 19, &d);
    CHECK(aaren_ts_time_features(&d, AAREN_TS_FREQ_T, f) == 5, "freq t: 5 features");
    CHECK(near(f[0], 45 / 59.0 - 0.5) && near(f[1], 0.5) && near(f[2], 5 / 6.0 - 0.5) && near(f[3], 0.5) &&
              near(f[4], 0.5),
          "2016-12-31 23:45 t: %g %g %g %g %g", (double)f[0], (double)f[1], (double)f[2], (double)f[3], (double)f[4]);
    CHECK(aaren_ts_time_features(&d, AAREN_TS_FREQ_NONE, f) == 0, "freq none: 0 features");
    /* loaded with freq t: the per-row table and x's trailing columns */
    {
        aaren_ts_options o;
        aaren_ts *ts;
        aaren_ts_options_init(&o);
        o.seq_len = 4;
        o.pred_len = 2;
        o.freq = AAREN_TS_FREQ_T;
        o.features = AAREN_TS_MS;
        make_rows(TMP, 47);
        ts = aaren_ts_load(TMP, &o, err, sizeof err);
        CHECK(ts != NULL, "calendar load: %s", err);
        if (ts) {
            const float *tm = aaren_ts_time(ts);
            float x[4 * 8], y[2];
            const long idx = 0;
            /* row 30 = 2016-07-02 06:00, a Saturday, day 184 */
            CHECK(near(tm[30 * 5 + 0], -0.5) && near(tm[30 * 5 + 1], 6 / 23.0 - 0.5) &&
                      near(tm[30 * 5 + 2], 5 / 6.0 - 0.5) && near(tm[30 * 5 + 3], 1 / 30.0 - 0.5) &&
                      near(tm[30 * 5 + 4], 183 / 365.0 - 0.5), "row 30 calendar");
            CHECK(aaren_ts_batch(ts, AAREN_TS_VAL, &idx, 1, x, y) == 0, "calendar batch");
            for (int t = 0; t < 4; t++)
                for (int k = 0; k < 5; k++)
                    CHECK(x[t * 8 + 3 + k] == tm[(28 + t) * 5 + k], "x calendar [%d][%d]", t, k);
            aaren_ts_free(ts);
        }
    }
}

/* Every window of every split against direct indexing, in M, S and MS (+ freq h). */
static void test_windows(void) {
    static const aaren_ts_features modes[] = { AAREN_TS_M, AAREN_TS_S, AAREN_TS_MS };
    make_rows(TMP, 47);
    for (int m = 0; m < 3; m++) {
        aaren_ts_options o;
        aaren_ts *ts;
        aaren_ts_options_init(&o);
        o.seq_len = 4;
        o.pred_len = 2;
        o.features = modes[m];
        o.freq = m == 2 ? AAREN_TS_FREQ_H : AAREN_TS_FREQ_NONE;
        ts = aaren_ts_load(TMP, &o, err, sizeof err);
        CHECK(ts != NULL, "windows mode %d: %s", m, err);
        if (!ts) continue;
        {
            const int din = aaren_ts_d_in(ts), dout = aaren_ts_d_out(ts), nt = aaren_ts_n_time(ts);
            const int nin = din - nt;
            const float *d = aaren_ts_data(ts), *tm = aaren_ts_time(ts);
            float *x = malloc(sizeof(float) * 64 * 4 * din), *y = malloc(sizeof(float) * 64 * 2 * dout);
            long idx[64];
            if (!x || !y) {
                free(x);
                free(y);
                aaren_ts_free(ts);
                continue;
            }
            for (int s = 0; s < 3; s++) {
                long b0;
                const long nw = aaren_ts_split_rows(ts, s, &b0, NULL);
                int B = 0;
                /* all windows, in reverse order, plus a repeat */
                for (long i = nw - 1; i >= 0; i--) idx[B++] = i;
                idx[B++] = 0;
                CHECK(aaren_ts_batch(ts, s, idx, B, x, y) == 0, "mode %d split %d batch", m, s);
                for (int b = 0; b < B; b++) {
                    const long start = b0 + idx[b];
                    for (int t = 0; t < 4; t++) {
                        for (int j = 0; j < nin; j++)
                            CHECK(x[((size_t)b * 4 + t) * din + j] == d[(start + t) * 3 + aaren_ts_in_cols(ts)[j]],
                                  "mode %d split %d x[%d][%d][%d]", m, s, b, t, j);
                        for (int k = 0; k < nt; k++)
                            CHECK(x[((size_t)b * 4 + t) * din + nin + k] == tm[(start + t) * nt + k],
                                  "mode %d split %d x time [%d][%d][%d]", m, s, b, t, k);
                    }
                    for (int t = 0; t < 2; t++)
                        for (int j = 0; j < dout; j++)
                            CHECK(y[((size_t)b * 2 + t) * dout + j] ==
                                      d[(start + 4 + t) * 3 + (m == 0 ? j : 2)],
                                  "mode %d split %d y[%d][%d][%d]", m, s, b, t, j);
                }
                /* the last window's target ends at the split's last row */
                {
                    long e;
                    aaren_ts_split_rows(ts, s, NULL, &e);
                    CHECK(b0 + (nw - 1) + 4 + 2 == e, "mode %d split %d: last window ends at the border", m, s);
                }
                /* bad indices: refused, nothing written */
                x[0] = -99.0f;
                idx[0] = 1;
                idx[1] = nw;
                CHECK(aaren_ts_batch(ts, s, idx, 2, x, y) == -1 && x[0] == -99.0f, "index nw refused");
                idx[1] = -1;
                CHECK(aaren_ts_batch(ts, s, idx, 2, x, y) == -1, "index -1 refused");
            }
            CHECK(aaren_ts_batch(ts, 3, idx, 1, x, y) == -1 && aaren_ts_batch(ts, 0, idx, -1, x, y) == -1,
                  "bad split / B refused");
            CHECK(aaren_ts_batch(ts, 0, NULL, 0, NULL, NULL) == 0, "B = 0 is fine");
            idx[0] = 2;
            CHECK(aaren_ts_batch(ts, 0, idx, 1, x, NULL) == 0 && x[0] == d[2 * 3 + aaren_ts_in_cols(ts)[0]],
                  "y NULL: inputs only");
            free(x);
            free(y);
        }
        aaren_ts_free(ts);
    }
}

/* ---- the shared files ------------------------------------------------------------------- */

static void test_real(void) {
    static const struct {
        const char *file;
        long rows;
        int cols;
        aaren_ts_split_rule rule;
        long b[3][2], windows[3];   /* seq_len 96, pred_len 96 */
        double ot_mean, ot_std;     /* numpy, train rows, ddof 0 (0: not checked) */
    } files[] = {
        { "ETTh1/ETTh1.csv", 17420, 7, AAREN_TS_SPLIT_ETT_HOUR,
          { { 0, 8640 }, { 8544, 11520 }, { 11424, 14400 } }, { 8449, 2785, 2785 },
          17.1282616982271, 9.176491024944335 },
        { "ETTh2/ETTh2.csv", 17420, 7, AAREN_TS_SPLIT_ETT_HOUR,
          { { 0, 8640 }, { 8544, 11520 }, { 11424, 14400 } }, { 8449, 2785, 2785 }, 0, 0 },
        { "ETTm1/ETTm1.csv", 69680, 7, AAREN_TS_SPLIT_ETT_MINUTE,
          { { 0, 34560 }, { 34464, 46080 }, { 45984, 57600 } }, { 34369, 11425, 11425 }, 0, 0 },
        { "ETTm2/ETTm2.csv", 69680, 7, AAREN_TS_SPLIT_ETT_MINUTE,
          { { 0, 34560 }, { 34464, 46080 }, { 45984, 57600 } }, { 34369, 11425, 11425 }, 0, 0 },
        /* N = 52696: 36887 / 5270 / 10539 */
        { "weather/weather.csv", 52696, 21, AAREN_TS_SPLIT_RATIO,
          { { 0, 36887 }, { 36791, 42157 }, { 42061, 52696 } }, { 36696, 5175, 10444 },
          411.0543416379755, 383.95709796587886 },
        /* N = 7588: 5311 / 760 / 1517 */
        { "exchange_rate/exchange_rate.csv", 7588, 8, AAREN_TS_SPLIT_RATIO,
          { { 0, 5311 }, { 5215, 6071 }, { 5975, 7588 } }, { 5120, 665, 1422 },
          0.6048248685746563, 0.09529949685465589 },
    };
    const char *shared = getenv("AAREN_SHARED");
    char path[1024];
    FILE *probe;
    if (!shared || !*shared) {
        printf("test_timeseries: real-data checks SKIPPED: AAREN_SHARED is not set\n");
        return;
    }
    snprintf(path, sizeof path, "%s/data/forecasting/ETTh1/ETTh1.csv", shared);
    if (!(probe = fopen(path, "rb"))) {
        printf("test_timeseries: real-data checks SKIPPED: %s not found\n", path);
        return;
    }
    fclose(probe);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        aaren_ts_options o;
        aaren_ts *ts;
        aaren_ts_options_init(&o);   /* seq 96, pred 96, OT, M, AUTO */
        snprintf(path, sizeof path, "%s/data/forecasting/%s", shared, files[i].file);
        ts = aaren_ts_load(path, &o, err, sizeof err);
        CHECK(ts != NULL, "%s: %s", files[i].file, err);
        if (!ts) continue;
        CHECK(aaren_ts_rows(ts) == files[i].rows && aaren_ts_cols(ts) == files[i].cols,
              "%s: %ld rows x %d columns", files[i].file, aaren_ts_rows(ts), aaren_ts_cols(ts));
        CHECK(aaren_ts_split_kind(ts) == files[i].rule, "%s: split rule %d", files[i].file,
              (int)aaren_ts_split_kind(ts));
        CHECK(aaren_ts_target_col(ts) == files[i].cols - 1 &&
              strcmp(aaren_ts_col_name(ts, files[i].cols - 1), "OT") == 0, "%s: OT last", files[i].file);
        for (int s = 0; s < 3; s++) {
            long b, e;
            const long w = aaren_ts_split_rows(ts, s, &b, &e);
            CHECK(b == files[i].b[s][0] && e == files[i].b[s][1] && w == files[i].windows[s],
                  "%s split %d: [%ld, %ld) %ld windows", files[i].file, s, b, e, w);
        }
        if (files[i].ot_std > 0) {
            const int t = files[i].cols - 1;
            CHECK(fabs(aaren_ts_mean(ts)[t] - files[i].ot_mean) < 1e-9 * files[i].ot_std &&
                  fabs(aaren_ts_std(ts)[t] - files[i].ot_std) < 1e-9 * files[i].ot_std,
                  "%s: OT scaler %.17g %.17g", files[i].file, aaren_ts_mean(ts)[t], aaren_ts_std(ts)[t]);
        }
        if (i == 0) {
            static const char *const names[7] = { "HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT" };
            const aaren_ts_date *d = aaren_ts_dates(ts);
            for (int c = 0; c < 7; c++) CHECK(strcmp(aaren_ts_col_name(ts, c), names[c]) == 0, "ETTh1 name %d", c);
            CHECK(aaren_ts_raw(ts)[0] == 5.827000141143799 && aaren_ts_raw(ts)[6] == 30.5310001373291 &&
                  aaren_ts_raw(ts)[(17420 - 1) * 7 + 6] == 9.56700038909912, "ETTh1 first/last values");
            CHECK(d[17419].year == 2018 && d[17419].month == 6 && d[17419].day == 26 && d[17419].hour == 19,
                  "ETTh1 last date");
        }
        if (i == 4) {
            CHECK(strcmp(aaren_ts_col_name(ts, 0), "p (mbar)") == 0 &&
                  strcmp(aaren_ts_col_name(ts, 16), "SWDR (W/m\xef\xbf\xbd)") == 0,
                  "weather header bytes kept");
            CHECK(aaren_ts_raw(ts)[20] == 428.1 && aaren_ts_dates(ts)[52695].year == 2021, "weather values");
        }
        if (i == 5) {
            const aaren_ts_date *d = aaren_ts_dates(ts);
            CHECK(d[0].year == 1990 && d[0].month == 1 && d[0].day == 1 && d[7587].year == 2010 &&
                  d[7587].month == 10 && d[7587].day == 10, "exchange_rate dates (1990/1/1 0:00 form)");
            CHECK(aaren_ts_raw(ts)[7587 * 8 + 7] == 0.692689, "exchange_rate last value (no final newline)");
        }
        aaren_ts_free(ts);
    }
    /* ETTh1 in S and MS with freq h: widths, windows unchanged */
    {
        aaren_ts_options o;
        aaren_ts *ts;
        aaren_ts_options_init(&o);
        snprintf(path, sizeof path, "%s/data/forecasting/ETTh1/ETTh1.csv", shared);
        o.features = AAREN_TS_MS;
        o.freq = AAREN_TS_FREQ_H;
        ts = aaren_ts_load(path, &o, err, sizeof err);
        CHECK(ts && aaren_ts_d_in(ts) == 11 && aaren_ts_d_out(ts) == 1 && aaren_ts_n_windows(ts, 1) == 2785,
              "ETTh1 MS+h: %s", err);
        if (ts) {
            /* first row 2016-07-01 00:00, a Friday */
            const float *tm = aaren_ts_time(ts);
            CHECK(near(tm[0], -0.5) && near(tm[1], 4 / 6.0 - 0.5) && near(tm[2], -0.5) && near(tm[3], 182 / 365.0 - 0.5),
                  "ETTh1 row 0 calendar");
        }
        aaren_ts_free(ts);
        o.features = AAREN_TS_S;
        o.freq = AAREN_TS_FREQ_NONE;
        ts = aaren_ts_load(path, &o, err, sizeof err);
        CHECK(ts && aaren_ts_d_in(ts) == 1 && aaren_ts_d_out(ts) == 1, "ETTh1 S: %s", err);
        aaren_ts_free(ts);
    }
}

int main(void) {
    test_read_exact();
    test_line_ends();
    test_latin1_header();
    test_malformed();
    test_long_lines();
    test_no_crash();
    test_ratio_split();
    test_scaler();
    test_modes();
    test_calendar();
    test_windows();
    test_real();
    remove(TMP);
    remove(TMP_ETT);
    remove(TMP_ETM);
    check_tmp_cleanup();
    return check_done("test_timeseries");
}
