"""The contenders: ours and the peers, each a callable on one batch.

Every factory returns ``(name, group, fn)`` where ``fn(batch)`` augments one
batch and blocks until the result is ready. ``group`` names the comparison a
contender belongs to, so ratios are taken within a group.
"""

import numpy as np

import keras

import augment_layers as al

PIPELINE = dict(rotation_range=20, width_shift_range=0.2,
                height_shift_range=0.2, shear_range=10, zoom_range=0.2,
                horizontal_flip=True, brightness_range=(0.8, 1.2))


def _block(x):
    if hasattr(x, "block_until_ready"):
        return x.block_until_ready()
    return np.asarray(x)


def _block_tree(out):
    if isinstance(out, dict):
        return {k: _block_tree(v) for k, v in out.items()}
    return _block(out)


def _compiled_call(layer):
    """``layer(x, training=True)``, compiled as a user's train step would be."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        fn = tf.function(lambda x: layer(x, training=True))
        return lambda x: _block_tree(fn(x))
    if backend == "jax":
        import jax

        state = [v.value for v in layer.non_trainable_variables]

        @jax.jit
        def step(x, state):
            with keras.StatelessScope(state_mapping=list(zip(
                    layer.non_trainable_variables, state))) as scope:
                out = layer(x, training=True)
            new = []
            for v in layer.non_trainable_variables:
                value = scope.get_current_value(v)
                new.append(v.value if value is None else value)
            return out, new

        def run(x):
            out, new = step(x, state)
            state[:] = new
            return _block_tree(out)

        return run
    return lambda x: _block_tree(layer(x, training=True))


def ours_fused(xla=True):
    augment = al.from_image_data_generator(**PIPELINE)
    name = "ours: from_image_data_generator" + ("" if xla else " (no XLA)")

    def fn(x):
        al.set_jit_augment(xla)
        try:
            return call(x)
        finally:
            al.set_jit_augment(True)

    call = _compiled_call(augment)
    return name, "pipeline", fn


PATHS = {
    ("tf.function", "float32"): "ours: from_image_data_generator",
    ("tf.function", "uint8"): "ours: pipeline in tf.function, uint8 input",
    ("eager", "float32"): "ours: pipeline called eagerly, float32 input",
    ("eager", "uint8"): "ours: pipeline called eagerly, uint8 input",
}


def _as_uint8(fn):
    """``fn`` given the batch as uint8 (converted once per batch shape)."""
    cache = {}

    def run(x):
        key = np.shape(x)
        if key not in cache:
            cache.clear()
            cache[key] = np.asarray(x).clip(0, 255).astype("uint8")
        return fn(cache[key])

    return run


def call_paths():
    """The pipeline on the three other call paths (the fourth, compiled
    with float32 input, is :func:`ours_fused`): eagerly and inside a
    ``tf.function`` (jax.jit on JAX), with float32 and uint8 input."""
    out = []
    compiled_call = _compiled_call(al.from_image_data_generator(**PIPELINE))
    out.append((PATHS[("tf.function", "uint8")], "pipeline",
                _as_uint8(compiled_call)))
    eager = al.from_image_data_generator(**PIPELINE)

    def eager_call(x):
        return _block(eager(x, training=True))

    out.append((PATHS[("eager", "float32")], "pipeline", eager_call))
    out.append((PATHS[("eager", "uint8")], "pipeline", _as_uint8(eager_call)))
    # Where the float32 paths' time goes: Keras's conversion of a NumPy
    # batch into a tensor, and the same call on a batch already a tensor
    # (as in tf.data or a model's train step).
    out.append((CONVERSION, "pipeline", _convert))
    out.append((TENSOR_INPUT, "pipeline", _as_tensor(compiled_call)))
    return out


CONVERSION = "keras.ops.convert_to_tensor of the batch (alone)"
TENSOR_INPUT = "ours: pipeline in tf.function, float32 tensor input"


def _convert(x):
    return _block(keras.ops.convert_to_tensor(x))


def _as_tensor(fn):
    """``fn`` given the batch as a backend tensor (converted once)."""
    cache = {}

    def run(x):
        key = np.shape(x)
        if key not in cache:
            cache.clear()
            cache[key] = keras.ops.convert_to_tensor(x)
        return fn(cache[key])

    return run


def ours_random_affine():
    layers = [al.RandomAffine(rotation_range=20, height_range=0.2,
                              width_range=0.2, shear_range=10, zoom_range=0.2,
                              horizontal_flip=True),
              al.RandomBrightnessRange((0.8, 1.2))]
    augment = al.Augment(layers)
    return "ours: RandomAffine + brightness", "pipeline", _compiled_call(augment)


def _with_targets(batch, boxes_per_image=8):
    """The batch with a class-id mask, boxes and keypoints, as a detection or
    segmentation pipeline would feed it (made once per batch shape)."""
    b, h, w = batch.shape[:3]
    rng = np.random.default_rng(0)
    corner = rng.uniform(0, 0.5, (b, boxes_per_image, 2)) * (w, h)
    size = rng.uniform(0.1, 0.5, (b, boxes_per_image, 2)) * (w, h)
    return {"images": batch,
            "segmentation_masks": rng.integers(
                0, 21, (b, h, w, 1)).astype("uint8"),
            "bounding_boxes": {
                "boxes": np.concatenate([corner, corner + size],
                                        -1).astype("float32"),
                "labels": rng.integers(0, 20, (b, boxes_per_image)).astype(
                    "int32")}}


def targets_cost():
    """The same fused pipeline on images alone and with masks and boxes."""
    images_only = _compiled_call(al.from_image_data_generator(**PIPELINE))
    augment = al.from_image_data_generator(**PIPELINE)
    augment = al.Augment(augment.layers, bounding_box_format="xyxy")
    call = _compiled_call(augment)
    cache = {}

    def with_targets(x):
        key = np.shape(x)
        if key not in cache:
            cache.clear()
            cache[key] = _with_targets(np.asarray(x))
        out = call(cache[key])
        return _block(out["segmentation_masks"])

    return [("ours: images only", "targets", images_only),
            ("with masks + boxes", "targets", with_targets)]


def keras_stack_layers():
    """Keras 3's nearest equivalent of the pipeline, layer by layer."""
    L = keras.layers
    return [L.RandomRotation(20 / 360), L.RandomTranslation(0.2, 0.2),
            L.RandomShear(x_factor=0.18, y_factor=0.0), L.RandomZoom(0.2, 0.2),
            L.RandomFlip("horizontal"),
            L.RandomBrightness(0.2, value_range=(0, 255))]


