using System.Security.Cryptography;
using System.Text;
using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Functions.Hosting;
using Serverless.Functions.Scoring;
using Serverless.Functions.Triggers.Durable;
using Serverless.Pipeline.Registry;
using Serverless.Pipeline.Scoring;
using Serverless.Storage;

namespace Serverless.Functions.Triggers.Blob;

/// <summary>
/// A CSV dropped at <c>score-in/{model}/{file}.csv</c> is scored with the model's serving-alias version (champion by
/// default), or at <c>score-in/{model}@{version}/</c> with that version, streaming:
/// <c>score-out/{model}/{file}.csv/predictions.csv</c> (row, key, prediction, probability; left out when the blob's
/// metadata says <c>output=summary</c>), <c>errors.csv</c> (row, reason) and <c>summary.json</c> (counts, duration, model version, drift, problems). The
/// input is read under its ETag and never changed. A file the model cannot take (no such model, missing columns) gets
/// a summary with status <c>rejected</c> and the reason, not a retry. A file over
/// <see cref="PipelineOptions.FanOutScoringBytes"/> is scored in parts by the <c>ScoreBatch</c> orchestration, on as
/// many instances as the platform gives; the summary says <c>scoring</c> with its run id until it is done.
/// </summary>
public sealed class ScoreOnBlobDrop(ModelCache models, ScoringOutputs outputs, IOptions<PipelineOptions> options, ILogger<ScoreOnBlobDrop> logger)
{
    /// <summary>The input blob's metadata key that chooses the output: <c>rows</c> (predictions.csv, the default) or <c>summary</c> (counts and errors only).</summary>
    public const string OutputMetadata = "output";

    /// <summary>Handles one new or changed input blob. Event Grid is the source in Azure (Flex Consumption needs it); locally the runtime lists the container.</summary>
    [Function(nameof(ScoreOnBlobDrop))]
    public async Task RunAsync(
        [BlobTrigger(PipelineOptions.ScoringInputContainer + "/{name}", Source = BlobTriggerSource.EventGrid)] BlobClient input,
        string name,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(client);
        var file = $"{PipelineOptions.ScoringInputContainer}/{name}";
        if (!BlobNameRules.IsSafeBlobName(name))
        {
            throw new InvalidInputNameException(file);
        }

        var properties = (await input.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        var alias = options.Value.ServingAlias;
        var folder = name.Contains('/', StringComparison.Ordinal) ? name[..name.IndexOf('/', StringComparison.Ordinal)] : null;
        var at = folder?.IndexOf('@', StringComparison.Ordinal) ?? -1;
        var modelName = at >= 0 ? folder![..at] : folder;
        int? pinned = at >= 0 && int.TryParse(folder![(at + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;
        LoadedModel? model = null;
        string? problem = null;
        if (!name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            problem = $"{file}: only .csv files are scored.";
        }
        else if (modelName is null || !ModelRegistry.IsValidName(modelName) || (at >= 0 && pinned is null))
        {
            problem = $"{file}: put files under {PipelineOptions.ScoringInputContainer}/{{model}}/ (scored by its '{alias}' version) or {{model}}@{{version}}/, so the model that scores them is known.";
        }
        else
        {
            try
            {
                model = pinned is { } pinnedVersion ? await models.GetAsync(modelName, pinnedVersion, cancellationToken) : await models.GetByAliasAsync(modelName, alias, cancellationToken);
                problem = model is null ? $"{file}: model '{modelName}' has no '{alias}' version; train one with POST /api/models/{modelName}/train." : null;
            }
            catch (Exception ex) when (ex is ModelRegistryConflictException or ArgumentException)
            {
                problem = $"{file}: model '{modelName}' cannot serve: {ex.Message}";
            }
        }

        if (model is null)
        {
            await outputs.WriteSummaryAsync(name, ScoringOutputs.Summarize(file, properties.ETag, properties.ContentLength, "rejected", modelName, null, null, problem, null), cancellationToken);
            return;
        }

        var version = model.Version.Version;
        var rows = !(properties.Metadata.TryGetValue(OutputMetadata, out var output) && string.Equals(output, "summary", StringComparison.OrdinalIgnoreCase));
        if (properties.ContentLength >= options.Value.FanOutScoringBytes)
        {
            var check = await BlobScoring.CheckAsync(input, properties.ETag, model, cancellationToken);
            var runId = check.Problem is null ? await FanOutAsync(client, name, properties.ETag.ToString().Trim('"'), model, properties.ContentLength, rows, cancellationToken) : null;
            await outputs.WriteSummaryAsync(name, ScoringOutputs.Summarize(file, properties.ETag, properties.ContentLength, runId is null ? "rejected" : "scoring", modelName, version, null, check.Problem, null, runId), cancellationToken);
            return;
        }

        await outputs.MarkAsync(name, file, properties.ETag, properties.ContentLength, "scoring", modelName, cancellationToken);
        var result = await BlobScoring.ScoreAsync(input, properties.ETag, model, outputs.Container, name, cancellationToken, parallelism: Environment.ProcessorCount, rows: rows);
        var monitoring = result.Status == BlobScoringStatus.Scored ? await outputs.MonitorAsync(input, properties.ETag, model, file, cancellationToken) : null;
        await outputs.WriteSummaryAsync(name, ScoringOutputs.Summarize(file, properties.ETag, properties.ContentLength, result.Status == BlobScoringStatus.Scored ? "scored" : "rejected", modelName, version, result, null, monitoring), cancellationToken);
    }

    /// <summary>Starts the fan-out for this version of the file, once: the run id comes from the name and the ETag.</summary>
    private async Task<string> FanOutAsync(DurableTaskClient client, string name, string etag, LoadedModel model, long bytes, bool rows, CancellationToken cancellationToken)
    {
        var runId = "score-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{name}\n{etag}")))[..32];
        if (await client.GetInstanceAsync(runId, cancellationToken) is null)
        {
            var parts = (int)Math.Clamp((bytes + options.Value.ScoringPartBytes - 1) / options.Value.ScoringPartBytes, 2, 256);
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(ScoreBatchOrchestrator.ScoreBatch), new ScoreBatchInput(name, etag, model.Version.Name, model.Version.Version, parts, rows), new StartOrchestrationOptions(runId), cancellationToken);
            logger.LogInformation("Input {Name} ({Bytes} bytes) fanned out in {Parts} parts as run {RunId}", name, bytes, parts, runId);
        }

        return runId;
    }
}

/// <summary>An input blob's name could be used to write outside its own output folder.</summary>
public sealed class InvalidInputNameException(string file)
    : InvalidOperationException($"{file}: the blob name has a '.' or '..' segment, a backslash or control characters; it is not processed.")
{
}
