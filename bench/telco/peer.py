"""The peer: scikit-learn (Debian's python3-sklearn) scoring the same file CSV to CSV, as a Python user would.
  peer.py train <folder>            fits HistGradientBoostingClassifier (100 iterations, 31 leaves) and
                                    LogisticRegression on train.csv (one-hot categories; scaled numbers for the linear
                                    model) and pickles them
  peer.py score <folder> <model>    reads score.csv with pandas, predict_proba, writes predictions.csv; prints seconds
                                    from the read's start to the write's end (the process's start and unpickling excluded)"""
import pickle, sys, time
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.impute import SimpleImputer

command, folder = sys.argv[1], sys.argv[2]
if command == "train":
    train = pd.read_csv(f"{folder}/train.csv")
    y = train.pop("churn") == "Yes"
    x = train.drop(columns=["customer_id"])
    categorical = [c for c in x.columns if x[c].dtype == object]
    numeric = [c for c in x.columns if c not in categorical]
    def pipeline(model, scale):
        numbers = make_pipeline(SimpleImputer(), StandardScaler()) if scale else SimpleImputer()
        encode = ColumnTransformer([("categories", OneHotEncoder(handle_unknown="ignore"), categorical), ("numbers", numbers, numeric)])
        return make_pipeline(encode, model).fit(x, y)
    models = {"hgb": pipeline(HistGradientBoostingClassifier(max_iter=100, max_leaf_nodes=31, early_stopping=False, random_state=1), False),
              "lr": pipeline(LogisticRegression(max_iter=1000), True)}
    pickle.dump(models, open(f"{folder}/peer-models.pkl", "wb"))
else:
    model = pickle.load(open(f"{folder}/peer-models.pkl", "rb"))[sys.argv[3]]
    start = time.perf_counter()
    data = pd.read_csv(f"{folder}/score.csv")
    p = model.predict_proba(data.drop(columns=["customer_id"]))[:, 1]
    out = pd.DataFrame({"customer_id": data["customer_id"], "prediction": pd.Series(p > 0.5).map({True: "Yes", False: "No"}),
                        "probability_No": 1 - p, "probability_Yes": p})
    out.to_csv(f"{folder}/peer-predictions.csv", index=True, index_label="row")
    print(f"{time.perf_counter() - start:.3f}")
