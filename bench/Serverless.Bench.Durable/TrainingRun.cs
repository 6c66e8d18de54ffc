using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Hosting;
using Serverless.Testing;

namespace Serverless.Bench.Durable;

/// <summary>
/// The README's training run (<c>samples/training/churn.csv</c> with <c>samples/training/request.json</c>) on the local
/// host over HTTP, as a user starts it. The engine's share is the run's time (created to last updated, as the task hub
/// recorded them) during which no activity was running: queue hops, episodes, history writes.
/// </summary>
internal static class TrainingRun
{
    private static readonly HashSet<string> Activities = ["IngestDataset", "RunTrial", "EndTrials", "EvaluateModel", "RegisterModel", "PromoteModel", "FailRun"];

    public static async Task<IEnumerable<string>> RunAsync(string connectionString, int runs)
    {
        var results = new List<(double Wall, double Busy)>();
        for (var run = 0; run < runs + 1; run++)
        {
            var (wall, busy) = await RunOnceAsync(connectionString);
            Console.WriteLine($"training{(run == 0 ? " (warm-up)" : string.Empty)}: {wall:0.0} s, activities running {busy:0.0} s, engine {wall - busy:0.0} s ({100 * (wall - busy) / wall:0.0}%)");
            if (run > 0)
            {
                results.Add((wall, busy));
            }
        }

        var walls = results.Select(r => r.Wall).ToList();
        var engine = results.Select(r => r.Wall - r.Busy).ToList();
        var shares = results.Select(r => 100 * (r.Wall - r.Busy) / r.Wall).ToList();
        return
        [
            "",
            "| measure | runs | median | runs seen |",
            "|---|---|---|---|",
            $"| the README's training run, created to completed | {runs} | **{Stats.Median(walls):0.0} s** | {Stats.Range(walls, "0.0")} s |",
            $"| of which no activity was running (the engine's share) | {runs} | **{Stats.Median(engine):0.0} s ({Stats.Median(shares):0.0}%)** | {Stats.Range(shares, "0.0")}% |",
        ];
    }

    private static async Task<(double Wall, double Busy)> RunOnceAsync(string connectionString)
    {
        using var spans = new InvocationSpans();
        var hub = $"Train{Guid.NewGuid():N}"[..16];
        await using var host = await TestFunctionsHost.StartAsync(
            AppFunctionTypes(),
            new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = connectionString,
                ["RetrainSchedule"] = "0 0 3 1 1 *",
                ["TASKHUB_NAME"] = hub,
                ["LocalHost:HostId"] = hub.ToLowerInvariant(),
            },
            builder => builder.AddServerlessPipeline());
        host.Http.DefaultRequestHeaders.Add("x-functions-key", TestFunctionsHost.FunctionKey);

        using var dataset = new StreamContent(File.OpenRead(Path.Combine(RepositoryPaths.Root(), "samples", "training", "churn.csv")));
        (await host.Http.PutAsync("api/datasets/churn.csv", dataset)).EnsureSuccessStatusCode();
        using var request = new StringContent(RepositoryPaths.Read("samples/training/request.json"), System.Text.Encoding.UTF8, "application/json");
        using var started = await host.Http.PostAsync("api/models/churn/train", request);
        var runId = (await started.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var client = host.Services.GetRequiredService<DurableTaskClient>();
        var metadata = await client.WaitForInstanceCompletionAsync(runId).WaitAsync(TimeSpan.FromMinutes(5));
        if (metadata.RuntimeStatus != OrchestrationRuntimeStatus.Completed)
        {
            throw new InvalidOperationException($"The training run ended {metadata.RuntimeStatus}: {metadata.FailureDetails?.ErrorMessage}");
        }

        var (from, to) = (metadata.CreatedAt.UtcDateTime, metadata.LastUpdatedAt.UtcDateTime);
        var busy = Union(spans.Stopped
            .Where(s => Activities.Contains(s.GetTagItem("faas.name") as string ?? string.Empty))
            .Select(s => (Start: Max(s.StartTimeUtc, from), End: Min(s.StartTimeUtc + s.Duration, to)))
            .Where(i => i.End > i.Start));
        return ((to - from).TotalSeconds, busy.TotalSeconds);
    }

    /// <summary>The total length of the union of intervals.</summary>
    private static TimeSpan Union(IEnumerable<(DateTime Start, DateTime End)> intervals)
    {
        var total = TimeSpan.Zero;
        DateTime? start = null, end = null;
        foreach (var (s, e) in intervals.OrderBy(i => i.Start))
        {
            if (end is { } current && s <= current)
            {
                end = e > current ? e : current;
                continue;
            }

            total += end - start ?? TimeSpan.Zero;
            (start, end) = (s, e);
        }

        return total + (end - start ?? TimeSpan.Zero);
    }

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private static Type[] AppFunctionTypes() =>
        [.. typeof(ServerlessPipelineExtensions).Assembly.GetTypes()
            .Where(t => t.GetMethods().Any(m => m.GetCustomAttribute<FunctionAttribute>() is not null))];
}
