// Quality: a seeded random sweep (LightGBM, FastTree, L-BFGS, SDCA) per dataset, the best trial by its validation
// metric, refitted on the whole train split and evaluated once on the test split that scikit-learn's peer used. Run through bench/quality/run.sh.
//   dotnet run -c Release --project bench/Serverless.Bench.Quality -- DATA_DIR
using System.Globalization;
using System.Text.Json;
using Azure.Storage.Blobs;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Training;
using Serverless.Testing;

var dataDir = args.Length > 0 ? args[0] : throw new ArgumentException("Pass the folder peer.py wrote.");
using var peer = JsonDocument.Parse(File.ReadAllText(Path.Combine(dataDir, "peer.json")));
var azurite = new AzuriteFixture();
await azurite.InitializeAsync();
try
{
    var ingestor = new DatasetIngestor(new BlobContainerClient(azurite.ConnectionString, "quality-snapshots"), TimeProvider.System);
    var spaces = new[]
    {
        (Space: SearchSpace.Parse("LightGbm", new Dictionary<string, string> { ["numberOfLeaves"] = "quniform(4, 32, 1)", ["learningRate"] = "loguniform(-4, -1)", ["numberOfIterations"] = "quniform(50, 400, 10)", ["minimumExampleCountPerLeaf"] = "quniform(2, 20, 1)" }), Trials: 16),
        (Space: SearchSpace.Parse("FastTree", new Dictionary<string, string> { ["numberOfLeaves"] = "quniform(4, 32, 1)", ["learningRate"] = "loguniform(-4, -1)", ["numberOfTrees"] = "quniform(50, 400, 10)", ["minimumExampleCountPerLeaf"] = "quniform(2, 20, 1)" }), Trials: 8),
        (Space: SearchSpace.Parse("Lbfgs", new Dictionary<string, string> { ["l2Regularization"] = "loguniform(-8, 1)", ["l1Regularization"] = "loguniform(-8, 0)" }), Trials: 8),
        (Space: SearchSpace.Parse("Sdca", new Dictionary<string, string> { ["l2Regularization"] = "loguniform(-8, 0)" }), Trials: 4),
    };

    Console.WriteLine("| dataset | task | rows × features | metric (test) | this project (best trial) | HistGradientBoosting | linear peer |");
    Console.WriteLine("|---|---|---|---|---|---|---|");
    foreach (var dataset in peer.RootElement.EnumerateObject())
    {
        var info = dataset.Value;
        var label = info.GetProperty("label").GetString()!;
        var trainPath = Path.Combine(dataDir, dataset.Name, "train.csv");
        DatasetSnapshot snapshot;
        await using (var train = File.OpenRead(trainPath))
        {
            snapshot = await ingestor.IngestAsync(train, $"{dataset.Name}/train.csv", new IngestOptions(Label: label), CancellationToken.None);
        }

        var plan = FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, label);
        TrialResult? best = null;
        foreach (var (space, trials) in spaces)
        {
            foreach (var configuration in Samplers.Random(space, trials, seed: 1))
            {
                await using var train = File.OpenRead(trainPath);
                var result = new TrialRunner().Run(train, snapshot, plan, configuration);
                if (best is null || result.PrimaryValue > best.PrimaryValue)
                {
                    best = result;
                }
            }
        }

        // The chosen configuration is refitted on the whole train split, as the peers are, then tested once.
        TrialResult refit;
        await using (var train = File.OpenRead(trainPath))
        {
            refit = new TrialRunner().Run(train, snapshot, plan, best!.Configuration, validationFraction: 0);
        }

        await using var test = File.OpenRead(Path.Combine(dataDir, dataset.Name, "test.csv"));
        var metrics = TrialRunner.Evaluate(refit.Model, plan, test);
        var (metric, ours) = info.GetProperty("metric").GetString() switch
        {
            "auc" => ("AUC", metrics["auc"]),
            "accuracy" => ("accuracy", metrics["microAccuracy"]),
            _ => ("R²", metrics["rSquared"]),
        };
        var peers = info.GetProperty("peers").EnumerateObject().Select(p => p.Value.GetDouble()).ToArray();
        var parameters = string.Join(", ", best.Configuration.Parameters.Select(p => $"{p.Key}={p.Value.ToString("0.####", CultureInfo.InvariantCulture)}"));
        Console.WriteLine($"| {dataset.Name} | {plan.Task} | {info.GetProperty("rows").GetInt32()} × {info.GetProperty("features").GetInt32()} | {metric} | **{ours:0.0000}** ({best.Configuration.Trainer}: {parameters}) | {peers[0]:0.0000} | {peers[1]:0.0000} |");
    }
}
finally
{
    await azurite.DisposeAsync();
}
