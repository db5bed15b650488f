/* UEA / sktime `.ts` classification files (see uea.h). The file is read line by line
 * (getline: lines of any length); header lines fill the description, case lines are checked
 * and appended to growing arrays. Any fault ends the load with one message. */
#define _POSIX_C_SOURCE 200809L
#include "data/uea.h"
#include "base/common.h"
#include "data/text.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHOW_LABELS 160  /* bytes of the label list shown in a message */

/* Loader state: the result being built plus what the header declared. */
typedef struct {
    aaren_lines in;      /* the file, and the line for messages */
    aaren_uea *d;
    int decl_dims;       /* @dimensions, or 0 when absent */
    int univariate;      /* @univariate: -1 absent, 0, 1 */
    int series_len;      /* @seriesLength, or 0 when absent */
    int have_labels;
    int cap_cases;
    size_t n_values, cap_values;
    char **fields;       /* [cap_fields] start of each dimension field of the current case */
    size_t *field_len;   /* [cap_fields] */
    int cap_fields;
    long first_case_line;
    aaren_uea_limits lim;
} loader;

void aaren_uea_free(aaren_uea *d) {
    if (!d) return;
    if (d->labels)
        for (int i = 0; i < d->n_classes; i++) free(d->labels[i]);
    free(d->labels);
    free(d->problem);
    free(d->y);
    free(d->len);
    free(d->off);
    free(d->values);
    free(d);
}

int aaren_uea_label_index(const aaren_uea *d, const char *s) {
    if (!d || !s) return -1;
    for (int i = 0; i < d->n_classes; i++)
        if (strcmp(d->labels[i], s) == 0) return i;
    return -1;
}

static int oom(loader *L) { return aaren_lines_fail(&L->in, "out of memory"); }

/* The header's labels, space separated, cut with "..." past SHOW_LABELS bytes. */
static void label_list(const aaren_uea *d, char *out, size_t cap) {
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; i < d->n_classes; i++) {
        const size_t n = strlen(d->labels[i]);
        if (at + n + 1 + 4 > cap || at + n > SHOW_LABELS) {
            snprintf(out + at, cap - at, "%s...", at ? " " : "");
            return;
        }
        at += (size_t)snprintf(out + at, cap - at, "%s%s", at ? " " : "", d->labels[i]);
    }
}

/* ---- header ---------------------------------------------------------------------------- */

/* true / false (any case) -> 1 / 0; -1 with the message otherwise. */
static int parse_bool(loader *L, const char *tag, const char *v, size_t n) {
    if (aaren_text_word_is(v, n, "true")) return 1;
    if (aaren_text_word_is(v, n, "false")) return 0;
    return aaren_lines_fail(&L->in, "@%s: expected true or false, got '%.*s%s'", tag, aaren_text_shown(n), v, aaren_text_dots(n));
}

/* A positive decimal integer that fits an int; -1 with the message otherwise. */
static int parse_count(loader *L, const char *tag, const char *v, size_t n) {
    long x = 0;
    if (n == 0) return aaren_lines_fail(&L->in, "@%s: missing value", tag);
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9' || x > (INT_MAX - 9) / 10)
            return aaren_lines_fail(&L->in, "@%s: expected a positive integer, got '%.*s%s'", tag, aaren_text_shown(n), v, aaren_text_dots(n));
        x = x * 10 + (v[i] - '0');
    }
    if (x < 1) return aaren_lines_fail(&L->in, "@%s: expected a positive integer, got '%.*s%s'", tag, aaren_text_shown(n), v, aaren_text_dots(n));
    return (int)x;
}

static int label_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A label listed twice, found by sorting a copy of the list (n log n). */
static int duplicate_labels(loader *L) {
    aaren_uea *d = L->d;
    char **sorted = malloc(sizeof *sorted * (size_t)d->n_classes);
    if (!sorted) return oom(L);
    memcpy(sorted, d->labels, sizeof *sorted * (size_t)d->n_classes);
    qsort(sorted, (size_t)d->n_classes, sizeof *sorted, label_cmp);
    int rc = 0;
    for (int k = 1; k < d->n_classes && !rc; k++)
        if (!strcmp(sorted[k - 1], sorted[k]))
            rc = aaren_lines_fail(&L->in, "@classLabel: duplicate label '%.*s%s'", aaren_text_shown(strlen(sorted[k])),
                                  sorted[k], aaren_text_dots(strlen(sorted[k])));
    free(sorted);
    return rc;
}

