/* Option parsing, error reporting and input loading shared by the commands. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"

/* The list's own copy of s (so stored keys outlive argv parsing), or NULL. */
static const char *in_list(const char *const *list, const char *s) {
    for (; list && *list; list++) if (!strcmp(*list, s)) return *list;
    return NULL;
}

int cli_fail(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "aaren %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int cli_parse(cli_args *a, const char *cmd, int argc, char **argv, const char *const *valued,
              const char *const *flags) {
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
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
            a->val[a->n++] = "1";
        } else {
            cli_fail(cmd, "unknown option '%s' (see 'aaren %s --help')", s, cmd);
            return -1;
        }
    }
    return 0;
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
    fprintf(stderr, "aaren %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (--allow-nonfinite writes non-finite values)\n", stderr);
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
    if (arch && !strcmp(arch, "transformer")) c->arch = AAREN_ARCH_TRANSFORMER;
    else if (arch && strcmp(arch, "aaren")) return cli_fail(a->cmd, "--arch '%s': expected aaren or transformer", arch), -1;
    if (norm && !strcmp(norm, "pre")) c->norm = AAREN_NORM_PRE;
    else if (norm && strcmp(norm, "post")) return cli_fail(a->cmd, "--norm '%s': expected post or pre", norm), -1;
    if (act && !strcmp(act, "relu")) c->activation = AAREN_RELU;
    else if (act && strcmp(act, "gelu")) return cli_fail(a->cmd, "--activation '%s': expected gelu or relu", act), -1;
    char err[256];
    if (aaren_config_check(c, err, sizeof err)) return cli_fail(a->cmd, "%s", err), -1;
    return 0;
}

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cli_append_row(const char *path, char *err, size_t errlen, const char *header, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *row = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!row) return snprintf(err, errlen, "%s: out of memory", path), -1;
    va_start(ap, fmt);
    vsnprintf(row, (size_t)n + 1, fmt, ap);
    va_end(ap);
    const int rc = aaren_append_text(path, header, row, err, errlen);
    free(row);
    return rc;
}

extern char **environ;

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

pid_t cli_spawn(char *const argv[], int *out_fd) {
    int p[2] = {-1, -1};
    pid_t pid;
    posix_spawn_file_actions_t fa;
    if (out_fd && pipe(p) != 0) return -1;
    posix_spawn_file_actions_init(&fa);
    if (out_fd) {   /* the child's stdout and stderr into the pipe */
        posix_spawn_file_actions_adddup2(&fa, p[1], 1);
        posix_spawn_file_actions_adddup2(&fa, p[1], 2);
        posix_spawn_file_actions_addclose(&fa, p[0]);
        posix_spawn_file_actions_addclose(&fa, p[1]);
    }
    fflush(stdout);
    fflush(stderr);
    const int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (out_fd) {
        close(p[1]);
        if (e) close(p[0]);
        else *out_fd = p[0];
    }
    return e ? -1 : pid;
}

int cli_wait(pid_t pid) {
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
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
    const pid_t pid = cli_spawn(argv, NULL);
    const int code = pid < 0 ? -1 : cli_wait(pid);
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
