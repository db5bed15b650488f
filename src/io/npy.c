/* NumPy .npy arrays for aaren: little-endian float32, C order (shared/docs/contract.md).
 *
 * Layout: 6 magic bytes "\x93NUMPY", a major and a minor version byte, the header length
 * (2 bytes little-endian for version 1.0, 4 bytes for 2.0 and 3.0), the header (a Python
 * dict literal with exactly the keys 'descr', 'fortran_order' and 'shape', padded with
 * spaces and ended by '\n'), then the raw array data.
 *
 * Reading accepts versions 1.0, 2.0 and 3.0, descr '<f4' only, fortran_order False only,
 * and requires the file size to equal header plus data exactly. Writing produces version
 * 1.0 with the data starting at a multiple of 64 bytes, as numpy.save does.
 *
 * Byte order: header integers are decoded byte by byte, but float data is copied between
 * file and memory unchanged, so this file assumes a little-endian host. */
#include "io.h"
#include "base/common.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAGIC      "\x93NUMPY"
#define NPY_MAGIC_LEN  6
#define NPY_ALIGN      64
#define NPY_MAX_HEADER (1u << 20)   /* numpy writes ~128 bytes; anything past 1 MiB is bogus */

/* ---- header dictionary parser ------------------------------------------------------ */

typedef struct {
    const char *s;
    size_t len, at;
    const char *path;
    char *err;
    size_t errlen;
} npy_hdr;

static int hdr_peek(npy_hdr *h)
{
    return h->at < h->len ? (unsigned char)h->s[h->at] : -1;
}

static void hdr_ws(npy_hdr *h)
{
    while (h->at < h->len && (h->s[h->at] == ' ' || h->s[h->at] == '\t' ||
                              h->s[h->at] == '\n' || h->s[h->at] == '\r'))
        h->at++;
}

static int hdr_fail(npy_hdr *h, const char *what)
{
    return aaren_file_err(h->err, h->errlen, h->path, "malformed header at byte %zu: %s",
                    h->at, what);
}

/* Skips blanks, then consumes c if it comes next. */
static int hdr_accept(npy_hdr *h, int c)
{
    hdr_ws(h);
    if (hdr_peek(h) != c) return 0;
    h->at++;
    return 1;
}

/* A quoted string without escapes: '...' or "...". */
static int hdr_string(npy_hdr *h, const char **str, size_t *n)
{
    int q;
    size_t start;
    hdr_ws(h);
    q = hdr_peek(h);
    if (q != '\'' && q != '"') return hdr_fail(h, "expected a quoted string");
    start = ++h->at;
    while (h->at < h->len && h->s[h->at] != q) {
        if (h->s[h->at] == '\\' || h->s[h->at] == '\n')
            return hdr_fail(h, "escapes and line breaks are not supported in strings");
        h->at++;
    }
    if (h->at >= h->len) return hdr_fail(h, "unterminated string");
    *str = h->s + start;
    *n = h->at - start;
    h->at++;
    return 0;
}

/* A non-negative decimal integer, optionally with Python 2's 'L' suffix. */
static int hdr_dim(npy_hdr *h, int64_t *v)
{
    int64_t x = 0;
    int digits = 0;
    hdr_ws(h);
    if (hdr_peek(h) == '-')
        return aaren_file_err(h->err, h->errlen, h->path, "shape has a negative dimension");
    while (hdr_peek(h) >= '0' && hdr_peek(h) <= '9') {
        int d = hdr_peek(h) - '0';
        if (x > (INT64_MAX - d) / 10)
            return aaren_file_err(h->err, h->errlen, h->path,
                            "shape has a dimension too large for 64 bits (overflow)");
        x = x * 10 + d;
        digits++;
        h->at++;
    }
    if (!digits) return hdr_fail(h, "expected an integer dimension in 'shape'");
    if (hdr_peek(h) == 'L') h->at++;
    *v = x;
    return 0;
}

/* A shape tuple: (), (5,), (2, 3), (2, 3,). */
static int hdr_shape(npy_hdr *h, int *ndim, int64_t *shape)
{
    int n = 0, comma = 0;
    if (!hdr_accept(h, '(')) return hdr_fail(h, "'shape' is not a tuple");
    while (!hdr_accept(h, ')')) {
        if (n > 0 && !comma) return hdr_fail(h, "expected ',' or ')' in 'shape'");
        if (n == AAREN_MAX_DIMS)
            return aaren_file_err(h->err, h->errlen, h->path,
                            "shape has more than %d dimensions", AAREN_MAX_DIMS);
        if (hdr_dim(h, &shape[n]) != 0) return -1;
        n++;
        comma = hdr_accept(h, ',');
    }
    if (n == 1 && !comma) return hdr_fail(h, "'shape' (n) without a comma is not a tuple");
    *ndim = n;
    return 0;
}

