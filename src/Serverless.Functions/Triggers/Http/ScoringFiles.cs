using System.Net;
using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Functions.Hosting;
using Serverless.Storage;

namespace Serverless.Functions.Triggers.Http;

/// <summary>
/// Scoring over HTTP for callers without a storage tool: <c>PUT /api/scoring/inputs/{name}</c> streams a CSV into
/// <c>score-in/</c> (where the blob trigger takes over), <c>GET /api/scoring/results/{name}</c> returns its summary.
/// </summary>
public sealed class ScoringFiles(StorageClientFactory clients, IOptions<PipelineOptions> options, ILogger<ScoringFiles> logger)
{
    /// <summary>Uploads a CSV to be scored; 202 with the URL of its result.</summary>
    [Function(nameof(UploadScoringInput))]
    public async Task<HttpResponseData> UploadScoringInput(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "scoring/inputs/{*name}")] HttpRequestData request,
        string name,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!IsAcceptedName(name))
        {
            return await ProblemAsync(request, HttpStatusCode.BadRequest, $"'{name}' is not accepted: use a relative blob name ending in .csv, without '.' or '..' segments or backslashes.", cancellationToken);
        }

        var container = clients.GetBlobServiceClient().GetBlobContainerClient(PipelineOptions.ScoringInputContainer);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var uploaded = await container.GetBlobClient(name).UploadAsync(
            request.Body,
            new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv" } },
            cancellationToken);
        logger.LogInformation("Received {Container}/{Name} over HTTP (ETag {ETag})", PipelineOptions.ScoringInputContainer, name, uploaded.Value.ETag);

        var resultUrl = new Uri(request.Url, $"/api/scoring/results/{name}");
        var response = request.CreateResponse(HttpStatusCode.Accepted);
        response.Headers.Add("Location", resultUrl.ToString());
        await response.WriteAsJsonAsync(new UploadAccepted($"{PipelineOptions.ScoringInputContainer}/{name}", uploaded.Value.ETag.ToString().Trim('"'), resultUrl.ToString()), cancellationToken);
        return response;
    }

    /// <summary>The summary of a scored input; 404 until it is written.</summary>
    [Function(nameof(GetScoringSummary))]
    public async Task<HttpResponseData> GetScoringSummary(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "scoring/results/{*name}")] HttpRequestData request,
        string name,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!IsAcceptedName(name))
        {
            return await ProblemAsync(request, HttpStatusCode.BadRequest, $"'{name}' is not a valid input name.", cancellationToken);
        }

        var summary = clients.GetBlobServiceClient().GetBlobContainerClient(options.Value.ScoringOutputContainer).GetBlobClient($"{name}/summary.json");
        try
        {
            var content = (await summary.DownloadContentAsync(cancellationToken)).Value.Content;
            var response = request.CreateResponse(HttpStatusCode.OK);
            response.Headers.Add("Content-Type", "application/json; charset=utf-8");
            await response.WriteBytesAsync(content.ToArray(), cancellationToken);
            return response;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return await ProblemAsync(request, HttpStatusCode.NotFound, $"No result for '{name}' yet; it is written when the input has been processed.", cancellationToken);
        }
    }

    private static bool IsAcceptedName(string? name) =>
        BlobNameRules.IsSafeBlobName(name) && name!.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);

    private static async Task<HttpResponseData> ProblemAsync(HttpRequestData request, HttpStatusCode status, string detail, CancellationToken cancellationToken)
    {
        var response = request.CreateResponse(status);
        await response.WriteAsJsonAsync(new Problem((int)status, detail), cancellationToken);
        return response;
    }

    /// <summary>The answer to an upload.</summary>
    public sealed record UploadAccepted(string Input, string ETag, string ResultUrl);

    /// <summary>An error answer.</summary>
    public sealed record Problem(int Status, string Detail);
}
