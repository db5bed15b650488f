"""Shared by the package tests: the command-line tool (AAREN_CLI), a temporary folder, and
readers for the tool's files that do not go through the package."""
import json
import os
import struct
import subprocess

import numpy as np
import pytest


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("AAREN_CLI")
    if not path or not os.path.exists(path):
        pytest.skip("AAREN_CLI (the aaren tool) is not set")
    return path


def run(args, **kw):
    """Runs a command; fails the test with its stderr when it exits non-zero."""
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{args[:2]} exited {r.returncode}: {r.stderr.strip()}"
    return r


def read_safetensors(path):
    """{name: float32 array} of a safetensors file, read here with numpy alone."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(blob[8 + n + a:8 + n + b], dtype="<f4").reshape(t["shape"])
    return out


def rel_err(a, b):
    """Largest absolute difference over the largest magnitude of b."""
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))
