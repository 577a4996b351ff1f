"""The helpers of the budget benchmark (bench/budget.py): overlap, rank correlation, the in-process grid CV that
the regret uses, and the target verdicts of its tables. Cheap: no workflow run."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from conftest import REPO
from rfe_lib.layout import Layout

sys.path.insert(0, str(REPO))  # bench/ is the repository's benchmark suite, not an installed package
from bench import budget  # noqa: E402


def test_jaccard_and_spearman():
    assert budget.jaccard(["a", "b"], ["b", "c"]) == pytest.approx(1 / 3)
    assert budget.jaccard([], []) == 1.0
    assert budget.spearman({"a": 3, "b": 2, "c": 1}, {"a": 30, "b": 20, "c": 10, "d": 0}) == pytest.approx(1.0)
    assert budget.spearman({"a": 1, "b": 2}, {"a": 1, "b": 2}) is None  # too few in common


def _run_dir(tmp_path, n=60):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    y = X[:, 0] * 2 + rng.normal(scale=0.1, size=n)
    run = Layout(tmp_path / "run")
    for key in ("table", "split"):
        run.file(key).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2]}).to_parquet(run.file("table"))
    pd.DataFrame({"feature": ["a", "b", "c"], "column": ["a", "b", "c"], "kind": "numeric"}).to_parquet(
        run.file("feature_map"))
    sets = np.where(np.arange(n) < 50, "train", "test")
    folds = np.where(sets == "train", np.arange(n) % 2, -1)
    pd.DataFrame({"row": np.arange(n), "set": sets, "fold": folds, "y": y}).to_parquet(run.file("split"))
    return run.root, X, y, folds


def test_grid_cv_matches_a_plain_loop(tmp_path):
    from sklearn.ensemble import HistGradientBoostingRegressor

    run, X, y, folds = _run_dir(tmp_path)
    grid = {"max_leaf_nodes": [4, 8]}
    model = {"max_iter": 5, "random_state": 0}
    got = budget.grid_cv(run, ["a", "c"], grid, model)
    Xt, yt, ft = X[:50][:, [0, 2]], y[:50], folds[:50]
    for value, loss in zip(grid["max_leaf_nodes"], got):
        per = []
        for k in (0, 1):
            m = HistGradientBoostingRegressor(max_leaf_nodes=value, **model).fit(Xt[ft != k], yt[ft != k])
            per.append(np.sqrt(np.mean((yt[ft == k] - m.predict(Xt[ft == k])) ** 2)))
        assert loss == pytest.approx(np.mean(per), rel=1e-12)


def _run(fe, cpu, test, regret):
    return {"hpo_fit_equivalents": fe, "hpo_cpu": cpu, "test_rmse": test, "regret_median": regret}


def test_targets_pick_the_cheapest_setting_that_keeps_the_loss():
    runs = {"grid": _run(1000, 100, 1.0, 0.0), "random": _run(100, 10, 1.5, 3.0), "halving": _run(300, 40, 1.01, 0.5),
            "grid+carry": _run(150, 20, 1.015, 0.2)}
    name, _ = budget.best_budgeted(runs)
    assert name == "grid+carry"
    text = budget.targets_a("x", {"A": {"runs": runs}})
    assert "≥5x fewer HPO fit-equivalents: 6.7x **met**" in text and "≥4x less HPO CPU: 5.0x **met**" in text


def test_python_m_bench_lists_every_section_and_tool(capsys):
    """``python -m bench`` with no arguments lists the suite's sections and every tool, each tool a module of bench/
    with a ``main(argv)``; an unknown name is refused with the list."""
    import importlib

    from bench import __main__ as entry

    assert entry.main([]) == 0
    listed = capsys.readouterr().out
    for name in (*entry.SECTIONS, "all", "report", *entry.TOOLS):
        assert f"\n  {name} " in listed, name
    assert set(entry.SECTIONS) | {"all", "report"} == set(entry.SUITE)
    for name, (_, run) in entry.TOOLS.items():
        if name != "budget":
            assert callable(importlib.import_module(f"bench.{name}").main), name
    with pytest.raises(SystemExit, match="unknown section 'nosuch'"):
        entry.main(["hpo", "nosuch"])


def test_every_bench_command_the_docs_quote_exists():
    """Each ``python -m bench X`` in README.md and docs/*.md names a section or tool of the entry point, and each
    ``python -m bench.<module> ...`` a module of bench/ that runs as a script."""
    import re

    from bench import __main__ as entry

    docs = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    quoted = [(doc.name, m) for doc in docs for m in re.findall(r"python -m bench(\.\w+| \w+)", doc.read_text())]
    assert len(quoted) > 20
    for doc, m in quoted:
        if m.startswith("."):
            assert 'if __name__ == "__main__":' in (REPO / "bench" / f"{m[1:]}.py").read_text(), (doc, m)
        else:
            assert m.strip() in entry.SUITE or m.strip() in entry.TOOLS, (doc, m)
