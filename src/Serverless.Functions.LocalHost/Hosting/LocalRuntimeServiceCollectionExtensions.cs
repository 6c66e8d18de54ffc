using System.Text.Json;
using Azure.Core.Serialization;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Serverless.Functions.LocalHost.Blobs;
using Serverless.Functions.LocalHost.Durable;
using Serverless.Functions.LocalHost.Http;
using Serverless.Functions.LocalHost.Invocation;
using Serverless.Functions.LocalHost.Timers;
using Serverless.Storage;

namespace Serverless.Functions.LocalHost.Hosting;

/// <summary>Registers the local runtime: options, function catalog, invoker and the trigger listeners.</summary>
internal static class LocalRuntimeServiceCollectionExtensions
{
    public static IServiceCollection AddLocalFunctionsRuntime(this IServiceCollection services, FunctionMiddleware middleware)
    {
        services.AddOptions<LocalHostOptions>()
            .BindConfiguration(LocalHostOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // The worker's serializer defaults: System.Text.Json over the app's JsonSerializerOptions, case-insensitive.
        services.AddOptions<JsonSerializerOptions>().Configure(o => o.PropertyNameCaseInsensitive = true);
        services.AddOptions<WorkerOptions>().Configure<IOptions<JsonSerializerOptions>>((worker, json) => worker.Serializer = new JsonObjectSerializer(json.Value));

        services.AddStorageClients();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(middleware);
        services.AddSingleton<FunctionCatalog>();
        services.AddSingleton<FunctionInvoker>();
        services.AddSingleton<FunctionKeys>();
        services.AddSingleton<HostStorage>();
        services.AddSingleton<BlobReceipts>();
        services.AddSingleton<BlobTriggerProcessor>();
        services.AddSingleton<LocalHttpEndpoint>();

        services.AddSingleton(_ => TriggerKind.Http());
        services.AddSingleton(sp => TriggerKind.Blob(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton(sp => TriggerKind.Timer(sp.GetRequiredService<IConfiguration>()));

        // The HTTP host starts first: it needs the catalog, so a bad function fails the start before any listener runs.
        services.AddHostedService<HttpHost>();
        services.AddHostedService<BlobTriggerListener>();
        services.AddHostedService<TimerTriggerListener>();
        services.AddLocalDurable();
        return services;
    }
}
