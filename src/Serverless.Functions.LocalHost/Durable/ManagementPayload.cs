using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.LocalHost.Hosting;
using Serverless.Functions.LocalHost.Http;

namespace Serverless.Functions.LocalHost.Durable;

/// <summary>The management URLs of an instance, as the Durable extension builds them (base URL of the request, then the task hub query).</summary>
internal sealed record ManagementPayload(
    string Id,
    string StatusQueryGetUri,
    string SendEventPostUri,
    string TerminatePostUri,
    string SuspendPostUri,
    string ResumePostUri,
    string PurgeHistoryDeleteUri)
{
    public const string RoutePrefix = "runtime/webhooks/durabletask/instances";

    public static ManagementPayload Create(DurableTaskClient client, string instanceId, HttpRequestData? request)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        var services = (client as LocalDurableTaskClient)?.Services ?? request?.FunctionContext.InstanceServices;
        var baseUrl = request?.Url.GetLeftPart(UriPartial.Authority)
            ?? services?.GetService<LocalHttpEndpoint>()?.BaseAddress?.GetLeftPart(UriPartial.Authority)
            ?? throw new InvalidOperationException("A request is needed to build the management URLs before the HTTP listener has started.");
        var instanceUrl = $"{baseUrl}/{RoutePrefix}/{Uri.EscapeDataString(instanceId)}";
        var query = client is LocalDurableTaskClient local
            ? $"taskHub={Uri.EscapeDataString(local.TaskHub)}&connection=Storage&code={Uri.EscapeDataString(local.Keys.SystemKey(FunctionKeys.DurableTaskExtension))}"
            : string.Empty;
        var withQuery = query.Length == 0 ? string.Empty : "?" + query;
        var andQuery = query.Length == 0 ? string.Empty : "&" + query;
        return new ManagementPayload(
            instanceId,
            instanceUrl + withQuery,
            $"{instanceUrl}/raiseEvent/{{eventName}}{withQuery}",
            $"{instanceUrl}/terminate?reason={{text}}{andQuery}",
            $"{instanceUrl}/suspend?reason={{text}}{andQuery}",
            $"{instanceUrl}/resume?reason={{text}}{andQuery}",
            instanceUrl + withQuery);
    }

    /// <summary>The payload with the property names the extension uses.</summary>
    public object ToAnonymous() => new
    {
        id = Id,
        purgeHistoryDeleteUri = PurgeHistoryDeleteUri,
        sendEventPostUri = SendEventPostUri,
        statusQueryGetUri = StatusQueryGetUri,
        terminatePostUri = TerminatePostUri,
        suspendPostUri = SuspendPostUri,
        resumePostUri = ResumePostUri,
    };
}
