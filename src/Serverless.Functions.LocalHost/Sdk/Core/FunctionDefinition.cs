using System.Collections.Immutable;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>A representation of a function.</summary>
public abstract class FunctionDefinition
{
    /// <summary>The parameters of the function.</summary>
    public abstract ImmutableArray<FunctionParameter> Parameters { get; }

    /// <summary>The path to the assembly that contains the function.</summary>
    public abstract string PathToAssembly { get; }

    /// <summary>The method entry point (type full name and method name).</summary>
    public abstract string EntryPoint { get; }

    /// <summary>The unique function id.</summary>
    public abstract string Id { get; }

    /// <summary>The unique function name.</summary>
    public abstract string Name { get; }

    /// <summary>The input binding metadata.</summary>
    public abstract IImmutableDictionary<string, BindingMetadata> InputBindings { get; }

    /// <summary>The output binding metadata.</summary>
    public abstract IImmutableDictionary<string, BindingMetadata> OutputBindings { get; }

    /// <summary>Whether the function binds to a cancellation token.</summary>
    public abstract bool BindsToCancellationToken { get; }
}

/// <summary>Represents a parameter defined by the target function.</summary>
public class FunctionParameter
{
    /// <summary>Creates a parameter description.</summary>
    public FunctionParameter(string name, Type type)
        : this(name, type, ImmutableDictionary<string, object>.Empty)
    {
    }

    /// <summary>Creates a parameter description with properties.</summary>
    public FunctionParameter(string name, Type type, IReadOnlyDictionary<string, object> properties)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(properties);
        Name = name;
        Type = type;
        IsReferenceOrNullableType = !type.IsValueType || Nullable.GetUnderlyingType(type) != null;
        Properties = properties;
    }

    /// <summary>The parameter name.</summary>
    public string Name { get; }

    /// <summary>The parameter type.</summary>
    public Type Type { get; }

    /// <summary>Whether the parameter has a default value.</summary>
    public bool HasDefaultValue { get; }

    /// <summary>Whether the parameter allows null values.</summary>
    public bool IsReferenceOrNullableType { get; }

    /// <summary>The default value, if any.</summary>
    public object? DefaultValue { get; }

    /// <summary>Properties of the parameter.</summary>
    public IReadOnlyDictionary<string, object> Properties { get; }
}

/// <summary>Contains metadata about a binding.</summary>
public abstract class BindingMetadata
{
    /// <summary>The binding name.</summary>
    public abstract string Name { get; }

    /// <summary>The binding type, for example "httpTrigger".</summary>
    public abstract string Type { get; }

    /// <summary>The binding direction.</summary>
    public abstract BindingDirection Direction { get; }
}

/// <summary>The direction of a binding.</summary>
public enum BindingDirection
{
    /// <summary>An input (or trigger) binding.</summary>
    In,

    /// <summary>An output binding.</summary>
    Out,
}
