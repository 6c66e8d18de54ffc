using System.Collections.Concurrent;
using System.Net;
using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Serverless.LocalHost.Tests.Functions;

/// <summary>What test functions saw, shared with the test through DI.</summary>
public sealed class InvocationRecorder
{
    public ConcurrentQueue<string> Calls { get; } = new();

    public ConcurrentQueue<TimerInfo> Timers { get; } = new();
}

public sealed class HttpFunctions
{
    public sealed record Item(int Id, string Name);

    [Function("GetItem")]
    public static async Task<HttpResponseData> GetItemAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "items/{id:int}")] HttpRequestData request, int id)
    {
        var response = request.CreateResponse(HttpStatusCode.OK);
        await response.WriteAsJsonAsync(new Item(id, request.Query["name"] ?? "none"));
        return response;
    }

    [Function("Ping")]
    public static HttpResponseData Ping([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "ping")] HttpRequestData request)
    {
        var response = request.CreateResponse(HttpStatusCode.OK);
        response.WriteString("pong");
        return response;
    }

    [Function("AdminOnly")]
    public static HttpResponseData AdminOnly([HttpTrigger(AuthorizationLevel.Admin, "post", Route = "admin/thing")] HttpRequestData request) =>
        request.CreateResponse(HttpStatusCode.Accepted);

    [Function("Upload")]
    public static async Task<HttpResponseData> UploadAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "upload")] HttpRequestData request)
    {
        var body = await request.ReadAsStringAsync();
        var response = request.CreateResponse(HttpStatusCode.OK);
        await response.WriteStringAsync($"{body?.Length}");
        return response;
    }

    [Function("Echo")]
    public static async Task<Item?> EchoAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "echo")] HttpRequestData request) =>
        await request.ReadFromJsonAsync<Item>();

    [Function("Broken")]
    public static HttpResponseData Broken([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "broken")] HttpRequestData request) =>
        throw new InvalidOperationException("secret internal detail");
}

/// <summary>Instance class: its recorder comes from DI through the constructor.</summary>
public sealed class BlobFunctions(InvocationRecorder recorder)
{
    [Function("OnBlob")]
    public async Task RunAsync([BlobTrigger("%TestContainer%/{name}")] string content, string name, FunctionContext context)
    {
        await Task.Yield();
        recorder.Calls.Enqueue($"{name}|{content}|{context.BindingContext.BindingData["BlobTrigger"]}");
    }
}

public sealed class FailingBlobFunctions(InvocationRecorder recorder)
{
    [Function("OnBlobFails")]
    public void Run([BlobTrigger("%TestContainer%/in/{name}")] BlobClient blob, string name, FunctionContext context)
    {
        recorder.Calls.Enqueue($"{name}|retry {context.RetryContext.RetryCount}");
        throw new InvalidOperationException($"cannot process {blob.Name}");
    }
}

public sealed class TimerFunctions(InvocationRecorder recorder)
{
    [Function("EverySecond")]
    public void Run([TimerTrigger("* * * * * *")] TimerInfo timer) => recorder.Timers.Enqueue(timer);
}

public sealed class StartupTimerFunctions(InvocationRecorder recorder)
{
    [Function("YearlyButOnStartup")]
    public void Run([TimerTrigger("0 0 0 1 1 *", RunOnStartup = true)] TimerInfo timer) => recorder.Timers.Enqueue(timer);
}

/// <summary>Queue-triggered: a JSON message bound to a record; "fail" in it makes the function throw.</summary>
public sealed class QueueFunctions(InvocationRecorder recorder)
{
    public sealed record Order(string Id, string Action);

    [Function("OnOrder")]
    public void Run([QueueTrigger("%TestQueue%")] Order order, FunctionContext context)
    {
        recorder.Calls.Enqueue($"{order.Id}|{order.Action}|delivery {context.BindingContext.BindingData["DequeueCount"]}|retry {context.RetryContext.RetryCount}");
        if (order.Action == "fail")
        {
            throw new InvalidOperationException($"cannot process order {order.Id}");
        }
    }
}
