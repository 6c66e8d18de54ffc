using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serverless.Functions.LocalHost.Http;
using Serverless.Functions.LocalHost.Invocation;

namespace Serverless.Functions.LocalHost.Durable;

/// <summary>Registers the local Durable engine: triggers, the client binding, the engine and its HTTP API.</summary>
internal static class DurableServiceCollectionExtensions
{
    public static IServiceCollection AddLocalDurable(this IServiceCollection services)
    {
        services.AddOptions<DurableOptions>()
            .BindConfiguration(DurableOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddSingleton(_ => new TriggerKind(typeof(OrchestrationTriggerAttribute), "orchestrationTrigger", [typeof(TaskOrchestrationContext)], (_, _) => []));
        services.AddSingleton(_ => new TriggerKind(typeof(ActivityTriggerAttribute), "activityTrigger", [], (_, _) => []));
        services.AddSingleton<IInputBindingProvider, DurableClientBinding>();

        services.AddSingleton<DataConverter, WorkerDataConverter>();
        services.AddSingleton<DurableStore>();
        services.AddSingleton<OrchestrationExecutor>();
        services.AddSingleton<DurableEngine>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<DurableEngine>());
        services.AddSingleton<LocalDurableTaskClient>();
        services.AddSingleton<DurableTaskClient>(sp => sp.GetRequiredService<LocalDurableTaskClient>());
        services.AddSingleton<IRuntimeEndpoints, DurableHttpApi>();
        return services;
    }

    private sealed class DurableClientBinding(IServiceProvider services) : IInputBindingProvider
    {
        public ParameterBinder? TryCreate(System.Reflection.ParameterInfo parameter)
        {
            if (parameter.GetCustomAttributes(typeof(DurableClientAttribute), false).Length == 0)
            {
                return null;
            }

            if (parameter.ParameterType != typeof(DurableTaskClient))
            {
                throw new FunctionIndexingException($"Parameter '{parameter.Name}': [DurableClient] binds to DurableTaskClient, not {parameter.ParameterType.Name}.");
            }

            return (_, _) => ValueTask.FromResult<object?>(services.GetRequiredService<LocalDurableTaskClient>());
        }
    }
}
