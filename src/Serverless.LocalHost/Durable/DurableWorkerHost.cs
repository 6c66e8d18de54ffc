using System.Text.Json;
using DurableTask.Core;
using DurableTask.Core.Middleware;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.LocalHost.Invocation;

namespace Serverless.LocalHost.Durable;

/// <summary>
/// Runs the app's orchestrator and activity functions on the Durable Task Framework: a <see cref="TaskHubWorker"/>
/// over the Azure Storage provider, with each function wrapped by the public <see cref="DurableTaskShimFactory"/>,
/// the code path that runs orchestrator code in the isolated worker. Failures carry their details
/// (<see cref="ErrorPropagationMode.UseFailureDetails"/>), as in Durable Functions. Hosts that share the task hub
/// share the work: activities through one work-item queue, orchestrations by partition leases.
/// </summary>
internal sealed class DurableWorkerHost(
    FunctionCatalog catalog,
    IServiceProvider services,
    ILoggerFactory loggerFactory,
    ILogger<DurableWorkerHost> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private TaskHubWorker? _worker;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var orchestrators = catalog.WithTrigger<OrchestrationTriggerAttribute>().ToList();
        var activities = catalog.WithTrigger<ActivityTriggerAttribute>().ToList();
        if (orchestrators.Count == 0 && activities.Count == 0)
        {
            return;
        }

        var hub = services.GetRequiredService<DurableTaskHub>();
        var factory = new FunctionTaskFactory(
            services.GetRequiredService<DurableTaskShimFactory>(),
            services.GetRequiredService<FunctionInvoker>(),
            services.GetRequiredService<IOptions<JsonSerializerOptions>>().Value,
            loggerFactory);
        var worker = new TaskHubWorker(
            await hub.GetServiceAsync(),
            FunctionTaskRegistry<TaskOrchestration>.For(orchestrators, factory.Orchestration),
            FunctionTaskRegistry<TaskActivity>.For(activities, f => factory.Activity(f, _stopping.Token)),
            loggerFactory)
        {
            ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails,
        };
        worker.AddOrchestrationDispatcherMiddleware(BindParent);
        await worker.StartAsync();
        _worker = worker;
        Log.DurableStarted(logger, hub.Name, hub.Settings.WorkerId, hub.Settings.PartitionCount, orchestrators.Count, activities.Count);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_worker is not null)
        {
            // Lets episodes and activities in flight finish and releases the partitions; what the shutdown timeout
            // cuts off (or an unreachable storage keeps from finishing) is taken again by the next host once its
            // messages become visible and its leases lapse.
            try
            {
                await _worker.StopAsync(isForced: false).WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Log.DurableStopCutOff(logger);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _worker?.Dispose();
        _stopping.Dispose();
        return default;
    }

    /// <summary>Tells a function orchestration its parent instance, which only the runtime state knows.</summary>
    private static Task BindParent(DispatchMiddlewareContext context, Func<Task> next)
    {
        if (context.GetProperty<TaskOrchestration>() is FunctionOrchestration orchestration)
        {
            orchestration.Bind(context.GetProperty<OrchestrationRuntimeState>().ParentInstance);
        }

        return next();
    }
}
