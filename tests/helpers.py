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
