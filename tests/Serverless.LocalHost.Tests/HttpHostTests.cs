using System.Net;
using System.Net.Http.Json;
using Serverless.LocalHost.Tests.Functions;
using Serverless.Testing;

namespace Serverless.LocalHost.Tests;

/// <summary>The HTTP listener on a real Kestrel; no storage is touched by these functions.</summary>
[Collection(HttpFunctionsCollection.Name)]
public sealed class HttpHostTests : IAsyncLifetime
{
    private TestFunctionsHost _host = null!;

    public async Task InitializeAsync() =>
        _host = await TestFunctionsHost.StartAsync([typeof(HttpFunctions)], new Dictionary<string, string?> { ["LocalHost:Http:MaxRequestBodyBytes"] = "1024" });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Get_RouteValueAndFunctionKey_BindsIntAndAnswersJson()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/items/42?name=widget");
        request.Headers.Add("x-functions-key", TestFunctionsHost.FunctionKey);

        using var response = await _host.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(new HttpFunctions.Item(42, "widget"), await response.Content.ReadFromJsonAsync<HttpFunctions.Item>());
    }

    [Fact]
    public async Task Get_KeyInCodeQuery_Accepted()
    {
        using var response = await _host.Http.GetAsync($"api/items/7?code={TestFunctionsHost.FunctionKey}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    public async Task Get_MissingOrWrongKey_Returns401(string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/items/42");
        if (key is not null)
        {
            request.Headers.Add("x-functions-key", key);
        }

        using var response = await _host.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Post_AdminLevel_FunctionKeyRefusedMasterKeyAccepted()
    {
        using var withFunctionKey = new HttpRequestMessage(HttpMethod.Post, "api/admin/thing");
        withFunctionKey.Headers.Add("x-functions-key", TestFunctionsHost.FunctionKey);
        using var withMasterKey = new HttpRequestMessage(HttpMethod.Post, "api/admin/thing");
        withMasterKey.Headers.Add("x-functions-key", TestFunctionsHost.MasterKey);

        using var refused = await _host.Http.SendAsync(withFunctionKey);
        using var accepted = await _host.Http.SendAsync(withMasterKey);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
    }

    [Fact]
    public async Task Get_Anonymous_NoKeyNeeded()
    {
        Assert.Equal("pong", await _host.Http.GetStringAsync("api/ping"));
    }

    [Theory]
    [InlineData("api/nothing-here")]
    [InlineData("api/items/not-a-number")]
    [InlineData("ping")]
    public async Task Get_UnknownRouteOrFailedConstraint_Returns404(string path)
    {
        using var response = await _host.Http.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Delete_RouteWithOtherMethod_Returns405()
    {
        using var response = await _host.Http.DeleteAsync("api/ping");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task Post_BodyOverLimit_Returns413AndUnderLimitIsRead()
    {
        using var tooBig = await _host.Http.PostAsync("api/upload", new StringContent(new string('x', 2048)));
        using var small = await _host.Http.PostAsync("api/upload", new StringContent(new string('x', 512)));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Equal("512", await small.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Post_FunctionReturnsPoco_SerializedWithWorkerSerializer()
    {
        using var response = await _host.Http.PostAsJsonAsync("api/echo", new { id = 5, name = "five" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new HttpFunctions.Item(5, "five"), await response.Content.ReadFromJsonAsync<HttpFunctions.Item>());
    }

    [Fact]
    public async Task Get_FunctionThrows_Returns500WithoutInternals()
    {
        using var response = await _host.Http.GetAsync("api/broken");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.DoesNotContain("secret internal detail", body, StringComparison.Ordinal);
    }
}
