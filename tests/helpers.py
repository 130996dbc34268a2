import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(code, timeout=300, env=None):
    """Runs ``code`` in a fresh interpreter; returns stdout, fails on error."""
    full_env = dict(os.environ)
    full_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    full_env["PYTHONPATH"] = ROOT + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout,
                          env=full_env, cwd=ROOT)
    if proc.returncode != 0:
        raise AssertionError(
            f"subprocess failed ({proc.returncode}):\n{proc.stdout}\n"
            f"{proc.stderr[-4000:]}")
    return proc.stdout


def small_cnn(front_layers, input_shape=(24, 24, 3), classes=3):
    import keras

    return keras.Sequential(
        [keras.Input(input_shape), *front_layers,
         keras.layers.Rescaling(1 / 255.0),
         keras.layers.Conv2D(4, 3, activation="relu"),
         keras.layers.GlobalAveragePooling2D(),
         keras.layers.Dense(classes, activation="softmax")])


def reload_in_new_process(model, x, tmp_path, check="", imports="",
                          atol=0.0):
    """Saves ``model``, loads it in a fresh interpreter in safe mode (Keras's
    default) and checks that it predicts as before on ``x`` and still trains.

    ``check`` is more code run there, with ``model`` and ``x`` in scope;
    ``imports`` is what the user's own program would import first. Returns
    what the interpreter printed.
    """
    import numpy as np

    path = tmp_path / "model.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "pred.npy", model.predict(x, verbose=0))
    classes = model.output_shape[-1]
    out = run_python(f"""
        import numpy as np, keras
        import augment_layers
        {imports}
        model = keras.models.load_model({str(path)!r})  # safe_mode default
        x = np.load({str(tmp_path / 'x.npy')!r})
        np.testing.assert_allclose(
            model.predict(x, verbose=0),
            np.load({str(tmp_path / 'pred.npy')!r}), rtol=0, atol={atol!r})
""" + textwrap.indent(textwrap.dedent(check), " " * 8) + f"""
        y = np.eye({classes})[np.arange(len(x)) % {classes}]
        model.fit(x, y, epochs=1, verbose=0)
        print("LOADED-OK")
    """)
    assert "LOADED-OK" in out
    return out
