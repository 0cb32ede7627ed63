"""Training data sources: an ImageFolder directory, a zip of class folders, a Hugging Face data set.

Every source lists its images as *image ids* (stable text keys: the path inside the
folder or zip, ``train/airplane/0000.jpg``; ``train/123`` for a Hugging Face row) grouped
by class, and reads one image's bytes or pixels by id. Subsets and manifests are built on
those ids, so they do not depend on how a file system happens to order its entries.

Layouts:

* directory: ``ROOT/train/<class>/<image>`` and ``ROOT/val/<class>/<image>`` (ImageNet and
  EcoSet as usually unpacked); ``validation/`` or ``test/`` also count as the val split;
* zip: the same two levels inside the archive (``cifar10_jpg.zip`` has ``train/`` and ``test/``);
* ``hf:NAME``: ``datasets.load_dataset(NAME)`` (or ``load_from_disk`` when NAME is a folder
  saved by ``save_to_disk``), with the first ``Image`` column and the first ``ClassLabel``.
"""

from __future__ import annotations

import io
import logging
import os
import re
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvshub.errors import CorruptImageError, DatasetError, DatasetNotFoundError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["DataSource", "open_source"]

logger = logging.getLogger(__name__)

#: Names the val split may have, in order of preference.
VAL_SPLITS = ("val", "validation", "test")
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"})


def dataset_name(spec: str) -> str:
    """A short data set name for model ids: ``cifar10`` for ``.../cifar10_jpg.zip``.

    The stem of the path (or the last part of an ``hf:`` name), lower-cased, cut at the
    first ``_`` or ``.`` and stripped of characters model ids cannot hold.

    Example:
        >>> dataset_name("../shared/data/cifar10/cifar10_jpg.zip")
        'cifar10'
        >>> dataset_name("hf:uoft-cs/cifar100")
        'cifar100'
    """
    text = spec[3:] if spec.startswith("hf:") else spec
    stem = Path(text.rstrip("/")).name
    if stem.lower().endswith(".zip"):
        stem = stem[:-4]
    stem = re.split(r"[_.]", stem.lower())[0]
    stem = re.sub(r"[^a-z0-9\-]", "", stem).lstrip("0123456789-")
    return stem or "data"


@dataclass(frozen=True)
class DataSource:
    """Base of every source: classes, image ids per split, and reading one image.

    Attributes:
        spec: the spec the user gave (path or ``hf:NAME``).
        name: short name used in model ids (``cifar10``).
        classes: class names in label order (sorted names of the train split).
    """

    spec: str
    name: str
    classes: tuple[str, ...]

    def ids_by_class(self, split: str) -> dict[str, list[str]]:
        """Image ids of ``split`` (``train`` or ``val``), grouped by class name."""
        raise NotImplementedError

    def read_bytes(self, image_id: str) -> bytes:
        """The encoded image (``HfSource`` overrides :meth:`load` instead)."""
        raise NotImplementedError

    def load(self, image_id: str) -> np.ndarray:
        """Decode one image into an RGB uint8 array of shape (H, W, 3).

        Raises:
            CorruptImageError: the bytes are not a readable image.
        """
        return decode(self.read_bytes(image_id), image_id=image_id, source=self.spec)

    def fingerprint(self) -> str:
        """What the manifest records about where the images came from."""
        return self.spec

    def __getstate__(self) -> dict[str, Any]:  # open handles stay behind (DataLoader workers)
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_h")}


