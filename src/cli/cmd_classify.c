/* aaren classify: train, evaluate and predict on UEA `.ts` files. */
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char *classify_help =
    "usage: aaren classify --data DIR | --train F_TRAIN.ts --test F_TEST.ts [options]\n"
    "       aaren classify --model M.safetensors --predict F.ts [--predictions OUT.csv]\n\n"
    "Trains a classifier (linear embedding of each step, the encoder, a linear head on the\n"
    "output at each case's last valid step; cases of unequal length batched with their\n"
    "lengths) with cross-entropy, early stopping on a validation split carved from TRAIN\n"
    "(stratified, --val-frac of each class), then prints TEST accuracy beside the majority\n"
    "class and the confusion matrix. TEST never influences training or model selection\n"
    "(except with --select-on test, the library protocol kept only for comparison).\n"
    "Each dimension is standardised with the training part's mean and std; missing values\n"
    "('?') are filled by linear interpolation along time.\n\n"
    "data:\n"
    "  --data DIR              DIR/NAME_TRAIN.ts and DIR/NAME_TEST.ts, NAME = DIR's last part\n"
    "  --train F --test F      the two files explicitly\n"
    "model (same for both architectures; defaults in brackets):\n"
    "  --arch aaren|transformer [{arch}]  --d-model [{d-model}]  --n-heads [{n-heads}]  --n-layers [{n-layers}]\n"
    "  --d-ff [{d-ff}]  --norm post|pre [{norm}]  --activation gelu|relu [{activation}]\n"
    "limits (a file beyond them is an error, not gigabytes of memory):\n"
    "  --max-classes K [{max-classes}, at most {max-classes-ceil}]  --max-len N [{max-len} steps per case]\n"
    "training:\n"
    "  --epochs N [{epochs}]  --patience N [{patience}]  --batch B [{batch}]  --lr X [{lr}, constant]\n"
    "  --dropout P [{dropout}]  --clip X [{clip}, gradient norm]  --val-frac F [{val-frac}]  --seed S [{seed}]\n"
    "  --select-on val|test [{select-on}]  test: the Time-Series-Library's protocol, only to compare with\n"
    "                          its published figures: all of TRAIN trains and the epoch with the best\n"
    "                          TEST accuracy is kept, so that TEST accuracy is optimistic\n"
    "output:\n"
    "  --confusion PREFIX      PREFIX.csv (TEST confusion counts) and PREFIX.png (needs\n"
    "                          /usr/bin/python3 with matplotlib)\n"
    "  --results-csv F         append one row with this run's settings and metrics\n"
    "  --predict F.ts          predict every case of F (after training, or with --model)\n"
    "  --predictions OUT.csv   one row per predicted case: case, label, predicted, its probability,\n"
    "                          then every class's probability (columns p_<label>)\n"
    "  --allow-nonfinite       write OUT.csv even when a probability is nan or inf (by default\n"
    "                          that is an error naming the case, and OUT.csv is not written)\n"
    "  --quiet                 no per-epoch lines\n"
    CLI_FIT_HELP;

static const char *const classify_valued[] = {"data", "train", "test", "max-classes", "max-len", "arch", "d-model",
                                              "n-heads", "n-layers",
                                              "d-ff", "norm", "activation", "epochs", "patience", "batch", "lr",
                                              "dropout", "clip", "val-frac", "seed", "confusion", "select-on",
                                              "results-csv", "predict", "predictions", "model", CLI_FIT_VALUED, NULL};
static const char *const classify_flags[] = {"quiet", "allow-nonfinite", "deterministic-reduce", NULL};

/* --help, its defaults from aaren_classify_options_init. */
static void print_help(void) {
    aaren_classify_options o;
    aaren_classify_options_init(&o);
    cli_defaults d = {0};
    cli_default_config(&d, &o.enc);
    cli_default(&d, "max-classes", "%d", o.limits.max_classes);
    cli_default(&d, "max-classes-ceil", "%d", (int)AAREN_UEA_CLASSES_CEIL);
    cli_default(&d, "max-len", "%ld", o.limits.max_len);
    cli_default_run(&d, o.epochs, o.patience, o.batch, o.lr, o.dropout, o.seed);
    cli_default(&d, "clip", "%g", (double)o.clip);
    cli_default(&d, "val-frac", "%g", (double)o.val_frac);
    cli_default(&d, "select-on", "%s", o.select_on_test ? "test" : "val");
    cli_print_help(classify_help, &d);
}

static void print_confusion(const aaren_classifier *c, const long *m) {
    const int C = aaren_classifier_n_classes(c);
    printf("confusion matrix (rows: true class, columns: predicted)\n%8s", "");
    for (int j = 0; j < C; j++) printf(" %5.5s", aaren_classifier_label(c, j));
    putchar('\n');
    for (int i = 0; i < C; i++) {
        printf("%8.8s", aaren_classifier_label(c, i));
        for (int j = 0; j < C; j++) printf(" %5ld", m[(size_t)i * C + j]);
        putchar('\n');
    }
}

