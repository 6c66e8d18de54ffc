namespace Serverless.Pipeline.Evaluation;

/// <summary>
/// Metrics as scikit-learn defines them, computed from a model's outputs: <c>roc_auc_score</c> (ties count a half),
/// <c>average_precision_score</c> for AUPRC, F1, precision and recall of the positive class, <c>log_loss</c> in nats
/// (probabilities clipped to [1e-15, 1 − 1e-15]), <c>balanced_accuracy_score</c> as macro accuracy, <c>r2_score</c>,
/// RMSE and MAE. ML.NET's own evaluators differ in places (binary log-loss in bits, an interpolated AUPRC).
/// </summary>
public static class Metrics
{
    private const double Epsilon = 1e-15;

    /// <summary>Binary metrics from the truth, the positive class's probability and the predicted class.</summary>
    public static Dictionary<string, double> Binary(IReadOnlyList<bool> actual, IReadOnlyList<float> probability, IReadOnlyList<bool> predicted)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(probability);
        ArgumentNullException.ThrowIfNull(predicted);
        var n = actual.Count;
        var (tp, fp, fn) = (0, 0, 0);
        var logLoss = 0.0;
        for (var i = 0; i < n; i++)
        {
            tp += actual[i] && predicted[i] ? 1 : 0;
            fp += !actual[i] && predicted[i] ? 1 : 0;
            fn += actual[i] && !predicted[i] ? 1 : 0;
            var p = Math.Clamp(probability[i], Epsilon, 1 - Epsilon);
            logLoss -= actual[i] ? Math.Log(p) : Math.Log(1 - p);
        }

        var precision = tp + fp > 0 ? tp / (double)(tp + fp) : 0;
        var recall = tp + fn > 0 ? tp / (double)(tp + fn) : 0;
        return new()
        {
            ["auc"] = RocAuc(actual, probability),
            ["auprc"] = AveragePrecision(actual, probability),
            ["accuracy"] = n > 0 ? actual.Zip(predicted).Count(p => p.First == p.Second) / (double)n : double.NaN,
            ["f1"] = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0,
            ["precision"] = precision,
            ["recall"] = recall,
            ["logLoss"] = n > 0 ? logLoss / n : double.NaN,
        };
    }

    /// <summary>Multiclass metrics from the true class index and each row's class scores (normalized to sum to 1).</summary>
    public static Dictionary<string, double> Multiclass(IReadOnlyList<int> actual, IReadOnlyList<float[]> scores)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(scores);
        var (hits, logLoss) = (0, 0.0);
        var perClass = new Dictionary<int, (int Hits, int Count)>();
        for (var i = 0; i < actual.Count; i++)
        {
            var row = scores[i];
            var predicted = Array.IndexOf(row, row.Max());
            var hit = predicted == actual[i];
            hits += hit ? 1 : 0;
            var (h, c) = perClass.GetValueOrDefault(actual[i]);
            perClass[actual[i]] = (h + (hit ? 1 : 0), c + 1);
            var sum = row.Sum();
            var p = actual[i] >= 0 && actual[i] < row.Length && sum > 0 ? row[actual[i]] / sum : 0;
            logLoss -= Math.Log(Math.Clamp(p, Epsilon, 1 - Epsilon));
        }

        var n = Math.Max(1, actual.Count);
        return new()
        {
            ["microAccuracy"] = hits / (double)n,
            ["macroAccuracy"] = perClass.Count > 0 ? perClass.Values.Average(c => c.Hits / (double)c.Count) : double.NaN,
            ["logLoss"] = logLoss / n,
        };
    }

    /// <summary>Regression metrics from the truth and the predictions.</summary>
    public static Dictionary<string, double> Regression(IReadOnlyList<float> actual, IReadOnlyList<float> predicted)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        var n = Math.Max(1, actual.Count);
        var mean = actual.Count > 0 ? actual.Average(v => (double)v) : 0;
        var (squared, absolute, total) = (0.0, 0.0, 0.0);
        for (var i = 0; i < actual.Count; i++)
        {
            var error = (double)actual[i] - predicted[i];
            squared += error * error;
            absolute += Math.Abs(error);
            total += (actual[i] - mean) * (actual[i] - mean);
        }

        return new()
        {
            ["rmse"] = Math.Sqrt(squared / n),
            ["mae"] = absolute / n,
            ["rSquared"] = total > 0 ? 1 - (squared / total) : squared == 0 ? 1 : 0,
        };
    }

    /// <summary>The area under the ROC curve: the share of (positive, negative) pairs ordered right, ties a half (from average ranks).</summary>
    public static double RocAuc(IReadOnlyList<bool> actual, IReadOnlyList<float> score)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(score);
        var order = Enumerable.Range(0, score.Count).OrderBy(i => score[i]).ToArray();
        var (positives, rankSum) = (0L, 0.0);
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && score[order[end + 1]] == score[order[start]])
            {
                end++;
            }

            var rank = ((start + end) / 2.0) + 1;
            for (var k = start; k <= end; k++)
            {
                if (actual[order[k]])
                {
                    positives++;
                    rankSum += rank;
                }
            }

            start = end + 1;
        }

        var negatives = order.Length - positives;
        return positives == 0 || negatives == 0 ? double.NaN : (rankSum - (positives * (positives + 1) / 2.0)) / (positives * (double)negatives);
    }

    /// <summary>Average precision: Σ (Rₙ − Rₙ₋₁)·Pₙ over the distinct thresholds, highest first.</summary>
    public static double AveragePrecision(IReadOnlyList<bool> actual, IReadOnlyList<float> score)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(score);
        var positives = actual.Count(a => a);
        if (positives == 0)
        {
            return double.NaN;
        }

        var order = Enumerable.Range(0, score.Count).OrderByDescending(i => score[i]).ToArray();
        var (tp, seen, recall, ap) = (0, 0, 0.0, 0.0);
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && score[order[end + 1]] == score[order[start]])
            {
                end++;
            }

            for (var k = start; k <= end; k++)
            {
                tp += actual[order[k]] ? 1 : 0;
            }

            seen = end + 1;
            var nextRecall = tp / (double)positives;
            ap += (nextRecall - recall) * (tp / (double)seen);
            recall = nextRecall;
            start = end + 1;
        }

        return ap;
    }
}
