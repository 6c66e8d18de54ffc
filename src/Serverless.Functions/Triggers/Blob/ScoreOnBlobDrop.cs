using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Functions.Hosting;
using Serverless.Functions.Scoring;
using Serverless.Storage;

namespace Serverless.Functions.Triggers.Blob;

/// <summary>
/// A CSV dropped under <c>score-in/</c> is checked (columns, rows, malformed rows) and a <c>summary.json</c> is written
/// to <c>score-out/{name}/</c>. The input blob is only read, never changed. Scoring with the champion model extends
/// this function once the registry exists; today the summary says the file was received and what it holds.
/// </summary>
public sealed class ScoreOnBlobDrop(CsvInputInspector inspector, StorageClientFactory clients, IOptions<PipelineOptions> options, ILogger<ScoreOnBlobDrop> logger)
{
    private static readonly JsonSerializerOptions SummaryJson = new(JsonSerializerDefaults.Web) { WriteIndented = true };

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
        InputInspection inspection;
        if (!name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            inspection = new InputInspection(file, [], 0, 0, [new InputProblem(0, null, $"{file}: only .csv files are scored.")]);
        }
        else
        {
            await using var content = await input.OpenReadAsync(
                new BlobOpenReadOptions(allowModifications: false) { Conditions = new BlobRequestConditions { IfMatch = properties.ETag } },
                cancellationToken);
            inspection = await inspector.InspectAsync(content, file, cancellationToken);
        }

        var summary = new ScoringSummary(
            Input: file,
            InputETag: properties.ETag.ToString().Trim('"'),
            InputBytes: properties.ContentLength,
            Status: inspection.IsValid ? "received" : "rejected",
            Columns: inspection.Columns,
            Rows: inspection.Rows,
            MalformedRows: inspection.MalformedRows,
            Problems: inspection.Problems);
        var output = clients.GetBlobServiceClient().GetBlobContainerClient(options.Value.ScoringOutputContainer);
        await output.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await output.GetBlobClient($"{name}/summary.json").UploadAsync(BinaryData.FromObjectAsJson(summary, SummaryJson), overwrite: true, cancellationToken);
        logger.LogInformation(
            "Input {Input}: {Status}, {Rows} rows, {Columns} columns, {MalformedRows} malformed; summary at {Container}/{Name}/summary.json",
            file, summary.Status, summary.Rows, summary.Columns.Count, summary.MalformedRows, options.Value.ScoringOutputContainer, name);
    }

    /// <summary>The <c>summary.json</c> written for each input.</summary>
    public sealed record ScoringSummary(
        string Input,
        string InputETag,
        long InputBytes,
        string Status,
        IReadOnlyList<string> Columns,
        long Rows,
        long MalformedRows,
        IReadOnlyList<InputProblem> Problems);
}

/// <summary>An input blob's name could be used to write outside its own output folder.</summary>
public sealed class InvalidInputNameException(string file)
    : InvalidOperationException($"{file}: the blob name has a '.' or '..' segment, a backslash or control characters; it is not processed.")
{
}
