namespace Serverless.Pipeline.Data;

/// <summary>
/// The buckets a column's drift is measured in, and how many of a profile's values fell in each. Numbers: bins closed
/// on the right at <see cref="Upper"/> (<c>(−∞, Upper[0]]</c>, …, <c>(Upper[^1], ∞)</c>), so <see cref="Counts"/> has
/// one more entry; the distinct values themselves when the column has few (<see cref="Discrete"/>), otherwise the
/// distinct training deciles, so ties never leave a bin empty. Categories: <see cref="Levels"/> (the training values
/// with at least 1% of the rows, at most 50) and a last "other" bucket for the rare and the unseen. Missing values are
/// not in <see cref="Counts"/>: they are the profile's <c>Missing</c>.
/// </summary>
public sealed record DriftBins(IReadOnlyList<double>? Upper, IReadOnlyList<string>? Levels, IReadOnlyList<long> Counts, bool Discrete)
{
    /// <summary>A numeric column with at most this many distinct values is binned by value.</summary>
    public const int MaxDiscreteValues = 20;

    /// <summary>Categorical levels rarer than this share of the rows go to "other".</summary>
    public const double MinLevelShare = 0.01;

    /// <summary>At most this many categorical levels get their own bucket.</summary>
    public const int MaxLevels = 50;

    /// <summary>Bins for a numeric column from its sorted sample: by value when few, else at the distinct deciles.</summary>
    public static DriftBins ForNumbers(double[] sorted)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        var distinct = sorted.Distinct().ToArray();
        var discrete = distinct.Length <= MaxDiscreteValues;
        var upper = discrete
            ? distinct[..^1]
            : [.. Enumerable.Range(1, 9).Select(i => sorted[(int)Math.Ceiling(i * sorted.Length / 10.0) - 1]).Distinct().Where(e => e < sorted[^1])];
        var bins = new DriftBins(upper, null, new long[upper.Length + 1], discrete);
        var counts = (long[])bins.Counts;
        foreach (var x in sorted)
        {
            counts[bins.NumberBin(x)]++;
        }

        return bins;
    }

    /// <summary>Buckets for a categorical column from its exact value counts over <paramref name="present"/> non-missing rows.</summary>
    public static DriftBins ForCategories(IReadOnlyDictionary<string, long> counts, long present)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var levels = counts
            .Where(c => c.Value >= MinLevelShare * present)
            .OrderByDescending(c => c.Value)
            .ThenBy(c => c.Key, StringComparer.Ordinal)
            .Take(MaxLevels)
            .Select(c => c.Key)
            .ToArray();
        return new DriftBins(null, levels, CountLevels(levels, counts, present), Discrete: true);
    }

    /// <summary>These buckets, empty, for counting another profile's values into.</summary>
    public DriftBins Empty() => this with { Counts = new long[Counts.Count] };

    /// <summary>Counts of <see cref="Levels"/> and "other" from exact value counts.</summary>
    public DriftBins WithLevelCounts(IReadOnlyDictionary<string, long> counts, long present) =>
        this with { Counts = CountLevels(Levels ?? [], counts, present) };

    /// <summary>The bin of a number.</summary>
    public int NumberBin(double x)
    {
        var upper = Upper ?? [];
        int low = 0, high = upper.Count;
        while (low < high)
        {
            var mid = (low + high) / 2;
            if (x <= upper[mid])
            {
                high = mid;
            }
            else
            {
                low = mid + 1;
            }
        }

        return low;
    }

    private static long[] CountLevels(IReadOnlyList<string> levels, IReadOnlyDictionary<string, long> counts, long present)
    {
        var result = levels.Select(l => counts.TryGetValue(l, out var n) ? n : 0).Append(0).ToArray();
        result[^1] = present - result.Sum();
        return result;
    }
}
