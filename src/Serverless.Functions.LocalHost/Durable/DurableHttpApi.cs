using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.DurableTask.Client;
using Serverless.Functions.LocalHost.Http;

namespace Serverless.Functions.LocalHost.Durable;

/// <summary>
/// The Durable extension's HTTP API, as Core Tools serves it under <c>/runtime/webhooks/durabletask/instances</c>:
/// status (200 completed, 202 running, 400 failed or terminated, 404 unknown), list, raise event, terminate,
/// suspend, resume and purge. It needs the <c>durabletask_extension</c> system key (in status URLs) or the master key.
/// </summary>
internal sealed class DurableHttpApi(LocalDurableTaskClient client, DurableStore store, FunctionKeys keys) : IRuntimeEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public void Map(IEndpointRouteBuilder routes)
    {
        var prefix = ManagementPayload.RoutePrefix;
        routes.MapGet($"{prefix}/{{instanceId}}", GetStatusAsync);
        routes.MapGet(prefix, ListAsync);
        routes.MapPost($"{prefix}/{{instanceId}}/raiseEvent/{{eventName}}", RaiseEventAsync);
        routes.MapPost($"{prefix}/{{instanceId}}/{{operation:regex(^(terminate|suspend|resume)$)}}", ControlAsync);
        routes.MapDelete($"{prefix}/{{instanceId}}", PurgeAsync);
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
        if (showHistory)
        {
            var record = await store.GetInstanceAsync(instanceId, http.RequestAborted);
            var (events, _) = await store.ReadHistoryAsync(instanceId, record!.ExecutionId, http.RequestAborted);
            body["historyEvents"] = JsonSerializer.SerializeToElement(events, Json);
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
                await HttpHost.WriteProblemAsync(http, HttpStatusCode.BadRequest, $"runtimeStatus '{status}' is not one of Pending, Running, Completed, Failed, Terminated, Suspended.");
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
        var (records, next) = await client.QueryAsync(query, http.Request.Headers["x-ms-continuation-token"].FirstOrDefault(), top, http.RequestAborted);
        if (next is not null)
        {
            http.Response.Headers["x-ms-continuation-token"] = next;
        }

        var showInput = string.Equals(http.Request.Query["showInput"], "true", StringComparison.OrdinalIgnoreCase);
        await http.Response.WriteAsJsonAsync(records.Select(r => Status(client.ToMetadata(r, withData: true), showInput)), Json, http.RequestAborted);
    }

    private async Task RaiseEventAsync(HttpContext http, string instanceId, string eventName)
    {
        if (!await AuthorizedAsync(http) || await FindRunningAsync(http, instanceId) is null)
        {
            return;
        }

        object? payload = null;
        if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                payload = await JsonSerializer.DeserializeAsync<JsonElement>(http.Request.Body, Json, http.RequestAborted);
            }
            catch (JsonException ex)
            {
                await HttpHost.WriteProblemAsync(http, HttpStatusCode.BadRequest, $"The event payload is not JSON: {ex.Message}");
                return;
            }
        }

        await client.RaiseEventAsync(instanceId, eventName, payload, http.RequestAborted);
        http.Response.StatusCode = StatusCodes.Status202Accepted;
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
            "terminate" => client.TerminateInstanceAsync(instanceId, reason, http.RequestAborted),
            "suspend" => client.SuspendInstanceAsync(instanceId, reason, http.RequestAborted),
            _ => client.ResumeInstanceAsync(instanceId, reason, http.RequestAborted),
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
            await HttpHost.WriteProblemAsync(http, HttpStatusCode.BadRequest, $"Instance '{instanceId}' is {metadata.RuntimeStatus}; only completed, failed or terminated instances can be purged.");
            return;
        }

        var result = await client.PurgeInstanceAsync(instanceId, cancellation: http.RequestAborted);
        await http.Response.WriteAsJsonAsync(new { instancesDeleted = result.PurgedInstanceCount }, Json, http.RequestAborted);
    }

    private async Task<bool> AuthorizedAsync(HttpContext http)
    {
        if (keys.IsAuthorizedForExtension(http.Request, FunctionKeys.DurableTaskExtension))
        {
            return true;
        }

        await HttpHost.WriteProblemAsync(http, HttpStatusCode.Unauthorized, "The Durable HTTP API needs the durabletask_extension system key (it is in the status URLs) or the master key.");
        return false;
    }

    private async Task<OrchestrationMetadata?> FindAsync(HttpContext http, string instanceId)
    {
        var metadata = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, http.RequestAborted);
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
            await HttpHost.WriteProblemAsync(http, HttpStatusCode.Gone, $"Instance '{instanceId}' has already {metadata.RuntimeStatus.ToString().ToLowerInvariant()}.");
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

    private static JsonElement? Raw(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}
