"""Compare the artifacts of two versions of the workflow, run on the same data and configuration.

    python tests/compare_trees.py OLD_TREE NEW_TREE [--case example small angle] [--out DIR] [--reuse]

Each tree (a checkout of this repository, e.g. ``git worktree add /tmp/old <commit>``) runs each case in a folder
of its own under ``--out``, with ``-j 2``; then every artifact of the old run is compared with the new run's, as
the reliability tests compare two runs (``tests/_reliability.py``: Parquet tables by value, order and dtype,
figures and CSV files byte for byte, models by what they predict, the workbook sheet by sheet; timing columns,
logs and benchmarks left out). ``RENAMED`` maps old artifact paths and sheet names to new ones, for a change that
renames them on purpose. The script prints what is identical, what differs, and what only one tree has, and
exits 1 if anything differs.

Cases: ``example`` (config/round.yaml on the bundled data), ``small`` (the tests' small run) and ``angle`` (the
tests' angle-target run: CSV input, angle and derived features, median imputation, a fractional step).
"""

from __future__ import annotations

import argparse
import copy
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # rfe_lib.layout, for the artifacts' paths
from _reliability import TIMING_ITEMS, artifacts as _artifacts  # noqa: E402
from conftest import ANGLE_CONFIG, SMALL_CONFIG, angle_frame, base_env, small_frame  # noqa: E402
from rfe_lib.layout import RESULTS, Layout  # noqa: E402

# Old path (a regular expression) -> new path; old workbook sheet -> new sheet.
RENAMED = [
    (r"(round_\d+)/lofo/(.*)", r"\1/importance/\2"),
    (r"plots/(round_\d+)/lofo_importance\.png", r"plots/\1/importance.png"),
]
RENAMED_SHEETS = {"LOFO": "Importance"}
RENAMED_KEYS = [(r"lofo\.(.*)", r"importance.\1"),  # config keys (the workbook's Config sheet)
                (r"rfe\.repeats", "rfe.shuffles")]  # permutation's shuffles; rfe.repeats now repeats the elimination


def prepare(case: str, workdir: Path, tree: Path) -> tuple[Path, str]:
    """Write the case's data and config into ``workdir``; return the config path and the run's name."""
    workdir.mkdir(parents=True, exist_ok=True)
    if case == "example":
        config = yaml.safe_load((tree / "config" / "round.yaml").read_text())
        data = workdir / "data" / "example"
        data.mkdir(parents=True, exist_ok=True)
        (data / "bikeshare.parquet").write_bytes((tree / "data" / "example" / "bikeshare.parquet").read_bytes())
    elif case == "small":
        config = copy.deepcopy(SMALL_CONFIG)
        small_frame().to_parquet(workdir / "data.parquet", index=False)
    elif case == "angle":
        config = copy.deepcopy(ANGLE_CONFIG)
        angle_frame().to_csv(workdir / "data.csv", index=False)
    else:
        raise SystemExit(f"unknown case {case!r}")
    new_layout = (tree / "rfe_lib" / "settings.py").exists()
    if new_layout and "lofo" in config:  # the section's name in each tree
        config["importance"] = config.pop("lofo")
    elif not new_layout and "importance" in config:
        config["lofo"] = config.pop("importance")
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path, config["run_name"]


def run(tree: Path, workdir: Path, configfile: Path) -> None:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(tree / "Snakefile"), "-d", str(workdir),
           "--configfile", str(configfile), "-j", "2"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=base_env())
    if proc.returncode:
        raise SystemExit(f"{tree} failed on {workdir}:\n{proc.stderr[-4000:]}")


def renamed(rel: str) -> str:
    for pattern, repl in RENAMED:
        if re.fullmatch(pattern, rel):
            return re.sub(pattern, repl, rel)
    return rel


def artifacts(run_dir: Path) -> dict:
    """Every artifact, a round's HPO or importance shards as one table: trees may cut the same rows into a
    different number of shards (``auto`` shard counts), which changes no result."""
    return _artifacts(run_dir, shard_union=True)


ADDED_COLUMNS: dict[str, list[str]] = {}  # artifact -> columns the new tree adds (the old columns being equal)


def _same_frame(a: pd.DataFrame, b: pd.DataFrame, rel: str = "") -> str | None:
    """None if equal, or if ``b`` only adds columns to ``a`` (recorded in ADDED_COLUMNS); else what differs."""
    added = [c for c in b.columns if c not in a.columns]
    if added and all(c in b.columns for c in a.columns):
        ADDED_COLUMNS[rel] = added
        b = b[list(a.columns)]
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        return None
    except AssertionError as exc:
        return str(exc).splitlines()[0] if str(exc) else "differs"


