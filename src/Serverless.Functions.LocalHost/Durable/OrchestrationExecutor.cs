using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serverless.Functions.LocalHost.Invocation;

namespace Serverless.Functions.LocalHost.Durable;

/// <summary>What one episode decided.</summary>
internal sealed record EpisodeResult(
    OrchestrationStatus Status,
    IReadOnlyList<HistoryEvent> NewActions,
    string? Output = null,
    TaskFailureDetails? Failure = null,
    string? CustomStatus = null,
    bool CustomStatusSet = false,
    (string? Input, IReadOnlyList<EventRaised> CarriedEvents)? ContinueAsNew = null);

/// <summary>
/// Runs one episode of an orchestration: the orchestrator code from the start, fed the recorded history event by
/// event (in order, running the code until idle after each, so races such as <c>Task.WhenAny</c> resolve as they did
/// the first time), then this episode's new events. Pure: no I/O, no clock; the caller stores and dispatches.
/// </summary>
internal sealed class OrchestrationExecutor(DataConverter converter, ILoggerFactory loggerFactory)
{
    public EpisodeResult Execute(FunctionDescriptor function, IServiceProvider services, string instanceId, IReadOnlyList<HistoryEvent> past, IReadOnlyList<HistoryEvent> newEvents)
    {
        var all = past.Concat(newEvents).ToList();
        if (all.FirstOrDefault() is not ExecutionStarted started)
        {
            throw new InvalidOperationException($"The history of instance {instanceId} does not begin with ExecutionStarted.");
        }

        var context = new LocalOrchestrationContext(instanceId, started, all.OfType<IOrchestratorAction>(), converter, loggerFactory);
        var sync = new EpisodeSynchronizationContext();
        using var scope = services.CreateScope();
        Task<object?>? run = null;
        var suspended = false;
        var deferred = new List<HistoryEvent>();

        for (var i = 0; i < all.Count && run?.IsCompleted != true; i++)
        {
            context.Replaying = i < past.Count;
            var historyEvent = all[i];
            if (suspended && historyEvent is ITaskCompletion or EventRaised)
            {
                deferred.Add(historyEvent);
                continue;
            }

            switch (historyEvent)
            {
                case ExecutionStarted:
                    context.CurrentTime = historyEvent.Timestamp;
                    sync.Run(() => run = Start(function, scope.ServiceProvider, context));
                    break;
                case OrchestratorStarted:
                    context.CurrentTime = historyEvent.Timestamp;
                    break;
                case ExecutionSuspended:
                    suspended = true;
                    break;
                case ExecutionResumed:
                    suspended = false;
                    foreach (var held in deferred)
                    {
                        Apply(held);
                    }

                    deferred.Clear();
                    break;
                case ExecutionTerminated terminated:
                    return new EpisodeResult(OrchestrationStatus.Terminated, [], terminated.Output);
                default:
                    Apply(historyEvent);
                    break;
            }
        }

        if (context.NonDeterminism is { } diverged)
        {
            return Failed(diverged);
        }

        if (run is { IsFaulted: true })
        {
            return Failed(run.Exception!.InnerException ?? run.Exception);
        }

        if (run is { IsCanceled: true })
        {
            return Failed(new TaskCanceledException($"Orchestrator '{started.Name}' ended with an unhandled cancellation."));
        }

        var unclaimed = context.UnclaimedActions.OrderBy(a => a.TaskId).FirstOrDefault();
        if (unclaimed is not null)
        {
            return Failed(new NonDeterministicOrchestrationException(
                $"Non-deterministic orchestrator '{started.Name}' (instance {instanceId}): history recorded {unclaimed.Describe()} as task #{unclaimed.TaskId}, which the code did not schedule on replay."));
        }

        if (run is { IsCompletedSuccessfully: true })
        {
            if (context.ContinueAsNewRequest is { } again)
            {
                IReadOnlyList<EventRaised> carried = again.PreserveEvents ? [.. context.UnclaimedEvents] : [];
                return new EpisodeResult(OrchestrationStatus.Running, context.NewActions, null, null, context.CustomStatus, context.CustomStatusSet, (again.Input, carried));
            }

            return new EpisodeResult(OrchestrationStatus.Completed, context.NewActions, converter.Serialize(run.Result), null, context.CustomStatus, context.CustomStatusSet);
        }

        return new EpisodeResult(suspended ? OrchestrationStatus.Suspended : OrchestrationStatus.Running, context.NewActions, null, null, context.CustomStatus, context.CustomStatusSet);

        void Apply(HistoryEvent historyEvent)
        {
            switch (historyEvent)
            {
                case ITaskCompletion completion:
                    sync.Run(() => context.Complete(completion));
                    break;
                case EventRaised raised:
                    sync.Run(() => context.Raise(raised));
                    break;
            }
        }

        EpisodeResult Failed(Exception exception) =>
            new(OrchestrationStatus.Failed, context.NewActions, null, TaskFailureDetails.FromException(exception), context.CustomStatus, context.CustomStatusSet);
    }

    private static Task<object?> Start(FunctionDescriptor function, IServiceProvider services, LocalOrchestrationContext context)
    {
        try
        {
            var functionContext = new LocalFunctionContext(function, services, new Dictionary<string, object?>(), 0, 0, CancellationToken.None);
            var request = new InvocationRequest(_ => ValueTask.FromResult<object?>(context), functionContext.BindingContext.BindingData);
            var arguments = function.Binders.Select(bind => bind(functionContext, request)).Select(v => v.IsCompletedSuccessfully ? v.Result : v.AsTask().GetAwaiter().GetResult()).ToArray();
            var instance = function.Method.IsStatic ? null : ActivatorUtilities.CreateInstance(services, function.Method.DeclaringType!);
            var returned = function.Method.Invoke(instance, System.Reflection.BindingFlags.DoNotWrapExceptions, null, arguments, null);
            return function.ResultAwaiter(returned);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Task.FromException<object?>(ex);
        }
    }
}
