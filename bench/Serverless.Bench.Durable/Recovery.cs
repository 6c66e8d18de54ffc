using Azure.Data.Tables;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Testing;

namespace Serverless.Bench.Durable;

/// <summary>
/// Time from killing a host (SIGKILL, mid-activity) to the orchestration's next step on a host started right after:
/// the test app's <c>Steps</c> orchestration, whose step 1 hangs the first time it runs. The next step is that
/// activity running again on the new host, read from the executions the app records.
/// </summary>
internal static class Recovery
{
    public static async Task<IEnumerable<string>> RunAsync(string connectionString, int runs)
    {
        var rows = new List<string> { "", "| restart | runs | kill to the in-flight step running again (median) | runs seen | new host listening after |", "|---|---|---|---|---|" };
        foreach (var samePort in new[] { true, false })
        {
            var seconds = new List<double>();
            var startups = new List<double>();
            for (var run = 0; run < runs; run++)
            {
                var (recovered, startup) = await RunOnceAsync(connectionString, samePort);
                seconds.Add(recovered);
                startups.Add(startup);
                Console.WriteLine($"recovery ({(samePort ? "same port" : "new port")}): step ran again {recovered:0.0} s after the kill (new host listening after {startup:0.0} s)");
            }

            var name = samePort ? "the same host restarted on its port (same worker id)" : "another host (a new worker id)";
            rows.Add($"| {name} | {runs} | **{Stats.Median(seconds):0.0} s** | {Stats.Range(seconds, "0.0")} s | {Stats.Median(startups):0.0} s |");
        }

        return rows;
    }

    private static async Task<(double Recovered, double Startup)> RunOnceAsync(string connectionString, bool samePort)
    {
        var hub = $"Recover{Guid.NewGuid():N}"[..18];
        var table = new TableServiceClient(connectionString).GetTableClient($"Runs{Guid.NewGuid():N}"[..16]);
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = connectionString,
            ["TASKHUB_NAME"] = hub,
            ["RunLog__Table"] = table.Name,
            ["LocalHost__HostId"] = "recovery-bench",
            ["CrashContainer"] = "recovery-bench-blobs",
            ["LocalHost__Http__Port"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        await using var client = await TestFunctionsHost.StartAsync([typeof(Recovery)], new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = connectionString,
            ["AzureFunctionsJobHost:extensions:durableTask:hubName"] = hub,
        });
        var durable = client.Services.GetRequiredService<DurableTaskClient>();

        string id;
        DateTimeOffset killedAt;
        await using (var first = await HostProcess.StartAsync(settings, TimeSpan.FromSeconds(60)))
        {
            id = await durable.ScheduleNewOrchestrationInstanceAsync("Steps", new { count = 3, hangAt = 1 });
            await Eventually.PollAsync(() => ExecutionsAsync(table, id, "001"), r => r.Count == 1, TimeSpan.FromSeconds(60), "step 1 to start");
            await first.KillAsync();
            killedAt = DateTimeOffset.UtcNow;
        }

        if (!samePort)
        {
            settings["LocalHost__Http__Port"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await using var second = await HostProcess.StartAsync(settings, TimeSpan.FromSeconds(60));
        var startup = (DateTimeOffset.UtcNow - killedAt).TotalSeconds;
        var reruns = await Eventually.PollAsync(() => ExecutionsAsync(table, id, "001"), r => r.Count == 2, TimeSpan.FromSeconds(120), "step 1 to run again");
        await durable.WaitForInstanceCompletionAsync(id).WaitAsync(TimeSpan.FromSeconds(60));
        return ((reruns.Max() - killedAt).TotalSeconds, startup);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<List<DateTimeOffset>> ExecutionsAsync(TableClient table, string instanceId, string step)
    {
        await table.CreateIfNotExistsAsync();
        var at = new List<DateTimeOffset>();
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == instanceId))
        {
            if (row.RowKey.StartsWith(step + "-", StringComparison.Ordinal))
            {
                at.Add(row.GetDateTimeOffset("At")!.Value);
            }
        }

        return at;
    }
}
