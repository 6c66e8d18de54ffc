using Microsoft.ML;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Serverless.Pipeline.Data;

namespace Serverless.Pipeline.Training;

// Each trainer of a configuration, built with its hyperparameters (the rest of TrialRunner is in TrialRunner.cs).
public sealed partial class TrialRunner
{
    /// <summary>
    /// The ML.NET trainer of a configuration for the task, single-threaded and seeded, with the library's defaults for
    /// what the configuration does not set.
    /// </summary>
    private static IEstimator<ITransformer> Trainer(MLContext ml, MlTask task, TrialConfiguration configuration)
    {
        var p = configuration.Parameters;
        int? Int(string name) => p.TryGetValue(name, out var v) ? (int)Math.Round(v) : null;
        double? Real(string name) => p.TryGetValue(name, out var v) ? v : null;
        var (seed, label) = (configuration.Seed, Label(task));
        // LightGBM's and FastTree's own defaults where a parameter is not given.
        var (gbmLeaves, gbmRate, gbmIterations, gbmMin) =
            (Int("numberOfLeaves") ?? 31, Real("learningRate") ?? 0.1, Int("numberOfIterations") ?? 100, Int("minimumExampleCountPerLeaf") ?? 20);
        var (ftLeaves, ftTrees, ftRate, ftMin) =
            (Int("numberOfLeaves") ?? 20, Int("numberOfTrees") ?? 100, Real("learningRate") ?? 0.2, Int("minimumExampleCountPerLeaf") ?? 10);
        var (l1, l2) = ((float)(Real("l1Regularization") ?? 1), (float)(Real("l2Regularization") ?? 1));
        FastTreeBinaryTrainer.Options BinaryFastTree() => new()
        {
            NumberOfLeaves = ftLeaves, NumberOfTrees = ftTrees, LearningRate = ftRate, MinimumExampleCountPerLeaf = ftMin,
            NumberOfThreads = 1, Seed = seed, LabelColumnName = label,
        };

        IEstimator<ITransformer> trainer = (configuration.Trainer.ToUpperInvariant(), task) switch
        {
            ("LIGHTGBM", MlTask.BinaryClassification) => ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
            {
                NumberOfLeaves = gbmLeaves, LearningRate = gbmRate, NumberOfIterations = gbmIterations, MinimumExampleCountPerLeaf = gbmMin,
                NumberOfThreads = 1, Seed = seed, Deterministic = true, LabelColumnName = label,
            }),
            ("LIGHTGBM", MlTask.MulticlassClassification) => ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options
            {
                NumberOfLeaves = gbmLeaves, LearningRate = gbmRate, NumberOfIterations = gbmIterations, MinimumExampleCountPerLeaf = gbmMin,
                NumberOfThreads = 1, Seed = seed, Deterministic = true, LabelColumnName = label,
            }),
            ("LIGHTGBM", _) => ml.Regression.Trainers.LightGbm(new LightGbmRegressionTrainer.Options
            {
                NumberOfLeaves = gbmLeaves, LearningRate = gbmRate, NumberOfIterations = gbmIterations, MinimumExampleCountPerLeaf = gbmMin,
                NumberOfThreads = 1, Seed = seed, Deterministic = true, LabelColumnName = label,
            }),
            ("FASTTREE", MlTask.BinaryClassification) => ml.BinaryClassification.Trainers.FastTree(BinaryFastTree()),
            ("FASTTREE", MlTask.MulticlassClassification) =>
                ml.MulticlassClassification.Trainers.OneVersusAll(ml.BinaryClassification.Trainers.FastTree(BinaryFastTree())),
            ("FASTTREE", _) => ml.Regression.Trainers.FastTree(new FastTreeRegressionTrainer.Options
            {
                NumberOfLeaves = ftLeaves, NumberOfTrees = ftTrees, LearningRate = ftRate, MinimumExampleCountPerLeaf = ftMin,
                NumberOfThreads = 1, Seed = seed, LabelColumnName = label,
            }),
            ("SDCA", MlTask.BinaryClassification) => ml.BinaryClassification.Trainers.SdcaLogisticRegression(
                new SdcaLogisticRegressionBinaryTrainer.Options
                {
                    L2Regularization = (float?)Real("l2Regularization"), MaximumNumberOfIterations = Int("maximumNumberOfIterations"),
                    NumberOfThreads = 1, LabelColumnName = label,
                }),
            ("SDCA", MlTask.MulticlassClassification) => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(
                new SdcaMaximumEntropyMulticlassTrainer.Options
                {
                    L2Regularization = (float?)Real("l2Regularization"), MaximumNumberOfIterations = Int("maximumNumberOfIterations"),
                    NumberOfThreads = 1, LabelColumnName = label,
                }),
            // SDCA regression's auto-tuned defaults can diverge (non-finite weights); explicit ones keep it stable.
            ("SDCA", _) => ml.Regression.Trainers.Sdca(new SdcaRegressionTrainer.Options
            {
                L2Regularization = (float)(Real("l2Regularization") ?? 0.01), MaximumNumberOfIterations = Int("maximumNumberOfIterations") ?? 100,
                NumberOfThreads = 1, LabelColumnName = label,
            }),
            ("LBFGS", MlTask.BinaryClassification) => ml.BinaryClassification.Trainers.LbfgsLogisticRegression(
                new LbfgsLogisticRegressionBinaryTrainer.Options
                {
                    L1Regularization = l1, L2Regularization = l2, NumberOfThreads = 1, LabelColumnName = label,
                }),
            ("LBFGS", MlTask.MulticlassClassification) => ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(
                new LbfgsMaximumEntropyMulticlassTrainer.Options
                {
                    L1Regularization = l1, L2Regularization = l2, NumberOfThreads = 1, LabelColumnName = label,
                }),
            _ => ml.Regression.Trainers.LbfgsPoissonRegression(
                new LbfgsPoissonRegressionTrainer.Options { L1Regularization = l1, L2Regularization = l2, NumberOfThreads = 1, LabelColumnName = label }),
        };

        return task == MlTask.MulticlassClassification
            ? trainer.Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
            : trainer;
    }

    /// <summary>The label column a task's trainers read.</summary>
    internal static string Label(MlTask task) => task switch
    {
        MlTask.BinaryClassification => nameof(FeatureRow.Positive),
        MlTask.Regression => nameof(FeatureRow.Value),
        _ => "Label",
    };
}
