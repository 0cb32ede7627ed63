"""Public verbs of the hub: push, pull, download, list, info, refresh cards."""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvshub import ids
from vvshub.constants import vvshub_home
from vvshub.errors import CheckpointError, HubError, IntegrityError, NotPublishedError
from vvshub.hub._cache import Cache
from vvshub.hub._format import (
    CARD_FILE,
    CONFIG_FILE,
    WEIGHTS_FILE,
    build_config,
    config_bytes,
    save_weights,
)
from vvshub.hub._git import sha256_file
from vvshub.hub._load import PullInfo, build_model, read_config
from vvshub.hub._local import LocalHub, Resolved
from vvshub.hub._naming import RepoRef, repo_for

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "PushResult",
    "RepoInfo",
    "download",
    "list_repos",
    "pull",
    "push",
    "refresh_cards",
    "repo_info",
]

logger = logging.getLogger(__name__)

MANIFEST_NAME = "data_manifest"


@dataclass(frozen=True)
class PushResult:
    """What one push published.

    Attributes:
        repo_id: ``ORG/NAME``.
        revision: the tag (``ep10``) or ``main``.
        commit: the commit id.
        sha256: sha256 of ``model.safetensors``.
        size_bytes: its size.
        destination: ``local`` or ``hf://ORG``.
        location: the repo's folder (local) or URL (remote).
        main: whether ``main`` now points at this revision.
        noop: the identical revision was already published (nothing changed).
        recorded: whether the catalog recorded it.
    """

    repo_id: str
    revision: str
    commit: str
    sha256: str
    size_bytes: int
    destination: str
    location: str
    main: bool
    noop: bool
    recorded: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RepoInfo:
    """One repo of a hub: its revisions and the ``vvshub`` block of ``main`` (or newest tag)."""

    repo_id: str
    revisions: dict[str, str]
    commit: str | None
    sha256: str | None
    size_bytes: int | None
    config: dict[str, Any]
    location: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _tmpdir() -> Path:
    root = vvshub_home() / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=root))


def _manifest_bytes(manifest: bytes | str | Path | Sequence[str]) -> tuple[bytes, str]:
    """Manifest content and its file suffix."""
    if isinstance(manifest, bytes):
        return manifest, ".txt"
    if isinstance(manifest, (str, Path)):
        path = Path(manifest)
        if not path.is_file():
            raise CheckpointError(f"manifest {str(manifest)!r} is not a file")
        return path.read_bytes(), (path.suffix if path.suffix in (".json", ".csv") else ".txt")
    return ("\n".join(sorted(str(x) for x in manifest)) + "\n").encode(), ".txt"


def _needs_vvshub(architecture: str) -> bool:
    import timm.models

    try:
        return timm.models.model_entrypoint(architecture).__module__.startswith("vvshub.")
    except Exception:
        return False


def _revision_note(epoch: int | None, main: bool) -> str | None:
    if epoch is None:
        return None
    where = "revision `main` and tag" if main else "tag"
    return f"These weights are from epoch {epoch} (the {where} `ep{epoch}`)."


def _write_card(
    folder: Path,
    config: dict[str, Any],
    ref: RepoRef,
    *,
    epoch: int | None,
    main: bool,
    catalog: str | Path | None,
) -> None:
    from vvshub.hub._catalog import card_scores
    from vvshub.model_cards import render_card

    meta = config.get("vvshub") or {}
    scores = card_scores(meta.get("model_id") or ref.name, catalog=catalog)
    card = render_card(
        config,
        repo_id=ref.repo_id,
        scores=scores,
        needs_vvshub=_needs_vvshub(config["architecture"]),
        revision_note=_revision_note(epoch, main),
    )
    (folder / CARD_FILE).write_text(str(card))


def _vvshub_version() -> str:
    import vvshub

    return vvshub.__version__


