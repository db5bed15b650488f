/* Shared pieces of the command-line tool. */
#ifndef AAREN_CLI_H
#define AAREN_CLI_H
#include <stdio.h>
#include "aaren.h"
#include "tasks/private_api.h"   /* the library's private API the tool uses */

#define CLI_MAX_OPTS 96

/* Parsed "--key value" options and "--flag" switches of one command. */
typedef struct {
    const char *cmd;
    int n;
    const char *key[CLI_MAX_OPTS], *val[CLI_MAX_OPTS];
    int is_flag[CLI_MAX_OPTS];
    const char *positional[4];
    int n_positional;
} cli_args;

/* Parses argv against `valued` (options taking a value) and `flags` (switches), both
 * NULL-terminated lists without the leading "--". Prints an error and returns -1 on
 * an unknown option or a missing value. "--help" returns 1. */
int cli_parse(cli_args *a, const char *cmd, int argc, char **argv, const char *const *valued,
              const char *const *flags);
const char *cli_get(const cli_args *a, const char *key);          /* NULL when absent */
int cli_flag(const cli_args *a, const char *key);
/* Option value as an integer / number within [lo, hi]; prints an error and returns -1. */
int cli_int(const cli_args *a, const char *key, long dflt, long lo, long hi, long *out);
int cli_double(const cli_args *a, const char *key, double dflt, double lo, double hi, double *out);
int cli_float(const cli_args *a, const char *key, float dflt, float lo, float hi, float *out);
/* Model options --arch, --d-model, --n-heads, --n-layers, --d-ff, --norm, --activation over
 * the defaults dflt; returns -1 after printing an error. */
int cli_config(const cli_args *a, const aaren_config *dflt, aaren_config *c);
/* Checks, before any work, that every output option given could be written (see
 * aaren_check_writable). outs: NULL-terminated option names, each optionally followed by
 * "+SUFFIX" for a prefix option ("plot+.png" checks the value of --plot followed by ".png").
 * Prints the first failure and returns -1. */
int cli_check_outputs(const cli_args *a, const char *const *outs);
/* Fails with an error message when a required option is absent. */
const char *cli_need(const cli_args *a, const char *key);

/* Prints "aaren CMD: message" to stderr; returns the exit code 1 (or 2 for usage). */
int cli_fail(const char *cmd, const char *fmt, ...);

/* Loads an input array [N, D] or [B, N, D] for a model of width d_model, checking shape
 * and finiteness; sets *B and *N. Returns 0, or prints an error and returns -1. */
int cli_load_tokens(const char *cmd, const char *path, int d_model, const char *model_path,
                    aaren_array *x, int *B, int *N);

/* Non-finite outputs: every command that writes model outputs (arrays, gradients,
 * predictions) refuses a non-finite value unless the user passes --allow-nonfinite.
 * cli_first_nonfinite: the index of the first non-finite value of v[0, n), or -1.
 * cli_nonfinite_name: "nan", "inf" or "-inf".
 * cli_fail_nonfinite: prints "aaren CMD: <message> (--allow-nonfinite writes non-finite
 * values)" and returns 1.
 * cli_check_tokens: 0 when allow or every value of y [B, N, D] (ndim 2: [N, D]) is finite;
 * else prints "aaren CMD: PATH not written: WHAT row R (batch b, token t), column c is nan"
 * and returns -1. */
