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
/// Streams CSV rows through a trained model: each valid row becomes a prediction line (row number, key column,
/// prediction, probability for classifiers), each row that cannot be read or scored becomes an error line (row
/// number and reason). Rows are read, scored and written one at a time, so memory stays flat whatever the file size.
/// </summary>
public sealed class BatchScorer
{
    private readonly MLContext _ml = new(seed: 1);
    private readonly ITransformer _model;
    private readonly FeaturizationPlan _plan;

    /// <summary>Loads a model artifact (an ML.NET zip) trained with <paramref name="plan"/>.</summary>
    public BatchScorer(Stream model, FeaturizationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = _ml.Model.Load(model, out _);
        _plan = plan;
    }

    /// <summary>The trained model, for prediction engines over the same load.</summary>
    internal ITransformer Model => _model;

    /// <summary>The context the model was loaded in.</summary>
    internal MLContext Context => _ml;

    /// <summary>The plan the model was trained with.</summary>
    internal FeaturizationPlan Plan => _plan;

    /// <summary>The header of prediction files.</summary>
    public string PredictionHeader(string? keyColumn) => _plan.Task switch
    {
        MlTask.Regression => $"row,{keyColumn ?? "key"},prediction",
        _ => $"row,{keyColumn ?? "key"},prediction,probability",
    };

    /// <summary>
    /// Scores the records in <paramref name="records"/> (no header; <paramref name="header"/> names the fields), numbering
    /// them from <paramref name="firstRow"/>, and writes prediction and error lines (no headers).
    /// </summary>
    public ScoringCounts Score(Stream records, string header, long firstRow, string? keyColumn, TextWriter predictions, TextWriter errors)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(errors);
        var clock = Stopwatch.StartNew();
        var names = ParseHeader(header);
        var builder = new FeatureRowBuilder(_plan, names, keyColumn);
        long rowsIn = 0;
        long rejected = 0;

        IEnumerable<FeatureRow> Rows()
        {
            using var reader = new StreamReader(records, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
            using var csv = CsvDataReader.Create(reader, new CsvDataReaderOptions { HasHeaders = false, Delimiter = Delimiter(header) });
            var row = firstRow - 1;
            while (true)
            {
                string[] fields;
                try
                {
                    if (!csv.Read())
                    {
                        yield break;
                    }

                    fields = new string[csv.RowFieldCount];
                    for (var i = 0; i < fields.Length; i++)
                    {
                        fields[i] = csv.GetString(i);
                    }
                }
                catch (CsvFormatException ex)
                {
                    rowsIn++;
                    rejected++;
                    errors.WriteLine($"{row + 1},{CsvText.Quote($"not valid CSV: {ex.Message}")}");
                    yield break;
                }

                row++;
                rowsIn++;
                var built = builder.TryBuild(fields, row, out var error);
                if (built is null)
                {
                    rejected++;
                    errors.WriteLine($"{row},{CsvText.Quote(error!)}");
                    continue;
                }

                yield return built;
            }
        }

        var scored = _model.Transform(_ml.Data.LoadFromEnumerable(Rows(), FeatureRowBuilder.Schema(_plan)));
        long written = 0;
        using (var cursor = scored.GetRowCursor(scored.Schema))
        {
            var rowNumber = cursor.GetGetter<long>(scored.Schema[nameof(FeatureRow.RowNumber)]);
            var key = cursor.GetGetter<ReadOnlyMemory<char>>(scored.Schema[nameof(FeatureRow.Key)]);
            var predict = Predictor(scored, cursor);
            long number = 0;
            var keyValue = default(ReadOnlyMemory<char>);
            while (cursor.MoveNext())
            {
                rowNumber(ref number);
                key(ref keyValue);
                predictions.WriteLine($"{number.ToString(CultureInfo.InvariantCulture)},{CsvText.Quote(keyValue.ToString())},{predict()}");
                written++;
            }
        }

        return new ScoringCounts(rowsIn, written, rejected, clock.Elapsed);
    }

    private Func<string> Predictor(IDataView scored, DataViewRowCursor cursor)
    {
        switch (_plan.Task)
        {
            case MlTask.BinaryClassification:
                var label = cursor.GetGetter<bool>(scored.Schema["PredictedLabel"]);
                var probability = cursor.GetGetter<float>(scored.Schema["Probability"]);
                return () =>
                {
                    bool positive = default;
                    float p = default;
                    label(ref positive);
                    probability(ref p);
                    var name = _plan.Classes.Count == 2 ? _plan.Classes[positive ? 1 : 0] : positive.ToString(CultureInfo.InvariantCulture);
                    return $"{CsvText.Quote(name)},{p.ToString("0.######", CultureInfo.InvariantCulture)}";
                };
            case MlTask.MulticlassClassification:
                var predicted = cursor.GetGetter<ReadOnlyMemory<char>>(scored.Schema["PredictedLabel"]);
                var scores = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
                return () =>
                {
                    ReadOnlyMemory<char> name = default;
                    VBuffer<float> values = default;
                    predicted(ref name);
                    scores(ref values);
                    return $"{CsvText.Quote(name.ToString())},{values.DenseValues().Max().ToString("0.######", CultureInfo.InvariantCulture)}";
                };
            default:
                var score = cursor.GetGetter<float>(scored.Schema["Score"]);
                return () =>
                {
                    float y = default;
                    score(ref y);
                    return y.ToString("0.######", CultureInfo.InvariantCulture);
                };
        }
    }

    internal static string[] ParseHeader(string header)
    {
        using var csv = CsvDataReader.Create(new StringReader(header + "\n"), new CsvDataReaderOptions { HasHeaders = true, Delimiter = Delimiter(header) });
        return [.. Enumerable.Range(0, csv.FieldCount).Select(csv.GetName)];
    }

    /// <summary>The delimiter of the header: the most frequent of comma, semicolon, tab and pipe.</summary>
    private static char Delimiter(string header) => new[] { ',', ';', '\t', '|' }.OrderByDescending(d => header.Count(c => c == d)).First();
}