def push(
    model: nn.Module | str | Path,
    model_id: str,
    *,
    epoch: int | None = None,
    benchmarked: bool = True,
    metadata: Mapping[str, Any] | None = None,
    manifest: bytes | str | Path | Sequence[str] | None = None,
    to: str | None = None,
    message: str | None = None,
    catalog: str | Path | None = None,
    record: bool = True,
) -> PushResult:
    """Publish a model as ``ORG/MODEL_ID``: safetensors weights, timm config, card, manifest.

    Args:
        model: a timm or zoo ``nn.Module``, or a folder holding ``model.safetensors`` and
            ``config.json`` (what ``vvshub pull --to`` and ``convert-reference`` write).
        model_id: the model's id in any spelling; the repo takes its short spelling.
        epoch: the epoch of these weights; the revision is tagged ``ep{epoch}``.
        benchmarked: move ``main`` to this revision (the benchmarked epoch). With ``False``
            only the tag is published.
        metadata: scaling metadata the id does not say (``n_epochs``, ``acc``,
            ``training_config`` …); unknown fields stay ``null`` and the card says so.
        manifest: the data-subset manifest (file, bytes or list of image ids), published
            beside the weights; its sha256 goes into ``config.json``.
        to: ``None``/``"local"`` for the local hub, or ``"hf://ORG"`` for a Hugging Face hub
            (``HF_ENDPOINT``, ``HF_TOKEN``).
        message: the commit message.
        catalog: catalog to record the revision in (default ``$VVSHUB_HOME/catalog.duckdb``).
        record: record it in the catalog at all.

    Returns:
        A :class:`PushResult`.

    Raises:
        ModelIdError: ``model_id`` parses in no grammar.
        RepoIdError: the repo id breaks the naming rules.
        CheckpointError: the model cannot be described for timm.

    Example:
        >>> import timm, vvshub
        >>> m = timm.create_model("resnet18", num_classes=10)
        >>> vvshub.push(m, "resnet18_d10_cifar10").repo_id  # doctest: +SKIP
        'vvshub/resnet18_d10_cifar10'
    """
    org, remote = _destination(to)
    ref, mid = repo_for(model_id, org=org)
    if epoch is not None and (not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0):
        raise CheckpointError(f"epoch must be a non-negative integer, got {epoch!r}")
    meta = dict(metadata or {})
    folder = _tmpdir()
    try:
        if manifest is not None:
            data, suffix = _manifest_bytes(manifest)
            digest = hashlib.sha256(data).hexdigest()
            if meta.get("manifest_sha256") not in (None, digest):
                raise CheckpointError(
                    f"manifest sha256 {digest} differs from metadata's {meta['manifest_sha256']}"
                )
            meta["manifest_sha256"] = digest
            (folder / f"{MANIFEST_NAME}{suffix}").write_bytes(data)
        if isinstance(model, (str, Path)):
            config = _stage_folder(Path(model), folder, mid, epoch=epoch)
        else:
            config = build_config(model, mid, epoch=epoch, metadata=meta, version=_vvshub_version())
            save_weights(model, folder / WEIGHTS_FILE)
            (folder / CONFIG_FILE).write_bytes(config_bytes(config))
        _write_card(folder, config, ref, epoch=epoch, main=benchmarked, catalog=catalog)
        tag = f"ep{epoch}" if epoch is not None else None
        text = message or f"Publish {ref.name}" + (
            f" at epoch {epoch}" if epoch is not None else ""
        )
        if remote:
            from vvshub.hub._remote import push_folder

            family = (config.get("vvshub") or {}).get("arch_family")
            result = push_folder(
                ref, folder, message=text, tag=tag, set_main=benchmarked, family=family
            )
        else:
            hub = LocalHub()
            published = hub.publish(ref, folder, message=text, tag=tag, set_main=benchmarked)
            result = PushResult(
                repo_id=ref.repo_id,
                revision=tag or "main",
                commit=published.commit,
                sha256=published.sha256,
                size_bytes=published.size,
                destination="local",
                location=str(hub.repo(ref).path),
                main=benchmarked,
                noop=published.noop,
            )
        if record:
            from vvshub.hub._catalog import record_publish

            recorded = record_publish(
                config,
                repo_id=ref.repo_id if not remote else f"hf://{ref.repo_id}",
                revision=result.revision,
                commit=result.commit,
                sha256=result.sha256,
                size=result.size_bytes,
                epoch=epoch,
                benchmarked=benchmarked,
                catalog=catalog,
                source="vvshub",
            )
            result = PushResult(**{**result.to_dict(), "recorded": recorded})
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _destination(where: str | None) -> tuple[str | None, bool]:
    """(org override, is remote) for ``None`` / ``local`` / ``hf://ORG``."""
    if where in (None, "", "local"):
        return None, False
    if isinstance(where, str) and where.startswith("hf://"):
        org = where[len("hf://") :].strip("/")
        if not org or "/" in org:
            raise HubError(f"invalid hub {where!r}: expected hf://ORG, e.g. hf://vvshub")
        RepoRef(org, "x")  # validates the organisation
        return org, True
    raise HubError(f"unknown hub {where!r}: expected 'local' or 'hf://ORG'")


