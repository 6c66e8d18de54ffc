using DurableTask.Core.History;

namespace Serverless.Functions.Training;

/// <summary>One step of an orchestration: an activity, a sub-orchestration, a timer or an awaited event.</summary>
/// <param name="Name">The activity's or sub-orchestration's name, "timer", or the event's name.</param>
/// <param name="Kind"><c>activity</c>, <c>orchestration</c>, <c>timer</c> or <c>event</c>.</param>
/// <param name="Start">When it was scheduled (for an event: when it arrived).</param>
/// <param name="End">When it ended; null while it runs.</param>
/// <param name="Outcome">
/// <c>running</c>, <c>completed</c>, <c>failed</c> (with <paramref name="Error"/>), or <c>cancelled</c>: a timer the
/// orchestration stopped waiting for (a trial's time limit when the trial finished first) and that had not fired when it ended.
/// </param>
/// <param name="Error">The failure's message.</param>
public sealed record TimelineEntry(string Name, string Kind, DateTime Start, DateTime? End, string Outcome, string? Error);

/// <summary>The timeline of a run's orchestration, read from its history, as the Durable monitors draw it.</summary>
public static class RunTimeline
{
    /// <summary>The steps in the order they were scheduled.</summary>
    public static IReadOnlyList<TimelineEntry> From(IEnumerable<HistoryEvent> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var entries = new List<TimelineEntry>();
        var open = new Dictionary<(string Kind, int Id), int>();
        foreach (var @event in history)
        {
            switch (@event)
            {
                case TaskScheduledEvent scheduled:
                    open[("activity", scheduled.EventId)] = Start(scheduled.Name ?? "activity", "activity", scheduled.Timestamp);
                    break;
                case SubOrchestrationInstanceCreatedEvent created:
                    open[("orchestration", created.EventId)] = Start(created.Name ?? "orchestration", "orchestration", created.Timestamp);
                    break;
                case TimerCreatedEvent timer:
                    open[("timer", timer.EventId)] = Start("timer", "timer", timer.Timestamp);
                    break;
                case TaskCompletedEvent completed:
                    End("activity", completed.TaskScheduledId, completed.Timestamp, null);
                    break;
                case TaskFailedEvent failed:
                    End("activity", failed.TaskScheduledId, failed.Timestamp, failed.FailureDetails?.ErrorMessage ?? failed.Reason ?? "failed");
                    break;
                case SubOrchestrationInstanceCompletedEvent completed:
                    End("orchestration", completed.TaskScheduledId, completed.Timestamp, null);
                    break;
                case SubOrchestrationInstanceFailedEvent failed:
                    End("orchestration", failed.TaskScheduledId, failed.Timestamp, failed.FailureDetails?.ErrorMessage ?? failed.Reason ?? "failed");
                    break;
                case TimerFiredEvent fired:
                    End("timer", fired.TimerId, fired.Timestamp, null);
                    break;
                case EventRaisedEvent raised:
                    entries.Add(new TimelineEntry(raised.Name ?? "event", "event", raised.Timestamp, raised.Timestamp, "completed", null));
                    break;
                case ExecutionCompletedEvent ended:
                    foreach (var index in open.Where(o => o.Key.Kind == "timer").Select(o => o.Value).ToList())
                    {
                        entries[index] = entries[index] with { End = ended.Timestamp, Outcome = "cancelled" };
                    }

                    break;
            }
        }

        return entries;

        int Start(string name, string kind, DateTime at)
        {
            entries.Add(new TimelineEntry(name, kind, at, null, "running", null));
            return entries.Count - 1;
        }

        void End(string kind, int id, DateTime at, string? error)
        {
            if (open.Remove((kind, id), out var index))
            {
                entries[index] = entries[index] with { End = at, Outcome = error is null ? "completed" : "failed", Error = error };
            }
        }
    }
}
