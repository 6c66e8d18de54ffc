using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Scoring;

/// <summary>
/// A model evaluated here on its feature vector rather than by ML.NET's engine: the featurizer part of the pipeline,
/// then a score (a tree ensemble's sum, a linear model's dot product), then, for a binary classifier, its Platt
/// calibration. Scores equal ML.NET's to float rounding; models it does not cover keep ML.NET's engine.
/// </summary>
internal abstract class VectorModel(ITransformer featurizer, PlattCalibrator? calibrator)
{
    /// <summary>Everything in the pipeline before the model: it turns a <see cref="FeatureRow"/> into the feature vector.</summary>
    public ITransformer Featurizer { get; } = featurizer;

    /// <summary>Whether scores are margins to calibrate into probabilities (a binary classifier) rather than values.</summary>
    public bool Calibrated => calibrator is not null;

    /// <summary>The length of the scratch buffer <see cref="Score"/> needs.</summary>
    public virtual int ScratchLength => 0;

    /// <summary>The evaluator of a loaded model: a tree ensemble or a linear model it covers, or null.</summary>
    public static VectorModel? TryCreate(MLContext ml, ITransformer model, FeaturizationPlan plan)
    {
        if (model is not TransformerChain<ITransformer> chain || plan.Task == MlTask.MulticlassClassification || chain.Count() < 2)
        {
            return null;
        }

        var parts = chain.ToList();
        var featurizer = new TransformerChain<ITransformer>([.. parts.Take(parts.Count - 1)]);
        return (VectorModel?)TreeEnsembleScorer.TryCreate(parts[^1], featurizer) ?? LinearModel.TryCreate(parts[^1], featurizer);
    }

    /// <summary>
    /// The raw score of one feature vector: a margin for binary classifiers (see <see cref="Probability"/>), the value
    /// for regression.
    /// </summary>
    public abstract float Score(ReadOnlySpan<float> features, Span<ulong> scratch);

    /// <summary>The calibrated probability of a raw score (binary classifiers).</summary>
    public float Probability(float score) => calibrator!.PredictProbability(score);

    /// <summary>
    /// A scorer of <see cref="FeatureRow"/>s over its own featurizing prediction engine and buffers (so for one thread at a
    /// time): online predictions and rows the compiled featurizer does not cover.
    /// </summary>
    public Func<FeatureRow, float> CreateScorer(MLContext ml, FeaturizationPlan plan)
    {
        var schema = FeatureRowBuilder.Schema(plan);
        var engine = ml.Model.CreatePredictionEngine<FeatureRow, FeatureVector>(Featurizer, inputSchemaDefinition: schema);
        var output = new FeatureVector();
        var scratch = new ulong[ScratchLength];
        return row =>
        {
            engine.Predict(row, ref output);
            return Score(output.Features, scratch);
        };
    }
}

/// <summary>A linear model: logistic regression (L-BFGS, SDCA) calibrated by Platt, linear regression, or Poisson regression.</summary>
internal sealed class LinearModel : VectorModel
{
    private readonly float[] _weights;
    private readonly float _bias;
    private readonly bool _exponential;

    private LinearModel(ITransformer featurizer, PlattCalibrator? calibrator, IReadOnlyList<float> weights, float bias, bool exponential)
        : base(featurizer, calibrator)
    {
        _weights = [.. weights];
        _bias = bias;
        _exponential = exponential;
    }

    public static LinearModel? TryCreate(ITransformer predictor, ITransformer featurizer) => predictor switch
    {
        BinaryPredictionTransformer<CalibratedModelParametersBase<LinearBinaryModelParameters, PlattCalibrator>> p =>
            new LinearModel(featurizer, p.Model.Calibrator, p.Model.SubModel.Weights, p.Model.SubModel.Bias, false),
        RegressionPredictionTransformer<PoissonRegressionModelParameters> p =>
            new LinearModel(featurizer, null, p.Model.Weights, p.Model.Bias, true),
        RegressionPredictionTransformer<LinearRegressionModelParameters> p =>
            new LinearModel(featurizer, null, p.Model.Weights, p.Model.Bias, false),
        _ => null,
    };

    public override float Score(ReadOnlySpan<float> features, Span<ulong> scratch)
    {
        var sum = _bias;
        var n = Math.Min(features.Length, _weights.Length);
        for (var i = 0; i < n; i++)
        {
            sum += _weights[i] * features[i];
        }

        return _exponential ? MathF.Exp(sum) : sum;
    }
}
