using Serverless.Pipeline.Data;

namespace Serverless.Pipeline.Monitoring;

/// <summary>How far one column moved between the training data and a scoring batch.</summary>
public sealed record ColumnDrift(string Column, ColumnKind Kind, double Psi, double? KolmogorovSmirnov);

/// <summary>
/// Compares a training profile with a scoring batch's profile, column by column. Numbers: the population stability
/// index over the training deciles, and the Kolmogorov-Smirnov distance between the two CDFs (from their quantile
/// sketches). Categories: PSI over the training's top values plus an "other" bucket. Conventional reading of PSI:
/// under 0.1 stable, 0.1-0.25 moving, over 0.25 shifted.
/// </summary>
public static class DriftDetector
{
    private const double Floor = 1e-4;

    /// <summary>Drift of every column the two profiles share (by name and kind); the label and columns without data are skipped.</summary>
    public static IReadOnlyList<ColumnDrift> Compare(IReadOnlyList<ColumnProfile> training, IReadOnlyList<ColumnProfile> scoring, string? label = null)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(scoring);
        var result = new List<ColumnDrift>();
        foreach (var reference in training.Where(t => !string.Equals(t.Name, label, StringComparison.OrdinalIgnoreCase)))
        {
            var current = scoring.FirstOrDefault(s => string.Equals(s.Name, reference.Name, StringComparison.OrdinalIgnoreCase) && s.Kind == reference.Kind);
            if (current is null)
            {
                continue;
            }

            if (reference.Sketch is { Count: > 1 } expected && current.Sketch is { Count: > 1 } actual)
            {
                result.Add(new ColumnDrift(reference.Name, reference.Kind, NumericPsi(expected, actual), KolmogorovSmirnov(expected, actual)));
            }
            else if (reference.TopValues is { Count: > 0 } && current.TopValues is not null)
            {
                result.Add(new ColumnDrift(reference.Name, reference.Kind, CategoricalPsi(reference, current), null));
            }
        }

        return result;
    }

    /// <summary>PSI = Σ (actual − expected) · ln(actual / expected), each share floored to avoid infinities.</summary>
    public static double Psi(IReadOnlyList<double> expected, IReadOnlyList<double> actual) =>
        expected.Zip(actual).Sum(p =>
        {
            var (e, a) = (Math.Max(p.First, Floor), Math.Max(p.Second, Floor));
            return (a - e) * Math.Log(a / e);
        });

    private static double NumericPsi(IReadOnlyList<double> expected, IReadOnlyList<double> actual)
    {
        // Bins at the training deciles: each holds a tenth of the training data.
        var edges = Enumerable.Range(1, 9).Select(i => expected[i * 10]).ToArray();
        var expectedShares = Enumerable.Repeat(0.1, 10).ToArray();
        var cumulative = edges.Select(edge => Cdf(actual, edge)).Prepend(0).Append(1).ToArray();
        var actualShares = Enumerable.Range(0, 10).Select(i => cumulative[i + 1] - cumulative[i]).ToArray();
        return Psi(expectedShares, actualShares);
    }

    private static double KolmogorovSmirnov(IReadOnlyList<double> expected, IReadOnlyList<double> actual) =>
        expected.Concat(actual).Max(x => Math.Abs(Cdf(expected, x) - Cdf(actual, x)));

    /// <summary>The CDF at x from a sketch of quantiles at 0, 1/(n−1), …, 1, interpolated between them.</summary>
    private static double Cdf(IReadOnlyList<double> sketch, double x)
    {
        if (x < sketch[0])
        {
            return 0;
        }

        if (x >= sketch[^1])
        {
            return 1;
        }

        var step = 1.0 / (sketch.Count - 1);
        var i = 0;
        while (i < sketch.Count - 2 && sketch[i + 1] <= x)
        {
            i++;
        }

        var width = sketch[i + 1] - sketch[i];
        return (i + (width > 0 ? (x - sketch[i]) / width : 1)) * step;
    }

    private static double CategoricalPsi(ColumnProfile reference, ColumnProfile current)
    {
        var categories = reference.TopValues!.Select(v => v.Value).ToList();
        double Share(ColumnProfile profile, string? value)
        {
            var present = Math.Max(1, profile.Count - profile.Missing);
            var counts = (profile.TopValues ?? []).ToDictionary(v => v.Value, v => v.Count, StringComparer.Ordinal);
            return value is null
                ? 1 - (categories.Sum(c => counts.GetValueOrDefault(c)) / (double)present)
                : counts.GetValueOrDefault(value) / (double)present;
        }

        var buckets = categories.Cast<string?>().Append(null).ToList();
        return Psi([.. buckets.Select(b => Share(reference, b))], [.. buckets.Select(b => Share(current, b))]);
    }
}
