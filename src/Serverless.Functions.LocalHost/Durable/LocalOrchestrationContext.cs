using System.Security.Cryptography;
using System.Text;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Serverless.Functions.LocalHost.Durable;

/// <summary>
/// The orchestration context of one episode. Every action the code takes (activity, timer, sub-orchestration, event
/// sent) gets the next task id, in the order the code takes it; during replay the action must match the one history
/// recorded under that id, and its recorded result completes it when the executor reaches that result in history.
/// </summary>
internal sealed class LocalOrchestrationContext : TaskOrchestrationContext
{
    private readonly ExecutionStarted _started;
    private readonly DataConverter _converter;
    private readonly ILoggerFactory _loggerFactory;
    private readonly Dictionary<int, IOrchestratorAction> _recordedActions;
    private readonly HashSet<int> _claimedActions = [];
    private readonly Dictionary<int, Action<ITaskCompletion>> _pending = [];
    private readonly LinkedList<EventRaised> _bufferedEvents = new();
    private readonly Dictionary<string, LinkedList<Action<string?>>> _eventWaiters = new(StringComparer.OrdinalIgnoreCase);
    private int _nextTaskId;
    private int _guidCounter;

    public LocalOrchestrationContext(string instanceId, ExecutionStarted started, IEnumerable<IOrchestratorAction> recordedActions, DataConverter converter, ILoggerFactory loggerFactory)
    {
        InstanceId = instanceId;
        _started = started;
        _converter = converter;
        _loggerFactory = loggerFactory;
        _recordedActions = recordedActions.ToDictionary(a => a.TaskId);
        Name = started.Name;
        Parent = started.ParentInstanceId is null ? null : new ParentOrchestrationInstance(started.ParentName ?? string.Empty, started.ParentInstanceId);
        CurrentTime = started.Timestamp;
        foreach (var carried in started.CarriedEvents ?? [])
        {
            _bufferedEvents.AddLast(carried);
        }
    }

    public override TaskName Name { get; }

    public override string InstanceId { get; }

    public override ParentOrchestrationInstance? Parent { get; }

    public override DateTime CurrentUtcDateTime => CurrentTime;

    public override bool IsReplaying => Replaying;

    public DateTime CurrentTime { get; set; }

    public bool Replaying { get; set; }

    /// <summary>Actions the code took that history does not have yet: this episode's output.</summary>
    public List<HistoryEvent> NewActions { get; } = [];

    /// <summary>The first divergence from history, kept even if the code catches the exception.</summary>
    public NonDeterministicOrchestrationException? NonDeterminism { get; private set; }

    public string? CustomStatus { get; private set; }

    public bool CustomStatusSet { get; private set; }

    public (string? Input, bool PreserveEvents)? ContinueAsNewRequest { get; private set; }

    public IEnumerable<EventRaised> UnclaimedEvents => _bufferedEvents;

    protected override ILoggerFactory LoggerFactory => _loggerFactory;

    /// <summary>Recorded actions the code has not taken (again): a divergence if the code is done or waiting.</summary>
    public IEnumerable<IOrchestratorAction> UnclaimedActions => _recordedActions.Values.Where(a => !_claimedActions.Contains(a.TaskId));

    public override T? GetInput<T>()
        where T : default => _converter.Deserialize<T>(_started.Input);

    public override Task<TResult> CallActivityAsync<TResult>(TaskName name, object? input = null, TaskOptions? options = null)
    {
        var serialized = _converter.Serialize(input);
        return WithRetry(options?.Retry, name, () => Schedule<TResult>(id => new TaskScheduled(id, name.Name, serialized), (a, b) =>
            a is TaskScheduled recorded && string.Equals(recorded.Name, name.Name, StringComparison.OrdinalIgnoreCase)));
    }

