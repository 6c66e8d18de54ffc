using System.Text.Json;
using Azure.Core.Serialization;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>Options of the worker.</summary>
public class WorkerOptions
{
    private ObjectSerializer? _serializer;

    /// <summary>
    /// The serializer for all JSON (HTTP bodies, inputs and outputs). The worker's default is System.Text.Json with
    /// the app's <see cref="JsonSerializerOptions"/>, whose <c>PropertyNameCaseInsensitive</c> is on.
    /// </summary>
    public ObjectSerializer Serializer
    {
        get => _serializer ??= new JsonObjectSerializer(new JsonSerializerOptions { PropertyNameCaseInsensitive = true });
        set => _serializer = value;
    }
}

/// <summary>A function in the middleware pipeline.</summary>
public delegate Task FunctionExecutionDelegate(FunctionContext context);

/// <summary>Configures the worker: services and middleware.</summary>
public interface IFunctionsWorkerApplicationBuilder
{
    /// <summary>The worker's services.</summary>
    Microsoft.Extensions.DependencyInjection.IServiceCollection Services { get; }

    /// <summary>Adds a middleware to the invocation pipeline.</summary>
    IFunctionsWorkerApplicationBuilder Use(Func<FunctionExecutionDelegate, FunctionExecutionDelegate> middleware);
}
