"""viz/ is the engine: it imports with Qt and ui/ made unimportable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BLOCK_AND_IMPORT = """
import importlib, pkgutil, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph", "ui"):
            raise ImportError(f"{name} is blocked: viz must not import Qt")
sys.meta_path.insert(0, Block())
import viz
names = [m.name for m in pkgutil.walk_packages(viz.__path__, "viz.")]
for name in names:
    importlib.import_module(name)
assert not any(m.split(".")[0] in ("PySide6", "pyqtgraph", "ui") for m in sys.modules)
print(len(names))
"""


def test_every_viz_module_imports_without_qt() -> None:
    done = subprocess.run([sys.executable, "-c", BLOCK_AND_IMPORT], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) >= 10
