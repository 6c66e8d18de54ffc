using System.Globalization;
using DurableTask.AzureStorage;
using DurableTask.Core;
using DurableTask.Core.Exceptions;
using DurableTask.Core.History;
using DurableTask.Core.Query;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.Options;
using CoreQuery = DurableTask.Core.Query.OrchestrationQuery;
using CoreStatus = DurableTask.Core.OrchestrationStatus;
using OrchestrationQuery = Microsoft.DurableTask.Client.OrchestrationQuery;
using PurgeResult = Microsoft.DurableTask.Client.PurgeResult;

namespace Serverless.LocalHost.Durable;

/// <summary>
/// A <see cref="DurableTaskClient"/> over the task hub's Durable Task Framework client (the Azure Storage provider):
/// what the isolated extension's gRPC client does against the Functions host, done in-process. Inputs, outputs and
/// events go through the worker's data converter. Starting an instance whose id is pending, running or suspended is
/// refused, as the Functions host refuses it by default.
/// </summary>
internal sealed class LocalDurableTaskClient(DurableTaskHub hub, IOptions<DurableTaskWorkerOptions> options) : DurableTaskClient(hub.Name)
{
    private static readonly CoreStatus[] NotFinished = [CoreStatus.Pending, CoreStatus.Running, CoreStatus.Suspended];
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    private DataConverter Converter => options.Value.DataConverter;

    public override async Task<string> ScheduleNewOrchestrationInstanceAsync(
        TaskName orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default)
    {
        cancellation.ThrowIfCancellationRequested();
        var instance = new OrchestrationInstance
        {
            InstanceId = options?.InstanceId ?? Guid.NewGuid().ToString("N"),
            ExecutionId = Guid.NewGuid().ToString("N"),
        };
        var tags = options?.Tags.ToDictionary(t => t.Key, t => t.Value) ?? [];
        tags[OrchestrationTags.RequestTime] = DateTimeOffset.UtcNow.ToString(CultureInfo.InvariantCulture);
        var message = new TaskMessage
        {
            OrchestrationInstance = instance,
            Event = new ExecutionStartedEvent(-1, Converter.Serialize(input))
            {
                Name = orchestratorName.Name,
                Version = options?.Version?.Version ?? string.Empty,
                OrchestrationInstance = instance,
                ScheduledStartTime = options?.StartAt?.UtcDateTime,
                Tags = tags,
            },
        };
        var dedupe = options?.DedupeStatuses is { Count: > 0 } statuses
            ? [.. statuses.Select(s => Enum.Parse<CoreStatus>(s, ignoreCase: true))]
            : NotFinished;
        try
        {
            await (await ServiceAsync()).CreateTaskOrchestrationAsync(message, dedupe);
        }
        catch (OrchestrationAlreadyExistsException ex)
        {
            throw new OrchestrationAlreadyExistsException(
                $"Orchestration instance '{instance.InstanceId}' exists already and has not finished: {ex.Message}");
        }

        return instance.InstanceId;
    }

    public override Task RaiseEventAsync(
        string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default) =>
        SendAsync(instanceId, new EventRaisedEvent(-1, Converter.Serialize(eventPayload)) { Name = eventName }, cancellation);

    public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        SendAsync(instanceId, new ExecutionSuspendedEvent(-1, reason), cancellation);

    public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        SendAsync(instanceId, new ExecutionResumedEvent(-1, reason), cancellation);

    public override async Task TerminateInstanceAsync(
        string instanceId, TerminateInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        cancellation.ThrowIfCancellationRequested();
        await (await ServiceAsync()).ForceTerminateTaskOrchestrationAsync(instanceId, Converter.Serialize(options?.Output));
    }

    public override async Task<OrchestrationMetadata?> GetInstancesAsync(
        string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        cancellation.ThrowIfCancellationRequested();
        var states = await (await ServiceAsync()).GetOrchestrationStateAsync(instanceId, allExecutions: false, fetchInput: getInputsAndOutputs);
        return states is { Count: > 0 } ? ToMetadata(states[0], getInputsAndOutputs) : null;
    }

