// Quality: per dataset and per split (bench/quality/peer.py writes five seeded splits), the sweep the app runs —
// SweepPlanner's default trainers and search spaces, the Bayesian sampler in batches of 4, 24 trials, each trial
// validated as TrialRunner does (10-fold cross-validation on datasets this small) — then the three best compared by
// 5-fold cross-validation, the winner refitted on the whole train split and evaluated once on the test split the
// scikit-learn peers used.
// Run through bench/quality/run.sh.
//   dotnet run -c Release --project bench/Serverless.Bench.Quality -- DATA_DIR
using System.Globalization;
using System.Text.Json;
using Azure.Storage.Blobs;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Evaluation;
using Serverless.Pipeline.Training;
using Serverless.Testing;

var dataDir = args.Length > 0 ? args[0] : throw new ArgumentException("Pass the folder peer.py wrote.");
using var peer = JsonDocument.Parse(File.ReadAllText(Path.Combine(dataDir, "peer.json")));
var azurite = new AzuriteFixture();
await azurite.InitializeAsync();
try
{
    var ingestor = new DatasetIngestor(new BlobContainerClient(azurite.ConnectionString, "quality-snapshots"), TimeProvider.System);
    var spec = new SweepSpec(Sampler: SamplingAlgorithm.Bayesian, MaxTrials: 24, Seed: 1);
    const int Batch = 4;

    Console.WriteLine("| dataset | rows × features | test metric | this project, mean ± sd (per split) | HistGradientBoosting, mean ± sd | linear peer, mean ± sd | chosen trainers |");
    Console.WriteLine("|---|---|---|---|---|---|---|");
    foreach (var dataset in peer.RootElement.EnumerateObject())
    {
        var info = dataset.Value;
        var label = info.GetProperty("label").GetString()!;
        var ours = new List<double>();
        var peers = new List<double[]>();
        var chosen = new List<string>();
        foreach (var split in info.GetProperty("splits").EnumerateObject())
        {
            var trainPath = Path.Combine(dataDir, dataset.Name, split.Name, "train.csv");
            DatasetSnapshot snapshot;
            await using (var train = File.OpenRead(trainPath))
            {
                snapshot = await ingestor.IngestAsync(train, $"{dataset.Name}/{split.Name}/train.csv", new IngestOptions(Label: label), CancellationToken.None);
            }

            var plan = FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, label);
            var goal = TrialRunner.Goal(TrialRunner.PrimaryMetric(plan.Task));
            var observations = new List<TrialObservation>();
            var results = new List<TrialResult>();
            for (var start = 0; start < spec.MaxTrials; start += Batch)
            {
                foreach (var trial in SweepPlanner.Suggest(spec, plan.Task, start, Batch, observations, goal))
                {
                    await using var train = File.OpenRead(trainPath);
                    var result = new TrialRunner().Run(train, snapshot, plan, trial.Configuration);
                    observations.Add(new TrialObservation(trial.Configuration.Trainer, trial.Point, result.PrimaryValue));
                    results.Add(result);
                }
            }

            // The best three by validation are compared by 5-fold cross-validation on the train split, as the app's
            // evaluation step does; the winner is refitted on the whole train split, as the app and the peers do, then tested once.
            var primary = TrialRunner.PrimaryMetric(plan.Task);
            var best = results.OrderByDescending(r => goal == MetricGoal.Maximize ? r.PrimaryValue : -r.PrimaryValue).Take(3)
                .Select(r =>
                {
                    using var train = File.OpenRead(trainPath);
                    return (Result: r, Cv: new ModelEvaluator().CrossValidate(train, plan, r.Configuration)[primary].Mean);
                })
                .OrderByDescending(c => goal == MetricGoal.Maximize ? c.Cv : -c.Cv).First().Result;
            TrialResult refit;
            await using (var train = File.OpenRead(trainPath))
            {
                refit = new TrialRunner().Run(train, snapshot, plan, best.Configuration, validationFraction: 0, holdoutFraction: 0);
            }

            await using var test = File.OpenRead(Path.Combine(dataDir, dataset.Name, split.Name, "test.csv"));
            var metrics = TrialRunner.Evaluate(refit.Model, plan, test);
            ours.Add(info.GetProperty("metric").GetString() switch
            {
                "auc" => metrics["auc"],
                "accuracy" => metrics["microAccuracy"],
                _ => metrics["rSquared"],
            });
            peers.Add([.. split.Value.EnumerateObject().Select(p => p.Value.GetDouble())]);
            chosen.Add(best.Configuration.Trainer);
        }

        var metric = info.GetProperty("metric").GetString() switch { "auc" => "AUC", "accuracy" => "accuracy", _ => "R²" };
        Console.WriteLine($"| {dataset.Name} | {info.GetProperty("rows").GetInt32()} × {info.GetProperty("features").GetInt32()} | {metric} | **{Summary(ours)}** ({string.Join(", ", ours.Select(Format))}) | {Summary(peers.Select(p => p[0]))} ({string.Join(", ", peers.Select(p => Format(p[0])))}) | {Summary(peers.Select(p => p[1]))} ({string.Join(", ", peers.Select(p => Format(p[1])))}) | {string.Join(", ", chosen)} |");
    }
}
finally
{
    await azurite.DisposeAsync();
}

static string Format(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

static string Summary(IEnumerable<double> values)
{
    var list = values.ToList();
    var mean = list.Average();
    var sd = Math.Sqrt(list.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, list.Count - 1));
    return $"{Format(mean)} ± {Format(sd)}";
}
