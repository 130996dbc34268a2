"""Keeps TensorFlow's native start-up lines out of the command line's output.

TensorFlow's C++ side writes a few lines straight to file descriptor 2 while
it loads ("All log messages before absl::InitializeLog()...", oneDNN, CUDA
and CPU-feature notes); ``TF_CPP_MIN_LOG_LEVEL`` does not reach them. When
the package runs as ``python -m augment_layers`` or ``augment-layers``, the
imports run with descriptor 2 captured, and every captured line that is not
one of those notes is written back. Imported as a library, nothing changes.
"""

import contextlib
import os
import re
import sys
import tempfile

_NOTES = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IWE]\d{4} [\d:. ]+\d+ \S+\.cc:\d+\]"
    r"|To enable the following instructions:)")


def _is_command_line():
    argv0 = sys.argv[0] if sys.argv else ""
    return argv0 == "-m" and "augment_layers" in " ".join(
        getattr(sys, "orig_argv", [])) or os.path.basename(argv0) == \
        "augment-layers"


@contextlib.contextmanager
def quiet_native_startup():
    if not _is_command_line():
        yield
        return
    # The lines TensorFlow logs once running obey this, if set before it
    # loads.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", "replace")
            kept = [line for line in text.splitlines(keepends=True)
                    if not _NOTES.match(line)]
            if kept:
                sys.stderr.write("".join(kept))
