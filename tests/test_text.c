/* The text helpers shared by the data loaders: the decimal number grammar (what is a number,
 * what is refused and why; the byte after the span is put back) and the line reader (blank
 * lines skipped, CR LF and LF ends, line numbers in messages, NUL bytes refused). */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "data/text.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void test_numbers(void) {
    static const struct { const char *s; aaren_num rc; double v; } cases[] = {
        { "0", AAREN_NUM_OK, 0 },         { "-2.5", AAREN_NUM_OK, -2.5 },  { "+.5", AAREN_NUM_OK, 0.5 },
        { "5.", AAREN_NUM_OK, 5 },        { "1e3", AAREN_NUM_OK, 1000 },   { "-1.5E-2", AAREN_NUM_OK, -0.015 },
        { "1e-999", AAREN_NUM_OK, 0 },    { "", AAREN_NUM_EMPTY, 0 },      { ".", AAREN_NUM_BAD, 0 },
        { "-", AAREN_NUM_BAD, 0 },        { "1e", AAREN_NUM_BAD, 0 },      { "1e+", AAREN_NUM_BAD, 0 },
        { "e5", AAREN_NUM_BAD, 0 },       { "1.2.3", AAREN_NUM_BAD, 0 },   { "0x10", AAREN_NUM_BAD, 0 },
        { "1 2", AAREN_NUM_BAD, 0 },      { " 1", AAREN_NUM_BAD, 0 },      { "--1", AAREN_NUM_BAD, 0 },
        { "nan", AAREN_NUM_NANINF, 0 },   { "-Inf", AAREN_NUM_NANINF, 0 }, { "+INFINITY", AAREN_NUM_NANINF, 0 },
        { "nanx", AAREN_NUM_BAD, 0 },     { "1e999", AAREN_NUM_HUGE, 0 },  { "-1e400", AAREN_NUM_HUGE, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        const size_t n = strlen(cases[i].s);
        double v = -7;
        aaren_num rc;
        /* the span is followed by digits: the parser must stop at b and put the byte back */
        snprintf(buf, sizeof buf, "%s99", cases[i].s);
        rc = aaren_text_number(buf, 0, n, &v);
        CHECK(rc == cases[i].rc, "'%s': code %d, expected %d", cases[i].s, (int)rc, (int)cases[i].rc);
        if (cases[i].rc == AAREN_NUM_OK)
            CHECK(v == cases[i].v, "'%s' read as %.17g, expected %.17g", cases[i].s, v, cases[i].v);
        else
            CHECK(v == -7, "'%s' refused but wrote %g", cases[i].s, v);
        CHECK(buf[n] == '9' && strlen(buf) == n + 2, "'%s': byte after the span not put back", cases[i].s);
    }
    {   /* a span in the middle of a line */
        char line[] = "a,12.25,b";
        double v = 0;
        CHECK(aaren_text_number(line, 2, 7, &v) == AAREN_NUM_OK && v == 12.25, "mid-line span: %g", v);
        CHECK(strcmp(line, "a,12.25,b") == 0, "mid-line span changed the line: %s", line);
    }
}

/* Reads text as lines and compares them with want[0..k) and their numbers. */
static void expect_lines(const char *label, const char *text, const char *const *want, const long *want_line, int k_want) {
    const char *path = check_write_text("lines.txt", text);
    char err[256] = "", *s;
    size_t n;
    aaren_lines r;
    int k = 0, got;
    if (!path) return;
    CHECK(aaren_lines_open(&r, path, err, sizeof err) == 0, "open: %s", err);
    while ((got = aaren_lines_next(&r, &s, &n)) == 1) {
        if (k < k_want) {
            CHECK(n == strlen(want[k]) && strcmp(s, want[k]) == 0, "%s: line %d: '%s'", label, k, s);
            CHECK(r.line == want_line[k], "%s: line %d numbered %ld, expected %ld", label, k, r.line, want_line[k]);
        }
        k++;
    }
    CHECK(got == 0 && k == k_want, "%s: read %d lines, last code %d", label, k, got);
    CHECK(aaren_lines_fail(&r, "bad %s", "thing") == -1, "fail returns -1");
    char where[64];
    snprintf(where, sizeof where, "lines.txt: line %ld: bad thing", want_line[k_want - 1]);
    CHECK(strstr(err, where) != NULL, "%s: message: %s", label, err);
    aaren_lines_close(&r);
    remove(path);
}

static void test_lines(void) {
    const char *want[] = { "first", "second line", "third" };
    expect_lines("LF and CRLF", "first\r\n\n   \t\nsecond line\nthird", want, (const long[]){ 1, 4, 5 }, 3);
    expect_lines("CR only", "first\r\r   \rsecond line\rthird\r", want, (const long[]){ 1, 4, 5 }, 3);
    expect_lines("mixed", "first\rsecond line\r\n\nthird", want, (const long[]){ 1, 2, 4 }, 3);
    expect_lines("a byte-order mark", "\xEF\xBB\xBF" "first\nsecond line\nthird\n", want, (const long[]){ 1, 2, 3 }, 3);
    const char *bom_later[] = { "first", "\xEF\xBB\xBFsecond line" };
    expect_lines("a byte-order mark later is data", "first\n\xEF\xBB\xBFsecond line\n", bom_later, (const long[]){ 1, 2 }, 2);
    char err[256] = "", *s;
    size_t n;
    aaren_lines r;
    const char *path;

    path = check_write_bytes("nul.txt", "ok\nab\0cd\n", 9);
    if (!path) return;
    CHECK(aaren_lines_open(&r, path, err, sizeof err) == 0, "open: %s", err);
    CHECK(aaren_lines_next(&r, &s, &n) == 1, "first line of nul.txt");
    CHECK(aaren_lines_next(&r, &s, &n) == -1, "NUL byte accepted");
    CHECK(strstr(err, "line 2: NUL byte") != NULL, "message: %s", err);
    aaren_lines_close(&r);
    remove(path);

    CHECK(aaren_lines_open(&r, "/nonexistent/aaren/x.txt", err, sizeof err) == -1, "opened a missing file");
    CHECK(strstr(err, "/nonexistent/aaren/x.txt: cannot open") != NULL, "message: %s", err);
}

int main(void) {
    test_numbers();
    test_lines();
    check_tmp_cleanup();
    return check_done("test_text");
}