def _workbook(a: dict, b: dict, rel: str) -> tuple[list[str], list[str]]:
    """Differences, and notes on settings the new tree has that the old one did not (not differences)."""
    notes, info = [], []
    a = {RENAMED_SHEETS.get(k, k): v for k, v in a.items()}
    if list(a) != list(b):
        notes.append(f"sheets: old {list(a)} vs new {list(b)}")
    for sheet in a:
        if sheet not in b:
            continue
        x, y = a[sheet], b[sheet]
        if sheet == "Config":  # settings renamed or added: compare the rows both have, list the others
            x, y = x.set_index("key")["value"], y.set_index("key")["value"]
            # a key is renamed only in a tree from before the rename (one that has no key of the new name yet)
            x.index = [k if _renamed_key(k) in set(x.index) else _renamed_key(k) for k in x.index]
            only_old, only_new = sorted(set(x.index) - set(y.index)), sorted(set(y.index) - set(x.index))
            both = [k for k in x.index if k in y.index]
            differ = [k for k in both if x[k] != y[k] and not (pd.isna(x[k]) and pd.isna(y[k]))]
            if only_old or differ:
                notes.append(f"Config: settings only in old {only_old}, different {differ}")
            if only_new:
                info.append(f"new settings (their defaults): {', '.join(f'{k}={y[k]}' for k in only_new)}")
            continue
        if sheet == "Provenance":
            x = x[~x["item"].isin([*TIMING_ITEMS, "workflow commit", "python executable"])].reset_index(drop=True)
            y = y[~y["item"].isin([*TIMING_ITEMS, "workflow commit", "python executable"])].reset_index(drop=True)
        problem = _same_frame(x, y, f"{rel}[{sheet}]")
        if problem:
            notes.append(f"{sheet}: {problem}")
    return notes, info


def _renamed_key(key: str) -> str:
    for pattern, repl in RENAMED_KEYS:
        if re.fullmatch(pattern, key):
            return re.sub(pattern, repl, key)
    return key


def compare(old_run: Path, new_run: Path, new_tree: Path) -> bool:
    old = {renamed(k): v for k, v in artifacts(old_run).items()}
    new = artifacts(new_run)
    same, differ = [], []
    for rel in sorted(set(old) & set(new)):
        x, y = old[rel], new[rel]
        if isinstance(x, pd.DataFrame):
            problem = _same_frame(x, y, rel)
        elif rel.endswith(".xlsx"):
            problems, info = _workbook(x, y, rel)
            problem = "; ".join(problems) or None
            for line in info:
                print(f"  {rel}: {line}")
        elif rel.endswith(".joblib"):
            problem = None if (x["columns"], x["features"], x["params"]) == (y["columns"], y["features"], y["params"]) \
                else "saved columns, features or params differ"
            if problem is None:
                problem = _same_predictions(old_run, new_run, rel, new_tree)
        elif rel.endswith(".csv") and x != y:  # a table: compared as one, so added columns are told apart
            import io

            problem = _same_frame(pd.read_csv(io.BytesIO(x)), pd.read_csv(io.BytesIO(y)), rel)
        else:
            problem = None if x == y else "bytes differ"
        (differ if problem else same).append((rel, problem))
    only_old, only_new = sorted(set(old) - set(new)), sorted(set(new) - set(old))
    print(f"  identical: {len(same)} artifacts")
    added = {}
    for rel, columns in ADDED_COLUMNS.items():
        added.setdefault(tuple(columns), []).append(rel)
    for columns, rels in added.items():
        print(f"  identical but for added columns {', '.join(columns)}: {', '.join(_short(rels))}")
    ADDED_COLUMNS.clear()
    for rel, problem in differ:
        print(f"  DIFFERENT {rel}: {problem}")
    for rel in _folded(only_old):
        print(f"  only in the old tree's run: {rel}")
    for rel in _folded(only_new):
        print(f"  only in the new tree's run: {rel}")
    return not differ and not only_old


def _short(rels, n=3):
    return rels if len(rels) <= n else [*rels[:n], f"... ({len(rels)} in all)"]


def _folded(paths):
    """Paths, with the files of one folder counted instead of listed when there are many."""
    by_dir = {}
    for p in paths:
        by_dir.setdefault(str(Path(p).parent), []).append(p)
    for d, ps in by_dir.items():
        yield from ps if len(ps) <= 3 else [f"{d}/ ({len(ps)} files: {Path(ps[0]).name}, ...)"]


def _same_predictions(old_run: Path, new_run: Path, rel: str, new_tree: Path) -> str | None:
    sys.path.insert(0, str(new_tree))
    from rfe_lib.model_file import load_model
    from rfe_lib.training import load_columns

    preds = []
    for run_dir in (old_run, new_run):
        saved = load_model(run_dir / rel, run_dir)
        preds.append(saved["model"].predict(load_columns(Layout(run_dir).file("table"), saved["columns"])))
    return None if np.array_equal(preds[0], preds[1]) else "the models predict differently"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--case", nargs="+", default=["example", "small", "angle"])
    ap.add_argument("--out", type=Path, default=Path("compare-trees"))
    ap.add_argument("--reuse", action="store_true", help="keep finished runs in --out instead of running again")
    args = ap.parse_args(argv)
    ok = True
    for case in args.case:
        runs = {}
        for label, tree in (("old", args.old.resolve()), ("new", args.new.resolve())):
            workdir = (args.out / case / label).resolve()
            configfile, run_name = prepare(case, workdir, tree)
            layout = Layout.of(run_name, workdir / RESULTS)
            if not (args.reuse and layout.file("workbook").is_file()):
                run(tree, workdir, configfile)
            runs[label] = layout.root
        print(f"{case}: {runs['old']} vs {runs['new']}")
        ok &= compare(runs["old"], runs["new"], args.new.resolve())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
