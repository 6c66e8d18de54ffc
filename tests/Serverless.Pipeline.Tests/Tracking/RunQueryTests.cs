using Serverless.Pipeline.Tracking;

namespace Serverless.Pipeline.Tests.Tracking;

/// <summary>Run search as MLflow writes it: filters, order, paging.</summary>
public sealed class RunQueryTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly TrackedRun[] Runs =
    [
        Run("t0", RunStatus.Completed, "LightGbm", auc: 0.81, leaves: 15, minutes: 0),
        Run("t1", RunStatus.Completed, "Lbfgs", auc: 0.95, leaves: null, minutes: 1),
        Run("t2", RunStatus.Stopped, "LightGbm", auc: 0.70, leaves: 63, minutes: 2),
        Run("t3", RunStatus.Failed, "LightGbm", auc: null, leaves: 31, minutes: 3),
        Run("t4", RunStatus.Completed, "LightGbm", auc: 0.88, leaves: 31, minutes: 4),
    ];

    [Theory]
    [InlineData("metrics.auc > 0.8", "t0,t1,t4")]
    [InlineData("metrics.auc > 0.8 and params.numberOfLeaves <= 31", "t0,t4")]
    [InlineData("metrics.auc > 0.8 AND attributes.trainer = 'Lbfgs'", "t1")]
    [InlineData("attributes.status = 'FINISHED'", "t0,t1,t4")]
    [InlineData("attributes.status = 'Stopped'", "t2")]
    [InlineData("attributes.status != 'FINISHED'", "t2,t3")]
    [InlineData("params.`numberOfLeaves` = 31", "t3,t4")]
    [InlineData("", "t0,t1,t2,t3,t4")]
    public void Matches_Filter_KeepsTheRunsThatMeetEveryClause(string filter, string expected)
    {
        var query = RunQuery.Parse(filter, null);

        Assert.Equal(expected, string.Join(',', Runs.Where(query.Matches).Select(r => r.RunId).Order(StringComparer.Ordinal)));
    }

    [Theory]
    [InlineData(new[] { "metrics.auc DESC" }, "t1,t4,t0,t2,t3")]
    [InlineData(new[] { "metrics.auc" }, "t2,t0,t4,t1,t3")]
    [InlineData(new[] { "attributes.trainer ASC", "metrics.auc DESC" }, "t1,t4,t0,t2,t3")]
    [InlineData(new string[0], "t4,t3,t2,t1,t0")]
    public void Sort_OrderBy_RunsWithoutTheKeyLastThenNewestFirst(string[] orderBy, string expected) =>
        Assert.Equal(expected, string.Join(',', RunQuery.Parse(null, orderBy).Sort(Runs).Select(r => r.RunId)));

    [Theory]
    [InlineData("metrics.auc 0.8", "is not a clause")]
    [InlineData("metrics.auc > 'high'", "compares with a number")]
    [InlineData("attributes.trainer > 'A'", "compares with = or !=")]
    [InlineData("tags.owner = 'me'", "is not a field")]
    [InlineData("metrics.auc > 0.8 or metrics.auc < 0.2", "compares with a number")]
    public void Parse_BadFilter_SaysWhatIsWrong(string filter, string expected) =>
        Assert.Contains(expected, Assert.Throws<FormatException>(() => RunQuery.Parse(filter, null)).Message, StringComparison.Ordinal);

    [Fact]
    public void Matches_ParentRunId_OnlyItsChildrenOrTopLevel()
    {
        var child = Runs[0] with { ParentRunId = "train-1" };

        Assert.True(RunQuery.Parse(null, null, parentRunId: "train-1").Matches(child));
        Assert.False(RunQuery.Parse(null, null, parentRunId: string.Empty).Matches(child));
        Assert.True(RunQuery.Parse(null, null, parentRunId: string.Empty).Matches(Runs[1]));
    }

    private static TrackedRun Run(string id, RunStatus status, string trainer, double? auc, double? leaves, int minutes) => new(
        "churn",
        id,
        null,
        status,
        trainer,
        leaves is { } l ? new Dictionary<string, double> { ["numberOfLeaves"] = l } : new Dictionary<string, double>(),
        auc is { } a ? new Dictionary<string, double> { ["auc"] = a } : new Dictionary<string, double>(),
        null,
        null,
        null,
        Start.AddMinutes(minutes),
        Start.AddMinutes(minutes + 1));
}
