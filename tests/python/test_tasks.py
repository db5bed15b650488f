"""aaren.Classifier on a checkpoint the tool trained: the same predictions as
`aaren classify --model ... --predictions`."""
import csv

import numpy as np
import pytest

import aaren
from conftest import run


def write_ts(path, cases, labels):
    lines = ["@problemName S", "@timeStamps false", "@missing false", f"@univariate {'true' if cases[0].shape[0] == 1 else 'false'}",
             "@equalLength false", "@classLabel true up down", "@data"]
    for c, lab in zip(cases, labels):
        lines.append(":".join(",".join(f"{v:.6g}" for v in row) for row in c) + f":{lab}")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def trained(tmp_path, cli):
    rng = np.random.default_rng(3)
    cases, labels = [], []
    for i in range(40):
        L = int(rng.integers(5, 12))
        sign = 1 if i % 2 == 0 else -1
        c = (sign * np.linspace(0, 1, L)[None, :] + 0.3 * rng.standard_normal((2, L))).astype(np.float32)
        cases.append(np.round(c, 4).astype(np.float32))
        labels.append("up" if sign > 0 else "down")
    ts = tmp_path / "S_TRAIN.ts"
    write_ts(ts, cases, labels)
    model = tmp_path / "c.safetensors"
    run([cli, "classify", "--train", ts, "--test", ts, "--d-model", 8, "--n-heads", 2, "--n-layers", 1, "--d-ff", 8,
         "--epochs", 3, "--quiet", "--save", model])
    return ts, model, cases, labels


def test_classifier_matches_the_tool(tmp_path, cli, trained):
    ts, model, cases, labels = trained
    preds = tmp_path / "p.csv"
    run([cli, "classify", "--model", model, "--predict", ts, "--predictions", preds])
    with open(preds) as f:
        rows = list(csv.DictReader(f))
    with aaren.Classifier.load(model) as c:
        assert sorted(c.classes_) == ["down", "up"] and c.n_dims == 2
        p = c.predict_proba(cases)
        assert p.shape == (40, 2) and np.allclose(p.sum(axis=1), 1, atol=1e-6)
        got = c.predict(cases)
        for i, r in enumerate(rows):
            assert got[i] == r["predicted"], i
            assert abs(float(p[i].max()) - float(r["probability"])) < 2e-6, i
        n, acc = c.predict_file(ts)
        assert n == 40 and acc == np.mean([r["predicted"] == r["label"] for r in rows])
        c.save(tmp_path / "again.safetensors")
    with aaren.Classifier.load(tmp_path / "again.safetensors") as c2:
        assert np.array_equal(c2.predict_proba(cases), p)


def test_classifier_errors(tmp_path, trained):
    ts, model, cases, _ = trained
    c = aaren.Classifier.load(model)
    with pytest.raises(TypeError):
        c.predict_proba([cases[0].astype(np.float64)])
    with pytest.raises(ValueError):
        c.predict_proba([cases[0][:1]])   # one channel for a two-channel model
    with pytest.raises(aaren.AarenError, match="missing.ts"):
        c.predict_file(tmp_path / "missing.ts")
    with pytest.raises(aaren.AarenError, match="classify"):
        m = aaren.Model.init(d_model=8, n_heads=2, n_layers=1, d_ff=8)
        m.save(tmp_path / "enc.safetensors")
        aaren.Classifier.load(tmp_path / "enc.safetensors")
    c.close()
    with pytest.raises(aaren.AarenError, match="closed"):
        c.predict(cases)
