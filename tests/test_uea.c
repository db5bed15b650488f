/* UEA `.ts` loader: hand-written files checked value by value (equal and unequal lengths,
 * '?' values, string labels, CRLF and comments, univariate files, a very long line), every
 * malformed case with the line and wording of its message, prefixes and byte mutations
 * that must never crash; then the seven shared classification data sets (skipped, still
 * passing, when $AAREN_SHARED/data/classification is absent). Temporary files go to a
 * fresh directory under /tmp, removed at the end. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "data/uea.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[512];

/* Value of case i, step t, dimension j. */
static float at(const aaren_uea *d, int i, int t, int j) {
    return d->values[d->off[i] + (size_t)t * (size_t)d->dims + (size_t)j];
}

/* Everything a loaded object promises: offsets packed in order, labels in range, lengths,
 * min/max and the missing count agree with the values. */
static int consistent(const aaren_uea *d) {
    size_t off = 0;
    long miss = 0;
    int mn = INT_MAX, mx = 0;
    if (!d->problem || d->dims < 1 || d->n_cases < 1 || d->n_classes < 1 || !d->labels || !d->y ||
        !d->len || !d->off || !d->values)
        return 0;
    for (int c = 0; c < d->n_classes; c++)
        if (!d->labels[c] || aaren_uea_label_index(d, d->labels[c]) != c) return 0;
    for (int i = 0; i < d->n_cases; i++) {
        const size_t n = (size_t)d->len[i] * (size_t)d->dims;
        if (d->y[i] < 0 || d->y[i] >= d->n_classes || d->len[i] < 1 || d->off[i] != off) return 0;
        for (size_t k = 0; k < n; k++) {
            const float v = d->values[off + k];
            if (isnan(v)) miss++;
            else if (!isfinite(v)) return 0;
        }
        off += n;
        if (d->len[i] < mn) mn = d->len[i];
        if (d->len[i] > mx) mx = d->len[i];
    }
    return miss == d->n_missing && mn == d->min_len && mx == d->max_len;
}

static aaren_uea *load_ok(const char *label, const char *path) {
    aaren_uea *d;
    err[0] = '\0';
    d = aaren_uea_load(path, err, sizeof err);
    CHECK(d != NULL, "%s: %s", label, err);
    CHECK(!d || consistent(d), "%s: inconsistent object", label);
    return d;
}

/* ---- reading ------------------------------------------------------------------------- */

static void test_equal_length(void) {
    static const char text[] =
        "# a comment before the header\n"
        "@problemName Tiny\n"
        "@timeStamps false\n"
        "@missing false\n"
        "@univariate false\n"
        "@dimensions 2\n"
        "@equalLength true\n"
        "@seriesLength 3\n"
        "@classLabel true 1 2 3\n"
        "@data\n"
        "1,2,3:4,5,6:2\n"
        "-1.5, 2e1 ,+0.25:7,8,9: 1 \n"
        "0.1,1E-3,-0:123456.5,.5,5.:3\n";
    static const float want[3][6] = { { 1, 4, 2, 5, 3, 6 },
                                      { -1.5f, 7, 20, 8, 0.25f, 9 },
                                      { 0.1f, 123456.5f, 1e-3f, 0.5f, -0.0f, 5 } };
    aaren_uea *d = load_ok("equal", check_write_text("Equal_TRAIN.ts", text));
    if (!d) return;
    CHECK(strcmp(d->problem, "Tiny") == 0, "problem '%s'", d->problem);
    CHECK(d->dims == 2 && d->n_cases == 3 && d->n_classes == 3, "dims %d cases %d classes %d", d->dims,
          d->n_cases, d->n_classes);
    CHECK(strcmp(d->labels[0], "1") == 0 && strcmp(d->labels[1], "2") == 0 && strcmp(d->labels[2], "3") == 0,
          "labels");
    CHECK(d->y[0] == 1 && d->y[1] == 0 && d->y[2] == 2, "y %d %d %d", d->y[0], d->y[1], d->y[2]);
    CHECK(d->equal_length == 1 && d->min_len == 3 && d->max_len == 3 && d->n_missing == 0, "flags");
    for (int i = 0; i < 3; i++) {
        CHECK(d->len[i] == 3 && d->off[i] == (size_t)i * 6, "case %d len %d off %zu", i, d->len[i], d->off[i]);
        for (int k = 0; k < 6; k++)
            CHECK(d->values[i * 6 + k] == want[i][k], "case %d value %d: %g", i, k, d->values[i * 6 + k]);
    }
    CHECK(at(d, 1, 2, 0) == 0.25f && at(d, 1, 2, 1) == 9.0f, "time-major access");
    CHECK(aaren_uea_label_index(d, "3") == 2 && aaren_uea_label_index(d, "4") == -1 &&
          aaren_uea_label_index(d, "") == -1 && aaren_uea_label_index(d, " 1") == -1, "label_index");
    aaren_uea_free(d);
}

