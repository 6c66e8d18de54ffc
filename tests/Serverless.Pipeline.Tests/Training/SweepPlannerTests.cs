using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Tests.Training;

public sealed class SweepPlannerTests
{
    [Theory]
    [InlineData(SamplingAlgorithm.Random)]
    [InlineData(SamplingAlgorithm.Sobol)]
    public void Suggest_InBatches_SameTrialsAsAllAtOnce(SamplingAlgorithm sampler)
    {
        var spec = new SweepSpec(Sampler: sampler, MaxTrials: 9, Seed: 7);

        var whole = SweepPlanner.Suggest(spec, MlTask.BinaryClassification, 0, 100, [], MetricGoal.Maximize);
        var batched = SweepPlanner.Suggest(spec, MlTask.BinaryClassification, 0, 4, [], MetricGoal.Maximize)
            .Concat(SweepPlanner.Suggest(spec, MlTask.BinaryClassification, 4, 4, [], MetricGoal.Maximize))
            .Concat(SweepPlanner.Suggest(spec, MlTask.BinaryClassification, 8, 4, [], MetricGoal.Maximize)).ToList();

        Assert.Equal(9, whole.Count);
        Assert.Equal(whole.Select(Describe), batched.Select(Describe));
        Assert.Equal(["LightGbm", "FastTree", "Lbfgs", "LightGbm"], whole.Take(4).Select(t => t.Configuration.Trainer));
        Assert.Equal(9, whole.Select(Describe).Distinct().Count());
    }

    [Theory]
    [InlineData(SamplingAlgorithm.Random)]
    [InlineData(SamplingAlgorithm.Sobol)]
    [InlineData(SamplingAlgorithm.Bayesian)]
    public void Suggest_FirstTrialOfEachTrainer_ItsStart(SamplingAlgorithm sampler)
    {
        var trials = SweepPlanner.Suggest(new SweepSpec(Sampler: sampler, MaxTrials: 6, Seed: 3), MlTask.BinaryClassification, 0, 6, [], MetricGoal.Maximize);

        Assert.Equal(new Dictionary<string, double> { ["numberOfLeaves"] = 31, ["learningRate"] = 0.1, ["numberOfIterations"] = 100, ["minimumExampleCountPerLeaf"] = 20 }, trials[0].Configuration.Parameters);
        Assert.Equal(new Dictionary<string, double> { ["numberOfLeaves"] = 16, ["numberOfTrees"] = 100, ["learningRate"] = 0.2, ["minimumExampleCountPerLeaf"] = 10 }, trials[1].Configuration.Parameters);
        Assert.Equal(new Dictionary<string, double> { ["l1Regularization"] = Math.Exp(-7), ["l2Regularization"] = 0.001 }, trials[2].Configuration.Parameters);
        // The start's point maps back to it (what the Bayesian sampler learns from): choice 31 of (7, 15, 31, 63) is the third quarter.
        Assert.Equal(0.625, trials[0].Point[Keys(trials[0]).IndexOf("numberOfLeaves")], 12);
        Assert.All(trials.Skip(3), t => Assert.NotEqual(SweepPlanner.Start(t.Configuration.Trainer), t.Configuration.Parameters));
    }

    [Fact]
    public void Suggest_SpaceWithoutTheStart_DrawsTheFirstTrialToo()
    {
        var spaces = new Dictionary<string, IReadOnlyDictionary<string, string>> { ["LightGbm"] = new Dictionary<string, string> { ["numberOfLeaves"] = "choice(4, 8)" } };
        var trials = SweepPlanner.Suggest(new SweepSpec(Trainers: ["LightGbm", "Lbfgs"], SearchSpaces: spaces, MaxTrials: 2), MlTask.BinaryClassification, 0, 2, [], MetricGoal.Maximize);

        Assert.Contains(trials[0].Configuration.Parameters["numberOfLeaves"], new[] { 4.0, 8.0 });
        Assert.Equal(SweepPlanner.Start("Lbfgs"), trials[1].Configuration.Parameters);
    }

    [Theory]
    [InlineData("choice(7, 15, 31, 63)", 31)]
    [InlineData("uniform(0, 4)", 1)]
    [InlineData("loguniform(-4, -1)", 0.1)]
    [InlineData("quniform(50, 400, 50)", 100)]
    public void PositionOf_ValueInRange_MapsBackToIt(string expression, double value)
    {
        var parsed = ParameterExpression.Parse(expression);

        var u = parsed.PositionOf(value);

        Assert.NotNull(u);
        Assert.InRange(u.Value, 0, 1);
        Assert.Equal(value, parsed.At(u.Value), 9);
    }

    [Theory]
    [InlineData("choice(7, 15)", 31)]
    [InlineData("uniform(0, 4)", 4)]
    [InlineData("loguniform(-4, -1)", 0.5)]
    [InlineData("quniform(50, 400, 50)", 120)]
    [InlineData("normal(0, 1)", 0)]
    public void PositionOf_ValueTheExpressionDoesNotTake_Null(string expression, double value) =>
        Assert.Null(ParameterExpression.Parse(expression).PositionOf(value));

