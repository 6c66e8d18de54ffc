namespace Microsoft.Azure.Functions.Worker;

/// <summary>Encapsulates the information about a function execution.</summary>
public abstract class FunctionContext
{
    /// <summary>The invocation id.</summary>
    public abstract string InvocationId { get; }

    /// <summary>The function id.</summary>
    public abstract string FunctionId { get; }

    /// <summary>The distributed tracing context.</summary>
    public abstract TraceContext TraceContext { get; }

    /// <summary>The binding context.</summary>
    public abstract BindingContext BindingContext { get; }

    /// <summary>The retry context.</summary>
    public abstract RetryContext RetryContext { get; }

    /// <summary>The services scoped to this invocation.</summary>
    public abstract IServiceProvider InstanceServices { get; set; }

    /// <summary>The function definition.</summary>
    public abstract FunctionDefinition FunctionDefinition { get; }

    /// <summary>Items shared across the invocation.</summary>
    public abstract IDictionary<object, object> Items { get; set; }

    /// <summary>The invocation features.</summary>
    public abstract IInvocationFeatures Features { get; }

    /// <summary>Signalled when the invocation is cancelled (host shutdown).</summary>
    public virtual CancellationToken CancellationToken { get; } = CancellationToken.None;
}

/// <summary>Exposes binding information for a given function context.</summary>
public abstract class BindingContext
{
    /// <summary>Trigger metadata: route values, blob path values, and so on.</summary>
    public abstract IReadOnlyDictionary<string, object?> BindingData { get; }
}

/// <summary>The trace context for the current invocation.</summary>
public abstract class TraceContext
{
    /// <summary>The W3C traceparent of the invocation.</summary>
    public abstract string TraceParent { get; }

    /// <summary>The W3C tracestate.</summary>
    public abstract string TraceState { get; }

    /// <summary>The attributes associated with the trace.</summary>
    public virtual IReadOnlyDictionary<string, string> Attributes => new Dictionary<string, string>();
}

/// <summary>Retry information for the event that triggered the invocation.</summary>
public abstract class RetryContext
{
    /// <summary>The retry count for the current event.</summary>
    public abstract int RetryCount { get; }

    /// <summary>The maximum number of retries before the event is given up.</summary>
    public abstract int MaxRetryCount { get; }
}

/// <summary>Represents a collection of invocation features.</summary>
public interface IInvocationFeatures : IEnumerable<KeyValuePair<Type, object>>
{
    /// <summary>Sets a feature of the provided type.</summary>
    void Set<T>(T instance);

    /// <summary>Gets a feature, or null.</summary>
    T? Get<T>();
}
