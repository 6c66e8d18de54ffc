using System.Diagnostics;
using Serverless.LocalHost.Tests.Functions;
using Serverless.Testing;

namespace Serverless.LocalHost.Tests;

[Collection(HttpFunctionsCollection.Name)]
public sealed class InvocationTracingTests
{
    [Fact]
    public async Task Invocation_EachOne_RecordsASpanWithFunctionNameAndOutcome()
    {
        using var spans = new InvocationSpans();
        await using var host = await TestFunctionsHost.StartAsync([typeof(HttpFunctions)]);

        (await host.Http.GetAsync("api/ping")).Dispose();
        (await host.Http.GetAsync("api/broken")).Dispose();

        var ping = Assert.Single(spans.Of("Ping"));
        var broken = Assert.Single(spans.Of("Broken"));
        Assert.Equal("http", ping.GetTagItem("faas.trigger"));
        Assert.NotNull(ping.GetTagItem("faas.invocation_id"));
        Assert.Equal(ActivityStatusCode.Unset, ping.Status);
        Assert.Equal(ActivityStatusCode.Error, broken.Status);
    }
}
