using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Evaluation;

/// <summary>A metric over cross-validation folds.</summary>
public sealed record MetricSummary(double Mean, double StdDev)
{
    /// <summary>The value on each fold, in fold order (the same folds for every configuration of one seed and data).</summary>
    public IReadOnlyList<double> Folds { get; init; } = [];

    /// <summary>Equal when the mean, the deviation and every fold's value are.</summary>
    public bool Equals(MetricSummary? other) =>
        other is not null && Mean.Equals(other.Mean) && StdDev.Equals(other.StdDev) && Folds.SequenceEqual(other.Folds);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Mean, StdDev, Folds.Count);

    /// <summary>The mean and sample standard deviation of per-fold values, with the values.</summary>
    public static MetricSummary Of(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var mean = values.Average();
        return new MetricSummary(mean, Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, values.Count - 1))) { Folds = values };
    }
}

/// <summary>How much the primary metric gets worse when one input column's values are shuffled (bigger: more important).</summary>
public sealed record FeatureImportance(string Column, double Decrease, double StdDev);

/// <summary>Counts of actual (rows) against predicted (columns) classes.</summary>
public sealed record ConfusionMatrix(IReadOnlyList<string> Classes, IReadOnlyList<IReadOnlyList<long>> Counts)
{
    /// <summary>Precision, recall and F1 of each class.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> PerClass()
    {
        var result = new Dictionary<string, IReadOnlyDictionary<string, double>>(StringComparer.Ordinal);
        for (var c = 0; c < Classes.Count; c++)
        {
            double truePositive = Counts[c][c];
            var predicted = Counts.Sum(row => (double)row[c]);
            var actual = Counts[c].Sum(v => (double)v);
            var precision = predicted > 0 ? truePositive / predicted : 0;
            var recall = actual > 0 ? truePositive / actual : 0;
            result[Classes[c]] = new Dictionary<string, double>
            {
                ["precision"] = precision,
                ["recall"] = recall,
                ["f1"] = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0,
                ["support"] = actual,
            };
        }

        return result;
    }
}

/// <summary>One holdout prediction, for the charts: the actual value (class index for classifiers), the prediction, and the positive-class probability of a binary model.</summary>
public sealed record HoldoutPrediction(double Actual, double Predicted, double? Probability);

/// <summary>What evaluating a configuration found.</summary>
public sealed record ModelEvaluation(
    MlTask Task,
    string PrimaryMetric,
    IReadOnlyDictionary<string, double> Holdout,
    int Folds,
    IReadOnlyDictionary<string, MetricSummary> CrossValidation,
    IReadOnlyList<FeatureImportance> Importance,
    ConfusionMatrix? Confusion,
    IReadOnlyList<HoldoutPrediction> Predictions)
{
    /// <summary>The class a binary model's probability, F1, precision, recall and AUPRC are about.</summary>
    public string? PositiveClass { get; init; }
}

/// <summary>
/// Evaluates a chosen configuration on a snapshot's data: stratified k-fold cross-validation on the rows the sweep
/// used, then a model trained on all of them and measured on the holdout rows no trial saw (see
/// <see cref="TrialRunner.HoldoutFraction"/>): metrics, the confusion matrix, and permutation feature importance by
/// input column (each column's values shuffled across the holdout rows, the model scored again). Seeded: same inputs,
/// same figures.
/// </summary>
public sealed class ModelEvaluator
{
    /// <summary>At most this many holdout predictions are kept for the charts.</summary>
    public const int MaxPredictions = 5000;

    /// <summary>
    /// Evaluates <paramref name="configuration"/> on <paramref name="data"/> (a snapshot's data.csv);
    /// <paramref name="crossValidation"/>, when given, is its cross-validation already computed with the same folds.
    /// </summary>
    public ModelEvaluation Evaluate(Stream data, FeaturizationPlan plan, TrialConfiguration configuration, int folds = 5, int permutations = 3, IReadOnlyDictionary<string, MetricSummary>? crossValidation = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(permutations, 1);

        var (header, rows) = TrialRunner.ReadRows(data, plan);
        var schema = FeatureRowBuilder.Schema(plan);
        var ml = new MLContext(seed: configuration.Seed);
        var primary = TrialRunner.PrimaryMetric(plan.Task);

        var (work, holdoutRows) = TrialRunner.WithoutHoldout(rows, plan.Task, configuration.Seed, TrialRunner.HoldoutFraction);
        crossValidation ??= CrossValidate(ml, plan, configuration, schema, work, folds);

        var model = TrialRunner.Pipeline(ml, plan, configuration).Fit(ml.Data.LoadFromEnumerable(work, schema));
        IDataView Score(IEnumerable<FeatureRow> part) => model.Transform(ml.Data.LoadFromEnumerable(part, schema));
        var scored = Score(holdoutRows);
        var holdout = TrialRunner.Evaluate(plan.Task, scored);
        var predictions = Predictions(plan, scored);
        var confusion = plan.Task == MlTask.Regression ? null : Confusion(plan, predictions);
        if (confusion is not null && plan.Task == MlTask.MulticlassClassification)
        {
            foreach (var (name, values) in confusion.PerClass())
            {
                holdout[$"recall[{name}]"] = values["recall"];
                holdout[$"precision[{name}]"] = values["precision"];
            }
        }

        var importance = Importance(plan, header, holdoutRows, permuted => TrialRunner.Evaluate(plan.Task, Score(permuted))[primary], holdout[primary], configuration.Seed, permutations);
        return new ModelEvaluation(plan.Task, primary, holdout, folds, crossValidation, importance, confusion, [.. predictions.Take(MaxPredictions)])
        {
            PositiveClass = plan.PositiveClass,
        };
    }

