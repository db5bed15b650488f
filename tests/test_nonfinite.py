"""Non-finite outputs on the command line: encode, grad, events (--stream, --predict-seq),
classify --predictions and forecast --plot refuse to write nan or inf, name the first bad
position, exit 1 and leave no output file; --allow-nonfinite writes them. Every command that
takes the flag lists it in its --help. Also the forecaster on sizes that leave an odd number
of floats before its index array (an alignment fault under UBSan)."""
import argparse
import math
import os
import re
import struct
import sys
import tempfile
from pycheck import check, done, npy_read, npy_write, run


def remove(path):
    if os.path.exists(path):
        os.remove(path)


def tokens(B, N, D, big_at=None):
    """Small smooth values; token big_at = (b, t) set to 3e38 in every column."""
    v = []
    for b in range(B):
        for t in range(N):
            for c in range(D):
                v.append(3e38 if big_at == (b, t) else 0.3 * math.sin(1.7 * b + 0.9 * t + 0.4 * c))
    return v


def check_encode(a, d):
    model = os.path.join(d, "m.safetensors")
    for arch in ("aaren", "transformer"):
        r = run([a, "init", "--arch", arch, "--d-model", "8", "--n-heads", "2", "--n-layers", "2", "--d-ff", "16",
                 "--output", model])
        check(r.returncode == 0, f"{arch}: init ({r.stderr.strip()})")
        x, y = os.path.join(d, "x.npy"), os.path.join(d, "y.npy")
        npy_write(x, (2, 6, 8), tokens(2, 6, 8, big_at=(1, 3)))
        # The Transformer's blocked scan multiplies masked (zero) probabilities by the values of
        # later tokens, so an infinite value there turns earlier rows of its block into nan:
        # only its first bad row is not fixed.
        for mode in ("scan", "stream", "naive"):
            r = run([a, "encode", "--model", model, "--input", x, "--output", y, "--mode", mode])
            where = r"row \d+ \(batch 1, token \d\)" if arch == "transformer" and mode == "scan" else r"row 9 \(batch 1, token 3\)"
            ok = re.search(r"y\.npy not written: output " + where + r", column \d+ is (nan|inf|-inf) "
                           r"\(--allow-nonfinite", r.stderr)
            check(r.returncode == 1 and ok and not os.path.exists(y),
                  f"{arch} encode --mode {mode}: a finite 3e38 input (batch 1, token 3) gives an error naming the "
                  f"first bad row and no file: {r.stderr.strip()}")
        r = run([a, "encode", "--model", model, "--input", x, "--output", y, "--allow-nonfinite", "--mode", "naive"])
        vals = npy_read(y) if os.path.exists(y) else []
        check(r.returncode == 0 and len(vals) == 96 and all(math.isfinite(v) for v in vals[:72])
              and not all(math.isfinite(v) for v in vals[72:80]),
              f"{arch} encode --allow-nonfinite writes the non-finite row, the rows before it finite")
        remove(y)
        # a 2-D input names row and column
        npy_write(x, (5, 8), tokens(1, 5, 8, big_at=(0, 2)))
        r = run([a, "encode", "--model", model, "--input", x, "--output", y, "--mode", "stream"])
        check(r.returncode == 1 and re.search(r"output row 2, column \d+ is", r.stderr) and not os.path.exists(y),
              f"{arch} encode of [N, D]: {r.stderr.strip()}")
        # finite outputs still go through
        npy_write(x, (2, 6, 8), tokens(2, 6, 8))
        r = run([a, "encode", "--model", model, "--input", x, "--output", y])
        check(r.returncode == 0 and os.path.exists(y), "encode of ordinary input writes its output")
        remove(y)


