"""Fingerprints of rfe_lib code, for Snakemake ``params:``.

Snakemake reruns a job when its ``script:`` changes, but not when a module that the script imports
changes. Each rule passes ``script_fingerprint(<its script>)`` (the hash of every rfe_lib module the
script imports, transitively) as a param, so editing a module reruns exactly the jobs whose code
changed. The module list is read from the script's own ``from rfe_lib.x import ...`` lines, so it
cannot drift from what the job really runs. ``code_fingerprint("hpo")`` does the same for named modules.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_IMPORT = re.compile(r"^\s*from\s+(\.+)([\w.]*)\s+import\s+([^\n]+)", re.MULTILINE)


def _module_file(name: str) -> Path | None:
    parts = name.split(".")
    as_file = PACKAGE_DIR.joinpath(*parts).with_suffix(".py")
    if as_file.is_file():
        return as_file
    as_pkg = PACKAGE_DIR.joinpath(*parts, "__init__.py")
    return as_pkg if as_pkg.is_file() else None


def _package_of(name: str) -> list[str]:
    """The package a module's relative imports start from, as a list of parts ([] for rfe_lib itself)."""
    parts = [] if name == "__init__" else name.split(".")
    path = _module_file(name)
    is_package = path is not None and path.name == "__init__.py" and name != "__init__"
    return parts if is_package else parts[:-1]


def _imports(name: str, source: str) -> set[str]:
    """The rfe_lib modules that the module ``name`` imports with relative imports (``from .x import``,
    ``from ..y.z import``, ``from . import a, b``), at any depth in its code."""
    package = _package_of(name)
    found = {"__init__"}
    for dots, mod, names in _IMPORT.findall(source):
        base = package[: len(package) - (len(dots) - 1)] if len(dots) > 1 else package
        if mod:
            found.add(".".join([*base, mod]))
        else:  # from . import a, b
            for n in re.split(r"[\s,()]+", names):
                if n and _module_file(".".join([*base, n])):
                    found.add(".".join([*base, n]))
    # a subpackage's modules also run its package's __init__
    found.update(".".join(package[:i]) for i in range(1, len(package) + 1))
    return {f for f in found if f}


def module_closure(*names: str) -> list[str]:
    """``names`` and every rfe_lib module they import, transitively, sorted."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(name)
        if path is None:
            raise ValueError(f"rfe_lib has no module {name!r}")
        seen.add(name)
        todo.extend(_imports(name, path.read_text()) - seen)
    return sorted(seen)


@lru_cache(maxsize=None)
def code_fingerprint(*names: str) -> str:
    """A short hash of the source of ``names`` and their rfe_lib imports."""
    h = hashlib.sha256()
    for name in module_closure(*names):
        h.update(name.encode())
        h.update(_module_file(name).read_bytes())
    return h.hexdigest()[:16]


_SCRIPT_IMPORT = re.compile(r"^\s*(?:from\s+rfe_lib(?:\.([\w.]+))?\s+import\s+([^\n]+)|import\s+rfe_lib\.([\w.]+))",
                            re.MULTILINE)


def script_modules(script) -> list[str]:
    """The rfe_lib modules that the workflow script at ``script`` imports, transitively, sorted."""
    names = {"__init__"}
    for sub, imported, plain in _SCRIPT_IMPORT.findall(Path(script).read_text()):
        if sub or plain:
            names.add(sub or plain)
        else:  # from rfe_lib import a, b
            names.update(n for n in re.split(r"[\s,()]+", imported) if n and _module_file(n))
    return module_closure(*names)


@lru_cache(maxsize=None)
def script_fingerprint(script) -> str:
    """A short hash of the rfe_lib code that the workflow script at ``script`` runs."""
    return code_fingerprint(*script_modules(script))
