using Microsoft.Extensions.Logging;

namespace Microsoft.DurableTask;

/// <summary>
/// What an orchestrator sees of its instance. The code runs again from the start on every replay, so it must be
/// deterministic: time, GUIDs and randomness come from this context, and I/O happens in activities.
/// </summary>
public abstract class TaskOrchestrationContext
{
    /// <summary>The orchestrator's name.</summary>
    public abstract TaskName Name { get; }

    /// <summary>The instance id.</summary>
    public abstract string InstanceId { get; }

    /// <summary>The parent, for a sub-orchestration.</summary>
    public abstract ParentOrchestrationInstance? Parent { get; }

    /// <summary>The deterministic current time: when the current episode started.</summary>
    public abstract DateTime CurrentUtcDateTime { get; }

    /// <summary>Whether the code is replaying recorded history (and so should not log or call out).</summary>
    public abstract bool IsReplaying { get; }

    /// <summary>The version; not used by Durable Functions.</summary>
    public virtual string Version => string.Empty;

    /// <summary>Properties of the context.</summary>
    public virtual IReadOnlyDictionary<string, object?> Properties { get; } = new Dictionary<string, object?>();

    /// <summary>A logger factory whose loggers stay silent during replay.</summary>
    public virtual ILoggerFactory ReplaySafeLoggerFactory => new ReplaySafeLoggerFactoryImpl(this);

    /// <summary>The logger factory of the orchestrator's host.</summary>
    protected abstract ILoggerFactory LoggerFactory { get; }

    /// <summary>The orchestration's input.</summary>
    public abstract T? GetInput<T>();

    /// <summary>Schedules an activity and returns its result.</summary>
    public abstract Task<TResult> CallActivityAsync<TResult>(TaskName name, object? input = null, TaskOptions? options = null);

    /// <summary>Schedules an activity.</summary>
    public virtual Task CallActivityAsync(TaskName name, object? input = null, TaskOptions? options = null) => CallActivityAsync<object>(name, input, options);

    /// <summary>Schedules an activity without input.</summary>
    public virtual Task CallActivityAsync(TaskName name, TaskOptions options) => CallActivityAsync(name, null, options);

    /// <summary>Schedules an activity without input and returns its result.</summary>
    public virtual Task<TResult> CallActivityAsync<TResult>(TaskName name, TaskOptions options) => CallActivityAsync<TResult>(name, null, options);

    /// <summary>A durable timer that fires at <paramref name="fireAt"/> (UTC).</summary>
    public abstract Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken);

    /// <summary>A durable timer that fires after <paramref name="delay"/>.</summary>
    public virtual Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken) => CreateTimer(CurrentUtcDateTime.Add(delay), cancellationToken);

    /// <summary>Waits for an external event; an event raised before the wait is kept for it.</summary>
    public abstract Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default);

    /// <summary>Waits for an external event, up to <paramref name="timeout"/>; throws <see cref="TaskCanceledException"/> after it.</summary>
    public Task<T> WaitForExternalEvent<T>(string eventName, TimeSpan timeout) => WaitForExternalEvent<T>(eventName, timeout, CancellationToken.None);

    /// <summary>Waits for an external event, up to <paramref name="timeout"/>, racing a durable timer; the loser is cancelled.</summary>
    public async Task<T> WaitForExternalEvent<T>(string eventName, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timerCancellation = new CancellationTokenSource();
        var timeoutTask = CreateTimer(timeout, timerCancellation.Token);
        using var eventCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var eventTask = WaitForExternalEvent<T>(eventName, eventCancellation.Token);
        var winner = await Task.WhenAny(timeoutTask, eventTask);

        // Cancel synchronously: the loser must end within this step of the orchestration, or replay diverges.
#pragma warning disable CA1849
        if (winner == eventTask)
        {
            timerCancellation.Cancel();
        }
        else
        {
            eventCancellation.Cancel();
        }
#pragma warning restore CA1849

        return await eventTask;
    }

    /// <summary>Sends an event to another orchestration instance.</summary>
    public abstract void SendEvent(string instanceId, string eventName, object payload);

    /// <summary>Sets the custom status that clients see.</summary>
    public abstract void SetCustomStatus(object? customStatus);

    /// <summary>Runs a sub-orchestration and returns its result.</summary>
    public abstract Task<TResult> CallSubOrchestratorAsync<TResult>(TaskName orchestratorName, object? input = null, TaskOptions? options = null);

    /// <summary>Runs a sub-orchestration without input and returns its result.</summary>
    public virtual Task<TResult> CallSubOrchestratorAsync<TResult>(TaskName orchestratorName, TaskOptions options) => CallSubOrchestratorAsync<TResult>(orchestratorName, null, options);

    /// <summary>Runs a sub-orchestration without input.</summary>
    public virtual Task CallSubOrchestratorAsync(TaskName orchestratorName, TaskOptions options) => CallSubOrchestratorAsync(orchestratorName, null, options);

    /// <summary>Runs a sub-orchestration.</summary>
    public virtual Task CallSubOrchestratorAsync(TaskName orchestratorName, object? input = null, TaskOptions? options = null) => CallSubOrchestratorAsync<object>(orchestratorName, input, options);

    /// <summary>Restarts the orchestration with new input once the current code returns, with fresh history.</summary>
    public abstract void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true);

    /// <summary>Restarts the orchestration with new input.</summary>
    public virtual void ContinueAsNew(ContinueAsNewOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ContinueAsNew(options.NewInput, options.PreserveUnprocessedEvents);
    }

    /// <summary>A deterministic GUID.</summary>
    public abstract Guid NewGuid();

    /// <summary>A logger that writes only when not replaying.</summary>
    public virtual ILogger CreateReplaySafeLogger(string categoryName) => new ReplaySafeLogger(this, LoggerFactory.CreateLogger(categoryName));

    /// <summary>A logger that writes only when not replaying.</summary>
    public virtual ILogger CreateReplaySafeLogger(Type type) => new ReplaySafeLogger(this, LoggerFactory.CreateLogger(type));

    /// <summary>A logger that writes only when not replaying.</summary>
    public virtual ILogger CreateReplaySafeLogger<T>() => CreateReplaySafeLogger(typeof(T));

    /// <summary>Compares the orchestration's version with <paramref name="version"/>.</summary>
    public virtual int CompareVersionTo(string version) => string.CompareOrdinal(Version, version);

    private sealed class ReplaySafeLogger(TaskOrchestrationContext context, ILogger logger) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => logger.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => !context.IsReplaying && logger.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!context.IsReplaying)
            {
                logger.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }

    private sealed class ReplaySafeLoggerFactoryImpl(TaskOrchestrationContext context) : ILoggerFactory
    {
        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("Add providers to the host's logger factory.");

        public ILogger CreateLogger(string categoryName) => context.CreateReplaySafeLogger(categoryName);

        public void Dispose()
        {
        }
    }
}
