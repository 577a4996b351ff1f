"""Config and data validation on random malformed input (issue 6), with hypothesis.

The property: whatever the config or the data file holds, the parse-time checks either accept it or raise one
:class:`RFEError` (which the workflow shows as its message alone). Any other exception would reach the user as a
Python traceback. When a config is accepted, it is also usable: integer settings are integers, numbers are finite.
"""

from __future__ import annotations

import copy
import io
import math
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import BUDGETS, SMALL_CONFIG, data_spec, deep_update, small_frame
from _reliability import SCHEMA, parse_time_checks
from rfe_lib import RFEError
from rfe_lib.schema import check_config
from rfe_lib.data import validate_table
from rfe_lib.split import check_split_feasible, make_split

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("validation")
    small_frame(300).to_parquet(d / "data.parquet", index=False)
    return d


@pytest.fixture
def in_data_dir(data_dir, monkeypatch) -> Path:
    monkeypatch.chdir(data_dir)
    return data_dir


def accepted_or_refused(config) -> str:
    """'ok' or 'refused'; any exception other than RFEError fails the test."""
    try:
        parse_time_checks(config)
    except RFEError as exc:
        assert str(exc).strip(), "an empty message"
        assert "Traceback" not in str(exc)
        return "refused"
    return "ok"


# ------------------------------------------------------------------------------------------- configs

