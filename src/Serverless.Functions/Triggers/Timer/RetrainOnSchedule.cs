using System.Globalization;
using System.Text.Json;
using Azure;
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
/// retrain policy weighs the version's age, the drift of its latest scored batch, and the decay of its primary metric
/// on that batch when it carried the label (against the cross-validated value at training); a training run on the same
/// dataset blob (its current content) and label starts when the policy says so, with its reasons as the description.
/// One run per model and schedule slot: the run id is derived from both.
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

                if (await RetrainAsync(client, version, decision, $"{model.Name}-{slot}-retrain", cancellationToken))
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
        var snapshot = await store.Ingestor.GetAsync(version.DatasetSnapshotId, cancellationToken);
        var prefix = PipelineOptions.DatasetsContainer + "/";
        if (snapshot is null || !snapshot.Source.StartsWith(prefix, StringComparison.Ordinal))
        {
            logger.LogWarning("Model {Model} v{Version} should retrain ({Reasons}) but its dataset is unknown (snapshot {SnapshotId}); start a training run for it", version.Name, version.Version, string.Join("; ", decision.Reasons), version.DatasetSnapshotId);
            return false;
        }

        if (await client.GetInstanceAsync(runId, cancellationToken) is not null)
        {
            return false;
        }

        var request = new TrainingRequest(version.Name, snapshot.Source[prefix.Length..], version.Plan.Label, version.Plan.Task, PromoteTo: options.Value.ServingAlias, Description: "Retrain: " + string.Join("; ", decision.Reasons));
        await client.ScheduleNewOrchestrationInstanceAsync(nameof(TrainModelOrchestrator.TrainModel), request, new StartOrchestrationOptions(runId), cancellationToken);
        logger.LogInformation("Retraining {Model} (serving v{Version}) as run {RunId}: {Reasons}", version.Name, version.Version, runId, string.Join("; ", decision.Reasons));
        return true;
    }
}
