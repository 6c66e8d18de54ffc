using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Functions.Hosting;
using Serverless.Functions.Training;
using Serverless.Functions.Triggers.Durable;
using Serverless.Pipeline;
using Serverless.Pipeline.Monitoring;
using Serverless.Pipeline.Registry;
using Serverless.Pipeline.Training;
using Serverless.Storage;

namespace Serverless.Functions.Triggers.Timer;

/// <summary>
/// The retraining schedule (<c>%RetrainSchedule%</c>, UTC NCRONTAB): for every model with a serving version, the
/// retrain policy weighs the version's age, the major drift of its latest scored batch, and the decay of its primary
/// metric on that batch when it carried the label (against the cross-validated value at training). When the policy
/// says so, the training request that produced the version (kept with its run) is replayed on the dataset's current
/// content: same label, task, positive class, sweep, early termination and folds. A dataset whose content is the
/// version's snapshot has nothing new to learn from, so nothing starts. One run per model and schedule slot (the run id
/// <c>retrain-{slot}-{model}</c>), and at most <c>Pipeline__MaxConcurrentRetrains</c> retrains at once.
/// </summary>
public sealed class RetrainOnSchedule(PipelineStore store, StorageClientFactory clients, IOptions<PipelineOptions> options, TimeProvider time, ILogger<RetrainOnSchedule> logger)
{
    private static readonly JsonSerializerOptions Json = PipelineJson.Options;

