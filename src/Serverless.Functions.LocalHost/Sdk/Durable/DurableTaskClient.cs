namespace Microsoft.DurableTask.Client;

/// <summary>Starts, queries and manages orchestration instances.</summary>
public abstract class DurableTaskClient : IAsyncDisposable
{
    /// <summary>Creates a client with a name.</summary>
    protected DurableTaskClient(string name)
    {
        Name = name;
    }

    /// <summary>The client's name.</summary>
    public string Name { get; }

    /// <summary>Starts an instance.</summary>
    public virtual Task<string> ScheduleNewOrchestrationInstanceAsync(TaskName orchestratorName, CancellationToken cancellation) =>
        ScheduleNewOrchestrationInstanceAsync(orchestratorName, null, null, cancellation);

    /// <summary>Starts an instance with input.</summary>
    public virtual Task<string> ScheduleNewOrchestrationInstanceAsync(TaskName orchestratorName, object? input, CancellationToken cancellation) =>
        ScheduleNewOrchestrationInstanceAsync(orchestratorName, input, null, cancellation);

    /// <summary>Starts an instance with options.</summary>
    public virtual Task<string> ScheduleNewOrchestrationInstanceAsync(TaskName orchestratorName, StartOrchestrationOptions options, CancellationToken cancellation = default) =>
        ScheduleNewOrchestrationInstanceAsync(orchestratorName, null, options, cancellation);

    /// <summary>Starts an instance; refused when one with the same id is running.</summary>
    public abstract Task<string> ScheduleNewOrchestrationInstanceAsync(TaskName orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default);

    /// <summary>Raises an event without payload.</summary>
    public virtual Task RaiseEventAsync(string instanceId, string eventName, CancellationToken cancellation) => RaiseEventAsync(instanceId, eventName, null, cancellation);

    /// <summary>Raises an event.</summary>
    public abstract Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default);

    /// <summary>Waits until the instance has started.</summary>
    public virtual Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, CancellationToken cancellation) => WaitForInstanceStartAsync(instanceId, false, cancellation);

    /// <summary>Waits until the instance has started.</summary>
    public abstract Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default);

    /// <summary>Waits until the instance has completed, failed or been terminated.</summary>
    public virtual Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, CancellationToken cancellation) => WaitForInstanceCompletionAsync(instanceId, false, cancellation);

    /// <summary>Waits until the instance has completed, failed or been terminated.</summary>
    public abstract Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default);

    /// <summary>Terminates an instance.</summary>
    public virtual Task TerminateInstanceAsync(string instanceId, CancellationToken cancellation) => TerminateInstanceAsync(instanceId, (TerminateInstanceOptions?)null, cancellation);

    /// <summary>Terminates an instance, with an output.</summary>
    public virtual Task TerminateInstanceAsync(string instanceId, object? output, CancellationToken cancellation = default) =>
        TerminateInstanceAsync(instanceId, new TerminateInstanceOptions { Output = output }, cancellation);

    /// <summary>Terminates an instance.</summary>
    public virtual Task TerminateInstanceAsync(string instanceId, TerminateInstanceOptions? options = null, CancellationToken cancellation = default) =>
        throw new NotSupportedException($"{GetType().Name} does not support termination.");

    /// <summary>Suspends an instance.</summary>
    public virtual Task SuspendInstanceAsync(string instanceId, CancellationToken cancellation) => SuspendInstanceAsync(instanceId, null, cancellation);

    /// <summary>Suspends an instance: events are kept but not handled until it is resumed.</summary>
    public abstract Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default);

    /// <summary>Resumes an instance.</summary>
    public virtual Task ResumeInstanceAsync(string instanceId, CancellationToken cancellation) => ResumeInstanceAsync(instanceId, null, cancellation);

    /// <summary>Resumes a suspended instance.</summary>
    public abstract Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default);

    /// <summary>The instance's metadata, or null.</summary>
    public virtual Task<OrchestrationMetadata?> GetInstanceAsync(string instanceId, CancellationToken cancellation) => GetInstancesAsync(instanceId, false, cancellation);

    /// <summary>The instance's metadata, or null.</summary>
    public virtual Task<OrchestrationMetadata?> GetInstanceAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation);

    /// <summary>The instance's metadata, or null (older name).</summary>
    public virtual Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, CancellationToken cancellation) => GetInstancesAsync(instanceId, false, cancellation);

    /// <summary>The instance's metadata, or null (older name).</summary>
    public abstract Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default);

    /// <summary>Instances matching a query, a page at a time.</summary>
    public abstract AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null);

    /// <summary>Deletes a finished instance and its history.</summary>
    public virtual Task<PurgeResult> PurgeInstanceAsync(string instanceId, CancellationToken cancellation) => PurgeInstanceAsync(instanceId, null, cancellation);

    /// <summary>Deletes a finished instance and its history.</summary>
    public virtual Task<PurgeResult> PurgeInstanceAsync(string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default) =>
        throw new NotSupportedException($"{GetType().Name} does not support purging.");

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();
}

