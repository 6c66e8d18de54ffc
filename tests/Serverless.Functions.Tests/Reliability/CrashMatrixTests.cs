using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Azure.Storage.Blobs;
using Serverless.Functions.Tests.EndToEnd;
using Serverless.Testing;
using Xunit.Abstractions;

namespace Serverless.Functions.Tests.Reliability;

/// <summary>
/// The crash matrix, on the app itself as the README's run command starts it (<c>src/Serverless.LocalHost</c>), in
/// a process killed with SIGKILL and started again on the same port: a training run killed at ingest, sweep,
/// evaluate and register still completes, with one version; a file being scored when the host dies is scored once,
/// no row lost or duplicated; a file whose scoring kills the host on every attempt ends in the poison queue with a
/// <c>failed</c> summary.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CrashMatrixTests(AzuriteFixture azurite, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    private readonly string _model = $"crash-{Guid.NewGuid():N}"[..16];
    private readonly string _output = $"out-{Guid.NewGuid():N}"[..24];
    private readonly Dictionary<string, string> _settings = [];
    private HostProcess? _host;
    private HttpClient _http = null!;
    private AppUnderTest _app = null!;
    private string _killedOutput = string.Empty;

    public async Task InitializeAsync()
    {
        var port = FreePort();
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["TASKHUB_NAME"] = $"Crash{Guid.NewGuid():N}"[..20],
            ["RetrainSchedule"] = "0 0 3 * * *",
            ["LocalHost__HostId"] = $"crash-{Guid.NewGuid():N}"[..20],
            ["LocalHost__Http__Port"] = $"{port}",
            ["LocalHost__Keys__Function"] = TestFunctionsHost.FunctionKey,
            ["LocalHost__Keys__Master"] = TestFunctionsHost.MasterKey,
            ["LocalHost__Keys__DurableTaskExtension"] = TestFunctionsHost.DurableKey,
            ["LocalHost__Blobs__PollInterval"] = "00:00:00.200",
            ["LocalHost__Blobs__MaxAttempts"] = "2",
            ["LocalHost__Durable__MessageVisibilityTimeout"] = "00:00:20",
            ["Pipeline__ScoringOutputContainer"] = _output,
            ["Logging__LogLevel__Serverless.LocalHost"] = "Debug",
            ["AzureFunctionsJobHost__logging__logLevel__Serverless.LocalHost"] = "Debug",
        })
        {
            _settings[key] = value;
        }

        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        _http.DefaultRequestHeaders.Add("x-functions-key", TestFunctionsHost.FunctionKey);
        _app = new AppUnderTest(_http, azurite.ConnectionString, _model, _output);
        _host = await StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _http.Dispose();
    }

    [Fact]
    public async Task TrainingRun_KilledAtIngestSweepEvaluateRegister_CompletesWithOneVersion()
    {
        var statusUrl = await _app.StartTrainingAsync(SyntheticData.CustomersCsv(3000, seed: 1, withLabel: true, badEvery: 0), earlyTermination: false, requireApproval: false);
        var clock = Stopwatch.StartNew();
        var recoveries = new List<string>();
        var ranAgain = 0;
        string[] stages = ["IngestDataset", "RunTrial", "EvaluateModel", "RegisterModel", "PromoteModel"];
        for (var i = 0; i < stages.Length - 1; i++)
        {
            var (activity, next) = (stages[i], stages[i + 1]);
            await _host!.WaitForLineAsync($"Executing 'Functions.{activity}'", Patience);
            var killedAt = clock.Elapsed;
            await RestartAsync();
            // The restarted host runs the activity again, unless it finished (and its result was kept) between its
            // first log line and the kill: a fast step can, and then the run goes on to the next one.
            var again = _host.WaitForLineAsync($"Executed 'Functions.{activity}' (Succeeded", Patience);
            var onwards = _host.WaitForLineAsync($"Executing 'Functions.{next}'", Patience);
            try
            {
                await Task.WhenAny(again, onwards).Unwrap();
            }
            catch (TimeoutException)
            {
                // What the restarted host did instead, for the one reading the failure.
                var tail = _host.Output.Split('\n').TakeLast(60);
                throw new TimeoutException(
                    $"{activity} did not succeed within {Patience.TotalMinutes} minutes of the restart. So far: {string.Join("; ", recoveries)}. "
                    + $"The killed host's last lines:\n{string.Join('\n', _killedOutput.Split('\n').TakeLast(40))}\n"
                    + $"The host's last lines:\n{string.Join('\n', tail)}");
            }

            var reran = again.IsCompletedSuccessfully;
            ranAgain += reran ? 1 : 0;
            recoveries.Add(reran
                ? $"{activity}: killed at {killedAt.TotalSeconds:0.0} s, ran again {(clock.Elapsed - killedAt).TotalSeconds:0.0} s later"
                : $"{activity}: killed at {killedAt.TotalSeconds:0.0} s, had finished; the run went on to {next}");
        }

        var status = await AppUnderTest.WaitAsync(statusUrl, s => s.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed");
        using var model = await _http.GetAsync($"api/models/{_model}");
        var versions = (await model.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("versions");
        output.WriteLine(string.Join(Environment.NewLine, recoveries));
        output.WriteLine($"completed {clock.Elapsed.TotalSeconds:0} s after the start, with 4 kills");

        Assert.True(status.GetProperty("runtimeStatus").GetString() == "Completed", status.ToString());
        Assert.True(ranAgain > 0, $"No kill interrupted an activity: {string.Join("; ", recoveries)}");
        Assert.Equal(1, status.GetProperty("output").GetProperty("version").GetInt32());
        Assert.Equal(1, versions.GetArrayLength());
        Assert.Equal(6, (await _app.TrialRunsAsync(status.GetProperty("instanceId").GetString()!)).Count);
    }

    [Fact]
    public async Task ScoringFiles_HostKilledWhileScoring_ScoredOnceOrFailedSummaryAfterTheLastAttempt()
    {
        await _app.TrainAsync(SyntheticData.CustomersCsv(600, seed: 1, withLabel: true, badEvery: 0), earlyTermination: false);
        const int Rows = 600_000;
        var csv = SyntheticData.CustomersCsv(Rows, seed: 9, withLabel: false, badEvery: 0);
        var inputs = new BlobContainerClient(azurite.ConnectionString, "score-in");

        // Killed in its first attempt: the second scores it whole.
        await inputs.UploadBlobAsync($"{_model}/once.csv", BinaryData.FromString(csv));
        await KillWhileScoringAsync("once.csv", attempt: 1);
        var once = await _app.ReadSummaryAsync($"{_model}/once.csv", Patience);
        var rows = (await _http.GetStringAsync($"api/scoring/results/{_model}/once.csv?file=predictions.csv"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => long.Parse(l[..l.IndexOf(',', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture)).ToList();

        // Killed in both of its attempts (MaxAttempts 2): poisoned, and its summary says it failed.
        await inputs.UploadBlobAsync($"{_model}/killer.csv", BinaryData.FromString(csv));
        await KillWhileScoringAsync("killer.csv", attempt: 1);
        await KillWhileScoringAsync("killer.csv", attempt: 2);
        var killer = await _app.ReadSummaryAsync($"{_model}/killer.csv", Patience);
        using var partial = await _http.GetAsync($"api/scoring/results/{_model}/killer.csv?file=predictions.csv");
        var leftParts = new List<string>();
        await foreach (var blob in new BlobContainerClient(azurite.ConnectionString, _output).GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = $"{_model}/killer.csv/parts/" }))
        {
            leftParts.Add(blob.Name);
        }

        Assert.Equal(("scored", (long)Rows, (long)Rows), (once.GetProperty("status").GetString(), once.GetProperty("rowsIn").GetInt64(), once.GetProperty("rowsScored").GetInt64()));
        Assert.Equal(Enumerable.Range(2, Rows).Select(r => (long)r), rows);
        Assert.True(killer.GetProperty("status").GetString() == "failed", killer.ToString());
        Assert.Contains("failed on every attempt", killer.GetProperty("problems")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, partial.StatusCode);
        Assert.Empty(leftParts);
        Assert.True(await inputs.GetBlobClient($"{_model}/killer.csv").ExistsAsync());
    }

    private async Task KillWhileScoringAsync(string file, int attempt)
    {
        await _host!.WaitForLineAsync($"{_model}/{file}' (ETag", Patience);
        await _host.WaitForLineAsync($"triggers 'ScoreOnBlobDrop', attempt {attempt} of 2", Patience);
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        output.WriteLine($"{file}: host killed in attempt {attempt}");
        await RestartAsync();
    }

    private async Task RestartAsync()
    {
        await _host!.KillAsync();
        _killedOutput = _host.Output;
        await _host.DisposeAsync();
        _host = await StartAsync();
    }

    private Task<HostProcess> StartAsync() => HostProcess.StartAsync(_settings, Startup, HostProcess.RealApp);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
