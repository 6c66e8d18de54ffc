using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Pipeline.Data;

namespace Serverless.Pipeline.Training;

/// <summary>One row as the model sees it: the features grouped by how they are featurized, plus pass-through columns.</summary>
internal sealed class FeatureRow
{
    public float[] Numeric { get; set; } = [];

    public string[] Categorical { get; set; } = [];

    public string[] Hashed { get; set; } = [];

    public string Text { get; set; } = string.Empty;

    /// <summary>The text columns' values that <see cref="Text"/> joins (not a model input: permutation importance shuffles one of them).</summary>
    [NoColumn]
    public string[] TextParts { get; set; } = [];

    public string LabelText { get; set; } = string.Empty;

    public bool Positive { get; set; }

    public float Value { get; set; }

    public long RowNumber { get; set; }

    public string Key { get; set; } = string.Empty;

    /// <summary>A copy whose arrays are copies too, to change one feature of it.</summary>
    public FeatureRow Copy()
    {
        var copy = (FeatureRow)MemberwiseClone();
        copy.Numeric = (float[])Numeric.Clone();
        copy.Categorical = (string[])Categorical.Clone();
        copy.Hashed = (string[])Hashed.Clone();
        copy.TextParts = (string[])TextParts.Clone();
        return copy;
    }
}

/// <summary>
/// Builds <see cref="FeatureRow"/>s from CSV fields by a featurization plan, the same way for training and for
/// scoring, so a model sees at scoring exactly what it saw in training.
/// </summary>
internal sealed class FeatureRowBuilder
{
    /// <summary>The one value of a row's categorical vector when the plan has no such column (shared: nothing writes to it).</summary>
    private static readonly string[] NoCategory = [string.Empty];

    /// <summary>How many distinct values <see cref="Share"/> keeps; past it, values are kept as they come.</summary>
    private const int SharedValuesLimit = 100_000;

    private readonly FeaturizationPlan _plan;
    private readonly Dictionary<string, string>? _shared;
    private readonly int[] _numeric;
    private readonly int[] _boolean;
    private readonly int[] _dates;
    private readonly int[] _categorical;
    private readonly int[] _hashed;
    private readonly int[] _text;
    private readonly int _label;
    private readonly int _key;

    /// <summary>
    /// Resolves the plan's columns in a header; a feature column missing from it throws, naming it. With
    /// <paramref name="shareValues"/>, equal category and class values of different rows share one string, for rows
    /// that are kept (training holds a whole dataset's rows).
    /// </summary>
    public FeatureRowBuilder(FeaturizationPlan plan, IReadOnlyList<string> header, string? keyColumn = null, bool shareValues = false)
    {
        _plan = plan;
        _shared = shareValues ? new Dictionary<string, string>(StringComparer.Ordinal) : null;
        int Index(string name) => ColumnIndex(header, name) is var i and >= 0
            ? i
            : throw new ArgumentException($"The input has no column '{name}', which the model needs (columns: {string.Join(", ", header)}).", nameof(header));

        _numeric = [.. plan.Numeric.Select(Index)];
        _boolean = [.. plan.Boolean.Select(Index)];
        _dates = [.. plan.Dates.Select(Index)];
        _categorical = [.. plan.Categorical.Select(Index)];
        _hashed = [.. plan.HashedCategorical.Select(Index)];
        _text = [.. plan.Text.Select(Index)];
        _label = header.Contains(plan.Label, StringComparer.OrdinalIgnoreCase) ? Index(plan.Label) : -1;
        _key = keyColumn is null ? -1 : Index(keyColumn);
        Width = header.Count;
    }

    /// <summary>The number of fields a record must have.</summary>
    public int Width { get; }

