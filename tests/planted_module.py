"""Imported by nothing: a config that names it must never import it."""

import builtins

builtins.AUGMENT_LAYERS_PLANTED_MODULE_IMPORTED = True
