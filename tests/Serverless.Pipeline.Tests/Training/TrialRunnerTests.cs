using System.Globalization;
using System.Text;
using Azure.Storage.Blobs;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Evaluation;
using Serverless.Pipeline.Tests.Data;
using Serverless.Pipeline.Training;
using Serverless.Testing;

namespace Serverless.Pipeline.Tests.Training;

/// <summary>Real ML.NET training on seeded data with a known signal, ingested through the real snapshot path.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class TrialRunnerTests(AzuriteFixture azurite)
{
    private readonly DatasetIngestor _ingestor = new(new BlobContainerClient(azurite.ConnectionString, $"tr-{Guid.NewGuid():N}"[..24]), TimeProvider.System);
    private readonly TrialRunner _runner = new();

    [Fact]
    public async Task Plan_BinaryData_DropsIdKeepsCategoryDetectsBinary()
    {
        var (snapshot, _) = await IngestAsync(SyntheticData.BinaryCsv(400), "churned");

        var plan = FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, "churned");

        Assert.Equal(MlTask.BinaryClassification, plan.Task);
        Assert.Equal(["customer_id"], plan.Dropped);
        Assert.Equal(["color"], plan.Categorical);
        Assert.Equal(["x1", "x2"], plan.Numeric);
        Assert.Equal(["signup"], plan.Dates);
        Assert.Equal(["no", "yes"], plan.Classes);
    }

    [Theory]
    [InlineData("LightGbm")]
    [InlineData("FastTree")]
    [InlineData("Sdca")]
    [InlineData("Lbfgs")]
    public async Task Run_Binary_EveryTrainerLearnsTheSignal(string trainer)
    {
        var (snapshot, csv) = await IngestAsync(SyntheticData.BinaryCsv(800), "churned");

        var result = Run(csv, snapshot, "churned", new TrialConfiguration(trainer, new Dictionary<string, double>()));

        Assert.Equal("auc", result.PrimaryMetric);
        Assert.True(result.PrimaryValue > 0.9, $"{trainer} AUC {result.PrimaryValue:0.000}");
        Assert.Equal((720, 720, 10), (result.TrainRows, result.ValidationRows, result.Folds)); // 800 rows: 80 held out; the 720 others cross-validate in 10 folds, then all train the model
        Assert.Equal(64, result.ModelSha256.Length);
        Assert.True(result.Model.Length > 0);
    }

    [Theory]
    [InlineData("LightGbm")]
    [InlineData("Sdca")]
    public async Task Run_Regression_FitsTheLinearSignal(string trainer)
    {
        var (snapshot, csv) = await IngestAsync(SyntheticData.RegressionCsv(600), "y");

        var result = Run(csv, snapshot, "y", new TrialConfiguration(trainer, new Dictionary<string, double>()));

        Assert.Equal(MlTask.Regression, result.Task);
        Assert.True(result.Metrics["rSquared"] > 0.9, $"{trainer} R² {result.Metrics["rSquared"]:0.000}");
    }

    [Fact]
    public async Task Run_Multiclass_SeparatesThreeClusters()
    {
        var (snapshot, csv) = await IngestAsync(SyntheticData.MulticlassCsv(600), "species");

        var result = Run(csv, snapshot, "species", new TrialConfiguration("LightGbm", new Dictionary<string, double> { ["numberOfIterations"] = 50 }));

        Assert.Equal(MlTask.MulticlassClassification, result.Task);
        Assert.True(result.Metrics["macroAccuracy"] > 0.85, $"macro accuracy {result.Metrics["macroAccuracy"]:0.000}");
    }

    [Fact]
    public async Task Run_SameInputsAndSeed_SameMetrics_OtherSeedOtherSplit()
    {
        var (snapshot, csv) = await IngestAsync(SyntheticData.BinaryCsv(400), "churned");
        var configuration = new TrialConfiguration("LightGbm", new Dictionary<string, double> { ["numberOfLeaves"] = 8, ["learningRate"] = 0.2 }, Seed: 7);

        var first = Run(csv, snapshot, "churned", configuration);
        var second = Run(csv, snapshot, "churned", configuration);
        var otherSeed = Run(csv, snapshot, "churned", configuration with { Seed = 8 });

        Assert.Equal(first.Metrics, second.Metrics);
        Assert.NotEqual(first.Metrics["logLoss"], otherSeed.Metrics["logLoss"]);
    }

    [Fact]
    public async Task Run_NumericZeroOneLabel_BinaryWithOneAsPositive()
    {
        var csv = SyntheticData.BinaryCsv(600).Replace(",yes\n", ",1\n", StringComparison.Ordinal).Replace(",no\n", ",0\n", StringComparison.Ordinal);
        var (snapshot, _) = await IngestAsync(csv, "churned");
        var plan = FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, "churned");

        var result = _runner.Run(new MemoryStream(Encoding.UTF8.GetBytes(csv)), snapshot, plan, new TrialConfiguration("LightGbm", new Dictionary<string, double>()));

        Assert.Equal(MlTask.BinaryClassification, plan.Task);
        Assert.Equal(["0", "1"], plan.Classes);
        Assert.True(result.PrimaryValue > 0.9, $"AUC {result.PrimaryValue:0.000}");
    }

    [Theory]
    [InlineData(100, 10)]
    [InlineData(999, 10)]
    [InlineData(1000, 5)]
    [InlineData(19_999, 5)]
    [InlineData(20_000, 0)]
    public void ValidationFolds_ByRowCount(int rows, int folds) =>
        Assert.Equal(folds, TrialRunner.ValidationFolds(rows));

    [Fact]
    public async Task Run_SmallData_MetricsAreTheCrossValidationMeans()
    {
        var (snapshot, csv) = await IngestAsync(SyntheticData.BinaryCsv(400), "churned");
        var plan = FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, "churned");
        var configuration = new TrialConfiguration("Lbfgs", new Dictionary<string, double>(), Seed: 3);

        var trial = Run(csv, snapshot, "churned", configuration);
        var crossValidation = new ModelEvaluator().CrossValidate(new MemoryStream(Encoding.UTF8.GetBytes(csv)), plan, configuration, folds: 10);
        var half = _runner.Run(new MemoryStream(Encoding.UTF8.GetBytes(csv)), snapshot, plan, configuration, trainFraction: 0.5);

        Assert.Equal(10, trial.Folds);
        Assert.Equal(crossValidation.Keys.Order(), trial.Metrics.Keys.Order());
        Assert.All(crossValidation, m => Assert.Equal(m.Value.Mean, trial.Metrics[m.Key], 1e-5)); // ML.NET's SIMD sums may round differently from run to run
        Assert.Equal((10, 360, 181), (half.Folds, half.ValidationRows, half.TrainRows)); // half of each class of the 360, rounded up
        Assert.NotEqual(trial.Metrics["logLoss"], half.Metrics["logLoss"]);
    }

    [Fact]
    public async Task Run_LargeData_ValidatesOnOneSplit()
    {
        var (snapshot, csv) = await IngestAsync(SyntheticData.BinaryCsv(22_400), "churned");

        var result = Run(csv, snapshot, "churned", new TrialConfiguration("Sdca", new Dictionary<string, double>()));

        Assert.Equal(0, result.Folds);
        Assert.InRange(result.TrainRows + result.ValidationRows, 20_150, 20_170); // 22,400 rows less a 10% holdout
        Assert.InRange(result.ValidationRows, 4_025, 4_040); // 20% of them
        Assert.True(result.PrimaryValue > 0.9, $"AUC {result.PrimaryValue:0.000}");
    }

    [Fact]
    public async Task Run_Refit_TrainsOnEveryRowAndTheModelStillScoresWell()
    {
        var (snapshot, csv) = await IngestAsync(SyntheticData.BinaryCsv(500), "churned");
        var plan = FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, "churned");

        var refit = _runner.Run(new MemoryStream(Encoding.UTF8.GetBytes(csv)), snapshot, plan, new TrialConfiguration("LightGbm", new Dictionary<string, double>()), validationFraction: 0, holdoutFraction: 0);
        var onFreshData = TrialRunner.Evaluate(refit.Model, plan, new MemoryStream(Encoding.UTF8.GetBytes(SyntheticData.BinaryCsv(300))));

        Assert.Equal((500, 0), (refit.TrainRows, refit.ValidationRows));
        Assert.Empty(refit.Metrics);
        Assert.True(onFreshData["auc"] > 0.9, $"AUC {onFreshData["auc"]:0.000}");
    }

    [Fact]
    public async Task Run_UnknownTrainerOrHyperparameter_RefusedNamingIt()
    {
        var (snapshot, csv) = await IngestAsync(SyntheticData.BinaryCsv(100), "churned");

        var trainer = Assert.Throws<ArgumentException>(() => Run(csv, snapshot, "churned", new TrialConfiguration("Xgb", new Dictionary<string, double>())));
        var parameter = Assert.Throws<ArgumentException>(() => Run(csv, snapshot, "churned", new TrialConfiguration("Sdca", new Dictionary<string, double> { ["numberOfLeaves"] = 4 })));

        Assert.Contains("'Xgb'", trainer.Message, StringComparison.Ordinal);
        Assert.Contains("'numberOfLeaves'", parameter.Message, StringComparison.Ordinal);
    }

    private TrialResult Run(string csv, DatasetSnapshot snapshot, string label, TrialConfiguration configuration) =>
        _runner.Run(new MemoryStream(Encoding.UTF8.GetBytes(csv)), snapshot, FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, label), configuration);

    private async Task<(DatasetSnapshot Snapshot, string Csv)> IngestAsync(string csv, string label) =>
        (await _ingestor.IngestAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "test.csv", new IngestOptions(Label: label), CancellationToken.None), csv);
}
