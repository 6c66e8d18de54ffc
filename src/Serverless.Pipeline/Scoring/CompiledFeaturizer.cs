using System.Globalization;
using Microsoft.ML;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Scoring;

/// <summary>
/// The model's featurization (mean imputation, one-hot categories, min-max scaling) applied straight from a record's
/// field text into the feature vector, without ML.NET's per-row engine or a string per field. It is learned from the
/// featurizer itself, by probing: a row of missing values gives each numeric slot's imputed value, a row of ones
/// its scale, and each category value, the first time a worker meets it, the slots it sets (its answer is kept).
/// It is built only for plans of numeric, boolean, date and one-hot categorical columns, and only when the probes
/// show the featurizer is what it assumes; otherwise scoring keeps ML.NET's engine.
/// </summary>
internal sealed class CompiledFeaturizer
{
    /// <summary>A value no category has: one-hot encodes it as zeros.</summary>
    private const string Unseen = "\u0001unseen\u0001";

    private readonly MLContext _ml;
    private readonly ITransformer _featurizer;
    private readonly FeaturizationPlan _plan;
    private readonly float[] _imputed;
    private readonly float[] _scales;
    private readonly int _numeric;

    private CompiledFeaturizer(MLContext ml, ITransformer featurizer, FeaturizationPlan plan, float[] imputed, float[] scales, int width)
    {
        _ml = ml;
        _featurizer = featurizer;
        _plan = plan;
        _imputed = imputed;
        _scales = scales;
        _numeric = imputed.Length;
        Width = width;
    }

    /// <summary>The length of the feature vector.</summary>
    public int Width { get; }

    /// <summary>The compiled featurizer, or null when the plan or the featurizer is not one it reproduces exactly.</summary>
    public static CompiledFeaturizer? TryCreate(MLContext ml, ITransformer featurizer, FeaturizationPlan plan)
    {
        if (plan.HashedCategorical.Count > 0 || plan.Text.Count > 0 || plan.Task == MlTask.MulticlassClassification)
        {
            return null;
        }

        var numeric = plan.Numeric.Count + plan.Boolean.Count + (plan.Dates.Count * FeaturizationPlan.DateParts.Length);
        var engine = Engine(ml, featurizer, plan);
        float[] Probe(float value) => Run(engine, plan, numeric, value, null, null);
        var missing = Probe(float.NaN);
        var ones = Probe(1);
        var zeros = Probe(0);
        if (numeric == 0 || missing.Length < numeric || zeros.Any(v => v != 0) || missing.Skip(numeric).Any(v => v != 0))
        {
            return null;
        }

        var compiled = new CompiledFeaturizer(ml, featurizer, plan, missing[..numeric], ones[..numeric], missing.Length);

        // The scaling must be linear through zero (min-max with its zero fixed), as the probes above assume.
        foreach (var value in new[] { -2.5f, 3f, 1234.567f, 1e-3f })
        {
            var expected = Probe(value);
            for (var i = 0; i < numeric; i++)
            {
                if (Math.Abs(expected[i] - (value * compiled._scales[i])) > 1e-6f * Math.Max(1, Math.Abs(expected[i])))
                {
                    return null;
                }
            }
        }

        return compiled;
    }

    /// <summary>
    /// A featurizer for one thread and files with <paramref name="header"/> (it keeps the categories it has met, and a
    /// probing engine); null when a feature column is missing from the header.
    /// </summary>
    public Worker? CreateWorker(IReadOnlyList<string> header)
    {
        int[][] fields = [.. new[] { _plan.Numeric, _plan.Boolean, _plan.Dates, _plan.Categorical }
            .Select(columns => columns.Select(name => FeatureRowBuilder.ColumnIndex(header, name)).ToArray())];
        return fields.Any(f => f.Contains(-1)) ? null : new Worker(this, fields[0], fields[1], fields[2], fields[3]);
    }

    private static PredictionEngine<FeatureRow, FeatureVector> Engine(MLContext ml, ITransformer featurizer, FeaturizationPlan plan) =>
        ml.Model.CreatePredictionEngine<FeatureRow, FeatureVector>(featurizer, inputSchemaDefinition: FeatureRowBuilder.Schema(plan));

    /// <summary>The featurizer's output for a row of <paramref name="value"/> everywhere, with one category set (or none: all unseen).</summary>
    private static float[] Run(
        PredictionEngine<FeatureRow, FeatureVector> engine, FeaturizationPlan plan, int numeric, float value, int? column, string? category)
    {
        var categories = Enumerable.Repeat(Unseen, Math.Max(1, plan.Categorical.Count)).ToArray();
        if (column is { } c)
        {
            categories[c] = category!;
        }

        var row = new FeatureRow { Numeric = [.. Enumerable.Repeat(value, Math.Max(1, numeric))], Categorical = categories, Hashed = [string.Empty] };
        var output = new FeatureVector();
        engine.Predict(row, ref output);
        return [.. output.Features];
    }

