"""The texts of ``snakemake --report``: the workflow description (the report's front page, which states the selected
round, its features and its metrics) and the caption of every figure. A job writes them once the run has finished
(the description needs the results); Snakemake reads them when it builds the report."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..io import write_text
from ..layout import Layout
from ..metrics import EVALUATION_METRICS, metric_label, tolerance_column
from ..split import method_text


def run_facts(settings, plan, search, budget: str = "") -> dict:
    """What the description says about the run itself (known when the workflow is parsed; the report_texts job
    gets it as a param, so it reruns only when one of these changes). ``budget``: which preset the time box
    chose and why (rfe_lib.plan.presets; the key is left out without a box)."""
    full = [r for r in range(plan.n_rounds) if search.searches_fully(r)]
    return ({"budget": budget} if budget else {}) | {"run_name": settings.run_name, "target": settings.data.target,
            "estimator": settings.model.estimator.rpartition(".")[2], "metric": settings.hpo.metric,
            "folds": settings.split.folds, "select": settings.rfe.select,
            "tolerances": list(settings.evaluation.tolerances), "n_rows": plan.n_rows, "n_rounds": plan.n_rounds,
            "schedule": list(plan.schedule), "n_configs": plan.n_configs, "search": search.describe(),
            "carry": search.carry_top, "full_rounds": full if len(full) < plan.n_rounds else None,
            "repeats": settings.rfe.repeats,
            **({"weights": settings.data.weight_column} if settings.data.weight_column else {}),
            # a group or time split is named (a stratified run's description stays what it was)
            "split": None if settings.split.method == "stratified" else method_text(settings.split)}


def template_name(repeats: int) -> str:
    """The description's template in ``workflow/report/``: a run's, or a repeated run's."""
    return "workflow.rst" if repeats == 1 else "repeats.rst"


def repeats_context(run_dir, facts: dict) -> dict:
    """What a repeated run's description says: the run, and (once it has finished) its answer
    (``summary/final.parquet``) and the consensus set."""
    import pandas as pd

    layout = Layout(Path(run_dir))
    ctx = {**facts, "final": None}
    if not (layout.file("final_summary").is_file() and layout.file("selected").is_file()):
        return ctx
    final = pd.read_parquet(layout.file("final_summary")).iloc[0].to_dict()
    ctx["final"] = {k: (None if pd.isna(v) else v) for k, v in final.items()}
    ctx["consensus"] = pd.read_parquet(layout.file("selected"))[["feature", "share"]].to_dict("records")
    return ctx


def description_context(run_dir, facts: dict) -> dict:
    """What the report's workflow description says: the run (:func:`run_facts`), and (once the run has finished)
    the selected round, its features and its validation and test metrics."""
    import pandas as pd

    from .tables import selected_round, selection_warning

    layout = Layout(Path(run_dir))
    ctx = {**facts, "selected": None}
    sel_path, rounds_path = layout.file("selected"), layout.file("rounds")
    if not (sel_path.is_file() and rounds_path.is_file()):
        return ctx
    selected = pd.read_parquet(sel_path)
    rounds = pd.read_parquet(rounds_path).set_index("round")
    r = selected_round(selected)
    row = rounds.loc[r]

    def metrics_of(s):
        names = [*EVALUATION_METRICS, *(tolerance_column(t) for t in facts["tolerances"])]
        return {m: float(row[f"{s}_{m}"]) for m in names if f"{s}_{m}" in row.index}

    first = rounds.loc[rounds.index.min()]
    ctx["selected"] = {
        "round": r, "rule": str(selected["rule"].iloc[0]), "n_features": int(row["n_features"]),
        "features": [{"name": str(f), "importance": float(v)}
                     for f, v in zip(selected["feature"], selected["importance_mean"])],
        "cv_mean": float(row["cv_mean"]), "cv_std": float(row["cv_std"]), "params": json.loads(row["params"]),
        "grid_edge": str(row["grid_edge"]) if "grid_edge" in row.index else "",
        "stop_reason": next((str(v) for v in rounds.get("stop_reason", []) if v), ""),
        "val_loss": float(row["val_loss"]), "optimism": float(row["optimism"]),
        "first_round": int(rounds.index.min()), "first_val_loss": float(first["val_loss"]),
        "first_optimism": float(first["optimism"]), "warning": selection_warning(selected),
        "val": metrics_of("val"), "test": metrics_of("test"), "n_rounds": len(rounds),
    }
    return ctx


def _num(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}g}" if abs(value) < 1e6 else f"{value:.3e}"


def rst_label(metric: str) -> str:
    """A metric's label (:func:`rfe_lib.metrics.metric_label`) in reStructuredText (``|`` escaped)."""
    return metric_label(metric).replace("|", "\\|")


def render_description(template_path, context: dict) -> str:
    """Render the description template (Jinja2) to reStructuredText.

    Snakemake renders the result once more with Jinja2 at ``--report`` time, so it is wrapped in a raw
    block: nothing taken from the data (a feature name with braces) can be read as a template.
    """
    import jinja2

    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    env.filters["num"] = _num
    env.filters["pct"] = lambda v: "–" if v is None or math.isnan(v) else f"{100 * v:.1f}%"
    env.filters["label"] = rst_label
    text = env.from_string(Path(template_path).read_text()).render(**context)
    return "{% raw %}\n" + text.replace("{% endraw %}", "{ % endraw % }") + "\n{% endraw %}\n"


def write_texts(template_path, description_path, caption_paths: dict, run_dir, facts: dict) -> None:
    """Write the description and every figure caption (``caption_paths``: PNG name -> caption file)."""
    from ..figures.registry import caption_template

    context = (description_context if facts["repeats"] == 1 else repeats_context)(run_dir, facts)
    write_text(render_description(template_path, context), description_path)
    for name, path in caption_paths.items():
        write_text(caption_template(name), path)