static int hdr_bool(npy_hdr *h, int *v)
{
    hdr_ws(h);
    if (h->len - h->at >= 4 && memcmp(h->s + h->at, "True", 4) == 0) {
        h->at += 4;
        *v = 1;
    } else if (h->len - h->at >= 5 && memcmp(h->s + h->at, "False", 5) == 0) {
        h->at += 5;
        *v = 0;
    } else {
        return hdr_fail(h, "'fortran_order' is not True or False");
    }
    return 0;
}

/* Parses the header dict and checks it describes a little-endian float32 C-order array. */
static int npy_parse_header(npy_hdr *h, int *ndim, int64_t *shape)
{
    static const char *const keys[3] = { "descr", "fortran_order", "shape" };
    int seen[3] = { 0, 0, 0 }, fortran = 0;
    const char *descr = NULL;
    size_t descr_len = 0;

    if (!hdr_accept(h, '{')) return hdr_fail(h, "expected '{'");
    while (!hdr_accept(h, '}')) {
        const char *key;
        size_t klen;
        int k;
        if (hdr_string(h, &key, &klen) != 0) return -1;
        for (k = 0; k < 3; k++)
            if (strlen(keys[k]) == klen && memcmp(keys[k], key, klen) == 0) break;
        if (k == 3)
            return aaren_file_err(h->err, h->errlen, h->path, "header has unknown key '%.*s'",
                            (int)(klen > 40 ? 40 : klen), key);
        if (seen[k])
            return aaren_file_err(h->err, h->errlen, h->path, "header has duplicate key '%s'",
                            keys[k]);
        seen[k] = 1;
        if (!hdr_accept(h, ':')) return hdr_fail(h, "expected ':'");
        if (k == 0) {
            hdr_ws(h);
            if (hdr_peek(h) != '\'' && hdr_peek(h) != '"')
                return aaren_file_err(h->err, h->errlen, h->path,
                                "header 'descr' is not a dtype string (structured arrays "
                                "are not supported); only '<f4' is accepted");
            if (hdr_string(h, &descr, &descr_len) != 0) return -1;
        } else if (k == 1) {
            if (hdr_bool(h, &fortran) != 0) return -1;
        } else {
            if (hdr_shape(h, ndim, shape) != 0) return -1;
        }
        if (!hdr_accept(h, ',')) {
            if (!hdr_accept(h, '}')) return hdr_fail(h, "expected ',' or '}'");
            break;
        }
    }
    hdr_ws(h);
    if (h->at != h->len) return hdr_fail(h, "unexpected bytes after the header dictionary");
    for (int k = 0; k < 3; k++)
        if (!seen[k])
            return aaren_file_err(h->err, h->errlen, h->path, "header lacks the key '%s'", keys[k]);
    if (descr_len != 3 || memcmp(descr, "<f4", 3) != 0)
        return aaren_file_err(h->err, h->errlen, h->path,
                        "header declares dtype '%.*s'; only '<f4' is accepted",
                        (int)(descr_len > 40 ? 40 : descr_len), descr);
    if (fortran)
        return aaren_file_err(h->err, h->errlen, h->path,
                        "array is in Fortran order; only C order is accepted");
    return 0;
}

/* ---- public API -------------------------------------------------------------------- */

