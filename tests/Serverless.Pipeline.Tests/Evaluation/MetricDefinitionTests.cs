using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Tests.Evaluation;

/// <summary>Each metric against its scikit-learn definition on a fixed example, the expected figures worked out by hand.</summary>
public sealed class MetricDefinitionTests
{
    private static readonly MLContext Ml = new(seed: 1);

    [Fact]
    public void Binary_AucF1LogLossAuprc_AsScikitLearn()
    {
        bool[] y = [true, false, true, true, false, false];
        float[] p = [0.9f, 0.4f, 0.7f, 0.35f, 0.2f, 0.6f];
        var rows = y.Select((label, i) => new BinaryRow { Positive = label, Probability = p[i], Score = (float)Math.Log(p[i] / (1 - p[i])), PredictedLabel = p[i] > 0.5f });

        var metrics = TrialRunner.Evaluate(MlTask.BinaryClassification, Ml.Data.LoadFromEnumerable(rows));

        // roc_auc_score: 7 of the 9 (positive, negative) pairs are ordered right.
        Assert.Equal(7 / 9.0, metrics["auc"], 4);
        // log_loss, natural log: −(ln .9 + ln .6 + ln .7 + ln .35 + ln .8 + ln .4) / 6.
        Assert.Equal(-(Math.Log(0.9) + Math.Log(0.6) + Math.Log(0.7) + Math.Log(0.35) + Math.Log(0.8) + Math.Log(0.4)) / 6, metrics["logLoss"], 4);
        // Predicted 1 0 1 0 0 1: TP 2, FP 1, FN 1, so precision = recall = F1 = 2/3; accuracy 4/6.
        Assert.Equal(2 / 3.0, metrics["f1"], 4);
        Assert.Equal(4 / 6.0, metrics["accuracy"], 4);
        // average_precision_score: Σ (Rₙ − Rₙ₋₁)·Pₙ = 1/3·1 + 1/3·1 + 1/3·3/5.
        Assert.Equal((1 / 3.0) + (1 / 3.0) + (1 / 3.0 * 0.6), metrics["auprc"], 6);
    }

    [Fact]
    public void Regression_RmseMaeR2_AsScikitLearn()
    {
        // scikit-learn's documented example: y = [3, −0.5, 2, 7], ŷ = [2.5, 0, 2, 8].
        float[] y = [3, -0.5f, 2, 7];
        float[] yhat = [2.5f, 0, 2, 8];
        var rows = y.Select((v, i) => new RegressionRow { Value = v, Score = yhat[i] });

        var metrics = TrialRunner.Evaluate(MlTask.Regression, Ml.Data.LoadFromEnumerable(rows));

        Assert.Equal(0.5, metrics["mae"], 6);
        Assert.Equal(Math.Sqrt(0.375), metrics["rmse"], 6);
        Assert.Equal(0.948608, metrics["rSquared"], 5);
    }

    [Fact]
    public void Multiclass_MacroAccuracyIsBalancedAccuracy_LogLossInNats()
    {
        // Truth 0 1 2 0 1 2, predicted 0 2 1 0 0 1: recall 1, 0, 0, so balanced accuracy 1/3; accuracy 2/6.
        uint[] y = [0, 1, 2, 0, 1, 2];
        uint[] predicted = [0, 2, 1, 0, 0, 1];
        var rows = y.Select((label, i) =>
        {
            var score = new float[] { 0.2f, 0.2f, 0.2f };
            score[predicted[i]] = 0.6f;
            // Loading from objects, a key is its 0-based index (read back, it is 1-based with 0 for missing).
            return new MulticlassRow { Label = label, PredictedLabel = predicted[i], Score = score };
        }).ToList();
        var schema = SchemaDefinition.Create(typeof(MulticlassRow));
        schema[nameof(MulticlassRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), 3);
        schema[nameof(MulticlassRow.PredictedLabel)].ColumnType = new KeyDataViewType(typeof(uint), 3);
        schema[nameof(MulticlassRow.Score)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);

        var metrics = TrialRunner.Evaluate(MlTask.MulticlassClassification, Ml.Data.LoadFromEnumerable(rows, schema));

        Assert.Equal(1 / 3.0, metrics["macroAccuracy"], 6);
        Assert.Equal(2 / 6.0, metrics["microAccuracy"], 6);
        // The true class got 0.6 twice and 0.2 four times: −(2 ln 0.6 + 4 ln 0.2) / 6.
        Assert.Equal(-((2 * Math.Log(0.6)) + (4 * Math.Log(0.2))) / 6, metrics["logLoss"], 4);
    }

    private sealed class BinaryRow
    {
        public bool Positive { get; set; }

        public float Score { get; set; }

        public float Probability { get; set; }

        public bool PredictedLabel { get; set; }
    }

    private sealed class RegressionRow
    {
        public float Value { get; set; }

        public float Score { get; set; }
    }

    private sealed class MulticlassRow
    {
        public uint Label { get; set; }

        public uint PredictedLabel { get; set; }

        public float[] Score { get; set; } = [];
    }
}
