// Durable engine throughput on this machine: Azurite (in memory) and the local runtime in one process, as a user runs
// them. Each scenario runs a warm-up, then several timed runs; the median is reported.
//   dotnet run -c Release --project bench/Serverless.Bench.Durable -- [sequential activities] [fan-out activities] [runs]
using System.Diagnostics;
using System.Globalization;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Testing;

var sequential = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 300;
var fanOut = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2000;
var runs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;

var azurite = new AzuriteFixture();
await azurite.InitializeAsync();
try
{
    await using var host = await TestFunctionsHost.StartAsync(
        [typeof(BenchFunctions)],
        new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["AzureFunctionsJobHost:extensions:durableTask:hubName"] = "BenchHub",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Serverless.LocalHost.Durable"] = Environment.GetEnvironmentVariable("BENCH_DURABLE_LOG") ?? "Warning",
        });
    var client = host.Services.GetRequiredService<DurableTaskClient>();

    var sequentialRate = await MeasureAsync(client, nameof(BenchFunctions.Sequential), sequential, runs);
    var fanOutRate = await MeasureAsync(client, nameof(BenchFunctions.FanOut), fanOut, runs);

    Console.WriteLine();
    Console.WriteLine("| scenario | activities per run | runs | median activities/s | goal |");
    Console.WriteLine("|---|---|---|---|---|");
    Console.WriteLine($"| sequential (one orchestration, one activity at a time) | {sequential} | {runs} | {sequentialRate:0} | ≥ 100 |");
    Console.WriteLine($"| fan-out / fan-in (one orchestration, all at once) | {fanOut} | {runs} | {fanOutRate:0} | ≥ 1,000 |");
    Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}");
}
finally
{
    await azurite.DisposeAsync();
}

static async Task<double> MeasureAsync(DurableTaskClient client, string orchestrator, int activities, int runs)
{
    await RunOnceAsync(client, orchestrator, Math.Max(10, activities / 10));
    var rates = new List<double>();
    for (var run = 0; run < runs; run++)
    {
        var elapsed = await RunOnceAsync(client, orchestrator, activities);
        rates.Add(activities / elapsed.TotalSeconds);
        Console.WriteLine($"{orchestrator}: {activities} activities in {elapsed.TotalSeconds:0.00} s = {activities / elapsed.TotalSeconds:0} activities/s");
    }

    rates.Sort();
    return rates[rates.Count / 2];
}

static async Task<TimeSpan> RunOnceAsync(DurableTaskClient client, string orchestrator, int activities)
{
    var watch = Stopwatch.StartNew();
    var id = await client.ScheduleNewOrchestrationInstanceAsync(orchestrator, activities);
    var metadata = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true);
    watch.Stop();
    if (metadata.RuntimeStatus != OrchestrationRuntimeStatus.Completed || metadata.ReadOutputAs<int>() != activities)
    {
        throw new InvalidOperationException($"{orchestrator} ended {metadata.RuntimeStatus}: {metadata.FailureDetails?.ErrorMessage}");
    }

    return watch.Elapsed;
}

/// <summary>The benchmark's functions: an activity that does no work, so the engine's own cost is what is measured.</summary>
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
