using System.Globalization;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Monitoring;
using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Tests.Training;

public sealed class MonitoringTests
{
    [Fact]
    public void Compare_SameDistribution_NoDrift()
    {
        var drift = Single(Numeric(seed: 1, shift: 0), Numeric(seed: 2, shift: 0));

        Assert.InRange(drift.Psi, 0, 0.05);
        Assert.InRange(drift.KolmogorovSmirnov!.Value, 0, 0.08);
    }

    [Fact]
    public void Compare_ShiftedMean_PsiAndKsSeeIt()
    {
        var drift = Single(Numeric(seed: 1, shift: 0), Numeric(seed: 2, shift: 1.0));

        Assert.True(drift.Psi > 0.25, $"PSI {drift.Psi:0.000}");
        Assert.True(drift.KolmogorovSmirnov > 0.3, $"KS {drift.KolmogorovSmirnov:0.000}");
    }

    [Fact]
    public void Compare_CategoryMixChanged_CategoricalPsi()
    {
        var training = Categorical(("basic", 500), ("premium", 300), ("gold", 200));
        var same = Categorical(("basic", 250), ("premium", 150), ("gold", 100));
        var changed = Categorical(("basic", 100), ("premium", 100), ("gold", 600), ("new", 200));

        Assert.InRange(DriftDetector.Compare([training], [same]).Single().Psi, 0, 0.01);
        Assert.True(DriftDetector.Compare([training], [changed]).Single().Psi > 0.25);
    }

    [Fact]
    public void Compare_LabelColumn_Skipped()
    {
        Assert.Empty(DriftDetector.Compare([Numeric(1, 0)], [Numeric(2, 3)], label: "x"));
    }

    [Fact]
    public void Decide_AgeDriftAndDecay_EachAReason()
    {
        var policy = new RetrainPolicy(MaxModelAge: TimeSpan.FromDays(30));
        var now = new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);
        ColumnDrift[] drift = [new("spend", ColumnKind.Numeric, 0.4, 0.3), new("age", ColumnKind.Numeric, 0.02, 0.01)];

        var all = policy.Decide(now.AddDays(-45), now, drift, metricAtTraining: 0.90, metricNow: 0.80, MetricGoal.Maximize);
        var none = policy.Decide(now.AddDays(-5), now, [drift[1]], 0.90, 0.89, MetricGoal.Maximize);
        var lossUp = policy.Decide(now.AddDays(-5), now, [], 0.30, 0.40, MetricGoal.Minimize);

        Assert.True(all.Retrain);
        Assert.Equal(3, all.Reasons.Count);
        Assert.Contains("column 'spend' drifted (PSI 0.40, KS 0.30)", all.Reasons);
        Assert.False(none.Retrain);
        Assert.Empty(none.Reasons);
        Assert.True(lossUp.Retrain);
    }

    private static ColumnDrift Single(ColumnProfile training, ColumnProfile scoring) => DriftDetector.Compare([training], [scoring]).Single();

    private static ColumnProfile Numeric(int seed, double shift)
    {
        var random = new Random(seed);
        var profiler = new ColumnProfiler("x", ColumnKind.Numeric, seed);
        for (var i = 0; i < 5000; i++)
        {
            var z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            profiler.Add((z + shift).ToString(CultureInfo.InvariantCulture));
        }

        return profiler.Build();
    }

    private static ColumnProfile Categorical(params (string Value, int Count)[] counts)
    {
        var profiler = new ColumnProfiler("plan", ColumnKind.Categorical, 1);
        foreach (var (value, count) in counts)
        {
            for (var i = 0; i < count; i++)
            {
                profiler.Add(value);
            }
        }

        return profiler.Build();
    }
}
