using System.Collections.Immutable;
using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Serverless.LocalHost.Invocation;

/// <summary>Binds one parameter of a function for an invocation.</summary>
internal delegate ValueTask<object?> ParameterBinder(FunctionContext context, InvocationRequest request);

/// <summary>What a trigger listener hands to the invoker: how to produce the trigger value, and the trigger's binding data.</summary>
internal sealed record InvocationRequest(
    Func<FunctionContext, ValueTask<object?>> BindTrigger,
    IReadOnlyDictionary<string, object?> BindingData,
    int RetryCount = 0,
    int MaxRetryCount = 0);

/// <summary>A function found at start, with everything needed to invoke it.</summary>
internal sealed class FunctionDescriptor : FunctionDefinition
{
    public FunctionDescriptor(
        string name,
        MethodInfo method,
        TriggerBindingAttribute trigger,
        ParameterInfo triggerParameter,
        string bindingType,
        ImmutableArray<ParameterBinder> binders)
    {
        Name = name;
        Method = method;
        Trigger = trigger;
        TriggerParameter = triggerParameter;
        BindingType = bindingType;
        Binders = binders;
        Id = $"Host.Functions.{name}";
        EntryPoint = $"{method.DeclaringType!.FullName}.{method.Name}";
        PathToAssembly = method.DeclaringType.Assembly.Location;
        Parameters = [.. method.GetParameters().Select(p => new FunctionParameter(p.Name!, p.ParameterType))];
        InputBindings = ImmutableDictionary<string, BindingMetadata>.Empty.Add(triggerParameter.Name!, new LocalBindingMetadata(triggerParameter.Name!, bindingType, BindingDirection.In));
        ResultAwaiter = ResultAwaiters.For(method.ReturnType);
        Factory = method.IsStatic ? null : Microsoft.Extensions.DependencyInjection.ActivatorUtilities.CreateFactory(method.DeclaringType, Type.EmptyTypes);
    }

    /// <summary>Creates an instance of the function's class from an invocation's services; null for a static method.</summary>
    public Microsoft.Extensions.DependencyInjection.ObjectFactory? Factory { get; }

    public MethodInfo Method { get; }

    public TriggerBindingAttribute Trigger { get; }

    public ParameterInfo TriggerParameter { get; }

    /// <summary>The binding type as in function.json: httpTrigger, blobTrigger, timerTrigger.</summary>
    public string BindingType { get; }

    public ImmutableArray<ParameterBinder> Binders { get; }

    public Func<object?, Task<object?>> ResultAwaiter { get; }

    public override ImmutableArray<FunctionParameter> Parameters { get; }

    public override string PathToAssembly { get; }

    public override string EntryPoint { get; }

    public override string Id { get; }

    public override string Name { get; }

    public override IImmutableDictionary<string, BindingMetadata> InputBindings { get; }

    public override IImmutableDictionary<string, BindingMetadata> OutputBindings { get; } = ImmutableDictionary<string, BindingMetadata>.Empty;

    public T TriggerAs<T>()
        where T : TriggerBindingAttribute => (T)Trigger;

    private sealed class LocalBindingMetadata(string name, string type, BindingDirection direction) : BindingMetadata
    {
        public override string Name { get; } = name;

        public override string Type { get; } = type;

        public override BindingDirection Direction { get; } = direction;
    }
}

/// <summary>Turns what a function method returns (a value, Task, Task&lt;T&gt;, ValueTask, ValueTask&lt;T&gt;) into a Task of the result.</summary>
internal static class ResultAwaiters
{
    public static Func<object?, Task<object?>> For(Type returnType)
    {
        if (returnType == typeof(void))
        {
            return _ => Task.FromResult<object?>(null);
        }

        if (returnType == typeof(Task))
        {
            return async returned =>
            {
                await (Task)returned!;
                return null;
            };
        }

        if (returnType == typeof(ValueTask))
        {
            return async returned =>
            {
                await (ValueTask)returned!;
                return null;
            };
        }

        if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(Task<>))
        {
            var result = returnType.GetProperty(nameof(Task<object>.Result))!;
            return async returned =>
            {
                await (Task)returned!;
                return result.GetValue(returned);
            };
        }

        if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(ValueTask<>))
        {
            var asTask = returnType.GetMethod(nameof(ValueTask<object>.AsTask))!;
            var result = typeof(Task<>).MakeGenericType(returnType.GetGenericArguments()[0]).GetProperty(nameof(Task<object>.Result))!;
            return async returned =>
            {
                var task = (Task)asTask.Invoke(returned, null)!;
                await task;
                return result.GetValue(task);
            };
        }

        return Task.FromResult;
    }
}
