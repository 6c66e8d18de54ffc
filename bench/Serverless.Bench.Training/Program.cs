// Training memory: one trial (what one RunTrial activity does) on a generated 20-column CSV of N rows, ingested
// through the real snapshot path, then the evaluation step's cross-validation of it. Reports the wall time of each
// and the process's peak working set, which bounds the dataset size an instance of a given memory can train on.
//   dotnet run -c Release --project bench/Serverless.Bench.Training -- [rows] [trainer]
using System.Diagnostics;
using System.Globalization;
using Azure.Storage.Blobs;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Evaluation;
using Serverless.Pipeline.Training;
using Serverless.Testing;

var rows = args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
var trainer = args.Length > 1 ? args[1] : "LightGbm";
var work = Directory.CreateTempSubdirectory("training-bench-").FullName;
var azurite = new AzuriteFixture();
await azurite.InitializeAsync();
try
{
    var path = Path.Combine(work, "train.csv");
    SyntheticData.WriteWideCsv(path, rows, seed: 1, withLabel: true);
    var ingestor = new DatasetIngestor(new BlobContainerClient(azurite.ConnectionString, "bench-snapshots"), TimeProvider.System);
    DatasetSnapshot snapshot;
    await using (var input = File.OpenRead(path))
    {
        snapshot = await ingestor.IngestAsync(input, "train.csv", new IngestOptions(Label: "label"), CancellationToken.None);
    }

    var plan = FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, "label");
    var configuration = new TrialConfiguration(trainer, new Dictionary<string, double>());
    GC.Collect();
    var baseline = Process.GetCurrentProcess().WorkingSet64;
    var clock = Stopwatch.StartNew();
    TrialResult trial;
    await using (var data = await ingestor.OpenDataAsync(snapshot, CancellationToken.None))
    {
        trial = new TrialRunner().Run(data, snapshot, plan, configuration);
    }

    var trialTime = clock.Elapsed;
    var trialPeak = Process.GetCurrentProcess().PeakWorkingSet64;
    Console.WriteLine($"| trial, {trainer} | {rows:N0} rows, {new FileInfo(path).Length / 1048576.0:0} MiB | {trialTime.TotalSeconds:0.0} s | {trial.PrimaryMetric} {trial.PrimaryValue:0.0000} | working set before {baseline / 1048576.0:0} MiB, peak {trialPeak / 1048576.0:0} MiB |");
    clock.Restart();
    IReadOnlyDictionary<string, MetricSummary> crossValidation;
    await using (var data = await ingestor.OpenDataAsync(snapshot, CancellationToken.None))
    {
        crossValidation = new ModelEvaluator().CrossValidate(data, plan, configuration, folds: 3);
    }

    Console.WriteLine($"| 3-fold cross-validation, {trainer} | {rows:N0} rows | {clock.Elapsed.TotalSeconds:0.0} s | {trial.PrimaryMetric} {crossValidation[trial.PrimaryMetric].Mean:0.0000} | peak {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:0} MiB |");
}
finally
{
    await azurite.DisposeAsync();
    Directory.Delete(work, recursive: true);
}