    /// <summary>Runs once per schedule occurrence, on one host at a time.</summary>
    [Function(nameof(RetrainOnSchedule))]
    public async Task RunAsync([TimerTrigger("%RetrainSchedule%")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        ArgumentNullException.ThrowIfNull(client);
        await store.EnsureCreatedAsync(cancellationToken);
        var settings = options.Value;
        var policy = new RetrainPolicy(TimeSpan.FromDays(settings.RetrainMaxModelAgeDays));
        var now = time.GetUtcNow();
        var slot = now.UtcDateTime.ToString("yyyyMMdd'T'HHmm'Z'", CultureInfo.InvariantCulture);
        var (seen, started) = (0, 0);
        var running = await RunningRetrainsAsync(client, cancellationToken);
        string? token = null;
        do
        {
            var (models, next) = await store.Registry.ListModelsAsync(null, null, 100, token, cancellationToken);
            token = next;
            foreach (var model in models)
            {
                if (!model.Aliases.TryGetValue(settings.ServingAlias, out var serving) || await store.Registry.GetVersionAsync(model.Name, serving, cancellationToken) is not { } version)
                {
                    continue;
                }

                seen++;
                var latest = await LatestReportAsync(version, cancellationToken);
                var primary = TrialRunner.PrimaryMetric(version.Plan.Task);
                double? atTraining = version.Metrics.TryGetValue($"cv_{primary}", out var cv) ? cv : version.Metrics.TryGetValue(primary, out var holdout) ? holdout : null;
                double? measuredNow = latest?.Metrics is { } measured && measured.TryGetValue(primary, out var value) ? value : null;
                var decision = policy.Decide(version.CreatedAt, now, latest?.Drift ?? [], atTraining, measuredNow, TrialRunner.Goal(primary));
                if (!decision.Retrain)
                {
                    continue;
                }

                if (running + started >= settings.MaxConcurrentRetrains)
                {
                    logger.LogWarning(
                        "Model {Model} v{Version} should retrain ({Reasons}), but {Running} retrains already run (Pipeline:MaxConcurrentRetrains {Max}); the next slot retries",
                        version.Name, version.Version, string.Join("; ", decision.Reasons), running + started, settings.MaxConcurrentRetrains);
                    continue;
                }

                if (await RetrainAsync(client, version, decision, $"retrain-{slot}-{model.Name}", cancellationToken))
                {
                    started++;
                }
            }
        }
        while (token is not null);

        logger.LogInformation(
            "Retrain schedule (past due: {IsPastDue}): {Models} serving models checked, {Started} retraining runs started",
            timer.IsPastDue, seen, started);
    }

    /// <summary>Retrains started by earlier slots that have not finished.</summary>
    private static async Task<int> RunningRetrainsAsync(DurableTaskClient client, CancellationToken cancellationToken)
    {
        var query = new OrchestrationQuery { InstanceIdPrefix = "retrain-", Statuses = [OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running] };
        var count = 0;
        await foreach (var _ in client.GetAllInstancesAsync(query).WithCancellation(cancellationToken))
        {
            count++;
        }

        return count;
    }

    /// <summary>The monitoring report of the latest batch scored by this very version; null when there is no such batch.</summary>
    private async Task<DriftReport?> LatestReportAsync(ModelVersion version, CancellationToken cancellationToken)
    {
        var blob = clients.GetBlobServiceClient().GetBlobContainerClient(options.Value.ScoringOutputContainer).GetBlobClient(DriftReport.BlobName(version.Name));
        try
        {
            var report = (await blob.DownloadContentAsync(cancellationToken)).Value.Content.ToObjectFromJson<DriftReport>(Json);
            return report is not null && report.Version == version.Version ? report : null;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    private async Task<bool> RetrainAsync(DurableTaskClient client, ModelVersion version, RetrainDecision decision, string runId, CancellationToken cancellationToken)
    {
        var reasons = string.Join("; ", decision.Reasons);
        var snapshot = await store.Ingestor.GetAsync(version.DatasetSnapshotId, cancellationToken);
        var trainedBy = await TrainedRequestAsync(version);

        // Snapshots are content-addressed: one may come from several blobs of the same content, and its Source names
        // the first. The dataset of this version is the one its request named.
        var prefix = PipelineOptions.DatasetsContainer + "/";
        var dataset = trainedBy?.Dataset ?? (snapshot?.Source.StartsWith(prefix, StringComparison.Ordinal) == true ? snapshot.Source[prefix.Length..] : null);
        if (snapshot is null || dataset is null)
        {
            logger.LogWarning("Model {Model} v{Version} should retrain ({Reasons}) but its dataset is unknown (snapshot {SnapshotId}); start a training run for it", version.Name, version.Version, reasons, version.DatasetSnapshotId);
            return false;
        }

        var current = await ContentSha256Async(dataset, cancellationToken);
        if (current is null || string.Equals(current, snapshot.SourceSha256, StringComparison.OrdinalIgnoreCase))
        {
            logger.LogInformation(
                "Model {Model} v{Version}: {Reasons}; no retrain: {Why}", version.Name, version.Version, reasons,
                current is null ? $"the dataset {prefix}{dataset} is gone" : $"no new data ({prefix}{dataset} is unchanged since snapshot {snapshot.Id[..12]})");
            return false;
        }

        if (await client.GetInstanceAsync(runId, cancellationToken) is not null)
        {
            return false;
        }

        var replayed = trainedBy ?? new TrainingRequest(version.Name, dataset, version.Plan.Label, version.Plan.Task, PositiveClass: version.Plan.PositiveClass);
        var request = replayed with { Model = version.Name, Dataset = dataset, PromoteTo = options.Value.ServingAlias, Description = "Retrain: " + reasons };
        await client.ScheduleNewOrchestrationInstanceAsync(nameof(TrainModelOrchestrator.TrainModel), request, new StartOrchestrationOptions(runId), cancellationToken);
        logger.LogInformation("Retraining {Model} (serving v{Version}) as run {RunId}, replaying run {TrainedBy}'s request: {Reasons}", version.Name, version.Version, runId, version.RunId, reasons);
        return true;
    }

    /// <summary>The request of the run that trained the version; null for versions registered before requests were kept.</summary>
    private async Task<TrainingRequest?> TrainedRequestAsync(ModelVersion version)
    {
        try
        {
            var blob = store.RunOutputs.GetBlobClient(TrainingRequest.BlobName(version.RunId));
            return (await blob.DownloadContentAsync()).Value.Content.ToObjectFromJson<TrainingRequest>(Json);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <summary>The SHA-256 of a dataset blob's current content (streamed), or null when it is gone.</summary>
    private async Task<string?> ContentSha256Async(string dataset, CancellationToken cancellationToken)
    {
        try
        {
            await using var content = await store.Datasets.GetBlobClient(dataset).OpenReadAsync(new BlobOpenReadOptions(allowModifications: false), cancellationToken);
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(content, cancellationToken));
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }
}
