"""Data set specs: zip, ImageFolder and hf: read the same images; bad specs fail clearly."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from vvshub.errors import CorruptImageError, DatasetError, DatasetNotFoundError
from vvshub.trainer import dataset_name, open_source

from .conftest import make_zip


def _unzip(zip_path: Path, root: Path) -> Path:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root)
    return root


def test_zip_and_folder_list_the_same_ids(tiny_zip, tmp_path):
    z = open_source(str(tiny_zip))
    f = open_source(str(_unzip(tiny_zip, tmp_path / "folder")))
    assert z.classes == f.classes == ("cat", "dog", "fox")
    assert z.ids_by_class("train") == f.ids_by_class("train")
    assert z.ids_by_class("val") == f.ids_by_class("val")
    image_id = z.ids_by_class("train")["dog"][3]
    assert (z.load(image_id) == f.load(image_id)).all()
    assert z.load(image_id).shape == (12, 12, 3)


def test_test_split_counts_as_val(tmp_path):
    src = open_source(str(make_zip(tmp_path / "t.zip", {"a": 2, "b": 2}, val_name="test")))
    assert list(src.ids_by_class("val")) == ["a", "b"]


def test_cifar_zip_layout(cifar10_zip):
    src = open_source(str(cifar10_zip))
    assert src.name == "cifar10"
    assert len(src.classes) == 10
    train = src.ids_by_class("train")
    assert {len(v) for v in train.values()} == {5000}
    assert train["airplane"][0] == "train/airplane/0000.jpg"
    assert sum(len(v) for v in src.ids_by_class("val").values()) == 10000
    assert src.load("test/cat/0001.jpg").shape == (32, 32, 3)


def test_names():
    assert dataset_name("/x/cifar10_jpg.zip") == "cifar10"
    assert dataset_name("/data/imagenet/") == "imagenet"
    assert dataset_name("hf:user/Tiny_ImageNet") == "tiny"
    assert dataset_name("/data/ecoset") == "ecoset"


def test_unknown_path_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"'.*nope\.zip' not found: expected a folder"):
        open_source(str(tmp_path / "nope.zip"))


def test_wrong_layouts(tmp_path):
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.jpg").write_bytes(b"x")
    with pytest.raises(DatasetError, match="must hold train/<class>/<image>"):
        open_source(str(tmp_path / "flat"))
    (tmp_path / "file.txt").write_text("hello")
    with pytest.raises(DatasetError, match="neither a folder nor a zip"):
        open_source(str(tmp_path / "file.txt"))
    with zipfile.ZipFile(tmp_path / "odd.zip", "w") as zf:
        zf.writestr("train/a/0.png", b"x")
        zf.writestr("val/zebra/0.png", b"x")
    with pytest.raises(DatasetError, match="classes that train/ lacks: zebra"):
        open_source(str(tmp_path / "odd.zip"))


def test_corrupt_image_names_the_image(tmp_path):
    z = make_zip(tmp_path / "c.zip", {"a": 3}, corrupt=("train/a/0001.png",))
    src = open_source(str(z))
    with pytest.raises(CorruptImageError, match=r"'train/a/0001.png'.*--corrupt skip"):
        src.load("train/a/0001.png")


def test_hf_dataset_saved_to_disk(tmp_path):
    datasets = pytest.importorskip("datasets")
    import io

    from PIL import Image

    from .conftest import image_bytes

    def split(n: int) -> datasets.Dataset:
        images = [Image.open(io.BytesIO(image_bytes(i % 2, i))) for i in range(n)]
        return datasets.Dataset.from_dict(
            {"img": images, "label": [i % 2 for i in range(n)]},
            features=datasets.Features(
                {"img": datasets.Image(), "label": datasets.ClassLabel(names=["ant", "bee"])}
            ),
        )

    path = tmp_path / "hfdata"
    datasets.DatasetDict({"train": split(6), "test": split(4)}).save_to_disk(str(path))
    src = open_source(f"hf:{path}")
    assert src.classes == ("ant", "bee")
    assert src.ids_by_class("train") == {
        "ant": ["train/0", "train/2", "train/4"],
        "bee": ["train/1", "train/3", "train/5"],
    }
    assert src.load("test/3").shape == (12, 12, 3)
    with pytest.raises(DatasetNotFoundError):
        open_source(f"hf:{tmp_path / 'missing'}")