def _stage_folder(
    source: Path, folder: Path, mid: ids.ModelId, *, epoch: int | None
) -> dict[str, Any]:
    """Copy a repo folder (weights + config) for publishing under ``mid``.

    The id it is published under is authoritative: the ``vvshub`` block's id fields (and the
    epoch, when given) are rewritten to match it; the scaling metadata is kept.
    """
    if source.is_dir():
        weights, config_path = source / WEIGHTS_FILE, source / CONFIG_FILE
        if not weights.is_file() or not config_path.is_file():
            raise CheckpointError(
                f"{source} is not a repo folder: it needs {WEIGHTS_FILE} and {CONFIG_FILE} "
                "(write one with `vvshub pull ID --to DIR` or `vvshub hub convert-reference`)"
            )
        config = read_config(source)
        shutil.copyfile(weights, folder / WEIGHTS_FILE)
        block = config.setdefault("vvshub", {})
        same_data = (block.get("dataset"), block.get("samples_per_class")) == (
            mid.dataset,
            mid.samples_per_class,
        )
        if same_data:
            for extra in source.iterdir():
                if extra.name.startswith(MANIFEST_NAME) and extra.is_file():
                    shutil.copyfile(extra, folder / extra.name)
        else:  # another training set: what was measured on the old one is unknown for this id
            for key in ("n_samples", "n_samples_seen", "total_flops", "acc", "manifest_sha256"):
                block[key] = None
        block.update(
            model_id=mid.study_id(),
            short_id=mid.short_id(),
            dataset=mid.dataset,
            samples_per_class=mid.samples_per_class,
            seed=mid.seed,
        )
        block.setdefault("arch", mid.arch)
        if epoch is not None:
            block["epoch"] = epoch
        (folder / CONFIG_FILE).write_bytes(config_bytes(config))
        return config
    if source.suffix in (".pt", ".pth", ".ckpt", ".bin", ".pkl"):
        raise CheckpointError(
            f"{source} is a pickle-based checkpoint; vvshub never unpickles files it publishes. "
            "Convert a study checkpoint with `vvshub hub convert-reference`, or push a folder "
            "holding model.safetensors and config.json"
        )
    raise CheckpointError(
        f"{str(source)!r} is not a repo folder; push a folder holding {WEIGHTS_FILE} and "
        f"{CONFIG_FILE}, or a torch module from Python"
    )


# -- pull ---------------------------------------------------------------------------------------
def _train_command(mid: ids.ModelId) -> str | None:
    if mid.regime != "trained" or mid.ssl_method or mid.adv_method:
        return None
    spec = mid.arch_spec
    parts = ["vvshub train", spec.base]
    if spec.width is not None:
        parts.append(f"--width {spec.width:.3g}")
    if spec.depth is not None:
        parts.append("--depth " + "-".join(map(str, spec.depth)))
    if mid.samples_per_class:
        parts.append(f"--samples-per-class {mid.samples_per_class}")
    if mid.dataset and mid.dataset != "imagenet":
        parts.append(f"--dataset {mid.dataset}")
    if mid.seed:
        parts.append(f"--seed {mid.seed}")
    return " ".join(parts)


def _not_published(
    text: str, ref: RepoRef, mid: ids.ModelId, revision: str | None, where: str, hub: LocalHub
) -> NotPublishedError:
    from vvshub.hub._catalog import published_ids

    if revision and hub.resolve(ref, None) is not None:
        known = ", ".join(sorted(hub.revisions(ref)))
        return NotPublishedError(
            f"{ref.repo_id} has no revision {revision!r}; revisions: {known}",
            model_id=text,
            suggestions=[],
        )
    names = [r.name for r in hub.list() if r.org == ref.org]
    pool = list(dict.fromkeys(names + published_ids()))
    close = difflib.get_close_matches(ref.name, pool, n=5, cutoff=0.5)
    if not close:
        close = difflib.get_close_matches(text, pool, n=5, cutoff=0.5)
    train = _train_command(mid)
    parts = [f"{text!r} is not published in {where} (looked for {ref.repo_id})"]
    parts.append(
        f"closest published: {', '.join(close)}" if close else "nothing close is published"
    )
    if train:
        parts.append(f"to make it: {train}")
    return NotPublishedError(
        "; ".join(parts), model_id=text, suggestions=close, train_command=train
    )


