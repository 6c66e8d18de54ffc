using Microsoft.Extensions.Configuration;
using NCrontab;
using Serverless.LocalHost.Hosting;

namespace Serverless.LocalHost.Timers;

/// <summary>A 6-field NCRONTAB schedule in UTC (<c>{second} {minute} {hour} {day} {month} {day-of-week}</c>), as the Functions host reads it.</summary>
internal sealed class TimerSchedule
{
    private readonly CrontabSchedule _schedule;

    private TimerSchedule(string expression, CrontabSchedule schedule)
    {
        Expression = expression;
        _schedule = schedule;
    }

    public string Expression { get; }

    /// <summary>Resolves <c>%Setting%</c> and parses; the error names the function and the expression.</summary>
    public static TimerSchedule Resolve(IConfiguration configuration, string schedule)
    {
        var expression = AppSettings.Resolve(configuration, schedule, $"timer schedule '{schedule}'").Trim();
        return Parse(expression);
    }

    public static TimerSchedule Parse(string expression)
    {
        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 6)
        {
            var hint = TimeSpan.TryParse(expression, System.Globalization.CultureInfo.InvariantCulture, out _)
                ? " TimeSpan schedules run only on App Service plans, not on Consumption or Flex Consumption."
                : string.Empty;
            throw new FormatException(
                $"timer schedule '{expression}' has {fields.Length} fields; NCRONTAB needs 6: {{second}} {{minute}} {{hour}} {{day}} {{month}} {{day-of-week}}.{hint}");
        }

        var schedule = CrontabSchedule.TryParse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = true })
            ?? throw new FormatException($"timer schedule '{expression}' is not a valid NCRONTAB expression.");
        return new TimerSchedule(expression, schedule);
    }

    /// <summary>The first occurrence strictly after <paramref name="afterUtc"/>.</summary>
    public DateTime GetNextOccurrence(DateTime afterUtc) => DateTime.SpecifyKind(_schedule.GetNextOccurrence(afterUtc), DateTimeKind.Utc);

    public IEnumerable<DateTime> GetNextOccurrences(DateTime afterUtc, int count)
    {
        var next = afterUtc;
        for (var i = 0; i < count; i++)
        {
            next = GetNextOccurrence(next);
            yield return next;
        }
    }

    public override string ToString() => Expression;
}
