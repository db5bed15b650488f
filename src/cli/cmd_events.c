/* aaren events: train and evaluate a neural temporal point process; stream events. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const long default_max_events = 100000;   /* --max-events: the Transformer stream's KV cache */

static const char *events_help =
    "usage: aaren events --data FILE.csv | --sin [options]          train, evaluate on TEST\n"
    "       aaren events --model M.safetensors --stream [--max-events N]\n"
    "       aaren events --model M.safetensors --data FILE.csv --predict-seq S\n"
    "       aaren events --model M.safetensors --predict FILE.csv --predictions OUT.csv\n\n"
    "A neural temporal point process: each event (mark embedding + THP temporal encoding of\n"
    "its time + its standardised log inter-event time) through the encoder, then a mixture of\n"
    "log-normals over the time to the next event and a categorical over its mark, trained on\n"
    "the NLL of every next event with early stopping on VAL. Prints TEST NLL per event (time\n"
    "and mark parts; time in the file's units), the log-likelihood as THP / EasyTPP report it\n"
    "(log intensity at the events minus the integral of the intensity over each sequence's\n"
    "window, from its first event to its last, or to the horizon for --sin; per event), RMSE of\n"
    "the predicted mean and of the predicted median inter-event time and mark accuracy, beside\n"
    "a homogeneous Poisson process and a Hawkes process (exponential kernel, one process for all\n"
    "marks, maximum likelihood on TRAIN), both with training mark frequencies.\n\n"
    "data:\n"
    "  --data FILE.csv     columns seq_id|sequence|seq, time|arrival_time|time_since_start,\n"
    "                      optional mark|type_event|type and split (train/dev|val/test);\n"
    "                      without split: sequences in file order, --train-frac [{train-frac}] and\n"
    "                      --val-frac [{val-frac}]; --n-marks N checks marks < N [largest + 1]\n"
    "  --max-marks K       marks are dense ids below K [{max-marks}]: a larger mark is an error, not\n"
    "                      a model with millions of outputs\n"
    "  --max-seq-len N     events per sequence at most [{max-seq-len}]\n"
    "  --sin               the synthetic Sin process: intensity 1 + 0.9 sin(2 pi t / 10) on\n"
    "                      [0, 100), --sin-seqs [{sin-seqs}] sequences, --sin-seed [{sin-seed}],\n"
    "                      --random-phase (a phase per sequence)\n"
    "model (same for both architectures; defaults in brackets):\n"
    "  --arch aaren|transformer [{arch}]  --d-model [{d-model}]  --n-heads [{n-heads}]  --n-layers [{n-layers}]\n"
    "  --d-ff [{d-ff}]  --norm post|pre [{norm}]  --activation gelu|relu [{activation}]  --components K [{components}]\n"
    "training:\n"
    "  --epochs N [{epochs}]  --patience N [{patience}]  --batch B [{batch} sequences]  --lr X [{lr}]\n"
    "  --dropout P [{dropout}]  --clip X [{clip}]  --seed S [{seed}]\n"
    "  --tie-marks  the mark head tied to the mark embedding: mark c's logit is E[c] . (T h) + b_c\n"
    "               (T [d_model, d_model] learned) in place of a free output row per mark\n"
    "  --copy-mark  a copy logit: one learned number added to the current event's mark's logit,\n"
    "               starting where it gives that mark TRAIN's repeat rate (tied head or not;\n"
    "               recorded in the results CSV's options column)\n"
    "  --copy-lags L  copy logits on the marks of the last L events (1..64; 1 = --copy-mark): one\n"
    "               learned number per lag added to the logit of that lag's mark, each starting\n"
    "               where it gives its mark TRAIN's rate of a next mark equal to it and to no\n"
    "               more recent one; a stream keeps its last L marks\n"
    "output:\n"
    "  --results-csv F        append one row per run\n"
    "  --quiet                no per-epoch lines\n"
    "prediction (one line per event: index, time, mark, then the next event's predicted mean,\n"
    "median, 10% and 90% quantiles of the inter-event time, most likely mark, its probability):\n"
    "  --stream               read events from stdin, one per line: TIME [MARK] (a finite number\n"
    "                         and an integer >= 0, apart by spaces or a comma; blank and '#'\n"
    "                         lines skipped), through the streaming API (Aaren: constant\n"
    "                         memory; Transformer: a KV cache of --max-events [{max-events}])\n"
    "  --predict-seq S        the same lines for sequence S of --data through the parallel path\n"
    "  --predict F.csv --predictions OUT.csv   every event of every sequence of F (the same CSV\n"
    "                         layout; all sequences, whatever their split): one row each with the\n"
    "                         lines' figures and every mark's probability (p_0, p_1, ...)\n"
    "  --allow-nonfinite      print predictions that are nan or inf (by default the first one is\n"
    "                         an error naming its line and column: --stream stops there,\n"
    "                         --predict-seq prints nothing)\n"
    CLI_FIT_HELP;