def _fetch(
    model_id: str,
    revision: str | None,
    source: str | None,
    *,
    catalog: str | Path | None = None,
    refetch: bool = False,
) -> tuple[PullInfo, Path]:
    """Resolve and cache one revision; returns where its files are (not yet re-verified)."""
    org, remote = _destination(source)
    ref, mid = repo_for(model_id, org=org)
    cache = Cache()
    if remote:
        from vvshub.hub._remote import RemoteSource

        src: Any = RemoteSource(org or ref.org)
        where = src.key
    else:
        src = LocalHub()
        where = f"the local hub ({src.root})"
    resolved: Resolved | None = src.resolve(ref, revision)
    if resolved is None and not remote and source is None:
        from vvshub.hub._reference import publish_on_demand

        if publish_on_demand(model_id, catalog=catalog):
            resolved = src.resolve(ref, revision)
    if resolved is None:
        raise _not_published(model_id, ref, mid, revision, where, LocalHub())
    if refetch:
        cache.evict(ref, resolved.commit, resolved.sha256)
    folder = cache.lookup(ref, resolved.commit, resolved.sha256)
    if folder is None:
        folder = cache.fill(
            ref, resolved.commit, resolved.sha256, lambda d: src.export(ref, resolved, d)
        )
    info = PullInfo(
        repo_id=ref.repo_id,
        revision=revision or "main",
        commit=resolved.commit,
        sha256=resolved.sha256,
        source="local" if not remote else src.key,
        path=str(folder),
    )
    return info, folder


def pull(
    model_id: str,
    revision: str | None = None,
    *,
    source: str | None = None,
    device: str | torch.device | None = None,
    catalog: str | Path | None = None,
) -> nn.Module:
    """The published model ``model_id`` as a torch module in eval mode.

    The weights' sha256 is checked against the repo's record before anything is loaded; a
    damaged cache copy is fetched again, a damaged hub copy is refused. No pickle is read.

    Args:
        model_id: any spelling of the id (``resnet18_w0.5_d30``,
            ``resnet18_imagenet_30_seed-0``, ``vvshub/resnet18_d30``).
        revision: ``main`` (default: the benchmarked epoch), a tag ``ep10``, or a commit.
        source: ``None`` (local hub, then the study's checkpoint on demand), ``"local"``, or
            ``"hf://ORG"`` (a Hugging Face hub at ``HF_ENDPOINT``).
        device: where to put the model.
        catalog: catalog for on-demand conversion of study models.

    Returns:
        The model; ``model.vvshub_config`` is its ``config.json``, ``model.vvshub_card`` its
        card, ``model.hub_info`` a :class:`PullInfo`.

    Raises:
        NotPublishedError: no hub holds the model; names the closest published ids and the
            ``vvshub train`` command that would make it.
        IntegrityError: the stored weights fail their sha256 check.

    Example:
        >>> model = vvshub.pull("resnet18_d10_cifar10")  # doctest: +SKIP
        >>> model.hub_info.revision  # doctest: +SKIP
        'main'
    """
    info, folder = _fetch(model_id, revision, source, catalog=catalog)
    try:
        model = build_model(folder, info.sha256, device=device)
    except IntegrityError:
        logger.warning("cached copy of %s is damaged; fetching it again", info.repo_id)
        info, folder = _fetch(model_id, revision, source, catalog=catalog, refetch=True)
        model = build_model(folder, info.sha256, device=device)
    model.hub_info = info  # type: ignore[assignment]
    return model


def download(
    model_id: str,
    revision: str | None = None,
    *,
    to: str | Path,
    source: str | None = None,
    catalog: str | Path | None = None,
) -> PullInfo:
    """Save a verified revision's files (weights, config, card, manifest) into the folder ``to``.

    Example:
        >>> download("resnet18_d10_cifar10", to="out/")  # doctest: +SKIP
    """
    dest = Path(to)
    for attempt in range(2):
        info, folder = _fetch(model_id, revision, source, catalog=catalog, refetch=attempt > 0)
        digest, _ = sha256_file(folder / WEIGHTS_FILE)
        if digest == info.sha256:
            break
    else:
        raise IntegrityError(
            f"{info.repo_id}@{info.revision}: weights fail their sha256 check after a re-fetch",
            path=str(folder / WEIGHTS_FILE),
            expected=info.sha256,
            actual=digest,
        )
    dest.mkdir(parents=True, exist_ok=True)
    for f in folder.iterdir():
        if f.is_file() and not f.name.startswith("."):
            tmp = dest / f".{f.name}.part"
            shutil.copyfile(f, tmp)
            tmp.replace(dest / f.name)
    return PullInfo(**{**info.to_dict(), "path": str(dest)})


