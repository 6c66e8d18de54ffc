using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microsoft.Azure.Functions.Worker;

/// <summary><see cref="FunctionContext"/> extensions for <see cref="ILogger"/>.</summary>
public static class FunctionContextLoggerExtensions
{
    /// <summary>Creates a logger named after <typeparamref name="T"/>.</summary>
    public static ILogger<T> GetLogger<T>(this FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.InstanceServices.GetRequiredService<ILogger<T>>();
    }

    /// <summary>Creates a logger with the given category, as a user category of the function ("Function.{name}.User").</summary>
    public static ILogger GetLogger(this FunctionContext context, string categoryName)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.InstanceServices.GetRequiredService<ILoggerFactory>().CreateLogger($"Function.{categoryName}.User");
    }
}
