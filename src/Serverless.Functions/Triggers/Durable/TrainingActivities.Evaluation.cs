using System.Runtime.InteropServices;
using Azure;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Serverless.Functions.Training;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Evaluation;
using Serverless.Pipeline.Training;

namespace Serverless.Functions.Triggers.Durable;

// The evaluation step: the sweep's best and their voting ensemble compared, the winner evaluated, refitted and set
// against the alias holder (the other steps are in TrainingActivities.cs).
public sealed partial class TrainingActivities
{
    /// <summary>The folds the evaluation cross-validates candidates with when the trials were validated on one split.</summary>
    public const int EvaluationFolds = 5;

    /// <summary>
    /// Compares the trials, and their voting ensemble, by cross-validation and evaluates the winner (holdout, confusion
    /// matrix, importance, charts, report), then refits it on every row.
    /// </summary>
    [Function(nameof(EvaluateModel))]
    public async Task<EvaluationOutcome> EvaluateModel([ActivityTrigger] EvaluateInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (snapshot, plan) = await SnapshotAndPlanAsync(input.SnapshotId, input.Label, input.Task, input.PositiveClass, cancellationToken);
        var primary = TrialRunner.PrimaryMetric(plan.Task);

        // Every step below reads the same rows: download them once.
        byte[] rows;
        await using (var data = await store.Ingestor.OpenDataAsync(snapshot, cancellationToken))
        using (var buffer = new MemoryStream())
        {
            await data.CopyToAsync(buffer, cancellationToken);
            rows = buffer.ToArray();
        }

        var library = await LibraryAsync(input, plan, rows, cancellationToken);
        var (chosen, crossValidation) = Choose(input, plan, library, primary);
        var folds = crossValidation[primary].Folds.Count;
        // Two independent fits (the holdout's and the refit on every row): one core each.
        var done = await DedicatedThreads.RunAsync<object>(
            [() => evaluator.Evaluate(new MemoryStream(rows), plan, chosen, folds, crossValidation: crossValidation),
             () => runner.Run(new MemoryStream(rows), snapshot, plan, chosen, validationFraction: 0, holdoutFraction: 0)],
            Environment.ProcessorCount);
        var (evaluation, refit) = ((ModelEvaluation)done[0], (TrialResult)done[1]);

        var prefix = $"{input.RunId}/";
        await store.RunOutputs.GetBlobClient(prefix + "model.zip")
            .UploadAsync(BinaryData.FromBytes(refit.Model), overwrite: true, cancellationToken);
        var context = new ReportContext(input.Model, input.RunId, snapshot.Id, chosen, input.Trials);
        var charts = EvaluationReport.Charts(evaluation, context);
        foreach (var (name, png) in charts)
        {
            await Upload(prefix + "report/" + name, BinaryData.FromBytes(png), "image/png", cancellationToken);
        }

        var json = BinaryData.FromObjectAsJson(evaluation with { Predictions = [] }, Json);
        await Upload(prefix + "report/evaluation.json", json, "application/json", cancellationToken);
        var html = BinaryData.FromString(EvaluationReport.Html(evaluation, context, charts));
        await Upload(prefix + "report/index.html", html, "text/html; charset=utf-8", cancellationToken);

        var metrics = new Dictionary<string, double>(evaluation.Holdout);
        foreach (var (name, summary) in evaluation.CrossValidation)
        {
            metrics[$"cv_{name}"] = summary.Mean;
        }

        logger.LogInformation(
            "Run {RunId}: {Trainer} evaluated, {Metric} holdout {Holdout}, {Folds}-fold {CrossValidated}; refitted on {Rows} rows; {Charts} charts",
            input.RunId, chosen.Trainer, evaluation.PrimaryMetric, evaluation.Holdout[evaluation.PrimaryMetric], evaluation.Folds,
            evaluation.CrossValidation[evaluation.PrimaryMetric].Mean, refit.TrainRows, charts.Count);
        var holder = await AgainstHolderAsync(input, plan, rows, chosen, crossValidation[primary], primary, cancellationToken);
        return new EvaluationOutcome(
            chosen, prefix + "model.zip", refit.ModelSha256, metrics, prefix + "report/index.html", holder?.Version, holder?.Comparison);
    }

    /// <summary>
    /// The models to compare, each with its out-of-fold predictions on the same folds. When the trials were
    /// cross-validated, every trial that finished, from the predictions it kept (<see cref="OutOfFoldBlob"/>): no model
    /// is trained again. Else (one validation split a trial) the orchestrator's candidates, cross-validated here with
    /// <see cref="EvaluationFolds"/> folds on every core (each trainer runs on one).
    /// </summary>
    private async Task<List<CrossValidated>> LibraryAsync(
        EvaluateInput input, FeaturizationPlan plan, byte[] rows, CancellationToken cancellationToken)
    {
        var seed = input.Candidates[0].Seed;
        var (labels, folds, k) = evaluator.CrossValidationRows(new MemoryStream(rows), plan, seed, input.Folds);
        var library = new List<CrossValidated>();
        if (k > 1)
        {
            var length = folds.Length * TrialRunner.PredictionWidth(plan);
            foreach (var trial in input.Trials.Where(t => !t.Stopped && double.IsFinite(t.Value)))
            {
                try
                {
                    var blob = store.RunOutputs.GetBlobClient(OutOfFoldBlob(input.RunId, trial.Index));
                    var content = (await blob.DownloadContentAsync(cancellationToken)).Value.Content;
                    var predictions = MemoryMarshal.Cast<byte, float>(content.ToMemory().Span).ToArray();
                    if (predictions.Length == length)
                    {
                        var configuration = new TrialConfiguration(trial.Trainer, trial.Parameters, seed);
                        library.Add(EnsembleSelection.Candidate(plan.Task, configuration, predictions, folds, labels));
                        continue;
                    }
                }
                catch (RequestFailedException ex) when (ex.Status == 404)
                {
                }

                logger.LogWarning(
                    "Run {RunId}: trial {Index} kept no out-of-fold predictions for these {Rows} rows; it is left out of the comparison",
                    input.RunId, trial.Index, folds.Length);
            }
        }

        if (library.Count > 0)
        {
            return library;
        }

        Func<CrossValidated>[] work = [.. input.Candidates.Select(c =>
            (Func<CrossValidated>)(() => evaluator.CrossValidateWithPredictions(new MemoryStream(rows), plan, c, EvaluationFolds)))];
        return [.. await DedicatedThreads.RunAsync(work, Environment.ProcessorCount)];
    }