static void test_unequal_length(void) {
    static const char text[] =
        "@problemName Var\n"
        "@timeStamps false\n"
        "@univariate false\n"
        "@equalLength false\n"
        "@classLabel true a b\n"
        "@data\n"
        "1,2:3,4:5,6:a\n"
        "7:8:9:b\n"
        "\n"
        "10,11,12,13:14,15,16,17:18,19,20,21:a\n";
    aaren_uea *d = load_ok("unequal", check_write_text("Var.ts", text));
    if (!d) return;
    CHECK(d->dims == 3 && d->n_cases == 3 && d->n_classes == 2, "dims %d cases %d", d->dims, d->n_cases);
    CHECK(d->len[0] == 2 && d->len[1] == 1 && d->len[2] == 4, "lengths %d %d %d", d->len[0], d->len[1], d->len[2]);
    CHECK(d->off[0] == 0 && d->off[1] == 6 && d->off[2] == 9, "offsets %zu %zu %zu", d->off[0], d->off[1], d->off[2]);
    CHECK(d->min_len == 1 && d->max_len == 4 && d->equal_length == 0, "min %d max %d", d->min_len, d->max_len);
    CHECK(d->y[0] == 0 && d->y[1] == 1 && d->y[2] == 0, "y");
    {
        static const float c0[6] = { 1, 3, 5, 2, 4, 6 };
        static const float c2[12] = { 10, 14, 18, 11, 15, 19, 12, 16, 20, 13, 17, 21 };
        for (int k = 0; k < 6; k++) CHECK(d->values[k] == c0[k], "case 0 value %d", k);
        CHECK(d->values[6] == 7 && d->values[7] == 8 && d->values[8] == 9, "case 1 values");
        for (int k = 0; k < 12; k++) CHECK(d->values[9 + k] == c2[k], "case 2 value %d", k);
        for (int t = 0; t < 4; t++)
            for (int j = 0; j < 3; j++) CHECK(at(d, 2, t, j) == (float)(10 + 4 * j + t), "case 2 [%d][%d]", t, j);
    }
    aaren_uea_free(d);
}

static void test_missing(void) {
    static const char text[] =
        "@problemName Miss\n"
        "@missing true\n"
        "@dimensions 2\n"
        "@equalLength true\n"
        "@classLabel true x y\n"
        "@data\n"
        "1,?,3:?,5, ? :y\n"
        "?,?,?:1,2,3:x\n";
    aaren_uea *d = load_ok("missing", check_write_text("Miss.ts", text));
    if (!d) return;
    CHECK(d->n_missing == 6, "n_missing %ld", d->n_missing);
    CHECK(at(d, 0, 0, 0) == 1 && isnan(at(d, 0, 0, 1)) && isnan(at(d, 0, 1, 0)) && at(d, 0, 1, 1) == 5 &&
          at(d, 0, 2, 0) == 3 && isnan(at(d, 0, 2, 1)), "case 0 values / NaN positions");
    CHECK(isnan(at(d, 1, 0, 0)) && isnan(at(d, 1, 2, 0)) && at(d, 1, 2, 1) == 3, "case 1 values");
    CHECK(d->y[0] == 1 && d->y[1] == 0, "y");
    aaren_uea_free(d);
}