# -- listing ------------------------------------------------------------------------------------
def list_repos(*, org: str | None = None) -> list[RepoInfo]:
    """Every repo of the local hub, with its revisions and scaling metadata.

    Example:
        >>> [r.repo_id for r in list_repos()]  # doctest: +SKIP
        ['vvshub/resnet18_d10_cifar10']
    """
    hub = LocalHub()
    return [repo_info(r.repo_id) for r in hub.list() if org is None or r.org == org]


def repo_info(model_id: str, *, revision: str | None = None) -> RepoInfo:
    """Revisions and ``config.json`` of one local repo (any spelling of the id, or ``ORG/NAME``).

    Raises:
        NotPublishedError: the local hub has no such repo.
    """
    ref, mid = repo_for(model_id)
    hub = LocalHub()
    if not hub.repo(ref).exists():
        raise _not_published(model_id, ref, mid, None, f"the local hub ({hub.root})", hub)
    revisions = hub.revisions(ref)
    rev = revision or ("main" if "main" in revisions else _newest_tag(revisions))
    resolved = hub.resolve(ref, rev) if rev else None
    config: dict[str, Any] = {}
    if resolved is not None:
        text = hub.read_text(ref, resolved.commit, CONFIG_FILE)
        config = json.loads(text) if text else {}
    return RepoInfo(
        repo_id=ref.repo_id,
        revisions=revisions,
        commit=resolved.commit if resolved else None,
        sha256=resolved.sha256 if resolved else None,
        size_bytes=resolved.size if resolved else None,
        config=config,
        location=str(hub.repo(ref).path),
    )


def read_card(model_id: str, *, revision: str | None = None) -> str:
    """The model card (``README.md``) of a local repo at ``revision`` (default ``main``).

    Raises:
        NotPublishedError: the local hub has no such repo or revision.

    Example:
        >>> read_card("resnet18_d10_cifar10")[:3]  # doctest: +SKIP
        '---'
    """
    info = repo_info(model_id, revision=revision)
    ref, _ = repo_for(info.repo_id)
    text = LocalHub().read_text(ref, info.commit, CARD_FILE) if info.commit else None
    if text is None:
        raise HubError(f"{info.repo_id}@{revision or 'main'} has no {CARD_FILE}; push it again")
    return text


def _newest_tag(revisions: Mapping[str, str]) -> str | None:
    epochs = [int(n[2:]) for n in revisions if n.startswith("ep") and n[2:].isdigit()]
    return f"ep{max(epochs)}" if epochs else None


def refresh_cards(
    model_ids: Sequence[str] | None = None, *, catalog: str | Path | None = None
) -> list[PushResult]:
    """Re-render the card of every (or each named) local repo's ``main`` with the catalog's scores.

    A card whose text is unchanged makes no commit.

    Example:
        >>> [r.noop for r in refresh_cards()]  # doctest: +SKIP
        [False]
    """
    hub = LocalHub()
    refs = [repo_for(m)[0] for m in model_ids] if model_ids else hub.list()
    results = []
    from vvshub._progress import track

    for ref in track(refs, description="cards", total=len(refs)):
        resolved = hub.resolve(ref, "main")
        if resolved is None:
            continue
        folder = _tmpdir()
        try:
            hub.export(ref, resolved, folder)
            config = read_config(folder)
            epoch = (config.get("vvshub") or {}).get("epoch")
            _write_card(folder, config, ref, epoch=epoch, main=True, catalog=catalog)
            tag = f"ep{epoch}" if epoch is not None else None
            if tag and hub.resolve(ref, tag) != resolved.commit:
                tag = None  # the tag names another revision; only main gets the new card
            published = hub.publish(
                ref, folder, message="Refresh the model card with new scores", tag=tag
            )
            results.append(
                PushResult(
                    repo_id=ref.repo_id,
                    revision="main",
                    commit=published.commit,
                    sha256=published.sha256,
                    size_bytes=published.size,
                    destination="local",
                    location=str(hub.repo(ref).path),
                    main=True,
                    noop=published.noop,
                )
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return results
