"""Imports refuse impossible values, say which models they remove, and fetch both URL layouts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vvshub.catalog import import_reference, open_catalog
from vvshub.catalog._reference import REFERENCE_FILES
from vvshub.errors import CatalogError, ImportDataError


def _copy(reference_dir: Path, dest: Path) -> Path:
    shutil.copytree(reference_dir, dest)
    return dest


def _set_field(path: Path, line: int, column: str, value: str) -> None:
    """Set ``column`` of 1-based ``line`` (the header is line 1) of a simple CSV file."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(path.read_text())))
    rows[line - 1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue())


@pytest.mark.parametrize(
    ("file", "column", "value"),
    [
        ("benchmark_scores.csv", "score", "1e999"),
        ("benchmark_scores.csv", "score", "7.5"),
        ("benchmark_scores.csv", "score", "-inf"),
        ("benchmark_scores.csv", "acc", "1.5"),
        ("benchmark_scores.csv", "total_flops", "-3e18"),
        ("benchmark_scores.csv", "macs", "inf"),
        ("benchmark_scores.csv", "seed", "-1"),
        ("benchmark_scores_ckpts.csv", "score", "2.0"),
        ("model_checkpoints.csv", "epoch", "-5"),
    ],
)
def test_impossible_value_is_refused_with_file_and_line(
    reference_dir: Path, tmp_path: Path, vvshub_home: Path, file: str, column: str, value: str
) -> None:
    bad = _copy(reference_dir, tmp_path / "bad")
    _set_field(bad / file, 12, column, value)
    with pytest.raises(ImportDataError) as err:
        import_reference(bad)
    message = str(err.value)
    assert message.startswith(f"{file}:12: column {column!r}: {value!r} ")
    assert err.value.line == 12
    assert "finite" in message or "domain" in message
    assert not (vvshub_home / "catalog.duckdb").exists()


def test_removed_models_are_named_before_the_commit(
    reference_dir: Path, tmp_path: Path, reference_catalog: Path, cli
) -> None:
    newer = _copy(reference_dir, tmp_path / "newer")
    lines = (newer / "benchmark_scores.csv").read_text().splitlines(keepends=True)
    gone = {line.split(",", 1)[0] for line in lines[-10:]}
    (newer / "benchmark_scores.csv").write_text("".join(lines[:-10]))
    assert len(gone) == 2

    dry = cli("catalog", "import-reference", str(newer), "--dry-run", "--json").json()
    assert dry["dry_run"] and sorted(dry["removed"]) == sorted(gone)
    with open_catalog(reference_catalog) as cat:
        assert cat.fetchall("SELECT count(*) FROM models")[0][0] == 993  # nothing written
    shown = cli("catalog", "import-reference", str(newer), "--dry-run")
    assert "would remove 2 model(s)" in shown.out and all(g in shown.out for g in gone)

    with pytest.warns(UserWarning, match=r"removes 2 model\(s\)") as caught:
        summary = import_reference(newer, catalog=reference_catalog)
    assert all(g in str(caught[0].message) for g in gone)
    assert sorted(summary.removed) == sorted(gone) and not summary.dry_run
    with open_catalog(reference_catalog) as cat:
        assert cat.fetchall("SELECT count(*) FROM models")[0][0] == 991


def test_warning_comes_before_the_commit(
    reference_dir: Path, tmp_path: Path, reference_catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import warnings

    newer = _copy(reference_dir, tmp_path / "newer")
    lines = (newer / "benchmark_scores.csv").read_text().splitlines(keepends=True)
    (newer / "benchmark_scores.csv").write_text("".join(lines[:-5]))
    # a caller that turns the warning into an error stops the import: nothing is committed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="removes 1 model"):
            import_reference(newer, catalog=reference_catalog)
    with open_catalog(reference_catalog) as cat:
        assert cat.fetchall("SELECT count(*) FROM models")[0][0] == 993


@pytest.mark.parametrize("layout", ["flat", "study"])
def test_import_reference_over_http(
    layout: str, reference_dir: Path, tmp_path: Path, serve, vvshub_home: Path
) -> None:
    site = tmp_path / "site" / "scaling_primate_vvs"
    for name, rel in REFERENCE_FILES.items():
        target = site / (name if layout == "flat" else rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(reference_dir / name, target)
    server = serve(tmp_path / "site")
    summary = import_reference(f"{server.url}/scaling_primate_vvs/")
    assert summary.changed and summary.rows["models"] == 993
    local = import_reference(reference_dir)
    assert local.import_id == summary.import_id and not local.changed  # the same bytes


def test_import_reference_url_without_the_files_says_what_it_expected(
    serve, tmp_path: Path
) -> None:
    (tmp_path / "nothing").mkdir()
    server = serve(tmp_path)
    with pytest.raises(
        CatalogError,
        match=r"neither .*/nothing/benchmark_scores\.csv .* nor .*artifacts/benchmark_scores\.csv",
    ):
        import_reference(f"{server.url}/nothing")


def test_import_reference_closed_port(closed_port: int) -> None:
    with pytest.raises(CatalogError, match="connection refused"):
        import_reference(f"http://127.0.0.1:{closed_port}/scaling_primate_vvs")
