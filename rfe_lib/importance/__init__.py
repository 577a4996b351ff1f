"""Importance methods (``rfe.importance``): how a round measures which features to eliminate.

Every method implements :class:`~rfe_lib.importance.base.ImportanceMethod`. To add one, write a module beside
:mod:`rfe_lib.importance.lofo` and add its class to :data:`METHODS`.
"""

from __future__ import annotations

from .base import ImportanceMethod, ShardTask, importance_table
from .lofo import LOFO
from .permutation import Permutation

METHODS: dict[str, type[ImportanceMethod]] = {cls.name: cls for cls in (LOFO, Permutation)}
# rfe.importance: a method, or auto: permutation while a round has more than rfe.lofo_below features, LOFO after
CHOICES = (*METHODS, "auto")


def importance_method(name: str, settings, r: int = 0) -> ImportanceMethod:
    """The method called ``name``, with its settings, for round ``r``."""
    return METHODS[name].from_settings(settings, r)


def round_methods(settings, schedule) -> list[ImportanceMethod]:
    """The method of every round of ``schedule`` (features per round): ``rfe.importance``, or with ``auto``
    permutation importance while a round has more than ``rfe.lofo_below`` features and LOFO in the decisive last
    rounds."""
    choice = settings.rfe.importance
    names = [choice if choice != "auto" else ("permutation" if n > settings.rfe.lofo_below else "lofo")
             for n in schedule]
    return [importance_method(name, settings, r) for r, name in enumerate(names)]


def methods_title(methods) -> str:
    """One title for the methods of a run: the method's, or ``importance`` when rounds used different ones."""
    titles = {m.title for m in methods}
    return titles.pop() if len(titles) == 1 else "importance"


def from_params(params: dict) -> ImportanceMethod:
    """The method a job gets as ``params`` (:meth:`ImportanceMethod.to_params`)."""
    return METHODS[params["name"]](**{k: v for k, v in params.items() if k != "name"})


__all__ = ["CHOICES", "METHODS", "ImportanceMethod", "ShardTask", "from_params", "importance_method", "importance_table",
           "methods_title", "round_methods"]
