using System.Globalization;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Evaluation;
using Serverless.Pipeline.Registry;
using Serverless.Pipeline.Training;
using Serverless.Storage;

namespace Serverless.Functions.Training;

/// <summary>
/// A training run as a caller asks for it (<c>POST /api/models/{model}/train</c>): the model to train (from the route),
/// the dataset blob in the <c>datasets</c> container, its label, and optionally the task, the sweep, early
/// termination, every trial's cross-validation folds (<see cref="Folds"/>: null chooses by row count, see
/// <see cref="TrialRunner.ValidationFolds"/>), and promotion (the alias, the margin by which a new version must beat
/// the holder, and whether a person must approve it).
/// </summary>
public sealed record TrainingRequest(
    string Model,
    string Dataset,
    string Label,
    MlTask? Task = null,
    SweepSpec? Sweep = null,
    EarlyTerminationSpec? EarlyTermination = null,
    int MaxConcurrentTrials = 4,
    int? Folds = null,
    string PromoteTo = "champion",
    string? Description = null,
    double? PromotionMargin = null,
    bool RequireApproval = false,
    int ApprovalTimeoutHours = 168,
    string? PositiveClass = null,
    TrainingLimits? Limits = null)
{
    /// <summary>The longest description a run and its version keep.</summary>
    public const int MaxDescriptionLength = 8000;

    /// <summary>Where the request of a run that registered a version is kept, in the runs container: what a retrain replays.</summary>
    public static string BlobName(string runId) => $"{runId}/request.json";

    /// <summary>The problems of the request, each naming its field; empty when it can run.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (!ModelRegistry.IsValidName(Model))
        {
            problems.Add("model: 1-63 letters, digits, '-' or '_', starting with a letter or digit.");
        }

        if (!BlobNameRules.IsSafeBlobName(Dataset) || !DatasetIngestor.IsSupported(Dataset))
        {
            problems.Add($"dataset: the name of a blob in the 'datasets' container ending in {string.Join(", ", DatasetIngestor.SupportedExtensions)}, without '.' or '..' segments or backslashes.");
        }

        if (string.IsNullOrWhiteSpace(Label))
        {
            problems.Add("label: the column to predict.");
        }

        // Strings go to Table Storage (64 KiB a property) and blob names (1,024 characters): refused here, not after the sweep.
        foreach (var (field, value, max) in new[] { ("dataset", Dataset, 1024), ("label", Label, 1024), ("positiveClass", PositiveClass, 1024), ("description", Description, MaxDescriptionLength) })
        {
            if (value?.Length > max)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{field}: at most {max:N0} characters (got {value.Length:N0})."));
            }
        }

        if (MaxConcurrentTrials is < 1 or > 64)
        {
            problems.Add("maxConcurrentTrials: between 1 and 64.");
        }

        if (Limits is { } limits)
        {
            problems.AddRange(limits.Problems().Select(p => $"limits.{p}"));
        }

        if (Folds is < 2 or > 20)
        {
            problems.Add("folds: between 2 and 20.");
        }

        if (!ModelRegistry.IsValidName(PromoteTo))
        {
            problems.Add("promoteTo: an alias of letters, digits, '-' or '_'.");
        }

        if (PromotionMargin is { } margin && (!double.IsFinite(margin) || margin < 0))
        {
            problems.Add("promotionMargin: 0 or more (how much better than the alias holder a new version must be; leave it out for the folds' standard error).");
        }

        if (ApprovalTimeoutHours is < 1 or > 24 * 30)
        {
            problems.Add("approvalTimeoutHours: between 1 and 720.");
        }

        try
        {
            SweepPlanner.Spaces(Sweep ?? new SweepSpec(), Task ?? MlTask.BinaryClassification);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            problems.Add($"sweep: {ex.Message}");
        }

        if (EarlyTermination is { } policy && policy.Problem() is { } problem)
        {
            problems.Add($"earlyTermination: {problem}");
        }

        return problems;
    }
}

