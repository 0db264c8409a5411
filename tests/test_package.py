"""`pip install .` gives a working app: a wheel built from a copy of the checkout, installed
into a fresh venv and run from another folder, finds everything it reads as package data
(the guide and its pictures, the gallery, the themes, the op cards, the icon) and not the
checkout beside it.

Nothing is downloaded: the wheel is built with this venv's setuptools (no build
isolation), installed with ``--no-index --no-deps``, and the dependencies (torch,
PySide6, ...) come from this venv's site-packages through a ``.pth`` line, which adds the
folder to ``sys.path`` without running its ``.pth`` files (so the checkout's editable
install stays out).
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The checkout minus what a build must not see: build/ keeps files deleted since (they
# would ship), and the venv, tests and benches are not the package.
SKIP = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                              "tests", "bench", "out", ".pytest_cache", ".hypothesis",
                              ".mypy_cache", ".ruff_cache")

pytestmark = pytest.mark.slow


def _run(args: list[str | Path], cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    command = " ".join(str(a) for a in args)[:200]
    assert done.returncode == 0, (f"{command} -> {done.returncode}\n{done.stdout[-2000:]}\n"
                                  f"{done.stderr[-2000:]}")
    return done


def build_and_install(root: Path, work: Path) -> Path:
    """Build ``root``'s wheel and install it into ``work/venv``; return that venv's bin/."""
    source = work / "src"
    shutil.copytree(root, source, symlinks=True, ignore=SKIP)  # resources/docs stays a link
    wheels = work / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "--disable-pip-version-check", "--quiet", "-w", wheels, "."], cwd=source, timeout=180)
    (wheel,) = wheels.glob("autograd_studio-*.whl")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=work)
    bin_dir = venv / "bin"
    _run([sys.executable, "-m", "pip", "--python", bin_dir / "python", "install", "--no-deps",
          "--no-index", "--disable-pip-version-check", "--quiet", wheel], cwd=work)
    purelib = _run([bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   cwd=work).stdout.strip()
    (Path(purelib) / "_autograd_studio_deps.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    return bin_dir


# Run by the installed interpreter, offscreen: each kind of package data through the code
# that reads it in the app.
CHECK = textwrap.dedent("""
    import json, sys
    from importlib import resources
    from pathlib import Path
    from PySide6.QtCore import QSize, QUrl
    from PySide6.QtGui import QImage, QTextDocument
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    import ui, viz
    from resources import app_version
    from ui.app import app_icon
    from ui.help_docs import DOCS_DIR, GuideDialog
    from ui.themes import THEMES, style_sheet
    from viz.teaching.cards import card_for
    from viz.teaching.examples import list_examples

    guide = GuideDialog(DOCS_DIR)
    guide.home()
    picture = guide.browser.loadResource(QTextDocument.ResourceType.ImageResource.value,
                                         QUrl("images/window.png"))
    print(json.dumps({
        "code": [str(Path(m.__file__).resolve()) for m in (ui, viz)],
        "docs": str(DOCS_DIR),
        "page": guide.page_name(),
        "page_text": guide.browser.toPlainText()[:200],
        "picture": picture is not None and not QImage.fromData(picture).isNull(),
        "examples": len(list_examples()),
        "themes": {name: len(style_sheet(theme)) for name, theme in THEMES.items()},
        "card": card_for("MulBackward0"),
        "icon": not app_icon().pixmap(QSize(32, 32)).isNull(),
        "desktop": resources.files("resources").joinpath("autograd-studio.desktop").is_file(),
        "version": app_version(),
    }))
""")


def test_the_installed_wheel_runs_from_another_folder_on_package_data_alone(tmp_path: Path) -> None:
    bin_dir = build_and_install(ROOT, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["QT_QPA_PLATFORM"] = "offscreen"

    version = _run([bin_dir / "autograd-studio", "--version"], cwd=elsewhere, env=env)
    assert version.stdout.strip() == "autograd-studio 0.1.0"
    assert (bin_dir / "autograd-studio-gui").is_file()

    _run([bin_dir / "autograd-studio", "export", "--expr",
          "x = torch.tensor([1.0, 2.0], requires_grad=True)\n(x * x).sum()", "-o", "x.json"],
         cwd=elsewhere, env=env)
    trace = json.loads((elsewhere / "x.json").read_text(encoding="utf-8"))
    assert trace["graph"]["format"] == "autograd-studio.trace"
    assert {node["grad_fn"] for node in trace["nodes"]} >= {"MulBackward0", "SumBackward0"}

    done = _run([bin_dir / "python", "-c", CHECK], cwd=elsewhere, env=env)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    venv = str((tmp_path / "venv").resolve())
    assert all(path.startswith(venv) for path in seen["code"]), seen["code"]  # not the checkout
    assert seen["docs"].startswith(venv), seen["docs"]
    assert seen["page"] == "index.md" and "Autograd Studio User Guide" in seen["page_text"], seen
    assert seen["picture"], "the guide's images/window.png did not load"
    assert seen["examples"] >= 20
    assert set(seen["themes"]) == {"light", "dark", "high-contrast"}
    assert all(size > 1000 for size in seen["themes"].values()), seen["themes"]
    assert seen["card"]["title"] and seen["card"]["backward"], seen["card"]
    assert seen["icon"], "the icon did not load (resources/icons/autograd-studio.svg)"
    assert seen["desktop"], "resources/autograd-studio.desktop is not in the package"
    assert seen["version"] == "0.1.0"
