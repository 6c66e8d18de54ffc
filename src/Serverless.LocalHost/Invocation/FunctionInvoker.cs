using System.Diagnostics;
using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Serverless.LocalHost.Invocation;

/// <summary>
/// Runs one invocation: a DI scope, the function context, a trace span, parameter binding, the call itself. Logs one
/// line per invocation (the outcome) and is the one place a failure is logged. The app's worker middleware runs around
/// each invocation, as the worker runs it.
/// </summary>
internal sealed class FunctionInvoker(IServiceProvider services, ILogger<FunctionInvoker> logger)
{
    private readonly FunctionExecutionDelegate _pipeline =
        (services.GetService<FunctionMiddleware>() ?? new FunctionMiddleware()).Around(context => ExecuteAsync((LocalFunctionContext)context));

    /// <summary>The activity source of invocations; the real worker's name, so one telemetry setup serves here and in Azure.</summary>
    public static readonly ActivitySource ActivitySource = new("Microsoft.Azure.Functions.Worker");

    public async Task<object?> InvokeAsync(FunctionDescriptor function, InvocationRequest request, CancellationToken cancellationToken)
    {
        using var activity = ActivitySource.StartActivity($"Invoke {function.Name}", ActivityKind.Server);
        await using var scope = services.CreateAsyncScope();
        var context = new LocalFunctionContext(function, scope.ServiceProvider, request, cancellationToken);
        activity?.SetTag("faas.name", function.Name);
        activity?.SetTag("faas.invocation_id", context.InvocationId);
        activity?.SetTag("faas.trigger", function.BindingType switch
        {
            "httpTrigger" => "http",
            "blobTrigger" => "datasource",
            "timerTrigger" => "timer",
            "orchestrationTrigger" or "activityTrigger" => "other",
            _ => "other",
        });

        Log.Executing(logger, function.Name, context.InvocationId);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await _pipeline(context);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (function.BindingType == "httpTrigger")
            {
                // A busy HTTP function would write a console line per request; the line is there at Debug.
                Log.ExecutedHttp(logger, function.Name, "Succeeded", context.InvocationId, elapsed);
            }
            else
            {
                Log.Executed(logger, function.Name, "Succeeded", context.InvocationId, elapsed);
            }
            return context.Bindings.InvocationResult;
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            Log.ExecutionFailed(logger, ex, function.Name, "Failed", context.InvocationId, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            throw new FunctionInvocationException(function.Name, context.InvocationId, ex);
        }
    }

    /// <summary>
    /// Runs an orchestrator function for one episode, on the framework's orchestration thread: no scope, span or log
    /// line, since the function replays every episode and its task stays pending while it waits. The outcome is logged
    /// by the Durable host once, when the orchestration ends.
    /// </summary>
    public async Task<object?> RunOrchestratorAsync(FunctionDescriptor function, Microsoft.DurableTask.TaskOrchestrationContext orchestration)
    {
        var request = new InvocationRequest(_ => ValueTask.FromResult<object?>(orchestration), NoBindingData);
        var context = new LocalFunctionContext(function, services, request, CancellationToken.None);
        await _pipeline(context);
        return context.Bindings.InvocationResult;
    }

    private static readonly IReadOnlyDictionary<string, object?> NoBindingData = new Dictionary<string, object?>();

    private static async Task ExecuteAsync(LocalFunctionContext context)
    {
        var request = context.Request;
        var function = context.Function;
        var arguments = new object?[function.Binders.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            arguments[i] = await function.Binders[i](context, request);
        }

        var instance = function.Factory?.Invoke(context.InstanceServices, null);
        var returned = function.Method.Invoke(instance, BindingFlags.DoNotWrapExceptions, binder: null, arguments, culture: null);
        context.Bindings.InvocationResult = await function.ResultAwaiter(returned);
    }
}
