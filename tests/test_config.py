import pytest
import yaml

from rfe_lib import RFEError
from rfe_lib.schedule import n_eliminated, resolve_shards, round_schedule
from rfe_lib.schema import check_config
from conftest import REPO, SMALL_CONFIG, deep_update, settings_of

SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())


def test_schedule_integer_step():
    assert round_schedule(12, 1, 3) == [12, 11, 10, 9, 8, 7, 6, 5, 4, 3]
    assert round_schedule(10, 4, 3) == [10, 6, 3]


def test_schedule_fraction_step_removes_at_least_one():
    assert round_schedule(100, 0.5, 10) == [100, 50, 25, 13, 10]
    assert round_schedule(5, 0.1, 3) == [5, 4, 3]


def test_schedule_never_goes_below_min_features():
    for n in range(4, 40):
        for step in (1, 2, 5, 0.25, 0.9):
            s = round_schedule(n, step, 3)
            assert s[-1] == 3 and all(a > b for a, b in zip(s, s[1:]))


@pytest.mark.parametrize("step", [0, -1, 1.5, 0.0])
def test_bad_step_is_refused(step):
    with pytest.raises(RFEError, match="rfe.step"):
        n_eliminated(10, step, 3)


def test_min_features_must_be_below_feature_count():
    with pytest.raises(RFEError, match=r"rfe.min_features \(5\) must be below the number of features \(5\)"):
        settings_of({"rfe": {"min_features": 5}}).check(n_features=5)


def test_resolve_shards():
    assert resolve_shards("auto", 100, 8) == 8
    assert resolve_shards("auto", 3, 8, fits_per_item=5) == 1  # 15 fits: not worth a second process
    assert resolve_shards("auto", 4, 8, fits_per_item=5) == 2  # 20 fits: two shards of 10
    assert resolve_shards("auto", 12, 2, fits_per_item=5) == 2  # capped by the CPUs
    assert resolve_shards("auto", 3, 8, fits_per_item=100) == 3  # never more shards than items
    assert resolve_shards(4, 2, 8) == 2
    assert resolve_shards(4, 3, 8, fits_per_item=1) == 3  # an explicit count is kept (capped by the items)
    assert resolve_shards(1, 0, 8) == 1


def test_check_config_accepts_the_small_config():
    check_config(deep_update(SMALL_CONFIG, {}), SCHEMA)


def test_check_config_names_key_and_suggests_spelling():
    bad = deep_update(SMALL_CONFIG, {"rfe": {"stpe": 1}})
    with pytest.raises(RFEError, match=r"unknown config key 'rfe.stpe'; did you mean 'rfe.step'\?"):
        check_config(bad, SCHEMA)


def test_check_config_reports_every_problem_with_its_key():
    bad = deep_update(SMALL_CONFIG, {"split": {"folds": "five"}, "hpo": {"metric": "r3"}})
    with pytest.raises(RFEError) as err:
        check_config(bad, SCHEMA)
    msg = str(err.value)
    assert "split.folds" in msg and "integer" in msg
    assert "hpo.metric" in msg and "rmse" in msg