/// <summary>Options of a termination.</summary>
public record TerminateInstanceOptions
{
    /// <summary>The terminated instance's output.</summary>
    public object? Output { get; init; }

    /// <summary>Whether sub-orchestrations are terminated too.</summary>
    public bool Recursive { get; init; }
}

/// <summary>Options of a purge.</summary>
public record PurgeInstanceOptions(bool Recursive = false);

/// <summary>The result of a purge.</summary>
public class PurgeResult
{
    /// <summary>Creates a result.</summary>
    public PurgeResult(int count)
        : this(count, null)
    {
    }

    /// <summary>Creates a result.</summary>
    public PurgeResult(int count, bool? isComplete)
    {
        PurgedInstanceCount = count;
        IsComplete = isComplete;
    }

    /// <summary>How many instances were purged.</summary>
    public int PurgedInstanceCount { get; }

    /// <summary>Whether the purge finished.</summary>
    public bool? IsComplete { get; }
}

/// <summary>A query of instances.</summary>
public record OrchestrationQuery(
    DateTimeOffset? CreatedFrom = null,
    DateTimeOffset? CreatedTo = null,
    IEnumerable<OrchestrationRuntimeStatus>? Statuses = null,
    IEnumerable<string>? TaskHubNames = null,
    string? InstanceIdPrefix = null,
    int PageSize = OrchestrationQuery.DefaultPageSize,
    bool FetchInputsAndOutputs = false,
    string? ContinuationToken = null)
{
    /// <summary>The default page size.</summary>
    public const int DefaultPageSize = 100;
}

/// <summary>The runtime status of an instance.</summary>
public enum OrchestrationRuntimeStatus
{
    /// <summary>Running.</summary>
    Running,

    /// <summary>Completed.</summary>
    Completed,

    /// <summary>Obsolete.</summary>
    [Obsolete("The ContinuedAsNew status is obsolete and exists only for compatibility reasons.")]
    ContinuedAsNew,

    /// <summary>Failed.</summary>
    Failed,

    /// <summary>Obsolete.</summary>
    [Obsolete("The Canceled status is not currently used and exists only for compatibility reasons.")]
    Canceled,

    /// <summary>Terminated.</summary>
    Terminated,

    /// <summary>Scheduled, not started yet.</summary>
    Pending,

    /// <summary>Suspended.</summary>
    Suspended,
}

/// <summary>The state of an instance.</summary>
public sealed class OrchestrationMetadata
{
    /// <summary>Creates metadata.</summary>
    public OrchestrationMetadata(string name, string instanceId)
    {
        Name = name;
        InstanceId = instanceId;
    }

    /// <summary>The orchestrator's name.</summary>
    public string Name { get; }

    /// <summary>The instance id.</summary>
    public string InstanceId { get; }

    /// <summary>Reads the serialized input, output and custom status.</summary>
    public DataConverter? DataConverter { get; init; }

    /// <summary>The runtime status.</summary>
    public OrchestrationRuntimeStatus RuntimeStatus { get; init; }

    /// <summary>When the instance was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the instance last changed.</summary>
    public DateTimeOffset LastUpdatedAt { get; init; }

    /// <summary>The input, serialized (only when fetched with inputs and outputs).</summary>
    public string? SerializedInput { get; init; }

    /// <summary>The output, serialized (only when fetched with inputs and outputs).</summary>
    public string? SerializedOutput { get; init; }

    /// <summary>The custom status, serialized.</summary>
    public string? SerializedCustomStatus { get; init; }

    /// <summary>Tags.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>Why the instance failed, when it did.</summary>
    public TaskFailureDetails? FailureDetails { get; init; }

    /// <summary>Whether it is running.</summary>
    public bool IsRunning => RuntimeStatus == OrchestrationRuntimeStatus.Running;

    /// <summary>Whether it has completed, failed or been terminated.</summary>
    public bool IsCompleted => RuntimeStatus is OrchestrationRuntimeStatus.Completed or OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated;

    /// <summary>The input.</summary>
    public T? ReadInputAs<T>() => Read<T>(SerializedInput, "input");

    /// <summary>The output.</summary>
    public T? ReadOutputAs<T>() => Read<T>(SerializedOutput, "output");

    /// <summary>The custom status.</summary>
    public T? ReadCustomStatusAs<T>() => Read<T>(SerializedCustomStatus, "custom status");

    private T? Read<T>(string? data, string what) =>
        DataConverter is null
            ? throw new InvalidOperationException($"The {what} cannot be read: the metadata was fetched without inputs and outputs.")
            : DataConverter.Deserialize<T>(data);
}
