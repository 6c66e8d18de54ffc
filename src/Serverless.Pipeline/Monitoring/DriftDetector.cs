using System.Text.Json.Serialization;
using MathNet.Numerics.Distributions;
using Serverless.Pipeline.Data;

namespace Serverless.Pipeline.Monitoring;

/// <summary>What a column's drift amounts to.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DriftVerdict>))]
public enum DriftVerdict
{
    /// <summary>No drift: PSI under the moderate threshold, or a difference the test does not find significant.</summary>
    Stable,

    /// <summary>PSI between the moderate and the major threshold, and significant.</summary>
    Moderate,

    /// <summary>PSI at or over the major threshold, and significant: the retrain schedule acts on it.</summary>
    Major,

    /// <summary>Not compared (free text, identifiers, dates, no data): <see cref="ColumnDrift.Note"/> says why.</summary>
    Skipped,
}

/// <summary>
/// How far one column moved between the training data and a scoring batch: the population stability index over the
/// training's buckets, a two-sample test of the same hypothesis (<c>ks</c>, Kolmogorov-Smirnov, for numbers; <c>chi2</c>,
/// the chi-square test of homogeneity, for categories) with its statistic and p-value, and the verdict.
/// </summary>
public sealed record ColumnDrift(
    string Column, ColumnKind Kind, DriftVerdict Verdict, double? Psi = null, string? Test = null, double? Statistic = null, double? PValue = null, string? Note = null);

/// <summary>When drift counts (settings <c>Pipeline__DriftPsiModerate</c>, <c>…PsiMajor</c>, <c>…PValue</c>).</summary>
public sealed record DriftThresholds(double PsiModerate = 0.1, double PsiMajor = 0.25, double PValue = 0.01);

/// <summary>
/// Compares a training profile with a scoring batch's profile (counted into the training's <see cref="DriftBins"/>),
/// column by column. PSI = Σ (a − e) · ln(a / e) over the buckets' shares of all rows, missing values a bucket of their
/// own, empty buckets at an epsilon of 1e-4. A column drifts when its PSI reaches a threshold (0.1 moderate, 0.25
/// major, the conventional reading) and the test rejects "same distribution" at the p-value threshold, so that neither
/// a small batch's noise nor a large batch's trivial difference counts. Free text, dates and identifier-like columns
/// are skipped, and the report says so.
/// </summary>
public static class DriftDetector
{
    private const double Epsilon = 1e-4;

    /// <summary>Drift of every column of the training profile the batch has (by name and kind); the label is skipped.</summary>
    public static IReadOnlyList<ColumnDrift> Compare(
        IReadOnlyList<ColumnProfile> training, IReadOnlyList<ColumnProfile> scoring, string? label = null, DriftThresholds? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(scoring);
        var limits = thresholds ?? new DriftThresholds();
        var result = new List<ColumnDrift>();
        foreach (var reference in training.Where(t => !string.Equals(t.Name, label, StringComparison.OrdinalIgnoreCase)))
        {
            var current = scoring.FirstOrDefault(s => string.Equals(s.Name, reference.Name, StringComparison.OrdinalIgnoreCase) && s.Kind == reference.Kind);
            if (current is not null)
            {
                result.Add(Column(reference, current, limits));
            }
        }

        return result;
    }

    /// <summary>PSI = Σ (actual − expected) · ln(actual / expected), shares under the epsilon raised to it.</summary>
    public static double Psi(IReadOnlyList<double> expected, IReadOnlyList<double> actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        return expected.Zip(actual).Sum(p =>
        {
            var (e, a) = (Math.Max(p.First, Epsilon), Math.Max(p.Second, Epsilon));
            return (a - e) * Math.Log(a / e);
        });
    }

    /// <summary>
    /// The asymptotic p-value of a two-sample Kolmogorov-Smirnov distance <paramref name="d"/> between samples of
    /// <paramref name="n"/> and <paramref name="m"/> values: Q_KS(λ) with λ = (√nₑ + 0.12 + 0.11/√nₑ)·d and nₑ = nm/(n+m)
    /// (Stephens' correction, as in Numerical Recipes' <c>probks</c>).
    /// </summary>
    public static double KolmogorovSmirnovPValue(double d, double n, double m)
    {
        var ne = n * m / (n + m);
        var lambda = (Math.Sqrt(ne) + 0.12 + (0.11 / Math.Sqrt(ne))) * d;
        return KolmogorovQ(lambda);
    }

    /// <summary>Q_KS(λ) = 2 Σ_{j≥1} (−1)^{j−1} e^{−2j²λ²}, the Kolmogorov distribution's survival function.</summary>
    public static double KolmogorovQ(double lambda)
    {
        if (lambda <= 0)
        {
            return 1;
        }

        if (lambda < 1.18)
        {
            // The series above converges slowly here; use its Jacobi-theta dual for the CDF.
            var y = Math.Exp(-Math.PI * Math.PI / (8 * lambda * lambda));
            var sum = Enumerable.Range(0, 20).Sum(j => Math.Pow(y, ((2 * j) + 1) * ((2 * j) + 1)));
            return Math.Clamp(1 - (Math.Sqrt(2 * Math.PI) / lambda * sum), 0, 1);
        }

        var q = 0.0;
        for (var j = 1; j <= 100; j++)
        {
            q += (j % 2 == 1 ? 2 : -2) * Math.Exp(-2.0 * j * j * lambda * lambda);
        }

        return Math.Clamp(q, 0, 1);
    }