    /// <summary>
    /// Only the stratified k-fold cross-validation of a configuration on the rows the sweep used (the holdout stays
    /// out): a steadier comparison of close candidates than one validation split when data is small.
    /// </summary>
    public IReadOnlyDictionary<string, MetricSummary> CrossValidate(Stream data, FeaturizationPlan plan, TrialConfiguration configuration, int folds = 5)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        var (work, _) = TrialRunner.WithoutHoldout(TrialRunner.ReadRows(data, plan).Rows, plan.Task, configuration.Seed, TrialRunner.HoldoutFraction);
        return CrossValidate(new MLContext(seed: configuration.Seed), plan, configuration, FeatureRowBuilder.Schema(plan), work, folds);
    }

    private static Dictionary<string, MetricSummary> CrossValidate(MLContext ml, FeaturizationPlan plan, TrialConfiguration configuration, SchemaDefinition schema, List<FeatureRow> rows, int folds)
    {
        var perFold = TrialRunner.CrossValidate(ml, plan, configuration, schema, rows, folds);
        return Summaries(perFold);
    }

    /// <summary>
    /// As <see cref="CrossValidate(Stream, FeaturizationPlan, TrialConfiguration, int)"/>, with each row's out-of-fold
    /// prediction (what <see cref="EnsembleSelection"/> combines).
    /// </summary>
    public CrossValidated CrossValidateWithPredictions(Stream data, FeaturizationPlan plan, TrialConfiguration configuration, int folds = 5)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        var (work, _) = TrialRunner.WithoutHoldout(TrialRunner.ReadRows(data, plan).Rows, plan.Task, configuration.Seed, TrialRunner.HoldoutFraction);
        var (predictions, fold) = (new float[work.Count * TrialRunner.PredictionWidth(plan)], new int[work.Count]);
        var ml = new MLContext(seed: configuration.Seed);
        var perFold = TrialRunner.CrossValidate(ml, plan, configuration, FeatureRowBuilder.Schema(plan), work, folds, predictions, fold);
        return new CrossValidated(configuration, Summaries(perFold), predictions, fold, Labels(plan, work));
    }

    /// <summary>
    /// The labels and folds of the rows a trial of <paramref name="seed"/> cross-validates (the holdout left out), with
    /// the number of folds: <paramref name="folds"/>, or as a trial chooses by row count
    /// (<see cref="TrialRunner.ValidationFolds"/>; 0 when trials validate on one split, and the folds are empty then).
    /// </summary>
    public (FeatureRowLabels Labels, int[] Folds, int Count) CrossValidationRows(Stream data, FeaturizationPlan plan, int seed, int? folds)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(plan);
        var (work, _) = TrialRunner.WithoutHoldout(TrialRunner.ReadRows(data, plan).Rows, plan.Task, seed, TrialRunner.HoldoutFraction);
        var k = folds ?? TrialRunner.ValidationFolds(work.Count);
        return (Labels(plan, work), k > 1 ? TrialRunner.Folds(work, TrialRunner.LabelOf, plan.Task, seed, k) : [], k);
    }

    private static FeatureRowLabels Labels(FeaturizationPlan plan, List<FeatureRow> rows)
    {
        var classes = plan.Classes.ToList();
        return new FeatureRowLabels(
            [.. rows.Select(r => r.Positive)], [.. rows.Select(r => r.Value)],
            plan.Task == MlTask.MulticlassClassification ? [.. rows.Select(r => classes.IndexOf(r.LabelText))] : null);
    }

    private static Dictionary<string, MetricSummary> Summaries(List<Dictionary<string, double>> perFold) =>
        perFold[0].Keys.ToDictionary(metric => metric, metric => MetricSummary.Of([.. perFold.Select(f => f[metric])]));

    /// <summary>
    /// Each input column of the plan, with how to give a row that column's featurized value(s) from another row: its
    /// slot of the numeric vector (a date's five slots), its category, or its text (the text rejoined).
    /// </summary>
    private static IEnumerable<(string Column, Action<FeatureRow, FeatureRow> Permute)> Permutations(FeaturizationPlan plan)
    {
        var slot = 0;
        foreach (var column in plan.Numeric.Concat(plan.Boolean))
        {
            var at = slot++;
            yield return (column, (row, from) => row.Numeric[at] = from.Numeric[at]);
        }

        foreach (var column in plan.Dates)
        {
            var (at, width) = (slot, FeaturizationPlan.DateParts.Length);
            slot += width;
            yield return (column, (row, from) => Array.Copy(from.Numeric, at, row.Numeric, at, width));
        }

        for (var j = 0; j < plan.Categorical.Count; j++)
        {
            var at = j;
            yield return (plan.Categorical[j], (row, from) => row.Categorical[at] = from.Categorical[at]);
        }

        for (var j = 0; j < plan.HashedCategorical.Count; j++)
        {
            var at = j;
            yield return (plan.HashedCategorical[j], (row, from) => row.Hashed[at] = from.Hashed[at]);
        }

        for (var j = 0; j < plan.Text.Count; j++)
        {
            var at = j;
            yield return (plan.Text[j], (row, from) =>
            {
                row.TextParts[at] = from.TextParts[at];
                row.Text = string.Join(' ', row.TextParts);
            });
        }
    }

    private static List<HoldoutPrediction> Predictions(FeaturizationPlan plan, IDataView scored)
    {
        switch (plan.Task)
        {
            case MlTask.BinaryClassification:
                var actual = scored.GetColumn<bool>(nameof(FeatureRow.Positive)).ToList();
                var predicted = scored.GetColumn<bool>("PredictedLabel").ToList();
                var probability = scored.GetColumn<float>("Probability").ToList();
                return [.. actual.Select((a, i) => new HoldoutPrediction(a ? 1 : 0, predicted[i] ? 1 : 0, probability[i]))];
            case MlTask.MulticlassClassification:
                var classes = plan.Classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
                var labels = scored.GetColumn<ReadOnlyMemory<char>>(nameof(FeatureRow.LabelText)).Select(m => m.ToString()).ToList();
                var predictedLabels = scored.GetColumn<ReadOnlyMemory<char>>("PredictedLabel").Select(m => m.ToString()).ToList();
                return [.. labels.Select((l, i) => new HoldoutPrediction(classes.GetValueOrDefault(l, -1), classes.GetValueOrDefault(predictedLabels[i], -1), null))];
            default:
                var values = scored.GetColumn<float>(nameof(FeatureRow.Value)).ToList();
                var scores = scored.GetColumn<float>("Score").ToList();
                return [.. values.Select((v, i) => new HoldoutPrediction(v, scores[i], null))];
        }
    }

    private static ConfusionMatrix Confusion(FeaturizationPlan plan, List<HoldoutPrediction> predictions)
    {
        var classes = plan.Classes.Count > 0 ? plan.Classes : ["false", "true"];
        var counts = classes.Select(_ => new long[classes.Count]).ToArray();
        foreach (var p in predictions.Where(p => p.Actual >= 0 && p.Predicted >= 0))
        {
            counts[(int)p.Actual][(int)p.Predicted]++;
        }

        return new ConfusionMatrix(classes, counts);
    }

    /// <summary>Permutation importance by input column: the mean drop of the primary metric (in its "better" direction) over seeded shuffles.</summary>
    private static List<FeatureImportance> Importance(FeaturizationPlan plan, string[] header, List<FeatureRow> holdout, Func<IReadOnlyList<FeatureRow>, double> metric, double baseline, int seed, int permutations)
    {
        var sign = TrialRunner.Goal(TrialRunner.PrimaryMetric(plan.Task)) == MetricGoal.Maximize ? 1 : -1;
        var importance = new List<FeatureImportance>();
        if (holdout.Count < 2)
        {
            return importance;
        }

        foreach (var (column, permute) in Permutations(plan))
        {
            var index = Array.FindIndex(header, h => string.Equals(h, column, StringComparison.OrdinalIgnoreCase));
            var random = new Random(seed + index);
            var drops = new List<double>();
            for (var p = 0; p < permutations; p++)
            {
                // Row i takes the column's value(s) of row order[i]; everything else stays.
                var order = Enumerable.Range(0, holdout.Count).OrderBy(_ => random.Next()).ToArray();
                var permuted = holdout.Select((row, i) =>
                {
                    var copy = row.Copy();
                    permute(copy, holdout[order[i]]);
                    return copy;
                }).ToList();
                drops.Add(sign * (baseline - metric(permuted)));
            }

            var mean = drops.Average();
            importance.Add(new FeatureImportance(column, mean, Math.Sqrt(drops.Sum(d => (d - mean) * (d - mean)) / Math.Max(1, drops.Count - 1))));
        }

        return [.. importance.OrderByDescending(i => i.Decrease)];
    }
}