def decode(data: bytes, *, image_id: str, source: str) -> np.ndarray:
    """Decode encoded image bytes into RGB uint8 (H, W, 3); a bad image raises CorruptImageError."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise CorruptImageError(
            f"image {image_id!r} in {source!r} cannot be decoded ({exc}); "
            "train with --corrupt skip to skip such images",
            path=source,
            image_id=image_id,
        ) from None


def _group(paths: list[str], split: str) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for p in paths:
        parts = p.split("/")
        if len(parts) != 3 or parts[0] != split:
            continue
        if os.path.splitext(parts[2])[1].lower() not in IMAGE_SUFFIXES:
            continue
        grouped.setdefault(parts[1], []).append(p)
    return {c: sorted(v) for c, v in sorted(grouped.items())}


@dataclass(frozen=True)
class _ListedSource(DataSource):
    """A source whose ids are relative paths ``split/class/file``."""

    paths: tuple[str, ...] = ()
    split_names: tuple[str, str] = ("train", "val")

    def ids_by_class(self, split: str) -> dict[str, list[str]]:
        real = self.split_names[0] if split == "train" else self.split_names[1]
        return {c: list(v) for c, v in _group(list(self.paths), real).items()}


@dataclass(frozen=True)
class ZipSource(_ListedSource):
    """A zip of ``split/class/image`` members."""

    def _handle(self) -> zipfile.ZipFile:
        # One handle per process and thread: zipfile handles are not shareable across forks.
        key = (os.getpid(), threading.get_ident())
        handles = self.__dict__.setdefault("_handles", {})
        if key not in handles:
            handles[key] = zipfile.ZipFile(self.spec)
        return handles[key]

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_handles"}

    def read_bytes(self, image_id: str) -> bytes:
        try:
            return self._handle().read(image_id)
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise CorruptImageError(
                f"cannot read {image_id!r} from {self.spec!r}: {exc}",
                path=self.spec,
                image_id=image_id,
            ) from None


@dataclass(frozen=True)
class FolderSource(_ListedSource):
    """An ImageFolder directory with ``train/`` and ``val/`` (or ``validation/``/``test/``)."""

    def read_bytes(self, image_id: str) -> bytes:
        return (Path(self.spec) / image_id).read_bytes()


@dataclass(frozen=True)
class HfSource(DataSource):
    """A Hugging Face data set (``datasets``); ids are ``split/row``."""

    image_column: str = "image"
    splits: tuple[str, str] = ("train", "validation")
    labels: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())

    def _dataset(self) -> Any:
        cache = self.__dict__.setdefault("_handles", {})
        if "ds" not in cache:
            cache["ds"] = _load_hf(self.spec)
        return cache["ds"]

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_handles"}

    def ids_by_class(self, split: str) -> dict[str, list[str]]:
        real, labels = (
            (self.splits[0], self.labels[0])
            if split == "train"
            else (self.splits[1], self.labels[1])
        )
        grouped: dict[str, list[str]] = {c: [] for c in self.classes}
        for row, label in enumerate(labels):
            grouped[self.classes[label]].append(f"{real}/{row}")
        return {c: sorted(v) for c, v in grouped.items() if v}

    def load(self, image_id: str) -> np.ndarray:
        import numpy as np

        split, row = image_id.rsplit("/", 1)
        try:
            item = self._dataset()[split][int(row)][self.image_column]
        except Exception as exc:  # datasets decodes lazily: any PIL error surfaces here
            raise CorruptImageError(
                f"image {image_id!r} in {self.spec!r} cannot be decoded ({exc})",
                path=self.spec,
                image_id=image_id,
            ) from None
        if isinstance(item, dict) and item.get("bytes") is not None:
            return decode(item["bytes"], image_id=image_id, source=self.spec)
        return np.asarray(item.convert("RGB"), dtype=np.uint8)


def _load_hf(spec: str) -> Any:
    name = spec[3:]
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - datasets is in the train extra
        raise DatasetError(
            f"{spec!r} needs the `datasets` package: pip install 'vvshub[train]'", path=spec
        ) from exc
    try:
        if Path(name).is_dir():
            return datasets.load_from_disk(name)
        return datasets.load_dataset(name)
    except FileNotFoundError as exc:
        raise DatasetNotFoundError(
            f"Hugging Face data set {name!r} not found ({exc}); check the name, or save one "
            "locally with Dataset.save_to_disk and pass hf:/that/folder",
            path=spec,
        ) from None
    except Exception as exc:
        raise DatasetError(
            f"cannot load Hugging Face data set {name!r}: {exc}", path=spec
        ) from None


def open_source(spec: str, *, name: str | None = None) -> DataSource:
    """Open a data set spec: a folder, a ``.zip`` or ``hf:NAME``.

    Args:
        spec: the spec.
        name: the data set's short name in model ids (default: :func:`dataset_name`).

    Raises:
        DatasetNotFoundError: nothing exists at ``spec``.
        DatasetError: it exists but does not have the expected layout.

    Example:
        >>> src = open_source("../shared/data/cifar10/cifar10_jpg.zip")  # doctest: +SKIP
        >>> src.classes[:2]  # doctest: +SKIP
        ('airplane', 'automobile')
    """
    if not isinstance(spec, str) or not spec.strip():
        raise DatasetNotFoundError(f"empty data set spec {spec!r}", path=str(spec))
    name = name or dataset_name(spec)
    if spec.startswith("hf:"):
        return _open_hf(spec, name)
    path = Path(spec).expanduser()
    if not path.exists():
        raise DatasetNotFoundError(
            f"data set {spec!r} not found: expected a folder with train/ and val/, a .zip of "
            "class folders, or hf:NAME",
            path=spec,
        )
    if path.is_dir():
        paths = tuple(
            p.relative_to(path).as_posix()
            for split in os.listdir(path)
            if (path / split).is_dir()
            for p in (path / split).glob("*/*")
        )
        cls: type[_ListedSource] = FolderSource
    elif zipfile.is_zipfile(path):
        # Reading a zip's directory is the slow part (60,000 members: seconds): keep the handle.
        handle = zipfile.ZipFile(path)
        paths = tuple(n for n in handle.namelist() if not n.endswith("/"))
        cls = ZipSource
    else:
        raise DatasetError(
            f"{spec!r} is neither a folder nor a zip archive; expected a folder with train/ and "
            "val/, a .zip of class folders, or hf:NAME",
            path=spec,
        )
    tops = {p.split("/", 1)[0] for p in paths}
    val = next((s for s in VAL_SPLITS if s in tops), None)
    if "train" not in tops or val is None:
        raise DatasetError(
            f"{spec!r} must hold train/<class>/<image> and val/<class>/<image> "
            f"(or validation/ or test/); found top-level entries {sorted(tops)[:8]}",
            path=spec,
        )
    grouped = {split: _group(list(paths), split) for split in ("train", val)}
    train = grouped["train"]
    if not train:
        raise DatasetError(f"{spec!r}: train/ holds no class folders with images", path=spec)
    unknown = sorted(set(grouped[val]) - set(train))
    if unknown:
        raise DatasetError(
            f"{spec!r}: {val}/ has classes that train/ lacks: {', '.join(unknown[:5])}", path=spec
        )
    source = cls(
        spec=str(path), name=name, classes=tuple(train), paths=paths, split_names=("train", val)
    )
    if cls is ZipSource:
        source.__dict__["_handles"] = {(os.getpid(), threading.get_ident()): handle}
    return source


def _open_hf(spec: str, name: str) -> HfSource:
    ds = _load_hf(spec)
    splits = list(ds.keys()) if hasattr(ds, "keys") else []
    val = next((s for s in VAL_SPLITS if s in splits), None)
    if "train" not in splits or val is None:
        raise DatasetError(
            f"{spec!r} needs a 'train' split and one of {', '.join(VAL_SPLITS)}; it has "
            f"{', '.join(splits) or 'none'}",
            path=spec,
        )
    features = ds["train"].features
    image_col = next((k for k, f in features.items() if type(f).__name__ == "Image"), None)
    label_col = next((k for k, f in features.items() if type(f).__name__ == "ClassLabel"), None)
    if image_col is None or label_col is None:
        raise DatasetError(
            f"{spec!r} needs an Image column and a ClassLabel column; it has "
            f"{', '.join(f'{k}: {type(f).__name__}' for k, f in features.items())}",
            path=spec,
        )
    classes = tuple(features[label_col].names)
    labels = (tuple(ds["train"][label_col]), tuple(ds[val][label_col]))
    return HfSource(
        spec=spec,
        name=name,
        classes=classes,
        image_column=image_col,
        splits=("train", val),
        labels=labels,
    )
