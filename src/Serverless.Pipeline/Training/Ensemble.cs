using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Pipeline.Evaluation;

namespace Serverless.Pipeline.Training;

/// <summary>One member of a voting ensemble: a trainer's configuration and its weight (the weights sum to 1).</summary>
public sealed record EnsembleMember(TrialConfiguration Configuration, double Weight);

/// <summary>
/// A configuration's cross-validation with its out-of-fold predictions: for each row of the rows cross-validated, the
/// probability of the positive class (binary), the predicted value (regression) or the probability of each class in
/// the plan's order (multiclass: <see cref="Width"/> values a row) from the model that did not train on it, and the
/// fold it was in.
/// </summary>
public sealed record CrossValidated(
    TrialConfiguration Configuration, IReadOnlyDictionary<string, MetricSummary> Metrics, float[] Predictions, int[] Folds, FeatureRowLabels Labels)
{
    /// <summary>Values a row: 1, or the number of classes.</summary>
    public int Width => Folds.Length == 0 ? 1 : Predictions.Length / Folds.Length;
}

/// <summary>The labels of cross-validated rows, as the metrics read them (<paramref name="Class"/>: multiclass, the index in the plan's classes).</summary>
public sealed record FeatureRowLabels(bool[] Positive, float[] Value, int[]? Class = null);

/// <summary>
/// The voting ensemble of Azure ML's automated ML and of Caruana et al. (2004), "Ensemble selection from libraries of
/// models": starting from the best model, repeatedly add (with replacement) the model whose addition makes the
/// average of the out-of-fold predictions best, for a fixed number of rounds; a model's weight is the share of rounds
/// that picked it. Classifiers average probabilities (soft voting), regressors predictions.
/// </summary>
public static class EnsembleSelection
{
    /// <summary>The trainer name of an ensemble configuration.</summary>
    public const string Trainer = "Ensemble";

    /// <summary>Rounds of greedy selection, as Azure ML's <c>ensemble_iterations</c> default (15).</summary>
    public const int Rounds = 15;