    private static ColumnDrift Column(ColumnProfile reference, ColumnProfile current, DriftThresholds limits)
    {
        var skipped = SkipReason(reference);
        if (skipped is null && (reference.Bins is null || current.Bins is null || reference.Bins.Counts.Count != current.Bins.Counts.Count))
        {
            skipped = reference.Bins is null ? "the training profile has no drift buckets (a snapshot from an older version): retrain to measure" : "no values to compare";
        }

        if (skipped is not null)
        {
            return new ColumnDrift(reference.Name, reference.Kind, DriftVerdict.Skipped, Note: skipped);
        }

        var (expected, actual) = (reference.Bins!, current.Bins!);
        var psi = Psi(Shares(reference, expected), Shares(current, actual));
        var (test, statistic, pValue) = expected.Upper is not null ? KolmogorovSmirnov(reference, current) : ChiSquare(reference, current);
        var significant = pValue < limits.PValue;
        var verdict = !significant ? DriftVerdict.Stable
            : psi >= limits.PsiMajor ? DriftVerdict.Major
            : psi >= limits.PsiModerate ? DriftVerdict.Moderate
            : DriftVerdict.Stable;
        var note = !significant && psi >= limits.PsiModerate ? $"PSI {psi:0.00} is not significant at this sample size (p = {pValue:0.###})" : null;
        return new ColumnDrift(reference.Name, reference.Kind, verdict, Math.Round(psi, 4), test, Math.Round(statistic, 4), pValue, note);
    }

    private static string? SkipReason(ColumnProfile profile)
    {
        var present = profile.Count - profile.Missing;
        return profile.Kind switch
        {
            ColumnKind.Text => "free text: not compared",
            ColumnKind.DateTime => "a date or time: later batches differ by nature",
            ColumnKind.Categorical when present >= 20 && profile.Distinct >= 0.9 * present => $"identifier-like: {profile.Distinct} distinct values in {present} rows",
            ColumnKind.Numeric when present >= 20 && IsSequence(profile, present) => $"identifier-like: {profile.Distinct} distinct integers in {present} rows",
            _ => null,
        };
    }

    private static bool IsSequence(ColumnProfile profile, long present) =>
        profile.DistinctIsExact && profile.Distinct == present && profile is { Min: { } min, Max: { } max }
        && min == Math.Floor(min) && max == Math.Floor(max) && max - min + 1 >= present && max - min + 1 <= 1.1 * present;

    /// <summary>Each bucket's share of all rows, then the missing values' share.</summary>
    private static double[] Shares(ColumnProfile profile, DriftBins bins)
    {
        var missing = profile.Count > 0 ? profile.Missing / (double)profile.Count : 0;
        var counted = Math.Max(1, bins.Counts.Sum());
        return [.. bins.Counts.Select(c => (1 - missing) * c / counted), missing];
    }

    private static (string Test, double Statistic, double PValue) KolmogorovSmirnov(ColumnProfile reference, ColumnProfile current)
    {
        var (n, m) = ((double)reference.Bins!.Counts.Sum(), (double)current.Bins!.Counts.Sum());
        double d;
        if (reference.Bins.Discrete || reference.Sketch is not { Count: > 1 } expected || current.Sketch is not { Count: > 1 } actual)
        {
            // Few values: the CDFs at each value, exactly, from the counts.
            var (ce, ca) = (Cumulative(reference.Bins.Counts), Cumulative(current.Bins.Counts));
            d = ce.Zip(ca).Max(p => Math.Abs(p.First - p.Second));
        }
        else
        {
            // Many values: the CDFs from the two quantile sketches, each drawn from a sample of at most ReservoirSize.
            d = expected.Concat(actual).Max(x => Math.Abs(Cdf(expected, x) - Cdf(actual, x)));
            m = Math.Min(m, ColumnProfiler.ReservoirSize);
        }

        return n > 0 && m > 0 ? ("ks", d, KolmogorovSmirnovPValue(d, n, m)) : ("ks", d, 1);
    }

    private static double[] Cumulative(IReadOnlyList<long> counts)
    {
        var total = Math.Max(1, counts.Sum());
        var running = 0L;
        return [.. counts.Select(c => (running += c) / (double)total)];
    }

    /// <summary>The chi-square test of homogeneity of the two rows of counts (buckets and missing), over buckets either side has.</summary>
    private static (string Test, double Statistic, double PValue) ChiSquare(ColumnProfile reference, ColumnProfile current)
    {
        var rows = new[] { reference, current }.Select(p => p.Bins!.Counts.Append(p.Missing).Select(c => (double)c).ToArray()).ToArray();
        var columns = Enumerable.Range(0, rows[0].Length).Where(j => rows[0][j] + rows[1][j] > 0).ToArray();
        var (totals, grand) = (rows.Select(r => r.Sum()).ToArray(), rows.Sum(r => r.Sum()));
        if (columns.Length < 2 || totals.Any(t => t == 0))
        {
            return ("chi2", 0, 1);
        }

        var statistic = 0.0;
        foreach (var j in columns)
        {
            var columnTotal = rows[0][j] + rows[1][j];
            for (var i = 0; i < 2; i++)
            {
                var e = totals[i] * columnTotal / grand;
                statistic += (rows[i][j] - e) * (rows[i][j] - e) / e;
            }
        }

        return ("chi2", statistic, 1 - ChiSquared.CDF(columns.Length - 1, statistic));
    }

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
}
