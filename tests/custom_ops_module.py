"""A user's module that registers a custom op (imported by a fresh process)."""

import keras

import augment_layers as al


@al.register_op("test_contrast")
def test_contrast(images, factor, value_range=(0, 255)):
    mean = keras.ops.mean(images, axis=(1, 2, 3), keepdims=True)
    out = mean + (images - mean) * factor[:, None, None, None]
    return keras.ops.clip(out, value_range[0], value_range[1])


@al.register_op("test_invert")
def test_invert(images, value_range=(0, 255)):
    return value_range[0] + value_range[1] - images
