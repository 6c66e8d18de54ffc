using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Functions.LocalHost.Durable;
using Serverless.Functions.LocalHost.Hosting;
using Serverless.Functions.LocalHost.Invocation;
using Serverless.Functions.LocalHost.Tests.Functions;

namespace Serverless.Functions.LocalHost.Tests;

/// <summary>Replay without storage: history in, decisions out.</summary>
public sealed class OrchestrationExecutorTests
{
    private static readonly DateTime T0 = new(2026, 11, 23, 12, 0, 0, DateTimeKind.Utc);
    private readonly DataConverter _converter = new WorkerDataConverter(Options.Create(new WorkerOptions()));
    private readonly FunctionCatalog _catalog;
    private readonly IServiceProvider _services = new ServiceCollection().BuildServiceProvider();

    public OrchestrationExecutorTests()
    {
        var options = new LocalHostOptions();
        options.FunctionTypes.Add(typeof(DurableOrchestrators));
        options.FunctionTypes.Add(typeof(ReplayOrchestrators));
        _catalog = new FunctionCatalog(
            Options.Create(options),
            [TriggerKind.Http(), new TriggerKind(typeof(OrchestrationTriggerAttribute), "orchestrationTrigger", [typeof(TaskOrchestrationContext)], (_, _) => [])],
            [new NoClientBinding()]);
    }

    [Fact]
    public void Execute_FirstEpisode_SchedulesTheFirstActivityOnly()
    {
        var result = Run(nameof(DurableOrchestrators.Chain), [], [Started(nameof(DurableOrchestrators.Chain))]);

        Assert.Equal(OrchestrationStatus.Running, result.Status);
        var scheduled = Assert.IsType<TaskScheduled>(Assert.Single(result.NewActions));
        Assert.Equal((0, "Echo", "1"), (scheduled.TaskId, scheduled.Name, scheduled.Input));
    }

    [Fact]
    public void Execute_ReplayWithResults_ContinuesWhereHistoryEnds()
    {
        var past = new List<HistoryEvent> { Started(nameof(DurableOrchestrators.Chain)), new TaskScheduled(0, "Echo", "1") };
        var result = Run(nameof(DurableOrchestrators.Chain), past, [new OrchestratorStarted { Timestamp = T0.AddSeconds(1) }, new TaskCompleted(0, "1")]);

        var scheduled = Assert.IsType<TaskScheduled>(Assert.Single(result.NewActions));
        Assert.Equal((1, "2"), (scheduled.TaskId, scheduled.Input));
    }

    [Fact]
    public void Execute_AllResultsInHistory_CompletesWithTheSum()
    {
        var past = new List<HistoryEvent> { Started(nameof(DurableOrchestrators.Chain)) };
        for (var i = 0; i < 5; i++)
        {
            past.Add(new TaskScheduled(i, "Echo", $"{i + 1}"));
            past.Add(new OrchestratorStarted { Timestamp = T0.AddSeconds(i + 1) });
            past.Add(new TaskCompleted(i, $"{i + 1}"));
        }

        var result = Run(nameof(DurableOrchestrators.Chain), past[..^1], [past[^1]]);

        Assert.Equal(OrchestrationStatus.Completed, result.Status);
        Assert.Equal("15", result.Output);
        Assert.Empty(result.NewActions);
    }

    [Fact]
    public void Execute_ResultDeliveredTwice_SecondCopyIgnored()
    {
        var past = new List<HistoryEvent> { Started(nameof(DurableOrchestrators.Chain)), new TaskScheduled(0, "Echo", "1"), new OrchestratorStarted { Timestamp = T0.AddSeconds(1) }, new TaskCompleted(0, "1"), new TaskScheduled(1, "Echo", "2") };

        var result = Run(nameof(DurableOrchestrators.Chain), past, [new OrchestratorStarted { Timestamp = T0.AddSeconds(2) }, new TaskCompleted(0, "1")]);

        Assert.Equal(OrchestrationStatus.Running, result.Status);
        Assert.Empty(result.NewActions);
    }

