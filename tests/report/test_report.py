"""The report: one self-contained page, checked as text and in a real browser."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from vvshub.report import Card, build_report, mini_zoo_law


def test_mini_zoo_law_is_fitted_from_the_catalog_and_stored(zoo_catalog: Path) -> None:
    law = mini_zoo_law(catalog=zoo_catalog, n_bootstrap=50)
    assert law is not None and law.fit.n_rows == 9
    # the data are S = 0.45 - 0.2 (D/400 (1 + w)/2)^-0.3 per width: a law of D alone fits loosely
    assert 0.3 < 1 - law.fit.params["E"] < 0.6
    again = mini_zoo_law(catalog=zoo_catalog, n_bootstrap=50)
    assert again.reused


def test_mini_zoo_law_needs_four_scored_models(reference_catalog: Path) -> None:
    assert mini_zoo_law(catalog=reference_catalog) is None


@pytest.mark.slow
def test_report_holds_tables_plots_and_cards(zoo_catalog: Path, tmp_path: Path) -> None:
    card = Card(
        model_id="resnet18_w0.5_d30_cifar10",
        markdown="---\nlibrary_name: timm\n---\n# resnet18 <script>alert(1)</script>\n\n"
        "| N | D |\n|---|---|\n| 2.8M | 300 |\n",
        repo_url=tmp_path.as_uri(),
    )
    law = mini_zoo_law(catalog=zoo_catalog, n_bootstrap=20)
    result = build_report(
        tmp_path / "out" / "report.html",
        catalog=zoo_catalog,
        cards=[card],
        zoo_law=law,
        n_bootstrap=20,
    )
    page = result.path.read_text()
    assert result.figures == ("fig1b", "fig2c", "fig3a", "fig4a", "zoo_accuracy", "zoo_alignment")
    assert page.count('src="data:image/png;base64,') == 6
    assert (result.n_models, result.n_trained, result.n_cards) == (1002, 9, 1)
    assert "resnet18_w0.5_d30_cifar10" in page and "synthetic</strong> suite" in page
    assert "<script>" not in page and "&lt;script&gt;" in page  # card text is escaped
    assert "library_name" not in page  # the card's YAML header is not shown as text
    assert not list(result.path.parent.glob(".*.tmp"))  # written atomically


def _browser() -> tuple[str, str] | None:
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chrome, driver) if chrome and driver else None


@pytest.mark.slow
@pytest.mark.skipif(
    _browser() is None, reason="chromium and chromedriver not installed (make test installs them)"
)
def test_report_renders_in_headless_chromium(zoo_catalog: Path, tmp_path: Path) -> None:
    webdriver = pytest.importorskip("selenium.webdriver")
    repo = tmp_path / "hub" / "models" / "vvshub" / "resnet18_w0.5_d30_cifar10"
    repo.mkdir(parents=True)
    card = Card(
        model_id="resnet18_w0.5_d30_cifar10",
        markdown="# card\n[top](#summary)\n",
        repo_url=repo.as_uri(),
    )
    law = mini_zoo_law(catalog=zoo_catalog, n_bootstrap=20)
    result = build_report(
        tmp_path / "report.html", catalog=zoo_catalog, cards=[card], zoo_law=law, n_bootstrap=20
    )
    chrome, driver_path = _browser()
    options = webdriver.ChromeOptions()
    options.binary_location = chrome
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1280,4000",
        "--allow-file-access-from-files",
    ):
        options.add_argument(arg)
    service = webdriver.ChromeService(executable_path=driver_path)
    browser = webdriver.Chrome(options=options, service=service)
    try:
        browser.get(result.path.as_uri())
        images = browser.execute_script(
            "return [...document.images].map(i => [i.alt, i.complete, i.naturalWidth, "
            "i.getBoundingClientRect().width, i.getBoundingClientRect().height])"
        )
        links = browser.execute_script("return [...document.links].map(a => a.href)")
        ids = set(
            browser.execute_script("return [...document.querySelectorAll('[id]')].map(e => e.id)")
        )
        browser.save_screenshot(str(tmp_path / "report.png"))
    finally:
        browser.quit()
    assert len(images) == 6
    for alt, complete, natural, width, height in images:
        assert complete and natural > 300, alt  # decoded, not a broken image
        assert width > 200 and height > 100, alt  # laid out, visible
    assert links
    for href in links:
        url = urlparse(href)
        if url.scheme == "file" and url.fragment and unquote(url.path) == str(result.path):
            assert url.fragment in ids, href
        elif url.scheme == "file":
            assert Path(unquote(url.path)).exists(), href
        else:
            assert re.match(r"https?://", href), href
    assert (tmp_path / "report.png").stat().st_size > 10_000
