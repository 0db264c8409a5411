"""A run cannot find an earlier run's code, output or results in its own memory.

Every run process is forked from the worker and inherits its memory. The worker once
unpickled each request and held each reply on its heap, so a later run that scanned
its own memory read the earlier code (a teacher's answer key) and what it printed.
Now a request's bytes and a run's frames pass through mappings the worker unmaps:
the scan finds nothing, however many runs came before.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator

import pytest

from viz.isolation.worker import TraceRequest, Worker

# Reads its own memory near the heap's end and near live objects, page by page (a
# page the process cannot read makes write() fail with EFAULT, it does not crash),
# and counts places where PREFIX is followed by the bytes whose digest is DIGEST: the
# earlier run's secret, which this code does not know. (/proc/self/maps is not
# readable in the sandbox.)
SCAN = """
import ctypes, gc, hashlib, os
prefix, digest, tail = {prefix!r}.encode(), {digest!r}, {tail}
libc = ctypes.CDLL(None, use_errno=True)
libc.sbrk.restype = ctypes.c_void_p
libc.pwrite.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long)
PAGE, REACH = 4096, 96 << 20
pages = set()
for near in [libc.sbrk(0)] + [id(o) for o in gc.get_objects()[::500]]:
    base = near // PAGE * PAGE
    pages.update(range(max(base - REACH, PAGE), base + REACH, PAGE))
probe = os.open("probe", os.O_RDWR | os.O_CREAT)  # a page copied through its own file: EFAULT if unmapped
found, run, last, seen = 0, [], None, 0
def search(chunk):
    global found
    at = chunk.find(prefix)
    while at >= 0:
        if hashlib.sha256(chunk[at + len(prefix):at + len(prefix) + tail]).hexdigest() == digest:
            found += 1
        at = chunk.find(prefix, at + 1)
for page in sorted(pages):
    readable = libc.pwrite(probe, page, PAGE, 0) == PAGE
    data = os.pread(probe, PAGE, 0) if readable else b""
    seen += readable
    if readable and last == page - PAGE:
        run.append(data)
    else:
        search(b"".join(run))
        run = [data] if readable else []
    last = page if readable else None
search(b"".join(run))
print("found", found, "pages", len(pages), "read", seen)
"""

@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker() as w:
        yield w


def test_a_later_run_finds_nothing_of_an_earlier_one_in_its_memory(worker: Worker) -> None:
    prefix = "ANSWERKEY"
    tail = secrets.token_hex(20)  # in the first run's code, its output and its reply
    secret = prefix + tail
    victim = (f"secret = {secret!r}\nprint(secret)\n"
              "x = torch.tensor([1.0, 2.0], requires_grad=True)\nloss = (x * 3).sum()\n")
    first = worker.run(TraceRequest(victim, "victim.py"))
    assert secret in "".join(chunk["text"] for chunk in first.output)  # it did print it
    digest = hashlib.sha256(tail.encode()).hexdigest()
    scan = SCAN.format(prefix=prefix, digest=digest, tail=len(tail))
    for _ in range(3):  # the spare made before the victim ran, then ones made after it
        result = worker.run(TraceRequest(scan, "scan.py", time_limit_s=60))  # ~200 MB read: slow under load
        text = "".join(chunk["text"] for chunk in result.output)
        assert "found 0" in text and int(text.split("read")[1]) > 1000, text  # it read memory, found none of it
