"""ONNX export on every backend: the file computes what ``predict`` does,
and carries none of the augmentation (the layers are identity at inference).

``model.export(format="onnx")`` goes through tf2onnx on TensorFlow,
``torch.onnx`` on PyTorch and jax2onnx on JAX.
"""

import collections

import numpy as np
import onnx
import onnxruntime

from tests import layer_cases
from tests.helpers import small_cnn

# Graph plumbing that Keras's inference path may or may not emit around a
# layer that returns its input.
PLUMBING = {"Identity", "Cast", "CastLike", "Constant", "Reshape"}


def export(model, x, path):
    model(x)  # Keras exports only a model that has been called
    model.export(str(path), format="onnx", verbose=False)
    session = onnxruntime.InferenceSession(str(path))
    served = session.run(None, {session.get_inputs()[0].name: x})[0]
    graph = onnx.load(str(path)).graph
    ops = collections.Counter(node.op_type for node in graph.node
                              if node.op_type not in PLUMBING)
    return served, ops


def test_onnx_export_serves_predict_and_drops_the_augmentation(tmp_path):
    x = np.random.default_rng(0).uniform(0, 255, (4, 16, 16, 3))
    x = x.astype("float32")
    plain = small_cnn([], input_shape=(16, 16, 3))
    augmented = small_cnn(layer_cases.every_layer(), input_shape=(16, 16, 3))
    augmented.set_weights(plain.get_weights())

    served, ops = export(augmented, x, tmp_path / "augmented.onnx")
    np.testing.assert_allclose(served, augmented.predict(x, verbose=0),
                               rtol=0, atol=1e-5)
    np.testing.assert_allclose(served, plain.predict(x, verbose=0),
                               rtol=0, atol=1e-5)
    _, plain_ops = export(plain, x, tmp_path / "plain.onnx")
    assert ops == plain_ops
    for forbidden in ("GatherElements", "Gather", "GatherND", "RandomUniform",
                      "RandomUniformLike", "GridSample"):
        assert forbidden not in ops
