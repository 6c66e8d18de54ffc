namespace Microsoft.DurableTask;

/// <summary>The name of an orchestrator or activity.</summary>
public readonly struct TaskName : IEquatable<TaskName>
{
    /// <summary>Creates a name.</summary>
    public TaskName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Version = string.Empty;
    }

    /// <summary>The name.</summary>
    public string Name { get; }

    /// <summary>The version; not used by Durable Functions.</summary>
    public string Version { get; }

    /// <summary>Converts to the name string.</summary>
    public static implicit operator string(TaskName value) => value.Name;

    /// <summary>Converts from a name string.</summary>
    public static implicit operator TaskName(string value) => new(value);

    /// <summary>Equality by name, ignoring case (function names are case-insensitive).</summary>
    public static bool operator ==(TaskName a, TaskName b) => a.Equals(b);

    /// <summary>Inequality.</summary>
    public static bool operator !=(TaskName a, TaskName b) => !a.Equals(b);

    /// <inheritdoc />
    public bool Equals(TaskName other) => string.Equals(Name, other.Name, StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is TaskName other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.OrdinalIgnoreCase.GetHashCode(Name ?? string.Empty);

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>The parent of a sub-orchestration.</summary>
public record ParentOrchestrationInstance(TaskName Name, string InstanceId);

/// <summary>Options of <see cref="TaskOrchestrationContext.ContinueAsNew(ContinueAsNewOptions)"/>.</summary>
public class ContinueAsNewOptions
{
    /// <summary>The input of the new execution.</summary>
    public object? NewInput { get; set; }

    /// <summary>Whether external events not yet handled are carried into the new execution.</summary>
    public bool PreserveUnprocessedEvents { get; set; } = true;

    /// <summary>A new version; not used by Durable Functions.</summary>
    public string? NewVersion { get; set; }
}