def _paths(node, prefix=()):
    """Every key path of a nested config (dicts and lists)."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


# The fuzzer starts from either config. The second sets every budget section and repeats with each key written
# out, so that their key paths are drawn too (SMALL_CONFIG leaves them all to the schema's defaults).
FULL_CONFIG = deep_update(SMALL_CONFIG, deep_update(BUDGETS, {
    "hpo": {"halving": {"factor": 3, "resource": "max_iter", "min_resources": "auto"},
            "carry": {"top": 3, "refresh": 0}},
    "rfe": {"repeats": 2, "stop": {"patience": 2, "tolerance": 1.0}},
}))
BASES = (SMALL_CONFIG, FULL_CONFIG)
PATHS = sorted({p for base in BASES for p in _paths(base) if p}, key=lambda p: tuple(map(str, p)))
KEYS = sorted({str(p[-1]) for p in PATHS if isinstance(p[-1], str)})
FREE_FORM = (("features", "cyclic"), ("hpo", "grid"), ("model", "params"))  # names of columns and parameters


def test_the_fuzzer_draws_the_budget_sections_and_starts_from_accepted_configs(in_data_dir):
    for section in (("hpo", "halving"), ("hpo", "carry"), ("rfe", "stop"), ("features", "correlated"),
                    ("rfe", "repeats")):
        assert section in PATHS
        assert any(len(p) > len(section) and p[:len(section)] == section for p in PATHS) or section[-1] == "repeats"
    for base in BASES:
        assert accepted_or_refused(base) == "ok"

junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(), st.text(max_size=12),
              st.sampled_from(["auto", "best", "rmse", "median", "degrees", "sklearn.linear_model.Ridge", ""])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.one_of(st.text(max_size=8), st.integers(0, 3)), inner, max_size=3)),
    max_leaves=6,
)


def _misspell(draw, key: str) -> str:
    i = draw(st.integers(0, max(0, len(key) - 1)))
    op = draw(st.sampled_from(["drop", "swap", "add"]))
    if op == "drop" or len(key) < 2:
        return key[:i] + key[i + 1:] + ("x" if len(key) < 2 else "")
    if op == "swap" and i + 1 < len(key):
        return key[:i] + key[i + 1] + key[i] + key[i + 2:]
    return key[:i] + draw(st.sampled_from(string.ascii_lowercase + "_")) + key[i:]


@st.composite
def malformed_configs(draw):
    cfg = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent = cfg
        try:
            for k in path[:-1]:
                parent = parent[k]
            parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue
        action = draw(st.sampled_from(["replace", "replace", "delete", "misspell", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(junk)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "misspell" and isinstance(parent, dict) and isinstance(path[-1], str):
            parent[_misspell(draw, path[-1])] = parent.pop(path[-1])
        elif action == "add" and isinstance(parent.get(path[-1]) if isinstance(parent, dict) else None, dict):
            parent[path[-1]][draw(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)))] = draw(junk)
    return cfg


@SETTINGS
@given(malformed_configs())
def test_malformed_config_gives_a_message_not_a_traceback(in_data_dir, cfg):
    accepted_or_refused(cfg)


def _integer_keys(schema, prefix=()):
    if schema.get("type") == "integer":
        yield prefix
    for k, sub in schema.get("properties", {}).items():
        yield from _integer_keys(sub, (*prefix, k))


@SETTINGS
@given(malformed_configs())
def test_an_accepted_config_is_usable(in_data_dir, cfg):
    """Integer settings are true integers (3.0 would reach range() in a job), numbers are finite."""
    try:
        check_config(copy.deepcopy(cfg), SCHEMA)
    except RFEError:
        assume(False)  # refused: the other test's case (hypothesis counts it as invalid, and fails if most are)
    for path in _integer_keys(SCHEMA):
        node = cfg
        for k in path:
            node = node.get(k) if isinstance(node, dict) else None
        if node is not None:
            assert isinstance(node, int) and not isinstance(node, bool), (path, node)

    def finite(v):
        if isinstance(v, float):
            assert math.isfinite(v)
        elif isinstance(v, dict):
            [finite(x) for x in v.values()]
        elif isinstance(v, list):
            [finite(x) for x in v]
    finite(cfg)


@SETTINGS
@given(key=st.sampled_from([p for p in PATHS if all(isinstance(k, str) for k in p) and p[:2] not in FREE_FORM]),
       data=st.data())
def test_a_misspelt_key_is_named_and_the_right_one_suggested(in_data_dir, key, data):
    """Any key of the schema's (free-form mappings, such as column names and estimator parameters, are checked
    elsewhere), in a config that has it."""
    cfg = copy.deepcopy(next(base for base in BASES if key in set(_paths(base))))
    parent = cfg
    for k in key[:-1]:
        parent = parent[k]
    wrong = _misspell(data.draw, key[-1])
    assume(wrong != key[-1] and wrong not in parent and len(key[-1]) >= 4)
    parent[wrong] = parent.pop(key[-1])
    with pytest.raises(RFEError) as info:
        check_config(cfg, SCHEMA)
    where = ".".join((*key[:-1], wrong))
    assert f"unknown config key '{where}'" in str(info.value)


def test_misspelt_key_suggestion_examples():
    examples = [("min_feature", "min_features"), ("stratify_bin", "stratify_bins"), ("tolerance", "tolerances")]
    for wrong, right in examples:
        cfg = copy.deepcopy(SMALL_CONFIG)
        section = next(s for s in ("rfe", "split", "evaluation") if right in SCHEMA["properties"][s]["properties"])
        cfg.setdefault(section, {})[wrong] = 1
        with pytest.raises(RFEError, match=f"did you mean '{section}.{right}'"):
            check_config(cfg, SCHEMA)


@pytest.mark.parametrize("override, message", [
    ({"rfe": {"stop": {"patince": 2}}}, "unknown config key 'rfe.stop.patince'; did you mean 'rfe.stop.patience'?"),
    ({"hpo": {"carry": {"refesh": 1}}}, "unknown config key 'hpo.carry.refesh'; did you mean 'hpo.carry.refresh'?"),
    ({"rfe": {"stop": {"tolerance": -1}}}, "config key 'rfe.stop.tolerance' has an invalid value -1"),
    ({"rfe": {"stop": 3}}, "config key 'rfe.stop' has an invalid value 3; expected early stopping"),
])
def test_a_mapping_or_null_key_names_the_problem_inside_the_mapping(override, message):
    """rfe.stop and hpo.carry are null or a mapping (a JSON-schema oneOf): a misspelt key inside the mapping is named
    as such, not reported as the whole section's value being invalid (which the fuzzer found)."""
    with pytest.raises(RFEError) as info:
        check_config(deep_update(SMALL_CONFIG, override), SCHEMA)
    assert message in str(info.value)


def test_every_problem_is_listed_at_once():
    cfg = copy.deepcopy(SMALL_CONFIG)
    cfg["split"]["folds"] = "3"
    cfg["rfe"]["stepp"] = 1
    cfg["hpo"]["metric"] = "r2"
    with pytest.raises(RFEError) as info:
        check_config(cfg, SCHEMA)
    message = str(info.value)
    assert "split.folds" in message and "rfe.stepp" in message and "hpo.metric" in message


