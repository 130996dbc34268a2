"""Image-augmentation layers for Keras 3, in ImageDataGenerator's terms."""

from augment_layers.layers import BaseAugmentation
from augment_layers.layers import ColorAugmentation
from augment_layers.layers import GeometricAugmentation
from augment_layers.layers import RandomBrightnessRange
from augment_layers.layers import RandomChannelShift
from augment_layers.layers import RandomFlip
from augment_layers.layers import RandomRotation
from augment_layers.layers import RandomShear
from augment_layers.layers import RandomShift
from augment_layers.layers import RandomZoomAspect
from augment_layers.ops.resample import set_jit_resample

__version__ = "0.1.0"
