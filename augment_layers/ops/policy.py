"""The operations of RandAugment and TrivialAugment, on channels-last
batches in ``[0, 255]`` with per-image ``(B,)`` magnitudes.

Each follows torchvision's ``transforms.autoaugment`` (v0.15+; the PIL path,
whose definitions come from PIL's ``ImageEnhance`` and ``ImageOps``):
RandAugment (Cubuk et al., 2020) and TrivialAugment (Müller and Hutter,
2021). The geometric ones are matrices, so that one image's chosen
geometric ops compose into one resample; the colour ones are element-wise
(sharpness and the histogram ops look at their neighbourhood or their
image).
"""

from augment_layers.ops import affine
from augment_layers.ops.dispatch import ops

GEOMETRIC = ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate")
COLOUR = ("Brightness", "Color", "Contrast", "Sharpness", "Posterize",
          "Solarize", "AutoContrast", "Equalize")
OPS = ("Identity",) + GEOMETRIC + COLOUR
SIGNED = {"ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate",
          "Brightness", "Color", "Contrast", "Sharpness"}


def magnitude(op, bins, num_bins, height, width, wide=False):
    """torchvision's ``_augmentation_space``: the magnitude of ``op`` at the
    ``(B,)`` bin indices ``bins`` (of ``num_bins``), unsigned. ``wide``:
    TrivialAugmentWide's ranges, else RandAugment's."""
    bins = ops.cast(bins, "float32")
    unit = bins / float(max(num_bins - 1, 1))  # linspace(0, 1)[bins]

    if op in ("ShearX", "ShearY"):
        return unit * (0.99 if wide else 0.3)
    if op == "TranslateX":
        return unit * (32.0 if wide else 150.0 / 331.0
                       * ops.cast(width, "float32"))
    if op == "TranslateY":
        return unit * (32.0 if wide else 150.0 / 331.0
                       * ops.cast(height, "float32"))
    if op == "Rotate":
        return unit * (135.0 if wide else 30.0)
    if op in ("Brightness", "Color", "Contrast", "Sharpness"):
        return unit * (0.99 if wide else 0.9)
    if op == "Posterize":
        step = (num_bins - 1) / (6.0 if wide else 4.0)
        return 8.0 - ops.round(bins / step) if step else 8.0 + 0.0 * bins
    if op == "Solarize":
        return 255.0 * (1.0 - unit)
    return 0.0 * bins


# -- geometric: output -> input pixel-index matrices -------------------------
def shear_x(m):
    """``PIL.Image.transform(AFFINE, (1, m, 0, 0, 1, 0))``: the output pixel
    at ``(x, y)`` samples ``(x + m y, y)``, about the image's top-left
    corner (continuous coordinates)."""
    m = ops.cast(m, "float32")
    one, zero = ops.ones_like(m), ops.zeros_like(m)
    return affine._stack_rows(one, m, 0.5 * m, zero, one, zero)


def shear_y(m):
    m = ops.cast(m, "float32")
    one, zero = ops.ones_like(m), ops.zeros_like(m)
    return affine._stack_rows(one, zero, zero, m, one, 0.5 * m)


def translate(dx, dy):
    """Content moves by ``(dx, dy)`` pixels."""
    return affine.translation(-ops.cast(dx, "float32"),
                              -ops.cast(dy, "float32"))


def rotate(degrees, height, width):
    """Counter-clockwise as displayed, about the centre (``PIL.rotate``)."""
    return affine.center(affine.rotation(degrees), height, width)


def geometric_matrix(op, m, height, width):
    if op == "ShearX":
        return shear_x(m)
    if op == "ShearY":
        return shear_y(m)
    if op == "TranslateX":
        return translate(m, ops.zeros_like(m))
    if op == "TranslateY":
        return translate(ops.zeros_like(m), m)
    return rotate(m, height, width)


# -- colour ----------------------------------------------------------------------
def _per_image(v, images):
    return ops.cast(v, images.dtype)[:, None, None, None]


def _blend(degenerate, images, factor):
    """PIL's ``ImageEnhance``: ``degenerate + factor * (image - degenerate)``,
    clipped to [0, 255]."""
    return ops.clip(degenerate + _per_image(factor, images)
                    * (images - degenerate), 0.0, 255.0)


def _grey(images):
    if images.shape[-1] != 3:
        return images
    weights = ops.cast(ops.convert_to_tensor([0.299, 0.587, 0.114]),
                       images.dtype)
    return ops.sum(images * weights, axis=-1, keepdims=True)


def brightness(images, factor):
    return _blend(ops.zeros_like(images), images, factor)


def color(images, factor):
    return _blend(_grey(images) + ops.zeros_like(images), images, factor)


def contrast(images, factor):
    mean = ops.mean(_grey(images), axis=(1, 2, 3), keepdims=True)
    return _blend(mean + ops.zeros_like(images), images, factor)


