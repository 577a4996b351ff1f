"""Every figure of a run, declared once: its file name, the job family that draws it, the inputs and options it
reads, its title, report subcategory and caption, and its draw function. No matplotlib here.

The workflow reads this registry when it is parsed (which PNGs each round has, what each figure job reads and
which settings reach it), the report's captions are written from it, and the tests read it. To add a round
figure, add a :class:`Figure` to :data:`ROUND_FIGURES` and its draw function to a module of
:mod:`rfe_lib.figures` (see docs/contributing.md).

A figure's draw function is ``draw(inputs, options, **args) -> matplotlib Figure``: ``inputs`` maps the keys of
:data:`INPUTS` it ``needs`` to paths, ``options`` holds the :func:`round_options` it reads, and ``args`` are the
instance's arguments (``k`` for ``residuals_top{k}``). Captions are Jinja templates that Snakemake renders when it
builds the report, with ``r`` (the round), ``p`` (the job's options) and the instance's arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

# What a round figure may read: input key -> (the round's or the run's, the artifact's key in rfe_lib.layout).
INPUTS = {
    "predictions": ("round", "predictions"),
    "metrics": ("round", "metrics"),
    "importance": ("round", "importance"),
    "hpo": ("round", "results"),
    "table": ("run", "table"),
    "feature_map": ("run", "feature_map"),
}


def input_path(layout, key: str, r):
    """The path of the figure input ``key`` for round ``r``, in the run's :class:`~rfe_lib.layout.Layout`."""
    level, artifact = INPUTS[key]
    return layout.round_file(r, artifact) if level == "round" else layout.file(artifact)
TARGET = ("target", "unit", "angle", "round")  # every figure labels its axes with the target


@dataclass(frozen=True)
class Figure:
    name: str                     # the PNG's file stem; a template for parametrised figures: "residuals_top{k}"
    family: str                   # figures of one family in one round are drawn by one job
    title: str                    # a short label in the report ("residuals vs top feature {k}")
    subcategory: str              # the report's subcategory
    needs: tuple[str, ...]        # input keys (see INPUTS)
    options: tuple[str, ...]      # option keys it reads (see round_options)
    draw: str                     # "module:function" in rfe_lib.figures
    caption: str                  # Jinja + reStructuredText
    instances: Callable | None = None  # (round context) -> list of argument dicts; None = one figure per round

    def names(self, ctx) -> list[tuple[str, dict]]:
        """``(file stem, arguments)`` of every instance of this figure in a round."""
        args = [{}] if self.instances is None else self.instances(ctx)
        return [(self.name.format(**a), a) for a in args]


@dataclass(frozen=True)
class RoundContext:
    """What decides which figures a round has."""

    n_features: int
    top_features: int
    varying: tuple[str, ...]      # grid parameters with two or more values
    n_rungs: int = 1              # stages of the round's search (successive halving: more than one)


def _top(ctx) -> list[dict]:
    return [{"k": k} for k in range(1, min(ctx.top_features, ctx.n_features) + 1)]


def _params(ctx) -> list[dict]:
    return [{"param": p} for p in ctx.varying]


def _heatmap(ctx) -> list[dict]:
    return [{}] if len(ctx.varying) >= 2 else []


def _rungs(ctx) -> list[dict]:
    return [{}] if ctx.n_rungs > 1 else []


