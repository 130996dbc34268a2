"""What the drop-in's modules share: argument checks and the seed space."""

import difflib

_DATASET_OPTIONS = ("workers", "use_multiprocessing", "max_queue_size")


def _known_arguments(fn):
    import inspect

    return [name for name, p in inspect.signature(fn).parameters.items()
            if name != "self" and p.kind not in (p.VAR_KEYWORD,
                                                 p.VAR_POSITIONAL)]


def _unexpected_arguments_message(kwargs, where, known):
    """Python's own wording, with the closest known name and the list."""
    parts = []
    for name in sorted(kwargs):
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        parts.append(f"{where}() got an unexpected keyword argument "
                     f"{name!r}.{hint}")
    return " ".join(parts) + f" Known arguments: {', '.join(known)}."

_SEED_SPACE = 2**31 - 1
