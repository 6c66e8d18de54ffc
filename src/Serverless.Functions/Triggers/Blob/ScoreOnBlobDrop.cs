using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Functions.Hosting;
using Serverless.Functions.Training;
using Serverless.Pipeline;
using Serverless.Pipeline.Monitoring;
using Serverless.Pipeline.Registry;
using Serverless.Pipeline.Scoring;
using Serverless.Storage;

namespace Serverless.Functions.Triggers.Blob;

/// <summary>
/// A CSV dropped at <c>score-in/{model}/{file}.csv</c> is scored with the model's serving-alias version (champion by
/// default), streaming: <c>score-out/{model}/{file}.csv/predictions.csv</c> (row, key, prediction, probability),
/// <c>errors.csv</c> (row, reason) and <c>summary.json</c> (counts, duration, model version, problems). The input is
/// read under its ETag and never changed. A file the model cannot take (no such model, missing columns) gets a
/// summary with status <c>rejected</c> and the reason, not a retry.
/// </summary>
public sealed class ScoreOnBlobDrop(ModelCache models, PipelineStore store, StorageClientFactory clients, IOptions<PipelineOptions> options, TimeProvider time, ILogger<ScoreOnBlobDrop> logger)
{
    /// <summary>How many rows of a batch are profiled to measure drift.</summary>
    public const int MonitoredRows = 50_000;

    private static readonly JsonSerializerOptions SummaryJson = PipelineJson.Indented;

