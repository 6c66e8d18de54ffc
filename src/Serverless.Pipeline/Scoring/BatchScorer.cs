using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Training;
using Sylvan.Data.Csv;

namespace Serverless.Pipeline.Scoring;

/// <summary>What scoring one part (or a whole file) did.</summary>
public sealed record ScoringCounts(long RowsIn, long RowsScored, long RowsRejected, TimeSpan Duration)
{
    /// <summary>The counts of several parts together (durations add up: the work done, not the wall time).</summary>
    public static ScoringCounts Sum(IEnumerable<ScoringCounts> parts) =>
        parts.Aggregate(new ScoringCounts(0, 0, 0, TimeSpan.Zero), (a, b) => new ScoringCounts(a.RowsIn + b.RowsIn, a.RowsScored + b.RowsScored, a.RowsRejected + b.RowsRejected, a.Duration + b.Duration));
}

/// <summary>
/// One prediction: the class (null for regression) and, for a binary model, the positive class's probability; for a
/// multiclass model, each class's probability in the plan's class order (a buffer the predictor reuses: read it before
/// the next call); for regression, the value.
/// </summary>
internal readonly record struct Prediction(string? Label, float Value, float[]? Probabilities = null);

/// <summary>
/// Streams CSV rows through a trained model: each valid row becomes a prediction line (row number, key column, then
/// the <see cref="PredictionColumns"/>: the prediction and each class's probability), each row that cannot be read or scored becomes an error line (row
/// number and reason). Rows are read, scored and written one at a time, so memory stays flat whatever the file size.
/// Each call scores on the calling thread with its own prediction engine (ML.NET's data-view cursors would split the
/// rows across threads and merge them again, which costs more than it gives on small machines); callers parallelize
/// by scoring several parts at once.
/// </summary>
public sealed class BatchScorer
{
    private readonly MLContext _ml = new(seed: 1);
    private readonly ITransformer _model;
    private readonly FeaturizationPlan _plan;
    private readonly Microsoft.ML.Data.SchemaDefinition _schema;
    private readonly VectorModel? _vector;
    private readonly CompiledFeaturizer? _compiled;
    private readonly IReadOnlyList<string> _classes;

    /// <summary>Loads a model artifact (an ML.NET zip) trained with <paramref name="plan"/>.</summary>
    public BatchScorer(Stream model, FeaturizationPlan plan)
        : this(model, plan, compile: true)
    {
    }

