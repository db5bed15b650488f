/* Time-series classification around the shared encoder (the paper's UEA setting).
 *
 * Data: a TRAIN and a TEST file in the UEA `.ts` format (data/uea.h). A validation split is
 * carved from TRAIN, stratified by class (val_frac of each class, rounded, at least one case
 * of every class with two or more cases, never all of them; drawn with the run's seed); the
 * rest of TRAIN is the training part. Each dimension is standardised with the mean and
 * population standard deviation of the training part (all steps of all its cases; std 1
 * when the spread is zero); missing values are then filled by linear interpolation along
 * time within their case and dimension (the nearest value at either end, 0 when the whole
 * dimension of a case is missing). TEST is used once, after training.
 *
 * Model: a linear embedding of each step, the encoder (Aaren or Transformer: the only
 * difference), and a linear head to n_classes logits on the encoder output at each case's
 * last valid step (aaren_seqmodel_forward_last with the case lengths): no padding reaches
 * it, and cases of unequal length share a batch through the lengths, never by truncation.
 * Loss: cross-entropy. Training: Adam (no weight decay) at a constant learning rate,
 * gradient norm clipped, dropout; after each epoch the validation accuracy (ties: lower
 * validation loss) selects the best parameters; training stops after `patience` epochs
 * without improvement; the best parameters are restored for testing. */
#ifndef AAREN_CLASSIFY_H
#define AAREN_CLASSIFY_H
#include <stdio.h>
#include "aaren.h"
#include "aaren_tasks.h"
#include "data/uea.h"

typedef struct {
    const char *train, *test;    /* .ts files */
    aaren_config enc;
    int batch, epochs, patience;
    float lr, dropout, clip, val_frac;
    uint64_t seed;
    int select_on_test;          /* the Time-Series-Library's protocol, for comparison with its published
                                  * figures only: no validation split (all of TRAIN trains) and the epoch is
                                  * chosen on TEST accuracy, so the TEST figure is optimistic */
    int allow_nonfinite;         /* write non-finite predicted probabilities (else an error) */
    aaren_uea_limits limits;     /* classes and case length accepted from the files [the defaults] */
} aaren_classify_options;

/* Aaren d_model 64, 4 heads, 2 layers, d_ff 128; batch 16, 100 epochs, patience 15,
 * lr 1e-3, dropout 0.1, clip 4, val_frac 0.2, seed 1; selection on the validation split. */
void aaren_classify_options_init(aaren_classify_options *o);

typedef struct {
    double val_acc, val_loss;    /* at the best epoch (select_on_test: TEST's, the figures that chose it) */
    double test_acc, test_loss;
    double majority_acc;         /* test accuracy of always answering the training part's most frequent class */
    int epochs_run, best_epoch;
    int n_train, n_val, n_test;
    double seconds;              /* training and evaluation */
    size_t n_params;
    int stopped;                 /* io->stop_after ended the run early: no test figures */
} aaren_classify_result;

/* The classifier type and what a trained one does (load, predict, save) are public:
 * aaren_tasks.h. Training it from files: */

/* Reads both files and builds the model; the files must agree on dimensions, and every TEST
 * label must be one of TRAIN's. */
aaren_classifier *aaren_classifier_new(const aaren_classify_options *o, char *err, size_t errlen);
const aaren_uea *aaren_classifier_test_data(const aaren_classifier *c);

/* Trains with early stopping (aaren_fit: checkpoints, resume, log and progress as io says;
 * NULL: silent) and evaluates on TEST. confusion [n_classes * n_classes] (NULL: not wanted)
 * receives TEST counts, row = true class, column = predicted. */
int aaren_classifier_run(aaren_classifier *c, aaren_classify_result *r, long *confusion, const aaren_fit_io *io,
                         char *err, size_t errlen);
#endif
