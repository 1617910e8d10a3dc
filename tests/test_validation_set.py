"""A user-supplied validation set (``X_val``/``y_val``) and ``scoring``."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification
from sklearn.metrics import balanced_accuracy_score, log_loss
from sklearn.model_selection import train_test_split

from skbp import BPClassifier

# Most fits here under-train on purpose.
pytestmark = pytest.mark.usefixtures("no_convergence_warning")


@pytest.fixture
def split():
    X, y = make_classification(
        n_samples=400,
        n_features=10,
        n_informative=6,
        n_classes=3,
        flip_y=0.15,
        random_state=0,
    )
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def test_early_stopping_on_validation_loss_with_x_val(split):
    X_train, X_val, y_train, y_val = split
    # A large network and learning rate overfit quickly, so the validation loss
    # turns up and early stopping has something to stop.
    clf = BPClassifier(
        hidden_layer_sizes=(64, 64),
        learning_rate=0.01,
        early_stopping=True,
        scoring="loss",
        n_iter_no_change=5,
        max_iter=300,
        random_state=0,
    )
    clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    assert clf.n_iter_ < 300
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    assert len(clf.validation_scores_) == clf.n_iter_
    assert_allclose(clf.validation_scores_, -np.asarray(clf.validation_loss_curve_))
    assert clf.best_validation_score_ == pytest.approx(-min(clf.validation_loss_curve_))
    # The best epoch's weights are restored: their validation loss is the minimum.
    final_loss = log_loss(y_val, clf.predict_proba(X_val), labels=clf.classes_)
    assert final_loss == pytest.approx(min(clf.validation_loss_curve_), rel=1e-9)
    # The whole training set was used: nothing was split off.
    assert clf.t_ == clf.n_iter_ * len(y_train)


def test_x_val_without_early_stopping_is_monitored_only(split):
    X_train, X_val, y_train, y_val = split
    params = dict(hidden_layer_sizes=(16,), max_iter=30, random_state=0)
    with_val = BPClassifier(**params).fit(X_train, y_train, X_val=X_val, y_val=y_val)
    without = BPClassifier(**params).fit(X_train, y_train)
    # Monitoring does not change the training itself.
    assert_allclose(with_val.loss_curve_, without.loss_curve_)
    assert without.validation_scores_ is None
    assert without.validation_loss_curve_ is None
    assert len(with_val.validation_scores_) == with_val.n_iter_
    # The last recorded score is the final model's accuracy on X_val.
    assert with_val.validation_scores_[-1] == pytest.approx(
        with_val.score(X_val, y_val)
    )


@pytest.mark.parametrize(
    "scoring",
    ["balanced_accuracy", lambda est, X, y: balanced_accuracy_score(y, est.predict(X))],
)
def test_scoring_name_or_callable(split, scoring):
    X_train, X_val, y_train, y_val = split
    clf = BPClassifier(
        hidden_layer_sizes=(16,), max_iter=20, scoring=scoring, random_state=0
    ).fit(X_train, y_train, X_val=X_val, y_val=y_val)
    assert clf.validation_scores_[-1] == pytest.approx(
        balanced_accuracy_score(y_val, clf.predict(X_val))
    )


def test_sample_weight_val_weights_the_validation_loss(split):
    X_train, X_val, y_train, y_val = split
    sw_val = np.random.RandomState(0).uniform(0.1, 3.0, size=len(y_val))
    clf = BPClassifier(hidden_layer_sizes=(16,), max_iter=10, random_state=0).fit(
        X_train, y_train, X_val=X_val, y_val=y_val, sample_weight_val=sw_val
    )
    expected = log_loss(y_val, clf.predict_proba(X_val), sample_weight=sw_val)
    assert clf.validation_loss_curve_[-1] == pytest.approx(expected, rel=1e-9)


def test_bad_validation_sets(split):
    X_train, X_val, y_train, y_val = split
    clf = BPClassifier(hidden_layer_sizes=(4,), max_iter=2)
    with pytest.raises(ValueError, match="together"):
        clf.fit(X_train, y_train, X_val=X_val)
    with pytest.raises(ValueError, match="features"):
        clf.fit(X_train, y_train, X_val=X_val[:, :3], y_val=y_val)
    with pytest.raises(ValueError, match="y_val contains labels"):
        clf.fit(X_train, y_train, X_val=X_val, y_val=y_val + 10)
    with pytest.raises(ValueError, match="lbfgs"):
        BPClassifier(solver="lbfgs").fit(X_train, y_train, X_val=X_val, y_val=y_val)
    with pytest.raises(ValueError, match="scoring"):
        BPClassifier(scoring="no_such_scorer", max_iter=2).fit(
            X_train, y_train, X_val=X_val, y_val=y_val
        )


def test_unknown_scoring_name_fails_at_fit_even_when_unused(split):
    # Nothing would score without a validation set, but a typo must not wait
    # until someone turns early stopping on; the message lists the valid names.
    X_train, _, y_train, _ = split
    clf = BPClassifier(scoring="acuracy", max_iter=2)
    with pytest.raises(ValueError, match="'acuracy' is not a valid") as error:
        clf.fit(X_train, y_train)
    assert "'accuracy'" in str(error.value) and "'loss'" in str(error.value)
    assert not hasattr(clf, "coefs_")
