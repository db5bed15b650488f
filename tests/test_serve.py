"""aaren serve over loopback: every endpoint; step outputs equal to `aaren encode --mode stream`
(bit for bit when a stream steps alone, for Aaren and the Transformer); steps of concurrent
streams batched into one call and equal to single steps; error statuses (400, 401, 404, 405,
413, 429) that leave other streams untouched; idle streams spilled to disk and loaded back
equal to never spilled; durability: after kill -9 (with a torn record appended to the log)
and after a clean stop, every answered step is there and the next output is what an
uninterrupted server gives. Task models: each answer equals the tool's own (classify --predict,
forecast --model --input, events --predict, rl act), durable across kill -9; decision models
(and the behaviour-cloning one, which ignores the target) only where MuJoCo model files are there to make their data. Ports are picked by the server
(--port 0). Skipped (77) when the build has no server."""
import argparse
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pycheck import check, done, npy_read, npy_write, run, skip

NAME = "test_serve"


def f32(v):
    """The float32 a printed number reads back to."""
    return struct.unpack("<f", struct.pack("<f", v))[0]


class Server:
    def __init__(self, aaren, args):
        self.proc = subprocess.Popen([aaren, "serve", "--port", "0"] + args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.port = None
        self.lines = []
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.proc.kill()
            err = self.proc.stderr.read()
            raise RuntimeError("server did not start: " + "".join(self.lines) + err)
        # keep draining stdout so the server never blocks on a full pipe
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def request(self, method, path, body=None, headers=None, conn=None):
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        c.request(method, path, body=data, headers=headers or {})
        r = c.getresponse()
        text = r.read().decode()
        if conn is None:
            c.close()
        try:
            return r.status, json.loads(text)
        except ValueError:
            return r.status, text

    def create(self, headers=None):
        st, js = self.request("POST", "/v1/streams", headers=headers)
        return js["id"] if st == 201 else None

    def step(self, sid, rows, conn=None):
        return self.request("POST", f"/v1/streams/{sid}/step", {"inputs": rows}, conn=conn)

    def metric(self, name):
        st, text = self.request("GET", "/v1/metrics")
        m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
        return float(m.group(1)) if m else None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=30)


def reference(aaren, model, tmp, tag, streams, D):
    """Outputs of `aaren encode --mode stream` for each stream's rows (all the same length)."""
    B, N = len(streams), len(streams[0])
    x, y = os.path.join(tmp, f"{tag}_x.npy"), os.path.join(tmp, f"{tag}_y.npy")
    npy_write(x, (B, N, D), [v for s in streams for row in s for v in row])
    p = run([aaren, "encode", "--model", model, "--input", x, "--output", y, "--mode", "stream"])
    if p.returncode:
        raise RuntimeError(p.stderr)
    flat = npy_read(y)
    return [[flat[(b * N + t) * D:(b * N + t + 1) * D] for t in range(N)] for b in range(B)]


def rows(rng, n, D):
    return [[f32(rng.uniform(-2, 2)) for _ in range(D)] for _ in range(n)]


def same(a, b):
    return all(f32(u) == v for ra, rb in zip(a, b) for u, v in zip(ra, rb)) and len(a) == len(b)


