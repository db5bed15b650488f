/* Robustness of the .npy and safetensors readers against damaged files.
 *
 * Starting from valid files built in memory, each iteration applies one to three random
 * mutations (byte flips, insertions, deletions, truncation, header-length changes, digits
 * in the header replaced, header characters swapped or duplicated), writes the result to
 * a temporary file in the working directory and reads it back. Every outcome must be
 * either success with a consistent result or failure with a message naming the file; the
 * sanitizers catch any out-of-bounds access or leak on the way. The PRNG is seeded, so a
 * failing iteration can be replayed. */
#include "check.h"
#include "aaren_io.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TMP_ST   "test_io_fuzz_tmp.safetensors"
#define TMP_ST2  "test_io_fuzz_tmp2.safetensors"
#define TMP_NPY  "test_io_fuzz_tmp.npy"
#define ITER_ST  4000
#define ITER_NPY 3000
#define SLACK    512           /* room for insertions beyond the base file */
#define MAX_FAILS 20           /* stop early once this many checks have failed */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)     /* splitmix64 */
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t below(size_t n)
{
    return n ? (size_t)(next() % n) : 0;
}

typedef struct {
    unsigned char *b;
    size_t len, cap;
    size_t len_at, len_bytes;  /* header-length field: offset and width */
    size_t hdr_at, hdr_len;    /* header text in the base file */
} image;

/* ---- valid base files ------------------------------------------------------------- */

static void append(image *m, const void *p, size_t n)
{
    memcpy(m->b + m->len, p, n);
    m->len += n;
}

static image base_safetensors(void)
{
    static const char json[] =
        "{\"__metadata__\":{\"aaren.arch\":\"aaren\",\"aaren.d_model\":\"4\","
        "\"note\":\"caf\\u00e9 \\\"q\\\" \\ud83d\\ude00\"},"
        "\"layers.0.attn.query\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
        "\"layers.0.attn.q_proj.weight\":{\"dtype\":\"F32\",\"shape\":[4,4],"
        "\"data_offsets\":[16,80]},"
        "\"layers.0.attn.q_proj.bias\":{\"dtype\":\"F32\",\"shape\":[4],"
        "\"data_offsets\":[80,96]},"
        "\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[96,100]},"
        "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[100,100]},"
        "\"task.head.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[100,124]}}";
    const size_t ndata = 124;
    size_t hlen = sizeof json - 1;
    image m;
    memset(&m, 0, sizeof m);
    while ((8 + hlen) % 8) hlen++;
    m.cap = 8 + hlen + ndata + SLACK;
    m.b = malloc(m.cap);
    for (int i = 0; i < 8; i++) m.b[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    m.len = 8;
    append(&m, json, sizeof json - 1);
    while (m.len < 8 + hlen) m.b[m.len++] = ' ';
    for (size_t i = 0; i < ndata / 4; i++) {
        float v = (float)i * 0.5f - 7.0f;
        append(&m, &v, 4);
    }
    m.len_at = 0;
    m.len_bytes = 8;
    m.hdr_at = 8;
    m.hdr_len = hlen;
    return m;
}

static image base_npy(int major)
{
    static const char header[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
    size_t pre = major == 1 ? 10 : 12, hlen = sizeof header - 1 + 1;
    image m;
    memset(&m, 0, sizeof m);
    while ((pre + hlen) % 64) hlen++;
    m.cap = pre + hlen + 48 + SLACK;
    m.b = malloc(m.cap);
    memcpy(m.b, "\x93NUMPY", 6);
    m.b[6] = (unsigned char)major;
    m.b[7] = 0;
    for (size_t i = 0; i < pre - 8; i++) m.b[8 + i] = (unsigned char)(hlen >> (8 * i));
    m.len = pre;
    append(&m, header, sizeof header - 1);
    while (m.len < pre + hlen - 1) m.b[m.len++] = ' ';
    m.b[m.len++] = '\n';
    for (int i = 0; i < 12; i++) {
        float v = (float)i - 2.5f;
        append(&m, &v, 4);
    }
    m.len_at = 8;
    m.len_bytes = pre - 8;
    m.hdr_at = pre;
    m.hdr_len = hlen;
    return m;
}

/* ---- mutations ------------------------------------------------------------------- */

/* A position inside the (base) header text, clipped to the current length. */
static size_t header_pos(const image *m)
{
    size_t end = m->hdr_at + m->hdr_len < m->len ? m->hdr_at + m->hdr_len : m->len;
    return end > m->hdr_at ? m->hdr_at + below(end - m->hdr_at) : below(m->len);
}

static void mutate(image *m)
{
    static const char interesting[] = "{}[]\",:\\-0123456789 eEuL.()'";
    size_t pos = m->len ? below(m->len) : 0;
    switch (below(9)) {
    case 0: /* flip bits */
        if (m->len) m->b[pos] ^= (unsigned char)(1 + below(255));
        break;
    case 1: /* insert a byte, often a JSON/Python punctuation character */
        if (m->len < m->cap) {
            if (below(2)) pos = header_pos(m);
            memmove(m->b + pos + 1, m->b + pos, m->len - pos);
            m->b[pos] = below(3) ? (unsigned char)interesting[below(sizeof interesting - 1)]
                                 : (unsigned char)below(256);
            m->len++;
        }
        break;
    case 2: /* delete a byte */
        if (m->len) {
            if (below(2)) pos = header_pos(m);
            memmove(m->b + pos, m->b + pos + 1, m->len - pos - 1);
            m->len--;
        }
        break;
    case 3: /* truncate */
        m->len = below(m->len + 1);
        break;
    case 4: { /* change the header-length field */
        uint64_t v = 0;
        if (m->len < m->len_at + m->len_bytes) break;
        for (size_t i = 0; i < m->len_bytes; i++) v |= (uint64_t)m->b[m->len_at + i] << (8 * i);
        switch (below(4)) {
        case 0: v += below(33) - 16; break;
        case 1: v = next(); break;
        case 2: v = (uint64_t)m->len - below(24); break;
        default: v ^= (uint64_t)1 << below(8 * m->len_bytes); break;
        }
        for (size_t i = 0; i < m->len_bytes; i++)
            m->b[m->len_at + i] = (unsigned char)(v >> (8 * i));
        break;
    }
    case 5: case 6: { /* replace a digit in the header: another digit, a sign, or many */
        size_t start = header_pos(m);
        for (size_t k = 0; k < m->hdr_len && start + k < m->len; k++) {
            size_t p = start + k;
            if (m->b[p] < '0' || m->b[p] > '9') continue;
            if (below(4) == 0 && m->len + 20 <= m->cap) {
                memmove(m->b + p + 20, m->b + p, m->len - p);
                memset(m->b + p, '9', 20);
                m->len += 20;
            } else {
                m->b[p] = below(5) ? (unsigned char)('0' + below(10))
                                   : (unsigned char)"-.eE"[below(4)];
            }
            break;
        }
        break;
    }
    case 7: { /* swap two header characters */
        size_t a = header_pos(m), b = header_pos(m);
        if (a < m->len && b < m->len) {
            unsigned char t = m->b[a];
            m->b[a] = m->b[b];
            m->b[b] = t;
        }
        break;
    }
    default: { /* copy a stretch of the header over another place (duplicate keys etc.) */
        size_t a = header_pos(m), b = header_pos(m), n = 1 + below(40);
        if (a + n <= m->len && b + n <= m->len) memmove(m->b + b, m->b + a, n);
        break;
    }
    }
}

static void write_file(const char *path, const image *m)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(m->b, 1, m->len, f) != m->len) fprintf(stderr, "cannot write %s\n", path);
    if (f) fclose(f);
}

