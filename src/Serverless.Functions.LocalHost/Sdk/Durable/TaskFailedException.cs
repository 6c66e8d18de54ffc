namespace Microsoft.DurableTask;

/// <summary>A task (activity or sub-orchestration) failed.</summary>
public sealed class TaskFailedException : Exception
{
    /// <summary>From the exception the task threw.</summary>
    public TaskFailedException(string taskName, int taskId, Exception innerException)
        : base(FormatMessage(taskName, taskId, innerException?.Message ?? string.Empty), innerException)
    {
        TaskName = taskName;
        TaskId = taskId;
        FailureDetails = TaskFailureDetails.FromException(innerException!);
    }

    /// <summary>From the failure details recorded for the task.</summary>
    public TaskFailedException(string taskName, int taskId, TaskFailureDetails failureDetails)
        : base(FormatMessage(taskName, taskId, failureDetails?.ErrorMessage ?? string.Empty))
    {
        ArgumentNullException.ThrowIfNull(failureDetails);
        TaskName = taskName;
        TaskId = taskId;
        FailureDetails = failureDetails;
    }

    /// <summary>The task's name.</summary>
    public string TaskName { get; }

    /// <summary>The task's id in its orchestration.</summary>
    public int TaskId { get; }

    /// <summary>What failed.</summary>
    public TaskFailureDetails FailureDetails { get; }

    private static string FormatMessage(string taskName, int taskId, string subMessage) =>
        $"Task '{taskName}' (#{taskId}) failed with an unhandled exception: {subMessage}";
}

/// <summary>A failure, as recorded in history: type, message, stack trace and inner failure.</summary>
public record TaskFailureDetails(string ErrorType, string ErrorMessage, string? StackTrace, TaskFailureDetails? InnerFailure, IDictionary<string, object?>? Properties)
{
    /// <summary>Whether the failure's exception type is <typeparamref name="T"/> or derives from it.</summary>
    public bool IsCausedBy<T>()
        where T : Exception => IsCausedBy(typeof(T));

    /// <summary>Whether the failure's exception type is <paramref name="targetBaseExceptionType"/> or derives from it.</summary>
    public bool IsCausedBy(Type targetBaseExceptionType)
    {
        ArgumentNullException.ThrowIfNull(targetBaseExceptionType);
        var failed = AppDomain.CurrentDomain.GetAssemblies()
            .Select(a => a.GetType(ErrorType, throwOnError: false))
            .FirstOrDefault(t => t is not null);
        return failed is not null
            ? targetBaseExceptionType.IsAssignableFrom(failed)
            : string.Equals(ErrorType, targetBaseExceptionType.FullName, StringComparison.Ordinal);
    }

    /// <summary>Records an exception.</summary>
    public static TaskFailureDetails FromException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new TaskFailureDetails(
            exception.GetType().FullName ?? exception.GetType().Name,
            exception.Message,
            exception.StackTrace,
            exception.InnerException is null ? null : FromException(exception.InnerException),
            null);
    }
}
