"""aaren.SeqModel: training on numpy arrays through the library's engine (aaren_fit)."""
import numpy as np
import pytest

import aaren
from conftest import rel_err, run

SMALL = dict(d_model=16, n_heads=2, n_layers=1, d_ff=32)


def running_max(n, N=20, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, N, 1)).astype(np.float32)
    return x, np.maximum.accumulate(x, axis=1)


def test_fit_learns_and_keeps_the_best_weights(tmp_path):
    x, y = running_max(240)
    m = aaren.SeqModel(1, 1, seed=1, **SMALL)
    before = m.loss(x[200:], y[200:])
    h = m.fit(x[:200], y[:200], validation=(x[200:], y[200:]), epochs=6, batch=16, lr=3e-3, patience=2,
              log=tmp_path / "log.csv")
    assert len(h["loss"]) == h["steps"] == 6 * 13 and len(h["val_loss"]) == 6
    assert min(h["val_loss"]) < before / 4
    # The model ends with the weights of its best validation epoch.
    assert abs(m.loss(x[200:], y[200:]) - min(h["val_loss"])) < 1e-5 * max(1.0, min(h["val_loss"]))
    assert (tmp_path / "log.csv").read_text().startswith("kind,step,epoch,loss")


def test_fit_is_reproducible_and_seeded():
    x, y = running_max(64, seed=2)
    runs = []
    for seed in (1, 1, 2):
        m = aaren.SeqModel(1, 1, seed=3, **SMALL)
        runs.append(m.fit(x, y, epochs=2, batch=8, dropout=0.1, seed=seed)["loss"])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_classification_last_token(tmp_path, cli):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((160, 12, 2)).astype(np.float32)
    labels = (x[:, :, 0].sum(axis=1) > 0).astype(np.int64)
    lengths = rng.integers(6, 13, size=160)
    m = aaren.SeqModel(2, 2, seed=1, **SMALL)
    h = m.fit(x, labels, lengths=lengths, loss="ce", last_only=True, epochs=8, batch=16, lr=3e-3,
              save=tmp_path / "run.safetensors")
    assert h["loss"][-1] < h["loss"][0]
    p = m.predict(x, lengths=lengths, last_only=True)
    assert p.shape == (160, 2)
    # The run checkpoint is the model file: it loads here and in the tool.
    m2 = aaren.SeqModel.load(tmp_path / "run.safetensors")
    assert rel_err(m2.predict(x, lengths=lengths, last_only=True), p) < 1e-6
    m.save(tmp_path / "m.safetensors")
    assert "d_model       16" in run([cli, "info", tmp_path / "m.safetensors"]).stdout
    emb = m2.encoder  # the encoder of the saved model equals the tool's encode of the same file
    np.save(tmp_path / "e.npy", np.zeros((5, 16), np.float32))
    run([cli, "encode", "--model", tmp_path / "m.safetensors", "--input", tmp_path / "e.npy",
         "--output", tmp_path / "o.npy"])
    assert rel_err(emb.encode(np.zeros((5, 16), np.float32)), np.load(tmp_path / "o.npy")) < 1e-6


def test_fit_errors():
    x, y = running_max(16)
    m = aaren.SeqModel(1, 1, seed=1, **SMALL)
    with pytest.raises(TypeError):
        m.fit(x.astype(np.float64), y)
    with pytest.raises(ValueError):
        m.fit(x, y[:, :5])
    with pytest.raises(ValueError):
        m.fit(x, y, loss="hinge")
    with pytest.raises(ValueError):
        m.fit(x, y, lengths=np.full(16, 99))
    with pytest.raises(aaren.AarenError, match="label 5"):
        aaren.SeqModel(1, 3, seed=1, **SMALL).fit(x, np.full(16, 5), loss="ce", last_only=True)
    with pytest.raises(aaren.AarenError, match="epochs"):
        m.fit(x, y, epochs=0)
    with pytest.raises(aaren.AarenError, match="missing.safetensors"):
        aaren.SeqModel.load("missing.safetensors")
    enc = m.encoder
    m.close()
    with pytest.raises(aaren.AarenError, match="closed"):
        m.fit(x, y)
    with pytest.raises(aaren.AarenError, match="closed"):
        enc.encode(np.zeros((2, 16), np.float32))
