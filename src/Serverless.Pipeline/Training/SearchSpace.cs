using System.Globalization;

namespace Serverless.Pipeline.Training;

/// <summary>
/// One hyperparameter's distribution, with Azure ML's expressions: <c>choice</c>, <c>uniform</c>, <c>loguniform</c>
/// (bounds in log space, as Azure ML takes them), <c>quniform</c>, <c>qloguniform</c>, <c>normal</c>, <c>lognormal</c>.
/// Each maps a point in [0, 1) (from a sampler) to a value, so any sampler serves any space.
/// </summary>
public abstract record ParameterExpression
{
    /// <summary>The value at <paramref name="u"/> in [0, 1).</summary>
    public abstract double At(double u);

    /// <summary>
    /// Where in [0, 1) this expression takes <paramref name="value"/>; null when it does not (outside its range, not
    /// one of its choices, or a distribution without a closed-form inverse here).
    /// </summary>
    public virtual double? PositionOf(double value) => null;

    /// <summary>The position of <paramref name="value"/> on [<paramref name="min"/>, <paramref name="max"/>], when inside it.</summary>
    private protected static double? Between(double value, double min, double max) =>
        value >= min && value < max ? (value - min) / (max - min) : null;

    /// <summary>Parses an expression such as <c>loguniform(-5, 0)</c> or <c>choice(16, 32, 64)</c>.</summary>
    public static ParameterExpression Parse(string expression)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(expression);
        var open = expression.IndexOf('(', StringComparison.Ordinal);
        if (open <= 0 || !expression.EndsWith(')'))
        {
            throw new FormatException($"'{expression}' is not an expression like uniform(0, 1).");
        }

        var name = expression[..open].Trim().ToLowerInvariant();
        var arguments = expression[(open + 1)..^1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(a => double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new FormatException($"'{a}' in '{expression}' is not a number."))
            .ToArray();
        if (Problem(name, arguments) is { } problem)
        {
            throw new FormatException($"'{expression}': {problem}");
        }

        return (name, arguments.Length) switch
        {
            ("choice", > 0) => new Choice(arguments),
            ("uniform", 2) => new Uniform(arguments[0], arguments[1]),
            ("loguniform", 2) => new LogUniform(arguments[0], arguments[1]),
            ("quniform", 3) => new QUniform(arguments[0], arguments[1], arguments[2]),
            ("qloguniform", 3) => new QLogUniform(arguments[0], arguments[1], arguments[2]),
            ("normal", 2) => new Normal(arguments[0], arguments[1]),
            ("lognormal", 2) => new LogNormal(arguments[0], arguments[1]),
            _ => throw new FormatException($"'{expression}': unknown expression or wrong number of arguments; use choice(...), uniform(a,b), loguniform(a,b), quniform(a,b,q), qloguniform(a,b,q), normal(mu,sigma) or lognormal(mu,sigma)."),
        };
    }

    /// <summary>What is wrong with the arguments of an expression, or null: reversed bounds, a step or deviation not above 0, a value not finite.</summary>
    private static string? Problem(string name, double[] arguments) => (name, arguments.Length) switch
    {
        _ when arguments.Any(a => !double.IsFinite(a)) => "every argument must be a finite number.",
        ("uniform" or "loguniform" or "quniform" or "qloguniform", >= 2) when arguments[0] >= arguments[1] =>
            $"the lower bound {arguments[0]} must be below the upper bound {arguments[1]}.",
        ("quniform" or "qloguniform", 3) when arguments[2] <= 0 => $"the step q must be above 0 (got {arguments[2]}).",
        ("normal" or "lognormal", 2) when arguments[1] <= 0 => $"sigma must be above 0 (got {arguments[1]}).",
        _ => null,
    };

    /// <summary>One of the values, each equally likely.</summary>
    public sealed record Choice(IReadOnlyList<double> Values) : ParameterExpression
    {
        /// <inheritdoc />
        public override double At(double u) => Values[Math.Min(Values.Count - 1, (int)(u * Values.Count))];

        /// <inheritdoc />
        public override double? PositionOf(double value) =>
            Values.ToList().IndexOf(value) is var i and >= 0 ? (i + 0.5) / Values.Count : null;
    }

