using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Scoring;

/// <summary>
/// Scores the whole records of one chunk of a file into prediction and error lines (UTF-8), for one thread at a time.
/// A record whose model is covered by <see cref="VectorModel"/> and <see cref="CompiledFeaturizer"/> goes from its field
/// text to the feature vector to the score without a string per field; every other record (an error, a model or a
/// plan they do not cover) goes through <see cref="FeatureRowBuilder"/> and the model's predictor, so error messages and
/// predictions are the same on both paths.
/// </summary>
internal sealed class ChunkScorer
{
    private static readonly SearchValues<char> NeedsQuotes = SearchValues.Create(",\"\r\n");

    private readonly BatchScorer _scorer;
    private readonly char _delimiter;
    private readonly int _width;
    private readonly int _key;
    private readonly FeatureRowBuilder _builder;
    private readonly Func<FeatureRow, Prediction> _predict;
    private readonly CompiledFeaturizer.Worker? _fast;
    private readonly VectorModel? _model;
    private readonly ulong[] _scratch;
    private readonly byte[][] _labels;
    private readonly CsvFields _fields = new();
    private string[] _strings = [];

    public ChunkScorer(BatchScorer scorer, string header, string? keyColumn)
    {
        _scorer = scorer;
        _delimiter = CsvText.Delimiter(header);
        var columns = BatchScorer.ParseHeader(header);
        _width = columns.Length;
        _key = keyColumn is null ? -1 : FeatureRowBuilder.ColumnIndex(columns, keyColumn);
        _builder = new FeatureRowBuilder(scorer.Plan, columns, keyColumn);
        _predict = scorer.CreatePredictor();
        _model = scorer.Vector;
        _fast = _model is null ? null : scorer.Compiled?.CreateWorker(columns);
        _scratch = new ulong[_model?.ScratchLength ?? 0];
        _labels = [.. scorer.Classes.Select(c => Encoding.UTF8.GetBytes(CsvText.Quote(c)))];
    }

    /// <summary>The delimiter of the file's records.</summary>
    public char Delimiter => _delimiter;

    /// <summary>Whether records go from text to features without ML.NET's engine.</summary>
    public bool Compiled => _fast is not null;

    /// <summary>
    /// Scores the records of <paramref name="text"/> (whole records; the last may lack its line end), numbering them from
    /// <paramref name="firstRow"/>: rows read, scored and rejected.
    /// </summary>
    public (long RowsIn, long Scored, long Rejected) Score(
        ReadOnlySpan<char> text, long firstRow, IBufferWriter<byte> predictions, IBufferWriter<byte> errors)
    {
        var scanner = new CsvRecordScanner<char>(_delimiter);
        var stages = _scorer.Stages;
        Span<long> ticks = stackalloc long[ScoringStages.Names.Length];
        var last = stages is null ? 0 : Stopwatch.GetTimestamp();
        void Mark(Span<long> ticks, int stage)
        {
            if (stages is not null)
            {
                var now = Stopwatch.GetTimestamp();
                ticks[stage] += now - last;
                last = now;
            }
        }

        long rows = 0;
        long scored = 0;
        var position = 0;
        while (position < text.Length)
        {
            var end = scanner.FindEnd(text[position..]);
            var record = end < 0 ? text[position..] : text.Slice(position, end);
            position = end < 0 ? text.Length : position + end + 1;
            if (record.Length > 0 && record[^1] == '\r')
            {
                record = record[..^1];
            }

            var row = firstRow + rows++;
            if (CsvText.QuotingProblem(record, _delimiter) is { } quoting)
            {
                WriteError(errors, row, $"not valid CSV: {quoting}");
                continue;
            }

            _fields.Split(record, _delimiter);
            var fields = _fields.Text(record);
            Mark(ticks, 0);
            if (_scorer.ParseOnly)
            {
                WriteKey(predictions, row, fields);
                predictions.Write("\n"u8);
                scored++;
                Mark(ticks, 4);
                continue;
            }

            if (_fast is not null && _fields.Count == _width && _fast.ParseNumbers(fields, _fields))
            {
                Mark(ticks, 1);
                var features = _fast.SetCategories(fields, _fields);
                Mark(ticks, 2);
                var score = _model!.Score(features, _scratch);
                var probability = _model.Calibrated ? _model.Probability(score) : 0;
                Mark(ticks, 3);
                WriteKey(predictions, row, fields);
                if (_model.Calibrated)
                {
                    predictions.Write(_labels[score > 0 ? 1 : 0]);
                    Number(predictions, 1 - probability, true);
                    Number(predictions, probability, true);
                }
                else
                {
                    Number(predictions, score, false);
                }

                predictions.Write("\n"u8);
                scored++;
                Mark(ticks, 4);
                continue;
            }

            if (_strings.Length != _fields.Count)
            {
                _strings = new string[_fields.Count];
            }

            for (var i = 0; i < _strings.Length; i++)
            {
                _strings[i] = fields[_fields[i]].ToString();
            }

            if (_builder.TryBuild(_strings, row, out var error) is not { } built)
            {
                WriteError(errors, row, error!);
                continue;
            }

            WriteKey(predictions, row, fields);
            var prediction = _predict(built);
            if (prediction.Label is not { } label)
            {
                Number(predictions, prediction.Value, false);
            }
            else
            {
                Text(predictions, CsvText.Quote(label));
                foreach (var p in prediction.Probabilities ?? [1 - prediction.Value, prediction.Value])
                {
                    Number(predictions, p, true);
                }
            }

            predictions.Write("\n"u8);
            scored++;
        }

        stages?.Add(ticks);
        return (rows, scored, rows - scored);
    }

    /// <summary>The error line of a record that cannot be read at all (past the size limit).</summary>
    public static void WriteError(IBufferWriter<byte> errors, long row, string reason) => Text(errors, $"{row},{CsvText.Quote(reason)}\n");

    /// <summary>The row number and the key field (quoted when it must be), each followed by a comma.</summary>
    private void WriteKey(IBufferWriter<byte> output, long row, ReadOnlySpan<char> fields)
    {
        var span = output.GetSpan(24);
        row.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
        span[written++] = (byte)',';
        output.Advance(written);
        var key = _key >= 0 ? fields[_fields[_key]] : [];
        if (key.ContainsAny(NeedsQuotes))
        {
            Text(output, CsvText.Quote(key.ToString()));
        }
        else if (key.Length > 0)
        {
            var bytes = output.GetSpan(Encoding.UTF8.GetMaxByteCount(key.Length));
            output.Advance(Encoding.UTF8.GetBytes(key, bytes));
        }

        output.Write(","u8);
    }

    private static void Number(IBufferWriter<byte> output, float value, bool comma)
    {
        var span = output.GetSpan(32);
        var written = 0;
        if (comma)
        {
            span[written++] = (byte)',';
        }

        value.TryFormat(span[written..], out var length, "0.######", CultureInfo.InvariantCulture);
        output.Advance(written + length);
    }

    private static void Text(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        output.Advance(Encoding.UTF8.GetBytes(text, span));
    }
}
