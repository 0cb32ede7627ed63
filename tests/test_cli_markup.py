"""Text from users and data prints as typed: rich never reads it as markup; user errors are
one line, never "a bug in vvshub"."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from vvshub.catalog import open_catalog

MARKUP = "[bold]x[/bold]"


@pytest.fixture
def empty_catalog(vvshub_home: Path) -> Path:
    """A catalog with the schema and no rows, as ``$VVSHUB_HOME/catalog.duckdb``."""
    vvshub_home.mkdir(parents=True, exist_ok=True)
    with open_catalog(None, read_only=False) as cat:
        location = cat.location
    return Path(location)


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert lines and lines[0].startswith("error: "), err
    assert "Traceback" not in err and "bug in vvshub" not in err
    return lines[0]


def test_closing_tag_in_data_prints_literally(cli, empty_catalog: Path) -> None:
    res = cli("sql", "SELECT '[/]' AS b")
    assert res.code == 0, res.err
    assert "[/]" in res.out and res.err == ""


def test_markup_in_data_headers_and_cells_prints_literally(cli, empty_catalog: Path) -> None:
    res = cli("sql", f"SELECT '{MARKUP}' AS \"[red]h[/red]\", 'a[/]b[dim]' AS c")
    assert res.code == 0, res.err
    assert MARKUP in res.out and "[red]h[/red]" in res.out and "a[/]b[dim]" in res.out
    as_json = cli("sql", f"SELECT '{MARKUP}' AS b", "--json")
    assert as_json.json() == [{"b": MARKUP}]


def test_error_message_with_brackets_prints_literally(cli, empty_catalog: Path) -> None:
    res = cli("sql", f'SELECT "{MARKUP}" FROM range(1)')
    assert res.code == 1
    assert MARKUP in _one_error_line(res.err)
    missing = cli("models", "show", "[bold]nope[/]")
    assert missing.code == 1
    assert "'[bold]nope[/]'" in _one_error_line(missing.err)


def test_error_with_a_closing_tag_in_a_path_prints_literally(cli, tmp_path: Path) -> None:
    path = tmp_path / "a[/]b" / "catalog.duckdb"
    res = cli("sql", "SELECT 1", "--catalog", str(path))
    assert res.code == 1
    assert str(path) in _one_error_line(res.err)


def test_exit_with_error_and_print_frame_escape_everything(capsys) -> None:
    from vvshub.cli._common import exit_with_error, print_frame, print_text

    with pytest.raises(SystemExit) as done:
        exit_with_error(f"bad value {MARKUP} [/]")
    assert done.value.code == 1
    assert capsys.readouterr().err.strip() == f"error: bad value {MARKUP} [/]"
    print_frame(pd.DataFrame({"[b]c[/b]": ["[i]v[/i]"]}), title="[red]t[/]")
    print_text("[link=x]y[/link]")
    out = capsys.readouterr().out
    assert "[b]c[/b]" in out and "[i]v[/i]" in out and "[red]t[/]" in out
    assert "[link=x]y[/link]" in out


def test_negative_image_size_error_is_one_line(cli) -> None:
    res = cli("zoo", "info", "resnet18", "--image-size", "-5")
    assert res.code == 1
    line = _one_error_line(res.err)
    assert "-5" in line and "image size" in line


def test_image_size_a_vit_cannot_take_error_is_one_line(cli) -> None:
    res = cli("zoo", "info", "deit_small", "--image-size", "96")
    assert res.code == 1
    line = _one_error_line(res.err)
    assert "deit_small" in line and "96" in line


def test_library_raises_the_error_tree_for_image_sizes() -> None:
    from vvshub import zoo
    from vvshub.errors import CountError, VvsHubError

    for bad in (-5, 0, 2.5, True):
        with pytest.raises(CountError) as err:
            zoo.count("resnet18", image_size=bad)
        assert isinstance(err.value, VvsHubError) and isinstance(err.value, ValueError)
        assert repr(bad) in str(err.value)
    assert zoo.count("resnet18", image_size=112).macs < zoo.count("resnet18").macs


def test_sql_json_flag_is_format_json(cli, empty_catalog: Path) -> None:
    a = cli("sql", "SELECT 1 AS n, 2.5 AS x", "--json")
    b = cli("sql", "SELECT 1 AS n, 2.5 AS x", "--format", "json")
    assert a.code == 0 and a.out == b.out and json.loads(a.out) == [{"n": 1, "x": 2.5}]
    clash = cli("sql", "SELECT 1", "--json", "--format", "csv")
    assert clash.code == 2 and "--json" in clash.err
