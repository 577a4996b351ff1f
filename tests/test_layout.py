"""The layout module is the one place artifact paths are spelled: it names every file a real run writes."""

import doctest
import re
from pathlib import Path

import rfe_lib.layout
from conftest import TARGET, run_dir
from rfe_lib.layout import ROUND_FILES, RUN_FILES, Layout


def test_doctests():
    assert doctest.testmod(rfe_lib.layout).failed == 0


def test_string_and_path_roots_give_the_same_paths(tmp_path):
    as_str, as_path = Layout(str(tmp_path / "results" / "x")), Layout.of("x", tmp_path / "results")
    for args in [("file", "split"), ("round_file", 7, "importance"), ("hpo_shard", 2, 3, 11), ("hpo_shard", 0, 0, 1),
                 ("importance_shard", 12, 0), ("plot", "importance", 1), ("plot", "loss_vs_features"),
                 ("table", "summary"), ("caption", "hpo_rungs"), ("log", "eliminate", 4), ("benchmark", "hpo_shard_01", 0)]:
        p = getattr(as_path, args[0])(*args[1:])
        assert isinstance(p, Path) and str(p) == getattr(as_str, args[0])(*args[1:])
    assert as_str.hpo_shard(0, 0, 3).endswith("round_000/hpo/shard_03.parquet")
    assert as_str.hpo_shard("{r}", "{g}", "{s}").endswith("round_{r}/hpo/rung_{g}/shard_{s}.parquet")


def _patterns(layout: Layout) -> list[re.Pattern]:
    """Every path the layout can name, with its wildcards as regular expressions."""
    wild = {"{r}": r"\d{3}", "{s}": r"\d{2}", "{g}": r"[1-9]\d*", "{name}": r"[\w.-]+", "{job}": r"[\w.-]+"}
    paths = [layout.file(k) for k in RUN_FILES] + [layout.round_file("{r}", k) for k in ROUND_FILES]
    paths += [layout.hpo_shard("{r}", 0, "{s}"), layout.hpo_shard("{r}", "{g}", "{s}"),
              layout.importance_shard("{r}", "{s}"), layout.plot("{name}", "{r}"), layout.plot("{name}"),
              layout.table("{name}"), layout.caption("{name}"), layout.log("{job}"), layout.log("{job}", "{r}"),
              layout.benchmark("{job}"), layout.benchmark("{job}", "{r}")]
    out = []
    for p in paths:
        rx = re.escape(p)
        for w, sub in wild.items():
            rx = rx.replace(re.escape(w), sub)
        out.append(re.compile(rx))
    return out


def test_every_file_of_a_real_run_is_named_by_the_layout(small_run):
    run = run_dir(small_run)
    patterns = _patterns(TARGET)
    files = [f"{TARGET.root}/{p.relative_to(run).as_posix()}" for p in run.rglob("*") if p.is_file()]
    assert len(files) > 50
    unnamed = [f for f in files if not any(rx.fullmatch(f) for rx in patterns)]
    assert unnamed == [], f"artifacts with no Layout method: {unnamed}"


def test_round_of_reads_the_innermost_round_folder():
    from rfe_lib.layout import round_of

    layout = Layout("results/round_7")  # a run may be called anything
    assert round_of(layout.hpo_shard(12, 2, 3)) == 12 and round_of(layout.round_file(0, "best")) == 0
    import pytest

    with pytest.raises(ValueError):
        round_of(layout.file("rounds"))
