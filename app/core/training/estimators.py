"""The estimators of the catalog: a builder per family and its ``EstimatorSpec``.

Builders import scikit-learn inside, so importing the catalog stays cheap. Parameters that
scikit-learn spells ``None`` ("no limit") are integers where 0 means no limit, so that a form
field has one type.
"""

from __future__ import annotations

from typing import Any

from app.core.training.params import Builder, EstimatorSpec, ParamSpec, SearchDim


def _depth(value: int) -> int | None:
    return None if not value else int(value)


def _max_features(kind: str, value: str) -> Any:
    if value == "default":
        return "sqrt" if kind == "classification" else 1.0
    return None if value == "all" else value


def _class_weight(value: str) -> str | None:
    return None if value == "none" else value


def _build_dummy(kind: str, p: dict, seed: int) -> Any:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    if kind == "classification":
        strategy = (
            p["strategy"]
            if p["strategy"] in ("prior", "most_frequent", "stratified", "uniform")
            else "prior"
        )
        return DummyClassifier(strategy=strategy, random_state=seed)
    strategy = p["strategy"] if p["strategy"] in ("mean", "median") else "mean"
    return DummyRegressor(strategy=strategy)


def _build_logistic(kind: str, p: dict, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=p["C"],
        class_weight=_class_weight(p["class_weight"]),
        max_iter=p["max_iter"],
        random_state=seed,
    )


def _build_ridge(kind: str, p: dict, seed: int) -> Any:
    from sklearn.linear_model import Ridge

    return Ridge(alpha=p["alpha"], random_state=seed)


def _build_lasso(kind: str, p: dict, seed: int) -> Any:
    from sklearn.linear_model import Lasso

    return Lasso(alpha=p["alpha"], max_iter=p["max_iter"], random_state=seed)


def _build_elastic_net(kind: str, p: dict, seed: int) -> Any:
    from sklearn.linear_model import ElasticNet, LogisticRegression

    if kind == "classification":
        return LogisticRegression(
            C=1.0 / p["alpha"],
            l1_ratio=p["l1_ratio"],
            solver="saga",
            max_iter=p["max_iter"],
            random_state=seed,
        )
    return ElasticNet(
        alpha=p["alpha"], l1_ratio=p["l1_ratio"], max_iter=p["max_iter"], random_state=seed
    )


def _build_knn(kind: str, p: dict, seed: int) -> Any:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    cls = KNeighborsClassifier if kind == "classification" else KNeighborsRegressor
    return cls(n_neighbors=p["n_neighbors"], weights=p["weights"], p=p["p"])


def _build_svm(kind: str, p: dict, seed: int) -> Any:
    from sklearn.svm import SVC, SVR

    if kind == "regression":
        return SVR(C=p["C"], kernel=p["kernel"], gamma=p["gamma"], epsilon=p["epsilon"])
    svc = SVC(
        C=p["C"],
        kernel=p["kernel"],
        gamma=p["gamma"],
        class_weight=_class_weight(p["class_weight"]),
        random_state=seed,
    )
    if not p["probability"]:
        return svc
    from sklearn.calibration import CalibratedClassifierCV

    return CalibratedClassifierCV(svc, cv=3, ensemble=False)


def _build_tree(kind: str, p: dict, seed: int) -> Any:
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    extra = {"class_weight": _class_weight(p["class_weight"])} if kind == "classification" else {}
    cls = DecisionTreeClassifier if kind == "classification" else DecisionTreeRegressor
    return cls(
        max_depth=_depth(p["max_depth"]),
        min_samples_split=p["min_samples_split"],
        min_samples_leaf=p["min_samples_leaf"],
        ccp_alpha=p["ccp_alpha"],
        random_state=seed,
        **extra,
    )


def _forest_builder(classifier: str, regressor: str) -> Builder:
    def build(kind: str, p: dict, seed: int) -> Any:
        from sklearn import ensemble

        cls = getattr(ensemble, classifier if kind == "classification" else regressor)
        extra = (
            {"class_weight": _class_weight(p["class_weight"])} if kind == "classification" else {}
        )
        return cls(
            n_estimators=p["n_estimators"],
            max_depth=_depth(p["max_depth"]),
            min_samples_leaf=p["min_samples_leaf"],
            max_features=_max_features(kind, p["max_features"]),
            bootstrap=p["bootstrap"],
            random_state=seed,
            n_jobs=p["n_jobs"],
            **extra,
        )

    return build


