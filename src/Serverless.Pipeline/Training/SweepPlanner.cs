using System.Text.Json.Serialization;

namespace Serverless.Pipeline.Training;

/// <summary>How configurations are drawn.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SamplingAlgorithm>))]
public enum SamplingAlgorithm
{
    /// <summary>Independent uniform draws.</summary>
    Random,

    /// <summary>A Sobol sequence: spread evenly.</summary>
    Sobol,

    /// <summary>Every combination of <c>choice</c> values.</summary>
    Grid,

    /// <summary>Tree-structured Parzen estimators: each draw learns from the trials so far.</summary>
    Bayesian,
}

/// <summary>
/// A sweep: the trainers to try (null: the defaults of the task), search spaces by trainer (null or missing: the
/// default space of that trainer), the sampler, the number of trials and the seed.
/// </summary>
public sealed record SweepSpec(
    IReadOnlyList<string>? Trainers = null,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? SearchSpaces = null,
    SamplingAlgorithm Sampler = SamplingAlgorithm.Random,
    int MaxTrials = 8,
    int Seed = 1);

/// <summary>A configuration to run, with its point in the unit cube of its trainer's space (what the Bayesian sampler learns from).</summary>
public sealed record SuggestedTrial(int Index, TrialConfiguration Configuration, IReadOnlyList<double> Point);

/// <summary>A finished trial as the sampler sees it: where it was, and its primary metric ("bigger is better" or not per the goal).</summary>
public sealed record TrialObservation(string Trainer, IReadOnlyList<double> Point, double Value);

/// <summary>
/// Turns a <see cref="SweepSpec"/> into trial configurations, a batch at a time. Every answer is a pure function of the
/// spec, the task and the observations so far, so an orchestrator can ask again on replay, or an activity can answer.
/// Trainers take turns (trial i uses trainer i mod n), except with the Bayesian sampler, which also learns the trainer.
/// </summary>
public static class SweepPlanner
{
    /// <summary>Trials the Bayesian sampler draws at random (Sobol) before it models the results.</summary>
    public const int BayesianStartupTrials = 5;

    private const int Candidates = 48;
    private const double Gamma = 0.25;

    /// <summary>The trainers a task sweeps when the spec names none.</summary>
    public static IReadOnlyList<string> DefaultTrainers(MlTask task) => task == MlTask.Regression
        ? ["LightGbm", "FastTree", "Sdca"]
        : ["LightGbm", "FastTree", "Lbfgs"];

    /// <summary>The default search space of a trainer (Azure ML expressions).</summary>
    public static IReadOnlyDictionary<string, string> DefaultSearchSpace(string trainer) => trainer.ToUpperInvariant() switch
    {
        "LIGHTGBM" => new Dictionary<string, string>
        {
            ["numberOfLeaves"] = "choice(7, 15, 31, 63)",
            ["learningRate"] = "loguniform(-4, -1)",
            ["numberOfIterations"] = "quniform(50, 400, 50)",
            ["minimumExampleCountPerLeaf"] = "choice(5, 10, 20, 40)",
        },
        "FASTTREE" => new Dictionary<string, string>
        {
            ["numberOfLeaves"] = "choice(8, 16, 32)",
            ["numberOfTrees"] = "quniform(50, 300, 50)",
            ["learningRate"] = "loguniform(-3.5, -1)",
            ["minimumExampleCountPerLeaf"] = "choice(2, 5, 10, 20)",
        },
        "SDCA" => new Dictionary<string, string>
        {
            ["l2Regularization"] = "loguniform(-9, -1)",
            ["maximumNumberOfIterations"] = "choice(50, 100, 200)",
        },
        "LBFGS" => new Dictionary<string, string>
        {
            ["l1Regularization"] = "loguniform(-7, 0)",
            ["l2Regularization"] = "loguniform(-7, 1)",
        },
        _ => throw new ArgumentException($"Unknown trainer '{trainer}'; use one of {string.Join(", ", TrialRunner.Trainers.Keys)}.", nameof(trainer)),
    };

