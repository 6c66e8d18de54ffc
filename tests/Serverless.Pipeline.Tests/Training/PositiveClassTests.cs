using Serverless.Pipeline.Data;
using Serverless.Pipeline.Scoring;
using Serverless.Pipeline.Training;

namespace Serverless.Pipeline.Tests.Training;

public sealed class PositiveClassTests
{
    [Theory]
    [InlineData(ColumnKind.Categorical, "good,bad", "good")]
    [InlineData(ColumnKind.Boolean, "no,yes", "yes")]
    [InlineData(ColumnKind.Categorical, "10,2", "10")]
    public void Default_TheSecondClassInSortedOrder(ColumnKind kind, string values, string positive)
    {
        var plan = Plan(kind, values.Split(','), positiveClass: null);

        Assert.Equal(positive, plan.PositiveClass);
        Assert.Equal(positive, plan.Classes[^1]);
    }

    [Theory]
    [InlineData("bad")]
    [InlineData("BAD")]
    [InlineData(" bad ")]
    public void Requested_AnySpelling_IsLastAndKeepsTheDataSpelling(string requested)
    {
        var plan = Plan(ColumnKind.Categorical, ["good", "bad"], requested);

        Assert.Equal(["good", "bad"], plan.Classes);
        Assert.Equal("bad", plan.PositiveClass);
    }

    [Fact]
    public void Requested_NumberForm_Matches()
    {
        Assert.Equal("0", Plan(ColumnKind.Categorical, ["0", "1"], "0.0").PositiveClass);
    }

    [Fact]
    public void Requested_NotAClass_NamesTheClasses()
    {
        var error = Assert.Throws<ArgumentException>(() => Plan(ColumnKind.Categorical, ["good", "bad"], "goood"));

        Assert.StartsWith("positiveClass: 'goood' is not a class of the label 'credit'; its classes are 'bad', 'good'.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Requested_ForMulticlass_Refused()
    {
        var error = Assert.Throws<ArgumentException>(() => Plan(ColumnKind.Categorical, ["a", "b", "c"], "a"));

        Assert.StartsWith("positiveClass: only a binary task has one", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Labels_ArePositiveByThePlansClass()
    {
        var plan = Plan(ColumnKind.Categorical, ["good", "bad"], "bad");
        var builder = new FeatureRowBuilder(plan, ["x", "credit"]);

        Assert.True(builder.TryBuild(["1", "bad"], 2, out _)!.Positive);
        Assert.False(builder.TryBuild(["1", "good"], 3, out _)!.Positive);
    }

    [Fact]
    public void Columns_BinaryAndMulticlass_OneProbabilityPerClass()
    {
        Assert.Equal(["prediction", "probability_no", "probability_yes"], PredictionColumns.For(MlTask.BinaryClassification, ["no", "yes"]));
        Assert.Equal(["prediction"], PredictionColumns.For(MlTask.Regression, []));
    }

    [Fact]
    public void Columns_NamesThatNeedEscaping_SafeAndUnique()
    {
        var columns = PredictionColumns.For(MlTask.MulticlassClassification, ["a b", "a,b", "Ünïcode", "", "x\"y", "ok-1.5"]);

        Assert.Equal(["prediction", "probability_a_b", "probability_a_b_2", "probability__n_code", "probability__", "probability_x_y", "probability_ok-1.5"], columns);
    }

    private static FeaturizationPlan Plan(ColumnKind kind, string[] classes, string? positiveClass)
    {
        var schema = new DatasetSchema([new ColumnSchema("x", ColumnKind.Numeric), new ColumnSchema("credit", kind)], "credit");
        var x = new ColumnProfile("x", ColumnKind.Numeric, 10, 0, 10, true, 0, 9, 4.5, 3, null, null, null);
        var label = new ColumnProfile("credit", kind, 10, 0, classes.Length, true, null, null, null, null, null, null, [.. classes.Select(c => new ValueCount(c, 5))]);
        return FeaturizationPlan.Create(schema, [x, label], "credit", task: null, positiveClass);
    }
}
