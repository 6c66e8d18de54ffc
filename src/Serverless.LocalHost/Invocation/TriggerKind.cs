using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.Extensions.Configuration;
using Serverless.LocalHost.Blobs;
using Serverless.LocalHost.Hosting;
using Serverless.LocalHost.Timers;

namespace Serverless.LocalHost.Invocation;

/// <summary>
/// A trigger the local runtime can serve: its attribute, the parameter types it binds to, and a check run at start
/// that returns the names of the binding data it provides (route values, blob path values).
/// </summary>
internal sealed record TriggerKind(
    Type AttributeType,
    string BindingType,
    IReadOnlyList<Type> ParameterTypes,
    Func<Attribute, string, IReadOnlyCollection<string>> Validate)
{
    public static TriggerKind Http() => new(
        typeof(HttpTriggerAttribute),
        "httpTrigger",
        [typeof(HttpRequestData)],
        (attribute, functionName) => HttpRouteParameters(((HttpTriggerAttribute)attribute).Route ?? functionName));

    public static TriggerKind Blob(IConfiguration configuration) => new(
        typeof(BlobTriggerAttribute),
        "blobTrigger",
        [typeof(BlobClient), typeof(BlockBlobClient), typeof(BlobBaseClient), typeof(Stream), typeof(byte[]), typeof(string), typeof(BinaryData)],
        (attribute, functionName) =>
        {
            var path = AppSettings.Resolve(configuration, ((BlobTriggerAttribute)attribute).BlobPath, $"Function '{functionName}', blob path");
            return [.. BlobPathPattern.Parse(path).ParameterNames, BlobPathPattern.BlobTriggerKey, BlobPathPattern.UriKey];
        });

    /// <summary>A queue message: as <c>QueueMessage</c>, text, bytes, or a type read from its JSON.</summary>
    public static TriggerKind Queue(IConfiguration configuration) => new(
        typeof(QueueTriggerAttribute),
        "queueTrigger",
        [],
        (attribute, functionName) =>
        {
            Queues.QueueTriggerListener.QueueName(configuration, (QueueTriggerAttribute)attribute, functionName);
            return Queues.QueueTriggerListener.BindingDataNames;
        });

    public static TriggerKind Timer(IConfiguration configuration) => new(
        typeof(TimerTriggerAttribute),
        "timerTrigger",
        [typeof(TimerInfo)],
        (attribute, functionName) =>
        {
            TimerSchedule.Resolve(configuration, ((TimerTriggerAttribute)attribute).Schedule);
            return [];
        });

    private static string[] HttpRouteParameters(string route)
    {
        if (route.StartsWith('/') || route.StartsWith('~'))
        {
            throw new InvalidOperationException($"route '{route}' must be relative to the route prefix (no leading '/').");
        }

        try
        {
            return [.. RoutePatternFactory.Parse(route).Parameters.Select(p => p.Name)];
        }
        catch (RoutePatternException ex)
        {
            throw new InvalidOperationException($"route '{route}' is not a valid route template: {ex.Message}", ex);
        }
    }
}

/// <summary>Binds a parameter that carries a binding attribute other than a trigger (for example a Durable client).</summary>
internal interface IInputBindingProvider
{
    /// <summary>A binder for the parameter, or null when this provider does not handle it.</summary>
    ParameterBinder? TryCreate(System.Reflection.ParameterInfo parameter);
}
