using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Scoring;

/// <summary>
/// Scores rows through a LightGBM or FastTree ensemble (binary with Platt calibration, or regression) several times
/// faster than ML.NET's row-at-a-time tree walk. ML.NET still featurizes each row (imputation, one-hot,
/// concatenation); the trees, read through ML.NET's public <see cref="RegressionTree"/> API, are then evaluated with
/// QuickScorer (Lucchese et al., SIGIR 2015): each tree's leaves are numbered left to right and a row keeps one bit
/// per leaf that it can still reach. For each feature, the splits on it are sorted by threshold, and the splits the
/// row's value fails (it goes right) clear the bits of their left subtrees; the row's leaf in each tree is then the
/// lowest bit left. That trades the walk's unpredictable branches and dependent loads for short, predictable loops
/// over sorted arrays (see docs/BENCHMARKS.md). Scores equal ML.NET's to float rounding. Models it does not cover
/// (multiclass, linear, categorical splits, trees of more than 64 leaves) return null from <see cref="TryCreate"/>
/// and keep ML.NET's path.
/// </summary>
internal sealed class TreeEnsembleScorer : VectorModel
{
    private const int MaxLeaves = 64;

    private readonly double _bias;
    private readonly int _treeCount;

    // The splits, grouped by feature and sorted by threshold within a feature: the features with splits, where each
    // feature's splits start (and end, at the next entry), and per split its threshold, tree and leaf mask.
    private readonly int[] _features;
    private readonly int[] _splitStarts;
    private readonly float[] _thresholds;
    private readonly int[] _splitTrees;
    private readonly ulong[] _masks;

    // Each tree's leaf values (times the tree's weight) in left-to-right order, from the tree's start.
    private readonly int[] _leafStarts;
    private readonly double[] _leafValues;

    private TreeEnsembleScorer(ITransformer featurizer, TreeEnsemble<RegressionTree> ensemble, PlattCalibrator? calibrator)
        : base(featurizer, calibrator)
    {
        _bias = ensemble.Bias;
        var trees = ensemble.Trees;
        _treeCount = trees.Count;
        _leafStarts = new int[trees.Count];
        _leafValues = new double[trees.Sum(t => t.NumberOfLeaves)];
        var splits = new List<(int Feature, float Threshold, int Tree, ulong Mask)>();
        var leaf = 0;
        for (var t = 0; t < trees.Count; t++)
        {
            var tree = trees[t];
            var weight = ensemble.TreeWeights[t];
            _leafStarts[t] = leaf;
            if (tree.NumberOfNodes == 0)
            {
                _leafValues[leaf++] = tree.LeafValues[0] * weight;
                continue;
            }

            // In order, left subtree first: a subtree's leaves get consecutive numbers, and a split's mask clears its left subtree's.
            (int First, int Count) Visit(int node)
            {
                if (node < 0)
                {
                    _leafValues[leaf] = tree.LeafValues[~node] * weight;
                    return (leaf++ - _leafStarts[t], 1);
                }

                var left = Visit(tree.LeftChild[node]);
                var right = Visit(tree.RightChild[node]);
                var leftLeaves = (left.Count == MaxLeaves ? ulong.MaxValue : (1UL << left.Count) - 1) << left.First;
                splits.Add((tree.NumericalSplitFeatureIndexes[node], tree.NumericalSplitThresholds[node], t, ~leftLeaves));
                return (left.First, left.Count + right.Count);
            }

            Visit(0);
        }

        splits.Sort((a, b) => a.Feature != b.Feature ? a.Feature.CompareTo(b.Feature) : a.Threshold.CompareTo(b.Threshold));
        _thresholds = [.. splits.Select(s => s.Threshold)];
        _splitTrees = [.. splits.Select(s => s.Tree)];
        _masks = [.. splits.Select(s => s.Mask)];
        _features = [.. splits.Select(s => s.Feature).Distinct()];
        _splitStarts = new int[_features.Length + 1];
        for (int f = 0, s = 0; f < _features.Length; f++)
        {
            _splitStarts[f] = s;
            while (s < splits.Count && splits[s].Feature == _features[f])
            {
                s++;
            }

            _splitStarts[f + 1] = s;
        }
    }

