"""Gradient-boosting models (XGBoost, LightGBM, CatBoost) as the last step of a pipeline.

A flavour model is a scikit-learn estimator whose saved state is the library's *own* model
file — XGBoost UBJSON, LightGBM model text, CatBoost ``.cbm`` — never a pickle. It sits
after the schema's preprocessing in the same ``Pipeline`` that scikit-learn models use, so
the bundle keeps its one verified file (``model.skops``): skops stores the pipeline, and
for this step ``__getstate__`` hands it the native bytes, which ``__setstate__`` gives back
to the library's own loader (``Booster.load_model``, ``Booster(model_str=…)``,
``CatBoost.load_model(blob=…)``). The bundle's SHA-256 is checked before skops reads a
byte, and skops constructs these classes only because model.json lists them as trusted.

The module lives in ``app/serving`` because the server (in an image, with nothing else of
``app``) must import it to load such a model; it imports its library only when a model of
that flavour is fitted or loaded, so a server without LightGBM still serves XGBoost.

Iterative learning is visible: with ``early_stopping_rounds`` ``fit`` holds out a share of
its rows and stops when their loss stops improving; ``curve_`` holds that loss per
iteration and, with ``record_curve`` (set by the trainer on the final fit only, since it
costs time), the loss on the rows it fits on. ``contributions`` gives the library's exact
TreeSHAP values (``pred_contribs``), which ``explain.py`` serves without the ``shap`` package.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

#: flavour → (import name, distributions that provide it, the pip command that installs it)
LIBRARIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "xgboost": ("xgboost", ("xgboost-cpu", "xgboost")),
    "lightgbm": ("lightgbm", ("lightgbm",)),
    "catboost": ("catboost", ("catboost",)),
}
NATIVE_KEY = "native_model"


def flavour_of_type(type_name: str) -> str | None:
    """The flavour of a trusted type name (``app.serving.flavours.XGBoostClassifier``)."""
    if not type_name.startswith(__name__.rsplit(".", 1)[0] + ".flavours."):
        return None
    short = type_name.rsplit(".", 1)[-1].lower()
    return next((f for f in LIBRARIES if short.startswith(f)), None)


class BoostedModel(BaseEstimator):
    """The shared part of every flavour: label encoding, the validation share, the state."""

    flavour: ClassVar[str] = ""
    is_classifier: ClassVar[bool] = False

    def __init__(
        self,
        params: dict[str, Any] | None = None,
        n_estimators: int = 100,
        early_stopping_rounds: int = 0,
        validation_fraction: float = 0.1,
        random_state: int = 0,
        record_curve: bool = False,
    ) -> None:
        self.params = params
        self.n_estimators = n_estimators
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.record_curve = record_curve

    # -- fitting ------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any) -> BoostedModel:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        if self.is_classifier:
            self.classes_, y = np.unique(y, return_inverse=True)
        else:
            y = y.astype(np.float64)
        self.n_features_in_ = X.shape[1]
        evals: list[tuple[str, Any, Any]] = []
        if self.early_stopping_rounds > 0:
            from sklearn.model_selection import train_test_split

            stratify = y if self.is_classifier and np.bincount(y).min() >= 2 else None
            X, X_val, y, y_val = train_test_split(
                X,
                y,
                test_size=self.validation_fraction,
                random_state=self.random_state,
                stratify=stratify,
            )
            evals.append(("valid", X_val, y_val))
        if self.record_curve:  # the loss on the fit rows costs time: the final fit only
            evals.insert(0, ("train", X, y))
        self._model, curve = self._fit_native(X, y, evals)
        self.curve_ = {name: [float(v) for v in values] for name, values in curve.items()}
        self.best_iteration_ = self._best_iteration()
        return self

    @property
    def n_classes_(self) -> int:
        return len(self.classes_) if self.is_classifier else 1

    def _lib_params(self) -> dict[str, Any]:
        return dict(self.params or {})

    # -- predicting ---------------------------------------------------------------------------

    def _raw(self, X: Any) -> np.ndarray:
        """Probabilities (rows × classes) for a classifier, values for a regressor."""
        out = np.asarray(self._predict_native(np.asarray(X, dtype=np.float64)), dtype=float)
        if self.is_classifier and out.ndim == 1:
            out = np.column_stack([1.0 - out, out])
        return out

    def predict(self, X: Any) -> np.ndarray:
        out = self._raw(X)
        return self.classes_[out.argmax(axis=1)] if self.is_classifier else out

    def contributions(self, X: Any) -> np.ndarray:
        """Exact TreeSHAP values in the model's raw output space (margin or value):
        rows × (features + 1) — the last column is the expected value — or, for several
        classes, rows × classes × (features + 1)."""
        out = np.asarray(self._contrib_native(np.asarray(X, dtype=np.float64)), dtype=float)
        if out.ndim == 2 and self.is_classifier and self.n_classes_ > 2:
            out = out.reshape(len(out), self.n_classes_, -1)
        return out

    def raw_output(self, X: Any) -> np.ndarray:
        """The margin (log-odds) or value the contributions add up to."""
        return np.asarray(self._margin_native(np.asarray(X, dtype=np.float64)), dtype=float)

    # -- state: the library's own bytes, never a pickle ---------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        if getattr(self, "_model", None) is not None:
            state[NATIVE_KEY] = bytes(self._dump_native())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        native = state.pop(NATIVE_KEY, None)
        self.__dict__.update(state)
        self._model = None if native is None else self._load_native(bytes(native))

    def native_bytes(self) -> bytes:
        """The model in its library's own format (what ``__getstate__`` stores)."""
        return bytes(self._dump_native())

    # -- per library (subclasses) -------------------------------------------------------------

    def _fit_native(self, X: Any, y: Any, evals: list) -> tuple[Any, dict[str, list]]:
        raise NotImplementedError

    def _best_iteration(self) -> int | None:
        return None

    def _predict_native(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _margin_native(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _contrib_native(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _dump_native(self) -> bytes:
        raise NotImplementedError

    def _load_native(self, data: bytes) -> Any:
        raise NotImplementedError


def _stopping(evals: list) -> bool:
    return any(name == "valid" for name, _, _ in evals)


# -- XGBoost --------------------------------------------------------------------------------


class _XGBoost(BoostedModel):
    flavour = "xgboost"

    def _fit_native(self, X: Any, y: Any, evals: list) -> tuple[Any, dict[str, list]]:
        import xgboost as xgb

        params = {"n_estimators": self.n_estimators, "random_state": self.random_state}
        params |= self._lib_params()
        if _stopping(evals):
            params["early_stopping_rounds"] = self.early_stopping_rounds
        cls = xgb.XGBClassifier if self.is_classifier else xgb.XGBRegressor
        model = cls(**params)
        sets = [(ex, ey) for _, ex, ey in evals] or None
        model.fit(X, y, eval_set=sets, verbose=False)
        history = model.evals_result() if sets else {}
        curve = {
            f"{name}.{metric}": values
            for (name, _, _), key in zip(evals, sorted(history), strict=True)
            for metric, values in history[key].items()
        }
        booster = model.get_booster()
        best = getattr(model, "best_iteration", None) if _stopping(evals) else None
        if best is not None:
            booster.set_attr(best_iteration=str(best))
        return booster, curve

    def _best_iteration(self) -> int | None:
        value = self._model.attr("best_iteration")
        return None if value is None else int(value)

    def _range(self) -> tuple[int, int]:
        best = self.best_iteration_
        return (0, 0) if best is None else (0, best + 1)

    def _predict_native(self, X: np.ndarray) -> np.ndarray:
        return self._model.inplace_predict(X, iteration_range=self._range())

    def _margin_native(self, X: np.ndarray) -> np.ndarray:
        return self._model.inplace_predict(X, iteration_range=self._range(), predict_type="margin")

    def _contrib_native(self, X: np.ndarray) -> np.ndarray:
        import xgboost as xgb

        return self._model.predict(
            xgb.DMatrix(X), pred_contribs=True, iteration_range=self._range()
        )

    def _dump_native(self) -> bytes:
        return bytes(self._model.save_raw(raw_format="ubj"))

    def _load_native(self, data: bytes) -> Any:
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(bytearray(data))
        return booster


class XGBoostClassifier(ClassifierMixin, _XGBoost):
    is_classifier = True

    def predict_proba(self, X: Any) -> np.ndarray:
        return self._raw(X)


class XGBoostRegressor(RegressorMixin, _XGBoost):
    pass


# -- LightGBM -------------------------------------------------------------------------------


class _LightGBM(BoostedModel):
    flavour = "lightgbm"

    def _fit_native(self, X: Any, y: Any, evals: list) -> tuple[Any, dict[str, list]]:
        import lightgbm as lgb

        params = {
            "n_estimators": self.n_estimators,
            "random_state": self.random_state,
            "verbose": -1,
        }
        params |= self._lib_params()
        cls = lgb.LGBMClassifier if self.is_classifier else lgb.LGBMRegressor
        model = cls(**params)
        history: dict[str, Any] = {}
        callbacks = [lgb.record_evaluation(history)]
        if _stopping(evals):
            callbacks.append(lgb.early_stopping(self.early_stopping_rounds, verbose=False))
        import inspect

        sets: dict[str, Any] = {}
        if evals and "eval_X" in inspect.signature(model.fit).parameters:  # LightGBM >= 4.7
            sets = {"eval_X": tuple(e[1] for e in evals), "eval_y": tuple(e[2] for e in evals)}
        elif evals:
            sets = {"eval_set": [(ex, ey) for _, ex, ey in evals]}
        if evals:
            sets["eval_names"] = [name for name, _, _ in evals]
        model.fit(X, y, callbacks=callbacks, **sets)
        curve = {
            f"{name}.{metric}": values
            for name, metrics in history.items()
            for metric, values in metrics.items()
        }
        booster = model.booster_
        if _stopping(evals) and model.best_iteration_:
            booster.best_iteration = int(model.best_iteration_)
        return booster, curve

    def _best_iteration(self) -> int | None:
        best = int(getattr(self._model, "best_iteration", 0) or 0)
        return best - 1 if best > 0 else None

    def _iterations(self) -> int | None:
        return None if self.best_iteration_ is None else self.best_iteration_ + 1

    def _predict_native(self, X: np.ndarray) -> np.ndarray:
        return self._model.predict(X, num_iteration=self._iterations())

    def _margin_native(self, X: np.ndarray) -> np.ndarray:
        return self._model.predict(X, num_iteration=self._iterations(), raw_score=True)

    def _contrib_native(self, X: np.ndarray) -> np.ndarray:
        return self._model.predict(X, num_iteration=self._iterations(), pred_contrib=True)

    def _dump_native(self) -> bytes:
        return self._model.model_to_string(num_iteration=self._iterations()).encode("utf-8")

    def _load_native(self, data: bytes) -> Any:
        import lightgbm as lgb

        return lgb.Booster(model_str=data.decode("utf-8"))


class LightGBMClassifier(ClassifierMixin, _LightGBM):
    is_classifier = True

    def predict_proba(self, X: Any) -> np.ndarray:
        return self._raw(X)


class LightGBMRegressor(RegressorMixin, _LightGBM):
    pass


# -- CatBoost -------------------------------------------------------------------------------


class _CatBoost(BoostedModel):
    flavour = "catboost"

    def _fit_native(self, X: Any, y: Any, evals: list) -> tuple[Any, dict[str, list]]:
        import catboost as cb

        params = {
            "iterations": self.n_estimators,
            "random_seed": self.random_state,
            "verbose": False,
            "allow_writing_files": False,
        }
        params |= self._lib_params()
        cls = cb.CatBoostClassifier if self.is_classifier else cb.CatBoostRegressor
        model = cls(**params)
        valid = [(ex, ey) for name, ex, ey in evals if name == "valid"]
        if valid:
            model.fit(X, y, eval_set=valid[0], early_stopping_rounds=self.early_stopping_rounds)
        else:
            model.fit(X, y)
        history = model.get_evals_result()  # CatBoost tracks the fit rows' loss anyway
        names = {"learn": "train", "validation": "valid"}
        wanted = {name for name, _, _ in evals}
        curve = {
            f"{names.get(key, key)}.{metric}": values
            for key, metrics in history.items()
            if names.get(key, key) in wanted
            for metric, values in metrics.items()
        }
        self._best = model.get_best_iteration() if valid else None
        return model, curve  # with an eval set CatBoost keeps the best model's trees only

    def _best_iteration(self) -> int | None:
        return getattr(self, "_best", None)

    def _predict_native(self, X: np.ndarray) -> np.ndarray:
        kind = "Probability" if self.is_classifier else "RawFormulaVal"
        return self._model.predict(X, prediction_type=kind)

    def _margin_native(self, X: np.ndarray) -> np.ndarray:
        return self._model.predict(X, prediction_type="RawFormulaVal")

    def _contrib_native(self, X: np.ndarray) -> np.ndarray:
        from catboost import Pool

        return self._model.get_feature_importance(Pool(X), type="ShapValues")

    def _dump_native(self) -> bytes:
        import os
        import tempfile

        fd, path = tempfile.mkstemp(suffix=".cbm")
        os.close(fd)
        try:
            self._model.save_model(path, format="cbm")
            with open(path, "rb") as handle:
                return handle.read()
        finally:
            os.unlink(path)

    def _load_native(self, data: bytes) -> Any:
        import catboost as cb

        model = cb.CatBoost()
        model.load_model(blob=data)
        return model


class CatBoostClassifier(ClassifierMixin, _CatBoost):
    is_classifier = True

    def predict_proba(self, X: Any) -> np.ndarray:
        return self._raw(X)


class CatBoostRegressor(RegressorMixin, _CatBoost):
    pass


CLASSES: dict[tuple[str, bool], type[BoostedModel]] = {
    ("xgboost", True): XGBoostClassifier,
    ("xgboost", False): XGBoostRegressor,
    ("lightgbm", True): LightGBMClassifier,
    ("lightgbm", False): LightGBMRegressor,
    ("catboost", True): CatBoostClassifier,
    ("catboost", False): CatBoostRegressor,
}
