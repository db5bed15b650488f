/* .npy and safetensors I/O: round trips, hand-written files, and every malformed case the
 * readers must reject with a message naming the file and the fault (safetensors offsets
 * must tile the data buffer exactly); the strict number parsers used for checkpoint
 * metadata. Temporary files are created in the working directory and removed at the end. */
#include "check.h"
#include "aaren_io.h"
#include "base/common.h"

#include <float.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TMP_NPY "test_io_tmp.npy"
#define TMP_ST  "test_io_tmp.safetensors"

static char err[512];

static void write_bytes(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot create %s", path);
    if (!f) return;
    CHECK(fwrite(bytes, 1, n, f) == n, "short write to %s", path);
    fclose(f);
}

/* Reads a whole file into a malloc'd buffer; *n gets its size. */
static unsigned char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long len;
    *n = 0;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)len + 1);
    if (b && fread(b, 1, (size_t)len, f) == (size_t)len) *n = (size_t)len;
    fclose(f);
    return b;
}

/* The message must name the file and contain a word describing the fault. */
static void check_message(const char *label, const char *path, const char *word)
{
    CHECK(err[0] != '\0', "%s: empty message", label);
    CHECK(strstr(err, path) != NULL, "%s: message '%s' lacks the path", label, err);
    CHECK(strstr(err, word) != NULL, "%s: message '%s' lacks '%s'", label, err, word);
}

/* ---- .npy ------------------------------------------------------------------------- */

/* Builds a .npy file image: magic, version major.0, header length (2 bytes for version 1,
 * else 4), the header text as given, then nbytes of data. Returns its size. */
static size_t npy_image(unsigned char *buf, int major, const char *header, const void *data,
                        size_t nbytes)
{
    size_t hlen = strlen(header), at = 0;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    at = 8;
    buf[at++] = (unsigned char)(hlen & 0xff);
    buf[at++] = (unsigned char)(hlen >> 8 & 0xff);
    if (major != 1) {
        buf[at++] = (unsigned char)(hlen >> 16 & 0xff);
        buf[at++] = (unsigned char)(hlen >> 24 & 0xff);
    }
    memcpy(buf + at, header, hlen);
    at += hlen;
    if (nbytes) memcpy(buf + at, data, nbytes);
    return at + nbytes;
}

static void expect_npy_fail(const char *label, const void *bytes, size_t n, const char *word)
{
    aaren_array a;
    memset(&a, 0x5a, sizeof a);
    write_bytes(TMP_NPY, bytes, n);
    err[0] = '\0';
    CHECK(aaren_npy_read(TMP_NPY, &a, err, sizeof err) != 0, "%s: accepted", label);
    check_message(label, TMP_NPY, word);
    CHECK(a.data == NULL && a.ndim == 0 && a.numel == 0, "%s: out not left empty", label);
    aaren_array_free(&a);
}

/* Writes header + the floats 0, 1, 2, ... and expects the given shape back. */
static void expect_npy_ok(const char *label, int major, const char *header, int ndim,
                          const int64_t *shape, int64_t numel)
{
    unsigned char buf[1024];
    float vals[32];
    aaren_array a;
    for (int i = 0; i < 32; i++) vals[i] = (float)i;
    write_bytes(TMP_NPY, buf, npy_image(buf, major, header, vals, (size_t)numel * 4));
    err[0] = '\0';
    CHECK(aaren_npy_read(TMP_NPY, &a, err, sizeof err) == 0, "%s: rejected: %s", label, err);
    CHECK(a.ndim == ndim && a.numel == numel, "%s: ndim %d numel %lld", label, a.ndim,
          (long long)a.numel);
    for (int d = 0; d < ndim && d < a.ndim; d++)
        CHECK(a.shape[d] == shape[d], "%s: dim %d is %lld", label, d, (long long)a.shape[d]);
    for (int64_t i = 0; i < numel && i < a.numel; i++)
        CHECK(a.data[i] == (float)i, "%s: value %lld", label, (long long)i);
    CHECK(numel > 0 || a.data == NULL, "%s: data for an empty array", label);
    aaren_array_free(&a);
}