def worst(a, b):
    return max(abs(u - v) for ra, rb in zip(a, b) for u, v in zip(ra, rb))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aaren", required=True)
    aaren = ap.parse_args().aaren
    probe = run([aaren, "serve", "--model", "/nonexistent.safetensors", "--port", "0"])
    if "no server" in probe.stderr:
        skip(NAME, "this build has no server")
    # One temporary folder for everything, removed at the end whatever happens; the servers'
    # spill folders go inside it too (TMPDIR), as a server killed with SIGKILL leaves its own.
    tmp = tempfile.mkdtemp(prefix="aaren_serve_")
    os.environ["TMPDIR"] = tmp
    try:
        return serve_tests(aaren, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def serve_tests(aaren, tmp):
    D = 16
    models = {}
    for arch in ("aaren", "transformer"):
        models[arch] = os.path.join(tmp, f"{arch}.safetensors")
        p = run([aaren, "init", "--arch", arch, "--d-model", str(D), "--n-heads", "2", "--n-layers", "2",
                 "--d-ff", "32", "--seed", "7", "--output", models[arch]])
        if p.returncode:  # older init without --seed
            p = run([aaren, "init", "--arch", arch, "--d-model", str(D), "--n-heads", "2", "--n-layers", "2",
                     "--d-ff", "32", "--output", models[arch]])
        check(p.returncode == 0, f"init {arch}: {p.stderr.strip()}")
    rng = random.Random(5)
    aar = models["aaren"]

    # ---- endpoints, and outputs equal to encode --mode stream, for both architectures ------
    for arch, model in models.items():
        srv = Server(aaren, ["--model", model, "--max-tokens", "64"])
        try:
            st, js = srv.request("GET", "/v1/health")
            check(st == 200 and js.get("status") == "ok" and js.get("d_model") == D and js.get("arch") == arch,
                  f"{arch}: GET /v1/health: {st} {js}")
            a, b = srv.create(), srv.create()
            check(a is not None and b is not None and a != b and re.fullmatch(r"[0-9a-f]{16}", a or ""),
                  f"{arch}: POST /v1/streams gives 201 and distinct 16-hex ids: {a} {b}")
            xa, xb = rows(rng, 12, D), rows(rng, 12, D)
            got_a, got_b, pos_ok = [], [], True
            for lo, hi in ((0, 1), (1, 4), (4, 12)):   # requests of 1, 3 and 8 rows, interleaved
                st, js = srv.step(a, xa[lo:hi])
                got_a += js["outputs"] if st == 200 else []
                pos_ok &= st == 200 and js["position"] == hi and len(js["outputs"]) == hi - lo
                st, js = srv.step(b, xb[lo:hi])
                got_b += js["outputs"] if st == 200 else []
                pos_ok &= st == 200 and js["position"] == hi
            check(pos_ok, f"{arch}: POST /v1/streams/<id>/step answers one row per input row and the position")
            ref = reference(aaren, model, tmp, arch, [xa, xb], D)
            check(same(got_a, ref[0]) and same(got_b, ref[1]),
                  f"{arch}: step outputs equal aaren encode --mode stream bit for bit (two interleaved streams)")
            st, js = srv.request("GET", f"/v1/streams/{a}")
            sb = 2 * 2 * (8 + 2) * 4 if arch == "aaren" else 12 * 2 * 2 * D * 4   # layers x heads x (d_h + 2); 2 x layers x tokens x D
            check(st == 200 and js.get("position") == 12 and js.get("state_bytes") == sb,
                  f"{arch}: GET /v1/streams/<id>: position 12, {sb} state bytes: {js}")
            st, js = srv.request("DELETE", f"/v1/streams/{a}")
            check(st == 200 and js.get("deleted") is True, f"{arch}: DELETE /v1/streams/<id>: {st}")
            st, _ = srv.request("GET", f"/v1/streams/{a}")
            st2, _ = srv.step(a, xa[:1])
            check(st == 404 and st2 == 404, f"{arch}: a deleted stream is gone (GET {st}, step {st2})")
            st, text = srv.request("GET", "/v1/metrics")
            names = ["aaren_requests_total", "aaren_errors_total{status=\"404\"} 2", "aaren_streams_active 1",
                     "aaren_steps_total 24", "aaren_step_latency_seconds_bucket{le=\"+Inf\"} 6",
                     "aaren_steps_per_second", "aaren_resident_memory_bytes"]
            missing = [n for n in names if n not in text]
            check(st == 200 and not missing, f"{arch}: GET /v1/metrics (Prometheus text); missing: {missing}")
            if arch == "transformer":
                st, js = srv.step(b, rows(rng, 60, D))
                check(st == 409 and "full" in js.get("error", ""), f"transformer: a full KV cache is 409: {st} {js}")
        finally:
            check(srv.stop() == 0, f"{arch}: SIGTERM stops the server with status 0")

    # ---- error statuses; other streams unaffected ----------------------------------------
    srv = Server(aaren, ["--model", aar, "--max-body", "4096", "--max-total", "3"])
    try:
        good = srv.create()
        x = rows(rng, 6, D)
        st, js = srv.step(good, x[:3])
        out = js["outputs"]
        bad = [
            (b"{\"inputs\": [[1, 2", 400, "malformed JSON"),
            (b"[1, 2, 3]", 400, "not an object"),
            (json.dumps({"inputs": [[1.0] * (D - 1)]}).encode(), 400, "a row one short"),
            (json.dumps({"inputs": [[1.0] * (D + 1)]}).encode(), 400, "a row one long"),
            (("{\"inputs\": [[1e999" + ", 0" * (D - 1) + "]]}").encode(), 400, "an infinite number"),
            (("{\"inputs\": [[\"1\"" + ", 0" * (D - 1) + "]]}").encode(), 400, "a string for a number"),
            (json.dumps({"inputs": [], }).encode(), 400, "no rows"),
            (json.dumps({"inputs": [[0.0] * D], "extra": 1}).encode(), 400, "an unknown member"),
            (json.dumps({"inputs": [[0.0] * D]}).encode() + b" x", 400, "trailing bytes"),
            (b"", 400, "an empty body"),
            (b"{\"inputs\": [" + b",".join([b"[" + b",".join([b"0.5"] * D) + b"]"] * 200) + b"]}", 413,
             "a body over --max-body"),
        ]
        for body, want, what in bad:
            st, js = srv.request("POST", f"/v1/streams/{good}/step", body)
            ok = st == want and isinstance(js, dict) and js.get("status") == want and js.get("error")
            check(ok, f"{what}: {want} with a JSON error ({st}: {js.get('error') if isinstance(js, dict) else js})")
        st, js = srv.step("0123456789abcdef", x[:1])
        check(st == 404 and "no stream" in js.get("error", ""), f"unknown stream: 404 ({st})")
        st, js = srv.request("GET", "/v1/nothing")
        check(st == 404, f"unknown endpoint: 404 ({st})")
        st, js = srv.request("GET", f"/v1/streams/{good}/step")
        check(st == 405, f"GET on a step: 405 ({st})")
        st, js = srv.request("PUT", "/v1/streams")
        check(st == 405, f"PUT /v1/streams: 405 ({st})")
        ids = [srv.create(), srv.create()]
        st, js = srv.request("POST", "/v1/streams")
        check(st == 429 and "capacity" in js.get("error", ""), f"a stream over --max-total: 429 ({st})")
        st, js = srv.step(good, x[3:])
        ref = reference(aaren, aar, tmp, "err", [x], D)[0]
        check(st == 200 and js["position"] == 6 and same(out + js["outputs"], ref),
              "after the bad requests the stream continues exactly as without them")
        check(srv.metric("aaren_errors_total{status=\"400\"}") == 10, "the metrics count the 400s")
        check(srv.proc.poll() is None and None not in ids, "the server is still running")
    finally:
        srv.stop()

    # ---- token ---------------------------------------------------------------------------
    srv = Server(aaren, ["--model", aar, "--token", "s3cret-token"])
    try:
        st1, js = srv.request("POST", "/v1/streams")
        st2, _ = srv.request("POST", "/v1/streams", headers={"Authorization": "Bearer s3cret-tokeN"})
        st3, _ = srv.request("POST", "/v1/streams", headers={"Authorization": "Bearer s3cret-token-and-more"})
        st4, _ = srv.request("GET", "/v1/metrics", headers={"Authorization": "Bearer "})
        st5, _ = srv.request("POST", "/v1/streams", headers={"Authorization": "Bearer s3cret-token"})
        st6, _ = srv.request("GET", "/v1/health")
        check((st1, st2, st3, st4) == (401, 401, 401, 401) and js.get("status") == 401,
              f"missing, wrong, longer or empty token: 401 ({st1} {st2} {st3} {st4})")
        check(st5 == 201 and st6 == 200, f"the right token: 201; health needs none ({st5} {st6})")
    finally:
        srv.stop()

    # ---- --token-file: the secret from a file, not in the process list -------------------
    tok = os.path.join(tmp, "token")
    with open(tok, "w") as f:
        f.write("f1le-s3cret\n")
    srv = Server(aaren, ["--model", aar, "--token-file", tok])
    try:
        with open(f"/proc/{srv.proc.pid}/cmdline", "rb") as f:
            cmdline = f.read()
        check(b"f1le-s3cret" not in cmdline and tok.encode() in cmdline,
              "--token-file: the secret is not in the process's command line")
        st1, _ = srv.request("POST", "/v1/streams")
        st2, _ = srv.request("POST", "/v1/streams", headers={"Authorization": "Bearer f1le-s3cretx"})
        st3, _ = srv.request("POST", "/v1/streams", headers={"Authorization": "Bearer f1le-s3cret"})
        check((st1, st2, st3) == (401, 401, 201), f"--token-file: missing or wrong token 401, the file's line 201 "
              f"({st1} {st2} {st3})")
    finally:
        srv.stop()
    empty, twolines = os.path.join(tmp, "token_empty"), os.path.join(tmp, "token_two")
    open(empty, "w").close()
    with open(twolines, "w") as f:
        f.write("abc\ndef\n")
    for args, what, want in (([ "--token-file", empty], "an empty token file", "empty"),
                             (["--token-file", twolines], "a token file of two lines", "second line"),
                             (["--token-file", os.path.join(tmp, "none")], "a missing token file", "cannot open"),
                             (["--token-file", tok, "--token", "x"], "--token with --token-file", "not both")):
        p = run([aaren, "serve", "--model", aar, "--port", "0"] + args)
        check(p.returncode != 0 and want in p.stderr and (want == "not both" or args[1] in p.stderr),
              f"{what} is refused, naming the file: {p.stderr.strip()}")

    # ---- concurrent streams: batched steps equal single steps ----------------------------
    n_streams, n_tok = 16, 12
    srv = Server(aaren, ["--model", aar, "--batch-wait-us", "3000"])
    try:
        ids = [srv.create() for _ in range(n_streams)]
        xs = [rows(rng, n_tok, D) for _ in range(n_streams)]
        outs = [[] for _ in range(n_streams)]
        barrier = threading.Barrier(n_streams)

        def client(i):
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
            for t in range(n_tok):
                barrier.wait()
                st, js = srv.step(ids[i], [xs[i][t]], conn=c)
                outs[i].append(js["outputs"][0] if st == 200 else [float("nan")] * D)
            c.close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(n_streams)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ref = reference(aaren, aar, tmp, "batch", xs, D)
        w = max(worst(outs[i], ref[i]) for i in range(n_streams))
        biggest = srv.metric("aaren_batch_rows_max")
        calls, steps = srv.metric("aaren_batched_steps_total"), srv.metric("aaren_steps_total")
        check(biggest is not None and biggest > 1 and calls < steps,
              f"concurrent steps ran batched: up to {biggest} streams per call, {calls} calls for {steps} steps")
        check(w <= 1e-5, f"batched steps equal single steps (encode --mode stream) to float32 rounding: {w:.2e}")
    finally:
        srv.stop()

    # ---- spill and reload ----------------------------------------------------------------
    srv = Server(aaren, ["--model", aar, "--max-streams", "2"])
    try:
        ids = [srv.create() for _ in range(5)]
        xs = [rows(rng, 6, D) for _ in range(5)]
        outs = [[] for _ in range(5)]
        for t in range(0, 6, 2):
            for i in range(5):
                st, js = srv.step(ids[i], xs[i][t:t + 2])
                outs[i] += js["outputs"] if st == 200 else []
        ref = reference(aaren, aar, tmp, "spill", xs, D)
        check(all(same(outs[i], ref[i]) for i in range(5)),
              "5 streams through 2 in-memory slots equal never-spilled streams bit for bit")
        sp, rl, act = srv.metric("aaren_spills_total"), srv.metric("aaren_reloads_total"), srv.metric("aaren_streams_active")
        check(sp >= 10 and rl >= 10 and act == 2, f"streams were spilled ({sp}) and reloaded ({rl}); {act} in memory")
        st, js = srv.request("GET", f"/v1/streams/{ids[0]}")
        check(st == 200 and js["position"] == 6 and js["in_memory"] is False, f"a spilled stream's GET: {js}")
    finally:
        srv.stop()

    # ---- durability: kill -9, a torn record, restart; then a clean stop and restart ----------
    sdir = os.path.join(tmp, "state")
    n, T = 5, 8
    xs = [rows(rng, T + 2, D) for _ in range(n)]
    ref = reference(aaren, aar, tmp, "durable", xs, D)
    srv = Server(aaren, ["--model", aar, "--state-dir", sdir, "--max-streams", "3"])
    ids = [srv.create() for _ in range(n)]
    acked = [0] * n
    for t in range(0, T, 2):
        for i in range(n):
            st, js = srv.step(ids[i], xs[i][t:t + 2])
            if st == 200:
                acked[i] = js["position"]
    gone = srv.create()
    srv.request("DELETE", f"/v1/streams/{gone}")
    second = subprocess.run([aaren, "serve", "--model", aar, "--state-dir", sdir, "--port", "0"], capture_output=True,
                            text=True, timeout=30)
    check(second.returncode != 0 and "in use" in second.stderr, f"a second server on the same folder is refused: "
          f"{second.stderr.strip()}")
    srv.kill()
    with open(os.path.join(sdir, "wal.log"), "ab") as f:   # a record cut off mid-write
        f.write(struct.pack("<III", 0x4c574141, 5000, 0) + b"\x01" * 100)
    srv = Server(aaren, ["--model", aar, "--state-dir", sdir, "--max-streams", "3"])
    try:
        log = "".join(srv.lines)
        check("torn" in log and f"recovered {n} stream(s)" in log, f"restart after kill -9 reports the torn record: {log!r}")
        pos = [srv.request("GET", f"/v1/streams/{s}")[1].get("position") for s in ids]
        check(pos == acked and acked == [T] * n, f"every answered step is there after kill -9: {pos} vs {acked}")
        st, _ = srv.request("GET", f"/v1/streams/{gone}")
        check(st == 404, f"a deleted stream stays deleted ({st})")
        nxt = [srv.step(ids[i], [xs[i][T]])[1]["outputs"][0] for i in range(n)]
        check(all(same([nxt[i]], [ref[i][T]]) for i in range(n)),
              "the next output after kill -9 and restart is the uninterrupted one, bit for bit")
    finally:
        check(srv.stop() == 0, "clean stop after recovery")
    check(os.path.getsize(os.path.join(sdir, "wal.log")) == 0, "a clean stop leaves an empty log (all in the snapshot)")
    srv = Server(aaren, ["--model", aar, "--state-dir", sdir, "--max-streams", "3"])
    try:
        nxt = [srv.step(ids[i], [xs[i][T + 1]])[1] for i in range(n)]
        check(all(js["position"] == T + 2 and same(js["outputs"], [ref[i][T + 1]]) for i, js in enumerate(nxt)),
              "after a clean stop and restart every stream continues bit for bit")
    finally:
        srv.kill()
    tasks(aaren, tmp, rng)
    return done(NAME)


# ---- task models: the server's answers against the tool's own predictions -------------------
TINY = ["--d-model", "8", "--n-heads", "2", "--n-layers", "1", "--d-ff", "16", "--quiet"]


def close(a, b, tol):
    """Every number of a within tol (relative, floor 1) of b's, the same shapes."""
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b))
    return a is not None and b is not None and abs(a - b) <= tol * max(1.0, abs(b))


