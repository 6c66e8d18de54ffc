namespace Serverless.Pipeline.Training;

/// <summary>Whether a bigger metric is better.</summary>
public enum MetricGoal
{
    /// <summary>Bigger is better (AUC, accuracy, R²).</summary>
    Maximize,

    /// <summary>Smaller is better (log-loss, RMSE).</summary>
    Minimize,
}

/// <summary>
/// Decides whether a running trial should stop, from the primary metric each trial reported at each evaluation step,
/// as Azure ML's early-termination policies do. Steps are 1-based; a policy acts only on multiples of
/// <c>EvaluationInterval</c> after <c>DelayEvaluation</c> steps.
/// </summary>
public abstract record EarlyTerminationPolicy(int EvaluationInterval, int DelayEvaluation)
{
    /// <summary>Whether <paramref name="trial"/>, which has just reported <paramref name="step"/>, should stop.</summary>
    public bool ShouldTerminate(string trial, int step, IReadOnlyDictionary<string, IReadOnlyList<double>> reports, MetricGoal goal)
    {
        ArgumentNullException.ThrowIfNull(reports);
        if (step <= DelayEvaluation || step % EvaluationInterval != 0 || !reports.ContainsKey(trial))
        {
            return false;
        }

        // Compare in "bigger is better" terms.
        var signed = reports.ToDictionary(r => r.Key, r => r.Value.Take(step).Select(v => goal == MetricGoal.Maximize ? v : -v).ToList());
        return Decide(trial, step, signed);
    }

    private protected abstract bool Decide(string trial, int step, Dictionary<string, List<double>> reports);

    /// <summary>Stops a trial whose best is not within the slack of the best trial so far (a factor, or an amount).</summary>
    public sealed record Bandit(double? SlackFactor, double? SlackAmount, int EvaluationInterval = 1, int DelayEvaluation = 0)
        : EarlyTerminationPolicy(EvaluationInterval, DelayEvaluation)
    {
        private protected override bool Decide(string trial, int step, Dictionary<string, List<double>> reports)
        {
            if (SlackFactor is null == SlackAmount is null)
            {
                throw new InvalidOperationException("A bandit policy takes a slack factor or a slack amount, not both or neither.");
            }

            var best = reports.Values.Where(r => r.Count > 0).Max(r => r.Max());
            var threshold = SlackFactor is { } factor ? (best >= 0 ? best / (1 + factor) : best * (1 + factor)) : best - SlackAmount!.Value;
            return reports[trial].Max() < threshold;
        }
    }

    /// <summary>Stops a trial whose best is worse than the median of all trials' running averages at this step.</summary>
    public sealed record MedianStopping(int EvaluationInterval = 1, int DelayEvaluation = 0)
        : EarlyTerminationPolicy(EvaluationInterval, DelayEvaluation)
    {
        private protected override bool Decide(string trial, int step, Dictionary<string, List<double>> reports)
        {
            var averages = reports.Values.Where(r => r.Count >= step).Select(r => r.Take(step).Average()).Order().ToList();
            if (averages.Count < 2)
            {
                return false;
            }

            var median = averages.Count % 2 == 1 ? averages[averages.Count / 2] : (averages[(averages.Count / 2) - 1] + averages[averages.Count / 2]) / 2;
            return reports[trial].Max() < median;
        }
    }

    /// <summary>Stops a trial in the lowest <see cref="TruncationPercentage"/> percent of trials at this step.</summary>
    public sealed record TruncationSelection(int TruncationPercentage, int EvaluationInterval = 1, int DelayEvaluation = 0)
        : EarlyTerminationPolicy(EvaluationInterval, DelayEvaluation)
    {
        private protected override bool Decide(string trial, int step, Dictionary<string, List<double>> reports)
        {
            var ranked = reports.Where(r => r.Value.Count >= step).OrderBy(r => r.Value[step - 1]).Select(r => r.Key).ToList();
            var cut = (int)Math.Floor(ranked.Count * TruncationPercentage / 100.0);
            return ranked.Take(cut).Contains(trial);
        }
    }
}
