"""Past one machine: every engine that users scale augmentation with, started
for real on this machine, gives every worker, process, replica and device
its own draws, and a seed reproduces what the README promises for it.

Each engine's layer is a ``RandomBrightnessRange`` on images of constant 100,
so a pixel over 100 is its image's drawn factor: two images share a draw
exactly when their factors are equal (24-bit uniforms: a chance collision
among a few hundred draws is about 1 in 1,000, hence "at least 99 %").
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from tests.backend import tensorflow_only
from tests.distributed_script import constant_batch, factors
from tests.helpers import FULL, ROOT, run_python

DISTINCT = 0.99


def distinct_share(values):
    values = np.asarray(values).ravel()
    return len(np.unique(values)) / values.size


def script_env(backend):
    return dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3",
                PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH",
                                                              ""))


def run_script(engine, out, *args, backend="tensorflow", timeout=300):
    """``python -m tests.distributed_script`` (a module, so that spawned
    workers can import what they unpickle)."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.distributed_script", engine, str(out),
         *map(str, args)], cwd=ROOT, env=script_env(backend),
        capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0 and f"{engine.upper()}-OK" in proc.stdout, (
        proc.stdout[-2000:], proc.stderr[-4000:])
    return np.load(out)


# -- the tf.data service: a dispatcher and two workers on localhost -------------
@pytest.fixture(scope="module")
def data_service():
    import tensorflow as tf
    from tensorflow.data.experimental import service

    # Short heartbeats and timeouts: stopping the servers waits on them (32 s
    # of teardown with the defaults).
    dispatcher = service.DispatchServer(service.DispatcherConfig(
        job_gc_check_interval_ms=200, job_gc_timeout_ms=200,
        worker_timeout_ms=1000))
    address = dispatcher.target.split("://")[1]
    workers = [service.WorkerServer(service.WorkerConfig(
        dispatcher_address=address, heartbeat_interval_ms=200,
        dispatcher_timeout_ms=1000)) for _ in range(2)]
    yield dispatcher.target, tf, service
    for server in workers + [dispatcher]:
        server._stop()


def _through_service(data_service, layer, mode, keyed, n=32):
    """Factors of ``n`` batches of 8, mapped by the service's workers; and
    each batch's key (its index in the source)."""
    target, tf, service = data_service

    def augment(i):
        images = tf.fill((8, 4, 4, 1), 100.0)
        out = layer(images, training=True, seed=i if keyed else None)
        return out, i

    ds = tf.data.Dataset.range(n).map(augment).apply(service.distribute(
        processing_mode=mode, service=target, job_name=None))
    drawn, keys = [], []
    for out, i in ds:
        drawn.append(factors(out.numpy()))
        keys.append(int(i))
    return np.asarray(drawn), np.asarray(keys)


@tensorflow_only
@pytest.mark.parametrize("mode", ["parallel_epochs", "distributed_epoch"])
def test_tf_data_service_workers_draw_their_own_parameters(data_service,
                                                           mode):
    import keras

    import augment_layers as al

    # A global seed (as most training scripts set) must not make the
    # workers' copies of the graph draw alike.
    keras.utils.set_random_seed(0)
    layer = al.RandomBrightnessRange((0.5, 1.5))
    drawn, keys = _through_service(data_service, layer, mode, keyed=False)
    copies = 2 if mode == "parallel_epochs" else 1  # every worker, all of it
    assert sorted(keys) == sorted(list(range(32)) * copies)
    assert distinct_share(drawn) >= DISTINCT


@tensorflow_only
def test_tf_data_service_keyed_draws_are_distinct_and_reproduce_per_element(
        data_service):
    import augment_layers as al

    runs = []
    for _ in range(2):
        layer = al.RandomBrightnessRange((0.5, 1.5), seed=7)
        drawn, keys = _through_service(data_service, layer,
                                       "distributed_epoch", keyed=True)
        assert sorted(keys) == list(range(32))
        assert distinct_share(drawn) >= DISTINCT
        runs.append(drawn[np.argsort(keys)])
    # Each element's draws, whichever worker mapped it and in what order...
    np.testing.assert_array_equal(runs[0], runs[1])
    # ...are those of the same key in this process.
    direct = al.RandomBrightnessRange((0.5, 1.5), seed=7)
    np.testing.assert_array_equal(runs[0][5], factors(direct(
        constant_batch(8), training=True, seed=5)))


