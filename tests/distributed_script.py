"""The engines of ``tests/test_distributed.py`` that need processes of their
own: ``python -m tests.distributed_script ENGINE OUT [ARGS]`` writes what
each worker drew to ``OUT`` (an ``.npz``), and prints ``ENGINE-OK``.

Every layer here is a ``RandomBrightnessRange`` on images of constant 100,
so an output pixel over 100 is the image's drawn factor.
"""

import json
import os
import sys
import time

import keras
import numpy as np

SIDE = 4


def factors(images):
    images = np.asarray(images)
    return images.reshape(len(images), -1)[:, 0] / 100.0


def constant_batch(n):
    return np.full((n, SIDE, SIDE, 1), 100.0, "float32")


def recording_model(channels):
    """A model that keeps what it is fed (run eagerly): a fit whose
    batches show what the pipeline drew."""
    import keras

    class Recorder(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seen = []

        def call(self, x):
            try:
                self.seen.append(keras.ops.convert_to_numpy(x))
            except Exception:  # noqa: BLE001 - symbolic, when built
                pass
            return x

    recorder = Recorder()
    model = keras.Sequential([keras.Input((SIDE, SIDE, channels)), recorder,
                              keras.layers.Rescaling(1 / 255.0),
                              keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile("adam", "mse", run_eagerly=True)
    return model, recorder


def fit_and_record(dataset, channels):
    """``(per-channel factors of every image fed, final loss)``."""
    model, recorder = recording_model(channels)
    history = model.fit(dataset, epochs=1, verbose=0, shuffle=False)
    loss = history.history["loss"][-1]
    assert np.isfinite(loss), loss
    seen = np.concatenate(recorder.seen)
    return seen[:, 0, 0, :] / 100.0


# -- Grain: mp_prefetch over two worker processes -------------------------------
LAYERS = ("unseeded", "seeded", "keyed")


def _grain_transforms():
    """Three maps, each adding a channel: an unseeded layer and a seeded
    one (each worker's copy of its seed state), and a layer keyed by
    Grain's per-element generator (the same draws for an element whichever
    worker maps it)."""
    import grain
    import keras

    import augment_layers as al

    class Draw(grain.transforms.Map):
        def __init__(self, layer):
            self.layer = layer

        def map(self, element):
            x, y = element
            out = self.layer(x[..., :1], training=True)
            return np.concatenate([x, keras.ops.convert_to_numpy(out)],
                                  -1), y

    class KeyedDraw(grain.transforms.RandomMap):
        def __init__(self, layer):
            self.layer = layer

        def random_map(self, element, rng):
            x, y = element
            out = self.layer(x[..., :1], training=True,
                             seed=int(rng.integers(2**31 - 1)))
            return np.concatenate([x, keras.ops.convert_to_numpy(out)],
                                  -1)[..., 1:], y

    return [Draw(al.RandomBrightnessRange((0.5, 1.5))),
            Draw(al.RandomBrightnessRange((0.5, 1.5), seed=7)),
            KeyedDraw(al.RandomBrightnessRange((0.5, 1.5)))]


def grain_dataset(workers, declare, batches=16, batch=4):
    """Batches of ``(images, index)``, their channels the three layers'
    outputs, through ``workers`` processes (0: this one)."""
    import grain

    import augment_layers as al

    source = [(constant_batch(batch), np.full((batch, 1), i, "float32"))
              for i in range(batches)]
    ds = grain.MapDataset.source(source).seed(11)
    for transform in _grain_transforms():
        ds = (ds.random_map(transform)
              if isinstance(transform, grain.transforms.RandomMap)
              else ds.map(transform))
    ds = ds.to_iter_dataset()
    if workers:
        ds = ds.mp_prefetch(
            grain.MultiprocessingOptions(num_workers=workers),
            worker_init_fn=al.set_worker_index if declare else None)
    return ds


def grain_main(out):
    from absl import flags

    import augment_layers as al

    flags.FLAGS.mark_as_parsed()
    arrays = {}
    runs = [("declared", 2, True), ("one_process", 0, False)]
    if os.environ.get("AL_FULL") == "1":  # make test-full: undeclared too
        runs.append(("plain", 2, False))
    for run, workers, declare in runs:
        # One pass over the pipeline (Keras's Grain adapter starts its
        # iterator, so its worker processes, more than once per fit).
        drawn = fit_and_record(
            (batch for batch in grain_dataset(workers, declare)), 3)
        for i, name in enumerate(LAYERS):
            arrays[f"{run}/{name}"] = drawn[:, i]
    # What each declared worker's seeded stream is: worker i maps elements
    # i, i + 2, ..., 8 calls of a copy of the seeded layer keyed by i.
    streams = []
    for index in range(2):
        al.set_worker_index(index, 2)
        layer = al.RandomBrightnessRange((0.5, 1.5), seed=7)
        streams += [factors(layer(constant_batch(4), training=True))
                    for _ in range(8)]
    al.set_worker_index(None)
    arrays["declared/streams"] = np.concatenate(streams)
    np.savez(out, **arrays)


# -- PyDataset(use_multiprocessing=True) ----------------------------------------
class Batches(keras.utils.PyDataset):
    """Batches of 8 whose three channels are an unseeded layer's output, a
    seeded one's, and a layer's keyed by the batch index (as
    ``__getitem__`` knows it). At module level: spawned workers unpickle
    it."""

    def __init__(self, n=16, **kwargs):
        import augment_layers as al

        super().__init__(**kwargs)
        self.n = n
        self.layers = [al.RandomBrightnessRange((0.5, 1.5)),
                       al.RandomBrightnessRange((0.5, 1.5), seed=7),
                       al.RandomBrightnessRange((0.5, 1.5), seed=7)]

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        time.sleep(0.2)  # long enough that both workers take batches
        x = constant_batch(8)
        unseeded, seeded, keyed = self.layers
        out = [unseeded(x, training=True), seeded(x, training=True),
               keyed(x, training=True, seed=index)]
        out = [keras.ops.convert_to_numpy(o) for o in out]
        # A fourth channel names the process (times 100: factors() / 100).
        out.append(np.full_like(out[0], 100.0 * (os.getpid() % 4093)))
        return np.concatenate(out, -1), np.full((8, 1), index, "float32")


def pydataset_main(out):
    import multiprocessing

    # Spawned workers: a fork of a process running TensorFlow's (and JAX's)
    # threads can deadlock in the child (it did here, once in a few runs).
    multiprocessing.set_start_method("spawn", force=True)
    arrays = {}
    for run, workers in [("workers", 2), ("one_process", 1)]:
        drawn = fit_and_record(Batches(workers=workers,
                                       use_multiprocessing=workers > 1), 4)
        for i, name in enumerate(LAYERS + ("process",)):
            arrays[f"{run}/{name}"] = drawn[:, i]
    np.savez(out, **arrays)


# -- MultiWorkerMirroredStrategy: one worker of a two-worker cluster -----------
def multiworker_main(out, index, ports):
    ports = ports.split(",")
    os.environ["TF_CONFIG"] = json.dumps({
        "cluster": {"worker": [f"localhost:{p}" for p in ports]},
        "task": {"type": "worker", "index": int(index)}})
    import keras
    import tensorflow as tf

    import augment_layers as al

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    assert strategy.num_replicas_in_sync == len(ports)
    arrays = {}
    for run in ("a", "b"):  # a new model with the same seeds, twice
        with strategy.scope():
            layer = al.RandomBrightnessRange((0.5, 1.5), seed=5)
            model = keras.Sequential([
                keras.Input((SIDE, SIDE, 1)), layer,
                keras.layers.Rescaling(1 / 255.0), keras.layers.Flatten(),
                keras.layers.Dense(1)])
            model.compile("sgd", "mse")
        rng = np.random.default_rng(0)
        x = rng.uniform(0, 255, (32, SIDE, SIDE, 1)).astype("float32")
        y = rng.normal(size=(32, 1)).astype("float32")
        # Keras 3.15's fit fails under this strategy before and after its
        # first step (it reduces the (x, y) batch as one value, then takes
        # axis 0 of scalar logs): the loop that fit would run, by hand.
        train = strategy.experimental_distribute_dataset(
            tf.data.Dataset.from_tensor_slices((x, y)).batch(16))

        @tf.function
        def train_step(batch):
            def replica(images, targets):
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(
                        (model(images, training=True) - targets) ** 2)
                grads = tape.gradient(loss, model.trainable_variables)
                model.optimizer.apply_gradients(
                    zip(grads, model.trainable_variables))
                return loss

            return strategy.reduce("MEAN", strategy.run(
                replica, args=batch), axis=None)

        model.optimizer.build(model.trainable_variables)
        losses = [float(train_step(batch)) for batch in train]
        assert len(losses) == 2 and np.all(np.isfinite(losses)), losses

        # The model's own layer inside a replica step, on identical images.
        dist = strategy.experimental_distribute_dataset(
            tf.data.Dataset.from_tensors(constant_batch(16)).repeat(3))

        @tf.function
        def step(batch):
            return strategy.run(lambda t: layer(t, training=True),
                                args=(batch,))

        arrays[f"step/{run}"] = np.concatenate([
            factors(t) for batch in dist
            for t in strategy.experimental_local_results(step(batch))])

        # Each worker's own tf.data pipeline, augmenting in the map.
        mapped = al.RandomBrightnessRange((0.5, 1.5), seed=9)
        pipeline = tf.data.Dataset.from_tensors(constant_batch(8)).repeat(
            4).map(lambda t: mapped(t, training=True))
        arrays[f"pipeline/{run}"] = np.concatenate(
            [factors(t) for t in pipeline])
    np.savez(out, **arrays)


if __name__ == "__main__":
    engine, out = sys.argv[1], sys.argv[2]
    {"grain": grain_main, "pydataset": pydataset_main,
     "multiworker": multiworker_main}[engine](out, *sys.argv[3:])
    print(f"{engine.upper()}-OK")
