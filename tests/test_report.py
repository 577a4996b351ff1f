"""`snakemake --report` after a real run: HTML and ZIP, the description with the selected round, the CSV tables,
and the HTML rendered by a real (headless) browser."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import SMALL_CONFIG, TARGET, layout, skip_or_fail, snakemake

pytestmark = pytest.mark.slow

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)


@pytest.fixture(scope="module")
def reports(small_run):
    """The run's report as report.html and report.zip (made once for this module)."""
    snakemake(small_run, "--report", "report.html")
    snakemake(small_run, "--report", "report.zip")
    return small_run / "report.html", small_run / "report.zip"


def selected(small_run):
    return pd.read_parquet(layout(small_run).file("selected"))


def test_description_states_selected_round_features_and_test_metrics(small_run, reports):
    sel = selected(small_run)
    r = int(sel["round"].iloc[0])
    rounds = pd.read_parquet(layout(small_run).file("rounds")).set_index("round")
    text = layout(small_run).file("description").read_text()  # the report_texts job's output
    assert f"Round {r} selected: {len(sel)} features" in text
    assert all(f in text for f in sel["feature"])
    assert f"{rounds.loc[r, 'test_rmse']:.4g}" in text and f"{rounds.loc[r, 'test_r2']:.4g}" in text
    # the rule, and the selected round's validation loss and optimism beside round 0's
    assert "(rule ``best``)" in text and "has the lowest mean CV loss" in text
    for value in (rounds.loc[r, "val_loss"], rounds.loc[r, "optimism"], rounds.loc[0, "val_loss"],
                  rounds.loc[0, "optimism"]):
        assert f"{value:.4g}" in text, value
    assert (".. warning::" in text) == (not pd.isna(sel["warning"].iloc[0]))
    html = reports[0].read_text()
    assert f"Round {r} selected: {len(sel)} features" in html
    assert "System Message" not in html  # the reStructuredText rendered cleanly


def test_figure_captions_come_from_the_registry_rendered_for_each_round(small_run, reports):
    from rfe_lib.figures.registry import caption_template

    html = reports[0].read_text()
    # captions rendered by Snakemake from the registry's templates, with each job's round and options
    assert "predicted against actual ``{{ p.target }}``" in caption_template("pred_vs_actual")
    for r in range(3):
        assert f'Round {r}: predicted against actual <tt class=\\"docutils literal\\">bikers</tt>' in html, r
    assert "LOFO importance: the mean CV RMSE without the feature minus with all features" in html
    assert "the tolerance lines \\u00b110, \\u00b125, \\u00b150" in html  # "±10, ±25, ±50", JSON-escaped
    assert "{{" not in html.split("<body", 1)[-1].split("<script", 1)[0]  # no template left unrendered


def test_html_and_zip_hold_every_figure_and_table(small_run, reports):
    html, zipped = reports
    run = layout(small_run)
    pngs = sorted(p.relative_to(small_run).as_posix() for p in run.plots_dir.rglob("*.png"))
    text = html.read_text()
    assert html.stat().st_size > 500_000  # the figures are embedded
    for p in pngs + [TARGET.file("workbook"), TARGET.table("summary")]:
        assert p in text, p
    with zipfile.ZipFile(zipped) as z:
        names = z.namelist()
    assert "report/report.html" in names
    assert sum(n.endswith(".png") for n in names) == len(pngs)
    assert any(n.endswith(Path(TARGET.file("workbook")).name) for n in names)


def test_report_tables_match_the_parquet(small_run):
    run = layout(small_run)
    rounds = pd.read_parquet(run.file("rounds"))
    summary = pd.read_csv(run.table("summary"))
    np.testing.assert_allclose(summary["cv_mean"], rounds["cv_mean"], rtol=1e-5)
    assert summary["selected"].sum() == 1
    sel = pd.read_csv(run.table("selected"))
    assert sel["feature"].tolist() == selected(small_run)["feature"].tolist()
    metrics = pd.read_csv(run.table("metrics"))
    assert len(metrics) == 3 * len(rounds)
    elim = pd.read_csv(run.table("elimination"))
    assert len(elim) == len(SMALL_CONFIG["data"]["features"])


def _chromium(*args, timeout=120):
    profile = tempfile.mkdtemp(prefix="rfe-chromium-")
    try:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--disable-background-networking", "--disable-component-update", "--no-first-run",
             f"--user-data-dir={profile}", "--virtual-time-budget=10000", *args],
            capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def test_report_renders_in_a_real_browser(small_run, reports, tmp_path):
    if CHROMIUM is None:  # CI sets RFE_REQUIRE_BROWSER=1 once it has installed Chromium: then this fails instead
        skip_or_fail("no Chromium browser found (Debian: apt-get install chromium)", "RFE_REQUIRE_BROWSER")
    html = reports[0].resolve()
    shot = tmp_path / "report.png"
    _chromium(f"--screenshot={shot}", "--window-size=1400,1000", html.as_uri())
    assert shot.is_file() and shot.stat().st_size > 20_000
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)
    assert img.shape[:2] == (1000, 1400) and img[..., :3].std() > 0.05  # a page was drawn, not a blank

    dom = _chromium("--dump-dom", html.as_uri()).stdout
    rendered = re.sub(r"<script.*?</script>", "", dom, flags=re.S)  # what the page's JavaScript built
    r = int(selected(small_run)["round"].iloc[0])
    # the menu lists every category, the selected round marked
    assert "<span>Across rounds</span>" in rendered
    for k in range(3):
        assert f"<span>Round {k:03d}{' (selected)' if k == r else ''}</span>" in rendered, k
    assert f"Round {r} selected: {len(selected(small_run))} features" in rendered  # the landing page's description
