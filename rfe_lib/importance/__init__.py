"""Importance methods (``rfe.importance``): how a round measures which features to eliminate.

Every method implements :class:`~rfe_lib.importance.base.ImportanceMethod`. To add one, write a module beside
:mod:`rfe_lib.importance.lofo` and add its class to :data:`METHODS`.
"""

from __future__ import annotations

from .base import ImportanceMethod, importance_table
from .lofo import LOFO

METHODS: dict[str, type[ImportanceMethod]] = {cls.name: cls for cls in (LOFO,)}


def importance_method(name: str, settings) -> ImportanceMethod:
    """The method called ``name``, with its settings."""
    return METHODS[name].from_settings(settings)


def round_methods(settings, schedule) -> list[ImportanceMethod]:
    """The method of every round of ``schedule`` (features per round)."""
    method = importance_method(settings.rfe.importance, settings)
    return [method for _ in schedule]


def from_params(params: dict) -> ImportanceMethod:
    """The method a job gets as ``params`` (:meth:`ImportanceMethod.to_params`)."""
    return METHODS[params["name"]](**{k: v for k, v in params.items() if k != "name"})


__all__ = ["METHODS", "ImportanceMethod", "from_params", "importance_method", "importance_table", "round_methods"]
