using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serverless.LocalHost.Http;
using Serverless.LocalHost.Invocation;

namespace Serverless.LocalHost.Durable;

/// <summary>Registers Durable on the Durable Task Framework: the triggers, the task hub, the client binding, the worker and its HTTP API.</summary>
internal static class DurableServiceCollectionExtensions
{
    public static IServiceCollection AddLocalDurable(this IServiceCollection services)
    {
        services.AddOptions<DurableOptions>()
            .BindConfiguration(DurableOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddSingleton(_ => new TriggerKind(typeof(OrchestrationTriggerAttribute),
            "orchestrationTrigger", [typeof(TaskOrchestrationContext)], (_, _) => []));
        services.AddSingleton(_ => new TriggerKind(typeof(ActivityTriggerAttribute), "activityTrigger", [], (_, _) => ["instanceId"]));
        services.AddSingleton<IInputBindingProvider, DurableClientBinding>();

        // The task hub is made on first use, so an app without Durable functions needs no hub name.
        services.AddSingleton<DurableTaskHub>();
        services.AddSingleton<LocalDurableTaskClient>();

        // Not in the isolated worker's container (there the client comes only through the binding); here it lets the
        // host's own callers and tests reach the task hub.
        services.AddSingleton<Microsoft.DurableTask.Client.DurableTaskClient>(sp => sp.GetRequiredService<LocalDurableTaskClient>());
        services.AddSingleton<IRuntimeEndpoints, DurableHttpApi>();
        services.AddSingleton<IHostedService, DurableWorkerHost>();
        return services;
    }
}
