using DurableTask.Core.History;
using Serverless.Functions.Training;

namespace Serverless.Functions.Tests.Triggers;

public sealed class RunTimelineTests
{
    private static readonly DateTime T0 = new(2026, 12, 6, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void From_History_StepsWithStartEndAndOutcomeInScheduleOrder()
    {
        HistoryEvent[] history =
        [
            new ExecutionStartedEvent(-1, "{}") { Name = "TrainModel", Timestamp = T0 },
            new TaskScheduledEvent(0) { Name = "IngestDataset", Timestamp = T0.AddSeconds(1) },
            new TaskCompletedEvent(-1, 0, "{}") { Timestamp = T0.AddSeconds(3) },
            new TaskScheduledEvent(1) { Name = "RunTrial", Timestamp = T0.AddSeconds(4) },
            new TaskScheduledEvent(2) { Name = "RunTrial", Timestamp = T0.AddSeconds(4) },
            new TaskFailedEvent(-1, 2, "boom", null) { Timestamp = T0.AddSeconds(6) },
            new TimerCreatedEvent(3) { FireAt = T0.AddSeconds(9), Timestamp = T0.AddSeconds(7) },
            new TimerFiredEvent(-1) { TimerId = 3, Timestamp = T0.AddSeconds(9) },
            new EventRaisedEvent(-1, "{}") { Name = "approval", Timestamp = T0.AddSeconds(10) },
        ];

        var steps = RunTimeline.From(history);

        Assert.Equal(
            [
                new TimelineEntry("IngestDataset", "activity", T0.AddSeconds(1), T0.AddSeconds(3), "completed", null),
                new TimelineEntry("RunTrial", "activity", T0.AddSeconds(4), null, "running", null),
                new TimelineEntry("RunTrial", "activity", T0.AddSeconds(4), T0.AddSeconds(6), "failed", "boom"),
                new TimelineEntry("timer", "timer", T0.AddSeconds(7), T0.AddSeconds(9), "completed", null),
                new TimelineEntry("approval", "event", T0.AddSeconds(10), T0.AddSeconds(10), "completed", null),
            ],
            steps);
    }

    /// <summary>A trial's time limit that never fired (the trial finished first) is cancelled once the run has ended, running before.</summary>
    [Fact]
    public void From_TimerNotFiredWhenTheRunEnded_Cancelled()
    {
        List<HistoryEvent> history =
        [
            new TaskScheduledEvent(0) { Name = "RunTrial", Timestamp = T0 },
            new TimerCreatedEvent(1) { FireAt = T0.AddMinutes(5), Timestamp = T0 },
            new TaskCompletedEvent(-1, 0, "{}") { Timestamp = T0.AddSeconds(2) },
        ];

        var running = RunTimeline.From(history);
        history.Add(new ExecutionCompletedEvent(-1, "{}", DurableTask.Core.OrchestrationStatus.Completed) { Timestamp = T0.AddSeconds(3) });
        var ended = RunTimeline.From(history);

        Assert.Equal(new TimelineEntry("timer", "timer", T0, null, "running", null), running[1]);
        Assert.Equal(new TimelineEntry("timer", "timer", T0, T0.AddSeconds(3), "cancelled", null), ended[1]);
    }
}
