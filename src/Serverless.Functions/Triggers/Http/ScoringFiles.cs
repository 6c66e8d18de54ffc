using System.Net;
using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Functions.Hosting;
using Serverless.Functions.Scoring;
using Serverless.Storage;

namespace Serverless.Functions.Triggers.Http;

/// <summary>
/// Scoring over HTTP for callers without a storage tool: <c>PUT /api/scoring/inputs/{name}</c> streams a CSV into
/// <c>score-in/{model}/</c> (where the blob trigger takes over), <c>GET /api/scoring/results/{name}</c> returns its summary
/// and, with <c>?file=</c>, its predictions or errors; a model's scoring jobs and its drift history.
/// </summary>
public sealed class ScoringFiles(StorageClientFactory clients, ScoringOutputs outputs, IOptions<PipelineOptions> options, ILogger<ScoringFiles> logger)
{
    /// <summary>Uploads a CSV to be scored; 202 with the URL of its result.</summary>
    [Function(nameof(UploadScoringInput))]
    public async Task<HttpResponseData> UploadScoringInput(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "scoring/inputs/{*name}")] HttpRequestData request,
        string name,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!HttpAnswers.IsAcceptedCsvName(name) || !name.Contains('/', StringComparison.Ordinal))
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.BadRequest, $"'{name}' is not accepted: use {{model}}/{{file}}.csv (the model whose '{options.Value.ServingAlias}' version scores it), without '.' or '..' segments or backslashes.", cancellationToken);
        }

        var output = request.Query["output"];
        if (output is not null and not ("rows" or "summary"))
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.BadRequest, $"output '{output}' is not rows (predictions.csv, the default) or summary (counts and errors only).", cancellationToken);
        }

        var metadata = output is null ? null : new Dictionary<string, string> { [Blob.ScoreOnBlobDrop.OutputMetadata] = output };
        var inputs = clients.GetBlobServiceClient().GetBlobContainerClient(PipelineOptions.ScoringInputContainer);
        var etag = await HttpAnswers.PutCsvAsync(request, inputs, name, cancellationToken, metadata);
        logger.LogInformation("Received {Container}/{Name} over HTTP (ETag {ETag})", PipelineOptions.ScoringInputContainer, name, etag);
        var bytes = (await inputs.GetBlobClient(name).GetPropertiesAsync(cancellationToken: cancellationToken)).Value.ContentLength;
        var model = name[..name.IndexOf('/', StringComparison.Ordinal)].Split('@')[0];
        await outputs.MarkAsync(name, $"{PipelineOptions.ScoringInputContainer}/{name}", new Azure.ETag(etag), bytes, "pending", model, cancellationToken);

        var resultUrl = new Uri(request.Url, $"/api/scoring/results/{name}");
        var response = request.CreateResponse(HttpStatusCode.Accepted);
        response.Headers.Add("Location", resultUrl.ToString());
        await response.WriteAsJsonAsync(new UploadAccepted($"{PipelineOptions.ScoringInputContainer}/{name}", etag, resultUrl.ToString()), cancellationToken);
        return response;
    }

    /// <summary>
    /// A scored input's outputs: <c>summary.json</c> (the default), <c>predictions.csv</c> or <c>errors.csv</c>
    /// (<c>?file=</c>); 404 until they are written, and 409 for the files while the summary does not say <c>scored</c>
    /// (they may be partial, from an attempt that did not finish).
    /// </summary>
    [Function(nameof(GetScoringSummary))]
    public async Task<HttpResponseData> GetScoringSummary(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "scoring/results/{*name}")] HttpRequestData request,
        string name,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var file = request.Query["file"] ?? "summary.json";
        if (!HttpAnswers.IsAcceptedCsvName(name) || file is not ("summary.json" or "predictions.csv" or "errors.csv"))
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.BadRequest, $"'{name}' is not a valid input name, or '{file}' is not one of summary.json, predictions.csv, errors.csv.", cancellationToken);
        }

        var container = clients.GetBlobServiceClient().GetBlobContainerClient(options.Value.ScoringOutputContainer);
        if (file != "summary.json" && await outputs.ReadSummaryAsync(name, cancellationToken) is { Status: not "scored" } summary)
        {
            return await HttpAnswers.ProblemAsync(
                request,
                HttpStatusCode.Conflict,
                $"'{name}' is {summary.Status}, not scored: its {file} is complete only when the summary says scored.{string.Concat(summary.Problems.Select(p => " " + p))}",
                cancellationToken);
        }

        return await HttpAnswers.BlobAsync(
            request,
            container.GetBlobClient($"{name}/{file}"),
            $"No {file} for '{name}' yet; it is written when the input has been processed.",
            cancellationToken);
    }

    /// <summary>A model's scoring jobs: file, status, rows, model version, duration and the routes of its outputs.</summary>
    [Function(nameof(ListScoringJobs))]
    public async Task<HttpResponseData> ListScoringJobs(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models/{name}/scoring-jobs")] HttpRequestData request,
        string name,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await HttpAnswers.BadModelNameAsync(request, name, cancellationToken) is { } badName)
        {
            return badName;
        }

        var (jobs, continuation) = await outputs.ListJobsAsync(name, HttpAnswers.PageSize(request), request.Query["continuation"], cancellationToken);
        return await HttpAnswers.OkAsync(request, new { jobs, continuation }, cancellationToken);
    }

    /// <summary>A model's drift history: one report per scored batch, oldest first, each column's PSI, test and verdict.</summary>
    [Function(nameof(ListDrift))]
    public async Task<HttpResponseData> ListDrift(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models/{name}/drift")] HttpRequestData request,
        string name,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await HttpAnswers.BadModelNameAsync(request, name, cancellationToken) is { } badName)
        {
            return badName;
        }

        var (reports, continuation) = await outputs.ListDriftAsync(
            name,
            HttpAnswers.PageSize(request, fallback: 50),
            request.Query["continuation"],
            cancellationToken);
        return await HttpAnswers.OkAsync(request, new { reports, continuation }, cancellationToken);
    }

    /// <summary>The answer to an upload.</summary>
    public sealed record UploadAccepted(string Input, string ETag, string ResultUrl);
}
