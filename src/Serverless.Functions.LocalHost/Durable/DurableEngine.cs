using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Azure;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Functions.LocalHost.Invocation;

namespace Serverless.Functions.LocalHost.Durable;

/// <summary>
/// Runs orchestrations and activities. An episode takes an instance's new events, replays the orchestrator over its
/// history plus those events, then commits: history first (an append that fails if another writer appended
/// meanwhile), then the instance row; only then is the new work dispatched and the consumed messages deleted.
/// <para>
/// What callers send (starts, events, terminate/suspend/resume) goes through the task hub's control queue, so it is
/// durable once the call returns. Work the engine makes for itself (activities, their results, timers,
/// sub-orchestrations) stays in memory: its durable record is the committed history. When the engine starts it
/// re-dispatches every action in history that has no result (activities run at least once; timers are re-armed);
/// when it stops it dispatches nothing new, lets running activities finish and commits their results. So one host
/// per task hub at a time; the next host takes over what the last one left.
/// </para>
/// </summary>
internal sealed partial class DurableEngine : BackgroundService
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(20);

    private readonly DurableStore _store;
    private readonly OrchestrationExecutor _executor;
    private readonly FunctionInvoker _invoker;
    private readonly DataConverter _converter;
    private readonly IServiceProvider _services;
    private readonly DurableOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<DurableEngine> _logger;
    private readonly Dictionary<string, FunctionDescriptor> _orchestrators;
    private readonly Dictionary<string, FunctionDescriptor> _activities;
    private readonly Channel<Received> _incoming = Channel.CreateUnbounded<Received>();
    private readonly Channel<ActivityWork> _activityQueue = Channel.CreateUnbounded<ActivityWork>();
    private readonly ConcurrentDictionary<string, List<Received>> _inbox = new();
    private readonly ConcurrentDictionary<string, CachedHistory> _cache = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _changed = new();
    private readonly ConcurrentDictionary<Task, bool> _episodes = new();
    private readonly CancellationTokenSource _timers = new();
    private readonly SemaphoreSlim _episodeSlots;
    private int _activitiesRunning;
    private volatile bool _accepting;

    public DurableEngine(
        FunctionCatalog catalog,
        DurableStore store,
        OrchestrationExecutor executor,
        FunctionInvoker invoker,
        DataConverter converter,
        IServiceProvider services,
        IOptions<DurableOptions> options,
        TimeProvider time,
        ILogger<DurableEngine> logger)
    {
        _store = store;
        _executor = executor;
        _invoker = invoker;
        _converter = converter;
        _services = services;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _orchestrators = catalog.WithTrigger<OrchestrationTriggerAttribute>()
            .ToDictionary(f => f.TriggerAs<OrchestrationTriggerAttribute>().Orchestration ?? f.Name, StringComparer.OrdinalIgnoreCase);
        _activities = catalog.WithTrigger<ActivityTriggerAttribute>()
            .ToDictionary(f => f.TriggerAs<ActivityTriggerAttribute>().Activity ?? f.Name, StringComparer.OrdinalIgnoreCase);
        _episodeSlots = new SemaphoreSlim(_options.MaxConcurrentOrchestrations);
    }

    /// <summary>Whether this host runs orchestrations (it has orchestrator functions).</summary>
    public bool IsActive => _orchestrators.Count > 0;

    public bool HasOrchestrator(string name) => _orchestrators.ContainsKey(name);

    /// <summary>
    /// Sends a control message through the queue, so it is durable when this returns. When it is due now and this
    /// host is running, it is also handed over in memory (the queue copy stays hidden and is deleted once handled).
    /// </summary>
    public async Task SendDurableAsync(ControlMessage message, TimeSpan? delay, CancellationToken cancellationToken)
    {
        var handOver = _accepting && (delay is null || delay <= TimeSpan.Zero);
        var sent = await _store.SendControlAsync(message, handOver ? null : delay, hidden: handOver, cancellationToken);
        if (handOver && !_incoming.Writer.TryWrite(sent))
        {
            await _store.ReleaseControlAsync(sent, TimeSpan.Zero);
        }
    }

    /// <summary>Completes when the instance's state may have changed on this host, or after <paramref name="timeout"/>.</summary>
    public Task WaitForChangeAsync(string instanceId, TimeSpan timeout, CancellationToken cancellationToken) =>
        _changed.GetOrAdd(instanceId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task
            .WaitAsync(timeout, _time, cancellationToken)
            .ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!IsActive)
        {
            return;
        }

        await _store.EnsureCreatedAsync();
        _accepting = true;
        Log.EngineStarted(_logger, _store.TaskHub, _orchestrators.Count, _activities.Count, _options.MaxConcurrentActivities);
        var consumer = ConsumeAsync();
        var workers = Enumerable.Range(0, _options.MaxConcurrentActivities).Select(_ => RunActivitiesAsync()).ToArray();
        var poller = PollAsync(stoppingToken);
        await RecoverAsync(stoppingToken);

        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, _time, stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }

        await DrainAsync(poller, consumer, workers);
    }

    public override void Dispose()
    {
        _timers.Dispose();
        _episodeSlots.Dispose();
        base.Dispose();
    }

    // ---- start and stop ----

    /// <summary>Every unfinished instance gets a recovery episode: its actions without results are dispatched again.</summary>
    private async Task RecoverAsync(CancellationToken stoppingToken)
    {
        string? token = null;
        var count = 0;
        do
        {
            var (records, next) = await _store.QueryInstancesAsync(
                [OrchestrationStatus.Pending, OrchestrationStatus.Running, OrchestrationStatus.Suspended], null, null, null, 500, token, stoppingToken);
            foreach (var record in records)
            {
                Local(new ControlMessage(NewMessageId(), record.InstanceId, record.ExecutionId, new RecoveryRequested()));
                count++;
            }

            token = next;
        }
        while (token is not null);

        if (count > 0)
        {
            Log.Recovering(_logger, count);
        }
    }

    /// <summary>Stops taking work, lets running activities finish and commits their results, then gives back unhandled queue messages.</summary>
    private async Task DrainAsync(Task poller, Task consumer, Task[] workers)
    {
        _accepting = false;
        _activityQueue.Writer.TryComplete();
        await _timers.CancelAsync();
        await poller;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < DrainTimeout && (Volatile.Read(ref _activitiesRunning) > 0 || !_episodes.IsEmpty || !_inbox.IsEmpty || _incoming.Reader.Count > 0))
        {
            await Task.Delay(20, CancellationToken.None);
        }

        _incoming.Writer.TryComplete();
        await consumer;
        await Task.WhenAll(workers);
        foreach (var left in _inbox.Values.SelectMany(l => l))
        {
            await _store.ReleaseControlAsync(left, TimeSpan.Zero);
        }
    }

    private async Task PollAsync(CancellationToken stoppingToken)
    {
        var idle = TimeSpan.FromMilliseconds(10);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var messages = await _store.ReceiveControlAsync(32, stoppingToken);
                foreach (var message in messages)
                {
                    _incoming.Writer.TryWrite(message);
                }

                idle = messages.Count > 0 ? TimeSpan.FromMilliseconds(10) : TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, _options.MaxPollingInterval.Ticks));
                if (messages.Count == 0)
                {
                    await Task.Delay(idle, _time, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
            catch (RequestFailedException ex)
            {
                Log.QueueFailed(_logger, ex.Message);
                await Task.Delay(_options.MaxPollingInterval, _time, CancellationToken.None);
            }
        }
    }

    // ---- orchestrations ----

    private void Local(ControlMessage message) => _incoming.Writer.TryWrite(new Received(message));

    private async Task ConsumeAsync()
    {
        while (await _incoming.Reader.WaitToReadAsync())
        {
            while (_incoming.Reader.TryRead(out var message))
            {
                var start = false;
                _inbox.AddOrUpdate(
                    message.Message.InstanceId,
                    _ =>
                    {
                        start = true;
                        return [message];
                    },
                    (_, list) =>
                    {
                        lock (list)
                        {
                            list.Add(message);
                        }

                        return list;
                    });
                if (start)
                {
                    var episode = Task.Run(() => RunInstanceAsync(message.Message.InstanceId));
                    _episodes[episode] = true;
                    _ = episode.ContinueWith(t => _episodes.TryRemove(t, out _), TaskScheduler.Default);
                }
            }
        }
    }

    /// <summary>Runs episodes for one instance until its inbox is empty; one instance never runs two episodes at once.</summary>
    private async Task RunInstanceAsync(string instanceId)
    {
        while (true)
        {
            List<Received> batch;
            var list = _inbox[instanceId];
            lock (list)
            {
                if (list.Count == 0)
                {
                    _inbox.TryRemove(new KeyValuePair<string, List<Received>>(instanceId, list));
                    return;
                }

                batch = [.. list];
                list.Clear();
            }

            await _episodeSlots.WaitAsync(CancellationToken.None);
            try
            {
                await RunEpisodeAsync(instanceId, batch);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Not committed, or committed but not all dispatched: queue messages come back after a pause, and
                // the in-memory ones are retried with history read again from storage (a recovery episode).
                Log.EpisodeFailed(_logger, ex, instanceId, ex.Message);
                _cache.TryRemove(instanceId, out _);
                await RetryLaterAsync(instanceId, batch);
            }
            finally
            {
                _episodeSlots.Release();
            }
        }
    }

    private async Task RetryLaterAsync(string instanceId, List<Received> batch)
    {
        foreach (var message in batch.Where(m => m.QueueMessageId is not null))
        {
            await _store.ReleaseControlAsync(message, TimeSpan.FromSeconds(1));
        }

        var local = batch.Where(m => m.QueueMessageId is null).Select(m => m.Message).ToList();
        if (local.Count == 0)
        {
            return;
        }

        _ = Task.Delay(TimeSpan.FromSeconds(1), _time, _timers.Token).ContinueWith(
            t =>
            {
                if (t.IsCompletedSuccessfully)
                {
                    foreach (var message in local)
                    {
                        Local(message);
                    }

                    Local(new ControlMessage(NewMessageId(), instanceId, null, new RecoveryRequested()));
                }
            },
            TaskScheduler.Default);
    }

    private async Task RunEpisodeAsync(string instanceId, List<Received> messages)
    {
        var ct = CancellationToken.None;
        var now = _time.GetUtcNow().UtcDateTime;
        var clock = Stopwatch.GetTimestamp();
        _cache.TryGetValue(instanceId, out var cached);
        var instance = cached?.Instance ?? await _store.GetInstanceAsync(instanceId, ct);
        if (instance is null)
        {
            Log.DroppedMessages(_logger, instanceId, messages.Count, "the instance does not exist");
            await DeleteAllAsync(messages);
            return;
        }

        var current = messages.Where(m => m.Message.ExecutionId is null || m.Message.ExecutionId == instance.ExecutionId).ToList();
        if (IsTerminal(instance.Status) || current.Count == 0)
        {
            await DeleteAllAsync(messages);
            return;
        }

        var history = cached is not null && cached.ExecutionId == instance.ExecutionId ? cached : await LoadHistoryAsync(instance, ct);
        var recovering = current.Any(m => m.Message.Event is RecoveryRequested);
        var newEvents = current
            .Where(m => m.Message.Event is not RecoveryRequested && !history.MessageIds.Contains(m.Message.MessageId))
            .Where(m => !(m.Message.Event is ExecutionStarted && history.Events.Count > 0))
            .Select(m => m.Message.Event with { MessageId = m.Message.MessageId })
            .ToList();

        if (history.Events.Count == 0)
        {
            var start = newEvents.OfType<ExecutionStarted>().FirstOrDefault();
            if (start is null && recovering && instance.Status == OrchestrationStatus.Pending)
            {
                // Started in memory by a host that stopped before the first episode: the row has what the start had.
                start = new ExecutionStarted(instance.Name, instance.Input, instance.ExecutionId, instance.ParentInstanceId, instance.ParentTask?.Name, instance.ParentTask?.ExecutionId, instance.ParentTask?.TaskId);
            }
            else if (start is not null)
            {
                newEvents.Remove(start);
            }

            if (start is null)
            {
                await DeferUntilStartedAsync(instance, messages, newEvents, ct);
                return;
            }

            newEvents.Insert(0, start with { Timestamp = now });
        }
        else if (newEvents.Count > 0)
        {
            newEvents.Insert(0, new OrchestratorStarted { Timestamp = now });
        }

        var started = (ExecutionStarted)(history.Events.Count > 0 ? history.Events[0] : newEvents[0]);
        var unfinished = recovering ? UnfinishedActions(history.Events).ToList() : [];
        if (newEvents.Count == 0)
        {
            await DispatchAsync(instanceId, instance.ExecutionId, started, unfinished, recovering, ct);
            await DeleteAllAsync(messages);
            return;
        }

        var result = _orchestrators.TryGetValue(started.Name, out var function)
            ? _executor.Execute(function, _services, instanceId, history.Events, [.. newEvents.Select(e => e.Timestamp == default ? e with { Timestamp = now } : e)])
            : new EpisodeResult(OrchestrationStatus.Failed, [], Failure: new TaskFailureDetails(typeof(InvalidOperationException).FullName!, $"No orchestrator function named '{started.Name}' in this app.", null, null, null));

        var newExecutionId = result.ContinueAsNew is null ? null : Guid.NewGuid().ToString("N");
        var toAppend = new List<HistoryEvent>(newEvents);
        toAppend.AddRange(result.NewActions);
        if (IsTerminal(result.Status))
        {
            toAppend.Add(new ExecutionCompleted(result.Status, result.Output, result.Failure) { Timestamp = now });
        }
        else if (result.ContinueAsNew is { } again)
        {
            toAppend.Add(new ContinuedAsNew(again.Input, newExecutionId!) { Timestamp = now });
        }

        var length = await _store.AppendHistoryAsync(instanceId, instance.ExecutionId, history.Length, toAppend, ct);
        var status = result.ContinueAsNew is null ? result.Status : OrchestrationStatus.Running;
        var updated = instance with
        {
            Status = status,
            ExecutionId = newExecutionId ?? instance.ExecutionId,
            Input = result.ContinueAsNew?.Input ?? instance.Input,
            Output = status == OrchestrationStatus.Terminated ? result.Output : result.Output ?? instance.Output,
            Failure = result.Failure,
            CustomStatus = result.CustomStatusSet ? result.CustomStatus : instance.CustomStatus,
            LastUpdatedAt = now,
            ETag = ETag.All,
        };
        await _store.PutInstanceAsync(updated, ct);
        Log.Episode(_logger, instanceId, newEvents.Count, result.NewActions.Count, status.ToString(), Stopwatch.GetElapsedTime(clock).TotalMilliseconds);

        if (_options.CacheHistory && !IsTerminal(status) && newExecutionId is null)
        {
            _cache[instanceId] = new CachedHistory(updated, instance.ExecutionId, [.. history.Events, .. toAppend], length, [.. history.MessageIds, .. newEvents.Select(e => e.MessageId).OfType<string>()]);
        }
        else
        {
            _cache.TryRemove(instanceId, out _);
        }

        await DispatchAsync(instanceId, instance.ExecutionId, started, [.. unfinished, .. result.NewActions], recovering, ct);
        Finish(instanceId, started, result, status, newExecutionId);
        await DeleteAllAsync(messages);
        Signal(instanceId);
    }

    private async Task DeferUntilStartedAsync(InstanceRecord instance, List<Received> messages, List<HistoryEvent> newEvents, CancellationToken ct)
    {
        // Not started yet (a start in the future): a termination ends it now; other events wait for the start.
        if (newEvents.OfType<ExecutionTerminated>().FirstOrDefault() is { } terminated)
        {
            await _store.PutInstanceAsync(instance with { Status = OrchestrationStatus.Terminated, Output = terminated.Output, LastUpdatedAt = _time.GetUtcNow(), ETag = ETag.All }, ct);
            await DeleteAllAsync(messages);
            Signal(instance.InstanceId);
            return;
        }

        foreach (var message in messages)
        {
            await _store.ReleaseControlAsync(message, TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Starts the work an episode decided. While stopping, activities, timers and child starts wait for the next start's recovery.</summary>
    private async Task DispatchAsync(string instanceId, string executionId, ExecutionStarted started, IReadOnlyList<HistoryEvent> actions, bool recovering, CancellationToken ct)
    {
        foreach (var action in actions)
        {
            switch (action)
            {
                case TaskScheduled scheduled when _accepting:
                    _activityQueue.Writer.TryWrite(new ActivityWork(instanceId, executionId, scheduled.TaskId, scheduled.Name, scheduled.Input));
                    break;
                case TimerCreated timer when _accepting:
                    ArmTimer(instanceId, executionId, timer);
                    break;
                case SubOrchestrationCreated sub:
                    await StartChildAsync(instanceId, executionId, started, sub, recovering, ct);
                    break;
                case EventSent sent:
                    await SendDurableAsync(new ControlMessage(NewMessageId(), sent.InstanceId, null, new EventRaised(sent.Name, sent.Input)), null, ct);
                    break;
            }
        }
    }

    private async Task StartChildAsync(string instanceId, string executionId, ExecutionStarted started, SubOrchestrationCreated sub, bool recovering, CancellationToken ct)
    {
        if (recovering && await _store.GetInstanceAsync(sub.InstanceId, ct) is { } child)
        {
            // The child exists: if it ended, its parent may have missed the news; if not, its own recovery carries on.
            if (IsTerminal(child.Status))
            {
                Local(new ControlMessage(NewMessageId(), instanceId, executionId, ChildOutcome(sub.TaskId, sub.InstanceId, child.Status, child.Output, child.Failure)));
            }

            return;
        }

        var now = _time.GetUtcNow();
        var childExecution = Guid.NewGuid().ToString("N");
        await _store.PutInstanceAsync(new InstanceRecord(sub.InstanceId, sub.Name, OrchestrationStatus.Pending, childExecution, sub.Input, null, null, null, now, now, instanceId, ETag.All)
        {
            ParentTask = (started.Name, executionId, sub.TaskId),
        }, ct);
        if (_accepting)
        {
            Local(new ControlMessage(NewMessageId(), sub.InstanceId, childExecution, new ExecutionStarted(sub.Name, sub.Input, childExecution, instanceId, started.Name, executionId, sub.TaskId)));
        }
    }

    private void ArmTimer(string instanceId, string executionId, TimerCreated timer)
    {
        var due = timer.FireAt - _time.GetUtcNow().UtcDateTime;
        _ = Task.Delay(due > TimeSpan.Zero ? due : TimeSpan.Zero, _time, _timers.Token).ContinueWith(
            t =>
            {
                if (t.IsCompletedSuccessfully)
                {
                    Local(new ControlMessage(NewMessageId(), instanceId, executionId, new TimerFired(timer.TaskId, timer.FireAt)));
                }
            },
            TaskScheduler.Default);
    }

    /// <summary>After the commit: the next execution of a ContinueAsNew, or the news of the end to a parent.</summary>
    private void Finish(string instanceId, ExecutionStarted started, EpisodeResult result, OrchestrationStatus status, string? newExecutionId)
    {
        if (newExecutionId is not null)
        {
            var again = result.ContinueAsNew!.Value;
            Local(new ControlMessage(NewMessageId(), instanceId, newExecutionId, new ExecutionStarted(started.Name, again.Input, newExecutionId, started.ParentInstanceId, started.ParentName, started.ParentExecutionId, started.ParentTaskId)
            {
                CarriedEvents = again.CarriedEvents,
            }));
            return;
        }

        if (!IsTerminal(status))
        {
            return;
        }

        Log.OrchestrationFinished(_logger, started.Name, instanceId, status.ToString(), result.Failure?.ErrorMessage ?? string.Empty);
        if (started is { ParentInstanceId: { } parent, ParentTaskId: { } taskId })
        {
            Local(new ControlMessage(NewMessageId(), parent, started.ParentExecutionId, ChildOutcome(taskId, instanceId, status, result.Output, result.Failure)));
        }
    }

    private static HistoryEvent ChildOutcome(int taskId, string childId, OrchestrationStatus status, string? output, TaskFailureDetails? failure) =>
        status == OrchestrationStatus.Completed
            ? new SubOrchestrationCompleted(taskId, output)
            : new SubOrchestrationFailed(taskId, failure ?? new TaskFailureDetails("Terminated", $"Sub-orchestration {childId} was terminated.", null, null, null));

    /// <summary>Actions in history with no result yet: after a restart, they may be lost in memory and are dispatched again.</summary>
    private static IEnumerable<HistoryEvent> UnfinishedActions(IReadOnlyList<HistoryEvent> events)
    {
        var finished = events.OfType<ITaskCompletion>().Select(c => c.TaskId).ToHashSet();
        return events.Where(e => e is IOrchestratorAction action and not EventSent && !finished.Contains(action.TaskId));
    }

    private async Task<CachedHistory> LoadHistoryAsync(InstanceRecord instance, CancellationToken ct)
    {
        var (events, length) = await _store.ReadHistoryAsync(instance.InstanceId, instance.ExecutionId, ct);
        return new CachedHistory(instance, instance.ExecutionId, events, length, [.. events.Select(e => e.MessageId).OfType<string>()]);
    }

    // ---- activities ----

    private async Task RunActivitiesAsync()
    {
        while (await _activityQueue.Reader.WaitToReadAsync())
        {
            while (_accepting && _activityQueue.Reader.TryRead(out var work))
            {
                Interlocked.Increment(ref _activitiesRunning);
                try
                {
                    Local(new ControlMessage(NewMessageId(), work.InstanceId, work.ExecutionId, await RunActivityAsync(work)));
                }
                finally
                {
                    Interlocked.Decrement(ref _activitiesRunning);
                }
            }

            if (!_accepting)
            {
                return;
            }
        }
    }

    private async Task<HistoryEvent> RunActivityAsync(ActivityWork work)
    {
        if (!_activities.TryGetValue(work.Name, out var function))
        {
            return new TaskFailed(work.TaskId, new TaskFailureDetails(typeof(InvalidOperationException).FullName!, $"No activity function named '{work.Name}' in this app.", null, null, null));
        }

        try
        {
            var input = _converter.Deserialize(work.Input, function.TriggerParameter.ParameterType);
            var bindingData = new Dictionary<string, object?> { ["instanceId"] = work.InstanceId };
            var result = await _invoker.InvokeAsync(function, new InvocationRequest(_ => ValueTask.FromResult(input), bindingData), CancellationToken.None);
            return new TaskCompleted(work.TaskId, _converter.Serialize(result));
        }
        catch (FunctionInvocationException ex)
        {
            return new TaskFailed(work.TaskId, TaskFailureDetails.FromException(ex.InnerException!));
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException)
        {
            // The input does not fit the activity's parameter: a failure of the task, as the real extension reports it.
            return new TaskFailed(work.TaskId, TaskFailureDetails.FromException(ex));
        }
    }

    // ---- helpers ----

    private async Task DeleteAllAsync(IEnumerable<Received> messages)
    {
        foreach (var message in messages)
        {
            await _store.DeleteControlAsync(message, CancellationToken.None);
        }
    }

    private void Signal(string instanceId)
    {
        if (_changed.TryRemove(instanceId, out var changed))
        {
            changed.TrySetResult();
        }
    }

    private static string NewMessageId() => Guid.NewGuid().ToString("N");

    private static bool IsTerminal(OrchestrationStatus status) =>
        status is OrchestrationStatus.Completed or OrchestrationStatus.Failed or OrchestrationStatus.Terminated;

    private sealed record ActivityWork(string InstanceId, string ExecutionId, int TaskId, string Name, string? Input);

    private sealed record CachedHistory(InstanceRecord Instance, string ExecutionId, List<HistoryEvent> Events, long Length, HashSet<string> MessageIds);

    private static partial class Log
    {
        [LoggerMessage(1500, LogLevel.Information, "Durable engine on task hub '{TaskHub}': {Orchestrators} orchestrators, {Activities} activities, up to {MaxActivities} activities at once")]
        public static partial void EngineStarted(ILogger logger, string taskHub, int orchestrators, int activities, int maxActivities);

        [LoggerMessage(1501, LogLevel.Information, "Orchestration '{Name}' ({InstanceId}) {Status} {Reason}")]
        public static partial void OrchestrationFinished(ILogger logger, string name, string instanceId, string status, string reason);

        [LoggerMessage(1502, LogLevel.Error, "Episode of instance {InstanceId} did not finish; it is retried: {Reason}")]
        public static partial void EpisodeFailed(ILogger logger, Exception exception, string instanceId, string reason);

        [LoggerMessage(1503, LogLevel.Warning, "Dropped {Count} message(s) for instance {InstanceId}: {Reason}")]
        public static partial void DroppedMessages(ILogger logger, string instanceId, int count, string reason);

        [LoggerMessage(1504, LogLevel.Warning, "Task hub queue call failed; retrying: {Reason}")]
        public static partial void QueueFailed(ILogger logger, string reason);

        [LoggerMessage(1505, LogLevel.Debug, "Episode of {InstanceId}: {NewEvents} new events, {Actions} new actions, {Status}, in {ElapsedMs:0.0} ms")]
        public static partial void Episode(ILogger logger, string instanceId, int newEvents, int actions, string status, double elapsedMs);

        [LoggerMessage(1506, LogLevel.Information, "Recovering {Count} unfinished orchestration instance(s) on the task hub")]
        public static partial void Recovering(ILogger logger, int count);
    }
}

/// <summary>Asks for a recovery episode: read history from storage and dispatch what has no result. Never stored in history.</summary>
internal sealed record RecoveryRequested : HistoryEvent;
