using System.Text.Json;
using Azure.Core.Serialization;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Serverless.LocalHost.Hosting;

/// <summary>
/// The services of the isolated worker that the app's code reaches through the real SDK's extension methods, set up
/// as <c>AddFunctionsWorkerDefaults</c> and the Durable extension set them up: JSON options case-insensitive by
/// default, <see cref="WorkerOptions.Serializer"/> built from the app's <see cref="JsonSerializerOptions"/> when the
/// app sets none, and the Durable data converter and shim factory over that serializer.
/// </summary>
internal static class WorkerServices
{
    public static IServiceCollection AddFunctionsWorkerServices(this IServiceCollection services)
    {
        services.AddOptions<JsonSerializerOptions>().Configure(o => o.PropertyNameCaseInsensitive = true);
        services.AddOptions<WorkerOptions>()
            .PostConfigure<IOptions<JsonSerializerOptions>>((worker, json) => worker.Serializer ??= new JsonObjectSerializer(json.Value));
        services.AddOptions<DurableTaskWorkerOptions>()
            .PostConfigure<IOptions<WorkerOptions>>((durable, worker) => durable.DataConverter = new WorkerDataConverter(worker.Value.Serializer!));
        services.TryAddSingleton(sp => new DurableTaskShimFactory(
            sp.GetRequiredService<IOptions<DurableTaskWorkerOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>()));
        return services;
    }

    /// <summary>Durable inputs and outputs through the worker's serializer, as the isolated Durable extension converts them.</summary>
    private sealed class WorkerDataConverter(ObjectSerializer serializer) : DataConverter
    {
        public override string? Serialize(object? value) =>
            value is null ? null : serializer.Serialize(value, value.GetType(), CancellationToken.None).ToString();

        public override object? Deserialize(string? data, Type targetType) =>
            data is null ? null : serializer.Deserialize(BinaryData.FromString(data).ToStream(), targetType, CancellationToken.None);
    }
}
