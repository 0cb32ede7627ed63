"""The quickstart's loop on a tiny plan: every step runs, and a rerun skips them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from vvshub.quickstart import QuickstartPlan, run_quickstart

REPO = Path(__file__).resolve().parents[1]


def _tiny_cifar(source: Path, dest: Path, *, train: int, test: int) -> Path:
    """A zip of the first ``train``/``test`` images of each CIFAR-10 class."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(dest, "w") as out:
        kept: dict[tuple[str, str], int] = {}
        for name in sorted(src.namelist()):
            parts = name.split("/")
            if len(parts) != 3 or not parts[2].endswith(".jpg"):
                continue
            key = (parts[0], parts[1])
            limit = train if parts[0] == "train" else test
            if kept.get(key, 0) < limit:
                kept[key] = kept.get(key, 0) + 1
                out.writestr(name, src.read(name))
    return dest


@pytest.mark.slow
def test_the_loop_runs_once_then_skips(reference_dir: Path, tmp_path: Path) -> None:
    import os

    from vvshub.catalog import open_catalog

    cifar = Path(
        os.environ.get("VVSHUB_CIFAR10_ZIP", REPO.parent / "shared/data/cifar10/cifar10_jpg.zip")
    )
    # named like the real file, so the data set is called cifar10 in the model ids
    tiny = _tiny_cifar(cifar, tmp_path / "cifar10_jpg.zip", train=6, test=2)
    plan = QuickstartPlan(
        dataset=str(tiny),
        reference=str(reference_dir),
        widths=(0.25,),
        samples_per_class=(2, 3, 4, 6),  # a saturating law needs four models
        epochs=1,
        batch_size=8,
        val_samples_per_class=2,
        report=str(tmp_path / "report.html"),
        n_bootstrap=20,
        pull_id="resnet18_w0.25_d4_cifar10",
    )
    lines: list[str] = []
    first = run_quickstart(plan, say=lines.append)
    assert first.trained == (
        "resnet18_w0.25_d2_cifar10",
        "resnet18_w0.25_d3_cifar10",
        "resnet18_w0.25_d4_cifar10",
        "resnet18_w0.25_d6_cifar10",
    )
    assert set(first.scored) == set(first.trained)
    assert first.steps["import"] == "done" and first.steps["score"] == "done"
    assert [line[:3] for line in lines if line[:1].isdigit()] == [f"{i}/7" for i in range(1, 8)]
    assert 0 <= first.prediction["neural"]["score"] <= 1
    page = Path(first.report).read_text()
    assert "resnet18_w0.25_d6_cifar10" in page and page.count("data:image/png;base64,") == 6
    with open_catalog() as cat:
        rows = cat.query(
            "SELECT short_id, count(*) AS n, any_value(hub_repo) AS repo FROM scores "
            "WHERE suite = 'synthetic' GROUP BY 1 ORDER BY 1"
        )
        models = cat.query("SELECT model_id FROM models WHERE source = 'vvshub'")
    # the scores join the trained models' rows: one row per model, whatever spelling scored it
    assert rows["short_id"].tolist() == sorted(first.trained) and set(rows["n"]) == {5}
    assert rows["repo"].tolist() == [f"vvshub/{m}" for m in sorted(first.trained)]
    assert len(models) == 4

    second = run_quickstart(plan, say=lines.append)
    assert second.steps["import"] == "skipped" and second.steps["score"] == "skipped"
    assert second.scored == () and second.trained == first.trained
    assert second.seconds < first.seconds / 2


def test_cifar10_comes_from_one_setting(monkeypatch, tmp_path: Path) -> None:
    from vvshub.constants import cifar10_zip
    from vvshub.errors import DatasetNotFoundError
    from vvshub.quickstart import default_dataset
    from vvshub.scorer._synthetic import cifar10_zip as suite_zip

    monkeypatch.setenv("VVSHUB_CIFAR10_ZIP", str(tmp_path / "missing.zip"))
    assert cifar10_zip() == suite_zip() == tmp_path / "missing.zip"
    with pytest.raises(
        DatasetNotFoundError, match=r"no CIFAR-10 zip at .*missing\.zip; pass --dataset"
    ):
        default_dataset()
    (tmp_path / "missing.zip").write_bytes(b"")
    assert default_dataset() == tmp_path / "missing.zip"
    monkeypatch.delenv("VVSHUB_CIFAR10_ZIP")
    assert cifar10_zip() == REPO.parent / "shared" / "data" / "cifar10" / "cifar10_jpg.zip"
