/* Event sequences: the CSV loader on hand-written files checked event by event (split
 * column, in-order fraction splits, unmarked, CRLF and blank lines, reordered and extra
 * columns, text ids, declared n_marks), every malformed case with its line and wording,
 * prefixes and byte mutations that must never crash; the Sin generator's counts and phase
 * profile against its intensity, determinism and parameter checks; then the shared MIMIC
 * and Wikipedia files (skipped, still passing, when $AAREN_SHARED/data/events is absent).
 * Temporary files go to a fresh directory under /tmp, removed at the end. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "data/events.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[512];

/* Everything a loaded object promises: offsets packed in order, times finite and
 * non-decreasing within each sequence, marks in range, splits valid and each non-empty,
 * max_len the longest sequence. */
static int consistent(const aaren_events *d) {
    int longest = 0, per[3] = { 0, 0, 0 };
    if (d->n_seq < 3 || d->n_events < 0 || !d->off || !d->split || (d->n_events > 0 && !d->time) ||
        d->off[0] != 0 || d->off[d->n_seq] != d->n_events || (d->mark == NULL) != (d->n_marks == 0) ||
        d->n_marks < 0)
        return 0;
    for (int s = 0; s < d->n_seq; s++) {
        if (d->off[s + 1] < d->off[s] || d->split[s] < 0 || d->split[s] > 2) return 0;
        per[d->split[s]]++;
        if (d->off[s + 1] - d->off[s] > longest) longest = (int)(d->off[s + 1] - d->off[s]);
        for (long e = d->off[s]; e < d->off[s + 1]; e++) {
            if (!isfinite(d->time[e]) || (e > d->off[s] && d->time[e] < d->time[e - 1])) return 0;
            if (d->mark && (d->mark[e] < 0 || d->mark[e] >= d->n_marks)) return 0;
        }
    }
    return longest == d->max_len && per[0] > 0 && per[1] > 0 && per[2] > 0;
}

static aaren_events *load_ok(const char *label, const char *path, const aaren_events_options *o) {
    aaren_events *d;
    err[0] = '\0';
    d = aaren_events_load_csv(path, o, err, sizeof err);
    CHECK(d != NULL, "%s: %s", label, err);
    CHECK(!d || consistent(d), "%s: inconsistent object", label);
    return d;
}

/* The loaded object equals the expected arrays (mark NULL: unmarked). */
static void expect(const char *label, const aaren_events *d, int n_seq, const long *off, const double *time,
                   const int *mark, int n_marks, const int *split) {
    int ok;
    if (!d) return;
    CHECK(d->n_seq == n_seq && d->n_events == off[n_seq] && d->n_marks == n_marks && (d->mark == NULL) == (mark == NULL),
          "%s: n_seq %d, n_events %ld, n_marks %d, mark %s", label, d->n_seq, d->n_events, d->n_marks,
          d->mark ? "set" : "NULL");
    if (d->n_seq != n_seq || d->n_events != off[n_seq] || (d->mark == NULL) != (mark == NULL)) return;
    ok = 1;
    for (int s = 0; s <= n_seq; s++) ok &= d->off[s] == off[s];
    CHECK(ok, "%s: offsets", label);
    ok = 1;
    for (int s = 0; s < n_seq; s++) ok &= d->split[s] == split[s];
    CHECK(ok, "%s: splits", label);
    ok = 1;
    for (long e = 0; e < d->n_events; e++) ok &= d->time[e] == time[e];
    CHECK(ok, "%s: times", label);
    if (mark) {
        ok = 1;
        for (long e = 0; e < d->n_events; e++) ok &= d->mark[e] == mark[e];
        CHECK(ok, "%s: marks", label);
    }
}

/* ---- reading ------------------------------------------------------------------------- */