/* "@classLabel true L1 L2 ...": v[0..n) is everything after the tag. */
static int parse_labels(loader *L, char *v, size_t n) {
    aaren_uea *d = L->d;
    size_t a = 0, b;
    int count = 0;
    if (L->have_labels) return aaren_lines_fail(&L->in, "a second @classLabel line");
    while (a < n && !aaren_text_space((unsigned char)v[a])) a++;
    if (aaren_text_word_is(v, a, "false"))
        return aaren_lines_fail(&L->in, "@classLabel false is not supported (regression files are not supported)");
    if (!aaren_text_word_is(v, a, "true"))
        return aaren_lines_fail(&L->in, "@classLabel: expected true followed by the labels, got '%.*s%s'", aaren_text_shown(a), v, aaren_text_dots(a));
    for (size_t i = a; i < n;) {   /* count the labels */
        while (i < n && aaren_text_space((unsigned char)v[i])) i++;
        if (i == n) break;
        count++;
        while (i < n && !aaren_text_space((unsigned char)v[i])) i++;
    }
    if (count == 0) return aaren_lines_fail(&L->in, "@classLabel true lists no labels");
    if (count > L->lim.max_classes)
        return aaren_lines_fail(&L->in, "@classLabel lists %d labels, more than the limit of %d (raise it with "
                                "--max-classes)", count, L->lim.max_classes);
    if (!(d->labels = calloc((size_t)count, sizeof *d->labels))) return oom(L);
    for (size_t i = a; i < n;) {
        while (i < n && aaren_text_space((unsigned char)v[i])) i++;
        if (i == n) break;
        b = i;
        while (b < n && !aaren_text_space((unsigned char)v[b])) b++;
        if (!(d->labels[d->n_classes] = malloc(b - i + 1))) return oom(L);
        memcpy(d->labels[d->n_classes], v + i, b - i);
        d->labels[d->n_classes][b - i] = '\0';
        d->n_classes++;
        i = b;
    }
    L->have_labels = 1;
    return duplicate_labels(L);
}

/* One header line s[0..n) starting with '@'. Returns 1 on @data, 0 otherwise, -1 on error. */
static int header_line(loader *L, char *s, size_t n) {
    aaren_uea *d = L->d;
    size_t t = 1, a, b = n;
    const char *tag = s + 1;
    size_t tn;
    int x;
    while (t < n && !aaren_text_space((unsigned char)s[t])) t++;
    tn = t - 1;
    a = t;
    aaren_text_trim(s, &a, &b);
    if (aaren_text_word_is(tag, tn, "data")) {
        if (!L->have_labels)
            return aaren_lines_fail(&L->in, "@data before any @classLabel line (@classLabel true with the labels is required)");
        if (L->univariate == 1 && L->decl_dims > 1)
            return aaren_lines_fail(&L->in, "@univariate true but @dimensions %d", L->decl_dims);
        return 1;
    }
    if (aaren_text_word_is(tag, tn, "problemname")) {
        if (b > a) {
            char *p = malloc(b - a + 1);
            if (!p) return oom(L);
            memcpy(p, s + a, b - a);
            p[b - a] = '\0';
            free(d->problem);
            d->problem = p;
        }
        return 0;
    }
    if (aaren_text_word_is(tag, tn, "timestamps")) {
        if ((x = parse_bool(L, "timeStamps", s + a, b - a)) < 0) return -1;
        if (x) return aaren_lines_fail(&L->in, "@timeStamps true is not supported (timestamped values)");
        return 0;
    }
    if (aaren_text_word_is(tag, tn, "missing")) return parse_bool(L, "missing", s + a, b - a) < 0 ? -1 : 0;
    if (aaren_text_word_is(tag, tn, "univariate")) {
        if ((x = parse_bool(L, "univariate", s + a, b - a)) < 0) return -1;
        L->univariate = x;
        return 0;
    }
    if (aaren_text_word_is(tag, tn, "dimensions")) {
        if ((x = parse_count(L, "dimensions", s + a, b - a)) < 0) return -1;
        L->decl_dims = x;
        return 0;
    }
    if (aaren_text_word_is(tag, tn, "equallength")) {
        if ((x = parse_bool(L, "equalLength", s + a, b - a)) < 0) return -1;
        d->equal_length = x;
        return 0;
    }
    if (aaren_text_word_is(tag, tn, "serieslength")) {
        if ((x = parse_count(L, "seriesLength", s + a, b - a)) < 0) return -1;
        L->series_len = x;
        return 0;
    }
    if (aaren_text_word_is(tag, tn, "classlabel")) return parse_labels(L, s + a, b - a);
    if (aaren_text_word_is(tag, tn, "targetlabel"))
        return aaren_lines_fail(&L->in, "@targetLabel: regression files are not supported (classification needs @classLabel)");
    return aaren_lines_fail(&L->in, "unknown header tag '@%.*s%s'", aaren_text_shown(tn), tag, aaren_text_dots(tn));
}

