using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Hosting;
using Serverless.Functions.Triggers.Blob;
using Serverless.Functions.Triggers.Durable;
using Serverless.Functions.Triggers.Http;
using Serverless.Functions.Triggers.Timer;
using Serverless.Pipeline.Tracking;
using Serverless.Testing;

namespace Serverless.Functions.Tests.EndToEnd;

/// <summary>
/// The app's own functions on the local runtime, a real Azurite and real ML.NET, as a user drives them: upload a
/// dataset, train over HTTP, follow the run, read its report, score rows online, drop a file to score, retrain.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AppEndToEndTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly TimeSpan TrainingPatience = AppUnderTest.TrainingPatience;

    private readonly string _output = $"out-{Guid.NewGuid():N}"[..24];
    private readonly string _model = $"churn-{Guid.NewGuid():N}"[..16];
    private TestFunctionsHost _host = null!;
    private AppUnderTest _app = null!;

    public async Task InitializeAsync()
    {
        _host = await AppUnderTest.StartHostAsync(azurite.ConnectionString, _output, new Dictionary<string, string?>
        {
            ["Pipeline:FanOutScoringBytes"] = "200000",
            ["Pipeline:ScoringPartBytes"] = "60000",
        });
        _app = new AppUnderTest(_host.Http, azurite.ConnectionString, _model, _output);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task GetHealth_StorageUp_HealthyWithVersion()
    {
        using var response = await _host.Http.GetAsync("api/health");
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString());
    }

    /// <summary>The main job: train from HTTP, then score a dropped file and single rows with the champion.</summary>
    [Fact]
    public async Task TrainOverHttp_ThenScoreAFileAndRows_WithTheChampion()
    {
        var status = await _app.TrainAsync(SyntheticData.CustomersCsv(800, seed: 1, withLabel: true, badEvery: 0), earlyTermination: true);

        Assert.Equal("Completed", status.GetProperty("runtimeStatus").GetString());
        var output = status.GetProperty("output");
        Assert.Equal(1, output.GetProperty("version").GetInt32());
        Assert.True(output.GetProperty("promoted").GetBoolean());
        Assert.Equal(6, output.GetProperty("trials").GetInt32());
        Assert.InRange(output.GetProperty("metrics").GetProperty("cv_auc").GetDouble(), 0.9, 1.0);
        Assert.Equal("completed", status.GetProperty("customStatus").GetProperty("stage").GetString());
        Assert.Equal(6, status.GetProperty("customStatus").GetProperty("trialsDone").GetInt32());

        var runId = status.GetProperty("instanceId").GetString()!;
        using var report = await _host.Http.GetAsync($"api/runs/{runId}/report");
        var html = await report.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.StartsWith("text/html", report.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        Assert.Contains("data:image/png;base64,", html, StringComparison.Ordinal);
        Assert.Contains("Trials against auc", html.Replace("alt=\"trials.png\"", "Trials against auc", StringComparison.Ordinal), StringComparison.Ordinal);

        var trials = await _app.TrialRunsAsync(runId);
        Assert.Equal(6, trials.Count);
        var run = await _host.Http.GetFromJsonAsync<JsonElement>($"api/runs/{runId}");
        var timeline = (await _host.Http.GetFromJsonAsync<JsonElement>($"api/runs/{runId}/timeline")).GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal("Completed", run.GetProperty("progress").GetProperty("runtimeStatus").GetString());
        Assert.Equal("completed", run.GetProperty("progress").GetProperty("customStatus").GetProperty("stage").GetString());
        Assert.Equal($"/api/runs/{runId}/report", run.GetProperty("reportUrl").GetString());
        Assert.Equal("IngestDataset", timeline[0].GetProperty("name").GetString());
        // Each trial's first step, then a second step for each one early termination did not stop.
        Assert.Equal(6 + trials.Count(t => t.Status == RunStatus.Completed), timeline.Count(s => s.GetProperty("name").GetString() == "RunTrial"));
        Assert.Contains(timeline, s => s.GetProperty("name").GetString() == "RegisterModel");
        Assert.All(timeline.Where(s => s.GetProperty("kind").GetString() != "timer"), s => Assert.Equal("completed", s.GetProperty("outcome").GetString()));

        // Each trial step raced its time limit; every limit was cancelled, since the trials finished first.
        Assert.Equal(timeline.Count(s => s.GetProperty("name").GetString() == "RunTrial"), timeline.Count(s => s.GetProperty("kind").GetString() == "timer"));
        Assert.All(timeline.Where(s => s.GetProperty("kind").GetString() == "timer"), s => Assert.Equal("cancelled", s.GetProperty("outcome").GetString()));
        Assert.All(trials, t => Assert.Contains(t.Status, new[] { RunStatus.Completed, RunStatus.Stopped }));
        // A completed trial records its cost, and keeps the out-of-fold predictions the evaluation compared it on:
        // one 32-bit float for each of the about 720 rows left after the 10% holdout (stratified, rounded per class).
        var outputs = new BlobContainerClient(azurite.ConnectionString, PipelineOptions.RunsContainer);
        foreach (var trial in trials.Where(t => t.Status == RunStatus.Completed))
        {
            Assert.InRange(trial.Metrics["trainRows"], 400, 720);
            Assert.True(trial.Metrics["trainSeconds"] > 0);
            var index = int.Parse(trial.RunId[^3..], System.Globalization.CultureInfo.InvariantCulture);
            var bytes = (await outputs.GetBlobClient(TrainingActivities.OutOfFoldBlob(runId, index)).GetPropertiesAsync()).Value.ContentLength;
            Assert.Equal(0, bytes % 4);
            Assert.InRange(bytes / 4, 715, 725);
        }

        using var model = await _host.Http.GetAsync($"api/models/{_model}");
        var registered = await model.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, registered.GetProperty("model").GetProperty("aliases").GetProperty("champion").GetInt32());
        Assert.Equal(["x1", "x2", "color"], registered.GetProperty("versions")[0].GetProperty("signature").GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()));

        using var predicted = await _host.Http.PostAsJsonAsync($"api/models/{_model}/predict", new { rows = new object[] { new { x1 = 1.8, x2 = -1.5, color = "red" }, new { x1 = "oops", x2 = 0, color = "blue" } } });
        var predictions = (await predicted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("predictions");
        Assert.Equal(HttpStatusCode.OK, predicted.StatusCode);
        Assert.Equal("yes", predictions[0].GetProperty("prediction").GetString());
        Assert.Equal("row 2: 'x1': 'oops' is not a number", predictions[1].GetProperty("error").GetString());

        var input = $"{_model}/batch-{Guid.NewGuid():N}.csv";
        using var accepted = await _host.Http.PutAsync($"api/scoring/inputs/{input}", new StringContent(SyntheticData.CustomersCsv(3000, seed: 4, withLabel: false, badEvery: 500)));
        var summary = await _app.ReadSummaryAsync(input);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal("scored", summary.GetProperty("status").GetString());
        Assert.Equal((3000, 2994, 6), (summary.GetProperty("rowsIn").GetInt64(), summary.GetProperty("rowsScored").GetInt64(), summary.GetProperty("rowsRejected").GetInt64()));
        Assert.Equal(1, summary.GetProperty("modelVersion").GetInt32());
        Assert.True(summary.GetProperty("drift").GetArrayLength() >= 2);

        var lines = (await _host.Http.GetStringAsync($"api/scoring/results/{input}?file=predictions.csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var errors = (await _host.Http.GetStringAsync($"api/scoring/results/{input}?file=errors.csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("row,customer_id,prediction,probability_no,probability_yes", lines[0]);
        Assert.Equal(2995, lines.Length);
        Assert.Equal(["row,reason", "501,column 2: 'not-a-number' is not a number"], errors[..2]);
        Assert.Equal(7, errors.Length);

        // A folder {model}@{version} pins the version; a version that does not exist is a rejection that says so.
        var pinned = await _app.ScoreAsync($"{_model}@1/pinned.csv", SyntheticData.CustomersCsv(10, seed: 5, withLabel: false, badEvery: 0), prefix: false);
        var missing = await _app.ScoreAsync($"{_model}@9/missing.csv", SyntheticData.CustomersCsv(10, seed: 5, withLabel: false, badEvery: 0), prefix: false);
        Assert.Equal(("scored", 1), (pinned.GetProperty("status").GetString(), pinned.GetProperty("modelVersion").GetInt32()));
        Assert.True(missing.GetProperty("status").GetString() == "rejected", missing.ToString());
        Assert.Contains("has no version 9", missing.GetProperty("problems")[0].GetString(), StringComparison.Ordinal);

        // ?output=summary: counts and errors, no predictions file.
        var summaryOnly = await _app.ScoreAsync("summary-only.csv?output=summary", SyntheticData.CustomersCsv(100, seed: 5, withLabel: false, badEvery: 50));
        using var noPredictions = await _host.Http.GetAsync($"api/scoring/results/{_model}/summary-only.csv?file=predictions.csv");
        Assert.Equal(("scored", 98L, 2L), (summaryOnly.GetProperty("status").GetString(), summaryOnly.GetProperty("rowsScored").GetInt64(), summaryOnly.GetProperty("rowsRejected").GetInt64()));
        Assert.Equal(JsonValueKind.Null, summaryOnly.GetProperty("predictions").ValueKind);
        Assert.Equal(HttpStatusCode.NotFound, noPredictions.StatusCode);
    }

    /// <summary>A file over the fan-out size is scored in parts over activities; the merged outputs keep input order.</summary>
    [Fact]
    public async Task DropLargeCsv_FannedOutInParts_MergedInOrderWithSummary()
    {
        await _app.TrainAsync(SyntheticData.CustomersCsv(500, seed: 1, withLabel: true, badEvery: 0), earlyTermination: false);
        var csv = SyntheticData.CustomersCsv(12_000, seed: 8, withLabel: false, badEvery: 1000);

        var input = $"{_model}/large.csv";
        using var accepted = await _host.Http.PutAsync($"api/scoring/inputs/{input}", new StringContent(csv));
        var summary = await _app.ReadSummaryAsync(input, TrainingPatience);

        Assert.True(csv.Length >= 200_000, $"the input ({csv.Length} bytes) must be over the fan-out size");
        Assert.Equal("scored", summary.GetProperty("status").GetString());
        Assert.StartsWith("score-", summary.GetProperty("runId").GetString(), StringComparison.Ordinal);
        Assert.Equal((12_000, 11_988, 12), (summary.GetProperty("rowsIn").GetInt64(), summary.GetProperty("rowsScored").GetInt64(), summary.GetProperty("rowsRejected").GetInt64()));
        var lines = (await _host.Http.GetStringAsync($"api/scoring/results/{input}?file=predictions.csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var rows = lines.Skip(1).Select(l => long.Parse(l.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(Enumerable.Range(2, 12_000).Where(r => (r - 1) % 1000 != 0).Select(r => (long)r), rows);
        var errors = (await _host.Http.GetStringAsync($"api/scoring/results/{input}?file=errors.csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(13, errors.Length);
    }

    [Fact]
    public async Task Train_LabelWithOneClass_RunFailsNamingTheFileAndColumnAndIsTrackedFailed()
    {
        var csv = new StringBuilder("x1,churned\n");
        for (var i = 0; i < 50; i++)
        {
            csv.Append(i).Append(",no\n");
        }

        var status = await _app.TrainAsync(csv.ToString(), earlyTermination: false);
        var runId = status.GetProperty("instanceId").GetString()!;
        var run = await new RunTracker(new TableServiceClient(azurite.ConnectionString), TimeProvider.System).GetAsync(_model, runId, CancellationToken.None);

        Assert.Equal("Failed", status.GetProperty("runtimeStatus").GetString());
        var message = status.GetProperty("output").GetString();
        Assert.Contains($"datasets/{_model}.csv", message, StringComparison.Ordinal);
        Assert.Contains("'churned' has a single class ('no')", message, StringComparison.Ordinal);
        Assert.Equal("ingesting", status.GetProperty("customStatus").GetProperty("stage").GetString());
        Assert.Equal(RunStatus.Failed, run!.Status);
    }

    /// <summary>On the real engine, trials that outlast trialTimeoutMinutes (60 ms) are cut by their durable timers, and the run says why.</summary>
    [Fact]
    public async Task Train_TrialsOutlastTheirTimeout_RunFailsSayingTheyTimedOut()
    {
        var status = await _app.TrainAsync(SyntheticData.CustomersCsv(3000, seed: 1, withLabel: true, badEvery: 0), earlyTermination: false, new { trialTimeoutMinutes = 0.001 });

        Assert.Equal("Failed", status.GetProperty("runtimeStatus").GetString());
        Assert.Contains("No trial of the 6 produced a value of auc; the first error: timed out: not finished within trialTimeoutMinutes (0.001 min)", status.GetProperty("output").GetString(), StringComparison.Ordinal);
        Assert.Equal("sweeping", status.GetProperty("customStatus").GetProperty("stage").GetString());
    }

    /// <summary>A run that asks for approval waits with its version registered but not promoted, until a person approves it.</summary>
    [Fact]
    public async Task Train_RequiringApproval_WaitsThenPromotesWhenApproved()
    {
        var statusUrl = await _app.StartTrainingAsync(SyntheticData.CustomersCsv(400, seed: 1, withLabel: true, badEvery: 0), earlyTermination: false, requireApproval: true);
        var waiting = await AppUnderTest.WaitAsync(statusUrl, s => s.GetProperty("customStatus").ValueKind == JsonValueKind.Object && s.GetProperty("customStatus").GetProperty("stage").GetString() == "awaiting approval");
        var runId = waiting.GetProperty("instanceId").GetString()!;
        using var before = await _host.Http.GetAsync($"api/models/{_model}");
        var aliasesBefore = (await before.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("model").GetProperty("aliases");

        // The trainer's function key cannot approve, nor can the Durable system key its status URL carries.
        using var withFunctionKey = await _host.Http.PostAsJsonAsync($"api/runs/{runId}/approval", new { approve = true, by = "trainer" });
        using var plain = new HttpClient();
        var query = statusUrl.IndexOf('?', StringComparison.Ordinal);
        using var raised = await plain.PostAsJsonAsync($"{statusUrl[..query]}/raiseEvent/approval{statusUrl[query..]}", new { approve = true, by = "trainer" });
        await Task.Delay(TimeSpan.FromSeconds(3));
        var stillWaiting = await AppUnderTest.WaitAsync(statusUrl, _ => true);

        using var approver = new HttpClient { BaseAddress = _host.Http.BaseAddress };
        approver.DefaultRequestHeaders.Add("x-functions-key", TestFunctionsHost.MasterKey);
        using var approved = await approver.PostAsJsonAsync($"api/runs/{runId}/approval", new { approve = true, by = "alice" });
        var done = await AppUnderTest.WaitAsync(statusUrl, s => s.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed");
        using var again = await approver.PostAsJsonAsync($"api/runs/{runId}/approval", new { approve = true, by = "alice" });

        Assert.Equal(HttpStatusCode.Unauthorized, withFunctionKey.StatusCode);
        Assert.True(raised.IsSuccessStatusCode, $"the Durable API answered {raised.StatusCode}");
        Assert.Equal(("Running", "awaiting approval"), (stillWaiting.GetProperty("runtimeStatus").GetString(), stillWaiting.GetProperty("customStatus").GetProperty("stage").GetString()));
        Assert.Equal("Running", waiting.GetProperty("runtimeStatus").GetString());
        Assert.False(aliasesBefore.TryGetProperty("champion", out _));
        Assert.Equal(HttpStatusCode.Accepted, approved.StatusCode);
        Assert.Equal("Completed", done.GetProperty("runtimeStatus").GetString());
        Assert.True(done.GetProperty("output").GetProperty("promoted").GetBoolean());
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task StartTraining_BadRequest_400NamingEachProblem()
    {
        using var response = await _host.Http.PostAsJsonAsync("api/models/bad%20name/train", new { dataset = "../x.csv", label = "", sweep = new { sampler = "grid", trainers = new[] { "LightGbm" } } });
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var problems = problem.GetProperty("problems").EnumerateArray().Select(p => p.GetString()!).ToList();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(problems, p => p.StartsWith("model:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("dataset:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("label:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("sweep: Grid sampling takes only choice", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DropCsv_NoSuchModel_RejectedSummaryInputUntouched()
    {
        var input = new BlobContainerClient(azurite.ConnectionString, PipelineOptions.ScoringInputContainer);
        await input.CreateIfNotExistsAsync();
        var name = $"nomodel{Guid.NewGuid():N}/customers.csv";
        var blob = input.GetBlobClient(name);
        await blob.UploadAsync(BinaryData.FromString("x1,x2,color\n1,2,red\n"));
        var etag = (await blob.GetPropertiesAsync()).Value.ETag;

        var summary = await _app.ReadSummaryAsync(name);

        Assert.Equal("rejected", summary.GetProperty("status").GetString());
        Assert.Contains($"model '{name.Split('/')[0]}' has no 'champion' version", summary.GetProperty("problems")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(etag, (await blob.GetPropertiesAsync()).Value.ETag);
    }

    [Fact]
    public async Task DropNonCsv_SummarySaysOnlyCsvIsScored()
    {
        var input = new BlobContainerClient(azurite.ConnectionString, PipelineOptions.ScoringInputContainer);
        await input.CreateIfNotExistsAsync();
        var name = $"{Guid.NewGuid():N}/data.json";
        await input.UploadBlobAsync(name, BinaryData.FromString("{}"));

        var summary = await _app.ReadSummaryAsync(name);

        Assert.Equal("rejected", summary.GetProperty("status").GetString());
        Assert.Contains("only .csv", summary.GetProperty("problems")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutCsvOverHttp_KeyAndNameChecked()
    {
        using var withoutKey = new HttpClient { BaseAddress = _host.Http.BaseAddress };
        using var noKey = await withoutKey.PutAsync($"api/scoring/inputs/{_model}/a.csv", new StringContent("a\n1\n"));
        using var badName = await _host.Http.PutAsync("api/scoring/inputs/m/bad%5Cname.csv", new StringContent("a\n1\n"));
        using var noModelFolder = await _host.Http.PutAsync("api/scoring/inputs/top-level.csv", new StringContent("a\n1\n"));

        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noModelFolder.StatusCode);
    }

    /// <summary>
    /// A batch far from the training data drifts. While the dataset is unchanged the schedule starts nothing (no new
    /// data); once it changed, it replays the training request on it, and the new version is registered.
    /// </summary>
    [Fact]
    public async Task RetrainSchedule_AfterADriftedBatch_RetrainsOnlyOnNewDataReplayingTheRequest()
    {
        await _app.TrainAsync(SyntheticData.CustomersCsv(500, seed: 1, withLabel: true, badEvery: 0), earlyTermination: false);
        var shifted = new StringBuilder("customer_id,x1,x2,color\n");
        for (var i = 0; i < 500; i++)
        {
            shifted.Append("C-").Append(i).Append(',').Append(6 + (i % 7)).Append(",-5,green\n");
        }

        var summary = await _app.ScoreAsync("drifted.csv", shifted.ToString());
        var x1 = summary.GetProperty("drift").EnumerateArray().Single(d => d.GetProperty("column").GetString() == "x1");
        Assert.True(x1.GetProperty("psi").GetDouble() > 0.25);
        Assert.Equal("Major", x1.GetProperty("verdict").GetString());
        Assert.Equal(JsonValueKind.Null, summary.GetProperty("metrics").ValueKind);

        Assert.Empty(await RunScheduleAsync());

        await _app.UploadDatasetAsync(SyntheticData.CustomersCsv(600, seed: 8, withLabel: true, badEvery: 0));
        var (retrain, input) = await RetrainTwiceAsync();

        Assert.Equal(2, retrain.GetProperty("version").GetInt32());
        Assert.Contains("column 'x1' drifted", input.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal(6, input.GetProperty("sweep").GetProperty("maxTrials").GetInt32());
        Assert.Equal(["LightGbm", "Lbfgs"], input.GetProperty("sweep").GetProperty("trainers").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(3, input.GetProperty("folds").GetInt32());
    }

    /// <summary>A re-upload: from the moment the upload answers, the summary is about the new version (pending, then scored), never the old one.</summary>
    [Fact]
    public async Task Reupload_SummaryIsAboutTheNewVersionAtOnce()
    {
        await _app.TrainAsync(SyntheticData.CustomersCsv(300, seed: 1, withLabel: true, badEvery: 0), earlyTermination: false);
        var first = await _app.ScoreAsync("again.csv", SyntheticData.CustomersCsv(20, seed: 2, withLabel: false, badEvery: 0));

        using var second = await _host.Http.PutAsync($"api/scoring/inputs/{_model}/again.csv", new StringContent(SyntheticData.CustomersCsv(30, seed: 3, withLabel: false, badEvery: 0)));
        var etag = (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eTag").GetString();
        var right = await _host.Http.GetFromJsonAsync<JsonElement>($"api/scoring/results/{_model}/again.csv");
        var final = await _app.ReadSummaryAsync($"{_model}/again.csv");

        Assert.NotEqual(first.GetProperty("inputETag").GetString(), etag);
        Assert.Equal(etag, right.GetProperty("inputETag").GetString());
        Assert.Contains(right.GetProperty("status").GetString(), new[] { "pending", "scoring", "scored" });
        Assert.Equal((etag, "scored", 30L), (final.GetProperty("inputETag").GetString(), final.GetProperty("status").GetString(), final.GetProperty("rowsScored").GetInt64()));
    }

    /// <summary>
    /// Files a fault suite broke scoring with: each ends with a summary, and a bad record is an error row, not a lost
    /// file (a stray quote in the first 50,000 rows used to fail the monitoring pass and send the file to poison).
    /// </summary>
    [Fact]
    public async Task DropMalformedCsv_EachFileEndsWithASummaryBadRecordIsAnErrorRow()
    {
        await _app.TrainAsync(SyntheticData.CustomersCsv(400, seed: 1, withLabel: true, badEvery: 0), earlyTermination: false);
        var lines = SyntheticData.CustomersCsv(200, seed: 2, withLabel: false, badEvery: 0).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        var strayQuote = lines.Select((l, i) => i == 10 ? "C-0010,\"1.5\"x,0.3,red" : l);
        var stray = await _app.ScoreAsync("stray-quote.csv", string.Join('\n', strayQuote) + "\n");
        var errors = await _host.Http.GetStringAsync($"api/scoring/results/{_model}/stray-quote.csv?file=errors.csv");

        var longField = lines.Select((l, i) => i == 5 ? $"C-{new string('k', 70_000)},1,1,red" : l);
        var wide = new StringBuilder(lines[0]);
        for (var c = 4; c < 10_000; c++)
        {
            wide.Append(",extra").Append(c);
        }

        var wideRow = "C-1,1,1,red" + string.Concat(Enumerable.Repeat(",0", 9_996));
        var longSummary = await _app.ScoreAsync("long-field.csv", string.Join('\n', longField) + "\n");
        var wideSummary = await _app.ScoreAsync("wide.csv", $"{wide}\n{wideRow}\n{wideRow}\n");
        var endless = await _app.ScoreAsync("endless-header.csv", new string('h', 1_200_000));

        // Rows 10 and 60,001 of a file large enough to be fanned out in parts: each is one error row.
        var many = SyntheticData.CustomersCsv(60_100, seed: 3, withLabel: false, badEvery: 0).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        many[9] = "C-0009,\"0.5\"x,0.3,red";
        many[60_000] = "C-60000,0.5,0\"3,red";
        var large = await _app.ScoreAsync("stray-quotes-large.csv", string.Join('\n', many) + "\n");
        var largeErrors = await _host.Http.GetStringAsync($"api/scoring/results/{_model}/stray-quotes-large.csv?file=errors.csv");

        Assert.Equal(("scored", 199L, 1L), (stray.GetProperty("status").GetString(), stray.GetProperty("rowsScored").GetInt64(), stray.GetProperty("rowsRejected").GetInt64()));
        Assert.Contains("\n11,", errors, StringComparison.Ordinal);
        Assert.Equal(("scored", 60_098L, 2L), (large.GetProperty("status").GetString(), large.GetProperty("rowsScored").GetInt64(), large.GetProperty("rowsRejected").GetInt64()));
        Assert.Equal(["10", "60001"], largeErrors.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1..].Select(l => l.Split(',')[0]));
        Assert.Contains("not valid CSV", errors, StringComparison.Ordinal);
        Assert.Equal(("scored", 200L), (longSummary.GetProperty("status").GetString(), longSummary.GetProperty("rowsScored").GetInt64()));
        Assert.Equal(("scored", 2L), (wideSummary.GetProperty("status").GetString(), wideSummary.GetProperty("rowsScored").GetInt64()));
        Assert.Equal("rejected", endless.GetProperty("status").GetString());
        Assert.Contains("the header is not valid CSV", endless.GetProperty("problems")[0].GetString(), StringComparison.Ordinal);
    }

    /// <summary>Trained on one half of a shuffled file and scored on the other: no column drifts, and the schedule starts nothing.</summary>
    [Fact]
    public async Task RetrainSchedule_SameDistributionHalves_NoDriftNothingStarts()
    {
        var lines = SyntheticData.CustomersCsv(2000, seed: 11, withLabel: true, badEvery: 0).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0];
        var random = new Random(3);
        var rows = lines[1..].OrderBy(_ => random.Next()).ToArray();
        await _app.TrainAsync(string.Join('\n', [header, .. rows[..1000]]) + "\n", earlyTermination: false);
        var scoringHalf = rows[1000..].Select(r => r[..r.LastIndexOf(',')]);

        var summary = await _app.ScoreAsync("other-half.csv", string.Join('\n', [header[..header.LastIndexOf(',')], .. scoringHalf]) + "\n");

        var drift = summary.GetProperty("drift").EnumerateArray().ToList();
        Assert.NotEmpty(drift);
        Assert.All(drift, d => Assert.Contains(d.GetProperty("verdict").GetString(), new[] { "Stable", "Skipped" }));
        Assert.Empty(await RunScheduleAsync());
    }

    /// <summary>A labeled batch on which the champion does badly (the outcomes flipped): its metric decayed, so the schedule retrains.</summary>
    [Fact]
    public async Task RetrainSchedule_AfterALabeledBatchWithADecayedMetric_Retrains()
    {
        await _app.TrainAsync(SyntheticData.CustomersCsv(500, seed: 1, withLabel: true, badEvery: 0), earlyTermination: false);
        var flipped = SyntheticData.CustomersCsv(400, seed: 3, withLabel: true, badEvery: 0)
            .Replace(",yes\n", ",tmp\n", StringComparison.Ordinal).Replace(",no\n", ",yes\n", StringComparison.Ordinal).Replace(",tmp\n", ",no\n", StringComparison.Ordinal);

        var summary = await _app.ScoreAsync("labeled.csv", flipped);
        Assert.InRange(summary.GetProperty("metrics").GetProperty("auc").GetDouble(), 0, 0.2);
        await _app.UploadDatasetAsync(flipped);

        var (retrain, input) = await RetrainTwiceAsync();

        Assert.Equal(2, retrain.GetProperty("version").GetInt32());
        Assert.Contains("the metric decayed", input.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    /// <summary>Runs the schedule twice in one slot (one retrain only), waits for the retrain; its output and input.</summary>
    private async Task<(JsonElement Output, JsonElement Input)> RetrainTwiceAsync()
    {
        await RunScheduleAsync();
        await RunScheduleAsync();
        var runs = await Eventually.PollAsync(
            async () => new RetrainRuns(await RetrainsAsync(fetch: true)),
            found => found.Runs.Count == 1 && found.Runs.All(i => i.RuntimeStatus == OrchestrationRuntimeStatus.Completed),
            TrainingPatience,
            "the retrain run to complete");
        var run = runs.Runs.Single();
        return (JsonDocument.Parse(run.SerializedOutput!).RootElement.Clone(), JsonDocument.Parse(run.SerializedInput!).RootElement.Clone());
    }

    /// <summary>Runs the retrain schedule once; the retrain runs of this test's model there are then.</summary>
    private async Task<List<OrchestrationMetadata>> RunScheduleAsync()
    {
        var retrain = ActivatorUtilities.CreateInstance<RetrainOnSchedule>(_host.Services);
        await retrain.RunAsync(new Microsoft.Azure.Functions.Worker.TimerInfo(), _host.Services.GetRequiredService<DurableTaskClient>(), CancellationToken.None);
        return await RetrainsAsync(fetch: false);
    }

    /// <summary>Retrain runs, described by id, status and failure when a wait times out.</summary>
    private sealed record RetrainRuns(List<OrchestrationMetadata> Runs)
    {
        public override string ToString() =>
            Runs.Count == 0 ? "no retrain run" : string.Join("; ", Runs.Select(r => $"{r.InstanceId} {r.RuntimeStatus} {r.FailureDetails?.ErrorMessage ?? r.SerializedOutput}"));
    }

    private async Task<List<OrchestrationMetadata>> RetrainsAsync(bool fetch)
    {
        var list = new List<OrchestrationMetadata>();
        var query = new OrchestrationQuery { InstanceIdPrefix = "retrain-", FetchInputsAndOutputs = fetch };
        await foreach (var instance in _host.Services.GetRequiredService<DurableTaskClient>().GetAllInstancesAsync(query))
        {
            if (instance.InstanceId.EndsWith($"-{_model}", StringComparison.Ordinal))
            {
                list.Add(instance);
            }
        }

        return list;
    }
}