def sharpness(images, factor):
    """Blend with PIL's SMOOTH filter (3x3, centre 5, others 1, / 13); the
    border pixels keep their values, as in PIL."""
    # The border keeps its values, so what the padding holds never counts.
    padded = ops.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
    h, w = ops.shape(images)[1], ops.shape(images)[2]
    total = 4.0 * images
    for dy in range(3):
        for dx in range(3):
            total = total + padded[:, dy:dy + h, dx:dx + w, :]
    smooth = total / 13.0
    rows = ops.arange(h)[None, :, None, None]
    cols = ops.arange(w)[None, None, :, None]
    border = ops.logical_or(ops.logical_or(rows == 0, rows == h - 1),
                            ops.logical_or(cols == 0, cols == w - 1))
    degenerate = ops.where(border, images, smooth)
    return _blend(degenerate, images, factor)


def posterize(images, bits):
    """Keeps the ``bits`` high bits of each 8-bit value."""
    step = ops.power(2.0, 8.0 - _per_image(bits, images))
    return ops.floor(ops.floor(images) / step) * step


def solarize(images, threshold):
    return ops.where(images >= _per_image(threshold, images), 255.0 - images,
                     images)


def autocontrast(images):
    """Per channel: stretches ``[min, max]`` to ``[0, 255]`` (PIL's
    ``ImageOps.autocontrast``, no cut-off)."""
    lo = ops.min(images, axis=(1, 2), keepdims=True)
    hi = ops.max(images, axis=(1, 2), keepdims=True)
    scale = 255.0 / ops.maximum(hi - lo, 1e-6)
    out = ops.clip(ops.floor((images - lo) * scale), 0.0, 255.0)
    return ops.where(hi > lo, out, images)


def equalize(images, bins=256):
    """PIL's ``ImageOps.equalize``, per image and channel, on the 8-bit
    values (``floor`` of the input). ``bins`` other than 256: the same
    rule on ``bins`` levels (``floor(x (bins - 1) / 255)``), mapped back to
    ``[0, 255]``."""
    shape = ops.shape(images)
    b, h, w, c = shape[0], shape[1], shape[2], shape[3]
    top = float(bins - 1)
    levels = ops.clip(ops.floor(images), 0.0, 255.0)
    if bins != 256:
        levels = ops.floor(levels * (top / 255.0))
    values = ops.cast(levels, "int32")
    rows = ops.reshape(ops.transpose(values, (0, 3, 1, 2)), (b * c, h * w))
    # Histograms as one segment sum (bincount needs its size at run time,
    # which XLA refuses); rows * bins + value is each pixel's bin.
    row_ids = ops.arange(b * c, dtype="int32")[:, None] * bins
    hist = ops.segment_sum(
        ops.reshape(ops.cast(ops.ones_like(rows), "float32"), (-1,)),
        ops.reshape(rows + row_ids, (-1,)), num_segments=b * c * bins)
    hist = ops.reshape(hist, (b * c, bins))
    # The count of the highest value present.
    present = ops.cast(hist > 0, "float32")
    last = ops.argmax(present * ops.cast(ops.arange(bins), "float32"),
                      axis=1)
    last_count = ops.take_along_axis(hist, last[:, None], axis=1)
    step = ops.floor((ops.sum(hist, axis=1, keepdims=True) - last_count)
                     / top)
    before = ops.cumsum(hist, axis=1) - hist  # exclusive cumulative sum
    lut = ops.floor((ops.floor(step / 2.0) + before)
                    / ops.maximum(step, 1.0))
    lut = ops.clip(lut, 0.0, top)
    identity = ops.cast(ops.arange(bins), "float32")[None, :]
    lut = ops.where(step > 0, lut, identity)
    out = ops.take_along_axis(lut, rows, axis=1)
    if bins != 256:
        out = out * (255.0 / top)
    out = ops.transpose(ops.reshape(out, (b, c, h, w)), (0, 2, 3, 1))
    return ops.cast(out, images.dtype)


def colour_op(op, images, m):
    """The colour op named ``op`` at the ``(B,)`` magnitudes ``m``."""
    images = ops.convert_to_tensor(images)
    m = ops.cast(ops.convert_to_tensor(m), images.dtype)
    if op == "Brightness":
        return brightness(images, 1.0 + m)
    if op == "Color":
        return color(images, 1.0 + m)
    if op == "Contrast":
        return contrast(images, 1.0 + m)
    if op == "Sharpness":
        return sharpness(images, 1.0 + m)
    if op == "Posterize":
        return posterize(images, m)
    if op == "Solarize":
        return solarize(images, m)
    if op == "AutoContrast":
        return autocontrast(images)
    if op == "Invert":
        return 255.0 - images
    return equalize(images)


def index_of(op, names=OPS):
    return names.index(op)


