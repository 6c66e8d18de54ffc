namespace Serverless.LocalHost.Invocation;

/// <summary>A function cannot be served: the message names the function and, where it applies, the parameter.</summary>
public sealed class FunctionIndexingException(string message, Exception? innerException = null)
    : InvalidOperationException(message, innerException)
{
}

/// <summary>A function invocation failed; the inner exception is what the function threw.</summary>
public sealed class FunctionInvocationException(string functionName, string invocationId, Exception innerException)
    : Exception($"Function '{functionName}' (Id={invocationId}) failed: {innerException.Message}", innerException)
{
    /// <summary>The function name.</summary>
    public string FunctionName { get; } = functionName;

    /// <summary>The invocation id.</summary>
    public string InvocationId { get; } = invocationId;
}
