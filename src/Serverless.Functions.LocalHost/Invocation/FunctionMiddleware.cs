using Microsoft.Azure.Functions.Worker;

namespace Serverless.Functions.LocalHost.Invocation;

/// <summary>The middleware added with <c>builder.Use(...)</c>, composed around each invocation in the order added.</summary>
internal sealed class FunctionMiddleware
{
    private readonly List<Func<FunctionExecutionDelegate, FunctionExecutionDelegate>> _middleware = [];

    public void Add(Func<FunctionExecutionDelegate, FunctionExecutionDelegate> middleware) => _middleware.Add(middleware);

    public FunctionExecutionDelegate Build(FunctionExecutionDelegate terminal)
    {
        var pipeline = terminal;
        for (var i = _middleware.Count - 1; i >= 0; i--)
        {
            pipeline = _middleware[i](pipeline);
        }

        return pipeline;
    }
}
