using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Blobs;
using Serverless.Functions.Scoring;
using Serverless.Functions.Tests.EndToEnd;
using Serverless.Pipeline;
using Serverless.Pipeline.Tracking;
using Serverless.Testing;

namespace Serverless.Functions.Tests.Api;

/// <summary>Runs, trials, scoring jobs and drift over HTTP, on runs and outputs written straight to storage.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RunsApiTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private readonly string _model = $"runs-{Guid.NewGuid():N}"[..14];
    private ApiHost _api = null!;

    public async Task InitializeAsync()
    {
        _api = await ApiHost.StartAsync(azurite);
        var runs = _api.Store.Runs;
        double[] aucs = [0.91, 0.78, 0.86];
        for (var r = 0; r < aucs.Length; r++)
        {
            var runId = $"{_model}-run{r}";
            await runs.StartAsync(_model, runId, null, null, new Dictionary<string, double>(), "snapshot", CancellationToken.None);
            for (var t = 0; t < 3; t++)
            {
                var trial = $"{runId}-t{t:D3}";
                await runs.StartAsync(_model, trial, runId, t % 2 == 0 ? "LightGbm" : "Lbfgs", new Dictionary<string, double> { ["numberOfLeaves"] = 15 * (t + 1) }, "snapshot", CancellationToken.None);
                await runs.EndAsync(_model, trial, t == 2 ? RunStatus.Stopped : RunStatus.Completed, new Dictionary<string, double> { ["auc"] = aucs[r] - (t / 100.0) }, null, t == 2 ? "stopped by early termination after step 1" : null, CancellationToken.None);
            }

            await runs.EndAsync(_model, runId, r == 1 ? RunStatus.Failed : RunStatus.Completed, new Dictionary<string, double> { ["cv_auc"] = aucs[r] }, null, r == 1 ? "evaluating: boom" : null, CancellationToken.None);
        }
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task ListRuns_FilterStatusOrderAndPages()
    {
        var best = await GetJsonAsync($"api/runs?model={_model}&order_by=metrics.cv_auc DESC");
        var good = await GetJsonAsync($"api/runs?model={_model}&filter={Uri.EscapeDataString("metrics.cv_auc > 0.8")}&status=FINISHED&order_by=metrics.cv_auc");
        var first = await GetJsonAsync($"api/runs?model={_model}&order_by=metrics.cv_auc DESC&pageSize=2");
        var second = await GetJsonAsync($"api/runs?model={_model}&order_by=metrics.cv_auc DESC&pageSize=2&continuation={first.GetProperty("continuation").GetString()}");
        using var bad = await _api.Http.GetAsync($"api/runs?model={_model}&filter={Uri.EscapeDataString("metrics.cv_auc >> x")}");

        Assert.Equal(["run0", "run2", "run1"], Ids(best));
        Assert.Equal(["run2", "run0"], Ids(good));
        Assert.Equal(["run0", "run2"], Ids(first));
        Assert.Equal(["run1"], Ids(second));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("continuation").ValueKind);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("compares with a number", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRunAndTrials_ParametersMetricsAndEarlyTermination_404ForUnknown()
    {
        var run = await GetJsonAsync($"api/runs/{_model}-run0");
        var trials = await GetJsonAsync($"api/runs/{_model}-run0/trials");
        using var unknown = await _api.Http.GetAsync("api/runs/no-such-run");

        Assert.Equal("Completed", run.GetProperty("run").GetProperty("status").GetString());
        Assert.Equal(0.91, run.GetProperty("run").GetProperty("metrics").GetProperty("cv_auc").GetDouble());
        Assert.Equal(["t000", "t001", "t002"], trials.GetProperty("runs").EnumerateArray().Select(t => t.GetProperty("runId").GetString()![^4..]));
        var stopped = trials.GetProperty("runs")[2];
        Assert.Equal(("Stopped", "stopped by early termination after step 1", 45.0),
            (stopped.GetProperty("status").GetString(), stopped.GetProperty("error").GetString(), stopped.GetProperty("parameters").GetProperty("numberOfLeaves").GetDouble()));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task ScoringJobsAndDrift_ListedWithTheirOutputs()
    {
        var output = new BlobContainerClient(azurite.ConnectionString, _api.Output);
        await output.CreateIfNotExistsAsync();
        foreach (var (name, status) in new[] { ($"{_model}/a.csv", "scored"), ($"{_model}@2/b.csv", "rejected"), ($"{_model}x/c.csv", "scored") })
        {
            var summary = new ScoringSummary($"score-in/{name}", "etag", 10, status, _model, 2, ["x1"], 10, 9, 1, 0.5, $"{name}/predictions.csv", $"{name}/errors.csv", [], null, null);
            await output.UploadBlobAsync($"{name}/summary.json", BinaryData.FromObjectAsJson(summary, PipelineJson.Options));
        }

        var report = new Serverless.Functions.Training.DriftReport(_model, 2, $"score-in/{_model}/a.csv", DateTimeOffset.UtcNow, [], null);
        await output.UploadBlobAsync(report.HistoryBlobName("etag"), BinaryData.FromObjectAsJson(report, PipelineJson.Options));

        var jobs = (await GetJsonAsync($"api/models/{_model}/scoring-jobs")).GetProperty("jobs").EnumerateArray().ToList();
        var drift = (await GetJsonAsync($"api/models/{_model}/drift")).GetProperty("reports").EnumerateArray().ToList();

        Assert.Equal([$"{_model}/a.csv", $"{_model}@2/b.csv"], jobs.Select(j => j.GetProperty("name").GetString()));
        Assert.Equal($"/api/scoring/results/{_model}/a.csv?file=predictions.csv", jobs[0].GetProperty("predictionsUrl").GetString());
        Assert.Equal("rejected", jobs[1].GetProperty("summary").GetProperty("status").GetString());
        Assert.Equal($"score-in/{_model}/a.csv", Assert.Single(drift).GetProperty("input").GetString());
    }

    private IEnumerable<string> Ids(JsonElement page) =>
        page.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("runId").GetString()![(_model.Length + 1)..]);

    private async Task<JsonElement> GetJsonAsync(string route)
    {
        using var response = await _api.Http.GetAsync(route);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{route}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
