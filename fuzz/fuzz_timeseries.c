/* Fuzz harness: the TSLib-style CSV time-series loader (aaren_ts_load).
 *
 * Each input is read under three option sets (all columns in and out with no calendar
 * features; all in, target out with minute features; target only with hour features and
 * raw values), with short windows so that small files can load. A load either fails with a
 * one-line message naming the file, or holds consistent sizes, and the first and last
 * window of every split can be fetched with finite values. */
#include "common.h"
#include "data/timeseries.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_INPUT = 1 << 14 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_loaded(const aaren_ts *ts) {
    const long n = aaren_ts_rows(ts);
    const int cols = aaren_ts_cols(ts), d_in = aaren_ts_d_in(ts), d_out = aaren_ts_d_out(ts);
    const int L = aaren_ts_seq_len(ts), H = aaren_ts_pred_len(ts);
    FUZZ_ASSERT(n >= 1 && cols >= 1 && d_in >= 1 && d_out >= 1);
    FUZZ_ASSERT(d_in - aaren_ts_n_time(ts) <= cols && d_out <= cols);
    for (int c = 0; c < cols; c++) FUZZ_ASSERT(aaren_ts_col_name(ts, c) != NULL);
    FUZZ_ASSERT(aaren_ts_col_name(ts, cols) == NULL);
    fuzz_touch(aaren_ts_data(ts), (size_t)n * (size_t)cols);
    if (aaren_ts_n_time(ts)) fuzz_touch(aaren_ts_time(ts), (size_t)n * (size_t)aaren_ts_n_time(ts));
    float *x = malloc(sizeof(float) * 2 * (size_t)L * (size_t)d_in);
    float *y = malloc(sizeof(float) * 2 * (size_t)H * (size_t)d_out);
    FUZZ_ASSERT(x && y);
    for (int split = AAREN_TS_TRAIN; split <= AAREN_TS_TEST; split++) {
        long begin, end;
        const long w = aaren_ts_split_rows(ts, split, &begin, &end);
        FUZZ_ASSERT(w >= 1 && w == aaren_ts_n_windows(ts, split));
        FUZZ_ASSERT(begin >= 0 && end <= n && end - begin == w + L + H - 1);
        const long idx[2] = {0, w - 1};
        FUZZ_ASSERT(aaren_ts_batch(ts, split, idx, 2, x, y) == 0);
        for (size_t i = 0; i < 2 * (size_t)L * (size_t)d_in; i++) FUZZ_ASSERT(isfinite(x[i]));
        for (size_t i = 0; i < 2 * (size_t)H * (size_t)d_out; i++) FUZZ_ASSERT(isfinite(y[i]));
        const long bad = w;
        FUZZ_ASSERT(aaren_ts_batch(ts, split, &bad, 1, x, y) == -1);
    }
    free(x);
    free(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MAX_INPUT) return 0;
    const char *path = fuzz_put("input.csv", data, size);
    static const struct { int L, H; aaren_ts_features f; aaren_ts_freq freq; int no_scale; } sets[3] = {
        {2, 1, AAREN_TS_M, AAREN_TS_FREQ_NONE, 0},
        {1, 2, AAREN_TS_MS, AAREN_TS_FREQ_T, 0},
        {3, 1, AAREN_TS_S, AAREN_TS_FREQ_H, 1},
    };
    for (int k = 0; k < 3; k++) {
        aaren_ts_options o;
        aaren_ts_options_init(&o);
        o.seq_len = sets[k].L;
        o.pred_len = sets[k].H;
        o.features = sets[k].f;
        o.freq = sets[k].freq;
        o.no_scale = sets[k].no_scale;
        char err[512] = "";
        aaren_ts *ts = aaren_ts_load(path, &o, err, sizeof err);
        if (!ts) {
            fuzz_check_message("aaren_ts_load", path, err);
            continue;
        }
        fuzz_note_loaded("aaren_ts_load", path);
        check_loaded(ts);
        aaren_ts_free(ts);
    }
    return 0;
}
