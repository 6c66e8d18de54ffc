namespace Serverless.Pipeline.Data;

/// <summary>Statistics of one column over the accepted rows.</summary>
public sealed record ColumnProfile(
    string Name,
    ColumnKind Kind,
    long Count,
    long Missing,
    long Distinct,
    bool DistinctIsExact,
    double? Min,
    double? Max,
    double? Mean,
    double? StdDev,
    IReadOnlyDictionary<string, double>? Quantiles,
    Histogram? Histogram,
    IReadOnlyList<ValueCount>? TopValues)
{
    /// <summary>For numbers: 101 quantiles (0%, 1%, …, 100%) of the column, a compact CDF for drift tests.</summary>
    public IReadOnlyList<double>? Sketch { get; init; }

    /// <summary>The buckets drift is measured in, with this profile's counts (null for text and dates).</summary>
    public DriftBins? Bins { get; init; }
}

/// <summary>Equal-width bins: <c>Edges</c> has one more entry than <c>Counts</c>.</summary>
public sealed record Histogram(IReadOnlyList<double> Edges, IReadOnlyList<long> Counts);

/// <summary>A value and how often it occurs.</summary>
public sealed record ValueCount(string Value, long Count);

/// <summary>
/// Accumulates a column's profile in one pass with memory bounded whatever the row count: Welford's mean and
/// variance, exact distinct counts up to a cap, a seeded reservoir sample for quantiles and the histogram. Given the
/// training profile's <see cref="DriftBins"/>, it counts every value into those same buckets (a scoring batch).
/// </summary>
internal sealed class ColumnProfiler(string name, ColumnKind kind, int seed, DriftBins? reference = null)
{
    private const int DistinctCap = 100_000;
    internal const int ReservoirSize = 10_000;

    /// <summary>The most frequent values kept for categories (a label's classes come from them); text keeps 10.</summary>
    private const int MaxTopValues = 100;
    private const int Bins = 20;
    private static readonly (string Name, double P)[] QuantilePoints = [("p01", 0.01), ("p05", 0.05), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p95", 0.95), ("p99", 0.99)];

    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly List<double> _reservoir = [];
    private readonly Random _random = new(seed);
    private readonly long[]? _binCounts = reference?.Upper is not null ? new long[reference.Counts.Count] : null;
    private bool _distinctOverflow;
    private long _count;
    private long _missing;
    private long _numbers;
    private double _mean;
    private double _m2;
    private double _min = double.PositiveInfinity;
    private double _max = double.NegativeInfinity;

    public void Add(string? raw)
    {
        _count++;
        if (ValueParser.IsMissing(raw))
        {
            _missing++;
            return;
        }

        var value = raw!.Trim();
        if (_counts.TryGetValue(value, out var seen))
        {
            _counts[value] = seen + 1;
        }
        else if (_counts.Count < DistinctCap)
        {
            _counts[value] = 1;
        }
        else
        {
            _distinctOverflow = true;
        }

        double? number = kind switch
        {
            ColumnKind.Numeric when ValueParser.TryNumber(value, out var n) => n,
            ColumnKind.DateTime when ValueParser.TryDateTime(value, out var d) => d.Ticks / (double)TimeSpan.TicksPerSecond,
            ColumnKind.Boolean when ValueParser.TryBoolean(value, out var b) => b ? 1 : 0,
            _ => null,
        };
        if (number is { } x)
        {
            AddNumber(x);
        }
    }

    public ColumnProfile Build()
    {
        var hasNumbers = _numbers > 0;
        var sorted = hasNumbers ? _reservoir.Order().ToArray() : [];
        var top = kind is ColumnKind.Categorical or ColumnKind.Boolean or ColumnKind.Text
            ? _counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(kind == ColumnKind.Text ? 10 : MaxTopValues).Select(c => new ValueCount(c.Key, c.Value)).ToList()
            : null;
        return new ColumnProfile(
            name,
            kind,
            _count,
            _missing,
            _counts.Count,
            !_distinctOverflow,
            hasNumbers ? _min : null,
            hasNumbers ? _max : null,
            hasNumbers ? _mean : null,
            hasNumbers ? Math.Sqrt(_numbers > 1 ? _m2 / (_numbers - 1) : 0) : null,
            hasNumbers && kind == ColumnKind.Numeric ? QuantilePoints.ToDictionary(q => q.Name, q => Quantile(sorted, q.P)) : null,
            hasNumbers && kind == ColumnKind.Numeric ? BuildHistogram(sorted) : null,
            top)
        {
            Sketch = hasNumbers && kind == ColumnKind.Numeric ? [.. Enumerable.Range(0, 101).Select(i => Quantile(sorted, i / 100.0))] : null,
            Bins = BuildBins(sorted),
        };
    }

    private DriftBins? BuildBins(double[] sorted)
    {
        var present = _count - _missing;
        return reference switch
        {
            { Upper: not null } => reference with { Counts = _binCounts! },
            { Levels: not null } => reference.WithLevelCounts(_counts, present),
            _ when kind is ColumnKind.Numeric or ColumnKind.Boolean && sorted.Length > 0 => DriftBins.ForNumbers(sorted),
            _ when kind == ColumnKind.Categorical && present > 0 => DriftBins.ForCategories(_counts, present),
            _ => null,
        };
    }

    private void AddNumber(double x)
    {
        _numbers++;
        var delta = x - _mean;
        _mean += delta / _numbers;
        _m2 += delta * (x - _mean);
        _min = Math.Min(_min, x);
        _max = Math.Max(_max, x);
        if (_binCounts is not null)
        {
            _binCounts[reference!.NumberBin(x)]++;
        }

        if (_reservoir.Count < ReservoirSize)
        {
            _reservoir.Add(x);
        }
        else
        {
            var slot = _random.NextInt64(_numbers);
            if (slot < ReservoirSize)
            {
                _reservoir[(int)slot] = x;
            }
        }
    }

    private Histogram BuildHistogram(double[] sorted)
    {
        var width = (_max - _min) / Bins;
        var edges = Enumerable.Range(0, Bins + 1).Select(i => _min + (i * width)).ToArray();
        var counts = new long[Bins];
        var scale = (double)_numbers / sorted.Length;
        foreach (var x in sorted)
        {
            var bin = width == 0 ? 0 : Math.Min(Bins - 1, (int)((x - _min) / width));
            counts[bin]++;
        }

        return new Histogram(edges, [.. counts.Select(c => (long)Math.Round(c * scale))]);
    }

    private static double Quantile(double[] sorted, double p)
    {
        var position = p * (sorted.Length - 1);
        var low = (int)Math.Floor(position);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + ((sorted[high] - sorted[low]) * (position - low));
    }
}
