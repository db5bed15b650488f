"""scikit-learn style estimators over the library's task models: AarenClassifier,
AarenForecaster and AarenTPP.

Each fit() writes the data in the tool's file format (UEA `.ts`, a TSLib-style CSV, an event
CSV) to a temporary folder and runs the library's own training of that task
(aaren_classifier_train, aaren_forecaster_train, aaren_tpp_train): the same data and options
give the same model as `aaren classify`, `aaren forecast` and `aaren events`, and save() /
load() use the same safetensors checkpoints as the tool. Parameters follow scikit-learn's
rules (set in __init__, read by get_params, changed by set_params), so sklearn.base.clone
works; scikit-learn itself is not needed."""
import ctypes
import inspect
import os
import tempfile

import numpy as np

from ._lib import AarenError, Closable, ErrBuf, P, c_float_p, declare
from .core import Config, config_dict, make_config
from .tasks import Classifier

_E = [ctypes.c_char_p, ctypes.c_size_t]


class _TaskOptions(ctypes.Structure):
    """aaren_task_options (aaren_tasks.h)."""
    _fields_ = [("enc", Config), ("epochs", ctypes.c_int), ("patience", ctypes.c_int), ("batch", ctypes.c_int),
                ("lr", ctypes.c_float), ("dropout", ctypes.c_float), ("clip", ctypes.c_float),
                ("seed", ctypes.c_uint64), ("log", ctypes.c_char_p), ("save", ctypes.c_char_p),
                ("verbose", ctypes.c_int), ("val_frac", ctypes.c_float), ("seq_len", ctypes.c_int),
                ("pred_len", ctypes.c_int), ("features", ctypes.c_char_p), ("target", ctypes.c_char_p),
                ("steps_per_epoch", ctypes.c_long), ("K", ctypes.c_int), ("recipe", ctypes.c_char_p),
                ("patch_len", ctypes.c_int), ("patch_stride", ctypes.c_int), ("calendar", ctypes.c_int),
                ("select_on_test", ctypes.c_int), ("tie_marks", ctypes.c_int), ("copy_mark", ctypes.c_int)]


class _TaskResult(ctypes.Structure):
    _fields_ = [("val", ctypes.c_double), ("test", ctypes.c_double), ("epochs_run", ctypes.c_int),
                ("best_epoch", ctypes.c_int), ("seconds", ctypes.c_double)]


class _TppPrediction(ctypes.Structure):
    _fields_ = [("mean", ctypes.c_double), ("median", ctypes.c_double), ("q10", ctypes.c_double),
                ("q90", ctypes.c_double), ("mark", ctypes.c_int), ("p_mark", ctypes.c_double)]


TASK_CLASSIFY, TASK_FORECAST, TASK_EVENTS = 0, 1, 2
_opts_init = declare("aaren_task_options_init", None, [P, ctypes.c_int])
_opts_size = declare("aaren_task_options_size", ctypes.c_size_t, [])
_clf_train = declare("aaren_classifier_train", P, [ctypes.c_char_p, ctypes.c_char_p, P, P] + _E)
_clf_model = declare("aaren_classifier_model", P, [P])
_sm_encoder = declare("aaren_seqmodel_encoder", P, [P])
_model_config = declare("aaren_model_config", P, [P])
_fc_train = declare("aaren_forecaster_train", P, [ctypes.c_char_p, P, P] + _E)
_fc_load = declare("aaren_forecaster_load", P, [ctypes.c_char_p] + _E)
_fc_free = declare("aaren_forecaster_free", None, [P])
_fc_save = declare("aaren_forecaster_save", ctypes.c_int, [P, ctypes.c_char_p] + _E)
_fc_seq_len = declare("aaren_forecaster_seq_len", ctypes.c_int, [P])
_fc_pred_len = declare("aaren_forecaster_pred_len", ctypes.c_int, [P])
_fc_d_out = declare("aaren_forecaster_d_out", ctypes.c_int, [P])
_fc_forecast = declare("aaren_forecaster_forecast_csv", ctypes.c_int, [P, ctypes.c_char_p, c_float_p, c_float_p] + _E)
_tpp_train = declare("aaren_tpp_train", P, [ctypes.c_char_p, P, P] + _E)
_tpp_load = declare("aaren_tpp_load", P, [ctypes.c_char_p] + _E)
_tpp_save = declare("aaren_tpp_save", ctypes.c_int, [P, ctypes.c_char_p] + _E)
_tpp_free = declare("aaren_tpp_free", None, [P])
_tpp_encoder = declare("aaren_tpp_encoder", P, [P])
_tpp_n_marks = declare("aaren_tpp_n_marks", ctypes.c_int, [P])
_tpp_stream_new = declare("aaren_tpp_stream_new", P, [P, ctypes.c_long] + _E)
_tpp_stream_free = declare("aaren_tpp_stream_free", None, [P])
_tpp_stream_event = declare("aaren_tpp_stream_event", ctypes.c_int,
                            [P, ctypes.c_double, ctypes.c_int, ctypes.POINTER(_TppPrediction)] + _E)


