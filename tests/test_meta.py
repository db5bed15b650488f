"""Checkpoint metadata is read strictly: every number a command reads from a checkpoint
(the encoder's aaren.*, the sequence model's seq.*, a run's fit.*, classify.* and tpp.*)
must be the whole value, finite and in range; anything else is an error naming the file,
the key and the value, and nothing is written. Also the global --threads option's errors."""
import argparse
import json
import os
import struct
import sys
import tempfile
from pycheck import check, done, run


def with_meta(src, dst, **changes):
    """Copies the safetensors file src to dst with metadata keys changed (dots as '__')."""
    with open(src, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    for k, v in changes.items():
        header["__metadata__"][k.replace("__", ".")] = v
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(dst, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + blob[8 + n:])
    return dst


def check_train(a, d):
    run_ckpt, bad, out = (os.path.join(d, n) for n in ("run.safetensors", "bad.safetensors", "out.safetensors"))
    common = ["train", "--d-model", "8", "--n-heads", "2", "--n-layers", "1", "--d-ff", "16", "--batch", "2",
              "--tokens", "8", "--seed", "3"]
    r = run([a] + common + ["--steps", "4", "--stop-after", "2", "--save", run_ckpt])
    check(r.returncode == 0, f"a run checkpoint at step 2 ({r.stderr.strip()[:200]})")

    def refused(what, want, **changes):
        with_meta(run_ckpt, bad, **changes)
        if os.path.exists(out):
            os.remove(out)
        r = run([a] + common + ["--steps", "4", "--resume", bad, "--save", out])
        check(r.returncode == 1 and "bad.safetensors: " + want in r.stderr and not os.path.exists(out)
              and "step      3/4" not in r.stdout, f"{what} is refused before any training: {r.stderr.strip()}")

    for value in ("-1000", "abc", "99999999999999999999", "1000000000001", " 2", "2 ", "2.0", "", "0x2", "+-2"):
        refused(f"fit.step {value!r}", f"metadata 'fit.step' is '{value}'; expected an integer from 0 to 1000000000000",
                fit__step=value)
    # The random state: exactly 16 hex digits (strtoull alone takes signs, spaces, 0x and short values).
    for value in ("", "1", "0123456789abcde", "0123456789abcdef0", "-123456789abcdef", "+123456789abcdef",
                  " 123456789abcdef", "0x23456789abcdef", "0123456789abcdeg", "zzzzzzzzzzzzzzzz", "0123456789abcde\n",
                  "1e300"):
        shown = value.replace("\n", "?")   # control characters are shown as '?'
        refused(f"fit.rng {value!r}", f"metadata 'fit.rng' is '{shown}'; expected 16 hex digits", fit__rng=value)
    for key, value, want in (("fit__pos", "1x", "metadata 'fit.pos' is '1x'; expected an integer from 0"),
                             ("fit__epoch", "-1", "metadata 'fit.epoch' is '-1'; expected an integer from 0"),
                             ("fit__sum", "nan", "metadata 'fit.sum' is 'nan'; expected a number"),
                             ("fit__count", "1e3", "metadata 'fit.count' is '1e3'; expected an integer from 0")):
        refused(f"{key.replace('__', '.')} {value!r}", want, **{key: value})
    for value in ("2", "0"):
        with_meta(run_ckpt, bad, fit__step=value)
        r = run([a] + common + ["--steps", "4", "--resume", bad, "--save", out])
        resumed = f"at step {value}" in r.stdout if value != "0" else "step      1/4" in r.stdout
        check(r.returncode == 0 and resumed, f"fit.step {value!r} resumes ({r.stderr.strip()[:200]})")
    with_meta(run_ckpt, bad, fit__rng="FEDCBA9876543210")
    r = run([a] + common + ["--steps", "4", "--resume", bad, "--save", out])
    check(r.returncode == 0, f"fit.rng 'FEDCBA9876543210' resumes ({r.stderr.strip()[:200]})")
    for key, value, word in (("aaren__n_heads", "2 ", "metadata 'aaren.n_heads' is '2 '"),
                             ("aaren__d_model", "8abc", "metadata 'aaren.d_model' is '8abc'; expected an integer from 1 to 1000000000"),
                             ("aaren__ln_eps", "1e-5x", "metadata 'aaren.ln_eps' is '1e-5x'; expected a number"),
                             ("aaren__ln_eps", "nan", "metadata 'aaren.ln_eps' is 'nan'"),
                             ("aaren__ln_eps", "0", "metadata 'aaren.ln_eps' is '0'")):
        with_meta(run_ckpt, bad, **{key: value})
        r = run([a, "info", bad])
        check(r.returncode == 1 and word in r.stderr and "bad.safetensors" in r.stderr,
              f"info refuses {key.replace('__', '.')} {value!r}: {r.stderr.strip()}")


def check_classify(a, d):
    ts = os.path.join(d, "S_TRAIN.ts")
    lines = ["@problemName S", "@timeStamps false", "@missing false", "@univariate true", "@equalLength true",
             "@classLabel true up down", "@data"]
    for i in range(12):
        sign = 1 if i % 2 == 0 else -1
        lines.append(",".join(f"{sign * t * 0.2 + 0.01 * i:.3f}" for t in range(6)) + (":up" if sign > 0 else ":down"))
    with open(ts, "w") as f:
        f.write("\n".join(lines) + "\n")
    model, bad, preds = (os.path.join(d, n) for n in ("c.safetensors", "cbad.safetensors", "p.csv"))
    r = run([a, "classify", "--train", ts, "--test", ts, "--d-model", "8", "--n-heads", "2", "--n-layers", "1",
             "--d-ff", "8", "--epochs", "1", "--quiet", "--save", model])
    check(r.returncode == 0, f"a small classifier ({r.stderr.strip()[:200]})")
    for key, value, word in (("seq__d_in", "1abc", "metadata 'seq.d_in' is '1abc'; expected an integer from 1 to 1048576"),
                             ("seq__d_out", "0", "metadata 'seq.d_out' is '0'"),
                             ("classify__dims", "1abc", "metadata 'classify.dims' is '1abc'; expected an integer from 1"),
                             ("classify__dims", "2", "classify.dims 2 differs from the model's input width 1"),
                             ("classify__mean", "0.1x", "metadata 'classify.mean': value 1 is '0.1x'; expected a number"),
                             ("classify__std", "1,2", "metadata 'classify.std' holds 2 comma-separated values; expected 1"),
                             ("classify__std", "inf", "metadata 'classify.std': value 1 is 'inf'")):
        with_meta(model, bad, **{key: value})
        r = run([a, "classify", "--model", bad, "--predict", ts, "--predictions", preds])
        check(r.returncode == 1 and word in r.stderr and "cbad.safetensors" in r.stderr and not os.path.exists(preds),
              f"{key.replace('__', '.')} {value!r} is refused: {r.stderr.strip()}")
    r = run([a, "classify", "--model", model, "--predict", ts, "--predictions", preds])
    check(r.returncode == 0 and os.path.exists(preds), "the unedited checkpoint predicts")


def check_events(a, d):
    model, bad = os.path.join(d, "ev.safetensors"), os.path.join(d, "evbad.safetensors")
    r = run([a, "events", "--sin", "--sin-seqs", "20", "--d-model", "8", "--n-heads", "2", "--n-layers", "1",
             "--d-ff", "8", "--epochs", "1", "--quiet", "--save", model])
    check(r.returncode == 0, f"a small event model ({r.stderr.strip()[:200]})")
    for key, value, word in (("tpp__K", "2.5", "metadata 'tpp.K' is '2.5'; expected an integer from 1 to 64"),
                             ("tpp__n_marks", "0x1", "metadata 'tpp.n_marks' is '0x1'"),
                             ("tpp__time_scale", "1e-3x", "metadata 'tpp.time_scale' is '1e-3x'; expected a number"),
                             ("tpp__time_scale", "0", "metadata 'tpp.time_scale' is '0'"),
                             ("tpp__loc", "inf", "metadata 'tpp.loc' is 'inf'"),
                             ("tpp__scale", "-1", "metadata 'tpp.scale' is '-1'"),
                             ("tpp__max_len", "100 ", "metadata 'tpp.max_len' is '100 '")):
        with_meta(model, bad, **{key: value})
        r = run([a, "events", "--model", bad, "--stream"], stdin="0.5\n")
        check(r.returncode == 1 and word in r.stderr and "evbad.safetensors" in r.stderr and "next_mean" not in r.stdout,
              f"{key.replace('__', '.')} {value!r} is refused: {r.stderr.strip()}")
    r = run([a, "events", "--model", model, "--stream"], stdin="0.5\n")
    check(r.returncode == 0, "the unedited checkpoint streams")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aaren", required=True)
    a = ap.parse_args().aaren
    for value in ("0", "1x", "", "1025", " 2"):
        r = run([a, "--threads", value, "info", "x.safetensors"])
        check(r.returncode == 2 and r.stderr.startswith(f"aaren: --threads '{value}' must be an integer from 1 to 1024"),
              f"--threads {value!r}: {r.stderr.strip()}")
    r = run([a, "--threads"])
    check(r.returncode == 2 and r.stderr.startswith("aaren: option --threads needs a value"), f"--threads alone: {r.stderr.strip()}")
    r = run([a, "--threads", "2", "--version"])
    check(r.returncode == 0 and "threads" in r.stdout, "--threads 2 is accepted")
    with tempfile.TemporaryDirectory() as d:
        check_train(a, d)
        check_classify(a, d)
        check_events(a, d)
    return done("test_meta")


if __name__ == "__main__":
    sys.exit(main())
