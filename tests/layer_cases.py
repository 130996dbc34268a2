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
]


def every_layer():
    """One of each case, a custom op and a fused pipeline: a model's front."""
    front = [case.make(seed=i) for i, case in enumerate(CASES)]
    front.append(al.RandomLambda("contrast", {"factor": (0.7, 1.3)}))
    front.append(al.Augment([al.RandomRotation(10), al.RandomShift(0.1, 0.1),
                             al.RandomBrightnessRange()]))
    return front