    /// <summary>
    /// Loads a model; without <paramref name="compile"/>, every record goes through ML.NET's featurizer and engine (the
    /// reference that tests compare the compiled path with).
    /// </summary>
    internal BatchScorer(Stream model, FeaturizationPlan plan, bool compile)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        _model = ModelArtifact.Load(_ml, model, plan);
        _plan = plan;
        _schema = FeatureRowBuilder.Schema(plan);
        _vector = compile ? VectorModel.TryCreate(_ml, _model, plan) : null;
        _compiled = _vector is null ? null : CompiledFeaturizer.TryCreate(_ml, _vector.Featurizer, plan);
        _classes = PredictionColumns.ClassesOf(plan.Task, plan.Classes);
    }

    /// <summary>The plan the model was trained with.</summary>
    internal FeaturizationPlan Plan => _plan;

    /// <summary>The classes of a classifier, in the order of its probability columns (the positive class last for binary).</summary>
    public IReadOnlyList<string> Classes => _classes;

    /// <summary>Whether rows are scored with <see cref="TreeEnsembleScorer"/> rather than ML.NET's own engine.</summary>
    internal bool EvaluatesTrees => _vector is TreeEnsembleScorer;

    /// <summary>When set, scoring adds up the time of each stage here (benchmarks).</summary>
    public ScoringStages? Stages { get; set; }

    /// <summary>
    /// When set, records are only split into fields and a line of row number and key is written for each: the cost of
    /// reading and writing alone, the limit scoring is compared with (benchmarks).
    /// </summary>
    public bool ParseOnly { get; set; }

    /// <summary>The model evaluated on feature vectors here, or null when ML.NET's engine scores it.</summary>
    internal VectorModel? Vector => _vector;

    /// <summary>The featurization from field text, or null when records go through ML.NET's featurizer.</summary>
    internal CompiledFeaturizer? Compiled => _compiled;

    /// <summary>The header of prediction files.</summary>
    public string PredictionHeader(string? keyColumn) =>
        string.Join(',', new[] { "row", keyColumn ?? "key" }.Concat(PredictionColumns.For(_plan.Task, _plan.Classes)).Select(CsvText.Quote));

    /// <summary>
    /// Scores the records in <paramref name="records"/> (no header; <paramref name="header"/> names the fields), numbering
    /// them from <paramref name="firstRow"/>, and writes prediction and error lines (no headers), on
    /// <paramref name="parallelism"/> cores (see <see cref="ScoringPipeline"/>).
    /// </summary>
    public Task<ScoringCounts> ScoreAsync(
        Stream records, string header, long firstRow, string? keyColumn, Stream predictions, Stream errors, int parallelism, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(errors);
        return ScoringPipeline.RunAsync(this, records, header, firstRow, keyColumn, predictions, errors, parallelism, cancellationToken);
    }

    /// <summary>As <see cref="ScoreAsync"/> on one core, into text writers (small inputs: the lines are buffered).</summary>
    public ScoringCounts Score(Stream records, string header, long firstRow, string? keyColumn, TextWriter predictions, TextWriter errors)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(errors);
        using var predicted = new MemoryStream();
        using var failed = new MemoryStream();
        var counts = ScoreAsync(records, header, firstRow, keyColumn, predicted, failed, 1, CancellationToken.None).GetAwaiter().GetResult();
        predictions.Write(Encoding.UTF8.GetString(predicted.GetBuffer(), 0, (int)predicted.Length));
        errors.Write(Encoding.UTF8.GetString(failed.GetBuffer(), 0, (int)failed.Length));
        return counts;
    }

    /// <summary>
    /// The model's metrics on the first <paramref name="maxRows"/> rows of a CSV (with a header) that carry the label:
    /// how it does on recent data whose outcome is known. Null when the file has no label column or no labeled rows
    /// (rows that cannot be read are skipped; scoring reports them).
    /// </summary>
    public IReadOnlyDictionary<string, double>? Evaluate(Stream csv, int maxRows)
    {
        ArgumentNullException.ThrowIfNull(csv);
        using var reader = new StreamReader(csv, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        using var data = CsvDataReader.Create(reader, CsvText.ReaderOptions(hasHeaders: true));
        var delimiter = CsvText.Delimiter(data.GetRawRecordSpan());
        string[] header = [.. Enumerable.Range(0, data.FieldCount).Select(i => data.GetName(i).Trim())];
        if (!header.Contains(_plan.Label, StringComparer.OrdinalIgnoreCase))
        {
            return null;
        }

        var builder = new FeatureRowBuilder(_plan, header);
        var rows = new List<FeatureRow>();
        for (var row = 2L; rows.Count < maxRows && CsvText.ReadWellFormed(data, delimiter); row++)
        {
            string[] fields = [.. Enumerable.Range(0, data.RowFieldCount).Select(data.GetString)];
            if (builder.TryBuild(fields, row, out _) is { LabelText.Length: > 0 } built && (_plan.Task != MlTask.Regression || ValueParser.TryNumber(built.LabelText, out _)))
            {
                rows.Add(built);
            }
        }

        if (rows.Count == 0 || (_plan.Task != MlTask.Regression && rows.Select(r => r.LabelText).Distinct(StringComparer.Ordinal).Count() < 2))
        {
            return null;
        }

        var metrics = TrialRunner.Evaluate(_plan.Task, _model.Transform(_ml.Data.LoadFromEnumerable(rows, _schema)));
        metrics["labeledRows"] = rows.Count;
        return metrics;
    }

    /// <summary>
    /// A predictor over its own prediction engine: fast for one row at a time, and for one thread at a time. Tree
    /// ensembles it covers go through <see cref="TreeEnsembleScorer"/>, other models through ML.NET's engine.
    /// </summary>
    internal Func<FeatureRow, Prediction> CreatePredictor()
    {
        if (_vector is null)
        {
            return CreateMlNetPredictor();
        }

        var score = _vector.CreateScorer(_ml, _plan);
        if (!_vector.Calibrated)
        {
            return row => new Prediction(null, score(row));
        }

        var trees = _vector;
        var classes = _classes;
        return row =>
        {
            var margin = score(row);
            return new Prediction(classes[margin > 0 ? 1 : 0], trees.Probability(margin));
        };
    }

    /// <summary>A predictor over ML.NET's own prediction engine for the whole model (one thread at a time).</summary>
    internal Func<FeatureRow, Prediction> CreateMlNetPredictor()
    {
        var classes = _classes;
        switch (_plan.Task)
        {
            case MlTask.BinaryClassification:
                var binary = _ml.Model.CreatePredictionEngine<FeatureRow, BinaryOutput>(_model, inputSchemaDefinition: _schema);
                var binaryOutput = new BinaryOutput();
                return row =>
                {
                    binary.Predict(row, ref binaryOutput);
                    var positive = binaryOutput.PredictedLabel;
                    return new Prediction(classes[positive ? 1 : 0], binaryOutput.Probability);
                };
            case MlTask.MulticlassClassification:
                var multiclass = _ml.Model.CreatePredictionEngine<FeatureRow, MulticlassOutput>(_model, inputSchemaDefinition: _schema);
                var multiclassOutput = new MulticlassOutput();
                var slots = ClassOfScoreSlot();
                var probabilities = new float[classes.Count];
                return row =>
                {
                    multiclass.Predict(row, ref multiclassOutput);
                    Array.Fill(probabilities, 0f);
                    for (var i = 0; i < multiclassOutput.Score.Length && i < slots.Length; i++)
                    {
                        if (slots[i] >= 0)
                        {
                            probabilities[slots[i]] = multiclassOutput.Score[i];
                        }
                    }

                    return new Prediction(multiclassOutput.PredictedLabel, probabilities.Max(), probabilities);
                };
            default:
                var regression = _ml.Model.CreatePredictionEngine<FeatureRow, RegressionOutput>(_model, inputSchemaDefinition: _schema);
                var regressionOutput = new RegressionOutput();
                return row =>
                {
                    regression.Predict(row, ref regressionOutput);
                    return new Prediction(null, regressionOutput.Score);
                };
        }
    }

    /// <summary>
    /// For each slot of a multiclass model's <c>Score</c>, the index of its class in the plan (−1 for a class the plan
    /// does not know): the slots follow the label's key order, which is the order classes were first seen in training.
    /// </summary>
    private int[] ClassOfScoreSlot()
    {
        var output = _model.GetOutputSchema(_ml.Data.LoadFromEnumerable(Array.Empty<FeatureRow>(), _schema).Schema);
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        var score = output["Score"];
        if (score.HasSlotNames())
        {
            score.GetSlotNames(ref names);
        }
        else
        {
            output["Label"].GetKeyValues(ref names);
        }

        var index = _classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        return [.. names.DenseValues().Select(n => index.GetValueOrDefault(n.ToString(), -1))];
    }

    /// <summary>The column names of a header line (its delimiter detected as the scorer does).</summary>
    public static string[] ParseHeader(string header)
    {
        using var csv = CsvDataReader.Create(new StringReader(header + "\n"), CsvText.ReaderOptions(hasHeaders: true, CsvText.Delimiter(header)));
        return [.. Enumerable.Range(0, csv.FieldCount).Select(csv.GetName)];
    }

    /// <summary>The delimiter of the header: the most frequent of comma, semicolon, tab and pipe.</summary>
    private sealed class BinaryOutput
    {
        public bool PredictedLabel { get; set; }

        public float Probability { get; set; }
    }

    private sealed class MulticlassOutput
    {
        public string PredictedLabel { get; set; } = string.Empty;

        public float[] Score { get; set; } = [];
    }

    private sealed class RegressionOutput
    {
        public float Score { get; set; }
    }
}
