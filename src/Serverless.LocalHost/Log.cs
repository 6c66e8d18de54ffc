using Microsoft.Extensions.Logging;

namespace Serverless.LocalHost;

/// <summary>
/// Frequent log events of the local runtime. Event ids: 1000-1099 invocation, 1100-1199 HTTP, 1200-1249 blob trigger, 1250-1299 queue trigger,
/// 1300-1399 timer trigger, 1400-1499 Durable.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Debug, "Executing 'Functions.{FunctionName}' (Id={InvocationId})")]
    public static partial void Executing(ILogger logger, string functionName, string invocationId);

    [LoggerMessage(1001, LogLevel.Information, "Executed 'Functions.{FunctionName}' ({Outcome}, Id={InvocationId}, Duration={DurationMs:0}ms)")]
    public static partial void Executed(ILogger logger, string functionName, string outcome, string invocationId, double durationMs);

    [LoggerMessage(1003, LogLevel.Debug, "Executed 'Functions.{FunctionName}' ({Outcome}, Id={InvocationId}, Duration={DurationMs:0}ms)")]
    public static partial void ExecutedHttp(ILogger logger, string functionName, string outcome, string invocationId, double durationMs);

    [LoggerMessage(1002, LogLevel.Error, "Executed 'Functions.{FunctionName}' ({Outcome}, Id={InvocationId}, Duration={DurationMs:0}ms)")]
    public static partial void ExecutionFailed(ILogger logger, Exception exception, string functionName, string outcome, string invocationId, double durationMs);

    [LoggerMessage(1100, LogLevel.Information, "HTTP listening on {BaseAddress}")]
    public static partial void HttpListening(ILogger logger, string baseAddress);

    [LoggerMessage(1101, LogLevel.Information, "Function key (x-functions-key header or ?code=), from {Source}: {Key}")]
    public static partial void KeysLoaded(ILogger logger, string source, string key);

    [LoggerMessage(1103, LogLevel.Warning, "Generated the host's keys and kept them in {Blob}; they stay the same across restarts")]
    public static partial void KeysGenerated(ILogger logger, string blob);

    [LoggerMessage(1102, LogLevel.Warning, "Rejected Event Grid notification for '{FunctionName}': {Reason}")]
    public static partial void WebhookRejected(ILogger logger, string functionName, string reason);

    [LoggerMessage(1104, LogLevel.Warning, "{Path}: storage is unreachable, answered 503 ({Reason})")]
    public static partial void StorageUnreachable(ILogger logger, string path, string reason);

    [LoggerMessage(1200, LogLevel.Information, "Watching blob container '{Container}' for '{FunctionName}' (pattern '{Pattern}', every {PollInterval})")]
    public static partial void BlobWatching(ILogger logger, string container, string functionName, string pattern, TimeSpan pollInterval);

    [LoggerMessage(1201, LogLevel.Information, "Blob '{Container}/{BlobName}' (ETag {ETag}) triggers '{FunctionName}', attempt {Attempt} of {MaxAttempts}")]
    public static partial void BlobTriggered(ILogger logger, string container, string blobName, string eTag, string functionName, int attempt, int maxAttempts);

    [LoggerMessage(1202, LogLevel.Error, "Blob '{Container}/{BlobName}' (ETag {ETag}) failed '{FunctionName}' {Attempts} times; sent to queue '{PoisonQueue}' and not retried")]
    public static partial void BlobPoisoned(ILogger logger, string container, string blobName, string eTag, string functionName, int attempts, string poisonQueue);

    [LoggerMessage(1203, LogLevel.Warning, "Listing blob container '{Container}' for '{FunctionName}' failed; retrying next poll: {Reason}")]
    public static partial void BlobScanFailed(ILogger logger, string container, string functionName, string reason);

    [LoggerMessage(1250, LogLevel.Information, "Watching queue '{Queue}' for '{FunctionName}' (every {PollInterval} when empty)")]
    public static partial void QueueWatching(ILogger logger, string queue, string functionName, TimeSpan pollInterval);

    [LoggerMessage(1251, LogLevel.Information, "Queue '{Queue}' message {MessageId} triggers '{FunctionName}', delivery {DequeueCount} of {MaxDequeueCount}")]
    public static partial void QueueTriggered(ILogger logger, string queue, string messageId, string functionName, long dequeueCount, int maxDequeueCount);

    [LoggerMessage(1252, LogLevel.Error, "Queue '{Queue}' message {MessageId} was delivered to '{FunctionName}' {DequeueCount} times without success; moved to queue '{PoisonQueue}'")]
    public static partial void QueuePoisoned(ILogger logger, string queue, string messageId, string functionName, long dequeueCount, string poisonQueue);

    [LoggerMessage(1253, LogLevel.Warning, "Queue '{Queue}' for '{FunctionName}': a storage call failed; retrying next poll: {Reason}")]
    public static partial void QueuePollFailed(ILogger logger, string queue, string functionName, string reason);

    [LoggerMessage(1300, LogLevel.Information, "Timer '{FunctionName}' schedule '{Schedule}' (UTC); next occurrences: {NextOccurrences}")]
    public static partial void TimerScheduled(ILogger logger, string functionName, string schedule, string nextOccurrences);

    [LoggerMessage(1301, LogLevel.Debug, "Timer '{FunctionName}' occurrence {Occurrence:o} is held by another host; skipped")]
    public static partial void TimerHeldElsewhere(ILogger logger, string functionName, DateTime occurrence);

    [LoggerMessage(1302, LogLevel.Warning, "Timer '{FunctionName}' storage call failed; retrying at the next occurrence: {Reason}")]
    public static partial void TimerStorageFailed(ILogger logger, string functionName, string reason);

    [LoggerMessage(1400, LogLevel.Information, "Durable task hub '{TaskHub}' on the Azure Storage provider: worker {WorkerId}, {Partitions} partitions, {Orchestrators} orchestrators, {Activities} activities")]
    public static partial void DurableStarted(ILogger logger, string taskHub, string workerId, int partitions, int orchestrators, int activities);

    [LoggerMessage(1402, LogLevel.Warning, "The Durable worker did not stop within the shutdown timeout; work in flight runs again on the next host")]
    public static partial void DurableStopCutOff(ILogger logger);

    [LoggerMessage(1401, LogLevel.Error, "An error occurred while executing the orchestrator function '{FunctionName}' (instance {InstanceId})")]
    public static partial void OrchestratorFailed(ILogger logger, Exception exception, string functionName, string instanceId);
}
