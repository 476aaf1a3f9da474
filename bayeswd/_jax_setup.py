"""Turn on JAX's float64 mode before any JAX array exists.

PyTensor flips ``jax_enable_x64`` only when its JAX dispatch is imported, which
may be after a user made float32 arrays; bayeswd sets it on import instead.
"""

import jax

jax.config.update("jax_enable_x64", True)


def assert_x64() -> None:
    """Fail loudly if something switched JAX back to float32."""
    if not jax.config.jax_enable_x64:
        raise RuntimeError("JAX x64 mode is off; bayeswd needs float64 — import bayeswd before making JAX arrays")


assert_x64()
