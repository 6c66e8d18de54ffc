using Serverless.Pipeline.Data;
using Serverless.Pipeline.Scoring;
using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Registry;

/// <summary>What a model takes and gives: the input columns (label excluded) and the prediction.</summary>
public sealed record ModelSignature(IReadOnlyList<ColumnSchema> Inputs, string Label, MlTask Task, IReadOnlyList<string> Classes)
{
    /// <summary>The columns of its predictions (<see cref="PredictionColumns"/>): <c>prediction</c>, then <c>probability_{class}</c>.</summary>
    public IReadOnlyList<string> Outputs => PredictionColumns.For(Task, Classes);

    /// <summary>The class a binary model's probability and F1, precision, recall and AUPRC are about (the last class).</summary>
    public string? PositiveClass => PredictionColumns.PositiveOf(Task, Classes);

    /// <summary>
    /// The signature of a model trained on <paramref name="schema"/> with <paramref name="plan"/>: the columns the plan
    /// reads, each <see cref="ColumnSchema.Required"/> when the training <paramref name="profile"/> has no missing value in it.
    /// </summary>
    public static ModelSignature From(DatasetSchema schema, FeaturizationPlan plan, IReadOnlyList<ColumnProfile>? profile = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(plan);
        var used = plan.Numeric.Concat(plan.Boolean).Concat(plan.Dates).Concat(plan.Categorical).Concat(plan.HashedCategorical).Concat(plan.Text)
            .ToHashSet(StringComparer.Ordinal);
        bool Required(ColumnSchema column) => profile?.FirstOrDefault(p => p.Name == column.Name) is { Missing: 0, Count: > 0 };
        var inputs = schema.Columns.Where(c => used.Contains(c.Name)).Select(c => c with { Required = Required(c) });
        return new ModelSignature([.. inputs], plan.Label, plan.Task, plan.Classes);
    }

    /// <summary>The input columns missing from <paramref name="header"/> (names compared ignoring case); empty when the input fits.</summary>
    public IReadOnlyList<string> MissingInputs(IEnumerable<string> header)
    {
        var present = header.Select(h => h.Trim()).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return [.. Inputs.Select(i => i.Name).Where(n => !present.Contains(n))];
    }
}
