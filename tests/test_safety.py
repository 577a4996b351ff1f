"""Safety (issue 6): the config names code only through an allow-listed regressor class; models load only from the run.

- ``model.estimator`` may name only a class under an allowed module prefix (``sklearn.`` unless
  ``model.allowed_modules`` extends it), and it must be a regressor. The prefix is checked before anything is
  imported, and it matches whole package names (``sklearn`` does not allow ``sklearn_evil``).
- Nothing else from the config is imported or evaluated: the code has no ``eval``/``exec``, unpickles nothing but
  the run's own model files, and reads YAML only with ``safe_load``.
- Model files are loaded only from the run's own results folder.
"""

from __future__ import annotations

import ast
import sys

import joblib
import pytest

from conftest import REPO, layout, settings_of
from rfe_lib import RFEError
from rfe_lib.layout import Layout
from rfe_lib.models import ModelSpec, build_model, import_estimator
from rfe_lib.model_file import load_model

DEFAULT_MODULES = tuple(settings_of({}).model_spec().allowed_modules)  # the schema's model.allowed_modules

FAKE_PACKAGE = '''
import pathlib
pathlib.Path(__file__).with_name("IMPORTED").write_text("the package's code ran")
from sklearn.linear_model import Ridge


class TrustedRidge(Ridge):
    """A regressor from a package that the config has to trust explicitly."""
'''


@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    """A package ``trusted_models`` on sys.path whose import leaves a mark (so we can tell it was never imported)."""
    pkg = tmp_path / "trusted_models"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(FAKE_PACKAGE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield pkg
    for name in [m for m in sys.modules if m == "trusted_models" or m.startswith("trusted_models.")]:
        del sys.modules[name]


@pytest.mark.parametrize("path", [
    "os.system", "subprocess.Popen", "builtins.eval", "builtins.exec", "importlib.import_module",
    "pickle.loads", "shutil.rmtree", "joblib.load", "numpy.load", "pandas.read_pickle",
    "sklearn_evil.Regressor", "sklearnx.linear_model.Ridge", "xsklearn.Ridge",
])
def test_estimator_outside_the_allow_list_is_refused_before_any_import(path):
    before = set(sys.modules)
    with pytest.raises(RFEError, match="is not under an allowed module prefix"):
        import_estimator(path, DEFAULT_MODULES)
    assert set(sys.modules) == before


def test_a_package_is_imported_only_when_the_config_allows_it(fake_package):
    with pytest.raises(RFEError, match=r"add its package's prefix to model.allowed_modules"):
        import_estimator("trusted_models.TrustedRidge", DEFAULT_MODULES)
    assert not (fake_package / "IMPORTED").exists() and "trusted_models" not in sys.modules

    for allowed in (("sklearn.", "trusted_models."), ("trusted_models",)):
        assert import_estimator("trusted_models.TrustedRidge", allowed).__name__ == "TrustedRidge"
    assert (fake_package / "IMPORTED").exists()


def test_the_allow_list_extension_works_through_the_config(fake_package):
    spec = settings_of({"model": {"estimator": "trusted_models.TrustedRidge", "params": {"alpha": 2.0},
                                  "allowed_modules": ["sklearn.", "trusted_models."]}}).model_spec()
    model = build_model(spec, {})
    assert type(model).__name__ == "TrustedRidge" and model.alpha == 2.0
    # and the allow-list travels with the model spec into every job (through params), not only at parse time
    assert ModelSpec.from_params(spec.to_params()).allowed_modules == ("sklearn.", "trusted_models.")


def test_a_narrower_allow_list_is_honoured():
    import_estimator("sklearn.linear_model.Ridge", ("sklearn.linear_model",))
    with pytest.raises(RFEError, match="not under an allowed module prefix"):
        import_estimator("sklearn.ensemble.RandomForestRegressor", ("sklearn.linear_model",))


@pytest.mark.parametrize("path", [
    "sklearn.ensemble.RandomForestClassifier", "sklearn.preprocessing.StandardScaler",
    "sklearn.base.BaseEstimator", "sklearn.metrics.r2_score", "sklearn.linear_model", "sklearn.pipeline.Pipeline",
])
def test_estimator_must_be_a_regressor(path):
    with pytest.raises(RFEError, match="is not a scikit-learn regressor"):
        import_estimator(path, DEFAULT_MODULES)


@pytest.mark.parametrize("path", ["sklearn.linear_model.Ridge", "sklearn.ensemble.HistGradientBoostingRegressor",
                                  "sklearn.neighbors.KNeighborsRegressor"])
def test_regressors_under_sklearn_are_allowed_by_default(path):
    assert import_estimator(path, DEFAULT_MODULES).__name__ == path.rpartition(".")[2]


# ------------------------------------------------------------------------------------------- model files

@pytest.fixture
def run_dir(tmp_path):
    model = layout(tmp_path).round_file(0, "model")
    model.parent.mkdir(parents=True)
    joblib.dump({"model": "fitted"}, model)
    return layout(tmp_path).root


def test_model_loads_from_its_own_run(run_dir):
    assert load_model(Layout(run_dir).round_file(0, "model"), run_dir) == {"model": "fitted"}


def test_model_outside_the_run_is_refused_without_being_read(run_dir, tmp_path):
    outside = tmp_path / "evil.joblib"
    outside.write_bytes(b"not even a pickle")  # refused before joblib opens it (reading it would raise)
    sibling = layout(tmp_path, "t2").root  # a run whose name merely starts with the same letters
    sibling.mkdir()
    (sibling / "model.joblib").write_bytes(b"x")
    for path in (outside, run_dir / ".." / ".." / "evil.joblib", sibling / "model.joblib"):
        with pytest.raises(RFEError, match="models are loaded only from the run's folder"):
            load_model(path, run_dir)


def test_a_symlink_out_of_the_run_is_refused(run_dir, tmp_path):
    outside = tmp_path / "evil.joblib"
    outside.write_bytes(b"x")
    link = Layout(run_dir).round_file(0, "model").with_name("link.joblib")
    link.symlink_to(outside)
    with pytest.raises(RFEError, match="models are loaded only from the run's folder"):
        load_model(link, run_dir)


# ------------------------------------------------------------------------------------------- the code itself

def _sources():
    files = sorted((REPO / "rfe_lib").rglob("*.py")) + sorted((REPO / "workflow" / "scripts").rglob("*.py"))
    smk = sorted((REPO / "workflow").rglob("*.smk")) + [REPO / "Snakefile"]
    return files, smk


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name):
                yield f.id, node
            elif isinstance(f, ast.Attribute):
                base = f.value.id if isinstance(f.value, ast.Name) else ""
                yield f"{base}.{f.attr}", node


