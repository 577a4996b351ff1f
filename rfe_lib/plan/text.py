"""The plan as the user reads it when the workflow is parsed: rounds, fits and the time they should take."""

from __future__ import annotations

import os

from ..split import method_text
from .estimate import human
from .fits import round_fits, totals


def _schedule_text(schedule, head: int = 5, tail: int = 3) -> str:
    """``12 -> 11 -> 10``, shortened in the middle for long runs."""
    counts = list(map(str, schedule))
    if len(counts) > head + tail + 1:
        counts = counts[:head] + ["..."] + counts[-tail:]
    return " -> ".join(counts)


def _span(rounds: list[int]) -> str:
    """``0-5`` for consecutive rounds, else the list."""
    if rounds == list(range(rounds[0], rounds[-1] + 1)):
        return f"{rounds[0]}-{rounds[-1]}" if len(rounds) > 1 else str(rounds[0])
    return ", ".join(map(str, rounds))


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 else f"{x:,.1f}"


def split_text(split, set_sizes: dict, fold_sizes: list) -> str:
    """The plan's line on the split: the method, the rows of each set and the fitting/held-out rows of each fold."""
    sets = ", ".join(f"{name} {set_sizes[name]:,}" for name in ("train", "val", "test", "gap") if name in set_sizes)
    folds = ", ".join(f"{fit:,}/{held:,}" for fit, held in fold_sizes)
    return f"split {method_text(split)}: {sets} rows; folds (fitting/held-out rows): {folds}"


def describe(plan, settings, search, hpo_shards: int, importance_shards: list[int], estimate: float | None) -> str:
    """The printed plan of ``plan`` with ``settings`` and the run's search strategy ``search``."""
    from ..importance import round_methods

    strategy = search
    rounds = round_fits(plan, settings, importance_shards, search)
    fits = totals(rounds)
    methods = round_methods(settings, plan.schedule)
    titles = list(dict.fromkeys(m.title for m in methods))
    method_text = titles[0] if len(titles) == 1 else " then ".join(
        f"{t} (rounds {_span([r for r, m in enumerate(methods) if m.title == t])})" for t in titles)
    lines = [
        f"RFE plan for run '{settings.run_name}': {plan.n_rows} rows, {len(plan.features)} features "
        f"({plan.n_columns} model columns), {plan.n_rounds} rounds: {_schedule_text(plan.schedule)} features",
        f"  {settings.hpo.search}: {plan.n_configs} configurations (limit hpo.max_configs = {settings.hpo.max_configs}) "
        f"x {plan.n_folds} folds x {plan.n_rounds} rounds = {_num(fits['hpo_exhaustive'])} HPO fits"
        + (f" in {hpo_shards} shards/round" if fits["hpo"] == fits["hpo_exhaustive"] else " for the exhaustive grid")
        + f"; {method_text}: {_num(fits['importance'])} fits in up to {max(importance_shards)} shards/round; "
        f"{_num(fits['fits'])} fits in all",
    ]
    if fits["hpo_equivalents"] != fits["hpo_exhaustive"]:
        carry = ("" if strategy.carry_top is None else
                 f", carrying the previous round's top {strategy.carry_top} (full searches in rounds "
                 f"{_schedule_text([r.round for r in rounds if r.full_search])})")
        lines.append(
            f"  budgeted search: {strategy.describe()}{carry}: {_num(fits['hpo'])} HPO fits, "
            f"{_num(fits['hpo_equivalents'])} fit-equivalents, against {_num(fits['hpo_exhaustive'])} for the exhaustive "
            f"grid ({fits['hpo_exhaustive'] / max(fits['hpo_equivalents'], 1e-9):.1f}x fewer); per round: "
            + _schedule_text([_num(r.hpo_equivalents) + ("" if r.full_search else "c") for r in rounds],
                             head=4, tail=2).replace(" -> ", " ")
            + (" (c: carried)" if strategy.carry_top is not None else "")
        )
    if plan.set_sizes is not None:
        lines.append("  " + split_text(settings.split, plan.set_sizes, plan.fold_sizes))
    stop = settings.rfe.stop
    if stop is not None:
        lines.append(f"  early stopping (rfe.stop: patience {stop['patience']}, tolerance {stop['tolerance']:g} standard "
                     f"errors): each round's elimination decides whether the next round runs, so `snakemake -n` lists "
                     f"the jobs up to the next decision; the fits above are those of all {plan.n_rounds} planned rounds, "
                     "the most the run can make")
    cores = os.cpu_count() or 1
    if estimate is not None:
        lines.append(f"  estimated CPU time from finished HPO shards' benchmarks: {human(estimate)} "
                     f"(about {human(estimate / cores)} on {cores} cores)")
    elif plan.seconds_per_fit is not None:
        cpu = plan.seconds_per_fit * fits["total"]
        lines.append(f"  estimated CPU time from a calibration fit ({plan.seconds_per_fit:.2g} s per fit): {human(cpu)} "
                     f"(about {human(cpu / cores)} on {cores} cores; rough, before job start-up)")
    for w in plan.warnings:
        lines.append(f"  note: {w}")
    return "\n".join(lines)


def describe_repeats(settings, branches, final_search) -> str:
    """The plan's lines for a repeated run (``rfe.repeats`` > 1): ``branches`` holds each repeat's (plan, settings,
    search strategy, importance shards); ``final_search`` is the final model's search strategy (its round 0)."""
    repeats = [totals(round_fits(plan, s, shards, search)) for plan, s, search, shards in branches]
    plan = branches[0][0]
    final = final_search.fits(0, plan.n_folds)
    final_fits, final_equivalents = final["fits"] + 1, final["fit_equivalents"] + 1
    fits = sum(t["fits"] for t in repeats) + final_fits
    equivalents = sum(t["total"] for t in repeats) + final_equivalents
    schedules = {tuple(p.schedule) for p, *_ in branches}
    lines = [
        f"  repeats (rfe.repeats = {len(branches)}): the whole elimination {len(branches)} times, repeat i on its own "
        f"training and validation rows and folds (split.seed + i), every repeat with the same test rows; then the "
        f"consensus set searched and fitted on every non-test row and tested once: {_num(fits)} fits in all "
        f"({' + '.join(_num(t['fits']) for t in repeats)} for the repeats, {_num(final_fits)} for the final model)",
    ]
    if len(schedules) > 1:
        lines.append("  note: the repeats' feature counts differ (correlated groups are found on each repeat's "
                     "training rows); the outer curve uses the sizes every repeat reaches")
    if plan.seconds_per_fit is not None:
        cores = os.cpu_count() or 1
        cpu = plan.seconds_per_fit * equivalents
        lines.append(f"  estimated CPU time of all repeats from a calibration fit ({plan.seconds_per_fit:.2g} s per fit): "
                     f"{human(cpu)} (about {human(cpu / cores)} on {cores} cores; rough, before job start-up)")
    return "\n".join(lines)