static const char *const events_valued[] = {"data", "n-marks", "max-marks", "max-seq-len", "train-frac", "val-frac",
                                            "sin-seqs", "sin-seed",
                                            "arch", "d-model", "n-heads", "n-layers", "d-ff", "norm", "activation",
                                            "components", "epochs", "patience", "batch", "lr", "dropout", "clip",
                                            "seed", "results-csv", "model", "max-events", "predict-seq", "predict",
                                            "predictions", "copy-lags", CLI_FIT_VALUED,
                                            NULL};
static const char *const events_flags[] = {"sin", "random-phase", "stream", "quiet", "allow-nonfinite", "tie-marks", "copy-mark",
                                           "deterministic-reduce", NULL};

static void print_prediction(long i, double t, int mark, const aaren_tpp_prediction *p) {
    printf("%ld %.9g %d %.9g %.9g %.9g %.9g %d %.6f\n", i, t, mark, p->mean, p->median, p->q10, p->q90, p->mark,
           isnan(p->p_mark) ? 0.0 : p->p_mark);
}

static const char *pred_header = "# event time mark next_mean next_median next_q10 next_q90 next_mark p_mark\n";

/* The first non-finite number of a prediction (p_mark only for a marked model): its
 * column name in pred_header, or NULL when all are finite; *v gets the value. */
static const char *nonfinite_prediction(const aaren_tpp_prediction *p, int marked, double *v) {
    const double f[5] = {p->mean, p->median, p->q10, p->q90, p->p_mark};
    static const char *const names[5] = {"next_mean", "next_median", "next_q10", "next_q90", "p_mark"};
    for (int i = 0; i < (marked ? 5 : 4); i++)
        if (!isfinite(f[i])) { *v = f[i]; return names[i]; }
    return NULL;
}

static int stream_stdin(aaren_tpp *m, long max_events, int allow_nonfinite) {
    char err[1024];
    aaren_tpp_stream *s = aaren_tpp_stream_new(m, max_events, err, sizeof err);
    if (!s) return cli_fail("events", "%s", err);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0, n = 0;
    int rc = 0;
    const int marked = aaren_tpp_n_marks(m) > 0;
    fputs(pred_header, stdout);
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        double t;
        int mark;
        const int got = aaren_tpp_parse_event_line(line, (size_t)len, &t, &mark, err, sizeof err);
        if (got == 0) continue;
        if (got < 0) { rc = cli_fail("events", "stdin line %ld: %s", lineno, err); break; }
        if (marked && mark < 0) { rc = cli_fail("events", "stdin line %ld: this model predicts marks; give TIME MARK", lineno); break; }
        aaren_tpp_prediction pr;
        if (aaren_tpp_stream_event(s, t, marked ? mark : 0, &pr, err, sizeof err)) {
            rc = cli_fail("events", "stdin line %ld: %s", lineno, err);
            break;
        }
        double v;
        const char *bad = allow_nonfinite ? NULL : nonfinite_prediction(&pr, marked, &v);
        if (bad) {
            rc = cli_fail_nonfinite("events", "stdin line %ld (event %ld): the prediction %s is %s", lineno, n, bad,
                                    cli_nonfinite_name(v));
            break;
        }
        print_prediction(n++, t, marked ? mark : -1, &pr);
        fflush(stdout);
    }
    if (!rc && ferror(stdin)) rc = cli_fail("events", "cannot read stdin");
    if (!rc) printf("# %ld events streamed; state %zu bytes\n", n, aaren_tpp_stream_state_bytes(s));
    free(line);
    aaren_tpp_stream_free(s);
    return rc;
}

