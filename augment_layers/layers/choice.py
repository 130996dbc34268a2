"""``RandomChoice`` and ``RandomApply``: a choice per image, not per batch.

Both draw, for each image, which of their layers acts on it, and run inside
one compiled call with no branching on the batch:

- where every choice is a geometric layer (a matrix) with the same fill and
  interpolation, the chosen matrices are selected per image and the
  wrapper is itself geometric: inside :class:`augment_layers.Augment` it
  composes with its neighbours into one resample;
- otherwise each layer runs on the whole batch and each image keeps the
  output of its own choice (images, masks, boxes and keypoints alike), so
  the cost is the sum of the layers'.

The wrapper's seed drives every draw, its children's included (their own
seeds are not used).
"""

import keras

from augment_layers.layers import targets
from augment_layers.layers import validation as v
from augment_layers.layers.base import (PACKAGE, BaseAugmentation,
                                        GeometricAugmentation, Phase,
                                        geometric_run)
from augment_layers.ops import affine
from augment_layers.ops.dispatch import ops


class _PerImageChoice(BaseAugmentation):
    """Per-image selection among ``self._choices`` (None: the identity)."""

    def _setup(self, choices):
        if not choices or not all(c is None or isinstance(
                c, BaseAugmentation) for c in choices):
            raise ValueError(
                f"{type(self).__name__} takes augment_layers layers, "
                f"received {choices!r}; convert Keras layers with "
                "augment_layers.from_keras.")
        layers = [c for c in choices if c is not None]
        sizes = {c.fixed_output_size if isinstance(
            c, GeometricAugmentation) else None for c in layers}
        if None in choices and sizes != {None} or len(sizes) > 1:
            raise ValueError(
                f"{type(self).__name__}'s choices must give outputs of one "
                f"size, received layers with output sizes {sorted(map(str, sizes))}.")
        self._choices = list(choices)
        self._layers = layers
        options = {c.resample_options for c in layers
                   if isinstance(c, GeometricAugmentation)}
        self.composes_matrices = all(
            isinstance(c, GeometricAugmentation) and not c.displaces
            for c in layers) and len(options) == 1
        self.resamples = any(c.resamples for c in layers)
        self.pointwise = all(c.pointwise for c in layers)
        self.may_rotate = any(c.may_rotate for c in layers)
        self.projective = any(c.projective for c in layers)
        self.uses_labels = any(c.uses_labels for c in layers)
        if self.uses_labels:
            raise ValueError(
                f"{type(self).__name__} cannot choose among layers that mix "
                "images (MixUp, CutMix).")
        formats = {c.bounding_box_format for c in layers
                   if getattr(c, "bounding_box_format", None)}
        if len(formats) > 1:
            raise ValueError(
                f"{type(self).__name__}'s layers mix bounding box formats "
                f"({sorted(formats)}).")
        self.bounding_box_format = formats.pop() if formats else None

    # -- geometric mode: the wrapper is a matrix -----------------------------
    @property
    def _first(self):
        return next(c for c in self._layers
                    if isinstance(c, GeometricAugmentation))

    exact_resample = False

    @property
    def resample_options(self):
        return self._first.resample_options

    # The shared resample settings of the geometric choices.
    interpolation = property(lambda self: self._first.interpolation)
    fill_mode = property(lambda self: self._first.fill_mode)
    fill_value = property(lambda self: self._first.fill_value)
    mask_fill_value = property(lambda self: self._first.mask_fill_value)
    fixed_output_size = property(
        lambda self: self._first.fixed_output_size
        if self.composes_matrices else None)

    def output_size(self, height, width):
        return self._layers[0].output_size(height, width)

    def _selected(self, t):
        """``(B,)`` int: each image's index into ``self._choices``."""
        return t["choice"]

    def random_parameters(self, shape, rng):
        choice = self.draw_choice(shape[0], rng)
        children = {str(i): c.random_parameters(shape, rng)
                    for i, c in enumerate(self._choices) if c is not None}
        return {"choice": choice, "children": children}

    def transformation_matrix(self, t, height, width):
        choice = t["choice"]
        out = affine.identity(ops.shape(choice)[0])
        for i, c in enumerate(self._choices):
            if c is not None:
                matrix = c.transformation_matrix(t["children"][str(i)],
                                                 height, width)
                out = ops.where((choice == i)[:, None, None], matrix, out)
        return out

    # -- general mode: every layer runs, each image keeps its own -----------
    def phases(self):
        return (Phase(None, self.resamples, self.pointwise),)

    def transform_images(self, images, t):
        return self.transform_data({targets.IMAGES: images}, t)[
            targets.IMAGES]

    def transform_data(self, data, t):
        if self.composes_matrices:
            return geometric_run([self], [t], data)
        choice = t["choice"]
        out = data
        for i, c in enumerate(self._choices):
            if c is None:
                continue
            changed = c.transform_data(data, t["children"][str(i)])
            out = keras.tree.map_structure(
                lambda new, old: _select(choice == i, new, old), changed, out)
        return out

    def box_format_for(self, data, training):
        moves = any(hasattr(c, "bounding_box_format") and c.resamples
                    for c in self._layers)
        if moves and targets.BOXES in data and self.bounding_box_format is None:
            raise ValueError(
                f"{self.name} received 'bounding_boxes' but none of its "
                "layers has a `bounding_box_format`.")
        return self.bounding_box_format if moves else None