class _Handle(Closable):
    """Owns one library object and frees it once."""

    def __init__(self, h, free, what):
        self.h, self._free, self.what = h, free, what

    def get(self):
        if not self.h:
            raise AarenError(f"the {self.what} is closed")
        return self.h

    def close(self):
        if self.h:
            self._free(self.h)
            self.h = None


class _Estimator:
    """get_params / set_params from the __init__ signature, as scikit-learn expects."""

    @classmethod
    def _param_names(cls):
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep=True):
        """The constructor's parameters as a dict."""
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params):
        """Sets constructor parameters (unknown names raise ValueError); returns self."""
        names = self._param_names()
        for k, v in params.items():
            if k not in names:
                raise ValueError(f"{type(self).__name__} has no parameter {k!r}; its parameters: {', '.join(names)}")
            setattr(self, k, v)
        return self

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"

    def _options(self, task):
        if _opts_size() != ctypes.sizeof(_TaskOptions):   # a library of another version than this package
            raise AarenError(f"libaaren's aaren_task_options is {_opts_size()} bytes, this package's mirror "
                             f"{ctypes.sizeof(_TaskOptions)}: install the package and the library of one version")
        o = _TaskOptions()
        _opts_init(ctypes.byref(o), task)
        o.enc = make_config(self.arch, self.d_model, self.n_heads, self.n_layers, self.d_ff)
        for k in ("epochs", "patience", "batch"):
            setattr(o, k, int(getattr(self, k)))
        o.lr, o.dropout, o.seed = float(self.lr), float(self.dropout), int(self.seed)
        o.verbose = int(bool(self.verbose))
        o.log = os.fsencode(self.log) if self.log else None
        return o

    def _fitted(self):
        if getattr(self, "_model", None) is None:
            raise AarenError(f"this {type(self).__name__} is not fitted: call fit() or load() first")
        return self._model

    def _set_result(self, r):
        self.val_score_, self.test_score_ = r.val, r.test
        self.epochs_run_, self.best_epoch_, self.fit_seconds_ = r.epochs_run, r.best_epoch, r.seconds


def _encoder_params(model_handle):
    c = config_dict(Config.from_address(_model_config(model_handle)))
    return {k: c[k] for k in ("arch", "d_model", "n_heads", "n_layers", "d_ff")}


# ---- files in the tool's formats ------------------------------------------------------------------
def _check_label(lab):
    s = str(lab)
    if not s or any(ch in s for ch in " \t\r\n:,#@"):
        raise ValueError(f"class label {s!r}: labels must be non-empty without spaces, ':', ',', '#' or '@'")
    return s


def _cases(X, name="X"):
    """X as a list of float32 cases [n_channels, n_timepoints] (aeon's layout)."""
    if isinstance(X, np.ndarray):
        if X.ndim != 3:
            raise ValueError(f"{name} must be [n_cases, n_channels, n_timepoints]; got shape {X.shape}")
        cases = [X[i] for i in range(X.shape[0])]
    else:
        cases = list(X)
    out = []
    for i, c in enumerate(cases):
        c = np.asarray(c)
        if not np.issubdtype(c.dtype, np.number):
            raise TypeError(f"{name}: case {i} is not numeric ({c.dtype})")
        if c.ndim != 2 or c.shape[1] < 1:
            raise ValueError(f"{name}: case {i} must be [n_channels, n_timepoints]; got shape {c.shape}")
        out.append(np.ascontiguousarray(c, dtype=np.float32))
    if not out:
        raise ValueError(f"{name} holds no cases")
    dims = {c.shape[0] for c in out}
    if len(dims) != 1:
        raise ValueError(f"{name}: cases have different numbers of channels {sorted(dims)}")
    return out