def _build_hgb(kind: str, p: dict, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    extra = {"class_weight": _class_weight(p["class_weight"])} if kind == "classification" else {}
    cls = (
        HistGradientBoostingClassifier
        if kind == "classification"
        else HistGradientBoostingRegressor
    )
    return cls(
        learning_rate=p["learning_rate"],
        max_iter=p["max_iter"],
        max_leaf_nodes=p["max_leaf_nodes"],
        max_depth=_depth(p["max_depth"]),
        min_samples_leaf=p["min_samples_leaf"],
        l2_regularization=p["l2_regularization"],
        early_stopping=p["early_stopping"],
        random_state=seed,
        **extra,
    )


def _build_nb(kind: str, p: dict, seed: int) -> Any:
    from sklearn.naive_bayes import GaussianNB

    return GaussianNB(var_smoothing=p["var_smoothing"])


# -- the catalog ---------------------------------------------------------------------------

_CLASS_WEIGHT = ParamSpec(
    "class_weight",
    "categorical",
    "none",
    choices=("none", "balanced"),
    help="'balanced' weights classes inversely to their frequency (classification only).",
)
_DEPTH = ParamSpec("max_depth", "int", 0, low=0, high=1000, help="Deepest tree; 0 = no limit.")
_LEAF = ParamSpec("min_samples_leaf", "int", 1, low=1, high=100_000, help="Fewest rows in a leaf.")
_FOREST_PARAMS = (
    ParamSpec("n_estimators", "int", 100, low=1, high=10_000, help="Number of trees."),
    _DEPTH,
    _LEAF,
    ParamSpec(
        "max_features",
        "categorical",
        "default",
        choices=("default", "sqrt", "log2", "all"),
        help="Features tried per split; 'default' is scikit-learn's (sqrt for classification, "
        "all for regression).",
    ),
    ParamSpec("bootstrap", "bool", True, help="Draw a bootstrap sample for each tree."),
    _CLASS_WEIGHT,
    ParamSpec("n_jobs", "int", 1, low=-1, high=256, help="Cores used; -1 = all."),
)
_FOREST_SPACE = (
    SearchDim("n_estimators", "int", 50, 500, log=True),
    SearchDim("max_depth", "int", 2, 32, log=True),
    SearchDim("min_samples_leaf", "int", 1, 20, log=True),
    SearchDim("max_features", "categorical", choices=("sqrt", "log2", "all")),
)
_BOTH = ("classification", "regression")

SPECS = (
    EstimatorSpec(
        name="dummy",
        title="Dummy baseline",
        tasks=_BOTH,
        description="Ignores the features: predicts the class prior or the mean. "
        "Any model worth keeping beats it.",
        params=(
            ParamSpec(
                "strategy",
                "categorical",
                "prior",
                choices=("prior", "most_frequent", "stratified", "uniform", "mean", "median"),
                help="Classification: prior, most_frequent, stratified, uniform. "
                "Regression: mean, median (others fall back to mean).",
            ),
        ),
        builder=_build_dummy,
        space=(),
    ),
    EstimatorSpec(
        name="logistic",
        title="Logistic regression",
        tasks=("classification",),
        description="A linear model of the log-odds, L2-regularised.",
        params=(
            ParamSpec(
                "C",
                "float",
                1.0,
                low=1e-6,
                high=1e6,
                log=True,
                help="Inverse regularisation strength; smaller is simpler.",
            ),
            _CLASS_WEIGHT,
            ParamSpec("max_iter", "int", 1000, low=10, high=100_000, help="Solver iterations."),
        ),
        builder=_build_logistic,
        space=(
            SearchDim("C", "float", 1e-3, 1e3, log=True),
            SearchDim("class_weight", "categorical", choices=("none", "balanced")),
        ),
    ),
    EstimatorSpec(
        name="ridge",
        title="Ridge regression",
        tasks=("regression",),
        description="Least squares with an L2 penalty.",
        params=(
            ParamSpec(
                "alpha",
                "float",
                1.0,
                low=0.0,
                high=1e6,
                help="Regularisation strength; 0 is ordinary least squares.",
            ),
        ),
        builder=_build_ridge,
        space=(SearchDim("alpha", "float", 1e-3, 1e3, log=True),),
    ),
    EstimatorSpec(
        name="lasso",
        title="Lasso regression",
        tasks=("regression",),
        description="Least squares with an L1 penalty: drives weak features to zero.",
        params=(
            ParamSpec(
                "alpha", "float", 1.0, low=1e-8, high=1e6, log=True, help="Regularisation strength."
            ),
            ParamSpec("max_iter", "int", 1000, low=10, high=100_000, help="Solver iterations."),
        ),
        builder=_build_lasso,
        space=(SearchDim("alpha", "float", 1e-4, 10.0, log=True),),
    ),
    EstimatorSpec(
        name="elastic_net",
        title="Elastic net",
        tasks=_BOTH,
        description="A linear model with a mix of L1 and L2 penalties (logistic for "
        "classification, with C = 1/alpha; ElasticNet for regression).",
        params=(
            ParamSpec(
                "alpha",
                "float",
                1.0,
                low=1e-8,
                high=1e6,
                log=True,
                help="Regularisation strength (classification uses C = 1/alpha).",
            ),
            ParamSpec(
                "l1_ratio",
                "float",
                0.5,
                low=0.0,
                high=1.0,
                help="0 = pure L2 (ridge), 1 = pure L1 (lasso).",
            ),
            ParamSpec("max_iter", "int", 1000, low=10, high=100_000, help="Solver iterations."),
        ),
        builder=_build_elastic_net,
        space=(
            SearchDim("alpha", "float", 1e-4, 10.0, log=True),
            SearchDim("l1_ratio", "float", 0.0, 1.0),
        ),
    ),
    EstimatorSpec(
        name="knn",
        title="k-nearest neighbours",
        tasks=_BOTH,
        description="Predicts from the k most similar training rows.",
        params=(
            ParamSpec(
                "n_neighbors",
                "int",
                5,
                low=1,
                high=10_000,
                help="How many neighbours vote.",
                at_most_fit_rows=True,
            ),
            ParamSpec(
                "weights",
                "categorical",
                "uniform",
                choices=("uniform", "distance"),
                help="'distance' lets nearer neighbours count more.",
            ),
            ParamSpec("p", "int", 2, low=1, high=2, help="1 = Manhattan, 2 = Euclidean distance."),
        ),
        builder=_build_knn,
        space=(
            SearchDim("n_neighbors", "int", 1, 50, log=True),
            SearchDim("weights", "categorical", choices=("uniform", "distance")),
            SearchDim("p", "int", 1, 2),
        ),
    ),
    EstimatorSpec(
        name="svm",
        title="Support vector machine",
        tasks=_BOTH,
        description="A maximum-margin model with a kernel (SVC / SVR). Slow beyond ~20,000 rows.",
        params=(
            ParamSpec(
                "C",
                "float",
                1.0,
                low=1e-6,
                high=1e6,
                log=True,
                help="Inverse regularisation strength.",
            ),
            ParamSpec(
                "kernel",
                "categorical",
                "rbf",
                choices=("rbf", "linear", "poly", "sigmoid"),
                help="The kernel function.",
            ),
            ParamSpec(
                "gamma",
                "categorical",
                "scale",
                choices=("scale", "auto"),
                help="Kernel coefficient for rbf, poly and sigmoid.",
            ),
            ParamSpec(
                "epsilon",
                "float",
                0.1,
                low=0.0,
                high=1e6,
                help="Width of the no-penalty tube (regression only).",
            ),
            ParamSpec(
                "probability",
                "bool",
                False,
                help="Calibrate probabilities (3 extra fits) so log loss and the "
                "calibration curve can be computed (classification only).",
            ),
            _CLASS_WEIGHT,
        ),
        builder=_build_svm,
        space=(
            SearchDim("C", "float", 1e-3, 1e3, log=True),
            SearchDim("kernel", "categorical", choices=("rbf", "linear")),
            SearchDim("gamma", "categorical", choices=("scale", "auto")),
        ),
    ),
    EstimatorSpec(
        name="decision_tree",
        title="Decision tree",
        tasks=_BOTH,
        description="One tree of if-then splits; easy to read, prone to overfit.",
        params=(
            _DEPTH,
            ParamSpec(
                "min_samples_split",
                "int",
                2,
                low=2,
                high=100_000,
                help="Fewest rows a node needs to be split.",
            ),
            _LEAF,
            ParamSpec(
                "ccp_alpha",
                "float",
                0.0,
                low=0.0,
                high=1e6,
                help="Cost-complexity pruning; larger prunes more.",
            ),
            _CLASS_WEIGHT,
        ),
        builder=_build_tree,
        space=(
            SearchDim("max_depth", "int", 2, 32, log=True),
            SearchDim("min_samples_split", "int", 2, 40, log=True),
            SearchDim("min_samples_leaf", "int", 1, 20, log=True),
        ),
    ),
    EstimatorSpec(
        name="random_forest",
        title="Random forest",
        tasks=_BOTH,
        description="Many decorrelated trees on bootstrap samples, averaged.",
        params=_FOREST_PARAMS,
        builder=_forest_builder("RandomForestClassifier", "RandomForestRegressor"),
        space=_FOREST_SPACE,
    ),
    EstimatorSpec(
        name="extra_trees",
        title="Extra trees",
        tasks=_BOTH,
        description="Like a random forest with random split thresholds: faster, smoother.",
        params=tuple(
            ParamSpec("bootstrap", "bool", False, help="Draw a bootstrap sample for each tree.")
            if p.name == "bootstrap"
            else p
            for p in _FOREST_PARAMS
        ),
        builder=_forest_builder("ExtraTreesClassifier", "ExtraTreesRegressor"),
        space=_FOREST_SPACE,
    ),
    EstimatorSpec(
        name="hist_gradient_boosting",
        title="Histogram gradient boosting",
        tasks=_BOTH,
        description="Boosted trees on binned features (LightGBM-style); strong and fast.",
        params=(
            ParamSpec(
                "learning_rate",
                "float",
                0.1,
                low=1e-4,
                high=1.0,
                log=True,
                help="Shrinkage of each tree's contribution.",
            ),
            ParamSpec(
                "max_iter",
                "int",
                100,
                low=1,
                high=10_000,
                help="Boosting iterations (trees per class).",
            ),
            ParamSpec("max_leaf_nodes", "int", 31, low=2, high=4096, help="Leaves per tree."),
            _DEPTH,
            ParamSpec(
                "min_samples_leaf", "int", 20, low=1, high=100_000, help="Fewest rows in a leaf."
            ),
            ParamSpec(
                "l2_regularization",
                "float",
                0.0,
                low=0.0,
                high=1e6,
                help="L2 penalty on leaf values.",
            ),
            ParamSpec(
                "early_stopping",
                "categorical",
                "auto",
                choices=("auto", True, False),
                help="Stop when a held-out 10% stops improving; 'auto' does so above 10,000 rows.",
            ),
            _CLASS_WEIGHT,
        ),
        builder=_build_hgb,
        space=(
            SearchDim("learning_rate", "float", 0.01, 0.5, log=True),
            SearchDim("max_iter", "int", 50, 500, log=True),
            SearchDim("max_leaf_nodes", "int", 8, 128, log=True),
            SearchDim("min_samples_leaf", "int", 5, 100, log=True),
            SearchDim("l2_regularization", "float", 1e-6, 10.0, log=True),
        ),
    ),
    EstimatorSpec(
        name="naive_bayes",
        title="Gaussian naive Bayes",
        tasks=("classification",),
        description="Treats features as independent Gaussians per class; a fast baseline.",
        params=(
            ParamSpec(
                "var_smoothing",
                "float",
                1e-9,
                low=1e-15,
                high=1.0,
                log=True,
                help="Share of the largest variance added to all variances.",
            ),
        ),
        builder=_build_nb,
        space=(SearchDim("var_smoothing", "float", 1e-12, 1e-2, log=True),),
    ),
)

#: every estimator by name, in the order forms list them
