using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Evaluation;
using Serverless.Pipeline.Scoring;
using Serverless.Pipeline.Tests.Data;
using Serverless.Pipeline.Training;
using Serverless.Testing;

namespace Serverless.Pipeline.Tests.Training;

/// <summary>Greedy ensemble selection on hand-computed examples, and an ensemble as one model that scores as the weighted average of its members.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class EnsembleTests(AzuriteFixture azurite)
{
    // Labels T, F, T, F. A ranks the first pair right and the second wrong (AUC 0.75), B the other way round (0.75);
    // their average [0.55, 0.45, 0.6, 0.45] ranks every positive above every negative (AUC 1).
    private static readonly FeatureRowLabels Binary = new([true, false, true, false], [0, 0, 0, 0]);
    private static readonly CrossValidated A = new(Config("LightGbm"), Empty(), [0.9f, 0.8f, 0.3f, 0.1f], [0, 0, 1, 1], Binary);
    private static readonly CrossValidated B = new(Config("Lbfgs"), Empty(), [0.2f, 0.1f, 0.9f, 0.8f], [0, 0, 1, 1], Binary);

    [Fact]
    public void Weights_TwoModelsEachRightWhereTheOtherIsWrong_BothChosen()
    {
        // Round 1: A and B tie at 0.75, the first is kept. Round 2: A+B (AUC 1) beats A+A (0.75). Round 3: 2A+B and
        // A+2B both score 0.75 (worked out by hand in the comment of the test data), the first is kept.
        Assert.Equal([0.5, 0.5], EnsembleSelection.Weights(MlTask.BinaryClassification, [A, B], rounds: 2));
        Assert.Equal([2 / 3.0, 1 / 3.0], EnsembleSelection.Weights(MlTask.BinaryClassification, [A, B], rounds: 3));
    }

    [Fact]
    public void Weights_OneModelBestAlone_OnlyIt()
    {
        var perfect = A with { Configuration = Config("FastTree"), Predictions = [0.9f, 0.1f, 0.8f, 0.2f] };

        Assert.Equal([0.0, 1.0, 0.0], EnsembleSelection.Weights(MlTask.BinaryClassification, [A, perfect, B], rounds: 4));
    }

    [Fact]
    public void Weights_Multiclass_AveragedClassProbabilities()
    {
        // Classes 0, 1, 2, 2. A gets rows 0 and 1 right and 2 and 3 wrong; B the other way round. Selection goes by
        // log-loss: A's is -(ln .8 + ln .8 + ln .3 + ln .3) / 4 = 0.7135, B's -(ln .4 + ln .4 + ln .8 + ln .8) / 4 =
        // 0.5697, so B is first; then A + B, row by row [.6 .3 .1], [.3 .6 .1], [.25 .2 .55], [.2 .25 .55], has
        // -(2 ln .6 + 2 ln .55) / 4 = 0.5543, below B + B's 0.5697, so A is second. The average gets every row right.
        var labels = new FeatureRowLabels([false, false, false, false], [0, 0, 0, 0], [0, 1, 2, 2]);
        var a = new CrossValidated(Config("LightGbm"), Empty(), [.8f, .1f, .1f, .1f, .8f, .1f, .4f, .3f, .3f, .3f, .4f, .3f], [0, 0, 1, 1], labels);
        var b = new CrossValidated(Config("Lbfgs"), Empty(), [.4f, .5f, .1f, .5f, .4f, .1f, .1f, .1f, .8f, .1f, .1f, .8f], [0, 0, 1, 1], labels);

        Assert.Equal(3, a.Width);
        Assert.Equal([0.5, 0.5], EnsembleSelection.Weights(MlTask.MulticlassClassification, [a, b], rounds: 2));
        var alone = EnsembleSelection.CrossValidation(MlTask.MulticlassClassification, [a, b], [1, 0]);
        Assert.Equal([1.0, 1.0], EnsembleSelection.CrossValidation(MlTask.MulticlassClassification, [a, b], [0.5, 0.5])["macroAccuracy"].Folds);
        Assert.Equal([1.0, 0.0], alone["macroAccuracy"].Folds);
    }

    [Fact]
    public void CrossValidation_Regression_EachFoldOfTheWeightedAverage()
    {
        // Truth 1, 2, 3, 4 in folds 0, 0, 1, 1. A is 1 too high on rows 1 and 3, B 1 too low: alone, each fold's R² is
        // 1 - SSE/SST = 1 - 1/0.5 = -1; averaged, every prediction is exact (R² 1).
        var labels = new FeatureRowLabels([false, false, false, false], [1, 2, 3, 4]);
        var a = new CrossValidated(Config("LightGbm"), Empty(), [2, 2, 4, 4], [0, 0, 1, 1], labels);
        var b = new CrossValidated(Config("Sdca"), Empty(), [0, 2, 2, 4], [0, 0, 1, 1], labels);

        var alone = EnsembleSelection.CrossValidation(MlTask.Regression, [a, b], [1, 0])["rSquared"];
        var together = EnsembleSelection.CrossValidation(MlTask.Regression, [a, b], [0.5, 0.5])["rSquared"];

        Assert.Equal([-1.0, -1.0], alone.Folds);
        Assert.Equal([1.0, 1.0], together.Folds);
        Assert.Equal([0.5, 0.5], EnsembleSelection.Weights(MlTask.Regression, [a, b], rounds: 2));
    }

    [Fact]
    public void Configuration_MembersWithWeightAndHyperparameters_SurvivesJson()
    {
        var ensemble = EnsembleSelection.Configuration([A, B, A with { Configuration = Config("FastTree") }], [0.75, 0.25, 0], seed: 3);

        var back = JsonSerializer.Deserialize<TrialConfiguration>(JsonSerializer.Serialize(ensemble, PipelineJson.Indented), PipelineJson.Indented)!;

        Assert.Equal((EnsembleSelection.Trainer, 3, 2), (back.Trainer, back.Seed, back.Members!.Count));
        Assert.Equal(["LightGbm", "Lbfgs"], back.Members.Select(m => m.Configuration.Trainer));
        Assert.Equal(0.75, back.Parameters["0.LightGbm.weight"]);
        Assert.Equal(31, back.Parameters["0.LightGbm.numberOfLeaves"]);
        var rebuilt = EnsembleSelection.FromParameters(ensemble.Trainer, ensemble.Parameters, seed: 3);
        Assert.Equal(ensemble.Members!.Select(m => (m.Configuration.Trainer, m.Weight)), rebuilt.Members!.Select(m => (m.Configuration.Trainer, m.Weight)));
        Assert.Equal(ensemble.Members![0].Configuration.Parameters, rebuilt.Members![0].Configuration.Parameters);
        Assert.Null(EnsembleSelection.FromParameters("LightGbm", ensemble.Members![0].Configuration.Parameters, 3).Members);
    }

    /// <summary>Fitted, saved and loaded as one ML.NET model, an ensemble's probability is its members' weighted average.</summary>
    [Fact]
    public async Task Ensemble_ScoredAsOneModel_WeightedAverageOfItsMembers()
    {
        var training = SyntheticData.CustomersCsv(600, seed: 1, withLabel: true, badEvery: 0);
        var (plan, fit) = await FitterAsync(training, "churned");
        var (trees, linear, ensemble) = TreesLinearAndEnsemble(iterations: 30, treeWeight: 0.25);

        var input = SyntheticData.CustomersCsv(200, seed: 2, withLabel: false, badEvery: 0);
        var (treeP, linearP, ensembleP) = (Probabilities(fit(trees), plan, input), Probabilities(fit(linear), plan, input), Probabilities(fit(ensemble), plan, input));

        Assert.Equal(200, ensembleP.Count);
        for (var i = 0; i < ensembleP.Count; i++)
        {
            Assert.Equal((0.25 * treeP[i]) + (0.75 * linearP[i]), ensembleP[i], tolerance: 1e-4);
        }

        Assert.Contains(ensembleP.Zip(treeP), p => Math.Abs(p.First - p.Second) > 0.01);
        var metrics = TrialRunner.Evaluate(fit(ensemble), plan, new MemoryStream(Encoding.UTF8.GetBytes(training)));
        Assert.InRange(metrics["auc"], 0.5, 1);
    }

    /// <summary>
    /// An ensemble of more members than one ML.NET expression takes (five) sums them in groups, and still scores as
    /// their weighted average.
    /// </summary>
    [Fact]
    public async Task Ensemble_MoreMembersThanOneExpressionTakes_WeightedAverageOfItsMembers()
    {
        var training = SyntheticData.CustomersCsv(400, seed: 3, withLabel: true, badEvery: 0);
        var (plan, fit) = await FitterAsync(training, "churned");
        TrialConfiguration[] trees = [.. Enumerable.Range(1, 7).Select(i => new TrialConfiguration("LightGbm", new Dictionary<string, double> { ["numberOfIterations"] = 3 * i }))];
        double[] weights = [0.05, 0.1, 0.15, 0.2, 0.1, 0.25, 0.15];
        var ensemble = new TrialConfiguration(EnsembleSelection.Trainer, new Dictionary<string, double>()) { Members = [.. trees.Zip(weights, (t, w) => new EnsembleMember(t, w))] };

        var input = SyntheticData.CustomersCsv(50, seed: 4, withLabel: false, badEvery: 0);
        var each = trees.Select(t => Probabilities(fit(t), plan, input)).ToList();
        var together = Probabilities(fit(ensemble), plan, input);

        Assert.Equal(50, together.Count);
        for (var i = 0; i < together.Count; i++)
        {
            Assert.Equal(each.Select((p, m) => weights[m] * p[i]).Sum(), together[i], tolerance: 1e-4);
        }
    }

    /// <summary>A multiclass ensemble, saved member by member and loaded for scoring, averages its members' class probabilities.</summary>
    [Fact]
    public async Task MulticlassEnsemble_SavedLoadedAndScored_WeightedAverageOfItsMembers()
    {
        var training = SyntheticData.MulticlassCsv(300);
        var (plan, fit) = await FitterAsync(training, "species");
        var (trees, linear, ensemble) = TreesLinearAndEnsemble(iterations: 20, treeWeight: 0.3);

        const string input = "x1,x2\n1,0\n4,0\n2,4\n2.5,2\n";
        var (treeP, linearP, ensembleP) = (Rows(fit(trees), plan, input), Rows(fit(linear), plan, input), Rows(fit(ensemble), plan, input));

        Assert.Equal(4, ensembleP.Count);
        for (var i = 0; i < ensembleP.Count; i++)
        {
            for (var k = 0; k < plan.Classes.Count; k++)
            {
                Assert.Equal((0.3 * treeP[i][k]) + (0.7 * linearP[i][k]), ensembleP[i][k], tolerance: 1e-4);
            }
        }

        var metrics = TrialRunner.Evaluate(fit(ensemble), plan, new MemoryStream(Encoding.UTF8.GetBytes(training)));
        Assert.InRange(metrics["macroAccuracy"], 0.5, 1);
    }

    /// <summary>
    /// A cross-validated trial keeps the out-of-fold predictions the evaluation would compute on the same rows and folds,
    /// so the evaluation's library is the trials themselves; a candidate made from them has the same per-fold metrics.
    /// </summary>
    [Theory]
    [InlineData("binary", 5)]
    [InlineData("multiclass", 10)]
    public async Task Trial_CrossValidated_KeepsTheEvaluationsOutOfFoldPredictions(string task, int folds)
    {
        var (training, label) = task == "binary" ? (SyntheticData.CustomersCsv(1200, seed: 4, withLabel: true, badEvery: 0), "churned") : (SyntheticData.MulticlassCsv(300), "species");
        var (snapshot, plan) = await IngestAsync(training, label);
        var data = Encoding.UTF8.GetBytes(training);
        var trees = new TrialConfiguration("LightGbm", new Dictionary<string, double> { ["numberOfIterations"] = 20 }, Seed: 5);

        var trial = new TrialRunner().Run(new MemoryStream(data), snapshot, plan, trees);
        var evaluator = new ModelEvaluator();
        var (labels, rowFolds, k) = evaluator.CrossValidationRows(new MemoryStream(data), plan, seed: 5, folds: null);
        var again = evaluator.CrossValidateWithPredictions(new MemoryStream(data), plan, trees, k);
        var candidate = EnsembleSelection.Candidate(plan.Task, trees, trial.OutOfFold!, rowFolds, labels);

        Assert.Equal(folds, k);
        Assert.Equal(folds, trial.Folds);
        Assert.Equal(again.Folds, rowFolds);
        Assert.Equal(again.Predictions, trial.OutOfFold);
        var primary = TrialRunner.PrimaryMetric(plan.Task);
        Assert.Equal(again.Metrics[primary].Folds.Count, candidate.Metrics[primary].Folds.Count);
        Assert.All(again.Metrics[primary].Folds.Zip(candidate.Metrics[primary].Folds), f => Assert.Equal(f.First, f.Second, 1e-6));
        Assert.Equal(trial.PrimaryValue, candidate.Metrics[primary].Mean, 1e-6);
        Assert.Null(new TrialRunner().Run(new MemoryStream(data), snapshot, plan, trees, trainFraction: 0.5).OutOfFold);
        // A trial that keeps no model is the same cross-validation without the fit on all its rows.
        var lean = new TrialRunner().Run(new MemoryStream(data), snapshot, plan, trees, keepModel: false);
        Assert.NotEmpty(trial.Model);
        Assert.Empty(lean.Model);
        Assert.Equal(trial.OutOfFold, lean.OutOfFold);
        Assert.Equal(trial.Metrics, lean.Metrics);
    }

    private async Task<(DatasetSnapshot Snapshot, FeaturizationPlan Plan)> IngestAsync(string training, string label)
    {
        var ingestor = new DatasetIngestor(new BlobContainerClient(azurite.ConnectionString, $"en-{Guid.NewGuid():N}"[..24]), TimeProvider.System);
        var snapshot = await ingestor.IngestAsync(new MemoryStream(Encoding.UTF8.GetBytes(training)), "train.csv", new IngestOptions(Label: label), CancellationToken.None);
        return (snapshot, FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, label));
    }

    /// <summary>The plan of a training file, and a function that fits a configuration on all of its rows and gives the model's bytes.</summary>
    private async Task<(FeaturizationPlan Plan, Func<TrialConfiguration, byte[]> Fit)> FitterAsync(string training, string label)
    {
        var data = Encoding.UTF8.GetBytes(training);
        var (snapshot, plan) = await IngestAsync(training, label);
        return (plan, c => new TrialRunner().Run(new MemoryStream(data), snapshot, plan, c, validationFraction: 0, holdoutFraction: 0).Model);
    }

    /// <summary>LightGBM, L-BFGS, and their ensemble with the trees weighing <paramref name="treeWeight"/>.</summary>
    private static (TrialConfiguration Trees, TrialConfiguration Linear, TrialConfiguration Ensemble) TreesLinearAndEnsemble(int iterations, double treeWeight)
    {
        var trees = new TrialConfiguration("LightGbm", new Dictionary<string, double> { ["numberOfIterations"] = iterations });
        var linear = new TrialConfiguration("Lbfgs", new Dictionary<string, double>());
        return (trees, linear, new TrialConfiguration(EnsembleSelection.Trainer, new Dictionary<string, double>()) { Members = [new(trees, treeWeight), new(linear, 1 - treeWeight)] });
    }

    private static List<double> Probabilities(byte[] model, FeaturizationPlan plan, string csv) => [.. Rows(model, plan, csv).Select(r => r[^1])];

    /// <summary>Each scored row's probability columns.</summary>
    private static List<double[]> Rows(byte[] model, FeaturizationPlan plan, string csv)
    {
        var lines = csv.Split('\n', 2);
        var scorer = new BatchScorer(new MemoryStream(model), plan);
        var predictions = new StringWriter();
        scorer.Score(new MemoryStream(Encoding.UTF8.GetBytes(lines[1])), lines[0].TrimEnd('\r'), 2, null, predictions, new StringWriter());
        return [.. predictions.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(',')[3..].Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray())];
    }

    private static TrialConfiguration Config(string trainer) =>
        new(trainer, trainer == "LightGbm" ? new Dictionary<string, double> { ["numberOfLeaves"] = 31 } : new Dictionary<string, double>());

    private static Dictionary<string, MetricSummary> Empty() => [];
}
