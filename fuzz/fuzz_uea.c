/* Fuzz harness: the UEA / sktime .ts loader (aaren_uea_load).
 *
 * A load either fails with a one-line message naming the file, or every case's label
 * index and length are in range, its values lie inside the values read (checked by reading
 * every one) and the missing-value count and length range agree with them. */
#include "common.h"
#include "data/uea.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_INPUT = 1 << 14 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MAX_INPUT) return 0;
    const char *path = fuzz_put("input.ts", data, size);
    char err[512] = "";
    aaren_uea *d = aaren_uea_load(path, err, sizeof err);
    if (!d) {
        fuzz_check_message("aaren_uea_load", path, err);
        return 0;
    }
    fuzz_note_loaded("aaren_uea_load", path);
    FUZZ_ASSERT(d->dims >= 1 && d->n_cases >= 1 && d->n_classes >= 1);
    for (int k = 0; k < d->n_classes; k++) {
        FUZZ_ASSERT(d->labels[k] != NULL);
        FUZZ_ASSERT(aaren_uea_label_index(d, d->labels[k]) == k);
    }
    long missing = 0;
    int min_len = d->len[0], max_len = d->len[0];
    for (int i = 0; i < d->n_cases; i++) {
        FUZZ_ASSERT(d->y[i] >= 0 && d->y[i] < d->n_classes);
        FUZZ_ASSERT(d->len[i] >= 1);
        const size_t n = (size_t)d->len[i] * (size_t)d->dims;
        for (size_t j = 0; j < n; j++) missing += isnan(d->values[d->off[i] + j]) != 0;
        if (d->len[i] < min_len) min_len = d->len[i];
        if (d->len[i] > max_len) max_len = d->len[i];
    }
    FUZZ_ASSERT(missing == d->n_missing);
    FUZZ_ASSERT(min_len == d->min_len && max_len == d->max_len);
    aaren_uea_free(d);
    return 0;
}
