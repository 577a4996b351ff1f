"""Configuration checks that the JSON schema cannot express, and the round schedule.

:func:`check_config` turns JSON-schema violations into one message per problem that names the key
(``rfe.step``) and, for a misspelt key, suggests the right one. :func:`round_schedule` fixes the
number of rounds and the features eliminated in each from the feature count alone, so the whole DAG
(every round's jobs) is known when the workflow is parsed.
"""

from __future__ import annotations

import difflib
import math

from . import RFEError


def _key_path(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _expect(schema: dict) -> str:
    """A sub-schema in words, e.g. ``an integer >= 1`` or ``'auto'``."""
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(map(repr, schema["enum"]))
    types = schema.get("type", "value")
    words = " or ".join(types) if isinstance(types, list) else types
    bounds = [f"{op} {schema[key]}" for key, op in (("minimum", ">="), ("exclusiveMinimum", ">"),
                                                   ("maximum", "<="), ("exclusiveMaximum", "<")) if key in schema]
    return f"{'an' if words[0] in 'aeiou' else 'a'} {words}" + (f" {' and '.join(bounds)}" if bounds else "")


def _describe(error) -> str:
    where = _key_path(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        parts = []
        extra = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        for key in extra:
            full = f"{where}.{key}" if error.absolute_path else key
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            prefix = f"{where}." if error.absolute_path else ""
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else f"; allowed keys here: {', '.join(allowed)}"
            parts.append(f"unknown config key '{full}'{hint}")
        return "\n".join(parts) if parts else f"{where}: {error.message}"
    if error.validator == "required":
        return f"config key '{where}' is missing a required entry: {error.message}"
    desc = schema.get("description")
    value = error.instance
    if error.validator in ("type", "enum", "oneOf", "const", "not", "minimum", "maximum",
                           "exclusiveMinimum", "exclusiveMaximum", "minLength", "minItems",
                           "maxItems", "pattern"):
        msg = f"config key '{where}' has an invalid value {value!r}: {error.message}"
        if error.validator == "enum":
            msg = f"config key '{where}' must be one of {error.validator_value}, got {value!r}"
        if error.validator == "type":
            msg = f"config key '{where}' must be of type {error.validator_value}, got {value!r} ({type(value).__name__})"
        if error.validator == "oneOf":
            expected = " or ".join(_expect(s) for s in error.validator_value if isinstance(s, dict))
            msg = f"config key '{where}' has an invalid value {value!r}; expected {desc or expected}"
            desc = None
        if desc:
            msg += f" (expected: {desc})"
        return msg
    return f"config key '{where}': {error.message}"


def _yaml_problems(value, path=()) -> list[str]:
    """What JSON schema cannot see in a YAML config: non-string keys (``1: x``) and NaN or infinite numbers."""
    problems = []
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                problems.append(f"config key '{_key_path((*path, k))}' must be a string, got {k!r} "
                                f"({type(k).__name__}); quote it in the YAML file")
            else:
                problems.extend(_yaml_problems(v, (*path, k)))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            problems.extend(_yaml_problems(v, (*path, i)))
    elif isinstance(value, float) and not math.isfinite(value):
        problems.append(f"config key '{_key_path(path)}' must be a finite number, got {value!r}")
    return problems


def _strict_validator(schema: dict):
    """The schema's validator class, with ``integer`` meaning a true integer (JSON schema also accepts 3.0,
    which would reach ``range()`` in a job as a float)."""
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    checker = cls.TYPE_CHECKER.redefine("integer", lambda _, v: isinstance(v, int) and not isinstance(v, bool))
    return jsonschema.validators.extend(cls, type_checker=checker)


def check_config(config: dict, schema: dict) -> None:
    """Raise :class:`RFEError` listing every schema violation of ``config`` in plain words."""
    if not isinstance(config, dict) or not config:
        raise RFEError("the configuration is empty: pass one with --configfile config/round.yaml")
    problems = _yaml_problems(config)
    if problems:
        raise RFEError("invalid configuration:\n  - " + "\n  - ".join(problems))
    errors = sorted(_strict_validator(schema)(schema).iter_errors(config),
                    key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [_describe(e) for e in errors]
        raise RFEError("invalid configuration:\n  - " + "\n  - ".join(lines))


def n_eliminated(n_features: int, step, min_features: int) -> int:
    """How many features leave a round that has ``n_features``: ``step`` (or that fraction of the
    current count, at least 1), never going below ``min_features``."""
    if isinstance(step, bool) or step <= 0:
        raise RFEError(f"rfe.step must be a positive integer or a fraction in (0, 1), got {step!r}")
    if isinstance(step, float) and not step.is_integer():
        if not 0 < step < 1:
            raise RFEError(f"rfe.step as a fraction must lie in (0, 1), got {step!r}")
        k = max(1, math.floor(step * n_features))
    else:
        k = int(step)
    return max(0, min(k, n_features - min_features))


def round_schedule(n_features: int, step, min_features: int) -> list[int]:
    """Feature counts of every round, from ``n_features`` down to ``min_features``.

    >>> round_schedule(12, 1, 3)
    [12, 11, 10, 9, 8, 7, 6, 5, 4, 3]
    >>> round_schedule(100, 0.5, 10)
    [100, 50, 25, 13, 10]
    """
    if min_features < 1:
        raise RFEError(f"rfe.min_features must be at least 1, got {min_features}")
    if min_features >= n_features:
        raise RFEError(
            f"rfe.min_features ({min_features}) must be below the number of features ({n_features}): "
            f"there is nothing to eliminate. Lower rfe.min_features or add features."
        )
    counts = [n_features]
    while True:
        k = n_eliminated(counts[-1], step, min_features)
        if k == 0:
            return counts
        counts.append(counts[-1] - k)


def resolve_shards(requested, n_items: int, cpus: int) -> int:
    """Shard count: ``auto`` means one per CPU; never more shards than items, never fewer than one."""
    wanted = cpus if requested == "auto" else int(requested)
    return max(1, min(wanted, n_items))