int aaren_npy_read(const char *path, aaren_array *out, char *err, size_t errlen)
{
    unsigned char pre[12];
    size_t pre_len;
    uint64_t fsize, hlen, need, nbytes;
    char *header = NULL;
    aaren_array a;
    FILE *f;
    int rc = -1;

    memset(&a, 0, sizeof a);
    if (out) memset(out, 0, sizeof *out);
    if (!path || !out) return aaren_file_err(err, errlen, path, "invalid arguments");
    f = aaren_file_open_head(path, pre, 10, "a .npy header", &fsize, err, errlen);
    if (!f) return -1;
    if (memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0) {
        aaren_file_err(err, errlen, path, "not a .npy file (bad magic bytes)");
        goto done;
    }
    if (pre[6] == 1 && pre[7] == 0) {
        pre_len = 10;
        hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8;
    } else if ((pre[6] == 2 || pre[6] == 3) && pre[7] == 0) {
        pre_len = 12;
        if (fsize < 12 || fread(pre + 10, 1, 2, f) != 2) {
            aaren_file_err(err, errlen, path, "file is too short (%llu bytes) for a .npy header",
                     (unsigned long long)fsize);
            goto done;
        }
        hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8 | (uint64_t)pre[10] << 16 |
               (uint64_t)pre[11] << 24;
    } else {
        aaren_file_err(err, errlen, path, "unsupported .npy format version %d.%d", pre[6], pre[7]);
        goto done;
    }
    if (hlen > NPY_MAX_HEADER) {
        aaren_file_err(err, errlen, path, "header length %llu is implausibly large",
                 (unsigned long long)hlen);
        goto done;
    }
    if (hlen > fsize - pre_len) {
        aaren_file_err(err, errlen, path, "truncated: header length %llu exceeds the file size %llu",
                 (unsigned long long)hlen, (unsigned long long)fsize);
        goto done;
    }
    header = malloc(hlen ? hlen : 1);
    if (!header) {
        aaren_file_err(err, errlen, path, "out of memory");
        goto done;
    }
    if (fread(header, 1, hlen, f) != hlen) {
        aaren_file_err(err, errlen, path, "read error in the header");
        goto done;
    }
    {
        npy_hdr h = { header, hlen, 0, path, err, errlen };
        if (npy_parse_header(&h, &a.ndim, a.shape) != 0) goto done;
    }
    a.numel = aaren_shape_numel(a.ndim, a.shape);
    if (a.numel < 0) {
        aaren_file_err(err, errlen, path, "shape is too large (element count overflows)");
        goto done;
    }
    nbytes = (uint64_t)a.numel * sizeof(float);
    need = pre_len + hlen + nbytes;
    if (fsize < need) {
        aaren_file_err(err, errlen, path,
                 "truncated: shape needs %llu data bytes but only %llu follow the header",
                 (unsigned long long)nbytes, (unsigned long long)(fsize - pre_len - hlen));
        goto done;
    }
    if (fsize > need) {
        aaren_file_err(err, errlen, path, "%llu unexpected trailing bytes after the array data",
                 (unsigned long long)(fsize - need));
        goto done;
    }
    if (a.numel > 0) {
        a.data = malloc((size_t)nbytes);
        if (!a.data) {
            aaren_file_err(err, errlen, path, "out of memory for %llu bytes of data",
                     (unsigned long long)nbytes);
            goto done;
        }
        if (fread(a.data, sizeof(float), (size_t)a.numel, f) != (size_t)a.numel) {
            aaren_file_err(err, errlen, path, "read error in the array data");
            goto done;
        }
    }
    *out = a;
    a.data = NULL;
    rc = 0;
done:
    free(a.data);
    free(header);
    fclose(f);
    return rc;
}

int aaren_npy_write(const char *path, const float *data, int ndim, const int64_t *shape,
                    char *err, size_t errlen)
{
    char header[NPY_ALIGN * 8];
    unsigned char pre[10];
    size_t len, total;
    int64_t numel;
    FILE *f;

    if (!path) return aaren_file_err(err, errlen, path, "invalid arguments");
    if (ndim < 0 || ndim > AAREN_MAX_DIMS || (ndim > 0 && !shape))
        return aaren_file_err(err, errlen, path, "cannot write %d dimensions (at most %d)", ndim,
                        AAREN_MAX_DIMS);
    numel = aaren_shape_numel(ndim, shape);
    if (numel < 0)
        return aaren_file_err(err, errlen, path, "shape has a negative or too large dimension");
    if (numel > 0 && !data) return aaren_file_err(err, errlen, path, "no data to write");

    len = (size_t)snprintf(header, sizeof header,
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < ndim; i++)
        len += (size_t)snprintf(header + len, sizeof header - len, "%s%lld",
                                i ? ", " : "", (long long)shape[i]);
    len += (size_t)snprintf(header + len, sizeof header - len, "%s), }",
                            ndim == 1 ? "," : "");
    /* pad with spaces so that magic + version + length + header + '\n' fills whole
     * 64-byte blocks; 8 dims of 19 digits stay far below the buffer size */
    total = (10 + len + 1 + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    memset(header + len, ' ', total - 10 - len - 1);
    len = total - 10;
    header[len - 1] = '\n';

    memcpy(pre, NPY_MAGIC, NPY_MAGIC_LEN);
    pre[6] = 1;
    pre[7] = 0;
    pre[8] = (unsigned char)(len & 0xff);
    pre[9] = (unsigned char)(len >> 8);

    aaren_writer *w = aaren_writer_open(path, err, errlen);
    if (!w) return -1;
    f = aaren_writer_file(w);
    fwrite(pre, 1, sizeof pre, f);
    fwrite(header, 1, len, f);
    if (numel) fwrite(data, sizeof(float), (size_t)numel, f);
    return aaren_writer_commit(w, err, errlen);   /* a short write shows as a stream error */
}

void aaren_array_free(aaren_array *a)
{
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}