static void test_split_column(void) {
    /* (train, a) and (dev, a) are different sequences; split names in any case */
    static const char text[] =
        "split,seq_id,time,mark\n"
        "train,a,0.5,1\n"
        "train,a,1.5,0\n"
        "dev,a,0.25,2\n"
        "test,b,3,1\n"
        "train,c,1,0\n"
        "train,c,1,3\n"
        "train,c,2.5e1,3\n"
        "Validation,d,-2,0\n"
        "TEST,e,0,0\n"
        "val,f,7,1\n"
        "valid,g,8,1\n";
    static const long off[] = { 0, 2, 3, 4, 7, 8, 9, 10, 11 };
    static const double time[] = { 0.5, 1.5, 0.25, 3, 1, 1, 25, -2, 0, 7, 8 };
    static const int mark[] = { 1, 0, 2, 1, 0, 3, 3, 0, 0, 1, 1 };
    static const int split[] = { 0, 1, 2, 0, 1, 2, 1, 1 };
    aaren_events *d = load_ok("split column", check_write_text("split.csv", text), NULL);
    expect("split column", d, 8, off, time, mark, 4, split);
    CHECK(d && d->max_len == 3, "split column: max_len %d", d ? d->max_len : -1);
    aaren_events_free(d);

    /* the same with CRLF, blank lines, spaces around cells and upper-case names */
    {
        static const char crlf[] =
            " SPLIT , Seq_ID ,TIME, Mark \r\n"
            "\r\n"
            "train , a , 0.5 , 1\r\n"
            "train,a,1.5,0\r\n"
            "  \r\n"
            "dev,a,0.25,2\r\n"
            "test,b,3,1\r\n"
            "train,c,1,0\r\n"
            "train,c,1,3\r\n"
            "\t\r\n"
            "train,c,2.5e1,+3\r\n"
            "Validation,d,-2,0\r\n"
            "TEST,e,0,0\r\n"
            "val,f,7,1\r\n"
            "valid,g,8,1";   /* no final line end */
        d = load_ok("crlf", check_write_text("crlf.csv", crlf), NULL);
        expect("crlf", d, 8, off, time, mark, 4, split);
        aaren_events_free(d);
    }
    /* a declared n_marks above the largest mark is kept */
    {
        aaren_events_options o;
        aaren_events_options_init(&o);
        CHECK(o.n_marks == 0 && o.train_frac == 0.6 && o.val_frac == 0.2, "options defaults");
        o.n_marks = 10;
        d = load_ok("n_marks 10", check_tmp_path("split.csv"), &o);
        expect("n_marks 10", d, 8, off, time, mark, 10, split);
        aaren_events_free(d);
    }
}

/* Ten sequences without a split column, s_k with k + 1 events at times k + 0.1 j. */
static void test_fraction_split(void) {
    char text[2048];
    size_t at = (size_t)snprintf(text, sizeof text, "seq_id,time,mark\n");
    long off[11];
    double time[64];
    int mark[64], split[10];
    aaren_events_options o;
    aaren_events *d;
    off[0] = 0;
    for (int k = 0; k < 10; k++) {
        for (int j = 0; j <= k; j++) {
            at += (size_t)snprintf(text + at, sizeof text - at, "s%d,%d.%d,%d\n", k, k, j, (k + j) % 3);
            time[off[k] + j] = k + 0.1 * j;
            mark[off[k] + j] = (k + j) % 3;
        }
        off[k + 1] = off[k] + k + 1;
    }
    for (int k = 0; k < 10; k++) split[k] = k < 6 ? 0 : k < 8 ? 1 : 2;
    d = load_ok("fractions 60/20/20", check_write_text("frac.csv", text), NULL);
    expect("fractions 60/20/20", d, 10, off, time, mark, 3, split);
    CHECK(d && d->max_len == 10, "fractions: max_len %d", d ? d->max_len : -1);
    aaren_events_free(d);

    aaren_events_options_init(&o);
    o.train_frac = 0.5;
    o.val_frac = 0.3;
    for (int k = 0; k < 10; k++) split[k] = k < 5 ? 0 : k < 8 ? 1 : 2;
    d = load_ok("fractions 50/30/20", check_tmp_path("frac.csv"), &o);
    expect("fractions 50/30/20", d, 10, off, time, mark, 3, split);
    aaren_events_free(d);
}