static void test_npy_roundtrip(void)
{
    static const struct { int ndim; int64_t shape[AAREN_MAX_DIMS]; } cases[] = {
        { 2, { 2, 3 } }, { 1, { 5 } }, { 0, { 0 } }, { 3, { 2, 0, 3 } },
        { 8, { 1, 2, 1, 2, 1, 2, 1, 3 } }, { 1, { 1000 } },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int64_t numel = 1;
        float *vals;
        aaren_array a;
        unsigned char *raw;
        size_t rawlen, hlen;
        for (int d = 0; d < cases[c].ndim; d++) numel *= cases[c].shape[d];
        vals = malloc((size_t)(numel ? numel : 1) * sizeof *vals);
        for (int64_t i = 0; i < numel; i++) vals[i] = (float)i * 0.5f - 3.25f;
        CHECK(aaren_npy_write(TMP_NPY, vals, cases[c].ndim, cases[c].shape, err, sizeof err) == 0,
              "npy write case %zu: %s", c, err);
        raw = read_bytes(TMP_NPY, &rawlen);
        CHECK(raw && rawlen >= 10 && memcmp(raw, "\x93NUMPY\x01\x00", 8) == 0,
              "npy case %zu: not a version 1.0 file", c);
        if (raw && rawlen >= 10) {
            hlen = (size_t)raw[8] | (size_t)raw[9] << 8;
            CHECK((10 + hlen) % 64 == 0, "npy case %zu: data starts at %zu", c, 10 + hlen);
            CHECK(10 + hlen <= rawlen && raw[9 + hlen] == '\n', "npy case %zu: header end", c);
            CHECK(rawlen == 10 + hlen + (size_t)numel * 4, "npy case %zu: file size %zu", c,
                  rawlen);
        }
        free(raw);
        CHECK(aaren_npy_read(TMP_NPY, &a, err, sizeof err) == 0, "npy read case %zu: %s", c, err);
        CHECK(a.ndim == cases[c].ndim && a.numel == numel, "npy case %zu: ndim %d numel %lld",
              c, a.ndim, (long long)a.numel);
        for (int d = 0; d < a.ndim && d < cases[c].ndim; d++)
            CHECK(a.shape[d] == cases[c].shape[d], "npy case %zu: dim %d", c, d);
        CHECK(numel == 0 || (a.data && memcmp(a.data, vals, (size_t)numel * 4) == 0),
              "npy case %zu: values differ", c);
        aaren_array_free(&a);
        CHECK(a.data == NULL && a.numel == 0, "aaren_array_free leaves the array empty");
        free(vals);
    }
}

static void test_npy_write_errors(void)
{
    int64_t nine[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 }, neg[2] = { 2, -1 }, ok[1] = { 3 };
    float v[3] = { 1, 2, 3 };
    CHECK(aaren_npy_write(TMP_NPY, v, 9, nine, err, sizeof err) != 0, "9 dims written");
    check_message("npy write 9 dims", TMP_NPY, "dimensions");
    CHECK(aaren_npy_write(TMP_NPY, v, 2, neg, err, sizeof err) != 0, "negative dim written");
    check_message("npy write negative dim", TMP_NPY, "negative");
    CHECK(aaren_npy_write(TMP_NPY, NULL, 1, ok, err, sizeof err) != 0, "NULL data written");
    check_message("npy write NULL data", TMP_NPY, "data");
    CHECK(aaren_npy_write("no_such_dir/x.npy", v, 1, ok, err, sizeof err) != 0,
          "write into a missing directory");
    check_message("npy write missing dir", "no_such_dir/x.npy", "cannot create");
}

static void test_npy_handwritten(void)
{
    static const int64_t s23[2] = { 2, 3 }, s3[1] = { 3 }, s22[2] = { 2, 2 }, s0[1] = { 0 };
    expect_npy_ok("v1.0 as numpy writes it", 1,
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }          \n",
                  2, s23, 6);
    expect_npy_ok("v1.0 reordered keys, double quotes, no trailing commas", 1,
                  "{ \"shape\" : ( 3 , ) ,\"fortran_order\":False,'descr':'<f4' }\n", 1, s3, 3);
    expect_npy_ok("v1.0 tuple with trailing comma", 1,
                  "{'descr':'<f4','fortran_order':False,'shape':(2,3,),}", 2, s23, 6);
    expect_npy_ok("v1.0 Python 2 long suffix", 1,
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n", 2, s23, 6);
    expect_npy_ok("v2.0", 2,
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }    \n", 2, s22, 4);
    expect_npy_ok("v3.0 0-d", 3, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n",
                  0, NULL, 1);
    expect_npy_ok("v1.0 empty", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }\n",
                  1, s0, 0);
}