def check_grad(a, d):
    model, x, g, out = (os.path.join(d, n) for n in ("m.safetensors", "x.npy", "g.npy", "grads.safetensors"))
    run([a, "init", "--arch", "aaren", "--d-model", "8", "--n-heads", "2", "--n-layers", "1", "--d-ff", "16",
         "--output", model])
    npy_write(x, (2, 4, 8), tokens(2, 4, 8))
    npy_write(g, (2, 4, 8), [3e38] * 64)
    r = run([a, "grad", "--model", model, "--input", x, "--grad-output", g, "--output", out])
    check(r.returncode == 1 and re.search(r"grads\.safetensors not written: the gradient of '[a-z0-9_.]+' at \[[0-9, ]+\] "
                                          r"is (nan|inf|-inf)", r.stderr) and not os.path.exists(out),
          f"grad with a huge grad-output names the first bad gradient and writes nothing: {r.stderr.strip()}")
    r = run([a, "grad", "--model", model, "--input", x, "--grad-output", g, "--output", out, "--allow-nonfinite"])
    check(r.returncode == 0 and os.path.exists(out), "grad --allow-nonfinite writes the file")
    remove(out)
    npy_write(g, (2, 4, 8), tokens(2, 4, 8))
    r = run([a, "grad", "--model", model, "--input", x, "--grad-output", g, "--output", out])
    check(r.returncode == 0 and os.path.exists(out), "grad of ordinary input writes its output")


def check_events(a, d):
    model = os.path.join(d, "ev.safetensors")
    r = run([a, "events", "--sin", "--sin-seqs", "30", "--d-model", "8", "--n-heads", "2", "--n-layers", "1",
             "--d-ff", "8", "--epochs", "1", "--quiet", "--save", model])
    check(r.returncode == 0, f"a small event model trains ({r.stderr.strip()[:200]})")
    r = run([a, "events", "--model", model, "--stream"], stdin="-1e308\n1e308\n2\n")
    lines = [l for l in r.stdout.splitlines() if not l.startswith("#")]
    check(r.returncode == 1 and "stdin line 2 (event 1): the prediction next_mean is nan" in r.stderr
          and len(lines) == 1 and "streamed" not in r.stdout,
          f"--stream stops at the first non-finite prediction, naming it: {r.stderr.strip()}")
    r = run([a, "events", "--model", model, "--stream", "--allow-nonfinite"], stdin="-1e308\n1e308\n")
    lines = [l for l in r.stdout.splitlines() if not l.startswith("#")]
    check(r.returncode == 0 and len(lines) == 2 and "nan" in lines[1], "--stream --allow-nonfinite prints it")
    for text, word in (("1.0 3x\n", "mark '3x'"), ("1e400\n", "time '1e400' is not a finite number"),
                       ("0.5\n1.0 2 7\n", "line 2: unexpected text '7'"), ("nan\n", "time 'nan'")):
        r = run([a, "events", "--model", model, "--stream"], stdin=text)
        check(r.returncode == 1 and word in r.stderr, f"--stream refuses {text.strip()!r}: {r.stderr.strip()}")
    csv = os.path.join(d, "ev.csv")
    with open(csv, "w") as f:
        f.write("seq_id,time\n")
        for s in range(9):
            for i in range(6):
                f.write(f"{s},{0.7 * i + 0.1 * s:.3f}\n")
        f.write("9,-1e308\n9,1e308\n9,1e308\n")
    r = run([a, "events", "--model", model, "--data", csv, "--predict-seq", "9"])
    check(r.returncode == 1 and "sequence 9, event 1: the prediction next_mean is nan; nothing printed" in r.stderr
          and "next_mean" not in r.stdout, f"--predict-seq names the first non-finite prediction: {r.stderr.strip()}")
    r = run([a, "events", "--model", model, "--data", csv, "--predict-seq", "9", "--allow-nonfinite"])
    check(r.returncode == 0 and len([l for l in r.stdout.splitlines() if not l.startswith("#")]) == 3,
          "--predict-seq --allow-nonfinite prints them")
    r = run([a, "events", "--model", model, "--data", csv, "--predict-seq", "3"])
    check(r.returncode == 0, "--predict-seq of an ordinary sequence")


