"""``python -m augment_layers demo`` and ``python -m augment_layers preview``."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv=None):
    from augment_layers.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
