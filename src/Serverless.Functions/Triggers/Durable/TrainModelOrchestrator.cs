using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Serverless.Functions.Training;
using Serverless.Pipeline.Evaluation;
using Serverless.Pipeline.Training;

namespace Serverless.Functions.Triggers.Durable;

/// <summary>
/// A training run: ingest (validate, profile, snapshot) → sweep (trials fanned out as activities, a batch of
/// <c>maxConcurrentTrials</c> at a time, with early termination between steps, within the request's
/// <see cref="TrainingLimits"/>: the sweep's budget and each trial's) → evaluate (the best trials and their voting
/// ensemble compared by cross-validation; the winner's importance, report, refit) → register → promote it if it beats
/// the current holder of the alias (by the margin, and after a person approves it when the request asks for
/// approval). Only references travel: snapshot ids, blob names, configurations and metrics. The instance id is the
/// run id. Progress is the custom status; a failure ends the run Failed with the stage and the error.
/// </summary>
public static class TrainModelOrchestrator
{
    /// <summary>
    /// When the trials were validated on one split (large data; cross-validated trials are all compared on their own
    /// out-of-fold predictions), the best trials that the evaluation step cross-validates, so that close trials are
    /// judged on the same folds; the best trial of each other trainer joins them (binary and regression), so the voting
    /// ensemble built from the candidates has models that err differently to combine.
    /// </summary>
    public const int CandidatesCompared = 3;

    /// <summary>
    /// For binary and regression tasks on large data, the best trials by validation that go to cross-validation and feed the voting
    /// ensemble: more models to choose from than <see cref="CandidatesCompared"/> (a larger library is what greedy
    /// selection gains from), at about one more trial's cost per extra candidate, shared out over the cores.
    /// </summary>
    public const int EnsembleCandidates = 5;

    /// <summary>Storage hiccups are retried; bad data and bad arguments fail at once (the same input fails the same way).</summary>
    private static readonly TaskOptions Retry = TaskOptions.FromRetryPolicy(new RetryPolicy(3, TimeSpan.FromSeconds(5), backoffCoefficient: 2)
    {
        HandleFailure = failure => !failure.IsCausedBy<Serverless.Pipeline.Data.DatasetValidationException>() && !failure.IsCausedBy<ArgumentException>(),
    });