static void test_string_labels(void) {
    static const char text[] =
        "@problemName Fingers\n"
        "@timeStamps false\n"
        "@univariate false\n"
        "@dimensions 2\n"
        "@equalLength true\n"
        "@seriesLength 2\n"
        "@classLabel true left right up-down\n"
        "@data\n"
        "1,2:3,4:right\n"
        "1,2:3,4:left\n"
        "1,2:3,4:up-down\n"
        "1,2:3,4:right\n";
    aaren_uea *d = load_ok("string labels", check_write_text("Fingers.ts", text));
    if (!d) return;
    CHECK(d->n_classes == 3 && strcmp(d->labels[0], "left") == 0 && strcmp(d->labels[1], "right") == 0 &&
          strcmp(d->labels[2], "up-down") == 0, "labels");
    CHECK(d->y[0] == 1 && d->y[1] == 0 && d->y[2] == 2 && d->y[3] == 1, "y");
    CHECK(aaren_uea_label_index(d, "right") == 1 && aaren_uea_label_index(d, "Right") == -1 &&
          aaren_uea_label_index(d, "up") == -1, "label_index");
    aaren_uea_free(d);
}

/* CRLF, comments and blank lines everywhere, tags and booleans in any case, no
 * @problemName (the base name without extension is used), final line without newline. */
static void test_crlf_comments(void) {
    static const char text[] =
        "#comment\r\n"
        "\r\n"
        "  # indented comment\r\n"
        "@TIMESTAMPS FALSE\r\n"
        "@Missing False\r\n"
        "@univariate false\r\n"
        "@dimensions 2\r\n"
        "#\r\n"
        "@EqualLength TRUE\r\n"
        "@ClassLabel True c1 c2\r\n"
        "@DATA\r\n"
        "# a comment after @data\r\n"
        "1.5,2.5:3.5,4.5:c2\r\n"
        "\r\n"
        "   \r\n"
        "5,6:7,8:c1";
    aaren_uea *d = load_ok("crlf", check_write_text("Crlf_TEST.ts", text));
    if (!d) return;
    CHECK(strcmp(d->problem, "Crlf_TEST") == 0, "default problem name '%s'", d->problem);
    CHECK(d->n_cases == 2 && d->dims == 2 && d->equal_length == 1, "cases %d", d->n_cases);
    CHECK(at(d, 0, 0, 0) == 1.5f && at(d, 0, 0, 1) == 3.5f && at(d, 0, 1, 0) == 2.5f && at(d, 0, 1, 1) == 4.5f,
          "case 0 values");
    CHECK(at(d, 1, 1, 1) == 8.0f && d->y[0] == 1 && d->y[1] == 0, "case 1 value and labels");
    aaren_uea_free(d);
}

static void test_univariate(void) {
    static const char text[] =
        "@problemName Uni\n"
        "@univariate true\n"
        "@equalLength false\n"
        "@classLabel true 0 1\n"
        "@data\n"
        "1,2,3:1\n"
        "4:0\n";
    aaren_uea *d = load_ok("univariate", check_write_text("Uni.ts", text));
    if (!d) return;
    CHECK(d->dims == 1 && d->n_cases == 2 && d->len[0] == 3 && d->len[1] == 1 && d->off[1] == 3, "shape");
    CHECK(d->values[0] == 1 && d->values[2] == 3 && d->values[3] == 4 && d->y[0] == 1 && d->y[1] == 0, "values");
    aaren_uea_free(d);
    /* univariate true: a two-dimension case is refused */
    d = aaren_uea_load(check_write_text("Uni2.ts", "@univariate true\n@classLabel true a\n@data\n1:2:a\n"), err, sizeof err);
    CHECK(d == NULL && strstr(err, "line 4") && strstr(err, "2 dimensions, expected 1"), "univariate 2 dims: %s", err);
    aaren_uea_free(d);
}

/* A UTF-8 byte-order mark before the header, and classic Mac line ends. */
static void test_bom_cr(void) {
    aaren_uea *d = aaren_uea_load(check_write_text("Bom.ts", "\xEF\xBB\xBF@problemName Bom\n@classLabel true a b\n"
                                                              "@data\n1,2:a\n3,4:b\n"), err, sizeof err);
    CHECK(d && d->n_cases == 2 && !strcmp(d->problem, "Bom"), "a byte-order mark before the header: %s", err);
    aaren_uea_free(d);
    d = aaren_uea_load(check_write_text("Bom.ts", "@classLabel true a b\r@data\r1,2:a\r\r3,4:b\r"), err, sizeof err);
    CHECK(d && d->n_cases == 2 && d->y[1] == 1, "CR line ends: %s", err);
    aaren_uea_free(d);
}

