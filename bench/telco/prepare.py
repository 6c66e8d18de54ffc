"""The IBM Watson telco churn table (7,043 customers; Debian's r-cran-modeldata, `wa_churn`, MIT licence), written
as the IBM original lays it out (a customer id, Yes/No flags, gender), and resampled with a fixed seed into a scoring
file of N rows. Usage: prepare.py <folder> <rows> [<rows of the large file>]"""
import subprocess, sys
import numpy as np
import pandas as pd

folder, rows = sys.argv[1], int(sys.argv[2])
large = int(sys.argv[3]) if len(sys.argv) > 3 else 0
subprocess.run(["Rscript", "-e", f'data(wa_churn, package="modeldata"); write.csv(wa_churn, "{folder}/wa_churn.csv", row.names=FALSE, na="")'], check=True)
data = pd.read_csv(f"{folder}/wa_churn.csv")
yes_no = lambda column: column.map({1: "Yes", 0: "No"})
table = pd.DataFrame({
    "customer_id": [f"{i:04d}-TELCO" for i in range(len(data))],
    "gender": data["female"].map({1: "Female", 0: "Male"}),
    "senior_citizen": data["senior_citizen"],
    "partner": yes_no(data["partner"]),
    "dependents": yes_no(data["dependents"]),
    "tenure": data["tenure"],
    "phone_service": yes_no(data["phone_service"]),
    **{c: data[c] for c in ["multiple_lines", "internet_service", "online_security", "online_backup", "device_protection",
                            "tech_support", "streaming_tv", "streaming_movies", "contract"]},
    "paperless_billing": yes_no(data["paperless_billing"]),
    "payment_method": data["payment_method"],
    "monthly_charges": data["monthly_charges"],
    "total_charges": data["total_charges"],
    "churn": data["churn"],
})
table.to_csv(f"{folder}/train.csv", index=False)

features = table.drop(columns=["churn"])
def resample(path, count, seed):
    rng = np.random.default_rng(seed)
    with open(path, "w") as out:
        written = 0
        while written < count:
            n = min(500_000, count - written)
            part = features.iloc[rng.integers(0, len(features), n)].copy()
            part["customer_id"] = [f"C{i:09d}" for i in range(written, written + n)]
            part.to_csv(out, index=False, header=written == 0)
            written += n

resample(f"{folder}/score.csv", rows, 1)
if large:
    resample(f"{folder}/large.csv", large, 2)
