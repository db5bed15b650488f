"""Writes the classification table (mean +- std test accuracy over seeds, both architectures
side by side) from the runs CSV of scripts/reproduce_classification.sh.
usage: summarize_classification.py RUNS.csv OUT.md"""
import platform
import statistics
import sys
from results_table import mean_std, read_groups, write_md

PAPER_SET = {"Handwriting", "JapaneseVowels", "UWaveGestureLibrary"}


fmt = mean_std


def main(src, dst):
    groups = read_groups(src, "data", "arch")
    datasets = sorted({k[0] for k in groups}, key=lambda d: (d not in PAPER_SET, d))
    out = ["# Time-series classification (UEA): Aaren vs Transformer", "",
           "Produced by `bash scripts/reproduce_classification.sh` (every run is a row of "
           "`results/classification_runs.csv`, with its seed, split sizes, epochs, run time and thread count).", "",
           "Protocol: the archive's TRAIN/TEST split; a stratified 20% of TRAIN (per seed) is the validation "
           "split for early stopping and model selection; TEST is used once, after training (TSLib instead "
           "selects on TEST; we do not copy that). Each dimension standardised with the training part's "
           "statistics; missing values linearly interpolated. Model, the same for both architectures: linear "
           "embedding of each step, the encoder (d_model 64, 4 heads, 2 layers, d_ff 128, dropout 0.1), a "
           "linear head on the output at each case's last valid step (unequal lengths batched with masks). "
           "Training: cross-entropy, batch 16, Adam lr 1e-3, gradient norm clipped at 4, at most 100 epochs, "
           "patience 15 on validation accuracy.", "",
           f"Machine of the summary: {platform.machine()}, {platform.system()}; see the CSV for threads and seconds per run.",
           "Values are test accuracy, mean ± sample standard deviation over seeds; n is the number of seeds run so far. "
           "Data sets marked * are not among the paper's ten (substitutes from the same archive).", "",
           "| data set | train/val/test | Aaren accuracy | Transformer accuracy | majority class | epochs (A / T) | s/run (A / T) |",
           "|---|---|---|---|---|---|---|"]
    for ds in datasets:
        a, t = groups.get((ds, "aaren"), []), groups.get((ds, "transformer"), [])
        first = (a or t)[0]
        mean = lambda rs, k, p: f"{statistics.mean(float(r[k]) for r in rs):.{p}f}" if rs else "-"
        name = ds if ds in PAPER_SET else ds + " *"
        out.append(f"| {name} | {first['n_train']}/{first['n_val']}/{first['n_test']} | "
                   f"{fmt([float(r['test_acc']) for r in a])} | {fmt([float(r['test_acc']) for r in t])} | "
                   f"{float(first['majority_acc']):.3f} | {mean(a, 'epochs_run', 0)} / {mean(t, 'epochs_run', 0)} | "
                   f"{mean(a, 'seconds', 1)} / {mean(t, 'seconds', 1)} |")
    out.append("")
    write_md(dst, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
