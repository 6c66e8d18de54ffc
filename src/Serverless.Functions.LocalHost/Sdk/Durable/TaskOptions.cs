namespace Microsoft.DurableTask;

/// <summary>Options of a scheduled task: its retry policy and tags.</summary>
public record TaskOptions
{
    /// <summary>Creates options with a retry.</summary>
    public TaskOptions(TaskRetryOptions? retry)
        : this(retry, null)
    {
    }

    /// <summary>Creates options with a retry and tags.</summary>
    public TaskOptions(TaskRetryOptions? retry = null, IDictionary<string, string>? tags = null)
    {
        Retry = retry;
        Tags = tags;
    }

    /// <summary>Copies options.</summary>
    public TaskOptions(TaskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Retry = options.Retry;
        Tags = options.Tags;
    }

    /// <summary>The retry, if any.</summary>
    public TaskRetryOptions? Retry { get; init; }

    /// <summary>Tags.</summary>
    public IDictionary<string, string>? Tags { get; init; }

    /// <summary>Options that retry with <paramref name="policy"/>.</summary>
    public static TaskOptions FromRetryPolicy(RetryPolicy policy) => new(policy);

    /// <summary>Options that retry as <paramref name="handler"/> decides.</summary>
    public static TaskOptions FromRetryHandler(AsyncRetryHandler handler) => new(handler);

    /// <summary>Options that retry as <paramref name="handler"/> decides.</summary>
    public static TaskOptions FromRetryHandler(RetryHandler handler) => new(handler);

    /// <summary>Sub-orchestration options with these settings and an instance id.</summary>
    public SubOrchestrationOptions WithInstanceId(string instanceId) => new(this, instanceId);
}

/// <summary>Options of a sub-orchestration.</summary>
public record SubOrchestrationOptions : TaskOptions
{
    /// <summary>Creates options.</summary>
    public SubOrchestrationOptions(TaskRetryOptions? retry = null, string? instanceId = null)
        : base(retry)
    {
        InstanceId = instanceId;
    }

    /// <summary>Creates options from task options.</summary>
    public SubOrchestrationOptions(TaskOptions options, string? instanceId = null)
        : base(options)
    {
        InstanceId = instanceId;
        if (instanceId is null && options is SubOrchestrationOptions sub)
        {
            InstanceId = sub.InstanceId;
        }
    }

    /// <summary>Copies options.</summary>
    public SubOrchestrationOptions(SubOrchestrationOptions options)
        : base(options)
    {
        ArgumentNullException.ThrowIfNull(options);
        InstanceId = options.InstanceId;
    }

    /// <summary>The sub-orchestration's instance id; derived from the parent's when null.</summary>
    public string? InstanceId { get; init; }
}

/// <summary>Options of a new orchestration instance.</summary>
public record StartOrchestrationOptions
{
    /// <summary>Creates options.</summary>
    public StartOrchestrationOptions(string? InstanceId = null, DateTimeOffset? StartAt = null)
    {
        this.InstanceId = InstanceId;
        this.StartAt = StartAt;
    }

    /// <summary>Copies options.</summary>
    public StartOrchestrationOptions(StartOrchestrationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        InstanceId = options.InstanceId;
        StartAt = options.StartAt;
        Tags = options.Tags;
        DedupeStatuses = options.DedupeStatuses;
    }

    /// <summary>The instance id; a new GUID when null.</summary>
    public string? InstanceId { get; init; }

    /// <summary>When to start; now when null.</summary>
    public DateTimeOffset? StartAt { get; init; }

    /// <summary>Tags.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>Statuses of an existing instance with the same id that refuse the start (running ones always do).</summary>
    public IReadOnlyList<string>? DedupeStatuses { get; init; }
}

/// <summary>How a task is retried: a policy or a handler.</summary>
public sealed class TaskRetryOptions
{
    /// <summary>Retry with a policy.</summary>
    public TaskRetryOptions(RetryPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        Policy = policy;
    }

