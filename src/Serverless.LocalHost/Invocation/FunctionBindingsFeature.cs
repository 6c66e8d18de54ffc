using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Serverless.LocalHost.Invocation;

/// <summary>
/// The bindings of one invocation: the trigger's value, its metadata, and what the function (or a middleware after it)
/// returns. The worker's public extension methods that middleware calls (<c>GetInvocationResult</c>,
/// <c>GetInputData</c>, <c>GetHttpResponseData</c>) reach these through the worker's <c>IFunctionBindingsFeature</c>,
/// an internal interface of Worker.Core; <see cref="Proxy"/> implements it over this class.
/// </summary>
internal sealed class FunctionBindings(IReadOnlyDictionary<string, object?> triggerMetadata)
{
    /// <summary>The worker's internal feature interface, found once; a start fails here if a new SDK renamed it.</summary>
    public static readonly Type FeatureType =
        typeof(FunctionContext).Assembly.GetType("Microsoft.Azure.Functions.Worker.Context.Features.IFunctionBindingsFeature", throwOnError: true)!;

    public IReadOnlyDictionary<string, object?> TriggerMetadata { get; } = triggerMetadata;

    public Dictionary<string, object?> InputData { get; } = [];

    public Dictionary<string, object?> OutputBindingData { get; } = [];

    public object? InvocationResult { get; set; }

    /// <summary>This as the worker's <c>IFunctionBindingsFeature</c>.</summary>
    public object Proxy()
    {
        var proxy = DispatchProxy.Create(FeatureType, typeof(BindingsProxy));
        ((BindingsProxy)proxy).Bindings = this;
        return proxy;
    }

    /// <summary>Answers the feature's members from a <see cref="FunctionBindings"/>; public and unsealed, as DispatchProxy needs.</summary>
    public class BindingsProxy : DispatchProxy
    {
        internal FunctionBindings Bindings { get; set; } = null!;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            switch (targetMethod?.Name)
            {
                case "get_TriggerMetadata":
                    return Bindings.TriggerMetadata;
                case "get_InputData":
                    return Bindings.InputData;
                case "get_OutputBindingData":
                    return Bindings.OutputBindingData;
                case "get_OutputBindingsInfo":
                    // The worker's own output-binding pipeline reads it; the local host binds no outputs.
                    return null;
                case "get_InvocationResult":
                    return Bindings.InvocationResult;
                case "set_InvocationResult":
                    Bindings.InvocationResult = args![0];
                    return null;
                default:
                    throw new NotSupportedException($"IFunctionBindingsFeature.{targetMethod?.Name} is not implemented by the local host.");
            }
        }
    }
}

/// <summary>The HTTP request of an invocation for <c>GetHttpRequestDataAsync</c>: the trigger's value, bound once.</summary>
internal sealed class LocalHttpRequestDataFeature : IHttpRequestDataFeature
{
    public static readonly LocalHttpRequestDataFeature Instance = new();

    public async ValueTask<HttpRequestData?> GetHttpRequestDataAsync(FunctionContext context) =>
        context is LocalFunctionContext local ? await local.BindTriggerAsync() as HttpRequestData : null;
}