/// <summary>
/// The sweep's limits, as Azure ML's <c>limits</c> are: <c>timeoutMinutes</c> for the whole sweep (at the budget the
/// sweep stops, trials not finished are left out, and the best so far goes on to evaluation and registration),
/// <c>trialTimeoutMinutes</c> for one trial step, and <c>maxTrials</c> and <c>maxConcurrentTrials</c>, which, when
/// given here, take the place of <c>sweep.maxTrials</c> and the request's <c>maxConcurrentTrials</c>.
/// </summary>
public sealed record TrainingLimits(
    double? TimeoutMinutes = null, double? TrialTimeoutMinutes = null, int? MaxTrials = null, int? MaxConcurrentTrials = null)
{
    /// <summary>
    /// The sweep's budget when the request sets none: enough for the README's sample (12 trials in about 12 s on 2
    /// cores) many times over, and a bound on a run whose data is larger than its author thought.
    /// </summary>
    public const double DefaultTimeoutMinutes = 5;

    /// <summary>The sweep's budget.</summary>
    public TimeSpan Timeout => TimeSpan.FromMinutes(TimeoutMinutes ?? DefaultTimeoutMinutes);

    /// <summary>One trial step's budget (the sweep's when not set).</summary>
    public TimeSpan TrialTimeout => TrialTimeoutMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : Timeout;

    /// <summary>The problems of the limits, each naming its field.</summary>
    public IEnumerable<string> Problems()
    {
        if (TimeoutMinutes is { } timeout && (!double.IsFinite(timeout) || timeout <= 0 || timeout > 43_200))
        {
            yield return "timeoutMinutes: above 0 and at most 43,200 (30 days).";
        }

        if (TrialTimeoutMinutes is { } trial && (!double.IsFinite(trial) || trial <= 0 || trial > (TimeoutMinutes ?? 43_200)))
        {
            yield return "trialTimeoutMinutes: above 0 and at most timeoutMinutes.";
        }

        if (MaxTrials is < 1 or > 1000)
        {
            yield return "maxTrials: between 1 and 1,000.";
        }

        if (MaxConcurrentTrials is < 1 or > 64)
        {
            yield return "maxConcurrentTrials: between 1 and 64.";
        }
    }
}

/// <summary>
/// Early termination as Azure ML configures it: <c>bandit</c> (slackFactor or slackAmount), <c>median</c> or
/// <c>truncation</c> (truncationPercentage), with an evaluation interval and delay. Trials report at
/// <see cref="Steps"/> steps, step k training on k/steps of the training rows, so a poor trial stops after a cheap step.
/// </summary>
public sealed record EarlyTerminationSpec(
    string Policy,
    double? SlackFactor = null,
    double? SlackAmount = null,
    int TruncationPercentage = 20,
    int EvaluationInterval = 1,
    int DelayEvaluation = 0,
    int Steps = 3)
{
    /// <summary>What is wrong with the spec, or null.</summary>
    public string? Problem()
    {
        if (Steps is < 2 or > 10)
        {
            return "steps: between 2 and 10 (a policy needs steps to act between).";
        }

        if (EvaluationInterval < 1 || DelayEvaluation < 0)
        {
            return "evaluationInterval must be at least 1 and delayEvaluation at least 0.";
        }

        return Policy?.ToLowerInvariant() switch
        {
            "bandit" when SlackFactor is null == SlackAmount is null => "a bandit policy takes slackFactor or slackAmount, one of them.",
            "bandit" or "median" => null,
            "truncation" when TruncationPercentage is < 1 or > 99 => "truncationPercentage: between 1 and 99.",
            "truncation" => null,
            _ => "policy: bandit, median or truncation.",
        };
    }

    /// <summary>The policy of the spec.</summary>
    public EarlyTerminationPolicy ToPolicy() => Policy.ToLowerInvariant() switch
    {
        "bandit" => new EarlyTerminationPolicy.Bandit(SlackFactor, SlackAmount, EvaluationInterval, DelayEvaluation),
        "median" => new EarlyTerminationPolicy.MedianStopping(EvaluationInterval, DelayEvaluation),
        _ => new EarlyTerminationPolicy.TruncationSelection(TruncationPercentage, EvaluationInterval, DelayEvaluation),
    };
}

/// <summary>Input of <c>IngestDataset</c>.</summary>
public sealed record IngestInput(string RunId, string Model, string Dataset, string Label, MlTask? Task, string? PositiveClass = null);

/// <summary>The snapshot a run trains on, and what its label calls for.</summary>
public sealed record SnapshotSummary(
    string Id, string Source, long RowsRead, long RowsAccepted, long RowsRejected, MlTask Task, string PrimaryMetric, MetricGoal Goal, string? PositiveClass = null);

/// <summary>Input of <c>RunTrial</c>: one configuration at one step.</summary>
public sealed record TrialInput(
    string RunId, string Model, string SnapshotId, string Label, MlTask Task, int Index, TrialConfiguration Configuration, int Step, int Steps, string? PositiveClass = null,
    int? Folds = null);

/// <summary>What a trial step measured (Value is the primary metric; NaN when it failed).</summary>
public sealed record TrialOutcome(int Index, int Step, string Trainer, IReadOnlyDictionary<string, double> Parameters, IReadOnlyDictionary<string, double> Metrics, double Value, string? Error);

/// <summary>Input of <c>EndTrials</c>: trials the policy stopped, with their last metrics.</summary>
public sealed record StoppedTrials(string RunId, string Model, IReadOnlyList<TrialOutcome> Trials);

/// <summary>Input of <c>EvaluateModel</c>: the best configurations by validation, best first, and the whole sweep for the report.</summary>
public sealed record EvaluateInput(
    string RunId, string Model, string SnapshotId, string Label, MlTask Task, IReadOnlyList<TrialConfiguration> Candidates, IReadOnlyList<TrialPoint> Trials, int? Folds,
    string? PositiveClass = null, string? PromoteTo = null, double? PromotionMargin = null);