    /// <summary>
    /// The best of the library and the voting ensemble greedy selection builds from their out-of-fold predictions
    /// (<see cref="EnsembleSelection"/>): it is chosen when it has two members or more and its cross-validated primary
    /// metric beats the best single model's.
    /// </summary>
    private (TrialConfiguration Chosen, IReadOnlyDictionary<string, MetricSummary> CrossValidation) Choose(
        EvaluateInput input, FeaturizationPlan plan, List<CrossValidated> library, string primary)
    {
        var sign = TrialRunner.Goal(primary) == MetricGoal.Maximize ? 1 : -1;
        var folds = library[0].Folds.Max() + 1;
        foreach (var result in library)
        {
            logger.LogInformation(
                "Run {RunId}: candidate {Trainer} {Folds}-fold {Metric} {Mean} ± {StdDev}",
                input.RunId, result.Configuration.Trainer, folds, primary, result.Metrics[primary].Mean, result.Metrics[primary].StdDev);
        }

        var best = library.MaxBy(r => sign * r.Metrics[primary].Mean)!;
        // A class the plan does not list (beyond its 100 most frequent) has no slot to average.
        if (library.Count < 2 || library[0].Labels.Class?.Any(c => c < 0) == true)
        {
            return (best.Configuration, best.Metrics);
        }

        var weights = EnsembleSelection.Weights(plan.Task, library);
        var ensemble = EnsembleSelection.CrossValidation(plan.Task, library, weights);
        var members = weights.Count(w => w > 0);
        var wins = members > 1 && sign * ensemble[primary].Mean > sign * best.Metrics[primary].Mean;
        logger.LogInformation(
            "Run {RunId}: voting ensemble of {Members} ({Weights}) {Folds}-fold {Metric} {Mean} ± {StdDev}, {Verdict} the best single model's {Best}",
            input.RunId,
            members,
            string.Join(", ", library.Zip(weights).Where(p => p.Second > 0).Select(p => $"{p.First.Configuration.Trainer} {p.Second:0.##}")),
            folds, primary, ensemble[primary].Mean, ensemble[primary].StdDev, wins ? "beats" : "does not beat", best.Metrics[primary].Mean);
        return wins
            ? (EnsembleSelection.Configuration(library, weights, best.Configuration.Seed), ensemble)
            : (best.Configuration, best.Metrics);
    }

    /// <summary>
    /// The alias holder's trainer and hyperparameters cross-validated on the same rows and folds as the chosen
    /// configuration (the same seed), compared fold by fold; null when nothing holds the alias or the holder's
    /// configuration cannot train on this data (the registry's metrics are compared then).
    /// </summary>
    private async Task<(int Version, PairedComparison Comparison)?> AgainstHolderAsync(
        EvaluateInput input, FeaturizationPlan plan, byte[] rows, TrialConfiguration chosen, MetricSummary mine, string primary,
        CancellationToken cancellationToken)
    {
        if (input.PromoteTo is null || await store.Registry.GetModelAsync(input.Model, cancellationToken) is not { } model
            || !model.Aliases.TryGetValue(input.PromoteTo, out var holder)
            || await store.Registry.GetVersionAsync(input.Model, holder, cancellationToken) is not { } incumbent)
        {
            return null;
        }

        try
        {
            var configuration = EnsembleSelection.FromParameters(incumbent.Trainer, incumbent.Parameters, chosen.Seed);
            var theirs = evaluator.CrossValidate(new MemoryStream(rows), plan, configuration, mine.Folds.Count);
            var comparison = PairedComparison.Of(mine.Folds, theirs[primary].Folds, TrialRunner.Goal(primary), input.PromotionMargin);
            logger.LogInformation(
                "Run {RunId}: against version {Holder}'s configuration on the same {Folds} folds, {Metric} {Mine} vs {Theirs} "
                + "(difference {Difference}, standard error {StandardError})",
                input.RunId, holder, comparison.Folds, primary, comparison.Challenger, comparison.Holder, comparison.Difference,
                comparison.StandardError);
            return (holder, comparison);
        }
        catch (ArgumentException ex)
        {
            logger.LogWarning(
                "Run {RunId}: version {Holder}'s configuration does not train on this data ({Error}); its registered metrics are compared",
                input.RunId, holder, ex.Message);
            return null;
        }
    }
}
