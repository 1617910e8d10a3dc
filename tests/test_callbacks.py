"""scikit-learn's callback API (``sklearn.callback``, scikit-learn >= 1.9).

The tests that need the API are skipped, with that reason, on older
scikit-learn; CI runs the suite on both, so each test runs in one of them.
"""

import warnings

import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier
from skbp._compat import CALLBACKS_AVAILABLE, _CallbacksNeedNewerSklearn

# Most fits here under-train on purpose.
pytestmark = pytest.mark.usefixtures("no_convergence_warning")

needs_callbacks = pytest.mark.skipif(
    not CALLBACKS_AVAILABLE,
    reason=f"sklearn.callback needs scikit-learn >= 1.9, not {sklearn.__version__}",
)


class Recorder:
    """A callback that writes down every hook call, and can ask to stop.

    ``stop_after`` maps a task name ("epoch", "batch", "iteration") to the task
    id at whose end it returns True.
    """

    def __init__(self, stop_after=None, keep_models=False, fail_after_epoch=None):
        self.calls = []
        self.contexts = []  # of the begun tasks, in order
        self.models = []
        self.stop_after = stop_after or {}
        self.keep_models = keep_models
        self.fail_after_epoch = fail_after_epoch

    def setup(self, estimator, context):
        self.calls.append(("setup", context.task_name))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", context.task_name))

    def on_fit_task_begin(self, estimator, context, *, X=None, fitted_estimator=None):
        self.calls.append(("begin", context.task_name, context.task_id))
        self.contexts.append(context)

    def on_fit_task_end(self, estimator, context, *, X=None, fitted_estimator=None):
        self.calls.append(("end", context.task_name, context.task_id))
        if fitted_estimator is not None and self.keep_models:
            self.models.append((context.task_name, fitted_estimator))
        if context.task_name == "epoch" and context.task_id == self.fail_after_epoch:
            raise RuntimeError("a callback failed")
        return self.stop_after.get(context.task_name) == context.task_id

    def names(self, kind, task_name):
        return [c for c in self.calls if c[0] == kind and c[1] == task_name]


def test_set_callbacks_on_old_sklearn_names_the_version():
    # The stand-in the estimator inherits from on scikit-learn < 1.9.
    with pytest.raises(ImportError, match=r"scikit-learn >= 1\.9.*pip install"):
        _CallbacksNeedNewerSklearn().set_callbacks(object())


@pytest.mark.skipif(CALLBACKS_AVAILABLE, reason="this scikit-learn has callbacks")
def test_old_sklearn_fits_and_refuses_callbacks_clearly(scaled_iris):
    X, y = scaled_iris
    assert BPClassifier(max_iter=3, random_state=0).fit(X, y).n_iter_ == 3
    with pytest.raises(ImportError, match=sklearn.__version__):
        BPClassifier().set_callbacks(Recorder())


