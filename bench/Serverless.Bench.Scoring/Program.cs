// Batch scoring, CSV in -> CSV out, with a 20-column model (15 numeric, 5 categorical) trained with LightGBM (the
// goal's subject), then the same with an L-BFGS logistic regression (the pipeline's cost when the model is cheap).
//   dotnet run -c Release --project bench/Serverless.Bench.Scoring -- [rows]
// Reports rows/s for one part (one core) and for two parts scored in parallel (this machine's two cores), and the
// process's peak working set, which includes the runtime and ML.NET themselves.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Azure.Storage.Blobs;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Scoring;
using Serverless.Pipeline.Training;
using Serverless.Testing;

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
    foreach (var trainer in new[] { "LightGbm", "Lbfgs" })
    {
    TrialResult trained;
    await using (var train = File.OpenRead(trainPath))
    {
        trained = new TrialRunner().Run(train, snapshot, plan, new TrialConfiguration(trainer, new Dictionary<string, double>()));
    }

    Console.WriteLine($"Model: {trainer}, {plan.Numeric.Count} numeric + {plan.Categorical.Count} categorical columns, AUC {trained.Metrics["auc"]:0.000}. Input: {rows:N0} rows, {size / 1048576.0:0} MiB.");
    foreach (var parts in new[] { 1, 2 })
    {
        GC.Collect();
        var clock = Stopwatch.StartNew();
        IReadOnlyList<CsvRange> ranges;
        string header;
        await using (var input = File.OpenRead(inputPath))
        {
            (header, ranges) = CsvRanges.Split(input, parts);
        }

        var counts = new ScoringCounts[ranges.Count];
        Parallel.For(0, ranges.Count, new ParallelOptions { MaxDegreeOfParallelism = parts }, i =>
        {
            var range = ranges[i];
            var scorer = new BatchScorer(new MemoryStream(trained.Model), plan);
            using var input = File.OpenRead(inputPath);
            input.Position = range.Offset;
            using var part = new BoundedStream(input, range.Length);
            using var predictions = new StreamWriter(Path.Combine(work, $"predictions-{parts}-{i}.csv"), false, new UTF8Encoding(false), 1 << 16);
            using var errors = new StreamWriter(Path.Combine(work, $"errors-{parts}-{i}.csv"));
            counts[i] = scorer.Score(part, header, range.FirstRow, "id", predictions, errors);
        });
        clock.Stop();
        var total = ScoringCounts.Sum(counts);
        Console.WriteLine($"| {trainer} | {parts} part(s) | {total.RowsScored:N0} scored, {total.RowsRejected:N0} rejected | {clock.Elapsed.TotalSeconds:0.0} s | {total.RowsIn / clock.Elapsed.TotalSeconds:N0} rows/s | peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:0} MiB |");
    }
    }
}
finally
{
    await azurite.DisposeAsync();
    Directory.Delete(work, recursive: true);
}