static void test_unmarked_and_columns(void) {
    /* unmarked; ids are text (spaces inside kept, "1" and "01" differ) */
    {
        static const char text[] =
            "seq_id,time\n"
            "user 17,0\n"
            "user 17,5\n"
            "1,2\n"
            "01,3\n"
            "01,3.5\n"
            "x-y_z,1e-3\n";
        static const long off[] = { 0, 2, 3, 5, 6 };
        static const double time[] = { 0, 5, 2, 3, 3.5, 1e-3 };
        static const int split[] = { 0, 1, 2, 2 };   /* 25/25/50 (60/20/20 leaves val empty) */
        aaren_events_options o;
        aaren_events *d;
        const char *path = check_write_text("unmarked.csv", text);
        err[0] = '\0';
        d = aaren_events_load_csv(path, NULL, err, sizeof err);
        CHECK(d == NULL && strstr(err, "split val has no sequences") != NULL && strstr(err, path) != NULL,
              "4 sequences, 60/20/20: %s", err);
        aaren_events_free(d);
        aaren_events_options_init(&o);
        o.train_frac = 0.25;
        o.val_frac = 0.25;
        o.n_marks = 5;   /* ignored without a mark column */
        d = load_ok("unmarked", path, &o);
        expect("unmarked", d, 4, off, time, NULL, 0, split);
        aaren_events_free(d);
    }
    /* columns in another order, alternative names, extra columns (one empty name) */
    {
        static const char text[] =
            "extra,type_event,,arrival_time,foo,sequence,split\n"
            "x,4,,10,y,A,test\n"
            "x,0,,11,y,A,test\n"
            ",2,z,1,,B,train\n"
            "x,1,,0,y,C,dev\n";
        static const long off[] = { 0, 2, 3, 4 };
        static const double time[] = { 10, 11, 1, 0 };
        static const int mark[] = { 4, 0, 2, 1 };
        static const int split[] = { 2, 0, 1 };
        aaren_events *d = load_ok("reordered", check_write_text("order.csv", text), NULL);
        expect("reordered", d, 3, off, time, mark, 5, split);
        aaren_events_free(d);
    }
    {
        static const char text[] = "\xEF\xBB\xBFseq,type,time_since_start\nq,0,1\nr,1,2\ns,2,3\n";
        static const long off[] = { 0, 1, 2, 3 };
        static const double time[] = { 1, 2, 3 };
        static const int mark[] = { 0, 1, 2 };
        static const int split[] = { 0, 1, 2 };
        aaren_events_options o;
        aaren_events *d;
        aaren_events_options_init(&o);
        o.train_frac = o.val_frac = 1.0 / 3.0 + 1e-9;
        d = load_ok("bom, seq/type", check_write_text("bom.csv", text), &o);
        expect("bom, seq/type", d, 3, off, time, mark, 3, split);
        aaren_events_free(d);
    }
}

/* ---- malformed files --------------------------------------------------------------------- */

static void expect_fail(const char *label, const char *path, const aaren_events_options *o, const char *where,
                        const char *word) {
    aaren_events *d;
    err[0] = '\0';
    d = aaren_events_load_csv(path, o, err, sizeof err);
    CHECK(d == NULL, "%s: loaded", label);
    CHECK(strstr(err, path) != NULL, "%s: message does not name the file: %s", label, err);
    if (where) CHECK(strstr(err, where) != NULL, "%s: expected '%s' in: %s", label, where, err);
    CHECK(strstr(err, word) != NULL, "%s: expected '%s' in: %s", label, word, err);
    CHECK(strchr(err, '\n') == NULL, "%s: message spans lines", label);
    aaren_events_free(d);
}

