"""scripts/fetch_data.sh against the shared data as its mirror (offline), and
python/convert_events.py on small generated THP pickles and EasyTPP JSON files (and on the
shared MIMIC pickles, whose CSV it must reproduce byte for byte)."""
import hashlib
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from conftest import run

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FETCH = os.path.join(ROOT, "scripts", "fetch_data.sh")
CONVERT = os.path.join(ROOT, "python", "convert_events.py")
DATA = os.path.join(os.environ.get("AAREN_SHARED", os.path.join(ROOT, "..", "shared")), "data")
need_data = pytest.mark.skipif(not os.path.isdir(os.path.join(DATA, "events", "MIMIC")), reason="no shared data")


def fetch(*args):
    # the script and the tools it runs (bash, curl, python) are not the library: without the
    # sanitizer build's preloaded runtimes, under which this machine's curl and its local
    # server never finish a download
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    return subprocess.run(["bash", FETCH, *map(str, args)], capture_output=True, text=True, timeout=300, env=env)


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@need_data
def test_manifest_matches_the_shared_data():
    r = fetch("--dest", DATA, "--check")
    assert r.returncode == 0, r.stdout + r.stderr
    n = sum(1 for line in open(os.path.join(ROOT, "scripts", "data_manifest.txt")) if not line.startswith("#"))
    assert f"{n} present and correct, 0 added, 0 missing" in r.stdout


@need_data
def test_fetch_from_a_mirror_offline(tmp_path):
    dest = tmp_path / "data"
    r = fetch("--dest", dest, "--mirror", DATA, "--offline", "--only", "classification/JapaneseVowels/",
              "--only", "events/MIMIC/")
    assert r.returncode == 0, r.stderr
    for rel in ("classification/JapaneseVowels/JapaneseVowels_TRAIN.ts", "events/MIMIC/train.pkl",
                "events/MIMIC/mimic_events.csv", "events/MIMIC/SOURCE.md"):
        assert sha(dest / rel) == sha(os.path.join(DATA, rel)), rel
    assert not list(dest.rglob("*.part-*"))
    again = fetch("--dest", dest, "--offline", "--only", "events/MIMIC/")
    assert again.returncode == 0 and "5 present and correct, 0 added" in again.stdout


@need_data
def test_fetch_makes_the_event_csv_and_refuses_bad_copies(tmp_path):
    mirror = tmp_path / "mirror" / "events" / "MIMIC"
    mirror.mkdir(parents=True)
    for f in ("train.pkl", "dev.pkl", "test.pkl"):
        (mirror / f).write_bytes(open(os.path.join(DATA, "events", "MIMIC", f), "rb").read())
    dest = tmp_path / "data"
    r = fetch("--dest", dest, "--mirror", tmp_path / "mirror", "--offline", "--only", "events/MIMIC/")
    assert r.returncode == 0, r.stderr
    assert "made     events/MIMIC/mimic_events.csv" in r.stdout
    assert "documentation not available without a mirror: events/MIMIC/SOURCE.md" in r.stdout
    # a tampered mirror file is refused and nothing lands in DEST
    (mirror / "dev.pkl").write_bytes(b"not the file")
    dest2 = tmp_path / "data2"
    r = fetch("--dest", dest2, "--mirror", tmp_path / "mirror", "--offline", "--only", "events/MIMIC/dev.pkl")
    assert r.returncode == 1
    assert "events/MIMIC/dev.pkl: the mirror's copy has SHA-256" in r.stderr
    assert "events/MIMIC/dev.pkl (the mirror's copy is wrong; --offline)" in r.stderr
    assert not (dest2 / "events" / "MIMIC" / "dev.pkl").exists()
    # nothing to copy from and offline: a clear failure naming each file
    r = fetch("--dest", tmp_path / "data3", "--offline", "--only", "forecasting/ETTh1/ETTh1.csv")
    assert r.returncode == 1 and "forecasting/ETTh1/ETTh1.csv (no mirror given; --offline)" in r.stderr
    # --check reports a wrong file
    (dest / "events" / "MIMIC" / "test.pkl").write_bytes(b"changed")
    r = fetch("--dest", dest, "--check", "--only", "events/MIMIC/")
    assert r.returncode == 1 and "events/MIMIC/test.pkl (its SHA-256 differs" in r.stderr
    assert fetch("--bogus").returncode == 2


def thp_pickle(path, split, seqs, dim=3):
    """A THP-layout pickle: numpy scalars in per-event dicts, like the published files."""
    d = {"dim_process": dim, "train": [], "dev": [], "test": [], "devtest": [], "args": None}
    d[split] = [[{"time_since_start": np.float32(t), "time_since_last_event": np.float32(t - (s[i - 1][0] if i else t)),
                  "type_event": np.int32(k)} for i, (t, k) in enumerate(s)] for s in seqs]
    with open(path, "wb") as f:
        pickle.dump(d, f, protocol=2)


