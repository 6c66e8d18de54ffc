using System.Globalization;
using System.Net;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Serverless.Functions.Hosting;
using Serverless.Pipeline.Registry;

namespace Serverless.Functions.Triggers.Http;

/// <summary>
/// The registry over HTTP (function key): models listed and searched, versions, aliases moved with <c>If-Match</c>
/// (409 when the version cannot take it, 412 when the model changed since it was read), tags, and a version's
/// artifact. <c>GET /api/models/{name}</c> itself is <see cref="Models.GetModel"/>.
/// </summary>
public sealed class RegistryApi(PipelineStore store)
{
    /// <summary>Models whose name starts with <c>?prefix=</c> and that carry <c>?tag=key:value</c>, a page at a time.</summary>
    [Function(nameof(ListModels))]
    public async Task<HttpResponseData> ListModels(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        KeyValuePair<string, string>? tag = null;
        if (request.Query["tag"] is { } asked)
        {
            var colon = asked.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return await HttpAnswers.ProblemAsync(request, HttpStatusCode.BadRequest, $"tag: '{asked}' is not key:value.", cancellationToken);
            }

            tag = new(asked[..colon], asked[(colon + 1)..]);
        }

        await store.EnsureCreatedAsync(cancellationToken);
        var (models, continuation) = await store.Registry.ListModelsAsync(
            request.Query["prefix"],
            tag,
            HttpAnswers.PageSize(request),
            request.Query["continuation"],
            cancellationToken);
        return await HttpAnswers.OkAsync(request, new { models, continuation }, cancellationToken);
    }

    /// <summary>One version.</summary>
    [Function(nameof(GetModelVersion))]
    public async Task<HttpResponseData> GetModelVersion(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models/{name}/versions/{version}")] HttpRequestData request,
        string name,
        string version,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (found, problem) = await FindVersionAsync(request, name, version, cancellationToken);
        return problem ?? await HttpAnswers.OkAsync(request, found, cancellationToken);
    }

    /// <summary>The version an alias points at.</summary>
    [Function(nameof(GetModelAlias))]
    public async Task<HttpResponseData> GetModelAlias(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models/{name}/aliases/{alias}")] HttpRequestData request,
        string name,
        string alias,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await store.EnsureCreatedAsync(cancellationToken);
        if (await store.Registry.GetModelAsync(name, cancellationToken) is not { } model)
        {
            return await HttpAnswers.NoModelAsync(request, name, cancellationToken);
        }

        return model.Aliases.TryGetValue(alias, out var number) && await store.Registry.GetVersionAsync(name, number, cancellationToken) is { } version
            ? await HttpAnswers.OkAsync(request, version, cancellationToken, model.ETag)
            : await HttpAnswers.ProblemAsync(
                request,
                HttpStatusCode.NotFound,
                $"Model '{name}' has no alias '{alias}'; its aliases are: {string.Join(", ", model.Aliases.Keys.DefaultIfEmpty("none"))}.",
                cancellationToken);
    }

    /// <summary>
    /// Points an alias at a version: <c>{ "version": 3 }</c>. With <c>If-Match</c> (the model's ETag from a GET), only
    /// if the model did not change since (else 412).
    /// </summary>
    [Function(nameof(SetModelAlias))]
    public async Task<HttpResponseData> SetModelAlias(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "models/{name}/aliases/{alias}")] HttpRequestData request,
        string name,
        string alias,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (body, badBody) = await HttpAnswers.ReadJsonAsync<AliasTarget>(request, "{ \"version\": 3 }", cancellationToken);
        if (body is null)
        {
            return badBody!;
        }

        var (_, missing) = await FindVersionAsync(request, name, body.Version.ToString(CultureInfo.InvariantCulture), cancellationToken);
        return missing ?? await ChangeAsync(
            request, name, async () => (RegisteredModel?)await store.Registry.SetAliasAsync(name, alias, body.Version, IfMatch(request), cancellationToken), cancellationToken);
    }

    /// <summary>Removes an alias; 404 when it does not exist, 412 on a stale <c>If-Match</c>.</summary>
    [Function(nameof(DeleteModelAlias))]
    public async Task<HttpResponseData> DeleteModelAlias(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "models/{name}/aliases/{alias}")] HttpRequestData request,
        string name,
        string alias,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await store.EnsureCreatedAsync(cancellationToken);
        return await ChangeAsync(
            request,
            name,
            async () => await store.Registry.DeleteAliasAsync(name, alias, IfMatch(request), cancellationToken)
                ?? throw new KeyNotFoundException($"Model '{name}' has no alias '{alias}'."),
            cancellationToken);
    }

    /// <summary>Sets a model's tag: <c>{ "value": "..." }</c>.</summary>
    [Function(nameof(SetModelTag))]
    public Task<HttpResponseData> SetModelTag(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "models/{name}/tags/{key}")] HttpRequestData request,
        string name,
        string key,
        CancellationToken cancellationToken) =>
        TagAsync(request, name, version: null, key, delete: false, cancellationToken);

    /// <summary>Removes a model's tag.</summary>
    [Function(nameof(DeleteModelTag))]
    public Task<HttpResponseData> DeleteModelTag(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "models/{name}/tags/{key}")] HttpRequestData request,
        string name,
        string key,
        CancellationToken cancellationToken) =>
        TagAsync(request, name, version: null, key, delete: true, cancellationToken);

    /// <summary>Sets a version's tag: <c>{ "value": "..." }</c>.</summary>
    [Function(nameof(SetModelVersionTag))]
    public Task<HttpResponseData> SetModelVersionTag(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "models/{name}/versions/{version}/tags/{key}")] HttpRequestData request,
        string name,
        string version,
        string key,
        CancellationToken cancellationToken) =>
        TagAsync(request, name, version, key, delete: false, cancellationToken);

    /// <summary>Removes a version's tag.</summary>
    [Function(nameof(DeleteModelVersionTag))]
    public Task<HttpResponseData> DeleteModelVersionTag(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "models/{name}/versions/{version}/tags/{key}")] HttpRequestData request,
        string name,
        string version,
        string key,
        CancellationToken cancellationToken) =>
        TagAsync(request, name, version, key, delete: true, cancellationToken);

    /// <summary>
    /// A version's <c>model.zip</c>, checked against the SHA-256 recorded at registration, which the answer carries as
    /// <c>Content-Digest</c> (RFC 9530) and <c>X-Model-Sha256</c> (hex).
    /// </summary>
    [Function(nameof(GetModelArtifact))]
    public async Task<HttpResponseData> GetModelArtifact(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models/{name}/versions/{version}/artifact")] HttpRequestData request,
        string name,
        string version,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (found, problem) = await FindVersionAsync(request, name, version, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        byte[] bytes;
        try
        {
            bytes = await store.Registry.DownloadArtifactAsync(found!, cancellationToken);
        }
        catch (ModelRegistryConflictException ex)
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.Conflict, ex.Message, cancellationToken);
        }

        var response = request.CreateResponse(HttpStatusCode.OK);
        response.Headers.Add("Content-Type", "application/zip");
        response.Headers.Add("Content-Disposition", $"attachment; filename=\"{name}-v{found!.Version}.zip\"");
        response.Headers.Add("Content-Digest", $"sha-256=:{Convert.ToBase64String(Convert.FromHexString(found.ArtifactSha256!))}:");
        response.Headers.Add("X-Model-Sha256", found.ArtifactSha256!);
        await response.WriteBytesAsync(bytes, cancellationToken);
        return response;
    }

    /// <summary>The body of an alias move.</summary>
    public sealed record AliasTarget(int Version);

    /// <summary>The body of a tag.</summary>
    public sealed record TagValue(string Value);

    private async Task<HttpResponseData> TagAsync(
        HttpRequestData request,
        string name,
        string? version,
        string key,
        bool delete,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? value = null;
        if (!delete)
        {
            var (body, badBody) = await HttpAnswers.ReadJsonAsync<TagValue>(request, "{ \"value\": \"...\" }", cancellationToken);
            if (body?.Value is null)
            {
                return badBody ?? await HttpAnswers.ProblemAsync(request, HttpStatusCode.BadRequest, "value: a tag needs a value.", cancellationToken);
            }

            value = body.Value;
        }

        await store.EnsureCreatedAsync(cancellationToken);
        if (version is null)
        {
            return await ChangeAsync(
                request,
                name,
                async () => (object?)await store.Registry.SetModelTagAsync(name, key, value, cancellationToken),
                cancellationToken);
        }

        if (!TryVersion(version, out var number))
        {
            return await BadVersionAsync(request, version, cancellationToken);
        }

        return await ChangeAsync(
            request,
            name,
            async () => (object?)await store.Registry.SetVersionTagAsync(name, number, key, value, cancellationToken)
                ?? throw new KeyNotFoundException($"Model '{name}' has no version {number}."),
            cancellationToken);
    }

    /// <summary>Runs a registry change and answers what became of it: 200 with the result, 400, 404, 409 or 412.</summary>
    private static async Task<HttpResponseData> ChangeAsync<T>(HttpRequestData request, string name, Func<Task<T?>> change, CancellationToken cancellationToken)
    {
        try
        {
            return await change() is { } changed
                ? await HttpAnswers.OkAsync(request, changed, cancellationToken, (changed as RegisteredModel)?.ETag)
                : await HttpAnswers.NoModelAsync(request, name, cancellationToken);
        }
        catch (ArgumentException ex)
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.BadRequest, ex.Message, cancellationToken);
        }
        catch (KeyNotFoundException ex)
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.NotFound, ex.Message, cancellationToken);
        }
        catch (ModelRegistryConflictException ex)
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.Conflict, ex.Message, cancellationToken);
        }
        catch (ModelRegistryPreconditionException ex)
        {
            return await HttpAnswers.ProblemAsync(request, HttpStatusCode.PreconditionFailed, ex.Message, cancellationToken);
        }
    }

    private async Task<(ModelVersion? Version, HttpResponseData? Problem)> FindVersionAsync(
        HttpRequestData request,
        string name,
        string version,
        CancellationToken cancellationToken)
    {
        if (!TryVersion(version, out var number))
        {
            return (null, await BadVersionAsync(request, version, cancellationToken));
        }

        await store.EnsureCreatedAsync(cancellationToken);
        return await store.Registry.GetVersionAsync(name, number, cancellationToken) is { } found
            ? (found, null)
            : (null, await store.Registry.GetModelAsync(name, cancellationToken) is null
                ? await HttpAnswers.NoModelAsync(request, name, cancellationToken)
                : await HttpAnswers.ProblemAsync(request, HttpStatusCode.NotFound, $"Model '{name}' has no version {number}.", cancellationToken));
    }

    private static bool TryVersion(string text, out int version) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out version) && version >= 1;

    private static Task<HttpResponseData> BadVersionAsync(HttpRequestData request, string version, CancellationToken cancellationToken) =>
        HttpAnswers.ProblemAsync(request, HttpStatusCode.BadRequest, $"version: '{version}' is not a version number (1, 2, ...).", cancellationToken);

    private static string? IfMatch(HttpRequestData request) =>
        request.Headers.TryGetValues("If-Match", out var values) ? values.FirstOrDefault() : null;
}
