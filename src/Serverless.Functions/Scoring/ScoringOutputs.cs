using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Functions.Hosting;
using Serverless.Functions.Training;
using Serverless.Pipeline;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Monitoring;
using Serverless.Pipeline.Scoring;
using Serverless.Storage;

namespace Serverless.Functions.Scoring;

/// <summary>The <c>summary.json</c> written for each scoring input.</summary>
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
    IReadOnlyDictionary<string, double>? Metrics,
    string? RunId = null);

/// <summary>A scoring input and its summary, with the routes of its outputs.</summary>
public sealed record ScoringJob(string Name, ScoringSummary Summary)
{
    /// <summary>Where the summary is served.</summary>
    public string SummaryUrl => $"/api/scoring/results/{Name}";

    /// <summary>Where the predictions are served, once scored with rows.</summary>
    public string? PredictionsUrl => Summary.Predictions is null ? null : $"/api/scoring/results/{Name}?file=predictions.csv";

    /// <summary>Where the error rows are served.</summary>
    public string? ErrorsUrl => Summary.Errors is null ? null : $"/api/scoring/results/{Name}?file=errors.csv";
}

/// <summary>
/// What scoring writes besides predictions, whether a file is scored in the blob trigger or fanned out over
/// activities: the summary per input, and the monitoring of each scored batch (drift from the training data, and
/// the model's metrics when the batch carries the label), which the retrain schedule reads.
/// </summary>
public sealed class ScoringOutputs(PipelineStore store, StorageClientFactory clients, IOptions<PipelineOptions> options, TimeProvider time, ILogger<ScoringOutputs> logger)
{
    /// <summary>How many rows of a batch are profiled and evaluated for monitoring.</summary>
    public const int MonitoredRows = 50_000;

    /// <summary>The scoring output container.</summary>
    public BlobContainerClient Container { get; } = clients.GetBlobServiceClient().GetBlobContainerClient(options.Value.ScoringOutputContainer);

    /// <summary>A summary from what was found and done.</summary>
    public static ScoringSummary Summarize(string file, ETag etag, long bytes, string status, string? model, int? version, BlobScoringResult? result, string? problem, DriftReport? monitoring, string? runId = null)
    {
        var counts = result?.Counts ?? new ScoringCounts(0, 0, 0, TimeSpan.Zero);
        return new ScoringSummary(
            file, etag.ToString().Trim('"'), bytes, status, model, version, result?.Columns ?? [], counts.RowsIn, counts.RowsScored, counts.RowsRejected,
            Math.Round(counts.Duration.TotalSeconds, 3), result?.Predictions, result?.Errors, problem is not null ? [problem] : result?.Problems ?? [], monitoring?.Drift, monitoring?.Metrics, runId);
    }

    /// <summary>Writes <c>{name}/summary.json</c> and logs the outcome once.</summary>
    public async Task WriteSummaryAsync(string name, ScoringSummary summary, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(summary);
        await Container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await Container.GetBlobClient($"{name}/summary.json").UploadAsync(BinaryData.FromObjectAsJson(summary, PipelineJson.Indented), overwrite: true, cancellationToken);
        logger.LogInformation(
            "Input {Input}: {Status} by {Model} v{Version}, {RowsIn} rows in, {RowsScored} scored, {RowsRejected} rejected in {Seconds} s; summary at {Container}/{Name}/summary.json",
            summary.Input, summary.Status, summary.Model, summary.ModelVersion, summary.RowsIn, summary.RowsScored, summary.RowsRejected, summary.DurationSeconds, Container.Name, name);
    }

    /// <summary>Deletes what unfinished attempts left of an input's parts (<c>{name}/parts/</c>); the number deleted.</summary>
    public async Task<int> DeletePartsAsync(string name, CancellationToken cancellationToken)
    {
        var deleted = 0;
        await foreach (var blob in Container.GetBlobsAsync(new GetBlobsOptions { Prefix = $"{name}/parts/" }, cancellationToken))
        {
            deleted += await Container.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: cancellationToken) ? 1 : 0;
        }