/* --help, its defaults from the options initialisers (the model's and the data's). */
static void print_help(void) {
    aaren_tpp_options o;
    aaren_events_options eo;
    aaren_sin_options so;
    aaren_tpp_options_init(&o);
    aaren_events_options_init(&eo);
    aaren_sin_options_init(&so);
    cli_defaults d = {0};
    cli_default(&d, "train-frac", "%g", eo.train_frac);
    cli_default(&d, "val-frac", "%g", eo.val_frac);
    cli_default(&d, "max-marks", "%d", eo.max_marks);
    cli_default(&d, "max-seq-len", "%ld", eo.max_seq_len);
    cli_default(&d, "sin-seqs", "%d", so.n_seq);
    cli_default(&d, "sin-seed", "%llu", (unsigned long long)so.seed);
    cli_default_config(&d, &o.enc);
    cli_default(&d, "components", "%d", o.K);
    cli_default_run(&d, o.epochs, o.patience, o.batch, o.lr, o.dropout, o.seed);
    cli_default(&d, "clip", "%g", (double)o.clip);
    cli_default(&d, "max-events", "%ld", default_max_events);
    cli_print_help(events_help, &d);
}

static aaren_events *load_data(const cli_args *a, char *name, size_t nlen) {
    char err[1024];
    aaren_events *d = NULL;
    if (cli_flag(a, "sin")) {
        aaren_sin_options so;
        aaren_sin_options_init(&so);
        long n, seed;
        if (cli_int(a, "sin-seqs", so.n_seq, 3, 10000000, &n) || cli_int(a, "sin-seed", (long)so.seed, 0, 0x7fffffffL, &seed)) return NULL;
        so.n_seq = (int)n;
        so.seed = (uint64_t)seed;
        so.random_phase = cli_flag(a, "random-phase");
        snprintf(name, nlen, "sin");
        if (!(d = aaren_events_sin(&so, err, sizeof err))) cli_fail("events", "%s", err);
        return d;
    }
    const char *path = cli_get(a, "data");
    if (!path) { cli_fail("events", "give --data FILE.csv or --sin (see --help)"); return NULL; }
    aaren_events_options eo;
    aaren_events_options_init(&eo);
    long nm, mm;
    if (cli_int(a, "max-marks", eo.max_marks, 1, AAREN_EV_MARKS_CEIL, &mm) ||
        cli_int(a, "n-marks", 0, 0, mm, &nm) || cli_int(a, "max-seq-len", eo.max_seq_len, 1, 100000000, &eo.max_seq_len) ||
        cli_double(a, "train-frac", eo.train_frac, 0.01, 0.98, &eo.train_frac) ||
        cli_double(a, "val-frac", eo.val_frac, 0.01, 0.98, &eo.val_frac))
        return NULL;
    eo.n_marks = (int)nm;
    eo.max_marks = (int)mm;
    const char *base = strrchr(path, '/');
    snprintf(name, nlen, "%s", base ? base + 1 : path);
    if (!(d = aaren_events_load_csv(path, &eo, err, sizeof err))) cli_fail("events", "%s", err);
    return d;
}

/* One row of the TEST table: NLL per event (all, time, mark), the log-likelihood in THP's
 * form, RMSE of the predicted mean and median inter-event time, mark accuracy. */
static void print_metrics(const char *name, const aaren_tpp_metrics *t) {
    printf("%-11s %10.4f %10.4f %10.4f %10.4f %12.5g %12.5g %9.4f\n", name, t->nll, t->nll_time, t->nll_mark, t->ll,
           t->rmse, t->rmse_median, t->acc);
}

