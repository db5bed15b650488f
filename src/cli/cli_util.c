/* Option parsing, error reporting and input loading shared by the commands. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

/* The list's own copy of s (so stored keys outlive argv parsing), or NULL. */
static const char *in_list(const char *const *list, const char *s) {
    for (; list && *list; list++) if (!strcmp(*list, s)) return *list;
    return NULL;
}

static const char *last_options;   /* the options text of this run (cli_options_text), for results rows */

/* "aaren CMD: message<tail>" on stderr. */
static void vfail(const char *cmd, const char *tail, const char *fmt, va_list ap) {
    fprintf(stderr, "aaren %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputs(tail, stderr);
}

int cli_fail(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(cmd, "\n", fmt, ap);
    va_end(ap);
    return 1;
}

/* Adds argv's options and arguments to a. */
static int parse_tokens(cli_args *a, const char *cmd, int argc, char **argv, const char *const *valued,
                        const char *const *flags) {
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) return 1;
        if (strncmp(s, "--", 2)) {
            if (a->n_positional == 4) { cli_fail(cmd, "too many arguments ('%s')", s); return -1; }
            a->positional[a->n_positional++] = s;
            continue;
        }
        const char *key = s + 2;
        const char *eq = strchr(key, '=');
        char name[64];
        size_t len = eq ? (size_t)(eq - key) : strlen(key);
        if (len >= sizeof name) len = sizeof name - 1;
        memcpy(name, key, len);
        name[len] = 0;
        if (a->n == CLI_MAX_OPTS) { cli_fail(cmd, "too many options"); return -1; }
        const char *k;
        if ((k = in_list(valued, name))) {
            const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) { cli_fail(cmd, "option --%s needs a value (see 'aaren %s --help')", name, cmd); return -1; }
            a->key[a->n] = k;
            a->val[a->n++] = v;
        } else if ((k = in_list(flags, name)) && !eq) {
            a->key[a->n] = k;
            a->is_flag[a->n] = 1;
            a->val[a->n++] = "1";
        } else {
            cli_fail(cmd, "unknown option '%s' (see 'aaren %s --help')", s, cmd);
            return -1;
        }
    }
    return 0;
}

enum { CONFIG_BYTES = 1 << 16, CONFIG_TOKENS = 2 * CLI_MAX_OPTS };
static char config_text[CONFIG_BYTES];
static char *config_argv[CONFIG_TOKENS];

/* The lines of a --config file as tokens: "--key value" (the value is the rest of the line,
 * trimmed) or "--flag"; blank lines and lines starting with '#' are skipped. */
static int read_config(const char *cmd, const char *path, int *n_tokens) {
    FILE *f = fopen(path, "rb");
    if (!f) return cli_fail(cmd, "--config %s: cannot open: %s", path, strerror(errno)), -1;
    const size_t n = fread(config_text, 1, CONFIG_BYTES - 1, f);
    const int big = !feof(f);
    fclose(f);
    if (big) return cli_fail(cmd, "--config %s: larger than %d bytes", path, CONFIG_BYTES - 1), -1;
    config_text[n] = '\0';
    if (memchr(config_text, '\0', n)) return cli_fail(cmd, "--config %s: a NUL byte in the file", path), -1;
    int k = 0, line = 0;
    for (char *p = config_text; *p;) {
        char *end = p + strcspn(p, "\r\n");
        const int last = *end == '\0';
        *end = '\0';
        line++;
        while (*p == ' ' || *p == '\t') p++;
        char *q = p + strlen(p);
        while (q > p && (q[-1] == ' ' || q[-1] == '\t')) *--q = '\0';
        if (*p && *p != '#') {
            if (strncmp(p, "--", 2) || !p[2])
                return cli_fail(cmd, "--config %s: line %d: expected '--option value' or '--flag', got '%.60s'", path, line, p), -1;
            if (k + 2 > CONFIG_TOKENS) return cli_fail(cmd, "--config %s: more than %d options", path, CONFIG_TOKENS / 2), -1;
            char *v = p + strcspn(p, " \t");
            config_argv[k++] = p;
            if (*v) {
                *v++ = '\0';
                while (*v == ' ' || *v == '\t') v++;
                if (!strcmp(p, "--config")) return cli_fail(cmd, "--config %s: line %d: a config file cannot name another", path, line), -1;
                config_argv[k++] = v;
            }
        }
        p = last ? end : end + 1;
    }
    *n_tokens = k;
    return 0;
}

