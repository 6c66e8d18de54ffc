"""The quality benchmark's data and its peers: twelve real public tabular datasets from Debian's R packages, split with
fixed seeds, and scikit-learn's LogisticRegression / Ridge, HistGradientBoosting and GradientBoosting with defaults on
each split.

Writes OUTPUT_DIR/NAME/seedK/{train,test}.csv (75% / 25%, stratified for classes; missing values as empty fields) and
OUTPUT_DIR/peer.json: per dataset its task, label, metric, source and licence, and per split each peer's test metric
and fit-and-predict seconds. A dataset whose test set has fewer than 1,000 rows gets three splits (seeds 0, 1, 2), so
one lucky split decides less; the others one (seed 0).
Metrics are the app's primary metrics: AUC (binary), macro accuracy = scikit-learn's balanced_accuracy_score
(multiclass; ML.NET's MacroAccuracy), R² (regression).
The peers see what a scikit-learn user would give them: numbers with NaN (median-imputed for the two that need it,
standardized for the linear one), categories one-hot encoded (unknown ones ignored, missing as its own category).
LogisticRegression gets max_iter=1000 so it converges, the boosters random_state=0 so a rerun repeats; the rest are defaults.
Usage: /usr/bin/python3 bench/quality/prepare.py OUTPUT_DIR [NAME ...]
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor, HistGradientBoostingClassifier,
                              HistGradientBoostingRegressor)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import balanced_accuracy_score, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

MODELDATA = "modeldata (MIT)"
MLBENCH = "mlbench (GPL-2; data from the UCI repository)"
AER = "AER (GPL-2 | GPL-3)"
# name: (R package, R data set, label, task, columns dropped, source and licence)
DATASETS = {
    "credit_data": ("modeldata", "credit_data", "Status", "binary", [], MODELDATA + ", credit scoring (Edelman et al.)"),
    "mlc_churn": ("modeldata", "mlc_churn", "churn", "binary", [], MODELDATA + ", MLC++ telecom churn; 'state' has 51 levels"),
    "wa_churn": ("modeldata", "wa_churn", "churn", "binary", [], MODELDATA + ", IBM Watson telco churn"),
    "attrition": ("modeldata", "attrition", "Attrition", "binary", [], MODELDATA + ", IBM HR attrition"),
    "pima": ("mlbench", "PimaIndiansDiabetes2", "diabetes", "binary", [], MLBENCH + ", Pima diabetes, zeros as missing"),
    "hmda": ("AER", "HMDA", "deny", "binary", [], AER + ", Boston mortgage denials (Munnell et al.)"),
    "hpc_jobs": ("modeldata", "hpc_data", "class", "multiclass", [], MODELDATA + ", HPC job classes (Kuhn & Johnson)"),
    "vehicle": ("mlbench", "Vehicle", "Class", "multiclass", [], MLBENCH + ", vehicle silhouettes (Siebert)"),
    "satellite": ("mlbench", "Satellite", "classes", "multiclass", [], MLBENCH + ", Landsat (Statlog)"),
    "ames": ("modeldata", "ames", "Sale_Price", "regression", [], MODELDATA + ", Ames house prices (De Cock)"),
    "concrete": ("modeldata", "concrete", "compressive_strength", "regression", [], MODELDATA + ", concrete strength (Yeh)"),
    "sacramento": ("modeldata", "Sacramento", "price", "regression", [], MODELDATA + ", Sacramento sales; 'zip' has 68 levels"),
}
METRIC = {"binary": "auc", "multiclass": "macroAccuracy", "regression": "rSquared"}


def export(package, name, path):
    script = (f'e <- new.env(); data(list="{name}", package="{package}", envir=e); d <- as.data.frame(get("{name}", envir=e)); '
              f'for (c in names(d)) if (is.factor(d[[c]])) d[[c]] <- as.character(d[[c]]); '
              f'write.csv(d, "{path}", row.names=FALSE, na="")')
    subprocess.run(["Rscript", "-e", script], check=True, capture_output=True)


def peers(task, numeric, categorical):
    def pre(scale, impute):
        steps = ([SimpleImputer(strategy="median")] if impute else []) + ([StandardScaler()] if scale else [])
        return ColumnTransformer([
            ("num", make_pipeline(*steps) if steps else "passthrough", numeric),
            ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="(missing)"),
                                  OneHotEncoder(handle_unknown="ignore", sparse_output=False)), categorical)])
    if task == "regression":
        return {"linear": ("Ridge", make_pipeline(pre(True, True), Ridge())),
                "hgb": ("HistGradientBoosting", make_pipeline(pre(False, False), HistGradientBoostingRegressor(random_state=0))),
                "gb": ("GradientBoosting", make_pipeline(pre(False, True), GradientBoostingRegressor(random_state=0)))}
    return {"linear": ("LogisticRegression", make_pipeline(pre(True, True), LogisticRegression(max_iter=1000))),
            "hgb": ("HistGradientBoosting", make_pipeline(pre(False, False), HistGradientBoostingClassifier(random_state=0))),
            "gb": ("GradientBoosting", make_pipeline(pre(False, True), GradientBoostingClassifier(random_state=0)))}


def score(task, model, x, y):
    if task == "binary":
        positive = sorted(model.classes_)[1]  # the app's positive class: the second in sorted order
        return roc_auc_score(y == positive, model.predict_proba(x)[:, list(model.classes_).index(positive)])
    if task == "multiclass":
        return balanced_accuracy_score(y, model.predict(x))
    return r2_score(y, model.predict(x))


def main():
    out, only = sys.argv[1], set(sys.argv[2:])
    results = {}
    for name, (package, rname, label, task, dropped, source) in DATASETS.items():
        if only and name not in only:
            continue
        os.makedirs(os.path.join(out, name), exist_ok=True)
        raw = os.path.join(out, name, "all.csv")
        export(package, rname, raw)
        data = pd.read_csv(raw, keep_default_na=False, na_values=[""]).drop(columns=dropped)
        # The app refuses a header whose names differ only in case (Vehicle's Sc.Var.Maxis and Sc.Var.maxis: major and
        # minor axis); the minor-axis ones are renamed.
        data = data.rename(columns={c: c.replace(".maxis", ".minor_axis") for c in data.columns if c.endswith(".maxis")})
        data = data[data[label].notna()]
        x, y = data.drop(columns=[label]), data[label]
        if task != "regression":
            y = y.astype(str)
        numeric = list(x.select_dtypes(include="number").columns)
        categorical = [c for c in x.columns if c not in numeric]
        test_rows = round(len(data) * 0.25)
        seeds = [0] if test_rows >= 1000 else [0, 1, 2]
        info = {"task": task, "label": label, "metric": METRIC[task], "rows": len(data), "features": x.shape[1],
                "categorical": len(categorical), "missing": int(x.isna().sum().sum()), "source": f"{package}::{rname}, {source}",
                "splits": {}}
        for seed in seeds:
            stratify = y if task != "regression" else None
            train, test = train_test_split(data, test_size=0.25, random_state=seed, stratify=stratify)
            folder = os.path.join(out, name, f"seed{seed}")
            os.makedirs(folder, exist_ok=True)
            train.to_csv(os.path.join(folder, "train.csv"), index=False, na_rep="")
            test.to_csv(os.path.join(folder, "test.csv"), index=False, na_rep="")
            split = {}
            for key, (peer, model) in peers(task, numeric, categorical).items():
                started = time.perf_counter()
                model.fit(train.drop(columns=[label]), train[label] if task == "regression" else train[label].astype(str))
                value = score(task, model, test.drop(columns=[label]), test[label] if task == "regression" else test[label].astype(str))
                split[key] = {"peer": peer, "value": round(float(value), 4), "seconds": round(time.perf_counter() - started, 2)}
            info["splits"][f"seed{seed}"] = split
            print(name, f"seed{seed}", {k: v["value"] for k, v in split.items()}, file=sys.stderr)
        results[name] = info
    with open(os.path.join(out, "peer.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
