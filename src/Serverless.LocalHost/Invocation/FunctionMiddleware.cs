using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace Serverless.LocalHost.Invocation;

/// <summary>The worker middleware an app registered, in order; composed once around the invocation itself.</summary>
internal sealed class FunctionMiddleware
{
    private readonly List<Func<FunctionExecutionDelegate, FunctionExecutionDelegate>> _components = [];

    public void Add(Func<FunctionExecutionDelegate, FunctionExecutionDelegate> component) => _components.Add(component);

    /// <summary>The pipeline: the first registered middleware outermost, <paramref name="invocation"/> innermost.</summary>
    public FunctionExecutionDelegate Around(FunctionExecutionDelegate invocation)
    {
        var pipeline = invocation;
        for (var i = _components.Count - 1; i >= 0; i--)
        {
            pipeline = _components[i](pipeline);
        }

        return pipeline;
    }
}