    /// <summary>Retry as a handler decides.</summary>
    public TaskRetryOptions(AsyncRetryHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Handler = handler;
    }

    /// <summary>The policy, if any.</summary>
    public RetryPolicy? Policy { get; }

    /// <summary>The handler, if any.</summary>
    public AsyncRetryHandler? Handler { get; }

    /// <summary>From a policy.</summary>
    public static implicit operator TaskRetryOptions(RetryPolicy policy) => new(policy);

    /// <summary>From a handler.</summary>
    public static implicit operator TaskRetryOptions(AsyncRetryHandler handler) => new(handler);

    /// <summary>From a synchronous handler.</summary>
    public static implicit operator TaskRetryOptions(RetryHandler handler) => FromRetryHandler(handler);

    /// <summary>From a policy.</summary>
    public static TaskRetryOptions FromRetryPolicy(RetryPolicy policy) => new(policy);

    /// <summary>From a handler.</summary>
    public static TaskRetryOptions FromRetryHandler(AsyncRetryHandler handler) => new(handler);

    /// <summary>From a synchronous handler.</summary>
    public static TaskRetryOptions FromRetryHandler(RetryHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return new TaskRetryOptions(context => Task.FromResult(handler(context)));
    }
}

/// <summary>Decides whether to retry a failed task.</summary>
public delegate bool RetryHandler(RetryContext retryContext);

/// <summary>Decides, asynchronously (for example after a durable timer), whether to retry a failed task.</summary>
public delegate Task<bool> AsyncRetryHandler(RetryContext retryContext);

/// <summary>What a retry handler knows.</summary>
public record RetryContext(TaskOrchestrationContext OrchestrationContext, int LastAttemptNumber, TaskFailureDetails LastFailure, TimeSpan TotalRetryTime, CancellationToken CancellationToken);

/// <summary>A retry policy with exponential backoff.</summary>
public class RetryPolicy
{
    /// <summary>Creates a policy.</summary>
    public RetryPolicy(int maxNumberOfAttempts, TimeSpan firstRetryInterval, double backoffCoefficient = 1.0, TimeSpan? maxRetryInterval = null, TimeSpan? retryTimeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxNumberOfAttempts, 0);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(firstRetryInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(backoffCoefficient, 1.0);
        if (maxRetryInterval is { } max && max != Timeout.InfiniteTimeSpan && max < firstRetryInterval)
        {
            throw new ArgumentOutOfRangeException(nameof(maxRetryInterval), "The maximum retry interval must not be shorter than the first.");
        }

        if (retryTimeout is { } timeout && timeout != Timeout.InfiniteTimeSpan && timeout < firstRetryInterval)
        {
            throw new ArgumentOutOfRangeException(nameof(retryTimeout), "The retry timeout must not be shorter than the first retry interval.");
        }

        MaxNumberOfAttempts = maxNumberOfAttempts;
        FirstRetryInterval = firstRetryInterval;
        BackoffCoefficient = backoffCoefficient;
        MaxRetryInterval = maxRetryInterval ?? TimeSpan.FromHours(1);
        RetryTimeout = retryTimeout ?? Timeout.InfiniteTimeSpan;
    }

    /// <summary>Attempts in all, the first included.</summary>
    public int MaxNumberOfAttempts { get; }

    /// <summary>The delay before the first retry.</summary>
    public TimeSpan FirstRetryInterval { get; }

    /// <summary>The factor applied to the delay after each retry.</summary>
    public double BackoffCoefficient { get; }

    /// <summary>The longest delay.</summary>
    public TimeSpan MaxRetryInterval { get; }

    /// <summary>How long retries may go on, from the first failure.</summary>
    public TimeSpan RetryTimeout { get; }

    /// <summary>Which failures are retried; all by default.</summary>
    public Func<TaskFailureDetails, bool> HandleFailure { get; init; } = _ => true;
}