def keras_stack():
    stack = keras.Sequential(keras_stack_layers())
    return "keras 3 built-in stack", "pipeline", _compiled_call(stack)


def image_data_generator():
    from tf_keras.preprocessing.image import ImageDataGenerator

    gen = ImageDataGenerator(**PIPELINE)

    def fn(x):
        return next(gen.flow(x, batch_size=len(x), shuffle=False))

    return "tf_keras ImageDataGenerator.flow", "pipeline", fn


def albumentations(dtype):
    import albumentations as A

    transform = A.Compose([
        A.Affine(rotate=(-20, 20), translate_percent=(-0.2, 0.2),
                 shear=(-10, 10), scale=(0.8, 1.2), border_mode=1, p=1.0),
        A.HorizontalFlip(p=0.5),
        A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.0,
                                   brightness_by_max=False, p=1.0)])

    def fn(x):
        return np.stack([transform(image=img)["image"] for img in x])

    if dtype == "uint8":  # converted once, as our uint8 rows are
        fn = _as_uint8(fn)
    return f"albumentations ({dtype}, 1 process)", "pipeline", fn


def numpy_copy():
    """One read and one write of the batch: the memory-bandwidth limit."""
    if keras.backend.backend() == "jax":
        import jax

        copy = jax.jit(lambda t: t * 1.0)
        return ("read+write of the batch (memory limit)", "pipeline",
                lambda x: _block(copy(x)))
    return ("read+write of the batch (memory limit)", "pipeline",
            lambda x: np.asarray(x) * 1.0)


SINGLE = [
    ("shift", lambda: al.RandomShift(0.2, 0.2),
     lambda: keras.layers.RandomTranslation(0.2, 0.2)),
    ("shear", lambda: al.RandomShear(10),
     lambda: keras.layers.RandomShear(x_factor=0.18, y_factor=0.0)),
    ("zoom", lambda: al.RandomZoomAspect(0.2),
     lambda: keras.layers.RandomZoom(0.2, 0.2)),
    ("rotation", lambda: al.RandomRotation(20),
     lambda: keras.layers.RandomRotation(20 / 360)),
    ("flip", lambda: al.RandomFlip("horizontal"),
     lambda: keras.layers.RandomFlip("horizontal")),
    ("brightness", lambda: al.RandomBrightnessRange((0.8, 1.2)),
     lambda: keras.layers.RandomBrightness(0.2, value_range=(0, 255))),
]


def single_layers():
    out = []
    for name, ours, theirs in SINGLE:
        out.append((f"ours: {type(ours()).__name__}", f"single:{name}",
                    _compiled_call(ours())))
        out.append((f"keras: {type(theirs()).__name__}", f"single:{name}",
                    _compiled_call(theirs())))
    return out