/* ---- cases ----------------------------------------------------------------------------- */

/* One value s[0..n) of dimension dim, position pos (both 1-based) into *out. */
static int parse_value(loader *L, char *s, size_t n, int dim, long pos, float *out) {
    size_t a = 0, b = n;
    double v = 0;
    aaren_num rc;
    const char *why;
    aaren_text_trim(s, &a, &b);
    if (b - a == 1 && s[a] == '?') {
        *out = NAN;
        L->d->n_missing++;
        return 0;
    }
    rc = aaren_text_number(s, a, b, &v);
    if (rc == AAREN_NUM_OK && fabs(v) <= FLT_MAX) {
        *out = (float)v;
        return 0;
    }
    why = rc == AAREN_NUM_EMPTY ? "empty value" : rc == AAREN_NUM_BAD ? "not a number"
          : rc == AAREN_NUM_NANINF ? "not a finite number" : "out of float range";
    return aaren_lines_fail(&L->in, "dimension %d, value %ld: %s: '%.*s%s'", dim, pos, why, aaren_text_shown(b - a), s + a, aaren_text_dots(b - a));
}

/* Room for one more case and for `more` more values. */
static int grow(loader *L, size_t more) {
    aaren_uea *d = L->d;
    if (d->n_cases == L->cap_cases) {
        int cap;
        int *y, *len;
        size_t *off;
        if (L->cap_cases > INT_MAX / 2) return aaren_lines_fail(&L->in, "too many cases");
        cap = L->cap_cases ? L->cap_cases * 2 : 64;
        if (!(y = realloc(d->y, sizeof *y * (size_t)cap))) return oom(L);
        d->y = y;
        if (!(len = realloc(d->len, sizeof *len * (size_t)cap))) return oom(L);
        d->len = len;
        if (!(off = realloc(d->off, sizeof *off * (size_t)cap))) return oom(L);
        d->off = off;
        L->cap_cases = cap;
    }
    if (more > SIZE_MAX / sizeof(float) - L->n_values) return oom(L);
    if (L->n_values + more > L->cap_values) {
        size_t cap = L->cap_values ? L->cap_values : 4096;
        float *v;
        while (cap < L->n_values + more) cap = cap > SIZE_MAX / sizeof(float) / 2 ? L->n_values + more : cap * 2;
        if (!(v = realloc(d->values, sizeof *v * cap))) return oom(L);
        d->values = v;
        L->cap_values = cap;
    }
    return 0;
}

