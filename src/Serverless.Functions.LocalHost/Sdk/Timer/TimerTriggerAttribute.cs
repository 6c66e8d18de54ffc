using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>Runs a function on a schedule.</summary>
public sealed class TimerTriggerAttribute : TriggerBindingAttribute
{
    /// <summary>Creates the trigger with a 6-field NCRONTAB expression (UTC) or a <c>%Setting%</c> that holds one.</summary>
    public TimerTriggerAttribute(string schedule)
    {
        Schedule = schedule;
        UseMonitor = true;
    }

    /// <summary>The schedule expression.</summary>
    public string Schedule { get; private set; }

    /// <summary>Whether the schedule status is persisted, so a restarted host knows the last run.</summary>
    public bool UseMonitor { get; set; }

    /// <summary>Whether the function also runs when the host starts.</summary>
    public bool RunOnStartup { get; set; }
}

/// <summary>Information about a timer invocation.</summary>
public class TimerInfo
{
    /// <summary>The schedule status, when monitored.</summary>
    public ScheduleStatus? ScheduleStatus { get; set; }

    /// <summary>Whether this invocation is later than its scheduled time (a missed occurrence).</summary>
    public bool IsPastDue { get; set; }
}

/// <summary>The status of a timer schedule.</summary>
public class ScheduleStatus
{
    /// <summary>The last occurrence that ran.</summary>
    public DateTime Last { get; set; }

    /// <summary>The next occurrence.</summary>
    public DateTime Next { get; set; }

    /// <summary>When the status was last written.</summary>
    public DateTime LastUpdated { get; set; }
}
