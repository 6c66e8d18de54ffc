using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Evaluation;
using Sylvan.Data.Csv;

namespace Serverless.Pipeline.Training;

/// <summary>
/// One configuration to try: a trainer, its hyperparameters, and the seed of the split and the trainer; or a voting
/// ensemble (<see cref="EnsembleSelection.Trainer"/>) of <see cref="Members"/>.
/// </summary>
public sealed record TrialConfiguration(string Trainer, IReadOnlyDictionary<string, double> Parameters, int Seed = 1)
{
    /// <summary>An ensemble's members and weights; null for one trainer.</summary>
    public IReadOnlyList<EnsembleMember>? Members { get; init; }
}

/// <summary>
/// What a trial measured (on the validation split, or averaged over <see cref="Folds"/> cross-validation folds), and
/// the trained model (an ML.NET zip) with its SHA-256 (empty when none was kept).
/// </summary>
public sealed record TrialResult(
    TrialConfiguration Configuration,
    MlTask Task,
    IReadOnlyDictionary<string, double> Metrics,
    string PrimaryMetric,
    double PrimaryValue,
    int TrainRows,
    int ValidationRows,
    byte[] Model,
    string ModelSha256,
    TimeSpan Duration,
    int Folds = 0)
{
    /// <summary>
    /// A cross-validated trial's out-of-fold predictions on the rows it validated, in the layout of
    /// <see cref="CrossValidated.Predictions"/>; null when it was validated on one split or trained on a fraction.
    /// </summary>
    public float[]? OutOfFold { get; init; }
}

/// <summary>
/// Runs one trial as a pure step, (configuration, snapshot data) → metrics and model, so the app can run each trial
/// as an activity. Same inputs and seed, same metrics: the split is seeded and stratified, and trainers run on one
/// thread with the seed.
/// </summary>
public sealed partial class TrialRunner
{
    /// <summary>Trainers by name, with the hyperparameters each reads (others are refused).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Trainers = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase)
    {
        ["LightGbm"] = ["numberOfLeaves", "learningRate", "numberOfIterations", "minimumExampleCountPerLeaf"],
        ["FastTree"] = ["numberOfLeaves", "numberOfTrees", "learningRate", "minimumExampleCountPerLeaf"],
        ["Sdca"] = ["l2Regularization", "maximumNumberOfIterations"],
        ["Lbfgs"] = ["l1Regularization", "l2Regularization"],
    };

    /// <summary>The fraction of the non-holdout rows held out to validate each trial on a large dataset.</summary>
    public const double ValidationFraction = 0.2;

    /// <summary>
    /// From this many rows (after the holdout) a trial is validated on one split of <see cref="ValidationFraction"/>;
    /// below it, by cross-validation (see <see cref="ValidationFolds"/>), as Azure ML's automated ML does by default.
    /// </summary>
    public const int SplitValidationRows = 20_000;

    /// <summary>
    /// The fraction of all rows set aside before the sweep: no trial trains or is chosen on them, so the evaluation's
    /// holdout metrics are an honest estimate. The same rows for every trial of a seed.
    /// </summary>
    public const double HoldoutFraction = 0.1;

    /// <summary>
    /// How a trial on <paramref name="rows"/> rows is validated: 0 for one validation split (large data), else the
    /// number of cross-validation folds: 10 below 1,000 rows, as Azure ML's automated ML chooses by default, and 5 below
    /// <see cref="SplitValidationRows"/> (Azure ML takes 3). On small data one split validates on too few rows to tell
    /// configurations apart (a 20% split of 130 rows moves accuracy in steps of 4%); every row validating once is
    /// steadier, and training a few more small models is cheap. The trials' out-of-fold predictions are also what the
    /// voting ensemble is built from, and models trained on 80% of the rows predict them better than on 67%.
    /// </summary>
    public static int ValidationFolds(int rows) => rows < 1_000 ? 10 : rows < SplitValidationRows ? 5 : 0;