    [Fact]
    public void Execute_HistoryRecordedOtherActivity_FailsAsNonDeterministic()
    {
        var past = new List<HistoryEvent> { Started(nameof(DurableOrchestrators.Chain)), new TaskScheduled(0, "SomethingElse", "1") };

        var result = Run(nameof(DurableOrchestrators.Chain), past, [new OrchestratorStarted { Timestamp = T0.AddSeconds(1) }, new TaskCompleted(0, "1")]);

        Assert.Equal(OrchestrationStatus.Failed, result.Status);
        Assert.Equal(typeof(NonDeterministicOrchestrationException).FullName, result.Failure!.ErrorType);
        Assert.Contains("history recorded activity 'SomethingElse'", result.Failure.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_HistoryHasActionTheCodeNoLongerTakes_FailsAsNonDeterministic()
    {
        var past = new List<HistoryEvent>
        {
            Started(nameof(ReplayOrchestrators.OneActivity)),
            new TaskScheduled(0, "Echo", "1"),
            new TaskScheduled(1, "Echo", "2"),
        };

        var result = Run(nameof(ReplayOrchestrators.OneActivity), past, [new OrchestratorStarted { Timestamp = T0.AddSeconds(1) }, new TaskCompleted(0, "1")]);

        Assert.Equal(OrchestrationStatus.Failed, result.Status);
        Assert.Contains("task #1, which the code did not schedule", result.Failure!.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_TimerAndEventBothInHistory_TheOneRecordedFirstWins()
    {
        // The event came before the timer fired; on replay both are in history, and the order must decide.
        var past = new List<HistoryEvent>
        {
            Started(nameof(DurableOrchestrators.Approval), "60000"),
            new TimerCreated(0, T0.AddMinutes(1)),
            new OrchestratorStarted { Timestamp = T0.AddSeconds(5) },
            new EventRaised("approval", "\"yes\""),
            new OrchestratorStarted { Timestamp = T0.AddMinutes(1) },
        };

        var result = Run(nameof(DurableOrchestrators.Approval), past, [new TimerFired(0, T0.AddMinutes(1))]);

        Assert.Equal(OrchestrationStatus.Completed, result.Status);
        Assert.Equal("\"approved:yes\"", result.Output);
    }

    [Fact]
    public void Execute_EventRaisedBeforeTheWait_IsBufferedForIt()
    {
        var past = new List<HistoryEvent>
        {
            Started(nameof(DurableOrchestrators.EventBeforeWait)),
            new TimerCreated(0, T0.AddSeconds(1)),
            new OrchestratorStarted { Timestamp = T0.AddMilliseconds(100) },
            new EventRaised("early", "\"kept\""),
        };

        var result = Run(nameof(DurableOrchestrators.EventBeforeWait), past, [new OrchestratorStarted { Timestamp = T0.AddSeconds(1) }, new TimerFired(0, T0.AddSeconds(1))]);

        Assert.Equal("\"kept\"", result.Output);
    }

    [Fact]
    public void Execute_CurrentTimeAndGuids_ComeFromHistoryAndAreStableAcrossReplays()
    {
        var first = Run(nameof(ReplayOrchestrators.TimeAndGuid), [], [Started(nameof(ReplayOrchestrators.TimeAndGuid))]);
        var second = Run(nameof(ReplayOrchestrators.TimeAndGuid), [], [Started(nameof(ReplayOrchestrators.TimeAndGuid))]);

        Assert.Equal(first.Output, second.Output);
        Assert.Contains(T0.ToString("o"), first.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_SuspendedThenResumed_EventsWaitForTheResume()
    {
        var past = new List<HistoryEvent> { Started(nameof(DurableOrchestrators.Approval), "60000"), new TimerCreated(0, T0.AddMinutes(1)) };
        var suspended = Run(nameof(DurableOrchestrators.Approval), past, [new OrchestratorStarted { Timestamp = T0.AddSeconds(1) }, new ExecutionSuspended("pause"), new EventRaised("approval", "\"later\"")]);
        past.AddRange([new OrchestratorStarted { Timestamp = T0.AddSeconds(1) }, new ExecutionSuspended("pause"), new EventRaised("approval", "\"later\"")]);
        var resumed = Run(nameof(DurableOrchestrators.Approval), past, [new OrchestratorStarted { Timestamp = T0.AddSeconds(2) }, new ExecutionResumed("go")]);

        Assert.Equal(OrchestrationStatus.Suspended, suspended.Status);
        Assert.Equal("\"approved:later\"", resumed.Output);
    }

    [Theory]
    [InlineData(1, 1000)]
    [InlineData(2, 2000)]
    [InlineData(3, 4000)]
    [InlineData(4, 5000)]
    public void RetryDelay_Exponential_CappedAtMaxInterval(int attempt, int expectedMs)
    {
        var policy = new RetryPolicy(10, TimeSpan.FromSeconds(1), backoffCoefficient: 2.0, maxRetryInterval: TimeSpan.FromSeconds(5));

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), LocalOrchestrationContext.RetryDelay(policy, attempt));
    }

    [Fact]
    public void Execute_RetryPolicy_FailureSchedulesTimerThenRetry()
    {
        var past = new List<HistoryEvent> { Started(nameof(DurableOrchestrators.RetryThenSucceed), null, "retry-1"), new TaskScheduled(0, "FailTwice", "\"retry-1\"") };
        var failure = new TaskFailureDetails(typeof(InvalidOperationException).FullName!, "attempt 1 fails", null, null, null);

        var afterFailure = Run(nameof(DurableOrchestrators.RetryThenSucceed), past, [new OrchestratorStarted { Timestamp = T0.AddSeconds(1) }, new TaskFailed(0, failure)], "retry-1");
        past.AddRange([new OrchestratorStarted { Timestamp = T0.AddSeconds(1) }, new TaskFailed(0, failure), .. afterFailure.NewActions]);
        var afterTimer = Run(nameof(DurableOrchestrators.RetryThenSucceed), past, [new OrchestratorStarted { Timestamp = T0.AddSeconds(2) }, new TimerFired(1, T0.AddSeconds(1.1))], "retry-1");

        var timer = Assert.IsType<TimerCreated>(Assert.Single(afterFailure.NewActions));
        Assert.Equal(T0.AddSeconds(1).AddMilliseconds(100), timer.FireAt);
        var retry = Assert.IsType<TaskScheduled>(Assert.Single(afterTimer.NewActions));
        Assert.Equal((2, "FailTwice"), (retry.TaskId, retry.Name));
    }

    private EpisodeResult Run(string orchestrator, IReadOnlyList<HistoryEvent> past, IReadOnlyList<HistoryEvent> newEvents, string instanceId = "instance-1") =>
        new OrchestrationExecutor(_converter, NullLoggerFactory.Instance).Execute(_catalog.Find(orchestrator)!, _services, instanceId, past, newEvents);

    private static ExecutionStarted Started(string name, string? input = null, string executionId = "e1") =>
        new(name, input, executionId) { Timestamp = T0 };
}

/// <summary>The HTTP starter among the test functions needs its client binding to index; no test here calls it.</summary>
internal sealed class NoClientBinding : IInputBindingProvider
{
    public ParameterBinder? TryCreate(System.Reflection.ParameterInfo parameter) => (_, _) => ValueTask.FromResult<object?>(null);
}

public static class ReplayOrchestrators
{
    [Function(nameof(OneActivity))]
    public static Task<int> OneActivity([OrchestrationTrigger] TaskOrchestrationContext context) =>
        context.CallActivityAsync<int>(nameof(DurableActivities.Echo), 1);

    [Function(nameof(TimeAndGuid))]
    public static Task<string> TimeAndGuid([OrchestrationTrigger] TaskOrchestrationContext context) =>
        Task.FromResult($"{context.CurrentUtcDateTime:o}/{context.NewGuid()}/{context.NewGuid()}");
}