/* One case line s[0..n): D ':'-separated dimension fields, ':', the label. */
static int case_line(loader *L, char *s, size_t n) {
    aaren_uea *d = L->d;
    size_t colon = n, la, lb = n;
    long steps = 0;
    int k = 0, y;
    float *dst;
    for (size_t i = n; i > 0; i--)
        if (s[i - 1] == ':') {
            colon = i - 1;
            break;
        }
    if (colon == n)
        return aaren_lines_fail(&L->in, "no ':' in the case line (expected dimension fields, then ':' and the class label)");

    /* split the dimension fields: k = number of ':' before the label's + 1 */
    for (size_t i = 0; i < colon; i++) k += s[i] == ':';
    k++;
    if (d->dims > 0 && k != d->dims) {
        if (L->decl_dims || L->univariate == 1)
            return aaren_lines_fail(&L->in, "%d dimensions, expected %d (@%s)", k, d->dims,
                        L->decl_dims ? "dimensions" : "univariate true");
        return aaren_lines_fail(&L->in, "%d dimensions, expected %d (as in the first case, line %ld)", k, d->dims,
                    L->first_case_line);
    }
    if (k > L->cap_fields) {
        char **f;
        size_t *fl;
        if (!(f = realloc(L->fields, sizeof *f * (size_t)k))) return oom(L);
        L->fields = f;
        if (!(fl = realloc(L->field_len, sizeof *fl * (size_t)k))) return oom(L);
        L->field_len = fl;
        L->cap_fields = k;
    }
    {
        size_t start = 0;
        int j = 0;
        for (size_t i = 0; i <= colon; i++)
            if (i == colon || s[i] == ':') {
                L->fields[j] = s + start;
                L->field_len[j] = i - start;
                j++;
                start = i + 1;
            }
    }

    /* every dimension non-empty, all of one length */
    for (int j = 0; j < k; j++) {
        size_t a = 0, b = L->field_len[j];
        long c = 1;
        aaren_text_trim(L->fields[j], &a, &b);
        if (a == b) return aaren_lines_fail(&L->in, "dimension %d is empty", j + 1);
        for (size_t i = 0; i < L->field_len[j]; i++) c += L->fields[j][i] == ',';
        if (j == 0) {
            steps = c;
            if (steps > L->lim.max_len)
                return aaren_lines_fail(&L->in, "the case has %ld steps, more than the limit of %ld (raise it with "
                                        "--max-len)", steps, L->lim.max_len);
        } else if (c != steps) {
            return aaren_lines_fail(&L->in, "dimension %d has %ld values, dimension 1 has %ld (dimensions of a case "
                           "must have the same length)", j + 1, c, steps);
        }
    }
    if (steps > INT_MAX) return aaren_lines_fail(&L->in, "case too long (%ld steps)", steps);
    if (d->equal_length) {
        if (L->series_len && steps != L->series_len)
            return aaren_lines_fail(&L->in, "length %ld, expected %d (@equalLength true, @seriesLength %d)", steps,
                        L->series_len, L->series_len);
        if (d->n_cases > 0 && steps != d->len[0])
            return aaren_lines_fail(&L->in, "length %ld, expected %d as in the first case, line %ld (@equalLength true)",
                        steps, d->len[0], L->first_case_line);
    }

    /* the label */
    la = colon + 1;
    aaren_text_trim(s, &la, &lb);
    s[lb] = '\0';
    if ((y = aaren_uea_label_index(d, s + la)) < 0) {
        char list[SHOW_LABELS + 8];
        label_list(d, list, sizeof list);
        return aaren_lines_fail(&L->in, "class label '%.*s%s' is not in the @classLabel list (%s)", aaren_text_shown(lb - la), s + la,
                    aaren_text_dots(lb - la), list);
    }

    /* the values: dimension j, step t at [t * k + j] */
    if (grow(L, (size_t)steps * (size_t)k) < 0) return -1;
    dst = d->values + L->n_values;
    for (int j = 0; j < k; j++) {
        char *f = L->fields[j];
        const size_t fn = L->field_len[j];
        size_t start = 0;
        long t = 0;
        for (size_t i = 0; i <= fn; i++)
            if (i == fn || f[i] == ',') {
                if (parse_value(L, f + start, i - start, j + 1, t + 1, &dst[(size_t)t * (size_t)k + (size_t)j]) < 0)
                    return -1;
                t++;
                start = i + 1;
            }
    }
    if (d->dims == 0) d->dims = k;
    if (d->n_cases == 0) L->first_case_line = L->in.line;
    d->y[d->n_cases] = y;
    d->len[d->n_cases] = (int)steps;
    d->off[d->n_cases] = L->n_values;
    if (d->n_cases == 0 || steps < d->min_len) d->min_len = (int)steps;
    if (d->n_cases == 0 || steps > d->max_len) d->max_len = (int)steps;
    d->n_cases++;
    L->n_values += (size_t)steps * (size_t)k;
    return 0;
}

