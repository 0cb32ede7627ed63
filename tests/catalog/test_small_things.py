"""Small things from issue 11: output formats, VVSHUB_HOME, empty listings, and README claims."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from vvshub.catalog import open_catalog

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
VVSHUB = [sys.executable, "-m", "vvshub.cli._app"]
QUERY = "SELECT model_id, score FROM scores WHERE region = 'IT' ORDER BY model_id LIMIT 3"


@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("it.csv", pd.read_csv),
        ("it.json", lambda p: pd.DataFrame(json.loads(Path(p).read_text()))),
        ("it.parquet", pd.read_parquet),
        ("IT.PQ", pd.read_parquet),
    ],
)
def test_sql_output_format_comes_from_the_suffix(
    cli, reference_catalog: Path, tmp_path: Path, name: str, read
) -> None:
    out = tmp_path / name
    result = cli("sql", QUERY, "-o", str(out))
    assert result.code == 0, result.err
    frame = read(out)
    assert list(frame.columns) == ["model_id", "score"] and len(frame) == 3


def test_sql_output_suffix_unknown_or_overridden(
    cli, reference_catalog: Path, tmp_path: Path
) -> None:
    unknown = cli("sql", QUERY, "-o", str(tmp_path / "it.txt"))
    assert unknown.code != 0 and "--format" in unknown.err
    assert not (tmp_path / "it.txt").exists()
    forced = cli("sql", QUERY, "-o", str(tmp_path / "it.txt"), "--format", "csv")
    assert forced.code == 0
    assert (tmp_path / "it.txt").read_text().splitlines()[0] == "model_id,score"


def test_empty_vvshub_home_does_not_write_into_the_current_directory(
    reference_dir: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    home = tmp_path / "home"
    work.mkdir()
    home.mkdir()
    env = {**os.environ, "VVSHUB_HOME": "", "HOME": str(home), "VVSHUB_NO_PROGRESS": "1"}
    run = subprocess.run(
        [*VVSHUB, "catalog", "import-reference", str(reference_dir), "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    assert list(work.iterdir()) == []
    assert (home / ".cache" / "vvshub" / "catalog.duckdb").is_file()


def test_empty_listing_suggests_the_closest_names(cli, reference_catalog: Path) -> None:
    from vvshub.catalog import suggest_filters

    typo = cli("models", "ls", "--arch", "resnet", "--json")
    assert typo.code == 0 and typo.json() == []
    assert "no model has --arch 'resnet'; closest: " in typo.err
    assert "resnet18" in typo.err and "resnet50" in typo.err
    family = cli("models", "ls", "--family", "convnext")
    assert "closest: ConvNeXt" in family.err
    nothing = cli("models", "ls", "--arch", "nonexistent")
    assert nothing.code == 0
    assert "no model has --arch 'nonexistent'" in nothing.err
    assert 'vvshub sql "SELECT DISTINCT arch FROM models"' in nothing.err
    both = cli("models", "ls", "--arch", "resnet18", "--family", "ConvNeXt", "--json")
    assert both.json() == [] and "together" in both.err
    with open_catalog(reference_catalog) as cat:
        assert suggest_filters(cat, dataset="imagnet")["dataset"][0] == "imagenet"
        assert suggest_filters(cat, arch="resnet18", dataset="ecoset") == {}


def _readme_query(marker: str) -> str:
    """The SQL statement of the README that follows the comment containing ``marker``."""
    start = README.index(marker)
    body = README[start:].split("\n", 1)[1]
    lines = []
    for line in body.splitlines():
        if line.startswith("--"):
            continue
        lines.append(line)
        if line.rstrip().endswith(";"):
            break
    return "\n".join(lines).rstrip().rstrip(";")


def test_readme_resnet18_example_filters_the_study_flags(reference_catalog: Path) -> None:
    query = _readme_query("ResNet-18 neural alignment by images per class")
    with open_catalog(reference_catalog) as cat:
        shown = cat.query(query)
        supervised = cat.query(
            "SELECT samples_per_class, seed, avg(score) AS neural FROM scores "
            "WHERE arch = 'resnet18' AND dataset = 'imagenet' AND region IN ('V1','V2','V4','IT') "
            "AND NOT (is_pretrained OR is_random OR is_ssl OR is_adv OR is_ablation) "
            "GROUP BY ALL ORDER BY samples_per_class, seed"
        )
        everything = cat.query(
            "SELECT samples_per_class, seed, avg(score) AS neural FROM scores "
            "WHERE arch = 'resnet18' AND dataset = 'imagenet' AND region IN ('V1','V2','V4','IT') "
            "GROUP BY ALL ORDER BY samples_per_class, seed"
        )
    pd.testing.assert_frame_equal(shown, supervised)
    assert not everything.equals(supervised)  # the filter matters on this data


def test_readme_says_simclr_and_adversarial_compute_is_doubled(reference_catalog: Path) -> None:
    assert re.search(r"SimCLR and adversarial rows carry doubled `macs` and `flops`", README)
    with open_catalog(reference_catalog) as cat:
        ratios = cat.fetchall(
            "SELECT DISTINCT round(s.macs / b.macs, 6) FROM models s JOIN models b USING (arch) "
            "WHERE (s.is_ssl AND s.ssl_method = 'simclr' OR s.is_adv) "
            "AND b.dataset = 'imagenet' AND b.samples_per_class = 0 AND b.seed = 0 "
            "AND NOT (b.is_pretrained OR b.is_random OR b.is_ssl OR b.is_adv OR b.is_ablation)"
        )
    assert ratios == [(2.0,)]


@pytest.mark.parametrize(
    "args",
    [
        ("sql", "SELEC 1"),
        ("sql", "SELECT * FROM read_text('/etc/passwd')"),
        ("models", "show", "resnet18_imagenet_ful"),
        ("sql", "SELECT 1", "--catalog", "http://127.0.0.1:9/export/"),
    ],
)
def test_errors_look_as_the_readme_says(
    cli, reference_catalog: Path, args: tuple[str, ...]
) -> None:
    assert "An error is one `error: …` line on stderr, followed by one\n`hint: …` line" in README
    result = cli(*args)
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert lines[0].startswith("error: ") and 1 <= len(lines) <= 2
    if len(lines) == 2:
        assert lines[1].startswith("hint: ")
    assert "Traceback" not in result.err


def test_timm_error_names_commands_that_exist(cli) -> None:
    import timm

    import vvshub.zoo  # noqa: F401  (registers the zoo's architectures with timm)

    with pytest.raises(ValueError, match="no pretrained weights") as err:
        timm.create_model("cornet_s", pretrained=True)
    commands = re.findall(r"`vvshub ([^`]+)`", str(err.value))
    assert commands
    for command in commands:
        words = [w for w in command.split() if not w.isupper()]  # MODEL_ID etc. are placeholders
        result = cli(*words, "--help")
        assert result.code == 0, f"`vvshub {command}` is not a command: {result.err}"
