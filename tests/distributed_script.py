"""The engines of ``tests/test_distributed.py`` that need processes of their
own: ``python -m tests.distributed_script ENGINE OUT [ARGS]`` writes what
each worker drew to ``OUT`` (an ``.npz``), and prints ``ENGINE-OK``.

Every layer here is a ``RandomBrightnessRange`` on images of constant 100,
so an output pixel over 100 is the image's drawn factor.
"""

import json
import os
import sys

import numpy as np

SIDE = 4


def factors(images):
    images = np.asarray(images)
    return images.reshape(len(images), -1)[:, 0] / 100.0


def constant_batch(n):
    return np.full((n, SIDE, SIDE, 1), 100.0, "float32")


# -- Grain: mp_prefetch over two worker processes -------------------------------
def _grain_maps():
    import grain
    import keras

    import augment_layers as al

    class Draw(grain.transforms.Map):
        """A plain map: the layer's own seed state (copied into each
        worker)."""

        def __init__(self, layer, name):
            self.layer, self.name = layer, name

        def map(self, element):
            out = self.layer(element["images"], training=True)
            return dict(element, **{self.name: keras.ops.convert_to_numpy(
                out)})

    class KeyedDraw(grain.transforms.RandomMap):
        """Grain's per-element generator keys the call: the same draws for
        an element whichever worker maps it."""

        def __init__(self, layer):
            self.layer = layer

        def random_map(self, element, rng):
            key = int(rng.integers(2**31 - 1))
            out = self.layer(element["images"], training=True, seed=key)
            return dict(element, keyed=keras.ops.convert_to_numpy(out))

    unseeded = al.RandomBrightnessRange((0.5, 1.5))
    seeded = al.RandomBrightnessRange((0.5, 1.5), seed=7)
    keyed = al.RandomBrightnessRange((0.5, 1.5))
    return [Draw(unseeded, "unseeded"), Draw(seeded, "seeded"),
            KeyedDraw(keyed)]


def grain_run(workers, declare, batches=16, batch=4):
    import grain

    import augment_layers as al

    source = [{"images": constant_batch(batch), "index": np.int32(i)}
              for i in range(batches)]
    ds = grain.MapDataset.source(source).seed(11)
    for transform in _grain_maps():
        ds = ds.map(transform) if not isinstance(
            transform, grain.transforms.RandomMap) else ds.random_map(
                transform)
    ds = ds.to_iter_dataset()
    if workers:
        ds = ds.mp_prefetch(
            grain.MultiprocessingOptions(num_workers=workers),
            worker_init_fn=al.set_worker_index if declare else None)
    out = {"unseeded": [], "seeded": [], "keyed": [], "index": []}
    for element in ds:
        for name in ("unseeded", "seeded", "keyed"):
            out[name].append(factors(element[name]))
        out["index"].append(int(element["index"]))
    return {k: np.asarray(v) for k, v in out.items()}


def grain_fit():
    import grain
    import keras

    import augment_layers as al

    class Pairs(grain.transforms.Map):
        def __init__(self):
            self.augment = al.Augment([al.RandomRotation(20),
                                       al.RandomBrightnessRange((0.8, 1.2))])

        def map(self, element):
            x, y = element
            return keras.ops.convert_to_numpy(
                self.augment(x, training=True)), y

    rng = np.random.default_rng(0)
    pairs = [(rng.uniform(0, 255, (8, SIDE, SIDE, 1)).astype("float32"),
              rng.normal(size=(8, 1)).astype("float32")) for _ in range(4)]
    ds = grain.MapDataset.source(pairs).map(Pairs()).to_iter_dataset()
    ds = ds.mp_prefetch(grain.MultiprocessingOptions(num_workers=2),
                        worker_init_fn=al.set_worker_index)
    model = keras.Sequential([keras.Input((SIDE, SIDE, 1)),
                              keras.layers.Rescaling(1 / 255.0),
                              keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(ds, epochs=1, verbose=0)
    return float(history.history["loss"][0])


def grain_main(out):
    from absl import flags

    flags.FLAGS.mark_as_parsed()
    runs = {"plain": grain_run(2, declare=False),
            "declared_a": grain_run(2, declare=True),
            "declared_b": grain_run(2, declare=True),
            "one_process": grain_run(0, declare=False)}
    loss = grain_fit()
    assert np.isfinite(loss), loss
    np.savez(out, **{f"{run}/{k}": v for run, d in runs.items()
                     for k, v in d.items()})


# -- PyDataset(use_multiprocessing=True) ----------------------------------------
def _batches_class():
    import keras

    class Batches(keras.utils.PyDataset):
        """``keyed``: the call's seed is the batch's index, as
        ``__getitem__`` knows it."""

        def __init__(self, layer, keyed, n=16, **kwargs):
            super().__init__(**kwargs)
            self.layer, self.keyed, self.n = layer, keyed, n

        def __len__(self):
            return self.n

        def __getitem__(self, index):
            out = self.layer(constant_batch(8), training=True,
                             seed=index if self.keyed else None)
            return (keras.ops.convert_to_numpy(out),
                    np.full((8, 1), index, "float32"))

    return Batches


def pydataset_run(seed, keyed, workers=2):
    from keras.src.trainers.data_adapters.py_dataset_adapter import \
        PyDatasetAdapter

    import augment_layers as al

    layer = al.RandomBrightnessRange((0.5, 1.5), seed=seed)
    ds = _batches_class()(layer, keyed, workers=workers,
                          use_multiprocessing=workers > 1)
    adapter = PyDatasetAdapter(ds, shuffle=False)
    drawn, order = [], []
    for x, y in adapter.get_numpy_iterator():
        drawn.append(factors(x))
        order.append(int(y[0, 0]))
    adapter.on_epoch_end()
    return np.asarray(drawn), np.asarray(order)


def pydataset_main(out):
    import keras

    import augment_layers as al

    arrays = {}
    for name, seed, keyed in [("unseeded", None, False),
                              ("seeded", 7, False), ("keyed", 7, True)]:
        for run in ("a", "b"):
            arrays[f"{name}/{run}"], arrays[f"{name}/{run}/order"] = \
                pydataset_run(seed, keyed)
    arrays["keyed/one_process"], _ = pydataset_run(7, True, workers=1)
    model = keras.Sequential([keras.Input((SIDE, SIDE, 1)),
                              keras.layers.Rescaling(1 / 255.0),
                              keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(_batches_class()(
        al.RandomBrightnessRange((0.5, 1.5), seed=3), keyed=False, n=4,
        workers=2, use_multiprocessing=True), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
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
