"""Shared by the Python tests (each imports it from its own folder): check() prints one
verdict line per check and counts the failures, run() runs a command and captures its text
output, done() prints the test's verdict and gives its exit code, skip() exits with ctest's
skip code 77."""
import os
import struct
import subprocess
import sys

_failures = 0


def check(ok, what):
    global _failures
    _failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {what}")


def failed():
    """How many checks have failed so far."""
    return _failures


def run(args, stdin=None, env=None):
    """The completed process, stdout and stderr as text; env adds to (not replaces) os.environ."""
    return subprocess.run(args, capture_output=True, text=True, input=stdin,
                          env=dict(os.environ, **env) if env else None)


def done(name):
    print(f"{name}: {'FAILED' if _failures else 'passed'}")
    return 1 if _failures else 0


def skip(name, why):
    print(f"{name}: skipped: {why}")
    sys.exit(77)


def npy_write(path, shape, values):
    """Writes a little-endian float32 C-order .npy file (version 1.0) without numpy."""
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % "".join(f"{d}, " for d in shape)
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack(f"<{len(values)}f", *values))


def npy_read(path):
    """The values of a version 1.0 float32 .npy file, as a list (without numpy)."""
    with open(path, "rb") as f:
        blob = f.read()
    (hlen,) = struct.unpack("<H", blob[8:10])
    data = blob[10 + hlen:]
    return list(struct.unpack(f"<{len(data) // 4}f", data))
