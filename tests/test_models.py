import numpy as np
import pytest
from sklearn.model_selection import ParameterGrid

from rfe_lib import RFEError
from conftest import model_spec
from rfe_lib.grid import Grid, grid_size
from rfe_lib.models import AngleRegressor, allows_nan, build_model, check_grid, import_estimator

SKLEARN = ("sklearn.",)  # model.allowed_modules' schema default


def test_allow_list_and_regressor_checks():
    assert import_estimator("sklearn.linear_model.Ridge", SKLEARN).__name__ == "Ridge"
    with pytest.raises(RFEError, match="not under an allowed module prefix"):
        import_estimator("os.system", SKLEARN)
    with pytest.raises(RFEError, match="not a scikit-learn regressor"):
        import_estimator("sklearn.linear_model.LogisticRegression", SKLEARN)
    with pytest.raises(RFEError, match="did you mean 'sklearn.linear_model.Ridge'"):
        import_estimator("sklearn.linear_model.Rigde", SKLEARN)
    with pytest.raises(RFEError, match="cannot import module"):
        import_estimator("sklearn.nonexistent.Thing", SKLEARN)
    with pytest.raises(RFEError, match="not under an allowed module prefix"):
        import_estimator("sklearnx.Foo", SKLEARN)  # a prefix is matched with its dot


def test_build_model_sets_seed_and_pipeline_steps():
    spec = model_spec("sklearn.ensemble.HistGradientBoostingRegressor", params={"max_iter": 5}, seed=3)
    model = build_model(spec, {"learning_rate": 0.2})
    assert model.get_params()["random_state"] == 3 and model.learning_rate == 0.2 and model.max_iter == 5
    spec = model_spec("sklearn.linear_model.Ridge", scale=True, impute="median")
    steps = [name for name, _ in build_model(spec).steps]
    assert steps == ["simpleimputer", "standardscaler", "ridge"]


def test_allows_nan():
    assert allows_nan(model_spec("sklearn.ensemble.HistGradientBoostingRegressor"))
    assert not allows_nan(model_spec("sklearn.linear_model.Ridge"))
    assert allows_nan(model_spec("sklearn.linear_model.Ridge", impute="median"))


def test_angle_regressor_recovers_angles_across_the_wrap():
    rng = np.random.default_rng(0)
    theta = rng.uniform(0, 360, 400)
    X = np.c_[np.sin(np.radians(theta)), np.cos(np.radians(theta))]
    model = AngleRegressor(build_model(model_spec("sklearn.linear_model.LinearRegression")), "degrees").fit(X, theta)
    pred = model.predict(X)
    assert pred.min() >= 0 and pred.max() < 360
    err = (pred - theta + 180) % 360 - 180
    assert np.abs(err).max() < 1e-6


def test_check_grid_names_unknown_parameter_and_suggests():
    spec = model_spec("sklearn.ensemble.HistGradientBoostingRegressor")
    with pytest.raises(RFEError, match=r"hpo.grid.learnig_rate: .*has no parameter 'learnig_rate' \(did you mean 'learning_rate'\?\)"):
        check_grid(spec, {"learnig_rate": [0.1]})
    with pytest.raises(RFEError, match="hpo.grid is empty"):
        check_grid(spec, {})
    with pytest.raises(RFEError, match="hpo.grid is empty"):
        check_grid(spec, [])
    with pytest.raises(RFEError, match="non-empty list"):
        check_grid(spec, {"max_iter": []})
    check_grid(spec, [{"max_iter": [10]}, {"learning_rate": [0.1, 0.2]}])


def test_lazy_grid_matches_parameter_grid_order():
    grid = [{"b": [1, 2], "a": ["x", "y", "z"]}, {"c": [None, 0.5]}]
    lazy = Grid(grid)
    assert len(lazy) == grid_size(grid) == 8
    assert [lazy[i] for i in range(len(lazy))] == list(ParameterGrid(grid))
    assert lazy.param_names() == ["a", "b", "c"]