/// <summary>The chosen configuration, evaluated and refitted: where its artifact and report are, and its metrics (holdout, and cv_ means).</summary>
/// <remarks>
/// <see cref="Holder"/>: the alias holder's configuration cross-validated on the chosen one's folds, and the paired
/// comparison of the two (null when nothing holds the alias, or the holder's configuration cannot train on this data).
/// </remarks>
public sealed record EvaluationOutcome(
    TrialConfiguration Chosen, string ArtifactBlob, string ArtifactSha256, IReadOnlyDictionary<string, double> Metrics, string ReportBlob,
    int? HolderVersion = null, Serverless.Pipeline.Evaluation.PairedComparison? Holder = null);

/// <summary>Input of <c>RegisterModel</c>.</summary>
/// <remarks><see cref="Request"/> is the whole training request, kept with the version's run (<c>runs/{runId}/request.json</c>) for retraining.</remarks>
public sealed record RegisterInput(
    string RunId, string Model, string SnapshotId, string Label, MlTask Task, TrialConfiguration Chosen, EvaluationOutcome Evaluation, string PromoteTo, string? Description,
    string Dataset, double? PromotionMargin = null, string? PositiveClass = null, TrainingRequest? Request = null);

/// <summary>The registered version, the alias holder it was compared with, and whether it may take the alias (and why).</summary>
public sealed record RegistrationOutcome(int Version, bool Eligible, int? Holder, string Reason);

/// <summary>Input of <c>PromoteModel</c>: move the alias from the holder the comparison saw to the new version.</summary>
public sealed record PromotionInput(string Model, string Alias, int? Holder, int Version, string Reason);

/// <summary>Whether the new version took the alias, and why or why not.</summary>
public sealed record PromotionOutcome(bool Promoted, string Reason);

/// <summary>A person's decision on a run that waits for approval (<c>POST /api/runs/{runId}/approval</c>).</summary>
/// <remarks>
/// <see cref="Ticket"/> is set by <c>ApproveRun</c> (master key), which keeps the decision at <see cref="BlobName"/>:
/// the run acts only on a decision whose ticket matches the one kept, so an event raised through the Durable API with
/// the system key of a status URL is ignored.
/// </remarks>
public sealed record ApprovalDecision(bool Approve, string? By = null, string? Comment = null, string? Ticket = null)
{
    /// <summary>Where <c>ApproveRun</c> keeps a run's decision, in the runs container.</summary>
    public static string BlobName(string runId) => $"{runId}/approval.json";
}

/// <summary>Input of <c>VerifyApproval</c>.</summary>
public sealed record ApprovalCheck(string RunId, ApprovalDecision Decision);

/// <summary>Input of <c>FailRun</c>.</summary>
public sealed record FailedRun(string RunId, string Model, string Stage, string Error);

/// <summary>The custom status of a training run while it runs.</summary>
public sealed record TrainingProgress(string Stage, int TrialsDone, int TrialsPlanned, int TrialsStopped, int TrialsFailed, string? SnapshotId, double? BestValue, string? PrimaryMetric, string? Error = null);

/// <summary>The output of a finished training run.</summary>
public sealed record TrainingResult(string Model, int Version, bool Promoted, string PromotionReason, string SnapshotId, TrialConfiguration Chosen, IReadOnlyDictionary<string, double> Metrics, int Trials, int TrialsStopped, int TrialsFailed, string Report);

/// <summary>
/// The monitoring of one scored batch, kept in its model's history (<see cref="HistoryPrefix"/>) and, for the latest,
/// at <see cref="BlobName"/> in the scoring output container: its drift from the training data, and the model's metrics
/// on it when the batch carried the label.
/// </summary>
public sealed record DriftReport(string Model, int Version, string Input, DateTimeOffset MeasuredAt, IReadOnlyList<Serverless.Pipeline.Monitoring.ColumnDrift> Drift, IReadOnlyDictionary<string, double>? Metrics)
{
    /// <summary>Where a model's latest report is (model names cannot start with '_', so no input folder collides).</summary>
    public static string BlobName(string model) => $"_monitoring/{model}/drift.json";

    /// <summary>Where every report of a model is kept, one per scored batch, in the order they were measured.</summary>
    public static string HistoryPrefix(string model) => $"_monitoring/{model}/history/";

    /// <summary>This report's place in its model's history: the time it was measured, then a hash of the input and its ETag.</summary>
    public string HistoryBlobName(string inputETag)
    {
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{Input}|{inputETag}")))[..12];
        return $"{HistoryPrefix(Model)}{MeasuredAt.UtcDateTime:yyyyMMdd'T'HHmmssfff'Z'}-{hash}.json";
    }
}
