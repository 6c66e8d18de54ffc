using System.Collections.Concurrent;
using System.Net;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Serverless.LocalHost.Tests.Functions;

/// <summary>How often each activity ran, by a key the activity chooses.</summary>
public sealed class ActivityRuns
{
    public ConcurrentDictionary<string, int> Counts { get; } = new();

    public int Record(string key) => Counts.AddOrUpdate(key, 1, (_, n) => n + 1);
}

public sealed record StepInput(string Run, int Step, int DelayMs = 0);

public static class DurableOrchestrators
{
    private static readonly TaskOptions FastRetry = TaskOptions.FromRetryPolicy(new RetryPolicy(3, TimeSpan.FromMilliseconds(100)));

    [Function(nameof(Chain))]
    public static async Task<int> Chain([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var total = 0;
        for (var i = 1; i <= 5; i++)
        {
            total += await context.CallActivityAsync<int>(nameof(DurableActivities.Echo), i);
        }

        return total;
    }

    [Function(nameof(FanOut))]
    public static async Task<long> FanOut([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var count = context.GetInput<int>();
        var squares = await Task.WhenAll(Enumerable.Range(1, count).Select(i => context.CallActivityAsync<long>(nameof(DurableActivities.Square), i)));
        context.SetCustomStatus(new { done = squares.Length });
        return squares.Sum();
    }

    [Function(nameof(RetryThenSucceed))]
    public static Task<int> RetryThenSucceed([OrchestrationTrigger] TaskOrchestrationContext context) =>
        context.CallActivityAsync<int>(nameof(DurableActivities.FailTwice), context.InstanceId, FastRetry);

    [Function(nameof(RetriesExhausted))]
    public static async Task<string> RetriesExhausted([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        try
        {
            await context.CallActivityAsync(nameof(DurableActivities.AlwaysFails), context.InstanceId, FastRetry);
            return "not caught";
        }
        catch (TaskFailedException ex)
        {
            return $"caught:{ex.FailureDetails.IsCausedBy<InvalidOperationException>()}:{ex.FailureDetails.ErrorMessage}";
        }
    }

    [Function(nameof(Approval))]
    public static async Task<string> Approval([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var timeout = TimeSpan.FromMilliseconds(context.GetInput<int>());
        try
        {
            return "approved:" + await context.WaitForExternalEvent<string>("approval", timeout);
        }
        catch (TaskCanceledException)
        {
            return "timeout";
        }
    }

    [Function(nameof(EventBeforeWait))]
    public static async Task<string> EventBeforeWait([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        await context.CreateTimer(context.CurrentUtcDateTime.AddMilliseconds(800), CancellationToken.None);
        return await context.WaitForExternalEvent<string>("early");
    }

    [Function(nameof(Parent))]
    public static async Task<string> Parent([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var child = await context.CallSubOrchestratorAsync<int>(nameof(Chain));
        var parentSeen = await context.CallSubOrchestratorAsync<string>(nameof(Child), new SubOrchestrationOptions(instanceId: $"{context.InstanceId}-child"));
        return $"{child * 10}|{parentSeen}";
    }

    [Function(nameof(Child))]
    public static Task<string> Child([OrchestrationTrigger] TaskOrchestrationContext context) =>
        Task.FromResult($"{context.Parent?.Name}:{context.Parent?.InstanceId}");

    [Function(nameof(CountUp))]
    public static async Task<int> CountUp([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var n = context.GetInput<int>();
        await context.CallActivityAsync<int>(nameof(DurableActivities.Echo), n);
        if (n < 5)
        {
            context.ContinueAsNew(n + 1);
        }

        return n;
    }

    [Function(nameof(SlowChain))]
    public static async Task<int> SlowChain([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var input = context.GetInput<StepInput>()!;
        for (var step = 0; step < input.Step; step++)
        {
            await context.CallActivityAsync<int>(nameof(DurableActivities.SlowStep), new StepInput(input.Run, step, input.DelayMs));
        }

        return input.Step;
    }

    [Function(nameof(BigPayload))]
    public static async Task<int> BigPayload([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var text = await context.CallActivityAsync<string>(nameof(DurableActivities.Repeat), context.GetInput<int>());
        return text.Length;
    }

    [Function(nameof(WaitsForever))]
    public static Task<string> WaitsForever([OrchestrationTrigger] TaskOrchestrationContext context) =>
        context.WaitForExternalEvent<string>("never");

    [Function(nameof(StartChain))]
    public static async Task<HttpResponseData> StartChain(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "orchestrators/{name}")] HttpRequestData request,
        [DurableClient] DurableTaskClient client,
        string name)
    {
        var instanceId = await client.ScheduleNewOrchestrationInstanceAsync(name, await request.ReadFromJsonAsync<int>());
        return await client.CreateCheckStatusResponseAsync(request, instanceId);
    }
}

public sealed class DurableActivities(ActivityRuns runs)
{
    [Function(nameof(Echo))]
    public static int Echo([ActivityTrigger] int value) => value;

    [Function(nameof(Repeat))]
    public static string Repeat([ActivityTrigger] int length) => new('x', length);

    [Function(nameof(Square))]
    public static long Square([ActivityTrigger] int value) => (long)value * value;

    [Function(nameof(FailTwice))]
    public int FailTwice([ActivityTrigger] string instanceId)
    {
        var attempt = runs.Record($"fail-twice:{instanceId}");
        return attempt <= 2 ? throw new InvalidOperationException($"attempt {attempt} fails") : attempt;
    }

    [Function(nameof(AlwaysFails))]
    public void AlwaysFails([ActivityTrigger] string instanceId)
    {
        runs.Record($"always-fails:{instanceId}");
        throw new InvalidOperationException("this activity always fails");
    }

    [Function(nameof(SlowStep))]
    public async Task<int> SlowStep([ActivityTrigger] StepInput input)
    {
        await Task.Delay(input.DelayMs);
        runs.Record($"{input.Run}:{input.Step}");
        return input.Step;
    }
}