    public override Task<TResult> CallSubOrchestratorAsync<TResult>(TaskName orchestratorName, object? input = null, TaskOptions? options = null)
    {
        var serialized = _converter.Serialize(input);
        var requestedId = (options as SubOrchestrationOptions)?.InstanceId;
        return WithRetry(options?.Retry, orchestratorName, () =>
        {
            var childId = requestedId ?? NewGuid().ToString("N");
            return Schedule<TResult>(id => new SubOrchestrationCreated(id, orchestratorName.Name, childId, serialized), (a, b) =>
                a is SubOrchestrationCreated recorded && string.Equals(recorded.Name, orchestratorName.Name, StringComparison.OrdinalIgnoreCase));
        });
    }

    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
    {
        var fireAtUtc = fireAt.Kind == DateTimeKind.Local ? fireAt.ToUniversalTime() : DateTime.SpecifyKind(fireAt, DateTimeKind.Utc);
        var timer = Schedule<object?>(id => new TimerCreated(id, fireAtUtc), (a, _) => a is TimerCreated);
        if (!cancellationToken.CanBeCanceled)
        {
            return timer;
        }

        var cancellable = new TaskCompletionSource();
        var registration = cancellationToken.Register(() => cancellable.TrySetCanceled(cancellationToken));
        timer.ContinueWith(t =>
        {
            registration.Dispose();
            if (t.IsCompletedSuccessfully)
            {
                cancellable.TrySetResult();
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return cancellable.Task;
    }

    public override Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        for (var node = _bufferedEvents.First; node is not null; node = node.Next)
        {
            if (string.Equals(node.Value.Name, eventName, StringComparison.OrdinalIgnoreCase))
            {
                _bufferedEvents.Remove(node);
                return Task.FromResult(_converter.Deserialize<T>(node.Value.Input)!);
            }
        }

        var waiter = new TaskCompletionSource<T>();
        if (!_eventWaiters.TryGetValue(eventName, out var waiters))
        {
            _eventWaiters[eventName] = waiters = new LinkedList<Action<string?>>();
        }

        var node2 = waiters.AddLast(input => waiter.TrySetResult(_converter.Deserialize<T>(input)!));
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(() =>
            {
                if (node2.List is not null)
                {
                    waiters.Remove(node2);
                }

                waiter.TrySetCanceled(cancellationToken);
            });
        }

        return waiter.Task;
    }

    public override void SendEvent(string instanceId, string eventName, object payload)
    {
        DurableStore.ValidateInstanceId(instanceId);
        var serialized = _converter.Serialize(payload);
        _ = Schedule<object?>(id => new EventSent(id, instanceId, eventName, serialized), (a, _) =>
            a is EventSent recorded && recorded.InstanceId == instanceId && string.Equals(recorded.Name, eventName, StringComparison.OrdinalIgnoreCase), completesAtOnce: true);
    }

    public override void SetCustomStatus(object? customStatus)
    {
        CustomStatus = _converter.Serialize(customStatus);
        CustomStatusSet = true;
    }

    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) =>
        ContinueAsNewRequest = (_converter.Serialize(newInput), preserveUnprocessedEvents);

