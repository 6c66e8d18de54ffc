using Serverless.Pipeline.Evaluation;
using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Tests.Evaluation;

public sealed class EvaluationReportTests
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G'];

    [Fact]
    public void RocCurve_KnownScores_StepsThroughEachThreshold()
    {
        // Scores 0.9 (pos), 0.8 (neg), 0.7 (pos), 0.1 (neg).
        HoldoutPrediction[] predictions = [new(1, 1, 0.9), new(0, 1, 0.8), new(1, 1, 0.7), new(0, 0, 0.1)];

        var (fpr, tpr) = EvaluationReport.RocCurve(predictions);
        var (recall, precision) = EvaluationReport.PrecisionRecallCurve(predictions);

        Assert.Equal([0, 0, 0.5, 0.5, 1], fpr);
        Assert.Equal([0, 0.5, 0.5, 1, 1], tpr);
        Assert.Equal([0.5, 0.5, 1, 1], recall);
        Assert.Equal([1, 0.5, 2 / 3.0, 0.5], precision);
    }

    [Fact]
    public void Calibration_TwoBins_MeanPredictedAndObservedPerBin()
    {
        HoldoutPrediction[] predictions = [new(0, 0, 0.1), new(1, 0, 0.3), new(1, 1, 0.8), new(1, 1, 0.9)];

        var (predicted, observed) = EvaluationReport.Calibration(predictions, bins: 2);

        Assert.Equal([0.2, 0.85], predicted, new ToleranceComparer(1e-9));
        Assert.Equal([0.5, 1.0], observed);
    }

    [Fact]
    public void Charts_Binary_EveryChartIsAPngAndTheHtmlEmbedsThemAll()
    {
        var evaluation = BinaryEvaluation() with { PositiveClass = "yes" };
        var context = new ReportContext("<churn>", "run-1", "abc", new TrialConfiguration("LightGbm", new Dictionary<string, double> { ["learningRate"] = 0.1 }), [new TrialPoint(0, "LightGbm", new Dictionary<string, double>(), 0.9, false), new TrialPoint(1, "Lbfgs", new Dictionary<string, double>(), 0.8, true)]);

        var charts = EvaluationReport.Charts(evaluation, context);
        var html = EvaluationReport.Html(evaluation, context, charts);

        Assert.Equal(["calibration.png", "confusion.png", "importance.png", "pr.png", "roc.png", "trials.png"], charts.Keys.Order(StringComparer.Ordinal));
        Assert.All(charts.Values, png => Assert.Equal(PngSignature, png[..4]));
        Assert.Equal(charts.Count, CountOf(html, "data:image/png;base64,"));
        Assert.Contains("&lt;churn&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<churn>", html, StringComparison.Ordinal);
        Assert.Contains("stopped early", html, StringComparison.Ordinal);
        Assert.Contains("positive class <b>yes</b>", html, StringComparison.Ordinal);
        Assert.Contains("<td>auc</td><td>0.9</td><td>0.88</td><td>0.02</td>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Charts_Regression_ResidualsNoClassifierCharts()
    {
        var evaluation = new ModelEvaluation(MlTask.Regression, "rSquared", new Dictionary<string, double> { ["rSquared"] = 0.9 }, 5, new Dictionary<string, MetricSummary>(), [new FeatureImportance("x1", 0.5, 0.01)], null, [new(1, 1.1, null), new(2, 1.9, null)]);

        var charts = EvaluationReport.Charts(evaluation, new ReportContext("m", "r", "s", new TrialConfiguration("Sdca", new Dictionary<string, double>()), []));

        Assert.Equal(["importance.png", "residuals.png"], charts.Keys.Order(StringComparer.Ordinal));
    }

    private static ModelEvaluation BinaryEvaluation()
    {
        var random = new Random(3);
        var predictions = Enumerable.Range(0, 200).Select(_ =>
        {
            var actual = random.Next(2);
            var probability = Math.Clamp((actual * 0.6) + (random.NextDouble() * 0.4), 0, 1);
            return new HoldoutPrediction(actual, probability > 0.5 ? 1 : 0, probability);
        }).ToList();
        return new ModelEvaluation(
            MlTask.BinaryClassification,
            "auc",
            new Dictionary<string, double> { ["auc"] = 0.9, ["accuracy"] = 0.85 },
            5,
            new Dictionary<string, MetricSummary> { ["auc"] = new(0.88, 0.02) },
            [new FeatureImportance("x1", 0.2, 0.01), new FeatureImportance("color", 0.05, 0.01)],
            new ConfusionMatrix(["no", "yes"], [[90, 10], [5, 95]]),
            predictions);
    }

    private static int CountOf(string text, string value) => (text.Length - text.Replace(value, string.Empty, StringComparison.Ordinal).Length) / value.Length;

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}
