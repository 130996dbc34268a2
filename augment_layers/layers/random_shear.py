import keras

from augment_layers.layers import validation as v
from augment_layers.layers.base import PACKAGE, GeometricAugmentation
from augment_layers.ops import affine


@keras.saving.register_keras_serializable(package=PACKAGE)
class RandomShear(GeometricAugmentation):
    """Shears each image by a random angle in degrees.

    ImageDataGenerator's ``shear_range``: the counter-clockwise shear angle,
    about the image centre.

    Args:
        shear_range: degrees; number ``r`` (uniform in ``[-r, r]``) or pair.
        fill_mode, fill_value, interpolation, seed, data_format: see
            :class:`GeometricAugmentation`.

    Example:
    >>> layer = RandomShear(shear_range=15)
    """

    def __init__(self, shear_range=0.0, **kwargs):
        super().__init__(**kwargs)
        self.shear_range = v.check_range("shear_range", shear_range,
                                         min_value=-89.0, max_value=89.0)
        self._config_range = v.as_config_range(shear_range)

    def random_parameters(self, shape, rng):
        batch_size = shape[0]
        return {"shear": rng.uniform(batch_size, *self.shear_range)}

    def transformation_matrix(self, transformation, height, width):
        return affine.center(affine.shear(transformation["shear"]), height,
                             width)

    def get_config(self):
        config = super().get_config()
        config["shear_range"] = self._config_range
        return config
