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

_SUBPACKAGES = ("catalog", "laws", "scorer", "zoo")

__all__ = ["__version__", "catalog", "errors", "ids", "laws", "score", "scorer", "zoo"]


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"vvshub.{name}")
    if name == "score":  # vvshub.score(model, ...): the scorer's verb
        return importlib.import_module("vvshub.scorer").score
    raise AttributeError(f"module 'vvshub' has no attribute {name!r}")