_TOLERANCES = "±{{ p.tolerances | join(', ±') }}"
ROUND_FIGURES = (
    Figure("pred_vs_actual", "errors", "predicted vs actual", "Errors", ("predictions", "metrics"), TARGET,
           "errors:draw_predicted_vs_actual",
           "Round {{ r }}: predicted against actual ``{{ p.target }}`` for the validation and test rows, with the "
           "identity line (perfect predictions). The legend gives each set's RMSE, MAE, R², bias and row count.\n"
           "{% if p.angle %}Angles are in degrees; each prediction is drawn on the turn nearest its actual value."
           "{% endif %}"),
    Figure("residuals_vs_pred", "errors", "residuals vs predicted", "Errors", ("predictions",),
           (*TARGET, "tolerances"), "errors:draw_residuals_vs_predicted",
           "Round {{ r }}: error (predicted − actual) of each validation and test row against its prediction, with a "
           "running median (a systematic bias shows as a curve away from zero) and the tolerance lines "
           + _TOLERANCES + "."),
    Figure("residual_hist", "errors", "residual histogram", "Errors", ("predictions",), (*TARGET, "tolerances"),
           "errors:draw_residual_histogram",
           "Round {{ r }}: distribution of the validation and test errors (share of each set's rows per bin), over the "
           "shaded tolerance bands " + _TOLERANCES + ". The axis ends at the 99.5th percentile of \\|error\\|."),
    Figure("abs_error_cdf", "errors", "cumulative |error|", "Errors", ("predictions",), (*TARGET, "tolerances"),
           "errors:draw_abs_error_cdf",
           "Round {{ r }}: share of rows whose \\|error\\| is at most x, for the training (dotted), validation and test "
           "rows. The dashed lines are the tolerances {{ p.tolerances | join(', ') }}; the legend gives the share of "
           "rows within each."),
    Figure("residuals_top{k}", "top", "residuals vs top feature {k}", "Residuals vs top features",
           ("predictions", "importance", "table", "feature_map"), (*TARGET, "metric", "cyclic", "importance_title"),
           "residuals:draw_residuals_vs_top_feature",
           "Round {{ r }}: validation and test errors against the round's top feature {{ k }} by {{ p.importance_title }} "
           "(the subtitle names it and gives its importance). A feature with few distinct values is shown as box plots "
           "per value; otherwise as points with a running median and interquartile band. Sin/cos-encoded features are "
           "shown as their original value.", instances=_top),
    Figure("importance", "importance", "feature importance", "Importance", ("importance",),
           (*TARGET, "metric", "n_eliminated", "importance_title", "importance_definition", "importance_axis"),
           "importance:draw_importance",
           "Round {{ r }}: {{ p.importance_title }}: {{ p.importance_definition }} (positive: the feature helps), as "
           "the mean ± std over folds (diamonds) and each fold's value (dots), most important first. "
           "{% if p.n_eliminated %}The {{ p.n_eliminated }} in red leave after this round.{% endif %}"),
    Figure("hpo_param_{param}", "hpo", "HPO: CV loss vs {param}", "Hyperparameters", ("hpo",), (*TARGET, "metric"),
           "hpo:draw_parameter",
           "Round {{ r }}: mean CV {{ p.metric | upper }} of every configuration of the grid against its value of "
           "``{{ param }}``; the dashed line joins the best configuration for each value, the star is the round's "
           "best.", instances=_params),
    Figure("hpo_heatmap", "hpo", "HPO heat map", "Hyperparameters", ("hpo",), (*TARGET, "metric"),
           "hpo:draw_heatmap",
           "Round {{ r }}: the best mean CV {{ p.metric | upper }} for each pair of values of the two most influential "
           "parameters (influence: the range of the mean CV loss over a parameter's values); the outlined cell holds "
           "the round's best configuration. Grey cells: no configuration has that pair.", instances=_heatmap),
    Figure("hpo_ranked", "hpo", "HPO configurations ranked", "Hyperparameters", ("hpo",),
           (*TARGET, "metric", "ranked_configs"), "hpo:draw_ranked",
           "Round {{ r }}: the configurations ranked by mean CV {{ p.metric | upper }} (best on the left), with ± one "
           "standard deviation over folds and each fold's loss. Tick labels are configuration ids (see the HPO sheet "
           "of report.xlsx). With successive halving, the configurations of the last rung (the full resource)."),
    Figure("hpo_rungs", "hpo", "HPO: successive halving", "Hyperparameters", ("hpo",), (*TARGET, "metric"),
           "hpo:draw_rungs",
           "Round {{ r }}: successive halving. Each rung scores its candidates with a share of the resource (the tick "
           "labels) and the best go on to the next rung (blue; grey: stopped there); the last rung scores its "
           "candidates on every row of every fold. Lines trace the last rung's configurations back; the star is the "
           "round's best (mean CV {{ p.metric | upper }}).", instances=_rungs),
)

