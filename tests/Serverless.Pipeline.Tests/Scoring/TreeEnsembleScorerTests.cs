using System.Text;
using Azure.Storage.Blobs;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Scoring;
using Serverless.Pipeline.Tests.Data;
using Serverless.Pipeline.Training;
using Serverless.Testing;

namespace Serverless.Pipeline.Tests.Scoring;

/// <summary>The QuickScorer tree evaluator against ML.NET's own, on real trained ensembles.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class TreeEnsembleScorerTests(AzuriteFixture azurite)
{
    /// <summary>
    /// The tree evaluator against ML.NET's engine across trainers, tasks and tree sizes (up to 63 leaves), on rows with
    /// missing values (imputed before the trees) and on the training rows themselves (values on split thresholds).
    /// </summary>
    [Theory]
    [InlineData("LightGbm", "y", 63, 40)]
    [InlineData("FastTree", "y", 16, 60)]
    [InlineData("FastTree", "churned", 8, 50)]
    [InlineData("LightGbm", "churned", 2, 20)]
    public async Task TreeEvaluator_MatchesMlNetEngine(string trainer, string label, int leaves, int iterations)
    {
        var (data, plan, model) = await TrainAsync(trainer, label, leaves, iterations);
        var scorer = new BatchScorer(new MemoryStream(model), plan);
        var rows = Rows(data, plan);

        var quick = scorer.CreatePredictor();
        var mlNet = scorer.CreateMlNetPredictor();

        Assert.True(scorer.EvaluatesTrees);
        Assert.Contains(rows, r => r.Numeric.Any(float.IsNaN));
        Assert.All(rows, row =>
        {
            var (expected, actual) = (mlNet(row), quick(row));
            Assert.Equal(expected.Label, actual.Label);
            Assert.InRange(actual.Value - expected.Value, -2e-6 * Math.Max(1, Math.Abs(expected.Value)), 2e-6 * Math.Max(1, Math.Abs(expected.Value)));
        });
        Assert.True(rows.Select(r => quick(r).Value).Distinct().Count() > leaves, "the scores should spread over many leaf combinations");
    }

    /// <summary>
    /// Featurized rows with values put exactly on split thresholds (a row goes left there) and missing values (NaN goes
    /// right), which real featurized rows rarely hit, scored by the evaluator and by ML.NET's trained trees.
    /// </summary>
    [Theory]
    [InlineData("LightGbm", "y")]
    [InlineData("FastTree", "churned")]
    public async Task Score_ValuesOnThresholdsAndMissing_MatchMlNetTrees(string trainer, string label)
    {
        var (data, plan, model) = await TrainAsync(trainer, label, leaves: 31, iterations: 30);
        var ml = new MLContext(seed: 1);
        var chain = (TransformerChain<ITransformer>)ml.Model.Load(new MemoryStream(model), out _);
        var scorer = (TreeEnsembleScorer)VectorModel.TryCreate(ml, chain, plan)!;
        var featurizer = new TransformerChain<ITransformer>([.. chain.Take(chain.Count() - 1)]);
        var featurized = featurizer.Transform(ml.Data.LoadFromEnumerable(Rows(data, plan), FeatureRowBuilder.Schema(plan)));
        var vectors = featurized.GetColumn<float[]>("Features").ToList();
        var splits = scorer.Splits.ToList();
        for (var i = 0; i < vectors.Count; i++)
        {
            var split = splits[i % splits.Count];
            vectors[i][split.Feature] = i % 5 == 4 ? float.NaN : split.Threshold;
        }

        var schema = SchemaDefinition.Create(typeof(Vector));
        schema[nameof(Vector.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, vectors[0].Length);
        var expected = chain.Last().Transform(ml.Data.LoadFromEnumerable(vectors.Select(v => new Vector { Features = v }), schema)).GetColumn<float>("Score").ToList();
        var actual = vectors.Select(v => scorer.Score(v)).ToList();

        Assert.Equal(vectors.Count, expected.Count);
        Assert.All(expected.Zip(actual), p => Assert.InRange(p.Second - p.First, -2e-6 * Math.Max(1, Math.Abs(p.First)), 2e-6 * Math.Max(1, Math.Abs(p.First))));
    }

    /// <summary>A tree model trained on 1,500 synthetic rows, one x1 value in 37 missing.</summary>
    private async Task<(string Data, FeaturizationPlan Plan, byte[] Model)> TrainAsync(string trainer, string label, int leaves, int iterations)
    {
        var lines = (label == "y" ? SyntheticData.RegressionCsv(1500) : SyntheticData.BinaryCsv(1500)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var x1 = Array.IndexOf(lines[0].Split(','), "x1");
        var data = string.Join('\n', lines.Select((line, i) => i > 0 && i % 37 == 0 ? string.Join(',', line.Split(',').Select((field, j) => j == x1 ? string.Empty : field)) : line)) + "\n";
        var ingestor = new DatasetIngestor(new BlobContainerClient(azurite.ConnectionString, $"te-{Guid.NewGuid():N}"[..24]), TimeProvider.System);
        var snapshot = await ingestor.IngestAsync(new MemoryStream(Encoding.UTF8.GetBytes(data)), "train.csv", new IngestOptions(Label: label), CancellationToken.None);
        var plan = FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, label);
        var parameters = new Dictionary<string, double> { ["numberOfLeaves"] = leaves, [trainer == "LightGbm" ? "numberOfIterations" : "numberOfTrees"] = iterations, ["minimumExampleCountPerLeaf"] = 2 };
        return (data, plan, new TrialRunner().Run(new MemoryStream(Encoding.UTF8.GetBytes(data)), snapshot, plan, new TrialConfiguration(trainer, parameters)).Model);
    }

    private static List<FeatureRow> Rows(string data, FeaturizationPlan plan)
    {
        var lines = data.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var builder = new FeatureRowBuilder(plan, lines[0].Split(','));
        return [.. lines.Skip(1).Select((line, i) => builder.TryBuild(line.Split(','), i + 2, out _)!)];
    }

    private sealed class Vector
    {
        public float[] Features { get; set; } = [];
    }
}