static int write_confusion(const aaren_classifier *c, const long *m, const char *prefix, const char *title) {
    const int C = aaren_classifier_n_classes(c);
    char path[1024];
    snprintf(path, sizeof path, "%s.csv", prefix);
    char err[1024];
    aaren_writer *w = aaren_writer_open(path, err, sizeof err);
    if (!w) return cli_fail("classify", "%s", err);
    FILE *f = aaren_writer_file(w);
    fprintf(f, "true\\predicted");
    for (int j = 0; j < C; j++) fprintf(f, ",%s", aaren_classifier_label(c, j));
    fputc('\n', f);
    for (int i = 0; i < C; i++) {
        fprintf(f, "%s", aaren_classifier_label(c, i));
        for (int j = 0; j < C; j++) fprintf(f, ",%ld", m[(size_t)i * C + j]);
        fputc('\n', f);
    }
    if (aaren_writer_commit(w, err, sizeof err)) return cli_fail("classify", "%s", err);
    printf("wrote %s\n", path);
    fflush(stdout);
    char png[1100];
    snprintf(png, sizeof png, "%s.png", prefix);
    const char *args[] = {path, png, title, NULL};
    cli_run_python("classify", "plot_confusion.py", args);
    return 0;
}

static int append_result(const char *path, const aaren_classify_options *o, const aaren_classify_result *r,
                         const char *name, char *err, size_t errlen) {
    return cli_append_row(path, err, errlen,
        "data,arch,d_model,n_heads,n_layers,d_ff,seed,n_train,n_val,n_test,epochs_run,best_epoch,"
                   "val_acc,test_acc,test_loss,majority_acc,seconds,params,threads,select_on,lr,batch,dropout\n",
        "%s,%s,%d,%d,%d,%d,%llu,%d,%d,%d,%d,%d,%.6f,%.6f,%.6f,%.6f,%.1f,%zu,%d,%s,%g,%d,%g\n", name,
            aaren_arch_name(o->enc.arch), o->enc.d_model, o->enc.n_heads, o->enc.n_layers, o->enc.d_ff,
            (unsigned long long)o->seed, r->n_train, r->n_val, r->n_test, r->epochs_run, r->best_epoch, r->val_acc,
            r->test_acc, r->test_loss, r->majority_acc, r->seconds, r->n_params, aaren_threads(),
            o->select_on_test ? "test" : "val", (double)o->lr, o->batch, (double)o->dropout);
}

/* Predicts a file with a trained classifier; prints accuracy and the confusion matrix. */
static int predict(aaren_classifier *c, const char *file, const char *out) {
    const int C = aaren_classifier_n_classes(c);
    long *m = malloc(sizeof(long) * C * C);
    char err[1024];
    int n = 0;
    double acc = 0;
    if (!m) return cli_fail("classify", "out of memory");
    if (aaren_classifier_predict_file(c, file, out, &n, &acc, m, err, sizeof err)) {
        free(m);
        return cli_fail("classify", "%s", err);
    }
    printf("predicted %d cases of %s: accuracy %.4f\n", n, file, acc);
    print_confusion(c, m);
    if (out) printf("wrote %s\n", out);
    free(m);
    return 0;
}

