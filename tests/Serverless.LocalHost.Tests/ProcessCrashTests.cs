using Azure.Data.Tables;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Testing;
using Xunit.Abstractions;

namespace Serverless.LocalHost.Tests;

/// <summary>
/// Hosts as separate processes on one task hub, killed as a crash kills them (SIGKILL): the Durable Task Framework
/// resumes the work on the next host from storage. Steps record every execution in a table, so the test counts what ran.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ProcessCrashTests(AzuriteFixture azurite, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private readonly string _hub = $"Crash{Guid.NewGuid():N}"[..20];
    private readonly string _table = $"RunLog{Guid.NewGuid():N}"[..20];
    private readonly string _crashContainer = $"crash-{Guid.NewGuid():N}"[..20];
    private TestFunctionsHost _client = null!;

    private DurableTaskClient Client => _client.Services.GetRequiredService<DurableTaskClient>();

    private TableClient Log => new TableServiceClient(azurite.ConnectionString).GetTableClient(_table);

    /// <summary>A host in this process that serves no functions: only its client, on the same task hub.</summary>
    public async Task InitializeAsync() =>
        _client = await TestFunctionsHost.StartAsync([typeof(ProcessCrashTests)], new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["AzureFunctionsJobHost:extensions:durableTask:hubName"] = _hub,
        });

    public async Task DisposeAsync() => await _client.DisposeAsync();

    /// <summary>
    /// A blob whose function kills the host, delivered to a host killed twice with SIGKILL: each delivery counts as an
    /// attempt (before, the count was written after the invocation, so it stayed "attempt 1" forever), and the host
    /// started after the last one sends it to the poison queue without running it again.
    /// </summary>
    [Fact]
    public async Task BlobThatKillsTheHost_CountedPerDelivery_PoisonedAfterTheLastAttempt()
    {
        var container = new Azure.Storage.Blobs.BlobContainerClient(azurite.ConnectionString, _crashContainer);
        await container.CreateIfNotExistsAsync();
        await container.UploadBlobAsync("killer.csv", BinaryData.FromString("a\n1\n"));
        var poison = new Azure.Storage.Queues.QueueClient(azurite.ConnectionString, "webjobs-blobtrigger-poison", new Azure.Storage.Queues.QueueClientOptions { MessageEncoding = Azure.Storage.Queues.QueueMessageEncoding.Base64 });
        for (var delivery = 1; delivery <= 2; delivery++)
        {
            await using var host = await HostProcess.StartAsync(Settings(), Startup);
            await Eventually.PollAsync(() => CountAsync("blob-killer.csv", "delivery"), n => n == delivery, Patience, $"delivery {delivery}");
            await host.KillAsync();
        }

        await using (var last = await HostProcess.StartAsync(Settings(), Startup))
        {
            await Eventually.PollAsync(
                async () => await poison.ExistsAsync() && (await poison.PeekMessagesAsync(32)).Value.Any(m => m.Body.ToString().Contains(_crashContainer, StringComparison.Ordinal)),
                found => found,
                Patience,
                "the poison message");
        }

        Assert.Equal(2, await CountAsync("blob-killer.csv", "delivery"));
        Assert.True(await container.GetBlobClient("killer.csv").ExistsAsync());
    }

    [Fact]
    public async Task HostKilledMidActivity_RestartedHostFinishes_DoneStepsNotRepeatedInFlightStepRunsAgain()
    {
        string id;
        int secondPid;
        DateTimeOffset killedAt;
        await using (var first = await HostProcess.StartAsync(Settings(), Startup))
        {
            id = await Client.ScheduleNewOrchestrationInstanceAsync("Steps", new { count = 4, hangAt = 2 });
            await Eventually.PollAsync(() => CountAsync(id, "002"), n => n == 1, Patience, "step 2 to start on the first host");
            await first.KillAsync();
            killedAt = DateTimeOffset.UtcNow;
        }

        await using (var second = await HostProcess.StartAsync(Settings(), Startup))
        {
            secondPid = second.Id;
            var metadata = await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true).WaitAsync(Patience);
            Assert.True(metadata.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"ended {metadata.RuntimeStatus}; host output:\n{second.Output}");
            Assert.Equal(0 + 1 + 2 + 3, metadata.ReadOutputAs<int>());
        }

        var rows = await RowsAsync(id);
        var counts = rows.GroupBy(r => r.RowKey.Split('-')[0]).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new Dictionary<string, int> { ["000"] = 1, ["001"] = 1, ["002"] = 2, ["003"] = 1, ["finish"] = 1 }, counts);
        var rerun = rows.Where(r => r.RowKey.StartsWith("002-", StringComparison.Ordinal)).OrderBy(r => r.GetDateTimeOffset("At")).Last();
        Assert.Equal(secondPid, rerun.GetInt32("Pid"));
        output.WriteLine($"Step 2 ran again {(rerun.GetDateTimeOffset("At")!.Value - killedAt).TotalSeconds:0.0} s after the kill.");
    }

    [Fact]
    public async Task TwoHostsOnOneTaskHub_ShareTheWork_EachInstanceCompletesOnce()
    {
        // Two activities at a time per host, fewer than the eight instances have ready: one host cannot take them all.
        var settings = Settings();
        settings["AzureFunctionsJobHost__extensions__durableTask__maxConcurrentActivityFunctions"] = "2";
        await using var a = await HostProcess.StartAsync(settings, Startup);
        await using var b = await HostProcess.StartAsync(settings, Startup);

        var ids = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            ids.Add(await Client.ScheduleNewOrchestrationInstanceAsync("Steps", new { count = 5, delayMs = 200 }));
        }

        foreach (var id in ids)
        {
            var metadata = await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true).WaitAsync(Patience);
            Assert.Equal(OrchestrationRuntimeStatus.Completed, metadata.RuntimeStatus);
        }

        var rows = (await Task.WhenAll(ids.Select(RowsAsync))).SelectMany(r => r).ToList();
        Assert.All(ids, id => Assert.Equal(6, rows.Count(r => r.PartitionKey == id)));
        Assert.All(rows.GroupBy(r => (r.PartitionKey, Step: r.RowKey.Split('-')[0])), step => Assert.Single(step));
        var byHost = rows.GroupBy(r => r.GetInt32("Pid")).ToDictionary(g => g.Key!.Value, g => g.Count());
        output.WriteLine($"Executions per host: {string.Join(", ", byHost.Select(h => $"{h.Key}: {h.Value}"))}");
        Assert.Equal(new[] { a.Id, b.Id }.Order(), byHost.Keys.Order());
    }

    private Dictionary<string, string> Settings() => new()
    {
        ["AzureWebJobsStorage"] = azurite.ConnectionString,
        ["TASKHUB_NAME"] = _hub,
        ["RunLog__Table"] = _table,
        ["LocalHost__HostId"] = "crash-tests",
        ["CrashContainer"] = _crashContainer,
        ["LocalHost__Blobs__MaxAttempts"] = "2",
        ["LocalHost__Blobs__PollInterval"] = "00:00:00.500",
    };

    private async Task<int> CountAsync(string instanceId, string step) =>
        (await RowsAsync(instanceId)).Count(r => r.RowKey.StartsWith(step + "-", StringComparison.Ordinal));

    private async Task<List<TableEntity>> RowsAsync(string instanceId)
    {
        await Log.CreateIfNotExistsAsync();
        var rows = new List<TableEntity>();
        await foreach (var row in Log.QueryAsync<TableEntity>(e => e.PartitionKey == instanceId))
        {
            rows.Add(row);
        }

        return rows;
    }
}
