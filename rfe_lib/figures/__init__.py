"""Every figure of a run. :mod:`~rfe_lib.figures.registry` declares them (no matplotlib); the family modules
(:mod:`~rfe_lib.figures.errors`, :mod:`~rfe_lib.figures.residuals`, :mod:`~rfe_lib.figures.importance`,
:mod:`~rfe_lib.figures.hpo`, :mod:`~rfe_lib.figures.summary`) hold pure functions from tables to a matplotlib
``Figure`` and the draw functions the registry names; :mod:`~rfe_lib.figures.style` is the one visual style;
:mod:`~rfe_lib.figures.draw` draws a job's figures."""