    /// <summary>
    /// Where each trainer starts: its library's defaults (LightGBM's and FastTree's as ML.NET sets them, with FastTree's
    /// 20 leaves as 16 of the default space; SDCA's explicit ones), and for L-BFGS a weak L2 weight (0.001) and the
    /// least L1 of the space: ML.NET's default L2 weight of 1 regularizes far more than scikit-learn's default C = 1 on
    /// the same standardized features (Vehicle, 10-fold macro accuracy: 0.68 against 0.78; 0.001 gives 0.78, see
    /// docs/BENCHMARKS.md). A sweep's first trial of each trainer is its
    /// start when the trainer's space holds it, as FLAML and Azure ML's automated ML try known-good defaults before
    /// they search; defaults are often close to the best on small data, and a random draw may miss them.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Start(string trainer) => trainer.ToUpperInvariant() switch
    {
        "LIGHTGBM" => new Dictionary<string, double>
        {
            ["numberOfLeaves"] = 31, ["learningRate"] = 0.1, ["numberOfIterations"] = 100, ["minimumExampleCountPerLeaf"] = 20,
        },
        "FASTTREE" => new Dictionary<string, double>
        {
            ["numberOfLeaves"] = 16, ["numberOfTrees"] = 100, ["learningRate"] = 0.2, ["minimumExampleCountPerLeaf"] = 10,
        },
        "SDCA" => new Dictionary<string, double> { ["l2Regularization"] = 0.01, ["maximumNumberOfIterations"] = 100 },
        "LBFGS" => new Dictionary<string, double> { ["l1Regularization"] = Math.Exp(-7), ["l2Regularization"] = 0.001 },
        _ => new Dictionary<string, double>(),
    };

    /// <summary>The trainer's <see cref="Start"/> as a point of <paramref name="space"/>; null when the space does not hold it all.</summary>
    internal static double[]? StartPoint(SearchSpace space)
    {
        var start = Start(space.Trainer);
        var point = space.Parameters.Select(p => start.TryGetValue(p.Key, out var value) ? p.Value.PositionOf(value) : null).ToList();
        return point.Count > 0 && point.All(u => u is not null) ? [.. point.Select(u => u!.Value)] : null;
    }