def _select(mask, new, old):
    mask = ops.reshape(mask, (-1,) + (1,) * (len(new.shape) - 1))
    return ops.where(mask, new, ops.cast(old, new.dtype))


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomChoice(_PerImageChoice):
    """Applies one of ``layers`` to each image, chosen per image with
    ``weights`` (default: equal).

    Args:
        layers: a list of augment_layers layers whose outputs have one size.
        weights: non-negative numbers, one per layer (normalised), or None.
        seed, data_format: see :class:`BaseAugmentation`.

    Example:
    >>> layer = RandomChoice([RandomRotation(30), RandomShear(20),
    ...                       RandomZoomAspect(0.2)], weights=[2, 1, 1])
    """

    def __init__(self, layers, weights=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layers, (list, tuple)) or not layers or any(
                layer is None for layer in layers):
            raise ValueError(
                f"`layers` must be a non-empty list of layers, received "
                f"layers={layers!r}.")
        self._setup(list(layers))
        if weights is None:
            weights = [1.0] * len(layers)
        if not isinstance(weights, (list, tuple)) or len(weights) != len(
                layers):
            raise ValueError(
                f"`weights` must hold one number per layer ({len(layers)}), "
                f"received weights={weights!r}.")
        weights = [v.check_number("weights", w) for w in weights]
        if min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(
                f"`weights` must be >= 0 with a positive sum, received "
                f"weights={weights!r}.")
        self.weights_ = [w / sum(weights) for w in weights]

    @property
    def layers(self):
        return list(self._layers)

    def draw_choice(self, batch_size, rng):
        u = rng.uniform(batch_size, 0.0, 1.0)
        choice = ops.zeros((batch_size,), "int32")
        edge = 0.0
        for i, w in enumerate(self.weights_[:-1]):
            edge += w
            choice = choice + ops.cast(u >= edge, "int32")
        return choice

    def get_config(self):
        config = super().get_config()
        config["layers"] = [keras.saving.serialize_keras_object(layer)
                            for layer in self._layers]
        config["weights"] = self.weights_
        return config

    @classmethod
    def build_from_checked_config(cls, config):
        config = dict(config)
        layers = config.pop("layers", None)
        if not isinstance(layers, list):
            raise ValueError(f"{cls.__name__}'s config needs a list under "
                             f"'layers', received {layers!r}.")
        return cls([keras.saving.deserialize_keras_object(layer)
                    for layer in layers], **config)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomApply(_PerImageChoice):
    """Applies ``layer`` to each image with ``probability``, drawn per
    image; the other images pass unchanged.

    Args:
        layer: an augment_layers layer that keeps the image size.
        probability: in ``[0, 1]`` (default 0.5).
        seed, data_format: see :class:`BaseAugmentation`.

    Example:
    >>> layer = RandomApply(RandomGaussianBlur(1.0, 5, (0.5, 2.0)), 0.3)
    """

    def __init__(self, layer, probability=0.5, **kwargs):
        super().__init__(**kwargs)
        self._setup([layer, None])
        self.probability = v.check_probability("probability", probability)

    @property
    def layer(self):
        return self._layers[0]

    def draw_choice(self, batch_size, rng):
        # Index 0 (the layer) with the probability, else 1 (the identity).
        return ops.where(rng.bernoulli(batch_size, self.probability), 0, 1)

    def get_config(self):
        config = super().get_config()
        config["layer"] = keras.saving.serialize_keras_object(self.layer)
        config["probability"] = self.probability
        return config

    @classmethod
    def build_from_checked_config(cls, config):
        config = dict(config)
        layer = keras.saving.deserialize_keras_object(config.pop("layer"))
        return cls(layer, **config)
