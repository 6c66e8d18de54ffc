using System.Globalization;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Testing;

namespace Serverless.Bench.Durable;

/// <summary>
/// Activities per second through one orchestration with activities that do no work, so the engine's own cost is what
/// is measured: one at a time (sequential) and all at once (fan-out / fan-in). Under the Azure Storage provider's
/// defaults and under the local host's tuning (<c>LocalHost:Durable</c>), each on a fresh task hub.
/// </summary>
internal static class Throughput
{
    /// <summary>The provider's own defaults, as a host in Azure would run with no tuning.</summary>
    private static readonly Dictionary<string, string?> ProviderDefaults = new()
    {
        ["LocalHost:Durable:MaxQueuePollingInterval"] = "00:00:30",
        ["LocalHost:Durable:MessageVisibilityTimeout"] = "00:05:00",
        ["LocalHost:Durable:PartitionCount"] = "4",
        ["LocalHost:Durable:LeaseInterval"] = "00:00:30",
        ["LocalHost:Durable:LeaseRenewInterval"] = "00:00:10",
    };

    public static async Task<IEnumerable<string>> RunAsync(string connectionString, int sequential, int fanOut, int runs)
    {
        var rows = new List<string>
        {
            "| settings | scenario | activities per run | runs | median activities/s | runs seen |",
            "|---|---|---|---|---|---|",
        };
        foreach (var (name, settings) in new[] { ("provider defaults", ProviderDefaults), ("local tuning", new Dictionary<string, string?>()) })
        {
            settings["AzureWebJobsStorage"] = connectionString;
            settings["AzureFunctionsJobHost:extensions:durableTask:hubName"] = $"Bench{Guid.NewGuid():N}"[..16];
            await using var host = await TestFunctionsHost.StartAsync([typeof(BenchFunctions)], settings);
            var client = host.Services.GetRequiredService<DurableTaskClient>();
            foreach (var (scenario, count) in new[] { (nameof(BenchFunctions.Sequential), sequential), (nameof(BenchFunctions.FanOut), fanOut) })
            {
                var rates = await MeasureAsync(client, scenario, count, runs);
                rows.Add($"| {name} | {scenario} | {count} | {runs} | **{Stats.Median(rates):0}** | {Stats.Range(rates, "0")} |");
            }
        }

        return rows;
    }

    private static async Task<List<double>> MeasureAsync(DurableTaskClient client, string orchestrator, int activities, int runs)
    {
        await RunOnceAsync(client, orchestrator, Math.Max(10, activities / 10));
        var rates = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            var elapsed = await RunOnceAsync(client, orchestrator, activities);
            rates.Add(activities / elapsed.TotalSeconds);
            Console.WriteLine($"{orchestrator}: {activities} activities in {elapsed.TotalSeconds:0.00} s = {activities / elapsed.TotalSeconds:0} activities/s");
        }

        return rates;
    }

    /// <summary>One run, timed by the instance itself: created to last updated, as the task hub recorded them.</summary>
    private static async Task<TimeSpan> RunOnceAsync(DurableTaskClient client, string orchestrator, int activities)
    {
        var id = await client.ScheduleNewOrchestrationInstanceAsync(orchestrator, activities);
        var metadata = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true);
        if (metadata.RuntimeStatus != OrchestrationRuntimeStatus.Completed || metadata.ReadOutputAs<int>() != activities)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{orchestrator} ended {metadata.RuntimeStatus}: {metadata.FailureDetails?.ErrorMessage}"));
        }

        return metadata.LastUpdatedAt - metadata.CreatedAt;
    }
}

/// <summary>The benchmark's functions: an activity that does no work.</summary>
public static class BenchFunctions
{
    [Function(nameof(Sequential))]
    public static async Task<int> Sequential([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var count = context.GetInput<int>();
        var done = 0;
        for (var i = 0; i < count; i++)
        {
            done += await context.CallActivityAsync<int>(nameof(One), i);
        }

        return done;
    }

    [Function(nameof(FanOut))]
    public static async Task<int> FanOut([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var count = context.GetInput<int>();
        var results = await Task.WhenAll(Enumerable.Range(0, count).Select(i => context.CallActivityAsync<int>(nameof(One), i)));
        return results.Sum();
    }

    [Function(nameof(One))]
    public static int One([ActivityTrigger] int index) => index >= 0 ? 1 : 0;
}