    /// <summary>Uniform between the bounds.</summary>
    public sealed record Uniform(double Min, double Max) : ParameterExpression
    {
        /// <inheritdoc />
        public override double At(double u) => Min + (u * (Max - Min));

        /// <inheritdoc />
        public override double? PositionOf(double value) => Between(value, Min, Max);
    }

    /// <summary>exp(uniform(min, max)): bounds are in log space.</summary>
    public sealed record LogUniform(double Min, double Max) : ParameterExpression
    {
        /// <inheritdoc />
        public override double At(double u) => Math.Exp(Min + (u * (Max - Min)));

        /// <inheritdoc />
        public override double? PositionOf(double value) => value > 0 ? Between(Math.Log(value), Min, Max) : null;
    }

    /// <summary>round(uniform(min, max) / q) * q.</summary>
    public sealed record QUniform(double Min, double Max, double Q) : ParameterExpression
    {
        /// <inheritdoc />
        public override double At(double u) => Math.Round((Min + (u * (Max - Min))) / Q) * Q;

        /// <inheritdoc />
        public override double? PositionOf(double value) =>
            Math.Abs(Math.Round(value / Q) * Q - value) < 1e-9 * Math.Max(1, Math.Abs(value)) ? Between(value, Min, Max) : null;
    }

    /// <summary>round(exp(uniform(min, max)) / q) * q.</summary>
    public sealed record QLogUniform(double Min, double Max, double Q) : ParameterExpression
    {
        /// <inheritdoc />
        public override double At(double u) => Math.Round(Math.Exp(Min + (u * (Max - Min))) / Q) * Q;
    }

    /// <summary>Normal with mean and standard deviation (inverse CDF of the point).</summary>
    public sealed record Normal(double Mu, double Sigma) : ParameterExpression
    {
        /// <inheritdoc />
        public override double At(double u) => Mu + (Sigma * InverseStandardNormal(u));
    }

    /// <summary>exp(normal(mu, sigma)).</summary>
    public sealed record LogNormal(double Mu, double Sigma) : ParameterExpression
    {
        /// <inheritdoc />
        public override double At(double u) => Math.Exp(Mu + (Sigma * InverseStandardNormal(u)));
    }

    /// <summary>Acklam's rational approximation of the standard normal inverse CDF (relative error below 1.2e-9).</summary>
    internal static double InverseStandardNormal(double p)
    {
        p = Math.Clamp(p, 1e-12, 1 - 1e-12);
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double low = 0.02425;
        if (p < low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            return (((((((c[0] * q) + c[1]) * q) + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((((d[0] * q) + d[1]) * q) + d[2]) * q + d[3]) * q + 1);
        }

        if (p > 1 - low)
        {
            var q = Math.Sqrt(-2 * Math.Log(1 - p));
            return -(((((((c[0] * q) + c[1]) * q) + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((((d[0] * q) + d[1]) * q) + d[2]) * q + d[3]) * q + 1);
        }

        var r = p - 0.5;
        var s = r * r;
        return (((((((a[0] * s) + a[1]) * s) + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r / (((((((b[0] * s) + b[1]) * s) + b[2]) * s + b[3]) * s + b[4]) * s + 1);
    }
}

/// <summary>A trainer's search space: expressions by hyperparameter name.</summary>
public sealed record SearchSpace(string Trainer, IReadOnlyDictionary<string, ParameterExpression> Parameters)
{
    /// <summary>A space from expression strings, for example <c>{ "learningRate": "loguniform(-5, -1)" }</c>.</summary>
    public static SearchSpace Parse(string trainer, IReadOnlyDictionary<string, string> expressions)
    {
        ArgumentNullException.ThrowIfNull(expressions);
        var parsed = new SortedDictionary<string, ParameterExpression>(StringComparer.Ordinal);
        foreach (var (name, expression) in expressions)
        {
            try
            {
                parsed[name] = ParameterExpression.Parse(expression);
            }
            catch (FormatException ex)
            {
                throw new FormatException($"Hyperparameter '{name}' of {trainer}: {ex.Message}", ex);
            }
        }

        return new SearchSpace(trainer, parsed);
    }
}