def csv_rows(path):
    with open(path) as f:
        return [line.rstrip("\n").split(",") for line in f]


def killed_after(aaren, args, steps):
    """A durable server answers the (path, body) steps(srv) gives, then is killed with SIGKILL;
    its answers."""
    srv = Server(aaren, args)
    answers = [srv.request("POST", path, body) for path, body in steps(srv)]
    srv.kill()
    return answers


def task_classifier(aaren, tmp, rng, arch):
    """Probabilities after every step of a case equal `classify --predict` on the case cut there."""
    folder = os.path.join(tmp, "Slopes")
    os.makedirs(folder, exist_ok=True)
    cases = []
    for i in range(30):
        label = ["up", "down", "flat"][i % 3]
        slope = {"up": 1.0, "down": -1.0, "flat": 0.0}[label]
        L = rng.randint(4, 9)
        cases.append(([[f"{slope * t / L * (1 + k) + rng.gauss(0, 0.2) + 3:.4f}" for t in range(L)] for k in range(2)], label))

    def write(path, cs):
        head = ["@problemName Slopes", "@timeStamps false", "@missing false", "@univariate false", "@dimensions 2",
                "@equalLength false", "@classLabel true up down flat", "@data"]
        with open(path, "w") as f:
            f.write("\n".join(head + [":".join(",".join(d) for d in dims) + ":" + lab for dims, lab in cs]) + "\n")

    write(os.path.join(folder, "Slopes_TRAIN.ts"), cases[:24])
    write(os.path.join(folder, "Slopes_TEST.ts"), cases[24:])
    model = os.path.join(tmp, f"classifier_{arch}.safetensors")
    p = run([aaren, "classify", "--data", folder, "--epochs", "3", "--save", model, "--arch", arch] + TINY)
    check(p.returncode == 0, f"classifier ({arch}): trained ({p.stderr.strip()[:200]})")
    # every prefix of three cases, as a .ts file of cases, predicted by the tool
    picks = cases[24:27]
    prefixes = [([d[:t] for d in dims], lab) for dims, lab in picks for t in range(1, len(dims[0]) + 1)]
    pfile, pout = os.path.join(tmp, "prefixes.ts"), os.path.join(tmp, "prefixes.csv")
    write(pfile, prefixes)
    p = run([aaren, "classify", "--model", model, "--predict", pfile, "--predictions", pout])
    check(p.returncode == 0, f"classifier ({arch}): classify --predict on every prefix ({p.stderr.strip()[:200]})")
    ref = [[float(v) for v in row[4:]] for row in csv_rows(pout)[1:]]
    srv = Server(aaren, ["--model", model, "--max-streams", "2", "--step-threads", "2"])   # three streams, two slots
    try:
        st, js = srv.request("GET", "/v1/health")
        check(st == 200 and js.get("task") == "classifier" and js.get("labels") == ["up", "down", "flat"]
              and js.get("input_width") == 2 and js.get("arch") == arch,
              f"classifier ({arch}): /v1/health names the task and its labels: {js}")
        ids = [srv.create() for _ in picks]
        got = [[] for _ in picks]
        predicted = [[] for _ in picks]
        for t in range(0, 9, 2):   # two steps per request, the streams interleaved
            for i, (dims, lab) in enumerate(picks):
                rows_ = [[float(dims[0][u]), float(dims[1][u])] for u in range(t, min(t + 2, len(dims[0])))]
                if not rows_:
                    continue
                st, js = srv.step(ids[i], rows_)
                got[i] += js.get("probabilities", []) if st == 200 else [None]
                predicted[i] += js.get("predicted", []) if st == 200 else [None]
        flat = [q for g in got for q in g]
        check(len(flat) == len(ref) and close(flat, ref, 2e-6),
              f"classifier ({arch}): the probabilities after every step equal classify --predict on the case cut "
              f"there ({len(flat)} steps of 3 streams, spilled and reloaded, two step threads)")
        labels = ["up", "down", "flat"]
        check(all(lab == labels[max(range(3), key=lambda k: q[k])] for g, pr in zip(got, predicted) for q, lab in zip(g, pr)),
              f"classifier ({arch}): 'predicted' is the most probable label")
        st, js = srv.step(ids[0], [[1.0, 2.0, 3.0]])
        check(st == 400 and "takes 2" in js.get("error", ""), f"classifier ({arch}): a row of the wrong width is 400: {js}")
    finally:
        srv.stop()


