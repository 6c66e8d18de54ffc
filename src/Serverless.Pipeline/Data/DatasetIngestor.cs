using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Sylvan.Data.Csv;

namespace Serverless.Pipeline.Data;

/// <summary>How to ingest a dataset.</summary>
/// <param name="Label">The label column; its rows must have a value, and a classification label needs two classes.</param>
/// <param name="Schema">Column kinds that override inference, by column name.</param>
/// <param name="MaxRejectedFraction">Above this share of rejected rows the dataset is refused, naming the worst column.</param>
/// <param name="LabelIsClassification">Whether the label is a class (then it needs at least two); null infers it from the label's kind.</param>
public sealed record IngestOptions(
    string? Label = null,
    IReadOnlyDictionary<string, ColumnKind>? Schema = null,
    double MaxRejectedFraction = 0.1,
    bool? LabelIsClassification = null);

/// <summary>A row left out of the snapshot, and why (row numbers are CSV records, the header being row 1).</summary>
public sealed record RejectedRow(long Row, string? Column, string Reason);

/// <summary>
/// An immutable dataset snapshot: the accepted rows, the rejected rows with reasons, the schema and the profile,
/// stored under <c>snapshots/{Id}/</c>. <see cref="Id"/> is the SHA-256 of the source bytes and the ingest options:
/// the lineage key that models and runs refer to.
/// </summary>
public sealed record DatasetSnapshot(
    string Id,
    string SourceSha256,
    string Source,
    DatasetSchema Schema,
    long RowsRead,
    long RowsAccepted,
    long RowsRejected,
    IReadOnlyList<ColumnProfile> Profile,
    IReadOnlyList<RejectedRow> FirstRejects,
    DateTimeOffset CreatedAt)
{
    /// <summary>The folder of the snapshot in its container.</summary>
    public string Prefix => $"snapshots/{Id}/";
}

/// <summary>
/// Reads a dataset once, streaming: CSV (header, delimiter detection, quoted fields with line breaks, CRLF, BOM),
/// JSON Lines or Parquet, by the file's extension (see <see cref="TabularReader"/>). It infers or
/// takes the schema, validates every row, profiles every column, and writes an immutable snapshot. Rows that fail go
/// to <c>rejects.csv</c> with their row number and reason, never silently dropped; a dataset that cannot be used at
/// all throws <see cref="DatasetValidationException"/> naming the file, and the row and column where it can.
/// The source is only read.
/// </summary>
public sealed partial class DatasetIngestor(BlobContainerClient snapshots, TimeProvider time)
{
    private const int InferenceRows = 10_000;
    private const int KeptRejects = 100;
    private static readonly JsonSerializerOptions Json = PipelineJson.Indented;

    /// <summary>The file extensions a dataset may have: CSV (.csv, .tsv, .txt), JSON Lines (.jsonl, .ndjson) and Parquet (.parquet).</summary>
    public static IReadOnlyList<string> SupportedExtensions => TabularReader.Extensions;

    /// <summary>Whether a dataset file name has a supported extension.</summary>
    public static bool IsSupported(string file) => TabularReader.IsSupported(file);

