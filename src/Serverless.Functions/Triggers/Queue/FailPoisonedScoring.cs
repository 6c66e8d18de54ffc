using Azure;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Serverless.Functions.Hosting;
using Serverless.Functions.Scoring;
using Serverless.Functions.Triggers.Blob;
using Serverless.Storage;

namespace Serverless.Functions.Triggers.Queue;

/// <summary>
/// The message the Functions host puts on <c>webjobs-blobtrigger-poison</c> when a blob failed its function on every
/// attempt (including attempts that ended with the process).
/// </summary>
public sealed record PoisonedBlob(string? Type, string? FunctionId, string? BlobType, string? ContainerName, string? BlobName, string? ETag);

/// <summary>
/// A scoring input that failed <c>ScoreOnBlobDrop</c> on every attempt ends with a <c>failed</c> summary saying so,
/// instead of a summary left at <c>scoring</c> forever, and what its attempts left of parts is deleted. The input is
/// kept; uploading it again scores it again.
/// </summary>
public sealed class FailPoisonedScoring(StorageClientFactory clients, ScoringOutputs outputs, ILogger<FailPoisonedScoring> logger)
{
    /// <summary>The queue the host moves a blob to after its last attempt.</summary>
    public const string PoisonQueue = "webjobs-blobtrigger-poison";

    /// <summary>Writes the <c>failed</c> summary of a poisoned scoring input; other poisoned blobs are not this function's.</summary>
    [Function(nameof(FailPoisonedScoring))]
    public async Task RunAsync([QueueTrigger(PoisonQueue)] PoisonedBlob message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.FunctionId?.EndsWith($".{nameof(ScoreOnBlobDrop)}", StringComparison.Ordinal) != true
            || message.ContainerName != PipelineOptions.ScoringInputContainer
            || !BlobNameRules.IsSafeBlobName(message.BlobName))
        {
            return;
        }

        var name = message.BlobName!;
        var file = $"{PipelineOptions.ScoringInputContainer}/{name}";
        var etag = new ETag(message.ETag?.Trim('"') ?? string.Empty);
        long bytes = 0;
        try
        {
            var properties = (await clients.GetBlobServiceClient().GetBlobContainerClient(message.ContainerName).GetBlobClient(name)
                .GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            if (properties.ETag.ToString().Trim('"') != etag.ToString())
            {
                logger.LogInformation(
                    "Input {Input}: version {ETag} failed every attempt, but a newer version was uploaded since; its summary stands",
                    file,
                    etag);
                return;
            }

            bytes = properties.ContentLength;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // The input was deleted since; the summary still says what became of it.
        }

        var folder = name.Contains('/', StringComparison.Ordinal) ? name[..name.IndexOf('/', StringComparison.Ordinal)] : null;
        var problem = $"{file}: scoring failed on every attempt (the last ones ended with the worker process, or with an error in the log); " +
            "it was not scored and will not be retried. The input is kept: upload it again to retry, or split it if it is very large.";
        await outputs.DeletePartsAsync(name, cancellationToken);
        await outputs.WriteSummaryAsync(
            name,
            ScoringOutputs.Summarize(file, etag, bytes, "failed", folder?.Split('@')[0], null, null, problem, null),
            cancellationToken);
    }
}