    public override AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null) =>
        Pageable.Create(async (continuation, pageSize, cancellation) =>
        {
            var query = new CoreQuery
            {
                RuntimeStatus = filter?.Statuses?.Select(s => (CoreStatus)s).ToList(),
                CreatedTimeFrom = filter?.CreatedFrom?.UtcDateTime,
                CreatedTimeTo = filter?.CreatedTo?.UtcDateTime,
                InstanceIdPrefix = filter?.InstanceIdPrefix,
                PageSize = pageSize ?? filter?.PageSize ?? OrchestrationQuery.DefaultPageSize,
                ContinuationToken = continuation ?? filter?.ContinuationToken,
                FetchInputsAndOutputs = filter?.FetchInputsAndOutputs ?? false,
            };
            var result = await (await ServiceAsync()).GetOrchestrationWithQueryAsync(query, cancellation);
            return new Page<OrchestrationMetadata>(
                [.. result.OrchestrationState.Select(s => ToMetadata(s, query.FetchInputsAndOutputs))],
                result.ContinuationToken);
        });

    public override Task<OrchestrationMetadata> WaitForInstanceStartAsync(
        string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        WaitAsync(instanceId, getInputsAndOutputs, m => m.RuntimeStatus != OrchestrationRuntimeStatus.Pending, cancellation);

    public override Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(
        string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        WaitAsync(instanceId, getInputsAndOutputs, m => m.IsCompleted, cancellation);

    public override async Task<PurgeResult> PurgeInstanceAsync(
        string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        var instance = await GetInstancesAsync(instanceId, cancellation: cancellation);
        if (instance is null)
        {
            return new PurgeResult(0);
        }

        if (!instance.IsCompleted)
        {
            throw new InvalidOperationException(
                $"Instance '{instanceId}' is {instance.RuntimeStatus}: only completed, failed or terminated instances can be purged.");
        }

        var purged = await ((IOrchestrationServicePurgeClient)await ServiceAsync()).PurgeInstanceStateAsync(instanceId);
        return new PurgeResult(purged.DeletedInstanceCount);
    }

    public override async Task<PurgeResult> PurgeAllInstancesAsync(
        PurgeInstancesFilter filter, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var purged = await ((IOrchestrationServicePurgeClient)await ServiceAsync()).PurgeInstanceStateAsync(new PurgeInstanceFilter(
            filter.CreatedFrom?.UtcDateTime ?? DateTime.MinValue,
            filter.CreatedTo?.UtcDateTime,
            filter.Statuses?.Select(s => (CoreStatus)s)));
        return new PurgeResult(purged.DeletedInstanceCount);
    }

    /// <summary>The history of the instance's current execution, as the provider stores it (JSON).</summary>
    public async Task<string?> GetHistoryJsonAsync(string instanceId, CancellationToken cancellation)
    {
        var service = await ServiceAsync();
        var states = await service.GetOrchestrationStateAsync(instanceId, allExecutions: false, fetchInput: false);
        cancellation.ThrowIfCancellationRequested();
        return states is { Count: > 0 } ? await service.GetOrchestrationHistoryAsync(instanceId, states[0].OrchestrationInstance.ExecutionId) : null;
    }

    /// <summary>
    /// The instance's history, as the framework's events. The Azure Storage provider gives it as JSON without type names;
    /// each event is read as the class its <c>EventType</c> names (<c>TaskScheduled</c> → <see cref="TaskScheduledEvent"/>).
    /// </summary>
    public override async Task<IList<HistoryEvent>> GetOrchestrationHistoryAsync(string instanceId, CancellationToken cancellation = default)
    {
        var json = await GetHistoryJsonAsync(instanceId, cancellation)
            ?? throw new ArgumentException($"No orchestration instance '{instanceId}'.", nameof(instanceId));
        var events = new List<HistoryEvent>();
        foreach (var item in Newtonsoft.Json.Linq.JArray.Parse(json).OfType<Newtonsoft.Json.Linq.JObject>())
        {
            var kind = (EventType)item.Value<int>(nameof(HistoryEvent.EventType));
            if (typeof(HistoryEvent).Assembly.GetType($"{typeof(HistoryEvent).Namespace}.{kind}Event") is { } type && item.ToObject(type) is HistoryEvent @event)
            {
                events.Add(@event);
            }
        }

        return events;
    }

    public override ValueTask DisposeAsync() => default;

    private Task<AzureStorageOrchestrationService> ServiceAsync() => hub.GetServiceAsync();

    private async Task SendAsync(string instanceId, HistoryEvent @event, CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        cancellation.ThrowIfCancellationRequested();
        await (await ServiceAsync()).SendTaskOrchestrationMessageAsync(new TaskMessage
        {
            OrchestrationInstance = new OrchestrationInstance { InstanceId = instanceId },
            Event = @event,
        });
    }

    private async Task<OrchestrationMetadata> WaitAsync(
        string instanceId, bool getInputsAndOutputs, Func<OrchestrationMetadata, bool> done, CancellationToken cancellation)
    {
        while (true)
        {
            var metadata = await GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation)
                ?? throw new InvalidOperationException($"No orchestration instance with id '{instanceId}'.");
            if (done(metadata))
            {
                return metadata;
            }

            await Task.Delay(PollInterval, cancellation);
        }
    }

    private OrchestrationMetadata ToMetadata(OrchestrationState state, bool withData)
    {
        var failure = state.FailureDetails is { } details ? ToDetails(details) : FailureFromOutput(state);
        return new OrchestrationMetadata(state.Name, state.OrchestrationInstance.InstanceId)
        {
            DataConverter = withData ? Converter : null,
            RuntimeStatus = (OrchestrationRuntimeStatus)state.OrchestrationStatus,
            CreatedAt = state.CreatedTime,
            LastUpdatedAt = state.LastUpdatedTime,
            SerializedInput = withData ? state.Input : null,
            SerializedOutput = withData && failure is null ? state.Output : null,
            SerializedCustomStatus = state.Status,
            FailureDetails = failure,
        };
    }

    /// <summary>
    /// The Azure Storage provider keeps a failed instance's details in its output as <c>{type}: {message}</c> (the
    /// framework's <see cref="FailureDetails.ToString"/>) rather than as details: read them back from there.
    /// </summary>
    private static TaskFailureDetails? FailureFromOutput(OrchestrationState state)
    {
        if (state.OrchestrationStatus != CoreStatus.Failed || state.Output is not { Length: > 0 } output)
        {
            return null;
        }

        var colon = output.IndexOf(": ", StringComparison.Ordinal);
        return colon > 0 && !output[..colon].Contains(' ', StringComparison.Ordinal)
            ? new TaskFailureDetails(output[..colon], output[(colon + 2)..], null, null, null)
            : new TaskFailureDetails("Unknown", output, null, null, null);
    }

    private static TaskFailureDetails ToDetails(FailureDetails failure) =>
        new(failure.ErrorType, failure.ErrorMessage, failure.StackTrace,
            failure.InnerFailure is { } inner ? ToDetails(inner) : null, failure.Properties);
}