        return deleted;
    }

    /// <summary>
    /// The summaries of a model's inputs (<c>{model}/...</c> and pinned <c>{model}@{version}/...</c>), a page of blob
    /// listing at a time: the page's summaries (possibly fewer than asked) and the continuation.
    /// </summary>
    public async Task<(IReadOnlyList<ScoringJob> Jobs, string? Continuation)> ListJobsAsync(
        string model,
        int pageSize,
        string? continuation,
        CancellationToken cancellationToken)
    {
        await Container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await foreach (var page in Container.GetBlobsAsync(new GetBlobsOptions { Prefix = model }, cancellationToken).AsPages(continuation, pageSize * 4))
        {
            var names = page.Values.Select(b => b.Name)
                .Where(n => n.EndsWith("/summary.json", StringComparison.Ordinal) && (n.StartsWith($"{model}/", StringComparison.Ordinal) || n.StartsWith($"{model}@", StringComparison.Ordinal)))
                .Select(n => n[..^"/summary.json".Length]);
            var jobs = await Task.WhenAll(names.Select(async n => (Name: n, Summary: await ReadSummaryAsync(n, cancellationToken))));
            return ([.. jobs.Where(j => j.Summary is not null).Select(j => new ScoringJob(j.Name, j.Summary!))], page.ContinuationToken);
        }

        return ([], null);
    }

    /// <summary>A model's drift reports, oldest first, a page at a time.</summary>
    public async Task<(IReadOnlyList<DriftReport> Reports, string? Continuation)> ListDriftAsync(
        string model,
        int pageSize,
        string? continuation,
        CancellationToken cancellationToken)
    {
        await Container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await foreach (var page in Container.GetBlobsAsync(new GetBlobsOptions { Prefix = DriftReport.HistoryPrefix(model) }, cancellationToken).AsPages(
            continuation,
            pageSize))
        {
            var reports = await Task.WhenAll(page.Values.Select(async b =>
                (await Container.GetBlobClient(b.Name).DownloadContentAsync(cancellationToken)).Value.Content.ToObjectFromJson<DriftReport>(PipelineJson.Options)));
            return ([.. reports.Where(r => r is not null)!], page.ContinuationToken);
        }

        return ([], null);
    }

    /// <summary>The summary of an input, or null when none was written yet.</summary>
    public async Task<ScoringSummary?> ReadSummaryAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return (await Container.GetBlobClient($"{name}/summary.json").DownloadContentAsync(cancellationToken)).Value.Content.ToObjectFromJson<ScoringSummary>(PipelineJson.Options);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <summary>
    /// Marks an input version as waiting (<c>pending</c>, after an upload) or being scored (<c>scoring</c>), so that a
    /// re-upload never leaves the previous version's summary standing: written only when the summary is not already
    /// about this version (or is its <c>pending</c> mark), with an ETag-conditional write, so it never overwrites the
    /// outcome of a scoring that got there first.
    /// </summary>
    public async Task MarkAsync(string name, string file, ETag etag, long bytes, string status, string? model, CancellationToken cancellationToken)
    {
        await Container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var blob = Container.GetBlobClient($"{name}/summary.json");
        var conditions = new BlobRequestConditions { IfNoneMatch = ETag.All };
        try
        {
            var current = (await blob.DownloadContentAsync(cancellationToken)).Value;
            if (current.Content.ToObjectFromJson<ScoringSummary>(PipelineJson.Options) is { } known && known.InputETag == etag.ToString().Trim('"')
                && !(known.Status == "pending" && status == "scoring"))
            {
                return;
            }

            conditions = new BlobRequestConditions { IfMatch = current.Details.ETag };
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }

        try
        {
            var summary = Summarize(file, etag, bytes, status, model, null, null, null, null);
            await blob.UploadAsync(BinaryData.FromObjectAsJson(summary, PipelineJson.Indented), new BlobUploadOptions { Conditions = conditions }, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // The summary changed since it was read: a scoring wrote it, and its word is the later one.
        }
    }

    /// <summary>
    /// Profiles the batch's model inputs (first <see cref="MonitoredRows"/> rows) against the training snapshot's
    /// profile and, when the batch carries the label, measures the model on it; adds the result to the model's drift
    /// history and keeps it as the latest report.
    /// </summary>
    public async Task<DriftReport?> MonitorAsync(BlobClient input, ETag etag, LoadedModel model, string file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(model);
        var version = model.Version;
        var snapshot = await store.Ingestor.GetAsync(version.DatasetSnapshotId, cancellationToken);
        if (snapshot is null)
        {
            logger.LogWarning("Model {Model} v{Version}: training snapshot {SnapshotId} is gone; drift not measured", version.Name, version.Version, version.DatasetSnapshotId);
            return null;
        }

        var read = new BlobOpenReadOptions(allowModifications: false) { Conditions = new BlobRequestConditions { IfMatch = etag } };
        IReadOnlyList<ColumnProfile> batch;
        await using (var content = await input.OpenReadAsync(read, cancellationToken))
        {
            batch = BatchProfiler.Profile(content, version.Signature.Inputs, MonitoredRows, snapshot.Profile);
        }

        IReadOnlyDictionary<string, double>? metrics;
        await using (var content = await input.OpenReadAsync(read, cancellationToken))
        {
            metrics = model.Batch.Evaluate(content, MonitoredRows);
        }

        var report = new DriftReport(version.Name, version.Version, file, time.GetUtcNow(), DriftDetector.Compare(snapshot.Profile, batch, version.Plan.Label, options.Value.DriftThresholds), metrics);
        var json = BinaryData.FromObjectAsJson(report, PipelineJson.Indented);
        await Container.GetBlobClient(report.HistoryBlobName(etag.ToString())).UploadAsync(json, overwrite: true, cancellationToken);
        await Container.GetBlobClient(DriftReport.BlobName(version.Name)).UploadAsync(json, overwrite: true, cancellationToken);
        return report;
    }
}
