/* safetensors checkpoints for aaren (shared/docs/contract.md).
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON, then the data buffer.
 * The JSON is an object mapping each tensor name to
 *     {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}
 * (offsets relative to the start of the data buffer), plus an optional "__metadata__"
 * object whose values are all strings.
 *
 * Reader policy:
 *  - the header is parsed by the strict JSON parser below: RFC 8259 grammar, UTF-8
 *    checked, nesting at most JSON_MAX_DEPTH deep; "\u0000" is refused because names and
 *    metadata are C strings;
 *  - inside a tensor entry the keys dtype, shape and data_offsets are required and must
 *    not repeat; other keys are ignored, so files from newer writers still load;
 *  - only F32 is accepted; offsets must lie inside the data buffer, match the shape's
 *    byte size and not overlap; tensor names and metadata keys must be unique;
 *  - as the format requires, the tensors' ranges, sorted, cover the data buffer exactly:
 *    the first begins at 0, each begins where the previous one ends (an empty tensor may
 *    sit at such a boundary, never inside another tensor), the last ends at the end of the
 *    file; holes and trailing bytes are refused;
 *  - on failure nothing is kept: *out is left initialised (empty). On entry *out is
 *    overwritten without being freed, so pass an initialised or unused struct.
 *
 * Byte order: the header length is decoded byte by byte, but float data is copied between
 * file and memory unchanged, so this file assumes a little-endian host. */
#include "io.h"
#include "base/common.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ST_MAX_HEADER  (100ull * 1000 * 1000)   /* header lengths above 100 MB are refused */
#define ST_ALIGN       8
#define JSON_MAX_DEPTH 64
#define ST_METADATA    "__metadata__"

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is invalid
 * (bad lead or continuation byte, overlong form, surrogate, beyond U+10FFFF). */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    uint32_t cp, min;
    size_t len;
    if (s[0] < 0x80) return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2; cp = s[0] & 0x1Fu; min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3; cp = s[0] & 0x0Fu; min = 0x800;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4; cp = s[0] & 0x07u; min = 0x10000;
    } else {
        return 0;
    }
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

static int utf8_valid(const char *s)
{
    size_t n = strlen(s), k;
    for (size_t i = 0; i < n; i += k)
        if ((k = utf8_seq_len((const unsigned char *)s + i, n - i)) == 0) return 0;
    return 1;
}

/* ---- JSON ------------------------------------------------------------------------------
 * The parser builds a tree of nodes in one growing array; children of arrays and objects
 * form a linked list by index. Strings are decoded in place inside the header buffer (a
 * decoded string never outgrows its quoted form) and NUL-terminated there. */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct {
    int type;
    int first, next;        /* first child; next sibling; -1 ends the list */
    int count;              /* number of children */
    const char *key;        /* member name when the parent is an object */
    const char *str;        /* J_STR: decoded text */
    int64_t num;            /* J_NUM: value, valid when is_int */
    int is_int;             /* J_NUM: an integer that fits int64_t */
    size_t pos;             /* byte offset in the header, for messages */
} jnode;

typedef struct {
    char *buf;
    size_t len, at;
    jnode *nodes;
    int n, cap, depth;
    const char *why;        /* first error, NULL while none */
    size_t why_at;
} jparser;

static int jerr(jparser *p, const char *why)
{
    if (!p->why) {
        p->why = why;
        p->why_at = p->at;
    }
    return -1;
}

static int jpeek(const jparser *p)
{
    return p->at < p->len ? (unsigned char)p->buf[p->at] : -1;
}

static int jdigit(const jparser *p)
{
    int c = jpeek(p);
    return c >= '0' && c <= '9';
}

static void jws(jparser *p)
{
    int c;
    while ((c = jpeek(p)) == ' ' || c == '\t' || c == '\n' || c == '\r') p->at++;
}

static int jnew(jparser *p, int type)
{
    jnode *nd;
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 64;
        jnode *grown;
        if (p->cap > INT_MAX / 2 || (size_t)cap > SIZE_MAX / sizeof *grown ||
            !(grown = realloc(p->nodes, (size_t)cap * sizeof *grown)))
            return jerr(p, "out of memory");
        p->nodes = grown;
        p->cap = cap;
    }
    nd = &p->nodes[p->n];
    memset(nd, 0, sizeof *nd);
    nd->type = type;
    nd->first = nd->next = -1;
    nd->pos = p->at;
    return p->n++;
}