SUMMARY_FIGURES = (
    Figure("loss_vs_features", "summary", "loss vs number of features", "Figures", ("rounds", "selected"),
           ("target", "unit", "angle", "metric"), "summary:draw_loss_vs_features",
           "CV {{ p.metric | upper }} (mean over folds, with a ± std band) and the validation and test metrics of every "
           "round against its number of features; the selected round is starred at the loss its rule chose it by. "
           "The middle panel is each round's optimism: its validation {{ p.metric | upper }} minus its CV "
           "{{ p.metric | upper }}. The elimination chose features by the CV loss, so a growing positive optimism "
           "means the CV loss flatters the later rounds; the validation rows were never used to choose anything. "
           "The round numbers are on the top axis."),
    Figure("elimination_order", "summary", "elimination order", "Figures",
           ("rounds", "selected", "eliminated", "last_importance"), ("target", "unit", "angle", "metric",
                                                                      "importance_title"),
           "summary:draw_elimination_order",
           "The elimination order: every feature, in the order it left (first at the top), with its importance in the "
           "round it left (features kept to the last round: their importance there). Features in the selected round "
           "are in colour."),
    Figure("correlated_groups", "summary", "correlated features", "Figures", ("correlated",),
           ("target", "unit", "angle", "threshold", "action"), "summary:draw_correlated_groups",
           "Groups of features whose absolute Spearman correlation on the training rows is at least "
           "{{ p.threshold }} (connected components, ordered by name), with each member's correlation with the target. "
           "features.correlated.action: ``{{ p.action }}``{% if p.action == 'group' %}: each group was one feature for "
           "elimination{% elif p.action == 'prune' %}: only each group's member most correlated with the target (in "
           "colour) entered round 0{% else %}: nothing changed, every feature was eliminated on its own{% endif %}."),
)
# A repeated run's figures (rfe.repeats > 1), drawn once per run in place of the summary figures.
REPEAT_FIGURES = (
    Figure("outer_curve", "repeats", "outer curve", "Repeats", ("curve", "rounds", "final_summary"),
           ("target", "unit", "angle", "metric"), "repeats:draw_outer_curve",
           "The outer curve: the validation {{ p.metric | upper }} of each repeat's round against its number of "
           "features (thin grey lines), their mean and ± one standard error across repeats (the band). Each repeat "
           "drew its own training and validation rows and folds, and never used its validation rows to search or "
           "eliminate, so the curve is not flattered by the folds that drove the elimination. The star is the size "
           "``rfe.select`` chose on the curve, at the curve's estimate; the diamond is the final model's loss on the "
           "test rows (the consensus set, searched and fitted on every non-test row)."),
    Figure("stability_heatmap", "repeats", "stability heat map", "Repeats", ("survival", "stability", "final_summary"),
           ("target", "unit", "angle"), "repeats:draw_stability",
           "Stability of the selection: for every feature (rows, most stable first) and every number of features "
           "(columns), the share of repeats whose round of that size still holds the feature. The chosen size is "
           "outlined. A correlated group counts as its members."),
    Figure("consensus_shares", "repeats", "consensus set", "Repeats", ("stability", "final_summary"),
           ("target", "unit", "angle"), "repeats:draw_consensus",
           "The consensus set (in colour): the features with the highest share of repeats in which they survive to "
           "the chosen size (ties: the later mean survival round, then the name), and the next features for "
           "comparison. With a median share under the dashed line the selection is not stable: read the list as one "
           "of many near-equivalent lists."),
    Figure("final_pred_vs_actual", "repeats", "final model: predicted vs actual", "Final model",
           ("final_predictions", "final_metrics"), ("target", "unit", "angle"),
           "repeats:draw_final_predicted_vs_actual",
           "The final model (the consensus set, searched and fitted on every non-test row) on the test rows, which no "
           "repeat used: predicted against actual ``{{ p.target }}``, with the identity line. The legend gives the "
           "test RMSE, MAE, R², bias and row count.\n"
           "{% if p.angle %}Angles are in degrees; each prediction is drawn on the turn nearest its actual value."
           "{% endif %}"),
    Figure("final_abs_error_cdf", "repeats", "final model: cumulative |error|", "Final model",
           ("final_predictions",), ("target", "unit", "angle", "tolerances"), "repeats:draw_final_abs_error_cdf",
           "The final model's share of rows whose \\|error\\| is at most x, for its training rows (dotted) and the test "
           "rows. The dashed lines are the tolerances {{ p.tolerances | join(', ') }}; the legend gives the share of "
           "rows within each."),
)
# A group or time split's figure (issue 20); a stratified run has none (its outputs stay what they were).
SPLIT_FIGURE = Figure(
    "split", "summary", "the split", "Figures", ("split",),
    ("split_method", "split_column", "folds", "time_folds"), "split:draw_split",
    "{% if p.split_method == 'time' %}The split by time (``{{ p.split_column }}``): every row along the time axis. "
    "The top lane shows the sets: the test rows are the latest, the validation rows the span before them, then "
    "(with split.gap) the rows left out before them, then the training rows. Each of the {{ p.folds }} CV folds' "
    "lanes shows its held-out block and the rows it fits on ({{ p.time_folds }} folds); white spans are rows the "
    "fold does not use (the gap{% if p.time_folds == 'forward' %}, or the future{% endif %}).{% else %}The split "
    "by groups of ``{{ p.split_column }}``: the size of every group (rows) among each CV fold's held-out rows, the "
    "validation rows and the test rows. No group is in two folds or sets.{% endif %}")
