"""Turn on JAX's float64 mode before bayeswd makes any JAX array.

Imported by every bayeswd module that computes in JAX (the engine, the sweeps, the row-space
path, two analyses), not by ``import bayeswd``: the closed forms never touch JAX. JAX's flag is
global, so importing one of those modules (``bayeswd.train`` on first use, say) switches it for
the whole process, as PyTensor's own JAX dispatch does when PyMC compiles to JAX.
"""

import os
import threading

import jax

jax.config.update("jax_enable_x64", True)


def assert_x64() -> None:
    """Fail loudly if something switched JAX back to float32."""
    if not jax.config.jax_enable_x64:
        raise RuntimeError("JAX x64 mode is off; bayeswd needs float64 — import bayeswd before making JAX arrays")


assert_x64()


# A persistent compilation cache, shared by every process of this user (Dask workers included)
_CACHE_LOCK = threading.Lock()
_PROGRAMS: str | None = None       # the store of traced sweeps (bayeswd.training.program_store), once opted in


def program_store_folder() -> str | None:
    """The folder of traced sweeps, or None while :func:`enable_compilation_cache` has not turned it on."""
    return _PROGRAMS


def enable_compilation_cache(where: str | None = None, programs: bool = True) -> str | None:
    """Point JAX's persistent compilation cache at ``where`` or bayeswd's cache folder (once per process).

    An opt-in: the ``bayeswd`` command calls it, a library call never does (``train`` leaves JAX's global
    settings as it found them). ``BAYESWD_COMPILE_CACHE`` names another folder (a shared file system for
    a cluster), or ``off`` to leave JAX's setting alone. Returns the folder in use, or None.

    It also turns on the store of traced sweeps (:mod:`bayeswd.training.program_store`), in a
    ``bayeswd-programs`` folder inside the cache's folder, unless ``programs`` is false; ``off``
    leaves that off too.
    """
    global _PROGRAMS
    with _CACHE_LOCK:
        where = where or os.environ.get("BAYESWD_COMPILE_CACHE", "")
        if where.lower() == "off":
            return None
        if jax.config.jax_compilation_cache_dir:
            where = jax.config.jax_compilation_cache_dir
        else:
            if not where:
                import platformdirs

                where = os.path.join(platformdirs.user_cache_dir("bayeswd"), "jax")
            jax.config.update("jax_compilation_cache_dir", where)
            # Our programs compile in 0.3–3 s: cache them all (JAX's default skips those under 1 s).
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
            jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        if programs:
            _PROGRAMS = os.path.join(where, "bayeswd-programs")
        return where
