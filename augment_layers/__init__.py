"""Image-augmentation layers for Keras 3, in ImageDataGenerator's terms."""

from augment_layers._startup import quiet_native_startup as _quiet

with _quiet():
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
    from augment_layers.layers import RandomLambda
    from augment_layers.layers import RandomAffine
    from augment_layers.layers import ImageDataGeneratorAffine
    from augment_layers.layers import RandomResizedCrop
    from augment_layers.layers import RandomPerspective
    from augment_layers.layers import RandomErasing
    from augment_layers.layers import MixUp
    from augment_layers.layers import CutMix
    from augment_layers.layers import RandAugment
    from augment_layers.layers import TrivialAugmentWide
    from augment_layers.layers import RandomBrightness
    from augment_layers.layers import RandomContrast
    from augment_layers.layers import RandomSaturation
    from augment_layers.layers import RandomHue
    from augment_layers.layers import RandomColorJitter
    from augment_layers.layers import RandomGrayscale
    from augment_layers.layers import RandomInvert
    from augment_layers.layers import RandomSharpness
    from augment_layers.layers import RandomColorDegeneration
    from augment_layers.layers import RandomPosterization
    from augment_layers.layers import Solarization
    from augment_layers.layers import Equalization
    from augment_layers.layers import AutoContrast
    from augment_layers.layers import RandomGaussianBlur
    from augment_layers.layers import RandomGaussianNoise
    from augment_layers.layers import RandomTranslation
    from augment_layers.layers import RandomZoom
    from augment_layers.layers import RandomCrop
    from augment_layers.layers import CenterCrop
    from augment_layers.layers import RandomElasticTransform
    from augment_layers.layers import RandomGridDistortion
    from augment_layers.layers import RandomChoice
    from augment_layers.layers import RandomApply
    from augment_layers.layers import AutoAugment
    from augment_layers.layers import AugMix
    from augment_layers.layers import Augment
    from augment_layers.layers import ApplyOp
    from augment_layers.layers import FeaturewiseNormalization
    from augment_layers.layers import SamplewiseNormalization
    from augment_layers.layers import ZCAWhitening
    from augment_layers.layers import adapt
    from augment_layers.layers import RandomAffine3D
    from augment_layers.layers import RandomFlip3D
    from augment_layers.layers import RandomElasticTransform3D
    from augment_layers.layers import RandomIntensityScale
    from augment_layers.layers import RandomIntensityShift
    from augment_layers.layers import RandomGamma
    from augment_layers.layers import Augment3D
    from augment_layers.migration import from_image_data_generator
    from augment_layers.keras_migration import from_keras
    from augment_layers.image import ImageDataGenerator
    from augment_layers.preview import preview
    from augment_layers.ops import registered as _registered_ops  # noqa: F401
    from augment_layers.memory import reuse_freed_memory
    from augment_layers.ops.compile import set_jit_augment
    from augment_layers.layers.draws import set_worker_index
    from augment_layers.registry import register_op
    from augment_layers.registry import registered_ops

from augment_layers.ops import native as _native  # noqa: E402

_native.load_if_built()

__version__ = "0.1.0"
