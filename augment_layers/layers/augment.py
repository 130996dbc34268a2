import keras

from augment_layers.layers import executor
from augment_layers.layers import targets
from augment_layers.layers import validation as v
from augment_layers.layers.base import (PACKAGE, BaseAugmentation,
                                        ImageLayer)


@keras.saving.register_keras_serializable(package=PACKAGE)
class Augment(ImageLayer):
    """Applies its layers in order, resampling each geometric run **once**.

    Consecutive geometric layers (shift, shear, zoom, rotation, flip, affine)
    are composed into one matrix per image and resampled in a single pass;
    a run breaks where two neighbours ask for different ``fill_mode``,
    ``fill_value`` or ``interpolation``. Colour layers run in order between
    runs, and on the TensorFlow backend every stretch of augmentation between
    plain Keras layers runs as one XLA-compiled function, so consecutive
    colour layers fuse into one element-wise pass.

    Given Keras's dict (``images``, ``segmentation_masks``,
    ``bounding_boxes``, ``keypoints``, ``labels``), each fused matrix moves
    the masks, box corners and keypoints too: one resample of the images,
    one of the masks.

    Augmentation layers act only when ``training`` is true. Other Keras layers
    placed inside (``Rescaling``, normalisation) run always, as
    ImageDataGenerator's ``standardize`` did; they see channels-last batches.

    Args:
        layers: list of layers.
        data_format: ``None`` (the children's, which must agree),
            ``"channels_last"`` or ``"channels_first"``.
        bounding_box_format: the format of ``"bounding_boxes"`` in a dict
            input; ``None``: the geometric children's, which must agree.
            It replaces the children's own inside ``Augment``.
        **kwargs: passed to ``keras.layers.Layer``.

    Example:
    >>> augment = Augment([RandomRotation(20), RandomShift(0.1, 0.1),
    ...                    RandomFlip(), RandomBrightnessRange((0.8, 1.2))])
    """

    def __init__(self, layers, data_format=None, bounding_box_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layers, (list, tuple)) or not all(
                isinstance(layer, keras.layers.Layer) for layer in layers):
            raise ValueError(
                "`layers` must be a list of Keras layers, received "
                f"layers={layers!r}.")
        for layer in layers:
            if isinstance(layer, ImageLayer) and (
                    layer.spatial_rank != self.spatial_rank):
                raise ValueError(
                    f"{type(self).__name__} takes "
                    f"{'2-D image' if self.spatial_rank == 2 else '3-D'} "
                    f"layers; {layer.name} ({type(layer).__name__}) is a "
                    f"{layer.spatial_rank}-D layer. Use "
                    f"{'Augment3D' if self.spatial_rank == 2 else 'Augment'}"
                    " for it.")
        formats = {layer.data_format for layer in layers
                   if isinstance(layer, BaseAugmentation)}
        if data_format is None:
            if len(formats) > 1:
                raise ValueError(
                    "The layers given to Augment mix data formats "
                    f"({sorted(formats)}); pass `data_format` explicitly.")
            data_format = formats.pop() if formats else None
        self.data_format = v.check_data_format(data_format)
        self.bounding_box_format = targets.check_bounding_box_format(
            bounding_box_format)
        if self.bounding_box_format is None:
            given = {layer.bounding_box_format for layer in layers
                     if getattr(layer, "bounding_box_format", None)
                     is not None}
            if len(given) > 1:
                raise ValueError(
                    "The layers given to Augment mix bounding box formats "
                    f"({sorted(given)}); pass `bounding_box_format`.")
            self.bounding_box_format = given.pop() if given else None
        # Geometric layers and policies (RandAugment) move boxes.
        self._moves_targets = any(
            isinstance(layer, BaseAugmentation)
            and hasattr(layer, "bounding_box_format") for layer in layers)
        self._layers = list(layers)
        self.built = True

    @property
    def layers(self):
        return list(self._layers)

    def plan(self):
        return executor.plan_of(self._layers)

    def box_format_for(self, data, training):
        if not self._moves_targets:
            return None
        if targets.BOXES in data and self.bounding_box_format is None:
            raise ValueError(
                f"{self.name} received 'bounding_boxes' but no "
                "`bounding_box_format`; pass it to Augment or to its "
                "geometric layers.")
        return self.bounding_box_format

    def output_size(self, height, width):
        for layer in self._layers:
            if isinstance(layer, BaseAugmentation):
                height, width = layer.output_size(height, width)
        return height, width

    def get_config(self):
        config = super().get_config()
        config["layers"] = [keras.saving.serialize_keras_object(layer)
                            for layer in self._layers]
        config["data_format"] = self.data_format
        config["bounding_box_format"] = self.bounding_box_format
        return config

    @classmethod
    def build_from_checked_config(cls, config):
        config = dict(config)
        layers = config.pop("layers", None)
        if not isinstance(layers, list):
            raise ValueError(
                f"Augment's config needs a list under 'layers', received "
                f"{layers!r}.")
        layers = [keras.saving.deserialize_keras_object(layer)
                  for layer in layers]
        return cls(layers, **config)
