"""Export: the serving artifact carries the model, and none of the augmentation."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests import layer_cases

pytestmark = pytest.mark.tensorflow_only


def build(front):
    model = keras.Sequential(
        [keras.Input((16, 16, 3)), *front, keras.layers.Rescaling(1 / 255.0),
         keras.layers.Conv2D(4, 3, activation="relu"),
         keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
    return model


def count_ops(path):
    loaded = tf.saved_model.load(path)
    fn = loaded.signatures["serving_default"]
    graph_def = fn.graph.as_graph_def()
    ops = [n.op for n in graph_def.node]
    for f in graph_def.library.function:
        ops += [n.op for n in f.node_def]
    return ops


IGNORABLE = {"Identity", "Cast", "NoOp"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (4, 16, 16, 3)).astype("float32")
    plain = build([])
    augmented = build(layer_cases.every_layer())
    augmented.set_weights(plain.get_weights())
    base = tmp_path_factory.mktemp("export")
    plain.export(str(base / "plain"), verbose=False)
    augmented.export(str(base / "augmented"), verbose=False)
    return x, plain, augmented, base


def test_export_serves_what_predict_returns(exported):
    x, _, augmented, base = exported
    loaded = tf.saved_model.load(str(base / "augmented"))
    served = loaded.serve(x)
    np.testing.assert_allclose(np.asarray(served),
                               augmented.predict(x, verbose=0), atol=1e-5)


def test_serving_graph_has_no_augmentation_ops(exported):
    _, _, _, base = exported
    plain = count_ops(str(base / "plain"))
    augmented = count_ops(str(base / "augmented"))
    strip = lambda ops: sorted(o for o in ops if o not in IGNORABLE)  # noqa
    assert strip(augmented) == strip(plain)
    for forbidden in ("GatherV2", "RandomUniform",
                      "StatelessRandomUniformV2", "XlaLaunch"):
        assert forbidden not in augmented


def test_tflite_conversion_matches_predict(exported):
    x, _, augmented, base = exported
    converter = tf.lite.TFLiteConverter.from_saved_model(str(base / "augmented"))
    interpreter = tf.lite.Interpreter(model_content=converter.convert())
    inp = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(inp["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], x)
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(out, augmented.predict(x, verbose=0), atol=1e-4)