def write_ts(path, X, y):
    """Writes cases X (array [n, channels, time] or a list of [channels, time_i]) and labels
    y as a UEA `.ts` file, values as float32 exactly (NaN as '?'). Returns the labels."""
    cases = _cases(X)
    labels = [_check_label(v) for v in y]
    if len(labels) != len(cases):
        raise ValueError(f"{len(cases)} cases but {len(labels)} labels")
    classes = sorted(set(labels))
    missing = any(np.isnan(c).any() for c in cases)
    dims = cases[0].shape[0]
    head = ["@problemName estimator", "@timeStamps false", f"@missing {'true' if missing else 'false'}",
            f"@univariate {'true' if dims == 1 else 'false'}", f"@dimensions {dims}", "@equalLength false",
            "@classLabel true " + " ".join(classes), "@data"]
    with open(path, "w") as f:
        f.write("\n".join(head) + "\n")
        for c, lab in zip(cases, labels):
            if not np.isfinite(c[~np.isnan(c)]).all():
                raise ValueError("X holds an infinite value")
            rows = (",".join("?" if v != v else f"{v:.9g}" for v in row.tolist()) for row in c)
            f.write(":".join(rows) + f":{lab}\n")
    return classes


def read_ts(path):
    """The cases and labels of a UEA `.ts` classification file: (list of float32 arrays
    [n_channels, n_timepoints_i], array of label strings); '?' reads as NaN. For training
    from a file, AarenClassifier.fit_file hands the file to the library as it is."""
    cases, labels, in_data = [], [], False
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                in_data = line.lower() == "@data"
                continue
            parts = line.split(":")
            if len(parts) < 2:
                raise ValueError(f"{path}:{n}: expected channels separated by ':' and a label")
            try:
                rows = [[float("nan") if v.strip() == "?" else float(v) for v in p.split(",")] for p in parts[:-1]]
            except ValueError as e:
                raise ValueError(f"{path}:{n}: {e}") from None
            if len({len(r) for r in rows}) != 1:
                raise ValueError(f"{path}:{n}: channels of different lengths")
            cases.append(np.array(rows, dtype=np.float32))
            labels.append(parts[-1].strip())
    if not cases:
        raise ValueError(f"{path}: no cases after @data")
    return cases, np.array(labels, dtype=object)


