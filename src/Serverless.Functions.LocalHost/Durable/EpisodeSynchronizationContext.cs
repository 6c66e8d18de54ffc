namespace Serverless.Functions.LocalHost.Durable;

/// <summary>
/// Runs an orchestrator's continuations one at a time, in order, on the thread that pumps it, so an episode is
/// deterministic: the code advances only when <see cref="RunUntilIdle"/> runs, and stops when nothing is runnable.
/// </summary>
internal sealed class EpisodeSynchronizationContext : SynchronizationContext
{
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _work = new();
    private readonly object _gate = new();

    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_gate)
        {
            _work.Enqueue((d, state));
        }
    }

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("Orchestrator code cannot block on its own thread.");

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Runs queued continuations until none is left.</summary>
    public void RunUntilIdle()
    {
        while (true)
        {
            (SendOrPostCallback Callback, object? State) next;
            lock (_gate)
            {
                if (!_work.TryDequeue(out next))
                {
                    return;
                }
            }

            next.Callback(next.State);
        }
    }

    /// <summary>Runs <paramref name="action"/> with this context current, then everything it queued.</summary>
    public void Run(Action action)
    {
        var previous = Current;
        SetSynchronizationContext(this);
        try
        {
            action();
            RunUntilIdle();
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }
}
