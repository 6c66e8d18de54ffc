using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Sylvan.Data.Csv;

namespace Serverless.Pipeline.Scoring;

/// <summary>Whether a file was scored.</summary>
public enum BlobScoringStatus
{
    /// <summary>Every row was read: predictions for the good ones, errors for the rest.</summary>
    Scored,

    /// <summary>The file does not fit the model (missing input columns, no header); nothing was scored.</summary>
    Rejected,
}

/// <summary>What scoring a blob did, and where its outputs are.</summary>
public sealed record BlobScoringResult(
    BlobScoringStatus Status,
    IReadOnlyList<string> Columns,
    string? KeyColumn,
    ScoringCounts Counts,
    IReadOnlyList<string> Problems,
    string? Predictions,
    string? Errors);

/// <summary>
/// Scores a CSV blob with a loaded model, streaming: the header is checked against the model's signature first, then
/// the records flow through the <see cref="BatchScorer"/> into <c>{prefix}/predictions.csv</c> (row, key, prediction,
/// probability; left out for a summary-only output) and <c>{prefix}/errors.csv</c> (row, reason). The input is read under its ETag, so a file replaced
/// mid-read fails instead of mixing versions, and it is never changed.
/// </summary>
public static class BlobScoring
{
    private const int ReadBuffer = 4 * 1024 * 1024;

    /// <summary>
    /// A part's reads and writes: smaller than a whole file's, since an instance may run many parts at once (the
    /// Durable host runs up to ten activities per core), each on one core.
    /// </summary>
    private const int PartBuffer = 2 * 1024 * 1024;

    /// <summary>
    /// Scores <paramref name="input"/> (at <paramref name="etag"/>) into <paramref name="output"/> under
    /// <paramref name="prefix"/> in one streaming pass, on <paramref name="parallelism"/> cores (see <see cref="ScoringPipeline"/>).
    /// </summary>
    public static async Task<BlobScoringResult> ScoreAsync(BlobClient input, ETag etag, LoadedModel model, BlobContainerClient output, string prefix, CancellationToken cancellationToken, int parallelism = 1, bool rows = true)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(output);
        var conditions = new BlobRequestConditions { IfMatch = etag };
        var (header, headerLength, columns, problem) = await CheckAsync(input, etag, model, cancellationToken);
        if (problem is not null)
        {
            return new BlobScoringResult(BlobScoringStatus.Rejected, columns, null, new ScoringCounts(0, 0, 0, TimeSpan.Zero), [problem], null, null);
        }

