"""Every public layer, with arguments that make it do something visible.

The generic contract test runs on each entry; a new layer joins by adding a
line here.
"""

import dataclasses
from typing import Callable

import augment_layers as al


@dataclasses.dataclass
class Case:
    id: str
    make: Callable  # (seed) -> layer
    geometric: bool = False
    # No randomness (AutoContrast, Equalization, CenterCrop): the same at
    # training and inference, the same for every image.
    deterministic: bool = False
    # The layer refuses masks, boxes and keypoints (AugMix blends warps).
    takes_targets: bool = True
    # Distinct outputs among 16 copies of one image (fewer where the layer
    # has few outcomes: a coin, a flip, a count of bits).
    min_distinct: int = 16
    # The layer needs the image size when traced (a displacement field's
    # grid): an unknown height and width is refused with a clear error.
    static_size: bool = False


def expected_at_inference(layer, x):
    """What ``layer`` returns at inference: the input, except for the
    layers that act then (a crop's resize, AutoContrast, Equalization),
    whose training output is their inference output (RandomCrop's is
    Keras's ``Resizing(crop_to_aspect_ratio=True)``)."""
    import keras

    if isinstance(layer, al.RandomCrop):
        return keras.ops.convert_to_numpy(keras.layers.Resizing(
            layer.height, layer.width, crop_to_aspect_ratio=True,
            data_format=layer.data_format)(x))
    if layer.acts_at_inference:
        return keras.ops.convert_to_numpy(layer(x, training=True))
    return x


CASES = [
    Case("RandomShift", lambda seed=None: al.RandomShift(
        0.2, (-5, 5), units="fraction", seed=seed), geometric=True),
    Case("RandomShift_pixels", lambda seed=None: al.RandomShift(
        4, 6, units="pixels", fill_mode="constant", seed=seed),
        geometric=True),
    Case("RandomShear", lambda seed=None: al.RandomShear(
        20, fill_mode="reflect", seed=seed), geometric=True),
    Case("RandomZoomAspect", lambda seed=None: al.RandomZoomAspect(
        0.3, seed=seed), geometric=True),
    Case("RandomZoomAspect_aspect", lambda seed=None: al.RandomZoomAspect(
        (0.8, 1.2), aspect_range=(0.7, 1.4), fill_mode="wrap", seed=seed),
        geometric=True),
    Case("RandomRotation", lambda seed=None: al.RandomRotation(
        30, interpolation="nearest", seed=seed), geometric=True),
    Case("RandomFlip", lambda seed=None: al.RandomFlip(
        "horizontal_and_vertical", seed=seed), geometric=True),
    Case("RandomPerspective", lambda seed=None: al.RandomPerspective(
        1.0, 0.4, fill_mode="reflect", seed=seed), geometric=True),
    Case("RandomErasing", lambda seed=None: al.RandomErasing(
        1.0, value=127.0, seed=seed)),
    Case("RandAugment", lambda seed=None: al.RandAugment(
        2, 12, bounding_box_format="xyxy", seed=seed)),
    Case("TrivialAugmentWide", lambda seed=None: al.TrivialAugmentWide(
        bounding_box_format="xyxy", seed=seed)),
    Case("RandomBrightnessRange", lambda seed=None: al.RandomBrightnessRange(
        (0.5, 1.5), seed=seed)),
    Case("RandomChannelShift", lambda seed=None: al.RandomChannelShift(
        40, seed=seed)),
    # Keras's image layers (augment_layers.layers.keras_color, keras_geometric)
    Case("RandomBrightness", lambda seed=None: al.RandomBrightness(
        0.3, seed=seed)),
    Case("RandomContrast", lambda seed=None: al.RandomContrast(
        0.6, seed=seed)),
    Case("RandomSaturation", lambda seed=None: al.RandomSaturation(
        (0.1, 0.9), seed=seed)),
    Case("RandomHue", lambda seed=None: al.RandomHue(0.8, seed=seed)),
    Case("RandomColorJitter", lambda seed=None: al.RandomColorJitter(
        brightness_factor=0.2, contrast_factor=0.3, saturation_factor=(
            0.2, 0.8), hue_factor=0.3, seed=seed)),
    Case("RandomGrayscale", lambda seed=None: al.RandomGrayscale(
        0.6, seed=seed), min_distinct=2),
    Case("RandomInvert", lambda seed=None: al.RandomInvert(
        (0.4, 0.6), seed=seed), min_distinct=2),
    Case("RandomSharpness", lambda seed=None: al.RandomSharpness(
        1.0, seed=seed)),
    Case("RandomColorDegeneration", lambda seed=None:
         al.RandomColorDegeneration(1.0, seed=seed)),
    Case("RandomPosterization", lambda seed=None: al.RandomPosterization(
        (1, 7), seed=seed), min_distinct=4),
    Case("Solarization", lambda seed=None: al.Solarization(
        0.3, (0.2, 0.9), seed=seed)),
    Case("Equalization", lambda seed=None: al.Equalization(),
         deterministic=True),
    Case("AutoContrast", lambda seed=None: al.AutoContrast(),
         deterministic=True),
    Case("RandomGaussianBlur", lambda seed=None: al.RandomGaussianBlur(
        (0.9, 1.0), 5, (0.5, 3.0), seed=seed), min_distinct=12),
    Case("RandomGaussianNoise", lambda seed=None: al.RandomGaussianNoise(
        0.1, seed=seed)),
    Case("RandomTranslation", lambda seed=None: al.RandomTranslation(
        0.2, (-0.1, 0.3), seed=seed), geometric=True),
    Case("RandomZoom", lambda seed=None: al.RandomZoom(
        0.3, (-0.2, 0.4), fill_mode="constant", seed=seed), geometric=True),
    Case("RandomCrop", lambda seed=None: al.RandomCrop(
        14, 18, seed=seed), geometric=True),
    Case("CenterCrop", lambda seed=None: al.CenterCrop(13, 17),
         geometric=True, deterministic=True),
    Case("RandomElasticTransform", lambda seed=None:
         al.RandomElasticTransform((1.0, 1.0), (0.5, 1.0), seed=seed),
         geometric=True, static_size=True),
    Case("RandomGridDistortion", lambda seed=None: al.RandomGridDistortion(
        4, 0.4, fill_mode="constant", seed=seed), geometric=True,
        static_size=True),
    # (Two chains of two: the same machinery as the default three of three,
    # at half the compile time.)
    Case("AugMix", lambda seed=None: al.AugMix(num_chains=2, chain_depth=2,
                                               seed=seed),
         takes_targets=False),
    Case("AutoAugment", lambda seed=None: al.AutoAugment(
        bounding_box_format="xyxy", seed=seed), min_distinct=6),
    Case("RandomChoice", lambda seed=None: al.RandomChoice(
        [al.RandomRotation(30), al.RandomZoom(0.3)], weights=[2, 1],
        seed=seed), geometric=True),
    Case("RandomChoice_mixed", lambda seed=None: al.RandomChoice(
        [al.RandomRotation(30, bounding_box_format="xyxy"),
         al.RandomGaussianBlur((1.0, 1.0))], seed=seed)),
    Case("RandomApply", lambda seed=None: al.RandomApply(
        al.RandomSaturation((0.0, 1.0)), 0.7, seed=seed), min_distinct=6),
]


