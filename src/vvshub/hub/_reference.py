"""The study's zoo: convert its Composer checkpoints and publish them in bulk.

The study saved full Composer training states (``state.model`` with a ``module.``
prefix; ConvNeXt and DeiT also ``state.model_ema_state_dict``, the weights it
evaluated). They are read with ``torch.load(weights_only=True)`` only: a file
that needs arbitrary unpickling is refused. Weights are renamed into the zoo's
timm layout (``zoo.from_study_state_dict``) and checked: where torchvision
builds the study's own module, the logits of source and converted model must
agree on a fixed batch.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import urllib.request
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from vvshub import ids
from vvshub.constants import vvshub_home
from vvshub.errors import CheckpointError, HubError, UnsafeCheckpointError, VvsHubError
from vvshub.hub._http import retry

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "STUDY_CHECKPOINT_BASE",
    "ConvertResult",
    "PublishSummary",
    "convert_reference",
    "publish_on_demand",
    "publish_reference",
]

logger = logging.getLogger(__name__)

#: Where the study's checkpoints live (the ``url`` column of the catalog's ``checkpoints``).
STUDY_CHECKPOINT_BASE = "https://epfl-neuroailab-scalinglaws.s3.eu-north-1.amazonaws.com"
#: Set to a base URL that serves the same paths (a mirror, or a test server).
MIRROR_ENV = "VVSHUB_CHECKPOINT_MIRROR"
#: Families whose evaluated weights are the EMA ones.
_EMA_BASES = ("convnext", "deit")
_EPOCH_RE = re.compile(r"ep(\d+)\.pt$")
#: ConvNeXt stage depths and widths of the base models (torchvision's).
_CONVNEXT = {
    "convnext_tiny": ([3, 3, 9, 3], [96, 192, 384, 768]),
    "convnext_small": ([3, 3, 27, 3], [96, 192, 384, 768]),
    "convnext_base": ([3, 3, 27, 3], [128, 256, 512, 1024]),
    "convnext_large": ([3, 3, 27, 3], [192, 384, 768, 1536]),
}


@dataclass(frozen=True)
class ConvertResult:
    """One converted checkpoint.

    Attributes:
        model_id: the study id.
        arch: the zoo architecture.
        num_classes: classifier outputs.
        weights_key: where the weights came from (``state.model`` or
            ``state.model_ema_state_dict``).
        logits_checked: whether an independent source model was compared.
        max_abs_diff: largest logit difference (``None`` when not checked).
    """

    model_id: str
    arch: str
    num_classes: int
    weights_key: str
    logits_checked: bool
    max_abs_diff: float | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def load_study_checkpoint(path: Path) -> dict[str, Any]:
    """``torch.load(path, weights_only=True)``; a file needing arbitrary unpickling is refused.

    Raises:
        UnsafeCheckpointError: the file holds objects other than tensors and plain containers.
        CheckpointError: the file is not a torch checkpoint at all.
    """
    import pickle

    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise UnsafeCheckpointError(
            f"{path} needs arbitrary unpickling to load ({first[:160]}); vvshub reads "
            "checkpoints with torch.load(weights_only=True) only, because unpickling runs code "
            "from the file. Re-save its state dict as tensors, or as safetensors"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable torch checkpoint: {exc}") from None
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{path} holds a {type(obj).__name__}, not a Composer checkpoint")
    return dict(obj)


def _strip(state: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in state.items():
        while key.startswith("module."):
            key = key[len("module.") :]
        out[key] = value
    return out


def _weights(ckpt: Mapping[str, Any], arch_base: str, path: Path) -> tuple[dict[str, Any], str]:
    state = ckpt.get("state")
    if not isinstance(state, Mapping) or "model" not in state:
        keys = ", ".join(sorted(map(str, ckpt))[:8])
        raise CheckpointError(
            f"{path} is not in the study's Composer layout (no state.model; top-level keys: {keys})"
        )
    if arch_base.startswith(_EMA_BASES):
        ema = state.get("model_ema_state_dict")
        if not isinstance(ema, Mapping) or not ema:
            raise CheckpointError(
                f"{path}: a {arch_base} checkpoint of the study must hold "
                "state.model_ema_state_dict (the weights it evaluated); it does not"
            )
        return _strip(ema), "state.model_ema_state_dict"
    return _strip(state["model"]), "state.model"


def _classifier_key(arch: str) -> str:
    from vvshub import zoo

    shell = zoo.build(arch, device="meta")
    name = (getattr(shell, "pretrained_cfg", None) or {}).get("classifier", "fc")
    return f"{name}.weight"


def _source_model(arch: str, num_classes: int) -> nn.Module | None:
    """The study's own module for ``arch`` (torchvision), where one exists."""
    import torchvision

    from vvshub import zoo

    r = zoo.recipe(arch)
    if r.arch in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152") or r.arch in (
        "efficientnet_b0",
        "efficientnet_b1",
        "efficientnet_b2",
    ):
        return getattr(torchvision.models, r.arch)(num_classes=num_classes)
    if r.base in _CONVNEXT:
        from torchvision.models.convnext import CNBlockConfig, ConvNeXt

        depths, dims = _CONVNEXT[r.base]
        depths = list(r.model_args.get("depths", depths))
        dims = list(r.model_args.get("dims", dims))
        setting = [
            CNBlockConfig(dims[i], dims[i + 1] if i + 1 < len(dims) else None, depths[i])
            for i in range(len(dims))
        ]
        return ConvNeXt(setting, num_classes=num_classes)
    return None


