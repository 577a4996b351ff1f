"""The one visual style of every figure: colours, fonts, figure sizes, axis labels with units, saving.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure`` on the Agg canvas), never
with ``pyplot``: no global figure state, no GUI backend, and about half a second less start-up per plot
job. The style is applied with :func:`styled` (an ``rc_context`` around the drawing code), so importing
this module changes nothing globally.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot; a plot job never opens a window

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..metrics import metric_label  # noqa: E402

# Okabe-Ito colours: distinguishable with every common colour-vision deficiency.
SET_COLORS = {"train": "#8C8C8C", "val": "#0072B2", "test": "#D55E00"}
SET_NAMES = {"train": "training", "val": "validation", "test": "test"}
ACCENT = "#009E73"      # "the chosen one": selected round, kept features
BEST = "#E69F00"        # best configuration marker
MUTED = "#B8B8B8"       # context: eliminated features, other configurations
BAD = "#CC3311"         # eliminated after this round
INK = "#222222"         # lines of reference (identity, zero)
TOLERANCE_ALPHA = (0.22, 0.14, 0.08, 0.05)  # nested tolerance bands, innermost darkest
TOLERANCE_COLOR = "#009E73"
CMAP = "viridis_r"      # heat maps of a loss: low (good) is bright

WIDTH, HEIGHT = 8.0, 5.0  # inches; times plots.dpi gives the size in pixels
MAX_POINTS = 20_000     # scatter plots draw at most this many points per set (a seeded random sample)

RC = {
    "font.size": 10.5,
    "axes.titlesize": 12.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 11,
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E5E5E5",
    "grid.linewidth": 0.7,
    "axes.axisbelow": True,
    "xtick.labelsize": 9.5,
    "ytick.labelsize": 9.5,
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "legend.fontsize": 9.5,
    "legend.frameon": True,
    "legend.framealpha": 0.9,
    "legend.edgecolor": "#DDDDDD",
    "figure.titlesize": 13.5,
    "figure.titleweight": "bold",
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "lines.linewidth": 1.6,
    "scatter.edgecolors": "none",
    "image.cmap": CMAP,
}


def styled(func):
    """Decorator: draw ``func``'s figure under the project's rc settings."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(RC):
            return func(*args, **kwargs)

    return wrapper


def figure(nrows: int = 1, ncols: int = 1, width: float = WIDTH, height: float = HEIGHT, **subplot_kw):
    """A new figure on the Agg canvas with constrained layout, and its axes (squeezed like pyplot's)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=True, **subplot_kw)
    return fig, axes


def save(fig, path, dpi: int) -> None:
    """Write ``fig`` as PNG to ``path`` at ``dpi`` (the run's ``plots.dpi``), atomically (temporary file, rename)."""
    from ..io import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})


def message_figure(title: str, text: str):
    """A figure that says why there is nothing to plot (so every expected PNG exists and explains itself)."""
    fig, ax = figure(height=3.5)
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=12, color="#555555", wrap=True,
            transform=ax.transAxes)
    return fig


@dataclass(frozen=True)
class Target:
    """The target's name and unit, for axis labels. Angle targets are shown in degrees, whatever their unit."""

    name: str
    unit: str | None = None
    angle: str | None = None  # None, "degrees" or "radians"

    @property
    def shown_unit(self) -> str | None:
        return "°" if self.angle else self.unit

    @property
    def error_unit(self) -> str:
        """Unit of an error or a loss: the target's unit; without one configured, the target's name (an
        error of 12 [bikers] is 12 bikers)."""
        return self.shown_unit or self.name

    def label(self, what: str, unit: str | None = "") -> str:
        """``what [unit]``; ``unit=""`` means the target's unit, ``None`` means no unit."""
        unit = self.shown_unit if unit == "" else unit
        return f"{what} [{unit}]" if unit else what

    def to_shown(self, values):
        """Values in the target's unit -> the unit the figures show (degrees for a radian angle)."""
        import numpy as np

        values = np.asarray(values, dtype=float)
        return np.degrees(values) if self.angle == "radians" else values

    def scalar(self, value: float) -> float:
        return math.degrees(value) if self.angle == "radians" else float(value)

    def error_label(self, what: str = "error (predicted − actual)") -> str:
        return self.label(f"wrapped {what}" if self.angle else what, self.error_unit)

    def loss_unit(self, metric: str) -> str:
        """Unit of a CV loss: the target's unit (its square for mse). Losses are not converted: a radian
        angle target's losses are in radians."""
        unit = "rad" if self.angle == "radians" else self.error_unit
        return f"{unit}²" if metric == "mse" else unit


def metric_name(metric: str) -> str:
    """The label of a loss or metric on a figure: :func:`rfe_lib.metrics.metric_label` (metrics.py names them)."""
    return metric_label(metric)


def fmt(value, digits: int = 3) -> str:
    """A number with ``digits`` significant digits, thousands separated, no scientific notation for usual sizes."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    value = float(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude >= 6 or magnitude < -4:
        return f"{value:.{digits - 1}e}"
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:,.{decimals}f}"
    whole, _, decimals = text.partition(".")
    return whole if decimals and not decimals.strip("0") else text  # 10.0 -> 10, but 1.30 stays


def percent(fraction: float) -> str:
    return "–" if fraction is None or math.isnan(fraction) else f"{100 * fraction:.0f}%"


def sample(n_rows: int, max_rows: int = MAX_POINTS, seed: int = 0):
    """Positions of at most ``max_rows`` of ``n_rows`` rows: all of them, or a seeded random sample in their
    original order (the rows ``DataFrame.sample(n=max_rows, random_state=seed).sort_index()`` picks)."""
    import numpy as np

    if n_rows <= max_rows:
        return np.arange(n_rows)
    return np.sort(np.random.RandomState(seed).choice(n_rows, size=max_rows, replace=False))