static void test_npy_malformed(void)
{
    static const char *const good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n";
    static const struct { const char *label, *header, *word; } bad_headers[] = {
        { "dtype <f8", "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", "'<f8'" },
        { "dtype |f4", "{'descr': '|f4', 'fortran_order': False, 'shape': (2,), }", "dtype" },
        { "dtype >f4", "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", "dtype" },
        { "structured dtype", "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
          "structured" },
        { "Fortran order", "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", "Fortran" },
        { "fortran_order not a bool", "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }",
          "fortran_order" },
        { "missing shape", "{'descr': '<f4', 'fortran_order': False, }", "lacks" },
        { "unknown key", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
          "unknown key" },
        { "duplicate key", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
          "'shape': (2,)}", "duplicate" },
        { "negative dim", "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }",
          "negative" },
        { "dim overflow", "{'descr': '<f4', 'fortran_order': False, "
          "'shape': (99999999999999999999,), }", "overflow" },
        { "product overflow", "{'descr': '<f4', 'fortran_order': False, "
          "'shape': (4611686018427387904, 4), }", "too large" },
        { "9 dims", "{'descr': '<f4', 'fortran_order': False, "
          "'shape': (1, 1, 1, 1, 1, 1, 1, 1, 2), }", "dimensions" },
        { "bytes after dict", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x\n",
          "after" },
        { "unterminated dict", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)",
          "malformed" },
        { "unterminated string", "{'descr': '<f4",
          "malformed" },
        { "shape not a tuple", "{'descr': '<f4', 'fortran_order': False, 'shape': [2], }",
          "tuple" },
        { "shape (2) without comma", "{'descr': '<f4', 'fortran_order': False, 'shape': (2), }",
          "not a tuple" },
        { "missing colon", "{'descr' '<f4', 'fortran_order': False, 'shape': (2,), }",
          "malformed" },
        { "not a dict", "['<f4', False, (2,)]", "malformed" },
        { "empty header", "", "malformed" },
    };
    unsigned char buf[1024];
    float two[3] = { 1, 2, 3 };
    size_t n;

    for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++)
        expect_npy_fail(bad_headers[i].label, buf,
                        npy_image(buf, 1, bad_headers[i].header, two, 8), bad_headers[i].word);

    n = npy_image(buf, 1, good, two, 8);
    expect_npy_fail("file shorter than the preamble", buf, 5, "short");
    expect_npy_fail("empty file", buf, 0, "short");
    expect_npy_fail("truncated data", buf, n - 1, "truncated");
    expect_npy_fail("data missing entirely", buf, n - 8, "truncated");
    expect_npy_fail("header cut short", buf, 40, "exceeds");
    n = npy_image(buf, 1, good, two, 12);
    expect_npy_fail("trailing bytes", buf, n, "trailing");

    n = npy_image(buf, 1, good, two, 8);
    buf[0] = 'X';
    expect_npy_fail("bad magic", buf, n, "magic");
    n = npy_image(buf, 4, good, two, 8);
    expect_npy_fail("version 4.0", buf, n, "version");
    n = npy_image(buf, 1, good, two, 8);
    buf[7] = 1;
    expect_npy_fail("version 1.1", buf, n, "version");
    n = npy_image(buf, 2, good, two, 8);
    buf[11] = 0x7f;
    expect_npy_fail("v2 header length absurd", buf, n, "large");
    n = npy_image(buf, 2, good, two, 8);
    expect_npy_fail("v2 cut inside the length field", buf, 11, "short");

    remove(TMP_NPY);
    err[0] = '\0';
    {
        aaren_array a;
        CHECK(aaren_npy_read(TMP_NPY, &a, err, sizeof err) != 0, "missing file accepted");
        check_message("npy missing file", TMP_NPY, "cannot open");
    }
}

/* ---- safetensors ------------------------------------------------------------------ */

/* Builds a safetensors file from header text and a data buffer of ndata bytes holding the
 * floats 0, 1, 2, ... (a partial float at the end keeps its leading bytes). */
static void st_file(const char *json, size_t ndata)
{
    size_t hlen = strlen(json), n = 8 + hlen + ndata;
    unsigned char *buf = malloc(n + 4);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    memcpy(buf + 8, json, hlen);
    for (size_t i = 0; i < (ndata + 3) / 4; i++) {
        float v = (float)i;
        memcpy(buf + 8 + hlen + 4 * i, &v, 4);
    }
    write_bytes(TMP_ST, buf, n);
    free(buf);
}

static void expect_st_empty(const char *label, const aaren_st *st)
{
    CHECK(st->n_tensors == 0 && st->tensors == NULL && st->n_meta == 0 &&
          st->meta_keys == NULL && st->meta_vals == NULL, "%s: out not left empty", label);
}

static void expect_st_fail_file(const char *label, const char *word)
{
    aaren_st st;
    memset(&st, 0x5a, sizeof st);
    err[0] = '\0';
    CHECK(aaren_st_read(TMP_ST, &st, err, sizeof err) != 0, "%s: accepted", label);
    check_message(label, TMP_ST, word);
    expect_st_empty(label, &st);
    aaren_st_free(&st);
}

static void expect_st_fail(const char *label, const char *json, size_t ndata, const char *word)
{
    st_file(json, ndata);
    expect_st_fail_file(label, word);
}

#define ENTRY(shape, b, e) "{\"dtype\":\"F32\",\"shape\":" shape ",\"data_offsets\":[" b "," e "]}"

