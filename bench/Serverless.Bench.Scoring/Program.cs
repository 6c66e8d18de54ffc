// Batch scoring, CSV in -> CSV out, with a 20-column model (15 numeric, 5 categorical) trained with LightGBM (the
// goal's subject), then the same with an L-BFGS logistic regression (the pipeline's cost when the model is cheap),
// then their voting ensemble (half each: what an ensemble costs, scored through ML.NET's engine).
//   dotnet run -c Release --project bench/Serverless.Bench.Scoring -- [rows]
// Reports rows/s on one core and on all of this machine's cores (the scoring pipeline's workers), and the process's
// peak working set, which includes the runtime and ML.NET themselves.
// The real-data case (the telco churn table through the app, next to scikit-learn) is bench/telco/run.sh.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Azure.Storage.Blobs;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Scoring;
using Serverless.Pipeline.Training;
using Serverless.Testing;

if (args is ["telco", var folder, ..])
{
    await Telco.RunAsync(folder, args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3);
    return;
}

var rows = args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
var work = Directory.CreateTempSubdirectory("scoring-bench-").FullName;
var azurite = new AzuriteFixture();
await azurite.InitializeAsync();
try
{
    var trainPath = Path.Combine(work, "train.csv");
    SyntheticData.WriteWideCsv(trainPath, 20_000, seed: 1, withLabel: true);
    var ingestor = new DatasetIngestor(new BlobContainerClient(azurite.ConnectionString, "bench-snapshots"), TimeProvider.System);
    DatasetSnapshot snapshot;
    await using (var train = File.OpenRead(trainPath))
    {
        snapshot = await ingestor.IngestAsync(train, "train.csv", new IngestOptions(Label: "label"), CancellationToken.None);
    }

    var plan = FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, "label");
    var inputPath = Path.Combine(work, "input.csv");
    SyntheticData.WriteWideCsv(inputPath, rows, seed: 2, withLabel: false);
    var size = new FileInfo(inputPath).Length;

    // The tree model is the goal's subject; the linear one shows what the pipeline costs when the model is cheap.
    foreach (var trainer in new[] { "LightGbm", "Lbfgs", EnsembleSelection.Trainer })
    {
    TrialResult trained;
    await using (var train = File.OpenRead(trainPath))
    {
        var members = new EnsembleMember[] { new(new("LightGbm", new Dictionary<string, double>()), 0.5), new(new("Lbfgs", new Dictionary<string, double>()), 0.5) };
        var configuration = new TrialConfiguration(trainer, new Dictionary<string, double>()) { Members = trainer == EnsembleSelection.Trainer ? members : null };
        trained = new TrialRunner().Run(train, snapshot, plan, configuration);
    }

    Console.WriteLine($"Model: {trainer}, {plan.Numeric.Count} numeric + {plan.Categorical.Count} categorical columns, AUC {trained.Metrics["auc"]:0.000}. Input: {rows:N0} rows, {size / 1048576.0:0} MiB.");
    var scorer = new BatchScorer(new MemoryStream(trained.Model), plan);
    var header = File.ReadLines(inputPath).First();
    foreach (var cores in new[] { 1, Environment.ProcessorCount })
    {
        GC.Collect();
        var clock = Stopwatch.StartNew();
        ScoringCounts total;
        await using (var input = new FileStream(inputPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous))
        await using (var predictions = new FileStream(Path.Combine(work, "predictions.csv"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
        await using (var errors = new FileStream(Path.Combine(work, "errors.csv"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
        {
            input.Position = Encoding.UTF8.GetByteCount(header + "\n");
            total = await scorer.ScoreAsync(input, header, 2, "id", predictions, errors, cores, CancellationToken.None);
        }

        clock.Stop();
        Console.WriteLine($"| {trainer} | {cores} core(s) | {total.RowsScored:N0} scored, {total.RowsRejected:N0} rejected | {clock.Elapsed.TotalSeconds:0.0} s | {total.RowsIn / clock.Elapsed.TotalSeconds:N0} rows/s | peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:0} MiB |");
    }
    }
}
finally
{
    await azurite.DisposeAsync();
    Directory.Delete(work, recursive: true);
}