    /// <summary>The parsed spaces of the sweep's trainers, in the spec's order; throws naming what is wrong.</summary>
    public static IReadOnlyList<SearchSpace> Spaces(SweepSpec spec, MlTask task)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.MaxTrials is < 1 or > 1000)
        {
            throw new ArgumentException($"maxTrials must be between 1 and 1000, not {spec.MaxTrials}.", nameof(spec));
        }

        var trainers = spec.Trainers is { Count: > 0 } named ? named : DefaultTrainers(task);
        var spaces = new List<SearchSpace>();
        foreach (var trainer in trainers.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (!TrialRunner.Trainers.TryGetValue(trainer, out var known))
            {
                throw new ArgumentException($"Unknown trainer '{trainer}'; use one of {string.Join(", ", TrialRunner.Trainers.Keys)}.", nameof(spec));
            }

            var given = spec.SearchSpaces?.FirstOrDefault(s => string.Equals(s.Key, trainer, StringComparison.OrdinalIgnoreCase)).Value;
            var unknown = given?.Keys.Except(known, StringComparer.OrdinalIgnoreCase).ToList() ?? [];
            if (unknown.Count > 0)
            {
                throw new ArgumentException($"Trainer '{trainer}' has no hyperparameter {string.Join(", ", unknown.Select(u => $"'{u}'"))}; it takes {string.Join(", ", known)}.", nameof(spec));
            }

            var space = SearchSpace.Parse(trainer, given ?? DefaultSearchSpace(trainer));
            if (spec.Sampler == SamplingAlgorithm.Grid && space.Parameters.FirstOrDefault(p => p.Value is not ParameterExpression.Choice) is { Key: { } notChoice })
            {
                throw new ArgumentException($"Grid sampling takes only choice(...) hyperparameters; '{notChoice}' of {trainer} is not one. Give a search space of choices, or use random, sobol or bayesian.", nameof(spec));
            }

            spaces.Add(space);
        }

        return spaces;
    }

    /// <summary>
    /// The next trials from index <paramref name="start"/> on, at most <paramref name="count"/> and never past
    /// <c>MaxTrials</c> (a grid can end sooner). <paramref name="observations"/> are the finished trials (used by the
    /// Bayesian sampler only); <paramref name="goal"/> says which way the primary metric is better.
    /// </summary>
    public static IReadOnlyList<SuggestedTrial> Suggest(SweepSpec spec, MlTask task, int start, int count, IReadOnlyList<TrialObservation> observations, MetricGoal goal)
    {
        ArgumentNullException.ThrowIfNull(observations);
        var spaces = Spaces(spec, task);
        var end = Math.Min(spec.MaxTrials, start + count);
        if (spec.Sampler == SamplingAlgorithm.Grid)
        {
            var grid = spaces.SelectMany(space => Samplers.Grid(space, spec.Seed).Select(c => (Space: space, Configuration: c))).Take(spec.MaxTrials).ToList();
            return [.. grid.Skip(start).Take(Math.Max(0, end - start)).Select((g, i) => new SuggestedTrial(start + i, g.Configuration, PointOf(g.Space, g.Configuration)))];
        }

        var trials = new List<SuggestedTrial>();
        for (var index = start; index < end; index++)
        {
            if (index < spaces.Count && StartPoint(spaces[index]) is { } first)
            {
                // The values as written: a point's round trip through exp and log is not exact.
                var starting = spaces[index];
                var values = starting.Parameters.Keys.ToDictionary(k => k, k => Start(starting.Trainer)[k]);
                trials.Add(new SuggestedTrial(index, new TrialConfiguration(starting.Trainer, values, spec.Seed), first));
                continue;
            }

            var (space, point) = spec.Sampler switch
            {
                SamplingAlgorithm.Random => (spaces[index % spaces.Count], RandomPoint(spaces[index % spaces.Count], spec.Seed, index)),
                SamplingAlgorithm.Bayesian when observations.Count >= BayesianStartupTrials => Parzen(spaces, spec.Seed, index, observations, goal),
                _ => (spaces[index % spaces.Count], SobolPoint(spaces[index % spaces.Count], spaces.Count, index)),
            };
            trials.Add(new SuggestedTrial(index, new TrialConfiguration(space.Trainer, Values(space, point), spec.Seed), point));
        }

        return trials;
    }

    private static Dictionary<string, double> Values(SearchSpace space, IReadOnlyList<double> point) =>
        space.Parameters.Keys.Zip(point).ToDictionary(p => p.First, p => space.Parameters[p.First].At(p.Second));

    /// <summary>A grid configuration's point: the middle of each chosen value's share of [0, 1) (<see cref="ParameterExpression.PositionOf"/>).</summary>
    private static double[] PointOf(SearchSpace space, TrialConfiguration configuration) =>
        [.. space.Parameters.Select(p => p.Value.PositionOf(configuration.Parameters[p.Key]) ?? 0.5)];

    private static double[] RandomPoint(SearchSpace space, int seed, int index)
    {
        var random = new Random(Mix(seed, index, 0));
        return [.. space.Parameters.Select(_ => random.NextDouble())];
    }

    /// <summary>The Sobol point of this trainer's own turn: trainer k's j-th trial takes the j-th point.</summary>
    private static double[] SobolPoint(SearchSpace space, int trainers, int index)
    {
        var sequence = new SobolSequence(space.Parameters.Count);
        var point = Array.Empty<double>();
        for (var j = 0; j <= index / trainers; j++)
        {
            point = sequence.Next();
        }

        return point;
    }

    /// <summary>
    /// Tree-structured Parzen estimators (Bergstra et al., 2011): split the observations into the best quarter and the
    /// rest, pick the trainer by smoothed good/bad counts, draw candidates around the good points, and keep the one that
    /// maximizes l(x)/g(x), each a product of per-dimension Gaussian kernels (with a uniform prior) on [0, 1].
    /// </summary>
    private static (SearchSpace Space, double[] Point) Parzen(IReadOnlyList<SearchSpace> spaces, int seed, int index, IReadOnlyList<TrialObservation> observations, MetricGoal goal)
    {
        var random = new Random(Mix(seed, index, observations.Count + 1));
        var finite = observations.Where(o => double.IsFinite(o.Value)).ToList();
        var ranked = finite.OrderByDescending(o => goal == MetricGoal.Maximize ? o.Value : -o.Value).ToList();
        var goodCount = Math.Max(1, (int)Math.Ceiling(Gamma * ranked.Count));
        var good = ranked.Take(goodCount).ToList();
        var bad = ranked.Skip(goodCount).ToList();

        var space = spaces
            .Select(s => (Space: s, Ratio: (good.Count(o => Same(o.Trainer, s.Trainer)) + 1.0) / (good.Count + spaces.Count) / ((bad.Count(o => Same(o.Trainer, s.Trainer)) + 1.0) / (bad.Count + spaces.Count))))
            .OrderByDescending(s => s.Ratio)
            .First().Space;
        var dimensions = space.Parameters.Count;
        var goodPoints = good.Where(o => Same(o.Trainer, space.Trainer) && o.Point.Count == dimensions).Select(o => o.Point).ToList();
        var badPoints = bad.Where(o => Same(o.Trainer, space.Trainer) && o.Point.Count == dimensions).Select(o => o.Point).ToList();
        if (goodPoints.Count == 0)
        {
            return (space, [.. Enumerable.Range(0, dimensions).Select(_ => random.NextDouble())]);
        }

        var bandwidth = Math.Max(0.05, Math.Pow(goodPoints.Count + badPoints.Count, -1.0 / (dimensions + 4)) * 0.3);
        double[]? best = null;
        var bestScore = double.NegativeInfinity;
        for (var c = 0; c < Candidates; c++)
        {
            var centre = goodPoints[random.Next(goodPoints.Count)];
            var candidate = new double[dimensions];
            for (var d = 0; d < dimensions; d++)
            {
                candidate[d] = random.NextDouble() < 1.0 / (goodPoints.Count + 1)
                    ? random.NextDouble()
                    : Math.Clamp(centre[d] + (bandwidth * Gaussian(random)), 0, 0.999999);
            }

            var score = 0.0;
            for (var d = 0; d < dimensions; d++)
            {
                score += Math.Log(Density(goodPoints, d, candidate[d], bandwidth)) - Math.Log(Density(badPoints, d, candidate[d], bandwidth));
            }

            if (score > bestScore)
            {
                (best, bestScore) = (candidate, score);
            }
        }

        return (space, best!);
    }

    /// <summary>A mixture of Gaussian kernels at the points and a uniform prior on [0, 1], each point and the prior weighing the same.</summary>
    private static double Density(List<IReadOnlyList<double>> points, int dimension, double x, double bandwidth)
    {
        var sum = 1.0;
        foreach (var point in points)
        {
            var z = (x - point[dimension]) / bandwidth;
            sum += Math.Exp(-0.5 * z * z) / (bandwidth * Math.Sqrt(2 * Math.PI));
        }

        return sum / (points.Count + 1);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>A seed from several numbers, the same in every process (HashCode is randomized per process).</summary>
    private static int Mix(int a, int b, int c) => unchecked((((a * 1_000_003) ^ b) * 1_000_033) ^ c);

    private static bool Same(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
