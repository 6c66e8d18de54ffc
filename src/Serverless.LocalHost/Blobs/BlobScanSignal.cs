namespace Serverless.LocalHost.Blobs;

/// <summary>
/// Tells the blob listeners to list their containers now rather than at the next poll: the HTTP host raises it after a
/// function wrote through a request (an upload route), so a file uploaded through the app is picked up at once, as
/// Event Grid delivers it within a second or so in Azure. Files written straight to storage still wait for the poll.
/// </summary>
internal sealed class BlobScanSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next <see cref="Raise"/>: take it before a scan, so a raise during the scan is not missed.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    /// <summary>Completes every <see cref="Next"/> taken so far.</summary>
    public void Raise() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
