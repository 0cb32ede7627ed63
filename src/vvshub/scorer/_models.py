"""Turning what the user typed (``timm/NAME``, a zoo id, a hub id, a module) into a model.

Never a silent fallback: pretrained weights that cannot be fetched are an error, not
random weights; a missing hub is an error that says so.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vvshub.errors import UnknownArchitectureError, WeightsUnavailableError

if TYPE_CHECKING:
    from torch import nn

__all__ = ["ResolvedModel", "resolve_model"]


@dataclass(frozen=True, eq=False)
class ResolvedModel:
    """A model ready to score, and what the catalog should know about it.

    Attributes:
        module: the torch module.
        model_id: catalog id of the scored weights.
        arch: architecture (timm name or zoo architecture).
        arch_family: the zoo family, where known.
        weights: ``random``, ``pretrained`` or the hub id the weights came from.
        is_pretrained: weights from timm's pretrained set.
        is_random: randomly initialised weights.
        hub_repo: hub repository, when pulled from the hub.
        label: what the user typed.
    """

    module: Any
    model_id: str
    arch: str
    arch_family: str | None
    weights: str
    is_pretrained: bool
    is_random: bool
    hub_repo: str | None = None
    label: str = ""


def _pull(model_id: str, revision: str | None) -> nn.Module:
    try:
        hub = importlib.import_module("vvshub.hub")
        pull = hub.pull
    except (ModuleNotFoundError, AttributeError):
        raise WeightsUnavailableError(
            f"cannot pull {model_id!r}: the hub (vvshub.pull) is not available in this "
            "vvshub build; score a timm model (`timm/NAME --weights random`) or pass a module "
            "to vvshub.score()"
        ) from None
    return pull(model_id, revision=revision)


def _family(arch: str) -> str | None:
    try:
        from vvshub.zoo import recipe

        return recipe(arch).family
    except Exception:  # not a zoo architecture: no family
        return None


def resolve_model(
    model_or_id: Any,
    *,
    weights: str = "pretrained",
    revision: str | None = None,
    seed: int = 0,
    model_id: str | None = None,
) -> ResolvedModel:
    """Build or load the model to score.

    Args:
        model_or_id: an ``nn.Module``; ``timm/NAME`` (a timm architecture); a zoo
            architecture or model id (``resnet18_w0.5_d30``); or a hub id.
        weights: ``random`` (seeded initialisation), ``pretrained`` (timm's pretrained
            weights for ``timm/NAME``, the hub checkpoint for a zoo id), or a hub id to
            load into the architecture.
        revision: hub revision (``ep10``), for hub weights.
        seed: torch seed of a random initialisation.
        model_id: catalog id to use instead of the derived one.

    Raises:
        WeightsUnavailableError: pretrained weights that cannot be downloaded here, or a hub
            that is not available.
        UnknownArchitectureError: a name that is neither timm's nor the zoo's.
    """
    import torch

    if isinstance(model_or_id, torch.nn.Module):
        module = model_or_id
        arch = str(getattr(module, "vvshub_arch", type(module).__name__))
        mid = model_id or getattr(module, "vvshub_model_id", None) or arch
        return ResolvedModel(
            module=module,
            model_id=str(mid),
            arch=arch,
            arch_family=_family(arch),
            weights="given",
            is_pretrained=False,
            is_random=False,
            label=str(mid),
        )
    if not isinstance(model_or_id, str) or not model_or_id.strip():
        raise UnknownArchitectureError(f"expected a model name or module, got {model_or_id!r}")
    text = model_or_id.strip()
    if weights not in ("random", "pretrained"):  # a hub id to load
        return _from_hub(weights, revision, model_id=model_id, label=text)
    if text.startswith("timm/"):
        import timm

        name = text.removeprefix("timm/")
        if not timm.is_model(name.split(".")[0]):
            from difflib import get_close_matches

            close = get_close_matches(name, timm.list_models(), n=5)
            raise UnknownArchitectureError(
                f"{name!r} is not a timm architecture; closest: {', '.join(close) or 'none'}",
                arch=name,
                suggestions=close,
            )
        if weights == "random":
            torch.manual_seed(seed)
            module = timm.create_model(name, pretrained=False)
            arch = name.split(".")[0]
            return ResolvedModel(
                module=module,
                model_id=model_id or f"{arch}_timm_random_seed-{seed}",
                arch=arch,
                arch_family=_family(arch),
                weights="random",
                is_pretrained=False,
                is_random=True,
                label=text,
            )
        try:
            module = timm.create_model(name, pretrained=True)
        except Exception as exc:
            raise WeightsUnavailableError(
                f"pretrained weights for {text!r} cannot be downloaded here "
                f"({type(exc).__name__}: {str(exc).splitlines()[0][:160]}); use --weights random, "
                "or pre-fill the Hugging Face cache and set HF_HUB_OFFLINE=1"
            ) from None
        cfg = getattr(module, "pretrained_cfg", {}) or {}
        tag = cfg.get("tag")
        arch = name.split(".")[0]
        return ResolvedModel(
            module=module,
            model_id=model_id or (f"{arch}.{tag}" if tag else arch),
            arch=arch,
            arch_family=_family(arch),
            weights="pretrained",
            is_pretrained=True,
            is_random=False,
            label=text,
        )
    # A zoo architecture or model id.
    from vvshub.zoo import build, recipe

    if weights == "random":
        r = recipe(text)
        torch.manual_seed(seed)
        module = build(text)
        return ResolvedModel(
            module=module,
            model_id=model_id or f"{r.arch}_random_seed-{seed}",
            arch=r.arch,
            arch_family=r.family,
            weights="random",
            is_pretrained=False,
            is_random=True,
            label=text,
        )
    return _from_hub(text, revision, model_id=model_id, label=text)


def _from_hub(
    hub_id: str, revision: str | None, *, model_id: str | None, label: str
) -> ResolvedModel:
    """A model pulled from the hub, keyed as its repo's config names it in the catalog."""
    module = _pull(hub_id, revision)
    # the trainer and the hub key the catalog by the config's model id, so the scores join the
    # model's row whatever spelling was typed
    meta = (getattr(module, "vvshub_config", None) or {}).get("vvshub") or {}
    arch = str(meta.get("arch") or getattr(module, "vvshub_arch", hub_id))
    key = str(meta.get("model_id") or hub_id)
    return ResolvedModel(
        module=module,
        model_id=model_id or key + (f"@{revision}" if revision else ""),
        arch=arch,
        arch_family=_family(arch),
        weights=hub_id,
        is_pretrained=False,
        is_random=False,
        hub_repo=None,  # the hub recorded its repo when it published the model
        label=label,
    )
