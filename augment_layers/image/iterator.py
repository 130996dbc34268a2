"""``Iterator``: the base of the drop-in's iterators, a ``keras.utils.PyDataset``.

Adapted from tf_keras's ``tf_keras/src/preprocessing/image.py`` (Copyright
2015 The TensorFlow Authors, Apache License 2.0).
"""

import threading

import keras
import numpy as np

from augment_layers.image.common import _SEED_SPACE


class Iterator(keras.utils.PyDataset):
    """Base class for image data iterators (a ``keras.utils.PyDataset``).

    Every `Iterator` must implement the `_get_batches_of_transformed_samples`
    method.

    Batch ``idx`` of epoch ``e`` is the same whichever thread or process
    asks for it, and in whatever order: its samples come from the epoch's
    permutation (seeded by ``(seed, e)``) and its transforms from a seed
    derived from ``(seed, e, idx)``. So two iterators built alike with the
    same ``seed`` stay aligned (images and masks), also with ``workers``.

    Args:
        n: Integer, total number of samples in the dataset to loop over.
        batch_size: Integer, size of a batch.
        shuffle: Boolean, whether to shuffle the data between epochs.
        seed: Random seeding for data shuffling and transforms.
        workers, use_multiprocessing, max_queue_size: as in
            ``keras.utils.PyDataset``.
    """

    white_list_formats = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")

    def __init__(self, n, batch_size, shuffle, seed, workers=1,
                 use_multiprocessing=False, max_queue_size=10):
        super().__init__(workers=workers,
                         use_multiprocessing=use_multiprocessing,
                         max_queue_size=max_queue_size)
        self.n = n
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.batch_index = 0
        self.total_batches_seen = 0
        self.epoch = 0
        self.lock = threading.Lock()
        self.index_array = None
        # Without a seed, one drawn now: the iterator is still consistent
        # with itself (a batch asked twice in an epoch is the same batch).
        self._base_seed = (int(seed) if seed is not None
                           else int(np.random.randint(_SEED_SPACE)))
        self.index_generator = self._flow_index()

    def _set_index_array(self):
        self.index_array = np.arange(self.n)
        if self.shuffle:
            rng = np.random.default_rng([self._base_seed, self.epoch])
            self.index_array = rng.permutation(self.n)

    def _batch_seed(self, epoch, idx):
        """The seed of batch ``idx``'s transforms in ``epoch``."""
        rng = np.random.default_rng([self._base_seed, epoch, idx, 1])
        return int(rng.integers(_SEED_SPACE))

    def __getitem__(self, idx):
        if idx >= len(self):
            raise ValueError(
                "Asked to retrieve element {idx}, "
                "but the Sequence "
                "has length {length}".format(idx=idx, length=len(self))
            )
        with self.lock:
            self.total_batches_seen += 1
            if self.index_array is None:
                self._set_index_array()
            index_array = self.index_array[
                self.batch_size * idx : self.batch_size * (idx + 1)
            ]
            seed = self._batch_seed(self.epoch, idx)
        return self._get_batches_of_transformed_samples(index_array,
                                                        seed=seed)

    def __len__(self):
        return (self.n + self.batch_size - 1) // self.batch_size  # round up

    @property
    def num_batches(self):
        return len(self)

    def on_epoch_end(self):
        with self.lock:
            self.epoch += 1
            self._set_index_array()

    def reset(self):
        self.batch_index = 0

    def _flow_index(self):
        """``(index_array, seed)`` of each batch of ``next()``, epoch after
        epoch (the last batch of an epoch may be short)."""
        # Ensure self.batch_index is 0.
        self.reset()
        while 1:
            if self.batch_index == 0:
                self._set_index_array()

            if self.n == 0:
                # Avoiding modulo by zero error
                current_index = 0
            else:
                current_index = (self.batch_index * self.batch_size) % self.n
            seed = self._batch_seed(self.epoch, self.batch_index)
            if self.n > current_index + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
                self.epoch += 1
            self.total_batches_seen += 1
            yield (self.index_array[
                current_index : current_index + self.batch_size
            ], seed)

    def __iter__(self):
        # Needed if we want to do something like:
        # for x, y in data_gen.flow(...):
        return self

    def __next__(self, *args, **kwargs):
        return self.next(*args, **kwargs)

    def next(self):
        """Returns the next batch (the old iterator protocol's ``next()``)."""
        with self.lock:
            index_array, seed = next(self.index_generator)
        # The transformation of images is not under thread lock
        # so it can be done in parallel
        return self._get_batches_of_transformed_samples(index_array,
                                                        seed=seed)

    def _get_batches_of_transformed_samples(self, index_array, seed=None):
        """Gets a batch of transformed samples.

        Args:
            index_array: Array of sample indices to include in batch.
            seed: seed of the batch's transforms (None: unseeded).
        Returns:
            A batch of transformed samples.
        """
        raise NotImplementedError
