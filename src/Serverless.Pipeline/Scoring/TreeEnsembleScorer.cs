using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Scoring;

/// <summary>
/// Scores a block of rows through a LightGBM or FastTree ensemble (binary with Platt calibration, or regression)
/// faster than ML.NET's row-at-a-time evaluator. ML.NET still featurizes each row (imputation, one-hot, concatenation:
/// about 1 µs); the trees, read through ML.NET's public <see cref="RegressionTree"/> API and flattened into arrays,
/// are then walked for all rows of the block together, so the memory loads of different rows overlap instead of
/// waiting on each other (5 µs per row instead of 9 for 100 trees of depth 10; see docs/BENCHMARKS.md). Scores equal
/// ML.NET's to float rounding. Models it does not cover (multiclass, linear, categorical splits) return null from
/// <see cref="TryCreate"/> and keep ML.NET's path.
/// </summary>
internal sealed class TreeEnsembleScorer
{
    /// <summary>How many rows walk the trees together.</summary>
    public const int BlockSize = 32;

    private readonly MLContext _ml;
    private readonly ITransformer _featurizer;
    private readonly SchemaDefinition _schema;
    private readonly double _bias;
    private readonly int[] _treeStarts;
    private readonly int[] _leafStarts;
    private readonly Node[] _nodes;
    private readonly double[] _leafValues;
    private readonly PlattCalibrator? _calibrator;

    private TreeEnsembleScorer(MLContext ml, ITransformer featurizer, SchemaDefinition schema, TreeEnsemble<RegressionTree> ensemble, PlattCalibrator? calibrator)
    {
        _ml = ml;
        _featurizer = featurizer;
        _schema = schema;
        _calibrator = calibrator;
        _bias = ensemble.Bias;
        var trees = ensemble.Trees;
        _treeStarts = new int[trees.Count];
        _leafStarts = new int[trees.Count];
        _nodes = new Node[trees.Sum(t => t.NumberOfNodes)];
        _leafValues = new double[trees.Sum(t => t.NumberOfLeaves)];
        int node = 0, leaf = 0;
        for (var t = 0; t < trees.Count; t++)
        {
            var tree = trees[t];
            (_treeStarts[t], _leafStarts[t]) = (node, leaf);
            for (var n = 0; n < tree.NumberOfNodes; n++, node++)
            {
                _nodes[node] = new Node(tree.NumericalSplitFeatureIndexes[n], tree.NumericalSplitThresholds[n], tree.LeftChild[n], tree.RightChild[n]);
            }

            for (var l = 0; l < tree.NumberOfLeaves; l++, leaf++)
            {
                _leafValues[leaf] = tree.LeafValues[l] * ensemble.TreeWeights[t];
            }
        }
    }

    /// <summary>Whether scores are probabilities (a calibrated binary classifier) rather than regression values.</summary>
    public bool Calibrated => _calibrator is not null;

    /// <summary>The scorer of a loaded model, or null when the model is not a tree ensemble it covers.</summary>
    public static TreeEnsembleScorer? TryCreate(MLContext ml, ITransformer model, FeaturizationPlan plan)
    {
        if (model is not TransformerChain<ITransformer> chain || plan.Task == MlTask.MulticlassClassification)
        {
            return null;
        }

        var parts = chain.ToList();
        if (parts.Count < 2)
        {
            return null;
        }

        (TreeEnsemble<RegressionTree>? ensemble, PlattCalibrator? calibrator) = parts[^1] switch
        {
            BinaryPredictionTransformer<CalibratedModelParametersBase<LightGbmBinaryModelParameters, PlattCalibrator>> p => (p.Model.SubModel.TrainedTreeEnsemble, p.Model.Calibrator),
            BinaryPredictionTransformer<CalibratedModelParametersBase<FastTreeBinaryModelParameters, PlattCalibrator>> p => (p.Model.SubModel.TrainedTreeEnsemble, p.Model.Calibrator),
            RegressionPredictionTransformer<LightGbmRegressionModelParameters> p => (p.Model.TrainedTreeEnsemble, null),
            RegressionPredictionTransformer<FastTreeRegressionModelParameters> p => (p.Model.TrainedTreeEnsemble, null),
            _ => (null, null),
        };
        if (ensemble is null || ensemble.Trees.Any(t => t.CategoricalSplitFlags.Any(f => f) || t.NumberOfNodes == 0))
        {
            return null;
        }

        return new TreeEnsembleScorer(ml, new TransformerChain<ITransformer>([.. parts.Take(parts.Count - 1)]), FeatureRowBuilder.Schema(plan), ensemble, calibrator);
    }

    /// <summary>
    /// A featurizer over its own prediction engine (one thread at a time): a row's feature vector, copied into the
    /// buffer given (a new one when it is null or of another length), which it returns.
    /// </summary>
    public Func<FeatureRow, float[]?, float[]> CreateFeaturizer()
    {
        var engine = _ml.Model.CreatePredictionEngine<FeatureRow, FeatureVector>(_featurizer, inputSchemaDefinition: _schema);
        var output = new FeatureVector();
        return (row, buffer) =>
        {
            engine.Predict(row, ref output);
            if (buffer is null || buffer.Length != output.Features.Length)
            {
                buffer = new float[output.Features.Length];
            }

            output.Features.AsSpan().CopyTo(buffer);
            return buffer;
        };
    }

    /// <summary>The raw ensemble scores of <paramref name="count"/> rows, walked through each tree together.</summary>
    public void Score(float[][] rows, int count, Span<float> scores)
    {
        Span<double> sums = stackalloc double[BlockSize];
        Span<int> at = stackalloc int[BlockSize];
        sums[..count].Fill(_bias);
        var nodes = _nodes.AsSpan();
        for (var t = 0; t < _treeStarts.Length; t++)
        {
            var tree = nodes[_treeStarts[t]..];
            at[..count].Clear();
            var walking = true;
            while (walking)
            {
                walking = false;
                for (var r = 0; r < count; r++)
                {
                    var n = at[r];
                    if (n >= 0)
                    {
                        ref readonly var node = ref tree[n];
                        at[r] = rows[r][node.Feature] <= node.Threshold ? node.Left : node.Right;
                        walking = true;
                    }
                }
            }

            var leaves = _leafStarts[t];
            for (var r = 0; r < count; r++)
            {
                sums[r] += _leafValues[leaves + ~at[r]];
            }
        }

        for (var r = 0; r < count; r++)
        {
            scores[r] = (float)sums[r];
        }
    }

    /// <summary>The calibrated probability of a raw score (binary classifiers).</summary>
    public float Probability(float score) => _calibrator!.PredictProbability(score);

    /// <summary>A split, in one 16-byte record so a step of the walk reads one place.</summary>
    private readonly record struct Node(int Feature, float Threshold, int Left, int Right);

    private sealed class FeatureVector
    {
        public float[] Features { get; set; } = [];
    }
}
