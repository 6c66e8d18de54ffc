using System.Globalization;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Monitoring;
using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Tests.Training;

public sealed class MonitoringTests
{
    public static TheoryData<string> Shapes => ["normal", "zero-inflated", "flag", "count", "51 levels"];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Compare_SameDistribution_Stable(string shape)
    {
        var drift = Single(Sample(shape, seed: 1, rows: 8000, shift: false), Sample(shape, seed: 2, rows: 5000, shift: false, reference: true));

        Assert.True(drift.Psi < 0.1, $"{shape}: PSI {drift.Psi:0.000}");
        Assert.Equal(DriftVerdict.Stable, drift.Verdict);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Compare_Shifted_Major(string shape)
    {
        var drift = Single(Sample(shape, seed: 1, rows: 8000, shift: false), Sample(shape, seed: 2, rows: 5000, shift: true, reference: true));

        Assert.True(drift.Psi > 0.25, $"{shape}: PSI {drift.Psi:0.000}");
        Assert.True(drift.PValue < 0.01, $"{shape}: p {drift.PValue}");
        Assert.Equal(DriftVerdict.Major, drift.Verdict);
    }

    [Fact]
    public void Compare_ZeroInflated_BinsAreTheDistinctDecilesWithRealShares()
    {
        // 70% zeros: the old fixed-10% deciles had 6 tied edges at 0 and empty bins worth ~0.69 of PSI each.
        var profile = Sample("zero-inflated", seed: 1, rows: 8000, shift: false);

        Assert.Equal(0, profile.Bins!.Upper![0]);
        Assert.Equal(profile.Bins.Upper.Count, profile.Bins.Upper.Distinct().Count());
        Assert.All(profile.Bins.Counts, c => Assert.True(c > 0));
        Assert.InRange(profile.Bins.Counts[0] / (double)profile.Bins.Counts.Sum(), 0.68, 0.72);
    }

    [Fact]
    public void Compare_SmallBatch_NotSignificant_Stable()
    {
        // 40 rows of a 51-level column: PSI is large by noise alone, the chi-square test does not reject.
        var drift = Single(Sample("51 levels", seed: 1, rows: 8000, shift: false), Sample("51 levels", seed: 2, rows: 40, shift: false, reference: true));

        Assert.True(drift.Psi > 0.1, $"PSI {drift.Psi:0.000}");
        Assert.Equal(DriftVerdict.Stable, drift.Verdict);
        Assert.Contains("not significant", drift.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_CategoryMixChanged_UnseenGoesToOther()
    {
        var training = Categorical(null, ("basic", 500), ("premium", 300), ("gold", 200));
        var same = Categorical(training.Bins, ("basic", 250), ("premium", 150), ("gold", 100));
        var changed = Categorical(training.Bins, ("basic", 100), ("premium", 100), ("gold", 600), ("new", 200));

        Assert.InRange(DriftDetector.Compare([training], [same]).Single().Psi!.Value, 0, 0.01);
        Assert.Equal(200, changed.Bins!.Counts[^1]);
        Assert.Equal(DriftVerdict.Major, DriftDetector.Compare([training], [changed]).Single().Verdict);
    }

    [Fact]
    public void Compare_TextIdentifiersAndDates_SkippedWithAReason()
    {
        var text = Profile("comment", ColumnKind.Text, null, Enumerable.Range(0, 300).Select(i => $"note number {i}"));
        var id = Profile("id", ColumnKind.Numeric, null, Enumerable.Range(1000, 300).Select(i => i.ToString(CultureInfo.InvariantCulture)));
        var date = Profile("day", ColumnKind.DateTime, null, Enumerable.Range(0, 300).Select(i => $"2026-01-{1 + (i % 28):00}"));

        var drift = DriftDetector.Compare([text, id, date], [text, id, date]);

        Assert.All(drift, d => Assert.Equal(DriftVerdict.Skipped, d.Verdict));
        Assert.Equal(["free text: not compared", "identifier-like: 300 distinct integers in 300 rows", "a date or time: later batches differ by nature"], drift.Select(d => d.Note));
    }

    [Fact]
    public void Compare_LabelColumn_Skipped()
    {
        Assert.Empty(DriftDetector.Compare([Sample("normal", 1, 500, false)], [Sample("normal", 2, 500, true)], label: "x"));
    }

    [Fact]
    public void Psi_HandComputed()
    {
        // (0.25 − 0.5)·ln(0.25/0.5) + (0.75 − 0.5)·ln(0.75/0.5) = 0.17329 + 0.10137
        Assert.Equal(0.27465, DriftDetector.Psi([0.5, 0.5], [0.25, 0.75]), 5);
        // An empty bucket counts at the epsilon 1e-4: (1e-4 − 0.5)·ln(1e-4/0.5) + (1 − 0.5)·ln(1/0.5)
        Assert.Equal((1e-4 - 0.5) * Math.Log(1e-4 / 0.5) + (0.5 * Math.Log(2)), DriftDetector.Psi([0.5, 0.5], [0, 1]), 9);
    }

    [Theory]
    [InlineData(1.3581, 0.0500)]
    [InlineData(1.6276, 0.0100)]
    [InlineData(1.0, 0.2700)]
    [InlineData(0.5, 0.9639)]
    [InlineData(0.2, 1.0000)]
    public void KolmogorovQ_TextbookCriticalValues(double lambda, double p)
    {
        Assert.Equal(p, DriftDetector.KolmogorovQ(lambda), 3);
    }

    [Fact]
    public void KolmogorovSmirnovPValue_SampleSizeAware()
    {
        // D = 0.05 is noise between two samples of 200, and a shift between two of 20,000.
        Assert.True(DriftDetector.KolmogorovSmirnovPValue(0.05, 200, 200) > 0.5);
        Assert.True(DriftDetector.KolmogorovSmirnovPValue(0.05, 20_000, 20_000) < 1e-9);
    }

    [Fact]
    public void ChiSquare_HandComputed()
    {
        // Training 60/40 of 100 rows, batch 40/60 of 100: expected 50 per cell, χ² = 4 · 10²/50 = 8, df 1, p = 0.004678.
        var training = Categorical(null, ("a", 60), ("b", 40));
        var batch = Categorical(training.Bins, ("a", 40), ("b", 60));

        var drift = DriftDetector.Compare([training], [batch]).Single();

        Assert.Equal("chi2", drift.Test);
        Assert.Equal(8, drift.Statistic!.Value, 6);
        Assert.Equal(0.004678, drift.PValue!.Value, 5);
    }

    [Fact]
    public void Decide_AgeDriftAndDecay_EachAReason()
    {
        var policy = new RetrainPolicy(MaxModelAge: TimeSpan.FromDays(30));
        var now = new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);
        ColumnDrift[] drift = [new("spend", ColumnKind.Numeric, DriftVerdict.Major, 0.4, "ks", 0.3, 0.0001), new("age", ColumnKind.Numeric, DriftVerdict.Moderate, 0.12, "ks", 0.05, 0.001)];

        var all = policy.Decide(now.AddDays(-45), now, drift, metricAtTraining: 0.90, metricNow: 0.80, MetricGoal.Maximize);
        var none = policy.Decide(now.AddDays(-5), now, [drift[1]], 0.90, 0.89, MetricGoal.Maximize);
        var lossUp = policy.Decide(now.AddDays(-5), now, [], 0.30, 0.40, MetricGoal.Minimize);

        Assert.True(all.Retrain);
        Assert.Equal(3, all.Reasons.Count);
        Assert.Contains("column 'spend' drifted (PSI 0.40, ks p = 0)", all.Reasons);
        Assert.False(none.Retrain);
        Assert.Empty(none.Reasons);
        Assert.True(lossUp.Retrain);
    }

    [Fact]
    public void Decide_DriftOnlyOnSkippedOrModerateColumns_NoRetrain()
    {
        var policy = new RetrainPolicy(MaxModelAge: TimeSpan.FromDays(30));
        var now = new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);
        ColumnDrift[] drift = [new("comment", ColumnKind.Text, DriftVerdict.Skipped, Note: "free text: not compared"), new("age", ColumnKind.Numeric, DriftVerdict.Moderate, 0.2, "ks", 0.1, 0.001)];

        Assert.False(policy.Decide(now.AddDays(-1), now, drift, 0.9, 0.9, MetricGoal.Maximize).Retrain);
    }

    private static ColumnDrift Single(ColumnProfile training, ColumnProfile scoring) => DriftDetector.Compare([training], [scoring]).Single();

    private static ColumnProfile Sample(string shape, int seed, int rows, bool shift, bool reference = false)
    {
        var random = new Random(seed);
        var training = reference ? Sample(shape, 1, 8000, false) : null;
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        string Next() => shape switch
        {
            "normal" => (Normal() + (shift ? 1 : 0)).ToString(CultureInfo.InvariantCulture),
            "zero-inflated" => random.NextDouble() < (shift ? 0.4 : 0.7) ? "0" : (-Math.Log(1 - random.NextDouble()) * 800).ToString("0.00", CultureInfo.InvariantCulture),
            "flag" => random.NextDouble() < (shift ? 0.5 : 0.2) ? "1" : "0",
            "count" => Poisson(random, shift ? 5 : 3).ToString(CultureInfo.InvariantCulture),
            _ => $"level{(int)Math.Floor(Math.Pow(random.NextDouble(), shift ? 2.0 : 1.0) * 51)}",
        };
        var kind = shape == "51 levels" ? ColumnKind.Categorical : ColumnKind.Numeric;
        return Profile("x", kind, training?.Bins, Enumerable.Range(0, rows).Select(_ => Next()));
    }

    private static int Poisson(Random random, double lambda)
    {
        var (limit, k, p) = (Math.Exp(-lambda), 0, random.NextDouble());
        while (p > limit)
        {
            k++;
            p *= random.NextDouble();
        }

        return k;
    }

    private static ColumnProfile Categorical(DriftBins? reference, params (string Value, int Count)[] counts) =>
        Profile("plan", ColumnKind.Categorical, reference, counts.SelectMany(c => Enumerable.Repeat(c.Value, c.Count)));

    private static ColumnProfile Profile(string name, ColumnKind kind, DriftBins? reference, IEnumerable<string> values)
    {
        var profiler = new ColumnProfiler(name, kind, 1, reference);
        foreach (var value in values)
        {
            profiler.Add(value);
        }

        return profiler.Build();
    }
}
