using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Serverless.Functions.Hosting;
using Serverless.Functions.Training;
using Serverless.Pipeline;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Evaluation;
using Serverless.Pipeline.Registry;
using Serverless.Pipeline.Tracking;
using Serverless.Pipeline.Training;

namespace Serverless.Functions.Triggers.Durable;

/// <summary>
/// The steps of <see cref="TrainModelOrchestrator"/>, each a thin call into Serverless.Pipeline. They take and return
/// references (snapshot ids, blob names) and small records, never datasets; each can run again with the same input.
/// </summary>
public sealed partial class TrainingActivities(PipelineStore store, TrialRunner runner, ModelEvaluator evaluator, ILogger<TrainingActivities> logger)
{
    private static readonly JsonSerializerOptions Json = PipelineJson.Indented;

    /// <summary>Reads the dataset blob once: validates, profiles and snapshots it, and plans the task from its label.</summary>
    [Function(nameof(IngestDataset))]
    public async Task<SnapshotSummary> IngestDataset([ActivityTrigger] IngestInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        await store.EnsureCreatedAsync(cancellationToken);
        var source = store.Datasets.GetBlobClient(input.Dataset);
        DatasetSnapshot snapshot;
        try
        {
            var options = new IngestOptions(Label: input.Label, LabelIsClassification: input.Task is null ? null : input.Task != MlTask.Regression);
            snapshot = await store.Ingestor.IngestAsync(source, options, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            var name = $"{PipelineOptions.DatasetsContainer}/{input.Dataset}";
            throw new DatasetValidationException(name, $"{name}: no such blob; upload it first (PUT /api/datasets/{input.Dataset}).");
        }

        var plan = FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, input.Label, input.Task, input.PositiveClass);
        await store.Runs.StartAsync(input.Model, input.RunId, null, null, new Dictionary<string, double>(), snapshot.Id, cancellationToken);
        var primary = TrialRunner.PrimaryMetric(plan.Task);
        logger.LogInformation(
            "Ingested {Source}: snapshot {SnapshotId}, {Accepted} rows accepted, {Rejected} rejected; {Task} on '{Label}', dropped {Dropped}",
            snapshot.Source, snapshot.Id, snapshot.RowsAccepted, snapshot.RowsRejected, plan.Task, plan.Label, plan.Dropped.Count);
        return new SnapshotSummary(
            snapshot.Id, snapshot.Source, snapshot.RowsRead, snapshot.RowsAccepted, snapshot.RowsRejected, plan.Task, primary, TrialRunner.Goal(primary),
            plan.PositiveClass);
    }

