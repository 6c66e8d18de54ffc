// Quality: the app with its defaults, against scikit-learn's defaults, on the datasets and seeded splits that
// bench/quality/prepare.py writes. Per split, as a user would: PUT the train split into the datasets container, POST a
// training run naming only the dataset and the label, wait for it, then test the registered version once on the test
// split. Also LightGBM with its defaults through ML.NET, fitted on the whole train split: the same-library baseline.
// QUALITY_REQUEST, when set, is JSON merged into every request (for example {"sweep":{"maxTrials":16}}): a way to try
// settings other than the defaults; the figures in docs/BENCHMARKS.md are without it.
// Run through bench/quality/run.sh.
//   dotnet run -c Release --project bench/Serverless.Bench.Quality -- DATA_DIR [NAME ...]
using System.Globalization;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Bench.Quality;
using Serverless.Functions.Hosting;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Training;
using Serverless.Testing;

var dataDir = args.Length > 0 ? args[0] : throw new ArgumentException("Pass the folder prepare.py wrote.");
var only = args.Skip(1).ToHashSet(StringComparer.Ordinal);
using var peer = JsonDocument.Parse(File.ReadAllText(Path.Combine(dataDir, "peer.json")));
var azurite = new AzuriteFixture();
await azurite.InitializeAsync();
try
{
    await using var host = await TestFunctionsHost.StartAsync(
        [.. typeof(ServerlessPipelineExtensions).Assembly.GetTypes().Where(t => t.GetMethods().Any(m => m.GetCustomAttribute<FunctionAttribute>() is not null))],
        new Dictionary<string, string?> { ["AzureWebJobsStorage"] = azurite.ConnectionString, ["RetrainSchedule"] = "0 0 3 1 1 *", ["TASKHUB_NAME"] = "Quality", ["LocalHost:HostId"] = "quality" },
        builder => builder.AddServerlessPipeline());
    host.Http.DefaultRequestHeaders.Add("x-functions-key", TestFunctionsHost.FunctionKey);
    var registry = host.Services.GetRequiredService<PipelineStore>().Registry;
    var durable = host.Services.GetRequiredService<DurableTaskClient>();
    var ingestor = new DatasetIngestor(new BlobContainerClient(azurite.ConnectionString, "quality-snapshots"), TimeProvider.System);
    var rows = new List<DatasetResult>();
    foreach (var dataset in peer.RootElement.EnumerateObject().Where(d => only.Count == 0 || only.Contains(d.Name)))
    {
        var info = dataset.Value;
        var label = info.GetProperty("label").GetString()!;
        var metric = info.GetProperty("metric").GetString()!;
        var splits = new List<SplitResult>();
        foreach (var split in info.GetProperty("splits").EnumerateObject())
        {
            var folder = Path.Combine(dataDir, dataset.Name, split.Name);
            var model = $"{dataset.Name.Replace('_', '-')}-{split.Name}";
            Memory.ResetPeak();
            var (version, seconds, trainer) = await TrainAsync(host.Http, durable, model, Path.Combine(folder, "train.csv"), label);
            var peakMiB = Memory.PeakMiB();
            var registered = await registry.GetVersionAsync(model, version, CancellationToken.None)
                ?? throw new InvalidOperationException($"{model} version {version} is not in the registry.");
            var artifact = await registry.DownloadArtifactAsync(registered, CancellationToken.None);
            var ours = Test(artifact, registered.Plan, folder, metric);
            var baseline = await BaselineAsync(ingestor, registered.Plan, folder, dataset.Name, split.Name, label, metric);
            var peers = split.Value.EnumerateObject().ToDictionary(
                p => p.Value.GetProperty("peer").GetString()!, p => (p.Value.GetProperty("value").GetDouble(), p.Value.GetProperty("seconds").GetDouble()));
            splits.Add(new SplitResult(split.Name, ours, seconds, peakMiB, trainer, baseline, peers));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{dataset.Name} {split.Name}: app {ours:0.0000} ({trainer}, {seconds:0.0} s, {peakMiB:0} MiB), LightGBM defaults {baseline:0.0000}, peers {string.Join(", ", peers.Select(p => $"{p.Key} {p.Value.Item1:0.0000}"))}"));
        }

        rows.Add(new DatasetResult(dataset.Name, info, splits));
    }

    Report.Write(rows);
}
finally
{
    await azurite.DisposeAsync();
}

// One training run through the HTTP API with only the dataset and the label; the version it registered, the run's
// time from created to completed (as the task hub recorded it), and the trainer it chose.
static async Task<(int Version, double Seconds, string Trainer)> TrainAsync(HttpClient http, DurableTaskClient durable, string model, string train, string label)
{
    using (var content = new StreamContent(File.OpenRead(train)))
    {
        (await http.PutAsync($"api/datasets/{model}.csv", content)).EnsureSuccessStatusCode();
    }

    var request = new System.Text.Json.Nodes.JsonObject { ["dataset"] = $"{model}.csv", ["label"] = label };
    if (Environment.GetEnvironmentVariable("QUALITY_REQUEST") is { Length: > 0 } extra)
    {
        foreach (var (key, value) in System.Text.Json.Nodes.JsonNode.Parse(extra)!.AsObject())
        {
            request[key] = value?.DeepClone();
        }
    }

    using var started = await http.PostAsJsonAsync($"api/models/{model}/train", request);
    var runId = (await started.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    var run = await durable.WaitForInstanceCompletionAsync(runId, getInputsAndOutputs: true).WaitAsync(TimeSpan.FromMinutes(30));
    if (run.RuntimeStatus != OrchestrationRuntimeStatus.Completed)
    {
        throw new InvalidOperationException($"The training run of {model} ended {run.RuntimeStatus}: {run.FailureDetails?.ErrorMessage}");
    }

    var result = run.ReadOutputAs<JsonElement>();
    return (result.GetProperty("version").GetInt32(), (run.LastUpdatedAt - run.CreatedAt).TotalSeconds, result.GetProperty("chosen").GetProperty("trainer").GetString()!);
}

// The benchmark's metric of a saved model on the split's test.csv.
static double Test(byte[] artifact, FeaturizationPlan plan, string folder, string metric)
{
    using var test = File.OpenRead(Path.Combine(folder, "test.csv"));
    return TrialRunner.Evaluate(artifact, plan, test)[metric];
}

// LightGBM with ML.NET's defaults on the app's featurization, fitted on the whole train split.
static async Task<double> BaselineAsync(DatasetIngestor ingestor, FeaturizationPlan plan, string folder, string name, string split, string label, string metric)
{
    var trainPath = Path.Combine(folder, "train.csv");
    DatasetSnapshot snapshot;
    await using (var train = File.OpenRead(trainPath))
    {
        snapshot = await ingestor.IngestAsync(train, $"{name}/{split}/train.csv", new IngestOptions(Label: label), CancellationToken.None);
    }

    await using var data = File.OpenRead(trainPath);
    var fitted = new TrialRunner().Run(data, snapshot, plan, new TrialConfiguration("LightGbm", new Dictionary<string, double>()), validationFraction: 0, holdoutFraction: 0);
    return Test(fitted.Model, plan, folder, metric);
}
