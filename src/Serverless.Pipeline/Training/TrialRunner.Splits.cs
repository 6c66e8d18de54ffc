using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Pipeline.Data;

namespace Serverless.Pipeline.Training;

// How a trial's rows are split: the holdout, stratified splits and folds, and cross-validation with its out-of-fold
// predictions (the rest of TrialRunner is in TrialRunner.cs).
public sealed partial class TrialRunner
{
    /// <summary>
    /// The metrics of each of <paramref name="folds"/> stratified folds of <paramref name="rows"/>, each measured on
    /// a model trained on the other folds (on their <paramref name="trainFraction"/>, stratified, when below 1).
    /// </summary>
    internal static List<Dictionary<string, double>> CrossValidate(
        MLContext ml, FeaturizationPlan plan, TrialConfiguration configuration, SchemaDefinition schema, List<FeatureRow> rows, int folds, double trainFraction = 1) =>
        CrossValidate(ml, plan, configuration, schema, rows, folds, trainFraction, null);

    /// <summary>
    /// As <see cref="CrossValidate(MLContext, FeaturizationPlan, TrialConfiguration, SchemaDefinition, List{FeatureRow}, int, double)"/>,
    /// also writing each row's out-of-fold prediction into <paramref name="predictions"/> (binary: the positive class's
    /// probability; regression: the value) and its fold into <paramref name="fold"/>.
    /// </summary>
    internal static List<Dictionary<string, double>> CrossValidate(
        MLContext ml, FeaturizationPlan plan, TrialConfiguration configuration, SchemaDefinition schema, List<FeatureRow> rows, int folds,
        float[] predictions, int[] fold) =>
        CrossValidate(ml, plan, configuration, schema, rows, folds, 1, (predictions, fold));

    private static List<Dictionary<string, double>> CrossValidate(
        MLContext ml, FeaturizationPlan plan, TrialConfiguration configuration, SchemaDefinition schema, List<FeatureRow> rows, int folds,
        double trainFraction, (float[] Predictions, int[] Fold)? outOfFold)
    {
        var fold = Folds(rows, LabelOf, plan.Task, configuration.Seed, folds);
        if (outOfFold is { } target)
        {
            fold.CopyTo(target.Fold, 0);
        }

        var perFold = new List<Dictionary<string, double>>(folds);
        for (var k = 0; k < folds; k++)
        {
            List<FeatureRow> others = [.. rows.Where((_, i) => fold[i] != k)];
            if (trainFraction < 1)
            {
                others = Split(others, LabelOf, plan.Task, configuration.Seed, 0, trainFraction).Train;
            }

            var model = Pipeline(ml, plan, configuration).Fit(ml.Data.LoadFromEnumerable(others, schema));
            var scored = model.Transform(ml.Data.LoadFromEnumerable(rows.Where((_, i) => fold[i] == k).ToList(), schema));
            perFold.Add(Evaluate(plan.Task, scored));
            if (outOfFold is { } into)
            {
                OutOfFold(plan, scored, fold, k, into.Predictions);
            }
        }

        return perFold;
    }

    /// <summary>
    /// Writes the predictions of fold <paramref name="k"/>'s rows: the positive class's probability, the value, or each
    /// class's probability at the class's index in the plan (a fold's model numbers classes in the order it met them).
    /// </summary>
    private static void OutOfFold(FeaturizationPlan plan, IDataView scored, int[] fold, int k, float[] predictions)
    {
        if (plan.Task != MlTask.MulticlassClassification)
        {
            using var values = scored.GetColumn<float>(plan.Task == MlTask.BinaryClassification ? "Probability" : "Score").GetEnumerator();
            for (var i = 0; i < fold.Length; i++)
            {
                if (fold[i] == k && values.MoveNext())
                {
                    predictions[i] = values.Current;
                }
            }

            return;
        }

        var keys = default(VBuffer<ReadOnlyMemory<char>>);
        scored.Schema["Label"].GetKeyValues(ref keys);
        var classes = plan.Classes.ToList();
        int[] slot = [.. keys.DenseValues().Select(key => classes.IndexOf(key.ToString()))];
        var width = plan.Classes.Count;
        using var scores = scored.GetColumn<VBuffer<float>>("Score").GetEnumerator();
        for (var i = 0; i < fold.Length; i++)
        {
            if (fold[i] == k && scores.MoveNext())
            {
                var j = 0;
                foreach (var value in scores.Current.DenseValues())
                {
                    if (j < slot.Length && slot[j] >= 0)
                    {
                        predictions[(i * width) + slot[j]] = value;
                    }

                    j++;
                }
            }
        }
    }

    /// <summary>
    /// Stratified k-fold assignment: within each class (in a seeded order) records are dealt to folds in turn, so each
    /// fold keeps the class shares. Regression deals all records as one group.
    /// </summary>
    internal static int[] Folds<T>(IReadOnlyList<T> records, Func<T, string> label, MlTask task, int seed, int folds)
    {
        var random = new Random(seed);
        var fold = new int[records.Count];
        var groups = Enumerable.Range(0, records.Count).GroupBy(i => task == MlTask.Regression ? string.Empty : label(records[i]), StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal);
        var dealt = 0;
        foreach (var group in groups)
        {
            foreach (var index in group.OrderBy(_ => random.Next()))
            {
                fold[index] = dealt++ % folds;
            }
        }

        return fold;
    }


    /// <summary>The rows the sweep may use, and the holdout: a stratified split with its own seed, so it does not line up with the validation split.</summary>
    internal static (List<FeatureRow> Work, List<FeatureRow> Holdout) WithoutHoldout(List<FeatureRow> rows, MlTask task, int seed, double holdoutFraction) =>
        holdoutFraction <= 0 ? (rows, []) : Split(rows, LabelOf, task, unchecked(seed + 7919), holdoutFraction);

    /// <summary>The label text of a row, for stratification.</summary>
    internal static string LabelOf(FeatureRow row) => row.LabelText;

    /// <summary>
    /// A seeded split, stratified by class for classification, so each class keeps its share in both parts; the
    /// training part keeps its first <paramref name="trainFraction"/> of each class.
    /// </summary>
    internal static (List<T> Train, List<T> Validation) Split<T>(List<T> rows, Func<T, string> label, MlTask task, int seed, double validationFraction, double trainFraction = 1)
    {
        var random = new Random(seed);
        var groups = task == MlTask.Regression ? [rows] : rows.GroupBy(label, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.ToList()).ToList();
        var train = new List<T>();
        var validation = new List<T>();
        foreach (var group in groups)
        {
            var shuffled = group.OrderBy(_ => random.Next()).ToList();
            var held = (int)Math.Round(shuffled.Count * validationFraction);
            validation.AddRange(shuffled.Take(held));
            var rest = shuffled.Count - held;
            train.AddRange(shuffled.Skip(held).Take(trainFraction >= 1 ? rest : Math.Max(1, (int)Math.Ceiling(rest * trainFraction))));
        }

        return (train, validation);
    }
}