    /// <summary>A name-based (version 5) GUID of the instance id, the current time and a counter: the same on every replay.</summary>
    public override Guid NewGuid()
    {
        var name = Encoding.UTF8.GetBytes($"{InstanceId}_{CurrentUtcDateTime:o}_{_guidCounter++}");
        var hash = SHA1.HashData([.. DurableNamespace, .. name]);
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>Completes the task a history event answers; an answer to a task not waiting (a cancelled timer, a duplicate) is ignored.</summary>
    public void Complete(ITaskCompletion completion)
    {
        if (_pending.Remove(completion.TaskId, out var complete))
        {
            complete(completion);
        }
    }

    /// <summary>Hands an external event to its first waiter, or keeps it until someone waits.</summary>
    public void Raise(EventRaised raised)
    {
        if (_eventWaiters.TryGetValue(raised.Name, out var waiters) && waiters.First is { } first)
        {
            waiters.RemoveFirst();
            first.Value(raised.Input);
            return;
        }

        _bufferedEvents.AddLast(raised);
    }

    private static readonly byte[] DurableNamespace = Guid.Parse("9e952958-5e33-4daf-827f-2fa12937b875").ToByteArray(bigEndian: true);

    private Task<T> Schedule<T>(Func<int, HistoryEvent> create, Func<IOrchestratorAction, HistoryEvent, bool> matches, bool completesAtOnce = false)
    {
        var id = _nextTaskId++;
        var action = create(id);
        if (_recordedActions.TryGetValue(id, out var recorded))
        {
            _claimedActions.Add(id);
            if (!matches(recorded, action))
            {
                throw Diverged($"the code scheduled {((IOrchestratorAction)action).Describe()} as task #{id}, but history recorded {recorded.Describe()}.");
            }
        }
        else if (Replaying)
        {
            throw Diverged($"the code scheduled {((IOrchestratorAction)action).Describe()} as task #{id} while replaying, but history has no task #{id}.");
        }
        else
        {
            NewActions.Add(action with { Timestamp = CurrentUtcDateTime });
        }

        if (completesAtOnce)
        {
            return Task.FromResult<T>(default!);
        }

        var source = new TaskCompletionSource<T>();
        var name = action switch
        {
            TaskScheduled t => t.Name,
            SubOrchestrationCreated s => s.Name,
            _ => "timer",
        };
        _pending[id] = completion =>
        {
            switch (completion)
            {
                case TaskCompleted done:
                    source.TrySetResult(_converter.Deserialize<T>(done.Result)!);
                    break;
                case SubOrchestrationCompleted done:
                    source.TrySetResult(_converter.Deserialize<T>(done.Result)!);
                    break;
                case TaskFailed failed:
                    source.TrySetException(new TaskFailedException(name, id, failed.Failure));
                    break;
                case SubOrchestrationFailed failed:
                    source.TrySetException(new TaskFailedException(name, id, failed.Failure));
                    break;
                case TimerFired:
                    source.TrySetResult(default!);
                    break;
            }
        };
        return source.Task;
    }

    private NonDeterministicOrchestrationException Diverged(string detail)
    {
        NonDeterminism ??= new NonDeterministicOrchestrationException(
            $"Non-deterministic orchestrator '{Name}' (instance {InstanceId}): {detail} Orchestrator code must take the same actions in the same order on every replay; do not change it while instances run.");
        return NonDeterminism;
    }

    /// <summary>Retries a task per its policy or handler; each attempt is a new task, and the waits are durable timers.</summary>
    private Task<T> WithRetry<T>(TaskRetryOptions? retry, TaskName name, Func<Task<T>> attempt)
    {
        return retry is null ? attempt() : RetryAsync();

        async Task<T> RetryAsync()
        {
            var firstAttemptAt = CurrentUtcDateTime;
            for (var number = 1; ; number++)
            {
                try
                {
                    return await attempt();
                }
                catch (TaskFailedException failure)
                {
                    if (retry.Policy is { } policy)
                    {
                        if (number >= policy.MaxNumberOfAttempts || !policy.HandleFailure(failure.FailureDetails))
                        {
                            throw;
                        }

                        var delay = RetryDelay(policy, number);
                        if (policy.RetryTimeout != Timeout.InfiniteTimeSpan && CurrentUtcDateTime + delay > firstAttemptAt + policy.RetryTimeout)
                        {
                            throw;
                        }

                        await CreateTimer(CurrentUtcDateTime + delay, CancellationToken.None);
                    }
                    else if (!await retry.Handler!(new Microsoft.DurableTask.RetryContext(this, number, failure.FailureDetails, CurrentUtcDateTime - firstAttemptAt, CancellationToken.None)))
                    {
                        throw;
                    }
                }
            }
        }
    }

    /// <summary>The wait after attempt <paramref name="attempt"/>: first interval × coefficient^(attempt-1), at most the maximum interval.</summary>
    public static TimeSpan RetryDelay(RetryPolicy policy, int attempt)
    {
        var ticks = policy.FirstRetryInterval.Ticks * Math.Pow(policy.BackoffCoefficient, attempt - 1);
        return ticks >= policy.MaxRetryInterval.Ticks ? policy.MaxRetryInterval : TimeSpan.FromTicks((long)ticks);
    }
}