        var key = KeyColumn(model, columns);
        var (predictionsBlob, errorsBlob) = (rows ? output.GetBlobClient($"{prefix}/predictions.csv") : null, output.GetBlobClient($"{prefix}/errors.csv"));
        await using var records = await input.OpenReadAsync(new BlobOpenReadOptions(allowModifications: false) { Conditions = conditions, Position = headerLength, BufferSize = ReadBuffer }, cancellationToken);
        var counts = await ScoreToAsync(records, model, header, 2, key, predictionsBlob, errorsBlob, withHeaders: true, parallelism, ReadBuffer, cancellationToken);
        return new BlobScoringResult(BlobScoringStatus.Scored, columns, key, counts, [], predictionsBlob?.Name, errorsBlob.Name);
    }

    /// <summary>
    /// Reads a blob's header (only as far as it must) and checks it against the model's signature: the header, its
    /// length in bytes, the column names, and the problem that stops scoring (an empty file, a missing input column),
    /// or null.
    /// </summary>
    public static async Task<(string Header, long HeaderLength, string[] Columns, string? Problem)> CheckAsync(BlobClient input, ETag etag, LoadedModel model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(model);
        var file = $"{input.BlobContainerName}/{input.Name}";
        string header;
        long headerLength;
        string[] columns;
        try
        {
            await using (var head = await input.OpenReadAsync(new BlobOpenReadOptions(allowModifications: false) { Conditions = new BlobRequestConditions { IfMatch = etag }, BufferSize = 64 * 1024 }, cancellationToken))
            {
                (header, headerLength) = CsvRanges.ReadHeader(head);
            }

            columns = header.Length == 0 ? [] : BatchScorer.ParseHeader(header);
        }
        catch (Exception ex) when (ex is FormatException or CsvFormatException)
        {
            return (string.Empty, 0, [], $"{file}, row 1: the header is not valid CSV ({ex.Message}); nothing was scored.");
        }

        var version = model.Version;
        var inputs = string.Join(", ", version.Signature.Inputs.Select(i => i.Name));
        var missing = version.Signature.MissingInputs(columns);
        var problem = columns.Length == 0 ? $"{file}: the file is empty; it needs a header row with the columns {inputs}."
            : missing.Count > 0 ? $"{file}, row 1: no column {string.Join(", ", missing.Select(m => $"'{m}'"))}, which model '{version.Name}' version {version.Version} needs (its inputs: {inputs})."
            : null;
        return (header, headerLength, columns, problem);
    }

    /// <summary>
    /// Cuts a blob into up to <paramref name="parts"/> ranges at record boundaries (one streaming pass), for workers
    /// that each score one range with <see cref="ScorePartAsync"/>.
    /// </summary>
    public static async Task<(string Header, IReadOnlyList<CsvRange> Ranges)> PlanPartsAsync(BlobClient input, ETag etag, int parts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        await using var content = await input.OpenReadAsync(new BlobOpenReadOptions(allowModifications: false) { Conditions = new BlobRequestConditions { IfMatch = etag }, BufferSize = ReadBuffer }, cancellationToken);
        return await Task.Run(() => CsvRanges.Split(content, parts), cancellationToken);
    }

    /// <summary>
    /// Scores one range into <c>{prefix}/parts/{index}/</c> (no header lines), for <see cref="MergeAsync"/> to join in
    /// order, on one core: the parts of a file run side by side, on this instance and others.
    /// </summary>
    public static async Task<ScoringCounts> ScorePartAsync(BlobClient input, ETag etag, LoadedModel model, string header, CsvRange range, BlobContainerClient output, string prefix, CancellationToken cancellationToken, bool rows = true)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(range);
        ArgumentNullException.ThrowIfNull(output);
        var key = KeyColumn(model, BatchScorer.ParseHeader(header));
        await using var content = await input.OpenReadAsync(new BlobOpenReadOptions(allowModifications: false) { Conditions = new BlobRequestConditions { IfMatch = etag }, Position = range.Offset, BufferSize = PartBuffer }, cancellationToken);
        await using var records = new BoundedStream(content, range.Length);
        return await ScoreToAsync(records, model, header, range.FirstRow, key, rows ? output.GetBlobClient(PartName(prefix, range.Index, "predictions.csv")) : null, output.GetBlobClient(PartName(prefix, range.Index, "errors.csv")), withHeaders: false, 1, PartBuffer, cancellationToken);
    }

    /// <summary>Joins the parts' outputs in range order into <c>{prefix}/predictions.csv</c> and <c>errors.csv</c>, with headers, and deletes the parts.</summary>
    public static async Task<(string? Predictions, string Errors)> MergeAsync(LoadedModel model, string header, int parts, BlobContainerClient output, string prefix, CancellationToken cancellationToken, bool rows = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(output);
        var key = KeyColumn(model, BatchScorer.ParseHeader(header));
        var files = rows ? new[] { ("predictions.csv", model.Batch.PredictionHeader(key)), ("errors.csv", "row,reason") } : [("errors.csv", "row,reason")];
        foreach (var (file, firstLine) in files)
        {
            await using var merged = await output.GetBlobClient($"{prefix}/{file}").OpenWriteAsync(overwrite: true, new BlobOpenWriteOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv" }, BufferSize = ReadBuffer }, cancellationToken);
            await merged.WriteAsync(Encoding.UTF8.GetBytes(firstLine + "\n"), cancellationToken);
            for (var i = 0; i < parts; i++)
            {
                var part = output.GetBlobClient(PartName(prefix, i, file));
                await using (var content = await part.OpenReadAsync(new BlobOpenReadOptions(allowModifications: false) { BufferSize = ReadBuffer }, cancellationToken))
                {
                    await content.CopyToAsync(merged, cancellationToken);
                }

                await part.DeleteIfExistsAsync(cancellationToken: cancellationToken);
            }
        }

        return (rows ? $"{prefix}/predictions.csv" : null, $"{prefix}/errors.csv");
    }

    /// <summary>The key column of the prediction lines: the first column the plan dropped as an identifier that the input has.</summary>
    private static string? KeyColumn(LoadedModel model, IReadOnlyCollection<string> columns) =>
        model.Version.Plan.Dropped.FirstOrDefault(d => columns.Contains(d, StringComparer.OrdinalIgnoreCase));

    private static string PartName(string prefix, int index, string file) => $"{prefix}/parts/{index:D5}/{file}";

    /// <summary>
    /// Scores into the two blobs, committed only when every record is done; without a predictions blob only the counts
    /// and errors are kept (the summary-only output).
    /// </summary>
    private static async Task<ScoringCounts> ScoreToAsync(
        Stream records,
        LoadedModel model,
        string header,
        long firstRow,
        string? key,
        BlobClient? predictionsBlob,
        BlobClient errorsBlob,
        bool withHeaders,
        int parallelism,
        int blockBytes,
        CancellationToken cancellationToken)
    {
        static BlockBlobClient Block(BlobClient blob) => blob.GetParentBlobContainerClient().GetBlockBlobClient(blob.Name);
        await using var predictions = predictionsBlob is null ? null : new BlockBlobSink(Block(predictionsBlob), "text/csv", blockBytes);
        await using var errors = new BlockBlobSink(Block(errorsBlob), "text/csv", 256 * 1024, 1);
        var rows = (Stream?)predictions ?? Stream.Null;
        if (withHeaders)
        {
            await rows.WriteAsync(Encoding.UTF8.GetBytes(model.Batch.PredictionHeader(key) + "\n"), cancellationToken);
            await errors.WriteAsync("row,reason\n"u8.ToArray(), cancellationToken);
        }

        var counts = await model.Batch.ScoreAsync(records, header, firstRow, key, rows, errors, parallelism, cancellationToken);
        await Task.WhenAll(predictions?.CompleteAsync(cancellationToken) ?? Task.CompletedTask, errors.CompleteAsync(cancellationToken));
        return counts;
    }
}