    /// <summary>One thread's featurizer.</summary>
    internal sealed class Worker
    {
        private readonly CompiledFeaturizer _compiled;
        private readonly PredictionEngine<FeatureRow, FeatureVector> _engine;
        private readonly Dictionary<string, (int Slot, float Value)[]>.AlternateLookup<ReadOnlySpan<char>>[] _categories;
        private readonly int[] _numericFields;
        private readonly int[] _booleanFields;
        private readonly int[] _dateFields;
        private readonly int[] _categoricalFields;
        private readonly float[] _features;
        private readonly (int Slot, float Value)[]?[] _set;

        internal Worker(CompiledFeaturizer compiled, int[] numericFields, int[] booleanFields, int[] dateFields, int[] categoricalFields)
        {
            _compiled = compiled;
            _engine = Engine(compiled._ml, compiled._featurizer, compiled._plan);
            _categories = [.. compiled._plan.Categorical.Select(_ => new Dictionary<string, (int, float)[]>(StringComparer.Ordinal)
                .GetAlternateLookup<ReadOnlySpan<char>>())];
            _features = new float[compiled.Width];
            (_numericFields, _booleanFields) = (numericFields, booleanFields);
            (_dateFields, _categoricalFields) = (dateFields, categoricalFields);
            _set = new (int, float)[_categoricalFields.Length][];
        }

        /// <summary>
        /// The features of a record's fields, or null when a value does not fit its column (the caller then asks the
        /// row builder for the reason, so the message is the same as on every other path).
        /// </summary>
        public float[]? Featurize(ReadOnlySpan<char> text, CsvFields fields) =>
            ParseNumbers(text, fields) ? SetCategories(text, fields) : null;

        /// <summary>
        /// The numeric, boolean and date fields, parsed and checked into the features; false when one does not fit its column.
        /// </summary>
        public bool ParseNumbers(ReadOnlySpan<char> text, CsvFields fields)
        {
            var features = _features;
            var next = 0;
            foreach (var i in _numericFields)
            {
                var value = text[fields[i]];
                if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
                {
                    features[next] = (float)number * _compiled._scales[next];
                }
                else if (ValueParser.IsMissing(value))
                {
                    features[next] = _compiled._imputed[next];
                }
                else
                {
                    return false;
                }

                next++;
            }

            foreach (var i in _booleanFields)
            {
                var value = text[fields[i]];
                if (ValueParser.IsMissing(value))
                {
                    features[next] = _compiled._imputed[next];
                }
                else if (ValueParser.TryBoolean(value, out var b))
                {
                    features[next] = (b ? 1f : 0f) * _compiled._scales[next];
                }
                else
                {
                    return false;
                }

                next++;
            }

            foreach (var i in _dateFields)
            {
                var value = text[fields[i]];
                var missing = ValueParser.IsMissing(value);
                var date = default(DateTime);
                if (!missing && !ValueParser.TryDateTime(value.ToString(), out date))
                {
                    return false;
                }

                ReadOnlySpan<float> parts = missing
                    ? [float.NaN, float.NaN, float.NaN, float.NaN, float.NaN]
                    : [date.Year, date.Month, date.Day, (float)date.DayOfWeek, date.Hour];
                foreach (var part in parts)
                {
                    features[next] = float.IsNaN(part) ? _compiled._imputed[next] : part * _compiled._scales[next];
                    next++;
                }
            }

            return true;
        }

        /// <summary>The one-hot slots of the categorical fields; the features are then whole.</summary>
        public float[] SetCategories(ReadOnlySpan<char> text, CsvFields fields)
        {
            var features = _features;
            for (var c = 0; c < _categoricalFields.Length; c++)
            {
                if (_set[c] is { } previous)
                {
                    foreach (var (slot, _) in previous)
                    {
                        features[slot] = 0;
                    }
                }

                var raw = text[fields[_categoricalFields[c]]];
                var value = ValueParser.IsMissing(raw) ? "(missing)" : raw.Trim();
                if (!_categories[c].TryGetValue(value, out var slots))
                {
                    slots = ProbeCategory(c, value.ToString());
                }

                foreach (var (slot, v) in slots)
                {
                    features[slot] = v;
                }

                _set[c] = slots;
            }

            return features;
        }

        /// <summary>
        /// The slots a category value sets, from the featurizer itself; kept for the next rows (up to a bound per column).
        /// </summary>
        private (int Slot, float Value)[] ProbeCategory(int column, string value)
        {
            var output = Run(_engine, _compiled._plan, _compiled._numeric, 0, column, value);
            (int, float)[] slots = [.. output.Select((v, i) => (i, v)).Where(p => p.i >= _compiled._numeric && p.v != 0)];
            var known = _categories[column].Dictionary;
            if (known.Count < 10_000)
            {
                known[value] = slots;
            }

            return slots;
        }
    }
}

/// <summary>The output of a featurizer: the vector the trainer sees.</summary>
internal sealed class FeatureVector
{
    public float[] Features { get; set; } = [];
}
