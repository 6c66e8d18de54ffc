using Serverless.Pipeline.Data;

namespace Serverless.Pipeline.Tests.Data;

public sealed class SchemaAndProfileTests
{
    [Fact]
    public void Infer_MixedColumns_KindPerColumn()
    {
        string[] header = ["id", "age", "active", "joined", "plan", "notes"];
        var rows = Enumerable.Range(0, 200).Select(i => new[]
        {
            $"C-{i}", $"{20 + (i % 50)}", i % 2 == 0 ? "yes" : "no", $"2026-01-{1 + (i % 28):00}", i % 3 == 0 ? "basic" : "premium", $"free text number {i} with words",
        }).ToList();

        var schema = SchemaInference.Infer(header, rows, "active");

        Assert.Equal(
            [ColumnKind.Text, ColumnKind.Numeric, ColumnKind.Boolean, ColumnKind.DateTime, ColumnKind.Categorical, ColumnKind.Text],
            schema.Columns.Select(c => c.Kind));
        Assert.Equal("active", schema.Label);
    }

    [Fact]
    public void Infer_FewBadValues_KeepTheMajorityKind()
    {
        var rows = Enumerable.Range(0, 40).Select(i => new[] { i == 7 ? "abc" : $"{i}" }).ToList();

        Assert.Equal(ColumnKind.Numeric, SchemaInference.Infer(["age"], rows, null).Columns[0].Kind);
    }

    [Fact]
    public void Infer_MissingTokensIgnoredAndOverridesWin()
    {
        string[] header = ["score", "zip"];
        List<string[]> rows = [["1.5", "01234"], ["NA", "02345"], ["", "03456"], ["2", "04567"]];

        var schema = SchemaInference.Infer(header, rows, null, new Dictionary<string, ColumnKind> { ["zip"] = ColumnKind.Categorical });

        Assert.Equal(ColumnKind.Numeric, schema.Columns[0].Kind);
        Assert.Equal(ColumnKind.Categorical, schema.Columns[1].Kind);
    }

    [Fact]
    public void Profile_Numeric_ExactMomentsQuantilesAndHistogram()
    {
        var profiler = new ColumnProfiler("x", ColumnKind.Numeric, seed: 1);
        foreach (var value in Enumerable.Range(1, 100).Select(i => $"{i}").Append("NA"))
        {
            profiler.Add(value);
        }

        var profile = profiler.Build();

        Assert.Equal((101, 1, 100L), (profile.Count, profile.Missing, profile.Distinct));
        Assert.Equal((1.0, 100.0, 50.5), (profile.Min!.Value, profile.Max!.Value, profile.Mean!.Value));
        Assert.Equal(29.011, profile.StdDev!.Value, 3);
        Assert.Equal(50.5, profile.Quantiles!["p50"], 6);
        Assert.Equal(100, profile.Histogram!.Counts.Sum());
        Assert.Equal(21, profile.Histogram.Edges.Count);
    }

    [Fact]
    public void Profile_Categorical_TopValuesByCount()
    {
        var profiler = new ColumnProfiler("plan", ColumnKind.Categorical, seed: 1);
        foreach (var value in new[] { "basic", "premium", "basic", "basic", "", "premium", "gold" })
        {
            profiler.Add(value);
        }

        var profile = profiler.Build();

        Assert.Equal([new ValueCount("basic", 3), new ValueCount("premium", 2), new ValueCount("gold", 1)], profile.TopValues);
        Assert.Equal(1, profile.Missing);
        Assert.Null(profile.Mean);
    }
}

public sealed class ValueParserTests
{
    [Theory]
    [InlineData("89.5", true)]
    [InlineData("-1e3", true)]
    [InlineData("89,5", false)]
    [InlineData("1,000", false)]
    [InlineData("Infinity", false)]
    public void TryNumber_InvariantWithoutThousandsSeparators(string value, bool expected) =>
        Assert.Equal(expected, ValueParser.TryNumber(value, out _));
}
