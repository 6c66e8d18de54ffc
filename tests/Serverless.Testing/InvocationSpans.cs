using System.Collections.Concurrent;
using System.Diagnostics;

namespace Serverless.Testing;

/// <summary>
/// Records the spans of function invocations (source <c>Microsoft.Azure.Functions.Worker</c>, the worker's own name,
/// which the local host uses too) from every host in the process, until disposed.
/// </summary>
public sealed class InvocationSpans : IDisposable
{
    private readonly ActivityListener _listener;

    public InvocationSpans()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.Azure.Functions.Worker",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The spans that have ended.</summary>
    public ConcurrentQueue<Activity> Stopped { get; } = new();

    /// <summary>The ended spans of one function.</summary>
    public IEnumerable<Activity> Of(string functionName) => Stopped.Where(s => Equals(s.GetTagItem("faas.name"), functionName));

    public void Dispose() => _listener.Dispose();
}