    /// <summary>The length of the per-thread buffer of reachable leaves: one word per tree.</summary>
    public override int ScratchLength => _treeCount;

    /// <summary>The evaluator of a model's last part, or null when it is not a tree ensemble it covers.</summary>
    public static TreeEnsembleScorer? TryCreate(ITransformer predictor, ITransformer featurizer)
    {
        (TreeEnsemble<RegressionTree>? ensemble, PlattCalibrator? calibrator) = predictor switch
        {
            BinaryPredictionTransformer<CalibratedModelParametersBase<LightGbmBinaryModelParameters, PlattCalibrator>> p => (p.Model.SubModel.TrainedTreeEnsemble, p.Model.Calibrator),
            BinaryPredictionTransformer<CalibratedModelParametersBase<FastTreeBinaryModelParameters, PlattCalibrator>> p => (p.Model.SubModel.TrainedTreeEnsemble, p.Model.Calibrator),
            RegressionPredictionTransformer<LightGbmRegressionModelParameters> p => (p.Model.TrainedTreeEnsemble, null),
            RegressionPredictionTransformer<FastTreeRegressionModelParameters> p => (p.Model.TrainedTreeEnsemble, null),
            _ => (null, null),
        };
        if (ensemble is null || ensemble.Trees.Any(t => t.CategoricalSplitFlags.Any(f => f) || t.NumberOfLeaves > MaxLeaves))
        {
            return null;
        }

        return new TreeEnsembleScorer(featurizer, ensemble, calibrator);
    }

    /// <summary>The raw ensemble score of one featurized row (tests compare it with ML.NET's trees).</summary>
    internal float Score(ReadOnlySpan<float> features) => Score(features, new ulong[_treeCount]);

    /// <summary>Every split's feature and threshold (tests put values right on them).</summary>
    internal IEnumerable<(int Feature, float Threshold)> Splits =>
        Enumerable.Range(0, _features.Length).SelectMany(f => _thresholds[_splitStarts[f].._splitStarts[f + 1]].Select(t => (_features[f], t)));

    /// <summary>The raw ensemble score of one row's features.</summary>
    /// <remarks>
    /// The inner loops index without bounds checks (they run about 1,500 times per row for 100 trees of 31 leaves):
    /// every split index is below <c>_splitStarts[^1]</c>, the length of the split arrays, and every split's tree is
    /// below the tree count, the length of <paramref name="reachable"/>; both hold by construction.
    /// </remarks>
    public override float Score(ReadOnlySpan<float> row, Span<ulong> reachable)
    {
        reachable.Fill(ulong.MaxValue);
        ref var bits = ref MemoryMarshal.GetReference(reachable);
        ref var thresholds = ref MemoryMarshal.GetArrayDataReference(_thresholds);
        ref var trees = ref MemoryMarshal.GetArrayDataReference(_splitTrees);
        ref var masks = ref MemoryMarshal.GetArrayDataReference(_masks);
        for (var f = 0; f < _features.Length; f++)
        {
            var value = row[_features[f]];
            var end = _splitStarts[f + 1];
            var s = _splitStarts[f];

            // A row goes left when value <= threshold; the splits it goes right at are those with a smaller threshold
            // (all of them for a missing value, which compares false).
            if (float.IsNaN(value))
            {
                for (; s < end; s++)
                {
                    Unsafe.Add(ref bits, Unsafe.Add(ref trees, s)) &= Unsafe.Add(ref masks, s);
                }

                continue;
            }

            for (; s < end && Unsafe.Add(ref thresholds, s) < value; s++)
            {
                Unsafe.Add(ref bits, Unsafe.Add(ref trees, s)) &= Unsafe.Add(ref masks, s);
            }
        }

        var sum = _bias;
        for (var t = 0; t < reachable.Length; t++)
        {
            sum += _leafValues[_leafStarts[t] + BitOperations.TrailingZeroCount(reachable[t])];
        }

        return (float)sum;
    }
}