static void test_st_roundtrip(void)
{
    static const char weird[] = "we\"ird\\name\n\x01 caf\xc3\xa9 \xf0\x9f\x98\x80";
    int64_t s4[1] = { 4 }, s44[2] = { 4, 4 }, s05[2] = { 0, 5 }, s34[2] = { 3, 4 }, s22[2] = { 2, 2 };
    float v[16], w[4] = { -1, -2, -3, -4 }, one = 42.0f;
    aaren_st st, back;
    aaren_tensor *t;
    unsigned char *raw;
    size_t rawlen;

    for (int i = 0; i < 16; i++) v[i] = (float)i / 7.0f;
    aaren_st_init(&st);
    CHECK(aaren_st_set_meta(&st, "aaren.arch", "aaren") == 0, "set_meta");
    CHECK(aaren_st_set_meta(&st, "aaren.d_model", "4") == 0, "set_meta");
    CHECK(aaren_st_set_meta(&st, "note", "tab\tquote\" back\\slash \xc3\xa9") == 0, "set_meta");
    CHECK(aaren_st_put(&st, "layers.0.attn.query", 1, s4, v) != NULL, "put query");
    CHECK(aaren_st_put(&st, "layers.0.attn.q_proj.weight", 2, s44, v) != NULL, "put weight");
    CHECK(aaren_st_put(&st, "scalar", 0, NULL, &one) != NULL, "put 0-d");
    CHECK(aaren_st_put(&st, "empty", 2, s05, NULL) != NULL, "put empty");
    CHECK(aaren_st_put(&st, "task.head.weight", 2, s34, NULL) != NULL, "put zeros");
    CHECK(aaren_st_put(&st, weird, 1, s4, w) != NULL, "put odd name");
    CHECK(st.n_tensors == 6 && st.n_meta == 3, "counts %d %d", st.n_tensors, st.n_meta);

    /* replacing keeps the position and takes the new shape and values */
    t = aaren_st_put(&st, "layers.0.attn.query", 2, s22, w);
    CHECK(t == &st.tensors[0] && st.n_tensors == 6, "put replaces in place");
    CHECK(t && t->ndim == 2 && t->numel == 4 && t->data[3] == -4.0f, "replaced tensor");
    /* a shape that aliases the stored one */
    t = aaren_st_put(&st, "layers.0.attn.query", t->ndim, t->shape, t->data);
    CHECK(t && t->ndim == 2 && t->shape[1] == 2 && t->data[0] == -1.0f, "put with aliasing");
    CHECK(aaren_st_set_meta(&st, "aaren.d_model", "8") == 0 && st.n_meta == 3,
          "set_meta replaces");
    CHECK(strcmp(aaren_st_meta(&st, "aaren.d_model"), "8") == 0, "replaced metadata");
    CHECK(aaren_st_find(&st, "absent") == NULL && aaren_st_meta(&st, "absent") == NULL,
          "absent lookups return NULL");
    {
        int64_t nine[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 }, neg[1] = { -1 };
        CHECK(aaren_st_put(&st, "x", 9, nine, NULL) == NULL, "put 9 dims");
        CHECK(aaren_st_put(&st, "x", 1, neg, NULL) == NULL, "put negative dim");
        CHECK(aaren_st_put(&st, "__metadata__", 1, s4, NULL) == NULL, "put reserved name");
        CHECK(st.n_tensors == 6, "failed puts add nothing");
    }

    CHECK(aaren_st_write(TMP_ST, &st, err, sizeof err) == 0, "st write: %s", err);
    raw = read_bytes(TMP_ST, &rawlen);
    if (raw && rawlen >= 8) {
        uint64_t hlen = 0;
        size_t data = 0;
        for (int i = 7; i >= 0; i--) hlen = hlen << 8 | raw[i];
        for (int i = 0; i < st.n_tensors; i++) data += (size_t)st.tensors[i].numel * 4;
        CHECK((8 + hlen) % 8 == 0, "data buffer starts at %llu", (unsigned long long)(8 + hlen));
        CHECK(8 + hlen + data == rawlen, "offsets not packed: %zu bytes", rawlen);
        CHECK(rawlen > 24 && memcmp(raw + 8, "{\"__metadata__\":", 16) == 0,
              "__metadata__ is not first");
    } else {
        CHECK(0, "cannot read back %s", TMP_ST);
    }
    free(raw);

    CHECK(aaren_st_read(TMP_ST, &back, err, sizeof err) == 0, "st read: %s", err);
    CHECK(back.n_tensors == st.n_tensors && back.n_meta == st.n_meta, "counts after read");
    for (int i = 0; i < st.n_tensors && i < back.n_tensors; i++) {
        const aaren_tensor *a = &st.tensors[i], *b = &back.tensors[i];
        CHECK(strcmp(a->name, b->name) == 0, "tensor %d name '%s'", i, b->name);
        CHECK(a->ndim == b->ndim && a->numel == b->numel, "tensor %d shape", i);
        for (int d = 0; d < a->ndim && d < b->ndim; d++)
            CHECK(a->shape[d] == b->shape[d], "tensor %d dim %d", i, d);
        CHECK(a->numel == 0 ? b->data == NULL
                            : memcmp(a->data, b->data, (size_t)a->numel * 4) == 0,
              "tensor %d values", i);
    }
    for (int i = 0; i < st.n_meta && i < back.n_meta; i++)
        CHECK(strcmp(st.meta_keys[i], back.meta_keys[i]) == 0 &&
              strcmp(st.meta_vals[i], back.meta_vals[i]) == 0, "metadata %d", i);
    t = aaren_st_find(&back, "task.head.weight");
    CHECK(t && t->numel == 12 && t->data[11] == 0.0f, "unknown tensor name kept, zeros");
    t = aaren_st_find(&back, "scalar");
    CHECK(t && t->ndim == 0 && t->numel == 1 && t->data[0] == 42.0f, "0-d tensor");
    t = aaren_st_find(&back, weird);
    CHECK(t && t->data[2] == -3.0f, "escaped name");
    aaren_st_free(&back);
    expect_st_empty("aaren_st_free", &back);

    /* writer refusals */
    {
        float *keep = st.tensors[1].data;
        st.tensors[1].data = NULL;
        CHECK(aaren_st_write(TMP_ST, &st, err, sizeof err) != 0, "wrote a tensor without data");
        check_message("st write without data", TMP_ST, "no data");
        st.tensors[1].data = keep;
    }
    CHECK(aaren_st_write("no_such_dir/x.safetensors", &st, err, sizeof err) != 0,
          "write into a missing directory");
    check_message("st write missing dir", "no_such_dir/x.safetensors", "cannot create");
    aaren_st_free(&st);

    /* an empty checkpoint */
    CHECK(aaren_st_write(TMP_ST, &st, err, sizeof err) == 0, "empty write: %s", err);
    CHECK(aaren_st_read(TMP_ST, &back, err, sizeof err) == 0, "empty read: %s", err);
    expect_st_empty("empty checkpoint", &back);
    aaren_st_free(&back);
}

