using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serverless.LocalHost.Blobs;
using Serverless.LocalHost.Durable;
using Serverless.LocalHost.Http;
using Serverless.LocalHost.Invocation;
using Serverless.LocalHost.Queues;
using Serverless.LocalHost.Timers;
using Serverless.Storage;

namespace Serverless.LocalHost.Hosting;

/// <summary>Registers the local runtime: options, function catalog, invoker, keys and the trigger listeners.</summary>
internal static class LocalRuntimeServiceCollectionExtensions
{
    public static IServiceCollection AddLocalFunctionsRuntime(this IServiceCollection services)
    {
        services.AddOptions<LocalHostOptions>()
            .BindConfiguration(LocalHostOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddStorageClients();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<FunctionCatalog>();
        services.AddSingleton<FunctionInvoker>();
        services.AddSingleton<FunctionKeys>();
        services.AddSingleton<HostStorage>();
        services.AddSingleton<BlobReceipts>();
        services.AddSingleton<BlobScanSignal>();
        services.AddSingleton<BlobTriggerProcessor>();
        services.AddSingleton<LocalHttpEndpoint>();

        services.AddSingleton(_ => TriggerKind.Http());
        services.AddSingleton(sp => TriggerKind.Blob(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton(sp => TriggerKind.Timer(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton(sp => TriggerKind.Queue(sp.GetRequiredService<IConfiguration>()));

        // The HTTP host starts first: it reads the keys and binds the port that status URLs carry, before the
        // Durable worker resumes work a previous run left and before any blob or timer fires.
        services.AddHostedService<HttpHost>();
        services.AddLocalDurable();
        services.AddHostedService<BlobTriggerListener>();
        services.AddHostedService<TimerTriggerListener>();
        services.AddHostedService<QueueTriggerListener>();
        return services;
    }
}
