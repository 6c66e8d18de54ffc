using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Serverless.Functions.Hosting;
using Serverless.Functions.Training;
using Serverless.Functions.Triggers.Durable;
using Serverless.Pipeline.Data;

namespace Serverless.Functions.Triggers.Http;

/// <summary>
/// Training over HTTP: <c>PUT /api/datasets/{name}</c> uploads a training dataset (CSV, JSON Lines or Parquet),
/// <c>POST /api/models/{model}/train</c> starts a durable training run and answers 202 with its status URLs,
/// <c>POST /api/runs/{runId}/approval</c> (master key: separate from the trainers' function key) approves or
/// rejects its promotion, <c>GET /api/runs/{runId}/report</c>
/// serves its report.
/// </summary>
public sealed partial class TrainingRuns(PipelineStore store, TimeProvider time, ILogger<TrainingRuns> logger)
{
    /// <summary>Uploads (or replaces) a training dataset; 201 with its name and ETag.</summary>
    [Function(nameof(UploadDataset))]
    public async Task<HttpResponseData> UploadDataset(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "datasets/{*name}")] HttpRequestData request,
        string name,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Serverless.Storage.BlobNameRules.IsSafeBlobName(name) || !DatasetIngestor.IsSupported(name))
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.BadRequest, $"'{name}' is not accepted: use a relative blob name ending in {string.Join(", ", DatasetIngestor.SupportedExtensions)}, without '.' or '..' segments or backslashes.", cancellationToken);
        }

        var etag = await HttpAnswers.PutBlobAsync(request, store.Datasets, name, ContentType(name), cancellationToken);
        logger.LogInformation("Received dataset {Container}/{Name} over HTTP (ETag {ETag})", PipelineOptions.DatasetsContainer, name, etag);
        var response = request.CreateResponse(HttpStatusCode.Created);
        await response.WriteAsJsonAsync(new { dataset = name, etag }, cancellationToken);
        return response;
    }

    /// <summary>Starts a training run of model <paramref name="name"/>; 202 with the Durable status URLs (the run id is the instance id), 400 naming each problem of the request.</summary>
    [Function(nameof(StartTraining))]
    public async Task<HttpResponseData> StartTraining(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "models/{name}/train")] HttpRequestData request,
        [DurableClient] DurableTaskClient client,
        string name,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        var (training, badBody) = await HttpAnswers.ReadJsonAsync<TrainingRequest>(request, "a training request: { \"dataset\": ..., \"label\": ... }", cancellationToken);
        if (training is null)
        {
            return badBody!;
        }

        if (training.Model is { Length: > 0 } inBody && !string.Equals(inBody, name, StringComparison.Ordinal))
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.BadRequest, $"The body names model '{inBody}' but the route '{name}'; leave it out of the body.", cancellationToken);
        }

        training = training with { Model = name };

        var problems = training.Problems();
        if (problems.Count > 0)
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.BadRequest, "The training request has problems.", cancellationToken, problems);
        }

        await store.EnsureCreatedAsync(cancellationToken);
        if (!await store.Datasets.GetBlobClient(training.Dataset).ExistsAsync(cancellationToken))
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.BadRequest, $"dataset: {PipelineOptions.DatasetsContainer}/{training.Dataset} does not exist; upload it first (PUT /api/datasets/{training.Dataset}).", cancellationToken);
        }

        var runId = NewRunId(training.Model, time.GetUtcNow());
        await client.ScheduleNewOrchestrationInstanceAsync(nameof(TrainModelOrchestrator.TrainModel), training, new StartOrchestrationOptions(runId), cancellationToken);
        logger.LogInformation("Training run {RunId} started for model {Model} on {Dataset}", runId, training.Model, training.Dataset);
        return await client.CreateCheckStatusResponseAsync(request, runId, cancellationToken);
    }

    /// <summary>
    /// A person's decision on a run that waits for approval before its new version takes the alias
    /// (<c>{ "approve": true, "by": "alice", "comment": "..." }</c>); 202 with the run's status URLs.
    /// </summary>
    [Function(nameof(ApproveRun))]
    public async Task<HttpResponseData> ApproveRun(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "runs/{runId}/approval")] HttpRequestData request,
        [DurableClient] DurableTaskClient client,
        string runId,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        if (await BadRunIdAsync(request, runId, cancellationToken) is { } badId)
        {
            return badId;
        }

        var (decision, badBody) = await HttpAnswers.ReadJsonAsync<ApprovalDecision>(request, "{ \"approve\": true|false, \"by\": ..., \"comment\": ... }", cancellationToken);
        if (decision is null)
        {
            return badBody!;
        }

        var instance = await client.GetInstanceAsync(runId, cancellationToken);
        if (instance is null)
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.NotFound, $"No run '{runId}'.", cancellationToken);
        }

        if (instance.RuntimeStatus != OrchestrationRuntimeStatus.Running)
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.Conflict, $"Run '{runId}' is {instance.RuntimeStatus}; only a running run waits for approval.", cancellationToken);
        }

        // The run acts only on a decision whose ticket matches the one kept here, where the Durable API cannot write.
        var ticketed = decision with { Ticket = Guid.NewGuid().ToString("N") };
        await store.EnsureCreatedAsync(cancellationToken);
        await store.RunOutputs.GetBlobClient(ApprovalDecision.BlobName(runId)).UploadAsync(BinaryData.FromObjectAsJson(ticketed, Serverless.Pipeline.PipelineJson.Indented), overwrite: true, cancellationToken);
        await client.RaiseEventAsync(runId, TrainModelOrchestrator.ApprovalEvent, ticketed, cancellationToken);
        logger.LogInformation("Run {RunId}: {Decision} by {By} with the master key", runId, decision.Approve ? "approved" : "rejected", decision.By);
        return await client.CreateCheckStatusResponseAsync(request, runId, HttpStatusCode.Accepted, cancellationToken);
    }

    /// <summary>The HTML evaluation report of a finished run; its charts are embedded.</summary>
    [Function(nameof(GetRunReport))]
    public async Task<HttpResponseData> GetRunReport(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "runs/{runId}/report")] HttpRequestData request,
        string runId,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await BadRunIdAsync(request, runId, cancellationToken) is { } badId)
        {
            return badId;
        }

        return await HttpAnswers.BlobAsync(request, store.RunOutputs.GetBlobClient($"{runId}/report/index.html"), $"Run '{runId}' has no report (yet): it is written when the run has evaluated its best model.", cancellationToken);
    }

    private static async Task<HttpResponseData?> BadRunIdAsync(HttpRequestData request, string runId, CancellationToken cancellationToken) =>
        RunIdPattern().IsMatch(runId) ? null : await HttpAnswers.ProblemAsync(request, HttpStatusCode.BadRequest, $"'{runId}' is not a run id.", cancellationToken);

    private static string ContentType(string name) =>
        name.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? "application/vnd.apache.parquet"
        : name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase) ? "application/x-ndjson"
        : "text/csv";

    /// <summary>A run id that sorts by time and says which model it trains: {model}-{UTC time}-{random}.</summary>
    public static string NewRunId(string model, DateTimeOffset now) =>
        $"{model}-{now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..8]}";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")]
    private static partial Regex RunIdPattern();
}