    /// <summary>
    /// Trains and measures one configuration at one step (step k of n trains on k/n of the training rows). The last step
    /// keeps its out-of-fold predictions (cross-validated) or its model (validated on a split).
    /// </summary>
    [Function(nameof(RunTrial))]
    public async Task<TrialOutcome> RunTrial([ActivityTrigger] TrialInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var trialRunId = TrialRunId(input.RunId, input.Index);
        var (snapshot, plan) = await SnapshotAndPlanAsync(input.SnapshotId, input.Label, input.Task, input.PositiveClass, cancellationToken);
        if (input.Step == 1)
        {
            await store.Runs.StartAsync(
                input.Model, trialRunId, input.RunId, input.Configuration.Trainer, input.Configuration.Parameters, snapshot.Id, cancellationToken);
        }

        try
        {
            TrialResult result;
            await using (var data = await store.Ingestor.OpenDataAsync(snapshot, cancellationToken))
            {
                // A cross-validated trial is not refitted on all its rows: the evaluation compares trials by their
                // out-of-fold predictions and trains only the winner again.
                var fraction = (double)input.Step / input.Steps;
                result = runner.Run(data, snapshot, plan, input.Configuration, trainFraction: fraction, folds: input.Folds, keepModel: false);
            }

            string? artifact = null;
            if (input.Step == input.Steps)
            {
                if (result.Model.Length > 0)
                {
                    var blob = store.RunOutputs.GetBlobClient($"{input.RunId}/trials/{input.Index:D3}/model.zip");
                    await blob.UploadAsync(BinaryData.FromBytes(result.Model), overwrite: true, cancellationToken);
                    artifact = blob.Uri.ToString();
                }

                if (result.OutOfFold is { } outOfFold)
                {
                    // What the evaluation's voting ensemble combines, so it need not cross-validate the trial again.
                    var bytes = MemoryMarshal.AsBytes(outOfFold.AsSpan()).ToArray();
                    await store.RunOutputs.GetBlobClient(OutOfFoldBlob(input.RunId, input.Index))
                        .UploadAsync(BinaryData.FromBytes(bytes), overwrite: true, cancellationToken);
                }

                // The trial's cost next to its metrics: the rows its model trained on and the seconds the step took.
                var tracked = new Dictionary<string, double>(result.Metrics)
                {
                    ["trainRows"] = result.TrainRows,
                    ["trainSeconds"] = Math.Round(result.Duration.TotalSeconds, 2),
                };
                await store.Runs.EndAsync(input.Model, trialRunId, RunStatus.Completed, tracked, artifact, null, cancellationToken);
            }

            var validation = result.Folds > 0 ? $"{result.Folds}-fold cross-validation" : $"{result.ValidationRows} validation rows";
            logger.LogInformation(
                "Trial {TrialRunId} step {Step}/{Steps}: {Trainer} on {TrainRows} rows, {Metric} {Value} ({Validation}) in {Seconds} s",
                trialRunId, input.Step, input.Steps, input.Configuration.Trainer, result.TrainRows, result.PrimaryMetric, result.PrimaryValue, validation,
                result.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture));
            return new TrialOutcome(
                input.Index, input.Step, input.Configuration.Trainer, input.Configuration.Parameters, result.Metrics, result.PrimaryValue, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await store.Runs.EndAsync(input.Model, trialRunId, RunStatus.Failed, null, null, ex.Message, CancellationToken.None);
            throw;
        }
    }

    /// <summary>Marks trials that early termination stopped, with the metrics of their last step.</summary>
    [Function(nameof(EndTrials))]
    public async Task EndTrials([ActivityTrigger] StoppedTrials input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        foreach (var trial in input.Trials)
        {
            var reason = $"stopped by early termination after step {trial.Step}";
            await store.Runs.EndAsync(input.Model, TrialRunId(input.RunId, trial.Index), RunStatus.Stopped, trial.Metrics, null, reason, cancellationToken);
        }

        logger.LogInformation("Run {RunId}: early termination stopped {Count} trials", input.RunId, input.Trials.Count);
    }

    /// <summary>
    /// Registers the refitted model (with its signature and plan), and compares it with the alias holder: eligible
    /// when there is no holder yet or its cross-validated primary metric is better by the margin. The alias moves in
    /// <see cref="PromoteModel"/>, after approval when the run asks for it.
    /// </summary>
    [Function(nameof(RegisterModel))]
    public async Task<RegistrationOutcome> RegisterModel([ActivityTrigger] RegisterInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (snapshot, plan) = await SnapshotAndPlanAsync(input.SnapshotId, input.Label, input.Task, input.PositiveClass, cancellationToken);
        if (input.Request is { } request)
        {
            var json = BinaryData.FromObjectAsJson(request, PipelineJson.Indented);
            await Upload(TrainingRequest.BlobName(input.RunId), json, "application/json", cancellationToken);
        }

        var registration = new ModelRegistration(
            input.Model, input.RunId, input.Chosen.Trainer, input.Chosen.Parameters, input.Evaluation.Metrics,
            ModelSignature.From(snapshot.Schema, plan, snapshot.Profile), plan, snapshot.Id, input.Description,
            new Dictionary<string, string> { ["dataset"] = input.Dataset, ["label"] = input.Label });
        ModelVersion version;
        var blob = store.RunOutputs.GetBlobClient(input.Evaluation.ArtifactBlob);
        await using (var artifact = await blob.OpenReadAsync(new BlobOpenReadOptions(allowModifications: false), cancellationToken))
        {
            version = await store.Registry.RegisterAsync(registration, artifact, cancellationToken);
        }

        if (version.Status != ModelVersionStatus.Ready)
        {
            throw new InvalidOperationException($"Model '{input.Model}' version {version.Version} is {version.Status}: {version.Error}");
        }

        var outcome = await CompareAsync(version, input, cancellationToken);
        await store.Runs.EndAsync(input.Model, input.RunId, RunStatus.Completed, input.Evaluation.Metrics, version.ArtifactUri, null, cancellationToken);
        logger.LogInformation(
            "Model {Model} version {Version} registered ({Sha}); {Reason}", version.Name, version.Version, version.ArtifactSha256, outcome.Reason);
        return outcome;
    }