def modern_recipes():
    """Beyond ImageDataGenerator, against Keras 3.15's nearest equivalents:
    RandAugment, and a resized-crop + flip + rotation + colour recipe
    (Keras has no resized crop: a zoom and a crop stand in for it)."""
    L = keras.layers
    ours_recipe = al.Augment([
        al.RandomResizedCrop(192, 192), al.RandomFlip("horizontal"),
        al.RandomRotation(15), al.RandomBrightnessRange((0.8, 1.2)),
        al.RandomLambda("contrast", {"factor": (0.8, 1.2)})])
    keras_recipe = keras.Sequential([
        L.RandomZoom((-0.5, 0.0)), L.RandomCrop(192, 192),
        L.RandomFlip("horizontal"), L.RandomRotation(15 / 360),
        L.RandomBrightness(0.2, value_range=(0, 255)),
        L.RandomContrast(0.2, value_range=(0, 255))])
    return [
        ("ours: RandAugment", "modern:randaugment",
         _compiled_call(al.RandAugment(2, 9, interpolation="bilinear"))),
        ("keras: RandAugment", "modern:randaugment",
         _compiled_call(L.RandAugment(value_range=(0, 255), num_ops=2))),
        ("ours: resized crop + flip + rotation + colour", "modern:recipe",
         _compiled_call(ours_recipe)),
        ("keras: zoom + crop + flip + rotation + colour", "modern:recipe",
         _compiled_call(keras_recipe)),
    ]


def pipeline_contenders(cpu_peers=True):
    out = [ours_fused(True), *call_paths(), ours_fused(False),
           ours_random_affine(), keras_stack(), numpy_copy()]
    out += targets_cost()
    if cpu_peers:
        try:
            out.append(image_data_generator())
        except ImportError:
            pass
        try:
            out.append(albumentations("uint8"))
            out.append(albumentations("float32"))
        except ImportError:
            pass
    return out


KERAS_LAYERS_SIZE = (32, 128)  # (batch, side) of the Keras-layer rows


def _colour_stack(module):
    return [module.RandomBrightness(0.2), module.RandomContrast(0.3),
            module.RandomSaturation((0.3, 0.7)), module.RandomHue(0.2),
            module.RandomGaussianBlur(1.0, 3, 1.0)]


def keras_layer_pairs():
    """Keras's image layers against ours, the same arguments: a colour
    stack, AugMix, and a Keras preprocessing Sequential against its
    ``from_keras`` conversion (issue 27's targets)."""
    L = keras.layers
    stack = keras.Sequential([
        L.RandomFlip("horizontal"), L.RandomRotation(0.05),
        L.RandomTranslation(0.1, 0.1), L.RandomZoom(0.1),
        L.RandomContrast(0.2)])
    pairs = [("keras:colour", "colour stack (brightness, contrast, "
              "saturation, hue, blur)", al.Augment(_colour_stack(al)),
              keras.Sequential(_colour_stack(L))),
             ("keras:augmix", "AugMix", al.AugMix(), L.AugMix()),
             ("keras:from_keras", "flip, rotation, translation, zoom, "
              "contrast", al.from_keras(stack), stack)]
    out = []
    for group, what, ours, theirs in pairs:
        out.append((f"ours: {what}", group, _compiled_call(ours)))
        out.append((f"keras: {what}", group, _compiled_call(theirs)))
    return out


FIELDS_SIZE = (16, 128)  # (batch, side) of the displacement-field rows


def field_rows():
    """Issue 28's rows: Keras's RandomElasticTransform against ours (the
    same arguments, Keras's defaults), ours inside an Augment with a
    rotation and a shift (one resample), the rotation and shift alone, and
    the grid distortion beside albumentations's per image."""
    import albumentations as A

    reflect = {"fill_mode": "reflect"}
    grid = A.GridDistortion(num_steps=5, distort_limit=0.3, p=1.0)

    def albumentations_grid(x):
        return np.stack([grid(image=img)["image"] for img in x])

    return [
        ("ours: RandomElasticTransform", "keras:elastic",
         _compiled_call(al.RandomElasticTransform())),
        ("keras: RandomElasticTransform", "keras:elastic",
         _compiled_call(keras.layers.RandomElasticTransform())),
        ("ours: Augment(rotation, elastic, shift)", "fused",
         _compiled_call(al.Augment([
             al.RandomRotation(20, **reflect), al.RandomElasticTransform(),
             al.RandomShift(0.1, 0.1, **reflect)]))),
        ("ours: Augment(rotation, shift)", "fused",
         _compiled_call(al.Augment([al.RandomRotation(20, **reflect),
                                    al.RandomShift(0.1, 0.1, **reflect)]))),
        ("ours: RandomGridDistortion", "grid",
         _compiled_call(al.RandomGridDistortion())),
        ("albumentations: GridDistortion (float32, 1 process)", "grid",
         albumentations_grid),
    ]
