using System.Net;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask.Client;
using Serverless.Functions.LocalHost.Durable;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>Marks an orchestrator function's <see cref="Microsoft.DurableTask.TaskOrchestrationContext"/> parameter.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class OrchestrationTriggerAttribute : TriggerBindingAttribute
{
    /// <summary>The orchestrator's name; the function's name when null.</summary>
    public string? Orchestration { get; set; }
}

/// <summary>Marks an activity function's input parameter.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class ActivityTriggerAttribute : TriggerBindingAttribute
{
    /// <summary>The activity's name; the function's name when null.</summary>
    public string? Activity { get; set; }
}

/// <summary>Binds a <see cref="DurableTaskClient"/>.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class DurableClientAttribute : InputBindingAttribute
{
    /// <summary>The task hub; host.json's when null.</summary>
    public string? TaskHub { get; set; }

    /// <summary>The storage connection; the Durable backend's when null.</summary>
    public string? ConnectionName { get; set; }
}

/// <summary>HTTP helpers of the Durable client in Functions.</summary>
public static class DurableTaskClientExtensions
{
    /// <summary>A 202 response with the instance's status URL in Location and the management URLs in the body.</summary>
    public static Task<HttpResponseData> CreateCheckStatusResponseAsync(this DurableTaskClient client, HttpRequestData request, string instanceId, CancellationToken cancellation = default) =>
        client.CreateCheckStatusResponseAsync(request, instanceId, HttpStatusCode.Accepted, cancellation);

    /// <summary>A response with the given status, the instance's status URL in Location and the management URLs in the body.</summary>
    public static async Task<HttpResponseData> CreateCheckStatusResponseAsync(this DurableTaskClient client, HttpRequestData request, string instanceId, HttpStatusCode statusCode, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var payload = ManagementPayload.Create(client, instanceId, request);
        var response = request.CreateResponse(statusCode);
        response.Headers.Add("Location", payload.StatusQueryGetUri);
        await response.WriteAsJsonAsync<object>(payload.ToAnonymous(), cancellation);
        return response;
    }

    /// <summary>The same, synchronously.</summary>
    public static HttpResponseData CreateCheckStatusResponse(this DurableTaskClient client, HttpRequestData request, string instanceId, CancellationToken cancellation = default) =>
        client.CreateCheckStatusResponseAsync(request, instanceId, cancellation).GetAwaiter().GetResult();

    /// <summary>The same, synchronously, with a status code.</summary>
    public static HttpResponseData CreateCheckStatusResponse(this DurableTaskClient client, HttpRequestData request, string instanceId, HttpStatusCode statusCode, CancellationToken cancellation = default) =>
        client.CreateCheckStatusResponseAsync(request, instanceId, statusCode, cancellation).GetAwaiter().GetResult();

    /// <summary>The management URLs of an instance: id, statusQueryGetUri, sendEventPostUri, terminatePostUri, suspendPostUri, resumePostUri, purgeHistoryDeleteUri.</summary>
    public static object CreateHttpManagementPayload(this DurableTaskClient client, string instanceId, HttpRequestData? request = null) =>
        ManagementPayload.Create(client, instanceId, request).ToAnonymous();
}