def _series(data, columns=None):
    """(values float64 [rows, cols], column names, dates or None) of an array or a DataFrame."""
    dates = None
    if hasattr(data, "columns") and hasattr(data, "to_numpy"):   # a pandas DataFrame
        cols = [str(c) for c in data.columns]
        if "date" in cols:
            dates = [str(v) for v in data["date"]]
            data = data.drop(columns=["date"])
            cols = [str(c) for c in data.columns]
        values = np.asarray(data.to_numpy(), dtype=np.float64)
    else:
        values = np.asarray(data, dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        cols = list(columns) if columns is not None else [f"x{j}" for j in range(values.shape[1] if values.ndim == 2 else 0)]
    if values.ndim != 2 or values.shape[0] < 2 or values.shape[1] < 1:
        raise ValueError(f"the series must be [n_rows >= 2, n_columns]; got shape {values.shape}")
    if len(cols) != values.shape[1]:
        raise ValueError(f"{len(cols)} column names for {values.shape[1]} columns")
    if not np.isfinite(values).all():
        raise ValueError("the series holds NaN or infinite values")
    return values, cols, dates


def write_series_csv(path, values, cols, dates=None):
    """A TSLib-style CSV: a date column (hourly from 2000-01-01 when dates is None), then the columns."""
    n = values.shape[0]
    if dates is None:
        base = np.datetime64("2000-01-01T00:00:00")
        dates = [str(base + np.timedelta64(h, "h")).replace("T", " ") for h in range(n)]
    with open(path, "w") as f:
        f.write(",".join(["date"] + cols) + "\n")
        for d, row in zip(dates, values.tolist()):
            f.write(d + "," + ",".join(f"{v:.17g}" for v in row) + "\n")


def _event_seq(s, i):
    """(times float64 [n], marks int [n] or None) of one sequence: times, or (times, marks)."""
    if isinstance(s, tuple) and len(s) == 2:
        t, k = np.asarray(s[0], dtype=np.float64).reshape(-1), np.asarray(s[1]).reshape(-1)
        if k.shape != t.shape:
            raise ValueError(f"sequence {i}: {t.size} times but {k.size} marks")
        if k.size and (not np.issubdtype(k.dtype, np.integer) or k.min() < 0):
            raise ValueError(f"sequence {i}: marks must be integers >= 0")
    else:
        t, k = np.asarray(s, dtype=np.float64).reshape(-1), None
    if not np.isfinite(t).all():
        raise ValueError(f"sequence {i}: times must be finite")
    if t.size > 1 and (np.diff(t) < 0).any():
        raise ValueError(f"sequence {i}: times must not decrease")
    return t, k


def write_events_csv(path, sequences):
    """An event CSV (seq_id, time[, mark]) of sequences given as times or (times, marks)."""
    seqs = [_event_seq(s, i) for i, s in enumerate(sequences)]
    marked = {k is not None for _, k in seqs}
    if len(marked) != 1:
        raise ValueError("either every sequence has marks or none has")
    marked = marked.pop()
    with open(path, "w") as f:
        f.write("seq_id,time" + (",mark" if marked else "") + "\n")
        for i, (t, k) in enumerate(seqs):
            for j in range(t.size):
                f.write(f"{i},{t[j]:.17g}" + (f",{int(k[j])}" if marked else "") + "\n")


# ---- the estimators ------------------------------------------------------------------------------
class AarenClassifier(_Estimator):
    """Time-series classification (`aaren classify`): X [n_cases, n_channels, n_timepoints]
    (aeon's layout) or a list of cases [n_channels, n_timepoints_i] of unequal lengths, NaN
    for missing values; y the class labels (printed as strings, no spaces).

        clf = AarenClassifier(epochs=30).fit(X_train, y_train)
        clf.predict(X_test), clf.predict_proba(X_test), clf.score(X_test, y_test)

    fit holds out val_frac of each class for early stopping (patience epochs) as the tool
    does; val_score_ is that part's accuracy at the best epoch. select_on="test" is the
    Time-Series-Library's protocol instead (`--select-on test`, with fit_file and a test
    file): all of TRAIN trains and the epoch with the best TEST accuracy is kept, an
    optimistic figure only for comparing with published ones."""

    def __init__(self, arch="aaren", d_model=64, n_heads=4, n_layers=2, d_ff=128, epochs=100, patience=15, batch=16,
                 lr=1e-3, dropout=0.1, clip=4.0, val_frac=0.2, seed=1, verbose=False, log=None, select_on="val"):
        self.arch, self.d_model, self.n_heads, self.n_layers, self.d_ff = arch, d_model, n_heads, n_layers, d_ff
        self.epochs, self.patience, self.batch, self.lr, self.dropout = epochs, patience, batch, lr, dropout
        self.clip, self.val_frac, self.seed, self.verbose, self.log = clip, val_frac, seed, verbose, log
        self.select_on = select_on

    def _clf_options(self):
        if self.select_on not in ("val", "test"):
            raise ValueError(f"select_on {self.select_on!r}: expected 'val' or 'test'")
        o = self._options(TASK_CLASSIFY)
        o.clip, o.val_frac = float(self.clip), float(self.val_frac)
        o.select_on_test = int(self.select_on == "test")
        return o

    def fit(self, X, y):
        """Trains on cases X with labels y; returns self."""
        o = self._clf_options()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "train.ts")
            write_ts(path, X, y)
            r, e = _TaskResult(), ErrBuf()
            h = _clf_train(os.fsencode(path), None, ctypes.byref(o), ctypes.byref(r), *e.args)
            if not h:
                e.raise_()
        self._adopt(Classifier(h))
        self._set_result(r)
        return self

    def fit_file(self, train_ts, test_ts=None):
        """Trains on a UEA `.ts` file as `aaren classify --train F --test T` does (test_ts,
        default the training file, is scored once after training: test_score_); returns self."""
        o = self._clf_options()
        r, e = _TaskResult(), ErrBuf()
        h = _clf_train(os.fsencode(train_ts), os.fsencode(test_ts) if test_ts else None, ctypes.byref(o),
                       ctypes.byref(r), *e.args)
        if not h:
            e.raise_()
        self._adopt(Classifier(h))
        self._set_result(r)
        return self

    def _adopt(self, clf):
        old = getattr(self, "_model", None)
        if old is not None:
            old.close()
        self._model = clf
        self.classes_ = np.array(clf.classes_, dtype=object)
        self.n_channels_ = clf.n_dims

    def predict_proba(self, X):
        """Class probabilities [n_cases, n_classes], columns in the order of classes_."""
        return self._fitted().predict_proba(_cases(X))

    def predict(self, X):
        """The most probable label of each case (strings)."""
        return self._fitted().predict(_cases(X))

    def score(self, X, y):
        """Accuracy of predict(X) against the labels y."""
        y = np.array([str(v) for v in y], dtype=object)
        return float(np.mean(self.predict(X) == y))

    def save(self, path):
        """Writes the checkpoint (`aaren classify --model` reads it)."""
        self._fitted().save(path)

    @classmethod
    def load(cls, path):
        """A fitted classifier from a checkpoint of `aaren classify --save` or save()."""
        clf = Classifier.load(path)
        est = cls(**_encoder_params(_sm_encoder(_clf_model(clf._handle()))))
        est._adopt(clf)
        return est


