"""The scikit-learn style estimators: trained through the library's task runs, they give the
same models and loss curves as the command-line tool on the same data and options; they
learn; parameters, save / load and errors behave."""
import csv

import numpy as np
import pytest

import aaren
from aaren.estimators import write_events_csv, write_series_csv, write_ts
from conftest import run

SMALL = dict(d_model=8, n_heads=2, n_layers=1, d_ff=16)
SMALL_CLI = ["--d-model", 8, "--n-heads", 2, "--n-layers", 1, "--d-ff", 16]


def train_losses(log):
    with open(log, newline="") as f:
        return [float(r["loss"]) for r in csv.DictReader(f) if r["kind"] == "train"]


def cases(n=40, seed=3):
    """Two classes of 2-channel series of unequal lengths: rising or falling."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for i in range(n):
        L = int(rng.integers(6, 14))
        sign = 1 if i % 2 == 0 else -1
        X.append((sign * np.linspace(0, 1, L)[None, :] + 0.3 * rng.standard_normal((2, L))).astype(np.float32))
        y.append("up" if sign > 0 else "down")
    return X, np.array(y)


def series(n=400, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return np.stack([np.sin(t / 6.0), np.cos(t / 9.0) + 0.1 * rng.standard_normal(n), 0.01 * t], 1)


def event_seqs(n=12, seed=0, marks=False):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        t = np.cumsum(rng.exponential(1.0, size=int(rng.integers(8, 16))))
        out.append((t, rng.integers(0, 3, size=t.size)) if marks else t)
    return out


def test_classifier_same_as_the_tool(tmp_path, cli):
    X, y = cases()
    ts = tmp_path / "S_TRAIN.ts"
    write_ts(ts, X, y)
    run([cli, "classify", "--train", ts, "--test", ts, *SMALL_CLI, "--epochs", 4, "--seed", 7, "--quiet",
         "--save", tmp_path / "cli.safetensors", "--log", tmp_path / "cli.csv"])
    est = aaren.AarenClassifier(**SMALL, epochs=4, seed=7, log=str(tmp_path / "py.csv")).fit(X, y)
    a, b = train_losses(tmp_path / "cli.csv"), train_losses(tmp_path / "py.csv")
    assert len(a) > 3 and a == b
    tool = aaren.AarenClassifier.load(tmp_path / "cli.safetensors")
    assert tool.get_params()["d_model"] == 8 and list(tool.classes_) == list(est.classes_) == ["down", "up"]
    assert np.array_equal(tool.predict_proba(X), est.predict_proba(X))


def test_classifier_learns_and_round_trips(tmp_path):
    X, y = cases(60)
    est = aaren.AarenClassifier(**SMALL, epochs=15, lr=3e-3).fit(X, y)
    Xt, yt = cases(40, seed=11)
    assert est.score(Xt, yt) >= 0.8          # chance is 0.5
    assert est.epochs_run_ >= 1 and 0 <= est.val_score_ <= 1
    p = est.predict_proba(Xt)
    assert p.shape == (40, 2) and np.allclose(p.sum(1), 1, atol=1e-5)
    est.save(tmp_path / "m.safetensors")
    again = aaren.AarenClassifier.load(tmp_path / "m.safetensors")
    assert np.array_equal(again.predict_proba(Xt), p)
    # an equal-length array in aeon's layout, float64 accepted
    Xa = np.stack([c[:, :6] for c in Xt]).astype(np.float64)
    assert est.predict(Xa).shape == (40,)


def test_forecaster_same_as_the_tool(tmp_path, cli):
    s = series()
    data = tmp_path / "series.csv"
    write_series_csv(data, s, ["a", "b", "c"])
    opts = dict(lookback=24, horizon=6, epochs=2, steps_per_epoch=10, seed=3)
    run([cli, "forecast", "--data", data, "--seq-len", 24, "--pred-len", 6, "--epochs", 2, "--steps-per-epoch", 10,
         "--seed", 3, *SMALL_CLI, "--quiet", "--save", tmp_path / "cli.safetensors", "--log", tmp_path / "cli.csv"])
    est = aaren.AarenForecaster(**opts, **SMALL, log=str(tmp_path / "py.csv"), columns=["a", "b", "c"]).fit(s)
    a, b = train_losses(tmp_path / "cli.csv"), train_losses(tmp_path / "py.csv")
    assert len(a) >= 10 and a == b
    tool = aaren.AarenForecaster.load(tmp_path / "cli.safetensors", columns=["a", "b", "c"])
    assert (tool.lookback, tool.horizon) == (24, 6)
    p = est.predict(s[-30:])
    assert p.shape == (6, 3) and np.array_equal(tool.predict(s[-30:]), p)


def test_forecaster_learns_and_round_trips(tmp_path):
    t = np.arange(600)
    s = np.stack([np.sin(2 * np.pi * t / 8), np.cos(2 * np.pi * t / 5)], 1) + \
        0.05 * np.random.default_rng(1).standard_normal((600, 2))
    est = aaren.AarenForecaster(lookback=24, horizon=4, epochs=4, steps_per_epoch=60, lr=3e-3, **SMALL).fit(s[:500])
    scores, naive = [], []
    for k in range(500, 590, 6):
        scores.append(est.score(s[k - 24:k], s[k:k + 4]))
        naive.append(-np.mean((s[k - 1] - s[k:k + 4]) ** 2))
    assert np.mean(scores) > np.mean(naive)       # better than repeating the last row
    est.save(tmp_path / "f.safetensors")
    again = aaren.AarenForecaster.load(tmp_path / "f.safetensors")
    assert np.array_equal(again.predict(s[-24:]), est.predict(s[-24:]))
    with pytest.raises(ValueError, match="looks back 24"):
        est.predict(s[-10:])
    with pytest.raises(ValueError, match="2 column names for 3 columns"):
        est.predict(np.ones((30, 3)))


def test_tpp_same_as_the_tool(tmp_path, cli):
    seqs = event_seqs(12, marks=True)
    data = tmp_path / "events.csv"
    write_events_csv(data, seqs)
    run([cli, "events", "--data", data, "--components", 2, "--epochs", 2, "--seed", 5, *SMALL_CLI, "--quiet",
         "--save", tmp_path / "cli.safetensors", "--log", tmp_path / "cli.csv"])
    est = aaren.AarenTPP(K=2, epochs=2, seed=5, **SMALL, log=str(tmp_path / "py.csv")).fit(seqs)
    a, b = train_losses(tmp_path / "cli.csv"), train_losses(tmp_path / "py.csv")
    assert len(a) >= 2 and a == b
    tool = aaren.AarenTPP.load(tmp_path / "cli.safetensors")
    assert tool.n_marks_ == est.n_marks_ == 3
    assert tool.predict_next(seqs[0]) == est.predict_next(seqs[0])
    assert tool.score(seqs) == est.score(seqs)
    # the tied mark head (--tie-marks): the tool's model again, and not the untied one
    run([cli, "events", "--data", data, "--components", 2, "--epochs", 2, "--seed", 5, *SMALL_CLI, "--quiet",
         "--tie-marks", "--save", tmp_path / "tied.safetensors", "--log", tmp_path / "tied_cli.csv"])
    tied = aaren.AarenTPP(K=2, epochs=2, seed=5, tie_marks=True, **SMALL, log=str(tmp_path / "tied_py.csv")).fit(seqs)
    t_cli, t_py = train_losses(tmp_path / "tied_cli.csv"), train_losses(tmp_path / "tied_py.csv")
    assert len(t_cli) >= 2 and t_cli == t_py and t_py != b
    assert aaren.AarenTPP.load(tmp_path / "tied.safetensors").predict_next(seqs[0]) == tied.predict_next(seqs[0])
    # the copy logit (--copy-mark), with the tied head: the tool's model again, and another curve
    run([cli, "events", "--data", data, "--components", 2, "--epochs", 2, "--seed", 5, *SMALL_CLI, "--quiet",
         "--tie-marks", "--copy-mark", "--save", tmp_path / "copy.safetensors", "--log", tmp_path / "copy_cli.csv"])
    copy = aaren.AarenTPP(K=2, epochs=2, seed=5, tie_marks=True, copy_mark=True, **SMALL,
                          log=str(tmp_path / "copy_py.csv")).fit(seqs)
    c_cli, c_py = train_losses(tmp_path / "copy_cli.csv"), train_losses(tmp_path / "copy_py.csv")
    assert len(c_cli) >= 2 and c_cli == c_py and c_py != t_py
    assert aaren.AarenTPP.load(tmp_path / "copy.safetensors").predict_next(seqs[0]) == copy.predict_next(seqs[0])
    # copy logits on the last 3 marks (copy_mark=3, --copy-lags 3): the tool's model again, another curve
    run([cli, "events", "--data", data, "--components", 2, "--epochs", 2, "--seed", 5, *SMALL_CLI, "--quiet",
         "--tie-marks", "--copy-lags", 3, "--save", tmp_path / "lags.safetensors", "--log", tmp_path / "lags_cli.csv"])
    lags = aaren.AarenTPP(K=2, epochs=2, seed=5, tie_marks=True, copy_mark=3, **SMALL,
                          log=str(tmp_path / "lags_py.csv")).fit(seqs)
    l_cli, l_py = train_losses(tmp_path / "lags_cli.csv"), train_losses(tmp_path / "lags_py.csv")
    assert len(l_cli) >= 2 and l_cli == l_py and l_py != c_py
    assert aaren.AarenTPP.load(tmp_path / "lags.safetensors").predict_next(seqs[0]) == lags.predict_next(seqs[0])
    with pytest.raises(ValueError, match="copy_mark"):
        aaren.AarenTPP(copy_mark=65, **SMALL).fit(seqs)


def test_tpp_learns_and_round_trips(tmp_path):
    rng = np.random.default_rng(2)
    # gaps alternate 0.5 and 3: the next gap depends on the history, which a model must read
    seqs = [np.cumsum(np.where((np.arange(20) + i) % 2 == 0, 0.5, 3.0) * np.exp(0.05 * rng.standard_normal(20)))
            for i in range(40)]
    untrained = aaren.AarenTPP(K=2, epochs=1, lr=1e-6, **SMALL).fit(seqs)
    est = aaren.AarenTPP(K=2, epochs=20, lr=3e-3, **SMALL).fit(seqs)
    assert est.val_score_ < untrained.val_score_ - 1.0          # validation NLL per event
    assert est.score(seqs[-6:]) > untrained.score(seqs[-6:])    # -RMSE of the next gap
    nxt = est.predict_next(seqs[0][:10])                          # the next gap is 0.5
    assert nxt["q10"] <= nxt["median"] <= nxt["q90"] and nxt["mark"] == -1 and nxt["p_mark"] is None
    assert abs(nxt["median"] - 0.5) < 0.3
    assert est.predict(seqs[:3]).shape == (3,)
    est.save(tmp_path / "t.safetensors")
    assert aaren.AarenTPP.load(tmp_path / "t.safetensors").predict_next(seqs[1]) == est.predict_next(seqs[1])
    with pytest.raises(ValueError, match="must not decrease"):
        est.predict_next(np.array([1.0, 0.5]))
    with pytest.raises(ValueError, match="unmarked"):
        est.predict_next((seqs[0], np.zeros(20, int)))


def test_params_and_errors(tmp_path):
    est = aaren.AarenClassifier(d_model=8, epochs=3)
    assert est.get_params()["d_model"] == 8 and est.get_params()["epochs"] == 3
    assert est.set_params(epochs=5, lr=0.01) is est and est.epochs == 5 and est.lr == 0.01
    with pytest.raises(ValueError, match="no parameter 'depth'"):
        est.set_params(depth=3)
    assert "AarenClassifier(arch='aaren', d_model=8" in repr(est)
    with pytest.raises(aaren.AarenError, match="not fitted"):
        est.predict([np.zeros((1, 5), np.float32)])
    X, y = cases(10)
    with pytest.raises(ValueError, match="labels must be non-empty without spaces"):
        est.fit(X, ["a b"] * 10)
    with pytest.raises(ValueError, match="10 cases but 9 labels"):
        est.fit(X, y[:9])
    with pytest.raises(ValueError, match="different numbers of channels"):
        est.fit(X[:9] + [np.zeros((3, 5), np.float32)], y)
    with pytest.raises(aaren.AarenError, match="n_heads|heads"):
        aaren.AarenClassifier(d_model=8, n_heads=3).fit(X, y)
    with pytest.raises(aaren.AarenError):   # the library's message, naming the file
        aaren.AarenForecaster(lookback=50, horizon=50).fit(series(60))
    with pytest.raises(aaren.AarenError, match="safetensors|No such|open"):
        aaren.AarenTPP.load(tmp_path / "absent.safetensors")
    with pytest.raises(ValueError, match="either every sequence has marks or none"):
        aaren.AarenTPP().fit([np.arange(3.0), (np.arange(3.0), np.zeros(3, int))])


def test_sklearn_clone_and_grid():
    base = pytest.importorskip("sklearn.base")
    est = aaren.AarenClassifier(**SMALL, epochs=2, seed=4)
    c = base.clone(est)
    assert c is not est and c.get_params() == est.get_params()
    X, y = cases(30)
    ms = pytest.importorskip("sklearn.model_selection")
    scores = ms.cross_val_score(aaren.AarenClassifier(**SMALL, epochs=3), np.stack([x[:, :6] for x in X]), y, cv=2)
    assert scores.shape == (2,) and np.all((0 <= scores) & (scores <= 1))


def test_ts_files(tmp_path):
    X, y = cases(30)
    X[3][1, 2] = np.nan
    ts = tmp_path / "S_TRAIN.ts"
    write_ts(ts, X, y)
    X2, y2 = aaren.read_ts(ts)
    assert list(y2) == list(y) and all(np.array_equal(a, b, equal_nan=True) for a, b in zip(X, X2))
    a = aaren.AarenClassifier(**SMALL, epochs=2).fit(X, y)
    b = aaren.AarenClassifier(**SMALL, epochs=2).fit_file(ts, ts)
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))
    assert b.test_score_ == b.score(X, y)
    bad = tmp_path / "bad.ts"
    bad.write_text("@classLabel true a\n@data\n1,2,x:a\n")
    with pytest.raises(ValueError, match="bad.ts:3"):
        aaren.read_ts(bad)
    with pytest.raises(aaren.AarenError, match="absent.ts"):
        aaren.AarenClassifier().fit_file(tmp_path / "absent.ts")


def test_forecaster_on_a_dataframe(tmp_path, cli):
    pd = pytest.importorskip("pandas")
    s = series(300)
    dates = pd.date_range("2021-03-01", periods=300, freq="h").strftime("%Y-%m-%d %H:%M:%S")
    df = pd.DataFrame({"date": dates, "load": s[:, 0], "OT": s[:, 1], "temp": s[:, 2]})
    opts = dict(lookback=24, horizon=6, epochs=1, steps_per_epoch=5, seed=2, **SMALL)
    est = aaren.AarenForecaster(features="MS", **opts).fit(df)
    assert est.columns_ == ["load", "OT", "temp"] and est.n_outputs_ == 1
    p = est.predict(df.iloc[-24:])
    assert p.shape == (6, 1)
    # the same file through the tool: OT is the default target, moved last as TSLib does
    data = tmp_path / "frame.csv"
    df.to_csv(data, index=False, float_format="%.17g")
    run([cli, "forecast", "--data", data, "--features", "MS", "--seq-len", 24, "--pred-len", 6, "--epochs", 1,
         "--steps-per-epoch", 5, "--seed", 2, *SMALL_CLI, "--quiet", "--save", tmp_path / "cli.safetensors"])
    tool = aaren.AarenForecaster.load(tmp_path / "cli.safetensors")
    assert np.array_equal(tool.predict(df.iloc[-24:]), p)


def test_forecaster_recipes_and_calendar_same_as_the_tool(tmp_path, cli):
    """recipe="patch" and calendar=True train what `aaren forecast --recipe patch` and
    `--calendar` train (the same loss curve and forecasts); fit_file reads the CSV itself;
    calendar "t" adds the minute feature (a different model from "h")."""
    s = series()
    data = tmp_path / "series.csv"
    write_series_csv(data, s, ["a", "b", "c"])
    base = ["--seq-len", 24, "--pred-len", 6, "--epochs", 2, "--steps-per-epoch", 10, "--seed", 3, *SMALL_CLI, "--quiet"]
    opts = dict(lookback=24, horizon=6, epochs=2, steps_per_epoch=10, seed=3, **SMALL)
    for name, extra_cli, extra in (("patch", ["--recipe", "patch", "--patch-len", 8, "--stride", 4],
                                    dict(recipe="patch", patch_len=8, stride=4)),
                                   ("calendar", ["--calendar"], dict(calendar=True))):
        run([cli, "forecast", "--data", data, *base, *extra_cli, "--save", tmp_path / f"{name}.safetensors",
             "--log", tmp_path / f"{name}_cli.csv"])
        est = aaren.AarenForecaster(**opts, **extra, log=str(tmp_path / f"{name}_py.csv")).fit_file(data)
        a, b = train_losses(tmp_path / f"{name}_cli.csv"), train_losses(tmp_path / f"{name}_py.csv")
        assert len(a) >= 10 and a == b, name
        assert est.columns_ == ["a", "b", "c"]
        tool = aaren.AarenForecaster.load(tmp_path / f"{name}.safetensors", columns=["a", "b", "c"])
        assert np.array_equal(tool.predict(s[-30:]), est.predict(s[-30:])), name
    plain = train_losses(tmp_path / "calendar_py.csv")
    paper = aaren.AarenForecaster(**opts, log=str(tmp_path / "paper.csv")).fit_file(data)
    assert train_losses(tmp_path / "paper.csv") != plain          # calendar features change the model
    aaren.AarenForecaster(**opts, calendar=np.bool_(True), log=str(tmp_path / "np.csv")).fit_file(data)
    assert train_losses(tmp_path / "np.csv") == plain               # numpy's True is True
    aaren.AarenForecaster(**opts, calendar="t", log=str(tmp_path / "t.csv")).fit_file(data)
    assert train_losses(tmp_path / "t.csv") != plain               # 't' adds the minute to 'h'
    assert paper.get_params()["recipe"] == "paper"
    with pytest.raises(ValueError, match="recipe 'tokens'"):
        aaren.AarenForecaster(recipe="tokens").fit(s)
    with pytest.raises(ValueError, match="calendar 'd'"):
        aaren.AarenForecaster(calendar="d").fit(s)
    with pytest.raises(aaren.AarenError, match="calendar"):        # the library refuses the mix, as the tool does
        aaren.AarenForecaster(**opts, recipe="patch", calendar=True).fit_file(data)


def test_classifier_select_on_test_same_as_the_tool(tmp_path, cli):
    """select_on="test" is `aaren classify --select-on test`: the same loss curve and test
    accuracy; any other value is refused."""
    X, y = cases()
    Xt, yt = cases(30, seed=5)
    tr, te = tmp_path / "S_TRAIN.ts", tmp_path / "S_TEST.ts"
    write_ts(tr, X, y)
    write_ts(te, Xt, yt)
    run([cli, "classify", "--train", tr, "--test", te, *SMALL_CLI, "--epochs", 5, "--seed", 7, "--quiet",
         "--select-on", "test", "--save", tmp_path / "cli.safetensors", "--log", tmp_path / "cli.csv"])
    est = aaren.AarenClassifier(**SMALL, epochs=5, seed=7, select_on="test", log=str(tmp_path / "py.csv"))
    est.fit_file(tr, te)
    a, b = train_losses(tmp_path / "cli.csv"), train_losses(tmp_path / "py.csv")
    assert len(a) > 3 and a == b
    tool = aaren.AarenClassifier.load(tmp_path / "cli.safetensors")
    assert np.array_equal(tool.predict_proba(Xt), est.predict_proba(Xt))
    assert est.test_score_ == est.score(Xt, yt)
    val = aaren.AarenClassifier(**SMALL, epochs=5, seed=7, log=str(tmp_path / "val.csv")).fit_file(tr, te)
    assert train_losses(tmp_path / "val.csv") != b                # the validation split leaves TRAIN smaller
    assert val.get_params()["select_on"] == "val"
    with pytest.raises(ValueError, match="select_on 'train'"):
        aaren.AarenClassifier(select_on="train").fit(X, y)