_BY_NAME = {f.name: f for f in ROUND_FIGURES + SUMMARY_FIGURES + REPEAT_FIGURES + (SPLIT_FIGURE,)}


def summary_figures(settings) -> tuple[Figure, ...]:
    """The figures across rounds of a run: :data:`SUMMARY_FIGURES`, and the split's for a group or time split."""
    return SUMMARY_FIGURES + ((SPLIT_FIGURE,) if settings.split.method != "stratified" else ())


def varying_params(grid) -> tuple[str, ...]:
    from ..grid import varying_params as varying

    return tuple(varying(grid))


def round_figures(n_features: int, settings, n_rungs: int = 1) -> list[tuple[str, Figure, dict]]:
    """``(file stem, figure, arguments)`` of every figure of a round with ``n_features`` features and a search of
    ``n_rungs`` rungs."""
    ctx = RoundContext(n_features, settings.plots.top_features, varying_params(settings.hpo.grid), n_rungs)
    return [(name, fig, args) for fig in ROUND_FIGURES for name, args in fig.names(ctx)]


def figure(name: str) -> tuple[Figure, dict]:
    """The figure that draws the PNG ``name``, and the instance's arguments."""
    if name in _BY_NAME:
        return _BY_NAME[name], {}
    for fig in ROUND_FIGURES:
        if fig.instances is None:
            continue
        pattern = re.escape(fig.name).replace(r"\{", "{").replace(r"\}", "}")
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>.+)", pattern)
        m = re.fullmatch(pattern, name)
        if m:
            return fig, {k: int(v) if v.isdigit() else v for k, v in m.groupdict().items()}
    raise ValueError(f"unknown figure {name!r}")


def title(name: str) -> str:
    """The short label of the PNG ``name`` in the report."""
    fig, args = figure(name)
    return fig.title.format(**args)


