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
}