    /// <summary>Runs one training request.</summary>
    [Function(nameof(TrainModel))]
    public static async Task<TrainingResult> TrainModel([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.GetInput<TrainingRequest>() ?? throw new InvalidOperationException("A training run needs a TrainingRequest input.");
        var logger = context.CreateReplaySafeLogger(typeof(TrainModelOrchestrator));
        var runId = context.InstanceId;
        var limits = request.Limits ?? new TrainingLimits();
        var spec = request.Sweep ?? new SweepSpec();
        if (limits.MaxTrials is { } maxTrials)
        {
            spec = spec with { MaxTrials = maxTrials };
        }

        var progress = new TrainingProgress("ingesting", 0, spec.MaxTrials, 0, 0, null, null, null);
        context.SetCustomStatus(progress);
        try
        {
            var snapshot = await context.CallActivityAsync<SnapshotSummary>(nameof(TrainingActivities.IngestDataset), new IngestInput(runId, request.Model, request.Dataset, request.Label, request.Task, request.PositiveClass), Retry);
            logger.LogInformation("Run {RunId}: snapshot {SnapshotId}, {Rows} rows ({Rejected} rejected), task {Task}", runId, snapshot.Id, snapshot.RowsAccepted, snapshot.RowsRejected, snapshot.Task);
            progress = progress with { Stage = "sweeping", SnapshotId = snapshot.Id, PrimaryMetric = snapshot.PrimaryMetric };
            context.SetCustomStatus(progress);

            var sweep = await SweepAsync(context, request, spec, limits, snapshot, p => context.SetCustomStatus(progress = p), progress);
            var finished = sweep.Where(t => t.Outcome.Error is null && !t.Stopped && double.IsFinite(t.Outcome.Value)).ToList();
            if (finished.Count == 0)
            {
                throw new InvalidOperationException($"No trial of the {sweep.Count} produced a value of {snapshot.PrimaryMetric}; the first error: {sweep.Select(t => t.Outcome.Error).FirstOrDefault(e => e is not null) ?? "none"}.");
            }

            var ranked = (snapshot.Goal == MetricGoal.Maximize ? finished.OrderByDescending(t => t.Outcome.Value) : finished.OrderBy(t => t.Outcome.Value)).ToList();
            var top = ranked.Take(snapshot.Task == MlTask.MulticlassClassification ? CandidatesCompared : EnsembleCandidates).ToList();
            var others = snapshot.Task == MlTask.MulticlassClassification ? [] : ranked.Skip(top.Count)
                .DistinctBy(t => t.Outcome.Trainer, StringComparer.OrdinalIgnoreCase)
                .Where(t => !top.Any(c => string.Equals(c.Outcome.Trainer, t.Outcome.Trainer, StringComparison.OrdinalIgnoreCase)));
            var candidates = top.Concat(others).Select(t => new TrialConfiguration(t.Outcome.Trainer, t.Outcome.Parameters, spec.Seed)).ToList();
            logger.LogInformation("Run {RunId}: best trial {Index} ({Trainer}), {Metric} {Value}; {Count} candidates if the trials need cross-validating", runId, ranked[0].Outcome.Index, ranked[0].Outcome.Trainer, snapshot.PrimaryMetric, ranked[0].Outcome.Value, candidates.Count);

            context.SetCustomStatus(progress = progress with { Stage = "evaluating" });
            var points = sweep.Select(t => new TrialPoint(t.Outcome.Index, t.Outcome.Trainer, t.Outcome.Parameters, t.Outcome.Value, t.Stopped)).ToList();
            var evaluation = await context.CallActivityAsync<EvaluationOutcome>(nameof(TrainingActivities.EvaluateModel), new EvaluateInput(
                runId, request.Model, snapshot.Id, request.Label, snapshot.Task, candidates, points, request.Folds, snapshot.PositiveClass, request.PromoteTo, request.PromotionMargin), Retry);
            var chosen = evaluation.Chosen;

            context.SetCustomStatus(progress = progress with { Stage = "registering" });
            var registered = await context.CallActivityAsync<RegistrationOutcome>(nameof(TrainingActivities.RegisterModel), new RegisterInput(runId, request.Model, snapshot.Id, request.Label, snapshot.Task, chosen, evaluation, request.PromoteTo, request.Description, request.Dataset, request.PromotionMargin, snapshot.PositiveClass, request), Retry);
            var promotion = await PromoteAsync(context, request, registered, p => context.SetCustomStatus(progress = p), progress);
            context.SetCustomStatus(progress with { Stage = "completed" });
            logger.LogInformation("Run {RunId}: registered {Model} version {Version}; {Reason}", runId, request.Model, registered.Version, promotion.Reason);
            return new TrainingResult(request.Model, registered.Version, promotion.Promoted, promotion.Reason, snapshot.Id, chosen, evaluation.Metrics, sweep.Count, sweep.Count(t => t.Stopped), sweep.Count(t => t.Outcome.Error is not null), evaluation.ReportBlob);
        }
        catch (Exception ex) when (ex is TaskFailedException or InvalidOperationException)
        {
            var error = ex is TaskFailedException failed ? UserMessage(failed.FailureDetails) : ex.Message;
            context.SetCustomStatus(progress with { Error = error });
            await context.CallActivityAsync(nameof(TrainingActivities.FailRun), new FailedRun(runId, request.Model, progress.Stage, error), Retry);
            throw new TrainingFailedException($"Training run {runId} failed while {progress.Stage}: {error}");
        }
    }

    private sealed record SweptTrial(TrialOutcome Outcome, bool Stopped);

    /// <summary>An activity's error as the run's status shows it: a storage error by its first line only (no request or response headers).</summary>
    internal static string UserMessage(TaskFailureDetails failure) =>
        failure.IsCausedBy<Azure.RequestFailedException>()
            ? $"{failure.ErrorMessage.Split('\n', 2)[0].Trim()} (a storage error; the log has the details)"
            : failure.ErrorMessage;

    /// <summary>The external event a run waiting for approval takes: an <see cref="ApprovalDecision"/>.</summary>
    public const string ApprovalEvent = "approval";

    /// <summary>
    /// The first decision sent by <c>ApproveRun</c> within the request's timeout, or null: events without its ticket
    /// (raised through the Durable API by whoever holds a status URL) are checked, ignored and waited past.
    /// </summary>
    private static async Task<ApprovalDecision?> WaitForApprovalAsync(TaskOrchestrationContext context, TrainingRequest request)
    {
        var deadline = context.CurrentUtcDateTime.AddHours(request.ApprovalTimeoutHours);
        while (deadline > context.CurrentUtcDateTime)
        {
            ApprovalDecision decision;
            try
            {
                decision = await context.WaitForExternalEvent<ApprovalDecision>(ApprovalEvent, deadline - context.CurrentUtcDateTime);
            }
            catch (TaskCanceledException)
            {
                return null;
            }

            if (decision.Ticket is not null && await context.CallActivityAsync<bool>(nameof(TrainingActivities.VerifyApproval), new ApprovalCheck(context.InstanceId, decision), Retry))
            {
                return decision;
            }
        }

        return null;
    }

    /// <summary>Moves the alias when the new version is eligible, after a person approves it if the request asks for that.</summary>
    private static async Task<PromotionOutcome> PromoteAsync(TaskOrchestrationContext context, TrainingRequest request, RegistrationOutcome registered, Action<TrainingProgress> report, TrainingProgress progress)
    {
        if (!registered.Eligible)
        {
            return new PromotionOutcome(false, $"not promoted: {registered.Reason}");
        }

        if (registered.Holder == registered.Version)
        {
            return new PromotionOutcome(true, registered.Reason);
        }

        if (request.RequireApproval)
        {
            report(progress with { Stage = "awaiting approval" });
            var decision = await WaitForApprovalAsync(context, request);
            if (decision is null)
            {
                return new PromotionOutcome(false, $"not promoted: nobody approved it within {request.ApprovalTimeoutHours} hours ({registered.Reason})");
            }

            if (!decision.Approve)
            {
                return new PromotionOutcome(false, $"not promoted: rejected by {decision.By ?? "a reviewer"}{(decision.Comment is null ? string.Empty : $" ({decision.Comment})")}");
            }
        }

        return await context.CallActivityAsync<PromotionOutcome>(nameof(TrainingActivities.PromoteModel), new PromotionInput(request.Model, request.PromoteTo, registered.Holder, registered.Version, registered.Reason), Retry);
    }

    /// <summary>
    /// Asks the sampler for a batch, runs its trials step by step (all steps when there is no policy), stops those
    /// the policy stops, and feeds what finished back to the sampler for the next batch.
    /// </summary>
    private static async Task<List<SweptTrial>> SweepAsync(
        TaskOrchestrationContext context,
        TrainingRequest request,
        SweepSpec spec,
        TrainingLimits limits,
        SnapshotSummary snapshot,
        Action<TrainingProgress> report,
        TrainingProgress progress)
    {
        var runId = context.InstanceId;
        var budget = new SweepBudget(context.CurrentUtcDateTime + limits.Timeout, limits);
        var concurrent = limits.MaxConcurrentTrials ?? request.MaxConcurrentTrials;
        var policy = request.EarlyTermination?.ToPolicy();
        var steps = policy is null ? 1 : request.EarlyTermination!.Steps;
        var reports = new Dictionary<string, IReadOnlyList<double>>(StringComparer.Ordinal);
        var observations = new List<TrialObservation>();
        var swept = new List<SweptTrial>();
        while (true)
        {
            var batch = budget.Spent(context)
                ? []
                : SweepPlanner.Suggest(spec, snapshot.Task, swept.Count, concurrent, observations, snapshot.Goal);
            if (batch.Count == 0)
            {
                return swept;
            }

            var alive = batch.ToList();
            var last = new Dictionary<int, TrialOutcome>();
            var stopped = new List<TrialOutcome>();
            for (var step = 1; step <= steps && alive.Count > 0; step++)
            {
                var inputs = alive.Select(t => new TrialInput(
                    runId, request.Model, snapshot.Id, request.Label, snapshot.Task, t.Index, t.Configuration, step, steps, snapshot.PositiveClass, request.Folds));
                var outcomes = await Task.WhenAll(inputs.Select(input => RunTrialAsync(context, budget, input)));
                foreach (var outcome in outcomes)
                {
                    last[outcome.Index] = outcome;
                    if (outcome.Error is null && double.IsFinite(outcome.Value))
                    {
                        reports[Key(outcome.Index)] = [.. reports.GetValueOrDefault(Key(outcome.Index)) ?? [], Signed(outcome.Value, snapshot.Goal)];
                    }
                }

                alive = [.. alive.Where(t => reports.ContainsKey(Key(t.Index)) && reports[Key(t.Index)].Count == step)];
                if (step < steps)
                {
                    // Reports are kept "bigger is better", so the policy is asked with Maximize.
                    var stopping = alive.Where(t => policy!.ShouldTerminate(Key(t.Index), step, reports, MetricGoal.Maximize)).ToList();
                    stopped.AddRange(stopping.Select(t => last[t.Index]));
                    alive = [.. alive.Except(stopping)];
                }
            }

            if (stopped.Count > 0)
            {
                await context.CallActivityAsync(nameof(TrainingActivities.EndTrials), new StoppedTrials(runId, request.Model, stopped), Retry);
            }

            foreach (var trial in batch)
            {
                var outcome = last[trial.Index];
                var wasStopped = stopped.Any(s => s.Index == trial.Index);
                swept.Add(new SweptTrial(outcome, wasStopped));
                if (outcome.Error is null && double.IsFinite(outcome.Value))
                {
                    observations.Add(new TrialObservation(trial.Configuration.Trainer, trial.Point, outcome.Value));
                }
            }

            var finished = swept.Where(t => t.Outcome.Error is null && !t.Stopped && double.IsFinite(t.Outcome.Value)).Select(t => t.Outcome.Value).ToList();
            report(progress with
            {
                TrialsDone = swept.Count,
                TrialsStopped = swept.Count(t => t.Stopped),
                TrialsFailed = swept.Count(t => t.Outcome.Error is not null),
                BestValue = finished.Count == 0 ? null : snapshot.Goal == MetricGoal.Maximize ? finished.Max() : finished.Min(),
            });
        }
    }

    /// <summary>
    /// One trial step; a failed trial (after retries) is an outcome with its error, so the sweep goes on. A step that
    /// outlasts <c>trialTimeoutMinutes</c> or the sweep's budget is an outcome saying so: the orchestration goes on
    /// without it (the activity itself cannot be stopped; its late result is ignored).
    /// </summary>
    private static async Task<TrialOutcome> RunTrialAsync(TaskOrchestrationContext context, SweepBudget budget, TrialInput input)
    {
        var trial = CallTrialAsync(context, input);
        var (deadline, reason) = budget.TrialDeadline(context);
        using var timeout = new CancellationTokenSource();
        if (await Task.WhenAny(trial, context.CreateTimer(deadline, timeout.Token)) == trial)
        {
            // Synchronously, on the orchestration's thread: CancelAsync would go on elsewhere, outside the replay.
#pragma warning disable CA1849 // Call async methods when in an async method
            timeout.Cancel();
#pragma warning restore CA1849
            return await trial;
        }

        budget.Expired(deadline);
        return Failed(input, reason);
    }

    private static async Task<TrialOutcome> CallTrialAsync(TaskOrchestrationContext context, TrialInput input)
    {
        try
        {
            return await context.CallActivityAsync<TrialOutcome>(nameof(TrainingActivities.RunTrial), input, Retry);
        }
        catch (TaskFailedException ex)
        {
            return Failed(input, ex.FailureDetails.ErrorMessage);
        }
    }

    private static TrialOutcome Failed(TrialInput input, string error) =>
        new(input.Index, input.Step, input.Configuration.Trainer, input.Configuration.Parameters, new Dictionary<string, double>(), double.NaN,
            error);

    /// <summary>The sweep's deadline and the trials' time limit, in orchestration time (replays see the same clock).</summary>
    private sealed class SweepBudget(DateTime deadline, TrainingLimits limits)
    {
        private bool _expired;

        /// <summary>Whether no new trial may start: the deadline has passed, or a trial was cut by it.</summary>
        public bool Spent(TaskOrchestrationContext context) => _expired || context.CurrentUtcDateTime >= deadline;

        /// <summary>When a trial step starting now must be done, and what its outcome says if it is not.</summary>
        public (DateTime Deadline, string Reason) TrialDeadline(TaskOrchestrationContext context)
        {
            var own = context.CurrentUtcDateTime + limits.TrialTimeout;
            return own < deadline
                ? (own, $"timed out: not finished within trialTimeoutMinutes ({limits.TrialTimeout.TotalMinutes:0.###} min)")
                : (deadline, $"not finished when the sweep's budget ran out (timeoutMinutes, {limits.Timeout.TotalMinutes:0.###} min)");
        }

        /// <summary>Notes a trial cut at <paramref name="at"/>: the sweep's own deadline ends the sweep.</summary>
        public void Expired(DateTime at) => _expired |= at >= deadline;
    }

    private static string Key(int index) => index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static double Signed(double value, MetricGoal goal) => goal == MetricGoal.Maximize ? value : -value;
}

/// <summary>A training run failed; the message names the stage and the cause.</summary>
public sealed class TrainingFailedException(string message) : Exception(message)
{
}