def test_convert_thp_and_easytpp(tmp_path, cli):
    rng = np.random.default_rng(0)
    def seqs(n):
        return [list(zip(np.cumsum(rng.exponential(1.0, size=int(rng.integers(3, 9)))), rng.integers(0, 3, 9)))
                for _ in range(n)]
    tr, dv = seqs(12), seqs(4)
    thp_pickle(tmp_path / "train.pkl", "train", tr)
    thp_pickle(tmp_path / "dev.pkl", "dev", dv)
    te = seqs(4)   # the test split in EasyTPP's JSON layout
    (tmp_path / "test.json").write_text(json.dumps([
        {"dim_process": 3, "seq_idx": i, "seq_len": len(s), "time_since_start": [float(t) for t, _ in s],
         "time_since_last_event": [float(t - (s[j - 1][0] if j else t)) for j, (t, _) in enumerate(s)],
         "type_event": [int(k) for _, k in s]} for i, s in enumerate(te)]))
    out = tmp_path / "events.csv"
    r = run([sys.executable, CONVERT, "--train", tmp_path / "train.pkl", "--dev", tmp_path / "dev.pkl",
             "--test", tmp_path / "test.json", "--output", out])
    assert "train: 12 sequences" in r.stdout and "test: 4 sequences" in r.stdout
    lines = out.read_text().splitlines()
    assert lines[0] == "split,seq_id,event_idx,time_since_start,time_since_last_event,type_event"
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == sum(len(s) for s in tr + dv + te)
    first_test = next(r for r in rows if r[0] == "test")
    assert first_test[1:3] == ["0", "0"] and np.float32(first_test[3]) == np.float32(te[0][0][0])
    assert int(first_test[5]) == te[0][0][1]
    # the tool reads it (and its splits)
    r = run([cli, "events", "--data", out, "--epochs", 1, "--d-model", 8, "--n-heads", 2, "--n-layers", 1,
             "--d-ff", 8, "--components", 2, "--quiet"])
    assert "train 12 seq" in r.stdout and "val 4" in r.stdout and "test 4" in r.stdout


def test_convert_refuses(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))
    with open(tmp_path / "evil.pkl", "wb") as f:
        pickle.dump({"train": [Evil()]}, f)
    r = subprocess.run([sys.executable, CONVERT, "--train", tmp_path / "evil.pkl", "--output", tmp_path / "o.csv"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "refusing to load" in r.stderr and "evil.pkl" in r.stderr
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "o.csv").exists()
    (tmp_path / "bad.json").write_text(json.dumps([{"time_since_start": [0, 2, 1], "time_since_last_event": [0, 2, -1],
                                                    "type_event": [0, 1, 1]}]))
    r = subprocess.run([sys.executable, CONVERT, "--test", tmp_path / "bad.json", "--output", tmp_path / "o.csv"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "bad.json: sequence 0 event 2: time_since_start decreases" in r.stderr


@need_data
def test_convert_reproduces_the_shared_mimic_csv(tmp_path):
    m = os.path.join(DATA, "events", "MIMIC")
    run([sys.executable, CONVERT, "--train", f"{m}/train.pkl", "--dev", f"{m}/dev.pkl", "--test", f"{m}/test.pkl",
         "--output", tmp_path / "mimic.csv"])
    assert sha(tmp_path / "mimic.csv") == sha(f"{m}/mimic_events.csv")


def test_fetch_downloads_from_a_server(tmp_path):
    """The download path (raw, gz, a zip member), against a server on this machine."""
    import functools
    import gzip
    import http.server
    import shutil
    import threading
    import zipfile
    if not shutil.which("curl"):
        pytest.skip("curl is not installed")
    site = tmp_path / "site"
    site.mkdir()
    raw, inner, member = b"a,b\n1,2\n", b"x y\n3 4\n", b"date,v\n2020-01-01,1\n"
    (site / "raw.csv").write_bytes(raw)
    (site / "inner.txt.gz").write_bytes(gzip.compress(inner))
    with zipfile.ZipFile(site / "pack.zip", "w") as z:
        z.writestr("pack/member.csv", member)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    h = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731
    manifest = tmp_path / "manifest.txt"
    manifest.write_text("# test\n"
                        f"{h(raw)} a/raw.csv raw {url}/raw.csv\n"
                        f"{h(inner)} a/inner.txt gz {url}/inner.txt.gz\n"
                        f"{h(member)} b/member.csv zip {url}/pack.zip#pack/member.csv\n"
                        f"{h(b'other')} b/wrong.csv raw {url}/raw.csv\n"
                        f"{h(raw)} b/absent.csv raw {url}/absent.csv\n")
    try:
        dest = tmp_path / "data"
        r = fetch("--manifest", manifest, "--dest", dest)
    finally:
        server.shutdown()
    assert r.returncode == 1, r.stdout + r.stderr
    assert (dest / "a" / "raw.csv").read_bytes() == raw
    assert (dest / "a" / "inner.txt").read_bytes() == inner
    assert (dest / "b" / "member.csv").read_bytes() == member
    assert not (dest / "b" / "wrong.csv").exists() and not (dest / "b" / "absent.csv").exists()
    assert f"b/wrong.csv: the download has SHA-256 {h(raw)}, expected {h(b'other')}" in r.stderr
    assert f"b/absent.csv: download of {url}/absent.csv failed" in r.stderr
    assert "3 added, 2 missing or wrong" in r.stdout
    assert not list(dest.rglob("*.part-*"))