int cli_parse(cli_args *a, const char *cmd, int argc, char **argv, const char *const *valued,
              const char *const *flags) {
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    const char *config = NULL;
    if (in_list(valued, "config"))   /* the config file first: the command line overrides it */
        for (int i = 0; i < argc; i++) {
            if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
            if (!strcmp(argv[i], "--config") && i + 1 < argc) config = argv[i + 1];
            else if (!strncmp(argv[i], "--config=", 9)) config = argv[i] + 9;
        }
    if (config) {
        int k = 0;
        if (read_config(cmd, config, &k)) return -1;
        const int rc = parse_tokens(a, cmd, k, config_argv, valued, flags);
        if (rc) return rc;
        if (a->n_positional) return cli_fail(cmd, "--config %s: holds an argument that is not an option", config), -1;
    }
    return parse_tokens(a, cmd, argc, argv, valued, flags);
}

const char *cli_get(const cli_args *a, const char *key) {
    const char *v = NULL;
    for (int i = 0; i < a->n; i++) if (!strcmp(a->key[i], key)) v = a->val[i];
    return v;
}

int cli_flag(const cli_args *a, const char *key) { return cli_get(a, key) != NULL; }

const char *cli_need(const cli_args *a, const char *key) {
    const char *v = cli_get(a, key);
    if (!v) cli_fail(a->cmd, "missing --%s (see 'aaren %s --help')", key, a->cmd);
    return v;
}