/* A 60000-step univariate case (~500 KB line) and a 3000-dimension case. */
static void test_long_lines(void) {
    const int n = 60000, D = 3000;
    size_t cap = (size_t)n * 12 + 256, at_ = 0;
    char *text = malloc(cap);
    aaren_uea *d;
    CHECK(text != NULL, "malloc");
    if (!text) return;
    at_ += (size_t)snprintf(text, cap, "@problemName Long\n@univariate true\n@classLabel true k\n@data\n");
    for (int t = 0; t < n; t++)
        at_ += (size_t)snprintf(text + at_, cap - at_, "%d.25%s", t, t + 1 < n ? "," : ":k\n");
    const char *long_path = check_write_bytes("Long.ts", text, at_);
    d = aaren_uea_load(long_path, err, sizeof err);   /* past the default limit */
    CHECK(!d && strstr(err, "Long.ts") && strstr(err, "line 5") && strstr(err, "60000 steps, more than the limit of 20000"),
          "a case past --max-len: %s", err);
    aaren_uea_free(d);
    aaren_uea_limits lim = aaren_uea_limits_default();
    lim.max_len = n;
    d = aaren_uea_load_limited(long_path, &lim, err, sizeof err);
    CHECK(d && consistent(d), "long line within a raised limit: %s", err);
    if (d) {
        CHECK(d->len[0] == n && d->values[0] == 0.25f && d->values[n - 1] == (float)(n - 1) + 0.25f, "long values");
        aaren_uea_free(d);
    }
    lim.max_len = n - 1;
    d = aaren_uea_load_limited(long_path, &lim, err, sizeof err);
    CHECK(!d && strstr(err, "more than the limit of 59999"), "one step past the limit: %s", err);
    aaren_uea_free(d);
    at_ = (size_t)snprintf(text, cap, "@dimensions %d\n@classLabel true k\n@data\n", D);
    for (int j = 0; j < D; j++) at_ += (size_t)snprintf(text + at_, cap - at_, "%d,-%d:", j, j);
    at_ += (size_t)snprintf(text + at_, cap - at_, "k\n");
    d = load_ok("wide", check_write_bytes("Wide.ts", text, at_));
    if (d) {
        CHECK(d->dims == D && d->len[0] == 2 && at(d, 0, 0, D - 1) == (float)(D - 1) &&
              at(d, 0, 1, D - 1) == -(float)(D - 1), "wide values");
        aaren_uea_free(d);
    }
    free(text);
}

/* ---- malformed files ----------------------------------------------------------------- */

/* Lines 1-8; cases start at line 9. */
#define HDR(dims, eq, labels)                                                                  \
    "@problemName T\n@timeStamps false\n@missing false\n@univariate false\n" dims "\n" eq "\n" \
    "@classLabel true " labels "\n@data\n"
#define H2 HDR("@dimensions 2", "@equalLength false", "a b c")

static void expect_fail(const char *label, const char *path, const char *where, const char *word) {
    aaren_uea *d;
    strcpy(err, "(untouched)");
    d = aaren_uea_load(path, err, sizeof err);
    CHECK(d == NULL, "%s: accepted", label);
    aaren_uea_free(d);
    CHECK(strstr(err, path) != NULL, "%s: message '%s' lacks the path", label, err);
    CHECK(!where || strstr(err, where) != NULL, "%s: message '%s' lacks '%s'", label, err, where ? where : "");
    CHECK(strstr(err, word) != NULL, "%s: message '%s' lacks '%s'", label, err, word);
    CHECK(strchr(err, '\n') == NULL, "%s: message has a newline", label);
}

