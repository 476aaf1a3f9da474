"""Traced sweeps kept on disk, so that a new process skips tracing and lowering them.

JAX's persistent compilation cache keeps a program's executable, but JAX finds it only after
tracing the Python function and lowering it to a module, and for one of our sweeps that costs
0.3–0.5 s per shape in every process (a quick report traces about forty). The store keeps each
traced sweep as a serialized :mod:`jax.export` module. A later process reads it back and calls it;
the executable then comes from the compilation cache as before. The numbers are those of the same
module, compiled by the same XLA.

A stored module is found by a key of everything that could change it: the
:class:`~bayeswd.training.config.Spec`, the arguments' structure, shapes and dtypes, the platform,
the versions of JAX, jaxlib, optax, PyTensor and PyMC, and the source of every bayeswd module. A
spec holding a user's optax transformation or PyMC model is never stored (it could not be named).

An opt-in, like the compilation cache: :func:`bayeswd._jax_setup.enable_compilation_cache` turns
it on, in a ``bayeswd-programs`` folder inside the compilation cache's folder (JAX reads only its
own ``*-cache`` files there). A library call that did not opt in traces as before. A file that
cannot be read back is traced again and replaced.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Callable

import jax

from bayeswd import _jax_setup

__all__ = ["key", "load_or_export"]

_VERSIONED = ("jax", "jaxlib", "optax", "pytensor", "pymc")


@lru_cache(maxsize=1)
def _environment() -> str:
    """What every key shares: the versions and the hash of bayeswd's own source."""
    source = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        source.update(str(path.relative_to(package)).encode())
        source.update(path.read_bytes())
    versions = [f"{name}={metadata.version(name)}" for name in _VERSIONED]
    return "|".join([*versions, source.hexdigest()])


def key(spec, args: tuple) -> str | None:
    """The stored module's name for ``spec`` called with ``args``, or None when it is not stored
    (the store is off, or the spec holds a user's transformation or model)."""
    if _jax_setup.program_store_folder() is None:
        return None
    if not (isinstance(spec.optimizer, str) and isinstance(spec.objective, str)):
        return None
    leaves, tree = jax.tree_util.tree_flatten(args)
    described = [repr(spec), str(tree), *(str(jax.typeof(leaf)) for leaf in leaves),
                 jax.default_backend(), str(jax.config.jax_enable_x64), _environment()]
    return hashlib.sha256("\n".join(described).encode()).hexdigest()


def load_or_export(name: str, jitted, args: tuple) -> Callable:
    """A function equal to ``jitted`` at ``args``'s shapes: the stored module ``name`` when it reads
    back, else ``jitted`` traced and exported now (and stored); ``jitted`` itself if it cannot be exported."""
    from jax import export

    path = Path(_jax_setup.program_store_folder()) / f"{name}.exported"
    try:
        exported = export.deserialize(bytearray(path.read_bytes()))
    except Exception:       # absent, cut short by a crash, or from another jaxlib: trace it again
        try:
            exported = export.export(jitted)(*args)
            blob = exported.serialize()
        except Exception:   # a primitive jax.export cannot serialize: the plain program still runs
            return jitted
        _write(path, blob)
    return jax.jit(exported.call)


def _write(path: Path, blob: bytes) -> None:
    """Write whole or not at all: parallel sections may store the same module at once."""
    part = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".", suffix=".part", delete=False) as part:
            part.write(blob)
        os.replace(part.name, path)
    except OSError:         # a read-only or full disk costs the next process a trace, nothing more
        if part is not None:
            Path(part.name).unlink(missing_ok=True)
