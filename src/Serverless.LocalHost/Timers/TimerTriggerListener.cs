using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serverless.LocalHost.Hosting;
using Serverless.LocalHost.Invocation;
using Serverless.Storage;

namespace Serverless.LocalHost.Timers;

/// <summary>
/// Runs timer-triggered functions on their NCRONTAB schedules (UTC). The schedule status is kept in storage
/// (<c>timers/{hostId}/{functionId}/status</c>), so a host that starts after a missed occurrence runs it at once with
/// <see cref="TimerInfo.IsPastDue"/> set; a blob lease makes one invocation at a time per function across hosts.
/// </summary>
internal sealed class TimerTriggerListener(
    FunctionCatalog catalog,
    FunctionInvoker invoker,
    HostStorage storage,
    IConfiguration configuration,
    TimeProvider time,
    ILogger<TimerTriggerListener> logger) : BackgroundService
{
    private static readonly JsonSerializerOptions StatusJson = new(JsonSerializerDefaults.Web);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(catalog.WithTrigger<TimerTriggerAttribute>().Select(f => RunScheduleAsync(f, stoppingToken)));

    private async Task RunScheduleAsync(FunctionDescriptor function, CancellationToken stoppingToken)
    {
        var trigger = function.TriggerAs<TimerTriggerAttribute>();
        var schedule = TimerSchedule.Resolve(configuration, trigger.Schedule);
        var now = time.GetUtcNow().UtcDateTime;
        Log.TimerScheduled(logger, function.Name, schedule.Expression, string.Join(", ", schedule.GetNextOccurrences(now, 3).Select(o => o.ToString("u"))));

        var statusBlob = await storage.GetBlobAsync($"timers/{{hostId}}/{function.Id}/status");
        var lockBlob = await storage.GetBlobAsync($"locks/{{hostId}}/{function.Id}/singleton");
        try
        {
            var status = trigger.UseMonitor ? await ReadStatusAsync(statusBlob, stoppingToken) : null;
            if (status is not null && status.Next < now)
            {
                await RunOccurrenceAsync(status.Next, isPastDue: true);
            }
            else if (trigger.RunOnStartup)
            {
                await RunOccurrenceAsync(now, isPastDue: false);
            }

            var last = time.GetUtcNow().UtcDateTime;
            while (!stoppingToken.IsCancellationRequested)
            {
                var next = schedule.GetNextOccurrence(last);
                var wait = next - time.GetUtcNow().UtcDateTime;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, stoppingToken);
                }

                // Late by more than a whole period (a paused machine, an overrun): this run stands for what was missed.
                var late = time.GetUtcNow().UtcDateTime > schedule.GetNextOccurrence(next);
                await RunOccurrenceAsync(next, late);
                last = next > time.GetUtcNow().UtcDateTime ? next : time.GetUtcNow().UtcDateTime;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        async Task RunOccurrenceAsync(DateTime occurrence, bool isPastDue)
        {
            try
            {
                await using var singleton = await RenewingBlobLease.TryAcquireAsync(lockBlob, stoppingToken);
                if (singleton is null)
                {
                    Log.TimerHeldElsewhere(logger, function.Name, occurrence);
                    return;
                }

                var previous = trigger.UseMonitor ? await ReadStatusAsync(statusBlob, stoppingToken) : null;
                if (previous is not null && previous.Last >= occurrence)
                {
                    Log.TimerHeldElsewhere(logger, function.Name, occurrence);
                    return;
                }

                var timerInfo = new TimerInfo
                {
                    IsPastDue = isPastDue,
                    ScheduleStatus = new ScheduleStatus
                    {
                        Last = previous?.Last ?? default,
                        Next = schedule.GetNextOccurrence(time.GetUtcNow().UtcDateTime),
                        LastUpdated = previous?.LastUpdated ?? default,
                    },
                };
                try
                {
                    await invoker.InvokeAsync(function, new InvocationRequest(_ => ValueTask.FromResult<object?>(timerInfo), new Dictionary<string, object?>()), stoppingToken);
                }
                catch (FunctionInvocationException)
                {
                    // Logged by the invoker; the schedule goes on, as the Functions host's does.
                }

                if (trigger.UseMonitor)
                {
                    var updated = time.GetUtcNow().UtcDateTime;
                    var status = new ScheduleStatus { Last = occurrence, Next = schedule.GetNextOccurrence(updated), LastUpdated = updated };
                    await statusBlob.UploadAsync(BinaryData.FromObjectAsJson(status, StatusJson), overwrite: true, stoppingToken);
                }
            }
            catch (Exception ex) when (ex is RequestFailedException || StorageOutage.IsOutage(ex))
            {
                Log.TimerStorageFailed(logger, function.Name, ex.Message);
            }
        }
    }

    private static async Task<ScheduleStatus?> ReadStatusAsync(BlobClient statusBlob, CancellationToken cancellationToken)
    {
        try
        {
            var content = (await statusBlob.DownloadContentAsync(cancellationToken)).Value.Content;
            return content.ToMemory().Length == 0 ? null : content.ToObjectFromJson<ScheduleStatus>(StatusJson);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }
}
