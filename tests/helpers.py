import os
import subprocess
import sys
import tempfile
import textwrap
import time

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


_SERVER = r"""
import contextlib, io, json, sys, traceback
reply = sys.stdout
while True:
    size = sys.stdin.readline()
    if not size:
        break
    code = sys.stdin.read(int(size))
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "<snippet>", "exec"), {"__name__": "__main__"})
        result = {"ok": True, "out": out.getvalue()}
    except BaseException:
        result = {"ok": False, "out": out.getvalue(),
                  "error": traceback.format_exc()}
    reply.write("\x00REPLY " + json.dumps(result) + "\n")
    reply.flush()
"""


class FreshInterpreter:
    """One interpreter, started fresh, that runs snippets one after another.

    It has imported nothing of the test process: a model saved here and
    loaded there is loaded as a user's new program would load it. Sharing
    one interpreter between the contract's per-layer round trips pays one
    start-up (TensorFlow's import) instead of one per layer.
    """

    def __init__(self, env=None):
        full_env = dict(os.environ)
        full_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        full_env["PYTHONPATH"] = (ROOT + os.pathsep
                                  + full_env.get("PYTHONPATH", ""))
        full_env.update(env or {})
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [sys.executable, "-u", "-c", _SERVER], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._stderr, text=True,
            env=full_env, cwd=ROOT)

    def run(self, code, timeout=300):
        """Runs ``code``; returns what it printed, fails on its error."""
        import json
        import select

        code = textwrap.dedent(code)
        self._proc.stdin.write(f"{len(code)}\n{code}")
        self._proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            ready = select.select([self._proc.stdout], [], [], max(left, 0))
            if not ready[0]:
                self.close()
                raise AssertionError(f"snippet ran past {timeout} s")
            line = self._proc.stdout.readline()
            if not line:
                self._stderr.seek(0)
                raise AssertionError("interpreter died:\n" + self._stderr.read()
                                     .decode(errors="replace")[-4000:])
            if line.startswith("\x00REPLY "):
                result = json.loads(line[len("\x00REPLY "):])
                break
        if not result["ok"]:
            raise AssertionError(
                f"snippet failed:\n{result['out']}\n{result['error']}")
        return result["out"]

    def close(self):
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._stderr.close()


def small_cnn(front_layers, input_shape=(24, 24, 3), classes=3):
    import keras

    return keras.Sequential(
        [keras.Input(input_shape), *front_layers,
         keras.layers.Rescaling(1 / 255.0),
         keras.layers.Conv2D(4, 3, activation="relu"),
         keras.layers.GlobalAveragePooling2D(),
         keras.layers.Dense(classes, activation="softmax")])


def reload_in_new_process(model, x, tmp_path, check="", imports="",
                          atol=0.0, interpreter=None):
    """Saves ``model``, loads it in a fresh interpreter in safe mode (Keras's
    default) and checks that it predicts as before on ``x`` and still trains.

    ``check`` is more code run there, with ``model`` and ``x`` in scope;
    ``imports`` is what the user's own program would import first. Returns
    what the interpreter printed. ``interpreter``: a
    :class:`FreshInterpreter` to run in (None: a new one for this call).
    """
    import numpy as np

    path = tmp_path / "model.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "pred.npy", model.predict(x, verbose=0))
    classes = model.output_shape[-1]
    run = interpreter.run if interpreter is not None else run_python
    out = run(f"""
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


def plan_units(layer):
    """The units of a layer's (or Augment's) first augmentation stage, in
    order: ``("geometric", number of fused layers)`` or ``("phase",
    name)``."""
    from augment_layers.layers import executor

    stage = next(s for s in layer.plan().stages
                 if isinstance(s, executor.AugmentStage))
    return [("geometric", len(u.members))
            if isinstance(u, executor.GeometricRun) else ("phase", u.phase)
            for segment in stage.segments for u in segment]


# `make test-full` (AL_FULL=1): the long sweeps; `make test` samples each.
FULL = os.environ.get("AL_FULL") == "1"


def resample_matrices(rng, batch, projective, rows=3):
    """``(batch, rows, 3)`` float32 resample matrices for the formulation
    tests: turns, zooms, shears and shifts, one far outside the image (the
    fill modes' modulo), one exactly the identity."""
    import numpy as np

    out = []
    for b in range(batch):
        angle = rng.uniform(-0.8, 0.8)
        sx, sy = rng.uniform(0.5, 1.6, 2)
        m = np.array([[sx * np.cos(angle), -np.sin(angle) + rng.uniform(-.3, .3),
                       rng.uniform(-20, 20)],
                      [np.sin(angle), sy * np.cos(angle), rng.uniform(-20, 20)],
                      [0.0, 0.0, 1.0]])
        if b == 1:
            m[:2, 2] += (700.0, -950.0)
        if b == 2:
            m = np.eye(3)
        if projective and b != 2:
            m[2, :2] = rng.uniform(-2e-3, 2e-3, 2)
        out.append(m[:rows])
    return np.asarray(out, "float32")


def plan_id(plan):
    """A resample plan's test id."""
    return (f"{plan['interpolation']}-{plan['fill_mode']}-"
            f"{'proj' if plan['projective'] else 'affine'}-"
            f"{'resized' if plan['output_size'] else 'same'}-"
            f"c{plan['channels']}")
