"""Budget presets and the time box (issue 19), computed from the plan's own counts.

A *preset* is a setting of ``hpo.search``, ``hpo.carry`` and ``rfe.importance``. :data:`PRESETS` lists them from
the least aggressive (the exhaustive grid search) to the most (random search with the ranking carried), each
first with the configured importance method, then with ``rfe.importance: auto`` where that makes fewer fits.

A preset's wall time is estimated from its job *waves*: the jobs a run must finish before the next can start
(the data jobs, then per round the search's rungs, the importance jobs beside the round's model, the
elimination; the summary at the end). A wave of ``J`` jobs sharing ``W`` seconds of fits, on ``C`` cores, takes
``ceil(J / C) * (W / J + job start-up) + the wave's scheduling latency``; the run takes the sum over its waves
(the critical path). On this invocation's cores the latency is 0; on a cluster it is ``budget.wave_seconds``.
Fit seconds are the plan's calibration fit (:func:`rfe_lib.plan.estimate.calibrate`) times the fit-equivalents,
a round's fits scaled by its features when the plan measured how a fit shrinks with the columns: ``a + (1 - a) *
n_r / n_0`` of a round-0 fit, ``a`` from a second calibration fit on a tenth of the columns.

The time box (``budget.hours``) takes the first preset of the table whose estimate fits, and refuses the run,
table shown, when none does.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

from .. import RFEError

CARRY = {"top": "auto", "refresh": 0}
# (name, keys of hpo it sets), least aggressive first.
PRESETS = (
    ("exhaustive", {"search": "grid", "carry": None}),
    ("grid+carry", {"search": "grid", "carry": CARRY}),
    ("halving+carry", {"search": "halving", "carry": CARRY}),
    ("random+carry", {"search": "random", "carry": CARRY}),
)
DATA_WAVES = 3      # validate_data, engineer_features, split_data: one after another before round 0
SUMMARY_WAVES = 1   # summarize, after the last round
# Start-up of one job slot: Snakemake starting the job, a Python process importing numpy, pandas and scikit-learn,
# reading its inputs. 1.1 s is the overhead benchmark's figure for a fitting job (docs/benchmarks.md); four runs of
# different shapes on a quiet machine gave 0.9-1.2 s per slot (`python -m bench estimate`).
JOB_SECONDS = 1.1
SHOW_ABOVE = 3600.0  # the plan prints the table when the exhaustive estimate on -j cores is above this


@dataclass(frozen=True)
class Machine:
    """Where a run is estimated: ``cores`` cores, ``wave_seconds`` of scheduling latency per job wave."""

    cores: int
    wave_seconds: float = 0.0
    job_seconds: float = JOB_SECONDS
    label: str = ""
    shard_cpus: int | None = None  # the CPU count auto shards are cut for there (None: this invocation's)


@dataclass(frozen=True)
class Preset:
    name: str                 # e.g. "halving+carry, importance auto"
    hpo: dict                 # hpo keys it sets
    rfe: dict                 # rfe keys it sets
    settings: object          # the run's settings with the preset applied
    fits: int                 # model fits (HPO, importance, the rounds' models)
    fit_equivalents: float    # the same, HPO fits weighted by their share of the full resource
    waves: int                # sequential job waves (the critical path's length)
    cpu_seconds: float | None
    wall: tuple               # estimated wall seconds per machine (None without a calibration fit)

    def config_lines(self) -> list[str]:
        """The lines to set in the config file (each section's keys, to merge into that section)."""
        lines = [f"hpo: {_flow(self.hpo)}"]
        if self.rfe:
            lines.append(f"rfe: {_flow(self.rfe)}")
        return lines


def _flow(value) -> str:
    """A value in YAML flow style: ``{search: grid, carry: {top: auto, refresh: 0}}``."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    return str(value)


def apply(settings, hpo: dict, rfe: dict):
    """``settings`` with the hpo and rfe keys of a preset replaced."""
    return dataclasses.replace(settings, hpo=dataclasses.replace(settings.hpo, **hpo),
                               rfe=dataclasses.replace(settings.rfe, **rfe))


def round_size(plan, r: int) -> float:
    """A fit of round ``r`` in round 0's fits: the calibration's fixed part, the rest in proportion to the features
    (1.0 when the plan did not measure the column share)."""
    fixed = getattr(plan, "column_fixed_share", None)
    return 1.0 if fixed is None else fixed + (1 - fixed) * plan.schedule[r] / plan.schedule[0]


def waves(plan, settings, cpus: int) -> list[tuple[float, int]]:
    """The run's job waves in order: (work, jobs) each, with shards cut for ``cpus`` CPUs as ``auto`` would cut
    them. Work is in round-0 fits: fit-equivalents, each weighted by its round's size when the plan measured how
    a fit's time shrinks with the columns (``column_fixed_share``)."""
    from ..importance import round_methods
    from ..schedule import resolve_shards
    from ..search import search_strategy

    strategy = search_strategy(settings, plan)
    folds = plan.n_folds
    out = [(0.0, 1)] * DATA_WAVES
    for r, (n, method) in enumerate(zip(plan.schedule, round_methods(settings, plan.schedule))):
        size = round_size(plan, r)
        for rung in strategy.rungs(r):
            jobs = resolve_shards(settings.hpo.shards, rung.n_candidates, cpus, folds)
            out.append((rung.n_candidates * rung.resource_fraction * folds * size, jobs))
        shards = method.shards(settings.importance.shards, n, folds, cpus)
        out.append(((method.fits(n, folds, shards) + 1) * size, shards + 1))  # importance beside the round's model
        out.append((0.0, 1))  # the elimination
    return out + [(0.0, 1)] * SUMMARY_WAVES


def wall_seconds(wave_list, seconds_per_fit: float, machine: Machine) -> float:
    """The critical path of ``wave_list`` on ``machine`` (see the module's docstring)."""
    total = 0.0
    for fit_equivalents, jobs in wave_list:
        total += (math.ceil(jobs / machine.cores) * (fit_equivalents * seconds_per_fit / jobs + machine.job_seconds)
                  + machine.wave_seconds)
    return total


def presets(plan, settings, cpus: int, machines: list[Machine], first_only: bool = False) -> list[Preset]:
    """The presets of :data:`PRESETS` that the run's grid allows (random search only when the grid has more
    configurations than ``hpo.random.n_candidates``), each with ``rfe.importance: auto`` after it when that makes
    fewer importance fits; their fits from :func:`rfe_lib.plan.fits.round_fits` and their wall time on each of
    ``machines`` (``cpus``: the CPU count ``auto`` shards are cut for on this invocation). ``first_only``: the
    exhaustive preset alone (whether the table is worth showing: the other presets' strategies are not built)."""
    from ..importance import round_methods
    from .fits import round_fits, totals

    out = []
    for name, hpo in PRESETS:
        if hpo["search"] == "random" and settings.hpo.random["n_candidates"] >= plan.n_configs:
            continue
        variants = [(name, {})]
        if settings.rfe.importance != "auto":
            variants.append((f"{name}, importance auto", {"importance": "auto"}))
        base_fits = None
        for label, rfe in variants:
            s = apply(settings, hpo, rfe)
            try:
                methods = round_methods(s, plan.schedule)
                shards = [m.shards(s.importance.shards, n, plan.n_folds, cpus) for n, m in zip(plan.schedule, methods)]
                t = totals(round_fits(plan, s, shards))
            except RFEError:  # the grid or the data does not allow this search (e.g. carry.top above the pool)
                continue
            if rfe and base_fits is not None and t["importance"] >= base_fits:
                continue  # auto makes no fewer fits here (every round at most rfe.lofo_below features)
            if any(p.fit_equivalents == t["total"] and p.fits == t["fits"] for p in out):
                continue  # the same fits as a less aggressive preset (carry.top covers the whole pool)
            base_fits = t["importance"] if not rfe else base_fits
            spf = plan.seconds_per_fit
            wall = tuple(None if spf is None else wall_seconds(waves(plan, s, m.shard_cpus or cpus),
                                                               spf, m) for m in machines)
            out.append(Preset(name=label, hpo=dict(hpo), rfe=rfe, settings=s, fits=int(t["fits"]),
                              fit_equivalents=float(t["total"]), waves=len(waves(plan, s, cpus)),
                              cpu_seconds=None if spf is None else spf * t["total"], wall=wall))
            if first_only:
                return out
    return out


def choose(table: list[Preset], hours: float, index: int) -> Preset | None:
    """The first preset (least aggressive) whose estimate on machine ``index`` fits in ``hours``, or None."""
    for p in table:
        if p.wall[index] is not None and p.wall[index] <= hours * 3600:
            return p
    return None


def render(table: list[Preset], machines: list[Machine], chosen: Preset | None = None) -> str:
    """The presets table as the plan prints it, with the config lines of each preset."""
    from .estimate import human

    heads = ["preset", "fits", "fit-equiv.", "waves", *(m.label for m in machines)]
    rows = [[p.name, f"{p.fits:,}", f"{p.fit_equivalents:,.0f}", str(p.waves),
             *("n/a" if w is None else human(w) for w in p.wall)] for p in table]
    widths = [max(len(r[i]) for r in [heads, *rows]) for i in range(len(heads))]
    line = lambda cells, mark: (f"    {mark} " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                                         for i, (c, w) in enumerate(zip(cells, widths))))
    out = [line(heads, " ")]
    out += [line(r, "*" if chosen is not None and p.name == chosen.name else " ") for r, p in zip(rows, table)]
    out.append("    config lines of each preset (merge the keys into the config's hpo: and rfe: sections), or give a "
               "time box, budget: {hours: H}, to choose one:")
    out += [f"      {p.name}: " + "  ".join(p.config_lines()) for p in table]
    return "\n".join(out)


