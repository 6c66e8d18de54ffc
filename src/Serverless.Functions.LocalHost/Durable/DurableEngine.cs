using System.Collections.Concurrent;
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
/// Runs orchestrations and activities from the task hub's queues. An episode takes an instance's new events, replays
/// the orchestrator over its history plus those events, then commits in order: history first (an append that fails
/// if another host appended meanwhile), then the instance row, then the new work (activities, timers,
/// sub-orchestrations, events), and only then deletes the messages it consumed. A crash before the commit replays the
/// episode; a crash after it re-dispatches the last episode's unfinished work (activities run at least once). Work
/// this host creates for itself is handed over in memory; the queue copy stays hidden and only reappears if this host
/// dies before finishing it.
/// </summary>
internal sealed partial class DurableEngine : BackgroundService
{
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
    private readonly Channel<Received<ControlMessage>> _control = Channel.CreateUnbounded<Received<ControlMessage>>();
    private readonly Channel<Received<WorkItem>> _workItems = Channel.CreateUnbounded<Received<WorkItem>>();
    private readonly ConcurrentDictionary<string, List<Received<ControlMessage>>> _inbox = new();
    private readonly ConcurrentDictionary<string, CachedHistory> _cache = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _changed = new();
    private readonly ConcurrentDictionary<Task, bool> _running = new();
    private readonly SemaphoreSlim _episodeSlots;
    private readonly SemaphoreSlim _activitySlots;
    private CancellationToken _stopping;
    private volatile bool _consuming;

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
        _activitySlots = new SemaphoreSlim(_options.MaxConcurrentActivities);
    }

    /// <summary>Whether this host runs Durable work (it has orchestrator or activity functions).</summary>
    public bool IsActive => _orchestrators.Count > 0 || _activities.Count > 0;

    public bool HasOrchestrator(string name) => _orchestrators.ContainsKey(name);

    /// <summary>Sends a control message; when it is due now and this host runs orchestrations, it is also handed over in memory.</summary>
    public async Task SendControlAsync(ControlMessage message, TimeSpan? delay, CancellationToken cancellationToken)
    {
        var handOver = _consuming && _orchestrators.Count > 0 && (delay is null || delay <= TimeSpan.Zero) && !_stopping.IsCancellationRequested;
        if (handOver)
        {
            var sent = await _store.SendControlAsync(message, _options.MessageVisibilityTimeout, cancellationToken);
            if (!_control.Writer.TryWrite(sent))
            {
                await _store.SetVisibilityAsync(control: true, sent, TimeSpan.Zero, CancellationToken.None);
            }
        }
        else
        {
            await _store.SendControlAsync(message, delay, cancellationToken);
        }
    }

    /// <summary>Completes when the instance's state may have changed on this host, or after <paramref name="timeout"/>.</summary>
    public Task WaitForChangeAsync(string instanceId, TimeSpan timeout, CancellationToken cancellationToken) =>
        _changed.GetOrAdd(instanceId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task
            .WaitAsync(timeout, _time, cancellationToken)
            .ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        if (!IsActive)
        {
            return;
        }

        await _store.EnsureCreatedAsync();
        _consuming = true;
        Log.EngineStarted(_logger, _store.TaskHub, _orchestrators.Count, _activities.Count, _options.MaxConcurrentActivities);
        var loops = new List<Task>
        {
            PollAsync(_store.ReceiveControlAsync, _control.Writer, stoppingToken),
            ConsumeControlAsync(stoppingToken),
        };
        if (_activities.Count > 0)
        {
            loops.Add(PollAsync(_store.ReceiveWorkItemsAsync, _workItems.Writer, stoppingToken));
            loops.Add(ConsumeWorkItemsAsync(stoppingToken));
        }

        await Task.WhenAll(loops);
        await Task.WhenAll(_running.Keys);
        await ReleaseUnstartedAsync();
    }

    // ---- queues ----

    private async Task PollAsync<T>(Func<int, CancellationToken, Task<IReadOnlyList<Received<T>>>> receive, ChannelWriter<Received<T>> writer, CancellationToken stoppingToken)
    {
        var idle = TimeSpan.FromMilliseconds(10);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var messages = await receive(32, stoppingToken);
                foreach (var message in messages)
                {
                    writer.TryWrite(message);
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

    private async Task ReleaseUnstartedAsync()
    {
        // Messages this host took but did not start: show them again at once, for the next host.
        foreach (var pending in _inbox.Values.SelectMany(l => l).Concat(Drain(_control.Reader)))
        {
            await TryShowAsync(control: true, pending);
        }

        foreach (var pending in Drain(_workItems.Reader))
        {
            await TryShowAsync(control: false, pending);
        }

        static IEnumerable<T> Drain<T>(ChannelReader<T> reader)
        {
            while (reader.TryRead(out var item))
            {
                yield return item;
            }
        }
    }

    private async Task TryShowAsync<T>(bool control, Received<T> message)
    {
        try
        {
            await _store.SetVisibilityAsync(control, message, TimeSpan.Zero, CancellationToken.None);
        }
        catch (RequestFailedException)
        {
            // Deleted meanwhile, or its receipt changed: either way it is not lost.
        }
    }

    private async Task TryHideAsync(Received<ControlMessage> message, TimeSpan visibility)
    {
        try
        {
            await _store.SetVisibilityAsync(control: true, message, visibility, CancellationToken.None);
        }
        catch (RequestFailedException)
        {
            // Gone or taken elsewhere: not lost either way.
        }
    }

    private Task Track(Func<Task> work)
    {
        var task = Task.Run(work);
        _running[task] = true;
        task.ContinueWith(t => _running.TryRemove(t, out _), TaskScheduler.Default);
        return task;
    }

    // ---- orchestrations ----

    private async Task ConsumeControlAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _control.Reader.WaitToReadAsync(stoppingToken))
            {
                while (_control.Reader.TryRead(out var message))
                {
                    var start = false;
                    _inbox.AddOrUpdate(message.Message.InstanceId, _ => { start = true; return [message]; }, (_, list) => { lock (list) { list.Add(message); } return list; });
                    if (start)
                    {
                        _ = Track(() => RunInstanceAsync(message.Message.InstanceId));
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Runs episodes for one instance until its inbox is empty; one instance never runs two episodes at once.</summary>
    private async Task RunInstanceAsync(string instanceId)
    {
        while (!_stopping.IsCancellationRequested)
        {
            List<Received<ControlMessage>> batch;
            var list = _inbox[instanceId];
            lock (list)
            {
                if (list.Count == 0)
                {
                    _inbox.TryRemove(new KeyValuePair<string, List<Received<ControlMessage>>>(instanceId, list));
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
                // The episode did not finish: its messages come back after a pause, and the next try starts from storage.
                Log.EpisodeFailed(_logger, ex, instanceId, ex.Message);
                _cache.TryRemove(instanceId, out _);
                foreach (var message in batch)
                {
                    await TryHideAsync(message, TimeSpan.FromSeconds(1));
                }
            }
            finally
            {
                _episodeSlots.Release();
            }
        }
    }

    private async Task RunEpisodeAsync(string instanceId, List<Received<ControlMessage>> messages)
    {
        var ct = CancellationToken.None;
        var now = _time.GetUtcNow().UtcDateTime;
        var instance = await _store.GetInstanceAsync(instanceId, ct);
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

        // Timers further away than a queue message can hide wait again for the rest of their time.
        var early = current.Where(m => m.Message.Event is TimerFired t && t.FireAt > now.AddSeconds(1)).ToList();
        foreach (var timer in early)
        {
            await SendControlAsync(timer.Message, ((TimerFired)timer.Message.Event).FireAt - now, ct);
        }

        current = current.Except(early).ToList();
        var history = await LoadHistoryAsync(instance, ct);

        // A message already in history was consumed by an episode that committed but never deleted its messages (the
        // host died between the two): that episode's work may not have been sent, so it is sent again.
        var redelivered = current.Where(m => m.Message.MessageId is not null && history.MessageIds.Contains(m.Message.MessageId)).Select(m => m.Message.MessageId!).ToHashSet();
        var newEvents = current
            .Where(m => m.Message.MessageId is not null && !history.MessageIds.Contains(m.Message.MessageId))
            .Select(m => m.Message.Event with { MessageId = m.Message.MessageId })
            .ToList();

        if (history.Events.Count == 0 && newEvents.FirstOrDefault(e => e is ExecutionStarted) is { } startEvent)
        {
            newEvents.Remove(startEvent);
            newEvents.Insert(0, startEvent with { Timestamp = now });
        }
        else if (history.Events.Count == 0)
        {
            await DeferUntilStartedAsync(instance, messages, newEvents, ct);
            return;
        }
        else if (newEvents.Count > 0)
        {
            newEvents.Insert(0, new OrchestratorStarted { Timestamp = now });
        }

        var resend = redelivered.Count == 0 ? [] : UnfinishedActionsOfEpisodes(history.Events, redelivered).ToList();
        if (newEvents.Count == 0)
        {
            await DispatchAsync(instanceId, instance.ExecutionId, (ExecutionStarted)history.Events[0], resend, ct);
            await DeleteAllAsync(messages);
            return;
        }

        var started = (ExecutionStarted)(history.Events.Count > 0 ? history.Events[0] : newEvents[0]);
        var result = _orchestrators.TryGetValue(started.Name, out var function)
            ? _executor.Execute(function, _services, instanceId, history.Events, newEvents.Select(e => e with { Timestamp = e.Timestamp == default ? now : e.Timestamp }).ToList())
            : new EpisodeResult(OrchestrationStatus.Failed, [], Failure: new TaskFailureDetails(typeof(InvalidOperationException).FullName!, $"No orchestrator function named '{started.Name}' in this app.", null, null, null));

        Log.Episode(_logger, instanceId, string.Join(",", newEvents.Select(e => e.GetType().Name)), string.Join(",", result.NewActions.Select(a => a.GetType().Name)), result.Status.ToString());
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

        long length;
        try
        {
            length = toAppend.Count == 0 ? history.Length : await _store.AppendHistoryAsync(instanceId, instance.ExecutionId, history.Length, toAppend, ct);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Another host appended first: forget what we knew and let these messages come back.
            _cache.TryRemove(instanceId, out _);
            foreach (var message in messages)
            {
                await TryShowAsync(control: true, message);
            }

            return;
        }

        var status = result.ContinueAsNew is null ? result.Status : OrchestrationStatus.Running;
        await _store.PutInstanceAsync(instance with
        {
            Status = status,
            ExecutionId = newExecutionId ?? instance.ExecutionId,
            Input = result.ContinueAsNew?.Input ?? instance.Input,
            Output = status == OrchestrationStatus.Terminated ? result.Output : result.Output ?? instance.Output,
            Failure = result.Failure,
            CustomStatus = result.CustomStatusSet ? result.CustomStatus : instance.CustomStatus,
            LastUpdatedAt = now,
            ETag = ETag.All,
        }, ct);

        var events = history.Events.Concat(toAppend).ToList();
        if (_options.CacheHistory && !IsTerminal(status) && newExecutionId is null)
        {
            _cache[instanceId] = new CachedHistory(instance.ExecutionId, events, length, [.. history.MessageIds, .. newEvents.Select(e => e.MessageId).OfType<string>()]);
        }
        else
        {
            _cache.TryRemove(instanceId, out _);
        }

        await DispatchAsync(instanceId, instance.ExecutionId, started, [.. resend, .. result.NewActions], ct);
        await FinishAsync(instanceId, started, result, status, newExecutionId, ct);
        await DeleteAllAsync(messages);
        Signal(instanceId);
    }

    private async Task DeferUntilStartedAsync(InstanceRecord instance, List<Received<ControlMessage>> messages, List<HistoryEvent> newEvents, CancellationToken ct)
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
            await _store.SetVisibilityAsync(control: true, message, TimeSpan.FromSeconds(1), ct);
        }
    }

    private async Task DispatchAsync(string instanceId, string executionId, ExecutionStarted started, IReadOnlyList<HistoryEvent> actions, CancellationToken ct)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        await Parallel.ForEachAsync(actions, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (action, token) =>
        {
            switch (action)
            {
                case TaskScheduled scheduled:
                    await SendWorkItemAsync(new WorkItem(NewMessageId(), instanceId, executionId, scheduled.TaskId, scheduled.Name, scheduled.Input), token);
                    break;
                case TimerCreated timer:
                    await SendControlAsync(Control(instanceId, executionId, new TimerFired(timer.TaskId, timer.FireAt)), timer.FireAt - now, token);
                    break;
                case SubOrchestrationCreated sub:
                    var childExecution = Guid.NewGuid().ToString("N");
                    await _store.PutInstanceAsync(new InstanceRecord(sub.InstanceId, sub.Name, OrchestrationStatus.Pending, childExecution, sub.Input, null, null, null, now, now, instanceId, ETag.All), token);
                    await SendControlAsync(Control(sub.InstanceId, childExecution, new ExecutionStarted(sub.Name, sub.Input, childExecution, instanceId, started.Name, executionId, sub.TaskId)), null, token);
                    break;
                case EventSent sent:
                    await SendControlAsync(Control(sent.InstanceId, null, new EventRaised(sent.Name, sent.Input)), null, token);
                    break;
            }
        });
    }

    private async Task FinishAsync(string instanceId, ExecutionStarted started, EpisodeResult result, OrchestrationStatus status, string? newExecutionId, CancellationToken ct)
    {
        if (newExecutionId is not null)
        {
            var again = result.ContinueAsNew!.Value;
            await SendControlAsync(Control(instanceId, newExecutionId, new ExecutionStarted(started.Name, again.Input, newExecutionId, started.ParentInstanceId, started.ParentName, started.ParentExecutionId, started.ParentTaskId)
            {
                CarriedEvents = again.CarriedEvents,
            }), null, ct);
            return;
        }

        if (!IsTerminal(status))
        {
            return;
        }

        Log.OrchestrationFinished(_logger, started.Name, instanceId, status.ToString(), result.Failure?.ErrorMessage);
        if (started is { ParentInstanceId: { } parent, ParentTaskId: { } taskId })
        {
            HistoryEvent outcome = status == OrchestrationStatus.Completed
                ? new SubOrchestrationCompleted(taskId, result.Output)
                : new SubOrchestrationFailed(taskId, result.Failure ?? new TaskFailureDetails("Terminated", $"Sub-orchestration {instanceId} was terminated.", null, null, null));
            await SendControlAsync(Control(parent, started.ParentExecutionId, outcome), null, ct);
        }
    }

    /// <summary>The actions taken by the episodes that consumed <paramref name="messageIds"/>, that have no result yet.</summary>
    private static IEnumerable<HistoryEvent> UnfinishedActionsOfEpisodes(IReadOnlyList<HistoryEvent> events, HashSet<string> messageIds)
    {
        var finished = events.OfType<ITaskCompletion>().Select(c => c.TaskId).ToHashSet();
        var inEpisode = false;
        foreach (var historyEvent in events)
        {
            if (historyEvent is OrchestratorStarted or ExecutionStarted)
            {
                inEpisode = false;
            }

            inEpisode |= historyEvent.MessageId is { } id && messageIds.Contains(id);
            if (inEpisode && historyEvent is IOrchestratorAction action and not EventSent && !finished.Contains(action.TaskId))
            {
                yield return historyEvent;
            }
        }
    }

    private async Task<CachedHistory> LoadHistoryAsync(InstanceRecord instance, CancellationToken ct)
    {
        if (_cache.TryGetValue(instance.InstanceId, out var cached) && cached.ExecutionId == instance.ExecutionId)
        {
            return cached with { FromCache = true };
        }

        var (events, length) = await _store.ReadHistoryAsync(instance.InstanceId, instance.ExecutionId, ct);
        return new CachedHistory(instance.ExecutionId, events, length, [.. events.Select(e => e.MessageId).OfType<string>()]);
    }

    // ---- activities ----

    private async Task SendWorkItemAsync(WorkItem item, CancellationToken ct)
    {
        if (_consuming && _activities.Count > 0 && !_stopping.IsCancellationRequested)
        {
            var sent = await _store.SendWorkItemAsync(item, _options.MessageVisibilityTimeout, ct);
            if (_workItems.Writer.TryWrite(sent))
            {
                return;
            }

            await _store.SetVisibilityAsync(control: false, sent, TimeSpan.Zero, CancellationToken.None);
            return;
        }

        await _store.SendWorkItemAsync(item, null, ct);
    }

    private async Task ConsumeWorkItemsAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _workItems.Reader.WaitToReadAsync(stoppingToken))
            {
                while (!stoppingToken.IsCancellationRequested && _workItems.Reader.TryPeek(out _))
                {
                    await _activitySlots.WaitAsync(stoppingToken);
                    if (!_workItems.Reader.TryRead(out var item))
                    {
                        _activitySlots.Release();
                        break;
                    }

                    _ = Track(async () =>
                    {
                        try
                        {
                            await RunActivityAsync(item);
                        }
                        finally
                        {
                            _activitySlots.Release();
                        }
                    });
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunActivityAsync(Received<WorkItem> received)
    {
        var item = received.Message;
        using var renewal = new CancellationTokenSource();
        var renewing = KeepHiddenAsync(received, renewal.Token);
        HistoryEvent outcome;
        try
        {
            if (!_activities.TryGetValue(item.Name, out var function))
            {
                outcome = new TaskFailed(item.TaskId, new TaskFailureDetails(typeof(InvalidOperationException).FullName!, $"No activity function named '{item.Name}' in this app.", null, null, null));
            }
            else
            {
                var input = _converter.Deserialize(item.Input, function.TriggerParameter.ParameterType);
                var bindingData = new Dictionary<string, object?> { ["instanceId"] = item.InstanceId };
                try
                {
                    var result = await _invoker.InvokeAsync(function, new InvocationRequest(_ => ValueTask.FromResult(input), bindingData), CancellationToken.None);
                    outcome = new TaskCompleted(item.TaskId, _converter.Serialize(result));
                }
                catch (FunctionInvocationException ex)
                {
                    outcome = new TaskFailed(item.TaskId, TaskFailureDetails.FromException(ex.InnerException!));
                }
            }

            await SendControlAsync(Control(item.InstanceId, item.ExecutionId, outcome), null, CancellationToken.None);
        }
        finally
        {
            await renewal.CancelAsync();
            received = await renewing ?? received;
        }

        await _store.DeleteWorkItemAsync(received, CancellationToken.None);
    }

    /// <summary>Keeps a work item hidden while its activity runs; returns the latest receipt.</summary>
    private async Task<Received<WorkItem>?> KeepHiddenAsync(Received<WorkItem> received, CancellationToken cancellationToken)
    {
        var current = received;
        try
        {
            while (true)
            {
                await Task.Delay(_options.MessageVisibilityTimeout / 2, _time, cancellationToken);
                var receipt = await _store.SetVisibilityAsync(control: false, current, _options.MessageVisibilityTimeout, CancellationToken.None);
                current = current with { PopReceipt = receipt };
            }
        }
        catch (OperationCanceledException)
        {
            return current;
        }
        catch (RequestFailedException)
        {
            return current;
        }
    }

    // ---- helpers ----

    private async Task DeleteAllAsync(IEnumerable<Received<ControlMessage>> messages)
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

    private static ControlMessage Control(string instanceId, string? executionId, HistoryEvent historyEvent) =>
        new(NewMessageId(), instanceId, executionId, historyEvent);

    private static string NewMessageId() => Guid.NewGuid().ToString("N");

    private static bool IsTerminal(OrchestrationStatus status) =>
        status is OrchestrationStatus.Completed or OrchestrationStatus.Failed or OrchestrationStatus.Terminated;

    private sealed record CachedHistory(string ExecutionId, List<HistoryEvent> Events, long Length, HashSet<string> MessageIds)
    {
        public bool FromCache { get; init; }
    }

    private static partial class Log
    {
        [LoggerMessage(1500, LogLevel.Information, "Durable engine on task hub '{TaskHub}': {Orchestrators} orchestrators, {Activities} activities, up to {MaxActivities} activities at once")]
        public static partial void EngineStarted(ILogger logger, string taskHub, int orchestrators, int activities, int maxActivities);

        [LoggerMessage(1501, LogLevel.Information, "Orchestration '{Name}' ({InstanceId}) {Status}{Reason}")]
        private static partial void OrchestrationFinishedCore(ILogger logger, string name, string instanceId, string status, string reason);

        public static void OrchestrationFinished(ILogger logger, string name, string instanceId, string status, string? reason) =>
            OrchestrationFinishedCore(logger, name, instanceId, status, reason is null ? string.Empty : $": {reason}");

        [LoggerMessage(1502, LogLevel.Error, "Episode of instance {InstanceId} did not finish; its messages come back: {Reason}")]
        public static partial void EpisodeFailed(ILogger logger, Exception exception, string instanceId, string reason);

        [LoggerMessage(1503, LogLevel.Warning, "Dropped {Count} message(s) for instance {InstanceId}: {Reason}")]
        public static partial void DroppedMessages(ILogger logger, string instanceId, int count, string reason);

        [LoggerMessage(1505, LogLevel.Debug, "Episode of {InstanceId}: new [{NewEvents}], actions [{Actions}], {Status}")]
        public static partial void Episode(ILogger logger, string instanceId, string newEvents, string actions, string status);

        [LoggerMessage(1504, LogLevel.Warning, "Task hub queue call failed; retrying: {Reason}")]
        public static partial void QueueFailed(ILogger logger, string reason);
    }
}
