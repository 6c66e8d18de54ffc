using System.Globalization;
using System.Text;
using Azure.Storage.Blobs;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Evaluation;
using Serverless.Pipeline.Tests.Data;
using Serverless.Pipeline.Training;
using Serverless.Testing;

namespace Serverless.Pipeline.Tests.Evaluation;

/// <summary>Real training on seeded data whose signal is known, so the evaluation's findings can be checked against it.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ModelEvaluatorTests(AzuriteFixture azurite)
{
    private readonly DatasetIngestor _ingestor = new(new BlobContainerClient(azurite.ConnectionString, $"ev-{Guid.NewGuid():N}"[..24]), TimeProvider.System);
    private readonly ModelEvaluator _evaluator = new();

    [Fact]
    public async Task Evaluate_Binary_CrossValidatesFindsTheSignalColumnsAndCountsTheHoldout()
    {
        var (evaluation, plan) = await EvaluateAsync(SyntheticData.BinaryCsv(800), "churned", "LightGbm");

        Assert.Equal(5, evaluation.Folds);
        Assert.InRange(evaluation.CrossValidation["auc"].Mean, 0.9, 1.0);
        Assert.InRange(evaluation.CrossValidation["auc"].StdDev, 0, 0.05);
        Assert.Equal(["no", "yes"], evaluation.Confusion!.Classes);
        Assert.Equal(80, evaluation.Confusion.Counts.Sum(row => row.Sum())); // the 10% no trial saw
        Assert.True(evaluation.Confusion.Counts[0][0] + evaluation.Confusion.Counts[1][1] > 70, "most holdout rows on the diagonal");
        Assert.Equal(evaluation.Holdout["accuracy"], (evaluation.Confusion.Counts[0][0] + evaluation.Confusion.Counts[1][1]) / 80.0, 6);

        // x1 carries the most signal, then x2 and color; the signup date is noise.
        var importance = evaluation.Importance.ToDictionary(i => i.Column, i => i.Decrease);
        Assert.Equal("x1", evaluation.Importance[0].Column);
        Assert.True(importance["x2"] > importance["signup"], $"x2 {importance["x2"]:0.000} vs signup {importance["signup"]:0.000}");
        Assert.True(importance["color"] > importance["signup"], $"color {importance["color"]:0.000} vs signup {importance["signup"]:0.000}");
        Assert.InRange(importance["signup"], -0.02, 0.02);
        Assert.Equal(plan.Numeric.Count + plan.Dates.Count + plan.Categorical.Count, evaluation.Importance.Count);
        Assert.All(evaluation.Predictions, p => Assert.InRange(p.Probability!.Value, 0, 1));
    }

    [Fact]
    public async Task Evaluate_Regression_LargerCoefficientMoreImportantNoConfusion()
    {
        var (evaluation, _) = await EvaluateAsync(SyntheticData.RegressionCsv(600), "y", "Sdca");

        Assert.Null(evaluation.Confusion);
        Assert.InRange(evaluation.CrossValidation["rSquared"].Mean, 0.95, 1.0);
        Assert.Equal(["x1", "x2"], evaluation.Importance.Select(i => i.Column));
        Assert.Equal(60, evaluation.Predictions.Count);
    }

    [Fact]
    public async Task Evaluate_Multiclass_ThreeByThreeWithPerClassRecall()
    {
        var (evaluation, _) = await EvaluateAsync(SyntheticData.MulticlassCsv(600), "species", "Lbfgs");

        Assert.Equal(["setosa", "versicolor", "virginica"], evaluation.Confusion!.Classes);
        Assert.All(evaluation.Confusion.Counts, row => Assert.Equal(3, row.Count));
        Assert.All(evaluation.Confusion.PerClass().Values, c => Assert.True(c["recall"] > 0.8, $"recall {c["recall"]:0.00}"));
        Assert.Equal(evaluation.Confusion.PerClass()["setosa"]["recall"], evaluation.Holdout["recall[setosa]"]);
    }

    [Fact]
    public async Task Evaluate_SameInputs_SameFigures()
    {
        var (first, _) = await EvaluateAsync(SyntheticData.BinaryCsv(300), "churned", "FastTree");
        var (second, _) = await EvaluateAsync(SyntheticData.BinaryCsv(300), "churned", "FastTree");

        Assert.Equal(first.CrossValidation["auc"], second.CrossValidation["auc"]);
        Assert.Equal(first.Importance, second.Importance);
    }

    /// <summary>Two free-text columns, one of which carries the label: each is shuffled on its own, the other left as it is.</summary>
    [Fact]
    public async Task Evaluate_TwoTextColumns_EachPermutedOnItsOwn()
    {
        var random = new Random(5);
        string[] words = ["box", "blue", "late", "quick", "paper", "river", "stone", "light", "train", "field"];
        var csv = new StringBuilder("review,notes,x,liked\n");
        for (var i = 0; i < 600; i++)
        {
            var liked = random.Next(2) == 1;
            string Words(int n) => string.Join(' ', Enumerable.Range(0, n).Select(_ => words[random.Next(words.Length)]));
            csv.Append(CultureInfo.InvariantCulture, $"{(liked ? "great" : "awful")} {Words(2)},{Words(3)},{random.NextDouble():0.###},{(liked ? "yes" : "no")}\n");
        }

        var (evaluation, plan) = await EvaluateAsync(csv.ToString(), "liked", "Lbfgs");

        Assert.Equal(["review", "notes"], plan.Text);
        var importance = evaluation.Importance.ToDictionary(i => i.Column, i => i.Decrease);
        Assert.Equal("review", evaluation.Importance[0].Column);
        Assert.True(importance["review"] > 0.2, $"review {importance["review"]:0.000}");
        Assert.InRange(importance["notes"], -0.05, 0.05);
    }

    private async Task<(ModelEvaluation Evaluation, FeaturizationPlan Plan)> EvaluateAsync(string csv, string label, string trainer)
    {
        var snapshot = await _ingestor.IngestAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "test.csv", new IngestOptions(Label: label), CancellationToken.None);
        var plan = FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, label);
        return (_evaluator.Evaluate(new MemoryStream(Encoding.UTF8.GetBytes(csv)), plan, new TrialConfiguration(trainer, new Dictionary<string, double>())), plan);
    }
}
