"""Importing the reference study: counts, facts, idempotency, transactions, bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vvshub.catalog import _reference, import_reference, open_catalog
from vvshub.errors import ImportDataError


def _counts(path: Path) -> dict[str, int]:
    with open_catalog(path) as cat:
        return {t: cat.fetchall(f'SELECT count(*) FROM "{t}"')[0][0] for t in cat.tables()}


def test_reference_counts(reference_catalog: Path) -> None:
    with open_catalog(reference_catalog) as cat:
        one = lambda sql: cat.fetchall(sql)[0][0]  # noqa: E731
        assert one("SELECT count(*) FROM models") == 993
        assert one("SELECT count(DISTINCT model_id) FROM scores") == 993
        assert one("SELECT count(*) FROM scores") == 4965
        assert one("SELECT count(*) FROM checkpoints") == 10751
        assert one("SELECT count(*) FROM epoch_scores") == 6450
        assert one("SELECT count(*) FROM leaderboard") == 28
        assert one("SELECT count(*) FROM benchmarks") == 5
        # the benchmarked epoch of each model that has checkpoints is marked once
        assert (
            one(
                "SELECT max(n) FROM (SELECT count(*) n FROM checkpoints WHERE is_benchmarked GROUP BY model_id)"
            )
            == 1
        )


def test_resnet18_facts(reference_catalog: Path) -> None:
    with open_catalog(reference_catalog) as cat:
        row = cat.query(
            "SELECT n_params, flops, n_samples_seen, total_flops, short_id FROM models "
            "WHERE model_id = 'resnet18_imagenet_full'"
        ).iloc[0]
    assert row.n_params == 11_689_512
    assert row.total_flops == pytest.approx(3 * row.flops * row.n_samples_seen, rel=1e-12)
    assert row.short_id == "resnet18_dfull"


def test_every_model_has_all_five_regions(reference_catalog: Path) -> None:
    with open_catalog(reference_catalog) as cat:
        regions = cat.query(
            "SELECT model_id, list(region ORDER BY region) AS r FROM scores GROUP BY 1"
        )
    assert len(regions) == 993
    assert all(sorted(r) == ["Behavioral", "IT", "V1", "V2", "V4"] for r in regions.r)


def test_scores_view_has_the_contract_columns_and_types(reference_catalog: Path) -> None:
    with open_catalog(reference_catalog) as cat:
        types = dict(
            cat.fetchall(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'scores'"
            )
        )
    contract = [
        "model_id",
        "arch",
        "arch_family",
        "dataset",
        "samples_per_class",
        "n_samples",
        "n_epochs",
        "n_samples_seen",
        "n_params",
        "macs",
        "flops",
        "total_flops",
        "seed",
        "acc",
        "region",
        "benchmark",
        "score",
        "is_pretrained",
        "is_random",
        "is_ssl",
        "is_adv",
        "is_ablation",
        "ssl_method",
        "source",
    ]
    assert set(contract) <= set(types)
    for flag in ("is_pretrained", "is_random", "is_ssl", "is_adv", "is_ablation"):
        assert types[flag] == "BOOLEAN"
    for count in ("samples_per_class", "n_samples", "n_params", "n_samples_seen"):
        assert types[count] == "BIGINT"
    for number in ("macs", "flops", "total_flops", "score", "acc"):
        assert types[number] == "DOUBLE"


def test_epoch_scores_fix_the_published_quirks(reference_catalog: Path) -> None:
    with open_catalog(reference_catalog) as cat:
        bad_urls = cat.fetchall(
            "SELECT count(*) FROM epoch_scores WHERE checkpoint_url LIKE '%.pth'"
        )[0][0]
        ratio = cat.fetchall(
            "SELECT min(e.total_flops / (m.flops * e.n_samples_seen)), max(e.total_flops / (m.flops * e.n_samples_seen)) "
            "FROM epoch_scores e JOIN models m USING (model_id)"
        )[0]
    assert bad_urls == 0
    assert ratio == pytest.approx((3.0, 3.0))


def test_committed_layers_come_from_commitments(reference_catalog: Path) -> None:
    with open_catalog(reference_catalog) as cat:
        layers = dict(
            cat.fetchall(
                "SELECT region, layer FROM scores WHERE model_id = 'resnet50_imagenet_pretrained'"
            )
        )
    assert layers == {
        "V1": "layer1.0.relu",
        "V2": "layer3.3.relu",
        "V4": "layer2.3.relu",
        "IT": "layer3.0.relu",
        "Behavioral": "avgpool",
    }


def test_import_is_idempotent(reference_catalog: Path, reference_dir: Path) -> None:
    before = _counts(reference_catalog)
    with open_catalog(reference_catalog) as cat:
        snapshot = cat.query("SELECT * FROM scores ORDER BY model_id, benchmark")
        imports = cat.query("SELECT * FROM imports ORDER BY file")
    summary = import_reference(reference_dir, catalog=reference_catalog)
    assert summary.changed is False
    assert _counts(reference_catalog) == before
    with open_catalog(reference_catalog) as cat:
        assert cat.query("SELECT * FROM scores ORDER BY model_id, benchmark").equals(snapshot)
        assert cat.query("SELECT * FROM imports ORDER BY file").equals(imports)
        assert len(imports) == 5 and imports.sha256.str.len().eq(64).all()


def _copy_reference(reference_dir: Path, dest: Path) -> Path:
    shutil.copytree(reference_dir, dest)
    return dest


def test_truncated_csv_is_refused_with_file_and_line(
    reference_dir: Path, tmp_path: Path, reference_catalog: Path
) -> None:
    bad = _copy_reference(reference_dir, tmp_path / "bad")
    data = (bad / "benchmark_scores.csv").read_bytes()
    cut = data.index(b"\n", len(data) // 2) + 40  # mid-way through a row
    (bad / "benchmark_scores.csv").write_bytes(data[:cut])
    before = _counts(reference_catalog)
    with pytest.raises(ImportDataError) as err:
        import_reference(bad, catalog=reference_catalog)
    line = data[:cut].count(b"\n") + 1
    assert f"benchmark_scores.csv:{line}:" in str(err.value)
    assert err.value.line == line
    assert _counts(reference_catalog) == before


def test_malformed_field_is_refused(reference_dir: Path, tmp_path: Path, vvshub_home: Path) -> None:
    bad = _copy_reference(reference_dir, tmp_path / "bad")
    lines = (bad / "model_checkpoints.csv").read_text().splitlines(keepends=True)
    lines[7] = lines[7].replace(",True,", ",maybe,").replace(",False,", ",maybe,")
    (bad / "model_checkpoints.csv").write_text("".join(lines))
    with pytest.raises(ImportDataError, match=r"model_checkpoints.csv:8: column 'is_latest'"):
        import_reference(bad)
    assert not (vvshub_home / "catalog.duckdb").exists()  # nothing was created


def test_failure_midway_leaves_the_catalog_as_it_was(
    reference_dir: Path, tmp_path: Path, reference_catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    changed = _copy_reference(reference_dir, tmp_path / "changed")
    lines = (changed / "benchmark_scores.csv").read_text().splitlines(keepends=True)
    (changed / "benchmark_scores.csv").write_text(
        "".join(lines[:-5])
    )  # drop one model: a new import
    real_write = _reference._write

    def write_then_fail(cat, frames):
        real_write(cat, frames)  # every table is rewritten …
        raise RuntimeError("disk full")  # … then the import dies before COMMIT

    monkeypatch.setattr(_reference, "_write", write_then_fail)
    before = _counts(reference_catalog)
    with (
        pytest.raises(RuntimeError, match="disk full"),
        pytest.warns(UserWarning, match="removes 1"),
    ):
        import_reference(changed, catalog=reference_catalog)
    assert _counts(reference_catalog) == before
    monkeypatch.setattr(_reference, "_write", real_write)
    with pytest.warns(UserWarning, match="removes 1 model"):
        summary = import_reference(changed, catalog=reference_catalog)
    assert summary.changed and summary.rows["models"] == 992
    after = _counts(reference_catalog)
    assert after["models"] == 992 and after["scores"] == 4960


def test_missing_file_is_named(reference_dir: Path, tmp_path: Path) -> None:
    partial = _copy_reference(reference_dir, tmp_path / "partial")
    (partial / "commitments.json").unlink()
    with pytest.raises(ImportDataError, match=r"no commitments\.json"):
        import_reference(partial)


def test_unreachable_url_is_one_clear_error(tmp_path: Path) -> None:
    from vvshub.errors import CatalogError

    with pytest.raises(CatalogError, match=r"cannot download http://127\.0\.0\.1:9/"):
        import_reference("http://127.0.0.1:9/scaling_primate_vvs")
