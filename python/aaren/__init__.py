"""aaren: Attention as an RNN from Python, through the C library libaaren.so.

    import numpy as np, aaren
    m = aaren.Model.init(arch="aaren", d_model=64, n_heads=4, n_layers=2, d_ff=128, seed=1)
    y = m.encode(np.random.randn(100, 64).astype(np.float32))     # parallel scan
    s = aaren.Stream(m)                                             # constant memory
    y_last = [s.step(x_t) for x_t in x][-1]

scikit-learn style estimators train through the library's task runs (the tool's own):

    clf = aaren.AarenClassifier(epochs=20).fit(X, y)       # also AarenForecaster, AarenTPP
    clf.predict(X_test); clf.save("c.safetensors")         # `aaren classify --model` reads it

and aaren.torch holds torch Modules over the library's forward and backward (AarenEncoder,
AarenAttention; imported on its own, as it needs torch).

Arrays are float32 numpy arrays; a wrong dtype or shape raises TypeError / ValueError, and a
failure inside the library raises AarenError with the library's message."""
from ._lib import AarenError, lib as _lib
from .core import BatchStream, Model, Stream
from .estimators import AarenClassifier, AarenForecaster, AarenTPP, read_ts
from .tasks import Classifier
from .train import SeqModel

__all__ = ["AarenClassifier", "AarenError", "AarenForecaster", "AarenTPP", "BatchStream", "Classifier", "Model", "SeqModel", "Stream", "read_ts", "version"]


def version():
    """The library's version and its matrix-product backend."""
    return f"{_lib.aaren_version().decode()} ({_lib.aaren_backend().decode()})"
