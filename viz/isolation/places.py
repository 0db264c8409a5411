"""What the worker's Landlock layers name: the places it may read (Python, the packages,
the app's code, the system's libraries and the machine's CPU and memory layout), the GPU
device files it may use, and the folders it may only list. ``places()`` finds them once,
in the worker before its first layer; a run's layer repeats them (``viz.isolation.confine``).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass


def readable_places() -> list[str]:
    """What the worker may read: Python, the installed packages, the app's code, the
    shared libraries and the few system files torch and numpy consult."""
    import sysconfig

    # The app's own packages, not the folder holding them (a checkout's .git, notes, a
    # user's files beside it).
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    app = [os.path.join(root, package) for package in ("viz", "resources")]
    # Of Python's prefixes, their libraries (the interpreter's, the standard library, the
    # packages): not the rest (a pip.conf or .condarc with an index's password lives at a
    # prefix's top: red team 82).
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    places = {*(os.path.join(prefix, lib) for prefix in prefixes for lib in ("lib", "lib64")), *app,
              sys.executable, os.path.realpath(sys.executable),  # platform.libc_ver() reads it
              "/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib", "/etc/ld.so.cache",
              "/usr/share/zoneinfo", "/proc/cpuinfo", "/proc/meminfo", *system_topology(),
              "/dev/urandom", "/dev/random", "/dev/zero"}
    places.update(path for key, path in sysconfig.get_paths().items() if key in ("stdlib", "platstdlib", "purelib", "platlib"))
    # Packages found through sys.path that live outside the prefix (an editable
    # install's folder): only folders that hold a package, never the current folder.
    for entry in sys.path:
        if entry and os.path.isabs(entry) and ("site-packages" in entry or "dist-packages" in entry):
            places.add(entry)
    return sorted(p for p in places if os.path.exists(p))


# The CPU and NUMA layout torch, numpy and the C library read (counts, topology,
# caches), file by file: the folders around them also hold live counters of the whole
# machine (idle states, memory and I/O by node), which tell what other programs do.
# Their folders may be listed (names only).
_CPU, _NODE = "/sys/devices/system/cpu", "/sys/devices/system/node"
_TOPOLOGY_FILES = [f"{_CPU}/{n}" for n in ("online", "possible", "present", "kernel_max", "offline", "isolated")] + \
    [f"{_NODE}/{n}" for n in ("online", "possible", "has_cpu", "has_memory", "has_normal_memory")]
LISTED_ONLY = (_CPU, _NODE)


def system_topology(cpu: str = _CPU, node: str = _NODE) -> list[str]:
    """The files (and the topology and cache folders of each CPU) that describe the
    machine's processors and memory nodes, not what runs on them."""
    import glob

    places = [p.replace(_CPU, cpu, 1).replace(_NODE, node, 1) for p in _TOPOLOGY_FILES]
    for each in sorted(glob.glob(os.path.join(cpu, "cpu[0-9]*"))):
        places += [os.path.join(each, "topology"), os.path.join(each, "cache")]
    for each in sorted(glob.glob(os.path.join(node, "node[0-9]*"))):
        places += [os.path.join(each, name) for name in ("cpulist", "cpumap", "distance")]
    return [p for p in places if os.path.exists(p)]


def device_places(dev: str = "/dev") -> list[str]:
    """GPU device files (CUDA, ROCm), read-write with ioctl, when present; nothing else
    under /dev or /sys is ever writable. Of /dev/dri, the render nodes only (compute):
    a ``card`` node controls the displays (modes, other programs' shared buffers) for
    whoever holds it when the desktop lets go (red team 108's note)."""
    try:
        names = os.listdir(dev)
    except OSError:
        return []
    found = [os.path.join(dev, n) for n in sorted(names)
             if n.startswith(("nvidia", "kfd")) and not n.startswith(_MIG_CAPABILITIES)]
    try:
        found += [os.path.join(dev, "dri", n) for n in sorted(os.listdir(os.path.join(dev, "dri")))
                  if n.startswith(_RENDER_NODE)]
    except OSError:
        pass
    return found


_RENDER_NODE = "renderD"


# The capability files of NVIDIA's MIG partitions: opened for reading to use a partition
# (read-only below), never written (the configuration one changes the partitioning).
_MIG_CAPABILITIES = "nvidia-caps"
# A PCI device's files that map or read its memory (its BARs, its ROM): not the driver's
# to read through sysfs (red team 94's note: root may map a GPU's memory windows).
_RAW_PCI = re.compile(r"resource\d|rom$")


# PCI classes of the devices a GPU driver reads about: display controllers (0x03) and
# processing accelerators (0x12).
_GPU_CLASSES = ("0x03", "0x12")


def gpu_readable_places(dev: str = "/dev", sys_root: str = "/sys", proc: str = "/proc") -> tuple[list[str], list[str]]:
    """What a GPU driver reads when a GPU is present: (read-only places, folders that
    may only be listed). Of the PCI devices, what the GPUs' own folders hold but their
    memory windows and ROM: the rest of the tree holds network addresses, disk serials
    and live traffic counters."""
    if not device_places(dev):
        return [], []
    read = [os.path.join(proc, "driver", "nvidia"), os.path.join(sys_root, "module", "nvidia"),
            os.path.join(sys_root, "class", "drm"), os.path.join(dev, _MIG_CAPABILITIES)]
    devices = os.path.join(sys_root, "bus", "pci", "devices")
    listed = [devices, os.path.join(dev, "dri")]  # where a driver looks for its render nodes
    try:
        names = sorted(os.listdir(devices))
    except OSError:
        names = []
    for name in names:
        try:
            with open(os.path.join(devices, name, "class")) as kind:
                if not kind.read().strip().startswith(_GPU_CLASSES):
                    continue
            folder = os.path.realpath(os.path.join(devices, name))
            entries = [os.path.join(folder, entry) for entry in sorted(os.listdir(folder)) if not _RAW_PCI.match(entry)]
            read += [path for path in entries if not os.path.islink(path)]  # a rule would name their targets
            listed.append(folder)
        except OSError:
            continue
    return [p for p in read if os.path.exists(p)], [p for p in listed if os.path.isdir(p)]


@dataclass(frozen=True)
class Places:
    """Everything the Landlock layers name, found once per worker before its first
    layer (a run's layer repeats them: found after confinement, /dev and /sys could no
    longer be listed, and a run would lose its GPU)."""

    read: tuple[str, ...]
    listed: tuple[str, ...]
    devices: tuple[str, ...]


_found: Places | None = None


def places() -> Places:
    global _found
    if _found is None:
        gpu_read, gpu_listed = gpu_readable_places()
        _found = Places(tuple(readable_places() + gpu_read),
                        tuple(p for p in (*LISTED_ONLY, *gpu_listed) if os.path.isdir(p)),
                        tuple(device_places()))
    return _found
