using Azure;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Serverless.Functions.Hosting;
using Serverless.Functions.Scoring;
using Serverless.Pipeline.Scoring;
using Serverless.Storage;

namespace Serverless.Functions.Triggers.Durable;

/// <summary>
/// Scores a large file in parts over activities, so several instances share it: plan the byte ranges (record
/// boundaries, quote-aware) → score each range → merge the parts in input order, measure drift and write the summary.
/// Only references travel: the blob name and ETag, the model version, byte ranges and counts.
/// </summary>
public static class ScoreBatchOrchestrator
{
    private static readonly TaskOptions Retry = TaskOptions.FromRetryPolicy(new RetryPolicy(3, TimeSpan.FromSeconds(5), backoffCoefficient: 2));

    /// <summary>Scores one file.</summary>
    [Function(nameof(ScoreBatch))]
    public static async Task<ScoringCounts> ScoreBatch([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var input = context.GetInput<ScoreBatchInput>() ?? throw new InvalidOperationException("A scoring run needs a ScoreBatchInput input.");
        context.SetCustomStatus(new { stage = "planning", parts = input.Parts });
        ScoringPlan? plan = null;
        try
        {
            plan = await context.CallActivityAsync<ScoringPlan>(nameof(ScoringActivities.PlanScoring), input, Retry);
            context.SetCustomStatus(new { stage = "scoring", parts = plan.Ranges.Count });
            var counts = await Task.WhenAll(plan.Ranges.Select(range => context.CallActivityAsync<ScoringCounts>(nameof(ScoringActivities.ScorePart), new ScorePartInput(input, plan.Header, range), Retry)));
            context.SetCustomStatus(new { stage = "merging", parts = plan.Ranges.Count });
            await context.CallActivityAsync(nameof(ScoringActivities.FinishScoring), new FinishScoringInput(input, context.InstanceId, plan.Header, plan.Ranges.Count, counts, null), Retry);
            return ScoringCounts.Sum(counts);
        }
        catch (TaskFailedException ex)
        {
            var error = ex.FailureDetails.ErrorMessage;
            await context.CallActivityAsync(nameof(ScoringActivities.FinishScoring), new FinishScoringInput(input, context.InstanceId, plan?.Header ?? string.Empty, plan?.Ranges.Count ?? 0, [], error), Retry);
            throw new InvalidOperationException($"Scoring run {context.InstanceId} of {PipelineOptions.ScoringInputContainer}/{input.Name} failed: {error}");
        }
    }
}

/// <summary>The steps of <see cref="ScoreBatchOrchestrator"/>, each a thin call into <see cref="BlobScoring"/>.</summary>
public sealed class ScoringActivities(ModelCache models, ScoringOutputs outputs, StorageClientFactory clients, ILogger<ScoringActivities> logger)
{
    /// <summary>
    /// Parts scored at once in this process: one per core. A part runs on one core, so more at once add only memory (the
    /// Durable host runs up to ten activities per core); the parts waiting here hold their work items meanwhile.
    /// </summary>
    private static readonly SemaphoreSlim PartSlots = new(Environment.ProcessorCount);

    /// <summary>The header and byte ranges of the file (one streaming pass).</summary>
    [Function(nameof(PlanScoring))]
    public async Task<ScoringPlan> PlanScoring([ActivityTrigger] ScoreBatchInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (header, ranges) = await BlobScoring.PlanPartsAsync(Input(input), new ETag(input.ETag), input.Parts, cancellationToken);
        logger.LogInformation("Scoring {Name}: {Parts} parts planned", input.Name, ranges.Count);
        return new ScoringPlan(header, ranges);
    }

    /// <summary>Scores one byte range into <c>{name}/parts/{index}/</c>.</summary>
    [Function(nameof(ScorePart))]
    public async Task<ScoringCounts> ScorePart([ActivityTrigger] ScorePartInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var model = await models.GetAsync(input.Batch.Model, input.Batch.Version, cancellationToken);
        ScoringCounts counts;
        await PartSlots.WaitAsync(cancellationToken);
        try
        {
            counts = await BlobScoring.ScorePartAsync(Input(input.Batch), new ETag(input.Batch.ETag), model, input.Header, input.Range, outputs.Container, input.Batch.Name, cancellationToken, input.Batch.Rows);
        }
        finally
        {
            PartSlots.Release();
        }

        logger.LogInformation("Scoring {Name} part {Index}: {Rows} rows, {Rejected} rejected", input.Batch.Name, input.Range.Index, counts.RowsIn, counts.RowsRejected);
        return counts;
    }

    /// <summary>Merges the parts in order, measures the batch, and writes the summary (or the failure).</summary>
    [Function(nameof(FinishScoring))]
    public async Task FinishScoring([ActivityTrigger] FinishScoringInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var batch = input.Batch;
        var blob = Input(batch);
        var etag = new ETag(batch.ETag);
        var file = $"{PipelineOptions.ScoringInputContainer}/{batch.Name}";
        var bytes = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value.ContentLength;
        if (input.Error is not null)
        {
            await outputs.WriteSummaryAsync(batch.Name, ScoringOutputs.Summarize(file, etag, bytes, "failed", batch.Model, batch.Version, null, input.Error, null, input.RunId), cancellationToken);
            return;
        }

        var model = await models.GetAsync(batch.Model, batch.Version, cancellationToken);
        var (predictions, errors) = await BlobScoring.MergeAsync(model, input.Header, input.Parts, outputs.Container, batch.Name, cancellationToken, batch.Rows);
        var monitoring = await outputs.MonitorAsync(blob, etag, model, file, cancellationToken);
        var total = ScoringCounts.Sum(input.Counts);
        var result = new BlobScoringResult(BlobScoringStatus.Scored, BatchScorer.ParseHeader(input.Header), null, total with { Duration = input.Counts.Max(c => c.Duration) }, [], predictions, errors);
        await outputs.WriteSummaryAsync(batch.Name, ScoringOutputs.Summarize(file, etag, bytes, "scored", batch.Model, batch.Version, result, null, monitoring, input.RunId), cancellationToken);
    }

    private Azure.Storage.Blobs.BlobClient Input(ScoreBatchInput input) =>
        clients.GetBlobServiceClient().GetBlobContainerClient(PipelineOptions.ScoringInputContainer).GetBlobClient(input.Name);
}
