"""Command line: ``python -m augment_layers demo``."""

import sys


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["demo"]:
        print("augment_layers demo: coming soon.")
        return 0
    print("usage: python -m augment_layers demo", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
