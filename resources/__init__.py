"""The app's own data, read through ``importlib.resources`` so it loads the same from a
checkout and from an installed wheel: the example gallery, the themes, the op cards,
the user guide (``docs``, a link to the repository's ``docs/``), the icon and the Linux
``.desktop`` file. Also the app's version, which the command line, Help > About and the
crash report show."""

from __future__ import annotations

from pathlib import Path

DISTRIBUTION = "autograd-studio"


def app_version() -> str:
    """The installed distribution's version; from a checkout that is not installed, the
    one its ``pyproject.toml`` declares."""
    from importlib import metadata  # here: the worker imports this package for its data

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    import tomllib

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"
    return str(project["version"]) if project.get("name") == DISTRIBUTION else "unknown"