@needs_callbacks
@pytest.mark.parametrize("batch_size", [50, 1])
def test_task_tree_is_fit_epochs_batches(scaled_iris, batch_size):
    X, y = scaled_iris
    recorder = Recorder()
    clf = BPClassifier(max_iter=4, batch_size=batch_size, solver="sgd", random_state=0)
    clf.set_callbacks(recorder).fit(X, y)

    n_batches = -(-len(X) // batch_size)
    calls = recorder.calls
    assert calls[0] == ("setup", "fit")
    assert calls[1] == ("begin", "fit", 0)
    assert calls[-2:] == [("end", "fit", 0), ("teardown", "fit")]
    assert recorder.names("begin", "epoch") == [("begin", "epoch", i) for i in range(4)]
    assert len(recorder.names("end", "epoch")) == 4
    assert len(recorder.names("begin", "batch")) == 4 * n_batches
    assert len(recorder.names("end", "batch")) == 4 * n_batches
    # Every task ends before its parent goes on: a well-nested tree.
    stack = []
    for kind, *task in calls[1:-1]:
        if kind == "begin":
            stack.append(task)
        else:
            assert stack.pop() == task
    assert stack == []
    root, epoch = recorder.contexts[0], recorder.contexts[1]
    assert root.max_subtasks == 4 and epoch.max_subtasks == n_batches
    assert epoch.parent is root


@needs_callbacks
def test_lbfgs_iterations_are_leaf_tasks(scaled_iris):
    X, y = scaled_iris
    recorder = Recorder()
    clf = (
        BPClassifier(solver="lbfgs", max_iter=6, random_state=0)
        .set_callbacks(recorder)
        .fit(X, y)
    )
    begins = recorder.names("begin", "iteration")
    assert len(begins) == len(recorder.names("end", "iteration"))
    assert len(begins) == clf.n_iter_ == 6
    assert recorder.contexts[0].max_subtasks == 6
    assert recorder.names("begin", "batch") == []


@needs_callbacks
def test_partial_fit_is_one_epoch_task(scaled_iris):
    X, y = scaled_iris
    recorder = Recorder()
    clf = BPClassifier(batch_size=50, random_state=0).set_callbacks(recorder)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    assert recorder.contexts[0].max_subtasks == 1
    assert len(recorder.names("end", "epoch")) == 1
    assert len(recorder.names("end", "batch")) == 3


@needs_callbacks
def test_callbacks_do_not_change_training(scaled_iris):
    X, y = scaled_iris
    plain = BPClassifier(max_iter=5, random_state=0).fit(X, y)
    watched = (
        BPClassifier(max_iter=5, random_state=0).set_callbacks(Recorder()).fit(X, y)
    )
    for a, b in zip(
        plain.coefs_ + plain.intercepts_, watched.coefs_ + watched.intercepts_
    ):
        assert_array_equal(a, b)


@needs_callbacks
def test_epoch_end_hands_a_model_of_that_epoch(scaled_iris):
    X, y = scaled_iris
    recorder = Recorder(keep_models=True)
    clf = BPClassifier(max_iter=3, random_state=0).set_callbacks(recorder).fit(X, y)
    epoch_models = [m for name, m in recorder.models if name == "epoch"]
    assert len(epoch_models) == 3
    # A copy of the weights: later epochs did not move the first model.
    first = BPClassifier(max_iter=1, random_state=0).fit(X, y)
    assert_allclose(epoch_models[0].predict_proba(X), first.predict_proba(X))
    assert_allclose(epoch_models[-1].predict_proba(X), clf.predict_proba(X))
    # The fit task's end hands the finished estimator.
    (fit_model,) = [m for name, m in recorder.models if name == "fit"]
    assert_allclose(fit_model.predict_proba(X), clf.predict_proba(X))


@needs_callbacks
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_a_callback_can_stop_training(scaled_iris, solver):
    X, y = scaled_iris
    recorder = Recorder(stop_after={"epoch": 2})
    with warnings.catch_warnings():
        # Stopping on request is not a failure to converge.
        warnings.simplefilter("error", ConvergenceWarning)
        clf = BPClassifier(max_iter=50, solver=solver, random_state=0)
        clf.set_callbacks(recorder).fit(X, y)
    assert clf.n_iter_ == 3
    assert len(clf.loss_curve_) == 3
    assert len(recorder.names("begin", "epoch")) == 3
    # The same model as asking for three epochs up front.
    three = BPClassifier(max_iter=3, solver=solver, random_state=0).fit(X, y)
    assert_allclose(clf.predict_proba(X), three.predict_proba(X), rtol=1e-12)


@needs_callbacks
def test_a_batch_callback_ends_each_epoch_early(scaled_iris):
    X, y = scaled_iris
    recorder = Recorder(stop_after={"batch": 1})
    clf = (
        BPClassifier(max_iter=3, batch_size=10, random_state=0)
        .set_callbacks(recorder)
        .fit(X, y)
    )
    # Stopping the batches of an epoch is not stopping the fit.
    assert clf.n_iter_ == 3
    assert len(recorder.names("end", "batch")) == 3 * 2


@needs_callbacks
def test_a_callback_can_stop_lbfgs(scaled_iris):
    X, y = scaled_iris
    recorder = Recorder(stop_after={"iteration": 2})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = BPClassifier(solver="lbfgs", max_iter=100, random_state=0)
        clf.set_callbacks(recorder).fit(X, y)
    assert clf.n_iter_ == 3
    assert len(clf.loss_curve_) == 3
    assert len(recorder.names("end", "iteration")) == 3


@needs_callbacks
def test_teardown_runs_when_a_callback_fails(scaled_iris):
    X, y = scaled_iris
    recorder = Recorder(fail_after_epoch=1)
    clf = BPClassifier(max_iter=5, random_state=0).set_callbacks(recorder)
    with pytest.raises(RuntimeError, match="a callback failed"):
        clf.fit(X, y)
    assert recorder.calls[-1] == ("teardown", "fit")


@needs_callbacks
def test_a_diverging_epoch_still_ends_its_task(scaled_iris):
    X, y = scaled_iris
    recorder = Recorder()
    clf = BPClassifier(
        solver="sgd", learning_rate=1e6, momentum=0.0, max_iter=5, random_state=0
    )
    with pytest.warns(ConvergenceWarning, match="diverged"):
        clf.set_callbacks(recorder).fit(X * 1e3, y)
    assert len(recorder.names("begin", "epoch")) == len(recorder.names("end", "epoch"))


@needs_callbacks
def test_scoring_monitor_records_a_score_per_epoch(scaled_iris):
    from sklearn.callback import ScoringMonitor

    X, y = scaled_iris
    monitor = ScoringMonitor(scoring="accuracy")
    clf = BPClassifier(max_iter=4, random_state=0).set_callbacks(monitor).fit(X, y)
    rows = monitor.get_logs().data
    epochs = [row for row in rows if row["task_name"] == "epoch"]
    assert [row["task_id"] for row in epochs] == [0, 1, 2, 3]
    (final,) = [row for row in rows if row["task_name"] == "fit"]
    assert final["accuracy"] == pytest.approx(clf.score(X, y))
    assert epochs[-1]["accuracy"] == pytest.approx(clf.score(X, y))


@needs_callbacks
def test_progress_bar_draws_epochs(scaled_iris, capsys):
    pytest.importorskip("rich", reason="ProgressBar needs the 'progress' extra")
    from sklearn.callback import ProgressBar

    X, y = scaled_iris
    BPClassifier(max_iter=3, random_state=0).set_callbacks(ProgressBar()).fit(X, y)
    out = capsys.readouterr().out
    assert "BPClassifier - fit" in out
    for epoch in range(3):
        assert f"BPClassifier - epoch #{epoch}" in out
    assert "100%" in out


@needs_callbacks
def test_pipeline_propagates_callbacks_to_the_network(scaled_iris):
    X, y = scaled_iris

    class Propagated(Recorder):
        max_propagation_depth = None  # auto-propagated to sub-estimators

    recorder = Propagated()
    pipe = make_pipeline(StandardScaler(), BPClassifier(max_iter=3, random_state=0))
    pipe.set_callbacks(recorder).fit(X, y)
    assert len(recorder.names("end", "epoch")) == 3
    (network_root,) = [
        c
        for c in recorder.contexts
        if c.estimator_name == "BPClassifier" and c.task_name == "fit"
    ]
    # The network's fit task is the pipeline's final-step task, merged.
    assert network_root.source_estimator_name == "Pipeline"
    assert network_root.parent.estimator_name == "Pipeline"
    # The propagated callback is removed again after fit.
    assert not getattr(pipe[-1], "_skl_callbacks", None)


@needs_callbacks
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_runs_callbacks_in_every_fit(scaled_iris, n_jobs):
    from sklearn.callback import ScoringMonitor

    X, y = scaled_iris
    monitor = ScoringMonitor(scoring="accuracy")
    clf = BPClassifier(max_iter=2, random_state=0).set_callbacks(monitor)
    assert clone(clf)._skl_callbacks == [monitor]
    search = GridSearchCV(
        clf,
        {"learning_rate": [0.01, 0.1], "activation": ["relu", "tanh"]},
        cv=3,
        n_jobs=n_jobs,
    )
    search.fit(X, y)
    # One run (the search's), with the rows of every inner fit: 4 candidates x
    # 3 folds, and the refit; each two epochs and its end.
    (log,) = monitor.get_logs(select="all")
    assert log.estimator_name == "GridSearchCV"
    names = [row["task_name"] for row in log.data]
    assert names.count("epoch") == 2 * (4 * 3 + 1)
    assert names.count("fit") == 4 * 3 + 1
    assert all(0 <= row["accuracy"] <= 1 for row in log.data)


@needs_callbacks
def test_grid_search_progress_bar(scaled_iris, capsys):
    pytest.importorskip("rich", reason="ProgressBar needs the 'progress' extra")
    from sklearn.callback import ProgressBar

    X, y = scaled_iris
    search = GridSearchCV(
        BPClassifier(max_iter=2, random_state=0), {"alpha": [1e-4, 1e-2]}, cv=2
    )
    search.set_callbacks(ProgressBar(max_propagation_depth=None)).fit(X, y)
    out = capsys.readouterr().out
    assert "GridSearchCV - fit" in out
    assert "BPClassifier - epoch #1" in out


@needs_callbacks
def test_regressor_epoch_models_predict_in_the_targets_units():
    # BPRegressor trains on a standardised target; the model a callback receives
    # after each epoch has the scaling folded in, like the fitted one.
    from sklearn.datasets import make_regression

    from skbp import BPRegressor

    X, y = make_regression(n_samples=60, n_features=4, noise=1.0, random_state=0)
    y = 1e4 + 5.0 * y  # mean 1e4, standard deviation ~230: far from standardised
    recorder = Recorder(keep_models=True)
    reg = BPRegressor((8,), max_iter=3, random_state=0)
    reg.set_callbacks(recorder).fit(X, y)
    epoch_models = [m for name, m in recorder.models if name == "epoch"]
    assert len(epoch_models) == 3
    first = BPRegressor((8,), max_iter=1, random_state=0).fit(X, y)
    assert_allclose(epoch_models[0].predict(X), first.predict(X), rtol=1e-12)
    assert_allclose(epoch_models[-1].predict(X), reg.predict(X), rtol=1e-12)
    # In the targets' units: a barely trained standardised network is off by a
    # few standard deviations; without the folding it would predict near 0.
    assert abs(reg.predict(X).mean() - y.mean()) < 5 * y.std() < 0.2 * y.mean()


@needs_callbacks
def test_scoring_monitor_on_a_regressor():
    from sklearn.callback import ScoringMonitor
    from sklearn.datasets import make_friedman1

    from skbp import BPRegressor

    X, y = make_friedman1(n_samples=100, random_state=0)
    monitor = ScoringMonitor(scoring="r2")
    reg = BPRegressor((8,), max_iter=4, random_state=0).set_callbacks(monitor)
    reg.fit(X, y)
    assert len(monitor.get_logs().data) >= 4
