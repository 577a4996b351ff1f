"""Wall time of one round's plot jobs at ``-j 1`` and ``-j 2`` (and what one plot job costs inside).

    python bench/plots.py                                  # round 2 of results/example (run the example first)
    python bench/plots.py --configfile my.yaml --round 0 --jobs 1 2 4 --repeat 3

The finished run is copied to a temporary working directory, and Snakemake redraws exactly the round's PNGs
there (``--force`` on those targets). Each setting runs ``--repeat`` times and the fastest is kept (the
machine may be shared). "jobs" is the run's wall time minus a dry run's with the same targets (parsing and
building the DAG), i.e. the time the plot jobs themselves took; their CPU time (Snakemake's and the jobs', minus
the dry run's) does not depend on how busy the machine is. The in-process figures (import cost and drawing time
per figure) say where a job's time goes.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"
sys.path.insert(0, str(REPO))  # rfe_lib (this script runs as python bench/plots.py)
from rfe_lib.layout import Layout  # noqa: E402


def _cpu() -> float:
    """CPU seconds (user + system) of every finished child process, their own children included."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _snakemake(workdir: Path, *args: str) -> tuple[float, float]:
    """Run Snakemake; return its wall and CPU seconds (Snakemake and the jobs it ran)."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "-d", str(workdir), "--configfile",
           str(workdir / "config.yaml"), "--rerun-triggers", "mtime", *args]
    t0, c0 = time.perf_counter(), _cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(f"snakemake {' '.join(args)} failed:\n{proc.stderr[-4000:]}")
    return wall, cpu


def _copy_run(workdir: Path, configfile: Path, tmp: Path) -> tuple[Path, Layout]:
    """A copy of the finished run in ``tmp``; ``tmp`` and the run's paths relative to it (strings: targets)."""
    import yaml

    cfg = yaml.safe_load(configfile.read_text())
    run = Layout.of(cfg.get("run_name", "example"))
    source = workdir / run.root
    if not Layout(source).file("selected").is_file():
        raise SystemExit(f"{source} is not a finished run: run the workflow first")
    data = Path(cfg["data"]["path"])
    cfg["data"]["path"] = str(data if data.is_absolute() else (workdir / data).resolve())
    (tmp / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    redrawn = (Path(run.plots_dir).name, Path(run.file("workbook")).name)  # left out of the copy
    shutil.copytree(source, tmp / run.root, symlinks=True, ignore=shutil.ignore_patterns(*redrawn))
    return tmp, run


def _in_process(run_dir: Path, r: int, names: list[str], cfg: dict) -> tuple[float, dict[str, float]]:
    """Import cost of a plot job (fresh interpreter) and drawing + saving time of each figure."""
    code = ("import time; t = time.perf_counter(); import rfe_lib.figures.draw, rfe_lib.job; "
            "print(time.perf_counter() - t)")
    imports = min(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                       cwd=REPO).stdout) for _ in range(3))
    from types import SimpleNamespace

    from rfe_lib.figures import registry
    from rfe_lib.figures.draw import draw as draw_figure
    from rfe_lib.figures.style import save
    from rfe_lib.importance import round_methods
    from rfe_lib.settings import Settings

    settings = Settings.from_config(cfg)
    inputs = {key: str(registry.input_path(Layout(run_dir), key, r)) for key in registry.INPUTS}
    plan = SimpleNamespace(eliminate=[1] * (r + 1))
    opts = registry.round_options(settings, plan, r, round_methods(settings, [0])[0])
    draw = {}
    with tempfile.TemporaryDirectory() as out:
        for name in names:
            t = time.perf_counter()
            save(draw_figure(name, inputs, opts), Path(out) / f"{name}.png", dpi=settings.plots.dpi)
            draw[name] = time.perf_counter() - t
    return imports, draw


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=REPO, help="working directory of the finished run")
    ap.add_argument("--configfile", type=Path, default=Path("config/round.yaml"))
    ap.add_argument("--round", type=int, default=2)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    workdir = args.workdir.resolve()
    configfile = args.configfile if args.configfile.is_absolute() else workdir / args.configfile

    import yaml

    cfg = yaml.safe_load(configfile.read_text())
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="rfe-bench-plots-") as tmp:
        tmp, run = _copy_run(workdir, configfile, Path(tmp))
        finished = Layout(workdir / run.root)
        pngs = sorted(finished.plot("*", args.round).parent.glob(finished.plot("*", args.round).name))
        if not pngs:
            raise SystemExit(f"no PNGs of round {args.round} in {finished.plots_dir}: run the workflow first")
        targets = [run.plot(p.stem, args.round) for p in pngs]
        _snakemake(tmp, "-j", "2", *targets)  # draw once (warm caches, fonts), then time redraws
        dry, dry_cpu = min(_snakemake(tmp, "-n", "--force", "-j", "1", *targets) for _ in range(args.repeat))
        rows = []
        for j in args.jobs:
            wall, cpu = min(_snakemake(tmp, "--force", "-j", str(j), *targets) for _ in range(args.repeat))
            rows.append((j, wall, wall - dry, cpu - dry_cpu))
        imports, draw = _in_process(tmp / run.root, args.round, [p.stem for p in pngs], cfg)

    n = len(targets)
    print(f"# Plot jobs of round {args.round} ({n} PNGs), {os.cpu_count()} CPUs, "
          f"load average {load_before:.1f} before / {os.getloadavg()[0]:.1f} after")
    print(f"dry run (parse + DAG): {dry:.1f} s wall, {dry_cpu:.1f} s CPU\n")
    print("| -j | wall | plot jobs (wall - dry run) | wall per PNG | CPU of the plot jobs | CPU per PNG |")
    print("| --- | --- | --- | --- | --- | --- |")
    for j, wall, jobs, cpu in rows:
        print(f"| {j} | {wall:.1f} s | {jobs:.1f} s | {jobs / n:.2f} s | {cpu:.1f} s | {cpu / n:.2f} s |")
    if len(rows) >= 2 and rows[-1][2] > 0:
        print(f"\nspeed-up -j {rows[-1][0]} vs -j {rows[0][0]}: {rows[0][2] / rows[-1][2]:.2f}x")
    print(f"\nin one job: imports {imports:.2f} s (rfe_lib.figures: numpy, pyarrow, matplotlib); drawing and saving:")
    for name, s in draw.items():
        print(f"  {name:28s} {s:.2f} s")


if __name__ == "__main__":
    main()