    /// <summary>
    /// Trains and evaluates on <paramref name="data"/> (a snapshot's data.csv) with the snapshot's schema and profile.
    /// <paramref name="holdoutFraction"/> of all rows are left out first (see <see cref="HoldoutFraction"/>); the rest
    /// validate the configuration by k-fold cross-validation when they are fewer than <see cref="SplitValidationRows"/>
    /// (<see cref="ValidationFolds"/>; the metrics are the folds' means), else on one split of
    /// <paramref name="validationFraction"/>. The model returned is trained on all the rest in the first case and on
    /// the split's training part in the second. With a <paramref name="validationFraction"/> of 0 every row trains (a
    /// refit of a chosen configuration passes 0 for both fractions) and no metrics are reported.
    /// <paramref name="trainFraction"/> below 1 trains on that share of the training rows (stratified, the same rows
    /// for the same seed): a cheap early step of a sweep with early termination, measured on the same validation rows
    /// as the full step. <paramref name="folds"/>, when given, cross-validates with that many folds at any size.
    /// Without <paramref name="keepModel"/> a cross-validated trial trains no model on all its rows (one fit in
    /// <c>k + 1</c> saved) and returns an empty <see cref="TrialResult.Model"/>; a split-validated one keeps the model
    /// it validated, which costs nothing more.
    /// </summary>
    public TrialResult Run(
        Stream data, DatasetSnapshot snapshot, FeaturizationPlan plan, TrialConfiguration configuration, double validationFraction = ValidationFraction,
        double trainFraction = 1, double holdoutFraction = HoldoutFraction, int? folds = null, bool keepModel = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(folds ?? 2, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(validationFraction, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(validationFraction, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(trainFraction, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(trainFraction, 1);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var member in configuration.Members?.Select(m => m.Configuration) ?? [configuration])
        {
            Validate(member);
        }

        var clock = Stopwatch.StartNew();
        var (_, rows) = ReadRows(data, plan);
        var (work, _) = WithoutHoldout(rows, plan.Task, configuration.Seed, holdoutFraction);
        var ml = new MLContext(seed: configuration.Seed);
        var schema = FeatureRowBuilder.Schema(plan);
        var k = validationFraction > 0 ? folds ?? ValidationFolds(work.Count) : 0;
        Dictionary<string, double> metrics;
        float[]? outOfFold = null;
        List<FeatureRow> train;
        int validationRows;
        ITransformer? model = null;
        if (k > 1)
        {
            // Each fold validates a model trained on (the train fraction of) the other folds; then one model on all of them.
            outOfFold = trainFraction < 1 ? null : new float[work.Count * PredictionWidth(plan)];
            var perFold = outOfFold is null
                ? CrossValidate(ml, plan, configuration, schema, work, k, trainFraction)
                : CrossValidate(ml, plan, configuration, schema, work, k, outOfFold, new int[work.Count]);
            metrics = perFold[0].Keys.ToDictionary(m => m, m => perFold.Average(f => f[m]));
            train = Split(work, LabelOf, plan.Task, configuration.Seed, 0, trainFraction).Train;
            validationRows = work.Count;
        }
        else
        {
            (train, var validation) = Split(work, LabelOf, plan.Task, configuration.Seed, validationFraction, trainFraction);
            metrics = [];
            validationRows = validation.Count;
            if (validation.Count > 0)
            {
                model = Pipeline(ml, plan, configuration).Fit(ml.Data.LoadFromEnumerable(train, schema));
                metrics = Evaluate(plan.Task, model.Transform(ml.Data.LoadFromEnumerable(validation, schema)));
            }
        }

        byte[] bytes = [];
        if (model is not null || keepModel)
        {
            var trainView = ml.Data.LoadFromEnumerable(train, schema);
            model ??= Pipeline(ml, plan, configuration).Fit(trainView);
            bytes = ModelArtifact.Save(ml, model, trainView.Schema);
        }

        var primary = PrimaryMetric(plan.Task);
        var sha256 = bytes.Length == 0 ? string.Empty : Convert.ToHexStringLower(SHA256.HashData(bytes));
        return new TrialResult(
            configuration, plan.Task, metrics, primary, metrics.GetValueOrDefault(primary, double.NaN), train.Count, validationRows, bytes, sha256,
            clock.Elapsed, k)
        {
            OutOfFold = outOfFold,
        };
    }

    /// <summary>Out-of-fold values a row: the number of classes for multiclass, else 1.</summary>
    public static int PredictionWidth(FeaturizationPlan plan) => plan.Task == MlTask.MulticlassClassification ? plan.Classes.Count : 1;

    /// <summary>A trainer this runner knows, with only hyperparameters it reads.</summary>
    private static void Validate(TrialConfiguration configuration)
    {
        if (!Trainers.TryGetValue(configuration.Trainer, out var known))
        {
            throw new ArgumentException($"Unknown trainer '{configuration.Trainer}'; use one of {string.Join(", ", Trainers.Keys)}.", nameof(configuration));
        }

        var unknown = configuration.Parameters.Keys.Except(known, StringComparer.OrdinalIgnoreCase).ToList();
        if (unknown.Count > 0)
        {
            var named = string.Join(", ", unknown.Select(u => $"'{u}'"));
            throw new ArgumentException(
                $"Trainer '{configuration.Trainer}' has no hyperparameter {named}; it takes {string.Join(", ", known)}.", nameof(configuration));
        }
    }

    /// <summary>The metrics of a saved model on other data (a holdout or test file with the label), read as in training.</summary>
    public static IReadOnlyDictionary<string, double> Evaluate(byte[] model, FeaturizationPlan plan, Stream data)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        var ml = new MLContext(seed: 1);
        var loaded = ModelArtifact.Load(ml, new MemoryStream(model), plan);
        var view = ml.Data.LoadFromEnumerable(ReadRows(data, plan).Rows, FeatureRowBuilder.Schema(plan));
        return Evaluate(plan.Task, loaded.Transform(view));
    }

    /// <summary>The metric a sweep optimizes by default, and its goal (all maximized except the regression errors).</summary>
    public static string PrimaryMetric(MlTask task) => task switch
    {
        MlTask.BinaryClassification => "auc",
        MlTask.MulticlassClassification => "macroAccuracy",
        _ => "rSquared",
    };

    /// <summary>The estimator of a configuration: featurization (normalized for linear trainers), then the trainer.</summary>
    internal static IEstimator<ITransformer> Pipeline(MLContext ml, FeaturizationPlan plan, TrialConfiguration configuration) =>
        configuration.Members is { Count: > 0 } members
            ? new EnsembleEstimator(ml, plan, members)
            : Featurize(ml, plan, LinearTrainer(configuration.Trainer)).Append(Trainer(ml, plan.Task, configuration));

    /// <summary>Whether a bigger value of <paramref name="metric"/> is better: all but the errors and the log-loss.</summary>
    public static MetricGoal Goal(string metric) =>
        metric is "rmse" or "mae" or "logLoss" ? MetricGoal.Minimize : MetricGoal.Maximize;

    private static bool LinearTrainer(string trainer) =>
        string.Equals(trainer, "Sdca", StringComparison.OrdinalIgnoreCase) || string.Equals(trainer, "Lbfgs", StringComparison.OrdinalIgnoreCase);

    private static IEstimator<ITransformer> Featurize(MLContext ml, FeaturizationPlan plan, bool normalize)
    {
        var parts = new List<string> { nameof(FeatureRow.Numeric) };
        IEstimator<ITransformer> pipeline = ml.Transforms.ReplaceMissingValues(
            nameof(FeatureRow.Numeric), replacementMode: Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.Mean);
        if (plan.Categorical.Count > 0)
        {
            pipeline = pipeline.Append(ml.Transforms.Categorical.OneHotEncoding("CategoricalFeatures", nameof(FeatureRow.Categorical)));
            parts.Add("CategoricalFeatures");
        }

        if (plan.HashedCategorical.Count > 0)
        {
            pipeline = pipeline.Append(ml.Transforms.Categorical.OneHotHashEncoding("HashedFeatures", nameof(FeatureRow.Hashed), numberOfBits: 12));
            parts.Add("HashedFeatures");
        }

        if (plan.Text.Count > 0)
        {
            pipeline = pipeline.Append(ml.Transforms.Text.FeaturizeText("TextFeatures", nameof(FeatureRow.Text)));
            parts.Add("TextFeatures");
        }

        pipeline = pipeline.Append(ml.Transforms.Concatenate("Features", [.. parts]));
        if (normalize)
        {
            pipeline = pipeline.Append(ml.Transforms.NormalizeMeanVariance("Features"));
        }

        return plan.Task == MlTask.MulticlassClassification
            ? pipeline.Append(ml.Transforms.Conversion.MapValueToKey("Label", nameof(FeatureRow.LabelText)))
            : pipeline;
    }

    /// <summary>
    /// The metrics as scikit-learn and Azure ML define them (<see cref="Metrics"/>), from the scored rows; binary ones
    /// are for the positive class (the plan's last class).
    /// </summary>
    internal static Dictionary<string, double> Evaluate(MlTask task, IDataView scored)
    {
        switch (task)
        {
            case MlTask.BinaryClassification:
                return Metrics.Binary(
                    [.. scored.GetColumn<bool>(Label(task))], [.. scored.GetColumn<float>("Probability")], [.. scored.GetColumn<bool>("PredictedLabel")]);
            case MlTask.MulticlassClassification:
                return Metrics.Multiclass(
                    [.. scored.GetColumn<uint>("Label").Select(k => (int)k - 1)],
                    [.. scored.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray())]);
            default:
                return Metrics.Regression([.. scored.GetColumn<float>(Label(task))], [.. scored.GetColumn<float>("Score")]);
        }
    }

    /// <summary>
    /// A snapshot's header and rows, each built as the model sees it while it is read and numbered from 2 (the header
    /// is row 1). The fields are not kept, and equal categories and classes share one string: a row of 15 numbers and
    /// 5 categories takes about 300 bytes (see docs/BENCHMARKS.md). A snapshot holds only valid rows, so a row that
    /// does not build means the data does not match its plan, and throws.
    /// </summary>
    internal static (string[] Header, List<FeatureRow> Rows) ReadRows(Stream data, FeaturizationPlan plan)
    {
        using var reader = new StreamReader(data, leaveOpen: true);
        using var csv = CsvDataReader.Create(reader, new CsvDataReaderOptions { HasHeaders = true });
        string[] header = [.. Enumerable.Range(0, csv.FieldCount).Select(csv.GetName)];
        var builder = new FeatureRowBuilder(plan, header, shareValues: true);
        var rows = new List<FeatureRow>();
        var fields = new string[header.Length];
        for (var row = 2L; csv.Read(); row++)
        {
            if (fields.Length != csv.RowFieldCount)
            {
                fields = new string[csv.RowFieldCount];
            }

            for (var i = 0; i < fields.Length; i++)
            {
                fields[i] = csv.GetString(i);
            }

            rows.Add(builder.TryBuild(fields, row, out var error)
                ?? throw new DatasetValidationException(
                    "data.csv",
                    $"Snapshot data, record {row - 1}: {error}. A snapshot holds only valid rows, so this data does not match its schema.",
                    row));
        }

        return (header, rows);
    }
}