    /// <summary>The row, or the reason it cannot be built (a field count, a value that does not fit its column).</summary>
    public FeatureRow? TryBuild(IReadOnlyList<string> fields, long rowNumber, out string? error)
    {
        error = null;
        if (fields.Count != Width)
        {
            error = $"{fields.Count} fields where the header has {Width}";
            return null;
        }

        // One array of the exact size per row (the row keeps it): no list to grow and copy.
        var features = new float[Math.Max(1, _numeric.Length + _boolean.Length + (_dates.Length * FeaturizationPlan.DateParts.Length))];
        var next = 0;
        foreach (var i in _numeric)
        {
            // Parsed once: the common case (a number) costs one parse, not a check and then a parse.
            var raw = fields[i];
            if (ValueParser.TryNumber(raw, out var number))
            {
                features[next++] = (float)number;
                continue;
            }

            if (!Read(raw, ColumnKind.Numeric, i, ref error, out _))
            {
                return null;
            }

            features[next++] = float.NaN;
        }

        foreach (var i in _boolean)
        {
            if (!Read(fields[i], ColumnKind.Boolean, i, ref error, out var b))
            {
                return null;
            }

            features[next++] = b is null ? float.NaN : (ValueParser.TryBoolean(b, out var t) && t ? 1f : 0f);
        }

        foreach (var i in _dates)
        {
            if (!Read(fields[i], ColumnKind.DateTime, i, ref error, out var d))
            {
                return null;
            }

            var date = default(DateTime);
            var known = d is not null && ValueParser.TryDateTime(d, out date);
            ReadOnlySpan<float> parts = known ? [date.Year, date.Month, date.Day, (float)date.DayOfWeek, date.Hour] : [float.NaN, float.NaN, float.NaN, float.NaN, float.NaN];
            parts.CopyTo(features.AsSpan(next));
            next += parts.Length;
        }

        var labelText = _label >= 0 ? fields[_label].Trim() : string.Empty;
        string[] text = _text.Length == 0 ? [] : [.. _text.Select(i => fields[i])];
        return new FeatureRow
        {
            Numeric = features,
            Categorical = _categorical.Length > 0 ? Categories(fields, _categorical) : NoCategory,
            Hashed = _hashed.Length > 0 ? Categories(fields, _hashed) : NoCategory,
            Text = string.Join(' ', text),
            TextParts = text,
            LabelText = _plan.Task == MlTask.Regression ? labelText : Share(labelText),
            Positive = _plan.Task == MlTask.BinaryClassification && IsPositive(labelText, _plan.Classes),
            Value = _plan.Task == MlTask.Regression && ValueParser.TryNumber(labelText, out var y) ? (float)y : 0,
            RowNumber = rowNumber,
            Key = _key >= 0 ? fields[_key] : string.Empty,
        };

        bool Read(string raw, ColumnKind kind, int index, ref string? problem, out string? value)
        {
            value = ValueParser.IsMissing(raw) ? null : raw.Trim();
            if (value is null || ValueParser.Fits(value, kind))
            {
                return true;
            }

            problem = $"column {index + 1}: '{(value.Length > 40 ? value[..40] + "…" : value)}' is not {(kind == ColumnKind.Numeric ? "a number" : kind == ColumnKind.Boolean ? "a boolean" : "a date")}";
            return false;
        }
    }

    /// <summary>Where a column is in a header, its name in any case; -1 when it is not there.</summary>
    public static int ColumnIndex(IReadOnlyList<string> header, string name)
    {
        for (var i = 0; i < header.Count; i++)
        {
            if (string.Equals(header[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The ML.NET schema of rows for this plan: fixed vector sizes.</summary>
    public static SchemaDefinition Schema(FeaturizationPlan plan)
    {
        var schema = SchemaDefinition.Create(typeof(FeatureRow));
        schema[nameof(FeatureRow.Numeric)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Math.Max(1, plan.Numeric.Count + plan.Boolean.Count + (plan.Dates.Count * FeaturizationPlan.DateParts.Length)));
        schema[nameof(FeatureRow.Categorical)].ColumnType = new VectorDataViewType(TextDataViewType.Instance, Math.Max(1, plan.Categorical.Count));
        schema[nameof(FeatureRow.Hashed)].ColumnType = new VectorDataViewType(TextDataViewType.Instance, Math.Max(1, plan.HashedCategorical.Count));
        return schema;
    }

    private string[] Categories(IReadOnlyList<string> fields, int[] indexes)
    {
        var values = new string[indexes.Length];
        for (var j = 0; j < indexes.Length; j++)
        {
            values[j] = Share(Category(fields[indexes[j]]));
        }

        return values;
    }

    /// <summary>The shared instance of a value, when values are shared (see the constructor).</summary>
    private string Share(string value)
    {
        if (_shared is null)
        {
            return value;
        }

        if (_shared.TryGetValue(value, out var shared))
        {
            return shared;
        }

        if (_shared.Count < SharedValuesLimit)
        {
            _shared[value] = value;
        }

        return value;
    }

    private static string Category(string value) => ValueParser.IsMissing(value) ? "(missing)" : value.Trim();

    /// <summary>
    /// Whether a label value is the plan's positive class (<see cref="FeaturizationPlan.PositiveClass"/>, the last
    /// class), however it is written: any case, any number form, any boolean spelling.
    /// </summary>
    private static bool IsPositive(string label, IReadOnlyList<string> classes) =>
        classes.Count == 2 ? FeaturizationPlan.SameClass(classes[1], label) : ValueParser.TryBoolean(label, out var b) && b;
}