def write_ts(path, n, seed, big=False):
    lines = ["@problemName Slopes", "@timeStamps false", "@missing false", "@univariate false", "@dimensions 2",
             "@equalLength false", "@classLabel true up down", "@data"]
    for i in range(n):
        label = ("up", "down")[i % 2]
        L = 5 + (i * 7 + seed) % 5
        dims = []
        for k in range(2):
            vals = ["3e38" if big and t == L - 1 else f"{(1 if label == 'up' else -1) * t / L + 0.1 * math.sin(i + t + k):.4f}"
                    for t in range(L)]
            dims.append(",".join(vals))
        lines.append(":".join(dims) + ":" + label)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def check_classify(a, d):
    tr, te, big = (os.path.join(d, n) for n in ("S_TRAIN.ts", "S_TEST.ts", "big.ts"))
    write_ts(tr, 20, 1)
    write_ts(te, 10, 2)
    write_ts(big, 6, 3, big=True)
    model, preds = os.path.join(d, "c.safetensors"), os.path.join(d, "preds.csv")
    r = run([a, "classify", "--train", tr, "--test", te, "--d-model", "8", "--n-heads", "2", "--n-layers", "1",
             "--d-ff", "8", "--epochs", "2", "--quiet", "--save", model])
    check(r.returncode == 0, f"a small classifier trains ({r.stderr.strip()[:200]})")
    r = run([a, "classify", "--model", model, "--predict", big, "--predictions", preds])
    check(r.returncode == 1 and re.search(r"preds\.csv: not written: case 0 of .*big\.ts: the probability of class '.*' is "
                                          r"(nan|inf)", r.stderr) and not os.path.exists(preds),
          f"classify --predictions refuses non-finite probabilities: {r.stderr.strip()}")
    r = run([a, "classify", "--model", model, "--predict", big, "--predictions", preds, "--allow-nonfinite"])
    check(r.returncode == 0 and os.path.exists(preds), "classify --allow-nonfinite writes them")
    remove(preds)
    r = run([a, "classify", "--model", model, "--predict", te, "--predictions", preds])
    check(r.returncode == 0 and os.path.exists(preds), "classify --predictions of ordinary cases")


def check_forecast(a, d):
    csv = os.path.join(d, "series.csv")
    # training rows of amplitude 100; the last 16 rows alternate between +-3e38 (finite)
    with open(csv, "w") as f:
        f.write("date,a,b,OT\n")
        for i in range(60):
            v = [100 * math.sin(i / 3), 100 * math.cos(i / 5), 100 * math.sin(i / 4)]
            if i >= 44:
                v = [3e38 if i % 2 else -3e38] * 3
            f.write(f"2020-01-{1 + i // 24:02d} {i % 24:02d}:00:00," + ",".join(f"{x:.6g}" for x in v) + "\n")
    # batch 7 and these sizes leave an odd number of floats before the window index array
    base = [a, "forecast", "--data", csv, "--features", "MS", "--seq-len", "5", "--pred-len", "3",
            "--steps-per-epoch", "0", "--batch", "7", "--d-model", "4", "--n-heads", "2", "--n-layers", "1",
            "--d-ff", "3", "--epochs", "1", "--quiet"]
    r = run(base)
    check(r.returncode == 0 and "test MSE" in r.stdout, f"forecast with odd sizes runs ({r.stderr.strip()[-300:]})")
    refused = None
    for w in range(1, 10):
        prefix = os.path.join(d, f"plot{w}")
        r = run(base + ["--plot", prefix, "--window", str(w)])
        m = re.search(rf"plot{w}\.csv not written: test window {w}: the forecast at step \d of column OT is (nan|inf|-inf)",
                      r.stderr)
        if r.returncode == 1 and m and not os.path.exists(prefix + ".csv"):
            refused = w
            break
        check(r.returncode == 0 and os.path.exists(prefix + ".csv"), f"window {w}: either plotted or refused with a "
              f"message: {r.stderr.strip()[-300:]}")
    check(refused is not None, "a forecast overflowing float32 is refused by --plot, naming the window and step")
    if refused is not None:
        prefix = os.path.join(d, f"plot{refused}")
        r = run(base + ["--plot", prefix, "--window", str(refused), "--allow-nonfinite"])
        text = ""
        if os.path.exists(prefix + ".csv"):
            with open(prefix + ".csv") as f:
                text = f.read()
        check(r.returncode == 0 and ("inf" in text or "nan" in text), "--plot --allow-nonfinite writes it")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aaren", required=True)
    a = ap.parse_args().aaren
    for cmd in (["encode"], ["grad"], ["events"], ["classify"], ["forecast"], ["demo", "--data", "x.csv"]):
        r = run([a] + cmd + ["--help"])
        check(r.returncode == 0 and "--allow-nonfinite" in r.stdout, f"aaren {' '.join(cmd)} --help lists --allow-nonfinite")
    with tempfile.TemporaryDirectory() as d:
        check_encode(a, d)
        check_grad(a, d)
        check_events(a, d)
        check_classify(a, d)
        check_forecast(a, d)
    return done("test_nonfinite")


if __name__ == "__main__":
    sys.exit(main())