    /// <summary>Records a failed run with its stage and error.</summary>
    [Function(nameof(FailRun))]
    public async Task FailRun([ActivityTrigger] FailedRun input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        await store.EnsureCreatedAsync(cancellationToken);
        if (await store.Runs.GetAsync(input.Model, input.RunId, cancellationToken) is null)
        {
            await store.Runs.StartAsync(input.Model, input.RunId, null, null, new Dictionary<string, double>(), null, cancellationToken);
        }

        await store.Runs.EndAsync(input.Model, input.RunId, RunStatus.Failed, null, null, $"{input.Stage}: {input.Error}", cancellationToken);
        logger.LogWarning("Run {RunId} of {Model} failed while {Stage}: {Error}", input.RunId, input.Model, input.Stage, input.Error);
    }

    /// <summary>
    /// Where a cross-validated trial keeps its out-of-fold predictions, in the runs container: the values of
    /// <see cref="TrialResult.OutOfFold"/> as little-endian 32-bit floats.
    /// </summary>
    public static string OutOfFoldBlob(string runId, int index) => $"{runId}/trials/{index:D3}/out-of-fold.bin";

    /// <summary>The run id of a trial: the training run's id and the trial's index.</summary>
    public static string TrialRunId(string runId, int index) => $"{runId}-t{index:D3}";