static void test_malformed(void) {
#define H "split,seq_id,time,mark\n"
#define OK3 "train,a,1,0\ndev,b,2,1\ntest,c,3,2\n"
    static const struct {
        const char *label, *text, *where, *word;
        int n_marks;
    } cases[] = {
        { "no seq column", "split,id,time\ntrain,a,1\n", "line 1: ", "no sequence id column", 0 },
        { "no time column", "\nseq_id,stamp\na,1\n", "line 2: ", "no time column", 0 },
        { "two time columns", "seq_id,time,arrival_time\na,1,1\n", "line 1: ", "columns 2 and 3 both name the time", 0 },
        { "too few cells", H OK3 "train,d,4\n", "line 5: ", "3 cells, the header has 4", 0 },
        { "too many cells", H "train,a,1,0,9\n" OK3, "line 2: ", "5 cells, the header has 4", 0 },
        { "non-numeric time", H OK3 "test,c,abc,1\n", "line 5: ", "time is not a number: 'abc'", 0 },
        { "time with suffix", H "train,a,1.5s,0\n" OK3, "line 2: ", "time is not a number: '1.5s'", 0 },
        { "hex time", H "train,a,0x10,0\n" OK3, "line 2: ", "time is not a number: '0x10'", 0 },
        { "empty time", H "train,a, ,0\n" OK3, "line 2: ", "empty time", 0 },
        { "nan time", H OK3 "test,c,nan,1\n", "line 5: ", "time is not a finite number: 'nan'", 0 },
        { "inf time", H OK3 "test,c,-Inf,1\n", "line 5: ", "time is not a finite number: '-Inf'", 0 },
        { "overflowing time", H OK3 "test,c,1e999,1\n", "line 5: ", "time is not a finite number: '1e999'", 0 },
        { "decreasing time", H OK3 "test,c,2.5,1\n", "line 5: ", "times must be non-decreasing", 0 },
        { "negative mark", H OK3 "test,c,3,-1\n", "line 5: ", "mark -1 is negative", 0 },
        { "non-integer mark", H "train,a,1,1.5\n" OK3, "line 2: ", "mark is not an integer: '1.5'", 0 },
        { "integral decimal mark", H "train,a,1,1.0\n" OK3, "line 2: ", "mark is not an integer: '1.0'", 0 },
        { "text mark", H "train,a,1,x\n" OK3, "line 2: ", "mark is not an integer: 'x'", 0 },
        { "empty mark", H "train,a,1,\n" OK3, "line 2: ", "empty mark", 0 },
        { "huge mark", H "train,a,1,99999999999999999999\n" OK3, "line 2: ", "mark out of range", 0 },
        { "mark >= n_marks", H OK3 "test,c,3,3\n", "line 5: ", "mark 3 is not below n_marks 3", 3 },
        { "unknown split", H "train,a,1,0\ntrian,b,2,1\n" OK3, "line 3: ", "unknown split 'trian'", 0 },
        { "reappearing id", H OK3 "train,a,4,0\n", "line 5: ", "sequence 'a' of split train reappears (it began on line 2", 0 },
        { "reappearing id, no split", "seq_id,time\na,1\nb,1\nc,1\nd,1\nb,2\n", "line 6: ", "sequence 'b' reappears (it began on line 3", 0 },
        { "empty file", "", NULL, "empty file", 0 },
        { "blank lines only", "\n \r\n", NULL, "no header line", 0 },
        { "header only", H "\n", NULL, "no events after the header (the file ends at line 2)", 0 },
        { "split left empty", H "train,a,1,0\ntest,b,1,0\ntrain,c,1,0\n", NULL, "split val has no sequences", 0 },
        { "test split left empty", H "train,a,1,0\ndev,b,1,0\n", NULL, "split test has no sequences", 0 },
        { "fraction split left empty", "seq_id,time\na,1\nb,2\n", NULL, "split val has no sequences (2 sequences in file order", 0 },
        { "long value cut", H "train,a,1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,0\n" OK3, "line 2: ",
          "'1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'", 0 },
        { "NUL byte", NULL, "line 3: ", "NUL", 0 },
    };
    char name[64];
    aaren_events_options o;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path;
        snprintf(name, sizeof name, "bad%02zu.csv", i);
        if (cases[i].text) {
            path = check_write_text(name, cases[i].text);
        } else {
            static const char nul[] = H "train,a,1,0\ntrain,a,2\0,0\n" OK3;
            path = check_write_bytes(name, nul, sizeof nul - 1);
        }
        aaren_events_options_init(&o);
        o.n_marks = cases[i].n_marks;
        expect_fail(cases[i].label, path, &o, cases[i].where, cases[i].word);
    }
