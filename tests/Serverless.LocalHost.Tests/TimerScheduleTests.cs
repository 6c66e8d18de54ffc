using Microsoft.Extensions.Configuration;
using Serverless.LocalHost.Timers;

namespace Serverless.LocalHost.Tests;

public sealed class TimerScheduleTests
{
    [Fact]
    public void GetNextOccurrence_SixFieldExpression_IsUtcAndStrictlyAfter()
    {
        var schedule = TimerSchedule.Parse("0 */5 * * * *");
        var at = new DateTime(2026, 11, 23, 10, 5, 0, DateTimeKind.Utc);

        var next = schedule.GetNextOccurrence(at);

        Assert.Equal(new DateTime(2026, 11, 23, 10, 10, 0, DateTimeKind.Utc), next);
        Assert.Equal(DateTimeKind.Utc, next.Kind);
    }

    [Fact]
    public void Parse_FiveFields_ExplainsTheSixFieldFormat()
    {
        var error = Assert.Throws<FormatException>(() => TimerSchedule.Parse("*/5 * * * *"));

        Assert.Contains("6", error.Message, StringComparison.Ordinal);
        Assert.Contains("{second}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TimeSpan_SaysItNeedsAnAppServicePlan()
    {
        var error = Assert.Throws<FormatException>(() => TimerSchedule.Parse("00:05:00"));

        Assert.Contains("App Service", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadField_Throws()
    {
        Assert.Throws<FormatException>(() => TimerSchedule.Parse("0 0 25 * * *"));
    }

    [Fact]
    public void Resolve_SettingToken_UsesTheAppSetting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["RetrainSchedule"] = "0 0 3 * * *" }).Build();

        var schedule = TimerSchedule.Resolve(configuration, "%RetrainSchedule%");

        Assert.Equal("0 0 3 * * *", schedule.Expression);
    }

    [Fact]
    public void Resolve_MissingSetting_NamesTheSetting()
    {
        var configuration = new ConfigurationBuilder().Build();

        var error = Assert.Throws<InvalidOperationException>(() => TimerSchedule.Resolve(configuration, "%RetrainSchedule%"));

        Assert.Contains("'RetrainSchedule'", error.Message, StringComparison.Ordinal);
    }
}