    /// <summary>Whether an approval event came from <c>ApproveRun</c>: its ticket is the one kept with the run's decision.</summary>
    [Function(nameof(VerifyApproval))]
    public async Task<bool> VerifyApproval([ActivityTrigger] ApprovalCheck input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            var kept = (await store.RunOutputs.GetBlobClient(ApprovalDecision.BlobName(input.RunId)).DownloadContentAsync(cancellationToken)).Value.Content
                .ToObjectFromJson<ApprovalDecision>(Json);
            var verified = kept is { Ticket: { Length: > 0 } ticket } && ticket == input.Decision.Ticket && kept.Approve == input.Decision.Approve;
            if (!verified)
            {
                logger.LogWarning("Run {RunId}: an approval event that ApproveRun did not send was ignored", input.RunId);
            }

            return verified;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            logger.LogWarning("Run {RunId}: an approval event without a decision from ApproveRun was ignored", input.RunId);
            return false;
        }
    }

    /// <summary>Points the alias at the new version, if it still points where the comparison saw it (else someone moved it meanwhile).</summary>
    [Function(nameof(PromoteModel))]
    public async Task<PromotionOutcome> PromoteModel([ActivityTrigger] PromotionInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var model = await store.Registry.GetModelAsync(input.Model, cancellationToken);
        if (model is not null && model.Aliases.TryGetValue(input.Alias, out var current) && current == input.Version)
        {
            return new PromotionOutcome(true, $"version {input.Version} holds '{input.Alias}'");
        }

        try
        {
            await store.Registry.MoveAliasAsync(input.Model, input.Alias, input.Holder, input.Version, cancellationToken);
            logger.LogInformation("Model {Model}: '{Alias}' moved from {Holder} to version {Version}", input.Model, input.Alias, input.Holder, input.Version);
            return new PromotionOutcome(true, $"promoted to '{input.Alias}': {input.Reason}");
        }
        catch (ModelRegistryConflictException ex)
        {
            return new PromotionOutcome(false, $"not promoted: {ex.Message}");
        }
    }

    /// <summary>Whether a new version may take the alias: no holder yet, or a cross-validated primary metric better than the holder's by the margin.</summary>
    private async Task<RegistrationOutcome> CompareAsync(ModelVersion version, RegisterInput input, CancellationToken cancellationToken)
    {
        var (alias, evaluation) = (input.PromoteTo, input.Evaluation);
        var primary = TrialRunner.PrimaryMetric(version.Plan.Task);
        var sign = TrialRunner.Goal(primary) == MetricGoal.Maximize ? 1 : -1;
        var model = await store.Registry.GetModelAsync(version.Name, cancellationToken);
        int? holder = model is not null && model.Aliases.TryGetValue(alias, out var current) ? current : null;
        if (holder == version.Version)
        {
            return new RegistrationOutcome(version.Version, true, holder, $"version {version.Version} already holds '{alias}'");
        }

        if (holder is { } same && evaluation.HolderVersion == same && evaluation.Holder is { } paired)
        {
            var verdict = paired.ChallengerWins ? "more" : "not more";
            var margin = input.PromotionMargin is null ? $"the standard error {Format(paired.StandardError)}" : $"the margin {Format(paired.Margin)}";
            return new RegistrationOutcome(
                version.Version, paired.ChallengerWins, holder,
                $"{primary} {Format(paired.Challenger)} against version {same}'s configuration at {Format(paired.Holder)} on the same {paired.Folds} folds: "
                + $"better by {Format(paired.Difference)}, {verdict} than {margin}");
        }

        if (holder is { } holderVersion && await store.Registry.GetVersionAsync(version.Name, holderVersion, cancellationToken) is { } incumbent)
        {
            // Not comparable on the same folds: the registered cross-validated metrics, with the margin asked for or 0.
            var mine = Score(version.Metrics, primary);
            var theirs = Score(incumbent.Metrics, primary);
            var margin = input.PromotionMargin ?? 0;
            var beats = !double.IsFinite(theirs) || (sign * (mine - theirs)) > margin;
            var by = margin > 0 ? $" by more than {Format(margin)}" : string.Empty;
            return new RegistrationOutcome(
                version.Version, beats, holder,
                $"{primary} {Format(mine)} {(beats ? "beats" : "does not beat")} version {holderVersion}'s registered {Format(theirs)}{by}");
        }

        return new RegistrationOutcome(version.Version, true, null, "the first version to hold it");
    }

    /// <summary>The cross-validated value of a metric when there is one, else the holdout value.</summary>
    private static double Score(IReadOnlyDictionary<string, double> metrics, string metric) =>
        metrics.TryGetValue($"cv_{metric}", out var cv) ? cv : metrics.GetValueOrDefault(metric, double.NaN);

    private static string Format(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    private async Task<(DatasetSnapshot Snapshot, FeaturizationPlan Plan)> SnapshotAndPlanAsync(
        string snapshotId, string label, MlTask task, string? positiveClass, CancellationToken cancellationToken)
    {
        var snapshot = await store.Ingestor.GetAsync(snapshotId, cancellationToken)
            ?? throw new InvalidOperationException($"Snapshot {snapshotId} does not exist.");
        return (snapshot, FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, label, task, positiveClass));
    }

    private Task Upload(string name, BinaryData content, string contentType, CancellationToken cancellationToken) =>
        store.RunOutputs.GetBlobClient(name)
            .UploadAsync(content, new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = contentType } }, cancellationToken);
}