    /// <summary>
    /// The weights greedy selection gives the candidates (same rows, same folds): an array of shares that sums to 1.
    /// The metric is the task's primary metric over all out-of-fold predictions at once.
    /// </summary>
    public static double[] Weights(MlTask task, IReadOnlyList<CrossValidated> candidates, int rounds = Rounds)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0)
        {
            throw new ArgumentException("Ensemble selection needs candidates.", nameof(candidates));
        }

        var rows = candidates[0].Predictions.Length;
        var width = candidates[0].Width;
        var counts = new int[candidates.Count];
        var sum = new double[rows];
        var labels = candidates[0].Labels;
        for (var round = 0; round < rounds; round++)
        {
            var (best, bestValue) = (-1, double.NegativeInfinity);
            for (var c = 0; c < candidates.Count; c++)
            {
                var value = Score(task, labels, Average(sum, candidates[c].Predictions, round), width);
                // Ties go to a model already chosen (fewer members for the same score), else to the first.
                if (value > bestValue + 1e-12 || (best >= 0 && Math.Abs(value - bestValue) <= 1e-12 && counts[c] > counts[best]))
                {
                    (best, bestValue) = (c, value);
                }
            }

            counts[best]++;
            for (var i = 0; i < rows; i++)
            {
                sum[i] += candidates[best].Predictions[i];
            }
        }

        return [.. counts.Select(c => (double)c / rounds)];
    }

    /// <summary>
    /// The ensemble's cross-validation on the candidates' folds: each fold's metrics of the weighted average of the
    /// candidates' out-of-fold predictions on it.
    /// </summary>
    public static Dictionary<string, MetricSummary> CrossValidation(MlTask task, IReadOnlyList<CrossValidated> candidates, IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(weights);
        var first = candidates[0];
        var combined = new float[first.Predictions.Length];
        for (var c = 0; c < candidates.Count; c++)
        {
            for (var i = 0; i < combined.Length; i++)
            {
                combined[i] += (float)(weights[c] * candidates[c].Predictions[i]);
            }
        }

        var perFold = Enumerable.Range(0, first.Folds.Max() + 1)
            .Select(k => Metrics(task, first.Labels, combined, first.Width, i => first.Folds[i] == k))
            .ToList();
        return perFold[0].Keys.ToDictionary(metric => metric, metric => MetricSummary.Of([.. perFold.Select(f => f[metric])]));
    }

    /// <summary>
    /// A configuration's out-of-fold <paramref name="predictions"/> on rows in <paramref name="folds"/> (a trial's, kept
    /// from its cross-validation) as a candidate, with each fold's metrics measured as an ensemble's are.
    /// </summary>
    public static CrossValidated Candidate(MlTask task, TrialConfiguration configuration, float[] predictions, int[] folds, FeatureRowLabels labels)
    {
        var candidate = new CrossValidated(configuration, new Dictionary<string, MetricSummary>(), predictions, folds, labels);
        return candidate with { Metrics = CrossValidation(task, [candidate], [1.0]) };
    }

    /// <summary>
    /// The ensemble's configuration: members with a weight above 0, the weights and members' hyperparameters listed in
    /// <see cref="TrialConfiguration.Parameters"/> as <c>{i}.{trainer}.weight</c> and <c>{i}.{trainer}.{name}</c>.
    /// </summary>
    public static TrialConfiguration Configuration(IReadOnlyList<CrossValidated> candidates, IReadOnlyList<double> weights, int seed)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(weights);
        var members = candidates.Select((c, i) => new EnsembleMember(c.Configuration, weights[i])).Where(m => m.Weight > 0).ToList();
        var parameters = new SortedDictionary<string, double>(StringComparer.Ordinal);
        for (var i = 0; i < members.Count; i++)
        {
            var prefix = string.Create(CultureInfo.InvariantCulture, $"{i}.{members[i].Configuration.Trainer}.");
            parameters[prefix + "weight"] = Math.Round(members[i].Weight, 6);
            foreach (var (name, value) in members[i].Configuration.Parameters)
            {
                parameters[prefix + name] = value;
            }
        }

        return new TrialConfiguration(Trainer, parameters, seed) { Members = members };
    }

    /// <summary>
    /// The configuration a registered version was trained with, from its trainer and flat parameters: one trainer's, or
    /// an ensemble's rebuilt from <c>{i}.{trainer}.weight</c> and <c>{i}.{trainer}.{name}</c> (see
    /// <see cref="Configuration"/>).
    /// </summary>
    public static TrialConfiguration FromParameters(string trainer, IReadOnlyDictionary<string, double> parameters, int seed)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!string.Equals(trainer, Trainer, StringComparison.OrdinalIgnoreCase))
        {
            return new TrialConfiguration(trainer, parameters, seed);
        }

        var members = parameters
            .Select(p => (Parts: p.Key.Split('.', 3), p.Value))
            .Where(p => p.Parts.Length == 3 && int.TryParse(p.Parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            .GroupBy(p => (Index: int.Parse(p.Parts[0], CultureInfo.InvariantCulture), Trainer: p.Parts[1]))
            .OrderBy(g => g.Key.Index)
            .Select(g => new EnsembleMember(
                new TrialConfiguration(g.Key.Trainer, g.Where(p => p.Parts[2] != "weight").ToDictionary(p => p.Parts[2], p => p.Value), seed),
                g.Single(p => p.Parts[2] == "weight").Value))
            .ToList();
        return new TrialConfiguration(Trainer, parameters, seed) { Members = members };
    }

    /// <summary>Bigger is better: the primary metric, negated for the errors (none of the primaries today).</summary>
    private static double Score(MlTask task, FeatureRowLabels labels, float[] predictions, int width)
    {
        var metric = SelectionMetric(task);
        var value = Metrics(task, labels, predictions, width, _ => true)[metric];
        return TrialRunner.Goal(metric) == MetricGoal.Maximize ? value : -value;
    }

    /// <summary>
    /// What greedy selection optimizes: the primary metric, except for multiclass, where macro accuracy (of the
    /// argmax) moves in steps and would pick weights that fit the out-of-fold rows by chance; the log-loss of the
    /// averaged probabilities is smooth.
    /// </summary>
    private static string SelectionMetric(MlTask task) => task == MlTask.MulticlassClassification ? "logLoss" : TrialRunner.PrimaryMetric(task);

    private static float[] Average(double[] sum, float[] candidate, int count)
    {
        var average = new float[sum.Length];
        for (var i = 0; i < sum.Length; i++)
        {
            average[i] = (float)((sum[i] + candidate[i]) / (count + 1));
        }

        return average;
    }

    private static Dictionary<string, double> Metrics(MlTask task, FeatureRowLabels labels, float[] predictions, int width, Func<int, bool> rows)
    {
        var at = Enumerable.Range(0, predictions.Length / width).Where(rows).ToList();
        return task switch
        {
            MlTask.BinaryClassification => Evaluation.Metrics.Binary(
                [.. at.Select(i => labels.Positive[i])], [.. at.Select(i => predictions[i])], [.. at.Select(i => predictions[i] > 0.5f)]),
            MlTask.MulticlassClassification =>
                Evaluation.Metrics.Multiclass([.. at.Select(i => labels.Class![i])], [.. at.Select(i => predictions.AsSpan(i * width, width).ToArray())]),
            _ => Evaluation.Metrics.Regression([.. at.Select(i => labels.Value[i])], [.. at.Select(i => predictions[i])]),
        };
    }
}

