import keras

from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE, GeometricAugmentation
from augment_layers.ops import affine


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomRotation(GeometricAugmentation):
    """Rotates each image by a random angle in **degrees** about its centre.

    Positive angles turn content counter-clockwise as displayed, as
    ImageDataGenerator's ``rotation_range`` does. (Keras's own
    ``RandomRotation`` takes fractions of a full turn instead.)

    Args:
        rotation_range: degrees; number ``r`` (uniform in ``[-r, r]``) or pair.
        fill_mode, fill_value, interpolation, seed, data_format: see
            :class:`GeometricAugmentation`.

    Example:
    >>> layer = RandomRotation(rotation_range=20)
    """

    def __init__(self, rotation_range=0.0, **kwargs):
        super().__init__(**kwargs)
        self.rotation_range = v.check_range("rotation_range", rotation_range)
        self._config_range = v.as_config_range(rotation_range)

    @property
    def may_rotate(self):
        return tuple(self.rotation_range) != (0.0, 0.0)

    def random_parameters(self, shape, rng):
        batch_size = shape[0]
        return {"theta": rng.uniform(batch_size, *self.rotation_range)}

    def transformation_matrix(self, transformation, height, width):
        return affine.center(affine.rotation(transformation["theta"]), height,
                             width)

    def get_config(self):
        config = super().get_config()
        config["rotation_range"] = self._config_range
        return config
