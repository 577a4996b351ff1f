"""The configuration's JSON schema: loading it, checking a config against it in plain words, filling defaults.

:func:`check_config` turns JSON-schema violations into one message per problem that names the key
(``rfe.step``) and, for a misspelt key, suggests the right one. :func:`with_defaults` fills in the schema's
defaults, exactly as Snakemake's ``validate`` does: the schema is the only place a default is written.
"""

from __future__ import annotations

import copy
import math
from functools import lru_cache
from pathlib import Path

from . import RFEError
from .words import closest

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"
# Keys that were renamed: old dotted key -> new one (a config with the old key is told the new name).
RENAMED = {"lofo": "importance"}


@lru_cache(maxsize=None)
def _schema_text() -> str:
    return SCHEMA_PATH.read_text()


def load_schema() -> dict:
    """The configuration schema (``workflow/schemas/config.schema.yaml``), a fresh copy each call."""
    import yaml

    return yaml.safe_load(_schema_text())


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


def _object_errors(error) -> list:
    """For a mapping given to a ``oneOf`` that allows one mapping (or else null, ...): the errors inside it."""
    if not isinstance(error.instance, dict):
        return []
    objects = [i for i, s in enumerate(error.validator_value) if isinstance(s, dict) and s.get("type") == "object"]
    return [e for e in error.context or () if len(objects) == 1 and e.schema_path and e.schema_path[0] == objects[0]]


def _describe(error) -> str:
    where = _key_path(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        parts = []
        extra = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        for key in extra:
            full = f"{where}.{key}" if error.absolute_path else key
            close = closest(key, allowed)
            prefix = f"{where}." if error.absolute_path else ""
            hint = f"; did you mean '{prefix}{close}'?" if close else f"; allowed keys here: {', '.join(allowed)}"
            if full in RENAMED:
                hint = f": it is now called '{RENAMED[full]}' (same settings); rename it in your config file"
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
            inner = _object_errors(error)
            if inner:  # a mapping for a mapping-or-null key (rfe.stop, hpo.carry): what is wrong inside it
                return "\n".join(_describe(e) for e in inner)
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


def _written_problems(config: dict) -> list[str]:
    """Rules about what the config file writes, which the filled-in defaults hide (checked before Snakemake's
    ``validate`` fills them in)."""
    split = config.get("split")
    if isinstance(split, dict) and split.get("method") == "time" and "stratify_bins" in split:
        return ["split.stratify_bins cannot be used with split.method: time: a time split does not stratify by "
                "the target (its test rows are the latest, whatever their targets); remove split.stratify_bins"]
    return []


def _strict_validator(schema: dict):
    """The schema's validator class, with ``integer`` meaning a true integer (JSON schema also accepts 3.0,
    which would reach ``range()`` in a job as a float)."""
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    checker = cls.TYPE_CHECKER.redefine("integer", lambda _, v: isinstance(v, int) and not isinstance(v, bool))
    return jsonschema.validators.extend(cls, type_checker=checker)


def _validated(config: dict, schema: dict | None, written: bool, fill: bool) -> dict:
    """The one pass over ``config`` that :func:`check_config` and :func:`with_defaults` make: the YAML and
    written-keys problems, then the schema's violations, all listed at once in plain words (:class:`RFEError`). With
    ``fill``, the same traversal fills a deep copy with the schema's defaults (as Snakemake's ``validate`` does) and
    returns it."""
    schema = load_schema() if schema is None else schema
    if not isinstance(config, dict) or not config:
        raise RFEError("the configuration is empty: pass one with --configfile config/round.yaml")
    problems = _yaml_problems(config) + (_written_problems(config) if written else [])
    if problems:
        raise RFEError("invalid configuration:\n  - " + "\n  - ".join(problems))
    validator = _strict_validator(schema)
    instance = config
    if fill:
        validate_properties = validator.VALIDATORS["properties"]

        def set_defaults(validator, properties, instance, subschema):
            if isinstance(instance, dict):
                for name, sub in properties.items():
                    if "default" in sub and name not in instance:
                        instance[name] = copy.deepcopy(sub["default"])
            yield from validate_properties(validator, properties, instance, subschema)

        import jsonschema

        validator = jsonschema.validators.extend(validator, {"properties": set_defaults})
        instance = copy.deepcopy(config)
    errors = sorted(validator(schema).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [_describe(e) for e in errors]
        raise RFEError("invalid configuration:\n  - " + "\n  - ".join(lines))
    return instance


def check_config(config: dict, schema: dict | None = None, written: bool = True) -> None:
    """Raise :class:`RFEError` listing every schema violation of ``config`` in plain words; with ``written``, also
    the rules about which keys the file writes (the config as written: filled-in defaults would hide them)."""
    _validated(config, schema, written, fill=False)


def with_defaults(config: dict, schema: dict | None = None, written: bool = False) -> dict:
    """A deep copy of ``config`` with every default of the schema filled in, in the same single pass that checks it
    (raise :class:`RFEError` as :func:`check_config` does; ``written``: ``config`` is the file as written, so the
    rules about which keys it writes are checked too)."""
    return _validated(config, schema, written, fill=True)
