using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace Serverless.Functions.Triggers.Timer;

/// <summary>
/// The retraining schedule (<c>%RetrainSchedule%</c>, UTC NCRONTAB). The retrain orchestration, one per model and
/// schedule slot, starts here once the model registry exists; until then each run is logged and does no training.
/// </summary>
public sealed class RetrainOnSchedule(ILogger<RetrainOnSchedule> logger)
{
    /// <summary>Runs once per schedule occurrence, on one host at a time.</summary>
    [Function(nameof(RetrainOnSchedule))]
    public void Run([TimerTrigger("%RetrainSchedule%")] TimerInfo timer)
    {
        ArgumentNullException.ThrowIfNull(timer);
        logger.LogInformation(
            "Retrain schedule fired (past due: {IsPastDue}, next: {Next:u}); no models are registered yet, nothing to retrain",
            timer.IsPastDue, timer.ScheduleStatus?.Next);
    }
}
