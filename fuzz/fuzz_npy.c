/* Fuzz harness: the .npy reader (aaren_npy_read).
 *
 * Any input either reads as an array whose shape, element count and data agree, or fails
 * with a one-line message naming the file. A read array is written back with
 * aaren_npy_write and read again: the copy must hold the same shape and the same bytes. */
#include "common.h"
#include "aaren_io.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_INPUT = 1 << 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MAX_INPUT) return 0;
    const char *path = fuzz_put("input.npy", data, size);
    char err[512] = "";
    aaren_array a;
    memset(&a, 0, sizeof a);
    if (aaren_npy_read(path, &a, err, sizeof err)) {
        fuzz_check_message("aaren_npy_read", path, err);
        return 0;
    }
    fuzz_note_loaded("aaren_npy_read", path);
    FUZZ_ASSERT(a.ndim >= 0 && a.ndim <= AAREN_MAX_DIMS);
    int64_t numel = 1;
    for (int d = 0; d < a.ndim; d++) {
        FUZZ_ASSERT(a.shape[d] >= 0);
        numel *= a.shape[d];
    }
    FUZZ_ASSERT(numel == a.numel);
    FUZZ_ASSERT(a.numel == 0 || a.data);
    /* the file holds exactly the data: it cannot claim more floats than it has bytes */
    FUZZ_ASSERT((uint64_t)a.numel * sizeof(float) <= size);
    fuzz_touch(a.data, (size_t)a.numel);

    char copy_path[1100];
    strcpy(copy_path, path);
    strcpy(strrchr(copy_path, '/') + 1, "copy.npy");
    FUZZ_ASSERT(aaren_npy_write(copy_path, a.data, a.ndim, a.shape, err, sizeof err) == 0);
    aaren_array b;
    memset(&b, 0, sizeof b);
    FUZZ_ASSERT(aaren_npy_read(copy_path, &b, err, sizeof err) == 0);
    FUZZ_ASSERT(b.ndim == a.ndim && b.numel == a.numel);
    FUZZ_ASSERT(memcmp(b.shape, a.shape, sizeof(int64_t) * (size_t)a.ndim) == 0);
    FUZZ_ASSERT(a.numel == 0 || memcmp(b.data, a.data, sizeof(float) * (size_t)a.numel) == 0);
    aaren_array_free(&b);
    aaren_array_free(&a);
    return 0;
}
