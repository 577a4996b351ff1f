"""Drawing a job's figures: each PNG named in the job's outputs is looked up in the registry and drawn by its draw
function, then saved atomically. The family modules are imported here by name, so that the workflow's code
fingerprint of the figure jobs covers every one of them."""

from __future__ import annotations

import logging

from . import errors, hpo, importance, repeats, residuals, split, summary
from .registry import figure
from .style import save

MODULES = {m.__name__.rpartition(".")[2]: m for m in (errors, hpo, importance, repeats, residuals, split, summary)}


def draw(name: str, inputs: dict, options: dict):
    """The matplotlib figure of the PNG ``name`` (a registry name such as ``residuals_top2``)."""
    fig, args = figure(name)
    module, _, function = fig.draw.partition(":")
    return getattr(MODULES[module], function)(inputs, options, **args)


def draw_figures(outputs: dict, inputs: dict, options: dict, dpi: int, logger=None) -> None:
    """Draw and save every figure of ``outputs`` (PNG name -> path)."""
    logger = logger or logging.getLogger("rfe")
    for name, path in outputs.items():
        save(draw(name, inputs, options), path, dpi=dpi)
        logger.info("wrote %s", path)
