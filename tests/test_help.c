/* The defaults that `aaren CMD --help` prints are those of the task's options initialiser:
 * each training command's help is read from the tool (AAREN_CLI, set by CMake) and every
 * "--option [value" in it is compared with the field the initialiser sets. A literal default
 * left in a help text, or an initialiser changed without its help, fails here. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "aaren.h"
#include "data/d4rl.h"
#include "data/events.h"
#include "tasks/classify.h"
#include "tasks/dt.h"
#include "tasks/forecast.h"
#include "tasks/synthetic.h"
#include "tasks/tpp.h"

extern char **environ;

/* The tool's stdout for argv (argv[0] is replaced by the tool's path) into a static buffer;
 * NULL when it cannot run or exits non-zero. */
static const char *run_help(const char *tool, char **argv) {
    static char out[1 << 16];
    int fd[2];
    if (pipe(fd)) return NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    argv[0] = (char *)tool;
    pid_t pid;
    const int rc = posix_spawn(&pid, tool, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    size_t n = 0;
    ssize_t k;
    while (rc == 0 && n + 1 < sizeof out && (k = read(fd[0], out + n, sizeof out - 1 - n)) > 0) n += (size_t)k;
    close(fd[0]);
    out[n] = 0;
    int status = 0;
    if (rc != 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return NULL;
    return out;
}

/* The default shown for --key: after "--key", before the next option, the first "[" or
 * "(default" (white space, line breaks included, skipped after it), the text up to ',', ';',
 * ' ', ']' or ')'; into buf. 0 when found. */
static int shown_default(const char *help, const char *key, char *buf, size_t cap) {
    char opt[64];
    snprintf(opt, sizeof opt, "--%s", key);
    for (const char *p = strstr(help, opt); p; p = strstr(p + 1, opt)) {
        const char *q = p + strlen(opt);
        if (*q != ' ') continue;   /* another option that starts the same */
        const char *next = strstr(q, "--"), *b = strchr(q, '['), *d = strstr(q, "(default");
        if (b && next && b > next) b = NULL;
        if (d && next && d > next) d = NULL;
        const char *v = b && (!d || b < d) ? b + 1 : d ? d + 8 : NULL;
        if (!v) continue;
        while (*v == ' ' || *v == '\n') v++;
        const size_t len = strcspn(v, ",; ])\n");
        if (len == 0 || len >= cap || !isalnum((unsigned char)*v)) continue;
        memcpy(buf, v, len);
        buf[len] = 0;
        return 0;
    }
    return -1;
}

typedef struct {
    const char *cmd;
    const char *help;
} help_of;

static void expect_num(const help_of *h, const char *key, double want) {
    char got[80];
    if (shown_default(h->help, key, got, sizeof got)) {
        CHECK(0, "aaren %s --help shows no default for --%s (the initialiser's is %g)", h->cmd, key, want);
        return;
    }
    char *end;
    const double v = strtod(got, &end);
    CHECK(*end == 0 && fabs(v - want) <= 1e-6 * fabs(want), "aaren %s --help: --%s [%s], the initialiser's default is %g",
          h->cmd, key, got, want);
}

static void expect_str(const help_of *h, const char *key, const char *want) {
    char got[80];
    if (shown_default(h->help, key, got, sizeof got)) {
        CHECK(0, "aaren %s --help shows no default for --%s (the initialiser's is %s)", h->cmd, key, want);
        return;
    }
    CHECK(!strcmp(got, want), "aaren %s --help: --%s [%s], the initialiser's default is %s", h->cmd, key, got, want);
}

static void expect_config(const help_of *h, const aaren_config *c) {
    expect_str(h, "arch", aaren_arch_name(c->arch));
    expect_num(h, "d-model", c->d_model);
    expect_num(h, "n-heads", c->n_heads);
    expect_num(h, "n-layers", c->n_layers);
    expect_num(h, "d-ff", c->d_ff);
    expect_str(h, "norm", aaren_norm_name(c->norm));
    expect_str(h, "activation", aaren_activation_name(c->activation));
}

/* The help of one command, checked for placeholders left unfilled. */
static help_of get_help(const char *tool, const char *cmd, const char *sub) {
    char *argv[] = {NULL, (char *)cmd, (char *)sub, sub ? "--help" : NULL, NULL};
    if (!sub) argv[2] = "--help";
    help_of h = {cmd, run_help(tool, argv)};
    CHECK(h.help != NULL, "aaren %s%s%s --help did not run", cmd, sub ? " " : "", sub ? sub : "");
    if (!h.help) h.help = "";
    CHECK(!strstr(h.help, "{?"), "aaren %s --help names a default it does not have: %s", cmd, strstr(h.help, "{?"));
    return h;
}

int main(void) {
    const char *tool = getenv("AAREN_CLI");
    if (!tool || access(tool, X_OK)) return check_skip("test_help", "AAREN_CLI does not name the tool");

    /* the checker itself: it finds a bracketed default and refuses a literal that differs */
    const help_of fake = {"fake", "  --epochs N [12]  --lr X [0.5, constant]\n  --max-memory MB  memory (default\n   7)\n"
                                  "  --max-len N  steps per case [20]\n  --arch A] [--batch B]\n"};
    char got[80];
    CHECK(!shown_default(fake.help, "epochs", got, sizeof got) && !strcmp(got, "12"), "checker: --epochs");
    CHECK(!shown_default(fake.help, "lr", got, sizeof got) && !strcmp(got, "0.5"), "checker: --lr");
    CHECK(!shown_default(fake.help, "max-memory", got, sizeof got) && !strcmp(got, "7"), "checker: --max-memory");
    CHECK(!shown_default(fake.help, "max-len", got, sizeof got) && !strcmp(got, "20"), "checker: --max-len");
    CHECK(shown_default(fake.help, "arch", got, sizeof got), "checker: a usage line shows no default");
    CHECK(shown_default(fake.help, "batch", got, sizeof got), "checker: an option without one has no default");
    CHECK(shown_default(fake.help, "seed", got, sizeof got), "checker: an absent option has no default");

    {
        aaren_forecast_options o;
        aaren_forecast_options_init(&o);
        const help_of h = get_help(tool, "forecast", NULL);
        static const char *const feat[] = {"M", "S", "MS"};
        expect_num(&h, "seq-len", o.ts.seq_len);
        expect_num(&h, "pred-len", o.ts.pred_len);
        expect_str(&h, "features", feat[o.ts.features]);
        expect_str(&h, "target", o.ts.target ? o.ts.target : "OT");
        expect_config(&h, &o.enc);
        expect_num(&h, "epochs", o.epochs);
        expect_num(&h, "patience", o.patience);
        expect_num(&h, "steps-per-epoch", (double)o.steps_per_epoch);
        expect_num(&h, "batch", o.batch);
        expect_num(&h, "lr", o.lr);
        expect_num(&h, "dropout", o.dropout);
        expect_num(&h, "seed", (double)o.seed);
    }
    {
        aaren_classify_options o;
        aaren_classify_options_init(&o);
        const help_of h = get_help(tool, "classify", NULL);
        expect_config(&h, &o.enc);
        expect_num(&h, "max-classes", o.limits.max_classes);
        expect_num(&h, "max-len", (double)o.limits.max_len);
        expect_num(&h, "epochs", o.epochs);
        expect_num(&h, "patience", o.patience);
        expect_num(&h, "batch", o.batch);
        expect_num(&h, "lr", o.lr);
        expect_num(&h, "dropout", o.dropout);
        expect_num(&h, "clip", o.clip);
        expect_num(&h, "val-frac", o.val_frac);
        expect_num(&h, "seed", (double)o.seed);
    }
    {
        aaren_tpp_options o;
        aaren_events_options eo;
        aaren_sin_options so;
        aaren_tpp_options_init(&o);
        aaren_events_options_init(&eo);
        aaren_sin_options_init(&so);
        const help_of h = get_help(tool, "events", NULL);
        expect_num(&h, "train-frac", eo.train_frac);
        expect_num(&h, "val-frac", eo.val_frac);
        expect_num(&h, "max-marks", eo.max_marks);
        expect_num(&h, "max-seq-len", (double)eo.max_seq_len);
        expect_num(&h, "sin-seqs", so.n_seq);
        expect_num(&h, "sin-seed", (double)so.seed);
        expect_config(&h, &o.enc);
        expect_num(&h, "components", o.K);
        expect_num(&h, "epochs", o.epochs);
        expect_num(&h, "patience", o.patience);
        expect_num(&h, "batch", o.batch);
        expect_num(&h, "lr", o.lr);
        expect_num(&h, "dropout", o.dropout);
        expect_num(&h, "clip", o.clip);
        expect_num(&h, "seed", (double)o.seed);
    }
    {
        aaren_synth_options o;
        aaren_synth_options_init(&o);
        const help_of h = get_help(tool, "train", NULL);
        static const char *const sched[] = {"constant", "cosine", "step"};   /* AAREN_SCHED_* */
        expect_config(&h, &o.cfg);
        expect_num(&h, "steps", (double)o.steps);
        expect_num(&h, "batch", o.batch);
        expect_num(&h, "tokens", o.tokens);
        expect_num(&h, "seed", (double)o.seed);
        expect_num(&h, "lr", o.opt.lr);
        expect_num(&h, "warmup", (double)o.opt.warmup_steps);
        expect_str(&h, "schedule", sched[o.opt.schedule]);
        expect_num(&h, "weight-decay", o.opt.weight_decay);
        expect_num(&h, "clip", o.opt.clip_norm);
        expect_num(&h, "dropout", o.dropout);
    }
    {
        aaren_dt_options o;
        aaren_dt_options_init(&o);
        const aaren_d4rl_limits lim = aaren_d4rl_limits_default();
        const help_of h = get_help(tool, "rl", "train");
        expect_num(&h, "steps", (double)o.steps);
        expect_num(&h, "batch", o.batch);
        expect_num(&h, "K", o.K);
        expect_num(&h, "lr", o.lr);
        expect_num(&h, "weight-decay", o.weight_decay);
        expect_num(&h, "warmup", (double)o.warmup);
        expect_num(&h, "clip", o.clip);
        expect_num(&h, "dropout", o.dropout);
        expect_num(&h, "rtg-scale", o.rtg_scale);
        expect_config(&h, &o.enc);
        expect_num(&h, "seed", (double)o.seed);
        expect_num(&h, "max-memory", lim.max_mb);
        expect_num(&h, "read-timeout", lim.timeout_s);
        const help_of hi = get_help(tool, "rl", "info");
        expect_num(&hi, "max-memory", lim.max_mb);
        expect_num(&hi, "read-timeout", lim.timeout_s);
    }
    return check_done("test_help");
}
