using System.Globalization;
using System.Text;
using Azure.Storage.Blobs;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Scoring;
using Serverless.Pipeline.Tests.Data;
using Serverless.Pipeline.Training;
using Serverless.Testing;

namespace Serverless.Pipeline.Tests.Scoring;

/// <summary>Prediction files state every class's probability, under header names safe for CSV, multiclass and binary.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ClassProbabilityTests(AzuriteFixture azurite)
{
    [Theory]
    [InlineData("LightGbm")]
    [InlineData("Lbfgs")]
    [InlineData(EnsembleSelection.Trainer)]
    public async Task Multiclass_OneColumnPerClass_SumToOne_ArgmaxIsThePrediction(string trainer)
    {
        // Classes that need escaping in a header, first seen in an order that is not their sorted order.
        var csv = SyntheticData.MulticlassCsv(300).Replace("virginica", "virg inica", StringComparison.Ordinal).Replace("setosa", "set,osa", StringComparison.Ordinal)
            .Replace(",set,osa\n", ",\"set,osa\"\n", StringComparison.Ordinal);
        var (scorer, plan) = await TrainAsync(csv, "species", trainer, positiveClass: null);

        var lines = Score(scorer, "x1,x2\n1,0\n4,0\n2,4\n");

        Assert.Equal(["set,osa", "versicolor", "virg inica"], plan.Classes);
        Assert.Equal("row,key,prediction,probability_set_osa,probability_versicolor,probability_virg_inica", lines[0]);
        string[] expected = ["\"set,osa\"", "versicolor", "virg inica"];
        for (var i = 1; i < lines.Length; i++)
        {
            var cells = lines[i].Split(',');
            var probabilities = cells[^3..].Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(1, probabilities.Sum(), 3);
            Assert.Equal(expected[i - 1], string.Join(',', cells[2..^3]));
            Assert.Equal(i - 1, Array.IndexOf(probabilities, probabilities.Max()));
        }
    }

    [Fact]
    public async Task Binary_PositiveClassRequested_ItsProbabilityIsLast()
    {
        var csv = SyntheticData.CustomersCsv(400, seed: 1, withLabel: true, badEvery: 0);
        var (scorer, plan) = await TrainAsync(csv, "churned", "LightGbm", positiveClass: "no");

        var lines = Score(scorer, SyntheticData.CustomersCsv(50, seed: 2, withLabel: false, badEvery: 0));

        Assert.Equal("no", plan.PositiveClass);
        Assert.StartsWith("row,key,prediction,probability_yes,probability_no", lines[0], StringComparison.Ordinal);
        foreach (var line in lines[1..])
        {
            var cells = line.Split(',');
            var (yes, no) = (double.Parse(cells[^2], CultureInfo.InvariantCulture), double.Parse(cells[^1], CultureInfo.InvariantCulture));
            Assert.Equal(1, yes + no, 5);
            Assert.Equal(no > 0.5 ? "no" : "yes", cells[2]);
        }
    }

    private async Task<(BatchScorer Scorer, FeaturizationPlan Plan)> TrainAsync(string csv, string label, string trainer, string? positiveClass)
    {
        var ingestor = new DatasetIngestor(new BlobContainerClient(azurite.ConnectionString, $"cp-{Guid.NewGuid():N}"[..24]), TimeProvider.System);
        var snapshot = await ingestor.IngestAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "train.csv", new IngestOptions(Label: label), CancellationToken.None);
        var plan = FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, label, positiveClass: positiveClass);
        var trees = new TrialConfiguration("LightGbm", new Dictionary<string, double> { ["numberOfIterations"] = 30 });
        var configuration = trainer switch
        {
            "LightGbm" => trees,
            EnsembleSelection.Trainer => new TrialConfiguration(trainer, new Dictionary<string, double>()) { Members = [new(trees, 0.4), new(new("Lbfgs", new Dictionary<string, double>()), 0.6)] },
            _ => new TrialConfiguration(trainer, new Dictionary<string, double>()),
        };
        var trial = new TrialRunner().Run(new MemoryStream(Encoding.UTF8.GetBytes(csv)), snapshot, plan, configuration);
        return (new BatchScorer(new MemoryStream(trial.Model), plan), plan);
    }

    private static string[] Score(BatchScorer scorer, string csv)
    {
        var header = csv[..csv.IndexOf('\n', StringComparison.Ordinal)];
        var body = Encoding.UTF8.GetBytes(csv[(header.Length + 1)..]);
        using var predictions = new StringWriter();
        using var errors = new StringWriter();
        scorer.Score(new MemoryStream(body), header, 2, null, predictions, errors);
        Assert.Equal(string.Empty, errors.ToString());
        return [scorer.PredictionHeader(null), .. predictions.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }
}
