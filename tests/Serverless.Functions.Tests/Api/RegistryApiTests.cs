using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Serverless.Functions.Tests.EndToEnd;
using Serverless.Testing;

namespace Serverless.Functions.Tests.Api;

/// <summary>The registry's routes on the local host and Azurite: list, search, versions, aliases with ETags, tags, artifacts.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RegistryApiTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private readonly string _model = $"reg-{Guid.NewGuid():N}"[..14];
    private ApiHost _api = null!;

    public async Task InitializeAsync()
    {
        _api = await ApiHost.StartAsync(azurite);
        await _api.RegisterAsync(_model, 3, new Dictionary<string, string> { ["team"] = "growth" });
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task ListModels_PrefixTagAndPages_EachModelOnce()
    {
        await _api.RegisterAsync($"{_model}-b", 1, new Dictionary<string, string> { ["team"] = "risk" });
        await _api.RegisterAsync($"{_model}-c", 1, new Dictionary<string, string> { ["team"] = "growth" });

        var names = new List<string>();
        string? continuation = null;
        do
        {
            var page = await GetJsonAsync($"api/models?prefix={_model}&pageSize=2{(continuation is null ? "" : $"&continuation={Uri.EscapeDataString(continuation)}")}");
            names.AddRange(page.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("name").GetString()!));
            continuation = page.GetProperty("continuation").GetString();
        }
        while (continuation is not null);
        var growth = await GetJsonAsync($"api/models?prefix={_model}&tag=team:growth");

        Assert.Equal([_model, $"{_model}-b", $"{_model}-c"], names);
        Assert.Equal([_model, $"{_model}-c"], growth.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Versions_GetOneAndByAlias_404ForUnknownModelOrVersion()
    {
        using var set = await _api.Http.PutAsJsonAsync($"api/models/{_model}/aliases/staging", new { version = 2 });
        var version = await GetJsonAsync($"api/models/{_model}/versions/3");
        var byAlias = await GetJsonAsync($"api/models/{_model}/aliases/staging");
        using var noVersion = await _api.Http.GetAsync($"api/models/{_model}/versions/9");
        using var noModel = await _api.Http.GetAsync("api/models/no-such-model/versions/1");
        using var noAlias = await _api.Http.GetAsync($"api/models/{_model}/aliases/prod");
        using var notANumber = await _api.Http.GetAsync($"api/models/{_model}/versions/latest");

        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(3, version.GetProperty("version").GetInt32());
        Assert.Equal(0.83, version.GetProperty("metrics").GetProperty("auc").GetDouble(), 12);
        Assert.Equal(2, byAlias.GetProperty("version").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, noVersion.StatusCode);
        Assert.Equal("application/problem+json", noVersion.Content.Headers.ContentType!.MediaType);
        Assert.Contains("has no version 9", await DetailAsync(noVersion), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, noModel.StatusCode);
        Assert.Contains("No model 'no-such-model'", await DetailAsync(noModel), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, noAlias.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notANumber.StatusCode);
    }

    [Fact]
    public async Task SetAlias_StaleIfMatch_412_WithCurrentETag_Moves_ThenDeleted()
    {
        using var read = await _api.Http.GetAsync($"api/models/{_model}");
        var etag = read.Headers.ETag!.ToString();
        using var first = await SendAsync(HttpMethod.Put, $"api/models/{_model}/aliases/champion", new { version = 1 }, etag);
        using var stale = await SendAsync(HttpMethod.Put, $"api/models/{_model}/aliases/champion", new { version = 3 }, etag);
        using var fresh = await SendAsync(HttpMethod.Put, $"api/models/{_model}/aliases/champion", new { version = 3 }, first.Headers.ETag!.ToString());
        using var reserved = await SendAsync(HttpMethod.Put, $"api/models/{_model}/aliases/latest", new { version = 3 }, null);
        using var deleted = await SendAsync(HttpMethod.Delete, $"api/models/{_model}/aliases/champion", null, null);
        using var again = await SendAsync(HttpMethod.Delete, $"api/models/{_model}/aliases/champion", null, null);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Contains("changed since you read it", await DetailAsync(stale), StringComparison.Ordinal);
        Assert.Equal(3, (await fresh.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("aliases").GetProperty("champion").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, reserved.StatusCode);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Tags_SetAndDeletedOnModelAndVersion()
    {
        using var set = await _api.Http.PutAsJsonAsync($"api/models/{_model}/tags/owner", new { value = "ana" });
        using var versionTag = await _api.Http.PutAsJsonAsync($"api/models/{_model}/versions/2/tags/validated", new { value = "yes" });
        using var removed = await _api.Http.DeleteAsync($"api/models/{_model}/tags/team");
        using var noValue = await _api.Http.PutAsJsonAsync($"api/models/{_model}/tags/owner", new { other = 1 });
        var model = await GetJsonAsync($"api/models/{_model}");
        var version = await GetJsonAsync($"api/models/{_model}/versions/2");

        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(HttpStatusCode.OK, versionTag.StatusCode);
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noValue.StatusCode);
        Assert.Equal("{\"owner\":\"ana\"}", model.GetProperty("model").GetProperty("tags").GetRawText());
        Assert.Equal("yes", version.GetProperty("tags").GetProperty("validated").GetString());
    }

    [Fact]
    public async Task Artifact_StreamedWithItsSha256()
    {
        using var response = await _api.Http.GetAsync($"api/models/{_model}/versions/2/artifact");
        var bytes = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/zip", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(new byte[] { 1, 2, 3, 2 }, bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), response.Headers.GetValues("X-Model-Sha256").Single());
        Assert.Equal($"sha-256=:{Convert.ToBase64String(SHA256.HashData(bytes))}:", response.Headers.GetValues("Content-Digest").Single());
    }

    [Theory]
    [InlineData("GET", "api/models")]
    [InlineData("GET", "api/models/x/versions/1")]
    [InlineData("PUT", "api/models/x/aliases/champion")]
    [InlineData("GET", "api/models/x/versions/1/artifact")]
    [InlineData("GET", "api/runs")]
    [InlineData("GET", "api/runs/r/trials")]
    [InlineData("GET", "api/models/x/scoring-jobs")]
    [InlineData("GET", "api/models/x/drift")]
    public async Task Routes_WithoutAKey_401(string method, string route)
    {
        using var plain = new HttpClient { BaseAddress = _api.Http.BaseAddress };
        using var response = await plain.SendAsync(new HttpRequestMessage(new HttpMethod(method), route));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private static async Task<string> DetailAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;

    private async Task<JsonElement> GetJsonAsync(string route)
    {
        using var response = await _api.Http.GetAsync(route);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{route}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string route, object? body, string? ifMatch)
    {
        var request = new HttpRequestMessage(method, route) { Content = body is null ? null : JsonContent.Create(body) };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return _api.Http.SendAsync(request);
    }
}