#undef H
#undef OK3
    expect_fail("nonexistent file", check_tmp_path("does_not_exist.csv"), NULL, NULL, "cannot open");
    aaren_events_options_init(&o);
    o.train_frac = 0.9;
    o.val_frac = 0.2;
    expect_fail("fractions above 1", check_tmp_path("frac.csv"), &o, NULL, "train_frac");
    aaren_events_options_init(&o);
    o.n_marks = -1;
    expect_fail("negative n_marks", check_tmp_path("frac.csv"), &o, NULL, "n_marks");
    {
        aaren_events *d = aaren_events_load_csv(check_tmp_dir(), NULL, err, sizeof err);   /* a directory */
        CHECK(d == NULL && strstr(err, check_tmp_dir()) != NULL, "directory: %s", err);
        aaren_events_free(d);
    }
    CHECK(aaren_events_load_csv(NULL, NULL, err, sizeof err) == NULL && err[0], "NULL path");
    CHECK(aaren_events_load_csv(check_tmp_path("does_not_exist.csv"), NULL, NULL, 0) == NULL, "NULL err buffer");
    aaren_events_free(NULL);
}

/* ---- never crash ----------------------------------------------------------------------- */

/* 1: loaded and consistent, 0: refused with a message, -1: neither (see check_fuzz_file). */
static int load_checked(const char *path) {
    aaren_events *d;
    int r;
    err[0] = '\0';
    d = aaren_events_load_csv(path, NULL, err, sizeof err);
    r = d ? (consistent(d) ? 1 : -1) : (err[0] ? 0 : -1);
    aaren_events_free(d);
    return r;
}

/* Every prefix of a valid file, and at every offset each of a few odd bytes: the load
 * returns NULL with a message or a consistent object. */
static void test_no_crash(void) {
    static const char text[] =
        "split,Seq_ID,time,mark,extra\r\n"
        "train,a,0.5,1,x\n"
        "train,a,1.5,0,\n"
        "\n"
        "dev, b ,0.25,2,y\r\n"
        "test,c,-3e-1,1,z\n"
        "train,d,1,12,\n"
        "val,e,2,0,w";
    static const char odd[] = { ',', '\0', '\n', '\r', ' ', 'x', '.', '-', 'e', '9', '\xff' };
    check_fuzz_file("fuzz.csv", text, sizeof text - 1, odd, sizeof odd, load_checked);
}

/* ---- the Sin process ------------------------------------------------------------------- */

