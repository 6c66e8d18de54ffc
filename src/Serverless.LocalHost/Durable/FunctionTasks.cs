using System.Runtime.ExceptionServices;
using System.Text.Json;
using DurableTask.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.Logging;
using Serverless.LocalHost.Invocation;
using ParentInstance = DurableTask.Core.ParentInstance;

namespace Serverless.LocalHost.Durable;

/// <summary>
/// An orchestrator function as an <see cref="ITaskOrchestrator"/>: the shim hands it its context for one episode and it
/// calls the function with that context. Its input arrives as JSON and is typed when the function reads it.
/// </summary>
internal sealed class FunctionOrchestrator(FunctionDescriptor function, FunctionInvoker invoker, JsonSerializerOptions json, ILoggerFactory loggerFactory)
    : ITaskOrchestrator
{
    public Type InputType => typeof(JsonElement);

    public Type OutputType => typeof(object);

    public async Task<object?> RunAsync(TaskOrchestrationContext context, object? input)
    {
        try
        {
            return await invoker.RunOrchestratorAsync(function, new FunctionOrchestrationContext(context, json, loggerFactory));
        }
        catch (Exception ex) when (!context.IsReplaying)
        {
            Log.OrchestratorFailed(loggerFactory.CreateLogger<FunctionOrchestrator>(), ex, function.Name, context.InstanceId);
            throw;
        }
    }
}

/// <summary>
/// An activity function as an <see cref="ITaskActivity"/>: one invocation per execution, its input typed as the
/// trigger parameter. A failure surfaces as the function's own exception, so the orchestrator's
/// <c>FailureDetails.IsCausedBy&lt;T&gt;()</c> sees the type the function threw, as in Azure.
/// </summary>
internal sealed class FunctionActivity(FunctionDescriptor function, FunctionInvoker invoker, CancellationToken stopping) : ITaskActivity
{
    public Type InputType => function.TriggerParameter.ParameterType;

    public Type OutputType => typeof(object);

    public async Task<object?> RunAsync(TaskActivityContext context, object? input)
    {
        var bindingData = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase) { ["instanceId"] = context.InstanceId };
        try
        {
            return await invoker.InvokeAsync(function, new InvocationRequest(_ => ValueTask.FromResult(input), bindingData), stopping);
        }
        catch (FunctionInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }
    }
}

/// <summary>
/// An orchestration the framework asks for before it knows the instance: the shim is made once the dispatcher
/// middleware has told it the parent instance (<see cref="Bind"/>), so <c>context.Parent</c> is right in sub-orchestrations.
/// </summary>
internal sealed class FunctionOrchestration(Func<ParentOrchestrationInstance?, TaskOrchestration> create) : TaskOrchestration
{
    private TaskOrchestration? _shim;

    private TaskOrchestration Shim => _shim ??= create(null);

    public void Bind(ParentInstance? parent) =>
        _shim = create(parent is null ? null : new ParentOrchestrationInstance(parent.Name, parent.OrchestrationInstance.InstanceId));

    public override Task<string?> Execute(OrchestrationContext context, string input) => Shim.Execute(context, input);

    public override string? GetStatus() => Shim.GetStatus();

    public override void RaiseEvent(OrchestrationContext context, string name, string input) => Shim.RaiseEvent(context, name, input);
}

/// <summary>The framework's registry of orchestrations or activities, by function name (case-insensitive, as Functions are).</summary>
internal sealed class FunctionTaskRegistry<T>(IReadOnlyDictionary<string, Func<T>> create) : INameVersionObjectManager<T>
    where T : class
{
    public void Add(ObjectCreator<T> creator) =>
        throw new NotSupportedException("Orchestrations and activities are the app's functions; they are found from [Function] attributes.");

    public T? GetObject(string name, string? version) => create.TryGetValue(name, out var factory) ? factory() : null;

    public static FunctionTaskRegistry<T> For(IEnumerable<FunctionDescriptor> functions, Func<FunctionDescriptor, Func<T>> factory) =>
        new(functions.ToDictionary(f => f.Name, factory, StringComparer.OrdinalIgnoreCase));
}

/// <summary>Creates the shims of orchestrator and activity functions.</summary>
internal sealed class FunctionTaskFactory(DurableTaskShimFactory shims, FunctionInvoker invoker, JsonSerializerOptions json, ILoggerFactory loggerFactory)
{
    public Func<TaskOrchestration> Orchestration(FunctionDescriptor function)
    {
        var orchestrator = new FunctionOrchestrator(function, invoker, json, loggerFactory);
        return () => new FunctionOrchestration(parent => shims.CreateOrchestration(function.Name, orchestrator, parent));
    }

    public Func<TaskActivity> Activity(FunctionDescriptor function, CancellationToken stopping)
    {
        // The activity shim keeps no state between executions: one serves them all.
        var activity = shims.CreateActivity(function.Name, new FunctionActivity(function, invoker, stopping));
        return () => activity;
    }
}
