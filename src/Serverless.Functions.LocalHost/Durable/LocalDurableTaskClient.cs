using Azure;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Serverless.Functions.LocalHost.Http;

namespace Serverless.Functions.LocalHost.Durable;

/// <summary>The Durable client of the local runtime: the task hub in the app's storage account, through the local engine.</summary>
internal sealed class LocalDurableTaskClient(DurableStore store, DurableEngine engine, DataConverter converter, TimeProvider time, FunctionKeys keys, IServiceProvider services)
    : DurableTaskClient("local")
{
    public FunctionKeys Keys => keys;

    public IServiceProvider Services => services;

    private static readonly TimeSpan PollCeiling = TimeSpan.FromSeconds(1);

    public string TaskHub => store.TaskHub;

    public override async Task<string> ScheduleNewOrchestrationInstanceAsync(TaskName orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default)
    {
        var instanceId = options?.InstanceId ?? Guid.NewGuid().ToString("N");
        DurableStore.ValidateInstanceId(instanceId);
        if (engine.IsActive && !engine.HasOrchestrator(orchestratorName))
        {
            throw new ArgumentException($"No orchestrator function named '{orchestratorName}' in this app.", nameof(orchestratorName));
        }

        var now = time.GetUtcNow();
        var existing = await store.GetInstanceAsync(instanceId, cancellation);
        if (existing is not null && (existing.Status is OrchestrationStatus.Pending or OrchestrationStatus.Running or OrchestrationStatus.Suspended
            || options?.DedupeStatuses?.Contains(ToRuntimeStatus(existing.Status).ToString(), StringComparer.OrdinalIgnoreCase) == true))
        {
            throw new InvalidOperationException($"An orchestration with instance id '{instanceId}' already exists and is {existing.Status}; use another id, or wait until it ends.");
        }

        var executionId = Guid.NewGuid().ToString("N");
        var serialized = converter.Serialize(input);
        var record = new InstanceRecord(instanceId, orchestratorName.Name, OrchestrationStatus.Pending, executionId, serialized, null, null, null, now, now, null, existing is null ? default : existing.ETag);
        try
        {
            await store.PutInstanceAsync(record, cancellation);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            throw new InvalidOperationException($"An orchestration with instance id '{instanceId}' was started at the same moment by another caller.", ex);
        }

        var delay = options?.StartAt is { } startAt ? startAt - now : (TimeSpan?)null;
        await engine.SendDurableAsync(new ControlMessage(Guid.NewGuid().ToString("N"), instanceId, executionId, new ExecutionStarted(orchestratorName.Name, serialized, executionId)), delay, cancellation);
        return instanceId;
    }

    public override async Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        await SendToExistingAsync(instanceId, new EventRaised(eventName, converter.Serialize(eventPayload)), cancellation);
    }

    public override Task TerminateInstanceAsync(string instanceId, TerminateInstanceOptions? options = null, CancellationToken cancellation = default) =>
        SendToExistingAsync(instanceId, new ExecutionTerminated(converter.Serialize(options?.Output)), cancellation);

    public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        SendToExistingAsync(instanceId, new ExecutionSuspended(reason), cancellation);

    public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        SendToExistingAsync(instanceId, new ExecutionResumed(reason), cancellation);

    public override async Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        var record = await store.GetInstanceAsync(instanceId, cancellation);
        return record is null ? null : ToMetadata(record, getInputsAndOutputs);
    }

    public override Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        WaitAsync(instanceId, m => m.RuntimeStatus != OrchestrationRuntimeStatus.Pending, getInputsAndOutputs, cancellation);

    public override Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        WaitAsync(instanceId, m => m.IsCompleted, getInputsAndOutputs, cancellation);

    public override Microsoft.DurableTask.AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null) => new InstancePages(this, filter ?? new OrchestrationQuery());

    public override async Task<PurgeResult> PurgeInstanceAsync(string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        var record = await store.GetInstanceAsync(instanceId, cancellation);
        if (record is null)
        {
            return new PurgeResult(0);
        }

        if (record.Status is not (OrchestrationStatus.Completed or OrchestrationStatus.Failed or OrchestrationStatus.Terminated))
        {
            throw new InvalidOperationException($"Instance '{instanceId}' is {record.Status}; only completed, failed or terminated instances can be purged.");
        }

        await store.DeleteInstanceAsync(instanceId, cancellation);
        return new PurgeResult(1, true);
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    internal OrchestrationMetadata ToMetadata(InstanceRecord record, bool withData) => new(record.Name, record.InstanceId)
    {
        RuntimeStatus = ToRuntimeStatus(record.Status),
        CreatedAt = record.CreatedAt,
        LastUpdatedAt = record.LastUpdatedAt,
        SerializedInput = withData ? record.Input : null,
        SerializedOutput = withData ? record.Output : null,
        SerializedCustomStatus = record.CustomStatus,
        FailureDetails = record.Failure,
        DataConverter = converter,
    };

    internal static OrchestrationRuntimeStatus ToRuntimeStatus(OrchestrationStatus status) => status switch
    {
        OrchestrationStatus.Pending => OrchestrationRuntimeStatus.Pending,
        OrchestrationStatus.Running => OrchestrationRuntimeStatus.Running,
        OrchestrationStatus.Completed => OrchestrationRuntimeStatus.Completed,
        OrchestrationStatus.Failed => OrchestrationRuntimeStatus.Failed,
        OrchestrationStatus.Terminated => OrchestrationRuntimeStatus.Terminated,
        _ => OrchestrationRuntimeStatus.Suspended,
    };

    internal static OrchestrationStatus FromRuntimeStatus(OrchestrationRuntimeStatus status) => status switch
    {
        OrchestrationRuntimeStatus.Pending => OrchestrationStatus.Pending,
        OrchestrationRuntimeStatus.Running => OrchestrationStatus.Running,
        OrchestrationRuntimeStatus.Completed => OrchestrationStatus.Completed,
        OrchestrationRuntimeStatus.Failed => OrchestrationStatus.Failed,
        OrchestrationRuntimeStatus.Terminated => OrchestrationStatus.Terminated,
        OrchestrationRuntimeStatus.Suspended => OrchestrationStatus.Suspended,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Not a status an instance can have."),
    };

    internal Task<(IReadOnlyList<InstanceRecord> Records, string? ContinuationToken)> QueryAsync(OrchestrationQuery query, string? continuationToken, int pageSize, CancellationToken cancellationToken) =>
        store.QueryInstancesAsync(query.Statuses?.Select(FromRuntimeStatus).ToArray(), query.CreatedFrom, query.CreatedTo, query.InstanceIdPrefix, pageSize, continuationToken, cancellationToken);

    private async Task SendToExistingAsync(string instanceId, HistoryEvent historyEvent, CancellationToken cancellation)
    {
        DurableStore.ValidateInstanceId(instanceId);
        _ = await store.GetInstanceAsync(instanceId, cancellation)
            ?? throw new ArgumentException($"No orchestration instance with id '{instanceId}'.", nameof(instanceId));
        await engine.SendDurableAsync(new ControlMessage(Guid.NewGuid().ToString("N"), instanceId, null, historyEvent), null, cancellation);
    }

    private async Task<OrchestrationMetadata> WaitAsync(string instanceId, Func<OrchestrationMetadata, bool> done, bool getInputsAndOutputs, CancellationToken cancellation)
    {
        var pause = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            var changed = engine.WaitForChangeAsync(instanceId, pause, cancellation);
            var metadata = await GetInstanceAsync(instanceId, getInputsAndOutputs, cancellation)
                ?? throw new ArgumentException($"No orchestration instance with id '{instanceId}'.", nameof(instanceId));
            if (done(metadata))
            {
                return metadata;
            }

            await changed;
            cancellation.ThrowIfCancellationRequested();
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, PollCeiling.Ticks));
        }
    }

    private sealed class InstancePages(LocalDurableTaskClient client, OrchestrationQuery query) : Microsoft.DurableTask.AsyncPageable<OrchestrationMetadata>
    {
        public override async IAsyncEnumerable<Microsoft.DurableTask.Page<OrchestrationMetadata>> AsPages(string? continuationToken = null, int? pageSizeHint = null)
        {
            var token = continuationToken ?? query.ContinuationToken;
            do
            {
                var (records, next) = await client.QueryAsync(query, token, pageSizeHint ?? query.PageSize, CancellationToken.None);
                yield return new Microsoft.DurableTask.Page<OrchestrationMetadata>([.. records.Select(r => client.ToMetadata(r, query.FetchInputsAndOutputs))], next);
                token = next;
            }
            while (token is not null);
        }
    }
}