def convert_state(
    ckpt_path: Path, *, arch: str, check: bool = True
) -> tuple[nn.Module, ConvertResult]:
    """Read one study checkpoint and return the zoo model holding its weights, in eval mode."""
    import torch

    from vvshub import zoo

    recipe = zoo.recipe(arch)
    ckpt = load_study_checkpoint(ckpt_path)
    source_sd, key = _weights(ckpt, recipe.base, ckpt_path)
    try:
        renamed = zoo.from_study_state_dict(recipe.arch, source_sd)
    except ValueError as exc:
        raise CheckpointError(f"{ckpt_path}: {exc}") from None
    head = _classifier_key(recipe.arch)
    if head not in renamed:
        raise CheckpointError(f"{ckpt_path}: no classifier weight {head!r} for {recipe.arch}")
    num_classes = int(renamed[head].shape[0])
    model = zoo.build(recipe.arch, num_classes=num_classes)
    try:
        model.load_state_dict(renamed, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise CheckpointError(
            f"{ckpt_path}: weights do not fit {recipe.arch} ({num_classes} classes): {first}"
        ) from None
    model.eval()
    checked, diff = False, None
    if check:
        source = _source_model(recipe.arch, num_classes)
        if source is not None:
            source.load_state_dict(source_sd, strict=True)
            source.eval()
            batch = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
            with torch.no_grad():
                a, b = source(batch), model(batch)
            diff = float((a - b).abs().max())
            if not torch.allclose(a, b, rtol=1e-4, atol=1e-5):
                raise CheckpointError(
                    f"{ckpt_path}: converted {recipe.arch} disagrees with the study's module "
                    f"(max logit difference {diff:.3g}); not published"
                )
            checked = True
    result = ConvertResult(
        model_id="",
        arch=recipe.arch,
        num_classes=num_classes,
        weights_key=key,
        logits_checked=checked,
        max_abs_diff=diff,
    )
    return model, result


def _catalog_metadata(model_id: str, catalog: str | Path | None) -> dict[str, Any]:
    """What the catalog knows of a study model, as push metadata."""
    from vvshub.catalog import model_detail
    from vvshub.errors import ModelNotFoundError
    from vvshub.hub._catalog import _open

    try:
        cat = _open(catalog)
    except VvsHubError:
        return {}
    if cat is None:
        return {}
    with cat:
        try:
            row = model_detail(cat, model_id).get("model") or {}
        except ModelNotFoundError:
            return {}
    meta = {}
    for key in ("n_samples", "n_epochs", "n_samples_seen", "total_flops", "acc", "arch_family"):
        value = row.get(key)
        if value is not None and value == value:
            meta[key] = int(value) if key in ("n_samples", "n_epochs", "n_samples_seen") else value
    if "acc" in meta:
        meta["acc"] = float(meta["acc"])
    if "total_flops" in meta:
        meta["total_flops"] = float(meta["total_flops"])
    return meta


def convert_reference(
    ckpt_path: str | Path,
    *,
    model_id: str,
    arch: str | None = None,
    epoch: int | None = None,
    benchmarked: bool = True,
    out: str | Path | None = None,
    to: str | None = None,
    catalog: str | Path | None = None,
    record: bool = True,
) -> dict[str, Any]:
    """Turn one Composer checkpoint of the study into a vvshub repo.

    Args:
        ckpt_path: the ``.pt`` file.
        model_id: the model's id (any spelling).
        arch: its architecture (default: from the id).
        epoch: the epoch (default: from a file name ``epN.pt``).
        benchmarked: make it ``main`` of the repo.
        out: write the repo folder here instead of publishing it.
        to: ``local`` (default) or ``hf://ORG``.
        catalog: catalog for metadata and scores (and to record the revision in).
        record: record the revision in the catalog.

    Returns:
        The :class:`ConvertResult` fields plus ``push`` (a ``PushResult`` dict) or ``out``.

    Raises:
        UnsafeCheckpointError: the file needs arbitrary unpickling.
        CheckpointError: not the study's layout, or the converted logits disagree.

    Example:
        >>> convert_reference("ep100.pt", model_id="resnet18_imagenet_1_seed-0")  # doctest: +SKIP
    """
    from vvshub.hub._api import push
    from vvshub.hub._format import (
        CONFIG_FILE,
        WEIGHTS_FILE,
        build_config,
        config_bytes,
        save_weights,
    )

    path = Path(ckpt_path)
    mid = ids.parse(model_id)
    arch = arch or mid.arch
    if epoch is None:
        m = _EPOCH_RE.search(path.name)
        epoch = int(m[1]) if m else None
    model, result = convert_state(path, arch=arch)
    result = ConvertResult(**{**result.to_dict(), "model_id": mid.study_id()})
    meta = _catalog_metadata(model_id, catalog)
    meta["arch"] = result.arch
    out_dict = result.to_dict() | {"epoch": epoch}
    if out is not None:
        import vvshub

        dest = Path(out)
        dest.mkdir(parents=True, exist_ok=True)
        config = build_config(model, mid, epoch=epoch, metadata=meta, version=vvshub.__version__)
        save_weights(model, dest / WEIGHTS_FILE)
        (dest / CONFIG_FILE).write_bytes(config_bytes(config))
        return out_dict | {"out": str(dest)}
    pushed = push(
        model,
        model_id,
        epoch=epoch,
        benchmarked=benchmarked,
        metadata=meta,
        to=to,
        catalog=catalog,
        record=False,
    )
    if record:
        _record(pushed, model_id, epoch, benchmarked, catalog, arch=result.arch)
    return out_dict | {"push": pushed.to_dict()}


def _record(pushed: Any, model_id: str, epoch: int | None, benchmarked: bool, catalog, *, arch):
    from vvshub.hub._catalog import record_publish

    config = {"vvshub": {"model_id": ids.parse(model_id).study_id(), "arch": arch}}
    return record_publish(
        config,
        repo_id=pushed.repo_id if pushed.destination == "local" else f"hf://{pushed.repo_id}",
        revision=pushed.revision,
        commit=pushed.commit,
        sha256=pushed.sha256,
        size=pushed.size_bytes,
        epoch=epoch,
        benchmarked=benchmarked,
        catalog=catalog,
        source="reference",
        model_row=False,
    )


# -- bulk publishing ----------------------------------------------------------------------------
_ROWS = """
SELECT c.model_id, c.epoch, c.url, c.arch, c.is_benchmarked
FROM checkpoints c LEFT JOIN models m USING (model_id)
WHERE (c.is_benchmarked OR $all_epochs)
  AND c.arch IS NOT NULL
"""


@dataclass
class PublishSummary:
    """Outcome of one ``publish-reference`` run.

    Attributes:
        done: (model_id, epoch) published now.
        skipped: already published (nothing to do).
        failed: (model_id, epoch, error) that failed; a re-run retries them.
    """

    done: list[tuple[str, int]] = field(default_factory=list)
    skipped: list[tuple[str, int]] = field(default_factory=list)
    failed: list[tuple[str, int, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "done": len(self.done),
            "skipped": len(self.skipped),
            "failed": len(self.failed),
            "failures": [{"model_id": m, "epoch": e, "error": err} for m, e, err in self.failed],
        }


def mirror_url(url: str, mirror: str | None) -> str:
    """The study's ``url`` rewritten to ``mirror`` (or ``$VVSHUB_CHECKPOINT_MIRROR``)."""
    base = mirror or os.environ.get(MIRROR_ENV)
    if base and url.startswith(STUDY_CHECKPOINT_BASE):
        return base.rstrip("/") + url[len(STUDY_CHECKPOINT_BASE) :]
    return url


def _download(url: str, dest: Path, *, what: str, attempts: int = 5) -> None:
    """Stream ``url`` to ``dest`` atomically, retrying 429/5xx with backoff."""

    def fetch() -> None:
        tmp = dest.with_name(dest.name + f".{uuid.uuid4().hex}.part")
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 22)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    retry(fetch, what=what, url=url, attempts=attempts)


def _is_published(model_id: str, epoch: int, benchmarked: bool, to: str | None) -> bool:
    from vvshub.hub._local import LocalHub
    from vvshub.hub._naming import repo_for

    if to not in (None, "", "local"):
        return _state(to).get(f"{model_id}@{epoch}") is not None
    ref, _ = repo_for(model_id)
    hub = LocalHub()
    tagged = hub.resolve(ref, f"ep{epoch}")
    if tagged is None:
        return False
    return not benchmarked or hub.resolve(ref, "main") == tagged


def _state_file(to: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", to)
    return vvshub_home() / "hub" / ".publish-state" / f"{safe}.json"


def _state(to: str) -> dict[str, str]:
    import json

    path = _state_file(to)
    return json.loads(path.read_text()) if path.is_file() else {}


def _mark_done(to: str, model_id: str, epoch: int, sha256: str) -> None:
    import json

    path = _state_file(to)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = _state(to) | {f"{model_id}@{epoch}": sha256}
    tmp = path.with_name(path.name + f".{uuid.uuid4().hex}.part")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    os.replace(tmp, path)


def _publish_one(
    row: dict[str, Any],
    *,
    to: str | None,
    mirror: str | None,
    catalog: str | Path | None,
    attempts: int = 5,
) -> dict[str, Any]:
    url = mirror_url(row["url"], mirror)
    tmp_root = vvshub_home() / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=tmp_root))
    try:
        ckpt = folder / f"ep{row['epoch']}.pt"
        _download(url, ckpt, what=f"download {row['model_id']} ep{row['epoch']}", attempts=attempts)
        return convert_reference(
            ckpt,
            model_id=row["model_id"],
            arch=row["arch"],
            epoch=int(row["epoch"]),
            benchmarked=bool(row["is_benchmarked"]),
            to=to,
            catalog=catalog,
            record=False,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def publish_reference(
    *,
    to: str | None = None,
    where: str | None = None,
    epochs: Literal["benchmarked", "all"] = "benchmarked",
    workers: int = 2,
    mirror: str | None = None,
    catalog: str | Path | None = None,
    limit: int | None = None,
    attempts: int = 5,
) -> PublishSummary:
    """Download, convert, card and publish the study's checkpoints listed in the catalog.

    Resumable: what is already published is skipped, what failed is retried on the next
    run. Each published revision is recorded in the catalog (repo, revision, sha256).

    Args:
        to: ``local`` (default) or ``hf://ORG``.
        where: SQL condition over ``checkpoints`` (alias ``c``) and ``models`` (alias
            ``m``), run on a read-only connection, e.g. ``"m.arch_family = 'ResNet'"``.
        epochs: ``benchmarked`` (one checkpoint per model, which becomes ``main``) or ``all``.
        workers: parallel downloads/conversions.
        mirror: base URL serving the study's paths instead of its bucket.
        catalog: the catalog (default ``$VVSHUB_HOME/catalog.duckdb``).
        limit: publish at most this many checkpoints.
        attempts: tries per download (429/5xx and dropped connections back off and retry).

    Returns:
        A :class:`PublishSummary`.

    Example:
        >>> publish_reference(where="c.model_id LIKE 'resnet18_imagenet_%'")  # doctest: +SKIP
    """
    from vvshub.catalog import open_catalog
    from vvshub.constants import catalog_path

    if epochs not in ("benchmarked", "all"):
        raise HubError(f"epochs must be 'benchmarked' or 'all', got {epochs!r}")
    if not isinstance(workers, int) or workers < 1:
        raise HubError(f"workers must be a positive integer, got {workers!r}")
    location = catalog if catalog is not None else catalog_path()
    sql = _ROWS + (f"  AND ({where})\n" if where else "") + "ORDER BY c.model_id, c.epoch"
    with open_catalog(location, read_only=True) as cat:
        rows = cat.query(sql, {"all_epochs": epochs == "all"}).to_dict(orient="records")
    if limit is not None:
        rows = rows[:limit]
    summary = PublishSummary()
    todo = []
    for row in rows:
        key = (row["model_id"], int(row["epoch"]))
        if _is_published(*key, bool(row["is_benchmarked"]), to):
            summary.skipped.append(key)
        else:
            todo.append(row)
    logger.info("%d to publish, %d already published", len(todo), len(summary.skipped))
    from vvshub._progress import track

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            pool.submit(
                _publish_one, row, to=to, mirror=mirror, catalog=location, attempts=attempts
            ): row
            for row in todo
        }
        for future in track(as_completed(futures), description="publish", total=len(futures)):
            row = futures[future]
            key = (row["model_id"], int(row["epoch"]))
            try:
                result = future.result()
            except (VvsHubError, OSError) as exc:
                message = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                summary.failed.append((*key, message))
                logger.warning("%s ep%d failed: %s", *key, message)
                continue
            pushed = result["push"]
            # one writer: records go to the catalog from this thread, in completion order
            _record_row(pushed, row, location)
            if to not in (None, "", "local"):
                _mark_done(to, key[0], key[1], pushed["sha256"])
            summary.done.append(key)
    return summary