static void test_sin(void) {
    aaren_sin_options o;
    aaren_events *d, *d2;
    const int bins = 5;
    aaren_sin_options_init(&o);
    CHECK(o.n_seq == 1000 && o.horizon == 100 && o.base == 1 && o.amp == 0.9 && o.period == 10 &&
          o.random_phase == 0 && o.train_frac == 0.6 && o.val_frac == 0.2 && o.seed == 1, "sin defaults");
    CHECK(fabs(aaren_sin_intensity(&o, 2.5, 0) - 1.9) < 1e-12 && fabs(aaren_sin_intensity(&o, 7.5, 0) - 0.1) < 1e-12 &&
          fabs(aaren_sin_intensity(&o, 0, 3.14159265358979 / 2) - 1.9) < 1e-12, "intensity values");

    for (int rp = 0; rp < 2; rp++) {
        double cnt[5] = { 0 }, mean = 0, var = 0;
        int sorted = 1, in_range = 1, per[3] = { 0, 0, 0 };
        o.n_seq = 2000;
        o.random_phase = rp;
        o.seed = 12345 + (uint64_t)rp;
        err[0] = '\0';
        d = aaren_events_sin(&o, err, sizeof err);
        CHECK(d != NULL, "sin: %s", err);
        if (!d) continue;
        CHECK(consistent(d) && d->mark == NULL && d->n_marks == 0 && d->n_seq == 2000, "sin: object");
        for (int s = 0; s < d->n_seq; s++) {
            const double c = (double)(d->off[s + 1] - d->off[s]);
            per[d->split[s]]++;
            sorted &= s == 0 || d->split[s] >= d->split[s - 1];
            mean += c;
            var += c * c;
        }
        CHECK(sorted && per[0] == 1200 && per[1] == 400 && per[2] == 400, "sin: splits %d/%d/%d in order %d", per[0],
              per[1], per[2], sorted);
        mean /= d->n_seq;
        var = var / d->n_seq - mean * mean;
        /* lambda integrates to base * horizon over whole periods; count variance = mean */
        CHECK(fabs(mean - o.base * o.horizon) < 3 * sqrt(var / d->n_seq),
              "sin (random_phase %d): mean count %.3f, expected %.1f +- %.3f", rp, mean, o.base * o.horizon,
              3 * sqrt(var / d->n_seq));
        CHECK(fabs(var / mean - 1) < 0.15, "sin: count variance %.2f vs mean %.2f (Poisson)", var, mean);
        for (long e = 0; e < d->n_events; e++) {
            const double ph = fmod(d->time[e], o.period);
            int b = (int)(ph / o.period * bins);
            in_range &= d->time[e] >= 0 && d->time[e] < o.horizon;
            if (b >= bins) b = bins - 1;
            cnt[b]++;
        }
        CHECK(in_range, "sin: times outside [0, horizon)");
        for (int b = 0; b < bins; b++) {
            /* mean of lambda over the bin [t0, t1) of one period; with random phases the
             * pooled rate is flat at base */
            const double w = o.period / bins, t0 = b * w, t1 = t0 + w, k = 6.283185307179586 / o.period;
            const double want = rp ? o.base : o.base * (1 + o.amp * (cos(k * t0) - cos(k * t1)) / (k * w));
            const double got = cnt[b] / (d->n_seq * (o.horizon / o.period) * w);
            CHECK(fabs(got / want - 1) < 0.05, "sin (random_phase %d): bin %d rate %.4f, intensity %.4f", rp, b, got,
                  want);
        }
        aaren_events_free(d);
    }

    /* same seed: the same data; another seed: other data */
    aaren_sin_options_init(&o);
    o.n_seq = 50;
    o.random_phase = 1;
    d = aaren_events_sin(&o, err, sizeof err);
    d2 = aaren_events_sin(&o, err, sizeof err);
    CHECK(d && d2 && d->n_events == d2->n_events && memcmp(d->off, d2->off, sizeof *d->off * 51) == 0 &&
          memcmp(d->time, d2->time, sizeof *d->time * (size_t)d->n_events) == 0 &&
          memcmp(d->split, d2->split, sizeof *d->split * 50) == 0, "sin: same seed, different data");
    aaren_events_free(d2);
    o.seed = 2;
    d2 = aaren_events_sin(&o, err, sizeof err);
    CHECK(d && d2 && (d->n_events != d2->n_events || memcmp(d->time, d2->time, sizeof *d->time * (size_t)d->n_events) != 0),
          "sin: seeds 1 and 2 gave the same data");
    aaren_events_free(d);
    aaren_events_free(d2);

    /* a short horizon leaves some sequences empty: kept, length 0 */
    aaren_sin_options_init(&o);
    o.horizon = 0.5;
    o.n_seq = 100;
    d = aaren_events_sin(&o, err, sizeof err);
    CHECK(d != NULL && consistent(d), "sin short horizon: %s", err);
    if (d) {
        int empty = 0;
        for (int s = 0; s < d->n_seq; s++) empty += d->off[s + 1] == d->off[s];
        CHECK(empty > 0 && empty < d->n_seq, "sin short horizon: %d empty sequences", empty);
    }
    aaren_events_free(d);

    /* bad parameters */
    {
        static const struct { const char *label, *word; int field; double v; } bad[] = {
            { "amp < 0", "amp", 0, -0.1 },    { "amp > 1", "amp", 0, 1.1 },       { "amp nan", "amp", 0, NAN },
            { "base 0", "base", 1, 0 },       { "base < 0", "base", 1, -1 },      { "period 0", "period", 2, 0 },
            { "horizon 0", "horizon", 3, 0 }, { "horizon inf", "horizon", 3, INFINITY },
            { "n_seq 2", "n_seq", 4, 2 },     { "val split empty", "split val", 5, 3 },
            { "fractions > 1", "train_frac", 6, 0.9 }, { "huge", "candidate events", 3, 1e12 },
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            aaren_sin_options_init(&o);
            switch (bad[i].field) {
            case 0: o.amp = bad[i].v; break;
            case 1: o.base = bad[i].v; break;
            case 2: o.period = bad[i].v; break;
            case 3: o.horizon = bad[i].v; break;
            case 4: o.n_seq = (int)bad[i].v; break;
            case 5: o.n_seq = (int)bad[i].v; break;   /* 3 sequences: floor(0.6) = 0 validation */
            default: o.train_frac = bad[i].v; break;
            }
            err[0] = '\0';
            d = aaren_events_sin(&o, err, sizeof err);
            CHECK(d == NULL && strstr(err, bad[i].word) != NULL, "sin %s: expected '%s' in: %s", bad[i].label,
                  bad[i].word, err);
            aaren_events_free(d);
        }
        CHECK(aaren_events_sin(NULL, err, sizeof err) == NULL && err[0], "sin NULL options");
        aaren_sin_options_init(&o);
        o.amp = 1;   /* the edges of [0, 1] are allowed */
        o.n_seq = 3;
        o.train_frac = o.val_frac = 0.34;
        d = aaren_events_sin(&o, err, sizeof err);
        CHECK(d != NULL && consistent(d), "sin amp 1, 3 sequences: %s", err);
        aaren_events_free(d);
    }
}

