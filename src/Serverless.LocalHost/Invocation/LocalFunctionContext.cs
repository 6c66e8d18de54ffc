using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Azure.Functions.Worker;

namespace Serverless.LocalHost.Invocation;

/// <summary>The function context of one local invocation.</summary>
internal sealed class LocalFunctionContext : FunctionContext
{
    private readonly FunctionDescriptor _function;
    private Task<object?>? _trigger;

    public LocalFunctionContext(FunctionDescriptor function, IServiceProvider instanceServices, InvocationRequest request, CancellationToken cancellationToken)
    {
        _function = function;
        Request = request;
        InstanceServices = instanceServices;
        CancellationToken = cancellationToken;
        BindingContext = new LocalBindingContext(request.BindingData);
        RetryContext = new LocalRetryContext(request.RetryCount, request.MaxRetryCount);
        Bindings = new FunctionBindings(request.BindingData);
        ((InvocationFeatures)Features).Set(FunctionBindings.FeatureType, Bindings.Proxy());
        if (function.BindingType == "httpTrigger")
        {
            Features.Set<Microsoft.Azure.Functions.Worker.Http.IHttpRequestDataFeature>(LocalHttpRequestDataFeature.Instance);
        }
    }

    public override string InvocationId { get; } = Guid.NewGuid().ToString();

    public override string FunctionId => _function.Id;

    public override TraceContext TraceContext { get; } = new LocalTraceContext(Activity.Current);

    public override BindingContext BindingContext { get; }

    public override RetryContext RetryContext { get; }

    public override IServiceProvider InstanceServices { get; set; }

    public override FunctionDefinition FunctionDefinition => _function;

    public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();

    public override IInvocationFeatures Features { get; } = new InvocationFeatures();

    public override CancellationToken CancellationToken { get; }

    public FunctionDescriptor Function => _function;

    /// <summary>What the trigger listener handed over for this invocation.</summary>
    public InvocationRequest Request { get; }

    /// <summary>The trigger's value, the invocation's result, and the rest of what the worker's binding feature holds.</summary>
    public FunctionBindings Bindings { get; }

    /// <summary>The trigger's value, bound on first use (by a middleware or the function's parameter) and then kept.</summary>
    public Task<object?> BindTriggerAsync() => _trigger ??= BindOnceAsync();

    private async Task<object?> BindOnceAsync()
    {
        var value = await Request.BindTrigger(this);
        Bindings.InputData[_function.TriggerParameter.Name!] = value;
        return value;
    }

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

        /// <summary>Sets a feature whose interface this assembly cannot name (the worker's internal ones).</summary>
        public void Set(Type type, object instance) => _features[type] = instance;

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