def machines_of(settings, cores: int) -> list[Machine]:
    """The table's machines: this invocation's ``cores`` (-j), and the SLURM allocation of ``budget``."""
    b = settings.budget
    return [Machine(cores, 0.0, label=f"-j {cores}"),
            Machine(b.cluster_cores, float(b.wave_seconds), shard_cpus=b.cluster_cores,
                    label=f"SLURM {b.cluster_cores} cores, {b.wave_seconds:g} s/wave")]


@dataclass(frozen=True)
class Budget:
    """What the plan says about presets and the time box, and the settings the run uses."""

    settings: object        # the settings the run uses (the chosen preset's, or the configured ones)
    chosen: Preset | None   # the preset the time box chose (None without a box)
    why: str                # one sentence: which preset and why (empty without a box)
    text: str               # the plan's lines (the table), empty when not shown


ENV = "RFE_BUDGET_PRESET"  # the chosen preset's name, exported by the main process to the jobs it starts


def budget_plan(plan, settings, cores: int, cpus: int, on_cluster: bool = False, main_process: bool = True) -> Budget:
    """The presets table and the time box's choice. ``cores``: the -j cores of this invocation; ``cpus``: the CPU
    count ``auto`` shards are cut for; ``on_cluster``: a non-local executor (the box then counts
    ``budget.wave_seconds`` per wave); ``main_process``: False in a job that re-parses the workflow, which takes
    the preset the main process chose and exported (:data:`ENV`) whatever its own cores, so every job of a run
    uses the same settings. Raises :class:`RFEError` with the
    table when no preset fits the box."""
    from .estimate import human

    b = settings.budget
    machines = machines_of(settings, cores)
    box, index = None, 0
    if b.hours is not None:
        box = Machine(b.cores or cores, float(b.wave_seconds) if on_cluster else 0.0,
                      label=f"box: {b.cores or cores} cores" + (f", {b.wave_seconds:g} s/wave" if on_cluster else ""))
        if b.cores is not None or on_cluster:  # else the box is the table's first column, -j cores here
            machines.append(box)
            index = len(machines) - 1
    # Without a box, the table is shown only above SHOW_ABOVE: the exhaustive preset first tells whether (building
    # the other presets' strategies imports the estimator, about half a CPU-second at every Snakemake start).
    table = presets(plan, settings, cpus, machines, first_only=box is None)
    exhaustive = table[0].wall[0] if table and table[0].wall[0] is not None else None
    show = box is not None or (exhaustive is not None and exhaustive > SHOW_ABOVE)
    if box is None and show:
        table = presets(plan, settings, cpus, machines)
    if box is None:
        text = ("  presets (the exhaustive search would take about " + human(exhaustive) + f" on {cores} cores):\n"
                + render(table, machines)) if show else ""
        return Budget(settings, None, "", text)
    if plan.seconds_per_fit is None:
        raise RFEError("budget.hours needs a time estimate, and the plan's calibration fit failed: remove "
                       "budget.hours and choose a preset's lines yourself")
    if not main_process and os.environ.get(ENV):
        chosen = next((p for p in table if p.name == os.environ[ENV]), None)
    else:
        chosen = choose(table, b.hours, index)
    if chosen is None:
        fastest = min(table, key=lambda p: p.wall[index])
        raise RFEError(
            f"budget: no preset fits in {b.hours:.3g} h on {box.cores} cores (the fastest, {fastest.name}, would "
            f"take about {human(fastest.wall[index])}). Raise budget.hours or budget.cores, shrink hpo.grid, or "
            "remove budget and set a search yourself:\n" + render(table, machines))
    why = (f"budget: {chosen.name}, the least aggressive preset whose estimate (about {human(chosen.wall[index])} "
           f"on {box.cores} cores) fits in {b.hours:.3g} h"
           + ("" if chosen is table[0] else
              f"; {table[0].name} would take about {human(table[0].wall[index])}"))
    text = f"  {why}:\n" + render(table, machines, chosen)
    if main_process:
        os.environ[ENV] = chosen.name
    return Budget(chosen.settings, chosen, why, text)
