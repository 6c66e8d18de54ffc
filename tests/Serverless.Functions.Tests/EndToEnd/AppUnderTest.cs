using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Serverless.Functions.Hosting;
using Serverless.Functions.Triggers.Blob;
using Serverless.Functions.Triggers.Durable;
using Serverless.Functions.Triggers.Http;
using Serverless.Functions.Triggers.Queue;
using Serverless.Functions.Triggers.Timer;
using Serverless.Pipeline.Tracking;
using Serverless.Testing;

namespace Serverless.Functions.Tests.EndToEnd;

/// <summary>
/// The app as a user drives it over HTTP, wherever it runs (in the test process, or a host process a test kills):
/// upload a dataset, start a training run and follow its status URL, drop a file to score and read its summary.
/// </summary>
/// <param name="http">A client of the app's base address that sends the function key.</param>
/// <param name="connectionString">The app's storage, for what a user reads straight from it.</param>
/// <param name="model">The model this test trains and scores with.</param>
/// <param name="output">The scoring output container (<c>Pipeline__ScoringOutputContainer</c>).</param>
internal sealed class AppUnderTest(HttpClient http, string connectionString, string model, string output)
{
    /// <summary>Every function class of the app.</summary>
    public static readonly Type[] Functions =
    [
        typeof(Health), typeof(ScoreOnBlobDrop), typeof(RetrainOnSchedule), typeof(ScoringFiles), typeof(TrainingRuns), typeof(Models),
        typeof(RegistryApi), typeof(RunsApi), typeof(MlflowApi), typeof(ApiDocument), typeof(Dashboard), typeof(FailPoisonedScoring),
        typeof(TrainModelOrchestrator), typeof(TrainingActivities), typeof(ScoreBatchOrchestrator), typeof(ScoringActivities),
    ];

    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The whole app on the local host in this process, on <paramref name="connectionString"/>'s storage, with its own task
    /// hub and host id and scoring outputs in <paramref name="output"/>; its client sends the function key.
    /// <paramref name="settings"/> adds or overrides settings.
    /// </summary>
    public static async Task<TestFunctionsHost> StartHostAsync(string connectionString, string output, IDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = connectionString,
            ["RetrainSchedule"] = "0 0 3 * * *",
            ["TASKHUB_NAME"] = $"App{Guid.NewGuid():N}"[..20],
            ["Pipeline:ScoringOutputContainer"] = output,
            ["LocalHost:HostId"] = $"app-{Guid.NewGuid():N}"[..20],
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var host = await TestFunctionsHost.StartAsync(Functions, values, builder => builder.AddServerlessPipeline());
        host.Http.DefaultRequestHeaders.Add("x-functions-key", TestFunctionsHost.FunctionKey);
        return host;
    }
    public static readonly TimeSpan TrainingPatience = TimeSpan.FromMinutes(3);

    public HttpClient Http => http;

    public string Model => model;

    public async Task UploadDatasetAsync(string csv)
    {
        using var uploaded = await http.PutAsync($"api/datasets/{model}.csv", new StringContent(csv));
        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
    }

    public async Task<JsonElement> TrainAsync(string csv, bool earlyTermination, object? limits = null) =>
        await WaitAsync(await StartTrainingAsync(csv, earlyTermination, requireApproval: false, limits), s => s.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed" or "Terminated");

    /// <summary>Uploads <paramref name="csv"/> and starts a 6-trial run on it; the status URL.</summary>
    public async Task<string> StartTrainingAsync(string csv, bool earlyTermination, bool requireApproval, object? limits = null)
    {
        await UploadDatasetAsync(csv);
        var request = new Dictionary<string, object?>
        {
            ["dataset"] = $"{model}.csv",
            ["label"] = "churned",
            ["sweep"] = new { sampler = "sobol", maxTrials = 6, trainers = new[] { "LightGbm", "Lbfgs" } },
            ["maxConcurrentTrials"] = 3,
            ["folds"] = 3,
            ["earlyTermination"] = earlyTermination ? new { policy = "median", steps = 2 } : null,
            ["requireApproval"] = requireApproval,
            ["limits"] = limits,
        };
        using var started = await http.PostAsJsonAsync($"api/models/{model}/train", request);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        return (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("statusQueryGetUri").GetString()!;
    }

    /// <summary>
    /// Polls a status URL until <paramref name="until"/> holds. The URL carries its own (system) key; a function key in
    /// a header would take precedence and not open it. As in Durable Functions, the answer is 202 while running, 200
    /// when completed, 400 when failed; a host that is down or restarting is polled again.
    /// </summary>
    public static async Task<JsonElement> WaitAsync(string statusUrl, Func<JsonElement, bool> until, TimeSpan? patience = null)
    {
        using var plain = new HttpClient();
        return await Eventually.PollAsync(
            async () =>
            {
                try
                {
                    using var response = await plain.GetAsync(statusUrl);
                    return response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted or HttpStatusCode.BadRequest
                        ? await response.Content.ReadFromJsonAsync<JsonElement>()
                        : (JsonElement?)null;
                }
                catch (HttpRequestException)
                {
                    return null;
                }
            },
            s => s is { } status && until(status),
            patience ?? TrainingPatience,
            "the training run to reach the state awaited") ?? default;
    }

    /// <summary>Puts <paramref name="csv"/> through the upload route under this model (or at <paramref name="file"/> as given); its summary once it has an outcome.</summary>
    public async Task<JsonElement> ScoreAsync(string file, string csv, bool prefix = true)
    {
        var input = prefix ? $"{model}/{file}" : file;
        using var accepted = await http.PutAsync($"api/scoring/inputs/{input}", new StringContent(csv));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        return await ReadSummaryAsync(input.Split('?')[0]);
    }

    /// <summary>The input's summary once it has an outcome (not <c>pending</c> or <c>scoring</c>).</summary>
    public async Task<JsonElement> ReadSummaryAsync(string name, TimeSpan? patience = null)
    {
        var summary = new BlobContainerClient(connectionString, output).GetBlobClient($"{name}/summary.json");
        var content = await Eventually.PollAsync(
            async () =>
            {
                try
                {
                    return (await summary.DownloadContentAsync()).Value.Content.ToString();
                }
                catch (RequestFailedException ex) when (ex.Status == 404)
                {
                    return null;
                }
            },
            c => c is not null && JsonDocument.Parse(c).RootElement.GetProperty("status").GetString() is not ("pending" or "scoring"),
            patience ?? Patience,
            $"{output}/{name}/summary.json");
        return JsonDocument.Parse(content!).RootElement.Clone();
    }

    /// <summary>The trials a run tracked, in order.</summary>
    public async Task<List<TrackedRun>> TrialRunsAsync(string runId)
    {
        var tracker = new RunTracker(new TableServiceClient(connectionString), TimeProvider.System);
        var runs = new List<TrackedRun>();
        for (var i = 0; i < 100; i++)
        {
            if (await tracker.GetAsync(model, TrainingActivities.TrialRunId(runId, i), CancellationToken.None) is not { } run)
            {
                break;
            }

            runs.Add(run);
        }

        return runs;
    }
}