int cmd_classify(int argc, char **argv) {
    cli_args a;
    int rc = cli_parse(&a, "classify", argc, argv, classify_valued, classify_flags);
    if (rc) { if (rc > 0) print_help(); return rc > 0 ? 0 : 2; }
    static const char *const outputs[] = {"save", "results-csv", "predictions", "confusion+.csv", "confusion+.png", NULL};
    if (cli_check_outputs(&a, outputs)) return 1;
    const char *model = cli_get(&a, "model"), *pfile = cli_get(&a, "predict"), *pout = cli_get(&a, "predictions");
    char err[1024];
    if (model) {
        if (!pfile) return cli_fail("classify", "--model needs --predict F.ts"), 2;
        aaren_classifier *c = aaren_classifier_load(model, err, sizeof err);
        if (!c) return cli_fail("classify", "%s", err);
        aaren_classifier_allow_nonfinite(c, cli_flag(&a, "allow-nonfinite"));
        rc = predict(c, pfile, pout);
        aaren_classifier_free(c);
        return rc;
    }
    aaren_classify_options o;
    aaren_classify_options_init(&o);
    char trainp[2048], testp[2048], name[512];
    const char *data = cli_get(&a, "data");
    if (data) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s", data);
        size_t k = strlen(tmp);
        while (k > 1 && tmp[k - 1] == '/') tmp[--k] = 0;
        snprintf(name, sizeof name, "%s", basename(tmp));
        snprintf(trainp, sizeof trainp, "%s/%s_TRAIN.ts", tmp, name);
        snprintf(testp, sizeof testp, "%s/%s_TEST.ts", tmp, name);
        o.train = trainp;
        o.test = testp;
    } else {
        if (!(o.train = cli_get(&a, "train")) || !(o.test = cli_get(&a, "test")))
            return cli_fail("classify", "give --data DIR, or both --train and --test (see --help)"), 2;
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s", o.train);
        snprintf(name, sizeof name, "%s", basename(tmp));
        char *cut = strstr(name, "_TRAIN");
        if (cut) *cut = 0;
    }
    long ep, pat, batch, seed, mc;
    aaren_fit_io io;
    if (cli_int(&a, "epochs", o.epochs, 1, 100000, &ep) || cli_int(&a, "patience", o.patience, 1, 100000, &pat) ||
        cli_int(&a, "batch", o.batch, 1, 4096, &batch) || cli_int(&a, "seed", (long)o.seed, 0, 0x7fffffffL, &seed) ||
        cli_fit_io(&a, &io) ||
        cli_float(&a, "lr", o.lr, 1e-7f, 10, &o.lr) || cli_float(&a, "dropout", o.dropout, 0, 0.99f, &o.dropout) ||
        cli_float(&a, "clip", o.clip, 0, 1e6f, &o.clip) || cli_float(&a, "val-frac", o.val_frac, 0, 0.9f, &o.val_frac) ||
        cli_int(&a, "max-classes", o.limits.max_classes, 1, AAREN_UEA_CLASSES_CEIL, &mc) ||
        cli_int(&a, "max-len", o.limits.max_len, 1, AAREN_UEA_LEN_CEIL, &o.limits.max_len))
        return 2;
    o.epochs = (int)ep; o.patience = (int)pat; o.batch = (int)batch; o.seed = (uint64_t)seed;
    o.limits.max_classes = (int)mc;
    const aaren_config base = o.enc;
    if (cli_config(&a, &base, &o.enc)) return 2;
    o.allow_nonfinite = cli_flag(&a, "allow-nonfinite");
    const char *sel = cli_get(&a, "select-on");
    if (sel && strcmp(sel, "val") && strcmp(sel, "test"))
        return cli_fail("classify", "--select-on '%s': expected val or test", sel), 2;
    o.select_on_test = sel && !strcmp(sel, "test");
    aaren_classifier *c = aaren_classifier_new(&o, err, sizeof err);
    if (!c) return cli_fail("classify", "%s", err);
    const aaren_uea *te = aaren_classifier_test_data(c);
    const int C = aaren_classifier_n_classes(c);
    printf("classify %s: %d classes, %d dimensions; TEST %d cases, lengths %d..%d\n", name, C, te->dims, te->n_cases,
           te->min_len, te->max_len);
    printf("model: %s, d_model %d, %d heads, %d layers, d_ff %d; %d threads\n", aaren_arch_name(o.enc.arch),
           o.enc.d_model, o.enc.n_heads, o.enc.n_layers, o.enc.d_ff, aaren_threads());
    long *m = malloc(sizeof(long) * C * C);
    aaren_classify_result r;
    rc = m ? aaren_classifier_run(c, &r, m, &io, err, sizeof err) : (snprintf(err, sizeof err, "out of memory"), -1);
    if (!rc && r.stopped) {
        printf("stopped after %ld steps as --stop-after asks; continue with --resume %s\n", io.stop_after, io.save);
    } else if (!rc) {
        if (o.select_on_test)
            printf("all %d TRAIN cases train; the epoch was chosen on TEST accuracy (--select-on test: optimistic)\n",
                   r.n_train);
        else
            printf("split of TRAIN: %d training, %d validation cases (stratified, seed %llu)\n", r.n_train, r.n_val,
                   (unsigned long long)o.seed);
        printf("test accuracy %.4f  loss %.4f   (majority class: %.4f)   %s accuracy %.4f   best epoch %d of %d, %.1f s\n",
               r.test_acc, r.test_loss, r.majority_acc, o.select_on_test ? "selecting (TEST)" : "val", r.val_acc,
               r.best_epoch, r.epochs_run, r.seconds);
        print_confusion(c, m);
        const char *save = cli_get(&a, "save"), *conf = cli_get(&a, "confusion"), *csv = cli_get(&a, "results-csv");
        if (save) printf("saved %s\n", save);
        if (!rc && csv) rc = append_result(csv, &o, &r, name, err, sizeof err);
        if (rc) {
            cli_fail("classify", "%s", err);
        } else {
            char title[700];
            snprintf(title, sizeof title, "%s, %s, seed %llu: TEST accuracy %.3f", name, aaren_arch_name(o.enc.arch),
                     (unsigned long long)o.seed, r.test_acc);
            if (conf) rc = write_confusion(c, m, conf, title);
            if (!rc && pfile) rc = predict(c, pfile, pout);
        }
    } else {
        cli_fail("classify", "%s", err);
    }
    free(m);
    aaren_classifier_free(c);
    return rc ? 1 : 0;
}