    /// <summary>Handles one new or changed input blob. Event Grid is the source in Azure (Flex Consumption needs it); locally the runtime lists the container.</summary>
    [Function(nameof(ScoreOnBlobDrop))]
    public async Task RunAsync(
        [BlobTrigger(PipelineOptions.ScoringInputContainer + "/{name}", Source = BlobTriggerSource.EventGrid)] BlobClient input,
        string name,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var file = $"{PipelineOptions.ScoringInputContainer}/{name}";
        if (!BlobNameRules.IsSafeBlobName(name))
        {
            throw new InvalidInputNameException(file);
        }

        var properties = (await input.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        var alias = options.Value.ServingAlias;
        var modelName = name.Contains('/', StringComparison.Ordinal) ? name[..name.IndexOf('/', StringComparison.Ordinal)] : null;
        BlobScoringResult? result = null;
        LoadedModel? model = null;
        string? problem = null;
        if (!name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            problem = $"{file}: only .csv files are scored.";
        }
        else if (modelName is null)
        {
            problem = $"{file}: put files under {PipelineOptions.ScoringInputContainer}/{{model}}/ so the model that scores them is known.";
        }
        else
        {
            try
            {
                model = await models.GetByAliasAsync(modelName, alias, cancellationToken);
                problem = model is null ? $"{file}: model '{modelName}' has no '{alias}' version; train one with POST /api/training." : null;
            }
            catch (Exception ex) when (ex is ModelRegistryConflictException or ArgumentException)
            {
                problem = $"{file}: model '{modelName}' cannot serve: {ex.Message}";
            }
        }

        var output = clients.GetBlobServiceClient().GetBlobContainerClient(options.Value.ScoringOutputContainer);
        await output.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        DriftReport? monitoring = null;
        if (model is not null)
        {
            result = await BlobScoring.ScoreAsync(input, properties.ETag, model, output, name, cancellationToken, parallelism: Environment.ProcessorCount);
            if (result.Status == BlobScoringStatus.Scored)
            {
                monitoring = await MonitorAsync(input, properties.ETag, model, file, output, cancellationToken);
            }
        }

        var counts = result?.Counts ?? new ScoringCounts(0, 0, 0, TimeSpan.Zero);
        var summary = new ScoringSummary(
            Input: file,
            InputETag: properties.ETag.ToString().Trim('"'),
            InputBytes: properties.ContentLength,
            Status: result?.Status == BlobScoringStatus.Scored ? "scored" : "rejected",
            Model: modelName,
            ModelVersion: model?.Version.Version,
            Columns: result?.Columns ?? [],
            RowsIn: counts.RowsIn,
            RowsScored: counts.RowsScored,
            RowsRejected: counts.RowsRejected,
            DurationSeconds: Math.Round(counts.Duration.TotalSeconds, 3),
            Predictions: result?.Predictions,
            Errors: result?.Errors,
            Problems: problem is not null ? [problem] : result?.Problems ?? [],
            Drift: monitoring?.Drift,
            Metrics: monitoring?.Metrics);
        await output.GetBlobClient($"{name}/summary.json").UploadAsync(BinaryData.FromObjectAsJson(summary, SummaryJson), overwrite: true, cancellationToken);
        logger.LogInformation(
            "Input {Input}: {Status} by {Model} v{Version}, {RowsIn} rows in, {RowsScored} scored, {RowsRejected} rejected in {Seconds} s; summary at {Container}/{Name}/summary.json",
            file, summary.Status, summary.Model, summary.ModelVersion, summary.RowsIn, summary.RowsScored, summary.RowsRejected, summary.DurationSeconds, options.Value.ScoringOutputContainer, name);
    }

    /// <summary>The <c>summary.json</c> written for each input.</summary>
    public sealed record ScoringSummary(
        string Input,
        string InputETag,
        long InputBytes,
        string Status,
        string? Model,
        int? ModelVersion,
        IReadOnlyList<string> Columns,
        long RowsIn,
        long RowsScored,
        long RowsRejected,
        double DurationSeconds,
        string? Predictions,
        string? Errors,
        IReadOnlyList<string> Problems,
        IReadOnlyList<ColumnDrift>? Drift,
        IReadOnlyDictionary<string, double>? Metrics);

    /// <summary>
    /// Profiles the batch's model inputs (first <see cref="MonitoredRows"/> rows) against the training snapshot's
    /// profile and, when the batch carries the label, measures the model on it; keeps the result as the model's latest
    /// monitoring report, which the retrain schedule reads.
    /// </summary>
    private async Task<DriftReport?> MonitorAsync(BlobClient input, Azure.ETag etag, LoadedModel model, string file, BlobContainerClient output, CancellationToken cancellationToken)
    {
        var version = model.Version;
        var snapshot = await store.Ingestor.GetAsync(version.DatasetSnapshotId, cancellationToken);
        if (snapshot is null)
        {
            logger.LogWarning("Model {Model} v{Version}: training snapshot {SnapshotId} is gone; drift not measured", version.Name, version.Version, version.DatasetSnapshotId);
            return null;
        }

        var read = new Azure.Storage.Blobs.Models.BlobOpenReadOptions(allowModifications: false) { Conditions = new Azure.Storage.Blobs.Models.BlobRequestConditions { IfMatch = etag } };
        IReadOnlyList<Serverless.Pipeline.Data.ColumnProfile> batch;
        await using (var content = await input.OpenReadAsync(read, cancellationToken))
        {
            batch = BatchProfiler.Profile(content, version.Signature.Inputs, MonitoredRows);
        }

        IReadOnlyDictionary<string, double>? metrics;
        await using (var content = await input.OpenReadAsync(read, cancellationToken))
        {
            metrics = model.Batch.Evaluate(content, MonitoredRows);
        }

        var report = new DriftReport(version.Name, version.Version, file, time.GetUtcNow(), DriftDetector.Compare(snapshot.Profile, batch, version.Plan.Label), metrics);
        await output.GetBlobClient(DriftReport.BlobName(version.Name)).UploadAsync(BinaryData.FromObjectAsJson(report, SummaryJson), overwrite: true, cancellationToken);
        return report;
    }
}

/// <summary>An input blob's name could be used to write outside its own output folder.</summary>
public sealed class InvalidInputNameException(string file)
    : InvalidOperationException($"{file}: the blob name has a '.' or '..' segment, a backslash or control characters; it is not processed.")
{
}