/* ---- the shared files ------------------------------------------------------------------ */

static void test_real(void) {
    const char *env = getenv("AAREN_SHARED");
    const char *roots[3], *root = NULL;
    int nroots = 0;
    char path[1024];
    if (env && *env) {
        roots[nroots++] = env;
    } else {
        roots[nroots++] = "../shared";
        roots[nroots++] = "../../shared";
    }
    for (int r = 0; r < nroots && !root; r++) {
        FILE *probe;
        snprintf(path, sizeof path, "%s/data/events/MIMIC/mimic_events.csv", roots[r]);
        if ((probe = fopen(path, "rb"))) {
            fclose(probe);
            root = roots[r];
        }
    }
    if (!root) {
        printf("test_events: real-data checks SKIPPED: %s/data/events/MIMIC/mimic_events.csv not found\n", roots[0]);
        return;
    }
    {   /* MIMIC: split column, type_event 0..74 */
        aaren_events *d;
        long ev[3] = { 0, 0, 0 };
        int per[3] = { 0, 0, 0 }, mn = 1 << 30, mx = 0;
        snprintf(path, sizeof path, "%s/data/events/MIMIC/mimic_events.csv", root);
        d = load_ok("MIMIC", path, NULL);
        if (d) {
            for (int s = 0; s < d->n_seq; s++) {
                const int len = (int)(d->off[s + 1] - d->off[s]);
                per[d->split[s]]++;
                ev[d->split[s]] += len;
                if (len < mn) mn = len;
                if (len > mx) mx = len;
            }
            CHECK(d->n_seq == 650 && per[0] == 527 && per[1] == 58 && per[2] == 65, "MIMIC: %d sequences (%d/%d/%d)",
                  d->n_seq, per[0], per[1], per[2]);
            CHECK(d->n_events == 2419 && ev[0] == 1930 && ev[1] == 252 && ev[2] == 237,
                  "MIMIC: %ld events (%ld/%ld/%ld)", d->n_events, ev[0], ev[1], ev[2]);
            CHECK(d->n_marks == 75 && mn == 2 && mx == 33 && d->max_len == 33, "MIMIC: n_marks %d, lengths %d..%d",
                  d->n_marks, mn, mx);
            /* first lines: train,0,0,0.0,...,1 / 0.23076923 / 0.28846154 */
            CHECK(d->time[0] == 0.0 && d->time[1] == 0.23076923 && d->time[2] == 0.28846154 && d->mark[0] == 1,
                  "MIMIC: first events");
        }
        aaren_events_free(d);
    }
    snprintf(path, sizeof path, "%s/data/events/Wiki/wikipedia_events.csv", root);
    {
        FILE *probe = fopen(path, "rb");
        aaren_events *d;
        int per[3] = { 0, 0, 0 }, mn = 1 << 30, mx = 0, in_order = 1;
        if (!probe) {
            printf("test_events: Wikipedia check SKIPPED: %s not found\n", path);
            return;
        }
        fclose(probe);
        d = load_ok("Wikipedia", path, NULL);
        if (d) {
            for (int s = 0; s < d->n_seq; s++) {
                const int len = (int)(d->off[s + 1] - d->off[s]);
                per[d->split[s]]++;
                in_order &= d->split[s] == (s < 600 ? 0 : s < 800 ? 1 : 2);
                if (len < mn) mn = len;
                if (len > mx) mx = len;
            }
            CHECK(in_order, "Wikipedia: splits not 600/200/200 in file order");
            CHECK(d->n_seq == 1000 && per[0] == 600 && per[1] == 200 && per[2] == 200 && d->n_events == 157471,
                  "Wikipedia: %d sequences (%d/%d/%d), %ld events", d->n_seq, per[0], per[1], per[2], d->n_events);
            CHECK(d->n_marks == 8227 && mn == 84 && mx == 1936 && d->max_len == 1936,
                  "Wikipedia: n_marks %d, lengths %d..%d", d->n_marks, mn, mx);
            /* first lines 0,0,0.0,0 / 0,1,384.0,7 / 0,2,226236.0,798; the last 2638317.0 mark 1296 */
            CHECK(d->time[0] == 0 && d->mark[0] == 0 && d->time[1] == 384 && d->mark[1] == 7 && d->time[2] == 226236 &&
                  d->mark[2] == 798 && d->time[d->n_events - 1] == 2638317 && d->mark[d->n_events - 1] == 1296,
                  "Wikipedia: first and last events");
        }
        aaren_events_free(d);
    }
}