@tensorflow_only
def test_tf_data_service_pipeline_feeds_fit(data_service):
    import keras

    import augment_layers as al

    target, tf, service = data_service
    augment = al.Augment([al.RandomRotation(20), al.RandomShift(0.1, 0.1),
                          al.RandomBrightnessRange((0.8, 1.2))])
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (64, 8, 8, 3)).astype("float32")
    y = rng.normal(size=(64, 1)).astype("float32")
    ds = (tf.data.Dataset.range(8)
          .map(lambda i: (augment(tf.gather(x, tf.range(i * 8, i * 8 + 8)),
                                  training=True, seed=i),
                          tf.gather(y, tf.range(i * 8, i * 8 + 8))))
          .apply(service.distribute("distributed_epoch", target)))
    model = keras.Sequential([keras.Input((8, 8, 3)),
                              keras.layers.Rescaling(1 / 255.0),
                              keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(ds, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


# -- Grain: mp_prefetch with two worker processes -------------------------------
@pytest.mark.slow
@tensorflow_only
def test_grain_worker_processes_draw_their_own_parameters(tmp_path):
    pytest.importorskip("grain")
    runs = run_script("grain", tmp_path / "grain.npz", backend="jax")
    # Each a fit over 2 worker processes; `make test` runs the declared
    # workers (the undeclared path, a process's identity, is PyDataset's
    # below), `make test-full` both.
    pipelines = ("declared", "plain") if FULL else ("declared",)
    for run in pipelines:
        for name in ("unseeded", "seeded", "keyed"):
            assert runs[f"{run}/{name}"].size == 64
            assert distinct_share(runs[f"{run}/{name}"]) >= DISTINCT, (
                run, name)
    # set_worker_index: worker i's seeded draws are the layer's stream
    # keyed by i, as this process computes it (the order of a worker's
    # calls follows Grain's read threads: the set of draws reproduces).
    np.testing.assert_array_equal(np.sort(runs["declared/seeded"]),
                                  np.sort(runs["declared/streams"]))
    # Keys from Grain's per-element generator: each element's draws,
    # exactly, with two worker processes or none.
    for run in pipelines:
        np.testing.assert_array_equal(runs[f"{run}/keyed"],
                                      runs["one_process/keyed"])


# -- PyDataset(workers=2, use_multiprocessing=True) -----------------------------
@pytest.mark.slow
@tensorflow_only
def test_pydataset_worker_processes_draw_their_own_parameters(tmp_path):
    runs = run_script("pydataset", tmp_path / "pydataset.npz")
    assert len(np.unique(runs["workers/process"])) == 2  # both took batches
    for name in ("unseeded", "seeded", "keyed"):  # a fit, 2 processes
        assert runs[f"workers/{name}"].size == 128
        assert distinct_share(runs[f"workers/{name}"]) >= DISTINCT, name
    # The batch index as the call's key: each batch's draws, exactly, with
    # two worker processes (their order is Keras's) or in this one.
    np.testing.assert_array_equal(runs["workers/keyed"],
                                  runs["one_process/keyed"])


@pytest.mark.slow
# -- tf.distribute: MultiWorkerMirroredStrategy, two local workers -------------
@tensorflow_only
def test_multi_worker_strategy_workers_draw_their_own_parameters(tmp_path):
    import portpicker

    ports = ",".join(str(portpicker.pick_unused_port()) for _ in range(2))
    env = script_env("tensorflow")
    procs = [subprocess.Popen(
        [sys.executable, "-m", "tests.distributed_script", "multiworker",
         str(tmp_path / f"worker{i}.npz"), str(i), ports],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True) for i in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0 and "MULTIWORKER-OK" in out, err[-4000:]
    workers = [np.load(tmp_path / f"worker{i}.npz") for i in range(2)]
    for part in ("step", "pipeline"):
        for run in ("a", "b"):
            both = np.concatenate([w[f"{part}/{run}"] for w in workers])
            assert both.size == (48 if part == "step" else 64)
            assert distinct_share(both) >= DISTINCT, (part, run)
            # the same seeds, a new model: the same draws on each worker
            for w in workers:
                np.testing.assert_array_equal(w[f"{part}/a"], w[f"{part}/b"])


@pytest.mark.slow
@tensorflow_only
def test_mirrored_strategy_replicas_augment_differently():
    out = run_python("""
        import os
        os.environ["KERAS_BACKEND"] = "tensorflow"
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import keras, numpy as np
        import augment_layers as al

        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        assert strategy.num_replicas_in_sync == 2
        with strategy.scope():
            augment = al.Augment([al.RandomShift(0.3, 0.3, seed=3),
                                  al.RandomRotation(20, seed=4),
                                  al.RandomChannelShift(30, seed=5)])
            model = keras.Sequential([
                keras.Input((16, 16, 3)), augment,
                keras.layers.Rescaling(1 / 255.0), keras.layers.Flatten(),
                keras.layers.Dense(2)])
            model.compile("adam", "mse")
        rng = np.random.default_rng(0)
        x = rng.uniform(0, 255, (16, 16, 16, 3)).astype("float32")
        history = model.fit(x, rng.normal(size=(16, 2)), batch_size=8,
                            epochs=3, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))

        # The same image on both replicas: their outputs must differ.
        same = np.repeat(x[:1], 8, axis=0)
        dist = strategy.experimental_distribute_dataset(
            tf.data.Dataset.from_tensor_slices(same).batch(8))

        @tf.function
        def step(batch):
            return strategy.run(lambda t: augment(t, training=True),
                                args=(batch,))

        shards = [np.asarray(t) for batch in dist for t in
                  strategy.experimental_local_results(step(batch))]
        assert [s.shape for s in shards] == [(4, 16, 16, 3)] * 2
        assert not np.allclose(shards[0], shards[1])
        images = np.concatenate(shards)
        assert len({i.tobytes() for i in images}) == 8
        print("MIRRORED-OK")
    """)
    assert "MIRRORED-OK" in out


# -- keras.distribution: DataParallel over four JAX host devices ---------------
@pytest.mark.slow
@tensorflow_only
def test_jax_data_parallel_devices_draw_their_own_parameters():
    out = run_python("""
        import jax, keras, numpy as np
        from jax.sharding import Mesh, NamedSharding, PartitionSpec
        import augment_layers as al

        devices = jax.devices()
        assert len(devices) == 4, devices
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=devices))
        augment = al.Augment([al.RandomShift(0.3, 0.3, seed=1),
                              al.RandomRotation(20, seed=2),
                              al.RandomBrightnessRange((0.5, 1.5), seed=3)])
        model = keras.Sequential([
            keras.Input((16, 16, 3)), augment,
            keras.layers.Rescaling(1 / 255.0), keras.layers.Flatten(),
            keras.layers.Dense(2)])
        model.compile("adam", "mse", jit_compile=True)
        rng = np.random.default_rng(0)
        x = rng.uniform(0, 255, (16, 16, 16, 3)).astype("float32")
        history = model.fit(x, rng.normal(size=(16, 2)), batch_size=8,
                            epochs=3, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))

        # One jitted step over a batch sharded across the four devices.
        sharding = NamedSharding(Mesh(np.array(devices), ("batch",)),
                                 PartitionSpec("batch"))

        @jax.jit
        def step(state, batch):
            out, state = augment.stateless_call([], state, batch,
                                                training=True)
            return jax.lax.with_sharding_constraint(out, sharding), state

        state = [v.value for v in augment.non_trainable_variables]
        same = np.repeat(x[:1], 16, axis=0)
        out, _ = step(state, jax.device_put(same, sharding))
        shards = [np.asarray(s.data) for s in out.addressable_shards]
        assert [s.shape for s in shards] == [(4, 16, 16, 3)] * 4
        assert len({i.tobytes() for i in np.concatenate(shards)}) == 16
        # The draws are made for the global batch: the same bits as the
        # same call on one device, unsharded.
        alone, _ = jax.jit(lambda s, b: augment.stateless_call(
            [], s, b, training=True))(jax.device_put(state, devices[0]),
                                      jax.device_put(same, devices[0]))
        np.testing.assert_array_equal(np.asarray(out), np.asarray(alone))
        print("DATA-PARALLEL-OK")
    """, env={"KERAS_BACKEND": "jax",
              "XLA_FLAGS": "--xla_force_host_platform_device_count=4"})
    assert "DATA-PARALLEL-OK" in out


# -- the keys ---------------------------------------------------------------------
@tensorflow_only
def test_a_tensor_key_draws_as_the_same_int_key_in_and_out_of_tf_data():
    import tensorflow as tf

    import augment_layers as al

    layer = al.RandomBrightnessRange((0.5, 1.5), seed=1)
    images = constant_batch(8)
    by_int = factors(layer(images, training=True, seed=12345))
    by_tensor = factors(layer(images, training=True,
                              seed=tf.constant(12345, tf.int64)))
    mapped = next(iter(tf.data.Dataset.from_tensors(
        tf.constant(12345, tf.int64)).map(
            lambda k: layer(images, training=True, seed=k))))
    np.testing.assert_array_equal(by_int, by_tensor)
    np.testing.assert_array_equal(by_int, factors(mapped.numpy()))
    other = factors(layer(images, training=True, seed=12346))
    assert distinct_share(np.concatenate([by_int, other])) == 1.0


def test_set_worker_index_refuses_a_bad_index():
    import augment_layers as al

    with pytest.raises(ValueError, match="not in"):
        al.set_worker_index(2, 2)
    with pytest.raises(ValueError, match="not in"):
        al.set_worker_index(-1)
