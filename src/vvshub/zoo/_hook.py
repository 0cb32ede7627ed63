"""Register the zoo's own architectures in timm when, and only when, timm is imported.

``import vvshub`` must stay fast (``vvshub --help`` under a second) yet
``timm.create_model("cornet_s")`` must work afterwards. :func:`install_timm_hook`
does both: if timm is already imported it registers at once; otherwise it leaves a
one-shot import hook that registers right after timm's own import finishes. No
torch or timm import happens here.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import logging
import sys
import threading
from types import ModuleType
from typing import Any

__all__ = ["install_timm_hook", "register_timm_models"]

_lock = threading.Lock()


def register_timm_models() -> None:
    """Register ``alexnet``, ``cornet_s`` and ``resnet_flex`` in timm (idempotent)."""
    importlib.import_module("vvshub.zoo._timm_models")


class _RegisteringLoader(importlib.abc.Loader):
    """Runs timm's own loader, then registers the zoo's architectures."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        try:
            register_timm_models()
        except Exception as exc:  # never break `import timm` for the user
            logging.getLogger(__name__).warning(
                "could not register the zoo's architectures in timm: %s", exc
            )

    def __getattr__(self, name: str) -> Any:  # resource readers and the like
        return getattr(self._loader, name)


class _TimmFinder(importlib.abc.MetaPathFinder):
    """Finds ``timm`` through the other finders and wraps its loader; removes itself once used."""

    def find_spec(
        self, fullname: str, path: Any, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "timm":
            return None
        with _lock:
            if self in sys.meta_path:
                sys.meta_path.remove(self)
        spec = importlib.util.find_spec("timm")
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _RegisteringLoader(spec.loader)
        return spec


def install_timm_hook() -> None:
    """Make timm know the zoo's own architectures as soon as timm is imported.

    Example:
        >>> install_timm_hook()
        >>> import timm
        >>> timm.is_model("cornet_s")
        True
    """
    with _lock:
        timm = sys.modules.get("timm")
        if timm is not None and getattr(timm, "create_model", None) is not None:
            pass  # already imported: register below, outside the lock
        elif any(isinstance(f, _TimmFinder) for f in sys.meta_path):
            return
        else:
            sys.meta_path.insert(0, _TimmFinder())
            return
    register_timm_models()