int cli_int(const cli_args *a, const char *key, long dflt, long lo, long hi, long *out) {
    const char *v = cli_get(a, key);
    if (!v) { *out = dflt; return 0; }
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < lo || x > hi) {
        cli_fail(a->cmd, "--%s '%s' must be an integer from %ld to %ld", key, v, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

int cli_double(const cli_args *a, const char *key, double dflt, double lo, double hi, double *out) {
    const char *v = cli_get(a, key);
    if (!v) { *out = dflt; return 0; }
    char *end;
    const double x = strtod(v, &end);
    if (end == v || *end || !(x >= lo && x <= hi)) {
        cli_fail(a->cmd, "--%s '%s' must be a number from %g to %g", key, v, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

int cli_float(const cli_args *a, const char *key, float dflt, float lo, float hi, float *out) {
    double x;
    if (cli_double(a, key, dflt, lo, hi, &x)) return -1;
    *out = (float)x;
    return 0;
}

int cli_load_tokens(const char *cmd, const char *path, int d_model, const char *model_path,
                    aaren_array *x, int *B, int *N) {
    char err[512];
    if (aaren_npy_read(path, x, err, sizeof err)) { cli_fail(cmd, "%s", err); return -1; }
    char shape[128] = "[";
    for (int d = 0, k = 1; d < x->ndim && k < 100; d++)
        k += snprintf(shape + k, sizeof shape - k, "%s%lld", d ? ", " : "", (long long)x->shape[d]);
    strcat(shape, "]");
    if (x->ndim != 2 && x->ndim != 3) {
        cli_fail(cmd, "%s: shape %s; expected [N, d_model] or [B, N, d_model] with d_model %d", path, shape, d_model);
        goto fail;
    }
    if (x->shape[x->ndim - 1] != d_model) {
        cli_fail(cmd, "%s: shape %s does not match the model %s: its last dimension must be d_model = %d",
                 path, shape, model_path, d_model);
        goto fail;
    }
    *B = x->ndim == 3 ? (int)x->shape[0] : 1;
    *N = (int)x->shape[x->ndim - 2];
    if (*B < 1 || *N < 1 || x->shape[0] > 1000000000 || x->shape[x->ndim - 2] > 1000000000) {
        cli_fail(cmd, "%s: shape %s holds no tokens (or too many); need at least one token", path, shape);
        goto fail;
    }
    for (int64_t i = 0; i < x->numel; i++) {
        if (!isfinite(x->data[i])) {
            cli_fail(cmd, "%s: non-finite value %g at flat index %lld", path, (double)x->data[i], (long long)i);
            goto fail;
        }
    }
    return 0;
fail:
    aaren_array_free(x);
    return -1;
}

long cli_first_nonfinite(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return (long)i;
    return -1;
}

const char *cli_nonfinite_name(double v) { return isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"; }

int cli_fail_nonfinite(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(cmd, " (--allow-nonfinite writes non-finite values)\n", fmt, ap);
    va_end(ap);
    return 1;
}

int cli_check_tokens(const char *cmd, const char *path, const char *what, const float *y, int ndim, int B, int N, int D,
                     int allow) {
    const long i = allow ? -1 : cli_first_nonfinite(y, (size_t)B * N * D);
    if (i < 0) return 0;
    const long row = i / D, col = i % D;
    if (ndim == 3)
        cli_fail_nonfinite(cmd, "%s not written: %s row %ld (batch %ld, token %ld), column %ld is %s", path, what, row,
                           row / N, row % N, col, cli_nonfinite_name(y[i]));
    else
        cli_fail_nonfinite(cmd, "%s not written: %s row %ld, column %ld is %s", path, what, row, col,
                           cli_nonfinite_name(y[i]));
    return -1;
}

/* Fills a config from --arch/--d-model/... options; returns -1 after printing an error. */
int cli_config(const cli_args *a, const aaren_config *dflt, aaren_config *c) {
    long v[4];
    const char *keys[4] = {"d-model", "n-heads", "n-layers", "d-ff"};
    *c = *dflt;
    const long base[4] = {c->d_model, c->n_heads, c->n_layers, c->d_ff};
    for (int i = 0; i < 4; i++)
        if (cli_int(a, keys[i], base[i], 1, i == 2 ? AAREN_MAX_LAYERS : 65536, &v[i])) return -1;
    c->d_model = (int)v[0]; c->n_heads = (int)v[1]; c->n_layers = (int)v[2]; c->d_ff = (int)v[3];
    const char *arch = cli_get(a, "arch"), *norm = cli_get(a, "norm"), *act = cli_get(a, "activation");
    if (arch && (c->arch = aaren_arch_from_name(arch)) < 0)
        return cli_fail(a->cmd, "--arch '%s': expected aaren or transformer", arch), -1;
    if (norm && (c->norm = aaren_norm_from_name(norm)) < 0) return cli_fail(a->cmd, "--norm '%s': expected post or pre", norm), -1;
    if (act && (c->activation = aaren_activation_from_name(act)) < 0)
        return cli_fail(a->cmd, "--activation '%s': expected gelu or relu", act), -1;
    char err[256];
    if (aaren_config_check(c, err, sizeof err)) return cli_fail(a->cmd, "%s", err), -1;
    return 0;
}

void cli_default(cli_defaults *d, const char *key, const char *fmt, ...) {
    if (d->n == CLI_MAX_DEFAULTS) return;   /* the key then prints as {?key} */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->val[d->n], sizeof d->val[0], fmt, ap);
    va_end(ap);
    d->key[d->n++] = key;
}

void cli_default_config(cli_defaults *d, const aaren_config *c) {
    cli_default(d, "arch", "%s", aaren_arch_name(c->arch));
    cli_default(d, "d-model", "%d", c->d_model);
    cli_default(d, "n-heads", "%d", c->n_heads);
    cli_default(d, "n-layers", "%d", c->n_layers);
    cli_default(d, "d-ff", "%d", c->d_ff);
    cli_default(d, "norm", "%s", aaren_norm_name(c->norm));
    cli_default(d, "activation", "%s", aaren_activation_name(c->activation));
}

/* A placeholder: '{', then letters, digits and '-', then '}' (other braces print as they are). */
static size_t placeholder_len(const char *open) {
    const size_t len = strspn(open + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
    return len > 0 && open[1 + len] == '}' ? len : 0;
}

void cli_default_run(cli_defaults *d, int epochs, int patience, int batch, float lr, float dropout, uint64_t seed) {
    cli_default(d, "epochs", "%d", epochs);
    cli_default(d, "patience", "%d", patience);
    cli_default(d, "batch", "%d", batch);
    cli_default(d, "lr", "%g", (double)lr);
    cli_default(d, "dropout", "%g", (double)dropout);
    cli_default(d, "seed", "%llu", (unsigned long long)seed);
}

void cli_print_help(const char *text, const cli_defaults *d) {
    for (const char *s = text; *s;) {
        const char *open = strchr(s, '{');
        while (open && !placeholder_len(open)) open = strchr(open + 1, '{');
        if (!open) {
            fputs(s, stdout);
            break;
        }
        fwrite(s, 1, (size_t)(open - s), stdout);
        const size_t len = placeholder_len(open);
        const char *close = open + 1 + len;
        int found = -1;
        for (int i = 0; i < d->n && found < 0; i++)
            if (strlen(d->key[i]) == len && !strncmp(d->key[i], open + 1, len)) found = i;
        if (found >= 0) fputs(d->val[found], stdout);
        else printf("{?%.*s}", (int)len, open + 1);
        s = close + 1;
    }
}

int cli_append_row(const char *path, char *err, size_t errlen, const char *header, const char *fmt, ...) {
    if (aaren_dist_rank() != 0) return 0;   /* one row per run, from rank 0 */
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *row = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!row) return snprintf(err, errlen, "%s: out of memory", path), -1;
    va_start(ap, fmt);
    vsnprintf(row, (size_t)n + 1, fmt, ap);
    va_end(ap);
    /* the options in force as a last column "options" (a command line that reruns the row), in
     * files that are new or already have that column; an older file keeps its layout */
    char *head = NULL, *full = NULL, line[8192] = "";
    FILE *old = fopen(path, "r");
    if (old) {
        if (!fgets(line, sizeof line, old)) line[0] = '\0';
        fclose(old);
    }
    const size_t hl = strcspn(line, "\r\n");
    const int with = last_options && (!line[0] || (hl >= 8 && !strncmp(line + hl - 8, ",options", 8)));
    if (with && n > 0 && row[n - 1] == '\n' && (head = malloc(strlen(header) + 16)) && (full = malloc((size_t)n + 3 * 8192))) {
        snprintf(head, strlen(header) + 16, "%.*s,options\n", (int)strcspn(header, "\n"), header);
        size_t at = (size_t)snprintf(full, (size_t)n + 3 * 8192, "%.*s,\"", n - 1, row);
        /* "--k v\n--flag\n" -> --k v --flag: a value with a space or a quote in single quotes for
         * a shell ('\\'' inside), then the whole field CSV-quoted ("" inside) */
        for (const char *p = last_options; *p;) {
            const size_t len = strcspn(p, "\n"), key = strcspn(p, " \n");
            const int quote = key < len && strcspn(p + key + 1, " '\"") < len - key - 1;
            if (p != last_options) full[at++] = ' ';
            for (size_t i = 0; i < len; i++) {
                const char c = p[i];
                if (quote && i == key + 1) full[at++] = '\'';
                if (quote && c == '\'' && i > key) { memcpy(full + at, "'\\''", 4); at += 4; continue; }
                if (c == '"') full[at++] = '"';
                full[at++] = c;
            }
            if (quote) full[at++] = '\'';
            p += len + (p[len] == '\n');
        }
        at += (size_t)snprintf(full + at, 4, "\"\n");
    }
    const int rc = aaren_append_text(path, head && full ? head : header, head && full ? full : row, err, errlen);
    free(row);
    free(head);
    free(full);
    return rc;
}

const char *cli_python_dir(const char *given, const char *script, char *buf, size_t len) {
    char exe[1024], f[1200];
    const char *rel[] = {"../share/aaren/python", "../python"};
    if (given) {
        snprintf(f, sizeof f, "%s/%s", given, script);
        return access(f, R_OK) ? NULL : (snprintf(buf, len, "%s", given), buf);
    }
    const ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k <= 0) return NULL;
    exe[k] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return NULL;
    *slash = 0;
    for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
        snprintf(f, sizeof f, "%s/%s/%s", exe, rel[i], script);
        if (!access(f, R_OK)) {
            snprintf(buf, len, "%s/%s", exe, rel[i]);
            return buf;
        }
    }
    return NULL;
}

int cli_run_python(const char *cmd, const char *script, const char *const *args) {
    char dir[1100], path[1300];
    char *argv[16];
    int n = 0;
    if (access(CLI_PYTHON, X_OK)) {
        fprintf(stderr, "aaren %s: %s not found; skipped %s\n", cmd, CLI_PYTHON, script);
        return -1;
    }
    if (!cli_python_dir(NULL, script, dir, sizeof dir)) {
        fprintf(stderr, "aaren %s: %s not found beside the tool (share/aaren/python or python/); skipped\n", cmd, script);
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s", dir, script);
    argv[n++] = (char *)CLI_PYTHON;
    argv[n++] = path;
    for (; args && *args && n < 15; args++) argv[n++] = (char *)*args;
    argv[n] = NULL;
    const pid_t pid = aaren_spawn(argv, NULL);
    const int code = pid < 0 ? -1 : aaren_wait(pid);
    if (code) fprintf(stderr, "aaren %s: %s failed (exit code %d; it needs %s with matplotlib)\n", cmd, script, code, CLI_PYTHON);
    return code;
}

int cli_check_outputs(const cli_args *a, const char *const *outs) {
    for (; *outs; outs++) {
        const char *plus = strchr(*outs, '+');
        char key[64], path[1200], err[1400];
        snprintf(key, sizeof key, "%.*s", plus ? (int)(plus - *outs) : (int)strlen(*outs), *outs);
        const char *v = cli_get(a, key);
        if (!v) continue;
        snprintf(path, sizeof path, "%s%s", v, plus ? plus + 1 : "");
        if (aaren_check_writable(path, err, sizeof err)) {
            cli_fail(a->cmd, "--%s: %s (checked before starting)", key, err);
            return -1;
        }
    }
    return 0;
}

/* Options that say where a run writes, not what it computes: left out of the options text. */
static const char *const io_keys[] = {"save", "save-every", "resume", "log", "stop-after", "config", "results-csv", "quiet",
                                      "plot", "confusion", "predictions", "log-every", NULL};

const char *cli_options_text(const cli_args *a) {
    static char text[8192];
    last_options = text;
    size_t at = 0;
    text[0] = '\0';
    for (int i = 0; i < a->n; i++) {
        if (in_list(io_keys, a->key[i])) continue;
        int later = 0;   /* the last value of a repeated option is the one in force */
        for (int j = i + 1; j < a->n && !later; j++) later = !strcmp(a->key[i], a->key[j]);
        if (later) continue;
        const int n = a->is_flag[i] ? snprintf(text + at, sizeof text - at, "--%s\n", a->key[i])
                                    : snprintf(text + at, sizeof text - at, "--%s %s\n", a->key[i], a->val[i]);
        if (n < 0 || (size_t)n >= sizeof text - at) break;
        at += (size_t)n;
    }
    return text;
}

int cli_fit_io(const cli_args *a, aaren_fit_io *io) {
    long every = 0, stop = 0;
    memset(io, 0, sizeof *io);
    if (cli_int(a, "save-every", 0, 0, 1000000000000L, &every) || cli_int(a, "stop-after", 0, 0, 1000000000000L, &stop))
        return -1;
    long shards;
    if (cli_int(a, "grad-shards", 0, 0, 65536, &shards)) return -1;
    io->grad_shards = (int)shards;
    io->deterministic_reduce = cli_flag(a, "deterministic-reduce");
    io->save_every = every;
    io->stop_after = stop;
    io->save = cli_get(a, "save");
    io->resume = cli_get(a, "resume");
    io->log = cli_get(a, "log");
    io->options = cli_options_text(a);
    io->progress = cli_flag(a, "quiet") ? NULL : stdout;
    if (every && !io->save) return cli_fail(a->cmd, "--save-every needs --save FILE"), -1;
    return 0;
}
