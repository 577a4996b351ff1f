"""The hyperparameter grid: a lazy view in scikit-learn ``ParameterGrid`` order, its size, and the types and
distinct values of its parameters (for the result tables and the figures). Its check against the estimator is
:func:`rfe_lib.models.check_grid`.

A configuration's id is its position in the grid, so it is stable for a given grid whatever the search strategy.
"""

from __future__ import annotations

import json


def grid_list(grid) -> list[dict]:
    """A grid spec as a list of dicts (a dict is one)."""
    return [grid] if isinstance(grid, dict) else list(grid)


class Grid:
    """A lazy view of a parameter grid: ``len`` and ``grid[i]`` without building the whole list.

    Order follows scikit-learn's ``ParameterGrid`` (keys sorted, the last key varying fastest), so a
    configuration's id is stable for a given grid.
    """

    def __init__(self, grid):
        from sklearn.model_selection import ParameterGrid

        self._pg = ParameterGrid(grid_list(grid))

    def __len__(self) -> int:
        return len(self._pg)

    def __getitem__(self, i: int) -> dict:
        return self._pg[i]

    def param_names(self) -> list[str]:
        names = []
        for g in self._pg.param_grid:
            for k in sorted(g):
                if k not in names:
                    names.append(k)
        return names


def grid_neighbors(grid, config_id: int) -> list[int]:
    """The ids of the configurations one step away from ``config_id`` along one parameter of its (sub-)grid: the
    value listed just before it, then just after, parameter by parameter in sorted order; without sklearn.

    Ids follow ``ParameterGrid``: sub-grids one after another; within one, its keys sorted and the last varying
    fastest. A parameter with one value has no neighbours; nor do values of other sub-grids."""
    offset = 0
    for g in grid_list(grid):
        keys = sorted(g)
        sizes = [len(g[k]) for k in keys]
        total = 1
        for n in sizes:
            total *= n
        if config_id >= offset + total:
            offset += total
            continue
        strides = [1] * len(keys)
        for j in range(len(keys) - 2, -1, -1):
            strides[j] = strides[j + 1] * sizes[j + 1]
        local = config_id - offset
        out = []
        for stride, n in zip(strides, sizes):
            index = local // stride % n
            out += [offset + local + d * stride for d in (-1, 1) if 0 <= index + d < n]
        return out
    raise IndexError(f"config id {config_id} is outside a grid of {offset} configurations")


def grid_size(grid) -> int:
    """Number of configurations of a grid spec (dict of lists or list of dicts), computed without sklearn."""
    total = 0
    for g in grid_list(grid):
        n = 1
        for values in g.values():
            n *= len(values) if isinstance(values, list) else 1
        total += n
    return total


def params_json(params: dict) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def _param_type(values):
    import pyarrow as pa

    vals = [v for v in values if v is not None]
    if vals and all(isinstance(v, bool) for v in vals):
        return pa.bool_()
    if vals and all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return pa.int64()
    if vals and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return pa.float64()
    return pa.string()


def param_types(grid) -> dict:
    """Arrow type of each ``param_<name>`` column, from the grid spec's value lists."""
    values = {}
    for g in grid_list(grid):
        for k, vs in g.items():
            values.setdefault(k, []).extend(vs)
    return {k: _param_type(values[k]) for k in sorted(values)}


def param_cell(value, arrow_type):
    """A parameter value as stored in its ``param_<name>`` column (JSON text in a string column)."""
    import pyarrow as pa

    if value is None:
        return None
    if arrow_type == pa.string():
        return value if isinstance(value, str) else json.dumps(value, default=str)
    if arrow_type == pa.float64():
        return float(value)
    return value


def grid_values(grid) -> dict[str, list]:
    """Every parameter of a grid spec (dict or list of dicts) and its distinct values, in first-seen order."""
    values: dict[str, list] = {}
    for g in grid_list(grid):
        for name in sorted(g):
            seen = values.setdefault(name, [])
            keys = {json.dumps(v, sort_keys=True, default=str) for v in seen}
            for v in g[name] if isinstance(g[name], list) else [g[name]]:
                key = json.dumps(v, sort_keys=True, default=str)
                if key not in keys:
                    keys.add(key)
                    seen.append(v)
    return values


def varying_params(grid) -> list[str]:
    """Grid parameters that take at least two values (a parameter with one value has nothing to compare)."""
    return sorted(name for name, vals in grid_values(grid).items() if len(vals) >= 2)
