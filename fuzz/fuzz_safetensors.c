/* Fuzz harness: the safetensors reader (aaren_st_read).
 *
 * Any input either reads as tensors whose shapes, element counts and data agree, with
 * unique names and metadata keys, or fails with a one-line message naming the file. What
 * was read is written back with aaren_st_write and read again: the copy must hold the
 * same tensors (names, shapes, bytes) and the same metadata in the same order. */
#include "common.h"
#include "aaren_io.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_INPUT = 1 << 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_read(const aaren_st *st, size_t file_size) {
    uint64_t total = 0;
    for (int i = 0; i < st->n_tensors; i++) {
        const aaren_tensor *t = &st->tensors[i];
        FUZZ_ASSERT(t->name != NULL);
        FUZZ_ASSERT(t->ndim >= 0 && t->ndim <= AAREN_MAX_DIMS);
        int64_t numel = 1;
        for (int d = 0; d < t->ndim; d++) {
            FUZZ_ASSERT(t->shape[d] >= 0);
            numel *= t->shape[d];
        }
        FUZZ_ASSERT(numel == t->numel);
        FUZZ_ASSERT(t->numel == 0 || t->data);
        fuzz_touch(t->data, (size_t)t->numel);
        total += (uint64_t)t->numel * sizeof(float);
        for (int j = 0; j < i; j++) FUZZ_ASSERT(strcmp(st->tensors[j].name, t->name) != 0);
        FUZZ_ASSERT(aaren_st_find(st, t->name) == t);
    }
    /* tensors may not overlap, so together they fit in the file */
    FUZZ_ASSERT(total <= file_size);
    for (int i = 0; i < st->n_meta; i++) {
        FUZZ_ASSERT(st->meta_keys[i] && st->meta_vals[i]);
        for (int j = 0; j < i; j++) FUZZ_ASSERT(strcmp(st->meta_keys[j], st->meta_keys[i]) != 0);
        FUZZ_ASSERT(aaren_st_meta(st, st->meta_keys[i]) == st->meta_vals[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MAX_INPUT) return 0;
    const char *path = fuzz_put("input.safetensors", data, size);
    char err[512] = "";
    aaren_st st;
    aaren_st_init(&st);
    if (aaren_st_read(path, &st, err, sizeof err)) {
        fuzz_check_message("aaren_st_read", path, err);
        FUZZ_ASSERT(st.n_tensors == 0 && st.n_meta == 0);
        aaren_st_free(&st);
        return 0;
    }
    fuzz_note_loaded("aaren_st_read", path);
    check_read(&st, size);

    char copy_path[1100];
    strcpy(copy_path, path);
    strcpy(strrchr(copy_path, '/') + 1, "copy.safetensors");
    if (aaren_st_write(copy_path, &st, err, sizeof err)) {
        fuzz_check_message("aaren_st_write of a file aaren_st_read accepted", copy_path, err);
        fuzz_fail(__FILE__, __LINE__, "aaren_st_write refused what aaren_st_read accepted");
    }
    aaren_st back;
    aaren_st_init(&back);
    if (aaren_st_read(copy_path, &back, err, sizeof err)) fuzz_fail(__FILE__, __LINE__, err);
    FUZZ_ASSERT(back.n_tensors == st.n_tensors && back.n_meta == st.n_meta);
    for (int i = 0; i < st.n_tensors; i++) {
        const aaren_tensor *a = &st.tensors[i], *b = &back.tensors[i];
        FUZZ_ASSERT(strcmp(a->name, b->name) == 0);
        FUZZ_ASSERT(a->ndim == b->ndim && a->numel == b->numel);
        FUZZ_ASSERT(memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim) == 0);
        FUZZ_ASSERT(a->numel == 0 || memcmp(a->data, b->data, sizeof(float) * (size_t)a->numel) == 0);
    }
    for (int i = 0; i < st.n_meta; i++) {
        FUZZ_ASSERT(strcmp(st.meta_keys[i], back.meta_keys[i]) == 0);
        FUZZ_ASSERT(strcmp(st.meta_vals[i], back.meta_vals[i]) == 0);
    }
    aaren_st_free(&back);
    aaren_st_free(&st);
    return 0;
}
