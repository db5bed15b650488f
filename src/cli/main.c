/* aaren: the command-line tool. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} command;

int cmd_serve(int argc, char **argv);   /* cmd_serve.c */
static const command commands[] = {
    {"demo", cmd_demo, "the main job: train an Aaren and a Transformer, compare them, then stream"},
    {"forecast", cmd_forecast, "time-series forecasting on a TSLib-style CSV: train, evaluate, plot"},
    {"events", cmd_events, "event forecasting (neural TPP): train, evaluate, stream events from stdin"},
    {"rl", cmd_rl, "offline RL on MuJoCo locomotion: make D4RL-style data, train and evaluate decision models"},
    {"classify", cmd_classify, "time-series classification on UEA .ts files: train, evaluate, predict"},
    {"train", cmd_train, "train a sequence model on the synthetic running-maximum task"},
    {"plot-log", cmd_plot_log, "draw a training log written by --log (loss per step, evaluations)"},
    {"init", cmd_init, "write a freshly initialised encoder checkpoint (.safetensors)"},
    {"encode", cmd_encode, "run an encoder over a .npy array of tokens (modes scan, stream, naive)"},
    {"grad", cmd_grad, "gradient of sum(Y * G) with respect to every parameter and the input"},
    {"info", cmd_info, "describe a checkpoint: config, parameters, memory, streaming state"},
    {"bench", cmd_bench, "benchmark training, streaming and the PyTorch twin; a verdict per target"},
    {"serve", cmd_serve, "serve streams of an encoder over HTTP/JSON: batched steps, durable state"},
};
#define N_COMMANDS (int)(sizeof commands / sizeof commands[0])

static void usage(FILE *f) {
    fprintf(f,
            "aaren %s: attention as an RNN (Aaren) and Transformer encoders in C\n\n"
            "usage: aaren [--threads N] <command> [options]\n\n"
            "commands:\n", aaren_version());
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\noptions:\n"
            "  --threads N   OpenMP threads (default: OMP_NUM_THREADS or all cores)\n"
            "  --version     print the version, matrix backend and thread count\n"
            "  --help        this text; 'aaren <command> --help' for a command's options\n"
            "\nFiles: checkpoints are safetensors, arrays are float32 .npy (layout in the README).\n");
}

int main(int argc, char **argv) {
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
        if (!strcmp(argv[i], "--version")) {
            printf("aaren %s\nmatrix backend: %s\nthreads: %d\nmpi: %s\n", aaren_version(), aaren_backend(), aaren_threads(),
                   aaren_dist_available() ? "yes (mpirun -np P aaren ...)" : "no");
            return 0;
        }
        if (!strcmp(argv[i], "--threads")) {
            long t;
            if (i + 1 == argc) {
                fprintf(stderr, "aaren: option --threads needs a value\n");
                return 2;
            }
            if (aaren_parse_long(argv[i + 1], 1, 1024, &t)) {
                fprintf(stderr, "aaren: --threads '%s' must be an integer from 1 to 1024\n", argv[i + 1]);
                return 2;
            }
#ifdef _OPENMP
            omp_set_num_threads((int)t);
#endif
            i += 2;
            continue;
        }
        fprintf(stderr, "aaren: unknown option '%s'\n\n", argv[i]);
        usage(stderr);
        return 2;
    }
    if (i >= argc) { usage(stderr); return 2; }
    for (int c = 0; c < N_COMMANDS; c++)
        if (!strcmp(argv[i], commands[c].name)) {
            /* under mpirun, every rank runs the command (aaren_fit splits the batches); rank 0
             * alone prints and writes */
            if (aaren_dist_init(&argc, &argv)) {
                fprintf(stderr, "aaren: cannot start MPI\n");
                return 1;
            }
            if (aaren_dist_rank() != 0 && !freopen("/dev/null", "w", stdout)) return 1;
            const int rc = commands[c].run(argc - i - 1, argv + i + 1);
            if (rc && aaren_dist_size() > 1) {
                /* a failed rank must not leave the others waiting in a collective: its message
                 * (above) and this line name it, and MPI_Abort ends the whole job */
                fprintf(stderr, "aaren: rank %d of %d failed (exit %d); stopping all ranks\n", aaren_dist_rank(),
                        aaren_dist_size(), rc);
                aaren_dist_abort(rc);
            }
            aaren_dist_finalize();
            return rc;
        }
    fprintf(stderr, "aaren: unknown command '%s'\n\n", argv[i]);
    usage(stderr);
    return 2;
}
