/* Fuzz harness: the event-sequence CSV loader (aaren_events_load_csv).
 *
 * Each input is read twice: with marks counted from the file (n_marks 0) and with at most
 * four marks. A load either fails with a one-line message naming the file, or its
 * sequences tile the events in order, times are finite and non-decreasing within each
 * sequence, marks are below n_marks, and every split holds a sequence. */
#include "common.h"
#include "data/events.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_INPUT = 1 << 14 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_loaded(const aaren_events *d, int max_marks) {
    FUZZ_ASSERT(d->n_seq >= 1 && d->n_events >= 1);
    FUZZ_ASSERT(d->n_marks >= 0 && (max_marks == 0 || d->n_marks <= max_marks));
    FUZZ_ASSERT((d->n_marks == 0) == (d->mark == NULL));
    FUZZ_ASSERT(d->off[0] == 0 && d->off[d->n_seq] == d->n_events);
    int per_split[3] = {0, 0, 0}, longest = 0;
    for (int s = 0; s < d->n_seq; s++) {
        FUZZ_ASSERT(d->off[s] <= d->off[s + 1]);
        FUZZ_ASSERT(d->split[s] >= AAREN_EV_TRAIN && d->split[s] <= AAREN_EV_TEST);
        per_split[d->split[s]]++;
        const long len = d->off[s + 1] - d->off[s];
        if (len > longest) longest = (int)len;
        for (long e = d->off[s]; e < d->off[s + 1]; e++) {
            FUZZ_ASSERT(isfinite(d->time[e]));
            FUZZ_ASSERT(e == d->off[s] || d->time[e] >= d->time[e - 1]);
            if (d->mark) FUZZ_ASSERT(d->mark[e] >= 0 && d->mark[e] < d->n_marks);
        }
    }
    FUZZ_ASSERT(longest == d->max_len);
    for (int k = 0; k < 3; k++) FUZZ_ASSERT(per_split[k] >= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MAX_INPUT) return 0;
    const char *path = fuzz_put("input.csv", data, size);
    static const int marks[2] = {0, 4};
    for (int k = 0; k < 2; k++) {
        aaren_events_options o;
        aaren_events_options_init(&o);
        o.n_marks = marks[k];
        char err[512] = "";
        aaren_events *d = aaren_events_load_csv(path, &o, err, sizeof err);
        if (!d) {
            fuzz_check_message("aaren_events_load_csv", path, err);
            continue;
        }
        fuzz_note_loaded("aaren_events_load_csv", path);
        check_loaded(d, marks[k]);
        aaren_events_free(d);
    }
    return 0;
}