def _record_row(pushed: dict[str, Any], row: dict[str, Any], catalog: str | Path) -> None:
    from types import SimpleNamespace

    try:
        _record(
            SimpleNamespace(**pushed),
            row["model_id"],
            int(row["epoch"]),
            bool(row["is_benchmarked"]),
            catalog,
            arch=row["arch"],
        )
    except VvsHubError as exc:  # the revision is published; the catalog can catch up later
        logger.warning(
            "could not record %s ep%s in the catalog: %s", row["model_id"], row["epoch"], exc
        )


def publish_on_demand(model_id: str, *, catalog: str | Path | None = None) -> bool:
    """Publish one study model's benchmarked checkpoint into the local hub (for ``pull``).

    Returns:
        ``False`` when the catalog lists no checkpoint for it.
    """
    from vvshub.hub._catalog import reference_checkpoints

    try:
        rows = [r for r in reference_checkpoints(model_id, catalog=catalog) if r["is_benchmarked"]]
    except VvsHubError:
        return False
    if not rows or not rows[-1].get("url") or not rows[-1].get("arch"):
        return False
    row = rows[-1]
    logger.info("converting the study's checkpoint of %s (%s)", model_id, row["url"])
    result = _publish_one(row, to=None, mirror=None, catalog=catalog)
    from vvshub.constants import catalog_path

    _record_row(result["push"], row, catalog if catalog is not None else catalog_path())
    return True
