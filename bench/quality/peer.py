"""The peer for the quality benchmark: scikit-learn with defaults, on real public datasets that ship with it.

Writes, per dataset and per split seed, train.csv and test.csv (seeded splits, stratified for classes, shared with
the .NET side) and peer.json with the test metrics of HistGradientBoosting and of LogisticRegression / Ridge on
each split. Test sets of these datasets are small (45 to 143 rows), so one split decides little: five are used.
Usage: /usr/bin/python3 bench/quality/peer.py OUTPUT_DIR   (Debian's python3-sklearn; NumPy only, no pandas)
"""
import csv
import json
import os
import sys

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split

out = sys.argv[1]
datasets = {
    "breast_cancer": (load_breast_cancer(), "binary", "diagnosis", lambda y: "benign" if y == 1 else "malignant"),
    "wine": (load_wine(), "multiclass", "cultivar", lambda y: f"class_{y}"),
    "diabetes": (load_diabetes(), "regression", "progression", lambda y: float(y)),
}


def write(path, names, x, y):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(names)
        for row, label in zip(x, y):
            writer.writerow([repr(float(v)) for v in row] + [label])


SEEDS = [0, 1, 2, 3, 4]
results = {}
for name, (bunch, task, label, encode) in datasets.items():
    names = [n.replace(" ", "_").replace("(", "").replace(")", "") for n in bunch.feature_names] + [label]
    x, y = bunch.data, np.array([encode(v) for v in bunch.target], dtype=object)
    metric = {"binary": "auc", "multiclass": "accuracy", "regression": "r2"}[task]
    results[name] = {"task": task, "label": label, "metric": metric, "rows": int(len(y)), "features": int(x.shape[1]), "splits": {}}
    for seed in SEEDS:
        stratify = y if task != "regression" else None
        x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=stratify)
        folder = os.path.join(out, name, f"seed{seed}")
        os.makedirs(folder, exist_ok=True)
        write(os.path.join(folder, "train.csv"), names, x_train, y_train)
        write(os.path.join(folder, "test.csv"), names, x_test, y_test)
        if task == "binary":
            models = {"HistGradientBoosting": HistGradientBoostingClassifier(), "LogisticRegression": LogisticRegression(max_iter=5000)}
            score = lambda m: roc_auc_score(y_test == "benign", m.predict_proba(x_test)[:, list(m.classes_).index("benign")])
        elif task == "multiclass":
            models = {"HistGradientBoosting": HistGradientBoostingClassifier(), "LogisticRegression": LogisticRegression(max_iter=5000)}
            score = lambda m: accuracy_score(y_test, m.predict(x_test))
        else:
            y_train, y_test = y_train.astype(float), y_test.astype(float)
            models = {"HistGradientBoosting": HistGradientBoostingRegressor(), "Ridge": Ridge()}
            score = lambda m: r2_score(y_test, m.predict(x_test))
        peers = {}
        for model_name, model in models.items():
            model.fit(x_train, y_train if task == "regression" else y_train.astype(str))
            peers[model_name] = round(float(score(model)), 4)
        results[name]["splits"][f"seed{seed}"] = peers

with open(os.path.join(out, "peer.json"), "w") as f:
    json.dump(results, f, indent=2)
print(json.dumps(results, indent=2))
