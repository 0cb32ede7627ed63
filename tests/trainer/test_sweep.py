"""vvshub sweep: grid expansion, and a small grid on local Ray that skips and resumes."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from vvshub.errors import TrainingError
from vvshub.trainer import expand_grid, load_grid


def _grid_file(tmp_path: Path, zip_path: Path, **extra) -> Path:
    import yaml

    grid = {
        "arch": "resnet18",
        "width": [0.0625, 0.125],
        "samples_per_class": 3,
        "seed": [0, 1],
        "dataset": str(zip_path),
        "epochs": 1,
        "batch_size": 9,
        "image_size": 16,
        "deterministic": True,
        "resources": {"num_cpus": 1},
        **extra,
    }
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(grid))
    return path


def test_expand_grid_is_the_product_of_the_axes(tiny_zip, tmp_path):
    configs = expand_grid(load_grid(_grid_file(tmp_path, tiny_zip, depth=[None, "1-1-1-1"])))
    ids = [c.model_id for c in configs]
    assert len(ids) == len(set(ids)) == 8
    assert "resnet18_w0.0625_dp1-1-1-1_d3_tiny_s1" in ids
    assert {c.recipe.epochs for c in configs} == {1}
    assert {c.image_size for c in configs} == {16}


def test_grid_errors(tiny_zip, tmp_path):
    with pytest.raises(TrainingError, match="unknown grid key"):
        expand_grid(load_grid(_grid_file(tmp_path, tiny_zip, epochz=3)))
    with pytest.raises(TrainingError, match="needs 'samples_per_class'"):
        expand_grid({"arch": "resnet18", "dataset": "x.zip"})
    with pytest.raises(TrainingError, match="not found"):
        load_grid(tmp_path / "missing.yaml")


@pytest.mark.slow
def test_sweep_on_local_ray_skips_finished_and_resumes_stopped(
    tiny_zip, tmp_path, cli, vvshub_home
):
    import ray

    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100_000_000)
    try:
        grid = _grid_file(tmp_path, tiny_zip)
        first = cli("sweep", str(grid), "--no-push", "--json")
        assert first.code == 0, first.err
        runs = first.json()
        assert [r["status"] for r in runs] == ["done"] * 4
        with duckdb.connect(str(vvshub_home / "catalog.duckdb"), read_only=True) as con:
            n = con.execute("SELECT count(*) FROM training_runs").fetchone()[0]
            models = {r[0] for r in con.execute("SELECT short_id FROM models").fetchall()}
        assert n == 4
        assert models == {r["model_id"] for r in runs}

        # A run that stopped after its last complete epoch (no result.json) is resumed;
        # the others are skipped.
        stopped = vvshub_home / "runs" / runs[2]["run_id"]
        (stopped / "result.json").unlink()
        again = cli("sweep", str(grid), "--no-push", "--json")
        assert again.code == 0, again.err
        statuses = [r["status"] for r in again.json()]
        assert statuses == ["skipped", "skipped", "done", "skipped"]
        assert again.json()[2]["acc"] == runs[2]["acc"]
        assert json.loads((stopped / "result.json").read_text())["acc"] == runs[2]["acc"]
        with duckdb.connect(str(vvshub_home / "catalog.duckdb"), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM training_runs").fetchone()[0] == 4

        # A run that cannot train fails alone, with its reason, and the sweep says so.
        bad = _grid_file(tmp_path, tiny_zip, samples_per_class=[3, 50], width=0.0625, seed=0)
        failed = cli("sweep", str(bad), "--no-push")
        assert failed.code == 1
        assert "1 of 2 runs failed" in failed.err
    finally:
        ray.shutdown()


def test_a_list_of_grids_expands_to_their_runs_in_order(tmp_path):
    from vvshub.trainer import expand_grid, load_grid

    (tmp_path / "data").mkdir()
    grid = tmp_path / "runs.yaml"
    grid.write_text(
        "dataset: data\nepochs: 3\nimage_size: 32\ngrids:\n"
        "  - {arch: resnet18, width: 0.25, samples_per_class: 100, seed: 0}\n"
        "  - {arch: resnet18, width: 0.5, samples_per_class: [10, 30], seed: 1, epochs: 5}\n"
        "  - {arch: resnet18, width: 0.25, samples_per_class: 100, seed: 0}\n"
    )
    configs = expand_grid(load_grid(grid))
    assert [c.model_id for c in configs] == [
        "resnet18_w0.25_d100_data",
        "resnet18_w0.5_d10_data_s1",
        "resnet18_w0.5_d30_data_s1",
    ]
    assert [c.recipe.epochs for c in configs] == [3, 5, 5]
    assert {c.dataset for c in configs} == {str((tmp_path / "data").resolve())}