def write_series(path, n):
    with open(path, "w") as f:
        f.write("date,a,OT\n")
        for i in range(n):
            f.write(f"2020-01-{1 + i // 24:02d} {i % 24:02d}:00:00,{math.sin(i / 5):.4f},{math.cos(i / 7):.4f}\n")


def task_forecaster(aaren, tmp):
    """Once a stream holds seq_len rows, each step's forecast equals `forecast --model --input`
    on the same rows, dated on at the rows' step; kill -9 and restart keep the window."""
    series = os.path.join(tmp, "series.csv")
    write_series(series, 300)
    model = os.path.join(tmp, "forecaster.safetensors")
    L, H = 8, 4
    p = run([aaren, "forecast", "--data", series, "--seq-len", str(L), "--pred-len", str(H), "--epochs", "1",
             "--steps-per-epoch", "4", "--save", model] + TINY)
    check(p.returncode == 0, f"forecaster: trained ({p.stderr.strip()[:200]})")
    rows_ = csv_rows(series)[1:]
    recent = rows_[200:214]

    def body(rs):
        return {"inputs": [[float(v) for v in r[1:]] for r in rs], "dates": [r[0] for r in rs]}

    def cli_forecast(upto):
        path, out = os.path.join(tmp, "recent.csv"), os.path.join(tmp, "fc.csv")
        with open(path, "w") as f:
            f.write("date,a,OT\n" + "".join(",".join(r) + "\n" for r in recent[:upto]))
        p = run([aaren, "forecast", "--model", model, "--input", path, "--output", out])
        if p.returncode:
            raise RuntimeError(p.stderr)
        got = csv_rows(out)[1:]
        return [r[0] for r in got], [[float(v) for v in r[1:]] for r in got]

    srv = Server(aaren, ["--model", model, "--max-streams", "1"])
    try:
        st, js = srv.request("GET", "/v1/health")
        check(st == 200 and js.get("task") == "forecaster" and js.get("seq_len") == L and js.get("pred_len") == H
              and js.get("columns") == ["a", "OT"], f"forecaster: /v1/health: {js}")
        a, b = srv.create(), srv.create()   # b takes the one slot in turns with a: spilled and reloaded
        answers = []
        for lo, hi in ((0, 3), (3, 8), (8, 9), (9, 14)):
            st, js = srv.request("POST", f"/v1/streams/{a}/step", body(recent[lo:hi]))
            answers += js.get("forecasts", []) if st == 200 else [None] * (hi - lo)
            srv.request("POST", f"/v1/streams/{b}/step", body(rows_[lo:hi]))
        check(answers[:L - 1] == [None] * (L - 1) and all(x is not None for x in answers[L - 1:]),
              "forecaster: no forecast until the stream holds seq_len rows, then one per step")
        ok = True
        for upto in (L, 11, 14):
            dates, values = cli_forecast(upto)
            fc = answers[upto - 1] or {}
            ok &= fc.get("dates") == dates and close(fc.get("values"), values, 1e-6)
        check(ok, "forecaster: the forecasts after 8, 11 and 14 rows equal forecast --model --input on those rows "
                  "(values and dates), the stream spilled and reloaded between steps")
        st, js = srv.request("POST", f"/v1/streams/{a}/step", body(recent[:1]))
        check(st == 400 and "after" in js.get("error", ""), f"forecaster: a date not after the last is 400: {js}")
        st, js = srv.request("POST", f"/v1/streams/{a}/step", {"inputs": [[0.0, 0.0]]})
        check(st == 400 and "dates" in js.get("error", ""), f"forecaster: a step without dates is 400: {js}")
        st, js = srv.request("POST", f"/v1/streams/{a}/step", {"inputs": [[0.0, 0.0]], "dates": ["2020-02-30 00:00"]})
        check(st == 400 and "not a date" in js.get("error", ""), f"forecaster: an impossible date is 400: {js}")
    finally:
        srv.stop()
    # durability: 10 rows answered, kill -9, restart: the next forecast is the uninterrupted one
    sdir = os.path.join(tmp, "state_forecaster")
    holder = {}

    def steps(srv):
        holder["id"] = srv.create()
        return [(f"/v1/streams/{holder['id']}/step", body(recent[0:10]))]

    first = killed_after(aaren, ["--model", model, "--state-dir", sdir], steps)
    srv = Server(aaren, ["--model", model, "--state-dir", sdir])
    try:
        st, js = srv.request("POST", f"/v1/streams/{holder['id']}/step", body(recent[10:11]))
        dates, values = cli_forecast(11)
        fc = (js.get("forecasts") or [{}])[0] if st == 200 else {}
        check(first[0][0] == 200 and js.get("position") == 11 and fc.get("dates") == dates and close(fc.get("values"), values, 1e-6),
              "forecaster: after kill -9 and restart the stream's window is there: the next forecast equals the tool's")
    finally:
        srv.stop()