static int append_result(const char *path, const char *name, const aaren_tpp_options *o, const aaren_tpp_result *r,
                         double repeat_acc, char *err, size_t errlen) {
    return cli_append_row(path, err, errlen,
        "data,arch,d_model,n_heads,n_layers,d_ff,K,seed,epochs_run,best_epoch,val_nll,test_nll,test_nll_time,"
                   "test_nll_mark,test_rmse,test_acc,poisson_nll,poisson_nll_time,poisson_rmse,poisson_acc,n_test_pred,"
                   "seconds,params,threads,lr,patience,max_epochs,test_ll,test_ll_time,test_rmse_median,poisson_ll,"
                   "poisson_rmse_median,hawkes_nll,hawkes_nll_time,hawkes_ll,hawkes_rmse,hawkes_rmse_median,hawkes_acc,"
                   "hawkes_mu,hawkes_alpha,hawkes_beta,tie_marks,repeat_acc\n",
        "%s,%s,%d,%d,%d,%d,%d,%llu,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6g,%.6f,%.6f,%.6f,%.6g,%.6f,%ld,%.1f,%zu,%d,"
        "%g,%d,%d,%.6f,%.6f,%.6g,%.6f,%.6g,%.6f,%.6f,%.6f,%.6g,%.6g,%.6f,%.6g,%.6g,%.6g,%d,%.6f\n", name,
            aaren_arch_name(o->enc.arch), o->enc.d_model, o->enc.n_heads, o->enc.n_layers, o->enc.d_ff, o->K,
            (unsigned long long)o->seed, r->epochs_run, r->best_epoch, r->val.nll, r->test.nll, r->test.nll_time,
            r->test.nll_mark, r->test.rmse, r->test.acc, r->poisson_test.nll, r->poisson_test.nll_time,
            r->poisson_test.rmse, r->poisson_test.acc, r->test.n_pred, r->seconds, r->n_params, aaren_threads(),
            (double)o->lr, o->patience, o->epochs, r->test.ll, r->test.ll_time, r->test.rmse_median, r->poisson_test.ll,
            r->poisson_test.rmse_median, r->hawkes_test.nll, r->hawkes_test.nll_time, r->hawkes_test.ll,
            r->hawkes_test.rmse, r->hawkes_test.rmse_median, r->hawkes_test.acc, r->hawkes.mu, r->hawkes.alpha,
            r->hawkes.beta, o->tie_marks, repeat_acc);
}

/* --predict FILE.csv --predictions OUT.csv: every event of every sequence of FILE (the model's
 * event CSV layout; all sequences predicted, split column or not): the next inter-event time's
 * mean, median and 10% / 90% quantiles, the most likely next mark and every mark's probability. */
static int predict_file(const cli_args *a, aaren_tpp *m, int allow) {
    const char *path = cli_get(a, "predict"), *out = cli_get(a, "predictions");
    if (!out) return cli_fail("events", "--predict needs --predictions OUT.csv");
    static const char *const outputs[] = {"predictions", NULL};
    if (cli_check_outputs(a, outputs)) return 1;
    char err[1024];
    aaren_events_options eo;
    aaren_events_options_init(&eo);
    eo.all_test = 1;
    const int C = aaren_tpp_n_marks(m);
    eo.n_marks = C;
    if (C > eo.max_marks) eo.max_marks = C;
    aaren_events *d = aaren_events_load_csv(path, &eo, err, sizeof err);
    if (!d) return cli_fail("events", "%s", err);
    aaren_tpp_prediction *p = malloc(sizeof *p * (size_t)(d->max_len > 0 ? d->max_len : 1));
    float *q = C > 0 ? malloc(sizeof(float) * (size_t)(d->max_len > 0 ? d->max_len : 1) * C) : NULL;
    aaren_writer *w = p && (q || !C) ? aaren_writer_open(out, err, sizeof err) : NULL;
    int rc = !p || (C && !q) ? cli_fail("events", "out of memory") : !w ? cli_fail("events", "%s", err) : 0;
    if (!rc) {
        FILE *f = aaren_writer_file(w);
        fprintf(f, "seq,event,time,mark,next_mean,next_median,next_q10,next_q90,next_mark,p_next_mark");
        for (int c = 0; c < C; c++) fprintf(f, ",p_%d", c);
        fputc('\n', f);
        for (int s = 0; s < d->n_seq && !rc; s++) {
            if (aaren_tpp_predict_sequence(m, d, s, p, q, err, sizeof err)) { rc = cli_fail("events", "%s", err); break; }
            for (long i = 0; i < d->off[s + 1] - d->off[s] && !rc; i++) {
                double v;
                const char *bad = allow ? NULL : nonfinite_prediction(&p[i], C > 0, &v);
                if (bad) {
                    rc = cli_fail_nonfinite("events", "%s not written: sequence %d, event %ld: the prediction %s is %s", out, s,
                                            i, bad, cli_nonfinite_name(v));
                    break;
                }
                const long e = d->off[s] + i;
                fprintf(f, "%d,%ld,%.9g,%d,%.9g,%.9g,%.9g,%.9g,%d,%.6f", s, i, d->time[e], d->mark ? d->mark[e] : -1, p[i].mean,
                        p[i].median, p[i].q10, p[i].q90, p[i].mark, isnan(p[i].p_mark) ? 0.0 : p[i].p_mark);
                for (int c = 0; c < C; c++) fprintf(f, ",%.6g", q[(size_t)i * C + c]);
                fputc('\n', f);
            }
        }
        if (rc) aaren_writer_abort(w);
        else if (aaren_writer_commit(w, err, sizeof err)) rc = cli_fail("events", "%s", err);
        else printf("wrote %s: %ld events of %d sequences\n", out, d->n_events, d->n_seq);
    }
    free(p);
    free(q);
    aaren_events_free(d);
    return rc;
}