/* Many labels: the count is bounded, and a duplicate among thousands is found (by sorting). */
static void test_many_labels(void) {
    const int n = 5000;
    size_t cap = (size_t)n * 16 + 128, at_;
    char *text = malloc(cap);
    CHECK(text != NULL, "malloc");
    if (!text) return;
    at_ = (size_t)snprintf(text, cap, "@classLabel true");
    for (int k = 0; k < n; k++) at_ += (size_t)snprintf(text + at_, cap - at_, " c%d", k);
    at_ += (size_t)snprintf(text + at_, cap - at_, "\n@data\n1,2:c4999\n");
    const char *path = check_write_bytes("Labels.ts", text, at_);
    aaren_uea *d = aaren_uea_load(path, err, sizeof err);
    CHECK(!d && strstr(err, "Labels.ts: line 1") && strstr(err, "5000 labels, more than the limit of 1000"),
          "labels past --max-classes: %s", err);
    aaren_uea_free(d);
    aaren_uea_limits lim = aaren_uea_limits_default();
    lim.max_classes = n;
    d = aaren_uea_load_limited(path, &lim, err, sizeof err);
    CHECK(d && d->n_classes == n && d->y[0] == n - 1, "5000 labels within a raised limit: %s", err);
    aaren_uea_free(d);
    /* the last label repeats the first: found, and named */
    char *last = strstr(text, " c4999\n");
    memcpy(last, " c0   ", 6);
    d = aaren_uea_load_limited(check_write_bytes("Labels.ts", text, at_), &lim, err, sizeof err);
    CHECK(!d && strstr(err, "duplicate label 'c0'"), "a duplicate among 5000 labels: %s", err);
    aaren_uea_free(d);
    lim.max_classes = AAREN_UEA_CLASSES_CEIL + 1;
    d = aaren_uea_load_limited(path, &lim, err, sizeof err);
    CHECK(!d && strstr(err, "limits out of range"), "a limit past the ceiling: %s", err);
    aaren_uea_free(d);
    free(text);
}

