"""What the worker process does to itself first, before it confines itself: only the
descriptors it needs stay open, its own output goes nowhere, and the environment it
was started with is cut to what Python, numpy and torch read (and blanked in memory)."""

from __future__ import annotations

import os


def quiet_descriptors() -> None:
    """The worker's own standard output and error go nowhere; each run process
    captures its own (``_NativeOutput``)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


# What a run may see of the environment the app was started with: no tokens, no
# paths to the user's things; just what Python, numpy and torch read.
ENVIRONMENT_KEPT = ("LANG", "LC_ALL", "LC_CTYPE", "LC_NUMERIC", "TZ", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "CUDA_VISIBLE_DEVICES",
                    "CUDA_DEVICE_ORDER", "PYTORCH_CUDA_ALLOC_CONF", "PYTHONHASHSEED", "TMPDIR",
                    "TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR", "MPLCONFIGDIR")


def clean_environment() -> None:
    """Drop every environment variable but ``ENVIRONMENT_KEPT``, in Python's copies and
    in the C library's, and blank the original strings in memory (where they would
    otherwise still be readable by code that reads its own memory)."""
    import ctypes
    import posix

    kept = {k: os.environ[k] for k in ENVIRONMENT_KEPT if k in os.environ}
    try:
        libc = ctypes.CDLL(None)
        environ = ctypes.POINTER(ctypes.c_char_p).in_dll(libc, "environ")
        index = 0
        while environ[index] is not None:
            address = ctypes.cast(environ, ctypes.POINTER(ctypes.c_void_p))[index]
            ctypes.memset(address, 0, len(environ[index]))
            index += 1
    except (OSError, ValueError, AttributeError):
        pass
    os.environ.clear()
    posix.environ.clear()
    os.environ.update(kept)


def keep_only_descriptors(conn_fd: int) -> list[int]:
    """Close the descriptors the worker does not need: the resource tracker's pipe
    and any terminal; standard input reads as empty. (multiprocessing passes only
    these, the pipe to the parent and the pipe whose closing tells the parent this
    process ended.)"""
    try:
        from multiprocessing import resource_tracker

        tracker = resource_tracker._resource_tracker
        if tracker._fd is not None and tracker._fd != conn_fd:
            os.close(tracker._fd)
        tracker._fd = None
    except (ImportError, AttributeError, OSError):
        pass
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = []
    others = []
    for fd in fds:
        try:
            if fd > 2 and fd != conn_fd and os.isatty(fd):
                os.close(fd)
            elif fd > 2 and fd != conn_fd:
                os.fstat(fd)
                others.append(fd)  # the parent's sentinel: run processes close it
        except OSError:
            pass
    return others