def test_empty_config():
    with pytest.raises(RFEError, match="the configuration is empty"):
        check_config({}, SCHEMA)


# ------------------------------------------------------------------------------------------- data files

def _column(draw, n: int, kind: str):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if kind == "float":
        v = rng.normal(size=n)
        for special in draw(st.lists(st.sampled_from([np.nan, np.inf, -np.inf, 1e308, -0.0]), max_size=3)):
            if n:
                v[rng.integers(n)] = special
        return v
    if kind == "int":
        return rng.integers(-5, 5, size=n)
    if kind == "bool":
        return rng.integers(0, 2, size=n).astype(bool)
    if kind == "string":
        return np.array([draw(st.text(max_size=4)) for _ in range(n)], dtype=object)
    if kind == "numeric strings":
        return np.array([f"{x:.3f}" for x in rng.normal(size=n)], dtype=object)
    if kind == "mixed":
        return np.array([1.5 if i % 3 else "x" for i in range(n)], dtype=object)
    if kind == "datetime":
        return pd.date_range("2020-01-01", periods=n, freq="h").to_numpy()
    if kind == "all nan":
        return np.full(n, np.nan)
    if kind == "constant":
        return np.full(n, 7.0)
    if kind == "category":
        return pd.Categorical(rng.choice(["a", "b"], size=n))
    if kind == "nullable int":
        return pd.array([None if i % 4 == 0 else i for i in range(n)], dtype="Int64")
    raise AssertionError(kind)


KINDS = ["float", "int", "bool", "string", "numeric strings", "mixed", "datetime", "all nan", "constant",
         "category", "nullable int"]


@st.composite
def data_files(draw):
    n = draw(st.sampled_from([0, 1, 5, 30, 120]))
    columns = {"y": _column(draw, n, draw(st.sampled_from(KINDS)))}
    for i in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from([f"x{i}", "hour", "y", " ", "é"]))
        columns[name] = _column(draw, n, draw(st.sampled_from(KINDS)))
    frame = pd.DataFrame(columns)
    fmt = draw(st.sampled_from(["parquet", "csv", "truncated parquet", "garbage", "csv without header"]))
    options = {"cyclic": draw(st.sampled_from([{}, {"hour": 24}, {"x0": 12}]))}
    return frame, fmt, options, draw(st.integers(0, 2**16))


def _write(frame, fmt, folder: Path, seed: int) -> str:
    if fmt == "parquet":
        frame.to_parquet(folder / "d.parquet", index=False)
        return "d.parquet"
    if fmt == "truncated parquet":
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        data = buf.getvalue()
        (folder / "d.parquet").write_bytes(data[: np.random.default_rng(seed).integers(0, len(data))])
        return "d.parquet"
    if fmt == "garbage":
        (folder / "d.csv").write_bytes(np.random.default_rng(seed).bytes(200))
        return "d.csv"
    frame.to_csv(folder / "d.csv", index=False, header=fmt == "csv")
    return "d.csv"


@SETTINGS
@given(data_files())
def test_malformed_data_gives_a_message_not_a_traceback(tmp_path, monkeypatch, drawn):
    frame, fmt, options, seed = drawn
    folder = tmp_path / f"case{seed}"
    folder.mkdir(exist_ok=True)
    monkeypatch.chdir(folder)
    try:
        path = _write(frame, fmt, folder, seed)
    except (ValueError, TypeError):  # Parquet cannot hold some frames (duplicate names, mixed-type columns)
        assert "parquet" in fmt
        path = _write(frame, "csv", folder, seed)  # as a CSV file, which can
    cfg = copy.deepcopy(SMALL_CONFIG)
    cfg["data"] = {"path": path, "target": "y", "features": None}
    cfg["features"] = options
    cfg["split"].update(stratify_bins=2, folds=2)
    cfg["rfe"]["min_features"] = 1
    accepted_or_refused(cfg)


@SETTINGS
@given(data_files())
def test_validate_table_reports_instead_of_raising(drawn):
    """The validate_data job's own check: one row per problem, never an exception."""
    frame, _, options, _ = drawn
    frame = frame.loc[:, ~frame.columns.duplicated()]  # duplicate names are refused when the file is read
    spec = data_spec(path="d.parquet", target="y", cyclic=options["cyclic"])
    rows, kept = validate_table(frame, spec)
    assert all(set(r) == {"column", "check", "status", "detail"} for r in rows)
    assert set(kept) <= set(frame.columns) - {"y"}
    assert all(r["status"] in ("ok", "warning", "dropped", "error") for r in rows)