def _enclosing_functions(tree):
    out = {}
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                out.setdefault(id(node), fn.name)
    return out


# call -> the only functions allowed to make it
GUARDED = {
    "eval": set(), "exec": set(), "compile": set(), "__import__": set(),
    "importlib.import_module": {"import_estimator"},
    "joblib.load": {"load_model"}, "pickle.load": set(), "pickle.loads": set(), "pd.read_pickle": set(),
    "yaml.load": set(), "yaml.unsafe_load": set(), "yaml.full_load": set(),
}


def test_no_code_from_the_config_is_imported_or_evaluated():
    """Static check of rfe_lib and the job scripts: only import_estimator imports by name, only load_model unpickles."""
    files, _ = _sources()
    folders = {p.parent.relative_to(REPO).as_posix() for p in files}
    packages = {p.parent.relative_to(REPO).as_posix() for p in (REPO / "rfe_lib").glob("*/__init__.py")}
    assert packages >= {"rfe_lib/search", "rfe_lib/importance", "rfe_lib/plan", "rfe_lib/report", "rfe_lib/figures"}
    assert folders >= packages | {"rfe_lib", "workflow/scripts"}  # every sub-package is scanned, not only the top
    problems = []
    for path in files:
        tree = ast.parse(path.read_text())
        where = _enclosing_functions(tree)
        for name, node in _calls(tree):
            if name in GUARDED and where.get(id(node)) not in GUARDED[name]:
                problems.append(f"{path.relative_to(REPO)}:{node.lineno}: {name} in {where.get(id(node))}")
    assert problems == []


def test_workflow_files_read_yaml_safely_and_evaluate_nothing():
    _, smk = _sources()
    for path in smk:
        text = path.read_text()
        for bad in ("eval(", "exec(", "yaml.load(", "pickle.load", "joblib.load(", "__import__("):
            assert bad not in text, f"{path.relative_to(REPO)} uses {bad}"
