"""Shared by the Python tests (each imports it from its own folder): check() prints one
verdict line per check and counts the failures, run() runs a command and captures its text
output, done() prints the test's verdict and gives its exit code, skip() exits with ctest's
skip code 77."""
import os
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