    [Fact]
    public void Suggest_Regression_DefaultTrainersIncludeSdca()
    {
        var trials = SweepPlanner.Suggest(new SweepSpec(MaxTrials: 3), MlTask.Regression, 0, 3, [], MetricGoal.Maximize);

        Assert.Equal(["LightGbm", "FastTree", "Sdca"], trials.Select(t => t.Configuration.Trainer));
    }

    [Fact]
    public void Suggest_Grid_EveryCombinationThenStops()
    {
        var spec = new SweepSpec(
            Trainers: ["Lbfgs"],
            SearchSpaces: new Dictionary<string, IReadOnlyDictionary<string, string>> { ["lbfgs"] = new Dictionary<string, string> { ["l1Regularization"] = "choice(0.1, 1)", ["l2Regularization"] = "choice(0.01, 0.1, 1)" } },
            Sampler: SamplingAlgorithm.Grid,
            MaxTrials: 50);

        var trials = SweepPlanner.Suggest(spec, MlTask.BinaryClassification, 0, 50, [], MetricGoal.Maximize);
        var after = SweepPlanner.Suggest(spec, MlTask.BinaryClassification, 6, 10, [], MetricGoal.Maximize);

        Assert.Equal(6, trials.Select(Describe).Distinct().Count());
        Assert.Empty(after);
    }

    [Fact]
    public void Spaces_GridOverContinuousDefaults_ExplainsWhatToDo()
    {
        var error = Assert.Throws<ArgumentException>(() => SweepPlanner.Spaces(new SweepSpec(Trainers: ["LightGbm"], Sampler: SamplingAlgorithm.Grid), MlTask.BinaryClassification));

        Assert.Contains("Grid sampling takes only choice(...)", error.Message, StringComparison.Ordinal);
        Assert.Contains("of LightGbm", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Spaces_UnknownHyperparameter_NamesItAndTheKnownOnes()
    {
        var spec = new SweepSpec(Trainers: ["Sdca"], SearchSpaces: new Dictionary<string, IReadOnlyDictionary<string, string>> { ["Sdca"] = new Dictionary<string, string> { ["depth"] = "choice(1, 2)" } });

        var error = Assert.Throws<ArgumentException>(() => SweepPlanner.Spaces(spec, MlTask.Regression));

        Assert.Contains("'depth'", error.Message, StringComparison.Ordinal);
        Assert.Contains("l2Regularization", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Suggest_BayesianSameHistory_SameSuggestion()
    {
        var spec = new SweepSpec(Trainers: ["Lbfgs"], Sampler: SamplingAlgorithm.Bayesian, MaxTrials: 20);
        var history = Enumerable.Range(0, 6).Select(i => new TrialObservation("Lbfgs", [i / 6.0, 1 - (i / 6.0)], i)).ToList();

        var first = SweepPlanner.Suggest(spec, MlTask.BinaryClassification, 6, 1, history, MetricGoal.Maximize);
        var second = SweepPlanner.Suggest(spec, MlTask.BinaryClassification, 6, 1, history, MetricGoal.Maximize);

        Assert.Equal(Describe(first[0]), Describe(second[0]));
    }

    /// <summary>
    /// On a smooth objective with its optimum off-centre, the Bayesian sampler, learning from each result, ends closer
    /// to the optimum than random search with the same budget, on average over seeds.
    /// </summary>
    [Fact]
    public void Suggest_Bayesian_FindsBetterThanRandomOnTheSameBudget()
    {
        static double Objective(IReadOnlyList<double> p) => -Math.Pow(p[0] - 0.83, 2) - Math.Pow(p[1] - 0.21, 2);

        double BestAfter(SamplingAlgorithm sampler, int seed)
        {
            var spec = new SweepSpec(Trainers: ["Lbfgs"], Sampler: sampler, MaxTrials: 30, Seed: seed);
            var history = new List<TrialObservation>();
            for (var i = 0; i < spec.MaxTrials; i++)
            {
                var trial = SweepPlanner.Suggest(spec, MlTask.BinaryClassification, i, 1, history, MetricGoal.Maximize).Single();
                history.Add(new TrialObservation(trial.Configuration.Trainer, trial.Point, Objective(trial.Point)));
            }

            return history.Max(h => h.Value);
        }

        var seeds = Enumerable.Range(1, 12).ToList();
        var bayesian = seeds.Average(s => BestAfter(SamplingAlgorithm.Bayesian, s));
        var random = seeds.Average(s => BestAfter(SamplingAlgorithm.Random, s));

        Assert.True(bayesian > random, $"Bayesian mean best {bayesian:0.00000} is not above random's {random:0.00000}.");
    }

    private static string Describe(SuggestedTrial trial) =>
        $"{trial.Index}:{trial.Configuration.Trainer}:{string.Join(",", trial.Configuration.Parameters.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value:R}"))}";

    private static List<string> Keys(SuggestedTrial trial) => [.. trial.Configuration.Parameters.Keys.Order(StringComparer.Ordinal)];
}
