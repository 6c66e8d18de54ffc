using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Tests.Training;

public sealed class SearchSpaceTests
{
    [Theory]
    [InlineData("uniform(2, 4)", 0.5, 3.0)]
    [InlineData("loguniform(0, 2)", 0.5, 2.718281828)]
    [InlineData("quniform(0, 10, 4)", 0.55, 4.0)]
    [InlineData("qloguniform(0, 3, 5)", 0.99, 20.0)]
    [InlineData("normal(10, 2)", 0.5, 10.0)]
    [InlineData("normal(10, 2)", 0.8413447, 12.0)]
    [InlineData("lognormal(0, 1)", 0.5, 1.0)]
    [InlineData("choice(16, 32, 64)", 0.7, 64.0)]
    public void At_Expression_MapsThePointAsAzureMlDefinesIt(string expression, double u, double expected)
    {
        Assert.Equal(expected, ParameterExpression.Parse(expression).At(u), 4);
    }

    [Theory]
    [InlineData("uniform(1)")]
    [InlineData("gaussian(0, 1)")]
    [InlineData("choice(a, b)")]
    [InlineData("uniform 0 1")]
    public void Parse_BadExpression_NamesItAndTheHyperparameter(string expression)
    {
        var error = Assert.Throws<FormatException>(() => SearchSpace.Parse("LightGbm", new Dictionary<string, string> { ["learningRate"] = expression }));

        Assert.Contains("'learningRate' of LightGbm", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("uniform(5, 1)", "the lower bound 5 must be below the upper bound 1.")]
    [InlineData("loguniform(-1, -1)", "the lower bound -1 must be below the upper bound -1.")]
    [InlineData("quniform(1, 10, 0)", "the step q must be above 0 (got 0).")]
    [InlineData("qloguniform(0, 3, -1)", "the step q must be above 0 (got -1).")]
    [InlineData("normal(0, 0)", "sigma must be above 0 (got 0).")]
    [InlineData("lognormal(0, -2)", "sigma must be above 0 (got -2).")]
    [InlineData("uniform(0, Infinity)", "every argument must be a finite number.")]
    public void Parse_ReversedBoundsOrBadStepOrSigma_Refused(string expression, string problem)
    {
        var error = Assert.Throws<FormatException>(() => ParameterExpression.Parse(expression));

        Assert.Equal($"'{expression}': {problem}", error.Message);
    }
}

public sealed class SamplerTests
{
    private static readonly SearchSpace Space = SearchSpace.Parse("LightGbm", new Dictionary<string, string>
    {
        ["learningRate"] = "loguniform(-5, -1)",
        ["numberOfLeaves"] = "quniform(8, 128, 8)",
        ["minimumExampleCountPerLeaf"] = "choice(5, 10, 20)",
    });

    [Fact]
    public void Grid_Choices_EveryCombinationOnce()
    {
        var space = SearchSpace.Parse("FastTree", new Dictionary<string, string> { ["numberOfLeaves"] = "choice(8, 16)", ["learningRate"] = "choice(0.1, 0.2, 0.3)" });

        var grid = Samplers.Grid(space).ToList();

        Assert.Equal(6, grid.Count);
        Assert.Equal(6, grid.Select(c => (c.Parameters["numberOfLeaves"], c.Parameters["learningRate"])).Distinct().Count());
    }

