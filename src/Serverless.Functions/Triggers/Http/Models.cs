using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.Extensions.Options;
using Serverless.Functions.Hosting;
using Serverless.Pipeline.Registry;
using Serverless.Pipeline.Scoring;

namespace Serverless.Functions.Triggers.Http;

/// <summary>
/// The registry and online scoring over HTTP: <c>GET /api/models/{name}</c> shows a model and its latest versions,
/// <c>POST /api/models/{name}/predict</c> scores rows with the serving alias's version (or <c>?version=</c>).
/// </summary>
public sealed class Models(PipelineStore store, ModelCache models, IOptions<PipelineOptions> options)
{
    /// <summary>The most rows one online request may carry; bigger batches go through blob scoring.</summary>
    public const int MaxRowsPerRequest = 1000;

    /// <summary>The largest predict body read (1,000 rows of about 4 KiB): a larger one is refused before it is parsed, so memory stays bounded.</summary>
    public const int MaxBodyBytes = 4 * 1024 * 1024;

    /// <summary>A model with its aliases and tags, and its versions, newest first (<c>?pageSize=</c>, <c>?continuation=</c>).</summary>
    [Function(nameof(GetModel))]
    public async Task<HttpResponseData> GetModel(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models/{name}")] HttpRequestData request,
        string name,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await HttpAnswers.BadModelNameAsync(request, name, cancellationToken) is { } badName)
        {
            return badName;
        }

        await store.EnsureCreatedAsync(cancellationToken);
        var model = await store.Registry.GetModelAsync(name, cancellationToken);
        if (model is null)
        {
            return await HttpAnswers.NoModelAsync(request, name, cancellationToken);
        }

        var (versions, continuation) = await store.Registry.ListVersionsAsync(
            name,
            HttpAnswers.PageSize(request),
            request.Query["continuation"],
            cancellationToken);
        return await HttpAnswers.OkAsync(request, new { model, versions, continuation }, cancellationToken, model.ETag);
    }

    /// <summary>Scores the rows of <c>{ "rows": [ { column: value, ... } ] }</c>; each row gets a prediction or an error.</summary>
    [Function(nameof(Predict))]
    public async Task<HttpResponseData> Predict(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "models/{name}/predict")] HttpRequestData request,
        string name,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await HttpAnswers.BadModelNameAsync(request, name, cancellationToken) is { } badName)
        {
            return badName;
        }

        if (await HttpAnswers.ReadAtMostAsync(request.Body, MaxBodyBytes, cancellationToken) is not { } content)
        {
            return await HttpAnswers.ProblemAsync(
                request, HttpStatusCode.RequestEntityTooLarge, $"The body is over {MaxBodyBytes / (1024 * 1024)} MiB; send at most {MaxRowsPerRequest} rows, and for more drop a CSV into score-in/{name}/.", cancellationToken);
        }

        if (request.Query["version"] is { } asked && (!int.TryParse(asked, NumberStyles.None, CultureInfo.InvariantCulture, out var pinned) || pinned < 1))
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.BadRequest, $"version: '{asked}' is not a version number (1, 2, ...); leave it out for the '{options.Value.ServingAlias}' version.", cancellationToken);
        }

        List<Dictionary<string, string?>> rows;
        try
        {
            using var body = JsonDocument.Parse(content);
            rows = Rows(body.RootElement);
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.BadRequest, $"The body must be {{ \"rows\": [ {{ \"column\": value, ... }} ] }}: {ex.Message}", cancellationToken);
        }

        if (rows.Count is 0 or > MaxRowsPerRequest)
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.BadRequest, $"Send 1 to {MaxRowsPerRequest} rows; for more, drop a CSV into score-in/{name}/.", cancellationToken);
        }

        LoadedModel? loaded;
        try
        {
            loaded = int.TryParse(request.Query["version"], NumberStyles.None, CultureInfo.InvariantCulture, out var version)
                ? await models.GetAsync(name, version, cancellationToken)
                : await models.GetByAliasAsync(name, options.Value.ServingAlias, cancellationToken);
        }
        catch (ModelRegistryConflictException ex)
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.NotFound, ex.Message, cancellationToken);
        }

        if (loaded is null)
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.NotFound, $"Model '{name}' has no '{options.Value.ServingAlias}' version; train one with POST /api/models/{name}/train.", cancellationToken);
        }

        var predictions = loaded.Predict(rows);
        var response = request.CreateResponse(HttpStatusCode.OK);
        await response.WriteAsJsonAsync(new { model = name, version = loaded.Version.Version, predictions }, cancellationToken);
        return response;
    }

    /// <summary>Rows as column → text: numbers in invariant form, booleans as true/false, null as missing.</summary>
    private static List<Dictionary<string, string?>> Rows(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("rows", out var rows) || rows.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("no \"rows\" array");
        }

        return [.. rows.EnumerateArray().Select((row, i) => row.ValueKind == JsonValueKind.Object
            ? Row(row, i + 1)
            : throw new FormatException($"row {i + 1} is not an object"))];
    }

    /// <summary>One row; column names compare ignoring case, as the signature's do, so two spellings of one column are refused.</summary>
    private static Dictionary<string, string?> Row(JsonElement row, int number)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in row.EnumerateObject())
        {
            var value = p.Value.ValueKind switch
            {
                JsonValueKind.Null or JsonValueKind.Undefined => null,
                JsonValueKind.String => p.Value.GetString(),
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => p.Value.GetRawText(),
                _ => throw new FormatException($"row {number}, '{p.Name}': a value must be a string, number, boolean or null"),
            };
            if (!values.TryAdd(p.Name, value))
            {
                throw new FormatException($"row {number}: '{values.Keys.First(k => string.Equals(k, p.Name, StringComparison.OrdinalIgnoreCase))}' and '{p.Name}' name the same column (names ignore case)");
            }
        }

        return values;
    }
}