def round_options(settings, plan, r: int, method) -> dict:
    """Every option a round figure may read (each figure job gets the ones its figures declare)."""
    return {
        "target": settings.data.target, "unit": settings.plots.target_unit, "angle": settings.target_angle,
        "round": r, "metric": settings.hpo.metric, "tolerances": settings.evaluation.tolerances,
        "cyclic": settings.features.cyclic, "n_eliminated": plan.eliminate[r],
        "ranked_configs": settings.plots.ranked_configs,
        "importance_title": method.title, "importance_definition": method.definition.format(
            metric=settings.hpo.metric.upper()),
        "importance_axis": method.axis_label,
    }


def summary_options(settings, importance_title: str) -> dict:
    return {"target": settings.data.target, "unit": settings.plots.target_unit, "angle": settings.target_angle,
            "metric": settings.hpo.metric, "importance_title": importance_title,
            "threshold": settings.features.correlated["threshold"], "action": settings.features.correlated["action"],
            "tolerances": settings.evaluation.tolerances,
            "split_method": settings.split.method, "folds": settings.split.folds,
            "split_column": settings.split.group_column or settings.split.time_column,
            "time_folds": settings.split.time_folds}


def pick(options: dict, figures) -> dict:
    """The options that ``figures`` read."""
    keys = {k for f in figures for k in f.options}
    return {k: v for k, v in options.items() if k in keys}


def caption_template(name: str) -> str:
    """The caption of the PNG ``name`` as the Jinja template Snakemake renders for the report."""
    fig, args = figure(name)
    head = "{% set p = snakemake.params.options %}"
    if fig.family not in ("summary", "repeats"):
        head += "{% set r = snakemake.wildcards.r | int %}"
    head += "".join("{% set " + k + " = " + repr(v) + " %}" for k, v in args.items())
    return head + "\n" + fig.caption + "\n"


@dataclass(frozen=True)
class FigureGroup:
    """The figures of one family that a set of rounds share: one job per round draws them (one rule per group)."""

    family: str                   # the family, or "round" for all figures of a round
    names: tuple[str, ...]
    rounds: tuple[int, ...]
    rule: str

    def figures(self) -> list[Figure]:
        return [figure(name)[0] for name in self.names]

    def needs(self) -> list[str]:
        return list(dict.fromkeys(k for f in self.figures() for k in f.needs))


def figure_groups(schedule, settings, per: str = "round", rungs=None) -> list[FigureGroup]:
    """The round figures of a run (``schedule``: features per round), grouped into jobs: ``per="round"`` draws
    all figures of a round in one job, ``per="family"`` one job per round and family. Rounds that do not have
    exactly the same figures (the last rounds may have fewer top features) get a rule of their own, so each rule's
    outputs are exactly its rounds' PNGs: ``figures`` (or ``figures_<family>``) for the most common variant,
    ``..._<n>`` with its number of figures for the others. ``rungs``: the number of rungs of each round's search."""
    by_key: dict[str, dict[int, list[str]]] = {}
    for r, n in enumerate(schedule):
        for name, fig, _ in round_figures(n, settings, rungs[r] if rungs else 1):
            key = "" if per == "round" else fig.family
            by_key.setdefault(key, {}).setdefault(r, []).append(name)
    groups, used = [], set()
    for key, per_round in by_key.items():
        variants: dict[tuple, list[int]] = {}
        for r, names in per_round.items():
            variants.setdefault(tuple(names), []).append(r)
        common = max(variants, key=lambda v: len(variants[v]))
        for names, rounds in variants.items():
            rule = "_".join(filter(None, ("figures", key, None if names == common else str(len(names)))))
            base, k = rule, 1
            while rule in used:  # two variants with as many figures (halving's rungs figure in some rounds only)
                k += 1
                rule = f"{base}_v{k}"
            used.add(rule)
            groups.append(FigureGroup(key or "round", names, tuple(rounds), rule))
    return groups