# AutoAugment (Cubuk et al., 2019): torchvision's ImageNet policy, 25
# sub-policies of two (op, probability, magnitude bin of 10) steps.
AUTO_OPS = OPS + ("Invert",)
IMAGENET_POLICY = (
    (("Posterize", 0.4, 8), ("Rotate", 0.6, 9)),
    (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
    (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
    (("Posterize", 0.6, 7), ("Posterize", 0.6, 6)),
    (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
    (("Equalize", 0.4, None), ("Rotate", 0.8, 8)),
    (("Solarize", 0.6, 3), ("Equalize", 0.6, None)),
    (("Posterize", 0.8, 5), ("Equalize", 1.0, None)),
    (("Rotate", 0.2, 3), ("Solarize", 0.6, 8)),
    (("Equalize", 0.6, None), ("Posterize", 0.4, 6)),
    (("Rotate", 0.8, 8), ("Color", 0.4, 0)),
    (("Rotate", 0.4, 9), ("Equalize", 0.6, None)),
    (("Equalize", 0.0, None), ("Equalize", 0.8, None)),
    (("Invert", 0.6, None), ("Equalize", 1.0, None)),
    (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
    (("Rotate", 0.8, 8), ("Color", 1.0, 2)),
    (("Color", 0.8, 8), ("Solarize", 0.8, 7)),
    (("Sharpness", 0.4, 7), ("Invert", 0.6, None)),
    (("ShearX", 0.6, 5), ("Equalize", 1.0, None)),
    (("Color", 0.4, 0), ("Equalize", 0.6, None)),
    (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
    (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
    (("Invert", 0.6, None), ("Equalize", 1.0, None)),
    (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
    (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
)

# AugMix (Hendrycks et al., 2020): torchvision's op set and largest
# magnitudes (its ``_augmentation_space``); the enhancement ops join with
# ``all_ops``.
AUGMIX_OPS = ("Identity", "AutoContrast", "Equalize", "Posterize", "Rotate",
              "Solarize", "ShearX", "ShearY", "TranslateX", "TranslateY")
AUGMIX_ALL_OPS = AUGMIX_OPS + ("Brightness", "Color", "Contrast",
                               "Sharpness")


def augmix_magnitude(op, unit, height, width):
    """The magnitude of ``op`` at ``unit`` (``(B,)`` in ``[0, 1]``: the
    fraction of its largest), unsigned: shear 0.3, translation a third of
    the size, rotation 30 degrees, enhancement 0.9, posterize 4 bits down
    to 0, solarize threshold 255 down to 0."""
    unit = ops.cast(unit, "float32")
    if op in ("ShearX", "ShearY"):
        return 0.3 * unit
    if op == "TranslateX":
        return unit * ops.cast(width, "float32") / 3.0
    if op == "TranslateY":
        return unit * ops.cast(height, "float32") / 3.0
    if op == "Rotate":
        return 30.0 * unit
    if op in ("Brightness", "Color", "Contrast", "Sharpness"):
        return 0.9 * unit
    if op == "Posterize":
        return 4.0 - ops.round(4.0 * unit)
    if op == "Solarize":
        return 255.0 * (1.0 - unit)
    return 0.0 * unit




def on_chosen(images, chosen, fn, capacity):
    """``fn(subset, indices)`` applied to the images where ``chosen``
    (``(B,)`` booleans), the others unchanged: equal to ``where(chosen,
    fn(images, arange(B)), images)`` for an ``fn`` that treats each image on
    its own (``indices``: the subset's places in the batch, to gather its
    parameters), at the cost of ``fn`` on the chosen images only.

    The chosen images are gathered ``capacity`` at a time (a static size:
    it compiles), as many rounds as they need, and written back in place;
    for an op that one image in a dozen draws, the histogram of an
    equalization is then taken on a few images rather than the batch. The
    values are the same bits: each image's own computation, copied.
    """
    b = images.shape[0]
    if not isinstance(b, int) or capacity >= b:
        everyone = ops.arange(ops.shape(images)[0])
        return ops.where(chosen[:, None, None, None], fn(images, everyone),
                         images)
    flag = ops.cast(chosen, "int32")
    # Chosen images first, in batch order.
    order = ops.argsort(ops.arange(b) + b * (1 - flag))
    count = ops.sum(flag)
    rounds = (count + capacity - 1) // capacity

    def one_round(r, out):
        slots = r * capacity + ops.arange(capacity)
        # Past the chosen ones, a slot holds an image that is done or not
        # chosen, and writes back its current value: capacity <= B keeps
        # the slots of one round on distinct images.
        idx = ops.take(order, slots % b)
        current = ops.take(out, idx, axis=0)
        result = ops.where((slots < count)[:, None, None, None],
                           fn(current, idx), current)
        return ops.scatter_update(out, idx[:, None], result)

    return ops.fori_loop(0, rounds, one_round, images)
