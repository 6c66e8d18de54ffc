using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.LargePayloadPurge.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Serverless.LocalHost.Hosting;
using Serverless.LocalHost.Http;
using Serverless.LocalHost.Invocation;

namespace Serverless.LocalHost.Durable;

/// <summary>
/// Binds <c>[DurableClient] DurableTaskClient</c> as the Functions host binds it: the extension's own per-binding client
/// (<c>FunctionsDurableTaskClient</c>) around a client of the task hub, carrying the query string
/// (<c>taskHub</c>, <c>connection</c>, <c>code</c>) and base URL that the real <c>CreateCheckStatusResponseAsync</c>
/// puts into status URLs. Around <see cref="LocalDurableTaskClient"/> rather than a gRPC client, since the Durable
/// extension runs in this process. The extension keeps that type internal, so it is made by reflection, and a package
/// version without it fails the start rather than a request.
/// </summary>
internal sealed class DurableClientBinding(IServiceProvider services) : IInputBindingProvider
{
    private const string BoundClientType = "Microsoft.Azure.Functions.Worker.FunctionsDurableTaskClient";

    private static readonly Lazy<ConstructorInfo?> BoundClient = new(() => typeof(DurableClientAttribute).Assembly.GetType(BoundClientType)?
        .GetConstructor([typeof(DurableTaskClient), typeof(string), typeof(string), typeof(ILargePayloadPurgeClient)]));

    public ParameterBinder? TryCreate(ParameterInfo parameter)
    {
        if (parameter.GetCustomAttribute<DurableClientAttribute>() is not { } attribute)
        {
            return null;
        }

        if (parameter.ParameterType != typeof(DurableTaskClient))
        {
            throw new FunctionIndexingException(
                $"Parameter '{parameter.Name}': [DurableClient] binds to DurableTaskClient, not {parameter.ParameterType.Name}.");
        }

        var hub = services.GetRequiredService<DurableTaskHub>();
        if (attribute.TaskHub is { Length: > 0 } other && !string.Equals(other, hub.Name, StringComparison.OrdinalIgnoreCase))
        {
            throw new FunctionIndexingException(
                $"Parameter '{parameter.Name}': [DurableClient(TaskHub = \"{other}\")] names another task hub; the local host serves '{hub.Name}' only.");
        }

        var constructor = BoundClient.Value ?? throw new FunctionIndexingException(
            $"Parameter '{parameter.Name}': this version of the Durable extension has no {BoundClientType}"
            + "(DurableTaskClient, string, string, ILargePayloadPurgeClient); the local host cannot bind [DurableClient].");
        var inner = services.GetRequiredService<LocalDurableTaskClient>();
        var keys = services.GetRequiredService<FunctionKeys>();
        var endpoint = services.GetRequiredService<LocalHttpEndpoint>();
        var connection = hub.ConnectionName == Serverless.Storage.StorageClientFactory.DefaultConnectionName ? "Storage" : hub.ConnectionName;
        return async (context, _) =>
        {
            await keys.LoadAsync(context.CancellationToken);
            var code = keys.SystemKey(FunctionKeys.DurableTaskExtension);
            var query = $"taskHub={Uri.EscapeDataString(hub.Name)}&connection={Uri.EscapeDataString(connection)}&code={Uri.EscapeDataString(code)}";
            var baseUrl = endpoint.BaseAddress is { } address ? $"{address.GetLeftPart(UriPartial.Authority)}/{DurableHttpApi.RoutePrefix}" : null;
            return constructor.Invoke([inner, query, baseUrl, null]);
        };
    }
}
