"""ImageDataGenerator's arguments, as layers: the one builder.

``from_image_data_generator(**kwargs)`` and
``ImageDataGenerator(**kwargs).as_layer()`` are the same function
(:func:`layers_for`) and build the same :class:`Augment`; the drop-in's
``flow`` batches run the augmentation part of it.
"""

import difflib
import inspect

import keras

from augment_layers.layers.augment import Augment
from augment_layers.layers.image_data_generator_affine import \
    ImageDataGeneratorAffine
from augment_layers.layers.random_brightness_range import RandomBrightnessRange
from augment_layers.layers.random_lambda import RandomLambda
from augment_layers.layers.standardize import (ApplyOp,
                                               FeaturewiseNormalization,
                                               SamplewiseNormalization,
                                               ZCAWhitening)

ORDER_TO_INTERPOLATION = {0: "nearest", 1: "bilinear"}

# Arguments of ImageDataGenerator that configure the data pipeline, not the
# layers: accepted (so that every generator has its layers) and not mapped.
PIPELINE_ARGUMENTS = ("validation_split", "dtype")


def from_image_data_generator(**kwargs):
    """Returns the :class:`Augment` equivalent to ``ImageDataGenerator(**kwargs)``.

    It takes every argument ImageDataGenerator takes, with its meaning (a
    list of shifts is a choice among its values; an int ``n`` one of
    ``-(n-1) .. n-1`` pixels; below 1 a fraction of the size), except that
    ``height_shift_range`` moves content vertically and ``width_shift_range``
    horizontally (ImageDataGenerator swaps them). The geometric arguments
    become one :class:`ImageDataGeneratorAffine` (one resample);
    ``channel_shift_range`` adds one intensity to every channel, clipped to
    the image's own minimum and maximum, as ImageDataGenerator did;
    ``brightness_range`` multiplies. The standardisation arguments become
    layers that run at inference too, in ``standardize``'s order:
    ``preprocessing_function`` (a registered op), ``rescale``
    (``keras.layers.Rescaling``), ``samplewise_*``
    (:class:`SamplewiseNormalization`), ``featurewise_*``
    (:class:`FeaturewiseNormalization`) and ``zca_whitening``
    (:class:`ZCAWhitening`); adapt the last two with
    ``augment_layers.adapt(augment, images)``. ``validation_split`` and
    ``dtype`` configure the data pipeline and map to no layer.

    The same as ``ImageDataGenerator(**kwargs).as_layer()``.

    Raises:
        ValueError: naming an argument ImageDataGenerator does not take, or
            a value it refuses.
    """
    from augment_layers.image import ImageDataGenerator

    known = _known_arguments()
    unknown = sorted(set(kwargs) - known)
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            if close:
                hints.append(f"did you mean {close[0]!r} for {name!r}?")
        hint = f" ({'; '.join(hints)})" if hints else ""
        raise ValueError(
            f"Unknown ImageDataGenerator argument(s): {', '.join(unknown)}"
            f"{hint}. Known: {', '.join(sorted(known))}.")
    return layers_for(ImageDataGenerator(**kwargs))


def _known_arguments():
    from augment_layers.image import ImageDataGenerator

    return set(inspect.signature(ImageDataGenerator.__init__).parameters) - {
        "self", "kwargs"}


def augmentation_layers(generator):
    """The augmentation of an ImageDataGenerator (its checked attributes) as
    layers: ImageDataGenerator's own geometric draws (one resample),
    channel shift, brightness."""
    g = generator
    layers = []
    # ImageDataGenerator took any sign and a zoom down to 0.
    zoom = tuple(max(float(z), 1e-6) for z in g.zoom_range)
    if (g.rotation_range or g.height_shift_range or g.width_shift_range
            or g.shear_range or zoom != (1.0, 1.0) or g.horizontal_flip
            or g.vertical_flip):
        layers.append(ImageDataGeneratorAffine(
            height_shift_range=_plain(g.height_shift_range),
            width_shift_range=_plain(g.width_shift_range),
            rotation_range=abs(float(g.rotation_range)),
            shear_range=min(abs(float(g.shear_range)), 89.0),
            zoom_range=zoom,
            horizontal_flip=bool(g.horizontal_flip),
            vertical_flip=bool(g.vertical_flip),
            fill_mode=g.fill_mode, fill_value=float(g.cval),
            interpolation=ORDER_TO_INTERPOLATION[g.interpolation_order],
            data_format=g.data_format))
    if g.channel_shift_range:
        layers.append(RandomLambda(
            "channel_shift_within_image",
            {"intensity": abs(float(g.channel_shift_range))},
            data_format=g.data_format))
    if g.brightness_range is not None:
        layers.append(RandomBrightnessRange(
            tuple(float(b) for b in g.brightness_range),
            data_format=g.data_format))
    return layers


def _plain(value):
    """A shift range as ImageDataGenerator took it, in a JSON-able form."""
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        return [float(x) for x in list(value)]
    return value


def layers_for(generator):
    """The :class:`Augment` of an ImageDataGenerator: its augmentation
    (active in training only), then its standardisation (always), with the
    statistics of its ``fit`` where it was fitted."""
    import numpy as np

    g = generator
    layers = augmentation_layers(g)
    if g.preprocessing_function is not None:
        try:
            layers.append(ApplyOp(g.preprocessing_function))
        except ValueError as error:
            raise ValueError(
                "`preprocessing_function` must be an op registered with "
                "augment_layers.register_op (a model stores ops by name): "
                f"{error}") from None
    if g.rescale:
        layers.append(keras.layers.Rescaling(float(g.rescale)))
    if g.samplewise_center or g.samplewise_std_normalization:
        layers.append(SamplewiseNormalization(
            center=bool(g.samplewise_center),
            std_normalization=bool(g.samplewise_std_normalization)))
    if g.zca_whitening:
        layer = ZCAWhitening(epsilon=float(g.zca_epsilon))
        if g.zca_whitening_matrix is not None:
            shape = g._fitted_shape
            layer.build((None, *shape))
            layer.mean.assign(np.reshape(g.mean, (-1,)))
            matrix = g.zca_whitening_matrix
            if g.data_format == "channels_first":
                # Fitted on (C, H, W) rows; the layer flattens (H, W, C).
                h, w, c = shape
                order = np.arange(c * h * w).reshape(c, h, w).transpose(
                    1, 2, 0).ravel()
                matrix = matrix[np.ix_(order, order)]
            layer.matrix.assign(matrix)
            layer.adapted.assign(1.0)
        layers.append(layer)
    elif g.featurewise_center or g.featurewise_std_normalization:
        layer = FeaturewiseNormalization(
            center=bool(g.featurewise_center),
            std_normalization=bool(g.featurewise_std_normalization))
        if g.mean is not None:
            shape = g._fitted_shape
            layer.build((None, *shape))
            layer.mean.assign(np.reshape(g.mean, (-1,)))
            if g.std is not None:
                layer.std.assign(np.reshape(g.std, (-1,)))
            layer.adapted.assign(1.0)
        layers.append(layer)
    return Augment(layers, data_format=g.data_format)