/// <summary>
/// Fits a voting ensemble as one model. Binary and regression: one ML.NET model, each member's own pipeline (fitted on the same rows), its probability
/// (binary) or score (regression) copied aside, then an expression that writes the weighted average into the columns a
/// single model writes (<c>Probability</c> and <c>PredictedLabel</c>, or <c>Score</c>). The result saves and loads as
/// any ML.NET model, so scoring, evaluation and the registry take it as they take one trainer's model. Multiclass: a
/// <see cref="MulticlassEnsemble"/> (ML.NET's expressions combine scalars only), saved by <see cref="ModelArtifact"/>.
/// </summary>
internal sealed class EnsembleEstimator(MLContext ml, FeaturizationPlan plan, IReadOnlyList<EnsembleMember> members) : IEstimator<ITransformer>
{
    public ITransformer Fit(IDataView input)
    {
        // Members train on one core each, so they are fitted side by side, each in a context of its own seed.
        Func<ITransformer>[] fits =
            [.. members.Select(m => (Func<ITransformer>)(() => TrialRunner.Pipeline(new MLContext(m.Configuration.Seed), plan, m.Configuration).Fit(input)))];
        var fitted = DedicatedThreads.RunAsync(fits, Environment.ProcessorCount).GetAwaiter().GetResult();
        if (plan.Task == MlTask.MulticlassClassification)
        {
            return new MulticlassEnsemble(ml, fitted, [.. members.Select(m => m.Weight)], input);
        }

        var binary = plan.Task == MlTask.BinaryClassification;
        var (parts, view, columns) = EachAside(ml, fitted, input, binary ? "Probability" : "Score");

        var combine = WeightedSum(ml, binary ? "Probability" : "Score", [.. columns.Zip(members, (c, m) => (c, m.Weight))]);
        if (binary)
        {
            combine = combine.Append(ml.Transforms.Expression("PredictedLabel", "p => p > 0.5", "Probability"));
        }

        parts.Add(combine.Fit(view));
        return new TransformerChain<ITransformer>([.. parts]);
    }

    /// <summary>
    /// The expressions that write the weighted sum of <paramref name="terms"/> into <paramref name="output"/>. One
    /// expression takes at most <see cref="MaxExpressionInputs"/> columns (ML.NET's limit), so more terms are summed in
    /// groups first (<c>Sum{level}_{group}</c>), and the groups' sums then.
    /// </summary>
    private static IEstimator<ITransformer> WeightedSum(MLContext ml, string output, List<(string Column, double Weight)> terms)
    {
        IEstimator<ITransformer>? chain = null;
        IEstimator<ITransformer> Expression(string column, IReadOnlyList<(string Column, double Weight)> part)
        {
            var sum = string.Join(" + ", part.Select((t, i) => string.Create(CultureInfo.InvariantCulture, $"m{i} * {t.Weight:R}")));
            var parameters = string.Join(", ", part.Select((_, i) => $"m{i}"));
            var expression = ml.Transforms.Expression(column, $"({parameters}) => {sum}", [.. part.Select(t => t.Column)]);
            return chain = chain is null ? expression : chain.Append(expression);
        }

        for (var level = 0; terms.Count > MaxExpressionInputs; level++)
        {
            var groups = terms.Chunk(MaxExpressionInputs).ToList();
            terms = [.. groups.Select((group, g) => (string.Create(CultureInfo.InvariantCulture, $"Sum{level}_{g}"), 1.0))];
            for (var g = 0; g < groups.Count; g++)
            {
                Expression(terms[g].Column, groups[g]);
            }
        }

        return Expression(output, terms);
    }

    /// <summary>The most input columns one ML.NET expression takes.</summary>
    private const int MaxExpressionInputs = 5;

    public SchemaShape GetOutputSchema(SchemaShape inputSchema) =>
        throw new NotSupportedException("An ensemble's schema is known once its members are fitted.");

    /// <summary>
    /// The fitted members in turn, each followed by a copy of its <paramref name="output"/> column to <c>Member{i}</c>
    /// (the next member overwrites the original): the chain so far, its output on <paramref name="input"/>, and the
    /// copies' names.
    /// </summary>
    internal static (List<ITransformer> Parts, IDataView View, List<string> Columns) EachAside(
        MLContext ml, IReadOnlyList<ITransformer> members, IDataView input, string output)
    {
        var parts = new List<ITransformer>();
        var view = input;
        var columns = new List<string>();
        for (var i = 0; i < members.Count; i++)
        {
            view = members[i].Transform(view);
            var column = string.Create(CultureInfo.InvariantCulture, $"Member{i}");
            var copy = ml.Transforms.CopyColumns(column, output).Fit(view);
            view = copy.Transform(view);
            parts.AddRange([members[i], copy]);
            columns.Add(column);
        }

        return (parts, view, columns);
    }
}