/* ---- loading --------------------------------------------------------------------------- */

/* The file's base name without its extension, as the default problem name. */
static char *default_problem(const char *path) {
    const char *b = path, *dot = NULL;
    char *p;
    size_t n;
    for (const char *q = path; *q; q++)
        if (*q == '/' || *q == '\\') b = q + 1;
    for (const char *q = b; *q; q++)
        if (*q == '.') dot = q;
    n = dot && dot > b ? (size_t)(dot - b) : strlen(b);
    if (!(p = malloc(n + 1))) return NULL;
    memcpy(p, b, n);
    p[n] = '\0';
    return p;
}

aaren_uea_limits aaren_uea_limits_default(void) {
    const aaren_uea_limits l = {AAREN_UEA_MAX_CLASSES, AAREN_UEA_MAX_LEN};
    return l;
}

aaren_uea *aaren_uea_load(const char *path, char *err, size_t errlen) {
    return aaren_uea_load_limited(path, NULL, err, errlen);
}

aaren_uea *aaren_uea_load_limited(const char *path, const aaren_uea_limits *lim, char *err, size_t errlen) {
    loader L;
    char *buf;
    size_t n;
    int in_data = 0, rc = 0;
    long data_line = 0;

    if (err && errlen) err[0] = '\0';
    if (!path) {
        aaren_errf(err, errlen, "aaren_uea_load: path is NULL");
        return NULL;
    }
    memset(&L, 0, sizeof L);
    L.lim = lim ? *lim : aaren_uea_limits_default();
    if (L.lim.max_classes < 1 || L.lim.max_classes > AAREN_UEA_CLASSES_CEIL || L.lim.max_len < 1 ||
        L.lim.max_len > AAREN_UEA_LEN_CEIL) {
        aaren_file_err(err, errlen, path, "limits out of range: at most %d classes (1..%d) and %ld steps (1..%d)",
                       L.lim.max_classes, AAREN_UEA_CLASSES_CEIL, L.lim.max_len, AAREN_UEA_LEN_CEIL);
        return NULL;
    }
    L.univariate = -1;
    if (aaren_lines_open(&L.in, path, err, errlen)) return NULL;
    if (!(L.d = calloc(1, sizeof *L.d))) {
        aaren_lines_close(&L.in);
        aaren_file_err(err, errlen, path, "out of memory");
        return NULL;
    }

    while (rc == 0 && (rc = aaren_lines_next(&L.in, &buf, &n)) == 1) {
        size_t a = 0;
        while (aaren_text_space((unsigned char)buf[a])) a++;
        if (buf[a] == '#') {   /* comment */
            rc = 0;
        } else if (in_data) {
            rc = case_line(&L, buf + a, n - a);
        } else if (buf[a] == '@') {
            rc = header_line(&L, buf + a, n - a);
            if (rc == 1) {
                in_data = 1;
                data_line = L.in.line;
                rc = 0;
                if (L.univariate == 1 || L.decl_dims) L.d->dims = L.decl_dims ? L.decl_dims : 1;
            }
        } else {
            rc = aaren_lines_fail(&L.in, "no @data line before this line (header lines start with '@', cases follow @data)");
        }
    }
    aaren_lines_close(&L.in);
    if (rc == 0) {
        if (!in_data) {
            if (L.in.line == 0) {
                rc = aaren_file_err(err, errlen, path, "empty file: no @data line");
            } else {
                rc = aaren_file_err(err, errlen, path, "no @data line (the file ends at line %ld)", L.in.line);
            }
        } else if (L.d->n_cases == 0) {
            L.in.line = data_line;
            rc = aaren_lines_fail(&L.in, "no cases after @data");
        }
    }
    if (rc == 0 && !L.d->problem && !(L.d->problem = default_problem(path))) {
        L.in.line = 0;
        rc = oom(&L);
    }
    free(L.fields);
    free(L.field_len);
    if (rc != 0) {
        aaren_uea_free(L.d);
        return NULL;
    }
    return L.d;
}