static void test_malformed(void) {
    static const struct {
        const char *label, *text, *where, *word;
    } cases[] = {
        { "label not in list", H2 "1,2:3,4:a\n1,2:3,4:z\n", "line 10: ",
          "class label 'z' is not in the @classLabel list (a b c)" },
        { "empty label", H2 "1,2:3,4:\n", "line 9: ", "class label '' is not in the @classLabel list" },
        { "dims vs first case", HDR("", "@equalLength false", "a") "1,2:3,4:a\n\n1,2:3,4:5,6:a\n", "line 11: ",
          "3 dimensions, expected 2 (as in the first case, line 9)" },
        { "dims vs @dimensions", H2 "1,2:3,4:a\n1,2:a\n", "line 10: ", "1 dimensions, expected 2 (@dimensions)" },
        { "non-numeric", H2 "1,2:3,abc:a\n", "line 9: ", "dimension 2, value 2: not a number: 'abc'" },
        { "number with suffix", H2 "1.2x,2:3,4:a\n", "line 9: ", "dimension 1, value 1: not a number: '1.2x'" },
        { "hex number", H2 "1,2:3,0x10:a\n", "line 9: ", "dimension 2, value 2: not a number: '0x10'" },
        { "nan text", H2 "1,nan:3,4:a\n", "line 9: ", "dimension 1, value 2: not a finite number: 'nan'" },
        { "inf text", H2 "1,2:-Infinity,4:a\n", "line 9: ", "dimension 2, value 1: not a finite number" },
        { "float overflow", H2 "1,2:3,1e39:a\n", "line 9: ", "dimension 2, value 2: out of float range: '1e39'" },
        { "lone dot", H2 "1,2:.,4:a\n", "line 9: ", "dimension 2, value 1: not a number: '.'" },
        { "long bad value cut", H2 "1,2:3,4aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:a\n", "line 9: ",
          "'4aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'" },
        { "empty value", H2 "1,,2:3,4,5:a\n", "line 9: ", "dimension 1, value 2: empty value" },
        { "trailing comma", H2 "1,2,:3,4,5:a\n", "line 9: ", "dimension 1, value 3: empty value" },
        { "missing @data", "@problemName T\n@classLabel true a\n@dimensions 1\n1,2:a\n", "line 4: ", "no @data line" },
        { "headers only", "@problemName T\n@classLabel true a\n\n", "line 3", "no @data line" },
        { "no @classLabel", "@problemName T\n@timeStamps false\n@dimensions 2\n@data\n1:2:a\n", "line 4: ", "@classLabel" },
        { "empty dimension", H2 "1,2::a\n", "line 9: ", "dimension 2 is empty" },
        { "blank dimension", H2 " :1,2:a\n", "line 9: ", "dimension 1 is empty" },
        { "unequal dims of a case", H2 "1,2:3,4:a\n1,2,3:4,5:b\n", "line 10: ", "dimension 2 has 2 values, dimension 1 has 3" },
        { "equalLength violated", HDR("@dimensions 2", "@equalLength true", "a b") "1,2:3,4:a\n#\n1,2,3:4,5,6:a\n",
          "line 11: ", "length 3, expected 2" },
        { "seriesLength violated", HDR("@dimensions 2", "@equalLength true\n@seriesLength 3", "a b") "1,2,3:4,5,6:a\n1,2:3,4:b\n",
          "line 11: ", "length 2, expected 3" },
        { "no cases", H2 "# nothing\n\n", "line 8: ", "no cases after @data" },
        { "timestamps true", "@problemName T\n@timeStamps true\n@classLabel true a\n@data\n1:a\n", "line 2: ", "@timeStamps true" },
        { "unknown tag", "@problemName T\n\n@foo bar\n@classLabel true a\n@data\n1:a\n", "line 3: ", "unknown header tag '@foo'" },
        { "targetLabel", "@problemName T\n@targetLabel true\n@data\n1:0.5\n", "line 2: ", "regression files are not supported" },
        { "classLabel false", "@problemName T\n@classLabel false\n@data\n1:0.5\n", "line 2: ", "regression" },
        { "classLabel no labels", "@classLabel true  \n@data\n1:a\n", "line 1: ", "no labels" },
        { "duplicate label", "@problemName T\n@classLabel true a b a\n@data\n1:a\n", "line 2: ", "duplicate label 'a'" },
        { "second classLabel", "@classLabel true a\n@classLabel true b\n@data\n1:a\n", "line 2: ", "@classLabel" },
        { "bad boolean", "@equalLength maybe\n@classLabel true a\n@data\n1:a\n", "line 1: ", "expected true or false" },
        { "bad dimensions", "@dimensions 0\n@classLabel true a\n@data\n1:a\n", "line 1: ", "positive integer" },
        { "dimensions overflow", "@dimensions 99999999999\n@classLabel true a\n@data\n1:a\n", "line 1: ", "positive integer" },
        { "univariate vs dimensions", "@univariate true\n@dimensions 3\n@classLabel true a\n@data\n1:a\n", "line 4: ", "@dimensions 3" },
        { "no colon", H2 "1,2,3\n", "line 9: ", "no ':'" },
        { "text before header", "hello\n@classLabel true a\n@data\n1:a\n", "line 1: ", "no @data line" },
        { "NUL byte", NULL, "line 9: ", "NUL" },
        { "empty file", "", NULL, "empty file" },
        { "only comments", "# a\n\n#b\n", "line 3", "no @data line" },
    };
    char name[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path;
        snprintf(name, sizeof name, "bad%02zu.ts", i);
        if (cases[i].text) {
            path = check_write_text(name, cases[i].text);
        } else {
            static const char nul[] = H2 "1,2:3\0,4:a\n";
            path = check_write_bytes(name, nul, sizeof nul - 1);
        }
        expect_fail(cases[i].label, path, cases[i].where, cases[i].word);
    }
    /* the label list is cut when long */
    {
        char text[4096];
        size_t at_ = (size_t)snprintf(text, sizeof text, "@classLabel true");
        for (int k = 0; k < 100; k++) at_ += (size_t)snprintf(text + at_, sizeof text - at_, " label%03d", k);
        snprintf(text + at_, sizeof text - at_, "\n@data\n1:label000\n2:nolabel\n");
        expect_fail("long label list", check_write_text("badlist.ts", text), "line 4: ", "'nolabel' is not in the @classLabel list (label000 label001");
        CHECK(strstr(err, "...)") != NULL && strstr(err, "label099") == NULL, "label list cut: %s", err);
    }
    expect_fail("nonexistent file", check_tmp_path("does_not_exist.ts"), NULL, "cannot open");
    {
        aaren_uea *d = aaren_uea_load(check_tmp_dir(), err, sizeof err);   /* a directory */
        CHECK(d == NULL && strstr(err, check_tmp_dir()) != NULL, "directory: %s", err);
        aaren_uea_free(d);
    }
    CHECK(aaren_uea_load(NULL, err, sizeof err) == NULL && err[0], "NULL path");
    CHECK(aaren_uea_load(check_tmp_path("does_not_exist.ts"), NULL, 0) == NULL, "NULL err buffer");
    aaren_uea_free(NULL);
}