    [Fact]
    public void Grid_NonChoice_RefusedNamingTheHyperparameter()
    {
        var error = Assert.Throws<ArgumentException>(() => Samplers.Grid(Space).ToList());

        Assert.Contains("'learningRate'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_SameSeed_SameConfigurations_InsideTheSpace()
    {
        var first = Samplers.Random(Space, 20, seed: 3).ToList();
        var again = Samplers.Random(Space, 20, seed: 3).ToList();
        var other = Samplers.Random(Space, 20, seed: 4).ToList();

        Assert.Equal(first.Select(c => c.Parameters["learningRate"]), again.Select(c => c.Parameters["learningRate"]));
        Assert.NotEqual(first.Select(c => c.Parameters["learningRate"]), other.Select(c => c.Parameters["learningRate"]));
        Assert.All(first, c => Assert.InRange(c.Parameters["learningRate"], Math.Exp(-5), Math.Exp(-1)));
        Assert.All(first, c => Assert.Equal(0, c.Parameters["numberOfLeaves"] % 8));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(10)]
    public void Sobol_FirstPowerOfTwoPoints_OnePerStratumInEveryDimension(int dimensions)
    {
        var sequence = new SobolSequence(dimensions);
        var points = Enumerable.Range(0, 16).Select(_ => sequence.Next()).ToList();

        // The origin is skipped, so points 1..15 plus the origin form the first net of 16: in each dimension,
        // the 15 points and 0 fall one each into the 16 sixteenths.
        for (var d = 0; d < dimensions; d++)
        {
            var strata = points.Take(15).Select(p => (int)(p[d] * 16)).Append(0).Order().ToList();
            Assert.Equal(Enumerable.Range(0, 16), strata);
        }
    }
}

public sealed class EarlyTerminationTests
{
    private static readonly Dictionary<string, IReadOnlyList<double>> Reports = new()
    {
        ["a"] = [0.70, 0.80, 0.90, 0.92],
        ["b"] = [0.60, 0.65, 0.70, 0.72],
        ["c"] = [0.68, 0.75, 0.85, 0.88],
        ["d"] = [0.50, 0.52, 0.55, 0.56],
    };

    [Theory]
    [InlineData("a", false)]
    [InlineData("c", false)]
    [InlineData("b", true)]
    [InlineData("d", true)]
    public void Bandit_SlackFactor_StopsTrialsOutsideTheSlackOfTheBest(string trial, bool expected)
    {
        var policy = new EarlyTerminationPolicy.Bandit(SlackFactor: 0.1, SlackAmount: null);

        Assert.Equal(expected, policy.ShouldTerminate(trial, 4, Reports, MetricGoal.Maximize));
    }

    [Fact]
    public void Bandit_BeforeDelayOrOffInterval_NeverStops()
    {
        var policy = new EarlyTerminationPolicy.Bandit(null, SlackAmount: 0.01, EvaluationInterval: 2, DelayEvaluation: 2);

        Assert.False(policy.ShouldTerminate("d", 2, Reports, MetricGoal.Maximize));
        Assert.False(policy.ShouldTerminate("d", 3, Reports, MetricGoal.Maximize));
        Assert.True(policy.ShouldTerminate("d", 4, Reports, MetricGoal.Maximize));
    }

    [Fact]
    public void MedianStopping_BelowMedianOfRunningAverages_Stops()
    {
        var policy = new EarlyTerminationPolicy.MedianStopping();

        Assert.True(policy.ShouldTerminate("d", 4, Reports, MetricGoal.Maximize));
        Assert.False(policy.ShouldTerminate("a", 4, Reports, MetricGoal.Maximize));
    }

    [Fact]
    public void TruncationSelection_LowestQuarter_StopsOnlyTheWorst()
    {
        var policy = new EarlyTerminationPolicy.TruncationSelection(TruncationPercentage: 25);

        Assert.Equal(["d"], Reports.Keys.Where(t => policy.ShouldTerminate(t, 4, Reports, MetricGoal.Maximize)));
    }

    [Fact]
    public void Minimize_LossGoal_StopsTheWorstLoss()
    {
        var losses = Reports.ToDictionary(r => r.Key, r => (IReadOnlyList<double>)[.. r.Value.Select(v => 1 - v)]);
        var policy = new EarlyTerminationPolicy.TruncationSelection(TruncationPercentage: 25);

        Assert.True(policy.ShouldTerminate("d", 4, losses, MetricGoal.Minimize));
        Assert.False(policy.ShouldTerminate("a", 4, losses, MetricGoal.Minimize));
    }
}
