using System.Globalization;
using System.Text.Json.Serialization;
using Serverless.Pipeline.Data;

namespace Serverless.Pipeline.Training;

/// <summary>The kind of model a label calls for.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MlTask>))]
public enum MlTask
{
    /// <summary>Two classes.</summary>
    BinaryClassification,

    /// <summary>More than two classes.</summary>
    MulticlassClassification,

    /// <summary>A number.</summary>
    Regression,
}

/// <summary>
/// How each column becomes features, decided from the schema and the profile: ID-like columns are dropped, numbers
/// are imputed (and normalized for linear trainers), booleans become 0/1, dates expand into parts, categoricals are
/// one-hot encoded (hashed above <see cref="MaxOneHotCategories"/> distinct values), text is featurized.
/// </summary>
public sealed record FeaturizationPlan(
    string Label,
    MlTask Task,
    IReadOnlyList<string> Numeric,
    IReadOnlyList<string> Boolean,
    IReadOnlyList<string> Dates,
    IReadOnlyList<string> Categorical,
    IReadOnlyList<string> HashedCategorical,
    IReadOnlyList<string> Text,
    IReadOnlyList<string> Dropped,
    IReadOnlyList<string> Classes)
{
    /// <summary>Above this many distinct values a categorical column is hashed.</summary>
    public const int MaxOneHotCategories = 50;

    /// <summary>The parts a date expands into.</summary>
    public static readonly string[] DateParts = ["year", "month", "day", "dayOfWeek", "hour"];

    /// <summary>
    /// The class a binary model's probability, F1, precision, recall and AUPRC are about: the last of
    /// <see cref="Classes"/>. Unless the request names it, it is the second of the two classes in sorted order
    /// (numbers by value), as scikit-learn's <c>classes_[1]</c>: 1 of 0/1, true of false/true, yes of no/yes.
    /// </summary>
    public string? PositiveClass => Scoring.PredictionColumns.PositiveOf(Task, Classes);

    /// <summary>The plan for a snapshot's label; <paramref name="task"/> is detected from the label when null.</summary>
    public static FeaturizationPlan Create(DatasetSchema schema, IReadOnlyList<ColumnProfile> profile, string label, MlTask? task = null, string? positiveClass = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(profile);
        var labelColumn = schema.Find(label) ?? throw new ArgumentException($"The label column '{label}' is not in the dataset.", nameof(label));
        var labelProfile = profile.Single(p => p.Name == labelColumn.Name);
        var detected = task ?? DetectTask(labelColumn.Kind, labelProfile);
        var classes = WithPositive(LabelClasses(detected, labelProfile), detected, label, positiveClass);

        var numeric = new List<string>();
        var boolean = new List<string>();
        var dates = new List<string>();
        var categorical = new List<string>();
        var hashed = new List<string>();
        var text = new List<string>();
        var dropped = new List<string>();
        foreach (var column in schema.Columns.Where(c => c.Name != labelColumn.Name))
        {
            var stats = profile.Single(p => p.Name == column.Name);
            if (IsIdLike(column, stats) || stats.Missing == stats.Count)
            {
                dropped.Add(column.Name);
                continue;
            }

            (column.Kind switch
            {
                ColumnKind.Numeric => numeric,
                ColumnKind.Boolean => boolean,
                ColumnKind.DateTime => dates,
                ColumnKind.Categorical when stats.Distinct > MaxOneHotCategories => hashed,
                ColumnKind.Categorical => categorical,
                _ => text,
            }).Add(column.Name);
        }

        return new FeaturizationPlan(labelColumn.Name, detected, numeric, boolean, dates, categorical, hashed, text, dropped, classes);
    }

    /// <summary>
    /// The label's classes in ordinal order; for a numeric two-valued label (0/1), its two values, smaller first, so
    /// the larger one is the positive class. Regression has none.
    /// </summary>
    private static List<string> LabelClasses(MlTask task, ColumnProfile label) => task switch
    {
        MlTask.Regression => [],
        _ when label.TopValues is { } top && top.All(v => ValueParser.TryNumber(v.Value, out _)) =>
            [.. top.Select(v => v.Value).OrderBy(v => ValueParser.TryNumber(v, out var x) ? x : 0).ThenBy(v => v, StringComparer.Ordinal)],
        _ when label.TopValues is { } top => [.. top.Select(v => v.Value).Order(StringComparer.Ordinal)],
        _ when label.Min is { } min && label.Max is { } max => [min.ToString("R", CultureInfo.InvariantCulture), max.ToString("R", CultureInfo.InvariantCulture)],
        _ => [],
    };

    /// <summary>The classes with the requested positive class last; the request's spelling may differ in case or number form.</summary>
    private static List<string> WithPositive(List<string> classes, MlTask task, string label, string? positiveClass)
    {
        if (positiveClass is null)
        {
            return classes;
        }

        if (task != MlTask.BinaryClassification)
        {
            throw new ArgumentException($"positiveClass: only a binary task has one; the label '{label}' is {task}.", nameof(positiveClass));
        }

        var match = classes.FirstOrDefault(c => SameClass(c, positiveClass))
            ?? throw new ArgumentException(
                $"positiveClass: '{positiveClass}' is not a class of the label '{label}'; its classes are {string.Join(", ", classes.Select(c => $"'{c}'"))}.",
                nameof(positiveClass));
        return [.. classes.Where(c => c != match), match];
    }

    /// <summary>Whether a label value names this class: the same text (any case), the same number, or the same boolean.</summary>
    internal static bool SameClass(string @class, string value) =>
        string.Equals(@class.Trim(), value.Trim(), StringComparison.OrdinalIgnoreCase)
        || (ValueParser.TryNumber(@class, out var a) && ValueParser.TryNumber(value, out var b) && a == b)
        || (ValueParser.TryBoolean(@class, out var p) && ValueParser.TryBoolean(value, out var q) && p == q);

    /// <summary>Two values: binary; a handful of text values: multiclass; numbers: regression.</summary>
    public static MlTask DetectTask(ColumnKind kind, ColumnProfile label) => kind switch
    {
        ColumnKind.Boolean => MlTask.BinaryClassification,
        _ when label.Distinct == 2 => MlTask.BinaryClassification,
        ColumnKind.Numeric or ColumnKind.DateTime => MlTask.Regression,
        _ => MlTask.MulticlassClassification,
    };

    /// <summary>A key, not a feature: (nearly) every value distinct, for a text column or a column named like an id.</summary>
    private static bool IsIdLike(ColumnSchema column, ColumnProfile stats)
    {
        var present = stats.Count - stats.Missing;
        var unique = present > 0 && stats.DistinctIsExact && stats.Distinct >= present * 0.95;
        var namedLikeId = column.Name.Equals("id", StringComparison.OrdinalIgnoreCase)
            || column.Name.EndsWith("_id", StringComparison.OrdinalIgnoreCase)
            || column.Name.EndsWith("Id", StringComparison.Ordinal);
        return unique && (namedLikeId || column.Kind is ColumnKind.Categorical or ColumnKind.Text);
    }
}