/* ---- never crash ----------------------------------------------------------------------- */

/* 1: loaded and consistent, 0: refused with a message, -1: neither (see check_fuzz_file). */
static int load_checked(const char *path) {
    aaren_uea *d;
    int r;
    err[0] = '\0';
    d = aaren_uea_load(path, err, sizeof err);
    r = d ? (consistent(d) ? 1 : -1) : (err[0] ? 0 : -1);
    aaren_uea_free(d);
    return r;
}

/* Every prefix of a valid file, and at every offset each of a few odd bytes: the load
 * returns NULL with a message or a consistent object. */
static void test_no_crash(void) {
    static const char text[] =
        "# c\n"
        "@problemName F\r\n"
        "@timeStamps false\n"
        "@missing true\n"
        "@univariate false\n"
        "@dimensions 2\n"
        "@equalLength true\n"
        "@seriesLength 3\n"
        "@classLabel true a bb\n"
        "@data\n"
        "1,2.5,-3:?,5e-1,6:bb\n"
        "\n"
        "# x\n"
        " 7 ,8,9:1,2,3: a \r\n"
        "1,2,3:4,5,6:a";
    static const char odd[] = { ':', ',', '?', '\0', '\n', '\r', '#', '@', ' ', 'x', '.', '-', 'e', '\xff' };
    check_fuzz_file("fuzz.ts", text, sizeof text - 1, odd, sizeof odd, load_checked);
}

/* ---- the shared files ------------------------------------------------------------------ */

