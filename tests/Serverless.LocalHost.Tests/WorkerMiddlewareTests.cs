using System.Net;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Hosting;
using Serverless.LocalHost.Tests.Functions;
using Serverless.Testing;

namespace Serverless.LocalHost.Tests;

/// <summary>
/// Worker middleware an app registers with <c>UseMiddleware</c> runs around local invocations as it runs in the worker:
/// in order, and with the worker's own extension methods (<c>GetHttpRequestDataAsync</c>, <c>GetInvocationResult</c>,
/// <c>GetHttpResponseData</c>) working on the local context.
/// </summary>
[Collection(HttpFunctionsCollection.Name)]
public sealed class WorkerMiddlewareTests : IAsyncLifetime
{
    private TestFunctionsHost _host = null!;

    public async Task InitializeAsync() =>
        _host = await TestFunctionsHost.StartAsync([typeof(HttpFunctions)], configure: builder =>
        {
            builder.UseMiddleware<StampMiddleware>();
            builder.UseMiddleware<FailureAsTeapotMiddleware>();
        });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Invocation_MiddlewareInOrder_SeesRequestAndResult()
    {
        using var response = await _host.Http.GetAsync("api/ping");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("pong", await response.Content.ReadAsStringAsync());
        Assert.Equal(["outer:GET:Ping:200"], response.Headers.GetValues("X-Stamp"));
    }

    [Fact]
    public async Task FunctionThrows_MiddlewareReplacesTheResult_InsteadOf500()
    {
        using var response = await _host.Http.GetAsync("api/broken");

        Assert.Equal((HttpStatusCode)418, response.StatusCode);
        Assert.Equal("Broken failed: InvalidOperationException", await response.Content.ReadAsStringAsync());
        Assert.Equal(["outer:GET:Broken:418"], response.Headers.GetValues("X-Stamp"));
    }

    /// <summary>Outermost: stamps the response it finds after the rest ran.</summary>
    private sealed class StampMiddleware : IFunctionsWorkerMiddleware
    {
        public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
        {
            var request = await context.GetHttpRequestDataAsync();
            await next(context);
            var response = context.GetHttpResponseData()!;
            response.Headers.Add("X-Stamp", $"outer:{request!.Method}:{context.FunctionDefinition.Name}:{(int)response.StatusCode}");
        }
    }

    /// <summary>Inner: turns a failure into an answer of its own, as an exception-handling middleware does.</summary>
    private sealed class FailureAsTeapotMiddleware : IFunctionsWorkerMiddleware
    {
        public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
        {
            try
            {
                await next(context);
            }
            catch (InvalidOperationException ex)
            {
                var response = (await context.GetHttpRequestDataAsync())!.CreateResponse((HttpStatusCode)418);
                await response.WriteStringAsync($"{context.FunctionDefinition.Name} failed: {ex.GetType().Name}");
                context.GetInvocationResult().Value = response;
            }
        }
    }
}
