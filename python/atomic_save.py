"""All-or-nothing output files for the project's Python helpers, the same rule the C library
follows: write a temporary file in the target's folder, flush and fsync it, rename it over the
target, fsync the folder. A failure leaves the previous file as it was; a target that exists
and is not a regular file (a folder, device, pipe or link) is refused, never replaced."""
import contextlib
import os
import stat
import tempfile


def check_target(path):
    """Raises OSError when path exists and is not a regular file."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(st.st_mode):
        raise OSError(f"{path}: is not a regular file; refusing to replace it")


@contextlib.contextmanager
def atomic_open(path, mode="w"):
    """Yields a file object to fill; the target changes only when the block ends without error."""
    path = os.fspath(path)
    check_target(path)
    folder = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".tmp-")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        check_target(path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def save_figure(fig, path, **kwargs):
    """fig.savefig(path) all or nothing; the format comes from path's extension."""
    fmt = os.path.splitext(path)[1].lstrip(".") or "png"
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format=fmt, **kwargs)