static void test_real(void) {
    static const struct {
        const char *dir, *name;
        int cases[2], dims, classes, min_len[2], max_len[2], equal;
        const char *first_label, *last_label;
    } sets[] = {
        { "", "Handwriting", { 150, 850 }, 3, 26, { 152, 152 }, { 152, 152 }, 1, "1.0", "26.0" },
        { "", "JapaneseVowels", { 270, 370 }, 12, 9, { 7, 7 }, { 26, 29 }, 0, "1", "9" },
        { "", "UWaveGestureLibrary", { 120, 320 }, 3, 8, { 315, 315 }, { 315, 315 }, 1, "1.0", "8.0" },
        { "_substitutes/", "FingerMovements", { 316, 100 }, 28, 2, { 50, 50 }, { 50, 50 }, 1, "left", "right" },
        { "_substitutes/", "AtrialFibrillation", { 15, 15 }, 2, 3, { 640, 640 }, { 640, 640 }, 1, "n", "t" },
        { "_substitutes/", "StandWalkJump", { 12, 15 }, 4, 3, { 2500, 2500 }, { 2500, 2500 }, 1, "standing", "jumping" },
        { "_substitutes/", "ArticularyWordRecognition", { 275, 300 }, 9, 25, { 144, 144 }, { 144, 144 }, 1, "1.0", "25.0" },
    };
    static const char *const split[2] = { "TRAIN", "TEST" };
    const char *env = getenv("AAREN_SHARED");
    const char *roots[3];
    int nroots = 0, found = 0;
    char path[1024];
    if (env && *env) {
        roots[nroots++] = env;
    } else {
        roots[nroots++] = "../shared";
        roots[nroots++] = "../../shared";
    }
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        const char *root = NULL;
        for (int r = 0; r < nroots && !root; r++) {
            FILE *probe;
            snprintf(path, sizeof path, "%s/data/classification/%s%s/%s_TRAIN.ts", roots[r], sets[s].dir,
                     sets[s].name, sets[s].name);
            if ((probe = fopen(path, "rb"))) {
                fclose(probe);
                root = roots[r];
            }
        }
        if (!root) {
            printf("test_uea: real-data check SKIPPED for %s: %s/data/classification/%s%s not found\n",
                   sets[s].name, roots[0], sets[s].dir, sets[s].name);
            continue;
        }
        found++;
        for (int k = 0; k < 2; k++) {
            aaren_uea *d;
            int seen[32] = { 0 }, all_seen = 1;
            snprintf(path, sizeof path, "%s/data/classification/%s%s/%s_%s.ts", root, sets[s].dir, sets[s].name,
                     sets[s].name, split[k]);
            d = load_ok(path, path);
            if (!d) continue;
            CHECK(strcmp(d->problem, sets[s].name) == 0, "%s: problem '%s'", path, d->problem);
            CHECK(d->n_cases == sets[s].cases[k] && d->dims == sets[s].dims && d->n_classes == sets[s].classes,
                  "%s: %d cases, %d dims, %d classes", path, d->n_cases, d->dims, d->n_classes);
            CHECK(d->min_len == sets[s].min_len[k] && d->max_len == sets[s].max_len[k] &&
                  d->equal_length == sets[s].equal && d->n_missing == 0,
                  "%s: lengths %d..%d, equal %d, missing %ld", path, d->min_len, d->max_len, d->equal_length,
                  d->n_missing);
            CHECK(strcmp(d->labels[0], sets[s].first_label) == 0 &&
                  strcmp(d->labels[d->n_classes - 1], sets[s].last_label) == 0, "%s: labels %s .. %s", path,
                  d->labels[0], d->labels[d->n_classes - 1]);
            for (int i = 0; i < d->n_cases; i++)
                if (d->y[i] < 32) seen[d->y[i]] = 1;
            for (int c = 0; c < d->n_classes && c < 32; c++) all_seen &= seen[c];
            CHECK(all_seen, "%s: every class has a case", path);
            if (s == 0 && k == 0)   /* first case "0.074236,...:2.5586,...:...:21.0", last value -0.00903 */
                CHECK(at(d, 0, 0, 0) == 0.074236f && at(d, 0, 0, 1) == 2.5586f &&
                      strcmp(d->labels[d->y[0]], "21.0") == 0 && at(d, 149, 151, 2) == -0.00903f &&
                      strcmp(d->labels[d->y[149]], "16.0") == 0, "Handwriting_TRAIN values");
            if (s == 1 && k == 1)   /* first case 1.635533 / 0.024848, label 1; last: 11 steps, label 9 */
                CHECK(at(d, 0, 0, 0) == 1.635533f && at(d, 0, 0, 1) == 0.024848f && d->y[0] == 0 &&
                      d->len[369] == 11 && at(d, 369, 10, 11) == 0.224688f && d->y[369] == 8,
                      "JapaneseVowels_TEST values");
            if (s == 5 && k == 1)
                CHECK(at(d, 0, 0, 0) == 0.1f && at(d, 0, 0, 1) == -0.08f && d->y[0] == 0 &&
                      at(d, 14, 2499, 3) == -4.56f && d->y[14] == 2, "StandWalkJump_TEST values");
            aaren_uea_free(d);
        }
    }
    if (!found) printf("test_uea: real-data checks SKIPPED: no classification data found\n");
}

int main(void) {
    static const char *const names[] = { "Equal_TRAIN.ts", "Var.ts", "Miss.ts", "Fingers.ts", "Crlf_TEST.ts",
                                         "Uni.ts", "Uni2.ts", "Long.ts", "Wide.ts", "badlist.ts", "Labels.ts", "Bom.ts" };
    if (!check_tmp_dir()) return check_skip("test_uea", "cannot create a temporary directory under /tmp");
    test_equal_length();
    test_unequal_length();
    test_missing();
    test_string_labels();
    test_crlf_comments();
    test_univariate();
    test_long_lines();
    test_bom_cr();
    test_many_labels();
    test_malformed();
    test_no_crash();
    test_real();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) remove(check_tmp_path(names[i]));
    for (int i = 0; i < 64; i++) {
        char name[16];
        snprintf(name, sizeof name, "bad%02d.ts", i);
        remove(check_tmp_path(name));
    }
    check_tmp_cleanup();
    return check_done("test_uea");
}