    /// <summary>Ingests a blob, read with its ETag as a condition so a change mid-read fails instead of mixing versions.</summary>
    public async Task<DatasetSnapshot> IngestAsync(BlobClient source, IngestOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var properties = (await source.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        await using var content = await source.OpenReadAsync(
            new BlobOpenReadOptions(allowModifications: false) { Conditions = new BlobRequestConditions { IfMatch = properties.ETag } },
            cancellationToken);
        return await IngestAsync(content, $"{source.BlobContainerName}/{source.Name}", options, cancellationToken);
    }

    /// <summary>Ingests a stream named <paramref name="file"/> in messages.</summary>
    public async Task<DatasetSnapshot> IngestAsync(Stream content, string file, IngestOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(options);
        using var hashing = new HashingStream(content);
        string? parquetCopy = null;
        Stream source = hashing;
        if (file.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
        {
            // Parquet is read from its footer: a seekable local copy, hashed on the way.
            parquetCopy = Path.GetTempFileName();
            await using (var copy = File.Create(parquetCopy))
            {
                await hashing.CopyToAsync(copy, cancellationToken);
            }

            source = File.OpenRead(parquetCopy);
        }

        try
        {
            await using var reader = await TabularReader.OpenAsync(source, file, cancellationToken);
            return await IngestAsync(reader, hashing, file, options, cancellationToken);
        }
        finally
        {
            if (parquetCopy is not null)
            {
                await source.DisposeAsync();
                File.Delete(parquetCopy);
            }
        }
    }

    private async Task<DatasetSnapshot> IngestAsync(TabularReader reader, HashingStream hashing, string file, IngestOptions options, CancellationToken cancellationToken)
    {
        var header = reader.Header.ToArray();
        CheckHeader(file, header, options.Label);

        var sample = new List<(long Row, string[] Fields, (string? Column, string Reason)? Problem)>();
        while (sample.Count < InferenceRows && await reader.ReadAsync(cancellationToken) is { } first)
        {
            sample.Add((reader.Row, first, reader.RecordProblem));
        }

        var schema = SchemaInference.Infer(header, [.. sample.Where(s => s.Problem is null).Select(s => s.Fields)], options.Label, options.Schema);
        var labelIndex = options.Label is null ? -1 : Array.FindIndex(header, h => string.Equals(h, options.Label, StringComparison.OrdinalIgnoreCase));
        var profilers = schema.Columns.Select((c, i) => new ColumnProfiler(c.Name, c.Kind, seed: i + 1)).ToArray();
        var dataPath = Path.GetTempFileName();
        var rejectsPath = Path.GetTempFileName();
        try
        {
            var rejects = new List<RejectedRow>();
            var rejectsByColumn = new Dictionary<string, (long Count, RejectedRow First)>(StringComparer.OrdinalIgnoreCase);
            long read = 0;
            long accepted = 0;
            long rejected = 0;
            await using (var data = new StreamWriter(dataPath, append: false, new UTF8Encoding(false)))
            await using (var rejectsFile = new StreamWriter(rejectsPath, append: false, new UTF8Encoding(false)))
            {
                await data.WriteLineAsync(CsvLine(header));
                await rejectsFile.WriteLineAsync("row,column,reason");
                async Task HandleAsync(long row, string[] fields, (string? Column, string Reason)? readProblem)
                {
                    read++;
                    var problem = readProblem ?? Check(fields, schema, labelIndex, header.Length);
                    if (problem is null)
                    {
                        accepted++;
                        for (var i = 0; i < profilers.Length; i++)
                        {
                            profilers[i].Add(fields[i]);
                        }

                        await data.WriteLineAsync(CsvLine(fields));
                        return;
                    }

                    rejected++;
                    var reject = new RejectedRow(row, problem.Value.Column, problem.Value.Reason);
                    if (rejects.Count < KeptRejects)
                    {
                        rejects.Add(reject);
                    }

                    var key = reject.Column ?? "(row)";
                    rejectsByColumn[key] = rejectsByColumn.TryGetValue(key, out var seen) ? (seen.Count + 1, seen.First) : (1, reject);
                    await rejectsFile.WriteLineAsync(CsvLine([row.ToString(System.Globalization.CultureInfo.InvariantCulture), reject.Column ?? string.Empty, reject.Reason]));
                }

                foreach (var (row, fields, problem) in sample)
                {
                    await HandleAsync(row, fields, problem);
                }

                while (await reader.ReadAsync(cancellationToken) is { } fields)
                {
                    await HandleAsync(reader.Row, fields, reader.RecordProblem);
                }
            }

            CheckRejectedShare(file, options, read, rejected, rejectsByColumn);
            var profile = profilers.Select(p => p.Build()).ToList();
            CheckLabel(file, options, schema, profile, labelIndex);

            var sourceSha256 = hashing.Finish();
            var id = SnapshotId(sourceSha256, options);
            var snapshot = new DatasetSnapshot(id, sourceSha256, file, schema, read, accepted, rejected, profile, rejects, time.GetUtcNow());
            return await StoreAsync(snapshot, dataPath, rejectsPath, cancellationToken);
        }
        finally
        {
            File.Delete(dataPath);
            File.Delete(rejectsPath);
        }
    }

    /// <summary>A stored snapshot by its id, or null.</summary>
    public async Task<DatasetSnapshot?> GetAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (!SnapshotIdPattern().IsMatch(id))
        {
            throw new ArgumentException($"'{id}' is not a snapshot id (64 hex digits).", nameof(id));
        }

        try
        {
            var content = (await snapshots.GetBlobClient($"snapshots/{id}/snapshot.json").DownloadContentAsync(cancellationToken)).Value.Content;
            return content.ToObjectFromJson<DatasetSnapshot>(Json);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <summary>Opens a snapshot's accepted rows (<c>data.csv</c>, with its header) for reading.</summary>
    public Task<Stream> OpenDataAsync(DatasetSnapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return snapshots.GetBlobClient(snapshot.Prefix + "data.csv").OpenReadAsync(new BlobOpenReadOptions(allowModifications: false), cancellationToken);
    }

    private async Task<DatasetSnapshot> StoreAsync(DatasetSnapshot snapshot, string dataPath, string rejectsPath, CancellationToken cancellationToken)
    {
        await snapshots.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var manifest = snapshots.GetBlobClient(snapshot.Prefix + "snapshot.json");
        if (await manifest.ExistsAsync(cancellationToken))
        {
            // Same bytes and options: the snapshot exists and is immutable.
            return (await manifest.DownloadContentAsync(cancellationToken)).Value.Content.ToObjectFromJson<DatasetSnapshot>(Json)!;
        }

        await snapshots.GetBlobClient(snapshot.Prefix + "data.csv").UploadAsync(dataPath, overwrite: true, cancellationToken);
        await snapshots.GetBlobClient(snapshot.Prefix + "rejects.csv").UploadAsync(rejectsPath, overwrite: true, cancellationToken);
        await snapshots.GetBlobClient(snapshot.Prefix + "profile.json").UploadAsync(BinaryData.FromObjectAsJson(snapshot.Profile, Json), overwrite: true, cancellationToken);
        try
        {
            await manifest.UploadAsync(BinaryData.FromObjectAsJson(snapshot, Json), new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Written by a concurrent ingest of the same data: the same snapshot.
        }

        return snapshot;
    }

    private static void CheckHeader(string file, string[] header, string? label)
    {
        for (var i = 0; i < header.Length; i++)
        {
            if (header[i].Length == 0)
            {
                throw new DatasetValidationException(file, $"{file}, row 1: column {i + 1} has no name.", 1);
            }
        }

        var duplicate = header.GroupBy(h => h, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new DatasetValidationException(file, $"{file}, row 1: column '{duplicate.Key}' appears {duplicate.Count()} times in the header.", 1, duplicate.Key);
        }

        if (label is not null && !header.Contains(label, StringComparer.OrdinalIgnoreCase))
        {
            throw new DatasetValidationException(file, $"{file}, row 1: the label column '{label}' is not in the header ({string.Join(", ", header)}).", 1, label);
        }
    }

    private static (string? Column, string Reason)? Check(string[] fields, DatasetSchema schema, int labelIndex, int width)
    {
        if (fields.Length != width)
        {
            return (null, $"{fields.Length} fields where the header has {width}");
        }

        if (labelIndex >= 0 && ValueParser.IsMissing(fields[labelIndex]))
        {
            return (schema.Columns[labelIndex].Name, "the label is missing");
        }

        for (var i = 0; i < fields.Length; i++)
        {
            var kind = schema.Columns[i].Kind;
            if (!ValueParser.IsMissing(fields[i]) && !ValueParser.Fits(fields[i].Trim(), kind))
            {
                return (schema.Columns[i].Name, $"'{Truncate(fields[i])}' is not {Article(kind)}");
            }
        }

        return null;
    }

    private static void CheckRejectedShare(string file, IngestOptions options, long read, long rejected, Dictionary<string, (long Count, RejectedRow First)> byColumn)
    {
        if (read == 0)
        {
            throw new DatasetValidationException(file, $"{file}: the file has a header but no rows.", 2);
        }

        if ((double)rejected / read <= options.MaxRejectedFraction)
        {
            return;
        }

        var (column, (count, first)) = byColumn.OrderByDescending(c => c.Value.Count).First();
        throw new DatasetValidationException(
            file,
            $"{file}: {rejected} of {read} rows ({(double)rejected / read:P0}) are rejected, over the {options.MaxRejectedFraction:P0} allowed. " +
            $"Most of them are for {(column == "(row)" ? "their field count" : $"column '{column}'")} ({count} rows); the first is row {first.Row}: {first.Reason}.",
            first.Row,
            column == "(row)" ? null : column);
    }

    private static void CheckLabel(string file, IngestOptions options, DatasetSchema schema, List<ColumnProfile> profile, int labelIndex)
    {
        if (labelIndex < 0)
        {
            return;
        }

        var label = profile[labelIndex];
        var classification = options.LabelIsClassification ?? label.Kind is ColumnKind.Boolean or ColumnKind.Categorical or ColumnKind.Text;
        if (classification && label.Distinct < 2)
        {
            var only = label.TopValues is { Count: > 0 } top ? $" ('{top[0].Value}')" : string.Empty;
            throw new DatasetValidationException(file, $"{file}: the label column '{schema.Columns[labelIndex].Name}' has a single class{only}; a classifier needs at least two.", null, schema.Columns[labelIndex].Name);
        }
    }

    private static string SnapshotId(string sourceSha256, IngestOptions options)
    {
        var canonical = JsonSerializer.Serialize(new
        {
            source = sourceSha256,
            label = options.Label,
            schema = options.Schema?.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}:{p.Value}"),
            options.MaxRejectedFraction,
            options.LabelIsClassification,
        });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial System.Text.RegularExpressions.Regex SnapshotIdPattern();

    private static string CsvLine(IEnumerable<string> fields) => CsvText.Line(fields);

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40] + "…";

    private static string Article(ColumnKind kind) => kind switch
    {
        ColumnKind.Numeric => "a number",
        ColumnKind.Boolean => "a boolean",
        ColumnKind.DateTime => "a date",
        _ => "text",
    };

    /// <summary>Reads through to the wrapped stream and hashes every byte that passes.</summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        /// <summary>The hash of everything read, reading what is left first.</summary>
        public string Finish()
        {
            var buffer = new byte[81920];
            while (Read(buffer, 0, buffer.Length) > 0)
            {
            }

            return Convert.ToHexStringLower(_hash.GetHashAndReset());
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            _hash.AppendData(buffer, offset, read);
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            _hash.AppendData(buffer.Span[..read]);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
