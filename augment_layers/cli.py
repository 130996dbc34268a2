"""``python -m augment_layers preview IMAGE ... -o grid.png``."""

import argparse
import json
import os
import sys


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def parse_idg(text):
    """``'rotation_range=20,zoom_range=0.2,horizontal_flip=True'`` -> dict."""
    import ast

    kwargs = {}
    for item in filter(None, (p.strip() for p in _split(text))):
        if "=" not in item:
            raise CliError(f"--idg expects name=value pairs, got {item!r}")
        name, value = item.split("=", 1)
        try:
            kwargs[name.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            raise CliError(f"--idg: cannot read the value of {name.strip()}: "
                           f"{value.strip()!r}") from None
    return kwargs


def _split(text):
    """Splits on commas outside brackets, so ranges like (0.8, 1.2) survive."""
    depth, current = 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            yield current
            current = ""
        else:
            current += ch
    yield current


def layer_from_config(config):
    import keras

    import augment_layers as al

    if isinstance(config, dict) and "class_name" in config:
        return keras.saving.deserialize_keras_object(config)
    if isinstance(config, dict):
        return al.from_image_data_generator(**config)
    raise CliError("the config must be a JSON object: a serialized layer "
                   "(with 'class_name') or ImageDataGenerator arguments")


def load_image(path):
    if not os.path.exists(path):
        raise CliError(f"no such file: {path}")
    try:
        from PIL import Image

        import numpy as np

        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"), dtype="float32")
    except Exception as e:  # PIL raises many kinds for a bad file
        raise CliError(f"cannot read {path} as an image ({e})") from None


def load_mask(path, shape):
    """A mask image (PNG of class ids, 0 = background) -> (H, W) int32."""
    if not os.path.exists(path):
        raise CliError(f"no such file: {path}")
    try:
        from PIL import Image

        import numpy as np

        with Image.open(path) as img:
            mask = np.asarray(img.convert("L"), dtype="int32")
    except Exception as e:  # PIL raises many kinds for a bad file
        raise CliError(f"cannot read {path} as a mask image ({e})") from None
    if mask.shape != tuple(shape[:2]):
        raise CliError(f"the mask {path} is {mask.shape[1]}x{mask.shape[0]} "
                       f"but the image is {shape[1]}x{shape[0]}")
    return mask


def parse_boxes(text):
    """``'10,20,50,60;5,5,20,20'`` -> a list of 4-number boxes."""
    out = []
    for item in filter(None, (p.strip() for p in text.split(";"))):
        try:
            numbers = [float(v) for v in item.split(",")]
        except ValueError:
            numbers = []
        if len(numbers) != 4:
            raise CliError(f"--boxes expects 'x1,y1,x2,y2' boxes separated "
                           f"by ';', got {item!r}")
        out.append(numbers)
    return out


def preview_command(args):
    image = load_image(args.image)
    mask = load_mask(args.mask, image.shape) if args.mask else None
    boxes = parse_boxes(args.boxes) if args.boxes else None
    if args.config and args.idg:
        raise CliError("give --config or --idg, not both")
    try:
        if args.config:
            if not os.path.exists(args.config):
                raise CliError(f"no such file: {args.config}")
            try:
                with open(args.config) as f:
                    config = json.load(f)
            except json.JSONDecodeError as e:
                raise CliError(f"{args.config} is not valid JSON ({e})") from None
            layer = layer_from_config(config)
        else:
            kwargs = parse_idg(args.idg or "rotation_range=20,"
                               "width_shift_range=0.1,height_shift_range=0.1,"
                               "zoom_range=0.2,horizontal_flip=True")
            layer = layer_from_config(kwargs)
    except CliError:
        raise
    except (ValueError, TypeError) as e:
        raise CliError(f"bad config: {str(e).splitlines()[0]}") from None
    from augment_layers.preview import preview

    try:
        fig = preview(layer, image, n=args.n, seed=args.seed, mask=mask,
                      boxes=boxes, bounding_box_format=args.box_format)
    except ValueError as e:
        raise CliError(str(e).splitlines()[0]) from None
    fig.savefig(args.output, dpi=80)
    print(f"wrote {args.output}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m augment_layers")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train with and without augmentation")
    demo.add_argument("--out", default="demo_out")
    demo.add_argument("--epochs", type=int, default=30)
    demo.add_argument("--limit", type=int, default=None,
                      help="use only this many images (for quick checks)")
    prev = sub.add_parser("preview", help="a grid of augmentations of IMAGE")
    prev.add_argument("image")
    prev.add_argument("--config", help="JSON: a layer config, or "
                      "ImageDataGenerator arguments")
    prev.add_argument("--idg", help="ImageDataGenerator arguments, e.g. "
                      "'rotation_range=20,zoom_range=0.2'")
    prev.add_argument("--mask", help="a mask image (class ids, 0 = "
                      "background) of IMAGE, augmented alongside and drawn "
                      "as an overlay")
    prev.add_argument("--boxes", help="boxes of IMAGE, 'x1,y1,x2,y2;...' "
                      "in --box-format, augmented alongside and drawn")
    prev.add_argument("--box-format", default="xyxy",
                      help="the format of --boxes (default xyxy, pixels)")
    prev.add_argument("-o", "--output", default="grid.png")
    prev.add_argument("-n", type=int, default=9)
    prev.add_argument("--seed", type=int, default=None)
    sub.add_parser("build-native", help="build the native CPU resampler "
                   "for this host and TensorFlow (otherwise built on first "
                   "use); says why where it cannot be")
    args = parser.parse_args(argv)
    if args.command == "build-native":
        from augment_layers.ops import native

        failed = False
        for name, reason, path in (
                ("TensorFlow", native.unavailable_reason, native.library_path),
                ("JAX and PyTorch", native.ffi_unavailable_reason,
                 native.ffi_library_path)):
            why = reason()
            if why is None:
                print(f"native resampler for {name}: {path()} (level "
                      f"{native.level()})")
            else:
                failed = True
                print(f"native resampler for {name} unavailable (the general "
                      f"formulation runs): {why}")
        # No compiler: nothing to fix here, the package works as it is. A
        # compiler whose build or load fails: a broken source, said loudly.
        if native.compiler() is None or not native.enabled():
            return 0
        return 1 if failed else 0
    try:
        if args.command == "demo":
            from augment_layers.demo import run_demo

            run_demo(out_dir=args.out, epochs=args.epochs, limit=args.limit)
        else:
            preview_command(args)
    except CliError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
