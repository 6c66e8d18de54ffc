namespace Serverless.Pipeline.Training;

/// <summary>
/// Runs CPU-bound work side by side on threads of its own, never on the thread pool: the Functions host's dispatchers
/// and the Durable work-item renewals need pool threads, and training that holds them for seconds starves them (a
/// work item whose lock is not renewed in time is delivered again).
/// </summary>
public static class DedicatedThreads
{
    /// <summary>The results of <paramref name="work"/>, in order, computed at most <paramref name="degree"/> at a time.</summary>
    public static async Task<T[]> RunAsync<T>(IReadOnlyList<Func<T>> work, int degree)
    {
        ArgumentNullException.ThrowIfNull(work);
        var results = new T[work.Count];
        var next = -1;
        var workers = Enumerable.Range(0, Math.Clamp(degree, 1, Math.Max(1, work.Count))).Select(_ => Task.Factory.StartNew(
            () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < work.Count)
                {
                    results[i] = work[i]();
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default));
        await Task.WhenAll(workers).ConfigureAwait(false);
        return results;
    }
}
