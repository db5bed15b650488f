#!/usr/bin/python3
"""Writes the fuzz seed corpora in fuzz/corpus/<target>/: a few small valid inputs per
reader and a few slightly broken ones. All values are made up here.

    /usr/bin/python3 fuzz/make_corpus.py [--aaren build/aaren]

With --aaren, the checkpoint seeds (tiny models: encoder, training run, classifier, event
model, decision model) are written by the tool itself; without it they are left as they are.
Needs numpy and h5py (Debian: python3-numpy, python3-h5py)."""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# ---- .npy ------------------------------------------------------------------------------
def npy_bytes(arr, **kw):
    import io
    b = io.BytesIO()
    np.save(b, arr, **kw)
    return b.getvalue()


def npy_v2(arr):
    import io
    from numpy.lib import format as fmt
    b = io.BytesIO()
    fmt.write_array(b, arr, version=(2, 0))
    return b.getvalue()


def make_npy():
    a = (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(3, 2)
    put("npy", "matrix.npy", npy_bytes(a))
    put("npy", "scalar.npy", npy_bytes(np.float32(2.5)))
    put("npy", "empty.npy", npy_bytes(np.zeros((0, 4), np.float32)))
    put("npy", "batch_v2.npy", npy_v2(np.ones((2, 2, 3), np.float32)))
    put("npy", "bad_truncated.npy", npy_bytes(a)[:-5])
    put("npy", "bad_f8.npy", npy_bytes(a.astype(np.float64)))
    put("npy", "bad_fortran.npy", npy_bytes(np.asfortranarray(a)).replace(b"False", b"True "))


# ---- safetensors -----------------------------------------------------------------------
def st_bytes(tensors, meta=None, pad=True):
    header, blob = {}, b""
    if meta is not None:
        header["__metadata__"] = meta
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        header[name] = {"dtype": "F32", "shape": list(arr.shape),
                        "data_offsets": [len(blob), len(blob) + arr.nbytes]}
        blob += arr.tobytes()
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob


def make_safetensors():
    w = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    b = np.array([0.25, -0.5], np.float32)
    put("safetensors", "two.safetensors",
        st_bytes([("layer.weight", w), ("layer.bias", b)], {"note": "caf\u00e9", "k": "v"}))
    put("safetensors", "empty.safetensors", st_bytes([]))
    put("safetensors", "scalar.safetensors", st_bytes([("s", np.float32(3.0).reshape(()))]))
    good = st_bytes([("a", b), ("b", b)])
    h = good[8:8 + struct.unpack("<Q", good[:8])[0]].replace(b"[8,16]", b"[4,12]")
    put("safetensors", "bad_overlap.safetensors", good[:8] + h + good[8 + len(h):])
    put("safetensors", "bad_json.safetensors", good.replace(b'"dtype"', b"'dtype'", 1))
    put("safetensors", "bad_length.safetensors", struct.pack("<Q", 1 << 40) + good[8:])


# ---- TSLib CSV -------------------------------------------------------------------------
def make_timeseries():
    rows = ["date,load,temp,OT"]
    for i in range(16):
        rows.append("2021-03-%02d %02d:00:00,%.3f,%.2f,%.1f" % (1 + i // 24, i % 24, 10 + 0.7 * i - (i % 3),
                                                              -2.5 + 0.3 * (i % 5), 20 - 0.4 * i))
    put("timeseries", "hourly.csv", "\n".join(rows) + "\n")
    rows = ["date,OT,x"]
    for i in range(14):
        rows.append("2020-12-31 23:%02d:00,%g,%g" % (45 + i, 1.5 * (i % 4), 100 - i))
    put("timeseries", "minutes_crlf.csv", "\r\n".join(rows) + "\r\n")
    rows = ["date,OT"] + ["2019-02-%02d,%d" % (1 + i, (i * 7) % 11) for i in range(12)]
    put("timeseries", "daily.csv", "\n".join(rows))
    put("timeseries", "bad_date.csv", "date,OT\n2021-02-30 00:00:00,1.0\n2021-03-01 00:00:00,2\n")
    put("timeseries", "bad_cell.csv", "date,a,OT\n2021-01-01 00:00:00,1e999,2\n2021-01-01 01:00:00,,3\n")
    put("timeseries", "bad_cells.csv", "date,a,OT\n2021-01-01 00:00:00,1\n")


# ---- UEA .ts ---------------------------------------------------------------------------
def make_uea():
    head = ("#made-up cases\n@problemName Tiny\n@timeStamps false\n@missing false\n@univariate false\n"
            "@dimensions 2\n@equalLength true\n@seriesLength 3\n@classLabel true up down\n@data\n")
    put("uea", "equal.ts", head + "1,2,3:0.5,0.25,0:up\n3,2,1:0,-0.5,-1:down\n2,2.5,3:1,1,1:up\n")
    put("uea", "unequal_missing.ts",
        "@problemName Ragged\n@missing true\n@univariate true\n@equalLength false\n"
        "@classLabel true a b c\n@data\n1,?,3,4:a\r\n\r\n5,6:b\r\n-1e-3,2E2,0:c\r\n")
    put("uea", "minimal.ts", "@classLabel true 1 2\n@data\n0.1:1\n0.2:2\n")
    put("uea", "bad_label.ts", head.replace("@dimensions 2", "@dimensions 1") + "1,2,3:left\n")
    put("uea", "bad_lengths.ts", head + "1,2,3:0.5,0.25:up\n")
    put("uea", "bad_tag.ts", "@problemName X\n@seriesWidth 3\n@classLabel true a\n@data\n1:a\n")


# ---- event CSV -------------------------------------------------------------------------
def make_events():
    rows = ["seq_id,time,mark,split"]
    t = 0.0
    for s, split in enumerate(["train", "train", "dev", "test"]):
        t = 0.0
        for e in range(3 + s):
            t += 0.25 + 0.5 * ((s + e) % 3)
            rows.append("p%d,%.3f,%d,%s" % (s, t, (s * 2 + e) % 4, split))
    put("events", "split_marks.csv", "\n".join(rows) + "\n")
    rows = ["arrival_time,note,sequence"]
    for s in range(5):
        for e in range(2 + s % 3):
            rows.append("%g,x%d,%d" % (1.0 + e * 1.5 + s * 0.1, e, s))
    put("events", "unmarked.csv", "\r\n".join(rows) + "\r\n")
    rows = ["seq,time_since_start,type_event"] + ["%d,%d,%d" % (s, e, (s + e) % 2) for s in range(5) for e in range(3)]
    put("events", "ints.csv", "\n".join(rows))
    put("events", "bad_order.csv", "seq,time\na,1\na,0.5\nb,1\nc,2\n")
    put("events", "bad_reappear.csv", "seq,time,mark\na,1,0\nb,1,1\na,2,0\n")
    put("events", "bad_mark.csv", "seq,time,mark\na,1,1.0\nb,1,-1\nc,1,0\n")


# ---- event stream lines (aaren events --stream) ----------------------------------------
def make_stream_line():
    for name, line in [("event_mark.txt", "0.0 3\n"), ("event_time.txt", "1.25\n"), ("comma_crlf.txt", "2.5, 0\r\n"),
                       ("comment.txt", "  # a comment\n"), ("blank.txt", "\t\n"), ("tabs.txt", "3e2\t7   \n"),
                       ("bad_negative_mark.txt", "1.0 -1\n"), ("bad_time.txt", "nan 2\n"), ("bad_extra.txt", "1 2 3\n")]:
        put("stream_line", name, line)


# ---- D4RL HDF5 -------------------------------------------------------------------------
def make_d4rl():
    import h5py
    n, no, na = 6, 3, 2
    rng = np.random.default_rng(7)
    obs = rng.standard_normal((n, no)).astype(np.float32)
    act = np.tanh(rng.standard_normal((n, na))).astype(np.float32)
    rew = np.linspace(0, 1, n).astype(np.float32)
    term = np.array([0, 0, 1, 0, 0, 0], bool)
    tout = np.array([0, 0, 0, 0, 1, 0], bool)

    def write(name, skip=(), extra=None, tweak=None):
        with tempfile.TemporaryDirectory() as tmp:
            p = os.path.join(tmp, "f.hdf5")
            # no creation times anywhere, so that the seeds come out the same bytes each time
            fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
            fcpl.set_obj_track_times(False)
            fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
            fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
            with h5py.File(h5py.h5f.create(p.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)) as f:
                data = {"observations": obs, "actions": act, "rewards": rew, "terminals": term, "timeouts": tout}
                if extra:
                    data.update(extra)
                for k, v in data.items():
                    if k not in skip:
                        f.create_dataset(k, data=v, track_times=False)
                f.attrs["env"] = "hopper"
            with open(p, "rb") as f:
                b = f.read()
        if tweak:
            b = tweak(b)
        put("d4rl", name, b)

    write("basic.hdf5")
    write("next_obs_2d_flags.hdf5", extra={"next_observations": np.roll(obs, -1, 0),
                                           "rewards": rew.reshape(n, 1), "terminals": term.astype(np.float32)})
    write("bad_missing.hdf5", skip=("rewards",))
    write("bad_flag.hdf5", extra={"timeouts": np.array([0, 2, 0, 0, 0, 0], np.int8)})
    write("bad_truncated.hdf5", tweak=lambda b: b[:len(b) * 2 // 3])


# ---- checkpoints (written by the tool) ---------------------------------------------------
def make_checkpoints(tool):
    out = os.path.join(CORPUS, "checkpoint")
    os.makedirs(out, exist_ok=True)
    tiny = ["--d-model", "4", "--n-heads", "1", "--n-layers", "1", "--d-ff", "4"]
    with tempfile.TemporaryDirectory() as tmp:
        def run(*args):
            subprocess.run([tool, *args], check=True, stdout=subprocess.DEVNULL, cwd=tmp)

        def keep(name, new_name=None):
            shutil.copy(os.path.join(tmp, name), os.path.join(out, new_name or name))

        run("init", "--arch", "aaren", *tiny, "--output", "encoder_aaren.safetensors")
        run("init", "--arch", "transformer", "--norm", "pre", *tiny, "--output", "encoder_transformer.safetensors")
        keep("encoder_aaren.safetensors")
        keep("encoder_transformer.safetensors")
        run("train", "--arch", "aaren", *tiny, "--steps", "2", "--save", "run.safetensors")
        keep("run.safetensors", "training_run.safetensors")
        os.makedirs(os.path.join(tmp, "Tiny"))
        rows = "".join("%g,%g,%g:%g,%g,%g:%s\n" % (i, i + 1, 2 - i, 0.5 * i, 1, -i, "ab"[i % 2]) for i in range(8))
        head = "@problemName Tiny\n@dimensions 2\n@classLabel true a b\n@data\n"
        for part in ("TRAIN", "TEST"):
            with open(os.path.join(tmp, "Tiny", "Tiny_%s.ts" % part), "w") as f:
                f.write(head + rows)
        run("classify", "--data", "Tiny", *tiny, "--epochs", "1", "--save", "cls.safetensors")
        keep("cls.safetensors", "classifier.safetensors")
        run("events", "--sin", *tiny, "--components", "2", "--epochs", "1", "--save", "tpp.safetensors")
        keep("tpp.safetensors", "event_model.safetensors")
        d4rl = os.path.join(CORPUS, "d4rl", "basic.hdf5")
        run("rl", "train", "--data", d4rl, *tiny, "--K", "2", "--steps", "1", "--eval-episodes", "0",
            "--save", "dt.safetensors")
        keep("dt.safetensors", "decision_model.safetensors")
    # one broken seed: an encoder whose metadata asks for a wider model than its tensors
    with open(os.path.join(out, "encoder_aaren.safetensors"), "rb") as f:
        b = f.read()
    put("checkpoint", "bad_shape.safetensors", b.replace(b'"aaren.d_model":"4"', b'"aaren.d_model":"8"'))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--aaren", help="the built tool, for the checkpoint seeds")
    a = ap.parse_args()
    make_npy()
    make_safetensors()
    make_timeseries()
    make_uea()
    make_events()
    make_stream_line()
    make_d4rl()
    if a.aaren:
        make_checkpoints(os.path.abspath(a.aaren))
    for t in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, t))
        size = sum(os.path.getsize(os.path.join(CORPUS, t, f)) for f in files)
        print("%-12s %2d files, %6d bytes" % (t, len(files), size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