/* ---- result checks --------------------------------------------------------------- */

static int64_t product(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    return n;
}

/* Reads every value so that a short allocation would trip the sanitizer. */
static double touch(const float *data, int64_t numel)
{
    double s = 0;
    for (int64_t i = 0; i < numel; i++) s += data[i];
    return s;
}

static void check_failure(int iter, const char *what, const char *err, const char *path)
{
    CHECK(err[0] != '\0', "%s iteration %d: rejected with an empty message", what, iter);
    CHECK(strstr(err, path) != NULL, "%s iteration %d: message '%s' lacks the path", what,
          iter, err);
}

static int check_st_result(int iter, const aaren_st *st)
{
    int ok = 1;
    for (int i = 0; i < st->n_tensors; i++) {
        const aaren_tensor *t = &st->tensors[i];
        ok &= t->name != NULL && t->ndim >= 0 && t->ndim <= AAREN_MAX_DIMS &&
              t->numel >= 0 && t->numel == product(t->ndim, t->shape) &&
              (t->numel == 0 || t->data != NULL);
        if (ok && t->data) (void)touch(t->data, t->numel);
    }
    for (int i = 0; i < st->n_meta; i++) ok &= st->meta_keys[i] && st->meta_vals[i];
    CHECK(ok, "safetensors iteration %d: accepted with an inconsistent result", iter);
    return ok;
}