/* Resource bounds: a single huge mark or an endless sequence is an error, not gigabytes; and
 * empty sequence ids (no id stored yet) are handled without pointer arithmetic on NULL. */
static void test_bounds(void) {
    aaren_events_options o;
    aaren_events_options_init(&o);
    const char *path = check_write_text("bounds.csv", "seq_id,time,mark\na,1,0\na,2,10000000\n");
    expect_fail("a mark of 10^7", path, &o, "line 3: ", "mark 10000000 is not below the limit of 100000 marks");
    o.max_marks = 20000000;
    expect_fail("a limit past the ceiling", path, &o, NULL, "out of range");
    aaren_events_options_init(&o);
    path = check_write_text("bounds.csv", "seq_id,time,mark\na,1,0\na,2,2147483646\n");
    expect_fail("a mark of 2^31-2", path, &o, "line 3: ", "is not below the limit");
    o.max_marks = 200;
    path = check_write_text("bounds.csv", "seq_id,time,mark\na,1,0\na,2,199\nb,1,3\nc,1,1\nd,1,1\ne,1,2\n");
    aaren_events *d = aaren_events_load_csv(path, &o, err, sizeof err);
    CHECK(d && d->n_marks == 200, "a mark just below a raised limit: %s", err);
    aaren_events_free(d);
    aaren_events_options_init(&o);
    o.max_seq_len = 3;
    path = check_write_text("bounds.csv", "seq_id,time\na,1\na,2\na,3\nb,1\nb,2\nb,3\nb,4\nc,1\n");
    expect_fail("a sequence past max_seq_len", path, &o, "line 8: ", "sequence 'b' has more than 3 events");
    o.max_seq_len = 4;
    path = check_write_text("bounds.csv", "seq_id,time\n,1\n,2\nx,1\ny,1\nz,1\n");   /* the first id is empty */
    o.train_frac = o.val_frac = 0.25;
    d = aaren_events_load_csv(path, &o, err, sizeof err);
    CHECK(d && d->n_seq == 4 && d->off[1] == 2, "an empty sequence id: %s", err);
    aaren_events_free(d);
    path = check_write_text("bounds.csv", "seq_id,time\n,1\nx,1\n,2\n");
    expect_fail("an empty id that reappears", path, &o, "line 4: ", "reappears");
}

int main(void) {
    static const char *const names[] = { "split.csv", "crlf.csv", "frac.csv", "unmarked.csv", "order.csv", "bom.csv",
                                         "bounds.csv" };
    if (!check_tmp_dir()) return check_skip("test_events", "cannot create a temporary directory under /tmp");
    test_split_column();
    test_fraction_split();
    test_unmarked_and_columns();
    test_malformed();
    test_bounds();
    test_no_crash();
    test_sin();
    test_real();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) remove(check_tmp_path(names[i]));
    for (int i = 0; i < 64; i++) {
        char name[16];
        snprintf(name, sizeof name, "bad%02d.csv", i);
        remove(check_tmp_path(name));
    }
    check_tmp_cleanup();
    return check_done("test_events");
}
