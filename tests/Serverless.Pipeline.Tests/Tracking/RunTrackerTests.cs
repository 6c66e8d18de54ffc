using Azure.Data.Tables;
using Serverless.Pipeline.Tests.Data;
using Serverless.Pipeline.Tracking;
using Serverless.Testing;

namespace Serverless.Pipeline.Tests.Tracking;

[Collection(AzuriteCollection.Name)]
public sealed class RunTrackerTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private readonly string _experiment = $"churn-{Guid.NewGuid():N}"[..20];
    private readonly RunTracker _tracker = new(new TableServiceClient(azurite.ConnectionString), TimeProvider.System);

    public Task InitializeAsync() => _tracker.EnsureCreatedAsync(CancellationToken.None);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task StartThenEnd_RecordsParametersMetricsStatusAndDuration()
    {
        await _tracker.StartAsync(_experiment, "trial-1", "train-1", "LightGbm", new Dictionary<string, double> { ["numberOfLeaves"] = 31 }, "snapshot", CancellationToken.None);

        var ended = await _tracker.EndAsync(_experiment, "trial-1", RunStatus.Completed, new Dictionary<string, double> { ["auc"] = 0.93 }, "models/x/1/model.zip", null, CancellationToken.None);
        var stored = await _tracker.GetAsync(_experiment, "trial-1", CancellationToken.None);

        Assert.Equal((RunStatus.Completed, 0.93, 31.0, "train-1"), (stored!.Status, stored.Metrics["auc"], stored.Parameters["numberOfLeaves"], stored.ParentRunId));
        Assert.NotNull(stored.Duration);
        Assert.Equal(ended.ArtifactUri, stored.ArtifactUri);
    }

    [Fact]
    public async Task Search_ByMetric_OrderedLimitedAndFiltered()
    {
        double[] aucs = [0.81, 0.95, 0.88, 0.91, 0.70];
        for (var i = 0; i < aucs.Length; i++)
        {
            await _tracker.StartAsync(_experiment, $"trial-{i}", "train-1", "LightGbm", new Dictionary<string, double>(), null, CancellationToken.None);
            await _tracker.EndAsync(_experiment, $"trial-{i}", RunStatus.Completed, new Dictionary<string, double> { ["auc"] = aucs[i], ["logLoss"] = 1 - aucs[i] }, null, null, CancellationToken.None);
        }

        await _tracker.StartAsync(_experiment, "failed", "train-1", "FastTree", new Dictionary<string, double>(), null, CancellationToken.None);
        await _tracker.EndAsync(_experiment, "failed", RunStatus.Failed, new Dictionary<string, double> { ["auc"] = 0.99 }, null, "out of memory", CancellationToken.None);
        await _tracker.StartAsync(_experiment, "other-parent", "train-2", "LightGbm", new Dictionary<string, double>(), null, CancellationToken.None);
        await _tracker.EndAsync(_experiment, "other-parent", RunStatus.Completed, new Dictionary<string, double> { ["auc"] = 0.98 }, null, null, CancellationToken.None);

        var best = await _tracker.SearchAsync(_experiment, "auc", descending: true, limit: 3, parentRunId: "train-1");
        var lowestLoss = await _tracker.SearchAsync(_experiment, "logLoss", descending: false, limit: 1, parentRunId: "train-1");
        var withFailed = await _tracker.SearchAsync(_experiment, "auc", descending: true, limit: 1, statuses: [RunStatus.Completed, RunStatus.Failed]);

        Assert.Equal(["trial-1", "trial-3", "trial-2"], best.Select(r => r.RunId));
        Assert.Equal("trial-1", Assert.Single(lowestLoss).RunId);
        Assert.Equal("failed", Assert.Single(withFailed).RunId);
    }

    [Fact]
    public async Task End_UnknownRun_NamesIt()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _tracker.EndAsync(_experiment, "nope", RunStatus.Completed, null, null, null, CancellationToken.None));

        Assert.Contains("'nope'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SearchAsync_FilterOrderAndPages_EveryMatchOnceInOrder()
    {
        for (var i = 0; i < 7; i++)
        {
            await _tracker.StartAsync(_experiment, $"t{i}", "train-1", i % 2 == 0 ? "LightGbm" : "Lbfgs", new Dictionary<string, double> { ["leaves"] = i }, null, CancellationToken.None);
            await _tracker.EndAsync(_experiment, $"t{i}", RunStatus.Completed, new Dictionary<string, double> { ["auc"] = 0.5 + (i * 0.05) }, null, null, CancellationToken.None);
        }

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var query = RunQuery.Parse("metrics.auc >= 0.6 and attributes.trainer = 'LightGbm'", ["metrics.auc DESC"], pageSize: 2, pageToken: token);
            (var runs, token) = await _tracker.SearchAsync([_experiment], query, CancellationToken.None);
            seen.AddRange(runs.Select(r => r.RunId));
            pages++;
        }
        while (token is not null);

        Assert.Equal(["t6", "t4", "t2"], seen);
        Assert.Equal(2, pages);
    }
}
