/* Array and checkpoint files: NumPy .npy and safetensors (see shared/docs/contract.md).
 *
 * Every function returns 0 on success. On failure it returns non-zero and writes a
 * one-line message into err (errlen bytes, always NUL-terminated) that names the
 * file and the fault, e.g. "x.npy: header declares dtype '<f8'; only '<f4' is accepted".
 * Nothing is printed; callers decide what to do with the message. */
#ifndef AAREN_IO_PUBLIC_H
#define AAREN_IO_PUBLIC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "aaren_export.h"

#define AAREN_MAX_DIMS 8

/* ---- .npy: little-endian float32, C order, format version 1.0 / 2.0 (3.0 accepted on read) */
typedef struct {
    float *data;                     /* owned, numel floats */
    int ndim;                        /* 0..AAREN_MAX_DIMS */
    int64_t shape[AAREN_MAX_DIMS];
    int64_t numel;                   /* product of shape (1 for ndim == 0) */
} aaren_array;

AAREN_API int  aaren_npy_read(const char *path, aaren_array *out, char *err, size_t errlen);
AAREN_API int  aaren_npy_write(const char *path, const float *data, int ndim, const int64_t *shape,
                     char *err, size_t errlen);
AAREN_API void aaren_array_free(aaren_array *a);

/* ---- safetensors: F32 tensors only; __metadata__ string map kept in order. */
typedef struct {
    char *name;                      /* owned */
    int ndim;
    int64_t shape[AAREN_MAX_DIMS];
    int64_t numel;
    float *data;                     /* owned, numel floats */
} aaren_tensor;

typedef struct {
    aaren_tensor *tensors; int n_tensors, cap_tensors;
    char **meta_keys; char **meta_vals; int n_meta, cap_meta;
} aaren_st;

/* Reads every tensor and the metadata. Rejects: short files, header length beyond the
 * file, malformed JSON, dtypes other than F32, shapes whose byte size differs from the
 * offsets, offsets out of range or overlapping, duplicate names, non-string metadata. */
AAREN_API int  aaren_st_read(const char *path, aaren_st *out, char *err, size_t errlen);
/* Writes tensors in the order held, data offsets packed, header padded to 8 bytes. */
AAREN_API int  aaren_st_write(const char *path, const aaren_st *st, char *err, size_t errlen);
AAREN_API void aaren_st_init(aaren_st *st);
AAREN_API void aaren_st_free(aaren_st *st);
/* NULL when absent */
AAREN_API aaren_tensor *aaren_st_find(const aaren_st *st, const char *name);
AAREN_API const char   *aaren_st_meta(const aaren_st *st, const char *key);
/* Adds (copying data, which may be NULL for zeros) or replaces a tensor of that name;
 * returns the stored tensor or NULL when out of memory / bad shape. */
AAREN_API aaren_tensor *aaren_st_put(aaren_st *st, const char *name, int ndim, const int64_t *shape,
                           const float *data);
AAREN_API int aaren_st_set_meta(aaren_st *st, const char *key, const char *val);

/* ---- files the project writes: all or nothing -------------------------------------
 * A writer fills a temporary file in the target's folder; commit flushes it to disk, renames
 * it over the target and syncs the folder, so a crash, a full disk or a failed write leaves the
 * previous file untouched and no temporary behind. The target must be absent or a regular
 * file: a folder, device, pipe or symbolic link is refused, never replaced. */
typedef struct aaren_writer aaren_writer;

/* Creates the temporary file (mode 0666 less the umask). NULL with a message on failure. */
AAREN_API aaren_writer *aaren_writer_open(const char *path, char *err, size_t errlen);
/* The stream to write into (binary mode). */
AAREN_API FILE *aaren_writer_file(aaren_writer *w);
/* Makes the file the target and frees w; on failure removes the temporary, frees w and
 * leaves the target as it was. A stream error seen while writing counts as a failure. */
AAREN_API int  aaren_writer_commit(aaren_writer *w, char *err, size_t errlen);
/* Removes the temporary and frees w (NULL is allowed). */
AAREN_API void aaren_writer_abort(aaren_writer *w);
/* Checks, without changing anything, that path could be written now: its folder exists and
 * takes a new file, and the target is absent or a regular file. For checking a run's output
 * paths before the run. */
AAREN_API int  aaren_check_writable(const char *path, char *err, size_t errlen);
/* Appends text to a small text file (at most 64 MiB) the same all-or-nothing way, writing
 * header first when the file is absent or empty (header may be NULL). Appends from several
 * processes to one file at once lose nothing: each holds an exclusive lock (flock) on the
 * file's folder from reading the file to renaming the new one into place, so appends to
 * files of one folder take turns. */
AAREN_API int  aaren_append_text(const char *path, const char *header, const char *text, char *err, size_t errlen);

#endif