long cli_first_nonfinite(const float *v, size_t n);
const char *cli_nonfinite_name(double v);
int cli_fail_nonfinite(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_check_tokens(const char *cmd, const char *path, const char *what, const float *y, int ndim, int B, int N, int D,
                     int allow);

/* Appends one formatted row to a results CSV, all or nothing (aaren_append_text), writing
 * header first when the file is new. 0, or -1 with a message in err. */
int cli_append_row(const char *path, char *err, size_t errlen, const char *header, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ---- --help with its defaults: one place for them (the task's options initialiser) ----
 * A help text writes "{key}" where a default goes ("--epochs N [{epochs}]"); the command fills
 * a cli_defaults from its options initialiser and cli_print_help prints the text with every
 * "{key}" replaced. A key without a default prints as "{?key}" (tests/test_help.c fails then). */
enum { CLI_MAX_DEFAULTS = 48 };
typedef struct {
    int n;
    const char *key[CLI_MAX_DEFAULTS];
    char val[CLI_MAX_DEFAULTS][80];
} cli_defaults;
void cli_default(cli_defaults *d, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* arch, d-model, n-heads, n-layers, d-ff, norm and activation of c */
void cli_default_config(cli_defaults *d, const aaren_config *c);
/* epochs, patience, batch, lr, dropout and seed of an epoch-trained task's options */
void cli_default_run(cli_defaults *d, int epochs, int patience, int batch, float lr, float dropout, uint64_t seed);
void cli_print_help(const char *text, const cli_defaults *d);   /* on stdout */

/* ---- helpers run without a shell (an argument vector, never a command string) ---- */
#include <sys/types.h>
#define CLI_PYTHON "/usr/bin/python3"   /* Debian's interpreter, which has numpy, torch and matplotlib */
/* The folder of the project's Python helpers holding `script`: `given` when not NULL, else found
 * beside the running tool: <tool's folder>/../share/aaren/python (installed) or ../python (the
 * build tree). NULL when the script is not there. */
const char *cli_python_dir(const char *given, const char *script, char *buf, size_t len);
/* Runs CLI_PYTHON <python dir>/script args... (args NULL-terminated, at most 13) and waits;
 * prints why on failure. The exit code, or -1. */
int cli_run_python(const char *cmd, const char *script, const char *const *args);

/* ---- what every training command takes (aaren_fit) ---- */
#define CLI_FIT_VALUED "save", "save-every", "resume", "log", "stop-after", "config", "grad-shards"
#define CLI_FIT_HELP \
    "run (every training command):\n" \
    "  --save F.safetensors    the run checkpoint: at every epoch's end (and --save-every N steps),\n" \
    "                          written all or nothing; at the end it holds the trained model\n" \
    "  --save-every N          also a checkpoint every N optimizer steps\n" \
    "  --resume F.safetensors  continue a run from its checkpoint: the same result, to the last\n" \
    "                          bit, as the run that was never stopped (same options and data)\n" \
    "  --log F.csv             one row per step (loss, lr, gradient norm, tokens/s) and per\n" \
    "                          evaluation; draw it with python/plot_log.py\n" \
    "  --config F              '--option value' lines (# comments) read first; the command line\n" \
    "                          overrides them; checkpoints keep the options in force\n" \
    "  --stop-after N          end after N steps with a checkpoint, as if killed (tests resume)\n" \
    "  --grad-shards S         compute each batch as S shards, gradients summed in order (one per\n" \
    "                          MPI rank by default; on one process: gradient accumulation)\n" \
    "  --deterministic-reduce  across ranks, gather the shards' gradients and sum them in shard\n" \
    "                          order: P ranks equal one process with the same --grad-shards, bit\n" \
    "                          for bit (default: the MPI library's all-reduce)\n" \
    "  (mpirun -np P aaren ...: P processes share every batch; rank 0 prints and writes)\n"
/* Fills io from --save, --save-every, --resume, --log, --stop-after and --quiet (progress on
 * stdout unless quiet); io->options is cli_options_text. 0, or prints an error and returns -1. */
int cli_fit_io(const cli_args *a, aaren_fit_io *io);
/* The options in force that decide a result (not where it is written), one "--key value" line
 * each, last value of a repeated option; a static buffer. Rerunning with it as --config
 * reproduces the run. */
const char *cli_options_text(const cli_args *a);

/* The synthetic running-maximum task's options (train and demo share them). */
struct aaren_synth_options;
extern const char *const train_valued[];   /* the options synth_opts_from_args reads */
int synth_opts_from_args(const cli_args *a, struct aaren_synth_options *o);

/* Forecasting: writes test window `window` of a trained forecaster (history, truth, forecast,
 * in the file's units) to PREFIX.csv and draws PREFIX.png; prints its own errors. A
 * non-finite forecast is an error (nothing written) unless allow_nonfinite. */
struct aaren_forecaster;
int forecast_plot_window(struct aaren_forecaster *fc, long window, const char *prefix, int allow_nonfinite);

int cmd_init(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_plot_log(int argc, char **argv);   /* aaren plot-log LOG.csv (cmd_train.c) */
int cmd_forecast(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_rl(int argc, char **argv);
int cmd_rl_info(int argc, char **argv);   /* aaren rl info --data FILE.hdf5 (cmd_rl_data.c) */
int cmd_rl_make_data(int argc, char **argv);
int cmd_rl_dt_train(int argc, char **argv);
int cmd_rl_dt_eval(int argc, char **argv);
int cmd_rl_dt_act(int argc, char **argv);   /* aaren rl act (cmd_rl_dt.c) */
/* The environment of a D4RL-style data set: its "env" attribute, else the first word of the
 * file name (hopper-medium-v2.hdf5); -1 when neither names one of the four. */
struct aaren_d4rl;
int cli_data_env(const struct aaren_d4rl *d, const char *path);
/* Loads a D4RL-style file within the limits of --max-memory MB and --read-timeout S (the read
 * runs in a child process; see src/data/d4rl.h). 0, or prints the error and returns 1 (2 for a
 * bad option). */
int cli_d4rl_load(const cli_args *a, const char *path, struct aaren_d4rl *d);
#define CLI_HDF5_OPTIONS_HELP \
    "  --max-memory MB     memory for the data set's arrays; larger declared sizes are refused\n" \
    "                      before reading (default {max-memory})\n" \
    "  --read-timeout S    the file is read in a child process, stopped after S seconds (default\n" \
    "                      {read-timeout}); a crash or hang of libhdf5 on a damaged file is an error\n"
/* The defaults of CLI_HDF5_OPTIONS_HELP (aaren_d4rl_limits_default). */
void cli_default_d4rl(cli_defaults *d);
int cmd_encode(int argc, char **argv);
int cmd_grad(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int demo_forecast(int argc, char **argv);   /* aaren demo --data FILE.csv */
int cmd_bench(int argc, char **argv);

#endif
