using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Functions.LocalHost.Hosting;
using Serverless.Functions.LocalHost.Http;

namespace Serverless.Functions.LocalHost.Tests;

public sealed class FunctionKeysTests
{
    private readonly FunctionKeys _keys = new(Options.Create(new LocalHostOptions { Keys = { Master = "master", Function = "function" } }), NullLogger<FunctionKeys>.Instance);

    [Theory]
    [InlineData(AuthorizationLevel.Anonymous, null, true)]
    [InlineData(AuthorizationLevel.Function, null, false)]
    [InlineData(AuthorizationLevel.Function, "function", true)]
    [InlineData(AuthorizationLevel.Function, "master", true)]
    [InlineData(AuthorizationLevel.Function, "Function", false)]
    [InlineData(AuthorizationLevel.User, "function", true)]
    [InlineData(AuthorizationLevel.Admin, "function", false)]
    [InlineData(AuthorizationLevel.Admin, "master", true)]
    [InlineData(AuthorizationLevel.System, "function", false)]
    public void IsAuthorized_KeyInHeader_OpensOnlyItsLevels(AuthorizationLevel level, string? key, bool expected)
    {
        var context = new DefaultHttpContext();
        if (key is not null)
        {
            context.Request.Headers[FunctionKeys.HeaderName] = key;
        }

        Assert.Equal(expected, _keys.IsAuthorized(context.Request, level));
    }

    [Fact]
    public void IsAuthorized_KeyInCodeQuery_Accepted()
    {
        var context = new DefaultHttpContext();
        context.Request.QueryString = new QueryString("?code=function");

        Assert.True(_keys.IsAuthorized(context.Request, AuthorizationLevel.Function));
    }

    [Fact]
    public void Constructor_NoKeysConfigured_GeneratesDistinctUnguessableKeys()
    {
        var keys = new FunctionKeys(Options.Create(new LocalHostOptions()), NullLogger<FunctionKeys>.Instance);

        Assert.True(keys.Master.Length >= 40);
        Assert.True(keys.Function.Length >= 40);
        Assert.NotEqual(keys.Master, keys.Function);
    }
}
