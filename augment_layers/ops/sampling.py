"""Distributions built from uniform draws, so that every draw goes through
the layers' one source of uniforms (seeds, threads, replicas, tf.data) and
compiles under XLA everywhere (TensorFlow's gamma sampler does not)."""

import math

from augment_layers.ops.dispatch import ops

# Candidates per draw for the rejection step; each is accepted with
# probability above 0.95, so all 16 fail with probability below 1e-20.
CANDIDATES = 16


def gamma(alpha, uniforms, boost):
    """``Gamma(alpha, 1)`` draws (Marsaglia and Tsang, 2000).

    Args:
        alpha: the shape, a Python number > 0.
        uniforms: ``(..., CANDIDATES, 3)`` draws from ``U(0, 1)``.
        boost: ``(...)`` draws from ``U(0, 1)``, used when ``alpha < 1``
            (``Gamma(a) = Gamma(a + 1) * U ** (1 / a)``).
    """
    a = alpha + 1.0 if alpha < 1.0 else alpha
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    u1 = ops.maximum(uniforms[..., 0], 1e-12)
    u2, u3 = uniforms[..., 1], ops.maximum(uniforms[..., 2], 1e-12)
    z = ops.sqrt(-2.0 * ops.log(u1)) * ops.cos(2.0 * math.pi * u2)
    v = (1.0 + c * z) ** 3
    positive = v > 0
    safe_v = ops.where(positive, v, 1.0)
    accept = ops.logical_and(positive, ops.log(u3) < 0.5 * z * z + d
                             - d * safe_v + d * ops.log(safe_v))
    first = ops.argmax(ops.cast(accept, "int32"), axis=-1)
    pick = ops.one_hot(first, uniforms.shape[-2], dtype="float32")
    g = d * ops.sum(safe_v * pick, axis=-1)
    g = ops.where(ops.any(accept, axis=-1), g, d)
    if alpha < 1.0:
        g = g * ops.power(ops.maximum(boost, 1e-12), 1.0 / alpha)
    return g


def beta(alpha, uniforms, boost):
    """``Beta(alpha, alpha)`` draws as ``G1 / (G1 + G2)``.

    ``uniforms``: ``(B, 2, CANDIDATES, 3)``; ``boost``: ``(B, 2)``.
    """
    g = gamma(alpha, uniforms, boost)
    total = g[:, 0] + g[:, 1]
    return ops.where(total > 0, g[:, 0] / ops.maximum(total, 1e-30), 0.5)
