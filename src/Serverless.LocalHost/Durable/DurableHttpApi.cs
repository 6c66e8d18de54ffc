using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Serverless.LocalHost.Http;

namespace Serverless.LocalHost.Durable;

/// <summary>
/// The Durable extension's HTTP API, as Core Tools serves it under <c>/runtime/webhooks/durabletask/instances</c>:
/// status (200 completed, 202 running, 400 failed or terminated, 404 unknown), list, start, raise event, terminate,
/// suspend, resume and purge, over the task hub's client. It needs the <c>durabletask_extension</c> system key (in
/// status URLs) or the master key.
/// </summary>
internal sealed class DurableHttpApi(IServiceProvider services, FunctionKeys keys) : IRuntimeEndpoints
{
    /// <summary>Where the API lives, under the host's root (not the <c>api</c> route prefix).</summary>
    public const string RoutePrefix = "runtime/webhooks/durabletask";

    private const string InstancesPrefix = RoutePrefix + "/instances";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Resolved on first use, so an app without Durable functions needs no task hub.
    private LocalDurableTaskClient Client => services.GetRequiredService<LocalDurableTaskClient>();

    public void Map(IEndpointRouteBuilder routes)
    {
        routes.MapPost($"{RoutePrefix}/orchestrators/{{functionName}}/{{instanceId?}}", StartAsync);
        routes.MapGet($"{InstancesPrefix}/{{instanceId}}", GetStatusAsync);
        routes.MapGet(InstancesPrefix, ListAsync);
        routes.MapPost($"{InstancesPrefix}/{{instanceId}}/raiseEvent/{{eventName}}", RaiseEventAsync);
        routes.MapPost($"{InstancesPrefix}/{{instanceId}}/{{operation:regex(^(terminate|suspend|resume)$)}}", ControlAsync);
        routes.MapDelete($"{InstancesPrefix}/{{instanceId}}", PurgeAsync);
    }

    private async Task StartAsync(HttpContext http, string functionName, string? instanceId)
    {
        if (!await AuthorizedAsync(http) || await ReadPayloadAsync(http) is not (true, var input))
        {
            return;
        }

        var id = await Client.ScheduleNewOrchestrationInstanceAsync(functionName, input, new StartOrchestrationOptions(instanceId), http.RequestAborted);
        http.Response.StatusCode = StatusCodes.Status202Accepted;
        http.Response.Headers.Location = $"{http.Request.Scheme}://{http.Request.Host}/{InstancesPrefix}/{Uri.EscapeDataString(id)}{http.Request.QueryString}";
        await http.Response.WriteAsJsonAsync(new { id }, Json, http.RequestAborted);
    }

    private async Task GetStatusAsync(HttpContext http, string instanceId)
    {
        if (!await AuthorizedAsync(http) || await FindAsync(http, instanceId) is not { } metadata)
        {
            return;
        }

        var showInput = !string.Equals(http.Request.Query["showInput"], "false", StringComparison.OrdinalIgnoreCase);
        var showHistory = string.Equals(http.Request.Query["showHistory"], "true", StringComparison.OrdinalIgnoreCase);
        var body = Status(metadata, showInput);
        if (showHistory && await Client.GetHistoryJsonAsync(instanceId, http.RequestAborted) is { } history)
        {
            body["historyEvents"] = Raw(history);
        }

        http.Response.StatusCode = metadata.RuntimeStatus switch
        {
            OrchestrationRuntimeStatus.Completed => StatusCodes.Status200OK,
            OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated => StatusCodes.Status400BadRequest,
            _ => StatusCodes.Status202Accepted,
        };
        if (http.Response.StatusCode == StatusCodes.Status202Accepted)
        {
            http.Response.Headers.Location = $"{http.Request.Scheme}://{http.Request.Host}{http.Request.Path}{http.Request.QueryString}";
        }

        await http.Response.WriteAsJsonAsync(body, Json, http.RequestAborted);
    }

    private async Task ListAsync(HttpContext http)
    {
        if (!await AuthorizedAsync(http))
        {
            return;
        }

        var statuses = http.Request.Query["runtimeStatus"].SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        var parsed = new List<OrchestrationRuntimeStatus>();
        foreach (var status in statuses)
        {
            if (!Enum.TryParse<OrchestrationRuntimeStatus>(status, ignoreCase: true, out var value))
            {
                await HttpHost.WriteProblemAsync(http, HttpStatusCode.BadRequest,
                    $"runtimeStatus '{status}' is not one of Pending, Running, Completed, Failed, Terminated, Suspended.");
                return;
            }

            parsed.Add(value);
        }

        var top = int.TryParse(http.Request.Query["top"], out var t) && t > 0 ? Math.Min(t, 1000) : OrchestrationQuery.DefaultPageSize;
        var query = new OrchestrationQuery(
            CreatedFrom: DateTimeOffset.TryParse(http.Request.Query["createdTimeFrom"], out var from) ? from : null,
            CreatedTo: DateTimeOffset.TryParse(http.Request.Query["createdTimeTo"], out var to) ? to : null,
            Statuses: parsed.Count > 0 ? parsed : null,
            InstanceIdPrefix: http.Request.Query["instanceIdPrefix"].FirstOrDefault(),
            PageSize: top);
        var showInput = string.Equals(http.Request.Query["showInput"], "true", StringComparison.OrdinalIgnoreCase);
        query = query with { FetchInputsAndOutputs = true };
        var pages = Client.GetAllInstancesAsync(query).AsPages(http.Request.Headers["x-ms-continuation-token"].FirstOrDefault(), top);
        await foreach (var page in pages.WithCancellation(http.RequestAborted))
        {
            if (page.ContinuationToken is { } next)
            {
                http.Response.Headers["x-ms-continuation-token"] = next;
            }

            await http.Response.WriteAsJsonAsync(page.Values.Select(m => Status(m, showInput)), Json, http.RequestAborted);
            return;
        }

        await http.Response.WriteAsJsonAsync(Array.Empty<object>(), Json, http.RequestAborted);
    }