static int jhex4(jparser *p, uint32_t *cp)
{
    uint32_t v = 0;
    if (p->len - p->at < 4) return jerr(p, "truncated \\u escape");
    for (size_t i = 0; i < 4; i++) {
        int c = (unsigned char)p->buf[p->at + i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return jerr(p, "bad hex digit in \\u escape");
        v = v << 4 | (uint32_t)d;
    }
    p->at += 4;
    *cp = v;
    return 0;
}

static size_t utf8_put(uint32_t cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses the string at p->at (which holds '"') and decodes it in place. */
static int jstring(jparser *p, const char **out)
{
    char *const b = p->buf;
    size_t start = ++p->at, w = start;
    for (;;) {
        int c = jpeek(p);
        if (c < 0) return jerr(p, "unterminated string");
        if (c == '"') break;
        if (c < 0x20) return jerr(p, "raw control character in string");
        if (c == '\\') {
            uint32_t cp;
            p->at++;
            c = jpeek(p);
            p->at++;
            switch (c) {
            case '"': case '\\': case '/': b[w++] = (char)c; continue;
            case 'b': b[w++] = '\b'; continue;
            case 'f': b[w++] = '\f'; continue;
            case 'n': b[w++] = '\n'; continue;
            case 'r': b[w++] = '\r'; continue;
            case 't': b[w++] = '\t'; continue;
            case 'u': break;
            default: p->at--; return jerr(p, "invalid escape in string");
            }
            if (jhex4(p, &cp) != 0) return -1;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (p->len - p->at < 2 || b[p->at] != '\\' || b[p->at + 1] != 'u')
                    return jerr(p, "unpaired surrogate in \\u escape");
                p->at += 2;
                if (jhex4(p, &lo) != 0) return -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return jerr(p, "unpaired surrogate in \\u escape");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return jerr(p, "unpaired surrogate in \\u escape");
            } else if (cp == 0) {
                return jerr(p, "\\u0000 is not supported in strings");
            }
            w += utf8_put(cp, b + w);
        } else {
            size_t k = utf8_seq_len((const unsigned char *)b + p->at, p->len - p->at);
            if (!k) return jerr(p, "invalid UTF-8 in string");
            memmove(b + w, b + p->at, k);
            w += k;
            p->at += k;
        }
    }
    b[w] = '\0';            /* w <= p->at, the closing quote's position */
    p->at++;
    *out = b + start;
    return 0;
}

static int jnumber(jparser *p, jnode *nd)
{
    uint64_t v = 0;
    int neg = 0, fits = 1, is_int = 1;
    if (jpeek(p) == '-') {
        neg = 1;
        p->at++;
    }
    if (jpeek(p) == '0') {
        p->at++;
    } else if (jdigit(p)) {
        while (jdigit(p)) {
            int d = jpeek(p) - '0';
            if (v > ((uint64_t)INT64_MAX - (uint64_t)d) / 10) fits = 0;
            else v = v * 10 + (uint64_t)d;
            p->at++;
        }
    } else {
        return jerr(p, "invalid number");
    }
    if (jpeek(p) == '.') {
        p->at++;
        if (!jdigit(p)) return jerr(p, "invalid number");
        while (jdigit(p)) p->at++;
        is_int = 0;
    }
    if (jpeek(p) == 'e' || jpeek(p) == 'E') {
        p->at++;
        if (jpeek(p) == '+' || jpeek(p) == '-') p->at++;
        if (!jdigit(p)) return jerr(p, "invalid number");
        while (jdigit(p)) p->at++;
        is_int = 0;
    }
    nd->is_int = is_int && fits;
    nd->num = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

static int jvalue(jparser *p);

/* Arrays and objects share one loop; obj selects "key": value members. */
static int jcontainer(jparser *p, int obj)
{
    const int close = obj ? '}' : ']';
    int self = jnew(p, obj ? J_OBJ : J_ARR), last = -1;
    if (self < 0) return -1;
    if (++p->depth > JSON_MAX_DEPTH) return jerr(p, "nesting too deep");
    p->at++;
    jws(p);
    if (jpeek(p) == close) {
        p->at++;
    } else {
        for (;;) {
            const char *key = NULL;
            int kid;
            jws(p);
            if (obj) {
                if (jpeek(p) != '"') return jerr(p, "expected a string key");
                if (jstring(p, &key) != 0) return -1;
                jws(p);
                if (jpeek(p) != ':') return jerr(p, "expected ':'");
                p->at++;
            }
            if ((kid = jvalue(p)) < 0) return -1;
            p->nodes[kid].key = key;
            if (last < 0) p->nodes[self].first = kid;
            else p->nodes[last].next = kid;
            last = kid;
            p->nodes[self].count++;
            jws(p);
            if (jpeek(p) == ',') {
                p->at++;
                continue;
            }
            if (jpeek(p) != close) return jerr(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
            p->at++;
            break;
        }
    }
    p->depth--;
    return self;
}

static int jliteral(jparser *p, const char *word, int type, int64_t value)
{
    size_t n = strlen(word);
    int id;
    if (p->len - p->at < n || memcmp(p->buf + p->at, word, n) != 0)
        return jerr(p, "unexpected character");
    if ((id = jnew(p, type)) < 0) return -1;
    p->nodes[id].num = value;
    p->at += n;
    return id;
}

static int jvalue(jparser *p)
{
    int c, id;
    jws(p);
    c = jpeek(p);
    switch (c) {
    case '{': return jcontainer(p, 1);
    case '[': return jcontainer(p, 0);
    case 't': return jliteral(p, "true", J_BOOL, 1);
    case 'f': return jliteral(p, "false", J_BOOL, 0);
    case 'n': return jliteral(p, "null", J_NULL, 0);
    case '"':
        if ((id = jnew(p, J_STR)) < 0) return -1;
        return jstring(p, &p->nodes[id].str) == 0 ? id : -1;
    case -1: return jerr(p, "unexpected end of header");
    default:
        if (c != '-' && (c < '0' || c > '9')) return jerr(p, "unexpected character");
        if ((id = jnew(p, J_NUM)) < 0) return -1;
        return jnumber(p, &p->nodes[id]) == 0 ? id : -1;
    }
}

/* Parses the whole buffer as one JSON value; the root is node 0. */
static int jparse(jparser *p)
{
    if (jvalue(p) < 0) return -1;
    jws(p);
    if (p->at != p->len) return jerr(p, "unexpected data after the JSON value");
    return 0;
}

/* ---- in-memory checkpoint ---------------------------------------------------------- */

static char *st_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Makes room for one more element in *arr (elem bytes each, *cap held). */
static int st_grow(void **arr, int n, int *cap, size_t elem)
{
    void *grown;
    int c;
    if (n < *cap) return 0;
    if (*cap > INT_MAX / 2) return -1;
    c = *cap ? *cap * 2 : 8;
    if (!(grown = realloc(*arr, (size_t)c * elem))) return -1;
    *arr = grown;
    *cap = c;
    return 0;
}

void aaren_st_init(aaren_st *st)
{
    memset(st, 0, sizeof *st);
}

void aaren_st_free(aaren_st *st)
{
    if (!st) return;
    for (int i = 0; i < st->n_tensors; i++) {
        free(st->tensors[i].name);
        free(st->tensors[i].data);
    }
    for (int i = 0; i < st->n_meta; i++) {
        free(st->meta_keys[i]);
        free(st->meta_vals[i]);
    }
    free(st->tensors);
    free(st->meta_keys);
    free(st->meta_vals);
    aaren_st_init(st);
}

aaren_tensor *aaren_st_find(const aaren_st *st, const char *name)
{
    if (!st || !name) return NULL;
    for (int i = 0; i < st->n_tensors; i++)
        if (st->tensors[i].name && strcmp(st->tensors[i].name, name) == 0)
            return &st->tensors[i];
    return NULL;
}

static int st_meta_index(const aaren_st *st, const char *key, int upto)
{
    for (int i = 0; i < upto; i++)
        if (st->meta_keys[i] && strcmp(st->meta_keys[i], key) == 0) return i;
    return -1;
}

const char *aaren_st_meta(const aaren_st *st, const char *key)
{
    int i = st && key ? st_meta_index(st, key, st->n_meta) : -1;
    return i < 0 ? NULL : st->meta_vals[i];
}

/* Adds a tensor entry with no data yet (the name must not be present). */
static aaren_tensor *st_append(aaren_st *st, const char *name)
{
    aaren_tensor *t;
    char *copy;
    void *arr = st->tensors;
    int rc = st_grow(&arr, st->n_tensors, &st->cap_tensors, sizeof *st->tensors);
    st->tensors = arr;
    if (rc != 0 || !(copy = st_strdup(name))) return NULL;
    t = &st->tensors[st->n_tensors++];
    memset(t, 0, sizeof *t);
    t->name = copy;
    return t;
}

aaren_tensor *aaren_st_put(aaren_st *st, const char *name, int ndim, const int64_t *shape,
                           const float *data)
{
    int64_t dims[AAREN_MAX_DIMS] = { 0 }, numel;
    float *buf = NULL;
    aaren_tensor *t;

    if (!st || !name || strcmp(name, ST_METADATA) == 0 || ndim < 0 ||
        ndim > AAREN_MAX_DIMS || (ndim > 0 && !shape))
        return NULL;
    if (ndim > 0) memcpy(dims, shape, (size_t)ndim * sizeof *dims);   /* shape may alias t */
    if ((numel = aaren_shape_numel(ndim, dims)) < 0) return NULL;
    if (numel > 0) {
        buf = data ? malloc((size_t)numel * sizeof *buf) : calloc((size_t)numel, sizeof *buf);
        if (!buf) return NULL;
        if (data) memcpy(buf, data, (size_t)numel * sizeof *buf);
    }
    t = aaren_st_find(st, name);
    if (t) {
        free(t->data);
    } else if (!(t = st_append(st, name))) {
        free(buf);
        return NULL;
    }
    t->ndim = ndim;
    memcpy(t->shape, dims, sizeof dims);
    t->numel = numel;
    t->data = buf;
    return t;
}

int aaren_st_set_meta(aaren_st *st, const char *key, const char *val)
{
    char *v, *k;
    int i;
    void *arr;
    if (!st || !key || !val || !(v = st_strdup(val))) return -1;
    if ((i = st_meta_index(st, key, st->n_meta)) >= 0) {
        free(st->meta_vals[i]);
        st->meta_vals[i] = v;
        return 0;
    }
    /* both arrays share cap_meta: grow the keys with a scratch count, then the values */
    {
        int cap = st->cap_meta;
        arr = st->meta_keys;
        if (st_grow(&arr, st->n_meta, &cap, sizeof *st->meta_keys) != 0) goto oom;
        st->meta_keys = arr;
        arr = st->meta_vals;
        cap = st->cap_meta;
        if (st_grow(&arr, st->n_meta, &cap, sizeof *st->meta_vals) != 0) goto oom;
        st->meta_vals = arr;
        st->cap_meta = cap;
    }
    if (!(k = st_strdup(key))) goto oom;
    st->meta_keys[st->n_meta] = k;
    st->meta_vals[st->n_meta] = v;
    st->n_meta++;
    return 0;
oom:
    free(v);
    return -1;
}

/* ---- name and range checks shared by reader and writer ----------------------------- */

typedef struct {
    const char *name;
    uint64_t begin, end;
} st_span;

static int span_by_name(const void *a, const void *b)
{
    return strcmp(((const st_span *)a)->name, ((const st_span *)b)->name);
}

static int span_by_begin(const void *a, const void *b)
{
    const st_span *x = a, *y = b;
    if (x->begin != y->begin) return (x->begin > y->begin) - (x->begin < y->begin);
    return (x->end > y->end) - (x->end < y->end);   /* empty tensors first */
}

/* Sorts spans by name and returns a name that occurs twice, or NULL. */
static const char *st_duplicate_name(st_span *s, int n)
{
    qsort(s, (size_t)n, sizeof *s, span_by_name);
    for (int i = 1; i < n; i++)
        if (strcmp(s[i - 1].name, s[i].name) == 0) return s[i].name;
    return NULL;
}

/* ---- reader ------------------------------------------------------------------------ */


typedef struct {
    const char *path;
    char *err;
    size_t errlen;
    const jnode *nodes;
    uint64_t data_size;
} st_reader;

static int st_read_meta(st_reader *r, int obj, aaren_st *st)
{
    const jnode *nd = r->nodes;
    if (nd[obj].type != J_OBJ)
        return aaren_file_err(r->err, r->errlen, r->path, "\"%s\" is not an object", ST_METADATA);
    for (int k = nd[obj].first; k >= 0; k = nd[k].next) {
        if (nd[k].type != J_STR)
            return aaren_file_err(r->err, r->errlen, r->path,
                           "metadata value of \"%.80s\" is not a string", nd[k].key);
        if (st_meta_index(st, nd[k].key, st->n_meta) >= 0)
            return aaren_file_err(r->err, r->errlen, r->path, "duplicate metadata key \"%.80s\"",
                           nd[k].key);
        if (aaren_st_set_meta(st, nd[k].key, nd[k].str) != 0)
            return aaren_file_err(r->err, r->errlen, r->path, "out of memory");
    }
    return 0;
}

/* Validates one tensor entry and appends it (without data) to st; *span gets its range. */
static int st_read_entry(st_reader *r, int obj, aaren_st *st, st_span *span)
{
    static const char *const keys[3] = { "dtype", "shape", "data_offsets" };
    const jnode *nd = r->nodes;
    const char *name = nd[obj].key;
    int slot[3] = { -1, -1, -1 }, ndim = 0;
    int64_t shape[AAREN_MAX_DIMS], numel, off[2];
    aaren_tensor *t;

    if (nd[obj].type != J_OBJ)
        return aaren_file_err(r->err, r->errlen, r->path, "entry of tensor \"%.80s\" is not an object",
                       name);
    for (int k = nd[obj].first; k >= 0; k = nd[k].next)
        for (int j = 0; j < 3; j++)
            if (strcmp(nd[k].key, keys[j]) == 0) {
                if (slot[j] >= 0)
                    return aaren_file_err(r->err, r->errlen, r->path,
                                   "tensor \"%.80s\" has a duplicate key \"%s\"", name, keys[j]);
                slot[j] = k;
            }
    for (int j = 0; j < 3; j++)
        if (slot[j] < 0)
            return aaren_file_err(r->err, r->errlen, r->path, "tensor \"%.80s\" lacks \"%s\"", name,
                           keys[j]);
    if (nd[slot[0]].type != J_STR)
        return aaren_file_err(r->err, r->errlen, r->path, "tensor \"%.80s\": dtype is not a string",
                       name);
    if (strcmp(nd[slot[0]].str, "F32") != 0)
        return aaren_file_err(r->err, r->errlen, r->path,
                       "tensor \"%.80s\" has dtype %.20s; only F32 is accepted", name,
                       nd[slot[0]].str);
    if (nd[slot[1]].type != J_ARR)
        return aaren_file_err(r->err, r->errlen, r->path, "tensor \"%.80s\": shape is not an array",
                       name);
    if (nd[slot[1]].count > AAREN_MAX_DIMS)
        return aaren_file_err(r->err, r->errlen, r->path,
                       "tensor \"%.80s\": shape has %d dimensions, more than %d", name,
                       nd[slot[1]].count, AAREN_MAX_DIMS);
    for (int k = nd[slot[1]].first; k >= 0; k = nd[k].next, ndim++) {
        if (nd[k].type != J_NUM || !nd[k].is_int || nd[k].num < 0)
            return aaren_file_err(r->err, r->errlen, r->path,
                           "tensor \"%.80s\": shape entries must be non-negative integers", name);
        shape[ndim] = nd[k].num;
    }
    if ((numel = aaren_shape_numel(ndim, shape)) < 0)
        return aaren_file_err(r->err, r->errlen, r->path, "tensor \"%.80s\": shape is too large", name);
    if (nd[slot[2]].type != J_ARR || nd[slot[2]].count != 2)
        return aaren_file_err(r->err, r->errlen, r->path,
                       "tensor \"%.80s\": data_offsets is not a [begin, end] pair", name);
    for (int k = nd[slot[2]].first, i = 0; k >= 0; k = nd[k].next, i++) {
        if (nd[k].type != J_NUM || !nd[k].is_int || nd[k].num < 0)
            return aaren_file_err(r->err, r->errlen, r->path,
                           "tensor \"%.80s\": data_offsets must be non-negative integers", name);
        off[i] = nd[k].num;
    }
    if (off[0] > off[1])
        return aaren_file_err(r->err, r->errlen, r->path,
                       "tensor \"%.80s\": data_offsets [%lld, %lld] end before they begin",
                       name, (long long)off[0], (long long)off[1]);
    if ((uint64_t)off[1] > r->data_size)
        return aaren_file_err(r->err, r->errlen, r->path,
                       "tensor \"%.80s\": data_offsets [%lld, %lld] out of range; the data "
                       "buffer holds %llu bytes (truncated file?)",
                       name, (long long)off[0], (long long)off[1],
                       (unsigned long long)r->data_size);
    if (off[1] - off[0] != numel * (int64_t)sizeof(float))
        return aaren_file_err(r->err, r->errlen, r->path,
                       "tensor \"%.80s\": size mismatch: shape holds %lld floats (%lld bytes) "
                       "but data_offsets span %lld bytes",
                       name, (long long)numel, (long long)numel * 4, (long long)(off[1] - off[0]));
    if (!(t = st_append(st, name)))
        return aaren_file_err(r->err, r->errlen, r->path, "out of memory");
    t->ndim = ndim;
    if (ndim > 0) memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->numel = numel;
    span->name = t->name;
    span->begin = (uint64_t)off[0];
    span->end = (uint64_t)off[1];
    return 0;
}

/* Interprets the parsed header: metadata, tensor entries, duplicate and overlap checks.
 * On success (*spans_out)[i] holds the byte range of st->tensors[i]; the caller frees it. */
static int st_read_header(st_reader *r, aaren_st *st, st_span **spans_out)
{
    const jnode *nd = r->nodes;
    st_span *spans, *sorted;
    const char *dup;
    int n = 0, seen_meta = 0;

    if (nd[0].type != J_OBJ)
        return aaren_file_err(r->err, r->errlen, r->path, "header is not a JSON object");
    spans = malloc(((size_t)nd[0].count + 1) * sizeof *spans);
    sorted = malloc(((size_t)nd[0].count + 1) * sizeof *sorted);
    if (!spans || !sorted) {
        free(spans);
        free(sorted);
        return aaren_file_err(r->err, r->errlen, r->path, "out of memory");
    }
    for (int k = nd[0].first; k >= 0; k = nd[k].next) {
        if (strcmp(nd[k].key, ST_METADATA) == 0) {
            if (seen_meta++) {
                aaren_file_err(r->err, r->errlen, r->path, "duplicate key \"%s\"", ST_METADATA);
                goto fail;
            }
            if (st_read_meta(r, k, st) != 0) goto fail;
        } else if (st_read_entry(r, k, st, &spans[n]) != 0) {
            goto fail;
        } else {
            n++;
        }
    }
    memcpy(sorted, spans, (size_t)n * sizeof *spans);
    if ((dup = st_duplicate_name(sorted, n)) != NULL) {
        aaren_file_err(r->err, r->errlen, r->path, "duplicate tensor name \"%.80s\"", dup);
        goto fail;
    }
    /* sorted by begin, a non-empty range overlaps an earlier one exactly when it starts
     * before the furthest end seen so far */
    qsort(sorted, (size_t)n, sizeof *sorted, span_by_begin);
    {
        const st_span *far = NULL;
        for (int i = 0; i < n; i++) {
            if (sorted[i].begin == sorted[i].end) continue;
            if (far && sorted[i].begin < far->end) {
                aaren_file_err(r->err, r->errlen, r->path,
                        "tensors \"%.80s\" and \"%.80s\" overlap in the data buffer",
                        far->name, sorted[i].name);
                goto fail;
            }
            if (!far || sorted[i].end > far->end) far = &sorted[i];
        }
    }
    /* no overlaps: the ranges, in order, must now tile the data buffer exactly */
    {
        uint64_t at = 0;
        const st_span *prev = NULL;
        for (int i = 0; i < n; i++) {
            if (sorted[i].begin > at) {
                aaren_file_err(r->err, r->errlen, r->path,
                        "bytes %llu to %llu of the data buffer belong to no tensor (a hole before "
                        "tensor \"%.80s\"; offsets must cover the data buffer without gaps)",
                        (unsigned long long)at, (unsigned long long)sorted[i].begin, sorted[i].name);
                goto fail;
            }
            if (sorted[i].begin < at) {   /* an empty tensor inside another one */
                aaren_file_err(r->err, r->errlen, r->path,
                        "empty tensor \"%.80s\" at offset %llu lies inside tensor \"%.80s\" "
                        "[%llu, %llu]", sorted[i].name, (unsigned long long)sorted[i].begin,
                        prev->name, (unsigned long long)prev->begin, (unsigned long long)prev->end);
                goto fail;
            }
            at = sorted[i].end;
            if (sorted[i].end > sorted[i].begin) prev = &sorted[i];
        }
        if (at != r->data_size) {
            aaren_file_err(r->err, r->errlen, r->path,
                    "%llu trailing bytes after the last tensor's data (the tensors end at byte "
                    "%llu of a %llu-byte data buffer)", (unsigned long long)(r->data_size - at),
                    (unsigned long long)at, (unsigned long long)r->data_size);
            goto fail;
        }
    }
    free(sorted);
    *spans_out = spans;
    return 0;
fail:
    free(spans);
    free(sorted);
    return -1;
}

int aaren_st_read(const char *path, aaren_st *out, char *err, size_t errlen)
{
    unsigned char lenbuf[8];
    uint64_t fsize, hlen = 0;
    jparser jp;
    st_span *spans = NULL;
    aaren_st st;
    FILE *f;
    int rc = -1;

    aaren_st_init(&st);
    memset(&jp, 0, sizeof jp);
    if (out) aaren_st_init(out);
    if (!path || !out) return aaren_file_err(err, errlen, path, "invalid arguments");
    f = aaren_file_open_head(path, lenbuf, 8, "the 8-byte header length", &fsize, err, errlen);
    if (!f) return -1;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | lenbuf[i];
    if (hlen > ST_MAX_HEADER) {
        aaren_file_err(err, errlen, path, "header length %llu is implausibly large (over 100 MB)",
                (unsigned long long)hlen);
        goto done;
    }
    if (hlen > fsize - 8) {
        aaren_file_err(err, errlen, path,
                "header length %llu exceeds the %llu bytes that follow it (truncated file?)",
                (unsigned long long)hlen, (unsigned long long)(fsize - 8));
        goto done;
    }
    if (fsize > (uint64_t)LONG_MAX) {
        aaren_file_err(err, errlen, path, "file is too large to seek in on this platform");
        goto done;
    }
    jp.len = (size_t)hlen;
    if (!(jp.buf = malloc(jp.len + 1))) {
        aaren_file_err(err, errlen, path, "out of memory for a %llu-byte header",
                (unsigned long long)hlen);
        goto done;
    }
    if (fread(jp.buf, 1, jp.len, f) != jp.len) {
        aaren_file_err(err, errlen, path, "read error in the header");
        goto done;
    }
    if (jparse(&jp) != 0) {
        aaren_file_err(err, errlen, path, "invalid JSON header at byte %zu: %s", jp.why_at, jp.why);
        goto done;
    }
    {
        st_reader r = { path, err, errlen, jp.nodes, fsize - 8 - hlen };
        if (st_read_header(&r, &st, &spans) != 0) goto done;
    }
    for (int i = 0; i < st.n_tensors; i++) {
        aaren_tensor *t = &st.tensors[i];
        size_t nbytes = (size_t)(spans[i].end - spans[i].begin);
        if (t->numel == 0) continue;
        if (!(t->data = malloc(nbytes))) {
            aaren_file_err(err, errlen, path, "out of memory for tensor \"%.80s\" (%zu bytes)",
                    t->name, nbytes);
            goto done;
        }
        if (fseek(f, (long)(8 + hlen + spans[i].begin), SEEK_SET) != 0 ||
            fread(t->data, 1, nbytes, f) != nbytes) {
            aaren_file_err(err, errlen, path, "read error in the data of tensor \"%.80s\"", t->name);
            goto done;
        }
    }
    *out = st;
    aaren_st_init(&st);
    rc = 0;
done:
    aaren_st_free(&st);
    free(spans);
    free(jp.nodes);
    free(jp.buf);
    fclose(f);
    return rc;
}

/* ---- writer ------------------------------------------------------------------------ */

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} st_buf;

static void sb_add(st_buf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        char *grown;
        while (n > cap - b->len) {
            if (cap > SIZE_MAX / 2) {
                b->oom = 1;
                return;
            }
            cap *= 2;
        }
        if (!(grown = realloc(b->p, cap))) {
            b->oom = 1;
            return;
        }
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void sb_str(st_buf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_int(st_buf *b, long long v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", v);
    sb_add(b, tmp, (size_t)n);
}

/* A JSON string literal; s must be valid UTF-8, which passes through unescaped. */
static void sb_json(st_buf *b, const char *s)
{
    sb_add(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sb_add(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned)c);
            sb_add(b, esc, 6);
        } else {
            sb_add(b, s, 1);
        }
    }
    sb_add(b, "\"", 1);
}

/* Checks what the reader would reject, so that every written file reads back. */
static int st_check_writable(const char *path, const aaren_st *st, char *err, size_t errlen)
{
    st_span *spans;
    const char *dup;
    for (int i = 0; i < st->n_meta; i++) {
        const char *k = st->meta_keys[i], *v = st->meta_vals[i];
        if (!k || !v || !utf8_valid(k) || !utf8_valid(v))
            return aaren_file_err(err, errlen, path, "metadata entry %d is missing or not UTF-8", i);
        if (st_meta_index(st, k, i) >= 0)
            return aaren_file_err(err, errlen, path, "duplicate metadata key \"%.80s\"", k);
    }
    for (int i = 0; i < st->n_tensors; i++) {
        const aaren_tensor *t = &st->tensors[i];
        if (!t->name || !utf8_valid(t->name) || strcmp(t->name, ST_METADATA) == 0)
            return aaren_file_err(err, errlen, path, "tensor %d has a missing, reserved or "
                           "non-UTF-8 name", i);
        if (t->ndim < 0 || t->ndim > AAREN_MAX_DIMS || aaren_shape_numel(t->ndim, t->shape) != t->numel)
            return aaren_file_err(err, errlen, path, "tensor \"%.80s\": shape and numel disagree",
                           t->name);
        if (t->numel > 0 && !t->data)
            return aaren_file_err(err, errlen, path, "tensor \"%.80s\" has no data", t->name);
    }
    if (!(spans = malloc(((size_t)st->n_tensors + 1) * sizeof *spans)))
        return aaren_file_err(err, errlen, path, "out of memory");
    for (int i = 0; i < st->n_tensors; i++) spans[i].name = st->tensors[i].name;
    dup = st_duplicate_name(spans, st->n_tensors);
    if (dup) aaren_file_err(err, errlen, path, "duplicate tensor name \"%.80s\"", dup);
    free(spans);
    return dup ? -1 : 0;
}

int aaren_st_write(const char *path, const aaren_st *st, char *err, size_t errlen)
{
    st_buf hb = { NULL, 0, 0, 0 };
    unsigned char lenbuf[8];
    long long offset = 0;
    FILE *f;

    if (!path || !st) return aaren_file_err(err, errlen, path, "invalid arguments");
    if (st_check_writable(path, st, err, errlen) != 0) return -1;

    sb_add(&hb, "{", 1);
    if (st->n_meta > 0) {
        sb_json(&hb, ST_METADATA);
        sb_add(&hb, ":{", 2);
        for (int i = 0; i < st->n_meta; i++) {
            if (i) sb_add(&hb, ",", 1);
            sb_json(&hb, st->meta_keys[i]);
            sb_add(&hb, ":", 1);
            sb_json(&hb, st->meta_vals[i]);
        }
        sb_add(&hb, "}", 1);
    }
    for (int i = 0; i < st->n_tensors; i++) {
        const aaren_tensor *t = &st->tensors[i];
        if (i || st->n_meta > 0) sb_add(&hb, ",", 1);
        sb_json(&hb, t->name);
        sb_str(&hb, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            if (d) sb_add(&hb, ",", 1);
            sb_int(&hb, (long long)t->shape[d]);
        }
        sb_str(&hb, "],\"data_offsets\":[");
        sb_int(&hb, offset);
        sb_add(&hb, ",", 1);
        offset += (long long)t->numel * 4;
        sb_int(&hb, offset);
        sb_str(&hb, "]}");
    }
    sb_add(&hb, "}", 1);
    while ((8 + hb.len) % ST_ALIGN != 0) sb_add(&hb, " ", 1);
    if (hb.oom) {
        free(hb.p);
        return aaren_file_err(err, errlen, path, "out of memory building the header");
    }
    for (int i = 0; i < 8; i++) lenbuf[i] = (unsigned char)((uint64_t)hb.len >> (8 * i));

    aaren_writer *w = aaren_writer_open(path, err, errlen);
    if (!w) {
        free(hb.p);
        return -1;
    }
    f = aaren_writer_file(w);
    fwrite(lenbuf, 1, 8, f);
    fwrite(hb.p, 1, hb.len, f);
    for (int i = 0; i < st->n_tensors; i++)
        if (st->tensors[i].numel) fwrite(st->tensors[i].data, sizeof(float), (size_t)st->tensors[i].numel, f);
    free(hb.p);
    return aaren_writer_commit(w, err, errlen);   /* a short write shows as a stream error */
}
