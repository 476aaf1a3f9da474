"""Turn on JAX's float64 mode before bayeswd makes any JAX array.

Imported by every bayeswd module that computes in JAX (the engine, the sweeps, the row-space
path, two analyses), not by ``import bayeswd``: the closed forms never touch JAX. JAX's flag is
global, so importing one of those modules (``bayeswd.train`` on first use, say) switches it for
the whole process, as PyTensor's own JAX dispatch does when PyMC compiles to JAX.
"""

import jax

jax.config.update("jax_enable_x64", True)


def assert_x64() -> None:
    """Fail loudly if something switched JAX back to float32."""
    if not jax.config.jax_enable_x64:
        raise RuntimeError("JAX x64 mode is off; bayeswd needs float64 — import bayeswd before making JAX arrays")


assert_x64()