    private async Task RaiseEventAsync(HttpContext http, string instanceId, string eventName)
    {
        if (!await AuthorizedAsync(http) || await FindRunningAsync(http, instanceId) is null)
        {
            return;
        }

        if (await ReadPayloadAsync(http) is not (true, var payload))
        {
            return;
        }

        await Client.RaiseEventAsync(instanceId, eventName, payload, http.RequestAborted);
        http.Response.StatusCode = StatusCodes.Status202Accepted;
    }

    /// <summary>The JSON body (null when there is none); not ok, after a 400 answer, when it is not JSON.</summary>
    private static async Task<(bool Ok, JsonElement? Payload)> ReadPayloadAsync(HttpContext http)
    {
        if (http.Request.ContentLength is not > 0 && http.Request.Headers.TransferEncoding.Count == 0)
        {
            return (true, null);
        }

        try
        {
            return (true, await JsonSerializer.DeserializeAsync<JsonElement>(http.Request.Body, Json, http.RequestAborted));
        }
        catch (JsonException ex)
        {
            await HttpHost.WriteProblemAsync(http, HttpStatusCode.BadRequest, $"The body is not JSON: {ex.Message}");
            return (false, null);
        }
    }

    private async Task ControlAsync(HttpContext http, string instanceId, string operation)
    {
        if (!await AuthorizedAsync(http) || await FindRunningAsync(http, instanceId) is null)
        {
            return;
        }

        var reason = http.Request.Query["reason"].FirstOrDefault();
        await (operation switch
        {
            "terminate" => Client.TerminateInstanceAsync(instanceId, reason, http.RequestAborted),
            "suspend" => Client.SuspendInstanceAsync(instanceId, reason, http.RequestAborted),
            _ => Client.ResumeInstanceAsync(instanceId, reason, http.RequestAborted),
        });
        http.Response.StatusCode = StatusCodes.Status202Accepted;
    }

    private async Task PurgeAsync(HttpContext http, string instanceId)
    {
        if (!await AuthorizedAsync(http) || await FindAsync(http, instanceId) is not { } metadata)
        {
            return;
        }

        if (!metadata.IsCompleted)
        {
            await HttpHost.WriteProblemAsync(http, HttpStatusCode.BadRequest,
                $"Instance '{instanceId}' is {metadata.RuntimeStatus}; only completed, failed or terminated instances can be purged.");
            return;
        }

        var result = await Client.PurgeInstanceAsync(instanceId, cancellation: http.RequestAborted);
        await http.Response.WriteAsJsonAsync(new { instancesDeleted = result.PurgedInstanceCount }, Json, http.RequestAborted);
    }

    private async Task<bool> AuthorizedAsync(HttpContext http)
    {
        if (keys.IsAuthorizedForExtension(http.Request, FunctionKeys.DurableTaskExtension))
        {
            return true;
        }

        await HttpHost.WriteProblemAsync(http, HttpStatusCode.Unauthorized,
            "The Durable HTTP API needs the durabletask_extension system key (it is in the status URLs) or the master key.");
        return false;
    }

    private async Task<OrchestrationMetadata?> FindAsync(HttpContext http, string instanceId)
    {
        var metadata = await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, http.RequestAborted);
        if (metadata is null)
        {
            await HttpHost.WriteProblemAsync(http, HttpStatusCode.NotFound, $"No orchestration instance with id '{instanceId}'.");
        }

        return metadata;
    }

    private async Task<OrchestrationMetadata?> FindRunningAsync(HttpContext http, string instanceId)
    {
        var metadata = await FindAsync(http, instanceId);
        if (metadata is { IsCompleted: true })
        {
            await HttpHost.WriteProblemAsync(http, HttpStatusCode.Gone,
                $"Instance '{instanceId}' has already {metadata.RuntimeStatus.ToString().ToLowerInvariant()}.");
            return null;
        }

        return metadata;
    }

    private static Dictionary<string, object?> Status(OrchestrationMetadata metadata, bool showInput) => new()
    {
        ["name"] = metadata.Name,
        ["instanceId"] = metadata.InstanceId,
        ["runtimeStatus"] = metadata.RuntimeStatus.ToString(),
        ["input"] = showInput ? Raw(metadata.SerializedInput) : null,
        ["customStatus"] = Raw(metadata.SerializedCustomStatus),
        ["output"] = metadata.FailureDetails is { } failure ? failure.ErrorMessage : Raw(metadata.SerializedOutput),
        ["createdTime"] = metadata.CreatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        ["lastUpdatedTime"] = metadata.LastUpdatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>A stored value as JSON; one that is not JSON (a reason or message kept as text) as a JSON string.</summary>
    private static JsonElement? Raw(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(json);
        }
    }
}