def task_events(aaren, tmp, rng, extra=(), tag="events"):
    """Each event's prediction equals `events --model --predict` (and the streamed `--stream`
    lines); concurrent streams run batched; kill -9 and restart keep the last event's time.
    extra: training options (`--copy-lags 4`: the streams also keep their last marks)."""
    data = os.path.join(tmp, "events.csv")
    with open(data, "w") as f:
        f.write("seq_id,time,mark\n")
        for s_ in range(40):
            t = 0.0
            for _ in range(rng.randint(5, 12)):
                t += rng.expovariate(1.0)
                f.write(f"s{s_},{t:.6f},{rng.randrange(3)}\n")
    fname = "".join(ch if ch.isalnum() else "_" for ch in tag)
    model = os.path.join(tmp, f"{fname}.safetensors")
    p = run([aaren, "events", "--data", data, "--epochs", "1", "--save", model, "--d-model", "8", "--n-heads", "2",
             "--d-ff", "16", "--quiet", *extra])
    check(p.returncode == 0, f"{tag}: trained ({p.stderr.strip()[:200]})")
    seqs = []
    for s_ in range(4):
        t, seq = 0.0, []
        for _ in range(9):
            t += round(rng.expovariate(1.0), 6)
            seq.append([float(f"{t:.6f}"), rng.randrange(3)])
        seqs.append(seq)
    pfile, pout = os.path.join(tmp, "ev_predict.csv"), os.path.join(tmp, "ev_pred_out.csv")
    with open(pfile, "w") as f:
        f.write("seq_id,time,mark\n" + "".join(f"q{i},{t:.6f},{m}\n" for i, seq in enumerate(seqs) for t, m in seq))
    p = run([aaren, "events", "--model", model, "--predict", pfile, "--predictions", pout])
    check(p.returncode == 0, f"{tag}: events --predict ({p.stderr.strip()[:200]})")
    ref = [[[float(v) for v in row[4:8]] + [int(row[8]), float(row[9])] + [float(v) for v in row[10:]]
            for row in csv_rows(pout)[1:] if row[0] == str(i)] for i in range(len(seqs))]
    srv = Server(aaren, ["--model", model, "--batch-wait-us", "3000", "--max-streams", "2"])   # four streams, two slots
    try:
        st, js = srv.request("GET", "/v1/health")
        lags = int(extra[extra.index("--copy-lags") + 1]) if "--copy-lags" in extra else 0
        check(st == 200 and js.get("task") == "events" and js.get("n_marks") == 3 and js.get("input_width") == 2 and
              js.get("copy_lags") == lags, f"{tag}: /v1/health: {js}")
        ids = [srv.create() for _ in seqs]
        outs = [[] for _ in seqs]
        barrier = threading.Barrier(len(seqs))

        def client(i):
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
            for t in range(0, 9, 3):
                barrier.wait()
                st, js = srv.step(ids[i], seqs[i][t:t + 3], conn=c)
                outs[i] += js.get("predictions", []) if st == 200 else [None] * 3
            c.close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(len(seqs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        got = [[[p["mean"], p["median"], p["q10"], p["q90"], p["mark"], p["p_mark"]] + p["mark_probs"] for p in o if p]
               for o in outs]
        check(all(len(g) == 9 for g in got) and close(got, ref, 2e-5),
              f"{tag}: every event's prediction (mean, median, q10, q90, mark, its probability, every mark's) equals "
              "events --predict, four streams stepped concurrently through two slots (spilled and reloaded)")
        check(srv.metric("aaren_batch_rows_max") > 1 and srv.metric("aaren_spills_total") > 0,
              f"{tag}: concurrent steps ran batched, and streams were spilled")
        sid = ids[0]
        for bad, what, want in (([[seqs[0][-1][0] - 1.0, 0]], "a time before the stream's last event", "before"),
                                ([[99.0, 1], [98.0, 1]], "times that decrease within a request", "before"),
                                ([[99.0, 3]], "a mark out of range", "integer from 0 to 2"),
                                ([[99.0, 1.5]], "a mark that is not an integer", "integer"),
                                ([[99.0]], "a row without its mark", "takes 2")):
            st, js = srv.step(sid, bad)
            check(st == 400 and want in js.get("error", ""), f"{tag}: {what} is 400: {js}")
        st, js = srv.request("GET", f"/v1/streams/{sid}")
        check(st == 200 and js.get("position") == 9, f"{tag}: rejected steps changed nothing: {js}")
    finally:
        srv.stop()
    # streamed through the tool: the same lines (unmarked times and marks on stdin)
    st_ = run([aaren, "events", "--model", model, "--stream"], stdin="".join(f"{t:.6f} {m}\n" for t, m in seqs[1]))
    lines = [l.split() for l in st_.stdout.splitlines() if l and not l.startswith("#")]
    tool = [[float(v) for v in l[3:7]] for l in lines]
    worst = max((abs(x - y) / max(1.0, abs(y)) for g, t in zip(got[1], tool) for x, y in zip(g[:4], t)), default=1.0)
    check(st_.returncode == 0 and len(tool) == 9 and worst <= 2e-5,   # batched in the server, alone in the tool
          f"{tag}: the server's predictions equal aaren events --stream on the same events (worst {worst:.1e})")
    # durability
    sdir = os.path.join(tmp, f"state_{fname}")
    holder = {}

    def steps(srv):
        holder["id"] = srv.create()
        return [(f"/v1/streams/{holder['id']}/step", {"inputs": seqs[2][:6]})]

    first = killed_after(aaren, ["--model", model, "--state-dir", sdir], steps)
    srv = Server(aaren, ["--model", model, "--state-dir", sdir])
    try:
        st, js = srv.step(holder["id"], seqs[2][6:])
        p = js.get("predictions", []) if st == 200 else []
        again = [[q["mean"], q["median"], q["q10"], q["q90"], q["mark"], q["p_mark"]] + q["mark_probs"] for q in p]
        check(first[0][0] == 200 and js.get("position") == 9 and close(again, ref[2][6:], 2e-5),
              f"{tag}: after kill -9 and restart the stream goes on as uninterrupted (its last event's time kept)")
        st, js = srv.step(holder["id"], [[seqs[2][5][0], 0]])
        check(st == 400, f"{tag}: after restart a time before the last answered event is still 400 ({st})")
    finally:
        srv.stop()
    if lags > 1:
        recent_marks_checked(aaren, model, sdir, tag)


def recent_marks_checked(aaren, model, sdir, tag):
    """A stream state in the snapshot whose kept recent mark is out of range (checksum made
    valid) stops the restart with the file and the reason; the untouched snapshot recovers."""
    path = os.path.join(sdir, "snapshot.bin")
    with open(path, "rb") as f:
        good = f.read()
    count = struct.unpack_from("<Q", good, len(good) - 12)[0]
    check(good[:8] == b"AASNAP01" and count == 1, f"{tag}: the clean stop left one stream in the snapshot ({count})")
    bad = bytearray(good)
    struct.pack_into("<i", bad, 8 + 16 + 8 + 8, 3 + 1)   # header, [id][length], [position][last time]: mark 3, of 0..2
    struct.pack_into("<I", bad, len(bad) - 4, zlib.crc32(bytes(bad[:-4])))
    with open(path, "wb") as f:
        f.write(bad)
    try:
        Server(aaren, ["--model", model, "--state-dir", sdir]).stop()
        msg = ""
    except RuntimeError as e:
        msg = str(e)
    check("snapshot.bin" in msg and "recent mark 3 is outside 0..2" in msg,
          f"{tag}: a stored recent mark out of range stops the restart, naming the file and the mark: {msg[-300:]!r}")
    with open(path, "wb") as f:
        f.write(good)
    srv = Server(aaren, ["--model", model, "--state-dir", sdir])
    try:
        st, js = srv.request("GET", "/v1/health")
        check(st == 200 and js.get("streams") == 1, f"{tag}: the untouched snapshot recovers its stream: {js}")
    finally:
        srv.stop()


def decision_model(aaren, tmp, arch):
    """A tiny decision model of hopper (data from `rl make-data`), or None with the reason."""
    shared = os.environ.get("AAREN_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
    xml = os.path.join(shared, "data", "rl", "mujoco_xml")
    data = os.path.join(tmp, "rl", "hopper-medium.hdf5")
    if not os.path.exists(data):
        if not os.path.exists(os.path.join(xml, "hopper.xml")):
            return None, "no MuJoCo model files in " + xml
        p = run([aaren, "rl", "make-data", "--env", "hopper", "--size", "500", "--train-episodes", "16", "--eval-episodes",
                 "1", "--out", os.path.join(tmp, "rl"), "--xml-dir", xml, "--quiet"])
        if p.returncode and ("no MuJoCo" in p.stderr or "no HDF5" in p.stderr):
            return None, p.stderr.strip()[:200]
        check(p.returncode == 0, f"decision: rl make-data ({p.stderr.strip()[:200]})")
    model = os.path.join(tmp, f"decision_{arch}.safetensors")
    p = run([aaren, "rl", "train", "--data", data, "--arch", arch, "--steps", "20", "--batch", "8", "--K", "4",
             "--eval-episodes", "0", "--save", model] + TINY)
    check(p.returncode == 0, f"decision ({arch}): rl train --save ({p.stderr.strip()[:200]})")
    return model, None


def episode_rows(rng, n, obs_dim):
    """n steps: the reward of the previous action (0 first), then an observation."""
    return [[0.0 if t == 0 else round(rng.gauss(1, 0.5), 4)] + [round(rng.gauss(0, 1), 4) for _ in range(obs_dim)]
            for t in range(n)]


def rl_act(aaren, tmp, model, rows_, target=None):
    """`aaren rl act` on the episode rows: (returns-to-go, actions) per step."""
    path, out = os.path.join(tmp, "episode.csv"), os.path.join(tmp, "actions.csv")
    with open(path, "w") as f:
        f.write("reward," + ",".join(f"o{i}" for i in range(len(rows_[0]) - 1)) + "\n")
        f.write("".join(",".join(repr(v) for v in r) + "\n" for r in rows_))
    p = run([aaren, "rl", "act", "--model", model, "--input", path, "--output", out] +
            (["--target", str(target)] if target is not None else []))
    if p.returncode:
        raise RuntimeError(p.stderr)
    got = csv_rows(out)[1:]
    return [float(r[1]) for r in got], [[float(v) for v in r[2:]] for r in got]


def task_decision(aaren, tmp, rng, arch):
    """Each step's action (and return-to-go) equals `rl act` on the episode so far, episodes of
    different targets stepped concurrently through one slot (batched, spilled and reloaded);
    bad bodies are 400 and change nothing; kill -9 and restart keep the return-to-go; the
    Transformer's KV cache holds three tokens per step."""
    model, why = decision_model(aaren, tmp, arch)
    if model is None:
        print(f"decision ({arch}): not checked ({why})")
        return
    n = 10
    eps = [episode_rows(rng, n, 11) for _ in range(3)]
    targets = [None, 1500, -250.5]   # None: the model's default (hopper: 3600)
    refs = [rl_act(aaren, tmp, model, e, tg) for e, tg in zip(eps, targets)]
    args = ["--model", model, "--batch-wait-us", "3000", "--max-streams", "2"]   # three streams, two slots
    srv = Server(aaren, args)
    try:
        st, js = srv.request("GET", "/v1/health")
        check(st == 200 and js.get("task") == "decision" and js.get("input_width") == 12 and js.get("obs_dim") == 11
              and js.get("act_dim") == 3 and js.get("env") == "hopper" and js.get("target_return") == 3600
              and js.get("arch") == arch, f"decision ({arch}): /v1/health names the task, widths and target: {js}")
        ids = [srv.create() if tg is None else srv.request("POST", "/v1/streams", {"target_return": tg})[1].get("id")
               for tg in targets]
        outs = [[[], []] for _ in eps]
        barrier = threading.Barrier(len(eps))

        def client(i):
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
            for lo, hi in ((0, 1), (1, 4), (4, 5), (5, n)):
                barrier.wait()
                st, js = srv.step(ids[i], eps[i][lo:hi], conn=c)
                outs[i][0] += js.get("returns_to_go", []) if st == 200 else [None] * (hi - lo)
                outs[i][1] += js.get("actions", []) if st == 200 else [None] * (hi - lo)
            c.close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(len(eps))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(all(close(o[0], r[0], 1e-12) for o, r in zip(outs, refs)),
              f"decision ({arch}): the returns-to-go (each stream's target less the rewards so far) equal rl act's")
        worst_ = max((abs(x - y) for o, r in zip(outs, refs) for a, b in zip(o[1], r[1]) for x, y in zip(a or [9] * 3, b)),
                     default=1.0)
        check(all(len(o[1]) == n for o in outs) and worst_ <= 2e-5,
              f"decision ({arch}): every action equals rl act on the episode so far, three episodes of different "
              f"targets stepped concurrently through two slots (worst {worst_:.1e})")
        check(srv.metric("aaren_batch_rows_max") > 1 and srv.metric("aaren_spills_total") > 0,
              f"decision ({arch}): concurrent steps ran batched, and streams were spilled")
        check(refs[0][1] != refs[1][1], f"decision ({arch}): the target return changes the actions")
        sid = ids[0]
        for body, what, want in (({"inputs": [[0.0] * 11]}, "a row without the reward", "takes 12"),
                                 ({"inputs": [[0.0] * 13]}, "a row too long", "takes 12"),
                                 (b'{"inputs": [[NaN' + b', 0' * 11 + b']]}', "NaN", "JSON"),
                                 ({"inputs": [[0.0] * 12], "target_return": 5}, "a target on a step", "unknown member")):
            st, js = srv.request("POST", f"/v1/streams/{sid}/step", body)
            check(st == 400 and want in js.get("error", ""), f"decision ({arch}): {what} is 400: {js}")
        for body, what, want in (({"target_return": "high"}, "a target that is not a number", "finite number"),
                                 ({"target_return": 1e300}, "a huge target", "finite number"),
                                 ({"target": 5}, "an unknown member", "unknown member"),
                                 ([1, 2], "an array", "JSON object"),
                                 (b"{", "malformed JSON", "malformed")):
            st, js = srv.request("POST", "/v1/streams", body)
            check(st == 400 and want in js.get("error", ""), f"decision ({arch}): a new stream with {what} is 400: {js}")
        st, js = srv.request("GET", f"/v1/streams/{sid}")
        check(st == 200 and js.get("position") == n and srv.metric("aaren_streams") == 3,
              f"decision ({arch}): rejected requests changed nothing: {js}")
    finally:
        srv.stop()
    # durability: 6 steps answered, kill -9, restart: the next action and return-to-go are the uninterrupted ones
    sdir = os.path.join(tmp, f"state_decision_{arch}")
    holder = {}

    def steps(srv):
        holder["id"] = srv.request("POST", "/v1/streams", {"target_return": 1500})[1]["id"]
        return [(f"/v1/streams/{holder['id']}/step", {"inputs": eps[1][:6]})]

    first = killed_after(aaren, ["--model", model, "--state-dir", sdir], steps)
    srv = Server(aaren, ["--model", model, "--state-dir", sdir])
    try:
        st, js = srv.step(holder["id"], eps[1][6:8])
        check(first[0][0] == 200 and st == 200 and js.get("position") == 8 and close(js.get("returns_to_go"), refs[1][0][6:8], 1e-12)
              and close(js.get("actions"), refs[1][1][6:8], 2e-5),
              f"decision ({arch}): after kill -9 and restart the episode goes on as uninterrupted (return-to-go kept)")
    finally:
        srv.stop()
    if arch == "transformer":   # 3 tokens per step: a cache of 10 tokens holds 3 steps
        srv = Server(aaren, ["--model", model, "--max-tokens", "10"])
        try:
            sid = srv.create()
            st, js = srv.step(sid, eps[0][:4])
            st2, js2 = srv.request("GET", f"/v1/streams/{sid}")
            check(st == 409 and "three per step" in js.get("error", "") and js2.get("position") == 3,
                  f"decision (transformer): the KV cache holds three tokens per step; the fourth step is 409: {js} {js2}")
        finally:
            srv.stop()


def task_decision_bc(aaren, tmp, rng, arch):
    """A behaviour-cloning decision model (rl train --no-returns): the server steps two tokens a
    step, its actions equal rl act's, and neither depends on the stream's target return."""
    model, why = decision_model(aaren, tmp, arch)
    if model is None:
        print(f"decision BC ({arch}): not checked ({why})")
        return
    data, bc = os.path.join(tmp, "rl", "hopper-medium.hdf5"), os.path.join(tmp, f"decision_bc_{arch}.safetensors")
    p = run([aaren, "rl", "train", "--data", data, "--arch", arch, "--no-returns", "--steps", "20", "--batch", "8", "--K", "4",
             "--eval-episodes", "0", "--save", bc] + TINY)
    check(p.returncode == 0, f"decision BC ({arch}): rl train --no-returns --save ({p.stderr.strip()[:200]})")
    n = 8
    ep = episode_rows(rng, n, 11)
    refs = [rl_act(aaren, tmp, bc, ep, tg) for tg in (1500, -250.5)]
    check(refs[0][1] == refs[1][1], f"decision BC ({arch}): rl act's actions do not depend on the target")
    srv = Server(aaren, ["--model", bc])
    try:
        outs = []
        for tg in (1500, -250.5):
            st, js = srv.request("POST", "/v1/streams", {"target_return": tg})
            sid = js.get("id")
            st, js = srv.step(sid, ep)
            outs.append(js.get("actions", []) if st == 200 else [])
            st, js = srv.request("GET", f"/v1/streams/{sid}")
            check(st == 200 and js.get("position") == n, f"decision BC ({arch}): the stream is at step {n}: {js}")
        worst_ = max((abs(x - y) for o in outs for a, b in zip(o, refs[0][1]) for x, y in zip(a, b)), default=1.0)
        check(all(len(o) == n for o in outs) and worst_ <= 2e-5 and outs[0] == outs[1],
              f"decision BC ({arch}): the server's actions equal rl act's whatever the target (worst {worst_:.1e})")
    finally:
        srv.stop()


def tasks(aaren, tmp, rng):
    for arch in ("aaren", "transformer"):
        task_classifier(aaren, tmp, rng, arch)
    task_forecaster(aaren, tmp)
    task_events(aaren, tmp, rng)
    task_events(aaren, tmp, rng, ["--copy-lags", "4"], "events (copy lags 4)")
    for arch in ("aaren", "transformer"):
        task_decision(aaren, tmp, rng, arch)
        task_decision_bc(aaren, tmp, rng, arch)


if __name__ == "__main__":
    sys.exit(main())