static void test_st_handwritten(void)
{
    /* data buffer (12 bytes): [0,4) naive/x, [4,12) b, and e empty at 12 */
    static const char json[] =
        "{ \"b\" : {\"data_offsets\" : [4, 12], \"shape\":[2], \"dtype\":\"F32\",\n"
        "          \"extra\": {\"nested\": [1, -2.5e3, null, true, false, \"s\", {}, []]}},\n"
        "  \"__metadata__\": {\"note\": \"caf\\u00e9 \\ud83d\\ude00 tab\\t\\/\", \"k\": \"\"},\n"
        "  \"na\\u00efve\\/x\": {\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},\n"
        "  \"e\": {\"dtype\": \"F32\", \"shape\": [0, 7], \"data_offsets\": [12, 12]} }   ";
    aaren_st st;
    aaren_tensor *t;

    st_file(json, 12);
    CHECK(aaren_st_read(TMP_ST, &st, err, sizeof err) == 0, "hand-written file: %s", err);
    CHECK(st.n_tensors == 3 && st.n_meta == 2, "hand-written counts %d %d", st.n_tensors,
          st.n_meta);
    if (st.n_tensors == 3) {
        CHECK(strcmp(st.tensors[0].name, "b") == 0 &&
              strcmp(st.tensors[1].name, "na\xc3\xafve/x") == 0 &&
              strcmp(st.tensors[2].name, "e") == 0, "header order and decoded names");
    }
    t = aaren_st_find(&st, "b");
    CHECK(t && t->ndim == 1 && t->numel == 2 && t->data[0] == 1.0f && t->data[1] == 2.0f,
          "tensor b");
    t = aaren_st_find(&st, "na\xc3\xafve/x");
    CHECK(t && t->ndim == 0 && t->numel == 1 && t->data[0] == 0.0f, "0-d tensor");
    t = aaren_st_find(&st, "e");
    CHECK(t && t->ndim == 2 && t->shape[1] == 7 && t->numel == 0 && t->data == NULL,
          "empty tensor");
    CHECK(aaren_st_meta(&st, "note") &&
          strcmp(aaren_st_meta(&st, "note"), "caf\xc3\xa9 \xf0\x9f\x98\x80 tab\t/") == 0,
          "\\u escapes decoded to UTF-8");
    CHECK(aaren_st_meta(&st, "k") && aaren_st_meta(&st, "k")[0] == '\0', "empty string");
    aaren_st_free(&st);

    st_file("{}", 0);
    CHECK(aaren_st_read(TMP_ST, &st, err, sizeof err) == 0, "empty header: %s", err);
    expect_st_empty("empty header", &st);
    aaren_st_free(&st);
}