def every_layer():
    """One of each case that is the identity at inference (what an exported
    model drops), a custom op and a fused pipeline: a model's front."""
    front = [layer for layer in (case.make(seed=i) for i, case in
                                 enumerate(CASES))
             if not layer.acts_at_inference]
    front.append(al.RandomLambda("contrast", {"factor": (0.7, 1.3)}))
    front.append(al.Augment([al.RandomRotation(10), al.RandomShift(0.1, 0.1),
                             al.RandomBrightnessRange()]))
    return front


# The 3-D layers (volumes (B, D, H, W, C)): the generic 3-D contract in
# tests/test_volumes.py runs on each entry.
VOLUME_CASES = [
    Case("RandomAffine3D", lambda seed=None: al.RandomAffine3D(
        rotation_range=(20, 10, 30), shift_range=0.1,
        zoom_range=(0.1, 0.1, 0.2), shear_range=5, flip_axes=(0,),
        fill_mode="constant", fill_value=-1.0, spacing=(2.0, 1.0, 1.0),
        seed=seed), geometric=True),
    Case("RandomFlip3D", lambda seed=None: al.RandomFlip3D(seed=seed),
         geometric=True, min_distinct=4),
    Case("RandomElasticTransform3D", lambda seed=None:
         al.RandomElasticTransform3D(factor=(1.0, 1.0), seed=seed),
         geometric=True, static_size=True),
    Case("RandomIntensityScale", lambda seed=None: al.RandomIntensityScale(
        0.2, seed=seed)),
    Case("RandomIntensityShift", lambda seed=None: al.RandomIntensityShift(
        (-10, 10), seed=seed)),
    Case("RandomGamma", lambda seed=None: al.RandomGamma(seed=seed)),
    Case("Augment3D", lambda seed=None: al.Augment3D([
        al.RandomAffine3D(rotation_range=15, zoom_range=0.1,
                          fill_mode="reflect", seed=seed),
        al.RandomElasticTransform3D(scale=0.5, seed=seed),
        al.RandomIntensityScale(0.1, seed=seed)]), geometric=True,
        static_size=True),
]
