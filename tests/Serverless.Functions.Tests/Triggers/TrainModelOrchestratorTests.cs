using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Moq.Protected;
using Serverless.Functions.Training;
using Serverless.Functions.Triggers.Durable;
using Serverless.Pipeline.Training;

namespace Serverless.Functions.Tests.Triggers;

/// <summary>The training orchestration's decisions, with a mocked context: no engine, no storage, no ML.</summary>
public sealed class TrainModelOrchestratorTests
{
    private static readonly DateTime Start = new(2026, 12, 6, 12, 0, 0, DateTimeKind.Utc);

    private readonly Mock<TaskOrchestrationContext> _context = new() { CallBase = true };
    private readonly List<TrialInput> _trials = [];
    private readonly List<object?> _statuses = [];
    private StoppedTrials? _stopped;
    private EvaluateInput? _evaluated;
    private FailedRun? _failed;
    private PromotionInput? _promoted;

    public TrainModelOrchestratorTests()
    {
        _context.SetupGet(c => c.InstanceId).Returns("run-1");
        _context.Protected().Setup<ILoggerFactory>("LoggerFactory").Returns(NullLoggerFactory.Instance);
        _context.Setup(c => c.SetCustomStatus(It.IsAny<object?>())).Callback<object?>(_statuses.Add);

        // Timers (trial and sweep budgets, approval) never fire unless a test says so; the clock stands at Start.
        _context.SetupGet(c => c.CurrentUtcDateTime).Returns(Start);
        _context.Setup(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>())).Returns(new TaskCompletionSource().Task);
        _context.Setup(c => c.CallActivityAsync<SnapshotSummary>(nameof(TrainingActivities.IngestDataset), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ReturnsAsync(new SnapshotSummary("snap", "datasets/churn.csv", 100, 100, 0, MlTask.BinaryClassification, "auc", MetricGoal.Maximize));

        // Trial i scores 0.5 + 0.05 i at every step: the higher the index, the better.
        _context.Setup(c => c.CallActivityAsync<TrialOutcome>(nameof(TrainingActivities.RunTrial), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Callback<TaskName, object?, TaskOptions?>((_, input, _) => _trials.Add((TrialInput)input!))
            .ReturnsAsync((TaskName _, object? input, TaskOptions? _) =>
            {
                var trial = (TrialInput)input!;
                return new TrialOutcome(trial.Index, trial.Step, trial.Configuration.Trainer, trial.Configuration.Parameters, new Dictionary<string, double> { ["auc"] = 0.5 + (0.05 * trial.Index) }, 0.5 + (0.05 * trial.Index), null);
            });
        _context.Setup(c => c.CallActivityAsync<object>(nameof(TrainingActivities.EndTrials), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Callback<TaskName, object?, TaskOptions?>((_, input, _) => _stopped = (StoppedTrials)input!)
            .ReturnsAsync((object)null!);
        _context.Setup(c => c.CallActivityAsync<EvaluationOutcome>(nameof(TrainingActivities.EvaluateModel), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Callback<TaskName, object?, TaskOptions?>((_, input, _) => _evaluated = (EvaluateInput)input!)
            .ReturnsAsync((TaskName _, object? input, TaskOptions? _) => new EvaluationOutcome(((EvaluateInput)input!).Candidates[Math.Min(1, ((EvaluateInput)input!).Candidates.Count - 1)], "run-1/model.zip", "sha", new Dictionary<string, double> { ["cv_auc"] = 0.8 }, "run-1/report/index.html"));
        _context.Setup(c => c.CallActivityAsync<RegistrationOutcome>(nameof(TrainingActivities.RegisterModel), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ReturnsAsync(new RegistrationOutcome(2, true, 1, "auc 0.8 beats version 1's 0.7"));
        _context.Setup(c => c.CallActivityAsync<PromotionOutcome>(nameof(TrainingActivities.PromoteModel), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Callback<TaskName, object?, TaskOptions?>((_, input, _) => _promoted = (PromotionInput)input!)
            .ReturnsAsync(new PromotionOutcome(true, "promoted to 'champion': auc 0.8 beats version 1's 0.7"));
        _context.Setup(c => c.CallActivityAsync<object>(nameof(TrainingActivities.FailRun), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Callback<TaskName, object?, TaskOptions?>((_, input, _) => _failed = (FailedRun)input!)
            .ReturnsAsync((object)null!);
    }

    [Fact]
    public async Task TrainModel_TruncationPolicy_StopsTheWorstAfterStepOneAndSendsTheBestFiveToCrossValidation()
    {
        _context.Setup(c => c.GetInput<TrainingRequest>()).Returns(new TrainingRequest(
            "churn", "churn.csv", "churned",
            Sweep: new SweepSpec(Trainers: ["Lbfgs"], MaxTrials: 6),
            EarlyTermination: new EarlyTerminationSpec("truncation", TruncationPercentage: 50, Steps: 2),
            MaxConcurrentTrials: 3));

        var result = await TrainModelOrchestrator.TrainModel(_context.Object);

        // Batch 1 (trials 0-2): at step 1 the lowest third of three is trial 0, stopped. Batch 2 (3-5) ranks among six
        // step-1 reports, where the lowest half are trials 0-2: none of its own is cut.
        Assert.Equal([0], _stopped!.Trials.Select(t => t.Index));
        Assert.Equal(6 + 5, _trials.Count);
        Assert.All(_trials.Where(t => t.Step == 1), t => Assert.Equal(2, t.Steps));
        Assert.Equal((6, 1, 0), (result.Trials, result.TrialsStopped, result.TrialsFailed));
        var byIndex = _trials.Where(t => t.Step == 2).ToDictionary(t => t.Index, t => t.Configuration);
        Assert.Equal([byIndex[5], byIndex[4], byIndex[3], byIndex[2], byIndex[1]], _evaluated!.Candidates);
        Assert.Equal(byIndex[4], result.Chosen);
        Assert.Equal(6, _evaluated.Trials.Count);
        Assert.True(_evaluated.Trials.Single(t => t.Index == 0).Stopped);
        Assert.Null(_failed);
        Assert.Equal(("churn", "champion", 1, 2), (_promoted!.Model, _promoted.Alias, _promoted.Holder, _promoted.Version));
        Assert.True(result.Promoted);
    }

    /// <summary>The best five go to cross-validation with the best trial of each other trainer, for the ensemble to combine.</summary>
    [Fact]
    public async Task TrainModel_TopFiveOfOneTrainer_BestOfTheOtherTrainerJoinsTheCandidates()
    {
        _context.Setup(c => c.GetInput<TrainingRequest>()).Returns(new TrainingRequest(
            "churn", "churn.csv", "churned", Sweep: new SweepSpec(Trainers: ["LightGbm", "Lbfgs"], MaxTrials: 12), MaxConcurrentTrials: 4));
        _context.Setup(c => c.CallActivityAsync<TrialOutcome>(nameof(TrainingActivities.RunTrial), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Callback<TaskName, object?, TaskOptions?>((_, input, _) => _trials.Add((TrialInput)input!))
            .ReturnsAsync((TaskName _, object? input, TaskOptions? _) =>
            {
                // Every L-BFGS trial (the odd ones) beats every LightGBM trial; later trials beat earlier ones.
                var trial = (TrialInput)input!;
                var value = (trial.Configuration.Trainer == "Lbfgs" ? 0.9 : 0.5) + (0.01 * trial.Index);
                return new TrialOutcome(trial.Index, 1, trial.Configuration.Trainer, trial.Configuration.Parameters, new Dictionary<string, double> { ["auc"] = value }, value, null);
            });

        await TrainModelOrchestrator.TrainModel(_context.Object);

        var byIndex = _trials.ToDictionary(t => t.Index, t => t.Configuration);
        Assert.Equal([byIndex[11], byIndex[9], byIndex[7], byIndex[5], byIndex[3], byIndex[10]], _evaluated!.Candidates);
    }

    [Fact]
    public async Task TrainModel_ApprovalRejected_NotPromotedAndTheAliasNeverMoves()
    {
        _context.Setup(c => c.GetInput<TrainingRequest>()).Returns(new TrainingRequest("churn", "churn.csv", "churned", Sweep: new SweepSpec(MaxTrials: 1), RequireApproval: true));
        _context.Setup(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>())).Returns(new TaskCompletionSource().Task);
        _context.Setup(c => c.WaitForExternalEvent<ApprovalDecision>(TrainModelOrchestrator.ApprovalEvent, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new ApprovalDecision(false, "bob", "holdout too small", Ticket: "real"));
        VerifyTickets("real");

        var result = await TrainModelOrchestrator.TrainModel(_context.Object);

        Assert.False(result.Promoted);
        Assert.Equal("not promoted: rejected by bob (holdout too small)", result.PromotionReason);
        Assert.Null(_promoted);
        Assert.Contains(_statuses, s => s is TrainingProgress { Stage: "awaiting approval" });
    }

    /// <summary>Events raised through the Durable API (no ticket, or one ApproveRun did not keep) are ignored; the run waits on for ApproveRun's.</summary>
    [Fact]
    public async Task TrainModel_ApprovalEventNotFromApproveRun_IgnoredUntilTheRealOne()
    {
        _context.Setup(c => c.GetInput<TrainingRequest>()).Returns(new TrainingRequest("churn", "churn.csv", "churned", Sweep: new SweepSpec(MaxTrials: 1), RequireApproval: true));
        _context.Setup(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>())).Returns(new TaskCompletionSource().Task);
        _context.SetupSequence(c => c.WaitForExternalEvent<ApprovalDecision>(TrainModelOrchestrator.ApprovalEvent, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new ApprovalDecision(true, "mallory"))
            .ReturnsAsync(new ApprovalDecision(true, "mallory", Ticket: "forged"))
            .ReturnsAsync(new ApprovalDecision(true, "alice", Ticket: "real"));
        var checkedTickets = VerifyTickets("real");

        var result = await TrainModelOrchestrator.TrainModel(_context.Object);

        Assert.True(result.Promoted);
        Assert.NotNull(_promoted);
        Assert.Equal(["forged", "real"], checkedTickets);
    }

    [Fact]
    public async Task TrainModel_NoApprovalInTime_NotPromoted()
    {
        _context.Setup(c => c.GetInput<TrainingRequest>()).Returns(new TrainingRequest("churn", "churn.csv", "churned", Sweep: new SweepSpec(MaxTrials: 1), RequireApproval: true, ApprovalTimeoutHours: 24));
        _context.Setup(c => c.CreateTimer(Start.AddHours(24), It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);
        _context.Setup(c => c.WaitForExternalEvent<ApprovalDecision>(TrainModelOrchestrator.ApprovalEvent, It.IsAny<CancellationToken>()))
            .Returns((string _, CancellationToken cancellation) =>
            {
                var never = new TaskCompletionSource<ApprovalDecision>();
                cancellation.Register(() => never.TrySetCanceled(cancellation));
                return never.Task;
            });

        var result = await TrainModelOrchestrator.TrainModel(_context.Object);

        Assert.False(result.Promoted);
        Assert.StartsWith("not promoted: nobody approved it within 24 hours", result.PromotionReason, StringComparison.Ordinal);
        Assert.Null(_promoted);
    }

    [Fact]
    public async Task TrainModel_NotBetterThanTheHolder_NotPromotedWithoutAsking()
    {
        _context.Setup(c => c.GetInput<TrainingRequest>()).Returns(new TrainingRequest("churn", "churn.csv", "churned", Sweep: new SweepSpec(MaxTrials: 1), RequireApproval: true));
        _context.Setup(c => c.CallActivityAsync<RegistrationOutcome>(nameof(TrainingActivities.RegisterModel), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ReturnsAsync(new RegistrationOutcome(2, false, 1, "auc 0.7 does not beat version 1's 0.8"));

        var result = await TrainModelOrchestrator.TrainModel(_context.Object);

        Assert.Equal((false, "not promoted: auc 0.7 does not beat version 1's 0.8"), (result.Promoted, result.PromotionReason));
        Assert.Null(_promoted);
        Assert.DoesNotContain(_statuses, s => s is TrainingProgress { Stage: "awaiting approval" });
    }

    [Fact]
    public async Task TrainModel_IngestFails_RunRecordedFailedAndTheErrorNamesTheStage()
    {
        _context.Setup(c => c.GetInput<TrainingRequest>()).Returns(new TrainingRequest("churn", "churn.csv", "churned"));
        _context.Setup(c => c.CallActivityAsync<SnapshotSummary>(nameof(TrainingActivities.IngestDataset), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ThrowsAsync(new TaskFailedException(nameof(TrainingActivities.IngestDataset), 0, new TaskFailureDetails("DatasetValidationException", "datasets/churn.csv: the label column 'churned' has a single class ('no').", null, null, null)));

        var error = await Assert.ThrowsAsync<TrainingFailedException>(() => TrainModelOrchestrator.TrainModel(_context.Object));

        Assert.Equal("Training run run-1 failed while ingesting: datasets/churn.csv: the label column 'churned' has a single class ('no').", error.Message);
        Assert.Equal(("run-1", "churn", "ingesting"), (_failed!.RunId, _failed.Model, _failed.Stage));
        Assert.Empty(_trials);
    }

    [Fact]
    public async Task TrainModel_EveryTrialFails_RunFailsWithTheFirstTrialError()
    {
        _context.Setup(c => c.GetInput<TrainingRequest>()).Returns(new TrainingRequest("churn", "churn.csv", "churned", Sweep: new SweepSpec(MaxTrials: 2)));
        _context.Setup(c => c.CallActivityAsync<TrialOutcome>(nameof(TrainingActivities.RunTrial), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ThrowsAsync(new TaskFailedException(nameof(TrainingActivities.RunTrial), 1, new TaskFailureDetails("InvalidOperationException", "weights diverged", null, null, null)));

        var error = await Assert.ThrowsAsync<TrainingFailedException>(() => TrainModelOrchestrator.TrainModel(_context.Object));

        Assert.Contains("No trial of the 2 produced a value of auc; the first error: weights diverged", error.Message, StringComparison.Ordinal);
        Assert.Equal("sweeping", _failed!.Stage);
    }

    /// <summary>
    /// The sweep's budget runs out while the second batch trains: its trials are left out with the reason, no batch
    /// starts after it, and the best of the first batch goes on to evaluation and registration.
    /// </summary>
    [Fact]
    public async Task TrainModel_BudgetRunsOutMidSweep_BestSoFarRegistered()
    {
        var limits = new TrainingLimits(TimeoutMinutes: 2, MaxTrials: 12, MaxConcurrentTrials: 3);
        _context.Setup(c => c.GetInput<TrainingRequest>()).Returns(new TrainingRequest("churn", "churn.csv", "churned", Sweep: new SweepSpec(MaxTrials: 4), Limits: limits));
        var budget = new TaskCompletionSource();
        _context.Setup(c => c.CreateTimer(Start.AddMinutes(2), It.IsAny<CancellationToken>())).Returns(budget.Task);
        _context.Setup(c => c.CallActivityAsync<TrialOutcome>(nameof(TrainingActivities.RunTrial), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Callback<TaskName, object?, TaskOptions?>((_, input, _) => _trials.Add((TrialInput)input!))
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                var trial = (TrialInput)input!;
                if (trial.Index >= 3)
                {
                    budget.TrySetResult(); // the second batch outlasts the budget
                    return new TaskCompletionSource<TrialOutcome>().Task;
                }

                return Task.FromResult(new TrialOutcome(trial.Index, 1, trial.Configuration.Trainer, trial.Configuration.Parameters, new Dictionary<string, double> { ["auc"] = 0.6 + (0.1 * trial.Index) }, 0.6 + (0.1 * trial.Index), null));
            });

        var result = await TrainModelOrchestrator.TrainModel(_context.Object);

        Assert.Equal(6, _trials.Count);
        Assert.Equal((6, 3), (result.Trials, result.TrialsFailed));
        Assert.Equal([0, 1, 2], _evaluated!.Trials.Where(t => double.IsFinite(t.Value)).Select(t => t.Index).Order());
        Assert.Equal(3, _evaluated.Candidates.Count);
        Assert.Equal(2, result.Version);
    }

    /// <summary>A trial step that outlasts trialTimeoutMinutes is an outcome that says so; the other trials and the sweep go on.</summary>
    [Fact]
    public async Task TrainModel_TrialOutlastsItsTimeout_TimedOutAndTheSweepGoesOn()
    {
        var limits = new TrainingLimits(TimeoutMinutes: 60, TrialTimeoutMinutes: 1.5);
        _context.Setup(c => c.GetInput<TrainingRequest>()).Returns(new TrainingRequest("churn", "churn.csv", "churned", Sweep: new SweepSpec(MaxTrials: 4), MaxConcurrentTrials: 2, Limits: limits));
        var slow = new TaskCompletionSource();
        _context.Setup(c => c.CreateTimer(Start.AddMinutes(1.5), It.IsAny<CancellationToken>()))
            .Returns((DateTime _, CancellationToken cancellation) =>
            {
                var fired = new TaskCompletionSource();
                slow.Task.ContinueWith(_ => fired.TrySetResult(), TaskScheduler.Default);
                cancellation.Register(() => fired.TrySetCanceled(cancellation));
                return fired.Task;
            });
        _context.Setup(c => c.CallActivityAsync<TrialOutcome>(nameof(TrainingActivities.RunTrial), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Callback<TaskName, object?, TaskOptions?>((_, input, _) => _trials.Add((TrialInput)input!))
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                var trial = (TrialInput)input!;
                if (trial.Index == 1)
                {
                    slow.TrySetResult();
                    return new TaskCompletionSource<TrialOutcome>().Task;
                }

                return Task.FromResult(new TrialOutcome(trial.Index, 1, trial.Configuration.Trainer, trial.Configuration.Parameters, new Dictionary<string, double> { ["auc"] = 0.7 }, 0.7, null));
            });

        var result = await TrainModelOrchestrator.TrainModel(_context.Object);

        Assert.Equal((4, 1), (result.Trials, result.TrialsFailed));
        var timedOut = Assert.Single(_evaluated!.Trials, t => double.IsNaN(t.Value));
        Assert.Equal(1, timedOut.Index);
    }

    /// <summary>VerifyApproval as ApproveRun's kept decision would answer: true for the one ticket; the tickets checked.</summary>
    private List<string?> VerifyTickets(string kept)
    {
        var checkedTickets = new List<string?>();
        _context.Setup(c => c.CallActivityAsync<bool>(nameof(TrainingActivities.VerifyApproval), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Callback<TaskName, object?, TaskOptions?>((_, input, _) => checkedTickets.Add(((ApprovalCheck)input!).Decision.Ticket))
            .ReturnsAsync((TaskName _, object? input, TaskOptions? _) => ((ApprovalCheck)input!).Decision.Ticket == kept);
        return checkedTickets;
    }
}
