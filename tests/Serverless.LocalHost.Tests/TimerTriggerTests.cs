using Microsoft.Extensions.DependencyInjection;
using Serverless.LocalHost.Tests.Functions;
using Serverless.Testing;

namespace Serverless.LocalHost.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class TimerTriggerTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly string _hostId = $"timer-{Guid.NewGuid():N}"[..20];

    [Fact]
    public async Task PerSecondTimer_Fires_ThenPastDueAfterAPause()
    {
        var first = new InvocationRecorder();
        await using (var host = await StartAsync(first))
        {
            await Eventually.WaitForAsync(() => first.Timers.Count, c => c >= 3, Patience, "three per-second invocations");
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
        var second = new InvocationRecorder();
        await using (var host = await StartAsync(second))
        {
            await Eventually.WaitForAsync(() => second.Timers.Count, c => c >= 2, Patience, "invocations after the restart");
        }

        Assert.All(first.Timers.Skip(1), t => Assert.False(t.IsPastDue));
        var resumed = second.Timers.First();
        Assert.True(resumed.IsPastDue);
        Assert.True(resumed.ScheduleStatus!.Last > first.Timers.Last().ScheduleStatus!.Last);
    }

    [Fact]
    public async Task TwoHostsOnOneStorage_EachOccurrenceRunsOnce()
    {
        var recorder = new InvocationRecorder();
        await using (var a = await StartAsync(recorder))
        await using (var b = await StartAsync(recorder))
        {
            await Eventually.WaitForAsync(() => recorder.Timers.Count, c => c >= 5, Patience, "five invocations across two hosts");
        }

        var occurrences = recorder.Timers.Select(t => t.ScheduleStatus!.Last).ToArray();
        Assert.Equal(occurrences.Length, occurrences.Distinct().Count());
    }

    [Fact]
    public async Task RunOnStartup_YearlySchedule_RunsOnceAtStartNotPastDue()
    {
        var recorder = new InvocationRecorder();
        await using (var host = await StartAsync(recorder, typeof(StartupTimerFunctions)))
        {
            await Eventually.WaitForAsync(() => recorder.Timers.Count, c => c >= 1, Patience, "the start-up invocation");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        var timer = Assert.Single(recorder.Timers);
        Assert.False(timer.IsPastDue);
        Assert.Equal(1, timer.ScheduleStatus!.Next.Month);
        Assert.Equal(1, timer.ScheduleStatus.Next.Day);
    }

    private Task<TestFunctionsHost> StartAsync(InvocationRecorder recorder, Type? functions = null) =>
        TestFunctionsHost.StartAsync(
            [functions ?? typeof(TimerFunctions)],
            new Dictionary<string, string?> { ["AzureWebJobsStorage"] = azurite.ConnectionString, ["LocalHost:HostId"] = _hostId },
            builder => builder.Services.AddSingleton(recorder));
}
