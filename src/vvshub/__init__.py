"""vvshub: the hub for controlled model zoos of the primate ventral visual stream.

The top level is kept light (``vvshub --help`` must be instant): subpackages
that pull in torch or duckdb load on first use.

Example:
    >>> import vvshub
    >>> vvshub.ids.parse("resnet18_w0.5_d30").samples_per_class
    30
"""

from __future__ import annotations

import importlib
from typing import Any

from vvshub import errors, ids
from vvshub.zoo._hook import install_timm_hook as _install_timm_hook

# timm.create_model("cornet_s") (and the other zoo-only architectures) must work after
# `import vvshub`; the hook registers them when timm is imported, so nothing heavy loads here.
_install_timm_hook()

__version__ = "0.1.0"

_SUBPACKAGES = ("catalog", "hub", "laws", "model_cards", "scorer", "zoo")
#: Verbs re-exported from subpackages, loaded on first use: name -> module.
_LAZY = {"push": "vvshub.hub", "pull": "vvshub.hub", "score": "vvshub.scorer"}

__all__ = [
    "__version__",
    "catalog",
    "errors",
    "hub",
    "ids",
    "laws",
    "model_cards",
    "pull",
    "push",
    "score",
    "scorer",
    "zoo",
]


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"vvshub.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vvshub' has no attribute {name!r}")