class AarenForecaster(_Estimator):
    """Multivariate forecasting (`aaren forecast`): from lookback rows, the next horizon rows.

        f = AarenForecaster(lookback=96, horizon=24).fit(series)     # [n_rows, n_columns]
        f.predict(series[-96:])                                       # [horizon, n_outputs]

    series is an array [n_rows, n_columns] or a DataFrame (columns named; a 'date' column is
    taken as the dates; columns names an array's columns, x0, x1, ... by default). features "M" forecasts every column, "S" and "MS" the target column
    alone (from itself, or from every column); target defaults to "OT" for a DataFrame with
    one and to the last column otherwise. Rows are split in time order 70 / 10 / 20 into
    training, validation (early stopping) and test parts, as the tool splits a CSV;
    val_score_ and test_score_ are their MSE in standardised units. Outputs come in the
    columns' order with the target moved last (TSLib's layout). fit_file trains on a CSV as
    `aaren forecast --data F` does (ETTh* / ETTm* files split by the benchmark's rule).

    recipe "paper" is a token per time step; "patch" (`--recipe patch`) makes each channel a
    series of its own, cut into patches of patch_len steps every stride that are the tokens
    (PatchTST's design with either backbone). calendar (paper recipe) adds calendar
    features: True at the file's frequency as `--calendar` reads it ('t' for ETTm* files,
    else 'h'), or "h" (hour, weekday, day, day of year) or "t" (and the minute)."""

    def __init__(self, lookback=96, horizon=96, features="M", target=None, columns=None, arch="aaren", d_model=64,
                 n_heads=4, n_layers=2, d_ff=128, epochs=10, patience=3, batch=32, steps_per_epoch=300, lr=1e-3,
                 dropout=0.1, seed=1, verbose=False, log=None, recipe="paper", patch_len=16, stride=8, calendar=False):
        self.lookback, self.horizon, self.features, self.target = lookback, horizon, features, target
        self.columns = columns
        self.arch, self.d_model, self.n_heads, self.n_layers, self.d_ff = arch, d_model, n_heads, n_layers, d_ff
        self.epochs, self.patience, self.batch, self.steps_per_epoch = epochs, patience, batch, steps_per_epoch
        self.lr, self.dropout, self.seed, self.verbose, self.log = lr, dropout, seed, verbose, log
        self.recipe, self.patch_len, self.stride, self.calendar = recipe, patch_len, stride, calendar

    def _fc_options(self, target):
        o = self._options(TASK_FORECAST)
        o.seq_len, o.pred_len, o.steps_per_epoch = int(self.lookback), int(self.horizon), int(self.steps_per_epoch)
        o.features = str(self.features).encode()
        o.target = target.encode() if target is not None else None
        if self.recipe not in ("paper", "patch"):
            raise ValueError(f"recipe {self.recipe!r}: expected 'paper' or 'patch'")
        o.recipe = self.recipe.encode()
        o.patch_len, o.patch_stride = int(self.patch_len), int(self.stride)
        cal = self.calendar
        if cal is None or isinstance(cal, (bool, np.bool_)):
            o.calendar = int(bool(cal))
        elif cal in ("h", "t"):
            o.calendar = ord(cal)
        else:
            raise ValueError(f"calendar {cal!r}: expected False, True, 'h' or 't'")
        return o

    def _train(self, path, o, cols):
        r, e = _TaskResult(), ErrBuf()
        h = _fc_train(os.fsencode(path), ctypes.byref(o), ctypes.byref(r), *e.args)
        if not h:
            e.raise_()
        self._adopt_handle(h)
        self.columns_ = cols
        self._set_result(r)
        return self

    def fit(self, series, y=None):
        """Trains on the rows of series (y is ignored); returns self."""
        values, cols, dates = _series(series, self.columns)
        target = self.target
        if target is None and self.features != "M":
            target = "OT" if "OT" in cols else cols[-1]
        o = self._fc_options(target)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "series.csv")
            write_series_csv(path, values, cols, dates)
            return self._train(path, o, cols)

    def fit_file(self, csv_path):
        """Trains on a CSV (a date column, then numeric columns) as `aaren forecast --data
        csv_path` does, splits included (target: self.target, or "OT"); returns self."""
        with open(csv_path, newline="") as f:
            header = f.readline().rstrip("\r\n").split(",")
        return self._train(csv_path, self._fc_options(self.target), header[1:])

    def _adopt(self, path):
        e = ErrBuf()
        h = _fc_load(os.fsencode(path), *e.args)
        if not h:
            e.raise_()
        self._adopt_handle(h)

    def _adopt_handle(self, h):
        old = getattr(self, "_model", None)
        if old is not None:
            old.close()
        self._model = _Handle(h, _fc_free, "forecaster")
        self.n_outputs_ = int(_fc_d_out(h))

    def predict(self, recent):
        """The next horizon rows [horizon, n_outputs] after the last lookback rows of recent
        (an array [>= lookback rows, n_columns] or a DataFrame with the training columns)."""
        h = self._fitted().get()
        values, cols, dates = _series(recent, getattr(self, "columns_", None))
        L, H, C = int(_fc_seq_len(h)), int(_fc_pred_len(h)), int(_fc_d_out(h))
        if values.shape[0] < L:
            raise ValueError(f"recent has {values.shape[0]} rows; the model looks back {L}")
        out = np.empty((H, C), np.float32)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "recent.csv")
            write_series_csv(path, values, cols, dates)
            e = ErrBuf()
            if _fc_forecast(h, os.fsencode(path), None, out.ctypes.data_as(c_float_p), *e.args):
                e.raise_()
        return out

    def score(self, recent, future):
        """Negative mean squared error of predict(recent) against the first horizon rows of
        future [rows, n_outputs] (higher is better, as scikit-learn scores are)."""
        p = self.predict(recent)
        fut = np.asarray(future, dtype=np.float64)
        if fut.ndim == 1:
            fut = fut[:, None]
        if fut.ndim != 2 or fut.shape[0] < p.shape[0] or fut.shape[1] != p.shape[1]:
            raise ValueError(f"future must hold at least {p.shape[0]} rows of {p.shape[1]} outputs; got {fut.shape}")
        return -float(np.mean((p - fut[:p.shape[0]]) ** 2))

    def save(self, path):
        """Writes the checkpoint (`aaren forecast --model` reads it)."""
        e = ErrBuf()
        if _fc_save(self._fitted().get(), os.fsencode(path), *e.args):
            e.raise_()

    @classmethod
    def load(cls, path, columns=None):
        """A fitted forecaster from a checkpoint of `aaren forecast --save` or save();
        columns names the training columns when predict gets plain arrays (default x0, x1, ...)."""
        est = cls(columns=columns)
        est._adopt(path)
        h = est._model.get()
        est.lookback, est.horizon = int(_fc_seq_len(h)), int(_fc_pred_len(h))
        est.columns_ = list(columns) if columns is not None else None
        return est


