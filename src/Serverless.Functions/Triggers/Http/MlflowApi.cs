using System.Globalization;
using System.Net;
using Azure.Storage.Blobs.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Serverless.Functions.Hosting;
using Serverless.Functions.Mlflow;
using Serverless.Pipeline.Registry;
using Serverless.Pipeline.Tracking;

namespace Serverless.Functions.Triggers.Http;

/// <summary>
/// A read-mostly subset of MLflow's REST API under <c>/api/2.0/mlflow/</c>, so MLflow clients can browse the registry
/// and runs: experiment = model, run = training run, child run = trial (tag <c>mlflow.parentRunId</c>). Shapes and
/// errors (<c>error_code</c>, <c>message</c>) are MLflow's.
/// </summary>
public sealed class MlflowApi(PipelineStore store)
{
    private const string Prefix = "2.0/mlflow/";

    /// <summary><c>registered-models/get?name=</c>.</summary>
    [Function(nameof(MlflowGetRegisteredModel))]
    public async Task<HttpResponseData> MlflowGetRegisteredModel(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Prefix + "registered-models/get")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var name = request.Query["name"] ?? string.Empty;
        await store.EnsureCreatedAsync(cancellationToken);
        return await store.Registry.GetModelAsync(name, cancellationToken) is { } model
            ? await HttpAnswers.OkAsync(request, new { registered_model = await RegisteredAsync(model, request, cancellationToken) }, cancellationToken)
            : await NotFoundAsync(request, $"Registered Model with name={name} not found", cancellationToken);
    }

    /// <summary><c>registered-models/search?filter=name LIKE 'churn%'&amp;max_results=&amp;page_token=</c>.</summary>
    [Function(nameof(MlflowSearchRegisteredModels))]
    public async Task<HttpResponseData> MlflowSearchRegisteredModels(
        [HttpTrigger(AuthorizationLevel.Function, "get", "post", Route = Prefix + "registered-models/search")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (models, token, problem) = await SearchModelsAsync(request, cancellationToken);
        return problem ?? await HttpAnswers.OkAsync(
            request, new { registered_models = await Task.WhenAll(models.Select(m => RegisteredAsync(m, request, cancellationToken))), next_page_token = token }, cancellationToken);
    }

    /// <summary><c>registered-models/alias</c>: GET the version (<c>?name=&amp;alias=</c>), POST <c>{name, alias, version}</c>, DELETE.</summary>
    [Function(nameof(MlflowRegisteredModelAlias))]
    public async Task<HttpResponseData> MlflowRegisteredModelAlias(
        [HttpTrigger(AuthorizationLevel.Function, "get", "post", "delete", Route = Prefix + "registered-models/alias")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var arguments = await MlflowRequest.ReadAsync(request, cancellationToken);
        var (name, alias) = (arguments.Get("name") ?? string.Empty, arguments.Get("alias") ?? string.Empty);
        await store.EnsureCreatedAsync(cancellationToken);
        if (await store.Registry.GetModelAsync(name, cancellationToken) is not { } model)
        {
            return await NotFoundAsync(request, $"Registered Model with name={name} not found", cancellationToken);
        }

        try
        {
            switch (request.Method.ToUpperInvariant())
            {
                case "GET":
                    return model.Aliases.TryGetValue(alias, out var number) && await store.Registry.GetVersionAsync(name, number, cancellationToken) is { } version
                        ? await HttpAnswers.OkAsync(request, new { model_version = MlflowModelVersion.From(version, model, BaseUrl(request)) }, cancellationToken)
                        : await NotFoundAsync(request, $"Registered model alias {alias} not found.", cancellationToken);
                case "POST":
                    if (!int.TryParse(arguments.Get("version"), NumberStyles.None, CultureInfo.InvariantCulture, out var target))
                    {
                        return await InvalidAsync(request, $"version '{arguments.Get("version")}' is not a version number.", cancellationToken);
                    }

                    if (await store.Registry.GetVersionAsync(name, target, cancellationToken) is null)
                    {
                        return await NotFoundAsync(request, $"Model Version (name={name}, version={target}) not found", cancellationToken);
                    }

                    await store.Registry.SetAliasAsync(name, alias, target, cancellationToken);
                    return await HttpAnswers.OkAsync(request, new { }, cancellationToken);
                default:
                    await store.Registry.DeleteAliasAsync(name, alias, null, cancellationToken);
                    return await HttpAnswers.OkAsync(request, new { }, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is ArgumentException or ModelRegistryConflictException)
        {
            return await InvalidAsync(request, ex.Message, cancellationToken);
        }
    }

    /// <summary><c>model-versions/get?name=&amp;version=</c>.</summary>
    [Function(nameof(MlflowGetModelVersion))]
    public async Task<HttpResponseData> MlflowGetModelVersion(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Prefix + "model-versions/get")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (version, model, problem) = await FindVersionAsync(request, cancellationToken);
        return problem ?? await HttpAnswers.OkAsync(request, new { model_version = MlflowModelVersion.From(version!, model, BaseUrl(request)) }, cancellationToken);
    }

    /// <summary><c>model-versions/get-download-uri?name=&amp;version=</c>: the route that serves its <c>model.zip</c>.</summary>
    [Function(nameof(MlflowGetModelVersionDownloadUri))]
    public async Task<HttpResponseData> MlflowGetModelVersionDownloadUri(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Prefix + "model-versions/get-download-uri")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (version, _, problem) = await FindVersionAsync(request, cancellationToken);
        return problem ?? await HttpAnswers.OkAsync(request, new { artifact_uri = MlflowModelVersion.ArtifactUrl(version!, BaseUrl(request)) }, cancellationToken);
    }

    /// <summary><c>model-versions/search?filter=name='churn'</c> (also <c>run_id='...'</c>), newest first, paged.</summary>
    [Function(nameof(MlflowSearchModelVersions))]
    public async Task<HttpResponseData> MlflowSearchModelVersions(
        [HttpTrigger(AuthorizationLevel.Function, "get", "post", Route = Prefix + "model-versions/search")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var arguments = await MlflowRequest.ReadAsync(request, cancellationToken);
        var clauses = MlflowRequest.Clauses(arguments.Filter);
        if (clauses is null || !clauses.TryGetValue("name", out var name) || clauses.Keys.Any(k => k is not ("name" or "run_id")))
        {
            return await InvalidAsync(request, $"filter '{arguments.Filter}' is not supported: use name = '...' [and run_id = '...'].", cancellationToken);
        }

        await store.EnsureCreatedAsync(cancellationToken);
        var model = await store.Registry.GetModelAsync(name, cancellationToken);
        var (versions, token) = model is null ? ([], null) : await store.Registry.ListVersionsAsync(
            name,
            arguments.MaxResults,
            arguments.PageToken,
            cancellationToken);
        var found = versions.Where(v => !clauses.TryGetValue("run_id", out var runId) || v.RunId == runId).Select(v => MlflowModelVersion.From(v, model, BaseUrl(request)));
        return await HttpAnswers.OkAsync(request, new { model_versions = found, next_page_token = token }, cancellationToken);
    }

    /// <summary><c>experiments/get-by-name?experiment_name=</c>: a model's experiment.</summary>
    [Function(nameof(MlflowGetExperimentByName))]
    public async Task<HttpResponseData> MlflowGetExperimentByName(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Prefix + "experiments/get-by-name")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var name = request.Query["experiment_name"] ?? string.Empty;
        await store.EnsureCreatedAsync(cancellationToken);
        return await store.Registry.GetModelAsync(name, cancellationToken) is { } model
            ? await HttpAnswers.OkAsync(request, new { experiment = MlflowExperiment.From(model, BaseUrl(request)) }, cancellationToken)
            : await NotFoundAsync(request, $"Could not find experiment with name '{name}'", cancellationToken);
    }

    /// <summary><c>experiments/search</c>: every model's experiment, paged.</summary>
    [Function(nameof(MlflowSearchExperiments))]
    public async Task<HttpResponseData> MlflowSearchExperiments(
        [HttpTrigger(AuthorizationLevel.Function, "get", "post", Route = Prefix + "experiments/search")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (models, token, problem) = await SearchModelsAsync(request, cancellationToken);
        return problem ?? await HttpAnswers.OkAsync(
            request,
            new { experiments = models.Select(m => MlflowExperiment.From(m, BaseUrl(request))), next_page_token = token },
            cancellationToken);
    }

    /// <summary><c>runs/get?run_id=</c>.</summary>
    [Function(nameof(MlflowGetRun))]
    public async Task<HttpResponseData> MlflowGetRun(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Prefix + "runs/get")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var runId = request.Query["run_id"] ?? request.Query["run_uuid"] ?? string.Empty;
        await store.EnsureCreatedAsync(cancellationToken);
        return await store.Runs.FindAsync(runId, cancellationToken) is { } run
            ? await HttpAnswers.OkAsync(request, new { run = MlflowRun.From(run, BaseUrl(request)) }, cancellationToken)
            : await NotFoundAsync(request, $"Run '{runId}' not found", cancellationToken);
    }

    /// <summary><c>runs/search</c>: <c>{experiment_ids, filter, order_by, max_results, page_token}</c>, runs and trials.</summary>
    [Function(nameof(MlflowSearchRuns))]
    public async Task<HttpResponseData> MlflowSearchRuns(
        [HttpTrigger(AuthorizationLevel.Function, "get", "post", Route = Prefix + "runs/search")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var arguments = await MlflowRequest.ReadAsync(request, cancellationToken);
        RunQuery query;
        try
        {
            query = RunQuery.Parse(arguments.Filter, arguments.OrderBy, arguments.MaxResults, arguments.PageToken);
        }
        catch (FormatException ex)
        {
            return await InvalidAsync(request, ex.Message, cancellationToken);
        }

        await store.EnsureCreatedAsync(cancellationToken);
        var (runs, token) = await store.Runs.SearchAsync(arguments.ExperimentIds, query, cancellationToken);
        return await HttpAnswers.OkAsync(request, new { runs = runs.Select(r => MlflowRun.From(r, BaseUrl(request))), next_page_token = token }, cancellationToken);
    }

    /// <summary><c>artifacts/list?run_id=&amp;path=</c>: a run's outputs (trial models, the report), one folder level at a time.</summary>
    [Function(nameof(MlflowListArtifacts))]
    public async Task<HttpResponseData> MlflowListArtifacts(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Prefix + "artifacts/list")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var runId = request.Query["run_id"] ?? request.Query["run_uuid"] ?? string.Empty;
        var path = (request.Query["path"] ?? string.Empty).Trim('/');
        if (!Serverless.Storage.BlobNameRules.IsSafeBlobName($"{runId}/{path}".TrimEnd('/')))
        {
            return await InvalidAsync(request, $"run_id '{runId}' or path '{path}' is not valid.", cancellationToken);
        }

        await store.EnsureCreatedAsync(cancellationToken);
        if (await store.Runs.FindAsync(runId, cancellationToken) is null)
        {
            return await NotFoundAsync(request, $"Run '{runId}' not found", cancellationToken);
        }

        var root = $"{runId}/";
        var files = new List<MlflowFileInfo>();
        await foreach (var item in store.RunOutputs.GetBlobsByHierarchyAsync(
            new GetBlobsByHierarchyOptions { Prefix = path.Length == 0 ? root : $"{root}{path}/", Delimiter = "/" },
            cancellationToken))
        {
            files.Add(item.IsPrefix
                ? new MlflowFileInfo(item.Prefix[root.Length..].TrimEnd('/'), true, null)
                : new MlflowFileInfo(item.Blob.Name[root.Length..], false, item.Blob.Properties.ContentLength));
        }

        return await HttpAnswers.OkAsync(request, new { root_uri = $"{BaseUrl(request)}/api/runs/{runId}", files }, cancellationToken);
    }

    /// <summary>A page of models that meet the request's filter (name, name prefix, tag): registered models and experiments alike.</summary>
    private async Task<(IReadOnlyList<RegisteredModel> Models, string? Token, HttpResponseData? Problem)> SearchModelsAsync(HttpRequestData request, CancellationToken cancellationToken)
    {
        var arguments = await MlflowRequest.ReadAsync(request, cancellationToken);
        if (!MlflowRequest.TryNameFilter(arguments.Filter, out var filter))
        {
            return ([], null, await InvalidAsync(request, $"filter '{arguments.Filter}' is not supported: use name = '...', name LIKE 'prefix%' or tags.key = '...'.", cancellationToken));
        }

        await store.EnsureCreatedAsync(cancellationToken);
        var (models, token) = await store.Registry.ListModelsAsync(
            filter.Prefix ?? filter.Name,
            filter.Tag,
            arguments.MaxResults,
            arguments.PageToken,
            cancellationToken);
        return ([.. models.Where(m => filter.Name is null || m.Name == filter.Name)], token, null);
    }

    private async Task<(ModelVersion? Version, RegisteredModel? Model, HttpResponseData? Problem)> FindVersionAsync(HttpRequestData request, CancellationToken cancellationToken)
    {
        var name = request.Query["name"] ?? string.Empty;
        if (!int.TryParse(request.Query["version"], NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return (null, null, await InvalidAsync(request, $"version '{request.Query["version"]}' is not a version number.", cancellationToken));
        }

        await store.EnsureCreatedAsync(cancellationToken);
        var model = await store.Registry.GetModelAsync(name, cancellationToken);
        return model is not null && await store.Registry.GetVersionAsync(name, number, cancellationToken) is { } version
            ? (version, model, null)
            : (null, null, await NotFoundAsync(request, $"Model Version (name={name}, version={number}) not found", cancellationToken));
    }

    private async Task<MlflowRegisteredModel> RegisteredAsync(RegisteredModel model, HttpRequestData request, CancellationToken cancellationToken)
    {
        var latest = model.LatestVersion > 0 ? await store.Registry.GetVersionAsync(model.Name, model.LatestVersion, cancellationToken) : null;
        return MlflowRegisteredModel.From(model, latest, BaseUrl(request));
    }

    private static string BaseUrl(HttpRequestData request) => request.Url.GetLeftPart(UriPartial.Authority);

    private static Task<HttpResponseData> NotFoundAsync(HttpRequestData request, string message, CancellationToken cancellationToken) =>
        ErrorAsync(request, HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", message, cancellationToken);

    private static Task<HttpResponseData> InvalidAsync(HttpRequestData request, string message, CancellationToken cancellationToken) =>
        ErrorAsync(request, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", message, cancellationToken);

    private static async Task<HttpResponseData> ErrorAsync(
        HttpRequestData request,
        HttpStatusCode status,
        string code,
        string message,
        CancellationToken cancellationToken)
    {
        var response = request.CreateResponse(status);
        await response.WriteAsJsonAsync(new MlflowError(code, message), cancellationToken);
        return response;
    }
}