static void test_st_malformed(void)
{
    static const struct { const char *label, *json; size_t ndata; const char *word; } cases[] = {
        { "truncated JSON", "{\"a\":", 0, "JSON" },
        { "trailing comma", "{\"a\":" ENTRY("[1]", "0", "4") ",}", 4, "JSON" },
        { "bad escape", "{\"a\\q\":" ENTRY("[1]", "0", "4") "}", 4, "JSON" },
        { "lone high surrogate", "{\"a\\ud800\":" ENTRY("[1]", "0", "4") "}", 4, "surrogate" },
        { "lone low surrogate", "{\"a\\udc00\":" ENTRY("[1]", "0", "4") "}", 4, "surrogate" },
        { "bad hex", "{\"a\\u00g0\":" ENTRY("[1]", "0", "4") "}", 4, "hex" },
        { "NUL escape", "{\"a\\u0000\":" ENTRY("[1]", "0", "4") "}", 4, "u0000" },
        { "leading zero", "{\"a\":" ENTRY("[01]", "0", "4") "}", 4, "JSON" },
        { "raw control character", "{\"a\tb\":" ENTRY("[1]", "0", "4") "}", 4, "control" },
        { "invalid UTF-8", "{\"a\xff\":" ENTRY("[1]", "0", "4") "}", 4, "UTF-8" },
        { "overlong UTF-8", "{\"a\xc0\xaf\":" ENTRY("[1]", "0", "4") "}", 4, "UTF-8" },
        { "trailing garbage", "{} x", 0, "JSON" },
        { "two values", "{}{}", 0, "JSON" },
        { "single quotes", "{'a':1}", 0, "JSON" },
        { "bad literal", "{\"__metadata__\":{},\"a\":tru}", 0, "JSON" },
        { "bare minus", "{\"a\":[-]}", 0, "JSON" },
        { "missing colon", "{\"a\" 1}", 0, "JSON" },
        { "empty header", "", 0, "JSON" },
        { "spaces only", "        ", 0, "JSON" },
        { "non-object top level", "[]", 0, "not a JSON object" },
        { "string top level", "\"x\"", 0, "not a JSON object" },
        { "dtype F16", "{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
          "dtype F16" },
        { "dtype names the tensor", "{\"w\":{\"dtype\":\"I64\",\"shape\":[1],"
          "\"data_offsets\":[0,8]}}", 8, "\"w\"" },
        { "dtype not a string", "{\"w\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
          "dtype" },
        { "size mismatch", "{\"w\":" ENTRY("[2,3]", "0", "20") "}", 24, "mismatch" },
        { "end beyond buffer", "{\"w\":" ENTRY("[2]", "0", "8") "}", 4, "out of range" },
        { "begin after end", "{\"w\":" ENTRY("[0]", "8", "4") "}", 8, "before they begin" },
        { "overlap", "{\"a\":" ENTRY("[2]", "0", "8") ",\"b\":" ENTRY("[2]", "4", "12") "}", 12,
          "overlap" },
        { "same range", "{\"a\":" ENTRY("[1]", "4", "8") ",\"b\":" ENTRY("[1]", "4", "8") "}", 8,
          "overlap" },
        { "overlap across a gap", "{\"a\":" ENTRY("[4]", "0", "16") ",\"c\":" ENTRY("[1]", "4",
          "8") ",\"b\":" ENTRY("[1]", "12", "16") "}", 16, "overlap" },
        { "duplicate tensor", "{\"a\":" ENTRY("[1]", "0", "4") ",\"a\":" ENTRY("[1]", "4", "8")
          "}", 8, "duplicate tensor" },
        { "metadata number", "{\"__metadata__\":{\"n\":4}}", 0, "not a string" },
        { "metadata nested", "{\"__metadata__\":{\"n\":{}}}", 0, "not a string" },
        { "metadata not an object", "{\"__metadata__\":\"x\"}", 0, "not an object" },
        { "duplicate metadata key", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0,
          "duplicate metadata" },
        { "two metadata objects", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, "duplicate" },
        { "entry not an object", "{\"w\":[1,2]}", 0, "not an object" },
        { "missing dtype", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "lacks" },
        { "missing data_offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "lacks" },
        { "duplicate key in entry", "{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],"
          "\"data_offsets\":[0,4]}}", 4, "duplicate key" },
        { "negative dim", "{\"w\":" ENTRY("[-1]", "0", "0") "}", 0, "non-negative" },
        { "fractional dim", "{\"w\":" ENTRY("[2.0]", "0", "8") "}", 8, "non-negative" },
        { "huge dim", "{\"w\":" ENTRY("[99999999999999999999]", "0", "8") "}", 8,
          "non-negative" },
        { "shape not an array", "{\"w\":" ENTRY("2", "0", "8") "}", 8, "not an array" },
        { "9 dims", "{\"w\":" ENTRY("[1,1,1,1,1,1,1,1,1]", "0", "4") "}", 4, "dimensions" },
        { "shape overflow", "{\"w\":" ENTRY("[4611686018427387904,4]", "0", "4") "}", 4,
          "too large" },
        { "three offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}",
          8, "pair" },
        { "negative offset", "{\"w\":" ENTRY("[1]", "-4", "0") "}", 4, "non-negative" },
        { "string offset", "{\"w\":" ENTRY("[1]", "\"0\"", "4") "}", 4, "non-negative" },
        { "truncated data", "{\"a\":" ENTRY("[2]", "0", "8") ",\"b\":" ENTRY("[2]", "8", "16")
          "}", 13, "truncated" },
    };
    unsigned char buf[64];
    char deep[400];
    size_t n = 0;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_st_fail(cases[i].label, cases[i].json, cases[i].ndata, cases[i].word);

    /* nesting past the limit, inside an entry key that would otherwise be ignored */
    n = (size_t)snprintf(deep, sizeof deep, "{\"w\":{\"x\":");
    for (int i = 0; i < 100; i++) deep[n++] = '[';
    for (int i = 0; i < 100; i++) deep[n++] = ']';
    snprintf(deep + n, sizeof deep - n, ",\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}");
    expect_st_fail("deep nesting", deep, 4, "deep");

    memset(buf, 0, sizeof buf);
    write_bytes(TMP_ST, buf, 5);
    expect_st_fail_file("file shorter than 8 bytes", "short");
    write_bytes(TMP_ST, buf, 0);
    expect_st_fail_file("empty file", "short");

    buf[0] = 0xe8;                          /* 1000 */
    buf[1] = 0x03;
    memcpy(buf + 8, "{}", 2);
    write_bytes(TMP_ST, buf, 10);
    expect_st_fail_file("header length beyond the file", "exceeds");

    memset(buf, 0, 8);
    buf[5] = 1;                             /* 2^40 */
    write_bytes(TMP_ST, buf, 10);
    expect_st_fail_file("absurd header length", "implausibly large");
    memset(buf, 0xff, 8);
    write_bytes(TMP_ST, buf, 10);
    expect_st_fail_file("header length 2^64-1", "implausibly large");

    remove(TMP_ST);
    expect_st_fail_file("missing file", "cannot open");
}

/* The data offsets must tile the data buffer: no hole before, between or after tensors. */
static void test_st_coverage(void)
{
    static const struct { const char *label, *json; size_t ndata; const char *word; } bad[] = {
        { "hole between tensors", "{\"a\":" ENTRY("[1]", "0", "4") ",\"b\":" ENTRY("[1]", "8", "12") "}",
          12, "bytes 4 to 8 of the data buffer belong to no tensor" },
        { "gap before the first tensor", "{\"a\":" ENTRY("[1]", "4", "8") "}", 8,
          "bytes 0 to 4 of the data buffer belong to no tensor" },
        { "gap before the first, empty tensor at 0", "{\"e\":" ENTRY("[0]", "0", "0") ",\"a\":"
          ENTRY("[1]", "4", "8") "}", 8, "hole before tensor \"a\"" },
        { "trailing bytes", "{\"a\":" ENTRY("[1]", "0", "4") "}", 8,
          "4 trailing bytes after the last tensor's data" },
        { "trailing bytes after an empty tensor", "{\"a\":" ENTRY("[1]", "0", "4") ",\"e\":"
          ENTRY("[0]", "4", "4") "}", 5, "1 trailing bytes" },
        { "data but no tensors", "{}", 4, "4 trailing bytes" },
        { "only metadata and data", "{\"__metadata__\":{\"k\":\"v\"}}", 1, "trailing" },
        { "empty tensor inside another", "{\"a\":" ENTRY("[2]", "0", "8") ",\"e\":" ENTRY("[0]", "4",
          "4") "}", 8, "empty tensor \"e\" at offset 4 lies inside tensor \"a\"" },
    };
    static const char *const good[] = {
        /* empty tensors at the start, at a boundary (two of them) and at the end */
        "{\"e0\":" ENTRY("[0]", "0", "0") ",\"b\":" ENTRY("[1]", "4", "8") ",\"a\":" ENTRY("[1]", "0", "4")
        ",\"e1\":" ENTRY("[0,3]", "4", "4") ",\"e2\":" ENTRY("[0]", "4", "4") ",\"e3\":" ENTRY("[0]", "8", "8") "}",
        /* only empty tensors, no data */
        "{\"e\":" ENTRY("[0]", "0", "0") ",\"f\":" ENTRY("[2,0]", "0", "0") "}",
    };
    static const size_t good_data[] = { 8, 0 };
    static const int good_tensors[] = { 6, 2 };
    aaren_st st;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_st_fail(bad[i].label, bad[i].json, bad[i].ndata, bad[i].word);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        st_file(good[i], good_data[i]);
        CHECK(aaren_st_read(TMP_ST, &st, err, sizeof err) == 0, "coverage case %zu: %s", i, err);
        CHECK(st.n_tensors == good_tensors[i], "coverage case %zu: %d tensors", i, st.n_tensors);
        aaren_st_free(&st);
    }

    /* our own writer's output loads: tensors of every size, empty ones among them */
    {
        const int64_t s3[1] = { 3 }, s0[2] = { 0, 4 }, s1[1] = { 1 };
        const float v[3] = { 1, 2, 3 };
        aaren_st w;
        aaren_st_init(&w);
        CHECK(aaren_st_put(&w, "empty first", 2, s0, NULL) && aaren_st_put(&w, "three", 1, s3, v) &&
              aaren_st_put(&w, "empty", 2, s0, NULL) && aaren_st_put(&w, "one", 1, s1, v + 2) &&
              aaren_st_put(&w, "empty last", 2, s0, NULL), "put");
        CHECK(aaren_st_write(TMP_ST, &w, err, sizeof err) == 0, "write: %s", err);
        CHECK(aaren_st_read(TMP_ST, &st, err, sizeof err) == 0, "the writer's output with empty tensors: %s", err);
        CHECK(st.n_tensors == 5 && aaren_st_find(&st, "one") && aaren_st_find(&st, "one")->data[0] == 3.0f,
              "the writer's output read back");
        aaren_st_free(&st);
        aaren_st_free(&w);
        CHECK(aaren_st_write(TMP_ST, &w, err, sizeof err) == 0, "write an empty checkpoint: %s", err);
        CHECK(aaren_st_read(TMP_ST, &st, err, sizeof err) == 0 && st.n_tensors == 0, "an empty checkpoint: %s", err);
        aaren_st_free(&st);
    }
}

