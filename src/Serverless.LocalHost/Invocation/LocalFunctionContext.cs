using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Azure.Functions.Worker;

namespace Serverless.LocalHost.Invocation;

/// <summary>The function context of one local invocation.</summary>
internal sealed class LocalFunctionContext(
    FunctionDescriptor function,
    IServiceProvider instanceServices,
    IReadOnlyDictionary<string, object?> bindingData,
    int retryCount,
    int maxRetryCount,
    CancellationToken cancellationToken) : FunctionContext
{
    public override string InvocationId { get; } = Guid.NewGuid().ToString();

    public override string FunctionId => function.Id;

    public override TraceContext TraceContext { get; } = new LocalTraceContext(Activity.Current);

    public override BindingContext BindingContext { get; } = new LocalBindingContext(bindingData);

    public override RetryContext RetryContext { get; } = new LocalRetryContext(retryCount, maxRetryCount);

    public override IServiceProvider InstanceServices { get; set; } = instanceServices;

    public override FunctionDefinition FunctionDefinition => function;

    public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();

    public override IInvocationFeatures Features { get; } = new InvocationFeatures();

    public override CancellationToken CancellationToken { get; } = cancellationToken;

    public FunctionDescriptor Function => function;

    /// <summary>What the function returned, set once it ran.</summary>
    public object? Result { get; set; }

    private sealed class LocalTraceContext(Activity? activity) : TraceContext
    {
        public override string TraceParent { get; } = activity?.Id ?? string.Empty;

        public override string TraceState { get; } = activity?.TraceStateString ?? string.Empty;
    }

    private sealed class LocalBindingContext(IReadOnlyDictionary<string, object?> bindingData) : BindingContext
    {
        public override IReadOnlyDictionary<string, object?> BindingData { get; } = bindingData;
    }

    private sealed class LocalRetryContext(int retryCount, int maxRetryCount) : RetryContext
    {
        public override int RetryCount { get; } = retryCount;

        public override int MaxRetryCount { get; } = maxRetryCount;
    }

    private sealed class InvocationFeatures : IInvocationFeatures
    {
        private readonly ConcurrentDictionary<Type, object> _features = new();

        public T? Get<T>() => _features.TryGetValue(typeof(T), out var value) ? (T)value : default;

        public void Set<T>(T instance)
        {
            if (instance is null)
            {
                _features.TryRemove(typeof(T), out _);
            }
            else
            {
                _features[typeof(T)] = instance;
            }
        }

        public IEnumerator<KeyValuePair<Type, object>> GetEnumerator() => _features.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
