"""examples/quickstart.py runs as a new user runs it (--quick: fewer epochs) on the shared
data: it trains, saves and reloads a classifier whose test accuracy the tool confirms on its
checkpoint, forecasts, and streams."""
import os
import re
import subprocess
import sys

import pytest

from conftest import run

HERE = os.path.dirname(os.path.abspath(__file__))
QUICKSTART = os.path.join(HERE, "..", "..", "examples", "quickstart.py")


def test_quickstart(tmp_path, cli):
    data = os.path.join(os.environ.get("AAREN_SHARED", os.path.join(HERE, "..", "..", "..", "shared")), "data")
    if not os.path.exists(os.path.join(data, "classification", "JapaneseVowels")):
        pytest.skip(f"no JapaneseVowels under {data}")
    r = subprocess.run([sys.executable, QUICKSTART, "--quick", "--data", data, "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    acc = float(re.search(r"test accuracy ([0-9.]+) \(majority class ([0-9.]+)\)", out).group(1))
    assert acc > 0.5                                # 9 speakers; the majority class is 0.238
    assert re.search(r"5 rolling day-ahead forecasts: MSE [0-9.]+", out)
    diff = float(re.search(r"largest difference from the scan ([0-9.e+-]+)", out).group(1))
    assert diff < 1e-4
    model = tmp_path / "vowels.safetensors"
    assert model.exists() and (tmp_path / "etth1.safetensors").exists()
    # the tool reads the saved classifier and finds the same test accuracy
    test_ts = os.path.join(data, "classification", "JapaneseVowels", "JapaneseVowels_TEST.ts")
    tool = run([cli, "classify", "--model", model, "--predict", test_ts]).stdout
    m = re.search(r"accuracy[^0-9]*([0-9.]+)", tool)
    assert m, tool
    assert abs(float(m.group(1)) - acc) < 1e-3
