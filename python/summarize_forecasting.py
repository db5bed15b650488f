"""Writes the forecasting table (mean +- std over seeds, both architectures side by side,
one table per horizon) from the runs CSV of scripts/reproduce_forecasting.sh.
usage: summarize_forecasting.py RUNS.csv OUT.md"""
import csv
import platform
import statistics
import sys
from collections import defaultdict

from results_table import mean_std, write_md


fmt = mean_std


def main(src, dst):
    with open(src, newline="") as f:
        rows = list(csv.DictReader(f))
    groups = defaultdict(list)
    for r in rows:
        groups[(r["data"].replace(".csv", ""), int(r["pred_len"]), r["arch"])].append(r)
    datasets = sorted({k[0] for k in groups})
    horizons = sorted({k[1] for k in groups})
    out = ["# Time-series forecasting: Aaren vs Transformer", "",
           "Produced by `bash scripts/reproduce_forecasting.sh` (every run is a row of "
           "`results/forecasting_runs.csv`, with its seed, epochs, run time and thread count).", "",
           "Protocol: TSLib splits (ETT 12/4/4 months, others 70/10/20), scaler fitted on the training rows, "
           "lookback 96, features M (all columns in and out), metrics on the dataset-scaled values. "
           "Model, the same for both architectures: per-window normalisation, linear embedding, the encoder "
           "(d_model 64, 4 heads, 2 layers, d_ff 128, dropout 0.1), a linear head on the last step. "
           "Training: batch 32, Adam lr 1e-3 halved every epoch, at most 10 epochs of 300 steps, early "
           "stopping on validation MSE with patience 3; the test split is used once, at the end.", "",
           f"Machine of the summary: {platform.machine()}, {platform.system()}; see the CSV for threads and seconds per run.",
           "Values are mean ± sample standard deviation over seeds; n is the number of seeds run so far.", ""]
    for h in horizons:
        out += [f"## Horizon {h}", "",
                "| data set | Aaren MSE | Transformer MSE | Aaren MAE | Transformer MAE | repeat-last MSE | s/run (A / T) |",
                "|---|---|---|---|---|---|---|"]
        for ds in datasets:
            a, t = groups.get((ds, h, "aaren"), []), groups.get((ds, h, "transformer"), [])
            if not a and not t:
                continue
            naive = (a or t)[0]["naive_mse"]
            sec = lambda rs: f"{statistics.mean(float(r['seconds']) for r in rs):.0f}" if rs else "-"
            out.append(f"| {ds} | {fmt([float(r['test_mse']) for r in a])} | {fmt([float(r['test_mse']) for r in t])} | "
                       f"{fmt([float(r['test_mae']) for r in a])} | {fmt([float(r['test_mae']) for r in t])} | "
                       f"{float(naive):.3f} | {sec(a)} / {sec(t)} |")
        out.append("")
    ref = groups.get(("ETTh1", 336, "aaren"), [])
    out += ["## Against the paper", "",
            "The one figure of the paper we could read: Aaren on ETTh1, horizon 336, MSE 0.65 / MAE 0.55 "
            "(TSLib's protocol and model sizes, far larger than ours)."]
    if ref:
        mse = statistics.mean(float(r["test_mse"]) for r in ref)
        mae = statistics.mean(float(r["test_mae"]) for r in ref)
        out.append(f"Ours, same data set and horizon: MSE {mse:.3f} / MAE {mae:.3f} (mean of {len(ref)} seeds), "
                   f"{'below' if mse < 0.65 else 'above'} the paper's MSE and "
                   f"{'below' if mae < 0.55 else 'above'} its MAE.")
    expected = {(ds, h, arch) for ds in datasets for h in horizons for arch in ("aaren", "transformer")}
    counts = sorted({len(groups.get(k, [])) for k in expected})
    out += ["", "## Completeness", "",
            f"Seeds per cell (data set x horizon x architecture) in this table: {', '.join(map(str, counts))}."]
    out.append("")
    write_md(dst, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
