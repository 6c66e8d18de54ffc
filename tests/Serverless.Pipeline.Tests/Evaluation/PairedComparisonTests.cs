using Serverless.Pipeline.Evaluation;
using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Tests.Evaluation;

public sealed class PairedComparisonTests
{
    [Fact]
    public void Of_HandComputed_MeanDifferenceAndStandardError()
    {
        // Differences 0.02, 0.00, 0.01, 0.03, −0.01: mean 0.01, sd √(0.001/4) = 0.0158114, se = sd/√5 = 0.0070711.
        var comparison = PairedComparison.Of([0.82, 0.80, 0.81, 0.83, 0.79], [0.80, 0.80, 0.80, 0.80, 0.80], MetricGoal.Maximize);

        Assert.Equal(0.01, comparison.Difference, 9);
        Assert.Equal(0.0070711, comparison.StandardError, 6);
        Assert.Equal(comparison.StandardError, comparison.Margin);
        Assert.True(comparison.ChallengerWins);
        Assert.Equal((0.81, 0.80, 5), (Math.Round(comparison.Challenger, 9), comparison.Holder, comparison.Folds));
    }

    [Fact]
    public void Of_TinyGainWithinNoise_DoesNotWin()
    {
        // "rSquared 0.9206 beats 0.9204": +0.0002 on average, folds disagreeing by far more.
        var comparison = PairedComparison.Of([0.9306, 0.9106, 0.9256, 0.9156, 0.9206], [0.9204, 0.9204, 0.9204, 0.9204, 0.9204], MetricGoal.Maximize);

        Assert.Equal(0.0002, comparison.Difference, 9);
        Assert.False(comparison.ChallengerWins);
    }

    [Fact]
    public void Of_LowerIsBetter_AndAnExplicitMargin()
    {
        var comparison = PairedComparison.Of([0.9, 1.0, 1.1], [1.2, 1.3, 1.4], MetricGoal.Minimize, margin: 0.5);

        Assert.Equal(0.3, comparison.Difference, 9);
        Assert.Equal(0, comparison.StandardError, 9);
        Assert.False(comparison.ChallengerWins);
    }

    [Fact]
    public void Of_DifferentFoldCounts_Refused()
    {
        Assert.Throws<ArgumentException>(() => PairedComparison.Of([0.8, 0.9], [0.8, 0.9, 0.7], MetricGoal.Maximize));
    }
}