/* The strict number parsers shared by every reader of checkpoint metadata. */
static void test_parse_numbers(void)
{
    static const struct { const char *s; long lo, hi, want; } ok_long[] = {
        { "0", 0, 10, 0 }, { "-5", -10, 10, -5 }, { "+7", 0, 10, 7 }, { "007", 0, 10, 7 },
        { "10", 0, 10, 10 }, { "9223372036854775807", 0, LONG_MAX, LONG_MAX },
        { "-9223372036854775808", LONG_MIN, 0, LONG_MIN },
    };
    static const struct { const char *s; long lo, hi; } bad_long[] = {
        { "", 0, 10 }, { " 1", 0, 10 }, { "1 ", 0, 10 }, { "1abc", 0, 10 }, { "abc", 0, 10 },
        { "0x10", 0, 100 }, { "1.0", 0, 10 }, { "1e3", 0, 10000 }, { "-", 0, 10 }, { "+", 0, 10 },
        { "--1", -10, 10 }, { "+-1", -10, 10 }, { "1\n", 0, 10 }, { "-1000", 0, 10 }, { "11", 0, 10 },
        { "9223372036854775808", 0, LONG_MAX }, { "-9223372036854775809", LONG_MIN, 0 },
        { "99999999999999999999999", 0, LONG_MAX },
    };
    static const struct { const char *s; double want; } ok_double[] = {
        { "0", 0 }, { "1e-05", 1e-5 }, { "0.5", 0.5 }, { ".5", 0.5 }, { "5.", 5 }, { "-2.5E+3", -2500 },
        { "+1", 1 }, { "-0", 0 }, { "1.7976931348623157e308", 1.7976931348623157e308 }, { "12e-1", 1.2 },
    };
    static const char *const bad_double[] = {
        "", " 1", "1 ", "1,5", "1abc", "inf", "-inf", "nan", "NaN", "infinity", "0x1p3", "1e", "1e+",
        ".", "-.", "e5", ".e5", "1e5.5", "1..2", "1e400", "-1e400", "1.8e308", "--1", "1\t",
    };
    long l = 42;
    double d = 42;

    for (size_t i = 0; i < sizeof ok_long / sizeof ok_long[0]; i++) {
        CHECK(aaren_parse_long(ok_long[i].s, ok_long[i].lo, ok_long[i].hi, &l) == 0 && l == ok_long[i].want,
              "parse_long '%s': %ld", ok_long[i].s, l);
    }
    for (size_t i = 0; i < sizeof bad_long / sizeof bad_long[0]; i++) {
        l = 42;
        CHECK(aaren_parse_long(bad_long[i].s, bad_long[i].lo, bad_long[i].hi, &l) == -1 && l == 42,
              "parse_long accepted '%s' (%ld)", bad_long[i].s, l);
    }
    CHECK(aaren_parse_long(NULL, 0, 1, &l) == -1, "parse_long NULL");
    for (size_t i = 0; i < sizeof ok_double / sizeof ok_double[0]; i++) {
        CHECK(aaren_parse_double(ok_double[i].s, -DBL_MAX, DBL_MAX, &d) == 0 && d == ok_double[i].want,
              "parse_double '%s': %g", ok_double[i].s, d);
    }
    for (size_t i = 0; i < sizeof bad_double / sizeof bad_double[0]; i++) {
        d = 42;
        CHECK(aaren_parse_double(bad_double[i], -DBL_MAX, DBL_MAX, &d) == -1 && d == 42,
              "parse_double accepted '%s' (%g)", bad_double[i], d);
    }
    CHECK(aaren_parse_double("0.5", 0.6, 1, &d) == -1 && aaren_parse_double("1.5", 0, 1, &d) == -1 &&
          aaren_parse_double("1", 0, 1, &d) == 0 && d == 1, "parse_double range [lo, hi]");

    /* the messages of checkpoint metadata name the file, the key and the value */
    err[0] = 0;
    CHECK(aaren_meta_long("run.safetensors", "train.step", "-1000", 0, 1000, &l, err, sizeof err) == -1 &&
          strcmp(err, "run.safetensors: metadata 'train.step' is '-1000'; expected an integer from 0 to 1000") == 0,
          "meta_long message: %s", err);
    CHECK(aaren_meta_long("m.st", "seq.d_in", NULL, 1, 9, &l, err, sizeof err) == -1 &&
          strcmp(err, "m.st: metadata 'seq.d_in' is missing") == 0, "meta_long missing: %s", err);
    CHECK(aaren_meta_double("m.st", "aaren.ln_eps", "1e-5x", 0.5, 2, &d, err, sizeof err) == -1 &&
          strcmp(err, "m.st: metadata 'aaren.ln_eps' is '1e-5x'; expected a number from 0.5 to 2") == 0,
          "meta_double message: %s", err);
    CHECK(aaren_meta_long("m.st", "k", "12", 0, 20, &l, err, sizeof err) == 0 && l == 12 &&
          aaren_meta_double("m.st", "k", "1.5", 0, 2, &d, err, sizeof err) == 0 && d == 1.5, "meta values");
}

int main(void)
{
    test_npy_roundtrip();
    test_npy_write_errors();
    test_npy_handwritten();
    test_npy_malformed();
    test_st_roundtrip();
    test_st_handwritten();
    test_st_malformed();
    test_st_coverage();
    test_parse_numbers();
    remove(TMP_NPY);
    remove(TMP_ST);
    return check_done("test_io");
}
