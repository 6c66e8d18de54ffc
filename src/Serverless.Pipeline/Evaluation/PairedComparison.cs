using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Evaluation;

/// <summary>
/// A challenger against a holder on the same folds: the mean of the per-fold differences (in the metric's "better"
/// direction), its standard error sd(d)/√k, and whether the difference is more than the margin to beat, which is the
/// standard error itself unless a margin is given.
/// </summary>
public sealed record PairedComparison(double Challenger, double Holder, double Difference, double StandardError, double Margin, int Folds)
{
    /// <summary>Whether the challenger is better by more than the margin.</summary>
    public bool ChallengerWins => Difference > Margin;

    /// <summary>Compares per-fold values of the same folds; <paramref name="margin"/> null means the standard error.</summary>
    public static PairedComparison Of(IReadOnlyList<double> challenger, IReadOnlyList<double> holder, MetricGoal goal, double? margin = null)
    {
        ArgumentNullException.ThrowIfNull(challenger);
        ArgumentNullException.ThrowIfNull(holder);
        if (challenger.Count != holder.Count || challenger.Count < 2)
        {
            throw new ArgumentException($"A paired comparison needs the same folds on both sides, at least 2 (got {challenger.Count} and {holder.Count}).");
        }

        var sign = goal == MetricGoal.Maximize ? 1 : -1;
        var differences = challenger.Zip(holder, (c, h) => sign * (c - h)).ToArray();
        var mean = differences.Average();
        var sd = Math.Sqrt(differences.Sum(d => (d - mean) * (d - mean)) / (differences.Length - 1));
        var se = sd / Math.Sqrt(differences.Length);
        return new PairedComparison(challenger.Average(), holder.Average(), mean, se, margin ?? se, differences.Length);
    }
}
