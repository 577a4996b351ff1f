"""rfe_lib: the logic of the RFE pipeline, importable and testable without Snakemake.

Submodules are imported lazily by whoever needs them, so that a job pays only for what it uses
(a plotting job never imports scikit-learn; a merge job never imports matplotlib).
"""

__version__ = "0.1.0"


class RFEError(ValueError):
    """An input or configuration problem, with a message meant for the user."""
