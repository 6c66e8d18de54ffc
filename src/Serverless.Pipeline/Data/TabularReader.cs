using System.Globalization;
using System.Text;
using System.Text.Json;
using Parquet.Serialization;
using Sylvan.Data.Csv;

namespace Serverless.Pipeline.Data;

/// <summary>
/// Records of a tabular file as text fields under a header, whatever the format: CSV (header, delimiter detection,
/// quoted fields with line breaks, CRLF, BOM), JSON Lines (one object per line) or Parquet. Every value is handed on
/// as invariant text, so one inference, validation and profile path serves every format.
/// </summary>
internal abstract class TabularReader : IAsyncDisposable
{
    /// <summary>The formats by file extension.</summary>
    public static readonly IReadOnlyList<string> Extensions = [".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".parquet"];

    /// <summary>The column names.</summary>
    public abstract IReadOnlyList<string> Header { get; }

    /// <summary>Where the last record returned is: its CSV record number (the header being 1), JSON line, or Parquet row (from 1).</summary>
    public abstract long Row { get; }

    /// <summary>Why the last record returned cannot be used as it is (and the column concerned), or null; the ingestor rejects it with this reason.</summary>
    public (string? Column, string Reason)? RecordProblem { get; protected set; }

    /// <summary>Whether <paramref name="file"/> names a format this reads.</summary>
    public static bool IsSupported(string file) => Extensions.Any(e => file.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    /// <summary>Opens the reader the file's extension calls for; <paramref name="content"/> must be seekable for Parquet.</summary>
    public static async Task<TabularReader> OpenAsync(Stream content, string file, CancellationToken cancellationToken)
    {
        if (file.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase))
        {
            return await JsonLinesReader.CreateAsync(content, file, cancellationToken);
        }

        if (file.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
        {
            return await ParquetTableReader.CreateAsync(content, file, cancellationToken);
        }

        return await CsvReader.CreateAsync(content, file, cancellationToken);
    }

    /// <summary>
    /// The next record's fields, as many as the header has columns for JSON Lines and Parquet (CSV records keep their
    /// own width, which the ingestor checks); null at the end.
    /// </summary>
    public abstract ValueTask<string[]?> ReadAsync(CancellationToken cancellationToken);

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();

    /// <summary>CSV; a badly quoted record is handed on with its <see cref="RecordProblem"/>, so it is rejected and the rest is read.</summary>
    private sealed class CsvReader(StreamReader text, CsvDataReader csv, string file) : TabularReader
    {
        private readonly char _delimiter = CsvText.Delimiter(csv.GetRawRecordSpan());
        private long _records;

        public override IReadOnlyList<string> Header { get; } = [.. Enumerable.Range(0, csv.FieldCount).Select(i => csv.GetName(i).Trim())];

        public override long Row => _records + 1;

        public static async Task<TabularReader> CreateAsync(Stream content, string file, CancellationToken cancellationToken)
        {
            var text = new StreamReader(content, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
            if (text.Peek() < 0)
            {
                throw new DatasetValidationException(file, $"{file}: the file is empty.", 1);
            }

            try
            {
                return new CsvReader(text, await CsvDataReader.CreateAsync(text, CsvText.ReaderOptions(hasHeaders: true), cancellationToken), file);
            }
            catch (CsvFormatException ex)
            {
                throw new DatasetValidationException(file, $"{file}, row 1: the header is not valid CSV ({ex.Message}).", 1);
            }
        }

        public override async ValueTask<string[]?> ReadAsync(CancellationToken cancellationToken)
        {
            try
            {
                if (!await csv.ReadAsync(cancellationToken))
                {
                    return null;
                }
            }
            catch (CsvFormatException ex)
            {
                // Only a record past the reader's limit gets here: nothing after it can be read.
                throw new DatasetValidationException(file, $"{file}, row {ex.RowNumber}: not valid CSV ({ex.Message}).", ex.RowNumber);
            }

            _records++;
            RecordProblem = CsvText.QuotingProblem(csv.GetRawRecordSpan(), _delimiter) is { } quoting ? (null, $"not valid CSV: {quoting}") : null;
            var fields = new string[csv.RowFieldCount];
            for (var i = 0; i < fields.Length; i++)
            {
                fields[i] = csv.GetString(i);
            }

            return fields;
        }

        public override async ValueTask DisposeAsync()
        {
            await csv.DisposeAsync();
            text.Dispose();
        }
    }

    /// <summary>
    /// JSON Lines: the columns are the keys of the first records (up to <see cref="HeaderRecords"/>, in order of first
    /// appearance); a later record with another key is refused by name rather than losing the value. Numbers and
    /// booleans keep their JSON text, null is missing, nested values are kept as JSON text.
    /// </summary>
    private sealed class JsonLinesReader(StreamReader text, string file, List<(long Line, Dictionary<string, string?> Values)> buffered, List<string> header) : TabularReader
    {
        private const int HeaderRecords = 1000;
        private long _line = buffered.Count > 0 ? buffered[^1].Line : 0;
        private int _next;

        public override IReadOnlyList<string> Header => header;

        public override long Row => _row;

        private long _row;

        public static async Task<TabularReader> CreateAsync(Stream content, string file, CancellationToken cancellationToken)
        {
            var text = new StreamReader(content, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
            var buffered = new List<(long, Dictionary<string, string?>)>();
            var header = new List<string>();
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            long line = 0;
            while (buffered.Count < HeaderRecords && await text.ReadLineAsync(cancellationToken) is { } raw)
            {
                line++;
                if (string.IsNullOrWhiteSpace(raw))
                {
                    continue;
                }

                var values = Parse(raw, file, line);
                foreach (var key in values.Keys.Where(seen.Add))
                {
                    header.Add(key);
                }

                buffered.Add((line, values));
            }

            if (buffered.Count == 0)
            {
                throw new DatasetValidationException(file, $"{file}: the file has no records.", 1);
            }

            return new JsonLinesReader(text, file, buffered, header);
        }

        public override async ValueTask<string[]?> ReadAsync(CancellationToken cancellationToken)
        {
            Dictionary<string, string?> values;
            if (_next < buffered.Count)
            {
                (_row, values) = buffered[_next++];
            }
            else
            {
                string? raw;
                do
                {
                    raw = await text.ReadLineAsync(cancellationToken);
                    _line++;
                }
                while (raw is not null && string.IsNullOrWhiteSpace(raw));

                if (raw is null)
                {
                    return null;
                }

                _row = _line;
                values = Parse(raw, file, _line);
            }

            var unknown = values.Keys.FirstOrDefault(k => !header.Contains(k, StringComparer.OrdinalIgnoreCase));
            RecordProblem = unknown is null ? null : (unknown, $"field '{unknown}' is not among the columns of the first {HeaderRecords} records");
            return [.. header.Select(h => values.GetValueOrDefault(h) ?? string.Empty)];
        }

        public override ValueTask DisposeAsync()
        {
            text.Dispose();
            return ValueTask.CompletedTask;
        }

        private static Dictionary<string, string?> Parse(string raw, string file, long line)
        {
            try
            {
                using var document = JsonDocument.Parse(raw);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new DatasetValidationException(file, $"{file}, line {line}: a record must be a JSON object, not {document.RootElement.ValueKind}.", line);
                }

                var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    values[property.Name.Trim()] = property.Value.ValueKind switch
                    {
                        JsonValueKind.Null => null,
                        JsonValueKind.String => property.Value.GetString(),
                        _ => property.Value.GetRawText(),
                    };
                }

                return values;
            }
            catch (JsonException ex)
            {
                throw new DatasetValidationException(file, $"{file}, line {line}: not valid JSON ({ex.Message}).", line);
            }
        }
    }

    /// <summary>Parquet, a row group at a time (memory bounded by the largest row group); values as invariant text.</summary>
    private sealed class ParquetTableReader(Stream content, IReadOnlyList<string> header, int rowGroups) : TabularReader
    {
        private IList<Dictionary<string, object>> _group = [];
        private int _nextGroup;
        private int _nextRow;
        private long _row;

        public override IReadOnlyList<string> Header => header;

        public override long Row => _row;

        public static async Task<TabularReader> CreateAsync(Stream content, string file, CancellationToken cancellationToken)
        {
            try
            {
                await using var reader = await Parquet.ParquetReader.CreateAsync(content, leaveStreamOpen: true, cancellationToken: cancellationToken);
                var header = reader.Schema.GetDataFields().Select(f => f.Name).ToList();
                return new ParquetTableReader(content, header, reader.RowGroupCount);
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or NotSupportedException or Parquet.ParquetException)
            {
                throw new DatasetValidationException(file, $"{file}: not a readable Parquet file ({ex.Message}).");
            }
        }

        public override async ValueTask<string[]?> ReadAsync(CancellationToken cancellationToken)
        {
            while (_nextRow >= _group.Count)
            {
                if (_nextGroup >= rowGroups)
                {
                    return null;
                }

                content.Position = 0;
                _group = (await ParquetSerializer.DeserializeUntypedAsync(content, rowGroupIndex: _nextGroup++, cancellationToken: cancellationToken)).Data;
                _nextRow = 0;
            }

            var values = _group[_nextRow++];
            _row++;
            return [.. header.Select(h => values.TryGetValue(h, out var value) ? Text(value) : string.Empty)];
        }

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private static string Text(object? value) => value switch
        {
            null => string.Empty,
            string s => s,
            bool b => b ? "true" : "false",
            DateTime d => d.ToString("O", CultureInfo.InvariantCulture),
            DateTimeOffset d => d.ToString("O", CultureInfo.InvariantCulture),
            DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            float f => f.ToString("R", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => JsonSerializer.Serialize(value),
        };
    }
}
