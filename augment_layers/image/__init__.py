"""ImageDataGenerator, drop-in: old code runs unchanged on Keras 3.

``from augment_layers import ImageDataGenerator`` (or ``from
augment_layers.image import ...``) gives tf_keras's ``ImageDataGenerator``
and its iterators with the same arguments, attributes and results, on every
Keras backend, with three differences:

- each batch is augmented by **one** vectorised call of the package's layers
  (one fused resample), not image by image with scipy;
- height is height: ``height_shift_range`` moves images vertically (the old
  ``get_random_transform`` swapped the axes);
- rotations, shears and zooms turn about the true centre of non-square
  images.

tf_keras's module-level helpers (``random_rotation``, ``random_shift``, ...,
``apply_affine_transform``, ``load_img``, ...) are here too, with their
signatures (:mod:`augment_layers.image.functions`).

The iterators are ``keras.utils.PyDataset``s (``workers``,
``use_multiprocessing``, ``max_queue_size``), so ``model.fit(iterator)``
works. Two generators with the same arguments and ``seed`` produce the same
order and the same transforms batch by batch, also with workers: each
batch's draws come from a seed derived from (seed, epoch, batch index).

The iterator, file-listing and standardisation code follows tf_keras's
``tf_keras/src/preprocessing/image.py`` (Copyright 2015 The TensorFlow
Authors, Apache License 2.0), from which it is adapted.
"""

from augment_layers.image.dataframe import DataFrameIterator
from augment_layers.image.directory import DirectoryIterator
from augment_layers.image.generator import ImageDataGenerator
from augment_layers.image.iterator import Iterator
from augment_layers.image.numpy_array import NumpyArrayIterator
from augment_layers.image.functions import *  # noqa: F401,F403
from augment_layers.image.functions import __all__ as _functions

__all__ = ["ImageDataGenerator", "Iterator", "NumpyArrayIterator",
           "DirectoryIterator", "DataFrameIterator"] + _functions