int cmd_events(int argc, char **argv) {
    cli_args a;
    int rc = cli_parse(&a, "events", argc, argv, events_valued, events_flags);
    if (rc) { if (rc > 0) print_help(); return rc > 0 ? 0 : 2; }
    static const char *const outputs[] = {"save", "results-csv", NULL};
    if (cli_check_outputs(&a, outputs)) return 1;
    char err[1024], name[512];
    const char *model = cli_get(&a, "model");
    if (model) {
        aaren_tpp *m = aaren_tpp_load(model, err, sizeof err);
        if (!m) return cli_fail("events", "%s", err);
        long maxe, seq;
        if (cli_int(&a, "max-events", default_max_events, 1, 100000000, &maxe) || cli_int(&a, "predict-seq", -1, 0, 100000000, &seq)) {
            aaren_tpp_free(m);
            return 2;
        }
        const int allow = cli_flag(&a, "allow-nonfinite");
        if (cli_flag(&a, "stream")) {
            rc = stream_stdin(m, maxe, allow);
        } else if (cli_get(&a, "predict-seq")) {
            aaren_events *d = load_data(&a, name, sizeof name);
            aaren_tpp_prediction *p = NULL;
            if (!d) rc = 1;
            else if (seq >= d->n_seq) rc = cli_fail("events", "--predict-seq %ld: the data has %d sequences", seq, d->n_seq);
            else if (!(p = malloc(sizeof *p * (size_t)(d->off[seq + 1] - d->off[seq] + 1)))) rc = cli_fail("events", "out of memory");
            else if (aaren_tpp_predict_sequence(m, d, (int)seq, p, NULL, err, sizeof err)) rc = cli_fail("events", "%s", err);
            const long len = rc ? 0 : d->off[seq + 1] - d->off[seq];
            for (long i = 0; i < len && !rc && !allow; i++) {   /* all checked before any is printed */
                double v;
                const char *bad = nonfinite_prediction(&p[i], aaren_tpp_n_marks(m) > 0, &v);
                if (bad)
                    rc = cli_fail_nonfinite("events", "sequence %ld, event %ld: the prediction %s is %s; nothing printed",
                                            seq, i, bad, cli_nonfinite_name(v));
            }
            if (!rc) {
                fputs(pred_header, stdout);
                for (long i = 0; i < len; i++)
                    print_prediction(i, d->time[d->off[seq] + i], d->mark ? d->mark[d->off[seq] + i] : -1, &p[i]);
            }
            free(p);
            aaren_events_free(d);
        } else if (cli_get(&a, "predict")) {
            rc = predict_file(&a, m, allow);
        } else {
            rc = cli_fail("events", "--model needs --stream, --predict FILE.csv or --predict-seq S");
        }
        aaren_tpp_free(m);
        return rc ? 1 : 0;
    }
    aaren_tpp_options o;
    aaren_tpp_options_init(&o);
    long K, ep, pat, batch, seed, lags;
    aaren_fit_io io;
    if (cli_int(&a, "components", o.K, 1, 64, &K) || cli_int(&a, "epochs", o.epochs, 1, 100000, &ep) ||
        cli_int(&a, "patience", o.patience, 1, 100000, &pat) || cli_int(&a, "batch", o.batch, 1, 4096, &batch) ||
        cli_int(&a, "seed", (long)o.seed, 0, 0x7fffffffL, &seed) || cli_float(&a, "lr", o.lr, 1e-7f, 10, &o.lr) ||
        cli_fit_io(&a, &io) ||
        cli_float(&a, "dropout", o.dropout, 0, 0.99f, &o.dropout) || cli_float(&a, "clip", o.clip, 0, 1e6f, &o.clip) ||
        cli_int(&a, "copy-lags", cli_flag(&a, "copy-mark"), 1, AAREN_TPP_MAX_COPY_LAGS, &lags))
        return 2;
    if (cli_flag(&a, "copy-mark") && lags != 1)
        return cli_fail("events", "--copy-mark is --copy-lags 1; give one of them (got --copy-lags %ld)", lags), 2;
    o.K = (int)K; o.epochs = (int)ep; o.patience = (int)pat; o.batch = (int)batch; o.seed = (uint64_t)seed;
    o.tie_marks = cli_flag(&a, "tie-marks");
    o.copy_mark = (int)lags;
    const aaren_config base = o.enc;
    if (cli_config(&a, &base, &o.enc)) return 2;
    aaren_events *d = load_data(&a, name, sizeof name);
    if (!d) return 1;
    int ns[3] = {0, 0, 0};
    long ne[3] = {0, 0, 0};
    for (int s = 0; s < d->n_seq; s++) { ns[d->split[s]]++; ne[d->split[s]] += d->off[s + 1] - d->off[s]; }
    printf("events %s: %d sequences, %ld events, %s; train %d seq / %ld ev, val %d / %ld, test %d / %ld; longest %d\n",
           name, d->n_seq, d->n_events, d->n_marks ? "marked" : "unmarked", ns[0], ne[0], ns[1], ne[1], ns[2], ne[2],
           d->max_len);
    if (d->n_marks) printf("marks: %d\n", d->n_marks);
    aaren_tpp *m = aaren_tpp_new(d, &o, err, sizeof err);
    if (!m) { aaren_events_free(d); return cli_fail("events", "%s", err); }
    char copy[64] = "";
    if (o.copy_mark) snprintf(copy, sizeof copy, o.copy_mark == 1 ? ", copy logit on the current mark" : ", copy logits on the last %d marks", o.copy_mark);
    printf("model: %s, d_model %d, %d heads, %d layers, d_ff %d, %d log-normal components%s%s; %d threads\n",
           aaren_arch_name(o.enc.arch), o.enc.d_model, o.enc.n_heads, o.enc.n_layers, o.enc.d_ff, o.K,
           o.tie_marks && d->n_marks ? ", mark head tied to the embedding" : "",
           copy, aaren_threads());
    aaren_tpp_result r;
    rc = aaren_tpp_run(m, d, &r, &io, err, sizeof err);
    if (!rc && r.stopped) {
        printf("stopped after %ld steps as --stop-after asks; continue with --resume %s\n", io.stop_after, io.save);
    } else if (!rc) {
        printf("%-11s %10s %10s %10s %10s %12s %12s %9s\n", "TEST", "NLL", "time NLL", "mark NLL", "LL (THP)", "RMSE mean",
               "RMSE median", "mark acc");
        print_metrics(aaren_arch_name(o.enc.arch), &r.test);
        print_metrics("Poisson", &r.poisson_test);
        print_metrics("Hawkes", &r.hawkes_test);
        printf("per predicted event (%ld on TEST); best epoch %d of %d, %.1f s\n", r.test.n_pred, r.best_epoch,
               r.epochs_run, r.seconds);
        const double repeat_acc = aaren_tpp_repeat_acc(d, AAREN_EV_TEST);
        if (d->n_marks) printf("mark accuracy of repeating the current mark: %.4f\n", repeat_acc);
        printf("Hawkes fit on TRAIN: mu %.6g, alpha %.6g, beta %.6g (branching ratio %.3f), log-likelihood %.6g\n",
               r.hawkes.mu, r.hawkes.alpha, r.hawkes.beta, r.hawkes.alpha / r.hawkes.beta, r.hawkes.loglik);
        const char *save = cli_get(&a, "save"), *csv = cli_get(&a, "results-csv");
        if (save) printf("saved %s\n", save);
        if (!rc && csv) rc = append_result(csv, name, &o, &r, repeat_acc, err, sizeof err);
        if (rc) cli_fail("events", "%s", err);
    } else {
        cli_fail("events", "%s", err);
    }
    aaren_tpp_free(m);
    aaren_events_free(d);
    return rc ? 1 : 0;
}