class AarenTPP(_Estimator):
    """A neural temporal point process (`aaren events`): the next event's time and mark.

        tpp = AarenTPP(epochs=20).fit(sequences)        # each: times, or (times, marks)
        tpp.predict_next(history)                       # dict: mean, median, q10, q90, mark, p_mark

    Sequences are split in order 60 / 20 / 20 into training, validation (early stopping) and
    test parts as the tool splits an event CSV without a split column (at least 5 sequences);
    val_score_ and test_score_ are their negative log-likelihoods per event. tie_marks ties
    the mark head to the mark embedding (`--tie-marks`: mark c's logit is E[c] . (T h) + b_c),
    the head for many marks; copy_mark adds a learned logit to the current event's mark
    (`--copy-mark`), starting where it gives that mark the training sequences' repeat rate;
    copy_mark=L (an integer from 1 to 64) adds one per lag on the marks of the last L events
    (`--copy-lags L`)."""

    def __init__(self, K=8, arch="aaren", d_model=64, n_heads=4, n_layers=2, d_ff=128, epochs=30, patience=5, batch=16,
                 lr=1e-3, dropout=0.1, clip=1.0, seed=1, verbose=False, log=None, tie_marks=False, copy_mark=False):
        self.K, self.tie_marks, self.copy_mark = K, tie_marks, copy_mark
        self.arch, self.d_model, self.n_heads, self.n_layers, self.d_ff = arch, d_model, n_heads, n_layers, d_ff
        self.epochs, self.patience, self.batch, self.lr, self.dropout = epochs, patience, batch, lr, dropout
        self.clip, self.seed, self.verbose, self.log = clip, seed, verbose, log

    def fit(self, sequences, y=None):
        """Trains on event sequences (each times [n], or (times [n], marks [n])); returns self."""
        o = self._options(TASK_EVENTS)
        o.clip, o.K, o.tie_marks = float(self.clip), int(self.K), int(bool(self.tie_marks))
        lags = self.copy_mark
        if isinstance(lags, bool) or lags is None:
            lags = int(bool(lags))
        if not isinstance(lags, (int, np.integer)) or not 0 <= int(lags) <= 64:
            raise ValueError(f"copy_mark: True, False or a number of lags from 0 to 64, not {self.copy_mark!r}")
        o.copy_mark = int(lags)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "events.csv")
            write_events_csv(path, sequences)
            r, e = _TaskResult(), ErrBuf()
            h = _tpp_train(os.fsencode(path), ctypes.byref(o), ctypes.byref(r), *e.args)
            if not h:
                e.raise_()
        self._adopt(h)
        self._set_result(r)
        return self

    def _adopt(self, h):
        old = getattr(self, "_model", None)
        if old is not None:
            old.close()
        self._model = _Handle(h, _tpp_free, "event model")
        self.n_marks_ = int(_tpp_n_marks(h))

    def _stream(self, history, i=0):
        """Predictions after each event of history, streamed one event at a time."""
        h = self._fitted().get()
        t, k = _event_seq(history, i)
        if t.size == 0:
            raise ValueError(f"sequence {i} holds no events")
        if (k is not None) != (self.n_marks_ > 0):
            raise ValueError(f"sequence {i}: the model is {'marked: give (times, marks)' if self.n_marks_ else 'unmarked: give times alone'}")
        e = ErrBuf()
        s = _tpp_stream_new(h, int(t.size), *e.args)
        if not s:
            e.raise_()
        out = []
        try:
            p = _TppPrediction()
            for j in range(t.size):
                if _tpp_stream_event(s, float(t[j]), int(k[j]) if k is not None else -1, ctypes.byref(p), *e.args):
                    e.raise_()
                out.append({"mean": p.mean, "median": p.median, "q10": p.q10, "q90": p.q90, "mark": p.mark,
                            "p_mark": p.p_mark if p.mark >= 0 else None})
        finally:
            _tpp_stream_free(s)
        return t, k, out

    def predict_next(self, history):
        """What follows history (times, or (times, marks)): the next inter-event time's
        mean, median and 10% / 90% quantiles, the most likely next mark (-1 when unmarked)
        and its probability (None when unmarked)."""
        return self._stream(history)[2][-1]

    def predict(self, histories):
        """The predicted mean time to the next event after each history [n]."""
        return np.array([self._stream(hh, i)[2][-1]["mean"] for i, hh in enumerate(histories)])

    def score(self, sequences, y=None):
        """Negative RMSE of the predicted mean inter-event time over every next event of the
        sequences (each event predicted from the ones before it)."""
        err = []
        for i, s in enumerate(sequences):
            t, _, preds = self._stream(s, i)
            err += [preds[j]["mean"] - (t[j + 1] - t[j]) for j in range(t.size - 1)]
        if not err:
            raise ValueError("no sequence has two events to score")
        return -float(np.sqrt(np.mean(np.square(err))))

    def save(self, path):
        """Writes the checkpoint (`aaren events --model` reads it)."""
        e = ErrBuf()
        if _tpp_save(self._fitted().get(), os.fsencode(path), *e.args):
            e.raise_()

    @classmethod
    def load(cls, path):
        """A fitted event model from a checkpoint of `aaren events --save` or save()."""
        e = ErrBuf()
        h = _tpp_load(os.fsencode(path), *e.args)
        if not h:
            e.raise_()
        est = cls(**_encoder_params(_tpp_encoder(h)))
        est._adopt(h)
        return est
