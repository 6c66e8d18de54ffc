using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Monitoring;

/// <summary>What the policy decided, and every reason that counted.</summary>
public sealed record RetrainDecision(bool Retrain, IReadOnlyList<string> Reasons);

/// <summary>
/// When to retrain: the champion is older than <see cref="MaxModelAge"/>, a feature's drift is
/// <see cref="DriftVerdict.Major"/>, or the primary metric decayed by more than <see cref="MaxRelativeMetricDecay"/>
/// from its value at training.
/// </summary>
public sealed record RetrainPolicy(TimeSpan MaxModelAge, double MaxRelativeMetricDecay = 0.05)
{
    /// <summary>Decides from the champion's age, the drift of the latest scoring inputs, and the metric now versus at training.</summary>
    public RetrainDecision Decide(DateTimeOffset trainedAt, DateTimeOffset now, IReadOnlyList<ColumnDrift> drift, double? metricAtTraining, double? metricNow, MetricGoal goal)
    {
        ArgumentNullException.ThrowIfNull(drift);
        var reasons = new List<string>();
        var age = now - trainedAt;
        if (age > MaxModelAge)
        {
            reasons.Add($"the model is {age.TotalDays:0.#} days old, over the {MaxModelAge.TotalDays:0.#} allowed");
        }

        foreach (var column in drift.Where(d => d.Verdict == DriftVerdict.Major).OrderByDescending(d => d.Psi))
        {
            reasons.Add($"column '{column.Column}' drifted (PSI {column.Psi:0.00}, {column.Test} p = {column.PValue:0.###})");
        }

        if (metricAtTraining is { } before && metricNow is { } after && before != 0)
        {
            var decay = goal == MetricGoal.Maximize ? (before - after) / Math.Abs(before) : (after - before) / Math.Abs(before);
            if (decay > MaxRelativeMetricDecay)
            {
                reasons.Add($"the metric decayed by {decay:P1} (from {before:0.###} to {after:0.###}), over the {MaxRelativeMetricDecay:P0} allowed");
            }
        }

        return new RetrainDecision(reasons.Count > 0, reasons);
    }
}