@SETTINGS
@given(n=st.integers(2, 150), distinct=st.integers(1, 150), folds=st.integers(2, 6), bins=st.integers(1, 8),
       test=st.sampled_from([0.1, 0.15, 0.3]), val=st.sampled_from([0.1, 0.15, 0.3]), seed=st.integers(0, 2**16))
def test_a_split_judged_feasible_can_be_made(n, distinct, folds, bins, test, val, seed):
    """check_split_feasible (run when the workflow is parsed) never passes a split that the split job cannot make."""
    y = np.random.default_rng(seed).integers(0, distinct, size=n).astype(float)
    try:
        check_split_feasible(y, test, val, folds, bins)
        refusal = None
    except RFEError as exc:
        refusal = str(exc)
    if refusal is not None:  # a refusal states figures that justify it, and the split job refuses the same way
        import re

        per_bin = re.search(r"smallest bin has (\d+) rows.* at least (\d+) per bin", refusal)
        if per_bin:
            smallest, need = map(int, per_bin.groups())
            assert smallest < need and smallest <= n
        else:  # fewer test or validation rows than bins; the sizes scikit-learn's train_test_split gives, by hand
            n_test = math.ceil(test * n)
            n_val = math.ceil(val / (1 - test) * (n - n_test))
            n_bins = int(re.search(r"stratified by (\d+) target bins", refusal).group(1))
            assert f"{n_test} test rows and {n_val} validation rows" in refusal
            assert min(n_test, n_val) < n_bins <= bins
        assert f"{n} rows" in refusal
        with pytest.raises(RFEError, match="too few rows for the split"):
            make_split(y, test_fraction=test, val_fraction=val, folds=folds, n_bins=bins, seed=seed)
    else:
        split = make_split(y, test_fraction=test, val_fraction=val, folds=folds, n_bins=bins, seed=seed)
        assert set(split["set"]) == {"train", "val", "test"}
        train = split[split["set"] == "train"]
        assert sorted(train["fold"].unique()) == list(range(folds))


def test_fewer_test_rows_than_bins_is_refused_not_a_scikit_learn_error():
    """The case the property above found: 23 rows in 4 bins pass the per-bin check (5 rows a bin are enough for 2
    folds), but 10% test rows are ceil(2.3) = 3, fewer than the 4 bins a stratified draw must cover; scikit-learn's
    own ValueError used to reach the user from the split job. Now the parse-time check refuses it, with the sizes."""
    y = np.random.default_rng(0).integers(0, 8, size=23).astype(float)
    for call in (lambda: check_split_feasible(y, 0.1, 0.1, 2, 4),
                 lambda: make_split(y, test_fraction=0.1, val_fraction=0.1, folds=2, n_bins=4, seed=0)):
        with pytest.raises(RFEError, match="23 rows give 3 test rows and 3 validation rows, but a split stratified by "
                                           "4 target bins"):
            call()
    y = np.random.default_rng(0).integers(0, 8, size=60).astype(float)  # 6 test and 6 validation rows: enough
    assert set(make_split(y, test_fraction=0.1, val_fraction=0.1, folds=2, n_bins=4, seed=0)["set"]) == {
        "train", "val", "test"}


@pytest.mark.parametrize("value, expected", [
    (-1, "config key 'split.test_seed' has an invalid value -1"),
    (2**32, "config key 'split.test_seed' has an invalid value 4294967296"),
    ("7", "config key 'split.test_seed' has an invalid value '7'"),
    (1.5, "config key 'split.test_seed' has an invalid value 1.5"),
])
def test_a_bad_test_seed_is_refused_by_name(value, expected):
    """split.test_seed (the repeats' shared test rows) is null or a seed numpy accepts: anything else is named."""
    with pytest.raises(RFEError) as info:
        check_config(deep_update(SMALL_CONFIG, {"split": {"test_seed": value}}), SCHEMA)
    assert expected in str(info.value)
    check_config(deep_update(SMALL_CONFIG, {"split": {"test_seed": 4294967295}}), SCHEMA)  # the largest is fine
