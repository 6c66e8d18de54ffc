using Azure.Data.Tables;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.Configuration;
using Serverless.Storage;

namespace Serverless.LocalHost.TestApp;

/// <summary>A run of steps; the step at <see cref="HangAt"/> hangs the first time it runs (the test kills its host).</summary>
public sealed record StepsInput(int Count, int HangAt = -1, int DelayMs = 0);

/// <summary>One step of a run.</summary>
public sealed record StepInput(int Step, int HangAt, int DelayMs);

/// <summary>
/// Every execution of a step, in the table named by the <c>RunLog__Table</c> setting: partition = instance id, row =
/// <c>{step:000}-{guid}</c> (or <c>finish-{guid}</c>), with the process that ran it.
/// </summary>
public sealed class RunLog(StorageClientFactory clients, IConfiguration configuration)
{
    private readonly TableClient _table = clients.GetTableServiceClient().GetTableClient(configuration["RunLog:Table"] ?? "RunLog");

    /// <summary>Records this execution; whether an earlier one of the same step exists.</summary>
    public async Task<bool> RecordAsync(string instanceId, string step, CancellationToken cancellationToken)
    {
        await _table.CreateIfNotExistsAsync(cancellationToken);
        var earlier = false;
        await foreach (var _ in _table.QueryAsync<TableEntity>(
            e => e.PartitionKey == instanceId && e.RowKey.CompareTo(step + "-") > 0 && e.RowKey.CompareTo(step + ".") < 0,
            cancellationToken: cancellationToken))
        {
            earlier = true;
            break;
        }

        await _table.AddEntityAsync(
            new TableEntity(instanceId, $"{step}-{Guid.NewGuid():N}") { ["Pid"] = Environment.ProcessId, ["At"] = DateTimeOffset.UtcNow },
            cancellationToken);
        return earlier;
    }
}

public static class StepOrchestrator
{
    private static readonly TaskOptions NoRetry = new();

    [Function(nameof(Steps))]
    public static async Task<int> Steps([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var input = context.GetInput<StepsInput>()!;
        var total = 0;
        for (var step = 0; step < input.Count; step++)
        {
            total += await context.CallActivityAsync<int>(nameof(StepFunctions.Step), new StepInput(step, input.HangAt, input.DelayMs), NoRetry);
        }

        await context.CallActivityAsync(nameof(StepFunctions.Finish), total, NoRetry);
        return total;
    }
}

public sealed class StepFunctions(RunLog log)
{
    [Function(nameof(Step))]
    public async Task<int> Step([ActivityTrigger] StepInput input, string instanceId, CancellationToken cancellationToken)
    {
        var ranBefore = await log.RecordAsync(instanceId, input.Step.ToString("000", System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        await Task.Delay(!ranBefore && input.Step == input.HangAt ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(input.DelayMs), cancellationToken);
        return input.Step;
    }

    [Function(nameof(Finish))]
    public Task Finish([ActivityTrigger] int total, string instanceId, CancellationToken cancellationToken) =>
        log.RecordAsync(instanceId, "finish", cancellationToken);
}

/// <summary>A blob that kills its host: each delivery is recorded, then hangs until the test kills the process.</summary>
public sealed class CrashingBlobFunctions(RunLog log)
{
    [Function(nameof(HangOnBlob))]
    public async Task HangOnBlob([BlobTrigger("%CrashContainer%/{name}")] string content, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        await log.RecordAsync("blob-" + name, "delivery", cancellationToken);
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }
}