/* An accepted checkpoint must also survive the writer and read back identical. */
static void check_st_rewrite(int iter, const aaren_st *st, char *err, size_t errlen)
{
    aaren_st back;
    int same;
    CHECK(aaren_st_write(TMP_ST2, st, err, errlen) == 0,
          "safetensors iteration %d: accepted checkpoint not writable: %s", iter, err);
    if (aaren_st_read(TMP_ST2, &back, err, errlen) != 0) {
        CHECK(0, "safetensors iteration %d: rewritten checkpoint unreadable: %s", iter, err);
        return;
    }
    same = back.n_tensors == st->n_tensors && back.n_meta == st->n_meta;
    for (int i = 0; same && i < st->n_tensors; i++) {
        const aaren_tensor *a = &st->tensors[i], *b = &back.tensors[i];
        same = strcmp(a->name, b->name) == 0 && a->numel == b->numel && a->ndim == b->ndim &&
               (a->numel == 0 || memcmp(a->data, b->data, (size_t)a->numel * 4) == 0);
    }
    for (int i = 0; same && i < st->n_meta; i++)
        same = strcmp(st->meta_keys[i], back.meta_keys[i]) == 0 &&
               strcmp(st->meta_vals[i], back.meta_vals[i]) == 0;
    CHECK(same, "safetensors iteration %d: rewritten checkpoint differs", iter);
    aaren_st_free(&back);
}

static void fuzz_safetensors(void)
{
    image base = base_safetensors(), m = base;
    int accepted = 0, rejected = 0;
    char err[512];
    aaren_st st;

    m.b = malloc(base.cap);
    write_file(TMP_ST, &base);
    CHECK(aaren_st_read(TMP_ST, &st, err, sizeof err) == 0 && st.n_tensors == 6 && st.n_meta == 3,
          "base safetensors file rejected: %s", err);
    aaren_st_free(&st);

    for (int iter = 0; iter < ITER_ST && check_failures < MAX_FAILS; iter++) {
        int rc;
        memcpy(m.b, base.b, base.len);
        m.len = base.len;
        for (size_t k = 1 + below(3); k > 0; k--) mutate(&m);
        write_file(TMP_ST, &m);
        err[0] = '\0';
        memset(&st, 0x5a, sizeof st);
        rc = aaren_st_read(TMP_ST, &st, err, sizeof err);
        if (rc == 0) {
            accepted++;
            if (check_st_result(iter, &st)) check_st_rewrite(iter, &st, err, sizeof err);
        } else {
            rejected++;
            check_failure(iter, "safetensors", err, TMP_ST);
            CHECK(st.n_tensors == 0 && st.tensors == NULL && st.n_meta == 0,
                  "safetensors iteration %d: out not left empty", iter);
        }
        aaren_st_free(&st);
    }
    printf("safetensors: %d mutated files accepted, %d rejected\n", accepted, rejected);
    CHECK(rejected > accepted, "mutations rarely caught: %d accepted, %d rejected", accepted,
          rejected);
    free(m.b);
    free(base.b);
}

static void fuzz_npy(void)
{
    image bases[2] = { base_npy(1), base_npy(2) }, m;
    int accepted = 0, rejected = 0;
    char err[512];
    aaren_array a;

    for (int v = 0; v < 2; v++) {
        write_file(TMP_NPY, &bases[v]);
        CHECK(aaren_npy_read(TMP_NPY, &a, err, sizeof err) == 0 && a.numel == 12,
              "base .npy (version %d) rejected: %s", v + 1, err);
        aaren_array_free(&a);
    }
    m = bases[0];
    m.b = malloc(bases[0].cap > bases[1].cap ? bases[0].cap : bases[1].cap);
    for (int iter = 0; iter < ITER_NPY && check_failures < MAX_FAILS; iter++) {
        const image *base = &bases[iter & 1];
        unsigned char *buf = m.b;
        int rc;
        m = *base;
        m.b = buf;
        memcpy(m.b, base->b, base->len);
        for (size_t k = 1 + below(3); k > 0; k--) mutate(&m);
        write_file(TMP_NPY, &m);
        err[0] = '\0';
        memset(&a, 0x5a, sizeof a);
        rc = aaren_npy_read(TMP_NPY, &a, err, sizeof err);
        if (rc == 0) {
            accepted++;
            CHECK(a.ndim >= 0 && a.ndim <= AAREN_MAX_DIMS && a.numel == product(a.ndim, a.shape)
                  && (a.numel == 0 || a.data != NULL),
                  "npy iteration %d: accepted with an inconsistent result", iter);
            if (a.data) (void)touch(a.data, a.numel);
        } else {
            rejected++;
            check_failure(iter, "npy", err, TMP_NPY);
            CHECK(a.data == NULL && a.numel == 0 && a.ndim == 0,
                  "npy iteration %d: out not left empty", iter);
        }
        aaren_array_free(&a);
    }
    printf("npy: %d mutated files accepted, %d rejected\n", accepted, rejected);
    free(m.b);
    free(bases[0].b);
    free(bases[1].b);
}

int main(void)
{
    fuzz_safetensors();
    fuzz_npy();
    remove(TMP_ST);
    remove(TMP_ST2);
    remove(TMP_NPY);
    return check_done("test_io_fuzz");
}
