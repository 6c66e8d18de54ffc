using System.Net;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask.Client;
using Serverless.Functions.Hosting;
using Serverless.Functions.Training;
using Serverless.Pipeline.Tracking;

namespace Serverless.Functions.Triggers.Http;

/// <summary>
/// Training runs and their trials over HTTP (function key). Runs are searched as MLflow searches
/// them: <c>?filter=metrics.cv_auc &gt; 0.8 and params.numberOfLeaves &lt;= 31</c>, <c>?order_by=metrics.cv_auc DESC</c>.
/// </summary>
public sealed class RunsApi(PipelineStore store)
{
    /// <summary>Training runs (not their trials): <c>?model=</c>, <c>?status=</c> (FINISHED, FAILED, RUNNING...), <c>?filter=</c>, <c>?order_by=</c>, paged.</summary>
    [Function(nameof(ListRuns))]
    public async Task<HttpResponseData> ListRuns(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "runs")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var filter = request.Query["filter"];
        if (request.Query["status"] is { Length: > 0 } status)
        {
            filter = string.IsNullOrWhiteSpace(filter) ? $"attributes.status = '{status}'" : $"{filter} and attributes.status = '{status}'";
        }

        var model = request.Query["model"];
        if (model is not null && await HttpAnswers.BadModelNameAsync(request, model, cancellationToken) is { } badName)
        {
            return badName;
        }

        return await SearchAsync(request, model is null ? null : [model], filter, parentRunId: string.Empty, cancellationToken);
    }

    /// <summary>One run: parameters, metrics, status, its live progress from the orchestration, and the link to its report.</summary>
    [Function(nameof(GetRun))]
    public async Task<HttpResponseData> GetRun(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "runs/{runId}")] HttpRequestData request,
        [DurableClient] DurableTaskClient client,
        string runId,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        await store.EnsureCreatedAsync(cancellationToken);
        var run = await store.Runs.FindAsync(runId, cancellationToken);
        var instance = await client.GetInstanceAsync(runId, getInputsAndOutputs: true, cancellationToken);
        if (run is null && instance is null)
        {
            return await HttpAnswers.ProblemAsync(
                request,
                HttpStatusCode.NotFound,
                $"No run '{runId}'; list runs with GET /api/runs?model={{model}}.",
                cancellationToken);
        }

        var report = await store.RunOutputs.GetBlobClient($"{runId}/report/index.html").ExistsAsync(cancellationToken);
        return await HttpAnswers.OkAsync(request, new RunDetails(
            runId,
            run,
            instance is null ? null : new RunProgress(
                instance.RuntimeStatus.ToString(),
                instance.CreatedAt,
                instance.LastUpdatedAt,
                instance.SerializedCustomStatus is { } progress ? System.Text.Json.JsonDocument.Parse(progress).RootElement : null,
                instance.FailureDetails?.ErrorMessage ?? (instance.RuntimeStatus == OrchestrationRuntimeStatus.Failed ? instance.SerializedOutput : null)),
            report ? $"/api/runs/{runId}/report" : null,
            $"/api/runs/{runId}/trials",
            instance is null ? null : $"/api/runs/{runId}/timeline"), cancellationToken);
    }

    /// <summary>A run's trials (its child runs): parameters, metrics, status and early-termination outcome, in trial order.</summary>
    [Function(nameof(ListTrials))]
    public async Task<HttpResponseData> ListTrials(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "runs/{runId}/trials")] HttpRequestData request,
        string runId,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await store.EnsureCreatedAsync(cancellationToken);
        if (await store.Runs.FindAsync(runId, cancellationToken) is not { } run)
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.NotFound, $"No run '{runId}'.", cancellationToken);
        }

        return await SearchAsync(request, [run.Experiment], request.Query["filter"], runId, cancellationToken, defaultOrder: "attributes.run_id ASC");
    }

    /// <summary>
    /// The timeline of a run's orchestration: each activity, sub-orchestration, timer and event with its start, end and
    /// outcome, read from the orchestration's history.
    /// </summary>
    [Function(nameof(GetRunTimeline))]
    public async Task<HttpResponseData> GetRunTimeline(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "runs/{runId}/timeline")] HttpRequestData request,
        [DurableClient] DurableTaskClient client,
        string runId,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        if (await client.GetInstanceAsync(runId, cancellationToken) is null)
        {
            return await HttpAnswers.ProblemAsync(
                request,
                HttpStatusCode.NotFound,
                $"No orchestration '{runId}' (it may have been purged).",
                cancellationToken);
        }

        try
        {
            var steps = RunTimeline.From(await client.GetOrchestrationHistoryAsync(runId, cancellationToken));
            return await HttpAnswers.OkAsync(request, new { runId, steps }, cancellationToken);
        }
        catch (NotSupportedException)
        {
            return await HttpAnswers.ProblemAsync(
                request,
                HttpStatusCode.NotImplemented,
                "This Durable backend does not give orchestration history to clients.",
                cancellationToken);
        }
    }

    /// <summary>A run, what its orchestration says of it now, and where its report and trials are.</summary>
    public sealed record RunDetails(string RunId, TrackedRun? Run, RunProgress? Progress, string? ReportUrl, string TrialsUrl, string? TimelineUrl);

    /// <summary>The orchestration's view of a run: status, times, the custom status (stage, trials done...), the error.</summary>
    public sealed record RunProgress(
        string RuntimeStatus,
        DateTimeOffset CreatedAt,
        DateTimeOffset LastUpdatedAt,
        System.Text.Json.JsonElement? CustomStatus,
        string? Error);

    private async Task<HttpResponseData> SearchAsync(
        HttpRequestData request, IReadOnlyList<string>? experiments, string? filter, string parentRunId, CancellationToken cancellationToken, string? defaultOrder = null)
    {
        RunQuery query;
        try
        {
            var order = request.Query.GetValues("order_by")?.SelectMany(o => o.Split(',')).ToList() ?? [];
            query = RunQuery.Parse(
                filter,
                order.Count > 0 ? order : defaultOrder is null ? null : [defaultOrder],
                HttpAnswers.PageSize(request, fallback: 50, max: 1000),
                request.Query["continuation"],
                parentRunId);
        }
        catch (FormatException ex)
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.BadRequest, ex.Message, cancellationToken);
        }

        await store.EnsureCreatedAsync(cancellationToken);
        var (runs, continuation) = await store.Runs.SearchAsync(experiments, query, cancellationToken);
        return await HttpAnswers.OkAsync(request, new { runs, continuation }, cancellationToken);
    }
}
