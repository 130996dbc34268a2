"""RandomLambda and registered ops: per-image params, safe saving by name."""

import json
import zipfile

import numpy as np
import pytest

import augment_layers as al
from tests import custom_ops_module  # noqa: F401  (registers test_contrast)
from tests.helpers import ROOT, reload_in_new_process, run_python, small_cnn

RNG = np.random.default_rng(0)
X = RNG.uniform(0, 255, (5, 12, 14, 3)).astype("float32")


def np_contrast(x, f, lo=0, hi=255):
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    return np.clip(mean + (x - mean) * f, lo, hi)


def np_saturation(x, f, lo=0, hi=255):
    grey = (x * np.array([0.299, 0.587, 0.114])).sum(-1, keepdims=True)
    return np.clip(grey + (x - grey) * f, lo, hi)


def np_gamma(x, g, lo=0, hi=255):
    return np.clip(lo + (hi - lo) * (np.clip((x - lo) / (hi - lo), 0, 1) ** g),
                   lo, hi)


REFERENCES = {
    "brightness": ("factor", 1.3, lambda x, f: np.clip(x * f, 0, 255)),
    "contrast": ("factor", 0.6, np_contrast),
    "gamma": ("gamma", 0.7, np_gamma),
    "channel_shift": ("shift", -30.0, lambda x, s: np.clip(x + s, 0, 255)),
    "saturation": ("factor", 1.6, np_saturation),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_shipped_op_matches_numpy(name):
    key, value, reference = REFERENCES[name]
    layer = al.RandomLambda(name, {key: (value, value)})
    out = np.asarray(layer(X, training=True))
    np.testing.assert_allclose(out, reference(X.astype("float64"), value),
                               atol=1e-3)
    assert out.min() >= 0 and out.max() <= 255


def test_value_range_is_passed():
    x01 = X / 255.0
    layer = al.RandomLambda("brightness", {"factor": (1.5, 1.5)},
                            value_range=(0, 1))
    out = np.asarray(layer(x01, training=True))
    np.testing.assert_allclose(out, np.clip(x01 * 1.5, 0, 1), atol=1e-6)


def test_shipped_ops_are_documented():
    for name in ("brightness", "contrast", "gamma", "channel_shift",
                 "saturation"):
        assert name in al.registered_ops()
    readme = open(f"{ROOT}/README.md").read()
    for name in REFERENCES:
        from augment_layers import registry

        assert registry.get_op(name).__doc__
        assert f'"{name}"' in readme


def test_params_are_per_image():
    layer = al.RandomLambda("brightness", {"factor": (0.5, 1.5)}, seed=1)
    x = np.repeat(X[:1], 8, axis=0)
    out = np.asarray(layer(x, training=True))
    ratios = (out / np.maximum(x, 1e-3))[:, 3, 3, 0]
    assert len(set(np.round(ratios, 4))) == 8


def test_probability_mixes_per_image():
    x = np.repeat(X[:1], 32, axis=0)
    layer = al.RandomLambda("brightness", {"factor": (2.0, 2.0)},
                            probability=0.5, seed=3)
    out = np.asarray(layer(x, training=True))
    unchanged = [np.array_equal(o, x[0]) for o in out]
    assert 4 < sum(unchanged) < 28
    none = al.RandomLambda("brightness", {"factor": (2.0, 2.0)},
                           probability=0.0)
    np.testing.assert_array_equal(np.asarray(none(x, training=True)), x)


def test_identity_at_inference_and_channels_first():
    layer = al.RandomLambda("test_contrast", {"factor": (0.5, 0.5)},
                            data_format="channels_first")
    xf = np.transpose(X, (0, 3, 1, 2))
    np.testing.assert_array_equal(np.asarray(layer(xf)), xf)
    out = np.asarray(layer(xf, training=True))
    np.testing.assert_allclose(np.transpose(out, (0, 2, 3, 1)),
                               np_contrast(X, 0.5), atol=1e-3)


def test_plain_callable_is_refused_with_advice():
    with pytest.raises(ValueError, match="register_op"):
        al.RandomLambda(lambda images: images)

    def unregistered(images, factor):
        return images

    with pytest.raises(ValueError, match="register_op"):
        al.RandomLambda(unregistered)


def test_bad_params():
    with pytest.raises(ValueError, match="does not take"):
        al.RandomLambda("brightness", {"strength": 1})
    with pytest.raises(ValueError, match=r"params\['factor'\]"):
        al.RandomLambda("brightness", {"factor": (2, 1)})
    with pytest.raises(ValueError, match="`params`"):
        al.RandomLambda("brightness", [("factor", 1)])
    with pytest.raises(ValueError, match="`probability`"):
        al.RandomLambda("brightness", {"factor": 1.2}, probability=1.5)
    with pytest.raises(ValueError, match=r"missing \['factor'\]"):
        al.RandomLambda("brightness")


def test_register_op_refuses_a_different_function_under_a_taken_name():
    with pytest.raises(ValueError, match="already registered"):
        @al.register_op("brightness")
        def other(images, factor):
            return images


def test_config_holds_the_name_not_code():
    layer = al.RandomLambda("test_contrast", {"factor": (0.5, 1.5)}, seed=4)
    config = layer.get_config()
    assert config["op"] == "test_contrast"
    assert set(config) == {"name", "trainable", "dtype", "seed", "data_format",
                           "value_range", "op", "params", "probability"}
    assert "__lambda__" not in json.dumps(config)


def test_custom_op_model_loads_in_safe_mode_in_a_new_process(tmp_path):
    model = small_cnn([al.RandomLambda("test_contrast",
                                       {"factor": (0.5, 1.5)}, seed=2)])
    model.compile("adam", "categorical_crossentropy")
    x = RNG.uniform(0, 255, (8, 24, 24, 3)).astype("float32")
    y = np.eye(3)[np.arange(8) % 3]
    model.fit(x, y, epochs=1, verbose=0)
    reload_in_new_process(model, x, tmp_path,
                          imports="import tests.custom_ops_module",
                          check="""
        aug = model.layers[0]
        assert aug.op == "test_contrast"
        assert not np.allclose(np.asarray(aug(x, training=True)), x)
    """)


def test_unregistered_op_in_a_file_is_refused_without_importing(tmp_path):
    model = small_cnn([al.RandomLambda("brightness", {"factor": (0.9, 1.1)})])
    path = tmp_path / "good.keras"
    model.save(path)
    marker = tmp_path / "executed.txt"
    evil_module = tmp_path / "evil_op_module.py"
    evil_module.write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    tampered = tmp_path / "tampered.keras"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "config.json":
                data = data.replace(b'"brightness"', b'"evil_op_module"')
            dst.writestr(item, data)
    out = run_python(f"""
        import sys, keras
        sys.path.insert(0, {str(tmp_path)!r})
        import augment_layers
        try:
            keras.models.load_model({str(tampered)!r})
        except Exception as e:
            print("REFUSED:", e)
    """)
    assert "REFUSED" in out
    assert "No augmentation op is registered under the name 'evil_op_module'" \
        in out
    assert "register_op" in out and "brightness" in out
    assert not marker.exists()
